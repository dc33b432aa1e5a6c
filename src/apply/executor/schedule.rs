//! The executor's scheduling decisions, as a state machine without I/O.
//!
//! A [`Schedule`] is built from a plan and the per-workspace concurrency.
//! It owns the dependency graph (an action's `after` keys within its app,
//! and "principals first": every non-principal, non-delete change in a
//! workspace waits for the groups and service principals other apps create
//! there), which apps may not run at all (violations, conflicts), the ready
//! queue of each workspace and its free slots, what a failure or a skip
//! takes down with it, and cancellation. The I/O loop asks it what to start
//! ([`Schedule::start_next`]), tells it how each action ended
//! ([`Schedule::finished`]), and forwards the progress events it produces;
//! at the end the schedule holds the per-app report.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use super::{AppReport, ApplyReport, Progress};
use crate::model::Kind;
use crate::plan::{ActionKind, AppPlan, Plan, PlannedAction};

/// The reason given for actions not started because the apply was cancelled.
pub const CANCELLED: &str = "not attempted: the apply was cancelled";

/// The reason given for actions that wait on each other in a circle.
pub const CYCLE: &str = "not attempted: it waits, through other actions, on itself";

/// One action of the plan, as the schedule knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(usize);

/// How a started action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Carried out; the object's id, when it has one.
    Done { id: Option<String> },
    /// Attempted and failed: the error as users see it.
    Failed { error: String },
    /// The apply was cancelled before the action made any call.
    NotStarted,
}

/// Where an action is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Waiting for the actions it depends on.
    Pending,
    /// Free to start once its workspace has a free slot.
    Ready,
    Running,
    Done,
    Failed,
    Skipped,
}

struct Node {
    app: usize,
    workspace: usize,
    action: Arc<PlannedAction>,
}

struct Workspace {
    limit: usize,
    running: usize,
    /// Nodes that became ready, oldest first; entries no longer `Ready`
    /// (skipped since) are dropped when they reach the front.
    ready: VecDeque<usize>,
}

/// The scheduling state of one apply.
pub struct Schedule {
    nodes: Vec<Node>,
    dependents: Vec<Vec<usize>>,
    /// Per node, how many of its dependencies are not done yet.
    waiting: Vec<usize>,
    state: Vec<NodeState>,
    /// Per app, its nodes.
    app_nodes: Vec<Vec<usize>>,
    workspaces: Vec<Workspace>,
    reports: Vec<AppReport>,
    events: Vec<Progress>,
    /// Apps that stopped since their ready nodes were last skipped.
    stopped: Vec<usize>,
    cancelled: bool,
    running: usize,
    unsettled: usize,
}

fn is_principal(kind: Kind) -> bool {
    crate::databricks::kinds::spec(kind).is_some_and(|k| k.is_principal())
}

