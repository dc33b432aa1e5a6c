//! Normalize, diff and order: desired state and live state in, a typed plan out.
//!
//! Pure: no I/O and no I/O types. Inputs are the rendered
//! [`DesiredResource`](crate::model::DesiredResource)s, the live
//! objects observed by the kind adapters, the inventory's last-applied state,
//! per-app ignore rules and options; the output is an [`AppPlan`] per app,
//! gathered in a [`Plan`], rendered as text or versioned JSON.

pub mod agents;
pub mod defaults;
pub mod diff;
pub mod guard;
pub mod model;
pub mod order;
pub mod output;
pub mod planner;
pub mod pointer;
pub mod resolve;
#[cfg(test)]
mod tests;
pub mod tree;

pub use crate::model::mask;
pub use crate::model::{
    ActionKind, FieldChange, LastApplied, LiveObject, LiveState, ManagedResource, Ownership,
    PermissionChange,
};
pub use model::{
    AppOptions, AppPlan, FORMAT_VERSION, IgnoreRule, Plan, PlannedAction, Summary, Violation,
};
pub use planner::{AppInput, plan_app};

use crate::model::ResourceKey;

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("invalid JSON pointer `{pointer}`: {reason}")]
    InvalidPointer { pointer: String, reason: String },
    #[error("app `{app}`: ignoreDifferences[{index}]: invalid JSON pointer `{pointer}`: {reason}")]
    IgnoreRule {
        app: String,
        index: usize,
        pointer: String,
        reason: String,
    },
    #[error("{key} is declared twice")]
    DuplicateKey { key: ResourceKey },
    #[error("dependency cycle: {} (each depends on the next)", cycle_text(keys))]
    Cycle { keys: Vec<ResourceKey> },
}

impl PlanError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            PlanError::InvalidPointer { .. } => "invalid_pointer",
            PlanError::IgnoreRule { .. } => "ignore_rule",
            PlanError::DuplicateKey { .. } => "duplicate_key",
            PlanError::Cycle { .. } => "cycle",
        }
    }
}

fn cycle_text(keys: &[ResourceKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}
