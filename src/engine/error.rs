//! What can stop the pipeline as a whole (a failed action is reported per
//! app in the apply report instead).

use crate::apply::ApplyError;
use crate::audit::AuditError;
use crate::config::ConfigError;

use super::render::RenderError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("workspace client")]
    Client(#[source] Box<crate::databricks::Error>),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Plan(#[from] ApplyError),
    #[error("audit trail")]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Lock(#[from] crate::apply::lock::LockError),
    #[error("{field}: cannot read its {what}")]
    AuditWebhookSecret {
        field: String,
        what: &'static str,
        #[source]
        source: Box<crate::databricks::auth::AuthError>,
    },
    #[error("{field}: {reason}")]
    AuditWebhookUrl { field: String, reason: String },
    #[error("{field}: cannot start")]
    AuditWebhookStart {
        field: String,
        #[source]
        source: crate::audit::ship::ShipError,
    },
    #[error(
        "workspace `{workspace}` is not configured in the config file's `workspaces:` section (configured: {configured})"
    )]
    UnknownWorkspace {
        workspace: String,
        configured: String,
    },
    #[error(transparent)]
    Import(Box<crate::import::workspace::read::ImportError>),
    #[error("workspace {workspace}: who am I (SCIM Me)")]
    Identity {
        workspace: String,
        #[source]
        source: Box<crate::databricks::Error>,
    },
}

impl EngineError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            EngineError::Config(_) => "config",
            EngineError::Client(_) => "client",
            EngineError::Render(e) => e.metric_label(),
            EngineError::Plan(_) => "plan",
            EngineError::Audit(_) => "audit",
            EngineError::AuditWebhookSecret { .. }
            | EngineError::AuditWebhookUrl { .. }
            | EngineError::AuditWebhookStart { .. } => "audit_webhook",
            EngineError::Lock(_) => "state_lock",
            EngineError::Identity { .. } => "identity",
            EngineError::UnknownWorkspace { .. } => "unknown_workspace",
            EngineError::Import(e) => e.metric_label(),
        }
    }
}
