//! `/employee/avatar/assign` and `/employee/avatar/upload`.

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use actix_web::web::BytesMut;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use bytes::Bytes;
use futures::TryStreamExt;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::json;

use super::auth::{current_user, require, session_hash, Authenticated};
use super::employee::employee_id;
use super::error::ApiError;
use super::params::Params;
use super::success;
use crate::domain::employee::EmployeeId;
use crate::domain::user::{CurrentUser, Right};
use crate::images::AvatarName;
use crate::repo::{avatars, employees};
use crate::startup::AppState;

/// MIME types a `file` part may declare; the bytes decide what the image really is.
const ALLOWED_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/pjpeg",
    "image/png",
    "image/gif",
    "image/webp",
];
/// The most bytes a non-file part may carry, and the most parts a request may have.
const MAX_TEXT_PART_BYTES: usize = 64 * 1024;
const MAX_PARTS: usize = 32;

pub async fn assign(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let id = employee_id(&call.params)?;
    let icon_id: Option<i64> = call.params.required("icon_id")?;
    avatars::assign_icon(&state.db, call.user.account_id, id, icon_id).await?;
    state.lists_changed(call.user.account_id).await;
    Ok(success(json!({})))
}

/// Streams the multipart body, checking in the order of API.md section 5, and answers with
/// JSON or, when `redirect_target` is given, with a redirect carrying the JSON.
pub async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let mut params = Params::default();
    let outcome = receive(&req, payload, &mut params, &state).await;
    let label = match &outcome {
        Ok(_) => "success".to_owned(),
        Err(error) => error.code().to_string(),
    };
    state
        .metrics
        .uploads
        .with_label_values(&[label.as_str()])
        .inc();
    match params.optional_text("redirect_target").ok().flatten() {
        Some(target) => redirect(&target, outcome),
        None => match outcome {
            Ok(name) => success(json!({"value": name.to_string()})),
            Err(error) => error.error_response(),
        },
    }
}

/// The caller's checks that need no file: session (3, 4), right (13), and the employee (7,
/// 201) once `employee_id` has arrived.
struct Caller {
    user: CurrentUser,
    employee: Option<EmployeeId>,
}

impl Caller {
    async fn check(req: &HttpRequest, params: &Params, state: &AppState) -> Result<Self, ApiError> {
        let user = current_user(state, &session_hash(req, params)?).await?;
        require(&user, Right::EmployeeUpdate)?;
        let mut caller = Self {
            user,
            employee: None,
        };
        caller.check_employee(params, state).await?;
        Ok(caller)
    }

    async fn check_employee(&mut self, params: &Params, state: &AppState) -> Result<(), ApiError> {
        if self.employee.is_some() || params.optional_text("employee_id")?.is_none() {
            return Ok(());
        }
        let id = employee_id(params)?;
        employees::read(&state.db, self.user.account_id, id).await?;
        self.employee = Some(id);
        Ok(())
    }
}

async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    params: &mut Params,
    state: &AppState,
) -> Result<AvatarName, ApiError> {
    *params = Params::from_query(req.query_string())?;
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let mut caller = None;
    let mut file = None;
    if is_multipart {
        let mut parts = Multipart::new(req.headers(), payload);
        let mut count = 0;
        while let Some(part) = parts.try_next().await.map_err(unreadable)? {
            count += 1;
            if count > MAX_PARTS {
                return Err(ApiError::RequestTooLarge);
            }
            let name = part.name().unwrap_or_default().to_owned();
            if name == "file" && file.is_none() {
                // Everything that can be checked before the file is, before it is read.
                caller = Some(Caller::check(req, params, state).await?);
                let limit = state.settings.images.max_upload_bytes;
                file = Some(read_file(part, limit).await?);
            } else {
                let text = read_text(part).await?;
                params.insert_body_text(name, text);
            }
        }
    } else {
        let mut body = payload.into_inner();
        *params = Params::from_request(req, &mut body).await?;
    }
    let mut caller = match caller {
        Some(caller) => caller,
        None => Caller::check(req, params, state).await?,
    };
    caller.check_employee(params, state).await?;
    let employee = match caller.employee {
        Some(id) => id,
        None => employee_id(params)?,
    };
    let file = file.ok_or(ApiError::NoDataFile)?;
    let normalised = state.avatars.normalise(file).await?;
    let account_id = caller.user.account_id;
    let name = state
        .avatars
        .attach(&state.db, account_id, employee, normalised)
        .await?;
    state.lists_changed(account_id).await;
    Ok(name)
}

fn unreadable(error: actix_multipart::MultipartError) -> ApiError {
    ApiError::Unparsable(format!("malformed multipart body: {error}"))
}

/// Reads the `file` part: empty (274), then declared type (234), then size while streaming (271).
async fn read_file(mut part: Field, limit: usize) -> Result<Bytes, ApiError> {
    let declared_allowed = part
        .content_type()
        .is_some_and(|mime| ALLOWED_TYPES.contains(&mime.essence_str()));
    let mut body = BytesMut::new();
    while let Some(chunk) = part.try_next().await.map_err(unreadable)? {
        if chunk.is_empty() {
            continue;
        }
        if !declared_allowed {
            return Err(ApiError::InvalidDataFormat(
                "the declared MIME type is not allowed".into(),
            ));
        }
        if body.len() + chunk.len() > limit {
            return Err(ApiError::FileTooLarge { max_bytes: limit });
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(ApiError::EmptyFile);
    }
    Ok(body.freeze())
}

async fn read_text(mut part: Field) -> Result<String, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = part.try_next().await.map_err(unreadable)? {
        if body.len() + chunk.len() > MAX_TEXT_PART_BYTES {
            return Err(ApiError::RequestTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::Unparsable("a form part is not UTF-8 text".into()))
}

/// `302` to `<target>?response=<JSON>` (`&response=` when the target has a query already).
fn redirect(target: &str, outcome: Result<AvatarName, ApiError>) -> HttpResponse {
    let answer = match &outcome {
        Ok(name) => json!({"success": true, "value": name.to_string()}),
        Err(error) => {
            error.log_if_server_error();
            error.envelope()
        }
    };
    let separator = if target.contains('?') { '&' } else { '?' };
    let encoded = utf8_percent_encode(&answer.to_string(), NON_ALPHANUMERIC).to_string();
    match HeaderValue::try_from(format!("{target}{separator}response={encoded}")) {
        Ok(location) => HttpResponse::Found()
            .insert_header((LOCATION, location))
            .finish(),
        Err(_) => ApiError::invalid("redirect_target", "is not a usable URL").error_response(),
    }
}
