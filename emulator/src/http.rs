//! HTTP plumbing shared by the endpoint modules: JSON bodies parsed whatever
//! the `Content-Type`, query strings with repeated keys, whole-buffer JSON
//! responses, and small field accessors with Databricks-style errors.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};

/// Largest request body accepted (workspace import allows 10 MB of content,
/// base64 adds a third).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A JSON response written as one buffer.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 200 with JSON bytes assembled by the caller.
pub fn json_bytes(bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 200 with a JSON body.
pub fn ok(body: Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, &body))
}

/// 200 with `{}`.
pub fn ok_empty() -> ApiResult {
    ok(Value::Object(Map::new()))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A JSON object body, parsed regardless of `Content-Type` (`text/json` and a
/// missing header are common); an empty body is `{}`.
#[derive(Debug)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|err| ApiError::malformed(format!("cannot read request body: {err}")))?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// Parses a JSON object from raw bytes (empty means `{}`).
pub fn parse_object(bytes: &[u8]) -> ApiResult<Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::malformed("Request body must be a JSON object")),
        Err(err) => Err(ApiError::malformed(format!(
            "Invalid JSON given in the body of the request: {err}"
        ))),
    }
}

/// Query string parameters, keeping repeated keys in order.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` string.
    pub fn parse(query: &str) -> Self {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value for `key`.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A required string parameter.
    pub fn required(&self, key: &str) -> ApiResult<&str> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::invalid(format!("Missing required field: {key}")))
    }

    /// An optional integer parameter.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("Invalid value for {key}: '{v}'"))),
        }
    }

    /// The `page_token` parameter of offset-paged lists (0 when absent).
    pub fn offset_token(&self) -> ApiResult<usize> {
        match self.get("page_token").filter(|t| !t.is_empty()) {
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| ApiError::invalid(format!("Invalid page_token '{t}'"))),
            None => Ok(0),
        }
    }

    /// An optional boolean parameter (`true`/`false`).
    pub fn bool(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true") | Some("True") | Some("1"))
    }
}

/// The first `size` items and whether more follow (one item past the page
/// is read to tell).
pub fn first_page<T>(items: impl Iterator<Item = T>, size: usize) -> (Vec<T>, bool) {
    let mut page: Vec<T> = items.take(size.saturating_add(1)).collect();
    let more = page.len() > size;
    page.truncate(size);
    (page, more)
}

/// A list response: `items` under `key` (left out when empty, as the real
/// API does) and `next_page_token` when there is a next page.
pub fn list_body(key: &str, items: Vec<Value>, next: Option<String>) -> Map<String, Value> {
    let mut body = Map::new();
    if !items.is_empty() {
        body.insert(key.to_owned(), Value::Array(items));
    }
    if let Some(next) = next {
        body.insert("next_page_token".into(), Value::String(next));
    }
    body
}

/// A required string field of a JSON body.
pub fn req_str<'a>(body: &'a Map<String, Value>, key: &str) -> ApiResult<&'a str> {
    match body.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::invalid(format!("Missing required field: {key}")))
        }
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value for field {key}: expected a string"
        ))),
    }
}

/// An optional string field of a JSON body.
pub fn opt_str<'a>(body: &'a Map<String, Value>, key: &str) -> ApiResult<Option<&'a str>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value for field {key}: expected a string"
        ))),
    }
}

/// An id field that clients send either as a JSON number or a string.
pub fn req_id(body: &Map<String, Value>, key: &str) -> ApiResult<i64> {
    match body.get(key) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| ApiError::invalid(format!("Invalid value for field {key}"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid value for field {key}: '{s}'"))),
        _ => Err(ApiError::invalid(format!("Missing required field: {key}"))),
    }
}

/// An optional integer field.
pub fn opt_int(body: &Map<String, Value>, key: &str) -> ApiResult<Option<i64>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("Invalid value for field {key}"))),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("Invalid value for field {key}: '{s}'"))),
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value for field {key}: expected an integer"
        ))),
    }
}

/// Base URL of the emulator as the client reached it (from the `Host` header).
pub fn request_base(headers: &axum::http::HeaderMap, fallback: &str) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| fallback.to_owned())
}
