//! Getting a JWT from the organisation's OpenID provider with the
//! client-credentials grant, through the `openidconnect` crate's discovery.
//! openidconnect's own HTTP client is for an older reqwest, so requests go
//! through a small bridge onto Mortar's reqwest client (no redirects).

use futures::future::BoxFuture;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, HttpRequest, HttpResponse, IssuerUrl, OAuth2TokenResponse, Scope,
};
use tokio::sync::OnceCell;
use url::Url;

use super::{AuthError, origin, read_secret, read_value, same_origin};
use crate::config::IdpConfig;
use crate::databricks::body::{BodyError, read_capped};
use crate::databricks::redact::redact;
use crate::databricks::secret::Secret;
use crate::error_chain::error_chain;

/// Why the bridge could not complete a request for openidconnect.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("the answer is larger than {limit} bytes (limits.max_auth_response_bytes)")]
    TooLarge { limit: u64 },
}

impl BridgeError {
    /// A short, bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            BridgeError::Http(_) => "transport",
            BridgeError::TooLarge { .. } => "too_large",
        }
    }
}

/// The bridge openidconnect calls: each request becomes an owned, `Send`
/// future on a clone of Mortar's reqwest client, reading at most `max_body`.
pub fn bridge(
    client: &reqwest::Client,
    max_body: u64,
) -> impl Fn(HttpRequest) -> BoxFuture<'static, Result<HttpResponse, BridgeError>> + Send + Sync {
    let client = client.clone();
    move |request| Box::pin(oidc_http(client.clone(), request, max_body))
}

/// Sends an openidconnect request with reqwest 0.13; the answer is read
/// as a stream and refused past `max_body` bytes.
pub async fn oidc_http(
    client: reqwest::Client,
    request: HttpRequest,
    max_body: u64,
) -> Result<HttpResponse, BridgeError> {
    let (parts, body) = request.into_parts();
    let resp = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = read_capped(resp, max_body).await.map_err(|e| match e {
        BodyError::TooLarge { limit } => BridgeError::TooLarge { limit },
        BodyError::Transport(e) => BridgeError::Http(e),
    })?;
    let mut out = HttpResponse::new(bytes);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

#[derive(Debug)]
pub struct IdpClient {
    config: IdpConfig,
    http: reqwest::Client,
    max_body: u64,
    metadata: OnceCell<CoreProviderMetadata>,
}

impl IdpClient {
    pub fn new(config: IdpConfig, http: reqwest::Client, max_body: u64) -> IdpClient {
        IdpClient {
            config,
            http,
            max_body,
            metadata: OnceCell::new(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    fn err(&self, message: impl Into<String>) -> AuthError {
        AuthError::Idp {
            issuer: self.config.issuer.clone(),
            message: redact(&message.into()).chars().take(1000).collect(),
        }
    }

    async fn metadata(&self) -> Result<&CoreProviderMetadata, AuthError> {
        self.metadata
            .get_or_try_init(|| async {
                crate::config::check_url(
                    &self.config.issuer,
                    self.config.allow_insecure_http,
                    true,
                )
                .map_err(|m| self.err(m))?;
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| self.err(format!("bad issuer URL: {e}")))?;
                let http = bridge(&self.http, self.max_body);
                CoreProviderMetadata::discover_async(issuer, &http)
                    .await
                    .map_err(|e| self.err(format!("discovery failed: {}", error_chain(&e))))
            })
            .await
    }

    /// A fresh JWT for the configured audience.
    pub async fn fetch_jwt(&self) -> Result<Secret, AuthError> {
        let metadata = self.metadata().await?.clone();
        let issuer = Url::parse(&self.config.issuer).map_err(|e| self.err(e.to_string()))?;
        let token_url = metadata
            .token_endpoint()
            .ok_or_else(|| self.err("its discovery document has no token_endpoint"))?
            .url()
            .clone();
        if !same_origin(&token_url, &issuer) {
            return Err(AuthError::ForeignHost {
                url: token_url.to_string(),
                expected: origin(&issuer),
            });
        }
        let id = read_value(&self.config.client_id, "identity provider client id")?;
        let secret = read_secret(
            &self.config.client_secret,
            "identity provider client secret",
        )?;
        crate::databricks::redact::register(&format!("{id}:{}", secret.expose()));
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(id),
            Some(ClientSecret::new(secret.expose().to_string())),
        );
        let mut request = client
            .exchange_client_credentials()
            .map_err(|e| self.err(e.to_string()))?;
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(audience) = &self.config.audience {
            request = request.add_extra_param("resource", audience.clone());
        }
        let http = bridge(&self.http, self.max_body);
        let response = request.request_async(&http).await.map_err(|e| {
            let message = match &e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    let code = r.error().to_string();
                    let hint = if code == "invalid_client" {
                        " (wrong client id or client secret)"
                    } else {
                        ""
                    };
                    match r.error_description() {
                        Some(d) => format!("token request refused: {code}: {d}{hint}"),
                        None => format!("token request refused: {code}{hint}"),
                    }
                }
                other => format!("token request failed: {}", error_chain(other)),
            };
            self.err(message)
        })?;
        Ok(Secret::rotating(response.access_token().secret().clone()))
    }
}
