//! Executing a plan against live workspaces, and the state that makes it
//! safe: the inventory store and the state directory's writer lock.
//!
//! [`prepare()`] gathers what planning reads (inventories, live state, the
//! creates a crash left open, the keys of live secret scopes) and hands it to
//! the pure planner, [`crate::plan::tree::plan_all`]. [`executor`] then
//! applies the plan: bounded concurrency per workspace, dependency order (a
//! job waits for the cluster it references), references resolved to the ids
//! just created, write-ahead audit (intent, call, outcome), the inventory
//! saved after every action, and an app stopped at its first hard failure
//! while the others go on.

pub mod executor;
pub mod inventory;
pub mod lock;
pub mod prepare;
pub mod recovery;
pub mod secrets;

pub use executor::{AppReport, ApplyReport, ExecOptions, Progress, execute};
pub use prepare::{AppFilter, PrepareOptions, Prepared, PreparedApp, prepare};

/// What can stop planning or applying as a whole (per-action failures are
/// reported per app instead).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Tree(#[from] crate::plan::tree::TreeError),
    #[error(transparent)]
    Inventory(#[from] inventory::InventoryError),
    #[error(transparent)]
    Observe(Box<crate::observe::ObserveError>),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Recovery(#[from] recovery::RecoveryError),
}

impl ApplyError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ApplyError::Tree(e) => e.metric_label(),
            ApplyError::Inventory(e) => e.metric_label(),
            ApplyError::Observe(e) => e.metric_label(),
            ApplyError::Audit(e) => e.metric_label(),
            ApplyError::Recovery(e) => e.metric_label(),
        }
    }
}

impl From<crate::observe::ObserveError> for ApplyError {
    fn from(e: crate::observe::ObserveError) -> Self {
        ApplyError::Observe(Box::new(e))
    }
}
