//! When the next poll and each app's next drift check happen: jittered
//! intervals, and drift checks spread out so that, per workspace, they use
//! no more than the configured share of its request budget.
//!
//! Pure functions; the randomness comes in as a number in `[0, 1)`.

use std::collections::BTreeMap;
use std::time::Duration;

/// `interval` moved by up to ±10%, `u` in `[0, 1)` picking where.
pub fn jittered(interval: Duration, u: f64) -> Duration {
    let u = u.clamp(0.0, 1.0);
    interval.mul_f64(0.9 + 0.2 * u)
}

/// One app's drift check as seen by the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftCost {
    pub workspace: String,
    /// Requests one drift check of the app takes (measured, or estimated
    /// before the first check).
    pub requests: f64,
}

/// The drift interval per workspace: `base`, stretched where the apps of a
/// workspace, each checked once per interval, would take more than
/// `share × requests_per_second` of it.
pub fn drift_periods(
    base: Duration,
    costs: &[DriftCost],
    requests_per_second: &BTreeMap<String, f64>,
    share: f64,
) -> BTreeMap<String, Duration> {
    let mut per_workspace: BTreeMap<&str, f64> = BTreeMap::new();
    for c in costs {
        *per_workspace.entry(c.workspace.as_str()).or_default() += c.requests.max(0.0);
    }
    per_workspace
        .into_iter()
        .map(|(ws, requests)| {
            let rate = requests_per_second.get(ws).copied().unwrap_or(30.0);
            let allowed = (rate * share).max(f64::MIN_POSITIVE);
            let needed = requests / base.as_secs_f64().max(1e-3);
            let period = if needed > allowed {
                base.mul_f64(needed / allowed)
            } else {
                base
            };
            (ws.to_string(), period)
        })
        .collect()
}

/// Requests a drift check takes before one was measured: a page per kind
/// the app declares and a read per resource (ACLs included).
pub fn estimated_cost(resources: usize, kinds: usize) -> f64 {
    (kinds + 2 * resources).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(ws: &str, requests: f64) -> DriftCost {
        DriftCost {
            workspace: ws.into(),
            requests,
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let base = Duration::from_secs(100);
        assert_eq!(jittered(base, 0.0), Duration::from_secs(90));
        assert_eq!(jittered(base, 0.5), Duration::from_secs(100));
        assert!(jittered(base, 0.999_999) <= Duration::from_secs(110));
    }

    #[test]
    fn drift_checks_are_spread_to_stay_within_the_budget_share() {
        let rates = BTreeMap::from([("busy".to_string(), 10.0), ("calm".to_string(), 10.0)]);
        // busy: 10 apps × 300 requests per 60 s = 50 req/s; the share allows 2.5.
        let mut costs: Vec<_> = (0..10).map(|_| cost("busy", 300.0)).collect();
        costs.push(cost("calm", 10.0));
        let periods = drift_periods(Duration::from_secs(60), &costs, &rates, 0.25);
        assert_eq!(periods["calm"], Duration::from_secs(60));
        let busy = periods["busy"];
        assert_eq!(busy, Duration::from_secs(1200));
        // What the checks then use, per second, is exactly the share.
        let used = 10.0 * 300.0 / busy.as_secs_f64();
        assert!((used - 2.5).abs() < 1e-9, "{used}");
    }
}
