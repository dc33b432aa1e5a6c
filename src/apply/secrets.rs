//! Secret values of SecretScope resources: read from the controller's
//! environment or a file at apply time and put with `secrets/put`. Values
//! live only in a [`Secret`] and on the wire; they never reach logs, plans,
//! errors, the inventory or the audit trail.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;

use crate::databricks::local_file::MAX_SECRET_VALUE_BYTES;
use crate::databricks::{Client, Secret};
use crate::manifest::{SecretRef, SecretSource};

/// Why a secret value could not be put.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{key}` ({origin}): environment variable {var} is not set")]
    MissingEnv {
        key: String,
        origin: String,
        var: String,
    },
    #[error("secret `{key}` ({origin}): cannot read {path}: {reason}")]
    File {
        key: String,
        origin: String,
        path: String,
        reason: String,
    },
    #[error("secret `{key}`: {source}")]
    Put {
        key: String,
        #[source]
        source: Box<crate::databricks::Error>,
    },
}

/// Reads a secret's value; relative file paths are relative to `base`.
pub fn read_value(secret: &SecretRef, base: &Path) -> Result<Secret, SecretError> {
    let origin = format!("{}:{}", secret.origin.file, secret.origin.line);
    match &secret.source {
        SecretSource::FromEnv(var) => {
            std::env::var(var)
                .map(Secret::new)
                .map_err(|_| SecretError::MissingEnv {
                    key: secret.key.clone(),
                    origin,
                    var: var.clone(),
                })
        }
        SecretSource::FromFile(p) => {
            let path = base.join(p);
            crate::databricks::local_file::read_text_file(&path, MAX_SECRET_VALUE_BYTES)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|e| SecretError::File {
                    key: secret.key.clone(),
                    origin,
                    path: path.display().to_string(),
                    reason: crate::databricks::auth::local_reason(&e),
                })
        }
    }
}

/// The keys a scope holds (values are never read).
pub async fn list_keys(
    client: &Client,
    scope: &str,
) -> Result<BTreeSet<String>, crate::databricks::Error> {
    let resp = client
        .get("/api/2.0/secrets/list", &[("scope", scope)])
        .await?;
    Ok(resp
        .get("secrets")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("key").and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect())
}

/// Puts one secret into `scope`.
pub async fn put(
    client: &Client,
    scope: &str,
    key: &str,
    value: &Secret,
) -> Result<(), SecretError> {
    client
        .post(
            "/api/2.0/secrets/put",
            &json!({"scope": scope, "key": key, "string_value": value.expose()}),
        )
        .await
        .map(|_| ())
        .map_err(|source| SecretError::Put {
            key: key.to_string(),
            source: Box::new(source),
        })
}
