//! The rotation's decisions, with no I/O: from the rotation as declared,
//! the marker, the credentials live for the service principal and the
//! time, the one next step — and how the marker reads once a step is done.
//!
//! Rules:
//! - a new credential is created, then delivered; only once delivered does
//!   the one it replaces become `previous`, revoked after `overlap`;
//! - a created credential that was never delivered is revoked (it is ours,
//!   it is in no one's hands);
//! - only credentials the marker names (so created by Mortar) are revoked;
//! - no new rotation starts while a `previous` awaits its revocation, so
//!   none is ever forgotten.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use super::marker::{Current, Issuer, Marker, Pending, Previous};

/// The rotation as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub issuer: Issuer,
    pub rotate_every: Duration,
    pub overlap: Duration,
}

/// The ids of the credentials live for the service principal, by issuer.
pub type Live = BTreeMap<Issuer, BTreeSet<String>>;

/// What is known at one look.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub marker: Option<&'a Marker>,
    pub live: &'a Live,
    /// The fingerprint of the value found at the target; read only while a
    /// credential is pending.
    pub delivered: Option<&'a str>,
    pub now: Timestamp,
}

/// Why a new credential is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Nothing was delivered yet.
    First,
    /// `rotate_every` passed since the current one was delivered.
    Due,
    /// The delivered credential no longer exists (revoked or expired).
    Gone,
    /// The declared type changed.
    TypeChanged,
}

impl Why {
    pub fn describe(self) -> &'static str {
        match self {
            Why::First => "first credential",
            Why::Due => "rotate_every elapsed",
            Why::Gone => "the delivered credential no longer exists",
            Why::TypeChanged => "the declared credential type changed",
        }
    }
}

/// The next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create a credential and deliver it.
    Rotate { why: Why },
    /// The pending credential is the one at the target: it is delivered.
    Confirm,
    /// The pending credential never reached the target: revoke it (when
    /// still live) and forget it.
    Discard {
        credential_id: String,
        issuer: Issuer,
        live: bool,
    },
    /// The overlap passed: revoke the previous credential.
    Revoke {
        credential_id: String,
        issuer: Issuer,
    },
    /// The previous credential is gone already: forget it.
    ForgetPrevious,
    /// Nothing to do before `until`.
    Wait { until: Timestamp },
}

fn is_live(live: &Live, issuer: Issuer, id: &str) -> bool {
    live.get(&issuer).is_some_and(|ids| ids.contains(id))
}

