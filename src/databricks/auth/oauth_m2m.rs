//! OAuth machine-to-machine: a service principal's client id and secret,
//! sent with HTTP Basic to the workspace token endpoint
//! (`grant_type=client_credentials&scope=all-apis`).

use tokio::sync::OnceCell;
use url::Url;

use super::discovery::token_endpoint;
use super::token::request_token;
use super::{AuthError, AuthLimits, TokenCache, read_secret, read_value};
use crate::config::{SecretRef, ValueRef};
use crate::databricks::redact;
use crate::databricks::secret::Secret;

#[derive(Debug)]
pub struct M2m {
    client_id: ValueRef,
    client_secret: SecretRef,
    base: Url,
    http: reqwest::Client,
    endpoint: OnceCell<Url>,
    cache: TokenCache,
    limits: AuthLimits,
}

impl M2m {
    pub fn new(
        client_id: ValueRef,
        client_secret: SecretRef,
        base: Url,
        http: reqwest::Client,
        limits: AuthLimits,
    ) -> M2m {
        M2m {
            client_id,
            client_secret,
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

    pub async fn token(&self) -> Result<Secret, AuthError> {
        self.cache
            .get_or_fetch(|| async {
                let endpoint = self
                    .endpoint
                    .get_or_try_init(|| {
                        token_endpoint(&self.http, &self.base, self.limits.max_body)
                    })
                    .await?;
                let id = read_value(&self.client_id, "client id")?;
                let secret = read_secret(&self.client_secret, "client secret")?;
                // The Basic header carries base64("id:secret"): mask that form too.
                redact::register(&format!("{id}:{}", secret.expose()));
                request_token(
                    &self.http,
                    endpoint,
                    &[("grant_type", "client_credentials"), ("scope", "all-apis")],
                    Some((&id, &secret)),
                    "client credentials",
                    &self.limits,
                )
                .await
            })
            .await
    }
}
