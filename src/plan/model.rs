//! The planner's own plain-data inputs and outputs: ignore rules, app
//! options, and the typed plan itself (the shared vocabulary it builds on,
//! live objects and field changes among it, is in `crate::model`).
//!
//! Nothing here holds an I/O handle, so apply, the controller and the HTTP
//! API can share these types and serialize them freely.

use serde::{Deserialize, Serialize};

use crate::model::{ActionKind, FieldChange, Kind, PermissionChange, ResourceKey};

/// The version of the plan's JSON document; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Argo CD style `ignoreDifferences` entry: JSON pointers into the spec of
/// the resources it matches whose differences are never planned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreRule {
    /// Only resources of this kind; all kinds when absent.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// Only the resource with this name; all names when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// RFC 6901 pointers (`~1` escapes `/`); `*` matches any one segment.
    /// A pointer also covers everything below it.
    pub json_pointers: Vec<String>,
}

/// Per-app switches that change what the planner may propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppOptions {
    /// Delete objects Mortar created that Git no longer declares.
    pub prune: bool,
    /// Take over pre-existing objects whose name Git declares.
    pub adopt: bool,
}

/// One step of an app's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub action: ActionKind,
    pub key: ResourceKey,
    /// `workspace/Kind/name`, for readers that want one string.
    pub address: String,
    /// The Databricks id, when the object exists live or in the inventory.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    #[serde(default)]
    pub permission_changes: Vec<PermissionChange>,
    /// Some change was made outside Mortar (including a deletion by hand).
    #[serde(default)]
    pub drift: bool,
    /// Why, for conflicts, skipped deletes, releases and recreations.
    #[serde(default)]
    pub reason: Option<String>,
    /// Keys in this plan that must be applied before this one (for deletes:
    /// that must be deleted before this one).
    #[serde(default)]
    pub after: Vec<ResourceKey>,
}

/// A project rule or guardrail the plan breaks; any violation stops the
/// app's apply. Guardrail warnings have the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule's name.
    pub rule: String,
    #[serde(default)]
    pub key: Option<ResourceKey>,
    pub message: String,
}

/// Counts of actions by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub adopt: usize,
    pub delete: usize,
    pub delete_skipped: usize,
    pub release: usize,
    pub forget: usize,
    pub conflict: usize,
    pub no_op: usize,
    pub violations: usize,
    /// Actions that heal drift.
    pub drift: usize,
}

impl Summary {
    /// Adds one action to the counts.
    pub fn count(&mut self, action: &PlannedAction) {
        let slot = match action.action {
            ActionKind::Create => &mut self.create,
            ActionKind::Update => &mut self.update,
            ActionKind::Adopt => &mut self.adopt,
            ActionKind::Delete => &mut self.delete,
            ActionKind::DeleteSkipped => &mut self.delete_skipped,
            ActionKind::Release => &mut self.release,
            ActionKind::Forget => &mut self.forget,
            ActionKind::Conflict => &mut self.conflict,
            ActionKind::NoOp => &mut self.no_op,
        };
        *slot += 1;
        if action.drift && action.action.changes_workspace() {
            self.drift += 1;
        }
    }

    /// Adds another summary's counts.
    pub fn add(&mut self, other: &Summary) {
        self.create += other.create;
        self.update += other.update;
        self.adopt += other.adopt;
        self.delete += other.delete;
        self.delete_skipped += other.delete_skipped;
        self.release += other.release;
        self.forget += other.forget;
        self.conflict += other.conflict;
        self.no_op += other.no_op;
        self.violations += other.violations;
        self.drift += other.drift;
    }

    /// True when applying would change a workspace, or a conflict or
    /// violation needs a person: `mortar plan` exits 2. Skipped deletes,
    /// releases and forgets alone do not count, so a plan right after a
    /// successful apply without prune exits 0.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.adopt + self.delete + self.conflict + self.violations > 0
    }
}

/// The ordered plan of one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppPlan {
    pub app: String,
    /// Creates, updates, adopts, conflicts and no-ops in dependency order,
    /// then deletes (and skipped deletes, releases, forgets) in reverse order.
    pub actions: Vec<PlannedAction>,
    #[serde(default)]
    pub violations: Vec<Violation>,
    /// Guardrail warnings: shown, never blocking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Violation>,
    pub summary: Summary,
}

impl AppPlan {
    /// Recomputes `summary` from `actions` and `violations`.
    pub fn resummarize(&mut self) {
        let mut summary = Summary::default();
        for action in &self.actions {
            summary.count(action);
        }
        summary.violations = self.violations.len();
        self.summary = summary;
    }

    /// Records project-rule violations found by the guard.
    pub fn add_violations(&mut self, violations: impl IntoIterator<Item = Violation>) {
        self.violations.extend(violations);
        self.resummarize();
    }

    /// True when the app must not be applied.
    pub fn is_blocked(&self) -> bool {
        !self.violations.is_empty()
    }
}

/// The plan of every app at one revision: what `mortar plan` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// The Git revision the desired state was rendered from.
    #[serde(default)]
    pub revision: Option<String>,
    pub apps: Vec<AppPlan>,
    pub summary: Summary,
    pub has_changes: bool,
}

impl Plan {
    /// Wraps app plans, totalling their summaries.
    pub fn new(revision: Option<String>, apps: Vec<AppPlan>) -> Plan {
        let mut summary = Summary::default();
        for app in &apps {
            summary.add(&app.summary);
        }
        Plan {
            format_version: FORMAT_VERSION,
            revision,
            has_changes: summary.has_changes(),
            apps,
            summary,
        }
    }

    /// The process exit code for `mortar plan`: 0 nothing to do, 2 changes,
    /// 1 when an app is blocked (a violation a reviewer must see; the
    /// other apps are planned in full).
    pub fn exit_code(&self) -> u8 {
        if self.apps.iter().any(AppPlan::is_blocked) {
            1
        } else if self.has_changes {
            2
        } else {
            0
        }
    }
}
