//! Personal access tokens: a bearer token read once from a file or an
//! environment variable, or read from a Kubernetes Secret on every use (so
//! a rotated Secret takes effect without a restart).

use std::sync::OnceLock;

use super::{AuthError, read_secret};
use crate::config::SecretRef;
use crate::databricks::secret::Secret;

#[derive(Debug)]
pub struct Pat {
    reference: SecretRef,
    token: OnceLock<Secret>,
}

impl Pat {
    pub fn new(reference: SecretRef) -> Pat {
        Pat {
            reference,
            token: OnceLock::new(),
        }
    }

    pub fn token(&self) -> Result<Secret, AuthError> {
        if matches!(self.reference, SecretRef::Secret(_)) {
            return read_secret(&self.reference, "personal access token");
        }
        if let Some(t) = self.token.get() {
            return Ok(t.clone());
        }
        let t = read_secret(&self.reference, "personal access token")?;
        Ok(self.token.get_or_init(|| t).clone())
    }
}
