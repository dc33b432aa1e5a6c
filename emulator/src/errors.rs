//! Error types: the API errors the emulator answers with (standard Databricks
//! error body, SCIM error body, OAuth error body) and the errors that stop the
//! emulator itself from starting or persisting. The bottom of the crate:
//! it renders its own JSON error bodies and imports no other module.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Errors that prevent the emulator from starting or keeping its state.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The configuration file could not be read.
    #[error("cannot read emulator config {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration is invalid; `field` names the offending entry.
    #[error("invalid emulator config {path}: {field}: {message}")]
    ConfigInvalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    /// The state file exists but cannot be read or parsed.
    #[error("cannot load emulator state {path}: {message}")]
    StateLoad { path: PathBuf, message: String },
    /// The state file cannot be written.
    #[error("cannot write emulator state {path}: {source}")]
    StateWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How an API error body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `{"error_code": …, "message": …}`.
    Standard,
    /// SCIM `{"schemas": [...Error], "detail": …, "status": "404"}`.
    Scim,
    /// OAuth `{"error": …, "error_description": …}`.
    OAuth,
}

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<u64>,
    style: Style,
}

/// Result of a handler.
pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    /// An error with an explicit status and `error_code`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            style: Style::Standard,
        }
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 400 `MALFORMED_REQUEST`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", message)
    }

    /// 400 `INVALID_STATE`.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message)
    }

    /// 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 409 `RESOURCE_ALREADY_EXISTS`.
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS", message)
    }

    /// 403 `PERMISSION_DENIED`.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }

    /// 401 `UNAUTHENTICATED`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    /// 404 `ENDPOINT_NOT_FOUND` for paths the emulator does not serve.
    pub fn no_endpoint(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            format!("No API found for '{path}'"),
        )
    }

    /// 429 `REQUEST_LIMIT_EXCEEDED` with an integer `Retry-After`.
    pub fn throttled(retry_after: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "REQUEST_LIMIT_EXCEEDED",
            "Too many requests. Please wait a moment and try again.",
        );
        err.retry_after = Some(retry_after.max(1));
        err
    }

    /// A SCIM-style error (the SDK classes these by HTTP status alone).
    pub fn scim(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut err = Self::new(status, "", detail);
        err.style = Style::Scim;
        err
    }

    /// An OAuth token endpoint error (`error`, `error_description`).
    pub fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        let mut err = Self::new(status, error, description);
        err.style = Style::OAuth;
        err
    }

    /// Converts a standard error into the SCIM style (same status and message).
    pub fn into_scim(mut self) -> Self {
        self.style = Style::Scim;
        self
    }

    /// HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.style {
            Style::Standard => json!({"error_code": self.code, "message": self.message}),
            Style::Scim => json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "detail": self.message,
                "status": self.status.as_u16().to_string(),
            }),
            Style::OAuth => json!({"error": self.code, "error_description": self.message}),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
