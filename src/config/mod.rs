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

use std::path::{Path, PathBuf};

mod auth;
mod controller;
pub mod duration;
mod endpoint_key;
mod environment;
mod kubernetes;
mod notifications;
mod schema;
mod secret_values;
mod secrets;
mod server;
mod validate;

pub use auth::{ApiAuthConfig, DEFAULT_ALGORITHMS};
pub use controller::ControllerConfig;
pub use duration::{duration_text, parse_duration, show_duration};
pub use endpoint_key::EndpointKey;
pub use environment::{ENV_WORKSPACE, workspace_from_env};
pub use kubernetes::{KubernetesConfig, MAX_SHARDS, StateBackend, is_object_name};
pub use notifications::{
    EventKind, NotificationConfig, SlackTarget, WebhookTarget, check_notification_url, glob_match,
};
pub use schema::{
    AuditConfig, AuditSinkConfig, AuditWebhookConfig, AuthConfig, Config, DEFAULT_GIT_INTERVAL,
    DEFAULT_GIT_TIMEOUT, GitAuthConfig, GitSourceConfig, GitTransport, GitVerifyConfig, IdpConfig,
    LimitsConfig, RetryConfig, SecretKeyRef, SecretRef, SourceConfig, StateConfig, ValueRef,
    WorkspaceConfig, redact_userinfo,
};
pub use secret_values::{SecretLookupError, lookup as lookup_secret, set_secret};
pub use secrets::{ControllerCredentials, SecretAllowance, SecretsConfig};
pub use server::{HmacWebhook, ServerConfig, TokenWebhook, WebhooksConfig};
pub use validate::{check_url, is_loopback_host};

/// Why a config file (or the environment) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {file}")]
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

impl ConfigError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "read",
            ConfigError::Parse { .. } => "parse",
            ConfigError::Invalid { .. } => "invalid",
            ConfigError::Env(..) => "env",
        }
    }
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
        let shipped = parse(
            "audit:\n  sinks:\n    - stdout\n    - webhook: { url: { file: hook-url }, secret: { file: hook-key }, max_attempts: 3 }\n",
        )
        .unwrap();
        match &shipped.audit.sinks[1] {
            AuditSinkConfig::Webhook(hook) => {
                assert_eq!(hook.max_attempts, 3);
                assert_eq!((hook.timeout_secs, hook.queue), (10, 10_000));
                assert_eq!(hook.secret, SecretRef::File("hook-key".into()));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            parse("audit: { sinks: [{ webhook: { url: \"https://a.example.com\" } }] }\n").is_err(),
            "a webhook sink needs a secret"
        );
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
            (
                "audit: { sinks: [stdout, { webhook: { url: \"http://audit.example.com/in\", secret: { env: K } } }] }\n",
                "audit.sinks[1].webhook.url",
                "plain http",
            ),
            (
                "audit: { sinks: [{ webhook: { url: \"https://a.example.com\", secret: { env: K }, queue: 0 } }] }\n",
                "audit.sinks[0].webhook.queue",
                "at least 1",
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
