//! What the API may ask of the controller, and the port it asks through.
//! The server decides who may ask (authentication, the access policy,
//! CSRF); the controller side implements [`Control`] and carries the
//! command out. The server holds no controller type.

use serde::Serialize;

use super::auth::Identity;
use crate::audit::{AuditAction, Requester};
use crate::manifest::access_policy::Action;
use crate::model::AppStatus;

/// A command about one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Apply the app's revision now, whatever its sync policy.
    Sync,
    /// Compare the app with its workspaces now.
    Refresh,
    /// Hold the app at an earlier revision (a commit, branch or tag),
    /// pausing its automated sync.
    Rollback { revision: String },
    /// Pause automated sync at the revision applied.
    Pause,
    /// Resume automated sync (removing a rollback's pin).
    Resume,
}

impl Command {
    /// The command named in a path (`/api/v1/apps/{name}/{command}`);
    /// rollback's revision comes from the body.
    pub fn named(name: &str, revision: Option<String>) -> Option<Result<Command, &'static str>> {
        Some(Ok(match name {
            "sync" => Command::Sync,
            "refresh" => Command::Refresh,
            "rollback" => match revision.filter(|r| !r.trim().is_empty()) {
                Some(revision) => Command::Rollback {
                    revision: revision.trim().to_string(),
                },
                None => return Some(Err("rollback needs a `revision`")),
            },
            "pause" => Command::Pause,
            "resume" => Command::Resume,
            _ => return None,
        }))
    }

    pub fn label(&self) -> &'static str {
        match self {
            Command::Sync => "sync",
            Command::Refresh => "refresh",
            Command::Rollback { .. } => "rollback",
            Command::Pause => "pause",
            Command::Resume => "resume",
        }
    }

    /// The policy's action this command needs (resume is the other half
    /// of pause).
    pub fn action(&self) -> Action {
        match self {
            Command::Sync => Action::Sync,
            Command::Refresh => Action::Refresh,
            Command::Rollback { .. } => Action::Rollback,
            Command::Pause | Command::Resume => Action::Pause,
        }
    }

    /// How the audit trail names the request.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Command::Sync => AuditAction::SyncRequested,
            Command::Refresh => AuditAction::RefreshRequested,
            Command::Rollback { .. } => AuditAction::RollbackRequested,
            Command::Pause => AuditAction::PauseRequested,
            Command::Resume => AuditAction::ResumeRequested,
        }
    }
}

/// A command taken on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// What happens now, for people.
    pub message: String,
    /// The commit a rollback or pause holds the app at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// Why a command was not taken on. Bounded labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The app's state does not allow it (resume an app not paused).
    #[error("{0}")]
    Conflict(String),
    /// The command names something that does not exist (a revision).
    #[error("{0}")]
    Invalid(String),
    /// The controller cannot take it now (shutting down, state unwritable).
    #[error("{0}")]
    Unavailable(String),
}

impl ControlError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            ControlError::Conflict(_) => "conflict",
            ControlError::Invalid(_) => "invalid",
            ControlError::Unavailable(_) => "unavailable",
        }
    }
}

/// An entry for the audit trail about a request: who, which app, what,
/// and how it ended.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub app: String,
    pub action: AuditAction,
    pub by: Requester,
    /// `Err` with the reason when refused.
    pub outcome: Result<(), String>,
    pub revision: Option<String>,
}

/// The controller, as the API sees it.
#[async_trait::async_trait]
pub trait Control: Send + Sync {
    /// Carries `command` out for `app` on behalf of `by`.
    async fn carry_out(
        &self,
        app: &AppStatus,
        command: &Command,
        by: &Identity,
    ) -> Result<Accepted, ControlError>;

    /// Writes `record` to the audit trail.
    fn record(&self, record: RequestRecord) -> Result<(), String>;
}

/// How an audit record names a caller.
pub fn requester(identity: &Identity) -> Requester {
    Requester {
        subject: identity.subject.clone(),
        email: identity.email.clone(),
        groups: identity.groups.clone(),
        proof: match identity.proof {
            super::auth::Proof::Session => "session",
            super::auth::Proof::Bearer => "bearer",
            super::auth::Proof::Loopback => "loopback",
        }
        .to_string(),
    }
}
