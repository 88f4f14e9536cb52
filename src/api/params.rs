//! Call parameters from a JSON body, a form body or the query string, read alike: in forms and
//! query strings a structured value is JSON text, a plain string may be bare.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// The largest body a call other than the upload may send (`server.max_body_bytes`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

#[derive(Debug, Clone)]
enum Raw {
    Json(Value),
    Text(String),
}

impl Raw {
    /// The value as JSON: text that is JSON is read as JSON, anything else is a string.
    fn to_json(&self) -> Value {
        match self {
            Raw::Json(value) => value.clone(),
            Raw::Text(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
        }
    }
}

/// The parameters of one call; a body value wins over a query value of the same name.
#[derive(Debug, Default)]
pub struct Params {
    body: HashMap<String, Raw>,
    query: HashMap<String, Raw>,
}

impl Params {
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        Ok(Self {
            body: HashMap::new(),
            query: parse_form(query.as_bytes())?,
        })
    }

    /// Adds a text value as if it came in the body (a multipart text part).
    pub fn insert_body_text(&mut self, name: String, value: String) {
        self.body.insert(name, Raw::Text(value));
    }

    fn raw(&self, name: &str) -> Option<&Raw> {
        self.body.get(name).or_else(|| self.query.get(name))
    }

    /// The session hash: from the body, else from the query string.
    pub fn hash(&self) -> Option<String> {
        self.text_of(self.raw("hash")?)
    }

    fn text_of(&self, raw: &Raw) -> Option<String> {
        match raw {
            Raw::Text(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::String(decoded)) => Some(decoded),
                _ => Some(text.clone()),
            },
            Raw::Json(Value::String(text)) => Some(text.clone()),
            Raw::Json(Value::Number(number)) => Some(number.to_string()),
            Raw::Json(_) => None,
        }
    }

    /// A string parameter; a bare form value is taken as it is, whatever it looks like.
    pub fn optional_text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.raw(name) {
            None | Some(Raw::Json(Value::Null)) => Ok(None),
            Some(raw) => self
                .text_of(raw)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(name, "must be a string")),
        }
    }

    pub fn required<T: DeserializeOwned>(&self, name: &str) -> Result<T, ApiError> {
        self.optional(name)?
            .ok_or_else(|| ApiError::invalid(name, "is required"))
    }

    /// A parameter of any JSON shape; absent is `None`.
    pub fn optional<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ApiError> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        serde_json::from_value(raw.to_json())
            .map(Some)
            .map_err(|e| ApiError::invalid(name, describe_type_error(&e)))
    }
}

fn describe_type_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => message,
    }
}

fn parse_form(bytes: &[u8]) -> Result<HashMap<String, Raw>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::Unparsable(format!("malformed form data: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(key, value)| (key, Raw::Text(value)))
        .collect())
}

fn parse_json_object(bytes: &[u8]) -> Result<HashMap<String, Raw>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map.into_iter().map(|(k, v)| (k, Raw::Json(v))).collect()),
        Ok(_) => Err(ApiError::Unparsable(
            "the JSON body must be an object".into(),
        )),
        Err(e) => Err(ApiError::Unparsable(format!("malformed JSON: {e}"))),
    }
}

enum BodyKind {
    Json,
    Form,
    Multipart,
}

fn body_kind(req: &HttpRequest) -> BodyKind {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") || content_type.contains("+json") {
        BodyKind::Json
    } else if content_type.starts_with("multipart/") {
        BodyKind::Multipart
    } else {
        BodyKind::Form
    }
}

/// Reads a whole body, refusing it as soon as it is known to pass `limit`.
async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::RequestTooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::Unparsable(format!("body not readable: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::RequestTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl FromRequest for Params {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let mut params = Params::from_query(req.query_string())?;
            let limit = req
                .app_data::<BodyLimit>()
                .map_or(usize::MAX, |limit| limit.0);
            let body = read_body(&req, &mut payload, limit).await?;
            if body.is_empty() {
                return Ok(params);
            }
            params.body = match body_kind(&req) {
                BodyKind::Json => parse_json_object(&body)?,
                BodyKind::Form => parse_form(&body)?,
                BodyKind::Multipart => {
                    return Err(ApiError::Unparsable(
                        "multipart bodies are accepted only by /employee/avatar/upload".into(),
                    ))
                }
            };
            Ok(params)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(query: &str) -> Params {
        Params::from_query(query).unwrap()
    }

    #[test]
    fn bare_numbers_and_json_text_are_typed() {
        let params = form("employee_id=2132&icon_id=null&sort=%5B%22first_name%3Ddesc%22%5D");
        assert_eq!(params.required::<i64>("employee_id").unwrap(), 2132);
        assert_eq!(params.required::<Option<i64>>("icon_id").unwrap(), None);
        assert_eq!(
            params.required::<Vec<String>>("sort").unwrap(),
            vec!["first_name=desc".to_string()]
        );
    }

    #[test]
    fn a_non_number_is_error_7_naming_the_parameter() {
        let err = form("employee_id=abc")
            .required::<i64>("employee_id")
            .unwrap_err();
        match err {
            ApiError::InvalidParameters(errors) => assert_eq!(errors[0].parameter, "employee_id"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bare_and_quoted_strings_are_text() {
        let params = form("filter=smith&quoted=%22a%20b%22&digits=007");
        assert_eq!(params.optional_text("filter").unwrap().unwrap(), "smith");
        assert_eq!(params.optional_text("quoted").unwrap().unwrap(), "a b");
        assert_eq!(params.optional_text("digits").unwrap().unwrap(), "007");
        assert_eq!(params.optional_text("missing").unwrap(), None);
    }

    #[test]
    fn body_wins_over_query() {
        let mut params = form("hash=fromquery");
        assert_eq!(params.hash().unwrap(), "fromquery");
        params.insert_body_text("hash".into(), "frombody".into());
        assert_eq!(params.hash().unwrap(), "frombody");
    }

    #[test]
    fn a_json_body_must_be_an_object() {
        assert!(matches!(
            parse_json_object(b"[1,2]"),
            Err(ApiError::Unparsable(_))
        ));
        assert!(matches!(
            parse_json_object(b"{\"a\":"),
            Err(ApiError::Unparsable(_))
        ));
        assert!(parse_json_object(b"{\"a\":1}").is_ok());
    }
}
