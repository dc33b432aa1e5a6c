//! Which notifications a change of one app's status calls for: a pure
//! comparison of the status before a loop with the status after it. One
//! event per change of state, so a failure that persists across loops is
//! told once and a new failure after a success is told again.

use jiff::Timestamp;

use crate::config::EventKind;
use crate::model::status::{AppStatus, ConditionKind, Health, SyncResult, SyncRun};

/// One thing worth telling people about one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub app: String,
    /// The commit concerned (the sync's, else the newest seen).
    pub revision: Option<String>,
    /// One or two sentences for people; never a secret.
    pub message: String,
    /// When the change happened (from the status, not the clock, where it says).
    pub at: Timestamp,
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

fn bad(health: Health) -> bool {
    matches!(health, Health::Degraded | Health::Blocked | Health::Error)
}

/// Whether two sync records are the same run.
fn same_run(a: &SyncRun, b: &SyncRun) -> bool {
    a.started == b.started && a.finished == b.finished
}

/// Drift, as the status tells it: the `Drift` condition, or a last drift
/// check that found drifted resources.
fn drifted(app: &AppStatus) -> bool {
    app.condition(ConditionKind::Drift).is_some()
        || app.last_drift_check.as_ref().is_some_and(|d| d.drifted > 0)
}

/// When this episode of drift began, to tell a new one from the same one.
fn drift_since(app: &AppStatus) -> Option<Timestamp> {
    app.condition(ConditionKind::Drift).map(|c| c.since)
}

fn counts(run: &SyncRun) -> String {
    let c = &run.counts;
    let mut out = format!(
        "{} created, {} updated, {} deleted",
        c.created, c.updated, c.deleted
    );
    if c.failed > 0 {
        out.push_str(&format!(", {} failed", c.failed));
    }
    if c.skipped > 0 {
        out.push_str(&format!(", {} skipped", c.skipped));
    }
    out
}

fn sync_words(run: &SyncRun) -> String {
    match &run.revision {
        Some(rev) => format!("sync of {} ({})", short(rev), run.trigger),
        None => format!("sync ({})", run.trigger),
    }
}

/// The newest time the status mentions; the clock only when it mentions none.
fn latest(app: &AppStatus) -> Timestamp {
    app.conditions
        .iter()
        .map(|c| c.since)
        .chain(app.last_sync.as_ref().map(|s| s.finished))
        .chain(app.last_drift_check.as_ref().map(|d| d.at))
        .max()
        .unwrap_or_else(Timestamp::now)
}

