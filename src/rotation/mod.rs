//! Service-principal credential rotation, done by the controller: a
//! `ServicePrincipal` with a `credentials:` block is given a fresh OAuth
//! secret or on-behalf-of token every `rotate_every`, delivered to a secret
//! scope or a Kubernetes Secret; the one it replaced is revoked `overlap`
//! after the delivery.
//!
//! ```text
//! decide.rs   the next step, from the marker, the live credentials and the time  (pure)
//! marker.rs   what is remembered beside the delivered value, and fingerprints
//! issuer.rs   create, list and revoke credentials through the workspace API
//! target.rs   read the marker, write the value and the marker
//! run.rs      one look at one rotation: decide, carry the step out, audit it
//! ```
//!
//! A value lives only in memory between its creation and its delivery: it
//! is never logged, never put in an error, never audited (records carry
//! the credential's id and a fingerprint).

pub mod decide;
pub mod issuer;
pub mod marker;
pub mod run;
pub mod target;

pub use decide::{Declared, Step, Why, decide};
pub use marker::{Issuer, Marker, fingerprint};
pub use run::{Checked, Done, StepName};
pub use target::{KubeTarget, Target};

/// Why a rotation could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("service principal {key} is not created yet")]
    NotCreated { key: String },
    #[error("no client for workspace {workspace}")]
    NoWorkspace { workspace: String },
    #[error(
        "secret scope `{scope}` does not exist in workspace {workspace}; the credential cannot be delivered"
    )]
    ScopeMissing { scope: String, workspace: String },
    #[error("{target}: the rotation marker is not readable; fix or delete it")]
    MarkerUnreadable { target: String },
    #[error("no Kubernetes cluster is configured; cannot deliver to Kubernetes Secret {name}")]
    NoCluster { name: String },
    #[error("{step}")]
    Databricks {
        step: &'static str,
        #[source]
        source: crate::databricks::Error,
    },
    #[error("Kubernetes Secret {name}: {what}")]
    Kube {
        name: String,
        what: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("the inventory")]
    Inventory(#[from] crate::apply::inventory::InventoryError),
    #[error("the audit trail")]
    Audit(#[from] crate::audit::AuditError),
    #[error("the audit trail cannot be opened")]
    AuditUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the identity Mortar acts as")]
    Identity(#[source] crate::databricks::Error),
}

impl RotationError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RotationError::NotCreated { .. } => "not_created",
            RotationError::NoWorkspace { .. } => "no_workspace",
            RotationError::ScopeMissing { .. } => "scope_missing",
            RotationError::MarkerUnreadable { .. } => "marker_unreadable",
            RotationError::NoCluster { .. } => "no_cluster",
            RotationError::Databricks { source, .. } => source.metric_label(),
            RotationError::Kube { .. } => "kubernetes",
            RotationError::Inventory(_) => "inventory",
            RotationError::Audit(_) | RotationError::AuditUnavailable(_) => "audit",
            RotationError::Identity(_) => "identity",
        }
    }
}
