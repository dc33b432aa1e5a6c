//! The controller's memory and its decisions, with no I/O: which apps a new
//! revision touches, which are due for a drift check or a retry, which wait
//! for their `dependsOn`, what a plan means for an app under its policy, and
//! how every outcome changes the app's status.
//!
//! Time comes in as arguments, so every rule is tested without a clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use super::pacing::{self, DriftCost};
use super::policy::{self, Cause, Pending, Verdict, Waiting};
use crate::audit::Trigger;
use crate::cluster::Holdings;
use crate::manifest::app::SyncPolicy;
use crate::manifest::render::Rendered;
use crate::model::status::{Condition, ConditionKind, DriftCheck, SyncCounts, SyncResult, SyncRun};
use crate::model::{AppStatus, ControllerStatus, Health, SyncStatus};
use crate::plan::AppPlan;

/// What the rendered tree says about one app.
#[derive(Debug, Clone, PartialEq)]
pub struct AppView {
    pub name: String,
    pub parent: Option<String>,
    pub depth: usize,
    pub project: String,
    pub workspace: Option<String>,
    pub policy: SyncPolicy,
    pub depends_on: Vec<String>,
    /// A fingerprint of everything the app renders to: equal fingerprints,
    /// equal desired state.
    pub digest: u64,
    /// Why the app cannot be rendered, when it cannot.
    pub blocked: Option<String>,
    /// Requests a drift check is expected to take before one is measured.
    pub estimated_requests: f64,
}

impl AppView {
    /// Every app of a rendered tree, blocked ones included, in tree order.
    pub fn of_tree(rendered: &Rendered) -> Vec<AppView> {
        let mut views: Vec<AppView> = rendered
            .apps
            .iter()
            .map(|app| {
                let kinds: BTreeSet<_> = app.resources.iter().map(|r| r.key.kind).collect();
                AppView {
                    name: app.name.clone(),
                    parent: app.parent.clone(),
                    depth: app.depth,
                    project: app.project.clone(),
                    workspace: app.workspace.clone(),
                    policy: app.sync_policy.clone(),
                    depends_on: app.depends_on.clone(),
                    digest: digest(app),
                    blocked: None,
                    estimated_requests: pacing::estimated_cost(app.resources.len(), kinds.len()),
                }
            })
            .collect();
        for b in &rendered.blocked {
            let first = b
                .diagnostics
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            let more = b.diagnostics.len().saturating_sub(1);
            views.push(AppView {
                name: b.name.clone(),
                parent: b.parent.clone(),
                depth: views
                    .iter()
                    .find(|v| Some(&v.name) == b.parent.as_ref())
                    .map_or(0, |p| p.depth + 1),
                project: b.project.clone(),
                workspace: b.workspace.clone(),
                policy: SyncPolicy::default(),
                depends_on: Vec::new(),
                digest: 0,
                blocked: Some(if more > 0 {
                    format!("{first} (and {more} more)")
                } else {
                    first
                }),
                estimated_requests: 0.0,
            });
        }
        views
    }
}

fn digest(app: &crate::manifest::render::RenderedApp) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(app).unwrap_or_default().hash(&mut h);
    h.finish()
}

/// What the controller remembers about an app beyond its status.
#[derive(Debug, Clone, Default)]
struct Memory {
    /// The fingerprint of the desired state last applied in full.
    applied_digest: Option<u64>,
    /// The fingerprint of the desired state last rendered.
    seen_digest: Option<u64>,
    /// A look the app is waiting for, and why.
    wanted: Option<Cause>,
    /// Who asked for the look, when someone did (a sync request).
    requested_by: Option<Trigger>,
    /// The request asked to prune, whatever the app's policy says.
    prune_once: bool,
    /// Retries of the current failure used so far.
    retries: u32,
    retry_at: Option<Timestamp>,
    drift_at: Option<Timestamp>,
    /// Requests the last drift check took.
    drift_requests: Option<f64>,
}

/// Pacing the tracker needs.
#[derive(Debug, Clone)]
pub struct Pace {
    pub drift_interval: Duration,
    pub drift_budget: f64,
    /// Requests per second each workspace allows.
    pub requests_per_second: BTreeMap<String, f64>,
}

/// An app held back by its `dependsOn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub app: String,
    pub waiting_for: String,
    /// The dependency failed or is blocked (rather than merely pending).
    pub failed: bool,
}

/// The controller's view of every app.
#[derive(Debug, Clone)]
pub struct Tracker {
    status: ControllerStatus,
    views: Vec<AppView>,
    memory: BTreeMap<String, Memory>,
    pace: Pace,
    /// The shards this replica holds: only their apps are due here.
    holdings: Holdings,
}

impl Tracker {
    /// Starts from the status a previous run saved, if any.
    pub fn new(restored: Option<ControllerStatus>, pace: Pace) -> Tracker {
        Tracker {
            status: restored.unwrap_or_default(),
            views: Vec::new(),
            memory: BTreeMap::new(),
            pace,
            holdings: Holdings::everything(),
        }
    }

