//! The executor: runs an app tree's plan as a dependency graph.
//!
//! Every action waits for the actions it depends on (`after` in its app's
//! plan, and the creates of groups and service principals other apps make
//! in its workspace: ACLs, grants and `run_as` name them). Actions run concurrently, at most `concurrency` at once per
//! workspace. Each API call is preceded by an audit intent and followed by
//! an audit outcome; the app's inventory is saved after every action. An
//! app whose plan has a violation or a conflict applies nothing; an app
//! stops at its first hard failure (what depends on the failed action, in
//! any app, is skipped) while the other apps go on.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::inventory::{Inventory, InventoryStore};
use super::prepare::{Prepared, PreparedApp};
use super::resolve::{self, Known};
use super::secrets;
use crate::audit::{AuditAction, AuditEvent, AuditSink, ChangeSummary, Outcome, Trigger};
use crate::databricks::{Client, Desired, adapter};
use crate::manifest::{Kind, ResourceKey};
use crate::plan::{ActionKind, ManagedResource, Ownership, PlannedAction, mask};

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
    /// Relative `fromFile` secret paths are relative to this directory.
    pub secrets_base: PathBuf,
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

struct Ctx {
    apps: Vec<PreparedApp>,
    clients: BTreeMap<String, Client>,
    store: InventoryStore,
    audit: Arc<dyn AuditSink>,
    opts: ExecOptions,
    known: Mutex<Known>,
    inventories: Vec<Mutex<Inventory>>,
    slots: BTreeMap<String, Arc<Semaphore>>,
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
                "{} project rule violation(s); nothing of this app was applied: {}",
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
    });

    let mut state = vec![State::Pending; nodes.len()];
    let mut ready: VecDeque<usize> = (0..nodes.len()).filter(|n| waiting[*n] == 0).collect();
    let mut set: JoinSet<(usize, Result<Option<String>, String>)> = JoinSet::new();
    let nodes = Arc::new(nodes);
    loop {
        while let Some(n) = ready.pop_front() {
            if state[n] != State::Pending {
                continue;
            }
            let app = nodes[n].app;
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
                (n, run(&ctx, node.app, &node.action).await)
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
            Err(error) => {
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

impl Ctx {
    fn event(&self, app: &str, key: &ResourceKey, action: AuditAction) -> AuditEvent {
        let mut e = AuditEvent::intent(app, key, action, self.opts.trigger.clone());
        e.revision = self.opts.revision.clone();
        e.commit_author = self.opts.commit_author.clone();
        e.acting_as = self.opts.acting_as.get(&key.workspace).cloned();
        e
    }

    fn record(&self, event: &AuditEvent) -> Result<(), String> {
        // An fsync (or several): let the runtime move other tasks away.
        blocking(|| self.audit.record(event))
            .map(|_| ())
            .map_err(|e| format!("audit trail: {e}"))
    }

    /// Intent, call, outcome.
    async fn audited<T, F>(&self, intent: AuditEvent, call: F) -> Result<T, String>
    where
        F: std::future::Future<Output = Result<T, String>>,
        T: IdOf,
    {
        self.record(&intent)?;
        let result = call.await;
        let outcome = match &result {
            Ok(v) => intent.to_outcome(v.id_of(), Outcome::Ok),
            Err(e) => intent.to_outcome(None, Outcome::error(e)),
        };
        self.record(&outcome)?;
        result
    }

    fn save(&self, app: usize, change: impl FnOnce(&mut Inventory)) -> Result<(), String> {
        let mut inv = self.inventories[app]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut inv);
        blocking(|| self.store.save(&inv)).map_err(|e| e.to_string())
    }

    fn resolved(
        &self,
        app: &PreparedApp,
        key: &ResourceKey,
    ) -> Result<(Value, Vec<crate::manifest::PermissionEntry>), String> {
        let desired = app
            .desired
            .get(key)
            .ok_or_else(|| format!("{key} is not in the desired state"))?;
        let known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (spec, left) = resolve::resolve_value(&desired.spec, &key.workspace, &known, false);
        let (perms, left_p) =
            resolve::resolve_permissions(&desired.permissions, &key.workspace, &known, false);
        if left || left_p {
            return Err(format!(
                "{key}: a `${{resources.…}}` reference names an object whose id is not known (was it created?)"
            ));
        }
        Ok((spec, perms))
    }
}

/// Runs blocking file I/O (fsyncs) so the runtime can move other tasks to
/// another worker; on a single-threaded runtime it simply runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

trait IdOf {
    fn id_of(&self) -> Option<String>;
}

impl IdOf for () {
    fn id_of(&self) -> Option<String> {
        None
    }
}

impl IdOf for String {
    fn id_of(&self) -> Option<String> {
        Some(self.clone())
    }
}

/// Carries out one action; returns the object's id.
async fn run(
    ctx: &Ctx,
    app_index: usize,
    action: &PlannedAction,
) -> Result<Option<String>, String> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let client = ctx
        .clients
        .get(&key.workspace)
        .ok_or_else(|| format!("workspace `{}` is not configured", key.workspace))?;
    let _slot = match ctx.slots.get(&key.workspace) {
        Some(s) => Some(s.clone().acquire_owned().await.map_err(|e| e.to_string())?),
        None => None,
    };
    let span = tracing::info_span!("apply", app = %app.name, workspace = %key.workspace, kind = %key.kind, key = %key);
    run_action(ctx, app_index, client, action)
        .instrument(span)
        .await
}

async fn run_action(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<Option<String>, String> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    match action.action {
        ActionKind::Create => create(ctx, app_index, client, action).await.map(Some),
        ActionKind::Update | ActionKind::Adopt => {
            update(ctx, app_index, client, action).await?;
            Ok(action.id.clone())
        }
        ActionKind::Delete => {
            let id = action.id.clone().ok_or("no id to delete")?;
            let a = adapter(key.kind).ok_or("not a Databricks kind")?;
            let mut intent = ctx.event(&app.name, key, AuditAction::Delete);
            intent.databricks_id = Some(id.clone());
            ctx.audited(intent, async {
                a.delete(client, &id).await.map_err(|e| e.to_string())
            })
            .await?;
            ctx.save(app_index, |inv| {
                inv.remove(key);
            })?;
            Ok(Some(id))
        }
        ActionKind::Release | ActionKind::Forget => {
            ctx.save(app_index, |inv| {
                inv.remove(key);
            })?;
            Ok(action.id.clone())
        }
        _ => Ok(action.id.clone()),
    }
}

async fn create(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<String, String> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = adapter(key.kind).ok_or("not a Databricks kind")?;
    let (spec, perms) = ctx.resolved(app, key)?;
    let mut intent = ctx.event(&app.name, key, AuditAction::Create);
    intent.changes = action
        .changes
        .iter()
        .map(ChangeSummary::from_field)
        .collect();
    let desired = Desired {
        key,
        app: &app.name,
        spec: &spec,
    };
    let id: String = ctx
        .audited(intent, async {
            a.create(client, desired).await.map_err(|e| e.to_string())
        })
        .await?;
    {
        let mut known = ctx
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.ids.insert(key.clone(), id.clone());
    }
    if key.kind == Kind::ServicePrincipal {
        let live = a.get(client, &id).await.map_err(|e| e.to_string())?;
        if let Some(app_id) = live
            .as_ref()
            .and_then(|l| l.raw.get("applicationId"))
            .and_then(Value::as_str)
        {
            let mut known = ctx
                .known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            known
                .application_ids
                .insert(key.clone(), app_id.to_string());
        }
    }
    let normalized = app
        .normalized
        .get(key)
        .map(|r| r.spec.clone())
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        inv.upsert(
            key.clone(),
            ManagedResource {
                id: id.clone(),
                spec: normalized,
                permissions: Vec::new(),
                revision: ctx.opts.revision.clone(),
                ownership: Ownership::Created,
            },
        );
    })?;
    if key.kind == Kind::SecretScope {
        put_secrets(ctx, app, client, key, &id, None).await?;
    }
    if !perms.is_empty() {
        set_permissions(ctx, app_index, client, action, &id, &perms).await?;
    }
    Ok(id)
}

