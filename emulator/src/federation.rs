//! Token federation (RFC 8693 token exchange): verifies an external JWT
//! against the configured federation policies — issuer, audience, subject,
//! expiry, and an RS256/ES256 signature checked with the policy's inline JWKS
//! or keys fetched from the issuer's discovery document. Plain-http issuers
//! are accepted on loopback hosts only.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::http::StatusCode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::config::{EmulatorConfig, FederationPolicy, parse_jwks};
use crate::errors::ApiError;
use crate::model::PrincipalKind;

/// The identity an accepted external token maps to.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Service principal application id, or user name (account-wide policy).
    pub principal: String,
    pub kind: PrincipalKind,
    /// The external token's expiry (epoch ms).
    pub expires_at_ms: i64,
}

/// Keys fetched from issuers, cached by issuer URL.
#[derive(Default)]
pub struct KeyCache {
    sets: RwLock<HashMap<String, JwkSet>>,
}

fn denied(message: impl Into<String>) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", message)
}

fn allowed_url(raw: &str) -> Result<url::Url, ApiError> {
    let url = url::Url::parse(raw).map_err(|_| denied(format!("invalid URL '{raw}'")))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]") | Some("::1")
    );
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(denied(format!(
            "issuer URL '{raw}' must use https (plain http only on loopback)"
        ))),
    }
}

/// GETs `url` and parses its JSON body (`what` names it in errors).
async fn fetch_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &url::Url,
    what: &str,
) -> Result<T, ApiError> {
    client
        .get(url.clone())
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|err| denied(format!("cannot fetch {url}: {err}")))?
        .json()
        .await
        .map_err(|err| denied(format!("invalid {what} at {url}: {err}")))
}

impl KeyCache {
    fn cached(&self, issuer: &str) -> Option<JwkSet> {
        self.sets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
            .cloned()
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, ApiError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|err| denied(format!("cannot build HTTP client: {err}")))?;
        let discovery = allowed_url(&format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))?;
        let document: Value = fetch_json(&client, &discovery, "discovery document").await?;
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| denied(format!("no jwks_uri in {discovery}")))?;
        let jwks_url = allowed_url(jwks_uri)?;
        let set: JwkSet = fetch_json(&client, &jwks_url, "JWKS").await?;
        self.sets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_owned(), set.clone());
        Ok(set)
    }

    /// Keys for a policy: inline, cached, or fetched (refetched once when the
    /// token's key id is unknown, for key rotation).
    async fn keys_for(
        &self,
        policy: &FederationPolicy,
        kid: Option<&str>,
    ) -> Result<JwkSet, ApiError> {
        if let Some(inline) = &policy.jwks {
            return parse_jwks(inline).map_err(denied);
        }
        if let Some(set) = self.cached(&policy.issuer) {
            let known = kid.is_none_or(|kid| set.find(kid).is_some());
            if known {
                return Ok(set);
            }
        }
        self.fetch(&policy.issuer).await
    }
}

/// Verifies `token` and maps it to a principal. `client_id` selects a
/// service-principal policy; without it only account-wide policies apply.
pub async fn verify(
    keys: &KeyCache,
    config: &EmulatorConfig,
    token: &str,
    client_id: Option<&str>,
) -> Result<Verified, ApiError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|err| denied(format!("subject_token is not a JWT: {err}")))?;
    if header.alg != Algorithm::RS256 && header.alg != Algorithm::ES256 {
        return Err(denied(format!(
            "subject_token must be signed with RS256 or ES256, not {:?}",
            header.alg
        )));
    }
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|err| denied(format!("subject_token claims are invalid: {err}")))?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| denied("subject_token has no iss claim"))?;
    let candidates: Vec<&FederationPolicy> = config
        .federation_policies
        .iter()
        .filter(|p| p.issuer.trim_end_matches('/') == issuer.trim_end_matches('/'))
        .filter(|p| match client_id {
            Some(id) => p.service_principal.as_deref() == Some(id),
            None => p.service_principal.is_none(),
        })
        .collect();
    if candidates.is_empty() {
        return Err(denied(format!(
            "no federation policy matches issuer '{issuer}'{}",
            client_id.map_or(String::new(), |id| format!(" for client '{id}'"))
        )));
    }
    let mut last = denied("no federation policy accepted the token");
    for policy in candidates {
        match check(keys, config, policy, token, &header).await {
            Ok(verified) => return Ok(verified),
            Err(err) => last = err,
        }
    }
    Err(last)
}

async fn check(
    keys: &KeyCache,
    config: &EmulatorConfig,
    policy: &FederationPolicy,
    token: &str,
    header: &jsonwebtoken::Header,
) -> Result<Verified, ApiError> {
    let set = keys.keys_for(policy, header.kid.as_deref()).await?;
    let keys: Vec<_> = match header.kid.as_deref() {
        Some(kid) => set.find(kid).into_iter().collect(),
        None => set.keys.iter().collect(),
    };
    if keys.is_empty() {
        return Err(denied(
            "no key in the issuer's JWKS matches the token's kid",
        ));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[policy.issuer.as_str(), policy.issuer.trim_end_matches('/')]);
    let audiences = if policy.audiences.is_empty() {
        vec![config.account_id.clone()]
    } else {
        policy.audiences.clone()
    };
    validation.set_audience(&audiences);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.leeway = 5;
    let mut last = denied("signature verification failed");
    for jwk in keys {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match jsonwebtoken::decode::<Value>(token, &key, &validation) {
            Ok(data) => {
                let claims = data.claims;
                let subject = claims
                    .get(&policy.subject_claim)
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        denied(format!(
                            "subject_token has no '{}' claim",
                            policy.subject_claim
                        ))
                    })?;
                if let Some(required) = &policy.subject
                    && required != subject
                {
                    return Err(denied(format!(
                        "subject '{subject}' is not allowed by the federation policy"
                    )));
                }
                let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                let (principal, kind) = match &policy.service_principal {
                    Some(sp) => (sp.clone(), PrincipalKind::ServicePrincipal),
                    None => (subject.to_owned(), PrincipalKind::User),
                };
                return Ok(Verified {
                    principal,
                    kind,
                    expires_at_ms: exp.saturating_mul(1000),
                });
            }
            Err(err) => last = denied(format!("subject_token rejected: {err}")),
        }
    }
    Err(last)
}