    /// Takes in the shards this replica holds now. Apps of a shard just
    /// taken over want a look at once: the replica that had them may have
    /// left work half done.
    pub fn set_holdings(&mut self, holdings: Holdings) {
        let before = std::mem::replace(&mut self.holdings, holdings);
        for view in &self.views {
            if self.holdings.owns(&view.name)
                && !before.owns(&view.name)
                && let Some(m) = self.memory.get_mut(&view.name)
            {
                m.wanted.get_or_insert(Cause::Takeover);
            }
        }
    }

    /// Whether this replica reconciles `app`.
    pub fn owns(&self, app: &str) -> bool {
        self.holdings.owns(app)
    }

    pub fn status(&self) -> &ControllerStatus {
        &self.status
    }

    pub fn status_mut(&mut self) -> &mut ControllerStatus {
        &mut self.status
    }

    /// Takes in the status another replica kept for an app this one has
    /// just taken over: how its last sync went and at which revision, its
    /// last drift check, and the conditions those left. What this replica
    /// knows better stays: what the tree says (parent, project, policy,
    /// revision seen), a render failure, a held dependency, a pin. An app
    /// not in the tree is left alone.
    pub fn restore_app(&mut self, kept: AppStatus) {
        let Some(status) = self.app_mut(&kept.name) else {
            return;
        };
        let from_history = |kind: ConditionKind| {
            matches!(
                kind,
                ConditionKind::SyncFailed
                    | ConditionKind::Drift
                    | ConditionKind::WaitingForSync
                    | ConditionKind::GuardRefused
            )
        };
        if status.health != Health::Blocked {
            status.sync = kept.sync;
            status.health = kept.health;
        }
        status.revision_applied = kept.revision_applied;
        status.last_sync = kept.last_sync;
        status.last_drift_check = kept.last_drift_check;
        status.conditions.retain(|c| !from_history(c.kind));
        status
            .conditions
            .extend(kept.conditions.into_iter().filter(|c| from_history(c.kind)));
        status.conditions.sort_by_key(|c| c.kind);
    }

    pub fn view(&self, app: &str) -> Option<&AppView> {
        self.views.iter().find(|v| v.name == app)
    }

    pub fn app(&self, app: &str) -> Option<&AppStatus> {
        self.status.app(app)
    }

    fn app_mut(&mut self, app: &str) -> Option<&mut AppStatus> {
        self.status.apps.iter_mut().find(|a| a.name == app)
    }

    /// Takes in the tree rendered at `commit`. Apps whose desired state
    /// changed (or that were never applied) want a look for `cause`; apps
    /// unchanged and in sync move to the new revision without a call.
    /// Returns the names of apps that left the tree.
    pub fn set_tree(
        &mut self,
        views: Vec<AppView>,
        commit: Option<&str>,
        cause: Cause,
        now: Timestamp,
    ) -> Vec<String> {
        let names: BTreeSet<&str> = views.iter().map(|v| v.name.as_str()).collect();
        let gone: Vec<String> = self
            .status
            .apps
            .iter()
            .filter(|a| !names.contains(a.name.as_str()))
            .map(|a| a.name.clone())
            .collect();
        let mut apps = Vec::with_capacity(views.len());
        for view in &views {
            let mut status = self
                .status
                .app(&view.name)
                .cloned()
                .unwrap_or_else(|| AppStatus::unknown(&view.name));
            status.parent = view.parent.clone();
            status.depth = view.depth;
            status.project = view.project.clone();
            status.workspace = view.workspace.clone();
            status.depends_on = view.depends_on.clone();
            if view.blocked.is_none() {
                status.automated = view.policy.automated.is_some();
                status.self_heal = view.policy.automated.is_some_and(|a| a.self_heal);
                status.prune = view.policy.automated.is_some_and(|a| a.prune);
            }
            let memory = self.memory.entry(view.name.clone()).or_default();
            match &view.blocked {
                Some(reason) => {
                    status.health = Health::Blocked;
                    status.sync = SyncStatus::Unknown;
                    set_condition(&mut status, ConditionKind::RenderFailed, reason, now);
                    memory.wanted = None;
                }
                None => {
                    clear_condition(&mut status, ConditionKind::RenderFailed);
                    status.revision_seen = commit.map(str::to_string);
                    if status.pinned.is_some() {
                        // Held at its pin: a new revision waits for the unpin.
                    } else {
                        let changed = memory.seen_digest != Some(view.digest);
                        memory.seen_digest = Some(view.digest);
                        if !changed {
                            // Same desired state as before: an app in sync
                            // is in sync at this revision too.
                            if status.sync == SyncStatus::Synced
                                && memory.applied_digest == Some(view.digest)
                            {
                                status.revision_applied = commit.map(str::to_string);
                            }
                        } else {
                            memory.wanted = Some(cause);
                            memory.retries = 0;
                            memory.retry_at = None;
                        }
                    }
                    if memory.drift_at.is_none() {
                        memory.drift_at = Some(now + self.pace.drift_interval);
                    }
                }
            }
            apps.push(status);
        }
        for name in &gone {
            self.memory.remove(name);
        }
        self.status.apps = apps;
        self.status.updated = Some(now);
        self.views = views;
        gone
    }

    /// Asks for a look at `app` (a sync request, a rollback).
    pub fn want(&mut self, app: &str, cause: Cause) {
        if let Some(m) = self.memory.get_mut(app) {
            m.wanted = Some(cause);
        }
    }

