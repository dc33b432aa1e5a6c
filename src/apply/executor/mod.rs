//! The executor: runs an app tree's plan as a dependency graph.
//!
//! What may start when is decided by `schedule::Schedule`, a pure state
//! machine: every action waits for the actions it depends on (`after` in
//! its app's plan, and the creates of groups and service principals other
//! apps make in its workspace: ACLs, grants and `run_as` name them), at
//! most `concurrency` actions run at once per workspace, an app whose plan
//! has a violation or a conflict applies nothing, an app stops at its first
//! hard failure (what depends on the failed action, in any app, is
//! skipped) while the other apps go on, and once `cancel` fires no action
//! starts (those in flight finish and their outcomes are recorded).
//! [`execute`] is the I/O loop around it: it spawns what the schedule
//! starts, feeds each outcome back and forwards the progress events. Each
//! API call is preceded by an audit intent and followed by an audit
//! outcome; the app's inventory is saved after every action.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod actions;
mod error;
mod schedule;

pub use error::ActionError;

use super::inventory::{Inventory, InventoryStore};
use super::prepare::{Prepared, PreparedApp};
use crate::audit::{AuditSink, Trigger};
use crate::config::{ControllerCredentials, SecretsConfig};
use crate::databricks::Client;
use crate::model::ResourceKey;
use crate::plan::ActionKind;
use crate::plan::resolve::Known;
use schedule::{NodeId, Outcome, Schedule};

/// Default actions in flight per workspace.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub trigger: Trigger,
    pub revision: Option<String>,
    pub commit_author: Option<String>,
    /// The identity Mortar acts as, per workspace (from `Me`).
    pub acting_as: BTreeMap<String, String>,
    /// Actions in flight at once, per workspace ([`DEFAULT_CONCURRENCY`] if absent).
    pub concurrency: BTreeMap<String, usize>,
    /// Which secret sources each project may read.
    pub secrets: SecretsConfig,
    /// The controller's own credentials, which no secret may read.
    pub credentials: ControllerCredentials,
    /// Stamped on every audit record of this apply.
    pub sync_id: Option<String>,
}

/// What the executor reports while it runs.
#[derive(Debug, Clone)]
pub enum Progress {
    Started {
        app: String,
        action: ActionKind,
        key: ResourceKey,
    },
    Finished {
        app: String,
        action: ActionKind,
        key: ResourceKey,
        id: Option<String>,
        error: Option<String>,
    },
    Skipped {
        app: String,
        key: ResourceKey,
        reason: String,
    },
}

/// How one app's apply went.
#[derive(Debug, Clone, Default)]
pub struct AppReport {
    pub app: String,
    /// Actions carried out.
    pub done: usize,
    /// Actions not attempted (after a failure, or the app was blocked).
    pub skipped: usize,
    /// Why the app stopped (first failure, violation or conflict).
    pub failure: Option<String>,
    /// Per action kind, how many were carried out.
    pub by_action: BTreeMap<&'static str, usize>,
}

/// How the whole apply went.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub apps: Vec<AppReport>,
}

impl ApplyReport {
    pub fn success(&self) -> bool {
        self.apps.iter().all(|a| a.failure.is_none())
    }
}

pub(super) struct Ctx {
    pub(super) apps: Vec<PreparedApp>,
    pub(super) clients: BTreeMap<String, Client>,
    pub(super) store: InventoryStore,
    pub(super) audit: Arc<dyn AuditSink>,
    pub(super) opts: ExecOptions,
    pub(super) known: Mutex<Known>,
    pub(super) inventories: Vec<Mutex<Inventory>>,
    pub(super) cancel: CancellationToken,
}

/// Applies `prepared`. Never returns early: failures are in the report.
pub async fn execute(
    prepared: Prepared,
    clients: &BTreeMap<String, Client>,
    store: &InventoryStore,
    audit: Arc<dyn AuditSink>,
    opts: ExecOptions,
    progress: Arc<dyn Fn(Progress) + Send + Sync>,
    cancel: CancellationToken,
) -> ApplyReport {
    let Prepared {
        plan, apps, known, ..
    } = prepared;
    let mut schedule = Schedule::new(&plan, |ws| {
        opts.concurrency
            .get(ws)
            .copied()
            .unwrap_or(DEFAULT_CONCURRENCY)
    });
    drop(plan);
    let ctx = Arc::new(Ctx {
        inventories: apps
            .iter()
            .map(|a| Mutex::new(a.inventory.clone()))
            .collect(),
        apps,
        clients: clients.clone(),
        store: store.clone(),
        audit,
        opts,
        known: Mutex::new(known),
        cancel: cancel.clone(),
    });

    let mut set: JoinSet<Result<Option<String>, ActionError>> = JoinSet::new();
    let mut tasks: HashMap<tokio::task::Id, NodeId> = HashMap::new();
    loop {
        if cancel.is_cancelled() {
            schedule.cancel();
        }
        while let Some(id) = schedule.start_next() {
            for event in schedule.take_events() {
                progress(event);
            }
            let ctx = ctx.clone();
            let app = schedule.app(id);
            let action = schedule.action(id).clone();
            let handle = set.spawn(async move { actions::run(&ctx, app, &action).await });
            tasks.insert(handle.id(), id);
        }
        for event in schedule.take_events() {
            progress(event);
        }
        if schedule.is_done() {
            break;
        }
        // Wake on a cancellation too, so what will now never start is
        // reported at once rather than when the next action finishes.
        let joined = if schedule.is_cancelled() {
            set.join_next_with_id().await
        } else {
            tokio::select! {
                joined = set.join_next_with_id() => joined,
                () = cancel.cancelled() => continue,
            }
        };
        let Some(joined) = joined else {
            // Nothing runs, yet the schedule is not done: cannot happen
            // (it settles what can never start); stop rather than spin.
            tracing::error!("the apply schedule stalled with no action running");
            break;
        };
        let (task, result) = match joined {
            Ok((task, result)) => (task, Ok(result)),
            Err(err) => (err.id(), Err(err)),
        };
        let Some(id) = tasks.remove(&task) else {
            continue;
        };
        let outcome = match result {
            Ok(Ok(id)) => Outcome::Done { id },
            Ok(Err(ActionError::Cancelled)) => Outcome::NotStarted,
            Ok(Err(error)) => Outcome::Failed {
                error: error.chain(),
            },
            Err(err) => {
                // The panic's message is not repeated: it may quote data.
                let what = if err.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                };
                tracing::error!(key = %schedule.action(id).key, "an apply task {what}");
                Outcome::Failed {
                    error: format!("the action's task {what} before it completed"),
                }
            }
        };
        schedule.finished(id, outcome);
    }
    for event in schedule.take_events() {
        progress(event);
    }
    schedule.into_report()
}