/// Why nothing of `app` may be applied, if so: violations, then conflicts.
fn blocked_reason(app: &AppPlan) -> Option<String> {
    if app.is_blocked() {
        return Some(format!(
            "blocked by {} violation(s) of project rules or manifest error(s); nothing of this app was applied: {}",
            app.violations.len(),
            app.violations
                .iter()
                .map(|v| v.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let conflicts: Vec<String> = app
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
}

impl Schedule {
    /// The schedule of `plan`, with at most `limit(workspace)` actions
    /// running at once in each workspace (at least one).
    pub fn new(plan: &Plan, limit: impl Fn(&str) -> usize) -> Schedule {
        let mut reports: Vec<AppReport> = Vec::with_capacity(plan.apps.len());
        let mut nodes: Vec<Node> = Vec::new();
        let mut app_nodes: Vec<Vec<usize>> = Vec::with_capacity(plan.apps.len());
        let mut workspaces: Vec<Workspace> = Vec::new();
        let mut workspace_index: BTreeMap<String, usize> = BTreeMap::new();
        for (i, app_plan) in plan.apps.iter().enumerate() {
            let mut report = AppReport {
                app: app_plan.app.clone(),
                ..Default::default()
            };
            let mut mine = Vec::new();
            if let Some(reason) = blocked_reason(app_plan) {
                report.skipped = app_plan
                    .actions
                    .iter()
                    .filter(|a| a.action.is_applied())
                    .count();
                report.failure = Some(reason);
            } else {
                for action in app_plan.actions.iter().filter(|a| a.action.is_applied()) {
                    let ws = &action.key.workspace;
                    let workspace = match workspace_index.get(ws) {
                        Some(&w) => w,
                        None => {
                            workspaces.push(Workspace {
                                limit: limit(ws).max(1),
                                running: 0,
                                ready: VecDeque::new(),
                            });
                            workspace_index.insert(ws.clone(), workspaces.len() - 1);
                            workspaces.len() - 1
                        }
                    };
                    mine.push(nodes.len());
                    nodes.push(Node {
                        app: i,
                        workspace,
                        action: Arc::new(action.clone()),
                    });
                }
            }
            reports.push(report);
            app_nodes.push(mine);
        }

        let index: BTreeMap<(usize, &crate::model::ResourceKey), usize> = nodes
            .iter()
            .enumerate()
            .map(|(n, node)| ((node.app, &node.action.key), n))
            .collect();
        let mut principal_creates: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (n, node) in nodes.iter().enumerate() {
            if node.action.action == ActionKind::Create && is_principal(node.action.key.kind) {
                principal_creates.entry(node.workspace).or_default().push(n);
            }
        }
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
        for (n, node) in nodes.iter().enumerate() {
            for key in &node.action.after {
                if let Some(&d) = index.get(&(node.app, key))
                    && d != n
                {
                    deps[n].insert(d);
                }
            }
            // Principals first: ACLs, grants, run_as and group members name
            // the groups and service principals other apps create here.
            if node.action.action.changes_workspace()
                && node.action.action != ActionKind::Delete
                && !is_principal(node.action.key.kind)
            {
                for &d in principal_creates.get(&node.workspace).into_iter().flatten() {
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
        let waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
        let count = nodes.len();
        let mut schedule = Schedule {
            state: vec![NodeState::Pending; count],
            nodes,
            dependents,
            waiting,
            app_nodes,
            workspaces,
            reports,
            events: Vec::new(),
            stopped: Vec::new(),
            cancelled: false,
            running: 0,
            unsettled: count,
        };
        for n in 0..count {
            if schedule.waiting[n] == 0 {
                schedule.make_ready(n);
            }
        }
        schedule
    }

    /// Starts the next action that may run now: its dependencies are done,
    /// its app has not stopped, the apply is not cancelled, and its
    /// workspace has a free slot. `None` when nothing may start until a
    /// running action finishes (or nothing is left).
    pub fn start_next(&mut self) -> Option<NodeId> {
        loop {
            for w in 0..self.workspaces.len() {
                if self.workspaces[w].running >= self.workspaces[w].limit {
                    continue;
                }
                while let Some(n) = self.workspaces[w].ready.pop_front() {
                    if self.state[n] != NodeState::Ready {
                        continue;
                    }
                    self.state[n] = NodeState::Running;
                    self.workspaces[w].running += 1;
                    self.running += 1;
                    let node = &self.nodes[n];
                    self.events.push(Progress::Started {
                        app: self.reports[node.app].app.clone(),
                        action: node.action.action,
                        key: node.action.key.clone(),
                    });
                    return Some(NodeId(n));
                }
            }
            // Nothing runs and nothing is ready, yet some actions are left:
            // they wait on each other in a circle. None of them can ever
            // start; say so rather than leave them unaccounted for.
            if self.running > 0 || self.unsettled == 0 {
                return None;
            }
            let stuck: Vec<usize> = (0..self.nodes.len())
                .filter(|&n| self.state[n] == NodeState::Pending)
                .collect();
            if stuck.is_empty() {
                return None;
            }
            for n in stuck {
                self.skip(n, CYCLE.to_string());
            }
            self.drain_stopped();
        }
    }

    /// Records how a started action ended, and what follows from it.
    pub fn finished(&mut self, id: NodeId, outcome: Outcome) {
        let n = id.0;
        if self.state.get(n) != Some(&NodeState::Running) {
            return;
        }
        self.running -= 1;
        let w = self.nodes[n].workspace;
        self.workspaces[w].running -= 1;
        let app = self.nodes[n].app;
        let action = self.nodes[n].action.clone();
        match outcome {
            Outcome::Done { id } => {
                self.state[n] = NodeState::Done;
                self.unsettled -= 1;
                let report = &mut self.reports[app];
                report.done += 1;
                *report.by_action.entry(action.action.as_str()).or_default() += 1;
                self.events.push(Progress::Finished {
                    app: report.app.clone(),
                    action: action.action,
                    key: action.key.clone(),
                    id,
                    error: None,
                });
                for i in 0..self.dependents[n].len() {
                    let d = self.dependents[n][i];
                    self.waiting[d] = self.waiting[d].saturating_sub(1);
                    if self.waiting[d] == 0 && self.state[d] == NodeState::Pending {
                        self.make_ready(d);
                    }
                }
            }
            Outcome::NotStarted => {
                self.state[n] = NodeState::Pending;
                self.skip(n, CANCELLED.to_string());
                self.cancel();
            }
            Outcome::Failed { error } => {
                self.state[n] = NodeState::Failed;
                self.unsettled -= 1;
                self.events.push(Progress::Finished {
                    app: self.reports[app].app.clone(),
                    action: action.action,
                    key: action.key.clone(),
                    id: action.id.clone(),
                    error: Some(error.clone()),
                });
                self.stop(app, format!("{}: {error}", action.address));
                let reason = format!("depends on {}, which failed", action.address);
                for d in self.dependents[n].clone() {
                    self.skip(d, reason.clone());
                }
            }
        }
        self.drain_stopped();
    }

    /// Starts nothing more: every action not running is skipped, now or as
    /// soon as it would have become ready. Running actions finish.
    pub fn cancel(&mut self) {
        if self.cancelled {
            return;
        }
        self.cancelled = true;
        for w in 0..self.workspaces.len() {
            let ready: Vec<usize> = self.workspaces[w].ready.drain(..).collect();
            for n in ready {
                if self.state[n] == NodeState::Ready {
                    self.skip(n, CANCELLED.to_string());
                }
            }
        }
        self.drain_stopped();
    }

    /// True when the apply was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// True once every action is done, failed or skipped.
    pub fn is_done(&self) -> bool {
        self.unsettled == 0
    }

    /// The progress events produced since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Progress> {
        std::mem::take(&mut self.events)
    }

    /// The action behind `id`.
    pub fn action(&self, id: NodeId) -> &Arc<PlannedAction> {
        &self.nodes[id.0].action
    }

    /// The index in the plan of the app `id` belongs to.
    pub fn app(&self, id: NodeId) -> usize {
        self.nodes[id.0].app
    }

    /// Where `id` is in its life.
    #[cfg(test)]
    pub fn state(&self, id: NodeId) -> NodeState {
        self.state[id.0]
    }

    /// Every action of the schedule, in plan order.
    #[cfg(test)]
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes.len()).map(NodeId)
    }

    /// How many actions run now in `workspace`.
    #[cfg(test)]
    pub fn running_in(&self, workspace: &str) -> usize {
        self.nodes
            .iter()
            .find(|n| n.action.key.workspace == workspace)
            .map_or(0, |n| self.workspaces[n.workspace].running)
    }

    /// The final per-app report.
    pub fn into_report(self) -> ApplyReport {
        ApplyReport { apps: self.reports }
    }

    /// `n`'s dependencies are all done: queue it, unless nothing more may
    /// start (cancelled) or its app has stopped.
    fn make_ready(&mut self, n: usize) {
        if self.cancelled {
            self.skip(n, CANCELLED.to_string());
            return;
        }
        if let Some(reason) = &self.reports[self.nodes[n].app].failure {
            let reason = format!("not attempted: app stopped ({reason})");
            self.skip(n, reason);
            return;
        }
        self.state[n] = NodeState::Ready;
        let w = self.nodes[n].workspace;
        self.workspaces[w].ready.push_back(n);
    }

    /// Records `app`'s first failure; from then on it starts nothing.
    fn stop(&mut self, app: usize, failure: String) {
        if self.reports[app].failure.is_none() {
            self.reports[app].failure = Some(failure);
            self.stopped.push(app);
        }
    }

    /// Skips the ready actions of apps that stopped (which may stop more).
    fn drain_stopped(&mut self) {
        while let Some(app) = self.stopped.pop() {
            let Some(failure) = self.reports[app].failure.clone() else {
                continue;
            };
            let reason = format!("not attempted: app stopped ({failure})");
            for i in 0..self.app_nodes[app].len() {
                let n = self.app_nodes[app][i];
                if self.state[n] == NodeState::Ready {
                    self.skip(n, reason.clone());
                }
            }
        }
    }

    /// Skips node `n` (pending or ready) and everything that depends on
    /// it; a skipped node in another app stops that app too.
    fn skip(&mut self, n: usize, reason: String) {
        let mut stack = vec![(n, reason)];
        while let Some((n, reason)) = stack.pop() {
            if !matches!(self.state[n], NodeState::Pending | NodeState::Ready) {
                continue;
            }
            self.state[n] = NodeState::Skipped;
            self.unsettled -= 1;
            let app = self.nodes[n].app;
            let action = self.nodes[n].action.clone();
            self.reports[app].skipped += 1;
            self.stop(app, format!("{}: {reason}", action.address));
            self.events.push(Progress::Skipped {
                app: self.reports[app].app.clone(),
                key: action.key.clone(),
                reason,
            });
            let next = format!("depends on {}, which was not applied", action.address);
            for &d in &self.dependents[n] {
                stack.push((d, next.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use crate::model::ResourceKey;
    use crate::plan::Violation;

    fn key(ws: &str, kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: ws.into(),
            kind,
            name: name.into(),
        }
    }

    fn act(action: ActionKind, k: ResourceKey, after: &[&ResourceKey]) -> PlannedAction {
        PlannedAction {
            action,
            address: k.to_string(),
            key: k,
            id: None,
            changes: Vec::new(),
            permission_changes: Vec::new(),
            drift: false,
            reason: None,
            after: after.iter().map(|k| (*k).clone()).collect(),
        }
    }

    fn create(k: &ResourceKey, after: &[&ResourceKey]) -> PlannedAction {
        act(ActionKind::Create, k.clone(), after)
    }

    fn app(name: &str, actions: Vec<PlannedAction>) -> AppPlan {
        let mut plan = AppPlan {
            app: name.into(),
            actions,
            violations: Vec::new(),
            warnings: Vec::new(),
            summary: Default::default(),
        };
        plan.resummarize();
        plan
    }

    fn schedule(apps: Vec<AppPlan>, limits: &[(&str, usize)]) -> Schedule {
        let limits: BTreeMap<String, usize> =
            limits.iter().map(|(w, n)| (w.to_string(), *n)).collect();
        Schedule::new(&Plan::new(None, apps), |ws| {
            limits.get(ws).copied().unwrap_or(8)
        })
    }

    /// Starts everything that may start; the addresses, in order.
    fn start_all(s: &mut Schedule) -> Vec<String> {
        let mut started = Vec::new();
        while let Some(id) = s.start_next() {
            started.push(s.action(id).address.clone());
        }
        started
    }

    fn id_of(s: &Schedule, address: &str) -> NodeId {
        s.ids()
            .find(|&id| s.action(id).address == address)
            .unwrap_or_else(|| panic!("no action {address}"))
    }

    fn done(s: &mut Schedule, address: &str) {
        let id = id_of(s, address);
        s.finished(id, Outcome::Done { id: None });
    }

    fn skipped(events: &[Progress]) -> BTreeMap<String, String> {
        events
            .iter()
            .filter_map(|e| match e {
                Progress::Skipped { key, reason, .. } => Some((key.to_string(), reason.clone())),
                _ => None,
            })
            .collect()
    }

    fn report<'a>(r: &'a ApplyReport, app: &str) -> &'a AppReport {
        r.apps
            .iter()
            .find(|a| a.app == app)
            .unwrap_or_else(|| panic!("no report for {app}"))
    }

    #[test]
    fn an_action_starts_only_after_what_it_depends_on_is_done() {
        let policy = key("prod", Kind::ClusterPolicy, "p");
        let cluster = key("prod", Kind::Cluster, "c");
        let job = key("prod", Kind::Job, "j");
        let mut s = schedule(
            vec![app(
                "a",
                vec![
                    create(&policy, &[]),
                    create(&cluster, &[&policy]),
                    create(&job, &[&cluster, &policy]),
                ],
            )],
            &[],
        );
        assert_eq!(start_all(&mut s), vec!["prod/ClusterPolicy/p"]);
        done(&mut s, "prod/ClusterPolicy/p");
        assert_eq!(start_all(&mut s), vec!["prod/Cluster/c"]);
        assert!(!s.is_done());
        done(&mut s, "prod/Cluster/c");
        assert_eq!(start_all(&mut s), vec!["prod/Job/j"]);
        done(&mut s, "prod/Job/j");
        assert!(s.is_done());
        let events = s.take_events();
        let order: Vec<String> = events
            .iter()
            .map(|e| match e {
                Progress::Started { key, .. } => format!("start {key}"),
                Progress::Finished { key, error, .. } => format!("finish {key} {error:?}"),
                Progress::Skipped { key, .. } => format!("skip {key}"),
            })
            .collect();
        assert_eq!(
            order,
            vec![
                "start prod/ClusterPolicy/p",
                "finish prod/ClusterPolicy/p None",
                "start prod/Cluster/c",
                "finish prod/Cluster/c None",
                "start prod/Job/j",
                "finish prod/Job/j None",
            ]
        );
        let r = s.into_report();
        assert!(r.success());
        assert_eq!(report(&r, "a").done, 3);
        assert_eq!(report(&r, "a").by_action.get("create"), Some(&3));
    }

    #[test]
    fn changes_in_a_workspace_wait_for_the_principals_other_apps_create_there() {
        let group = key("prod", Kind::Group, "analysts");
        let sp = key("prod", Kind::ServicePrincipal, "etl");
        let job = key("prod", Kind::Job, "nightly");
        let own_group = key("prod", Kind::Group, "readers");
        let gone = key("prod", Kind::Job, "old");
        let elsewhere = key("dev", Kind::Job, "nightly");
        let mut s = schedule(
            vec![
                app("identity", vec![create(&group, &[]), create(&sp, &[])]),
                app(
                    "analytics",
                    vec![
                        create(&job, &[]),
                        create(&own_group, &[]),
                        act(ActionKind::Delete, gone.clone(), &[]),
                        create(&elsewhere, &[]),
                    ],
                ),
            ],
            &[],
        );
        // The job waits; principals, deletes and other workspaces do not.
        let first: BTreeSet<String> = start_all(&mut s).into_iter().collect();
        let expected: BTreeSet<String> = [
            "prod/Group/analysts",
            "prod/ServicePrincipal/etl",
            "prod/Group/readers",
            "prod/Job/old",
            "dev/Job/nightly",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(first, expected);
        done(&mut s, "prod/Group/analysts");
        assert!(
            start_all(&mut s).is_empty(),
            "the job also waits for the SP"
        );
        done(&mut s, "prod/ServicePrincipal/etl");
        assert_eq!(start_all(&mut s), vec!["prod/Job/nightly"]);
    }

    #[test]
    fn a_failure_skips_its_dependents_in_every_app_and_stops_their_apps() {
        let group = key("prod", Kind::Group, "g");
        let x = key("prod", Kind::Job, "x");
        let y = key("dev", Kind::Cluster, "y");
        let j = key("prod", Kind::Job, "j");
        let k = key("dev", Kind::Cluster, "k");
        let m = key("dev", Kind::Job, "m");
        let mut s = schedule(
            vec![
                app(
                    "a",
                    vec![create(&group, &[]), create(&x, &[&group]), create(&y, &[])],
                ),
                app(
                    "b",
                    vec![create(&j, &[]), create(&k, &[]), create(&m, &[&k])],
                ),
            ],
            &[("prod", 1), ("dev", 1)],
        );
        assert_eq!(start_all(&mut s), vec!["prod/Group/g", "dev/Cluster/y"]);
        s.take_events();
        let g = id_of(&s, "prod/Group/g");
        s.finished(
            g,
            Outcome::Failed {
                error: "create: PERMISSION_DENIED".into(),
            },
        );
        // Nothing of b starts although dev/Cluster/k is ready and free.
        done(&mut s, "dev/Cluster/y");
        assert!(start_all(&mut s).is_empty());
        assert!(s.is_done());
        let events = s.take_events();
        assert!(events.iter().any(|e| matches!(
            e,
            Progress::Finished { key, error: Some(error), .. }
                if key.to_string() == "prod/Group/g" && error == "create: PERMISSION_DENIED"
        )));
        let skips = skipped(&events);
        let failed = "depends on prod/Group/g, which failed";
        let b_stopped =
            "not attempted: app stopped (prod/Job/j: depends on prod/Group/g, which failed)";
        let expected: BTreeMap<String, String> = [
            ("prod/Job/x", failed),
            ("prod/Job/j", failed),
            ("dev/Cluster/k", b_stopped),
            (
                "dev/Job/m",
                "depends on dev/Cluster/k, which was not applied",
            ),
        ]
        .into_iter()
        .map(|(k, r)| (k.to_string(), r.to_string()))
        .collect();
        assert_eq!(skips, expected);
        let r = s.into_report();
        assert!(!r.success());
        let a = report(&r, "a");
        assert_eq!((a.done, a.skipped), (1, 1));
        assert_eq!(
            a.failure.as_deref(),
            Some("prod/Group/g: create: PERMISSION_DENIED")
        );
        let b = report(&r, "b");
        assert_eq!((b.done, b.skipped), (0, 3));
        assert_eq!(
            b.failure.as_deref(),
            Some("prod/Job/j: depends on prod/Group/g, which failed")
        );
    }

    #[test]
    fn an_app_stopped_by_a_failure_starts_nothing_more_once_its_running_actions_end() {
        let a1 = key("prod", Kind::Job, "a1");
        let a2 = key("prod", Kind::Job, "a2");
        let later = key("prod", Kind::Job, "later");
        let mut s = schedule(
            vec![app(
                "a",
                vec![create(&a1, &[]), create(&a2, &[]), create(&later, &[&a2])],
            )],
            &[],
        );
        assert_eq!(start_all(&mut s), vec!["prod/Job/a1", "prod/Job/a2"]);
        let id = id_of(&s, "prod/Job/a1");
        s.finished(
            id,
            Outcome::Failed {
                error: "boom".into(),
            },
        );
        // a2 was in flight: it finishes, and what waited for it is skipped.
        done(&mut s, "prod/Job/a2");
        assert!(start_all(&mut s).is_empty());
        assert!(s.is_done());
        let skips = skipped(&s.take_events());
        assert_eq!(
            skips.get("prod/Job/later").map(String::as_str),
            Some("not attempted: app stopped (prod/Job/a1: boom)")
        );
        let r = s.into_report();
        assert_eq!((report(&r, "a").done, report(&r, "a").skipped), (1, 1));
    }

    #[test]
    fn apps_with_violations_or_conflicts_start_nothing() {
        let group = key("prod", Kind::Group, "g");
        let job = key("prod", Kind::Job, "j");
        let taken = key("prod", Kind::Job, "taken");
        let fine = key("prod", Kind::Job, "fine");
        let mut blocked = app("blocked", vec![create(&group, &[]), create(&job, &[])]);
        blocked.add_violations([Violation {
            rule: "kinds".into(),
            key: Some(group.clone()),
            message: "kind Group is not allowed".into(),
        }]);
        let mut conflict = act(ActionKind::Conflict, taken.clone(), &[]);
        conflict.reason = Some("an object with this name exists".into());
        let mut s = schedule(
            vec![
                blocked,
                app(
                    "conflicted",
                    vec![conflict, create(&key("prod", Kind::Cluster, "c"), &[])],
                ),
                app("ok", vec![create(&fine, &[])]),
            ],
            &[],
        );
        // The blocked app's group is not waited for: it will not be created.
        assert_eq!(start_all(&mut s), vec!["prod/Job/fine"]);
        done(&mut s, "prod/Job/fine");
        assert!(s.is_done());
        assert!(skipped(&s.take_events()).is_empty());
        let r = s.into_report();
        let b = report(&r, "blocked");
        assert_eq!((b.done, b.skipped), (0, 2));
        assert_eq!(
            b.failure.as_deref(),
            Some(
                "blocked by 1 violation(s) of project rules or manifest error(s); nothing of this app was applied: kind Group is not allowed"
            )
        );
        let c = report(&r, "conflicted");
        assert_eq!((c.done, c.skipped), (0, 1));
        assert_eq!(
            c.failure.as_deref(),
            Some(
                "1 conflict(s); nothing of this app was applied: prod/Job/taken: an object with this name exists"
            )
        );
        assert!(report(&r, "ok").failure.is_none());
    }

    #[test]
    fn no_workspace_ever_runs_more_actions_than_its_concurrency() {
        let mut actions: Vec<PlannedAction> = (0..10)
            .map(|i| create(&key("prod", Kind::Job, &format!("p{i}")), &[]))
            .collect();
        actions.extend((0..4).map(|i| create(&key("dev", Kind::Job, &format!("d{i}")), &[])));
        let mut s = schedule(vec![app("a", actions)], &[("prod", 3), ("dev", 2)]);
        let started = start_all(&mut s);
        assert_eq!(started.len(), 5, "{started:?}");
        assert_eq!((s.running_in("prod"), s.running_in("dev")), (3, 2));
        let mut running: Vec<String> = started;
        let mut finished = 0;
        while let Some(address) = running.pop() {
            done(&mut s, &address);
            finished += 1;
            // One slot freed: exactly one action of that workspace (if any
            // is left) takes it.
            let next = start_all(&mut s);
            assert!(next.len() <= 1, "{next:?}");
            running.extend(next);
            assert!(s.running_in("prod") <= 3 && s.running_in("dev") <= 2);
        }
        assert_eq!(finished, 14);
        assert!(s.is_done());
        assert_eq!(s.into_report().apps[0].done, 14);
    }

    #[test]
    fn cancelling_lets_running_actions_finish_and_skips_the_rest() {
        let names = ["a", "b", "c", "d"];
        let mut actions: Vec<PlannedAction> = names
            .iter()
            .map(|n| create(&key("prod", Kind::Job, n), &[]))
            .collect();
        actions.push(create(
            &key("prod", Kind::Job, "e"),
            &[&key("prod", Kind::Job, "a")],
        ));
        let mut s = schedule(vec![app("x", actions)], &[("prod", 2)]);
        assert_eq!(start_all(&mut s), vec!["prod/Job/a", "prod/Job/b"]);
        s.cancel();
        assert!(start_all(&mut s).is_empty());
        done(&mut s, "prod/Job/a");
        assert!(start_all(&mut s).is_empty(), "nothing starts after cancel");
        // b's task saw the cancellation before making any call.
        let b = id_of(&s, "prod/Job/b");
        s.finished(b, Outcome::NotStarted);
        assert!(s.is_done());
        let skips = skipped(&s.take_events());
        let expected: BTreeMap<String, String> = ["b", "c", "d", "e"]
            .iter()
            .map(|n| (format!("prod/Job/{n}"), CANCELLED.to_string()))
            .collect();
        assert_eq!(skips, expected);
        let r = s.into_report();
        assert_eq!((r.apps[0].done, r.apps[0].skipped), (1, 4));
        assert!(!r.success());
    }

    #[test]
    fn actions_waiting_on_each_other_are_skipped_not_lost() {
        let x = key("prod", Kind::Job, "x");
        let y = key("prod", Kind::Job, "y");
        let mut s = schedule(
            vec![app("a", vec![create(&x, &[&y]), create(&y, &[&x])])],
            &[],
        );
        assert!(start_all(&mut s).is_empty());
        assert!(s.is_done());
        assert_eq!(skipped(&s.take_events()).len(), 2);
        assert_eq!(s.into_report().apps[0].skipped, 2);
    }

    /// One generated action: app, workspace, kind, action, `after` (indices
    /// of earlier actions; those of another app are ignored by the schedule).
    type Spec = (usize, usize, Kind, ActionKind, Vec<usize>);

    fn spec() -> impl Strategy<Value = Spec> {
        (
            0..2usize,
            0..2usize,
            prop_oneof![
                Just(Kind::Job),
                Just(Kind::Cluster),
                Just(Kind::Group),
                Just(Kind::ServicePrincipal)
            ],
            prop_oneof![
                Just(ActionKind::Create),
                Just(ActionKind::Update),
                Just(ActionKind::Delete),
                Just(ActionKind::Release),
            ],
            proptest::collection::vec(0..16usize, 0..4),
        )
    }

    proptest! {
        #[test]
        fn every_action_settles_once_and_none_starts_before_its_dependencies(
            specs in proptest::collection::vec(spec(), 1..16),
            fails in proptest::collection::vec(any::<bool>(), 16),
            limits in (1..4usize, 1..4usize),
            picks in proptest::collection::vec(any::<usize>(), 40),
            cancel_at in proptest::option::of(0..20usize),
        ) {
            let wss = ["prod", "dev"];
            let keys: Vec<ResourceKey> = specs
                .iter()
                .enumerate()
                .map(|(i, (_, w, kind, _, _))| key(wss[*w], *kind, &format!("n{i}")))
                .collect();
            // `after` only names earlier actions: the plan is a DAG.
            let afters: Vec<Vec<usize>> = specs
                .iter()
                .enumerate()
                .map(|(i, s)| s.4.iter().copied().filter(|&d| d < i).collect())
                .collect();
            let apps: Vec<AppPlan> = (0..2)
                .map(|a| {
                    let actions = specs
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.0 == a)
                        .map(|(i, s)| {
                            let after: Vec<&ResourceKey> = afters[i].iter().map(|&d| &keys[d]).collect();
                            act(s.3, keys[i].clone(), &after)
                        })
                        .collect();
                    app(&format!("app{a}"), actions)
                })
                .collect();
            // The dependencies, stated independently of the schedule.
            let principal = |k: Kind| matches!(k, Kind::Group | Kind::ServicePrincipal);
            let deps: Vec<BTreeSet<usize>> = specs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut d: BTreeSet<usize> =
                        afters[i].iter().copied().filter(|&d| specs[d].0 == s.0).collect();
                    if matches!(s.3, ActionKind::Create | ActionKind::Update) && !principal(s.2) {
                        d.extend((0..specs.len()).filter(|&o| {
                            specs[o].0 != s.0
                                && specs[o].1 == s.1
                                && specs[o].3 == ActionKind::Create
                                && principal(specs[o].2)
                        }));
                    }
                    d
                })
                .collect();
            let limit = [limits.0, limits.1];
            let mut s = schedule(apps, &[("prod", limit[0]), ("dev", limit[1])]);
            let index = |s: &Schedule, id: NodeId| -> usize {
                s.action(id).key.name[1..].parse().unwrap_or(usize::MAX)
            };
            let mut running: Vec<NodeId> = Vec::new();
            let mut not_started: BTreeSet<String> = BTreeSet::new();
            let mut step = 0;
            loop {
                while let Some(id) = s.start_next() {
                    let n = index(&s, id);
                    for &d in &deps[n] {
                        let dep = s.ids().find(|&o| index(&s, o) == d);
                        prop_assert!(dep.is_some_and(|o| s.state(o) == NodeState::Done),
                            "n{} started before n{} was done", n, d);
                    }
                    running.push(id);
                    for (w, ws) in wss.iter().enumerate() {
                        prop_assert!(s.running_in(ws) <= limit[w]);
                    }
                }
                if s.is_done() {
                    break;
                }
                prop_assert!(!running.is_empty(), "not done, yet nothing runs");
                if cancel_at == Some(step) {
                    s.cancel();
                }
                let pick = picks[step % picks.len()] % running.len();
                let id = running.swap_remove(pick);
                let n = index(&s, id);
                let outcome = if s.is_cancelled() && n % 3 == 0 {
                    not_started.insert(keys[n].to_string());
                    Outcome::NotStarted
                } else if fails[n] {
                    Outcome::Failed { error: "boom".into() }
                } else {
                    Outcome::Done { id: None }
                };
                s.finished(id, outcome);
                step += 1;
            }
            prop_assert!(running.is_empty());
            // Every action: started then finished (or, if its task saw the
            // cancellation first, skipped), or skipped; exactly once.
            let mut started: BTreeSet<String> = BTreeSet::new();
            let mut settled: BTreeMap<String, usize> = BTreeMap::new();
            for e in s.take_events() {
                match e {
                    Progress::Started { key, .. } => {
                        prop_assert!(started.insert(key.to_string()), "{} started twice", key);
                    }
                    Progress::Finished { key, .. } => {
                        let k = key.to_string();
                        prop_assert!(started.contains(&k), "{} finished, never started", k);
                        *settled.entry(k).or_default() += 1;
                    }
                    Progress::Skipped { key, .. } => {
                        let k = key.to_string();
                        prop_assert!(!started.contains(&k) || not_started.contains(&k),
                            "{} skipped after it started", k);
                        *settled.entry(k).or_default() += 1;
                    }
                }
            }
            for k in &keys {
                prop_assert_eq!(settled.get(&k.to_string()), Some(&1), "{}", k);
            }
            let mut counts = [[0usize; 2]; 2];
            for id in s.ids() {
                let state = s.state(id);
                prop_assert!(matches!(
                    state,
                    NodeState::Done | NodeState::Failed | NodeState::Skipped
                ));
                let a = specs[index(&s, id)].0;
                match state {
                    NodeState::Done => counts[a][0] += 1,
                    NodeState::Skipped => counts[a][1] += 1,
                    _ => {}
                }
            }
            let r = s.into_report();
            for (a, c) in counts.iter().enumerate() {
                let rep = report(&r, &format!("app{a}"));
                prop_assert_eq!([rep.done, rep.skipped], *c);
            }
        }
    }
}