    /// As [`Tracker::want`], on someone's request: the sync it leads to
    /// is audited as theirs.
    pub fn want_by(&mut self, app: &str, cause: Cause, by: Trigger, prune: bool) {
        if let Some(m) = self.memory.get_mut(app) {
            m.wanted = Some(cause);
            m.requested_by = Some(by);
            m.prune_once = prune;
        }
    }

    /// Whether the look the app waits for was asked to prune.
    pub fn prune_once(&self, app: &str) -> bool {
        self.memory.get(app).is_some_and(|m| m.prune_once)
    }

    /// Who asked for the look the app is waiting for, if anyone did.
    pub fn requested_by(&self, app: &str) -> Option<Trigger> {
        self.memory.get(app).and_then(|m| m.requested_by.clone())
    }

    /// Takes in the pins in force: a newly pinned app is synced to its pin
    /// (a rollback) with automated sync paused; an unpinned one resumes and
    /// is synced to the revision seen.
    pub fn set_pins(&mut self, pins: &BTreeMap<String, String>, now: Timestamp) {
        let mut wants = Vec::new();
        for status in &mut self.status.apps {
            let pin = pins.get(&status.name);
            if pin == status.pinned.as_ref() {
                continue;
            }
            match pin {
                Some(commit) => {
                    status.pinned = Some(commit.clone());
                    status.paused = true;
                    let short = commit.get(..12).unwrap_or(commit);
                    set_condition(
                        status,
                        ConditionKind::Paused,
                        &format!(
                            "pinned to {short}: automated sync is paused until the pin is removed"
                        ),
                        now,
                    );
                    wants.push((status.name.clone(), Cause::Rollback));
                }
                None => {
                    status.pinned = None;
                    status.paused = false;
                    clear_condition(status, ConditionKind::Paused);
                    wants.push((status.name.clone(), Cause::Manual));
                }
            }
        }
        for (app, cause) in wants {
            if let Some(m) = self.memory.get_mut(&app) {
                m.wanted = Some(cause);
                m.applied_digest = None;
                m.retries = 0;
                m.retry_at = None;
            }
        }
    }

    /// The commit an app is pinned to.
    pub fn pinned(&self, app: &str) -> Option<&str> {
        self.app(app).and_then(|s| s.pinned.as_deref())
    }

    /// The apps to look at now and why: wanted ones, then due retries, then
    /// due drift checks. Blocked apps never.
    pub fn due(&self, now: Timestamp) -> Vec<(String, Cause)> {
        let mut out = Vec::new();
        for view in self
            .views
            .iter()
            .filter(|v| v.blocked.is_none() && self.holdings.owns(&v.name))
        {
            let Some(m) = self.memory.get(&view.name) else {
                continue;
            };
            let cause = if let Some(cause) = m.wanted {
                Some(cause)
            } else if m.retry_at.is_some_and(|t| t <= now) {
                Some(Cause::Retry)
            } else if m.drift_at.is_some_and(|t| t <= now) {
                Some(Cause::Drift)
            } else {
                None
            };
            if let Some(cause) = cause {
                out.push((view.name.clone(), cause));
            }
        }
        out
    }

    /// Splits `due` into the apps that may go now and those their
    /// `dependsOn` holds back: a dependency must be Synced with its last
    /// sync a success, and not be part of this round itself.
    pub fn gate(
        &mut self,
        due: Vec<(String, Cause)>,
        now: Timestamp,
    ) -> (Vec<(String, Cause)>, Vec<Held>) {
        let in_round: BTreeSet<String> = due.iter().map(|(a, _)| a.clone()).collect();
        let mut ready = Vec::new();
        let mut held = Vec::new();
        for (app, cause) in due {
            let deps = self
                .view(&app)
                .map(|v| v.depends_on.clone())
                .unwrap_or_default();
            let blocker = deps.iter().find_map(|dep| {
                let status = self.status.app(dep);
                let failed = status.is_none_or(|s| {
                    matches!(s.health, Health::Blocked | Health::Error)
                        || s.last_sync
                            .as_ref()
                            .is_some_and(|r| r.result != SyncResult::Succeeded)
                });
                let pending =
                    in_round.contains(dep) || status.is_none_or(|s| s.sync != SyncStatus::Synced);
                (failed || pending).then(|| Held {
                    app: app.clone(),
                    waiting_for: dep.clone(),
                    failed,
                })
            });
            match blocker {
                Some(h) => held.push(h),
                None => ready.push((app, cause)),
            }
        }
        for h in &held {
            let message = if h.failed {
                format!(
                    "held: dependency `{}` failed or is blocked; it must sync successfully first",
                    h.waiting_for
                )
            } else {
                format!("waiting for dependency `{}` to be Synced", h.waiting_for)
            };
            if let Some(status) = self.app_mut(&h.app) {
                status.health = if h.failed {
                    Health::Blocked
                } else {
                    Health::Progressing
                };
                set_condition(status, ConditionKind::DependencyHeld, &message, now);
            }
        }
        for (app, _) in &ready {
            if let Some(status) = self.app_mut(app) {
                clear_condition(status, ConditionKind::DependencyHeld);
            }
        }
        (ready, held)
    }

