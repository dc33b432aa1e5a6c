//! `controller:` — how the daemon paces itself: how long shutdown may take,
//! how often each app's live state is compared with Git without a commit,
//! how much of a workspace's request budget those checks may use, and which
//! apps are pinned to a revision.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::duration_text;

/// The daemon's pacing.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerConfig {
    /// How long a shutdown waits for calls in flight and their outcome
    /// records (default `25s`).
    #[serde(with = "duration_text")]
    pub shutdown_grace: Duration,
    /// How often each app's live state is re-read when Git has not moved
    /// (default `5m`; each app gets its own jittered schedule).
    #[serde(with = "duration_text")]
    pub drift_interval: Duration,
    /// The share of each workspace's request budget steady-state drift
    /// checks may use, 0 < share ≤ 1 (default 0.25). Drift checks are
    /// spread further apart when they would use more.
    pub drift_budget: f64,
    /// Apps pinned to a commit: rendered and synced at that revision, with
    /// automated sync paused, until the pin is removed.
    pub pins: BTreeMap<String, String>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            shutdown_grace: Duration::from_secs(25),
            drift_interval: Duration::from_secs(300),
            drift_budget: 0.25,
            pins: BTreeMap::new(),
        }
    }
}

impl ControllerConfig {
    /// Checks what the types cannot: `(field, message)` on the first problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !(self.drift_budget > 0.0 && self.drift_budget <= 1.0) {
            return Err((
                "controller.drift_budget".into(),
                format!(
                    "{} is not a share of the request budget; write a number above 0 and at most 1 (e.g. 0.25)",
                    self.drift_budget
                ),
            ));
        }
        if self.drift_interval < Duration::from_secs(1) {
            return Err((
                "controller.drift_interval".into(),
                "must be at least 1s".into(),
            ));
        }
        for (app, commit) in &self.pins {
            if commit.len() < 7 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err((
                    format!("controller.pins.{app}"),
                    format!("`{commit}` is not a commit SHA (at least 7 hex digits)"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_field() {
        let c = ControllerConfig {
            drift_budget: 1.5,
            ..Default::default()
        };
        assert_eq!(c.check().unwrap_err().0, "controller.drift_budget");
        let c = ControllerConfig {
            pins: BTreeMap::from([("team".into(), "main".into())]),
            ..Default::default()
        };
        assert_eq!(c.check().unwrap_err().0, "controller.pins.team");
    }
}
