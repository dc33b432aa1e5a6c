//! The `secrets:` section of `mortar.yaml`: which secret sources each
//! project's `SecretScope` manifests may read.
//!
//! A manifest only names where a secret value comes from (`fromEnv`,
//! `fromFile`); the controller reads it. Without this allow-list a team
//! could name any variable or file of the controller process — its own
//! workspace credentials included — and copy it into a scope it can read.
//! So the platform declares, per project, the environment variable names
//! and the one directory its teams' secrets may come from; nothing else is
//! readable, and never a credential the controller itself uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AuthConfig, Config, SecretRef, ValueRef};

/// Environment variables the `DATABRICKS_*` fallback reads credentials from.
const SDK_CREDENTIAL_ENV: &[&str] = &["DATABRICKS_TOKEN", "DATABRICKS_CLIENT_SECRET"];

/// Secret sources per project.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// Keyed by project name. A project not listed may read no secret.
    #[serde(default)]
    pub projects: BTreeMap<String, SecretAllowance>,
}

/// What one project's secrets may be read from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretAllowance {
    /// Environment variable names `fromEnv` may name.
    #[serde(default)]
    pub env: Vec<String>,
    /// The directory `fromFile` paths are relative to and must stay inside
    /// (links leading out of it are refused when the file is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

impl SecretAllowance {
    /// Whether `fromEnv: name` is allowed.
    pub fn allows_env(&self, name: &str) -> bool {
        self.env.iter().any(|e| e == name)
    }

    /// The file `fromFile: path` names, if the path is allowed: relative to
    /// `dir` (or absolute inside it), without `..`. Lexical only; the reader
    /// checks where links lead.
    pub fn file(&self, path: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let p = Path::new(path);
        if path.is_empty()
            || p.components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return None;
        }
        if p.is_absolute() {
            return p.starts_with(dir).then(|| p.to_path_buf());
        }
        Some(dir.join(p))
    }
}

/// The credentials the controller itself uses, which no secret may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerCredentials {
    pub env: BTreeSet<String>,
    pub files: BTreeSet<PathBuf>,
}

impl ControllerCredentials {
    /// Whether `path` (links resolved) is one of the files, as written or
    /// with its own links resolved.
    pub fn is_credential_file(&self, path: &Path) -> bool {
        self.files
            .iter()
            .any(|f| f == path || f.canonicalize().is_ok_and(|real| real == path))
    }
}

impl Config {
    /// Every environment variable and file the controller reads a
    /// credential from (workspace auth, the IdP, the SDK variables, the
    /// notification URLs and keys).
    pub fn controller_credentials(&self) -> ControllerCredentials {
        let mut out = ControllerCredentials::default();
        out.env
            .extend(SDK_CREDENTIAL_ENV.iter().map(|s| s.to_string()));
        let mut add = |r: &SecretRef| match r {
            SecretRef::Env(name) => {
                out.env.insert(name.clone());
            }
            SecretRef::File(path) => {
                out.files.insert(path.clone());
            }
            // Secret scopes read files and variables, never the cluster.
            SecretRef::Secret(_) => {}
        };
        for ws in self.workspaces.values() {
            match &ws.auth {
                AuthConfig::Pat { token } => add(token),
                AuthConfig::OauthM2m {
                    client_id,
                    client_secret,
                } => {
                    add(client_secret);
                    if let ValueRef::Ref(r) = client_id {
                        add(r);
                    }
                }
                AuthConfig::OidcFederation {
                    token_file, idp, ..
                } => {
                    if let Some(path) = token_file {
                        add(&SecretRef::File(path.clone()));
                    }
                    if let Some(idp) = idp {
                        add(&idp.client_secret);
                    }
                }
            }
        }
        for r in self.notification_secret_refs() {
            add(r);
        }
        for (_, r) in self.server.secrets() {
            add(r);
        }
        for sink in &self.audit.sinks {
            if let super::AuditSinkConfig::Webhook(hook) = sink {
                add(&hook.secret);
                if let ValueRef::Ref(r) = &hook.url {
                    add(r);
                }
            }
        }
        out
    }

