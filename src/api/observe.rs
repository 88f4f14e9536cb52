//! Every request: a span with a request id, the per-IP rate limit, the answer's log line and its
//! metrics. Only the route pattern is recorded, never the path or query string, so no session
//! hash reaches a log line.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use tracing::Instrument;

use crate::startup::AppState;

/// Routes of the operators, never rate limited.
const OPERATOR_ROUTES: [&str; 3] = ["/health", "/ready", "/metrics"];

pub async fn observe(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("the application state is registered")
        .clone();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let limited = match req.peer_addr() {
        Some(peer) if !OPERATOR_ROUTES.contains(&req.path()) => state.limits.check_ip(peer.ip()),
        _ => Ok(()),
    };
    let mut response = match limited {
        Ok(()) => next.call(req).instrument(span.clone()).await?,
        Err(refused) => req.into_response(refused.error_response()),
    };
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .http_requests
        .with_label_values(&[route.as_str(), &status.to_string()])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[route.as_str()])
        .observe(elapsed.as_secs_f64());
    span.record("route", route.as_str());
    span.record("status", status);
    span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::info!("answered"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response.map_body(|_, body| body.boxed()))
}