fn later(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// The next step for one rotation.
pub fn decide(declared: &Declared, seen: Observed<'_>) -> Step {
    let empty = Marker::default();
    let marker = seen.marker.unwrap_or(&empty);
    if let Some(p) = &marker.pending {
        if seen.delivered == Some(p.fingerprint.as_str()) {
            return Step::Confirm;
        }
        return Step::Discard {
            credential_id: p.credential_id.clone(),
            issuer: p.issuer,
            live: is_live(seen.live, p.issuer, &p.credential_id),
        };
    }
    if let Some(prev) = &marker.previous {
        if !is_live(seen.live, prev.issuer, &prev.credential_id) {
            return Step::ForgetPrevious;
        }
        if seen.now >= prev.revoke_after {
            return Step::Revoke {
                credential_id: prev.credential_id.clone(),
                issuer: prev.issuer,
            };
        }
    }
    let Some(current) = &marker.current else {
        return Step::Rotate { why: Why::First };
    };
    if !is_live(seen.live, current.issuer, &current.credential_id) {
        // The dead one needs no revoking; a pending `previous` is kept.
        return Step::Rotate { why: Why::Gone };
    }
    let due = later(current.delivered_at, declared.rotate_every);
    let why = if current.issuer != declared.issuer {
        Some(Why::TypeChanged)
    } else if seen.now >= due {
        Some(Why::Due)
    } else {
        None
    };
    match (why, &marker.previous) {
        (Some(why), None) => Step::Rotate { why },
        // The previous one goes first; then the rotation.
        (Some(_), Some(prev)) => Step::Wait {
            until: prev.revoke_after,
        },
        (None, prev) => Step::Wait {
            until: prev.as_ref().map_or(due, |p| p.revoke_after.min(due)),
        },
    }
}

/// The marker once a new credential was created (about to be delivered).
pub fn created(marker: &Marker, pending: Pending) -> Marker {
    Marker {
        pending: Some(pending),
        ..marker.clone()
    }
}

/// The marker once the pending credential is delivered at `now`: it is
/// current, and the one it replaced (when still live) is `previous`,
/// revoked after the overlap.
pub fn delivered(marker: &Marker, declared: &Declared, live: &Live, now: Timestamp) -> Marker {
    let Some(p) = &marker.pending else {
        return marker.clone();
    };
    let replaced = marker
        .current
        .as_ref()
        .filter(|c| is_live(live, c.issuer, &c.credential_id))
        .map(|c| Previous {
            credential_id: c.credential_id.clone(),
            issuer: c.issuer,
            fingerprint: c.fingerprint.clone(),
            revoke_after: later(now, declared.overlap),
        });
    Marker {
        current: Some(Current {
            credential_id: p.credential_id.clone(),
            issuer: p.issuer,
            fingerprint: p.fingerprint.clone(),
            created: p.created,
            delivered_at: now,
        }),
        previous: replaced.or_else(|| marker.previous.clone()),
        pending: None,
    }
}

/// The marker without its pending credential (discarded).
pub fn discarded(marker: &Marker) -> Marker {
    Marker {
        pending: None,
        ..marker.clone()
    }
}

/// The marker without its previous credential (revoked or gone).
pub fn revoked(marker: &Marker) -> Marker {
    Marker {
        previous: None,
        ..marker.clone()
    }
}

/// How long a new credential lives: `rotate_every + overlap` and a margin
/// (a tenth of the period, at least a minute), so a credential whose
/// rotation is held up still ends on its own.
pub fn lifetime(declared: &Declared) -> Duration {
    let margin = (declared.rotate_every / 10).max(Duration::from_secs(60));
    declared.rotate_every + declared.overlap + margin
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn declared() -> Declared {
        Declared {
            issuer: Issuer::OauthSecret,
            rotate_every: 30 * DAY,
            overlap: DAY,
        }
    }

    fn t(day: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + day * 86_400).unwrap()
    }

    fn live(ids: &[&str]) -> Live {
        Live::from([(
            Issuer::OauthSecret,
            ids.iter().map(|s| s.to_string()).collect(),
        )])
    }

    fn current(id: &str, delivered: i64) -> Current {
        Current {
            credential_id: id.into(),
            issuer: Issuer::OauthSecret,
            fingerprint: format!("fp-{id}"),
            created: t(delivered),
            delivered_at: t(delivered),
        }
    }

    fn pending(id: &str) -> Pending {
        Pending {
            credential_id: id.into(),
            issuer: Issuer::OauthSecret,
            fingerprint: format!("fp-{id}"),
            created: t(0),
        }
    }

    fn step(marker: Option<&Marker>, live: &Live, delivered: Option<&str>, now: i64) -> Step {
        decide(
            &declared(),
            Observed {
                marker,
                live,
                delivered,
                now: t(now),
            },
        )
    }

    #[test]
    fn with_nothing_delivered_a_first_credential_is_made() {
        let live = live(&["made-by-hand"]);
        assert_eq!(step(None, &live, None, 0), Step::Rotate { why: Why::First });
    }

    #[test]
    fn a_current_credential_waits_for_its_period_then_rotates() {
        let m = Marker {
            current: Some(current("c1", 0)),
            ..Marker::default()
        };
        let live = live(&["c1"]);
        assert_eq!(step(Some(&m), &live, None, 10), Step::Wait { until: t(30) });
        assert_eq!(
            step(Some(&m), &live, None, 30),
            Step::Rotate { why: Why::Due }
        );
    }

    #[test]
    fn delivery_makes_the_old_one_previous_and_it_is_revoked_after_the_overlap() {
        let before = Marker {
            current: Some(current("c1", 0)),
            ..Marker::default()
        };
        let m = created(&before, pending("c2"));
        let live = live(&["c1", "c2"]);
        let after = delivered(&m, &declared(), &live, t(30));
        assert_eq!(after.current.as_ref().unwrap().credential_id, "c2");
        assert_eq!(after.current.as_ref().unwrap().delivered_at, t(30));
        let prev = after.previous.clone().unwrap();
        assert_eq!(
            (prev.credential_id.as_str(), prev.revoke_after),
            ("c1", t(31))
        );
        assert!(after.pending.is_none());
        // Within the overlap: wait for its end, nothing revoked.
        assert_eq!(
            step(Some(&after), &live, None, 30),
            Step::Wait { until: t(31) }
        );
        assert_eq!(
            step(Some(&after), &live, None, 31),
            Step::Revoke {
                credential_id: "c1".into(),
                issuer: Issuer::OauthSecret
            }
        );
        let done = revoked(&after);
        assert_eq!(
            step(Some(&done), &super::tests::live(&["c2"]), None, 31),
            Step::Wait { until: t(60) }
        );
    }

    #[test]
    fn a_pending_credential_is_confirmed_only_when_it_is_what_the_target_holds() {
        let m = created(
            &Marker {
                current: Some(current("c1", 0)),
                ..Marker::default()
            },
            pending("c2"),
        );
        let live = live(&["c1", "c2"]);
        assert_eq!(step(Some(&m), &live, Some("fp-c2"), 30), Step::Confirm);
        // The target still holds the old value: the new one never arrived.
        assert_eq!(
            step(Some(&m), &live, Some("fp-c1"), 30),
            Step::Discard {
                credential_id: "c2".into(),
                issuer: Issuer::OauthSecret,
                live: true
            }
        );
        // Discarding never touches the current one.
        let d = discarded(&m);
        assert_eq!(d.current, m.current);
        assert!(d.previous.is_none());
    }

    #[test]
    fn no_rotation_starts_while_a_previous_awaits_revocation() {
        let m = Marker {
            current: Some(current("c2", 0)),
            previous: Some(Previous {
                credential_id: "c1".into(),
                issuer: Issuer::OauthSecret,
                fingerprint: "fp-c1".into(),
                revoke_after: t(45),
            }),
            pending: None,
        };
        let live = live(&["c1", "c2"]);
        assert_eq!(step(Some(&m), &live, None, 40), Step::Wait { until: t(45) });
    }

    #[test]
    fn credentials_gone_from_the_workspace_are_forgotten_or_replaced() {
        let m = Marker {
            current: Some(current("c2", 0)),
            previous: Some(Previous {
                credential_id: "c1".into(),
                issuer: Issuer::OauthSecret,
                fingerprint: "fp-c1".into(),
                revoke_after: t(1),
            }),
            pending: None,
        };
        assert_eq!(
            step(Some(&m), &live(&["c2"]), None, 0),
            Step::ForgetPrevious
        );
        // The delivered one revoked by hand: a new one at once, and the
        // previous is kept to be revoked on time.
        assert_eq!(
            step(Some(&m), &live(&["c1"]), None, 0),
            Step::Rotate { why: Why::Gone }
        );
        let next = delivered(
            &created(&m, pending("c3")),
            &declared(),
            &live(&["c1", "c3"]),
            t(0),
        );
        assert_eq!(next.previous, m.previous);
    }

    #[test]
    fn a_changed_type_rotates_at_once() {
        let m = Marker {
            current: Some(current("c1", 0)),
            ..Marker::default()
        };
        let pat = Declared {
            issuer: Issuer::Pat,
            ..declared()
        };
        let live = live(&["c1"]);
        let s = decide(
            &pat,
            Observed {
                marker: Some(&m),
                live: &live,
                delivered: None,
                now: t(1),
            },
        );
        assert_eq!(
            s,
            Step::Rotate {
                why: Why::TypeChanged
            }
        );
    }

    #[test]
    fn the_lifetime_covers_the_period_the_overlap_and_a_margin() {
        assert_eq!(lifetime(&declared()), 34 * DAY);
        let short = Declared {
            rotate_every: Duration::from_secs(60),
            overlap: Duration::from_secs(20),
            ..declared()
        };
        assert_eq!(lifetime(&short), Duration::from_secs(140));
    }
}
