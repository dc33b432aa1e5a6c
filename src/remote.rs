//! Signing in to a running controller from a terminal: the device
//! authorization grant (RFC 8628) against the IdP the controller names at
//! `GET /auth/cli`, through the `openidconnect` crate. The person opens a
//! URL anywhere, signs in there, and the command gets an ID token the
//! controller accepts as a bearer token (its audience is the CLI's client).

use std::time::Duration;

use openidconnect::core::{CoreClient, CoreDeviceAuthorizationResponse, CoreProviderMetadata};
use openidconnect::{ClientId, DeviceAuthorizationUrl, Scope};
use serde::Deserialize;

use crate::databricks::auth::idp::bridge;
use crate::databricks::body::read_capped;
use crate::error_chain::error_chain;

/// The largest answer read from the IdP.
const MAX_IDP_BYTES: u64 = 1 << 20;

/// How the controller says its CLI signs in (`GET /auth/cli`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct CliSignIn {
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// What the person is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Where to go.
    pub verification_uri: String,
    /// The same, with the code filled in, when the IdP gives one.
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
    pub expires_in: Duration,
}

/// Why signing in from the terminal failed. Bounded labels.
#[derive(Debug, thiserror::Error)]
pub enum DeviceLoginError {
    #[error("the IdP cannot be reached or does not offer device sign-in: {0}")]
    Discovery(String),
    #[error("the IdP refused: {0}")]
    Refused(String),
    #[error("the IdP's answer has no ID token")]
    NoIdToken,
}

impl DeviceLoginError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            DeviceLoginError::Discovery(_) => "discovery",
            DeviceLoginError::Refused(_) => "refused",
            DeviceLoginError::NoIdToken => "no_id_token",
        }
    }
}

/// Signs in through the device flow: asks the IdP for a code, hands it to
/// `show`, and waits (polling as the IdP asks) until the person has signed
/// in; returns the ID token.
pub async fn device_login(
    http: &reqwest::Client,
    sign_in: &CliSignIn,
    show: impl FnOnce(&Prompt),
) -> Result<String, DeviceLoginError> {
    // One read of the discovery document: the core metadata and the device
    // endpoint, which the core metadata does not hold.
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        sign_in.issuer.trim_end_matches('/')
    );
    let response = http
        .get(&discovery)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| DeviceLoginError::Discovery(error_chain(&e)))?;
    let body = read_capped(response, MAX_IDP_BYTES)
        .await
        .map_err(|e| DeviceLoginError::Discovery(error_chain(&e)))?;
    let document: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| DeviceLoginError::Discovery(format!("{discovery}: {e}")))?;
    let metadata: CoreProviderMetadata = serde_json::from_value(document.clone())
        .map_err(|e| DeviceLoginError::Discovery(format!("{discovery}: {e}")))?;
    if metadata.issuer().as_str().trim_end_matches('/') != sign_in.issuer.trim_end_matches('/') {
        return Err(DeviceLoginError::Discovery(format!(
            "{discovery} names issuer `{}`",
            metadata.issuer().as_str()
        )));
    }
    let device_url = document["device_authorization_endpoint"]
        .as_str()
        .ok_or_else(|| {
            DeviceLoginError::Discovery(
                "its discovery document has no device_authorization_endpoint".into(),
            )
        })?;
    let http_client = bridge(http, MAX_IDP_BYTES);
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(sign_in.client_id.clone()),
        None,
    )
    .set_device_authorization_url(
        DeviceAuthorizationUrl::new(device_url.to_string())
            .map_err(|e| DeviceLoginError::Discovery(e.to_string()))?,
    );
    let mut request = client.exchange_device_code();
    for scope in sign_in.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let details: CoreDeviceAuthorizationResponse = request
        .request_async(&http_client)
        .await
        .map_err(|e| DeviceLoginError::Refused(error_chain(&e)))?;
    show(&Prompt {
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|u| u.secret().clone()),
        user_code: details.user_code().secret().clone(),
        expires_in: details.expires_in(),
    });
    let token = client
        .exchange_device_access_token(&details)
        .map_err(|e| DeviceLoginError::Discovery(e.to_string()))?
        .request_async(&http_client, tokio::time::sleep, None)
        .await
        .map_err(|e| match &e {
            openidconnect::RequestTokenError::ServerResponse(r) => {
                DeviceLoginError::Refused(r.error().to_string())
            }
            other => DeviceLoginError::Refused(error_chain(other)),
        })?;
    openidconnect::TokenResponse::id_token(&token)
        .map(|t| t.to_string())
        .ok_or(DeviceLoginError::NoIdToken)
}
