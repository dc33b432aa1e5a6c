//! The daemon's rotation clock, with no I/O: when each rotation of each
//! app wants its next look, and which are failing. A rotation is looked at
//! when its own schedule says (the end of a period or of an overlap), and
//! at least once per `recheck` (the drift interval) so a credential revoked
//! or a marker deleted by hand is noticed; a failing one is tried again
//! after `retry`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use crate::manifest::render::Rendered;

/// One rotation: its app and its service principal's key.
pub type Slot = (String, String);

/// When each rotation is due, and which are failing (with why).
#[derive(Debug, Default)]
pub struct RotationClock {
    due: BTreeMap<Slot, Timestamp>,
    failing: BTreeMap<Slot, String>,
}

fn after(now: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl RotationClock {
    /// The rotations of `tree` that `owns` accepts and that are due at
    /// `now` (never looked at, or their time has come).
    pub fn due(&self, tree: &Rendered, owns: impl Fn(&str) -> bool, now: Timestamp) -> Vec<Slot> {
        slots(tree, owns)
            .filter(|slot| self.due.get(slot).is_none_or(|at| *at <= now))
            .collect()
    }

    /// The earliest time a rotation `owns` accepts is due.
    pub fn next_due(&self, tree: &Rendered, owns: impl Fn(&str) -> bool) -> Option<Timestamp> {
        slots(tree, owns)
            .map(|slot| {
                self.due
                    .get(&slot)
                    .copied()
                    .unwrap_or(Timestamp::UNIX_EPOCH)
            })
            .min()
    }

    /// A look ended well: next at `wanted`, or after `recheck` if sooner.
    pub fn looked(&mut self, slot: Slot, wanted: Timestamp, recheck: Duration, now: Timestamp) {
        self.failing.remove(&slot);
        self.due.insert(slot, wanted.min(after(now, recheck)));
    }

    /// A look failed (`message` says why): tried again after `retry`.
    pub fn failed(&mut self, slot: Slot, message: String, retry: Duration, now: Timestamp) {
        self.due.insert(slot.clone(), after(now, retry));
        self.failing.insert(slot, message);
    }

    /// A look that could not start yet (the service principal not made):
    /// tried again after `retry`, without counting as a failure.
    pub fn later(&mut self, slot: Slot, retry: Duration, now: Timestamp) {
        self.failing.remove(&slot);
        self.due.insert(slot, after(now, retry));
    }

    /// Why `app`'s rotations fail, one line each; empty when none does.
    pub fn failures(&self, app: &str) -> Vec<&str> {
        self.failing
            .iter()
            .filter(|((a, _), _)| a == app)
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// Forgets rotations no longer in `tree`.
    pub fn keep_only(&mut self, tree: &Rendered) {
        let live: BTreeSet<Slot> = slots(tree, |_| true).collect();
        self.due.retain(|slot, _| live.contains(slot));
        self.failing.retain(|slot, _| live.contains(slot));
    }
}

fn slots<'a>(
    tree: &'a Rendered,
    owns: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = Slot> + 'a {
    tree.apps
        .iter()
        .filter(move |app| owns(&app.name))
        .flat_map(|app| {
            app.rotations
                .iter()
                .map(|r| (app.name.clone(), r.key.to_string()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  source: { path: team }
  destination: { workspace: dev }
---
apiVersion: mortar.dev/v1alpha1
kind: Workspace
metadata: { name: dev }
spec: { host: https://dbc-dev.cloud.databricks.com }
";

    const RUNNER: &str = "apiVersion: mortar.dev/v1alpha1
kind: ServicePrincipal
metadata: { name: runner }
spec: { displayName: runner }
credentials:
  type: oauth-secret
  rotate_every: 30d
  overlap: 1d
  deliver_to: { secret_scope: { scope: etl, key: runner-secret } }
";

    fn tree() -> Rendered {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.yaml"), EXAMPLE).unwrap();
        std::fs::create_dir_all(dir.path().join("team")).unwrap();
        std::fs::write(dir.path().join("team/runner.yaml"), RUNNER).unwrap();
        crate::manifest::render_dir(dir.path(), None).unwrap()
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_rotation_is_due_at_once_then_at_its_time_or_the_recheck() {
        let tree = tree();
        let mut clock = RotationClock::default();
        let due = clock.due(&tree, |_| true, t(0));
        assert_eq!(
            due,
            [(
                "team".to_string(),
                "dev/ServicePrincipal/runner".to_string()
            )]
        );
        assert!(
            clock.due(&tree, |_| false, t(0)).is_empty(),
            "another replica's app"
        );
        let slot = due[0].clone();
        clock.looked(slot.clone(), t(86_400), Duration::from_secs(60), t(0));
        assert!(clock.due(&tree, |_| true, t(59)).is_empty());
        assert_eq!(clock.next_due(&tree, |_| true), Some(t(60)));
        clock.looked(slot.clone(), t(10), Duration::from_secs(60), t(0));
        assert_eq!(clock.next_due(&tree, |_| true), Some(t(10)));
        clock.failed(slot.clone(), "boom".into(), Duration::from_secs(5), t(10));
        assert_eq!(clock.failures("team"), ["boom"]);
        assert_eq!(clock.next_due(&tree, |_| true), Some(t(15)));
        clock.looked(slot, t(100), Duration::from_secs(60), t(15));
        assert!(clock.failures("team").is_empty());
    }
}