async fn put_secrets(
    ctx: &Ctx,
    app: &PreparedApp,
    client: &Client,
    key: &ResourceKey,
    scope: &str,
    only: Option<&[&str]>,
) -> Result<(), String> {
    for secret in app
        .secrets
        .iter()
        .filter(|s| &s.scope == key && only.is_none_or(|o| o.contains(&s.key.as_str())))
    {
        let value =
            secrets::read_value(secret, &ctx.opts.secrets_base).map_err(|e| e.to_string())?;
        let mut intent = ctx.event(&app.name, key, AuditAction::Update);
        intent.databricks_id = Some(scope.to_string());
        intent.changes = vec![ChangeSummary {
            path: format!("/secrets/{}", secret.key),
            old: None,
            new: Some(format!("\"{}\"", mask::SENSITIVE)),
        }];
        ctx.audited(intent, async {
            secrets::put(client, scope, &secret.key, &value)
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
    }
    Ok(())
}

async fn set_permissions(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
    id: &str,
    perms: &[crate::manifest::PermissionEntry],
) -> Result<(), String> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = adapter(key.kind).ok_or("not a Databricks kind")?;
    let mut intent = ctx.event(&app.name, key, AuditAction::SetPermissions);
    intent.databricks_id = Some(id.to_string());
    intent.changes = action
        .permission_changes
        .iter()
        .map(ChangeSummary::from_permission)
        .collect();
    ctx.audited(intent, async {
        a.write_permissions(client, id, perms)
            .await
            .map_err(|e| e.to_string())
    })
    .await?;
    let recorded = app
        .normalized
        .get(key)
        .map(|r| r.permissions.clone())
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        if let Some(mut m) = inv.get(key).cloned() {
            m.permissions = recorded;
            inv.upsert(key.clone(), m);
        }
    })
}

