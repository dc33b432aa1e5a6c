//! Secret values of SecretScope resources: read from the controller's
//! environment or a file at apply time (the per-project source policy); the
//! kind's adapter puts them (`secrets/put`). Values
//! live only in a [`Secret`] and on the wire; they never reach logs, plans,
//! errors, the inventory or the audit trail.

use crate::config::{ControllerCredentials, SecretAllowance};
use crate::databricks::Secret;
use crate::databricks::local_file::{self, MAX_SECRET_VALUE_BYTES};
use crate::manifest::{ScopeSecret, SecretSource};

/// Why a secret value could not be read or put.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{key}` ({origin}): environment variable {var} is not set")]
    MissingEnv {
        key: String,
        origin: String,
        var: String,
    },
    #[error("secret `{key}` ({origin}): project `{project}` may not read {source_name}")]
    NotAllowed {
        key: String,
        origin: String,
        project: String,
        source_name: String,
    },
    #[error("secret `{key}` ({origin}): cannot read {path}: {reason}")]
    File {
        key: String,
        origin: String,
        path: String,
        reason: String,
    },
    #[error("secret `{key}`")]
    Put {
        key: String,
        #[source]
        source: Box<crate::databricks::Error>,
    },
}

impl SecretError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            SecretError::MissingEnv { .. } => "secret_env_missing",
            SecretError::NotAllowed { .. } => "secret_source_not_allowed",
            SecretError::File { .. } => "secret_file",
            SecretError::Put { .. } => "secret_put",
        }
    }
}

/// Where the platform lets an app's secrets come from.
#[derive(Debug, Clone, Copy)]
pub struct SecretPolicy<'a> {
    pub project: &'a str,
    pub allowance: Option<&'a SecretAllowance>,
    pub credentials: &'a ControllerCredentials,
}

/// Reads a secret's value from a source the app's project may read. The
/// plan's guard has already refused other sources; this checks again, and
/// follows links only as far as the project's directory.
pub fn read_value(secret: &ScopeSecret, policy: SecretPolicy<'_>) -> Result<Secret, SecretError> {
    let origin = format!("{}:{}", secret.origin.file, secret.origin.line);
    let not_allowed = |source_name: String| SecretError::NotAllowed {
        key: secret.key.clone(),
        origin: origin.clone(),
        project: policy.project.to_string(),
        source_name,
    };
    let none = SecretAllowance::default();
    let allowance = policy.allowance.unwrap_or(&none);
    match &secret.source {
        SecretSource::FromEnv(var) => {
            if !allowance.allows_env(var) || policy.credentials.env.contains(var) {
                return Err(not_allowed(format!("environment variable {var}")));
            }
            std::env::var(var)
                .map(Secret::new)
                .map_err(|_| SecretError::MissingEnv {
                    key: secret.key.clone(),
                    origin: origin.clone(),
                    var: var.clone(),
                })
        }
        SecretSource::FromFile(p) => {
            let (Some(path), Some(dir)) = (allowance.file(p), allowance.dir.as_ref()) else {
                return Err(not_allowed(format!("file {p}")));
            };
            let file_error = |reason: String| SecretError::File {
                key: secret.key.clone(),
                origin: origin.clone(),
                path: path.display().to_string(),
                reason,
            };
            let real_dir = dir
                .canonicalize()
                .map_err(|e| file_error(format!("its directory: {}", e.kind())))?;
            let real = path
                .canonicalize()
                .map_err(|e| file_error(e.kind().to_string()))?;
            if !real.starts_with(&real_dir) || policy.credentials.is_credential_file(&real) {
                return Err(not_allowed(format!(
                    "file {p} (a link leading out of {})",
                    dir.display()
                )));
            }
            let text = local_file::read_text_file(&real, MAX_SECRET_VALUE_BYTES)
                .map_err(|e| file_error(crate::databricks::auth::local_reason(&e)))?;
            Ok(Secret::new(text.trim_end_matches(['\n', '\r']).to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Origin, ResourceKey};

    fn secret(path: &str) -> ScopeSecret {
        ScopeSecret {
            scope: ResourceKey {
                workspace: "dev".into(),
                kind: Kind::SecretScope,
                name: "etl".into(),
            },
            key: "api".into(),
            source: SecretSource::FromFile(path.into()),
            origin: Origin {
                file: "team/secrets.yaml".into(),
                line: 3,
                column: 1,
            },
        }
    }

    #[test]
    fn a_credential_configured_through_a_link_is_still_a_credential() {
        let root = tempfile::tempdir().unwrap();
        let team = root.path().join("team");
        std::fs::create_dir(&team).unwrap();
        std::fs::write(team.join("token"), "dapi-controller-token").unwrap();
        std::fs::write(team.join("api"), "team-api-key").unwrap();
        // The config names the controller's token through another path.
        std::os::unix::fs::symlink(&team, root.path().join("creds")).unwrap();
        let credentials = ControllerCredentials {
            env: Default::default(),
            files: [root.path().join("creds/token")].into(),
        };
        let allowance = SecretAllowance {
            env: Vec::new(),
            dir: Some(team.clone()),
        };
        let policy = SecretPolicy {
            project: "team",
            allowance: Some(&allowance),
            credentials: &credentials,
        };
        let value = read_value(&secret("api"), policy).unwrap();
        assert_eq!(value.expose(), "team-api-key");
        let err = read_value(&secret("token"), policy).unwrap_err();
        assert!(matches!(err, SecretError::NotAllowed { .. }), "{err}");
    }
}