    /// Takes in an app's plan, made for `cause`: updates its sync status and
    /// drift check and says what to do next.
    pub fn planned(&mut self, plan: &AppPlan, cause: Cause, now: Timestamp) -> Verdict {
        let app = plan.app.clone();
        let Some(view) = self.view(&app).cloned() else {
            // An orphan: Git no longer declares it; its plan is applied as made.
            return if plan.summary.has_changes() {
                Verdict::Apply
            } else {
                Verdict::InSync
            };
        };
        let drifted: Vec<String> = plan
            .actions
            .iter()
            .filter(|a| a.drift && a.action.changes_workspace())
            .map(|a| {
                let mut fields: Vec<String> = a.changes.iter().map(|c| c.path.clone()).collect();
                if a.permission_changes.iter().any(|c| c.drift) {
                    fields.push("permissions".into());
                }
                format!("{}/{} ({})", a.key.kind, a.key.name, fields.join(", "))
            })
            .collect();
        let changes = plan.summary.has_changes();
        let pending = Pending {
            from_git: changes && plan.summary.drift < changed_actions(plan),
            drift: !drifted.is_empty(),
        };
        let paused = self.app(&app).is_some_and(|s| s.paused);
        let verdict = if plan.is_blocked() {
            Verdict::Report(Waiting::Manual)
        } else {
            policy::verdict(&view.policy, paused, cause, pending)
        };
        let interval = self.drift_period(&app);
        let memory = self.memory.entry(app.clone()).or_default();
        memory.wanted = None;
        memory.requested_by = None;
        memory.prune_once = false;
        memory.drift_at = Some(now + interval);
        let Some(status) = self.status.apps.iter_mut().find(|a| a.name == app) else {
            return verdict;
        };
        status.last_drift_check = Some(DriftCheck {
            at: now,
            drifted: drifted.len(),
            resources: drifted.iter().take(10).cloned().collect(),
        });
        if plan.is_blocked() {
            let reasons: Vec<String> = plan.violations.iter().map(|v| v.message.clone()).collect();
            status.sync = SyncStatus::OutOfSync;
            status.health = Health::Blocked;
            set_condition(
                status,
                ConditionKind::GuardRefused,
                &reasons.join("; "),
                now,
            );
            return verdict;
        }
        clear_condition(status, ConditionKind::GuardRefused);
        if pending.drift {
            set_condition(
                status,
                ConditionKind::Drift,
                &format!("changed outside Mortar: {}", drifted.join("; ")),
                now,
            );
        } else {
            clear_condition(status, ConditionKind::Drift);
        }
        match &verdict {
            Verdict::InSync => {
                status.sync = SyncStatus::Synced;
                status.health = Health::Healthy;
                clear_condition(status, ConditionKind::WaitingForSync);
                clear_condition(status, ConditionKind::SyncFailed);
                status.revision_applied = status
                    .pinned
                    .clone()
                    .or_else(|| status.revision_seen.clone());
                if status.pinned.is_none() {
                    memory.applied_digest = Some(view.digest);
                }
                memory.retries = 0;
                memory.retry_at = None;
            }
            Verdict::Apply => {
                status.sync = SyncStatus::OutOfSync;
                status.health = Health::Progressing;
            }
            Verdict::Report(waiting) => {
                status.sync = SyncStatus::OutOfSync;
                let (health, message) = match waiting {
                    Waiting::Manual => (
                        Health::Healthy,
                        "changes wait for a sync: the app has no automated sync policy",
                    ),
                    Waiting::NoSelfHeal => (
                        Health::Degraded,
                        "drift is reported only: the app's policy does not self-heal",
                    ),
                    Waiting::Paused => (Health::Healthy, "automated sync is paused"),
                    Waiting::DryRun => (
                        Health::Healthy,
                        "a dry run found changes; nothing was applied",
                    ),
                };
                status.health = health;
                set_condition(status, ConditionKind::WaitingForSync, message, now);
            }
        }
        // A source problem outranks what the plan says.
        status.health = source_health(status).unwrap_or(status.health);
        verdict
    }

    /// Records how an app's sync went.
    pub fn synced(&mut self, app: &str, run: SyncRun, now: Timestamp) {
        let retry = self.view(app).and_then(|v| v.policy.retry.clone());
        let digest = self.view(app).map(|v| v.digest);
        let memory = self.memory.entry(app.to_string()).or_default();
        let Some(status) = self.status.apps.iter_mut().find(|a| a.name == app) else {
            return;
        };
        match run.result {
            SyncResult::Succeeded => {
                status.sync = SyncStatus::Synced;
                status.health = Health::Healthy;
                status.revision_applied = run.revision.clone();
                clear_condition(status, ConditionKind::SyncFailed);
                clear_condition(status, ConditionKind::Drift);
                clear_condition(status, ConditionKind::WaitingForSync);
                if status.pinned.is_none() {
                    memory.applied_digest = digest;
                }
                memory.retries = 0;
                memory.retry_at = None;
            }
            SyncResult::Failed | SyncResult::Cancelled => {
                status.sync = SyncStatus::OutOfSync;
                status.health = Health::Degraded;
                let message = run
                    .message
                    .clone()
                    .unwrap_or_else(|| "the sync did not finish".into());
                memory.retries += 1;
                memory.retry_at = retry
                    .as_ref()
                    .and_then(|r| policy::retry_delay(r, memory.retries))
                    .map(|d| now + d);
                let next = match (memory.retry_at, &retry) {
                    (Some(at), _) => format!("; retry {} at {at}", memory.retries),
                    (None, Some(_)) => "; retries used up".to_string(),
                    (None, None) => String::new(),
                };
                set_condition(
                    status,
                    ConditionKind::SyncFailed,
                    &format!("{message}{next}"),
                    now,
                );
            }
        }
        status.last_sync = Some(run);
    }

