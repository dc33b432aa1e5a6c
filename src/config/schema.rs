//! The shape of `mortar.yaml`: every section and field, their defaults,
//! and how credential references are written. Checks the types alone
//! cannot express are in `validate`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::duration::parse_duration;
use super::{ControllerConfig, KubernetesConfig, NotificationConfig, SecretsConfig};

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
    /// Running in a cluster: Leases, shards, Events, Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesConfig>,
}

/// The manifest source: a directory, or a Git repository at a revision,
/// plus the file holding the root Application(s).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A directory read as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// A Git repository (remote or local) read at `revision` (no checkout needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSourceConfig>,
    /// The root app file, relative to the manifest root; by default the
    /// Applications in the root's top-level files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// A Git repository source: a remote (https, ssh, `file://`) fetched into a
/// mirror under the state directory, or a local repository read in place.
#[derive(Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GitSourceConfig {
    /// `https://host/org/repo.git`, `ssh://user@host[:port]/path`,
    /// `user@host:path`, `file:///path` or a local path (bare or not;
    /// relative to the config file's directory).
    pub repo: String,
    /// A branch, tag, full commit SHA or `HEAD` (the remote's default branch).
    #[serde(default = "head_revision")]
    pub revision: String,
    /// The manifest root inside the repository (default: its top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How often the controller fetches, e.g. `30s`, `5m`, `1h`.
    #[serde(default = "default_interval")]
    pub interval: String,
    /// The longest one fetch may take.
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// The credential for the remote: a username and password (https; a
    /// token goes in `password`) or an SSH key and known hosts (ssh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<GitAuthConfig>,
    /// Accept only commits signed by one of these keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<GitVerifyConfig>,
    /// Allow plain `http://` to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// The default poll interval.
pub const DEFAULT_GIT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(180);
/// The default time allowed for one fetch.
pub const DEFAULT_GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn head_revision() -> String {
    "HEAD".to_string()
}

fn default_interval() -> String {
    "3m".to_string()
}

fn default_timeout() -> String {
    "60s".to_string()
}

/// How a repository is reached, from the form of `repo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitTransport {
    /// A path on this machine, read in place.
    Local,
    /// A `file://` URL.
    File,
    Http,
    Https,
    /// `ssh://…` or scp-style `user@host:path`.
    Ssh,
}

impl GitTransport {
    /// The transport `repo` names; `Err` for a scheme Mortar does not speak.
    pub fn of(repo: &str) -> Result<GitTransport, String> {
        if let Some((scheme, _)) = repo.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "https" => Ok(GitTransport::Https),
                "http" => Ok(GitTransport::Http),
                "ssh" => Ok(GitTransport::Ssh),
                "file" => Ok(GitTransport::File),
                other => Err(format!(
                    "scheme `{other}` is not supported; use https://, ssh://, user@host:path, file:// or a local path"
                )),
            };
        }
        // Like git: a `:` before any `/` makes `[user@]host:path` an SSH location.
        match (repo.find(':'), repo.find('/')) {
            (Some(colon), slash) if colon > 0 && slash.is_none_or(|s| colon < s) => {
                Ok(GitTransport::Ssh)
            }
            _ => Ok(GitTransport::Local),
        }
    }

    /// True when the repository is fetched over the network.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            GitTransport::Http | GitTransport::Https | GitTransport::Ssh
        )
    }
}

impl GitSourceConfig {
    /// A source reading `repo` at `revision`, with every other field at its default.
    pub fn new(repo: impl Into<String>, revision: impl Into<String>) -> GitSourceConfig {
        GitSourceConfig {
            repo: repo.into(),
            revision: revision.into(),
            path: None,
            interval: default_interval(),
            timeout: default_timeout(),
            auth: None,
            verify: None,
            allow_insecure_http: false,
        }
    }

    /// How `repo` is reached (checked when the config is loaded).
    pub fn transport(&self) -> GitTransport {
        GitTransport::of(&self.repo).unwrap_or(GitTransport::Local)
    }

    /// The poll interval (checked when the config is loaded).
    pub fn poll_interval(&self) -> std::time::Duration {
        parse_duration(&self.interval).unwrap_or(DEFAULT_GIT_INTERVAL)
    }

    /// The time allowed for one fetch (checked when the config is loaded).
    pub fn fetch_timeout(&self) -> std::time::Duration {
        parse_duration(&self.timeout).unwrap_or(DEFAULT_GIT_TIMEOUT)
    }
}

impl fmt::Debug for GitSourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `repo` may carry userinfo; only its safe form is shown.
        f.debug_struct("GitSourceConfig")
            .field("repo", &redact_userinfo(&self.repo))
            .field("revision", &self.revision)
            .field("path", &self.path)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("auth", &self.auth)
            .field("verify", &self.verify)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// `repo` with any password in a URL's userinfo replaced by `***`.
pub fn redact_userinfo(repo: &str) -> String {
    match url::Url::parse(repo) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => repo.to_string(),
    }
}

/// The credential for a Git remote. Which fields belong together is checked
/// when the config is loaded: `username` + `password` for https,
/// `ssh_key` + `known_hosts` for ssh.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GitAuthConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<ValueRef>,
    /// The password or access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// A private key file (OpenSSH or PEM format, without passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<PathBuf>,
    /// The host keys the server may present, in OpenSSH `known_hosts`
    /// format (hashed entries work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<PathBuf>,
}

/// Which keys may sign the commits Mortar accepts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GitVerifyConfig {
    /// An OpenSSH `allowed_signers` file (as for `gpg.ssh.allowedSignersFile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_allowed_signers: Option<PathBuf>,
    /// A file of ASCII-armored OpenPGP public keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openpgp_keys: Option<PathBuf>,
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
    /// Each sealed record as one JSON line on stderr (for a log collector).
    Stderr,
    /// Each sealed record as one JSON line on stdout (for a log collector).
    Stdout,
    /// Each sealed record POSTed, signed, to an audit service.
    Webhook(AuditWebhookConfig),
}

/// A signed webhook every sealed audit record is posted to, in order, from
/// a bounded queue (the log of record keeps what the queue drops).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditWebhookConfig {
    /// The receiver's URL, inline or by reference (its path may be a token).
    pub url: ValueRef,
    /// The key of the `X-Mortar-Signature` HMAC-SHA256 over the body.
    /// Required: an audit trail nobody can forge.
    pub secret: SecretRef,
    /// Time allowed for one request, in seconds.
    #[serde(default = "default_audit_webhook_timeout")]
    pub timeout_secs: u64,
    /// Attempts per record, the first included.
    #[serde(default = "default_audit_webhook_attempts")]
    pub max_attempts: u32,
    /// Records waiting to be sent; when full, the oldest is dropped.
    #[serde(default = "default_audit_webhook_queue")]
    pub queue: usize,
    /// Allow plain `http://` to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_audit_webhook_timeout() -> u64 {
    10
}

fn default_audit_webhook_attempts() -> u32 {
    8
}

fn default_audit_webhook_queue() -> usize {
    10_000
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
    /// A key of a Kubernetes Secret in `kubernetes.namespace`, read through
    /// the cluster's API and re-read when it changes.
    Secret(SecretKeyRef),
}

/// A key of a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::File(path) => write!(f, "file {}", path.display()),
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
            SecretRef::Secret(s) => write!(f, "Kubernetes Secret {}, key {}", s.name, s.key),
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
                f.write_str(
                    "a string, or `{file: PATH}` / `{env: NAME}` / `{secret: {name: NAME, key: KEY}}`",
                )
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
