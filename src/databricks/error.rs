//! Typed errors of the Databricks client, and decoding of the error bodies
//! the REST API answers with (standard, API 1.2, SCIM, plain text, HTML).

use std::time::Duration;

use serde_json::Value;

use super::auth::AuthError;
use super::redact::redact;

/// What the server said when a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `error_code` from the body (`SCIM_<status>` for SCIM bodies), or the
    /// reason phrase when the body had none.
    pub error_code: String,
    pub message: String,
    /// The integer `Retry-After` header of a 429/503.
    pub retry_after: Option<Duration>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: HTTP {} {}: {}",
            self.method, self.path, self.status, self.error_code, self.message
        )
    }
}

/// Every way a call to a workspace can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found: {0}")]
    NotFound(ApiError),
    #[error("already exists: {0}")]
    AlreadyExists(ApiError),
    #[error("permission denied: {0}")]
    PermissionDenied(ApiError),
    #[error("invalid parameter: {0}")]
    InvalidParameter(ApiError),
    #[error("invalid state: {0}")]
    InvalidState(ApiError),
    #[error("rate limited: {0}")]
    RateLimited(ApiError),
    #[error("unauthenticated: {0}")]
    Unauthenticated(ApiError),
    #[error("server unavailable: {0}")]
    Unavailable(ApiError),
    #[error("{0}")]
    Api(ApiError),
    /// The connection failed. `sent` is false when the request cannot have
    /// reached the server (connection refused), true when it may have.
    #[error("{method} {path}: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
        sent: bool,
    },
    #[error("{method} {path}: no answer within {timeout:?}")]
    Timeout {
        method: String,
        path: String,
        timeout: Duration,
    },
    #[error("{method} {path}: cannot read the response: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A request Mortar will not make: a credential would leave its host.
    #[error("refused: {0}")]
    Refused(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A create whose outcome stayed unknown after every lookup and retry.
    #[error("{0}")]
    Ambiguous(String),
    /// The answer is larger than the configured cap for its endpoint.
    #[error("{method} {path}: the response is larger than {limit} bytes (limits.{setting})")]
    ResponseTooLarge {
        method: String,
        path: String,
        limit: u64,
        setting: &'static str,
    },
    /// The call's total time (attempts, waits, token requests) ran out.
    /// `last` is the failure that was being retried, if any.
    #[error(
        "{method} {path}: no result within the call deadline of {deadline:?} ({attempts} attempts)"
    )]
    DeadlineExceeded {
        method: String,
        path: String,
        deadline: Duration,
        attempts: u32,
        #[source]
        last: Option<Box<Error>>,
    },
    /// A paged list handed back a page token it had already given.
    #[error(
        "{path}: the server repeated an earlier page token after {pages} pages (a paging loop)"
    )]
    PageLoop { path: String, pages: usize },
    /// A paged list went on past the configured page cap.
    #[error("{path}: more than {limit} pages (limits.max_pages)")]
    TooManyPages { path: String, limit: usize },
}

impl Error {
    /// A short, bounded label for metrics and logs (the same as [`Error::kind`]).
    pub fn metric_label(&self) -> &'static str {
        self.kind()
    }

    /// A short, bounded label for metrics and logs. For API answers it
    /// follows the body's `error_code`, and the HTTP status only when the
    /// body has none.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::PermissionDenied(_) => "permission_denied",
            Error::InvalidParameter(_) => "invalid_parameter",
            Error::InvalidState(_) => "invalid_state",
            Error::RateLimited(_) => "rate_limited",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Unavailable(_) => "unavailable",
            Error::Api(_) => "api",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            Error::Decode { .. } => "decode",
            Error::Auth(_) => "auth",
            Error::Refused(_) => "refused",
            Error::Unsupported(_) => "unsupported",
            Error::Ambiguous(_) => "ambiguous",
            Error::ResponseTooLarge { .. } => "response_too_large",
            Error::DeadlineExceeded { .. } => "deadline_exceeded",
            Error::PageLoop { .. } => "page_loop",
            Error::TooManyPages { .. } => "too_many_pages",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// The server's answer, for the variants that carry one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::NotFound(e)
            | Error::AlreadyExists(e)
            | Error::PermissionDenied(e)
            | Error::InvalidParameter(e)
            | Error::InvalidState(e)
            | Error::RateLimited(e)
            | Error::Unauthenticated(e)
            | Error::Unavailable(e)
            | Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// True when a write may or may not have happened: the request may have
    /// reached the server but no clear answer came back.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Error::Transport { sent, .. } => *sent,
            Error::Timeout { .. }
            | Error::Decode { .. }
            | Error::DeadlineExceeded { .. }
            | Error::ResponseTooLarge { .. } => true,
            Error::Unavailable(e) => e.status >= 500,
            _ => false,
        }
    }
}

