//! Why one action failed: a typed error whose variant is a bounded metric
//! label, with the cause kept as its source.

use crate::apply::inventory::InventoryError;
use crate::apply::secrets::SecretError;
use crate::audit::AuditError;
use crate::model::{Kind, ResourceKey};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{call}")]
    Api {
        /// What was being done (`create`, `read permissions`, …).
        call: &'static str,
        #[source]
        source: Box<crate::databricks::Error>,
    },
    #[error("audit trail")]
    Audit(#[source] AuditError),
    #[error("inventory")]
    Inventory(#[source] InventoryError),
    #[error(transparent)]
    Secret(SecretError),
    #[error(
        "{key}: a `${{resources.…}}` reference names an object whose id is not known (was it created?)"
    )]
    UnresolvedReference { key: ResourceKey },
    #[error("workspace `{workspace}` is not configured")]
    UnknownWorkspace { workspace: String },
    #[error("{key} is not in the desired state")]
    NotDesired { key: ResourceKey },
    #[error("{key}: no Databricks id to {action}")]
    NoId {
        key: ResourceKey,
        action: &'static str,
    },
    #[error("{kind} is not a Databricks kind")]
    NotDatabricks { kind: Kind },
    #[error("the apply was cancelled before this action started")]
    Cancelled,
}

impl ActionError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ActionError::Api { source, .. } => source.kind(),
            ActionError::Audit(_) => "audit",
            ActionError::Inventory(_) => "inventory",
            ActionError::Secret(e) => e.metric_label(),
            ActionError::UnresolvedReference { .. } => "unresolved_reference",
            ActionError::UnknownWorkspace { .. } => "unknown_workspace",
            ActionError::NotDesired { .. } => "not_desired",
            ActionError::NoId { .. } => "no_id",
            ActionError::NotDatabricks { .. } => "not_databricks",
            ActionError::Cancelled => "cancelled",
        }
    }

    /// The error and its causes on one line, each cause once.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

/// `call` failed at the API.
pub(super) fn api(call: &'static str) -> impl FnOnce(crate::databricks::Error) -> ActionError {
    move |source| ActionError::Api {
        call,
        source: Box::new(source),
    }
}
