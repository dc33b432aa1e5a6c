//! The daemon's loop: the thin I/O shell around the tracker. It waits for
//! a trigger (a poll tick, a webhook, a due drift check or retry, a
//! request), renders the source when it may have moved, and then runs
//! rounds — what is due, gated by `dependsOn`, planned and applied through
//! the engine — until nothing more can go now. Every round's outcome goes
//! to the status (published and saved), the logs, metrics and
//! notifications.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::handover;
use super::notify::{self, Notifier};
use super::pins::PinStore;
use super::policy::{Cause, Verdict};
use super::requests::{AppRequest, Ask, RequestStore};
use super::rotations::RotationClock;
use super::status_store::{SharedStatus, StatusStore, StatusStoreError};
use super::tracker::{self, AppView, Pace, Tracker};
use crate::apply::AppFilter;
use crate::audit::Trigger;
use crate::cluster::Ownership;
use crate::engine::render::RenderError;
use crate::engine::{Engine, EngineError, RenderedTree, Scope};
use crate::model::status::{ConditionKind, SyncResult, SyncRun};
use crate::model::{AppStatus, ControllerStatus};
use crate::server::Metrics;

/// Something that asks the controller to look now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nudge {
    /// The source may have moved.
    Source,
    /// A webhook announced a push; `after` is the commit it names, if any
    /// (a push of the head already held needs no fetch).
    Push { after: Option<String> },
    /// A request about one app: a sync (whatever its policy says), a
    /// drift check or a dry run, now.
    Request(AppRequest),
}

/// Where the controller publishes what it knows.
pub struct Outlets {
    pub status: watch::Sender<Arc<ControllerStatus>>,
    /// Flipped to true once the first render is done.
    pub ready: watch::Sender<bool>,
    /// Full reconciles finished so far.
    pub passes: watch::Sender<u64>,
    pub metrics: Arc<Metrics>,
    /// Where state changes are announced.
    pub notifier: Notifier,
    /// The access policy and resources of the revision last rendered.
    pub tree: watch::Sender<Arc<crate::server::view::TreeView>>,
    /// Each app's last plan, for the web view's diff.
    pub plans: watch::Sender<Arc<crate::server::view::Plans>>,
}

/// How one run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The poll interval for the source.
    pub poll_interval: Duration,
    /// Stop after the first full reconcile (for `demo --exit-after-sync`
    /// and one-shot use).
    pub once: bool,
    /// In a cluster: the apps this replica may reconcile, as the Leases
    /// say. None: every app, alone.
    pub sharing: Option<Sharing>,
    /// In a cluster: the controller's namespace, where rotated credentials
    /// bound for Kubernetes Secrets are delivered.
    pub kube: Option<crate::rotation::KubeTarget>,
}

/// A replica's share of the apps.
#[derive(Debug, Clone)]
pub struct Sharing {
    pub identity: String,
    pub ownership: watch::Receiver<Ownership>,
    /// Where each app's status is kept for the next owner, when the apps'
    /// state lives in the cluster.
    pub statuses: Option<Arc<dyn SharedStatus>>,
}

/// Why the controller could not run.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("the saved status")]
    Status(#[from] StatusStoreError),
}

impl ControllerError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ControllerError::Status(e) => e.metric_label(),
        }
    }
}

/// How long a burst of nudges may take to arrive and still be one look.
const COALESCE: Duration = Duration::from_millis(150);

/// What one look at the source found.
struct Looked {
    fetch_seconds: Option<f64>,
    forced: bool,
    head: Option<String>,
    /// The tree, when the head moved (or the source is a directory).
    tree: Option<RenderedTree>,
}

/// The daemon's state between triggers.
pub struct Runner {
    engine: Arc<Engine>,
    tracker: Tracker,
    tree: Option<Arc<RenderedTree>>,
    /// The head commit of the tree held (None for a directory source).
    head: Option<String>,
    /// Apps that left the tree, to be pruned (their parent prunes).
    orphans: BTreeSet<String>,
    /// The last refused head, audited once.
    refused: Option<String>,
    pin_store: PinStore,
    requests: RequestStore,
    /// The pins in force, app → commit.
    pins: BTreeMap<String, String>,
    pins_loaded: bool,
    pins_stamp: Option<std::time::SystemTime>,
    /// Trees rendered at pinned commits.
    pinned_trees: BTreeMap<String, Arc<RenderedTree>>,
    outlets: Outlets,
    store: StatusStore,
    /// The status as last published, for telling changes.
    published: ControllerStatus,
    options: RunOptions,
    cancel: CancellationToken,
    rounds: u64,
    /// The apps this replica reconciles and the fence of its writes.
    ownership: watch::Receiver<Ownership>,
    /// Held apps taken in, with what was last kept of their status.
    kept: handover::Kept,
    /// When each credential rotation wants its next look.
    rotations: RotationClock,
}

