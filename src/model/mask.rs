//! Secret masking for everything a plan or audit record shows: a field whose
//! name suggests a secret, or a string that looks like a credential, is
//! replaced by `(sensitive)`.

use serde_json::Value;

/// What a masked value reads as.
pub const SENSITIVE: &str = "(sensitive)";

/// Exact field names that carry secret values in Databricks bodies.
const EXACT: &[&str] = &["string_value", "bytes_value"];

/// Substrings of field names that suggest a secret.
const CONTAINS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "api_key",
    "apikey",
    "access_key",
    "credential",
    "account.key",
    "sas_key",
];

/// Field names that match the patterns above but only name or point at a
/// secret rather than holding one.
const ALLOWED: &[&str] = &[
    "secret_scope",
    "scope",
    "token_lifetime_seconds",
    "max_token_lifetime_days",
    "key_vault_resource_id",
];

/// Suffixes of field names that name or point at a secret (an id, a name,
/// a path) rather than holding it.
const POINTER_SUFFIXES: &[&str] = &["_id", "_ids", "_name", "_scope", "_path", "_lifetime"];

/// True when a field of this name may hold a secret.
pub fn is_sensitive_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if ALLOWED.contains(&lower.as_str()) || POINTER_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return false;
    }
    EXACT.contains(&lower.as_str()) || CONTAINS.iter().any(|p| lower.contains(p))
}

/// True when any segment of the path names a sensitive field.
pub fn is_sensitive_path<S: AsRef<str>>(segments: &[S]) -> bool {
    segments.iter().any(|s| is_sensitive_key(s.as_ref()))
}

/// True when a string looks like a credential whatever field holds it:
/// Databricks tokens and OAuth secrets, PEM private keys, JWTs.
pub fn looks_secret(s: &str) -> bool {
    let prefixed = |prefix: &str, min: usize| {
        s.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() >= min && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    prefixed("dapi", 32)
        || prefixed("dose", 32)
        || prefixed("dkea", 32)
        || s.contains("PRIVATE KEY-----")
        || (s.starts_with("eyJ") && s.matches('.').count() == 2 && s.len() > 40)
}

/// True for a Databricks secret reference such as `{{secrets/scope/key}}`:
/// it names a secret without revealing it, so it stays visible.
pub fn is_secret_reference(s: &str) -> bool {
    s.strip_prefix("{{secrets/")
        .and_then(|rest| rest.strip_suffix("}}"))
        .is_some_and(|inner| inner.split('/').count() == 2 && !inner.contains(['{', '}']))
}

/// A value as shown at a path: everything below a sensitive path masked
/// (secret references excepted), otherwise [`mask_value`].
pub fn mask_at(path_is_sensitive: bool, value: &Value) -> Value {
    if path_is_sensitive {
        mask_all(value)
    } else {
        mask_value(value)
    }
}

/// Masks one leaf value found under a sensitive field.
fn mask_leaf(value: &Value) -> Value {
    match value {
        Value::String(s) if is_secret_reference(s) => value.clone(),
        _ => Value::String(SENSITIVE.to_string()),
    }
}

/// The value with every sensitive field and secret-looking string masked.
pub fn mask_value(value: &Value) -> Value {
    match value {
        Value::String(s) if looks_secret(s) => Value::String(SENSITIVE.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(mask_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked = if is_sensitive_key(k) && !v.is_object() && !v.is_array() {
                        mask_leaf(v)
                    } else if is_sensitive_key(k) {
                        mask_all(v)
                    } else {
                        mask_value(v)
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Masks every leaf below a sensitive field, keeping the shape visible.
pub fn mask_all(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(mask_all).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), mask_all(v))).collect())
        }
        _ => Value::String(SENSITIVE.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_that_hold_secrets_are_sensitive() {
        for key in [
            "string_value",
            "bytes_value",
            "password",
            "token",
            "client_secret",
            "spark.hadoop.fs.azure.account.key.x.dfs.core.windows.net",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in [
            "name",
            "secret_scope",
            "timeout_seconds",
            "notebook_path",
            "storage_credential_name",
            "credentials_id",
        ] {
            assert!(!is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn masks_nested_fields_and_credential_shaped_strings() {
        let token = format!("dapi{}", "0a".repeat(16));
        let v = json!({
            "name": "etl",
            "spark_env_vars": {"DB_PASSWORD": "hunter2", "MODE": "fast"},
            "client_secret": {"inner": ["a", "b"]},
            "note": token,
            "spark_conf": {"fs.azure.account.key.x": "{{secrets/lake/key}}"},
        });
        let masked = mask_value(&v);
        assert_eq!(
            masked,
            json!({
                "name": "etl",
                "spark_env_vars": {"DB_PASSWORD": SENSITIVE, "MODE": "fast"},
                "client_secret": {"inner": [SENSITIVE, SENSITIVE]},
                "note": SENSITIVE,
                "spark_conf": {"fs.azure.account.key.x": "{{secrets/lake/key}}"},
            })
        );
        assert!(!masked.to_string().contains("hunter2"));
    }
}
