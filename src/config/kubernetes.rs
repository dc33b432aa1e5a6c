//! `kubernetes:` — running in a cluster: the namespace and identity the
//! controller uses there, the Leases that elect a leader and share the apps
//! among replicas, Events, and which Kubernetes Secrets the config's
//! `{ secret: { name, key } }` references read.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::duration_text;
use super::{AuthConfig, Config, SecretRef, ValueRef};

/// The largest number of shards.
pub const MAX_SHARDS: u32 = 1024;

/// How the controller runs in a cluster.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubernetesConfig {
    /// The namespace of its Leases, Events and Secrets. Default: the
    /// `POD_NAMESPACE` variable, else the service account's namespace file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// This replica's name in Leases and Events. Default: the `POD_NAME`
    /// variable, else the host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A kubeconfig file to reach the cluster with. Default: the pod's
    /// service account (in a cluster), else `KUBECONFIG` / `~/.kube/config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<PathBuf>,
    /// The prefix of the Lease names: `<lease>-shard-<i>` for each shard
    /// and `<lease>-member-<k>` for each replica slot, so a Role can name
    /// every Lease the controller may write.
    pub lease: String,
    /// How many shards the apps are spread over (by a stable hash of the
    /// app name); each shard is held by one replica at a time.
    pub shards: u32,
    /// The most replicas that share the apps at once (one member Lease
    /// each); a replica beyond it stands by until a slot frees.
    pub max_replicas: u32,
    /// How long a Lease stays held without renewal. A replica stops
    /// writing well before (at two thirds of it) when it cannot renew.
    #[serde(with = "duration_text")]
    pub lease_duration: Duration,
    /// Whether to record Events on the controller's own pod.
    pub events: bool,
    /// Where each app's inventory and the markers of creates in flight are
    /// kept: `configmaps` (one per app in the namespace, so the replica
    /// that takes a shard over finds them) or `files` under `state.dir`.
    pub state: StateBackend,
}

/// Where app state is kept in a cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    #[default]
    Configmaps,
    Files,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        KubernetesConfig {
            namespace: None,
            identity: None,
            kubeconfig: None,
            lease: "mortar".into(),
            shards: 1,
            max_replicas: 8,
            lease_duration: Duration::from_secs(15),
            events: true,
            state: StateBackend::Configmaps,
        }
    }
}

