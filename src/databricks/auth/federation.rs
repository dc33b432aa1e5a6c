//! OIDC workload identity federation: a JWT from the organisation's IdP
//! (a file re-read on every exchange, or the IdP's client-credentials grant)
//! exchanged at the workspace token endpoint per RFC 8693, optionally for a
//! service principal's client id.

use std::path::PathBuf;

use tokio::sync::OnceCell;
use url::Url;

use super::discovery::token_endpoint;
use super::idp::IdpClient;
use super::token::{check_not_expired, request_token};
use super::{AuthError, AuthLimits, TokenCache, local_reason, read_value};
use crate::config::{IdpConfig, ValueRef};
use crate::databricks::local_file::read_credential_file;
use crate::databricks::secret::Secret;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

#[derive(Debug)]
enum Subject {
    File(PathBuf),
    Idp(Box<IdpClient>),
}

#[derive(Debug)]
pub struct Federation {
    client_id: Option<ValueRef>,
    subject: Subject,
    base: Url,
    http: reqwest::Client,
    endpoint: OnceCell<Url>,
    cache: TokenCache,
    limits: AuthLimits,
}

impl Federation {
    pub fn new(
        client_id: Option<ValueRef>,
        token_file: Option<PathBuf>,
        idp: Option<IdpConfig>,
        base: Url,
        http: reqwest::Client,
        limits: AuthLimits,
    ) -> Federation {
        let subject = match (token_file, idp) {
            (_, Some(idp)) => {
                Subject::Idp(Box::new(IdpClient::new(idp, http.clone(), limits.max_body)))
            }
            (Some(path), None) => Subject::File(path),
            // Config validation requires one of them; an empty path reads as an error.
            (None, None) => Subject::File(PathBuf::new()),
        };
        Federation {
            client_id,
            subject,
            base,
            http,
            endpoint: OnceCell::new(),
            cache: TokenCache::new(),
            limits,
        }
    }

    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The JWT to exchange, fresh from its source.
    async fn subject_token(&self) -> Result<(Secret, String), AuthError> {
        match &self.subject {
            Subject::File(path) => {
                let origin = format!("file {}", path.display());
                let err = |message: String| AuthError::Secret {
                    what: "OIDC token",
                    reference: origin.clone(),
                    message,
                };
                // Off the async threads: a stuck filesystem holds one blocking thread, not the runtime.
                let owned = path.clone();
                let text = tokio::task::spawn_blocking(move || read_credential_file(&owned))
                    .await
                    .map_err(|e| err(e.to_string()))?
                    .map_err(|e| err(local_reason(&e)))?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(AuthError::Secret {
                        what: "OIDC token",
                        reference: origin,
                        message: "it is empty".into(),
                    });
                }
                Ok((Secret::rotating(text), origin))
            }
            Subject::Idp(idp) => {
                let jwt = idp.fetch_jwt().await?;
                Ok((jwt, format!("identity provider {}", idp.issuer())))
            }
        }
    }

    pub async fn token(&self) -> Result<Secret, AuthError> {
        self.cache
            .get_or_fetch(|| async {
                let endpoint = self
                    .endpoint
                    .get_or_try_init(|| {
                        token_endpoint(&self.http, &self.base, self.limits.max_body)
                    })
                    .await?;
                let (jwt, origin) = self.subject_token().await?;
                check_not_expired(jwt.expose(), &origin)?;
                let client_id = match &self.client_id {
                    Some(v) => Some(read_value(v, "client id")?),
                    None => None,
                };
                let mut form = vec![
                    ("grant_type", GRANT),
                    ("scope", "all-apis"),
                    ("subject_token_type", JWT_TYPE),
                    ("subject_token", jwt.expose()),
                ];
                if let Some(id) = client_id.as_deref() {
                    form.push(("client_id", id));
                }
                request_token(
                    &self.http,
                    endpoint,
                    &form,
                    None,
                    "token exchange",
                    &self.limits,
                )
                .await
            })
            .await
    }
}
