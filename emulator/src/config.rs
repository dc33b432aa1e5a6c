//! Emulator configuration: the Rust struct used in-process and the YAML file
//! (`mortar emulator --config FILE`) that declares identities, OAuth clients
//! and token-federation policies, with the fault kinds and JWKS shape it
//! validates. Imports only `errors`: the services are built from it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::EmulatorError;

/// The token accepted when none is configured.
pub const DEFAULT_TOKEN: &str = "dapi-mortar-emulator";
/// The workspace administrator every static token acts as.
pub const DEFAULT_ADMIN: &str = "admin@example.com";

/// A secret string: compared and used, never printed by `Debug`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A personal access token bound to a named user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserToken {
    /// The user's `userName` (an e-mail address).
    pub user_name: String,
    /// The bearer token this user presents.
    pub token: Secret,
    /// Whether the user belongs to the `admins` group.
    #[serde(default)]
    pub admin: bool,
}

/// An OAuth client for the client-credentials (M2M) grant. The client id is
/// the application id of the service principal it acts as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    /// Client id = service principal application id.
    pub client_id: String,
    /// Client secret presented with HTTP Basic.
    pub client_secret: Secret,
    /// Display name of the service principal (defaults to the client id).
    #[serde(default)]
    pub service_principal: Option<String>,
    /// Whether the service principal belongs to the `admins` group.
    #[serde(default = "yes")]
    pub admin: bool,
}

fn yes() -> bool {
    true
}

fn default_subject_claim() -> String {
    "sub".to_owned()
}

/// A token-federation policy: which external JWTs may be exchanged for a
/// workspace token (RFC 8693) and whom they act as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationPolicy {
    /// Required `iss` claim; keys come from `<issuer>/.well-known/openid-configuration`
    /// unless `jwks` is given.
    pub issuer: String,
    /// Accepted `aud` values (any one must match). Empty means the workspace's
    /// account id.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Required value of `subject_claim` (unset accepts any subject).
    #[serde(default)]
    pub subject: Option<String>,
    /// Claim holding the subject (default `sub`).
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    /// Inline JWKS (a YAML mapping or a JSON string).
    #[serde(default)]
    pub jwks: Option<Value>,
    /// Application id of the service principal the exchanged token acts as;
    /// unset means account-wide federation where the subject is a user name.
    #[serde(default)]
    pub service_principal: Option<String>,
}

/// Everything the emulator can be told at start.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Tokens accepted for the administrator (`admin_user`). When empty,
    /// [`DEFAULT_TOKEN`] is accepted.
    pub tokens: Vec<Secret>,
    /// User name of the workspace administrator.
    pub admin_user: String,
    /// Additional users with their tokens.
    pub users: Vec<UserToken>,
    /// OAuth M2M clients.
    pub oauth_clients: Vec<OAuthClient>,
    /// Token-federation policies.
    pub federation_policies: Vec<FederationPolicy>,
    /// Added to every API response.
    pub latency: Duration,
    /// Per-endpoint rate limiting: requests/s for endpoints without a
    /// published limit; published limits apply as documented. `None` = off.
    pub rate_limit: Option<f64>,
    /// Overrides of the per-endpoint limits, keyed by endpoint class.
    pub rate_limits: BTreeMap<String, f64>,
    /// Probability (0..=1) that an API request gets an injected fault.
    pub fault_rate: f64,
    /// Which faults may be injected (all when empty).
    pub fault_kinds: Vec<FaultKind>,
    /// Seed for fault injection and generated ids.
    pub seed: Option<u64>,
    /// Durable state file; in memory only when `None`.
    pub state_file: Option<PathBuf>,
    /// Lifetime of OAuth access tokens.
    pub oauth_token_ttl: Duration,
    /// How long clusters stay PENDING and warehouses STARTING.
    pub transition_delay: Duration,
    /// The workspace id advertised by discovery.
    pub workspace_id: String,
    /// The account id (default audience of federation policies).
    pub account_id: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tokens: Vec::new(),
            admin_user: DEFAULT_ADMIN.to_owned(),
            users: Vec::new(),
            oauth_clients: Vec::new(),
            federation_policies: Vec::new(),
            latency: Duration::ZERO,
            rate_limit: None,
            rate_limits: BTreeMap::new(),
            fault_rate: 0.0,
            fault_kinds: Vec::new(),
            seed: None,
            state_file: None,
            oauth_token_ttl: Duration::from_secs(3600),
            transition_delay: Duration::from_millis(300),
            workspace_id: "900800700600".to_owned(),
            account_id: "00000000-0000-4000-8000-00000000ac01".to_owned(),
        }
    }
}

/// The YAML file format; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    tokens: Vec<Secret>,
    #[serde(default)]
    admin_user: Option<String>,
    #[serde(default)]
    users: Vec<UserToken>,
    #[serde(default)]
    oauth_clients: Vec<OAuthClient>,
    #[serde(default)]
    federation_policies: Vec<FederationPolicy>,
    #[serde(default)]
    latency_ms: Option<u64>,
    #[serde(default)]
    rate_limit: Option<f64>,
    #[serde(default)]
    rate_limits: BTreeMap<String, f64>,
    #[serde(default)]
    fault_rate: Option<f64>,
    #[serde(default)]
    fault_kinds: Vec<FaultKind>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    oauth_token_ttl_secs: Option<u64>,
    #[serde(default)]
    transition_ms: Option<u64>,
    #[serde(default)]
    workspace_id: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
}

