//! The caller of a call: its session key from the body, the query or `Authorization: NVX`,
//! resolved to a user before the handler runs.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

use super::error::ApiError;
use super::params::Params;
use crate::domain::user::{CurrentUser, Right, SessionHash};
use crate::repo::sessions;
use crate::startup::AppState;

/// The session key of a request: body, then query string, then the `Authorization` header.
pub fn session_hash(req: &HttpRequest, params: &Params) -> Result<SessionHash, ApiError> {
    let header = || {
        req.headers()
            .get(AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("NVX ")
            .map(|hash| hash.trim().to_owned())
    };
    let hash = params.hash().or_else(header).ok_or(ApiError::WrongHash)?;
    SessionHash::parse(&hash).ok_or(ApiError::WrongHash)
}

/// The user of a live session, within the session's rate limit.
pub async fn current_user(state: &AppState, hash: &SessionHash) -> Result<CurrentUser, ApiError> {
    state.limits.check_session(hash)?;
    sessions::authenticate(&state.db, hash, state.settings.session_idle_timeout())
        .await?
        .ok_or(ApiError::SessionNotFound)
}

/// A call made within a live session, with its parameters.
pub struct Authenticated {
    pub user: CurrentUser,
    pub params: Params,
}

impl Authenticated {
    pub fn require(&self, right: Right) -> Result<(), ApiError> {
        require(&self.user, right)
    }
}

pub fn require(user: &CurrentUser, right: Right) -> Result<(), ApiError> {
    if user.rights.contains(right) {
        Ok(())
    } else {
        Err(ApiError::NotPermitted)
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let params = Params::from_request(&req, payload);
        Box::pin(async move {
            let params = params.await?;
            let hash = session_hash(&req, &params)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .expect("the application state is registered");
            let user = current_user(state, &hash).await?;
            Ok(Self { user, params })
        })
    }
}