/// The events that the change from `before` (the app's previous status;
/// `None` for an app not seen before) to `after` calls for.
pub fn events(before: Option<&AppStatus>, after: &AppStatus) -> Vec<Event> {
    let mut out = Vec::new();
    let app = after.name.as_str();
    let event = |kind, revision: Option<&String>, message: String, at| Event {
        kind,
        app: app.to_string(),
        revision: revision.or(after.revision_seen.as_ref()).cloned(),
        message,
        at,
    };

    // A new sync run.
    let prev_run = before.and_then(|b| b.last_sync.as_ref());
    if let Some(run) = &after.last_sync
        && prev_run.is_none_or(|p| !same_run(p, run))
    {
        match run.result {
            SyncResult::Failed => {
                let repeat = prev_run
                    .is_some_and(|p| p.result == SyncResult::Failed && p.revision == run.revision);
                if !repeat {
                    let mut message = format!("{app}: {} failed: {}", sync_words(run), counts(run));
                    if let Some(why) = &run.message {
                        message.push_str(&format!(". {why}"));
                    }
                    out.push(event(
                        EventKind::SyncFailed,
                        run.revision.as_ref(),
                        message,
                        run.finished,
                    ));
                }
            }
            SyncResult::Succeeded => {
                let c = &run.counts;
                let changed = c.created + c.updated + c.deleted > 0;
                let after_failure = prev_run.is_some_and(|p| p.result != SyncResult::Succeeded);
                if changed || after_failure {
                    let mut message =
                        format!("{app}: {} succeeded: {}", sync_words(run), counts(run));
                    if let Some(author) = &run.author {
                        message.push_str(&format!("; commit by {author}"));
                    }
                    out.push(event(
                        EventKind::SyncSucceeded,
                        run.revision.as_ref(),
                        message,
                        run.finished,
                    ));
                }
            }
            SyncResult::Cancelled => {}
        }
    }

    // Drift.
    let was_drifted = before.is_some_and(drifted);
    let new_episode = before.is_some_and(
        |b| matches!((drift_since(b), drift_since(after)), (Some(x), Some(y)) if x != y),
    );
    if drifted(after) && (!was_drifted || new_episode) {
        let check = after.last_drift_check.as_ref();
        let mut message = match check {
            Some(d) if d.drifted > 0 => format!(
                "{app}: {} resource{} drifted from Git",
                d.drifted,
                if d.drifted == 1 { "" } else { "s" }
            ),
            _ => format!("{app}: live state drifted from Git"),
        };
        if let Some(d) = check
            && !d.resources.is_empty()
        {
            message.push_str(&format!(": {}", d.resources.join(", ")));
        }
        if let Some(c) = after.condition(ConditionKind::Drift) {
            message.push_str(&format!(". {}", c.message));
        }
        message.push_str(if after.self_heal {
            " (self-heal is on)"
        } else {
            " (self-heal is off: reported only)"
        });
        let at = after
            .condition(ConditionKind::Drift)
            .map(|c| c.since)
            .or(check.map(|d| d.at))
            .unwrap_or_else(|| latest(after));
        out.push(event(EventKind::DriftDetected, None, message, at));
    } else if was_drifted && !drifted(after) {
        let healing = after.last_sync.as_ref().filter(|run| {
            run.result == SyncResult::Succeeded && prev_run.is_none_or(|p| !same_run(p, run))
        });
        let (message, at) = match healing {
            Some(run) => (
                format!(
                    "{app}: drift healed by a {}: {}",
                    sync_words(run),
                    counts(run)
                ),
                run.finished,
            ),
            None => (
                format!("{app}: live state matches Git again"),
                after
                    .last_drift_check
                    .as_ref()
                    .map(|d| d.at)
                    .unwrap_or_else(|| latest(after)),
            ),
        };
        out.push(event(EventKind::DriftHealed, None, message, at));
    }

    // A refused revision: a new refusal, or a refusal begun anew.
    if let Some(c) = after.condition(ConditionKind::RevisionRefused) {
        let before_since = before
            .and_then(|b| b.condition(ConditionKind::RevisionRefused))
            .map(|b| b.since);
        if before_since != Some(c.since) {
            out.push(event(
                EventKind::RevisionRefused,
                None,
                format!("{app}: revision refused: {}", c.message),
                c.since,
            ));
        }
    }

    // Health.
    let prev_health = before.map(|b| b.health);
    if bad(after.health) && prev_health != Some(after.health) {
        let reason = after
            .conditions
            .iter()
            .map(|c| c.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let mut message = format!("{app} is {}", after.health.label());
        if let Some(p) = prev_health {
            message.push_str(&format!(" (was {})", p.label()));
        }
        if !reason.is_empty() {
            message.push_str(&format!(": {reason}"));
        }
        out.push(event(EventKind::AppDegraded, None, message, latest(after)));
    } else if after.health == Health::Healthy && prev_health.is_some_and(bad) {
        let was = prev_health.map_or("", |h| h.label());
        out.push(event(
            EventKind::AppRecovered,
            None,
            format!("{app} is Healthy again (was {was})"),
            latest(after),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::status::{Condition, DriftCheck, SyncCounts, SyncStatus};

    fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + sec).unwrap()
    }

    fn healthy() -> AppStatus {
        let mut a = AppStatus::unknown("analytics");
        a.sync = SyncStatus::Synced;
        a.health = Health::Healthy;
        a.revision_seen = Some("a".repeat(40));
        a.revision_applied = a.revision_seen.clone();
        a.self_heal = true;
        a
    }

    fn run(at: i64, result: SyncResult, rev: &str) -> SyncRun {
        SyncRun {
            started: t(at),
            finished: t(at + 2),
            trigger: "poll".into(),
            revision: Some(rev.repeat(40)),
            author: Some("Bob <bob@example.com>".into()),
            result,
            counts: SyncCounts {
                updated: usize::from(result == SyncResult::Succeeded),
                failed: usize::from(result == SyncResult::Failed),
                ..SyncCounts::default()
            },
            message: (result == SyncResult::Failed).then(|| "Job/etl: 400 bad".to_string()),
        }
    }

    fn failed(at: i64, rev: &str) -> AppStatus {
        let mut a = healthy();
        a.health = Health::Degraded;
        a.sync = SyncStatus::OutOfSync;
        a.last_sync = Some(run(at, SyncResult::Failed, rev));
        a.conditions = vec![Condition {
            kind: ConditionKind::SyncFailed,
            message: "the last sync failed".into(),
            since: t(at + 2),
        }];
        a
    }

    fn kinds(events: &[Event]) -> Vec<EventKind> {
        events.iter().map(|e| e.kind).collect()
    }

    /// Feeds a sequence of statuses through `events`, each against the one before.
    fn sequence(states: &[AppStatus]) -> Vec<Vec<EventKind>> {
        let mut before: Option<&AppStatus> = None;
        states
            .iter()
            .map(|s| {
                let e = kinds(&events(before, s));
                before = Some(s);
                e
            })
            .collect()
    }

    #[test]
    fn a_failure_that_persists_is_told_once_and_a_new_one_again() {
        let seq = sequence(&[
            healthy(),
            failed(10, "b"),
            failed(70, "b"),  // retried, failed again: same failure
            failed(130, "b"), // and again
            {
                let mut a = healthy();
                a.last_sync = Some(run(190, SyncResult::Succeeded, "b"));
                a
            },
            failed(250, "b"), // a new failure after a success
        ]);
        assert_eq!(
            seq,
            vec![
                vec![],
                vec![EventKind::SyncFailed, EventKind::AppDegraded],
                vec![],
                vec![],
                vec![EventKind::SyncSucceeded, EventKind::AppRecovered],
                vec![EventKind::SyncFailed, EventKind::AppDegraded],
            ]
        );
    }

    #[test]
    fn a_failure_at_a_new_revision_is_told_even_while_failing() {
        let seq = sequence(&[failed(10, "b"), failed(70, "c")]);
        assert_eq!(seq[1], vec![EventKind::SyncFailed]);
    }

    #[test]
    fn the_same_status_loaded_again_tells_nothing() {
        let a = failed(10, "b");
        assert_eq!(events(Some(&a), &a), vec![]);
        assert_eq!(
            kinds(&events(None, &a)),
            vec![EventKind::SyncFailed, EventKind::AppDegraded]
        );
        assert_eq!(events(None, &healthy()), vec![]);
    }

    #[test]
    fn drift_is_told_when_found_and_when_healed() {
        let mut drifting = healthy();
        drifting.sync = SyncStatus::OutOfSync;
        drifting.last_drift_check = Some(DriftCheck {
            at: t(100),
            drifted: 2,
            resources: vec![
                "Job/etl (max_concurrent_runs)".into(),
                "Job/etl (permissions)".into(),
            ],
        });
        drifting.conditions = vec![Condition {
            kind: ConditionKind::Drift,
            message: "2 resources changed outside Mortar".into(),
            since: t(100),
        }];
        let mut still = drifting.clone();
        still.last_drift_check = Some(DriftCheck {
            at: t(160),
            ..drifting.last_drift_check.clone().unwrap()
        });
        let mut healed = healthy();
        let mut heal = run(170, SyncResult::Succeeded, "a");
        heal.trigger = "drift".into();
        heal.counts.updated = 2;
        healed.last_sync = Some(heal);
        healed.last_drift_check = Some(DriftCheck {
            at: t(175),
            drifted: 0,
            resources: vec![],
        });
        let all = [healthy(), drifting.clone(), still, healed.clone()];
        let seq = sequence(&all);
        assert_eq!(
            seq,
            vec![
                vec![],
                vec![EventKind::DriftDetected],
                vec![],
                vec![EventKind::SyncSucceeded, EventKind::DriftHealed],
            ]
        );
        let found = &events(Some(&all[0]), &drifting)[0];
        assert_eq!(found.at, t(100));
        assert!(
            found
                .message
                .contains("2 resources drifted from Git: Job/etl (max_concurrent_runs)"),
            "{}",
            found.message
        );
        let fixed = events(Some(&all[2]), &healed);
        assert!(
            fixed[1]
                .message
                .contains("drift healed by a sync of aaaaaaaaaaaa (drift)"),
            "{}",
            fixed[1].message
        );
        // A second episode of drift later is told again.
        let mut again = drifting.clone();
        again.conditions[0].since = t(400);
        assert_eq!(
            kinds(&events(Some(&healed), &again)),
            vec![EventKind::DriftDetected]
        );
        assert_eq!(
            kinds(&events(Some(&drifting), &again)),
            vec![EventKind::DriftDetected]
        );
    }

    #[test]
    fn a_refused_revision_is_told_once_per_refusal() {
        let mut refused = healthy();
        refused.health = Health::Blocked;
        refused.conditions = vec![Condition {
            kind: ConditionKind::RevisionRefused,
            message: "commit bbbbbbbbbbbb is not signed by a trusted key".into(),
            since: t(50),
        }];
        let seq = sequence(&[healthy(), refused.clone(), refused.clone()]);
        assert_eq!(
            seq,
            vec![
                vec![],
                vec![EventKind::RevisionRefused, EventKind::AppDegraded],
                vec![],
            ]
        );
        let e = &events(Some(&healthy()), &refused)[1];
        assert_eq!(
            e.message,
            "analytics is Blocked (was Healthy): commit bbbbbbbbbbbb is not signed by a trusted key"
        );
    }

    #[test]
    fn a_change_between_bad_healths_is_told() {
        let mut degraded = healthy();
        degraded.health = Health::Degraded;
        let mut error = healthy();
        error.health = Health::Error;
        assert_eq!(
            sequence(&[healthy(), degraded, error]),
            vec![
                vec![],
                vec![EventKind::AppDegraded],
                vec![EventKind::AppDegraded]
            ]
        );
    }

    #[test]
    fn an_unchanged_successful_poll_tells_nothing() {
        let mut a = healthy();
        a.last_sync = Some(run(10, SyncResult::Succeeded, "a"));
        let mut b = a.clone();
        let mut quiet = run(70, SyncResult::Succeeded, "a");
        quiet.counts = SyncCounts::default();
        b.last_sync = Some(quiet);
        assert_eq!(events(Some(&a), &b), vec![]);
    }
}
