//! Bearer tokens: a JWT the organisation's IdP issued to a bot (client
//! credentials) or a person, checked against the IdP's published keys —
//! signature, algorithm allow-list, issuer, audience, expiry and not-before.
//! [`verify`] decides over plain data; [`Keys`] fetches the IdP's JWKS and
//! fetches it again when a token names a key it does not hold (the IdP
//! rotated), at most once per [`REFRESH_SPACING`].

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

use super::identity::{Identity, Proof};

/// The least time between two fetches of the JWKS: a flood of tokens
/// naming made-up keys costs the IdP one request per interval.
pub const REFRESH_SPACING: Duration = Duration::from_secs(5);

/// Keys are fetched again after this long even when every token names a
/// known one, so a key the IdP withdrew stops being accepted.
const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// The largest discovery document or JWKS read.
const MAX_DOCUMENT_BYTES: u64 = 1 << 20;

/// Why a bearer token was refused. Each variant is a bounded metric label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token names no key the IdP publishes")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by another issuer")]
    Issuer,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token lacks a required claim")]
    MissingClaim,
    #[error("the IdP's keys cannot be read: {0}")]
    KeysUnavailable(String),
}

impl BearerError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            BearerError::Malformed => "malformed",
            BearerError::Algorithm => "algorithm",
            BearerError::UnknownKey => "unknown_key",
            BearerError::Signature => "signature",
            BearerError::Expired => "expired",
            BearerError::NotYetValid => "not_yet_valid",
            BearerError::Issuer => "issuer",
            BearerError::Audience => "audience",
            BearerError::MissingClaim => "missing_claim",
            BearerError::KeysUnavailable(_) => "keys_unavailable",
        }
    }
}

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct Rules {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub algorithms: Vec<Algorithm>,
    pub groups_claim: String,
    /// Seconds of clock difference allowed on `exp` and `nbf`.
    pub leeway: u64,
}

impl Rules {
    /// Rules from the configured names; an unknown algorithm name is
    /// dropped (the config check refuses them before this).
    pub fn new(
        issuer: &str,
        audiences: Vec<String>,
        algorithms: &[String],
        groups_claim: &str,
        leeway: Duration,
    ) -> Rules {
        Rules {
            issuer: issuer.trim_end_matches('/').to_string(),
            audiences,
            algorithms: algorithms
                .iter()
                .filter_map(|a| Algorithm::from_str(a).ok())
                .collect(),
            groups_claim: groups_claim.to_string(),
            leeway: leeway.as_secs(),
        }
    }
}

/// The IdP's signing keys by `kid`.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: BTreeMap<String, (Jwk, DecodingKey)>,
}

impl KeySet {
    /// The usable keys of a JWKS document: signing keys with a `kid` whose
    /// parameters parse. Others are skipped, not fatal.
    pub fn from_document(doc: &Value) -> KeySet {
        let mut keys = BTreeMap::new();
        for raw in doc
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
                continue;
            };
            let signing = !matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            );
            let Some(kid) = jwk.common.key_id.clone().filter(|_| signing) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(&jwk) {
                keys.insert(kid, (jwk, key));
            }
        }
        KeySet { keys }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn get(&self, kid: &str) -> Option<&(Jwk, DecodingKey)> {
        self.keys.get(kid)
    }
}

/// The token's `kid`, when it is a JWT with an accepted algorithm: what
/// the caller needs to know to find its key.
pub fn key_id(token: &str, rules: &Rules) -> Result<String, BearerError> {
    let header = header(token)?;
    if !rules.algorithms.contains(&header.alg) {
        return Err(BearerError::Algorithm);
    }
    header.kid.ok_or(BearerError::UnknownKey)
}

fn header(token: &str) -> Result<jsonwebtoken::Header, BearerError> {
    // `alg: none` and other unknown algorithms fail to parse here: a
    // header that is JSON with an `alg` is refused for its algorithm.
    jsonwebtoken::decode_header(token).map_err(|_| {
        use base64::Engine as _;
        let names_alg = token
            .split('.')
            .next()
            .and_then(|h| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(h)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|h| h.get("alg").is_some_and(Value::is_string));
        if names_alg {
            BearerError::Algorithm
        } else {
            BearerError::Malformed
        }
    })
}

/// Verifies `token` with `keys` by `rules`, and returns who it names.
pub fn verify(token: &str, keys: &KeySet, rules: &Rules) -> Result<Identity, BearerError> {
    let kid = key_id(token, rules)?;
    let alg = header(token)?.alg;
    let (jwk, key) = keys.get(&kid).ok_or(BearerError::UnknownKey)?;
    if let Some(key_alg) = jwk.common.key_algorithm
        && key_alg.to_string() != format!("{alg:?}")
    {
        return Err(BearerError::Algorithm);
    }
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[&rules.issuer, &format!("{}/", rules.issuer)]);
    validation.set_audience(&rules.audiences);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = rules.leeway;
    let data =
        jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => BearerError::Expired,
            ErrorKind::ImmatureSignature => BearerError::NotYetValid,
            ErrorKind::InvalidIssuer => BearerError::Issuer,
            ErrorKind::InvalidAudience => BearerError::Audience,
            ErrorKind::MissingRequiredClaim(_) => BearerError::MissingClaim,
            ErrorKind::InvalidAlgorithm => BearerError::Algorithm,
            ErrorKind::InvalidSignature => BearerError::Signature,
            _ => BearerError::Malformed,
        })?;
    Identity::from_claims(&data.claims, &rules.groups_claim, Proof::Bearer)
        .ok_or(BearerError::MissingClaim)
}

