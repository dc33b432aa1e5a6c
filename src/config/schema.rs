//! The shape of `mortar.yaml`: every section and field, their defaults,
//! and how credential references are written. Checks the types alone
//! cannot express are in `validate`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ControllerConfig, NotificationConfig, SecretsConfig};

/// The whole controller config file. New sections are added as fields here.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Destination workspaces by name (the name manifests use in `destination.workspace`).
    #[serde(default)]
    pub workspaces: BTreeMap<String, WorkspaceConfig>,
    /// Where the manifests are read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceConfig>,
    /// Where Mortar keeps what it manages (the inventory).
    #[serde(default)]
    pub state: StateConfig,
    /// Where the audit trail goes.
    #[serde(default)]
    pub audit: AuditConfig,
    /// Which secret sources each project's secret scopes may read.
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// How the daemon paces itself (`mortar run`).
    #[serde(default)]
    pub controller: ControllerConfig,
    /// The daemon's HTTP side: webhooks, API, metrics and health.
    #[serde(default)]
    pub server: super::ServerConfig,
    /// Where app state changes are announced (Slack, signed webhooks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationConfig>,
}

/// The manifest source: a directory, or a local Git repository at a
/// revision, plus the file holding the root Application(s).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A directory read as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// A local Git repository read at `revision` (no checkout needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSourceConfig>,
    /// The root app file, relative to the manifest root; by default the
    /// Applications in the root's top-level files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// A local Git repository source.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GitSourceConfig {
    /// The repository (bare or not).
    pub repo: PathBuf,
    /// A branch, tag, commit SHA or `HEAD`.
    #[serde(default = "head_revision")]
    pub revision: String,
    /// The manifest root inside the repository (default: its top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn head_revision() -> String {
    "HEAD".to_string()
}

/// Where Mortar keeps its state.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The inventory directory (one JSON file per app). Relative paths are
    /// relative to the config file's directory.
    #[serde(default = "default_state_dir")]
    pub dir: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            dir: default_state_dir(),
        }
    }
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("state")
}

/// The audit trail: the hash-chained log of record plus further sinks.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The log of record (JSON lines, hash-chained); default
    /// `<state.dir>/audit.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Further destinations every record also goes to.
    #[serde(default)]
    pub sinks: Vec<AuditSinkConfig>,
}

/// One further audit destination.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuditSinkConfig {
    /// A second hash-chained log (e.g. on another volume).
    File(PathBuf),
    /// Each record as one JSON line on stderr (for a log collector).
    Stderr,
}

impl Config {
    /// The audit log of record.
    pub fn audit_file(&self) -> PathBuf {
        self.audit
            .file
            .clone()
            .unwrap_or_else(|| self.state.dir.join("audit.jsonl"))
    }
}

/// One destination workspace: where it is and how to authenticate to it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// The workspace URL, e.g. `https://adb-123.4.azuredatabricks.net`.
    pub host: String,
    pub auth: AuthConfig,
    /// Allow plain `http://` to a host that is not loopback. Off by default:
    /// credentials would cross the network in clear text.
    #[serde(default)]
    pub allow_insecure_http: bool,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub retry: RetryConfig,
}

/// How Mortar authenticates to a workspace.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthConfig {
    /// A personal access token (or any bearer token).
    Pat { token: SecretRef },
    /// OAuth machine-to-machine: a service principal's client id and secret
    /// exchanged at the workspace token endpoint (found by discovery).
    OauthM2m {
        client_id: ValueRef,
        client_secret: SecretRef,
    },
    /// Workload identity federation: a JWT from the organisation's identity
    /// provider exchanged at the workspace token endpoint (RFC 8693).
    OidcFederation {
        /// The service principal's application id; omitted for account-wide federation.
        #[serde(default)]
        client_id: Option<ValueRef>,
        /// A file holding the JWT (e.g. a Kubernetes projected service-account
        /// token), re-read on every exchange.
        #[serde(default)]
        token_file: Option<PathBuf>,
        /// Or: obtain the JWT from the IdP with the client-credentials grant.
        #[serde(default)]
        idp: Option<IdpConfig>,
    },
}

impl AuthConfig {
    /// The method's name as written in `method:`.
    pub fn method(&self) -> &'static str {
        match self {
            AuthConfig::Pat { .. } => "pat",
            AuthConfig::OauthM2m { .. } => "oauth-m2m",
            AuthConfig::OidcFederation { .. } => "oidc-federation",
        }
    }
}

/// The organisation's OpenID provider, for `oidc-federation` without a token file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdpConfig {
    /// The issuer URL; its `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: ValueRef,
    pub client_secret: SecretRef,
    /// The audience the workspace's federation policy expects, sent as the
    /// RFC 8707 `resource` parameter.
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Allow plain `http://` to an issuer that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// Where a secret is found. The value itself never appears in the config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// A file whose contents (trimmed) are the secret.
    File(PathBuf),
    /// An environment variable holding the secret.
    Env(String),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::File(path) => write!(f, "file {}", path.display()),
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// A value that is not secret (a client id): written inline, or a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ValueRef {
    Literal(String),
    Ref(SecretRef),
}

impl<'de> Deserialize<'de> for ValueRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, or `{file: PATH}` / `{env: NAME}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ValueRef, E> {
                Ok(ValueRef::Literal(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValueRef, E> {
                Ok(ValueRef::Literal(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ValueRef, A::Error> {
                SecretRef::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ValueRef::Ref)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Client-side limits for one workspace.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Requests per second for endpoints without their own budget.
    pub requests_per_second: f64,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Time allowed for one HTTP request, in seconds.
    pub request_timeout_secs: u64,
    /// Per-endpoint budgets (requests per second), keyed `"METHOD path-prefix"`
    /// where the path is what follows `/api/<version>/` (e.g. `"POST jobs/create"`,
    /// `"GET permissions/"`, `"* secrets/"`). Merged over the built-in defaults.
    pub endpoints: BTreeMap<String, f64>,
    /// Total time one call may take, every attempt, wait and token request included, in seconds.
    pub call_deadline_secs: u64,
    /// The largest API response body read, in bytes.
    pub max_response_bytes: u64,
    /// The largest `workspace/export` response body read, in bytes.
    pub max_export_bytes: u64,
    /// The largest token endpoint, discovery, JWKS or identity provider answer read, in bytes.
    pub max_auth_response_bytes: u64,
    /// Pages one paged list may take before it is abandoned.
    pub max_pages: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            requests_per_second: 30.0,
            max_concurrency: 8,
            request_timeout_secs: 60,
            endpoints: BTreeMap::new(),
            call_deadline_secs: 300,
            max_response_bytes: 32 << 20,
            max_export_bytes: 256 << 20,
            max_auth_response_bytes: 1 << 20,
            max_pages: 10_000,
        }
    }
}

/// Retry policy for one workspace.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first backoff; it doubles on each retry (with jitter).
    pub initial_backoff_ms: u64,
    /// The largest backoff (a `Retry-After` from the server may be longer).
    pub max_backoff_ms: u64,
    /// The longest `Retry-After` honored, in seconds; a longer one is cut to this.
    pub max_retry_after_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 8,
            initial_backoff_ms: 250,
            max_backoff_ms: 30_000,
            max_retry_after_secs: 120,
        }
    }
}
