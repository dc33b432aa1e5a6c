//! Sync history from the audit trail: the last syncs of each app, each with
//! its revision, who set it in motion (the person, when a record names
//! one), the commit's author, the identities Mortar acted as, the result
//! and the counts. A pure function over records.
//!
//! Records carry no sync id, so a sync is recovered from the trail: an
//! app's consecutive records with one revision and one trigger, closer
//! together than [`HistoryOptions::gap`] (or with a call of the app still
//! in flight), in which no object is acted on twice the same way. An intent left without an outcome makes the sync
//! `interrupted`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::record::{AuditAction, AuditRecord, Outcome, Phase, Trigger};
use crate::model::status::SyncCounts;

/// How a sync ended, as the trail tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    Succeeded,
    /// At least one call failed.
    Failed,
    /// At least one call has no recorded outcome (a crash or a kill).
    Interrupted,
}

impl RunResult {
    pub fn label(self) -> &'static str {
        match self {
            RunResult::Succeeded => "succeeded",
            RunResult::Failed => "failed",
            RunResult::Interrupted => "interrupted",
        }
    }
}

/// One sync of one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncEntry {
    pub app: String,
    pub started: Timestamp,
    pub finished: Timestamp,
    pub revision: Option<String>,
    /// The commit's author, `Name <email>`.
    pub commit_author: Option<String>,
    /// `controller`, `cli` or `api`.
    pub trigger: &'static str,
    /// The person who asked for it, when the trigger names one.
    pub person: Option<String>,
    /// The identities Mortar called the APIs as (one per workspace at most).
    pub acting_as: Vec<String>,
    pub workspaces: Vec<String>,
    pub result: RunResult,
    pub counts: SyncCounts,
    /// Calls with an intent but no outcome.
    pub interrupted: usize,
    /// The sequence numbers of its first and last records.
    pub first_seq: u64,
    pub last_seq: u64,
}

/// Which syncs to keep.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub app: Option<String>,
    /// Syncs kept per app (the newest).
    pub limit: usize,
    /// Records of one app further apart than this (with no call of the app
    /// in flight) belong to two syncs. Shorter than any loop interval.
    pub gap: SignedDuration,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            app: None,
            limit: 10,
            gap: SignedDuration::from_secs(60),
        }
    }
}

