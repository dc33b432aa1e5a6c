//! The executor: runs an app tree's plan as a dependency graph.
//!
//! Every action waits for the actions it depends on (`after` in its app's
//! plan, and the creates of groups and service principals other apps make
//! in its workspace: ACLs, grants and `run_as` name them). Actions run
//! concurrently, at most `concurrency` at once per workspace. Each API call is preceded by an audit intent and followed by
//! an audit outcome; the app's inventory is saved after every action. An
//! app whose plan has a violation or a conflict applies nothing; an app
//! stops at its first hard failure (what depends on the failed action, in
//! any app, is skipped) while the other apps go on. Once `cancel` fires no
//! action starts; those in flight finish and their outcomes are recorded.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod actions;
mod error;

pub use error::ActionError;

use super::inventory::{Inventory, InventoryStore};
use super::prepare::{Prepared, PreparedApp};
use super::resolve::Known;
use crate::audit::{AuditSink, Trigger};
use crate::config::{ControllerCredentials, SecretsConfig};
use crate::databricks::Client;
use crate::model::{Kind, ResourceKey};
use crate::plan::{ActionKind, PlannedAction};

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

struct Node {
    app: usize,
    action: PlannedAction,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
}

pub(super) struct Ctx {
    pub(super) apps: Vec<PreparedApp>,
    pub(super) clients: BTreeMap<String, Client>,
    pub(super) store: InventoryStore,
    pub(super) audit: Arc<dyn AuditSink>,
    pub(super) opts: ExecOptions,
    pub(super) known: Mutex<Known>,
    pub(super) inventories: Vec<Mutex<Inventory>>,
    pub(super) slots: BTreeMap<String, Arc<Semaphore>>,
    pub(super) cancel: CancellationToken,
}

