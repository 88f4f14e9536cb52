//! HTTP: the routes of the Navixy-style API, each a thin handler over the domain.

pub mod auth;
pub mod avatar;
pub mod employee;
pub mod error;
pub mod files;
pub mod limits;
pub mod observe;
pub mod params;
pub mod user;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use self::error::ApiError;
use crate::startup::AppState;

/// Resources that exist, so that an unknown action on one is told apart from an unknown resource.
const RESOURCES: [&str; 3] = ["user", "employee", "employee/avatar"];

/// Registers every call under the configured prefix.
pub fn configure(prefix: &str) -> impl FnOnce(&mut web::ServiceConfig) + '_ {
    move |cfg| {
        cfg.service(
            web::scope(prefix)
                .route("/user/auth", web::route().to(user::auth))
                .route("/user/logout", web::route().to(user::logout))
                .route("/employee/list", web::route().to(employee::list))
                .route("/employee/read", web::route().to(employee::read))
                .route("/employee/create", web::route().to(employee::create))
                .route("/employee/update", web::route().to(employee::update))
                .route("/employee/delete", web::route().to(employee::delete))
                .route("/employee/avatar/assign", web::route().to(avatar::assign))
                .route("/employee/avatar/upload", web::route().to(avatar::upload))
                .route(
                    "/static/employee/avatars/{path:.*}",
                    web::get().to(files::avatar),
                ),
        );
    }
}

/// `GET /health`: 200 while the process runs.
pub async fn health() -> HttpResponse {
    success(serde_json::json!({}))
}

/// `GET /ready`: 200 when the database and, if configured, Redis answer; 503 naming the part
/// that does not.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = state.db.ping().await.is_ok();
    let redis = state.cache.redis_answers().await;
    let up = |ok: bool| if ok { "up" } else { "down" };
    let mut parts = serde_json::json!({"database": up(database)});
    if let Some(redis) = redis {
        parts["redis"] = serde_json::json!(up(redis));
    }
    let ready = database && redis.unwrap_or(true);
    parts["ready"] = serde_json::json!(ready);
    if ready {
        HttpResponse::Ok().json(parts)
    } else {
        HttpResponse::ServiceUnavailable().json(parts)
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// `{"success": true}` with the call's own fields.
pub fn success(fields: Value) -> HttpResponse {
    let mut body = fields;
    body["success"] = Value::Bool(true);
    HttpResponse::Ok().json(body)
}

/// Any path no route took: error 112 on a known resource, 111 otherwise, always as JSON.
pub async fn unknown_call(
    req: HttpRequest,
    prefix: web::Data<ApiPrefix>,
) -> Result<HttpResponse, ApiError> {
    let Some(path) = req.path().strip_prefix(prefix.0.as_str()) else {
        return Err(ApiError::UnknownResource);
    };
    let path = path.trim_matches('/');
    let resource = path.rsplit_once('/').map_or("", |(resource, _)| resource);
    if RESOURCES.contains(&resource) {
        Err(ApiError::UnknownAction)
    } else {
        Err(ApiError::UnknownResource)
    }
}

/// The path prefix the API is mounted at (`server.api_prefix`).
pub struct ApiPrefix(pub String);