struct Open {
    entry: SyncEntry,
    /// The apply's id, when its records carry one.
    sync_id: Option<String>,
    trigger: Trigger,
    acting_as: BTreeSet<String>,
    workspaces: BTreeSet<String>,
    /// `(key, action)` of intents without an outcome yet.
    pending: HashSet<(String, &'static str)>,
    /// `(key, action)` of every intent seen.
    seen: HashSet<(String, &'static str)>,
    failed: bool,
}

impl Open {
    fn close(self) -> SyncEntry {
        let mut entry = self.entry;
        entry.acting_as = self.acting_as.into_iter().collect();
        entry.workspaces = self.workspaces.into_iter().collect();
        entry.interrupted = self.pending.len();
        entry.result = if entry.interrupted > 0 {
            RunResult::Interrupted
        } else if self.failed {
            RunResult::Failed
        } else {
            RunResult::Succeeded
        };
        entry
    }
}

fn trigger_parts(trigger: &Trigger) -> (&'static str, Option<String>) {
    match trigger {
        Trigger::Controller => ("controller", None),
        Trigger::Sync(why) => (
            match why.as_str() {
                "startup" => "startup",
                "poll" => "poll",
                "webhook" => "webhook",
                "drift" => "drift",
                "retry" => "retry",
                "manual" => "manual",
                "rollback" => "rollback",
                "prune" => "prune",
                _ => "controller",
            },
            None,
        ),
        Trigger::Cli(user) => ("cli", Some(user.clone())),
        Trigger::Api(user) => ("api", Some(user.clone())),
    }
}

/// The newest `options.limit` syncs of each app (of `options.app` only
/// when given), apps in name order, each app's newest sync first.
pub fn history(records: &[AuditRecord], options: &HistoryOptions) -> Vec<SyncEntry> {
    let mut open: BTreeMap<String, Open> = BTreeMap::new();
    let mut done: BTreeMap<String, Vec<SyncEntry>> = BTreeMap::new();
    for record in records {
        let e = &record.event;
        // Observations (drift found, a revision refused) are not syncs.
        // Nor are credential rotations, which run on their own clock.
        if matches!(e.phase, Phase::Recovered | Phase::Observed)
            || e.action.is_rotation()
            || options.app.as_ref().is_some_and(|a| *a != e.app)
        {
            continue;
        }
        let slot = (e.key.clone(), e.action.as_str());
        let current = open.get(&e.app);
        let continues = current.is_some_and(|g| {
            // Records of one apply carry its id: no guessing needed.
            if let (Some(ours), Some(theirs)) = (&g.sync_id, &e.sync_id) {
                return ours == theirs;
            }
            if e.phase == Phase::Outcome && g.pending.contains(&slot) {
                return true;
            }
            g.trigger == e.triggered_by
                && g.entry.revision == e.revision
                && (!g.pending.is_empty()
                    || record.timestamp.duration_since(g.entry.finished) <= options.gap)
                && !(e.phase == Phase::Intent && g.seen.contains(&slot))
        });
        if !continues {
            if let Some(g) = open.remove(&e.app) {
                done.entry(e.app.clone()).or_default().push(g.close());
            }
            let (trigger, person) = trigger_parts(&e.triggered_by);
            open.insert(
                e.app.clone(),
                Open {
                    entry: SyncEntry {
                        app: e.app.clone(),
                        started: record.timestamp,
                        finished: record.timestamp,
                        revision: e.revision.clone(),
                        commit_author: e.commit_author.clone(),
                        trigger,
                        person,
                        acting_as: Vec::new(),
                        workspaces: Vec::new(),
                        result: RunResult::Succeeded,
                        counts: SyncCounts::default(),
                        interrupted: 0,
                        first_seq: record.seq,
                        last_seq: record.seq,
                    },
                    sync_id: e.sync_id.clone(),
                    trigger: e.triggered_by.clone(),
                    acting_as: BTreeSet::new(),
                    workspaces: BTreeSet::new(),
                    pending: HashSet::new(),
                    seen: HashSet::new(),
                    failed: false,
                },
            );
        }
        let Some(g) = open.get_mut(&e.app) else {
            continue;
        };
        g.entry.finished = g.entry.finished.max(record.timestamp);
        g.entry.last_seq = record.seq;
        if g.entry.commit_author.is_none() {
            g.entry.commit_author = e.commit_author.clone();
        }
        if let Some(id) = &e.acting_as {
            g.acting_as.insert(id.clone());
        }
        g.workspaces.insert(e.workspace.clone());
        match e.phase {
            Phase::Intent => {
                g.seen.insert(slot.clone());
                g.pending.insert(slot);
            }
            Phase::Outcome => {
                g.pending.remove(&slot);
                let c = &mut g.entry.counts;
                match &e.outcome {
                    Some(Outcome::Ok) => match e.action {
                        AuditAction::Create => c.created += 1,
                        AuditAction::Delete => c.deleted += 1,
                        AuditAction::Update
                        | AuditAction::Heal
                        | AuditAction::Adopt
                        | AuditAction::SetPermissions => c.updated += 1,
                        AuditAction::DriftDetected
                        | AuditAction::RevisionRefused
                        | AuditAction::RotateCreate
                        | AuditAction::RotateDeliver
                        | AuditAction::RotateRevoke
                        | AuditAction::SyncRequested
                        | AuditAction::RefreshRequested
                        | AuditAction::RollbackRequested
                        | AuditAction::PauseRequested
                        | AuditAction::ResumeRequested
                        | AuditAction::AccessDenied => {}
                    },
                    Some(Outcome::Error(_)) | None => {
                        c.failed += 1;
                        g.failed = true;
                    }
                }
            }
            Phase::Recovered | Phase::Observed => {}
        }
    }
    for (app, g) in open {
        done.entry(app).or_default().push(g.close());
    }
    done.into_values()
        .flat_map(|runs| runs.into_iter().rev().take(options.limit))
        .collect()
}

impl std::fmt::Display for SyncEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let revision = self
            .revision
            .as_deref()
            .map(|r| r.get(..12).unwrap_or(r))
            .unwrap_or("-");
        write!(
            f,
            "{}  {}  {}  rev {}  by {}",
            self.finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            self.app,
            self.result.label(),
            revision,
            self.trigger
        )?;
        if let Some(person) = &self.person {
            write!(f, ":{person}")?;
        }
        if !self.acting_as.is_empty() {
            write!(f, " as {}", self.acting_as.join(", "))?;
        }
        if let Some(author) = &self.commit_author {
            write!(f, "  commit by {author}")?;
        }
        let c = &self.counts;
        write!(
            f,
            "  {} created, {} updated, {} deleted",
            c.created, c.updated, c.deleted
        )?;
        if c.failed > 0 {
            write!(f, ", {} failed", c.failed)?;
        }
        if self.interrupted > 0 {
            write!(f, ", {} interrupted", self.interrupted)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::{AuditEvent, RecordHash};
    use crate::model::{Kind, ResourceKey};

    struct Log {
        records: Vec<AuditRecord>,
        clock: i64,
    }

    impl Log {
        fn new() -> Log {
            Log {
                records: Vec::new(),
                clock: 1_800_000_000,
            }
        }

        fn wait(&mut self, secs: i64) {
            self.clock += secs;
        }

        fn push(&mut self, e: AuditEvent) {
            self.clock += 1;
            let seq = self.records.len() as u64 + 1;
            let at = Timestamp::from_second(self.clock).unwrap();
            self.records
                .push(AuditRecord::seal(seq, at, RecordHash::genesis(), e).unwrap());
        }

        /// An intent and its outcome.
        fn call(&mut self, spec: Call) {
            let key = ResourceKey {
                workspace: spec.workspace.into(),
                kind: Kind::Job,
                name: spec.name.into(),
            };
            let mut e = AuditEvent::intent(spec.app, &key, spec.action, spec.trigger.clone());
            e.revision = Some(spec.rev.repeat(40));
            e.commit_author = Some("Bob <bob@example.com>".into());
            e.acting_as = Some(format!("sp-{}", spec.workspace));
            e.sync_id = spec.sync_id.map(str::to_string);
            self.push(e.clone());
            if let Some(outcome) = spec.outcome {
                self.push(e.to_outcome(Some("1".into()), outcome));
            }
        }
    }

    #[derive(Clone)]
    struct Call {
        sync_id: Option<&'static str>,
        app: &'static str,
        name: &'static str,
        workspace: &'static str,
        action: AuditAction,
        trigger: Trigger,
        rev: &'static str,
        outcome: Option<Outcome>,
    }

    fn call(app: &'static str, name: &'static str, action: AuditAction) -> Call {
        Call {
            sync_id: None,
            app,
            name,
            workspace: "prod",
            action,
            trigger: Trigger::Controller,
            rev: "a",
            outcome: Some(Outcome::Ok),
        }
    }

    #[test]
    fn records_group_into_syncs_with_counts_and_who() {
        let mut log = Log::new();
        // Sync 1 of analytics, interleaved with platform's.
        log.call(call("analytics", "etl", AuditAction::Create));
        log.call(call("platform", "p", AuditAction::Update));
        log.call(Call {
            workspace: "staging",
            ..call("analytics", "etl", AuditAction::SetPermissions)
        });
        log.call(call("analytics", "old", AuditAction::Delete));
        // Sync 2: a person at the CLI, a new revision, one failure.
        log.wait(60);
        log.call(Call {
            trigger: Trigger::Cli("alice".into()),
            rev: "b",
            ..call("analytics", "etl", AuditAction::Update)
        });
        log.call(Call {
            trigger: Trigger::Cli("alice".into()),
            rev: "b",
            outcome: Some(Outcome::Error("400 bad".into())),
            ..call("analytics", "other", AuditAction::Create)
        });
        // Sync 3: self-heal of the same revision by the controller, killed mid-call.
        log.wait(60);
        log.call(Call {
            rev: "b",
            ..call("analytics", "etl", AuditAction::Heal)
        });
        log.call(Call {
            rev: "b",
            outcome: None,
            ..call("analytics", "cluster", AuditAction::Heal)
        });

        let all = history(&log.records, &HistoryOptions::default());
        let summary: Vec<(&str, RunResult, Option<&str>)> = all
            .iter()
            .map(|e| (e.app.as_str(), e.result, e.person.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("analytics", RunResult::Interrupted, None),
                ("analytics", RunResult::Failed, Some("alice")),
                ("analytics", RunResult::Succeeded, None),
                ("platform", RunResult::Succeeded, None),
            ]
        );
        let first = &all[2];
        assert_eq!(
            first.counts,
            SyncCounts {
                created: 1,
                updated: 1,
                deleted: 1,
                ..SyncCounts::default()
            }
        );
        assert_eq!(first.acting_as, ["sp-prod", "sp-staging"]);
        assert_eq!(first.workspaces, ["prod", "staging"]);
        assert_eq!(
            first.commit_author.as_deref(),
            Some("Bob <bob@example.com>")
        );
        assert_eq!(first.trigger, "controller");
        assert_eq!((first.first_seq, first.last_seq), (1, 8));
        assert_eq!(all[1].counts.failed, 1);
        assert_eq!(all[1].counts.updated, 1);
        assert_eq!(all[1].trigger, "cli");
        assert_eq!(all[0].interrupted, 1);
        assert_eq!(all[0].counts.updated, 1);
        assert_eq!(
            all[1].to_string(),
            "2027-01-15T08:01:12Z  analytics  failed  rev bbbbbbbbbbbb  by cli:alice as sp-prod  \
             commit by Bob <bob@example.com>  0 created, 1 updated, 0 deleted, 1 failed"
        );
    }

    #[test]
    fn the_same_object_twice_or_a_long_pause_starts_a_new_sync() {
        let mut log = Log::new();
        log.call(call("a", "etl", AuditAction::Heal));
        log.call(call("a", "etl", AuditAction::Heal)); // drift came back and was healed again
        log.wait(3600);
        log.call(call("a", "other", AuditAction::Update));
        let all = history(&log.records, &HistoryOptions::default());
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|e| e.counts.updated == 1));
    }