fn needs_node(action: &PlannedAction) -> bool {
    action.action.changes_workspace()
        || matches!(action.action, ActionKind::Release | ActionKind::Forget)
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
    let mut reports: Vec<AppReport> = apps
        .iter()
        .map(|a| AppReport {
            app: a.name.clone(),
            ..Default::default()
        })
        .collect();
    let mut nodes: Vec<Node> = Vec::new();
    for (i, app_plan) in plan.apps.iter().enumerate() {
        let blocked = if app_plan.is_blocked() {
            Some(format!(
                "blocked by {} violation(s) of project rules or manifest error(s); nothing of this app was applied: {}",
                app_plan.violations.len(),
                app_plan
                    .violations
                    .iter()
                    .map(|v| v.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        } else {
            let conflicts: Vec<String> = app_plan
                .actions
                .iter()
                .filter(|a| a.action == ActionKind::Conflict)
                .map(|a| {
                    format!(
                        "{}: {}",
                        a.address,
                        a.reason.as_deref().unwrap_or("conflict")
                    )
                })
                .collect();
            (!conflicts.is_empty()).then(|| {
                format!(
                    "{} conflict(s); nothing of this app was applied: {}",
                    conflicts.len(),
                    conflicts.join("; ")
                )
            })
        };
        if let Some(reason) = blocked {
            reports[i].skipped = app_plan.actions.iter().filter(|a| needs_node(a)).count();
            reports[i].failure = Some(reason);
            continue;
        }
        for action in app_plan.actions.iter().filter(|a| needs_node(a)) {
            nodes.push(Node {
                app: i,
                action: action.clone(),
            });
        }
    }

    // Dependencies.
    let index: BTreeMap<(usize, &ResourceKey), usize> = nodes
        .iter()
        .enumerate()
        .map(|(n, node)| ((node.app, &node.action.key), n))
        .collect();
    // Principals first: everything else in a workspace (ACLs, grants, run_as
    // and group members name them) waits for the groups and service
    // principals other apps create there.
    let principal_creates: BTreeMap<&str, Vec<usize>> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.action.action == ActionKind::Create
                && matches!(n.action.key.kind, Kind::Group | Kind::ServicePrincipal)
        })
        .fold(BTreeMap::new(), |mut m, (i, n)| {
            m.entry(n.action.key.workspace.as_str())
                .or_insert_with(Vec::new)
                .push(i);
            m
        });
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
    for (n, node) in nodes.iter().enumerate() {
        for key in &node.action.after {
            if let Some(&d) = index.get(&(node.app, key)) {
                deps[n].insert(d);
            }
        }
        let principal = matches!(node.action.key.kind, Kind::Group | Kind::ServicePrincipal);
        if node.action.action.changes_workspace()
            && node.action.action != ActionKind::Delete
            && !principal
        {
            for &d in principal_creates
                .get(node.action.key.workspace.as_str())
                .into_iter()
                .flatten()
            {
                if nodes[d].app != node.app {
                    deps[n].insert(d);
                }
            }
        }
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (n, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(n);
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();

    let slots = clients
        .keys()
        .map(|ws| {
            let n = opts
                .concurrency
                .get(ws)
                .copied()
                .unwrap_or(DEFAULT_CONCURRENCY)
                .max(1);
            (ws.clone(), Arc::new(Semaphore::new(n)))
        })
        .collect();
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
        slots,
        cancel: cancel.clone(),
    });

    let mut state = vec![State::Pending; nodes.len()];
    let mut ready: VecDeque<usize> = (0..nodes.len()).filter(|n| waiting[*n] == 0).collect();
    let mut set: JoinSet<(usize, Result<Option<String>, ActionError>)> = JoinSet::new();
    let nodes = Arc::new(nodes);
    loop {
        while let Some(n) = ready.pop_front() {
            if state[n] != State::Pending {
                continue;
            }
            let app = nodes[n].app;
            if cancel.is_cancelled() {
                skip(
                    n,
                    "not attempted: the apply was cancelled",
                    &nodes,
                    &dependents,
                    &mut state,
                    &mut reports,
                    &*progress,
                );
                continue;
            }
            if let Some(reason) = &reports[app].failure {
                let reason = format!("not attempted: app stopped ({reason})");
                skip(
                    n,
                    &reason,
                    &nodes,
                    &dependents,
                    &mut state,
                    &mut reports,
                    &*progress,
                );
                continue;
            }
            state[n] = State::Running;
            progress(Progress::Started {
                app: reports[app].app.clone(),
                action: nodes[n].action.action,
                key: nodes[n].action.key.clone(),
            });
            let ctx = ctx.clone();
            let nodes = nodes.clone();
            set.spawn(async move {
                let node = &nodes[n];
                (n, actions::run(&ctx, node.app, &node.action).await)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (n, result) = match joined {
            Ok(r) => r,
            Err(err) => {
                // A panicking action: find nothing to attribute it to
                // beyond the running set; treat as a failure of none.
                tracing::error!(error = %err, "an apply task failed to complete");
                continue;
            }
        };
        let node = &nodes[n];
        let app = node.app;
        match result {
            Ok(id) => {
                state[n] = State::Done;
                reports[app].done += 1;
                *reports[app]
                    .by_action
                    .entry(node.action.action.as_str())
                    .or_default() += 1;
                progress(Progress::Finished {
                    app: reports[app].app.clone(),
                    action: node.action.action,
                    key: node.action.key.clone(),
                    id,
                    error: None,
                });
                for &d in &dependents[n] {
                    waiting[d] = waiting[d].saturating_sub(1);
                    if waiting[d] == 0 && state[d] == State::Pending {
                        ready.push_back(d);
                    }
                }
            }
            Err(ActionError::Cancelled) => {
                state[n] = State::Pending;
                skip(
                    n,
                    "not attempted: the apply was cancelled",
                    &nodes,
                    &dependents,
                    &mut state,
                    &mut reports,
                    &*progress,
                );
            }
            Err(error) => {
                let error = error.chain();
                state[n] = State::Failed;
                progress(Progress::Finished {
                    app: reports[app].app.clone(),
                    action: node.action.action,
                    key: node.action.key.clone(),
                    id: node.action.id.clone(),
                    error: Some(error.clone()),
                });
                if reports[app].failure.is_none() {
                    reports[app].failure = Some(format!("{}: {error}", node.action.address));
                }
                let reason = format!("depends on {}, which failed", node.action.address);
                for d in dependents[n].clone() {
                    skip(
                        d,
                        &reason,
                        &nodes,
                        &dependents,
                        &mut state,
                        &mut reports,
                        &*progress,
                    );
                }
            }
        }
    }
    ApplyReport { apps: reports }
}

/// Skips node `n` and everything that depends on it; a skipped node in
/// another app stops that app too.
fn skip(
    n: usize,
    reason: &str,
    nodes: &[Node],
    dependents: &[Vec<usize>],
    state: &mut [State],
    reports: &mut [AppReport],
    progress: &(dyn Fn(Progress) + Send + Sync),
) {
    let mut stack = vec![(n, reason.to_string())];
    while let Some((n, reason)) = stack.pop() {
        if state[n] != State::Pending {
            continue;
        }
        state[n] = State::Skipped;
        let node = &nodes[n];
        let report = &mut reports[node.app];
        report.skipped += 1;
        if report.failure.is_none() {
            report.failure = Some(format!("{}: {reason}", node.action.address));
        }
        progress(Progress::Skipped {
            app: report.app.clone(),
            key: node.action.key.clone(),
            reason: reason.clone(),
        });
        let next = format!("depends on {}, which was not applied", node.action.address);
        for &d in &dependents[n] {
            stack.push((d, next.clone()));
        }
    }
}
