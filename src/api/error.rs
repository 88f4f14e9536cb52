//! The one error type of the API: each variant carries its Navixy code and HTTP status, and is
//! turned into the JSON envelope here and nowhere else.

use actix_web::http::header::RETRY_AFTER;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::Serialize;

/// One bad parameter of an error 7, named as the client sent it (`employee.first_name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamError {
    pub parameter: String,
    pub error: String,
}

impl ParamError {
    pub fn new(parameter: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            parameter: parameter.into(),
            error: error.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Database error")]
    Database(#[source] DbErr),
    #[error("Wrong hash")]
    WrongHash,
    #[error("User or API key not found or session ended")]
    SessionNotFound,
    #[error("Request could not be parsed: {0}")]
    Unparsable(String),
    #[error("Unexpected internal error")]
    Internal(#[source] anyhow::Error),
    #[error("Invalid parameters")]
    InvalidParameters(Vec<ParamError>),
    #[error("Processing queue is full, retry later")]
    QueueFull { retry_after_seconds: u32 },
    #[error("Request too large")]
    RequestTooLarge,
    #[error("Operation not permitted")]
    NotPermitted,
    #[error("Too many requests (rate limit exceeded)")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("Database unavailable")]
    DatabaseUnavailable(#[source] DbErr),
    #[error("Wrong login or password")]
    WrongCredentials,
    #[error("Unknown resource")]
    UnknownResource,
    #[error("Unknown action")]
    UnknownAction,
    #[error("Not found in the database")]
    NotFound,
    #[error("No data file")]
    NoDataFile,
    #[error("Invalid data format: {0}")]
    InvalidDataFormat(String),
    #[error("Entity already exists")]
    AlreadyExists,
    #[error("Cannot save file")]
    CannotSaveFile(#[source] std::io::Error),
    #[error("File is larger than the maximum of {max_bytes} bytes")]
    FileTooLarge { max_bytes: usize },
    #[error("Empty data file")]
    EmptyFile,
}

impl ApiError {
    pub fn invalid(parameter: impl Into<String>, error: impl Into<String>) -> Self {
        Self::InvalidParameters(vec![ParamError::new(parameter, error)])
    }

    /// The Navixy error code.
    pub fn code(&self) -> u16 {
        match self {
            Self::Database(_) => 1,
            Self::WrongHash => 3,
            Self::SessionNotFound => 4,
            Self::Unparsable(_) => 5,
            Self::Internal(_) => 6,
            Self::InvalidParameters(_) => 7,
            Self::QueueFull { .. } => 8,
            Self::RequestTooLarge => 9,
            Self::NotPermitted => 13,
            Self::TooManyRequests { .. } => 15,
            Self::DatabaseUnavailable(_) => 14,
            Self::WrongCredentials => 102,
            Self::UnknownResource => 111,
            Self::UnknownAction => 112,
            Self::NotFound => 201,
            Self::NoDataFile => 233,
            Self::InvalidDataFormat(_) => 234,
            Self::AlreadyExists => 247,
            Self::CannotSaveFile(_) => 254,
            Self::FileTooLarge { .. } => 271,
            Self::EmptyFile => 274,
        }
    }

    /// Server-side failures are logged where they are answered; client errors are not.
    pub fn log_if_server_error(&self) {
        if self.status_code().is_server_error() {
            tracing::error!(code = self.code(), error = ?self, "request failed");
        }
    }

    /// The envelope body, also used where the answer travels inside a redirect.
    pub fn envelope(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "success": false,
            "status": {"code": self.code(), "description": self.to_string()},
        });
        if let Self::InvalidParameters(errors) = self {
            body["errors"] = serde_json::json!(errors);
        }
        body
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::DatabaseUnavailable(err),
            _ => Self::Database(err),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Database(_) | Self::Internal(_) | Self::CannotSaveFile(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::QueueFull { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestTooLarge => StatusCode::PRECONDITION_FAILED,
            Self::NotPermitted => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::AlreadyExists => StatusCode::CONFLICT,
            Self::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log_if_server_error();
        let mut response = HttpResponse::build(self.status_code());
        let retry_after = match self {
            Self::QueueFull {
                retry_after_seconds,
            } => Some(u64::from(*retry_after_seconds)),
            Self::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.envelope())
    }
}