/// Decodes an error response into a typed [`Error`]. The body's
/// `error_code` wins over the HTTP status. The one exception is the one the
/// Databricks SDKs make: a 400 `INVALID_PARAMETER_VALUE` from a jobs,
/// clusters or instance-pools endpoint saying the object it addresses does
/// not exist (`Job 5 does not exist.`) is `NotFound`; a missing object the
/// request merely refers to (`Principal x does not exist`) stays an invalid
/// parameter. Text from the body passes through the redactor.
pub fn decode_error(
    method: &str,
    path: &str,
    status: u16,
    reason: &str,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Error {
    let (error_code, message, from_body) = parse_body(status, reason, body);
    let error_code = redact(&error_code).into_owned();
    let message = redact(&message).into_owned();
    let api = ApiError {
        method: method.to_string(),
        path: path.to_string(),
        status,
        error_code,
        message,
        retry_after,
    };
    classify(api, from_body)
}

fn classify(api: ApiError, code_from_body: bool) -> Error {
    let code = if code_from_body {
        api.error_code.as_str()
    } else {
        ""
    };
    match code {
        "RESOURCE_DOES_NOT_EXIST" | "NOT_FOUND" | "ENDPOINT_NOT_FOUND" => {
            return Error::NotFound(api);
        }
        "RESOURCE_ALREADY_EXISTS" | "ALREADY_EXISTS" => return Error::AlreadyExists(api),
        "PERMISSION_DENIED" => return Error::PermissionDenied(api),
        "INVALID_PARAMETER_VALUE" if addressed_object_missing(&api.path, &api.message) => {
            return Error::NotFound(api);
        }
        "INVALID_PARAMETER_VALUE" | "BAD_REQUEST" | "MALFORMED_REQUEST" => {
            return Error::InvalidParameter(api);
        }
        "INVALID_STATE" => return Error::InvalidState(api),
        "RESOURCE_EXHAUSTED" | "REQUEST_LIMIT_EXCEEDED" | "TOO_MANY_REQUESTS" => {
            return Error::RateLimited(api);
        }
        "UNAUTHENTICATED" => return Error::Unauthenticated(api),
        "TEMPORARILY_UNAVAILABLE" => return Error::Unavailable(api),
        _ => {}
    }
    match api.status {
        400 => Error::InvalidParameter(api),
        401 => Error::Unauthenticated(api),
        403 => Error::PermissionDenied(api),
        404 => Error::NotFound(api),
        409 => Error::AlreadyExists(api),
        429 => Error::RateLimited(api),
        500..=599 => Error::Unavailable(api),
        _ => Error::Api(api),
    }
}

/// Whether a 400 `INVALID_PARAMETER_VALUE` means the object the call
/// addresses is missing: `Job 5 does not exist.` / `Run 7 does not exist`
/// from a jobs endpoint, `Cluster x does not exist` from a clusters
/// endpoint, `Can't find an instance pool with id: x` from instance-pools
/// (the overrides of the Databricks SDKs).
fn addressed_object_missing(path: &str, message: &str) -> bool {
    let one_id_then_missing = |rest: &str| {
        rest.split_once(' ')
            .is_some_and(|(id, tail)| !id.is_empty() && tail.starts_with("does not exist"))
    };
    if path.contains("/jobs/") {
        return ["Job ", "Run "]
            .iter()
            .any(|p| message.strip_prefix(p).is_some_and(one_id_then_missing));
    }
    if path.contains("/clusters/") {
        return message
            .strip_prefix("Cluster ")
            .is_some_and(one_id_then_missing);
    }
    if path.contains("/instance-pools/") {
        return message.starts_with("Can't find an instance pool with id");
    }
    false
}

fn parse_body(status: u16, reason: &str, body: &[u8]) -> (String, String, bool) {
    let fallback_code = reason.to_ascii_uppercase().replace(' ', "_");
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
        if let Some(code) = text("error_code") {
            return (code, text("message").unwrap_or_default(), true);
        }
        if let Some(detail) = text("detail") {
            // SCIM: the class comes from the status alone.
            let message = match text("scimType") {
                Some(scim) if !scim.is_empty() => format!("{scim} {detail}"),
                _ => detail,
            };
            return (format!("SCIM_{status}"), message, false);
        }
        if let Some(message) = text("message") {
            return (fallback_code, message, false);
        }
        if let Some(error) = text("error") {
            let description = text("error_description").unwrap_or_default();
            let message = if description.is_empty() {
                error
            } else {
                format!("{error}: {description}")
            };
            return (fallback_code, message, false);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return (fallback_code, reason.to_string(), false);
    }
    if let Some((code, message)) = text.split_once(": ")
        && !code.is_empty()
        && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    {
        return (code.to_string(), message.to_string(), true);
    }
    for (open, close) in [("<pre>", "</pre>"), ("<title>", "</title>")] {
        if let Some(start) = text.find(open)
            && let Some(len) = text[start + open.len()..].find(close)
        {
            let inner = text[start + open.len()..start + open.len() + len].trim();
            return (fallback_code, inner.to_string(), false);
        }
    }
    let short: String = text.chars().take(300).collect();
    (fallback_code, short, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(status: u16, body: &str) -> Error {
        decode_error(
            "GET",
            "/api/2.2/jobs/get",
            status,
            "Bad Request",
            body.as_bytes(),
            None,
        )
    }

    #[test]
    fn error_code_wins_over_status() {
        let err = decode(
            400,
            r#"{"error_code":"RESOURCE_ALREADY_EXISTS","message":"Group x already exists"}"#,
        );
        assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
        assert!(err.to_string().contains("Group x already exists"));
    }

    #[test]
    fn a_missing_referenced_principal_is_an_invalid_parameter() {
        let err = decode_error(
            "PUT",
            "/api/2.0/permissions/jobs/5",
            400,
            "Bad Request",
            br#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Principal: UserName(ghost) does not exist"}"#,
            None,
        );
        assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");
        assert_eq!(err.metric_label(), "invalid_parameter");
        // A referenced policy on a clusters endpoint is not the cluster itself.
        let err = decode_error(
            "POST",
            "/api/2.1/clusters/create",
            400,
            "Bad Request",
            br#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Cluster policy 12 does not exist"}"#,
            None,
        );
        assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");
        let err = decode_error(
            "GET",
            "/api/2.0/instance-pools/get",
            400,
            "Bad Request",
            br#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Can't find an instance pool with id: p1"}"#,
            None,
        );
        assert!(err.is_not_found(), "{err:?}");
    }

    #[test]
    fn job_does_not_exist_400_is_not_found() {
        let err = decode(
            400,
            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Job 999 does not exist."}"#,
        );
        assert!(err.is_not_found(), "{err:?}");
        let err = decode(
            400,
            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Missing required field: name"}"#,
        );
        assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");
    }

    #[test]
    fn scim_bodies_are_classed_by_status() {
        let err = decode(
            409,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Group with name x already exists.","status":"409","scimType":"uniqueness"}"#,
        );
        let Error::AlreadyExists(api) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(api.error_code, "SCIM_409");
        assert_eq!(api.message, "uniqueness Group with name x already exists.");
    }

    #[test]
    fn other_body_shapes() {
        assert!(matches!(
            decode(403, r#"{"error":"no access"}"#),
            Error::PermissionDenied(_)
        ));
        let err = decode(400, "INVALID_STATE: cluster is PENDING");
        assert!(matches!(err, Error::InvalidState(_)), "{err:?}");
        let err = decode(502, "<html><title>Bad Gateway</title></html>");
        assert!(err.to_string().contains("Bad Gateway"));
        assert!(matches!(decode(429, ""), Error::RateLimited(_)));
        assert!(matches!(decode(401, "{}"), Error::Unauthenticated(_)));
        assert!(matches!(
            decode(404, r#"{"error_code":"ENDPOINT_NOT_FOUND","message":"no"}"#),
            Error::NotFound(_)
        ));
    }

    #[test]
    fn ambiguity_of_failures() {
        assert!(decode(503, "").is_ambiguous());
        assert!(!decode(429, "").is_ambiguous());
        assert!(!decode(400, "{}").is_ambiguous());
        let refused = Error::Transport {
            method: "POST".into(),
            path: "/x".into(),
            message: "refused".into(),
            sent: false,
        };
        assert!(!refused.is_ambiguous());
    }
}
