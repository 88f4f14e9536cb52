//! `/user/auth` and `/user/logout`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::session_hash;
use super::error::ApiError;
use super::params::Params;
use super::success;
use crate::domain::user::Password;
use crate::repo::{sessions, users};
use crate::startup::AppState;

pub async fn auth(params: Params, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let login = params
        .optional_text("login")?
        .ok_or_else(|| ApiError::invalid("login", "is required"))?;
    let password = params
        .optional_text("password")?
        .ok_or_else(|| ApiError::invalid("password", "is required"))?;
    let password = Password::parse(&password).map_err(|_| ApiError::WrongCredentials)?;
    let user = users::verify(&state.db, &login, password)
        .await?
        .ok_or(ApiError::WrongCredentials)?;
    let hash = sessions::create(&state.db, user.id, state.settings.session_idle_timeout()).await?;
    Ok(success(json!({"hash": hash.as_str()})))
}

pub async fn logout(
    req: HttpRequest,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let hash = session_hash(&req, &params)?;
    if sessions::end(&state.db, &hash).await? {
        Ok(success(json!({})))
    } else {
        Err(ApiError::SessionNotFound)
    }
}