/// A Kubernetes object name: a DNS subdomain (RFC 1123), at most 253 characters.
pub fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A key of a Secret's data: letters, digits, `-`, `_` and `.`.
pub fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl KubernetesConfig {
    /// Checks what the types cannot: `(field, message)` on the first problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(ns) = &self.namespace
            && (!is_object_name(ns) || ns.contains('.') || ns.len() > 63)
        {
            return Err((
                "kubernetes.namespace".into(),
                format!("`{ns}` is not a namespace name (lower-case letters, digits and `-`)"),
            ));
        }
        if !is_object_name(&self.lease) || self.lease.len() > 63 {
            return Err((
                "kubernetes.lease".into(),
                format!(
                    "`{}` cannot prefix Lease names (lower-case letters, digits, `-` and `.`, at most 63 characters)",
                    self.lease
                ),
            ));
        }
        if self.shards == 0 || self.shards > MAX_SHARDS {
            return Err((
                "kubernetes.shards".into(),
                format!("{} shards: write 1 to {MAX_SHARDS}", self.shards),
            ));
        }
        if self.max_replicas == 0 || self.max_replicas > MAX_SHARDS {
            return Err((
                "kubernetes.max_replicas".into(),
                format!("{}: write 1 to {MAX_SHARDS}", self.max_replicas),
            ));
        }
        if self.lease_duration < Duration::from_secs(3) {
            return Err((
                "kubernetes.lease_duration".into(),
                "must be at least 3s (renewals come every third of it)".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Every credential reference in the config, with the field it is
    /// written in.
    pub fn credential_refs(&self) -> Vec<(String, &SecretRef)> {
        fn value(field: String, v: &ValueRef) -> Option<(String, &SecretRef)> {
            match v {
                ValueRef::Ref(r) => Some((field, r)),
                ValueRef::Literal(_) => None,
            }
        }
        let mut refs: Vec<(String, &SecretRef)> = Vec::new();
        for (name, ws) in &self.workspaces {
            let at = format!("workspaces.{name}.auth");
            match &ws.auth {
                AuthConfig::Pat { token } => refs.push((format!("{at}.token"), token)),
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    refs.extend(value(format!("{at}.client_id"), client_id));
                    refs.push((format!("{at}.client_secret"), client_secret));
                }
                AuthConfig::OidcFederation { client_id, idp, .. } => {
                    if let Some(id) = client_id {
                        refs.extend(value(format!("{at}.client_id"), id));
                    }
                    if let Some(idp) = idp {
                        refs.extend(value(format!("{at}.idp.client_id"), &idp.client_id));
                        refs.push((format!("{at}.idp.client_secret"), &idp.client_secret));
                    }
                }
            }
        }
        if let Some(git) = self.source.as_ref().and_then(|s| s.git.as_ref())
            && let Some(auth) = &git.auth
        {
            if let Some(u) = &auth.username {
                refs.extend(value("source.git.auth.username".into(), u));
            }
            if let Some(p) = &auth.password {
                refs.push(("source.git.auth.password".into(), p));
            }
        }
        let hooks = &self.server.webhooks;
        for (provider, r) in [
            ("github", hooks.github.as_ref().map(|h| &h.secret)),
            ("gitlab", hooks.gitlab.as_ref().map(|h| &h.token)),
            ("gitea", hooks.gitea.as_ref().map(|h| &h.secret)),
            ("bitbucket", hooks.bitbucket.as_ref().map(|h| &h.secret)),
            ("generic", hooks.generic.as_ref().map(|h| &h.secret)),
        ] {
            if let Some(r) = r {
                let key = if provider == "gitlab" {
                    "token"
                } else {
                    "secret"
                };
                refs.push((format!("server.webhooks.{provider}.{key}"), r));
            }
        }
        for (i, sink) in self.audit.sinks.iter().enumerate() {
            if let crate::config::AuditSinkConfig::Webhook(hook) = sink {
                let at = format!("audit.sinks[{i}].webhook");
                refs.extend(value(format!("{at}.url"), &hook.url));
                refs.push((format!("{at}.secret"), &hook.secret));
            }
        }
        for (i, n) in self.notifications.iter().enumerate() {
            let at = format!("notifications[{i}]");
            if let Some(s) = &n.slack {
                refs.extend(value(format!("{at}.slack.url"), &s.url));
            }
            if let Some(w) = &n.webhook {
                refs.extend(value(format!("{at}.webhook.url"), &w.url));
                if let Some(r) = &w.secret {
                    refs.push((format!("{at}.webhook.secret"), r));
                }
            }
        }
        refs
    }

    /// The Kubernetes Secrets the config reads, by name.
    pub fn kubernetes_secret_names(&self) -> BTreeSet<String> {
        self.credential_refs()
            .into_iter()
            .filter_map(|(_, r)| match r {
                SecretRef::Secret(s) => Some(s.name.clone()),
                _ => None,
            })
            .collect()
    }

    /// Checks the `kubernetes` section, and that a `{ secret: … }`
    /// reference is only written where there is a cluster to read it from.
    pub(super) fn validate_kubernetes(&self) -> Result<(), (String, String)> {
        if let Some(k) = &self.kubernetes {
            k.check()?;
        }
        for (field, r) in self.credential_refs() {
            let SecretRef::Secret(s) = r else { continue };
            if self.kubernetes.is_none() {
                return Err((
                    format!("{field}.secret"),
                    "a Kubernetes Secret is read through the cluster's API: add a `kubernetes:` section (or use `file:` / `env:`)".into(),
                ));
            }
            if !is_object_name(&s.name) {
                return Err((
                    format!("{field}.secret.name"),
                    format!("`{}` is not a Secret name", s.name),
                ));
            }
            if !is_secret_key(&s.key) {
                return Err((
                    format!("{field}.secret.key"),
                    format!(
                        "`{}` is not a Secret key (letters, digits, `-`, `_`, `.`)",
                        s.key
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::ConfigError;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let file = Path::new("mortar.yaml");
        let config = Config::parse_unchecked(text, file)?;
        config.validate(file)?;
        Ok(config)
    }

    fn field_of(e: ConfigError) -> String {
        match e {
            ConfigError::Invalid { field, .. } => field,
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn a_secret_reference_reads_a_kubernetes_secret() {
        let c = parse(
            "kubernetes: { namespace: mortar, shards: 3 }\n\
             workspaces:\n  prod:\n    host: https://dbc-1.cloud.databricks.com\n    auth:\n      method: pat\n      token: { secret: { name: databricks, key: prod-pat } }\n\
             server: { webhooks: { github: { secret: { secret: { name: hooks, key: github } } } } }\n",
        )
        .unwrap();
        assert_eq!(c.kubernetes.as_ref().unwrap().shards, 3);
        assert_eq!(
            c.kubernetes_secret_names().into_iter().collect::<Vec<_>>(),
            ["databricks", "hooks"]
        );
        let refs = c.credential_refs();
        assert_eq!(refs[0].0, "workspaces.prod.auth.token");
        assert_eq!(
            refs[0].1.to_string(),
            "Kubernetes Secret databricks, key prod-pat"
        );
    }

    #[test]
    fn a_secret_reference_needs_a_cluster() {
        let e = parse(
            "workspaces:\n  prod:\n    host: https://dbc-1.cloud.databricks.com\n    auth:\n      method: pat\n      token: { secret: { name: databricks, key: pat } }\n",
        )
        .unwrap_err();
        assert_eq!(field_of(e), "workspaces.prod.auth.token.secret");
    }

    #[test]
    fn bad_names_and_numbers_name_their_field() {
        let pat = |secret: &str| {
            format!(
                "kubernetes: {{}}\nworkspaces:\n  w:\n    host: https://dbc-1.cloud.databricks.com\n    auth: {{ method: pat, token: {{ secret: {secret} }} }}\n"
            )
        };
        let e = parse(&pat("{ name: Databricks, key: pat }")).unwrap_err();
        assert_eq!(field_of(e), "workspaces.w.auth.token.secret.name");
        let e = parse(&pat("{ name: databricks, key: 'a/b' }")).unwrap_err();
        assert_eq!(field_of(e), "workspaces.w.auth.token.secret.key");
        let e = parse("kubernetes: { shards: 0 }\n").unwrap_err();
        assert_eq!(field_of(e), "kubernetes.shards");
        let e = parse("kubernetes: { lease_duration: 1s }\n").unwrap_err();
        assert_eq!(field_of(e), "kubernetes.lease_duration");
        let e = parse("kubernetes: { namespace: Prod }\n").unwrap_err();
        assert_eq!(field_of(e), "kubernetes.namespace");
        assert!(matches!(
            parse("kubernetes: { replicas: 3 }\n").unwrap_err(),
            ConfigError::Parse { .. }
        ));
    }
}