/// The IdP's keys as last fetched, fetched again when a token names an
/// unknown key or they are old.
pub struct Keys {
    http: reqwest::Client,
    rules: Rules,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    keys: KeySet,
    fetched: Option<Instant>,
}

impl Keys {
    pub fn new(http: reqwest::Client, rules: Rules) -> Keys {
        Keys {
            http,
            rules,
            held: Mutex::new(Held::default()),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Verifies `token`, fetching the keys first when it names one not
    /// held (and the last fetch is older than [`REFRESH_SPACING`]).
    pub async fn verify(&self, token: &str) -> Result<Identity, BearerError> {
        let kid = key_id(token, &self.rules)?;
        let mut held = self.held.lock().await;
        let stale = held.fetched.is_none_or(|t| t.elapsed() > KEYS_MAX_AGE);
        let unknown = held.keys.get(&kid).is_none();
        let may_fetch = held.fetched.is_none_or(|t| t.elapsed() >= REFRESH_SPACING);
        if stale || (unknown && may_fetch) {
            match self.fetch().await {
                Ok(keys) => {
                    tracing::info!(issuer = %self.rules.issuer, keys = keys.len(), "read the IdP's signing keys");
                    held.keys = keys;
                    held.fetched = Some(Instant::now());
                }
                Err(message) if held.keys.is_empty() => {
                    return Err(BearerError::KeysUnavailable(message));
                }
                Err(message) => {
                    tracing::warn!(issuer = %self.rules.issuer, error = %message, "cannot read the IdP's signing keys; keeping those held");
                }
            }
        }
        verify(token, &held.keys, &self.rules)
    }

    /// Reads the discovery document, checks its issuer, and reads the JWKS
    /// it points at.
    async fn fetch(&self) -> Result<KeySet, String> {
        let discovery = format!("{}/.well-known/openid-configuration", self.rules.issuer);
        let doc = self.get_json(&discovery).await?;
        let issuer = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
        if issuer.trim_end_matches('/') != self.rules.issuer {
            return Err(format!(
                "the discovery document names issuer `{issuer}`, not `{}`",
                self.rules.issuer
            ));
        }
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or("the discovery document has no jwks_uri")?;
        let jwks = self.get_json(jwks_uri).await?;
        Ok(KeySet::from_document(&jwks))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("{url}: {}", crate::error_chain::error_chain(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("{url}: HTTP {}", resp.status().as_u16()));
        }
        let body = crate::databricks::body::read_capped(resp, MAX_DOCUMENT_BYTES)
            .await
            .map_err(|e| format!("{url}: {}", crate::error_chain::error_chain(&e)))?;
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    // A throwaway Ed25519 key for these tests only (RFC 8037's example key).
    const ED_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn rules() -> Rules {
        Rules::new(
            "https://idp.example.com",
            vec!["mortar".into()],
            &["EdDSA".into(), "RS256".into()],
            "groups",
            Duration::from_secs(30),
        )
    }

    fn keys(kid: &str) -> KeySet {
        KeySet::from_document(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": ED_PUBLIC_X, "kid": kid, "use": "sig"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "shared"},
        ]}))
    }

    fn token(kid: &str, claims: Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        let key = EncodingKey::from_ed_pem(ED_PRIVATE_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn claims(extra: Value) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut base = json!({
            "iss": "https://idp.example.com", "aud": "mortar", "sub": "ci-bot",
            "exp": now + 300, "iat": now, "groups": ["deployers"],
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn a_good_token_names_its_subject_and_groups() {
        let id = verify(&token("k1", claims(json!({}))), &keys("k1"), &rules()).unwrap();
        assert_eq!(id.subject, "ci-bot");
        assert_eq!(id.groups, vec!["deployers"]);
        assert_eq!(id.proof, Proof::Bearer);
    }

    #[test]
    fn refuses_each_way_a_token_can_be_wrong() {
        let now = jsonwebtoken::get_current_timestamp();
        let k = keys("k1");
        let r = rules();
        let refused = |t: String| verify(&t, &k, &r).unwrap_err();
        assert_eq!(
            refused(token("k1", claims(json!({"aud": "someone-else"})))),
            BearerError::Audience
        );
        assert_eq!(
            refused(token(
                "k1",
                claims(json!({"iss": "https://evil.example.com"}))
            )),
            BearerError::Issuer
        );
        assert_eq!(
            refused(token("k1", claims(json!({"exp": now - 120})))),
            BearerError::Expired
        );
        assert_eq!(
            refused(token("k1", claims(json!({"nbf": now + 600})))),
            BearerError::NotYetValid
        );
        assert_eq!(
            refused(token("k2", claims(json!({})))),
            BearerError::UnknownKey
        );
        let mut no_sub = claims(json!({}));
        no_sub.as_object_mut().unwrap().remove("sub");
        assert_eq!(refused(token("k1", no_sub)), BearerError::MissingClaim);
        // A valid signature over other claims.
        let good = token("k1", claims(json!({})));
        let evil = token("k1", claims(json!({"sub": "admin"})));
        let parts: Vec<&str> = good.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            evil.split('.').nth(1).unwrap(),
            parts[2]
        );
        assert_eq!(refused(forged), BearerError::Signature);
        // `alg: none`, unsigned.
        let b64 = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
        let none = format!(
            "{}.{}.",
            b64(json!({"alg": "none", "kid": "k1"})),
            b64(claims(json!({})))
        );
        assert_eq!(refused(none), BearerError::Algorithm);
        // HS256 with the JWKS's shared key as the secret: not on the list.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("shared".into());
        let hs = jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(refused(hs), BearerError::Algorithm);
        assert_eq!(refused("not-a-jwt".into()), BearerError::Malformed);
    }
}