impl Runner {
    /// Opens the runner on an engine, restoring the saved status.
    pub fn new(
        engine: Arc<Engine>,
        outlets: Outlets,
        options: RunOptions,
        cancel: CancellationToken,
    ) -> Result<Runner, ControllerError> {
        let config = engine.config();
        let store = StatusStore::new(config.state.dir.clone());
        let restored = store.load()?;
        let pace = Pace {
            drift_interval: config.controller.drift_interval,
            drift_budget: config.controller.drift_budget,
            requests_per_second: config
                .workspaces
                .iter()
                .map(|(n, w)| (n.clone(), w.limits.requests_per_second))
                .collect(),
        };
        let pin_store = PinStore::new(&config.state.dir);
        let requests = RequestStore::new(&config.state.dir);
        let mut tracker = Tracker::new(restored.clone(), pace);
        let ownership = match &options.sharing {
            Some(sharing) => sharing.ownership.clone(),
            None => watch::channel(Ownership::everything(&cancel)).1,
        };
        tracker.set_holdings(ownership.borrow().holdings.clone());
        let git = config.source.as_ref().and_then(|s| s.git.as_ref());
        let source = &mut tracker.status_mut().source;
        source.repository = match (engine.git_remote(), config.source.as_ref()) {
            (Some(remote), _) => remote.display_url(),
            (None, Some(s)) => s
                .dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        source.reference = git.map_or_else(|| "(directory)".to_string(), |g| g.revision.clone());
        Ok(Runner {
            published: restored.clone().unwrap_or_default(),
            tracker,
            engine,
            tree: None,
            head: None,
            orphans: BTreeSet::new(),
            refused: None,
            pin_store,
            requests,
            pins: BTreeMap::new(),
            pins_loaded: false,
            pins_stamp: None,
            pinned_trees: BTreeMap::new(),
            outlets,
            store,
            options,
            cancel,
            rounds: 0,
            ownership,
            kept: handover::Kept::new(),
            rotations: RotationClock::default(),
        })
    }

    /// Runs until `cancel` fires (or, with `once`, after the first full
    /// reconcile). Returns whether every app ended Synced and Healthy.
    pub async fn run(mut self, mut nudges: mpsc::Receiver<Nudge>) -> Result<bool, ControllerError> {
        self.reload_pins(Timestamp::now());
        self.refresh(Cause::Startup).await;
        let _ = self.outlets.ready.send(true);
        self.reconcile().await;
        self.rotate_due().await;
        self.publish().await?;
        self.outlets.passes.send_modify(|n| *n += 1);
        super::memory::return_free_memory();
        if self.options.once {
            return Ok(self.all_synced());
        }
        let mut next_poll = tokio::time::Instant::now() + self.poll_delay();
        // `mortar rollback` and `mortar sync` write files in the state
        // directory; a look every second or two picks them up.
        let mut nudges_open = true;
        let mut sharing_open = self.options.sharing.is_some();
        let mut pin_check = tokio::time::interval(Duration::from_millis(1500));
        pin_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let due = self
                .tracker
                .next_due()
                .map(until)
                .unwrap_or(Duration::from_secs(3600));
            let rotation_due = self
                .next_rotation()
                .map_or(Duration::from_secs(3600), until);
            let cause = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep_until(next_poll) => {
                    next_poll = tokio::time::Instant::now() + self.poll_delay();
                    Some(Cause::Poll)
                }
                nudge = nudges.recv(), if nudges_open => {
                    match nudge {
                        None => { nudges_open = false; continue; }
                        Some(first) => {
                            // Coalesce a burst into one look: what arrives
                            // within a moment of the first joins it.
                            let mut all = vec![first];
                            tokio::time::sleep(COALESCE).await;
                            while let Ok(more) = nudges.try_recv() {
                                all.push(more);
                            }
                            self.take_nudges(&all)
                        }
                    }
                }
                _ = tokio::time::sleep(due) => None,
                _ = tokio::time::sleep(rotation_due) => None,
                changed = self.ownership.changed(), if sharing_open => {
                    if changed.is_err() {
                        sharing_open = false;
                        continue;
                    }
                    let holdings = self.ownership.borrow_and_update().holdings.clone();
                    tracing::info!(held = ?holdings.held, shards = holdings.shards, "the shards held changed");
                    self.tracker.set_holdings(holdings);
                    // Readers learn what this replica holds now, not after
                    // it has looked at every app it took over.
                    self.publish().await?;
                    None
                }
                _ = pin_check.tick() => {
                    let pins_changed = self.reload_pins(Timestamp::now());
                    if !self.take_requests() && !pins_changed {
                        continue;
                    }
                    None
                }
            };
            if let Some(cause) = cause {
                self.refresh(cause).await;
            }
            self.reconcile().await;
            self.rotate_due().await;
            self.publish().await?;
            self.outlets.passes.send_modify(|n| *n += 1);
            super::memory::return_free_memory();
        }
        self.publish().await?;
        Ok(self.all_synced())
    }

    fn take_nudges(&mut self, nudges: &[Nudge]) -> Option<Cause> {
        let mut source = None;
        for nudge in nudges {
            match nudge {
                Nudge::Source => source = Some(Cause::Webhook),
                Nudge::Push { after } => {
                    let held = after.is_some() && *after == self.head;
                    if !held {
                        source = Some(Cause::Webhook);
                    }
                }
                Nudge::Request(request) => self.ask(request),
            }
        }
        source
    }

    fn poll_delay(&self) -> Duration {
        super::pacing::jittered(self.options.poll_interval, rand::random::<f64>())
    }

    fn all_synced(&self) -> bool {
        let status = self.tracker.status();
        !status.apps.is_empty()
            && status.apps.iter().all(|a| {
                a.sync == crate::model::SyncStatus::Synced
                    && a.health == crate::model::Health::Healthy
            })
    }

    /// Fetches the source, and renders it when its head moved (a directory
    /// source is rendered every time). A fetch that fails or a head that is
    /// refused keeps every app at its last good revision, saying why.
    async fn refresh(&mut self, cause: Cause) {
        let engine = self.engine.clone();
        let known = self.head.clone();
        let started = std::time::Instant::now();
        let fetched = tokio::task::spawn_blocking(move || -> Result<Looked, EngineError> {
            match engine.fetch_source()? {
                Some(fetched) => {
                    let fetch_seconds = started.elapsed().as_secs_f64();
                    let tree = if known.as_deref() == Some(fetched.revision.commit.as_str()) {
                        None
                    } else {
                        Some(engine.render_at(&fetched.revision.commit)?)
                    };
                    Ok(Looked {
                        fetch_seconds: Some(fetch_seconds),
                        forced: fetched.forced,
                        head: Some(fetched.revision.commit),
                        tree,
                    })
                }
                None => Ok(Looked {
                    fetch_seconds: None,
                    forced: false,
                    head: None,
                    tree: Some(engine.render(None)?),
                }),
            }
        });
        // A fetch is bounded by its timeout; on shutdown it is not waited for.
        let fetched = tokio::select! {
            _ = self.cancel.cancelled() => return,
            fetched = fetched => fetched,
        };
        let now = Timestamp::now();
        let metrics = self.outlets.metrics.clone();
        let looked = match fetched {
            Ok(Ok(looked)) => looked,
            Ok(Err(err)) => {
                self.source_failed(cause, &err, started.elapsed().as_secs_f64(), now);
                return;
            }
            Err(join) => {
                tracing::error!(error = %join, "fetching stopped unexpectedly");
                return;
            }
        };
        if let Some(seconds) = looked.fetch_seconds {
            metrics.git_fetch(seconds, Ok(()));
        }
        self.tracker.source_ok();
        {
            let source = &mut self.tracker.status_mut().source;
            source.head = looked.head.clone().or(source.head.take());
            source.last_fetch = Some(now);
        }
        if looked.forced {
            let previous = self.head.as_deref().unwrap_or("-");
            let head = looked.head.as_deref().unwrap_or("-");
            tracing::warn!(
                revision = head,
                previous,
                "the source was force-pushed: its new head does not descend from the last one"
            );
            self.tracker.status_mut().source.force_pushed = Some(format!(
                "at {now}: {} replaced {} (not a descendant)",
                head.get(..12).unwrap_or(head),
                previous.get(..12).unwrap_or(previous)
            ));
        }
        let Some(tree) = looked.tree else {
            return;
        };
        metrics.observe_stage("all", "render", started.elapsed().as_secs_f64());
        // Only a moved head (or a directory, which has none) gets here.
        let head = tree.revision.as_ref().map(|r| r.commit.clone());
        tracing::info!(
            trigger = cause.label(),
            revision = head.as_deref().unwrap_or("-"),
            apps = tree.rendered.apps.len(),
            blocked = tree.rendered.blocked.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "rendered the source"
        );
        let views = AppView::of_tree(&tree.rendered);
        let parents: BTreeMap<String, Option<String>> = self
            .tracker
            .status()
            .apps
            .iter()
            .map(|a| (a.name.clone(), a.parent.clone()))
            .collect();
        let gone = self.tracker.set_tree(views, head.as_deref(), cause, now);
        self.tracker.set_pins(&self.pins, now);
        for app in gone {
            // An app that left Git is pruned when the app that declared it
            // prunes; otherwise its objects stay, Mortar's no longer.
            let parent = parents.get(&app).cloned().flatten();
            let prune = parent
                .as_deref()
                .and_then(|p| self.tracker.view(p))
                .is_some_and(|v| v.policy.automated.is_some_and(|a| a.prune));
            tracing::info!(%app, parent = parent.as_deref().unwrap_or("-"), prune, "an app left the tree");
            if prune {
                self.orphans.insert(app);
            }
        }
        let view = crate::server::view::TreeView::of(&tree.rendered);
        if **self.outlets.tree.borrow() != view {
            self.outlets.tree.send_replace(Arc::new(view));
        }
        self.tree = Some(Arc::new(tree));
        self.head = head;
    }

    /// Says why the source could not be used, once per distinct reason.
    fn source_failed(&mut self, cause: Cause, err: &EngineError, seconds: f64, now: Timestamp) {
        let message = crate::engine::error_chain(err);
        let metrics = &self.outlets.metrics;
        let kind = match err {
            EngineError::Render(RenderError::RevisionRefused { commit, reason }) => {
                metrics.revision_refused(reason.metric_label());
                if self.refused.as_deref() != Some(commit.as_str()) {
                    self.refused = Some(commit.clone());
                    if let Err(e) = self.engine.record_refused(commit, &message) {
                        tracing::error!(error = %crate::engine::error_chain(&e), "cannot audit the refused revision");
                    }
                }
                ConditionKind::RevisionRefused
            }
            EngineError::Render(RenderError::Fetch(e)) => {
                metrics.git_fetch(seconds, Err(e.metric_label()));
                ConditionKind::SourceUnavailable
            }
            _ => ConditionKind::SourceUnavailable,
        };
        tracing::warn!(trigger = cause.label(), error = %message, "the source cannot be used; keeping the last good revision");
        self.tracker.source_problem(kind, &message, now);
    }

    /// Runs rounds until nothing more can go now.
    async fn reconcile(&mut self) {
        let Some(tree) = self.tree.clone() else {
            return;
        };
        self.take_in_statuses().await;
        if !self.orphans.is_empty() && !self.cancel.is_cancelled() {
            // An orphan is pruned by the replica holding its shard.
            let (orphans, others): (BTreeSet<String>, BTreeSet<String>) =
                std::mem::take(&mut self.orphans)
                    .into_iter()
                    .partition(|app| self.tracker.owns(app));
            self.orphans = others;
            self.prune_orphans(&tree, orphans).await;
        }
        let mut tried: BTreeSet<String> = BTreeSet::new();
        while !self.cancel.is_cancelled() {
            let now = Timestamp::now();
            let due: Vec<(String, Cause)> = self
                .tracker
                .due(now)
                .into_iter()
                .filter(|(app, _)| !tried.contains(app))
                .collect();
            if due.is_empty() {
                break;
            }
            let (ready, held) = self.tracker.gate(due, now);
            for h in &held {
                tracing::info!(app = %h.app, waiting_for = %h.waiting_for, "held by dependsOn");
            }
            if ready.is_empty() {
                break;
            }
            tried.extend(ready.iter().map(|(a, _)| a.clone()));
            // Pinned apps are planned from the tree at their pin.
            let mut groups: BTreeMap<Option<String>, BTreeMap<String, Cause>> = BTreeMap::new();
            for (app, cause) in ready {
                let pin = self.tracker.pinned(&app).map(str::to_string);
                groups.entry(pin).or_default().insert(app, cause);
            }
            for (pin, causes) in groups {
                let at = match &pin {
                    None => tree.clone(),
                    Some(commit) => match self.pinned_tree(commit).await {
                        Ok(at) => at,
                        Err(message) => {
                            let message =
                                format!("cannot render pinned revision {commit}: {message}");
                            tracing::warn!(%message, "pinned apps wait");
                            for app in causes.keys() {
                                self.tracker.unreachable(app, &message, Timestamp::now());
                            }
                            continue;
                        }
                    },
                };
                let names = causes.keys().cloned().collect();
                self.round(&at, AppFilter::Named(names), causes).await;
                // A round's live lists and plans are garbage now.
                super::memory::return_free_memory();
            }
        }
    }

    /// Deletes what apps that left Git created (from their inventories).
    async fn prune_orphans(&mut self, tree: &Arc<RenderedTree>, orphans: BTreeSet<String>) {
        let scope = Scope {
            apps: AppFilter::All,
            prune: true,
            ..Scope::default()
        };
        let planning = tokio::select! {
            _ = self.cancel.cancelled() => return,
            planning = self.engine.plan_to_apply(tree, &scope) => planning,
        };
        let mut planned = match planning {
            Ok(planned) => planned,
            Err(err) => {
                tracing::warn!(error = %crate::engine::error_chain(&err), "cannot plan the prune of apps that left Git; trying again at the next look");
                self.orphans = orphans;
                return;
            }
        };
        // Only the orphans' plans: every other app keeps its own policy.
        planned.keep_apps(|p| orphans.contains(&p.app));
        if !planned.has_work() {
            return;
        }
        let progress: Arc<dyn Fn(crate::apply::Progress) + Send + Sync> = Arc::new(log_progress);
        match self
            .engine
            .apply(
                planned,
                Trigger::Sync("prune".to_string()),
                progress,
                self.fence(),
            )
            .await
        {
            Ok(report) => {
                for app in report.apps {
                    tracing::info!(app = %app.app, done = app.done, failure = app.failure.as_deref().unwrap_or("-"), "pruned an app that left Git");
                }
            }
            Err(err) => {
                tracing::error!(error = %crate::engine::error_chain(&err), "cannot prune apps that left Git");
            }
        }
    }

    /// Plans the apps `filter` selects and applies those whose verdict says so.
    async fn round(
        &mut self,
        tree: &Arc<RenderedTree>,
        filter: AppFilter,
        causes: BTreeMap<String, Cause>,
    ) {
        self.rounds += 1;
        let span = tracing::info_span!(
            "reconcile",
            id = self.rounds,
            revision = self.head.as_deref().unwrap_or("-")
        );
        async {
            let scope = Scope {
                apps: filter,
                prune: false,
                prune_apps: causes
                    .keys()
                    .filter(|app| self.tracker.prune_once(app))
                    .cloned()
                    .collect(),
                drift_only: false,
            };
            let started = Timestamp::now();
            let requests_before = self.requests_by_workspace();
            // Planning changes nothing: on shutdown it is abandoned.
            let planning = tokio::select! {
                _ = self.cancel.cancelled() => return,
                planning = self.engine.plan_to_apply(tree, &scope) => planning,
            };
            let planned = match planning {
                Ok(planned) => planned,
                Err(err) => {
                    let message = crate::engine::error_chain(&err);
                    tracing::warn!(error = %message, "planning failed");
                    for app in causes.keys() {
                        self.tracker.unreachable(app, &message, started);
                    }
                    return;
                }
            };
            let now = Timestamp::now();
            let plan_seconds = seconds_between(started, now);
            self.measure(&requests_before, causes.keys());
            self.publish_plans(planned.plan(), now);
            let mut to_apply: BTreeMap<String, (Cause, Trigger)> = BTreeMap::new();
            let mut healing: BTreeSet<String> = BTreeSet::new();
            for plan in &planned.plan().apps {
                let cause = causes.get(&plan.app).copied().unwrap_or(Cause::Poll);
                self.outlets
                    .metrics
                    .observe_stage(&plan.app, "plan", plan_seconds);
                let drift_before = self.drift_message(&plan.app);
                let trigger = self
                    .tracker
                    .requested_by(&plan.app)
                    .unwrap_or_else(|| Trigger::Sync(cause.label().to_string()));
                let verdict = self.tracker.planned(plan, cause, now);
                self.tracker
                    .jitter_drift(&plan.app, rand::random::<f64>(), now);
                let drift_after = self.drift_message(&plan.app);
                if drift_after.is_some() && drift_after != drift_before {
                    // A new episode of drift (or new fields in it): audited once.
                    if let Err(err) = self.engine.record_drift(plan, planned.revision()) {
                        tracing::error!(app = %plan.app, error = %crate::engine::error_chain(&err), "cannot audit drift");
                    }
                }
                if plan.summary.drift > 0 {
                    self.outlets
                        .metrics
                        .drift_detected(&plan.app, plan.summary.drift);
                    if verdict == Verdict::Apply {
                        healing.insert(plan.app.clone());
                    }
                }
                tracing::info!(
                    app = %plan.app,
                    workspace = self.workspace_of(&plan.app),
                    trigger = cause.label(),
                    changes = plan.summary.has_changes(),
                    drift = plan.summary.drift,
                    verdict = ?verdict,
                    "planned"
                );
                if verdict == Verdict::Apply {
                    to_apply.insert(plan.app.clone(), (cause, trigger));
                }
            }
            // An app with nothing to plan (no resources, no inventory) is in sync.
            for (app, cause) in &causes {
                if !planned.plan().apps.iter().any(|p| &p.app == app) {
                    let empty = crate::plan::AppPlan {
                        app: app.clone(),
                        actions: Vec::new(),
                        violations: Vec::new(),
                        warnings: Vec::new(),
                        summary: Default::default(),
                    };
                    self.tracker.planned(&empty, *cause, now);
                }
            }
            if to_apply.is_empty() {
                return;
            }
            let revision = planned.revision().cloned();
            // One apply per trigger, so each audit record says what (or
            // who) set it off.
            let mut by_trigger: BTreeMap<String, (Trigger, BTreeSet<String>)> = BTreeMap::new();
            for (app, (_, trigger)) in &to_apply {
                by_trigger
                    .entry(trigger.to_string())
                    .or_insert_with(|| (trigger.clone(), BTreeSet::new()))
                    .1
                    .insert(app.clone());
            }
            let mut reports = Vec::new();
            for (trigger, apps) in by_trigger.into_values() {
                let mut part = planned.clone();
                part.keep_apps(|p| apps.contains(&p.app));
                let progress: Arc<dyn Fn(crate::apply::Progress) + Send + Sync> =
                    Arc::new(log_progress);
                match self
                    .engine
                    .apply(part, trigger, progress, self.fence())
                    .await
                {
                    Ok(report) => reports.extend(report.apps),
                    Err(err) => {
                        let message = crate::engine::error_chain(&err);
                        tracing::error!(error = %message, "apply could not start");
                        for app in &apps {
                            self.tracker.unreachable(app, &message, now);
                        }
                    }
                }
            }
            let finished = Timestamp::now();
            for app in reports {
                let cause = to_apply.get(&app.app).map_or(Cause::Poll, |(c, _)| *c);
                let result = match (&app.failure, self.cancel.is_cancelled()) {
                    (None, _) => SyncResult::Succeeded,
                    (Some(_), true) => SyncResult::Cancelled,
                    (Some(_), false) => SyncResult::Failed,
                };
                let failed = usize::from(app.failure.is_some());
                tracing::info!(
                    app = %app.app,
                    workspace = self.workspace_of(&app.app),
                    trigger = cause.label(),
                    result = result.label(),
                    done = app.done,
                    skipped = app.skipped,
                    "synced"
                );
                let run = SyncRun {
                    started,
                    finished,
                    trigger: cause.label().to_string(),
                    revision: self
                        .tracker
                        .app(&app.app)
                        .and_then(|s| s.pinned.clone())
                        .or_else(|| revision.as_ref().map(|r| r.commit.clone())),
                    author: revision.as_ref().map(|r| r.author.clone()),
                    result,
                    counts: tracker::counts(&app.by_action, failed, app.skipped),
                    message: app.failure.clone(),
                };
                let metrics = &self.outlets.metrics;
                metrics.observe_stage(&app.app, "apply", seconds_between(now, finished));
                metrics.sync_finished(&app.app, cause.label(), result, finished);
                if result == SyncResult::Succeeded && healing.contains(&app.app) {
                    metrics.drift_healed(&app.app);
                }
                if result == SyncResult::Succeeded {
                    self.plan_applied(&app.app, finished);
                }
                self.tracker.synced(&app.app, run, finished);
            }
        }
        .instrument(span)
        .await;
    }

    /// Hands each planned app's plan, as text, to the web view.
    fn publish_plans(&self, plan: &crate::plan::Plan, at: Timestamp) {
        if plan.apps.is_empty() {
            return;
        }
        self.outlets.plans.send_modify(|plans| {
            // In place, unless a reader holds the map this moment.
            let plans = Arc::make_mut(plans);
            for app in &plan.apps {
                let text = crate::plan::output::app_plan_text(
                    plan.revision.as_deref(),
                    app,
                    crate::plan::output::TextOptions {
                        color: false,
                        show_unchanged: false,
                    },
                );
                let changes = app
                    .actions
                    .iter()
                    .filter(|a| a.action.changes_workspace())
                    .count();
                plans.insert(
                    app.app.clone(),
                    crate::server::view::PlanView { at, changes, text },
                );
            }
        });
    }

    /// After a successful sync the app's plan is done: the web view says
    /// so until the next plan.
    fn plan_applied(&self, app: &str, at: Timestamp) {
        self.outlets.plans.send_modify(|plans| {
            Arc::make_mut(plans).insert(
                app.to_string(),
                crate::server::view::PlanView {
                    at,
                    changes: 0,
                    text: "Nothing to change: the last sync applied every planned change.\n"
                        .to_string(),
                },
            );
        });
    }

    /// When the next credential rotation of an app this replica holds is due.
    fn next_rotation(&self) -> Option<Timestamp> {
        let tree = self.tree.as_ref()?;
        self.rotations
            .next_due(&tree.rendered, |app| self.tracker.owns(app))
    }

    /// Looks at the credential rotations that are due, of the apps this
    /// replica holds; steps and failures go to the logs, metrics and the
    /// app's conditions (never a credential's value).
    async fn rotate_due(&mut self) {
        let Some(tree) = self.tree.clone() else {
            return;
        };
        self.rotations.keep_only(&tree.rendered);
        let now = Timestamp::now();
        let due = self
            .rotations
            .due(&tree.rendered, |app| self.tracker.owns(app), now);
        if due.is_empty() {
            return;
        }
        let recheck = self.engine.config().controller.drift_interval;
        let retry = recheck.clamp(Duration::from_secs(1), Duration::from_secs(30));
        let revision = tree.revision.as_ref().map(|r| r.commit.as_str());
        let mut apps_looked: BTreeSet<String> = BTreeSet::new();
        for (app_name, key) in due {
            if self.cancel.is_cancelled() || self.ownership.borrow().fence.is_cancelled() {
                break;
            }
            let Some(app) = tree.rendered.apps.iter().find(|a| a.name == app_name) else {
                continue;
            };
            let Some(rotation) = app.rotations.iter().find(|r| r.key.to_string() == key) else {
                continue;
            };
            let checked = self
                .engine
                .rotate(app, rotation, self.options.kube.as_ref(), revision)
                .await;
            let metrics = &self.outlets.metrics;
            for done in &checked.done {
                metrics.rotation_step(&app_name, done.step.as_str(), "ok");
            }
            let finished = Timestamp::now();
            let slot = (app_name.clone(), key.clone());
            match (checked.next, checked.failed) {
                (_, Some((_, crate::rotation::RotationError::NotCreated { .. }))) => {
                    tracing::debug!(app = %app_name, %key, "rotation waits for the service principal to be created");
                    self.rotations.later(slot, retry, finished);
                }
                (_, Some((step, err))) => {
                    let message = crate::databricks::redact::redact(&format!(
                        "{key}: credential rotation ({}) failed: {}",
                        step.as_str(),
                        crate::engine::error_chain(&err)
                    ))
                    .into_owned();
                    metrics.rotation_step(&app_name, step.as_str(), err.metric_label());
                    tracing::warn!(app = %app_name, %key, step = step.as_str(), error = %message, "credential rotation failed");
                    self.rotations.failed(slot, message, retry, finished);
                }
                (Some(next), None) => self.rotations.looked(slot, next, recheck, finished),
                (None, None) => self.rotations.looked(slot, finished, recheck, finished),
            }
            apps_looked.insert(app_name);
        }
        let now = Timestamp::now();
        for app in apps_looked {
            let failures = self.rotations.failures(&app);
            if failures.is_empty() {
                self.tracker.rotation_ok(&app);
            } else {
                let message = failures.join("; ");
                self.tracker.rotation_failed(&app, &message, now);
            }
        }
    }

    /// The token an apply stops on: shutdown, or the loss of a shard
    /// (another replica may take it over; this one must stop writing).
    fn fence(&self) -> CancellationToken {
        self.ownership.borrow().fence.child_token()
    }

    fn drift_message(&self, app: &str) -> Option<String> {
        self.tracker
            .app(app)
            .and_then(|s| s.condition(ConditionKind::Drift))
            .map(|c| c.message.clone())
    }

    fn workspace_of(&self, app: &str) -> &str {
        self.tracker
            .view(app)
            .and_then(|v| v.workspace.as_deref())
            .unwrap_or("-")
    }

    /// Requests made so far, per workspace.
    fn requests_by_workspace(&self) -> BTreeMap<String, u64> {
        self.engine
            .request_stats()
            .iter()
            .map(|s| (s.workspace().to_string(), s.total()))
            .collect()
    }

    /// Shares the requests a plan made among its apps (by their expected
    /// cost, per workspace): what a drift check of each costs, for pacing.
    fn measure<'a>(
        &mut self,
        before: &BTreeMap<String, u64>,
        apps: impl Iterator<Item = &'a String>,
    ) {
        let after = self.requests_by_workspace();
        let mut per_workspace: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        for app in apps {
            if let Some(view) = self.tracker.view(app)
                && let Some(ws) = &view.workspace
            {
                per_workspace
                    .entry(ws.clone())
                    .or_default()
                    .push((app.clone(), view.estimated_requests));
            }
        }
        for (ws, apps) in per_workspace {
            let made = after
                .get(&ws)
                .copied()
                .unwrap_or(0)
                .saturating_sub(before.get(&ws).copied().unwrap_or(0));
            let expected: f64 = apps.iter().map(|(_, e)| e).sum::<f64>().max(1e-9);
            for (app, estimate) in apps {
                self.tracker
                    .measured(&app, made as f64 * estimate / expected);
            }
        }
    }

    /// Reads the pins in force (the config's and the pins file's) and
    /// takes in any change. A pins file that cannot be read keeps the pins
    /// as they were.
    fn reload_pins(&mut self, now: Timestamp) -> bool {
        let stamp = std::fs::metadata(self.pin_store.path())
            .and_then(|m| m.modified())
            .ok();
        if self.pins_loaded && stamp == self.pins_stamp {
            return false;
        }
        let file = match self.pin_store.load() {
            Ok(file) => file,
            Err(err) => {
                tracing::warn!(error = %crate::engine::error_chain(&err), "cannot read the pins; keeping the pins in force");
                return false;
            }
        };
        self.pins_loaded = true;
        self.pins_stamp = stamp;
        let pins = super::pins::effective(&self.engine.config().controller.pins, &file);
        if pins == self.pins {
            return false;
        }
        tracing::info!(pins = ?pins, "pins changed");
        self.pins = pins;
        self.tracker.set_pins(&self.pins, now);
        true
    }

    /// Takes the sync requests waiting in the state directory.
    fn take_requests(&mut self) -> bool {
        let requests = self.requests.take();
        for r in &requests {
            self.ask(r);
        }
        !requests.is_empty()
    }

    /// Takes in one request: a sync (whatever the app's policy), a drift
    /// check or a dry run, now, on behalf of whoever asked.
    fn ask(&mut self, request: &AppRequest) {
        let AppRequest {
            app,
            ask,
            prune,
            by,
            ..
        } = request;
        if self.tracker.view(app).is_none() {
            tracing::warn!(app = %app, by = %by, ?ask, "a request named an app the source does not declare");
            return;
        }
        tracing::info!(app = %app, by = %by, ?ask, prune, "requested");
        match ask {
            Ask::Sync => self.tracker.want_by(app, Cause::Manual, by.clone(), *prune),
            Ask::Refresh => self.tracker.want(app, Cause::Drift),
            Ask::DryRun => self.tracker.want_by(app, Cause::DryRun, by.clone(), *prune),
        }
    }

    /// The tree at a pinned commit, rendered once.
    async fn pinned_tree(&mut self, commit: &str) -> Result<Arc<RenderedTree>, String> {
        if let Some(tree) = self.pinned_trees.get(commit) {
            return Ok(tree.clone());
        }
        let engine = self.engine.clone();
        let at = commit.to_string();
        let rendered = tokio::task::spawn_blocking(move || engine.render_at(&at))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| crate::engine::error_chain(&e))?;
        let tree = Arc::new(rendered);
        self.pinned_trees.insert(commit.to_string(), tree.clone());
        Ok(tree)
    }

    /// Publishes the status to readers, saves it, keeps held apps' statuses
    /// for the next owner, and announces what changed.
    async fn publish(&mut self) -> Result<(), ControllerError> {
        self.tracker.status_mut().updated = Some(Timestamp::now());
        if let Some(sharing) = &self.options.sharing {
            let holdings = self.ownership.borrow().holdings.clone();
            self.tracker.status_mut().replica = Some(crate::model::status::ReplicaStatus {
                identity: sharing.identity.clone(),
                shards: holdings.shards,
                held: holdings.held.into_iter().collect(),
            });
        }
        let status = Arc::new(self.tracker.status().clone());
        self.outlets.metrics.set_app_states(&status);
        self.outlets.status.send_replace(status.clone());
        let events: Vec<notify::Event> = status
            .apps
            .iter()
            .flat_map(|after| notify::events(self.published.app(&after.name), after))
            .collect();
        if !events.is_empty() {
            self.outlets.notifier.send(events);
        }
        self.published = (*status).clone();
        self.store.save(&status)?;
        self.keep_statuses().await;
        Ok(())
    }

    /// In a cluster: takes in the statuses the last owners kept for apps
    /// this replica holds now, once per takeover, so what it publishes
    /// (and notifies) continues from there.
    async fn take_in_statuses(&mut self) {
        let Some(shared) = self.shared_statuses() else {
            return;
        };
        let tracker = &self.tracker;
        self.kept.retain(|app, _| tracker.owns(app));
        let apps = handover::to_take_in(tracker.status(), |a| tracker.owns(a), &self.kept);
        if apps.is_empty() {
            return;
        }
        let loaded = on_each(apps, move |app| {
            let kept = shared.load_status(&app);
            (app, kept)
        })
        .await;
        for (app, kept) in loaded {
            match kept {
                Ok(kept) => {
                    if let Some(kept) = kept.clone() {
                        tracing::info!(%app, revision = kept.revision_applied.as_deref().unwrap_or("-"), "took in the status the last owner kept");
                        self.tracker.restore_app(kept);
                        // Changes are told from here, not again.
                        if let (Some(now), Some(before)) = (
                            self.tracker.app(&app).cloned(),
                            self.published.apps.iter_mut().find(|a| a.name == app),
                        ) {
                            *before = now;
                        }
                    }
                    self.kept.insert(app, kept);
                }
                Err(err) => {
                    tracing::warn!(%app, error = %crate::engine::error_chain(&err), "cannot read the status the last owner kept; trying again next round");
                }
            }
        }
    }

    /// In a cluster: keeps the status of each held app that changed where
    /// the next owner will find it.
    async fn keep_statuses(&mut self) {
        let Some(shared) = self.shared_statuses() else {
            return;
        };
        let tracker = &self.tracker;
        let changed: Vec<AppStatus> =
            handover::to_keep(tracker.status(), |a| tracker.owns(a), &self.kept)
                .into_iter()
                .cloned()
                .collect();
        if changed.is_empty() {
            return;
        }
        let written = on_each(changed, move |status| {
            let written = shared.save_status(&status);
            (status, written)
        })
        .await;
        for (status, written) in written {
            match written {
                Ok(()) => {
                    self.kept.insert(status.name.clone(), Some(status));
                }
                Err(err) => {
                    tracing::warn!(app = %status.name, error = %crate::engine::error_chain(&err), "cannot keep the app's status for the next owner");
                }
            }
        }
    }

    fn shared_statuses(&self) -> Option<Arc<dyn SharedStatus>> {
        self.options.sharing.as_ref()?.statuses.clone()
    }
}

