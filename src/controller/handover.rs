//! Handing apps over between replicas: which apps' statuses to read from
//! where the last owner kept them (apps held now and not yet taken in),
//! and which to keep there (held apps whose status changed). Pure: the
//! runner does the reading and writing.

use std::collections::BTreeMap;

use crate::model::{AppStatus, ControllerStatus};

/// Per held app taken in: what is kept of its status where the next owner
/// finds it (`None`: nothing yet).
pub type Kept = BTreeMap<String, Option<AppStatus>>;

/// The apps in `status` this replica holds and has not taken in yet.
pub fn to_take_in(
    status: &ControllerStatus,
    holds: impl Fn(&str) -> bool,
    kept: &Kept,
) -> Vec<String> {
    status
        .apps
        .iter()
        .map(|a| &a.name)
        .filter(|name| holds(name) && !kept.contains_key(*name))
        .cloned()
        .collect()
}

/// The statuses to keep: apps held and taken in whose status differs from
/// what was kept last. A new drift-check time alone is no reason to write
/// (it changes on every check); it goes along with the next real change.
pub fn to_keep<'a>(
    status: &'a ControllerStatus,
    holds: impl Fn(&str) -> bool,
    kept: &Kept,
) -> Vec<&'a AppStatus> {
    status
        .apps
        .iter()
        .filter(|a| holds(&a.name))
        .filter(|a| match kept.get(&a.name) {
            None => false,
            Some(None) => true,
            Some(Some(k)) => !same_but_check_time(a, k),
        })
        .collect()
}

fn same_but_check_time(a: &AppStatus, b: &AppStatus) -> bool {
    if a == b {
        return true;
    }
    let time_free = |s: &AppStatus| {
        let mut s = s.clone();
        if let Some(check) = &mut s.last_drift_check {
            check.at = jiff::Timestamp::UNIX_EPOCH;
        }
        s
    };
    time_free(a) == time_free(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::status::DriftCheck;
    use crate::model::{Health, SyncStatus};

    fn status(apps: &[&str]) -> ControllerStatus {
        ControllerStatus {
            apps: apps.iter().map(|a| AppStatus::unknown(*a)).collect(),
            ..ControllerStatus::default()
        }
    }

    #[test]
    fn only_held_apps_not_yet_taken_in_are_read() {
        let s = status(&["a", "b", "c"]);
        let holds = |app: &str| app != "c";
        let taken = Kept::from([("a".to_string(), None)]);
        assert_eq!(to_take_in(&s, holds, &taken), vec!["b".to_string()]);
    }

    #[test]
    fn only_real_changes_of_held_and_taken_in_apps_are_kept() {
        let mut s = status(&["a", "b", "c"]);
        let holds = |app: &str| app != "c";
        let mut kept: Kept = s
            .apps
            .iter()
            .map(|a| (a.name.clone(), Some(a.clone())))
            .collect();
        assert!(to_keep(&s, holds, &kept).is_empty());

        // A drift check that found nothing new: its time alone moved.
        let check = |secs| DriftCheck {
            at: jiff::Timestamp::from_second(secs).unwrap(),
            drifted: 0,
            resources: Vec::new(),
        };
        kept.get_mut("a")
            .unwrap()
            .as_mut()
            .unwrap()
            .last_drift_check = Some(check(10));
        s.apps[0].last_drift_check = Some(check(20));
        assert!(to_keep(&s, holds, &kept).is_empty());

        // A sync result, on a held app and on one held elsewhere.
        s.apps[1].sync = SyncStatus::Synced;
        s.apps[1].health = Health::Healthy;
        s.apps[2].sync = SyncStatus::Synced;
        let names: Vec<&str> = to_keep(&s, holds, &kept)
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, vec!["b"]);
        // An app never taken in is not written over.
        kept.remove("b");
        assert!(to_keep(&s, holds, &kept).is_empty());
        // One taken in with nothing kept yet is written.
        kept.insert("b".into(), None);
        assert_eq!(to_keep(&s, holds, &kept).len(), 1);
    }
}