    /// The app could not be planned or applied (a workspace unreachable,
    /// the state locked): it is in error and looked at again soon.
    pub fn unreachable(&mut self, app: &str, message: &str, now: Timestamp) {
        let again = self.pace.drift_interval.min(Duration::from_secs(30));
        if let Some(m) = self.memory.get_mut(app) {
            m.wanted = None;
            m.requested_by = None;
            m.prune_once = false;
            m.retry_at = Some(now + again);
        }
        if let Some(status) = self.app_mut(app) {
            status.health = Health::Error;
            status.sync = SyncStatus::Unknown;
            set_condition(status, ConditionKind::SyncFailed, message, now);
        }
    }

    /// A credential rotation of the app failed: said in its conditions,
    /// without changing its sync status or health.
    pub fn rotation_failed(&mut self, app: &str, message: &str, now: Timestamp) {
        if let Some(status) = self.app_mut(app) {
            set_condition(status, ConditionKind::RotationFailed, message, now);
        }
    }

    /// The app's rotations went through: any rotation failure is cleared.
    pub fn rotation_ok(&mut self, app: &str) {
        if let Some(status) = self.app_mut(app) {
            clear_condition(status, ConditionKind::RotationFailed);
        }
    }

    /// Records the requests an app's drift check took.
    pub fn measured(&mut self, app: &str, requests: f64) {
        if let Some(m) = self.memory.get_mut(app) {
            m.drift_requests = Some(requests);
        }
    }

    /// The source could not be fetched or its head was refused: every app
    /// keeps its last good revision and says why.
    pub fn source_problem(&mut self, kind: ConditionKind, message: &str, now: Timestamp) {
        self.status.source.error = Some(message.to_string());
        for status in &mut self.status.apps {
            set_condition(status, kind, message, now);
            status.health = source_health(status).unwrap_or(status.health);
        }
    }

    /// The source is fine again: apps the problem marked are looked at
    /// again, so their health says what their workspace holds.
    pub fn source_ok(&mut self) {
        self.status.source.error = None;
        let mut again = Vec::new();
        for status in &mut self.status.apps {
            let had = status.condition(ConditionKind::RevisionRefused).is_some()
                || status.condition(ConditionKind::SourceUnavailable).is_some();
            clear_condition(status, ConditionKind::RevisionRefused);
            clear_condition(status, ConditionKind::SourceUnavailable);
            if had && status.condition(ConditionKind::RenderFailed).is_none() {
                status.health = Health::Progressing;
                again.push(status.name.clone());
            }
        }
        for app in again {
            if let Some(m) = self.memory.get_mut(&app)
                && m.wanted.is_none()
            {
                m.wanted = Some(Cause::Poll);
            }
        }
    }

    /// The earliest time something is due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.views
            .iter()
            .filter(|v| v.blocked.is_none() && self.holdings.owns(&v.name))
            .filter_map(|v| self.memory.get(&v.name))
            .flat_map(|m| [m.retry_at, m.drift_at])
            .flatten()
            .min()
    }

    /// The interval between an app's drift checks, under the budget share.
    fn drift_period(&self, app: &str) -> Duration {
        let Some(ws) = self.view(app).and_then(|v| v.workspace.clone()) else {
            return self.pace.drift_interval;
        };
        let costs: Vec<DriftCost> = self
            .views
            .iter()
            .filter(|v| v.workspace.as_deref() == Some(ws.as_str()) && v.blocked.is_none())
            .map(|v| DriftCost {
                workspace: ws.clone(),
                requests: self
                    .memory
                    .get(&v.name)
                    .and_then(|m| m.drift_requests)
                    .unwrap_or(v.estimated_requests),
            })
            .collect();
        pacing::drift_periods(
            self.pace.drift_interval,
            &costs,
            &self.pace.requests_per_second,
            self.pace.drift_budget,
        )
        .remove(&ws)
        .unwrap_or(self.pace.drift_interval)
    }

    /// Moves an app's next drift check (jitter from the caller).
    pub fn jitter_drift(&mut self, app: &str, u: f64, now: Timestamp) {
        let period = self.drift_period(app);
        if let Some(m) = self.memory.get_mut(app) {
            m.drift_at = Some(now + pacing::jittered(period, u));
        }
    }
}

/// Actions in a plan that change a workspace or need a person.
fn changed_actions(plan: &AppPlan) -> usize {
    let s = &plan.summary;
    s.create + s.update + s.adopt + s.delete + s.conflict
}

fn set_condition(status: &mut AppStatus, kind: ConditionKind, message: &str, now: Timestamp) {
    match status.conditions.iter_mut().find(|c| c.kind == kind) {
        Some(c) if c.message == message => {}
        Some(c) => {
            c.message = message.to_string();
            c.since = now;
        }
        None => {
            status.conditions.push(Condition {
                kind,
                message: message.to_string(),
                since: now,
            });
            status.conditions.sort_by_key(|c| c.kind);
        }
    }
}

