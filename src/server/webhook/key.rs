//! A provider's webhook secret, read again at each delivery so a rotated
//! file (a mounted Secret is updated in place) or Kubernetes Secret is used
//! without a restart. While the reference cannot be read (a file replaced
//! mid-rotation), the last good value stays in use and a warning says why.

use std::sync::{Mutex, PoisonError};

use crate::config::SecretRef;
use crate::databricks::Secret;
use crate::databricks::auth::{AuthError, read_secret};

/// One provider's secret and where it comes from.
pub struct WebhookKey {
    field: &'static str,
    reference: SecretRef,
    last_good: Mutex<Secret>,
}

impl WebhookKey {
    /// Reads the secret once: a key that cannot be read stops the start.
    pub fn open(field: &'static str, reference: &SecretRef) -> Result<WebhookKey, AuthError> {
        let first = read_secret(reference, "webhook secret")?;
        Ok(WebhookKey {
            field,
            reference: reference.clone(),
            last_good: Mutex::new(first),
        })
    }

    /// The secret as it is now.
    pub fn current(&self) -> Secret {
        let mut last = self
            .last_good
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match read_secret(&self.reference, "webhook secret") {
            Ok(now) => {
                if now != *last {
                    tracing::info!(
                        field = self.field,
                        "the webhook secret changed; using the new one"
                    );
                    *last = now;
                }
            }
            Err(err) => {
                tracing::warn!(field = self.field, error = %crate::error_chain::error_chain(&err), "cannot read the webhook secret; using the last one read");
            }
        }
        last.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_file_is_used_at_once_and_a_missing_one_keeps_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook");
        std::fs::write(&path, "first-webhook-secret\n").unwrap();
        let key = WebhookKey::open(
            "server.webhooks.github.secret",
            &SecretRef::File(path.clone()),
        )
        .unwrap();
        assert_eq!(key.current().expose(), "first-webhook-secret");
        std::fs::write(&path, "second-webhook-secret").unwrap();
        assert_eq!(key.current().expose(), "second-webhook-secret");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(key.current().expose(), "second-webhook-secret");
        assert!(WebhookKey::open("server.webhooks.github.secret", &SecretRef::File(path)).is_err());
    }
}
