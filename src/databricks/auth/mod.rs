//! Authentication to a workspace: personal access tokens, OAuth M2M, and
//! OIDC workload identity federation (RFC 8693 token exchange), with the
//! token cache they share and the errors that name what went wrong.

pub mod cache;
pub mod discovery;
pub mod federation;
pub mod idp;
pub mod oauth_m2m;
pub mod pat;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::config::{AuthConfig, LimitsConfig, RetryConfig, SecretRef, ValueRef};

use super::local_file::{LocalFileError, read_credential_file};
use super::secret::Secret;

pub use super::local_file::MAX_CREDENTIAL_BYTES;

pub use cache::{FreshToken, TokenCache};

/// Why Mortar could not obtain a workspace token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the {what} from {reference}: {message}")]
    Secret {
        what: &'static str,
        reference: String,
        message: String,
    },
    #[error("cannot find the workspace token endpoint ({url}): {message}")]
    Discovery { url: String, message: String },
    #[error("{endpoint} refused the {grant}: {code}{}{}", if description.is_empty() { String::new() } else { format!(": {description}") }, if hint.is_empty() { String::new() } else { format!(" ({hint})") })]
    Rejected {
        endpoint: String,
        grant: &'static str,
        status: u16,
        code: String,
        description: String,
        hint: String,
    },
    #[error(
        "the JWT from {origin} expired at {expired_at} (unix time {exp}); a fresh token is needed"
    )]
    JwtExpired {
        origin: String,
        exp: i64,
        expired_at: String,
    },
    #[error("the token from {origin} is not a JWT: {message}")]
    JwtMalformed { origin: String, message: String },
    #[error("identity provider {issuer}: {message}")]
    Idp { issuer: String, message: String },
    #[error(
        "refused to send credentials to {url}: it is not on {expected}, the host they were configured for"
    )]
    ForeignHost { url: String, expected: String },
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: unexpected token response: {message}")]
    BadResponse { url: String, message: String },
    /// The endpoint answered with a redirect; credentials never follow one.
    #[error(
        "{endpoint} answered the {grant} with a redirect (HTTP {status}) to `{location}`, which is not followed"
    )]
    Redirected {
        endpoint: String,
        grant: &'static str,
        status: u16,
        location: String,
    },
    /// The endpoint failed (5xx): the credentials were not judged.
    #[error("{endpoint} failed on the {grant}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    ServerError {
        endpoint: String,
        grant: &'static str,
        status: u16,
        message: String,
    },
    /// Any other answer that is neither a token nor an OAuth refusal.
    #[error("{endpoint} answered the {grant} with HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    UnexpectedStatus {
        endpoint: String,
        grant: &'static str,
        status: u16,
        message: String,
    },
    #[error("{url}: the answer is larger than {limit} bytes (limits.max_auth_response_bytes)")]
    ResponseTooLarge { url: String, limit: u64 },
}

impl AuthError {
    /// A short, bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            AuthError::Secret { .. } => "secret",
            AuthError::Discovery { .. } => "discovery",
            AuthError::Rejected { .. } => "rejected",
            AuthError::JwtExpired { .. } => "jwt_expired",
            AuthError::JwtMalformed { .. } => "jwt_malformed",
            AuthError::Idp { .. } => "idp",
            AuthError::ForeignHost { .. } => "foreign_host",
            AuthError::Transport { .. } => "transport",
            AuthError::BadResponse { .. } => "bad_response",
            AuthError::Redirected { .. } => "redirected",
            AuthError::ServerError { .. } => "server_error",
            AuthError::UnexpectedStatus { .. } => "unexpected_status",
            AuthError::ResponseTooLarge { .. } => "response_too_large",
        }
    }
}

/// Bounds on everything the authentication flows read and wait for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuthLimits {
    /// The largest token, discovery or identity provider answer read.
    pub max_body: u64,
    /// The longest `Retry-After` honored by the token endpoint.
    pub max_retry_after: Duration,
    /// Time allowed for one request.
    pub timeout: Duration,
}

impl AuthLimits {
    pub fn from_config(limits: &LimitsConfig, retry: &RetryConfig) -> AuthLimits {
        AuthLimits {
            max_body: limits.max_auth_response_bytes,
            max_retry_after: Duration::from_secs(retry.max_retry_after_secs),
            timeout: Duration::from_secs(limits.request_timeout_secs.clamp(1, 30)),
        }
    }
}

impl Default for AuthLimits {
    fn default() -> Self {
        AuthLimits::from_config(&LimitsConfig::default(), &RetryConfig::default())
    }
}

/// Reads what a reference points at (a regular file, capped, or an
/// environment variable), trimmed.
fn read_ref(reference: &SecretRef, what: &'static str) -> Result<String, AuthError> {
    let err = |message: String| AuthError::Secret {
        what,
        reference: reference.to_string(),
        message,
    };
    let value = match reference {
        SecretRef::File(path) => read_credential_file(path).map_err(|e| err(local_reason(&e)))?,
        SecretRef::Env(name) => std::env::var(name).map_err(|_| err("not set".into()))?,
        SecretRef::Secret(key) => {
            crate::config::lookup_secret(key).map_err(|e| err(e.to_string()))?
        }
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(err("it is empty".into()));
    }
    Ok(value.to_string())
}

