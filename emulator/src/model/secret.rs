//! Stored secret scopes, their secrets (values redacted from `Debug`) and ACLs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A secret value (base64); never printed by `Debug`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a base64-encoded value.
    pub fn new(encoded: String) -> Self {
        SecretValue(encoded)
    }

    /// The base64-encoded value; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A stored secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secret {
    pub value: SecretValue,
    pub last_updated_timestamp: i64,
}

/// A secret scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scope {
    pub backend_type: String,
    #[serde(default)]
    pub keyvault_metadata: Option<Value>,
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// Principal → READ/WRITE/MANAGE.
    #[serde(default)]
    pub acls: BTreeMap<String, String>,
}
