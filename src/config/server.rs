//! The `server:` section of `mortar.yaml`: where the daemon listens for
//! webhooks and API reads, where it serves metrics and health probes, the
//! largest webhook body it reads, the shared secret of each Git
//! provider's webhooks (a provider without a secret has no webhook route),
//! and how callers of the API authenticate (`auth`, in [`super::auth`]).

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SecretRef;
use super::auth::ApiAuthConfig;

/// The daemon's HTTP side.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Webhooks and the read API.
    pub listen: SocketAddr,
    /// `/metrics`, `/healthz` and `/readyz`.
    pub metrics_listen: SocketAddr,
    /// The largest webhook body read, in bytes; a larger one is answered 413.
    pub max_body_bytes: u64,
    pub webhooks: WebhooksConfig,
    /// The OpenID provider people and bots authenticate with. Without it
    /// `listen` must be a loopback address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ApiAuthConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            webhooks: WebhooksConfig::default(),
            auth: None,
        }
    }
}

/// 1 MiB: GitHub caps its payloads at 25 MB, but a push of a few commits is
/// a few kilobytes.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1 << 20;

/// The largest `max_body_bytes` accepted: bodies are held in memory.
pub const MAX_BODY_BYTES_LIMIT: u64 = 64 << 20;

/// One optional entry per Git provider.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<HmacWebhook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<TokenWebhook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitea: Option<HmacWebhook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitbucket: Option<HmacWebhook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generic: Option<HmacWebhook>,
}

/// A provider that signs each body with HMAC-SHA256 under a shared secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HmacWebhook {
    pub secret: SecretRef,
}

/// A provider that sends a shared token in a header (GitLab).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenWebhook {
    pub token: SecretRef,
}

impl WebhooksConfig {
    /// Each configured provider's secret reference with its field name.
    pub fn secrets(&self) -> Vec<(&'static str, &SecretRef)> {
        let mut out = Vec::new();
        if let Some(w) = &self.github {
            out.push(("server.webhooks.github.secret", &w.secret));
        }
        if let Some(w) = &self.gitlab {
            out.push(("server.webhooks.gitlab.token", &w.token));
        }
        if let Some(w) = &self.gitea {
            out.push(("server.webhooks.gitea.secret", &w.secret));
        }
        if let Some(w) = &self.bitbucket {
            out.push(("server.webhooks.bitbucket.secret", &w.secret));
        }
        if let Some(w) = &self.generic {
            out.push(("server.webhooks.generic.secret", &w.secret));
        }
        out
    }

    fn secrets_mut(&mut self) -> Vec<&mut SecretRef> {
        let mut out = Vec::new();
        if let Some(w) = &mut self.github {
            out.push(&mut w.secret);
        }
        if let Some(w) = &mut self.gitlab {
            out.push(&mut w.token);
        }
        if let Some(w) = &mut self.gitea {
            out.push(&mut w.secret);
        }
        if let Some(w) = &mut self.bitbucket {
            out.push(&mut w.secret);
        }
        if let Some(w) = &mut self.generic {
            out.push(&mut w.secret);
        }
        out
    }
}

impl ServerConfig {
    /// Every secret the server reads, with its field name.
    pub fn secrets(&self) -> Vec<(&'static str, &SecretRef)> {
        let mut out = self.webhooks.secrets();
        if let Some(r) = self.auth.as_ref().and_then(|a| a.client_secret.as_ref()) {
            out.push(("server.auth.client_secret", r));
        }
        out
    }

    /// Makes relative secret file paths relative to `dir`.
    pub(super) fn resolve_paths(&mut self, dir: &Path) {
        let auth = self.auth.as_mut().and_then(ApiAuthConfig::secret_mut);
        for r in self.webhooks.secrets_mut().into_iter().chain(auth) {
            if let SecretRef::File(p) = r
                && p.is_relative()
            {
                *p = dir.join(&*p);
            }
        }
    }