/// The health a source problem gives an app: Blocked for a refused head,
/// Error for a source that cannot be read.
fn source_health(status: &AppStatus) -> Option<Health> {
    if status.condition(ConditionKind::RevisionRefused).is_some() {
        Some(Health::Blocked)
    } else if status.condition(ConditionKind::SourceUnavailable).is_some() {
        Some(Health::Error)
    } else {
        None
    }
}

fn clear_condition(status: &mut AppStatus, kind: ConditionKind) {
    status.conditions.retain(|c| c.kind != kind);
}

/// Counts for a sync record.
pub fn counts(
    by_action: &BTreeMap<&'static str, usize>,
    failed: usize,
    skipped: usize,
) -> SyncCounts {
    let get = |k: &str| by_action.get(k).copied().unwrap_or(0);
    SyncCounts {
        created: get("create") + get("adopt"),
        updated: get("update"),
        deleted: get("delete"),
        failed,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::app::{Automated, Retry};
    use crate::model::{ActionKind, FieldChange, Kind, ResourceKey};
    use crate::plan::PlannedAction;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn view(name: &str, digest: u64, automated: Option<(bool, bool)>, deps: &[&str]) -> AppView {
        AppView {
            name: name.into(),
            parent: Some("root".into()),
            depth: 1,
            project: "default".into(),
            workspace: Some("dev".into()),
            policy: SyncPolicy {
                automated: automated.map(|(prune, self_heal)| Automated { prune, self_heal }),
                retry: Some(Retry {
                    limit: 2,
                    backoff_duration: "10s".into(),
                    backoff_factor: 2,
                    backoff_max_duration: "1m".into(),
                }),
            },
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            digest,
            blocked: None,
            estimated_requests: 4.0,
        }
    }

    #[test]
    fn a_taken_over_app_keeps_its_history_from_the_last_owner_and_its_tree_from_here() {
        let mut tr = tracker();
        tr.set_tree(
            vec![view("team", 1, Some((false, true)), &["base"])],
            Some("c2"),
            Cause::Takeover,
            t(0),
        );
        let mut kept = AppStatus::unknown("team");
        kept.sync = SyncStatus::OutOfSync;
        kept.health = Health::Degraded;
        kept.revision_seen = Some("c1".into());
        kept.revision_applied = Some("c1".into());
        kept.project = "elsewhere".into();
        kept.conditions = vec![
            Condition {
                kind: ConditionKind::SyncFailed,
                message: "403 on job x".into(),
                since: t(-60),
            },
            Condition {
                kind: ConditionKind::DependencyHeld,
                message: "waiting for base".into(),
                since: t(-60),
            },
        ];
        tr.restore_app(kept);
        tr.restore_app(AppStatus::unknown("not-in-the-tree"));
        let app = tr.app("team").unwrap();
        assert_eq!(
            (app.sync, app.health),
            (SyncStatus::OutOfSync, Health::Degraded)
        );
        assert_eq!(app.revision_applied.as_deref(), Some("c1"));
        // What the tree says comes from this replica's render.
        assert_eq!(app.revision_seen.as_deref(), Some("c2"));
        assert_eq!(app.project, "default");
        assert!(app.self_heal);
        // Held dependencies are decided here, not taken over.
        let kinds: Vec<ConditionKind> = app.conditions.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ConditionKind::SyncFailed]);
        assert!(tr.app("not-in-the-tree").is_none());
    }

    fn tracker() -> Tracker {
        Tracker::new(
            None,
            Pace {
                drift_interval: Duration::from_secs(300),
                drift_budget: 0.25,
                requests_per_second: BTreeMap::from([("dev".to_string(), 30.0)]),
            },
        )
    }

    fn plan(app: &str, actions: &[(ActionKind, bool)]) -> AppPlan {
        let mut p = AppPlan {
            app: app.into(),
            actions: actions
                .iter()
                .enumerate()
                .map(|(i, (kind, drift))| {
                    let key = ResourceKey {
                        workspace: "dev".into(),
                        kind: Kind::Job,
                        name: format!("job{i}"),
                    };
                    PlannedAction {
                        action: *kind,
                        address: key.to_string(),
                        key,
                        id: Some(i.to_string()),
                        changes: vec![FieldChange {
                            path: "max_concurrent_runs".into(),
                            old: None,
                            new: None,
                            drift: *drift,
                            sensitive: false,
                        }],
                        permission_changes: Vec::new(),
                        drift: *drift,
                        reason: None,
                        after: Vec::new(),
                    }
                })
                .collect(),
            violations: Vec::new(),
            warnings: Vec::new(),
            summary: Default::default(),
        };
        p.resummarize();
        p
    }

    fn run(result: SyncResult, revision: &str) -> SyncRun {
        SyncRun {
            started: t(0),
            finished: t(1),
            trigger: "poll".into(),
            revision: Some(revision.into()),
            author: None,
            result,
            counts: SyncCounts::default(),
            message: (result == SyncResult::Failed).then(|| "jobs/create: 500".into()),
        }
    }

    fn names(due: &[(String, Cause)]) -> Vec<&str> {
        due.iter().map(|(a, _)| a.as_str()).collect()
    }

    #[test]
    fn a_new_revision_looks_only_at_the_apps_it_changes() {
        let mut tr = tracker();
        let auto = Some((false, false));
        tr.set_tree(
            vec![view("a", 1, auto, &[]), view("b", 2, auto, &[])],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        assert_eq!(names(&tr.due(t(0))), vec!["a", "b"]);
        for app in ["a", "b"] {
            assert_eq!(
                tr.planned(
                    &plan(app, &[(ActionKind::NoOp, false)]),
                    Cause::Startup,
                    t(0)
                ),
                Verdict::InSync
            );
        }
        assert!(tr.due(t(1)).is_empty());
        // c2 changes only b.
        tr.set_tree(
            vec![view("a", 1, auto, &[]), view("b", 3, auto, &[])],
            Some("c2"),
            Cause::Webhook,
            t(10),
        );
        assert_eq!(tr.due(t(10)), vec![("b".to_string(), Cause::Webhook)]);
        let a = tr.app("a").unwrap();
        assert_eq!(a.revision_applied.as_deref(), Some("c2"));
        assert_eq!(a.sync, SyncStatus::Synced);
        assert_eq!(tr.app("b").unwrap().revision_seen.as_deref(), Some("c2"));
        assert_eq!(
            tr.planned(
                &plan("b", &[(ActionKind::Update, false)]),
                Cause::Webhook,
                t(10)
            ),
            Verdict::Apply
        );
        tr.synced("b", run(SyncResult::Succeeded, "c2"), t(11));
        let b = tr.app("b").unwrap();
        assert_eq!((b.sync, b.health), (SyncStatus::Synced, Health::Healthy));
        assert_eq!(b.revision_applied.as_deref(), Some("c2"));
    }

    #[test]
    fn only_the_apps_of_held_shards_are_due_and_a_takeover_looks_at_once() {
        let mut tr = tracker();
        let auto = Some((false, false));
        let apps: Vec<String> = (0..12).map(|i| format!("team-{i}")).collect();
        tr.set_tree(
            apps.iter().map(|a| view(a, 1, auto, &[])).collect(),
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        let shard0 = Holdings {
            shards: 2,
            held: BTreeSet::from([0]),
        };
        tr.set_holdings(shard0.clone());
        let due = tr.due(t(0));
        assert!(!due.is_empty() && due.len() < apps.len(), "{due:?}");
        assert!(due.iter().all(|(a, _)| shard0.owns(a)));
        for (app, _) in &due {
            tr.planned(
                &plan(app, &[(ActionKind::NoOp, false)]),
                Cause::Startup,
                t(0),
            );
        }
        assert!(tr.due(t(1)).is_empty());
        // The other replica's shard moves here: its apps are looked at now.
        tr.set_holdings(Holdings {
            shards: 2,
            held: BTreeSet::from([0, 1]),
        });
        let taken = tr.due(t(2));
        assert_eq!(taken.len(), apps.len() - due.len());
        assert!(
            taken
                .iter()
                .all(|(a, c)| !shard0.owns(a) && *c == Cause::Startup)
        );
        // Losing a shard stops its apps' drift checks here.
        tr.set_holdings(Holdings::nothing(2));
        assert!(tr.due(t(100_000)).is_empty());
        assert_eq!(tr.next_due(), None);
    }

    #[test]
    fn drift_checks_come_due_and_heal_only_with_self_heal() {
        let mut tr = tracker();
        tr.set_tree(
            vec![
                view("heal", 1, Some((false, true)), &[]),
                view("report", 2, Some((false, false)), &[]),
            ],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        for app in ["heal", "report"] {
            tr.planned(&plan(app, &[]), Cause::Startup, t(0));
        }
        assert!(tr.due(t(299)).is_empty());
        let due = tr.due(t(300));
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|(_, c)| *c == Cause::Drift));
        let drifted = [(ActionKind::Update, true)];
        assert_eq!(
            tr.planned(&plan("heal", &drifted), Cause::Drift, t(300)),
            Verdict::Apply
        );
        assert_eq!(
            tr.planned(&plan("report", &drifted), Cause::Drift, t(300)),
            Verdict::Report(Waiting::NoSelfHeal)
        );
        let report = tr.app("report").unwrap();
        assert_eq!(
            (report.sync, report.health),
            (SyncStatus::OutOfSync, Health::Degraded)
        );
        let check = report.last_drift_check.as_ref().unwrap();
        assert_eq!(check.drifted, 1);
        assert_eq!(check.resources, vec!["Job/job0 (max_concurrent_runs)"]);
        assert!(
            report
                .condition(ConditionKind::Drift)
                .unwrap()
                .message
                .contains("Job/job0")
        );
        // The next check is a whole interval later.
        assert!(tr.due(t(301)).is_empty());
    }

    #[test]
    fn depends_on_holds_until_the_dependency_is_synced_and_names_it() {
        let mut tr = tracker();
        let auto = Some((false, false));
        tr.set_tree(
            vec![view("base", 1, auto, &[]), view("team", 2, auto, &["base"])],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        let (ready, held) = tr.gate(tr.due(t(0)), t(0));
        assert_eq!(names(&ready), vec!["base"]);
        assert_eq!(held[0].waiting_for, "base");
        assert!(!held[0].failed);
        assert!(
            tr.app("team")
                .unwrap()
                .condition(ConditionKind::DependencyHeld)
                .unwrap()
                .message
                .contains("`base`")
        );
        // base fails: team is blocked, naming it.
        tr.planned(
            &plan("base", &[(ActionKind::Create, false)]),
            Cause::Startup,
            t(0),
        );
        tr.synced("base", run(SyncResult::Failed, "c1"), t(1));
        let (ready, held) = tr.gate(vec![("team".into(), Cause::Startup)], t(2));
        assert!(ready.is_empty());
        assert!(held[0].failed);
        assert_eq!(tr.app("team").unwrap().health, Health::Blocked);
        // base succeeds: team goes.
        tr.synced("base", run(SyncResult::Succeeded, "c1"), t(3));
        let (ready, _) = tr.gate(vec![("team".into(), Cause::Startup)], t(4));
        assert_eq!(names(&ready), vec!["team"]);
        assert!(
            tr.app("team")
                .unwrap()
                .condition(ConditionKind::DependencyHeld)
                .is_none()
        );
    }

    #[test]
    fn failed_syncs_retry_with_backoff_until_the_limit() {
        let mut tr = tracker();
        tr.set_tree(
            vec![view("a", 1, Some((false, false)), &[])],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        tr.planned(
            &plan("a", &[(ActionKind::Create, false)]),
            Cause::Startup,
            t(0),
        );
        tr.synced("a", run(SyncResult::Failed, "c1"), t(0));
        assert!(tr.due(t(9)).is_empty());
        assert_eq!(tr.due(t(10)), vec![("a".to_string(), Cause::Retry)]);
        tr.planned(
            &plan("a", &[(ActionKind::Create, false)]),
            Cause::Retry,
            t(10),
        );
        tr.synced("a", run(SyncResult::Failed, "c1"), t(10));
        assert!(tr.due(t(29)).iter().all(|(_, c)| *c != Cause::Retry));
        assert_eq!(tr.due(t(30)), vec![("a".to_string(), Cause::Retry)]);
        tr.synced("a", run(SyncResult::Failed, "c1"), t(30));
        let a = tr.app("a").unwrap();
        assert_eq!(a.health, Health::Degraded);
        assert!(
            a.condition(ConditionKind::SyncFailed)
                .unwrap()
                .message
                .contains("retries used up")
        );
        assert!(tr.due(t(1000)).iter().all(|(_, c)| *c != Cause::Retry));
    }

    #[test]
    fn manual_apps_wait_and_a_refused_head_blocks_every_app() {
        let mut tr = tracker();
        tr.set_tree(
            vec![view("manual", 1, None, &[])],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        assert_eq!(
            tr.planned(
                &plan("manual", &[(ActionKind::Create, false)]),
                Cause::Startup,
                t(0)
            ),
            Verdict::Report(Waiting::Manual)
        );
        let m = tr.app("manual").unwrap();
        assert_eq!(m.sync, SyncStatus::OutOfSync);
        assert!(m.condition(ConditionKind::WaitingForSync).is_some());
        tr.source_problem(
            ConditionKind::RevisionRefused,
            "commit c2 is not signed",
            t(5),
        );
        let m = tr.app("manual").unwrap();
        assert_eq!(m.health, Health::Blocked);
        assert_eq!(m.revision_seen.as_deref(), Some("c1"));
        tr.source_ok();
        assert!(
            tr.app("manual")
                .unwrap()
                .condition(ConditionKind::RevisionRefused)
                .is_none()
        );
    }

    #[test]
    fn blocked_apps_are_never_due_and_say_why() {
        let mut tr = tracker();
        let mut broken = view("broken", 0, Some((false, false)), &[]);
        broken.blocked = Some("team/job.yaml:3:1: bad YAML".into());
        tr.set_tree(
            vec![view("ok", 1, Some((false, false)), &[]), broken],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        assert_eq!(names(&tr.due(t(0))), vec!["ok"]);
        let b = tr.app("broken").unwrap();
        assert_eq!(b.health, Health::Blocked);
        assert!(
            b.condition(ConditionKind::RenderFailed)
                .unwrap()
                .message
                .contains("job.yaml:3")
        );
    }

    #[test]
    fn measured_drift_checks_are_spread_to_the_budget_share() {
        let mut tr = Tracker::new(
            None,
            Pace {
                drift_interval: Duration::from_secs(10),
                drift_budget: 0.25,
                requests_per_second: BTreeMap::from([("dev".to_string(), 4.0)]),
            },
        );
        tr.set_tree(
            vec![view("a", 1, Some((false, true)), &[])],
            Some("c1"),
            Cause::Startup,
            t(0),
        );
        // 4 requests a check: 0.4 req/s at a 10 s interval, within 1 req/s.
        tr.planned(&plan("a", &[]), Cause::Startup, t(0));
        assert!(tr.due(t(10)).iter().any(|(_, c)| *c == Cause::Drift));
        // 100 requests a check would be 10 req/s: spread to 100 s apart.
        tr.measured("a", 100.0);
        tr.planned(&plan("a", &[]), Cause::Drift, t(10));
        assert!(tr.due(t(109)).is_empty());
        assert_eq!(tr.due(t(110)), vec![("a".to_string(), Cause::Drift)]);
    }
}
