//! The controller config file, `mortar.yaml`: which workspaces Mortar manages
//! and how it authenticates to each, the client limits per workspace, where
//! the manifests come from (`source`), where the inventory lives (`state`)
//! and where the audit trail goes (`audit`).
//!
//! Credentials are never written in this file: it only says where to find
//! them (a file path or an environment variable). Every problem is reported
//! with the file and the field it is in. The SDK environment variables
//! (`DATABRICKS_HOST`, `DATABRICKS_TOKEN`, …) describe one workspace when no
//! config file names any.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

mod endpoint_key;
mod secrets;

pub use endpoint_key::EndpointKey;
pub use secrets::{ControllerCredentials, SecretAllowance, SecretsConfig};

/// The name given to the workspace described by `DATABRICKS_*` variables.
pub const ENV_WORKSPACE: &str = "default";

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

/// Why a config file (or the environment) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        file: PathBuf,
        field: String,
        message: String,
    },
    #[error("environment: {0}")]
    Env(String),
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse_unchecked(&text, file)?;
        if let Some(dir) = file.parent() {
            config.resolve_paths(dir);
        }
        config.validate(file)?;
        Ok(config)
    }

    /// Makes relative credential file paths relative to `dir` (the config
    /// file's directory) rather than to the working directory.
    pub fn resolve_paths(&mut self, dir: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        let fix_ref = |r: &mut SecretRef| {
            if let SecretRef::File(p) = r {
                fix(p);
            }
        };
        let fix_value = |v: &mut ValueRef| {
            if let ValueRef::Ref(SecretRef::File(p)) = v {
                fix(p);
            }
        };
        if let Some(source) = &mut self.source {
            if let Some(d) = &mut source.dir {
                fix(d);
            }
            if let Some(g) = &mut source.git {
                fix(&mut g.repo);
            }
        }
        fix(&mut self.state.dir);
        self.resolve_secret_paths(dir);
        if let Some(f) = &mut self.audit.file {
            fix(f);
        }
        for sink in &mut self.audit.sinks {
            if let AuditSinkConfig::File(p) = sink {
                fix(p);
            }
        }
        for ws in self.workspaces.values_mut() {
            match &mut ws.auth {
                AuthConfig::Pat { token } => fix_ref(token),
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    fix_value(client_id);
                    fix_ref(client_secret);
                }
                AuthConfig::OidcFederation {
                    client_id,
                    token_file,
                    idp,
                } => {
                    if let Some(id) = client_id {
                        fix_value(id);
                    }
                    if let Some(p) = token_file {
                        fix(p);
                    }
                    if let Some(idp) = idp {
                        fix_value(&mut idp.client_id);
                        fix_ref(&mut idp.client_secret);
                    }
                }
            }
        }
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let config = Config::parse_unchecked(text, file)?;
        config.validate(file)?;
        Ok(config)
    }

    /// Parses config text without the checks types cannot express.
    fn parse_unchecked(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_saphyr::from_str(text).map_err(|err| ConfigError::Parse {
                file: file.to_path_buf(),
                message: err.to_string(),
            })?
        };
        Ok(config)
    }

    /// Checks what the types alone cannot: URLs, names, one JWT source, limits.
    pub fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |field: String, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            field,
            message,
        };
        self.validate_sections(file)?;
        self.validate_secrets()
            .map_err(|(field, message)| invalid(field, message))?;
        for (name, ws) in &self.workspaces {
            let at = format!("workspaces.{name}");
            if !valid_name(name) {
                return Err(invalid(
                    at,
                    "workspace names use letters, digits, `-`, `_` and `.`".into(),
                ));
            }
            check_url(&ws.host, ws.allow_insecure_http, false)
                .map_err(|m| invalid(format!("{at}.host"), m))?;
            match &ws.auth {
                AuthConfig::Pat { token } => {
                    check_ref(token, &format!("{at}.auth.token")).map_err(|(f, m)| invalid(f, m))?
                }
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    check_value(client_id, &format!("{at}.auth.client_id"))
                        .map_err(|(f, m)| invalid(f, m))?;
                    check_ref(client_secret, &format!("{at}.auth.client_secret"))
                        .map_err(|(f, m)| invalid(f, m))?;
                }
                AuthConfig::OidcFederation {
                    client_id,
                    token_file,
                    idp,
                } => {
                    if let Some(id) = client_id {
                        check_value(id, &format!("{at}.auth.client_id"))
                            .map_err(|(f, m)| invalid(f, m))?;
                    }
                    match (token_file, idp) {
                        (Some(_), Some(_)) => {
                            return Err(invalid(
                                format!("{at}.auth"),
                                "give either `token_file` or `idp`, not both".into(),
                            ));
                        }
                        (None, None) => {
                            return Err(invalid(
                                format!("{at}.auth"),
                                "oidc-federation needs `token_file` (a JWT on disk) or `idp` (an OpenID provider to get one from)".into(),
                            ));
                        }
                        (Some(path), None) if path.as_os_str().is_empty() => {
                            return Err(invalid(
                                format!("{at}.auth.token_file"),
                                "empty path".into(),
                            ));
                        }
                        (_, Some(idp)) => {
                            check_url(&idp.issuer, idp.allow_insecure_http, true)
                                .map_err(|m| invalid(format!("{at}.auth.idp.issuer"), m))?;
                            check_value(&idp.client_id, &format!("{at}.auth.idp.client_id"))
                                .map_err(|(f, m)| invalid(f, m))?;
                            check_ref(&idp.client_secret, &format!("{at}.auth.idp.client_secret"))
                                .map_err(|(f, m)| invalid(f, m))?;
                        }
                        _ => {}
                    }
                }
            }
            let limits = &ws.limits;
            if !(limits.requests_per_second.is_finite() && limits.requests_per_second > 0.0) {
                return Err(invalid(
                    format!("{at}.limits.requests_per_second"),
                    "must be a positive number".into(),
                ));
            }
            if limits.max_concurrency == 0 {
                return Err(invalid(
                    format!("{at}.limits.max_concurrency"),
                    "must be at least 1".into(),
                ));
            }
            if limits.request_timeout_secs == 0 {
                return Err(invalid(
                    format!("{at}.limits.request_timeout_secs"),
                    "must be at least 1".into(),
                ));
            }
            for (field, value, max) in [
                ("call_deadline_secs", limits.call_deadline_secs, 86_400),
                ("max_response_bytes", limits.max_response_bytes, u64::MAX),
                ("max_export_bytes", limits.max_export_bytes, u64::MAX),
                (
                    "max_auth_response_bytes",
                    limits.max_auth_response_bytes,
                    u64::MAX,
                ),
                ("max_pages", limits.max_pages as u64, u64::MAX),
            ] {
                if value == 0 || value > max {
                    let message = if max == u64::MAX {
                        "must be at least 1".to_string()
                    } else {
                        format!("must be between 1 and {max}")
                    };
                    return Err(invalid(format!("{at}.limits.{field}"), message));
                }
            }
            for (key, rps) in &limits.endpoints {
                let field = format!("{at}.limits.endpoints.\"{key}\"");
                if !(rps.is_finite() && *rps > 0.0) {
                    return Err(invalid(field, "must be a positive number".into()));
                }
                if EndpointKey::parse(key).is_none() {
                    return Err(invalid(
                        field,
                        "keys are `METHOD path-prefix`, e.g. `POST jobs/create` or `* secrets/`"
                            .into(),
                    ));
                }
            }
            if ws.retry.max_attempts == 0 {
                return Err(invalid(
                    format!("{at}.retry.max_attempts"),
                    "must be at least 1".into(),
                ));
            }
            if ws.retry.max_retry_after_secs > 86_400 {
                return Err(invalid(
                    format!("{at}.retry.max_retry_after_secs"),
                    "must not exceed 86400 (one day)".into(),
                ));
            }
            if ws.retry.initial_backoff_ms > ws.retry.max_backoff_ms {
                return Err(invalid(
                    format!("{at}.retry.initial_backoff_ms"),
                    "must not exceed `max_backoff_ms`".into(),
                ));
            }
        }
        Ok(())
    }

    /// Checks `source`, `state` and `audit`.
    fn validate_sections(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: &str| ConfigError::Invalid {
            file: file.to_path_buf(),
            field: field.to_string(),
            message: message.to_string(),
        };
        let outside =
            |p: &str| p.trim().is_empty() || p.starts_with('/') || p.split('/').any(|s| s == "..");
        if let Some(source) = &self.source {
            match (&source.dir, &source.git) {
                (Some(_), Some(_)) => {
                    return Err(invalid("source", "give either `dir` or `git`, not both"));
                }
                (None, None) => {
                    return Err(invalid(
                        "source",
                        "needs `dir` (a directory) or `git` (a local repository: `repo`, `revision`)",
                    ));
                }
                (Some(d), None) if d.as_os_str().is_empty() => {
                    return Err(invalid("source.dir", "empty path"));
                }
                (None, Some(g)) => {
                    if g.repo.as_os_str().is_empty() {
                        return Err(invalid("source.git.repo", "empty path"));
                    }
                    if g.revision.trim().is_empty() {
                        return Err(invalid(
                            "source.git.revision",
                            "empty; give a branch, tag, commit or HEAD",
                        ));
                    }
                    if g.path.as_deref().is_some_and(outside) {
                        return Err(invalid(
                            "source.git.path",
                            "a relative path inside the repository, without `..`",
                        ));
                    }
                }
                _ => {}
            }
            if source.root.as_deref().is_some_and(outside) {
                return Err(invalid(
                    "source.root",
                    "a file relative to the manifest root, without `..`",
                ));
            }
        }
        if self.state.dir.as_os_str().is_empty() {
            return Err(invalid("state.dir", "empty path"));
        }
        if self
            .audit
            .file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid("audit.file", "empty path"));
        }
        for (i, sink) in self.audit.sinks.iter().enumerate() {
            if let AuditSinkConfig::File(p) = sink {
                let field = format!("audit.sinks[{i}].file");
                if p.as_os_str().is_empty() {
                    return Err(invalid(&field, "empty path"));
                }
                if *p == self.audit_file() {
                    return Err(invalid(
                        &field,
                        "is the audit log of record itself; name another file",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The configured workspaces, or the one the `DATABRICKS_*` environment
    /// variables describe (named [`ENV_WORKSPACE`]) when the file names none.
    pub fn workspaces_or_env(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<String, WorkspaceConfig>, ConfigError> {
        if !self.workspaces.is_empty() {
            return Ok(self.workspaces.clone());
        }
        let ws = workspace_from_env(env)?;
        Ok(BTreeMap::from([(ENV_WORKSPACE.to_string(), ws)]))
    }
}

/// The workspace described by the Databricks SDK environment variables:
/// `DATABRICKS_HOST` plus one of `DATABRICKS_TOKEN`,
/// `DATABRICKS_CLIENT_ID`+`DATABRICKS_CLIENT_SECRET`, or
/// `DATABRICKS_OIDC_TOKEN_FILEPATH` (with `DATABRICKS_CLIENT_ID` for a
/// service principal's federation policy). `DATABRICKS_AUTH_TYPE` picks one
/// when several are set.
pub fn workspace_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<WorkspaceConfig, ConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some(host) = get("DATABRICKS_HOST") else {
        return Err(ConfigError::Env(
            "no workspace configured: pass --config FILE with a `workspaces:` section, or set DATABRICKS_HOST and credentials (DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET or DATABRICKS_OIDC_TOKEN_FILEPATH)".into(),
        ));
    };
    let host = if host.contains("://") {
        host
    } else {
        format!("https://{host}")
    };
    let token_file =
        get("DATABRICKS_OIDC_TOKEN_FILEPATH").or_else(|| get("DATABRICKS_OIDC_TOKEN_FILE"));
    let client_id = get("DATABRICKS_CLIENT_ID");
    let pat = get("DATABRICKS_TOKEN").map(|_| AuthConfig::Pat {
        token: SecretRef::Env("DATABRICKS_TOKEN".into()),
    });
    let m2m = match (&client_id, get("DATABRICKS_CLIENT_SECRET")) {
        (Some(id), Some(_)) => Some(AuthConfig::OauthM2m {
            client_id: ValueRef::Literal(id.clone()),
            client_secret: SecretRef::Env("DATABRICKS_CLIENT_SECRET".into()),
        }),
        _ => None,
    };
    let oidc = token_file.map(|path| AuthConfig::OidcFederation {
        client_id: client_id.clone().map(ValueRef::Literal),
        token_file: Some(PathBuf::from(path)),
        idp: None,
    });
    let auth = match get("DATABRICKS_AUTH_TYPE").as_deref() {
        Some("pat") => pat,
        Some("oauth-m2m") => m2m,
        Some("file-oidc") | Some("oidc-federation") => oidc,
        Some(other) => {
            return Err(ConfigError::Env(format!(
                "DATABRICKS_AUTH_TYPE={other} is not supported; use pat, oauth-m2m or file-oidc"
            )));
        }
        None => {
            let found: Vec<AuthConfig> = [pat, m2m, oidc].into_iter().flatten().collect();
            if found.len() > 1 {
                let names: Vec<&str> = found.iter().map(AuthConfig::method).collect();
                return Err(ConfigError::Env(format!(
                    "more than one authentication method configured ({}); set DATABRICKS_AUTH_TYPE to pick one",
                    names.join(" and ")
                )));
            }
            found.into_iter().next()
        }
    };
    let Some(auth) = auth else {
        return Err(ConfigError::Env(
            "DATABRICKS_HOST is set but no credentials are: set DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or DATABRICKS_OIDC_TOKEN_FILEPATH".into(),
        ));
    };
    let ws = WorkspaceConfig {
        host,
        auth,
        allow_insecure_http: false,
        limits: LimitsConfig::default(),
        retry: RetryConfig::default(),
    };
    let config = Config {
        workspaces: BTreeMap::from([(ENV_WORKSPACE.to_string(), ws.clone())]),
        ..Config::default()
    };
    config
        .validate(Path::new("environment"))
        .map_err(|err| ConfigError::Env(err.to_string()))?;
    Ok(ws)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_ref(r: &SecretRef, field: &str) -> Result<(), (String, String)> {
    match r {
        SecretRef::File(p) if p.as_os_str().is_empty() => {
            Err((format!("{field}.file"), "empty path".into()))
        }
        SecretRef::Env(n) if n.is_empty() => {
            Err((format!("{field}.env"), "empty variable name".into()))
        }
        _ => Ok(()),
    }
}

fn check_value(v: &ValueRef, field: &str) -> Result<(), (String, String)> {
    match v {
        ValueRef::Literal(s) if s.trim().is_empty() => Err((field.into(), "empty".into())),
        ValueRef::Literal(_) => Ok(()),
        ValueRef::Ref(r) => check_ref(r, field),
    }
}

/// True for `localhost` and loopback addresses.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Checks a workspace or issuer URL: http(s), a host, nothing after it but
/// (for issuers) a path, and plain http only to loopback unless allowed.
pub fn check_url(raw: &str, allow_insecure_http: bool, path_allowed: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("`{raw}` has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback_host(host) => {}
        "http" => {
            return Err(format!(
                "`{raw}` uses plain http to a non-loopback host; credentials would travel unencrypted (use https, or set allow_insecure_http: true)"
            ));
        }
        other => return Err(format!("`{raw}`: scheme `{other}` is not http or https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{raw}`: credentials do not belong in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}`: no query or fragment allowed"));
    }
    if !path_allowed && url.path() != "/" && !url.path().is_empty() {
        return Err(format!(
            "`{raw}`: give the workspace host only, without a path"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("mortar.yaml"))
    }

    #[test]
    fn reads_all_three_auth_methods() {
        let config = parse(
            r#"
workspaces:
  prod:
    host: https://adb-1.azuredatabricks.net
    auth: { method: pat, token: { file: /run/secrets/pat } }
  staging:
    host: https://staging.cloud.databricks.com
    auth:
      method: oauth-m2m
      client_id: 7d8c-app
      client_secret: { env: STAGING_SECRET }
  k8s:
    host: https://k8s.cloud.databricks.com
    auth:
      method: oidc-federation
      client_id: { env: SP_ID }
      token_file: /var/run/secrets/tokens/databricks
    limits: { requests_per_second: 5, endpoints: { "POST jobs/create": 2 } }
"#,
        )
        .expect("valid config");
        assert_eq!(config.workspaces.len(), 3);
        assert_eq!(config.workspaces["prod"].auth.method(), "pat");
        assert_eq!(
            config.workspaces["staging"].auth,
            AuthConfig::OauthM2m {
                client_id: ValueRef::Literal("7d8c-app".into()),
                client_secret: SecretRef::Env("STAGING_SECRET".into()),
            }
        );
        let k8s = &config.workspaces["k8s"];
        assert_eq!(k8s.limits.requests_per_second, 5.0);
        assert_eq!(k8s.limits.max_concurrency, 8);
        assert!(matches!(
            &k8s.auth,
            AuthConfig::OidcFederation { client_id: Some(ValueRef::Ref(SecretRef::Env(v))), .. } if v == "SP_ID"
        ));
    }

    #[test]
    fn source_state_and_audit_sections() {
        let config = parse(
            r#"
source:
  git: { repo: ../platform.git, revision: v1.2, path: manifests }
  root: root.yaml
state: { dir: /var/lib/mortar }
audit:
  file: /var/log/mortar/audit.jsonl
  sinks: [stderr, { file: /mnt/worm/audit.jsonl }]
"#,
        )
        .unwrap();
        let source = config.source.as_ref().unwrap();
        let git = source.git.as_ref().unwrap();
        assert_eq!(git.revision, "v1.2");
        assert_eq!(git.path.as_deref(), Some("manifests"));
        assert_eq!(source.root.as_deref(), Some("root.yaml"));
        assert_eq!(
            config.audit_file(),
            PathBuf::from("/var/log/mortar/audit.jsonl")
        );
        assert_eq!(config.audit.sinks[0], AuditSinkConfig::Stderr);
        let mut relative = parse("source: { dir: manifests }\n").unwrap();
        assert_eq!(relative.audit_file(), PathBuf::from("state/audit.jsonl"));
        relative.resolve_paths(Path::new("/etc/mortar"));
        assert_eq!(
            relative.source.unwrap().dir,
            Some(PathBuf::from("/etc/mortar/manifests"))
        );
        assert_eq!(relative.state.dir, PathBuf::from("/etc/mortar/state"));
        assert_eq!(
            parse("source: { git: { repo: r } }\n")
                .unwrap()
                .source
                .unwrap()
                .git
                .unwrap()
                .revision,
            "HEAD"
        );
        for (text, field, message) in [
            ("source: {}\n", "source", "needs `dir`"),
            (
                "source: { dir: a, git: { repo: b } }\n",
                "source",
                "not both",
            ),
            (
                "source: { git: { repo: r, path: ../x } }\n",
                "source.git.path",
                "without `..`",
            ),
            (
                "source: { dir: a, root: /etc/x.yaml }\n",
                "source.root",
                "relative",
            ),
            ("state: { dir: \"\" }\n", "state.dir", "empty"),
            (
                "audit: { file: a.jsonl, sinks: [{ file: a.jsonl }] }\n",
                "audit.sinks[0].file",
                "log of record",
            ),
        ] {
            match parse(text) {
                Err(ConfigError::Invalid {
                    field: f,
                    message: m,
                    ..
                }) => {
                    assert_eq!(f, field, "{text}");
                    assert!(m.contains(message), "{text}: {m}");
                }
                other => panic!("{text}: expected an invalid field, got {other:?}"),
            }
        }
        assert!(matches!(
            parse("sources: {}\n"),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let err = parse("workspaces:\n  prod:\n    host: https://x.example\n    auth: { method: pat, tokn: { file: /x } }\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("mortar.yaml:"), "{err}");
        assert!(err.contains("tokn"), "{err}");
        assert!(err.contains("line 4"), "{err}");

        let err = parse("workspaces:\n  prod:\n    host: http://dbx.example.com\n    auth: { method: pat, token: { env: T } }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("field `workspaces.prod.host`"), "{err}");
        assert!(err.contains("plain http"), "{err}");

        let err = parse("workspaces:\n  prod:\n    host: https://x.example\n    auth: { method: oidc-federation, client_id: sp }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("workspaces.prod.auth"), "{err}");
        assert!(err.contains("token_file"), "{err}");

        let err = parse("workspaces:\n  prod:\n    host: https://x.example\n    auth: { method: pat, token: { env: T } }\n    limits: { endpoints: { \"jobs/create\": 3 } }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.endpoints"), "{err}");
    }

    #[test]
    fn relative_secret_files_are_relative_to_the_config_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("mortar.yaml");
        std::fs::write(
            &file,
            "workspaces:\n  w:\n    host: https://x.example\n    auth: { method: pat, token: { file: secrets/pat } }\n",
        )
        .expect("write");
        let config = Config::load(&file).expect("load");
        assert_eq!(
            config.workspaces["w"].auth,
            AuthConfig::Pat {
                token: SecretRef::File(dir.path().join("secrets/pat"))
            }
        );
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        assert!(check_url("http://127.0.0.1:8080", false, false).is_ok());
        assert!(check_url("http://localhost:8080", false, false).is_ok());
        assert!(check_url("http://[::1]:8080", false, false).is_ok());
        assert!(check_url("http://10.0.0.1", false, false).is_err());
        assert!(check_url("http://10.0.0.1", true, false).is_ok());
        assert!(check_url("https://x.example/api", false, false).is_err());
        assert!(check_url("https://user:pw@x.example", false, false).is_err());
        assert!(check_url("https://idp.example/realms/a", false, true).is_ok());
    }

    #[test]
    fn sdk_environment_variables_describe_one_workspace() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let ws = workspace_from_env(&vars(&[
            ("DATABRICKS_HOST", "adb-1.azuredatabricks.net"),
            ("DATABRICKS_TOKEN", "dapi"),
        ]))
        .expect("pat");
        assert_eq!(ws.host, "https://adb-1.azuredatabricks.net");
        assert_eq!(ws.auth.method(), "pat");

        let ws = workspace_from_env(&vars(&[
            ("DATABRICKS_HOST", "http://127.0.0.1:9"),
            ("DATABRICKS_CLIENT_ID", "sp"),
            ("DATABRICKS_OIDC_TOKEN_FILEPATH", "/tok"),
        ]))
        .expect("oidc");
        assert_eq!(ws.auth.method(), "oidc-federation");

        let err = workspace_from_env(&vars(&[
            ("DATABRICKS_HOST", "https://x.example"),
            ("DATABRICKS_TOKEN", "dapi"),
            ("DATABRICKS_CLIENT_ID", "sp"),
            ("DATABRICKS_CLIENT_SECRET", "s"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("more than one"), "{err}");

        let ws = workspace_from_env(&vars(&[
            ("DATABRICKS_HOST", "https://x.example"),
            ("DATABRICKS_TOKEN", "dapi"),
            ("DATABRICKS_CLIENT_ID", "sp"),
            ("DATABRICKS_CLIENT_SECRET", "s"),
            ("DATABRICKS_AUTH_TYPE", "oauth-m2m"),
        ]))
        .expect("auth type picks one");
        assert_eq!(ws.auth.method(), "oauth-m2m");

        assert!(workspace_from_env(&vars(&[])).is_err());
        assert!(workspace_from_env(&vars(&[("DATABRICKS_HOST", "https://x.example")])).is_err());
    }
}