/// A local file error without the path (the message names the reference already).
pub fn local_reason(e: &LocalFileError) -> String {
    match e {
        LocalFileError::Open { reason, .. } | LocalFileError::Read { reason, .. } => reason.clone(),
        LocalFileError::NotRegular { what, .. } => format!("it is {what}, not a regular file"),
        LocalFileError::TooLarge { limit, .. } => format!("it is larger than {limit} bytes"),
        LocalFileError::NotText { .. } => "it is not UTF-8 text".into(),
    }
}

/// Reads a secret from where the config says it is (a file must be a
/// regular file of at most [`MAX_CREDENTIAL_BYTES`]); the value is
/// registered with the redactor.
pub fn read_secret(reference: &SecretRef, what: &'static str) -> Result<Secret, AuthError> {
    read_ref(reference, what).map(Secret::new)
}

/// Resolves a non-secret value (a client id).
pub fn read_value(value: &ValueRef, what: &'static str) -> Result<String, AuthError> {
    match value {
        ValueRef::Literal(s) => Ok(s.clone()),
        ValueRef::Ref(r) => read_ref(r, what),
    }
}

/// True when `url` is on the same scheme, host and port as `base`.
pub fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
}

/// The origin of a URL, for messages.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A workspace credential: where bearer tokens come from.
#[derive(Debug)]
pub enum Credential {
    Pat(pat::Pat),
    M2m(Arc<oauth_m2m::M2m>),
    Federation(Arc<federation::Federation>),
}

impl Credential {
    /// Builds the credential for a workspace. Secrets are read when first needed.
    pub fn new(
        config: &AuthConfig,
        base: &Url,
        http: &reqwest::Client,
        limits: AuthLimits,
    ) -> Credential {
        match config {
            AuthConfig::Pat { token } => Credential::Pat(pat::Pat::new(token.clone())),
            AuthConfig::OauthM2m {
                client_id,
                client_secret,
            } => Credential::M2m(Arc::new(oauth_m2m::M2m::new(
                client_id.clone(),
                client_secret.clone(),
                base.clone(),
                http.clone(),
                limits,
            ))),
            AuthConfig::OidcFederation {
                client_id,
                token_file,
                idp,
            } => Credential::Federation(Arc::new(federation::Federation::new(
                client_id.clone(),
                token_file.clone(),
                idp.clone(),
                base.clone(),
                http.clone(),
                limits,
            ))),
        }
    }

    /// The method name as written in `mortar.yaml`.
    pub fn method(&self) -> &'static str {
        match self {
            Credential::Pat(_) => "pat",
            Credential::M2m(_) => "oauth-m2m",
            Credential::Federation(_) => "oidc-federation",
        }
    }

    /// A bearer token for the next request.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        match self {
            Credential::Pat(p) => p.token(),
            Credential::M2m(m) => m.token().await,
            Credential::Federation(f) => f.token().await,
        }
    }

    /// Drops a token the workspace refused, so the next call gets a new one.
    /// Returns false when nothing new can be had (a PAT).
    pub async fn invalidate(&self, token: &Secret) -> bool {
        match self {
            Credential::Pat(_) => false,
            Credential::M2m(m) => {
                m.cache().invalidate(token).await;
                true
            }
            Credential::Federation(f) => {
                f.cache().invalidate(token).await;
                true
            }
        }
    }

    /// How many tokens were requested from the workspace token endpoint.
    pub fn token_requests(&self) -> u64 {
        match self {
            Credential::Pat(_) => 0,
            Credential::M2m(m) => m.cache().fetches(),
            Credential::Federation(f) => f.cache().fetches(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_print_no_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pat");
        std::fs::write(&path, "dapi-secret-value\n").expect("write");
        let base = Url::parse("https://adb-1.example.net/").expect("url");
        let http = reqwest::Client::new();
        let cred = Credential::new(
            &AuthConfig::Pat {
                token: SecretRef::File(path),
            },
            &base,
            &http,
            AuthLimits::default(),
        );
        let token = match &cred {
            Credential::Pat(p) => p.token().expect("token"),
            _ => unreachable!(),
        };
        assert_eq!(token.expose(), "dapi-secret-value");
        let debug = format!("{cred:?}");
        assert!(!debug.contains("dapi-secret-value"), "{debug}");
    }

    #[test]
    fn missing_secrets_name_where_they_were_looked_for() {
        let err = read_secret(
            &SecretRef::Env("MORTAR_TEST_NOT_SET_ANYWHERE".into()),
            "client secret",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("client secret") && err.contains("MORTAR_TEST_NOT_SET_ANYWHERE"),
            "{err}"
        );
    }
}