    /// Checks what the types cannot: `(field, message)` on failure.
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        if self.max_body_bytes == 0 || self.max_body_bytes > MAX_BODY_BYTES_LIMIT {
            return Err((
                "server.max_body_bytes".into(),
                format!("between 1 and {MAX_BODY_BYTES_LIMIT} bytes"),
            ));
        }
        if self.listen == self.metrics_listen && self.listen.port() != 0 {
            return Err((
                "server.metrics_listen".into(),
                "must differ from `server.listen`".into(),
            ));
        }
        if self.auth.is_none() && !self.listen.ip().is_loopback() {
            return Err((
                "server.listen".into(),
                format!(
                    "{} is reachable beyond this host, and without `server.auth` anyone reaching it could sync, roll back and pause apps; set `server.auth` (an OpenID provider) or listen on 127.0.0.1",
                    self.listen
                ),
            ));
        }
        if let Some(auth) = &self.auth {
            auth.check()?;
        }
        for (field, r) in self.secrets() {
            match r {
                SecretRef::File(p) if p.as_os_str().is_empty() => {
                    return Err((format!("{field}.file"), "empty path".into()));
                }
                SecretRef::Env(n) if n.is_empty() => {
                    return Err((format!("{field}.env"), "empty variable name".into()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::{Config, ConfigError};

    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("mortar.yaml"))
    }

    #[test]
    fn defaults_listen_on_loopback_with_no_webhooks() {
        let config = parse("").expect("empty config");
        let server = &config.server;
        assert_eq!(server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(server.metrics_listen.to_string(), "127.0.0.1:9090");
        assert_eq!(server.max_body_bytes, 1 << 20);
        assert!(server.webhooks.secrets().is_empty());
    }

    #[test]
    fn without_sign_in_the_api_listens_on_loopback_only() {
        let err = parse("server: { listen: 0.0.0.0:8080 }\n").unwrap_err();
        let text = crate::error_chain::error_chain(&err);
        assert!(text.contains("`server.listen`"), "{text}");
        assert!(text.contains("set `server.auth`"), "{text}");
        parse("server: { listen: '[::1]:8080', metrics_listen: 0.0.0.0:9090 }\n")
            .expect("loopback API, metrics anywhere");
    }

    #[test]
    fn reads_listeners_and_provider_secrets() {
        let config = parse(
            r#"
server:
  listen: 0.0.0.0:8080
  metrics_listen: "[::]:9090"
  max_body_bytes: 65536
  auth: { issuer: "https://idp.example.com", audiences: [mortar] }
  webhooks:
    github: { secret: { file: /run/secrets/github } }
    gitlab: { token: { env: GITLAB_TOKEN } }
    generic: { secret: { env: HOOK } }
"#,
        )
        .expect("valid");
        let server = &config.server;
        assert_eq!(server.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(server.metrics_listen.to_string(), "[::]:9090");
        assert_eq!(server.max_body_bytes, 65536);
        assert_eq!(
            server.webhooks.secrets(),
            vec![
                (
                    "server.webhooks.github.secret",
                    &SecretRef::File(PathBuf::from("/run/secrets/github"))
                ),
                (
                    "server.webhooks.gitlab.token",
                    &SecretRef::Env("GITLAB_TOKEN".into())
                ),
                (
                    "server.webhooks.generic.secret",
                    &SecretRef::Env("HOOK".into())
                ),
            ]
        );
        assert!(server.webhooks.gitea.is_none());
    }

    #[test]
    fn bad_values_name_their_field() {
        for (text, field) in [
            ("server: { max_body_bytes: 0 }\n", "server.max_body_bytes"),
            (
                "server: { listen: 127.0.0.1:7000, metrics_listen: 127.0.0.1:7000 }\n",
                "server.metrics_listen",
            ),
            (
                "server: { webhooks: { gitea: { secret: { env: \"\" } } } }\n",
                "server.webhooks.gitea.secret.env",
            ),
        ] {
            match parse(text) {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{text}: expected an invalid field, got {other:?}"),
            }
        }
        // A GitLab webhook takes a token, not a secret; an address must parse.
        for text in [
            "server: { webhooks: { gitlab: { secret: { env: X } } } }\n",
            "server: { listen: localhost }\n",
        ] {
            assert!(
                matches!(parse(text), Err(ConfigError::Parse { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn relative_secret_files_follow_the_config_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("mortar.yaml");
        std::fs::write(
            &file,
            "server: { webhooks: { bitbucket: { secret: { file: hooks/bb } } } }\n",
        )
        .expect("write");
        let config = Config::load(&file).expect("load");
        assert_eq!(
            config.server.webhooks.secrets()[0].1,
            &SecretRef::File(dir.path().join("hooks/bb"))
        );
    }
}
