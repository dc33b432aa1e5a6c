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

use url::Url;

use crate::config::{AuthConfig, SecretRef, ValueRef};

use super::secret::Secret;

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
}

/// Reads a secret from where the config says it is.
pub fn read_secret(reference: &SecretRef, what: &'static str) -> Result<Secret, AuthError> {
    let err = |message: String| AuthError::Secret {
        what,
        reference: reference.to_string(),
        message,
    };
    let value = match reference {
        SecretRef::File(path) => std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?,
        SecretRef::Env(name) => std::env::var(name).map_err(|_| err("not set".into()))?,
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(err("it is empty".into()));
    }
    Ok(Secret::new(value))
}

/// Resolves a non-secret value (a client id).
pub fn read_value(value: &ValueRef, what: &'static str) -> Result<String, AuthError> {
    match value {
        ValueRef::Literal(s) => Ok(s.clone()),
        ValueRef::Ref(r) => read_secret(r, what).map(|s| s.expose().to_string()),
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
    pub fn new(config: &AuthConfig, base: &Url, http: &reqwest::Client) -> Credential {
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
