//! Signing people in through the organisation's IdP: the authorization
//! code flow with PKCE (S256), `state` bound to the browser and a nonce in
//! the ID token, through the `openidconnect` crate. The provider's
//! discovery document (and so its keys) is read afresh for each sign-in:
//! sign-ins are rare, and a rotated key is then never a surprise.

use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope,
};
use serde_json::Value;

use super::identity::{Identity, Proof};
use crate::databricks::auth::idp::bridge;
use crate::databricks::secret::Secret;
use crate::error_chain::error_chain;

/// The largest answer read from the IdP.
const MAX_IDP_BYTES: u64 = 1 << 20;

/// Why a sign-in could not be started or finished. Bounded labels.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the IdP cannot be reached or its discovery document is unusable: {0}")]
    Discovery(String),
    #[error("the IdP refused the sign-in: {0}")]
    Refused(String),
    #[error("the IdP's answer does not verify: {0}")]
    Verification(String),
}

impl SignInError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            SignInError::Discovery(_) => "discovery",
            SignInError::Refused(_) => "refused",
            SignInError::Verification(_) => "verification",
        }
    }
}

/// A sign-in begun: where to send the browser, and what to keep.
pub struct Begun {
    pub authorize_url: url::Url,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

/// The web client people sign in through.
pub struct SignIn {
    issuer: String,
    client_id: String,
    client_secret: Secret,
    redirect: String,
    scopes: Vec<String>,
    groups_claim: String,
    algorithms: Vec<CoreJwsSigningAlgorithm>,
    http: reqwest::Client,
}

impl SignIn {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        issuer: &str,
        client_id: String,
        client_secret: Secret,
        redirect: String,
        scopes: Vec<String>,
        groups_claim: String,
        algorithms: &[String],
        http: reqwest::Client,
    ) -> SignIn {
        SignIn {
            issuer: issuer.to_string(),
            client_id,
            client_secret,
            redirect,
            scopes,
            groups_claim,
            algorithms: algorithms
                .iter()
                .filter_map(|a| serde_json::from_value(Value::String(a.clone())).ok())
                .collect(),
            http,
        }
    }

    /// The callback URL registered with the IdP.
    pub fn redirect_url(&self) -> &str {
        &self.redirect
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SignInError,
    > {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| SignInError::Discovery(e.to_string()))?;
        let http = bridge(&self.http, MAX_IDP_BYTES);
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| SignInError::Discovery(error_chain(&e)))?;
        let redirect = RedirectUrl::new(self.redirect.clone())
            .map_err(|e| SignInError::Discovery(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.expose().to_string())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the IdP's authorization URL with a fresh state,
    /// nonce and PKCE challenge.
    pub async fn begin(&self) -> Result<Begun, SignInError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (authorize_url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Begun {
            authorize_url,
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Finishes a sign-in: exchanges `code` (with the PKCE verifier),
    /// verifies the ID token (signature, issuer, audience, expiry, nonce)
    /// and reads who it names.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, SignInError> {
        let client = self.client().await?;
        let http = bridge(&self.http, MAX_IDP_BYTES);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SignInError::Discovery(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&http)
            .await
            .map_err(|e| match &e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    SignInError::Refused(r.error().to_string())
                }
                other => SignInError::Refused(error_chain(other)),
            })?;
        let id_token = openidconnect::TokenResponse::id_token(&token)
            .ok_or_else(|| SignInError::Verification("the answer has no ID token".into()))?;
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(self.algorithms.clone());
        id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| SignInError::Verification(error_chain(&e)))?;
        // Verified: its payload, groups and all, can be read as it is.
        let payload = id_token
            .to_string()
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .ok_or_else(|| {
                SignInError::Verification("the ID token's claims do not parse".into())
            })?;
        Identity::from_claims(&payload, &self.groups_claim, Proof::Session)
            .ok_or_else(|| SignInError::Verification("the ID token names no subject".into()))
    }
}
