//! `controller:` — how the daemon paces itself: how long shutdown may take,
//! how often each app's live state is compared with Git without a commit,
//! how much of a workspace's request budget those checks may use, and which
//! apps are pinned to a revision.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// Parses `30s`, `5m`, `1h 30m`, `250ms` (jiff's friendly format).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 30s, 5m, 1h"))?;
    Duration::try_from(parsed).map_err(|_| format!("`{text}` is negative"))
}

/// Shows a duration the way it can be written back (`90s`, `5m`).
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Durations written as text in `mortar.yaml`.
pub mod duration_text {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&show_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
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
    fn durations_read_and_show() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert_eq!(show_duration(Duration::from_secs(300)), "5m");
        assert_eq!(show_duration(Duration::from_secs(25)), "25s");
    }

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
