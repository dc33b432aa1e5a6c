//! The values of the Kubernetes Secrets the config names (`{ secret: {
//! name, key } }`), as last read through the cluster's API. The cluster
//! side keeps this up to date (a watch per Secret); credential readers look
//! values up here, so a rotated Secret is used on the next read without a
//! restart. One store per process, like the environment it stands beside.

use std::collections::BTreeMap;
use std::sync::{LazyLock, RwLock};

use super::SecretKeyRef;

/// What is known of one Secret: its data, or that it does not exist.
type Known = Option<BTreeMap<String, Vec<u8>>>;

static STORE: LazyLock<RwLock<BTreeMap<String, Known>>> = LazyLock::new(Default::default);

/// Why a Secret's key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretLookupError {
    #[error("it has not been read from the cluster (is `kubernetes:` configured?)")]
    NotLoaded,
    #[error("no such Secret in the namespace")]
    NoSecret,
    #[error("the Secret has no key `{0}`")]
    NoKey(String),
    #[error("the value is not UTF-8 text")]
    NotText,
}

impl SecretLookupError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            SecretLookupError::NotLoaded => "not_loaded",
            SecretLookupError::NoSecret => "no_secret",
            SecretLookupError::NoKey(_) => "no_key",
            SecretLookupError::NotText => "not_text",
        }
    }
}

/// Records what a Secret holds now (`None`: it does not exist).
pub fn set_secret(name: &str, data: Option<BTreeMap<String, Vec<u8>>>) {
    let mut store = STORE.write().unwrap_or_else(|p| p.into_inner());
    store.insert(name.to_string(), data);
}

/// The value of one key, as text (not yet trimmed).
pub fn lookup(reference: &SecretKeyRef) -> Result<String, SecretLookupError> {
    let store = STORE.read().unwrap_or_else(|p| p.into_inner());
    let data = store
        .get(&reference.name)
        .ok_or(SecretLookupError::NotLoaded)?
        .as_ref()
        .ok_or(SecretLookupError::NoSecret)?;
    let bytes = data
        .get(&reference.key)
        .ok_or_else(|| SecretLookupError::NoKey(reference.key.clone()))?;
    String::from_utf8(bytes.clone()).map_err(|_| SecretLookupError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_read_as_the_store_holds_it_now() {
        let r = SecretKeyRef {
            name: "lookup-test".into(),
            key: "token".into(),
        };
        assert_eq!(lookup(&r), Err(SecretLookupError::NotLoaded));
        set_secret("lookup-test", None);
        assert_eq!(lookup(&r), Err(SecretLookupError::NoSecret));
        set_secret(
            "lookup-test",
            Some(BTreeMap::from([("other".into(), b"x".to_vec())])),
        );
        assert_eq!(lookup(&r), Err(SecretLookupError::NoKey("token".into())));
        set_secret(
            "lookup-test",
            Some(BTreeMap::from([("token".into(), b"first".to_vec())])),
        );
        assert_eq!(lookup(&r).unwrap(), "first");
        set_secret(
            "lookup-test",
            Some(BTreeMap::from([("token".into(), b"rotated".to_vec())])),
        );
        assert_eq!(lookup(&r).unwrap(), "rotated");
    }
}
