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
    Sync(SyncOptions),
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

/// How a sync goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Sync only if the controller follows this revision (a commit or a
    /// prefix of one): what was reviewed is what is applied.
    pub revision: Option<String>,
    /// Also delete what left Git, whatever the app's policy says (needs
    /// the `override` action when its policy does not prune).
    pub prune: bool,
    /// Plan now and apply nothing.
    pub dry_run: bool,
}

/// A command's parameters, as the API's body or a form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// Rollback: where to; sync: the revision expected.
    pub revision: Option<String>,
    #[serde(default)]
    pub prune: bool,
    #[serde(default)]
    pub dry_run: bool,
}

impl Command {
    /// Every command's name, as paths spell them.
    pub const NAMES: [&'static str; 5] = ["sync", "refresh", "rollback", "pause", "resume"];

    /// The command named in a path (`/api/v1/apps/{name}/{command}`) with
    /// its parameters; `None` for no such command, an error for
    /// parameters it does not take.
    pub fn named(name: &str, p: Parameters) -> Option<Result<Command, String>> {
        let revision = p
            .revision
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let takes_none = |command: Command| {
            if revision.is_some() || p.prune || p.dry_run {
                Err(format!("{name} takes no revision, prune or dry_run"))
            } else {
                Ok(command)
            }
        };
        Some(match name {
            "sync" => Ok(Command::Sync(SyncOptions {
                revision: revision.clone(),
                prune: p.prune,
                dry_run: p.dry_run,
            })),
            "refresh" => takes_none(Command::Refresh),
            "rollback" => match (&revision, p.prune || p.dry_run) {
                (_, true) => Err("rollback takes a revision only".to_string()),
                (Some(revision), false) => Ok(Command::Rollback {
                    revision: revision.clone(),
                }),
                (None, false) => Err("rollback needs a `revision`".to_string()),
            },
            "pause" => takes_none(Command::Pause),
            "resume" => takes_none(Command::Resume),
            _ => return None,
        })
    }

    pub fn label(&self) -> &'static str {
        match self {
            Command::Sync(_) => "sync",
            Command::Refresh => "refresh",
            Command::Rollback { .. } => "rollback",
            Command::Pause => "pause",
            Command::Resume => "resume",
        }
    }

    /// The policy's actions this command needs on `app` (resume is the
    /// other half of pause; pruning an app whose policy does not prune is
    /// an override).
    pub fn actions(&self, app: &AppStatus) -> Vec<Action> {
        match self {
            Command::Sync(o) if o.prune && !app.prune => vec![Action::Sync, Action::Override],
            Command::Sync(_) => vec![Action::Sync],
            Command::Refresh => vec![Action::Refresh],
            Command::Rollback { .. } => vec![Action::Rollback],
            Command::Pause | Command::Resume => vec![Action::Pause],
        }
    }

    /// How the audit trail names the request.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Command::Sync(_) => AuditAction::SyncRequested,
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
    /// The HTTP status that answers it.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            ControlError::Conflict(_) => StatusCode::CONFLICT,
            ControlError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ControlError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

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
