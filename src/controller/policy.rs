//! Sync policies, with Argo CD's meaning: what the controller does with an
//! app whose live state differs from Git, given why it looked.
//!
//! - `automated`: each new revision is applied without asking;
//! - `automated.selfHeal`: drift (a change made outside Mortar with no new
//!   commit) is put back at the drift check that finds it;
//! - `automated.prune`: what left Git is deleted;
//! - no `automated` (manual): plan only; the app stays OutOfSync until a
//!   sync is asked for (`mortar apply --app`, or the API);
//! - `retry`: a failed automated sync is tried again after a backoff that
//!   grows by `factor` from `duration` up to `maxDuration`, `limit` times.
//!
//! A parent's policy is its own: it governs the resources in the parent's
//! source. Each child app follows the policy its own Application declares.
//! A child app that leaves Git is an orphan whose objects are deleted only
//! when that orphan's last policy allowed prune (as `plan` shows).
//!
//! Pure functions; no I/O.

use std::time::Duration;

use crate::manifest::app::{Retry, SyncPolicy};

/// Why the controller is looking at an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The first look after start.
    Startup,
    /// The poll found a new revision.
    Poll,
    /// A webhook announced a new revision.
    Webhook,
    /// The app's drift check is due.
    Drift,
    /// A failed sync's retry is due.
    Retry,
    /// Someone asked for a sync (CLI, API).
    Manual,
    /// A rollback or a pin to an older revision.
    Rollback,
    /// This replica took over the app's shard from another.
    Takeover,
    /// Someone asked for a dry run: plan now, apply nothing.
    DryRun,
}

impl Cause {
    /// A bounded label for metrics, logs, status and the audit trail.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Startup => "startup",
            Cause::Poll => "poll",
            Cause::Webhook => "webhook",
            Cause::Drift => "drift",
            Cause::Retry => "retry",
            Cause::Manual => "manual",
            Cause::Rollback => "rollback",
            Cause::Takeover => "takeover",
            Cause::DryRun => "dry_run",
        }
    }

    /// Causes that ask for a sync whatever the policy says.
    pub fn is_request(self) -> bool {
        matches!(self, Cause::Manual | Cause::Rollback)
    }
}

/// What a plan's changes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pending {
    /// Git says something the workspace does not have yet (or no longer).
    pub from_git: bool,
    /// The workspace was changed outside Mortar.
    pub drift: bool,
}

/// What to do with an app once its plan is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing differs.
    InSync,
    /// Apply the plan.
    Apply,
    /// Leave it OutOfSync and say why.
    Report(Waiting),
}

/// Why an app with differences is not being synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// No `automated`: a person has to ask for a sync.
    Manual,
    /// Drift found, and the policy does not self-heal.
    NoSelfHeal,
    /// Automated sync is paused (a rollback or a pin).
    Paused,
    /// A dry run: the plan is shown, nothing applied.
    DryRun,
}

/// Decides what to do with an app whose plan shows `pending`.
pub fn verdict(policy: &SyncPolicy, paused: bool, cause: Cause, pending: Pending) -> Verdict {
    if !pending.from_git && !pending.drift {
        return Verdict::InSync;
    }
    if cause == Cause::DryRun {
        return Verdict::Report(Waiting::DryRun);
    }
    if cause.is_request() {
        return Verdict::Apply;
    }
    if paused {
        return Verdict::Report(Waiting::Paused);
    }
    let Some(automated) = policy.automated else {
        return Verdict::Report(Waiting::Manual);
    };
    if pending.from_git || cause == Cause::Retry {
        return Verdict::Apply;
    }
    if automated.self_heal {
        Verdict::Apply
    } else {
        Verdict::Report(Waiting::NoSelfHeal)
    }
}

/// The wait before retry number `attempt` (1 for the first retry) of a
/// failed automated sync; `None` once `limit` retries are used up.
pub fn retry_delay(retry: &Retry, attempt: u32) -> Option<Duration> {
    if attempt == 0 || u64::from(attempt) > retry.limit {
        return None;
    }
    let base = parse(&retry.backoff_duration).unwrap_or(Duration::from_secs(5));
    let cap = parse(&retry.backoff_max_duration).unwrap_or(Duration::from_secs(180));
    let factor = retry.backoff_factor.max(1) as f64;
    let grown = base.as_secs_f64() * factor.powi(attempt as i32 - 1);
    Some(Duration::from_secs_f64(grown.min(cap.as_secs_f64())))
}

/// The retry's durations are checked by the manifest reader when the
/// Application is read; this reads them with that same grammar.
fn parse(text: &str) -> Option<Duration> {
    crate::manifest::app::parse_duration(text)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::app::Automated;

    fn policy(automated: Option<(bool, bool)>) -> SyncPolicy {
        SyncPolicy {
            automated: automated.map(|(prune, self_heal)| Automated { prune, self_heal }),
            retry: None,
        }
    }

    const GIT: Pending = Pending {
        from_git: true,
        drift: false,
    };
    const DRIFT: Pending = Pending {
        from_git: false,
        drift: true,
    };

    #[test]
    fn automated_applies_new_revisions_and_heals_only_with_self_heal() {
        let auto = policy(Some((false, false)));
        let heal = policy(Some((false, true)));
        assert_eq!(verdict(&auto, false, Cause::Webhook, GIT), Verdict::Apply);
        assert_eq!(
            verdict(&auto, false, Cause::Drift, DRIFT),
            Verdict::Report(Waiting::NoSelfHeal)
        );
        assert_eq!(verdict(&heal, false, Cause::Drift, DRIFT), Verdict::Apply);
        assert_eq!(
            verdict(&heal, false, Cause::Drift, Pending::default()),
            Verdict::InSync
        );
    }

    #[test]
    fn manual_apps_wait_until_asked_and_paused_apps_wait_for_everything_but_a_request() {
        let manual = policy(None);
        assert_eq!(
            verdict(&manual, false, Cause::Poll, GIT),
            Verdict::Report(Waiting::Manual)
        );
        assert_eq!(verdict(&manual, false, Cause::Manual, GIT), Verdict::Apply);
        let heal = policy(Some((true, true)));
        assert_eq!(
            verdict(&heal, true, Cause::Drift, DRIFT),
            Verdict::Report(Waiting::Paused)
        );
        assert_eq!(verdict(&heal, true, Cause::Rollback, GIT), Verdict::Apply);
    }

    #[test]
    fn retry_backoff_grows_to_its_cap_and_stops_at_the_limit() {
        let retry = Retry {
            limit: 4,
            backoff_duration: "5000ms".into(),
            backoff_factor: 2,
            backoff_max_duration: "15s".into(),
        };
        let delays: Vec<_> = (1..=5).map(|n| retry_delay(&retry, n)).collect();
        assert_eq!(
            delays,
            vec![
                Some(Duration::from_secs(5)),
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(15)),
                Some(Duration::from_secs(15)),
                None
            ]
        );
    }
}
