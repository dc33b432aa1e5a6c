//! Bearer-token authentication: static tokens from the configuration, OAuth
//! access tokens issued by `/oidc/v1/token` (they expire), and personal access
//! tokens created through the token API. Resolves each request to a caller.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::{HeaderMap, header};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::config::EmulatorConfig;
use crate::errors::ApiError;
use crate::http::now_ms;
use crate::model::{Grant, PrincipalKind};
use crate::state::Store;

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `userName`, or the application id of a service principal.
    pub name: String,
    /// User or service principal.
    pub kind: PrincipalKind,
    /// Member of the `admins` group.
    pub admin: bool,
}

impl Caller {
    /// Fails with 403 unless the caller is a workspace admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::denied(format!(
                "{} is not a workspace admin and cannot perform this operation.",
                self.name
            )))
        }
    }
}

/// Accepted tokens that are not stored in the workspace state.
pub struct Tokens {
    fixed: HashMap<String, Grant>,
    issued: RwLock<HashMap<String, Grant>>,
}

impl Tokens {
    /// Static tokens from the configuration.
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut fixed = HashMap::new();
        for token in config.admin_tokens() {
            fixed.insert(
                token.expose().to_owned(),
                Grant {
                    name: config.admin_user.clone(),
                    kind: PrincipalKind::User,
                    expires_at_ms: None,
                },
            );
        }
        for user in &config.users {
            fixed.insert(
                user.token.expose().to_owned(),
                Grant {
                    name: user.user_name.clone(),
                    kind: PrincipalKind::User,
                    expires_at_ms: None,
                },
            );
        }
        Tokens {
            fixed,
            issued: RwLock::new(HashMap::new()),
        }
    }

    /// Issues an OAuth access token for `grant`.
    pub fn issue(&self, grant: Grant) -> String {
        let token = format!("dkea{}", random_hex(32));
        let now = now_ms();
        let mut issued = self.issued.write().unwrap_or_else(|e| e.into_inner());
        issued.retain(|_, g| g.expires_at_ms.is_none_or(|exp| exp > now));
        issued.insert(token.clone(), grant);
        token
    }

    fn lookup(&self, token: &str) -> Option<Grant> {
        if let Some(grant) = self.fixed.get(token) {
            return Some(grant.clone());
        }
        self.issued
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }
}

/// Random lowercase hex of `bytes` bytes.
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

/// SHA-256 of a token value, hex-encoded (the state file never holds tokens).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Resolves the bearer token of a request to its caller.
pub fn authenticate(
    tokens: &Tokens,
    store: &Store,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "Credential was not sent or was of an unsupported type for this API.",
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "Credential was not sent or was of an unsupported type for this API.",
            )
        })?;
    let now = now_ms();
    let grant = match tokens.lookup(token) {
        Some(grant) => grant,
        None => {
            let hash = token_hash(token);
            store
                .read(|ws| {
                    let id = ws.index.token_hashes.get(&hash)?;
                    let record = ws.tokens.get(id)?;
                    Some(record.grant())
                })
                .ok_or_else(|| ApiError::unauthenticated("Invalid access token."))?
        }
    };
    if grant.expires_at_ms.is_some_and(|exp| exp <= now) {
        return Err(ApiError::unauthenticated("Token is expired."));
    }
    let admin = store.read(|ws| ws.is_admin(&grant.name, grant.kind));
    Ok(Caller {
        name: grant.name,
        kind: grant.kind,
        admin,
    })
}