impl EmulatorConfig {
    /// Merges a YAML config file into `self` (file values replace defaults;
    /// list entries are appended).
    pub fn load_file(&mut self, path: &Path) -> Result<(), EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        let file: ConfigFile =
            serde_saphyr::from_str(&text).map_err(|err| EmulatorError::ConfigInvalid {
                path: path.to_owned(),
                field: "(document)".to_owned(),
                message: err.to_string(),
            })?;
        self.tokens.extend(file.tokens);
        if let Some(admin) = file.admin_user {
            self.admin_user = admin;
        }
        self.users.extend(file.users);
        self.oauth_clients.extend(file.oauth_clients);
        self.federation_policies.extend(file.federation_policies);
        if let Some(ms) = file.latency_ms {
            self.latency = Duration::from_millis(ms);
        }
        if file.rate_limit.is_some() {
            self.rate_limit = file.rate_limit;
        }
        self.rate_limits.extend(file.rate_limits);
        if let Some(rate) = file.fault_rate {
            self.fault_rate = rate;
        }
        self.fault_kinds.extend(file.fault_kinds);
        if file.seed.is_some() {
            self.seed = file.seed;
        }
        if let Some(secs) = file.oauth_token_ttl_secs {
            self.oauth_token_ttl = Duration::from_secs(secs);
        }
        if let Some(ms) = file.transition_ms {
            self.transition_delay = Duration::from_millis(ms);
        }
        if let Some(id) = file.workspace_id {
            self.workspace_id = id;
        }
        if let Some(id) = file.account_id {
            self.account_id = id;
        }
        self.validate()
            .map_err(|(field, message)| EmulatorError::ConfigInvalid {
                path: path.to_owned(),
                field,
                message,
            })
    }

    /// Checks the configuration; the error names the offending field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: String, message: &str| Err((field, message.to_owned()));
        for (i, token) in self.tokens.iter().enumerate() {
            if token.expose().is_empty() {
                return bad(format!("tokens[{i}]"), "must not be empty");
            }
        }
        if self.admin_user.is_empty() {
            return bad("admin_user".into(), "must not be empty");
        }
        for (i, user) in self.users.iter().enumerate() {
            if user.user_name.is_empty() {
                return bad(format!("users[{i}].user_name"), "must not be empty");
            }
            if user.token.expose().is_empty() {
                return bad(format!("users[{i}].token"), "must not be empty");
            }
        }
        for (i, client) in self.oauth_clients.iter().enumerate() {
            if client.client_id.is_empty() {
                return bad(format!("oauth_clients[{i}].client_id"), "must not be empty");
            }
            if client.client_secret.expose().is_empty() {
                return bad(
                    format!("oauth_clients[{i}].client_secret"),
                    "must not be empty",
                );
            }
        }
        for (i, policy) in self.federation_policies.iter().enumerate() {
            if url::Url::parse(&policy.issuer).is_err() {
                return bad(
                    format!("federation_policies[{i}].issuer"),
                    "must be an absolute URL",
                );
            }
            if policy.subject_claim.is_empty() {
                return bad(
                    format!("federation_policies[{i}].subject_claim"),
                    "must not be empty",
                );
            }
            if let Some(jwks) = &policy.jwks
                && parse_jwks(jwks).is_err()
            {
                return bad(
                    format!("federation_policies[{i}].jwks"),
                    "is not a JSON Web Key Set ({\"keys\": [...]})",
                );
            }
        }
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return bad("fault_rate".into(), "must be between 0 and 1");
        }
        if let Some(rps) = self.rate_limit
            && rps <= 0.0
        {
            return bad("rate_limit".into(), "must be positive");
        }
        for (class, rps) in &self.rate_limits {
            if *rps <= 0.0 {
                return bad(format!("rate_limits.{class}"), "must be positive");
            }
        }
        Ok(())
    }

    /// The tokens the administrator is accepted with (the default token when
    /// none is configured).
    pub fn admin_tokens(&self) -> Vec<Secret> {
        if self.tokens.is_empty() {
            vec![Secret::new(DEFAULT_TOKEN)]
        } else {
            self.tokens.clone()
        }
    }
}

/// A kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 500 `INTERNAL_ERROR`.
    #[serde(rename = "error_500")]
    Error500,
    /// 503 `TEMPORARILY_UNAVAILABLE` with `Retry-After: 1`.
    #[serde(rename = "error_503")]
    Error503,
    /// 429 `REQUEST_LIMIT_EXCEEDED` with `Retry-After: 1`.
    Throttle,
    /// The socket is closed without a response.
    Drop,
    /// The answer is delayed by `slow_ms` before it is computed.
    Slow,
}

impl FaultKind {
    /// All kinds, in the order used to draw one.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Error500,
        FaultKind::Error503,
        FaultKind::Throttle,
        FaultKind::Drop,
        FaultKind::Slow,
    ];
}

/// Parses a JWKS given as a JSON object or as a JSON string.
pub fn parse_jwks(value: &Value) -> Result<JwkSet, String> {
    let parsed = match value {
        Value::String(text) => serde_json::from_str::<JwkSet>(text),
        other => serde_json::from_value::<JwkSet>(other.clone()),
    };
    parsed.map_err(|err| err.to_string())
}