    /// Makes each project's secret directory absolute, relative to `dir`.
    pub(super) fn resolve_secret_paths(&mut self, dir: &Path) {
        for allowance in self.secrets.projects.values_mut() {
            if let Some(d) = &mut allowance.dir
                && d.is_relative()
            {
                *d = dir.join(&*d);
            }
        }
    }

    /// Checks the `secrets` section: valid names, and no source that is a
    /// credential of the controller. Returns `(field, message)`.
    pub(super) fn validate_secrets(&self) -> Result<(), (String, String)> {
        let credentials = self.controller_credentials();
        for (project, allowance) in &self.secrets.projects {
            let at = format!("secrets.projects.{project}");
            for (i, name) in allowance.env.iter().enumerate() {
                let field = format!("{at}.env[{i}]");
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err((
                        field,
                        format!("`{name}` is not an environment variable name"),
                    ));
                }
                if credentials.env.contains(name) {
                    return Err((
                        field,
                        format!(
                            "{name} holds a credential Mortar itself uses; a secret scope may never read it"
                        ),
                    ));
                }
            }
            if let Some(dir) = &allowance.dir {
                let field = format!("{at}.dir");
                if dir.as_os_str().is_empty() {
                    return Err((field, "empty path".into()));
                }
                if let Some(file) = credentials.files.iter().find(|f| f.starts_with(dir)) {
                    return Err((
                        field,
                        format!(
                            "holds {}, a credential Mortar itself uses; give teams a directory of their own",
                            file.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, super::super::ConfigError> {
        let file = Path::new("mortar.yaml");
        let mut config = Config::parse_unchecked(text, file)?;
        config.resolve_paths(Path::new("/etc/mortar"));
        config.validate(file)?;
        Ok(config)
    }

    const WORKSPACES: &str = "workspaces:\n  prod:\n    host: https://adb-1.azuredatabricks.net\n    auth: { method: oauth-m2m, client_id: abc, client_secret: { env: PROD_SECRET } }\n  dev:\n    host: https://adb-2.azuredatabricks.net\n    auth: { method: pat, token: { file: /etc/mortar/creds/dev-token } }\n";

    #[test]
    fn a_controller_credential_is_never_a_secret_source() {
        let err = parse(&format!(
            "{WORKSPACES}secrets:\n  projects:\n    team: {{ env: [TEAM_DB, PROD_SECRET] }}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("secrets.projects.team.env[1]"), "{err}");
        assert!(err.contains("credential Mortar itself uses"), "{err}");

        let err = parse(&format!(
            "{WORKSPACES}secrets:\n  projects:\n    team: {{ env: [DATABRICKS_TOKEN] }}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("env[0]"), "{err}");

        let err = parse(&format!(
            "{WORKSPACES}secrets:\n  projects:\n    team: {{ dir: creds }}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("secrets.projects.team.dir"), "{err}");
        assert!(err.contains("dev-token"), "{err}");
    }

    #[test]
    fn files_stay_inside_the_project_directory() {
        let config = parse(&format!(
            "{WORKSPACES}secrets:\n  projects:\n    team: {{ env: [TEAM_DB], dir: teams/a }}\n"
        ))
        .unwrap();
        let team = &config.secrets.projects["team"];
        assert!(team.allows_env("TEAM_DB"));
        assert!(!team.allows_env("HOME"));
        assert_eq!(
            team.file("db/password"),
            Some(PathBuf::from("/etc/mortar/teams/a/db/password"))
        );
        assert_eq!(
            team.file("/etc/mortar/teams/a/x"),
            Some(PathBuf::from("/etc/mortar/teams/a/x"))
        );
        assert_eq!(team.file("../b/x"), None);
        assert_eq!(team.file("x/../../b"), None);
        assert_eq!(team.file("/etc/passwd"), None);
        assert_eq!(team.file(""), None);
        assert_eq!(SecretAllowance::default().file("x"), None);
    }
}