    #[test]
    fn records_of_one_apply_stay_together_by_their_sync_id() {
        let mut log = Log::new();
        let of = |id, name, action| Call {
            sync_id: Some(id),
            ..call("a", name, action)
        };
        // One apply updating a secret scope twice (its ACL, then a secret).
        log.call(of("s1", "scope", AuditAction::Update));
        log.call(of("s1", "scope", AuditAction::Update));
        log.call(of("s1", "job", AuditAction::Create));
        // The next apply, right after: its own sync.
        log.call(of("s2", "scope", AuditAction::Update));
        let all = history(&log.records, &HistoryOptions::default());
        assert_eq!(all.len(), 2, "{all:#?}");
        let first = all.iter().find(|e| e.counts.created == 1).unwrap();
        assert_eq!(first.counts.updated, 2);
        assert_eq!(first.interrupted, 0);
    }

    #[test]
    fn limit_and_app_filter() {
        let mut log = Log::new();
        for i in 0..5 {
            log.wait(3600);
            log.call(Call {
                rev: ["a", "b", "c", "d", "e"][i],
                ..call("a", "etl", AuditAction::Update)
            });
            log.call(call("b", "etl", AuditAction::Update));
        }
        let two = history(
            &log.records,
            &HistoryOptions {
                app: Some("a".into()),
                limit: 2,
                ..HistoryOptions::default()
            },
        );
        let revs: Vec<&str> = two
            .iter()
            .map(|e| &e.revision.as_deref().unwrap()[..1])
            .collect();
        assert_eq!(revs, ["e", "d"]);
        assert!(two.iter().all(|e| e.app == "a"));
    }
}