/// Runs the blocking `call` on each item, several at a time, off the
/// runtime's threads; results in any order (a call that panicked is left out).
async fn on_each<T, R>(items: Vec<T>, call: impl Fn(T) -> R + Send + Sync + 'static) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    use futures::StreamExt as _;
    const AT_ONCE: usize = 16;
    let call = Arc::new(call);
    futures::stream::iter(items)
        .map(|item| {
            let call = Arc::clone(&call);
            tokio::task::spawn_blocking(move || call(item))
        })
        .buffer_unordered(AT_ONCE)
        .filter_map(|done| async move { done.ok() })
        .collect()
        .await
}

fn log_progress(p: crate::apply::Progress) {
    if let crate::apply::Progress::Finished {
        app,
        action,
        key,
        error,
        ..
    } = p
    {
        match error {
            None => tracing::info!(%app, action = action.as_str(), %key, "applied"),
            Some(error) => {
                tracing::warn!(%app, action = action.as_str(), %key, %error, "action failed")
            }
        }
    }
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()).max(0) as f64 / 1000.0
}

/// Time from now until `at` (zero when past).
fn until(at: Timestamp) -> Duration {
    let left = at.as_millisecond() - Timestamp::now().as_millisecond();
    Duration::from_millis(left.max(0) as u64)
}