async fn update(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<(), String> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = adapter(key.kind).ok_or("not a Databricks kind")?;
    let id = action.id.clone().ok_or("no id to update")?;
    let (spec, perms) = ctx.resolved(app, key)?;
    let adopting = action.action == ActionKind::Adopt;
    let (secret_changes, changes): (Vec<_>, Vec<_>) = action
        .changes
        .iter()
        .cloned()
        .partition(|c| key.kind == Kind::SecretScope && c.path.starts_with("/secrets/"));
    let tagged = matches!(
        key.kind,
        Kind::Job | Kind::Cluster | Kind::InstancePool | Kind::SqlWarehouse
    );
    if !changes.is_empty() || (adopting && tagged) {
        let kind = if adopting {
            AuditAction::Adopt
        } else if changes.iter().any(|c| c.drift) {
            AuditAction::Heal
        } else {
            AuditAction::Update
        };
        let mut intent = ctx.event(&app.name, key, kind);
        intent.databricks_id = Some(id.clone());
        intent.changes = changes.iter().map(ChangeSummary::from_field).collect();
        let desired = Desired {
            key,
            app: &app.name,
            spec: &spec,
        };
        ctx.audited(intent, async {
            a.update(client, &id, desired)
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
    }
    let normalized = app
        .normalized
        .get(key)
        .map(|r| r.spec.clone())
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        let previous = inv.get(key).cloned();
        let ownership = match (&previous, adopting) {
            (_, true) => Ownership::Adopted,
            (Some(p), false) => p.ownership,
            (None, false) => Ownership::Created,
        };
        inv.upsert(
            key.clone(),
            ManagedResource {
                id: id.clone(),
                spec: normalized,
                permissions: previous.map(|p| p.permissions).unwrap_or_default(),
                revision: ctx.opts.revision.clone(),
                ownership,
            },
        );
    })?;
    if !secret_changes.is_empty() {
        let missing: Vec<&str> = secret_changes
            .iter()
            .filter_map(|c| c.path.strip_prefix("/secrets/"))
            .collect();
        put_secrets(ctx, app, client, key, &id, Some(&missing)).await?;
    }
    if !action.permission_changes.is_empty() {
        set_permissions(ctx, app_index, client, action, &id, &perms).await?;
    }
    Ok(())
}
