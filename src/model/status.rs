//! What the controller knows about each app at a moment: sync status,
//! health, the revisions seen and applied, the last sync and drift check,
//! and conditions in words. The controller writes it (and persists it in
//! the state directory); `mortar status`, the HTTP API, metrics and
//! notifications read it.

use serde::{Deserialize, Serialize};

/// Whether the workspace matches Git for an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SyncStatus {
    /// Live state equals the desired state of the revision seen.
    Synced,
    /// Live state differs: a new revision, drift, or a manual app waiting.
    OutOfSync,
    /// Not compared yet, or the comparison failed.
    Unknown,
}

impl SyncStatus {
    pub const ALL: [SyncStatus; 3] = [
        SyncStatus::Synced,
        SyncStatus::OutOfSync,
        SyncStatus::Unknown,
    ];

    /// A bounded label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
            SyncStatus::Unknown => "Unknown",
        }
    }
}

/// How an app is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    /// The last sync succeeded and nothing is pending.
    Healthy,
    /// A sync is running or waiting (for a retry or a dependency).
    Progressing,
    /// The last sync failed, or drift persists without self-heal.
    Degraded,
    /// The app cannot be synced as written: its manifests do not render,
    /// a guardrail refuses it, its revision is refused, or a dependency failed.
    Blocked,
    /// The controller could not even look: the source or a workspace is unreachable.
    Error,
}

impl Health {
    pub const ALL: [Health; 5] = [
        Health::Healthy,
        Health::Progressing,
        Health::Degraded,
        Health::Blocked,
        Health::Error,
    ];

    /// A bounded label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Degraded => "Degraded",
            Health::Blocked => "Blocked",
            Health::Error => "Error",
        }
    }
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncResult {
    Succeeded,
    Failed,
    /// Stopped by shutdown before every action ran.
    Cancelled,
}

impl SyncResult {
    pub const ALL: [SyncResult; 3] = [
        SyncResult::Succeeded,
        SyncResult::Failed,
        SyncResult::Cancelled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SyncResult::Succeeded => "succeeded",
            SyncResult::Failed => "failed",
            SyncResult::Cancelled => "cancelled",
        }
    }
}

/// Counts of what one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// One sync of one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub started: jiff::Timestamp,
    pub finished: jiff::Timestamp,
    /// What asked for it: `webhook`, `poll`, `drift`, `manual`, `retry`, `rollback`, `startup`.
    pub trigger: String,
    /// The commit synced.
    pub revision: Option<String>,
    /// The commit's author, `Name <email>`.
    pub author: Option<String>,
    pub result: SyncResult,
    pub counts: SyncCounts,
    /// Why it failed, in words (no secret ever reaches here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The last comparison of live state with Git made without a new commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCheck {
    pub at: jiff::Timestamp,
    /// Resources whose live state differs from Git.
    pub drifted: usize,
    /// `Kind/name (field, field)` of the first few drifted resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// Why an app is in the state it is, as a reader wants to be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConditionKind {
    /// The app's manifests do not render at the revision seen.
    RenderFailed,
    /// A project rule or guardrail refuses the app.
    GuardRefused,
    /// The source's head is not signed by a trusted key, or could not be fetched.
    RevisionRefused,
    SourceUnavailable,
    /// The last sync failed (retries may follow).
    SyncFailed,
    /// Waiting for apps named in `dependsOn`.
    DependencyHeld,
    /// Live state drifted from Git.
    Drift,
    /// Automated sync paused (rollback, pin or request).
    Paused,
    /// A manual app with changes waiting for a sync request.
    WaitingForSync,
    /// A service principal's credential could not be rotated (the message
    /// names the step and why, never the credential).
    RotationFailed,
}

/// One condition, with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub kind: ConditionKind,
    pub message: String,
    pub since: jiff::Timestamp,
}

/// Everything the controller tells about one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppStatus {
    pub name: String,
    /// The app whose source declares it; `None` for a root.
    pub parent: Option<String>,
    pub depth: usize,
    pub project: String,
    pub workspace: Option<String>,
    pub sync: SyncStatus,
    pub health: Health,
    /// The newest commit the controller has seen for this app.
    pub revision_seen: Option<String>,
    /// The commit of the last successful sync.
    pub revision_applied: Option<String>,
    /// `automated`, `self_heal` and `prune` as the app's policy says.
    pub automated: bool,
    pub self_heal: bool,
    pub prune: bool,
    /// Automated sync paused; with the revision pinned to, if any.
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub last_sync: Option<SyncRun>,
    pub last_drift_check: Option<DriftCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl AppStatus {
    /// A new app, not compared yet.
    pub fn unknown(name: impl Into<String>) -> AppStatus {
        AppStatus {
            name: name.into(),
            parent: None,
            depth: 0,
            project: "default".into(),
            workspace: None,
            sync: SyncStatus::Unknown,
            health: Health::Progressing,
            revision_seen: None,
            revision_applied: None,
            automated: false,
            self_heal: false,
            prune: false,
            paused: false,
            pinned: None,
            depends_on: Vec::new(),
            last_sync: None,
            last_drift_check: None,
            conditions: Vec::new(),
        }
    }

    pub fn condition(&self, kind: ConditionKind) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

/// The source as the controller last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// The repository, without any credential.
    pub repository: String,
    /// The branch, tag or commit followed.
    pub reference: String,
    /// The head commit last fetched.
    pub head: Option<String>,
    pub last_fetch: Option<jiff::Timestamp>,
    /// Why the last fetch or verification failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last time the followed revision was force-pushed (its new head
    /// not descending from the one before), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_pushed: Option<String>,
}

/// Every app's status, as one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerStatus {
    pub source: SourceStatus,
    /// Apps in tree order (each parent before its children).
    pub apps: Vec<AppStatus>,
    pub updated: Option<jiff::Timestamp>,
    /// In a cluster: this replica and the shards it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaStatus>,
}

/// One replica's share of the apps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaStatus {
    /// Its name in Leases and Events.
    pub identity: String,
    /// How many shards the apps are spread over.
    pub shards: u32,
    /// The shards it holds (their apps are the ones it reconciles).
    pub held: Vec<u32>,
}

impl ControllerStatus {
    pub fn app(&self, name: &str) -> Option<&AppStatus> {
        self.apps.iter().find(|a| a.name == name)
    }
}
