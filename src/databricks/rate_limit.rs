//! Client-side request budgets per workspace: token buckets (governor) per
//! endpoint, with defaults from the published Databricks limits, and one
//! workspace-wide bucket for every other endpoint.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{EndpointKey, LimitsConfig};

/// Published per-workspace limits (requests per second), keyed like the
/// config's `limits.endpoints`.
pub const DEFAULT_ENDPOINT_LIMITS: &[(&str, f64)] = &[
    ("POST jobs/create", 20.0),
    ("POST jobs/run-now", 20.0),
    ("GET jobs/runs/get", 100.0),
    ("POST jobs/runs/submit", 35.0),
    ("GET preview/scim/", 255.0),
    ("GET permissions/", 100.0),
    ("PUT permissions/", 30.0),
    ("PATCH permissions/", 30.0),
    ("* secrets/", 1100.0),
    ("* token-management/", 40.0),
    ("GET workspace/export", 60.0),
    ("POST workspace/import", 30.0),
    ("* dbfs/", 30.0),
];

/// One budget: requests matching `method` (None = any) whose API path starts with `prefix`.
pub struct EndpointRule {
    method: Option<String>,
    prefix: String,
    rps: f64,
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl std::fmt::Debug for EndpointRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} @ {}/s",
            self.method.as_deref().unwrap_or("*"),
            self.prefix,
            self.rps
        )
    }
}

fn limiter(rps: f64) -> Arc<DefaultDirectRateLimiter> {
    let rps = if rps.is_finite() && rps > 0.0 {
        rps
    } else {
        1.0
    };
    let burst = NonZeroU32::new(rps.ceil().min(u32::MAX as f64) as u32).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs_f64(1.0 / rps).max(Duration::from_nanos(1));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst);
    Arc::new(RateLimiter::direct(quota))
}

impl EndpointRule {
    /// Parses `"METHOD path-prefix"`; `None` when the key has another shape.
    pub fn parse(key: &str, rps: f64) -> Option<EndpointRule> {
        let EndpointKey { method, prefix } = EndpointKey::parse(key)?;
        Some(EndpointRule {
            method,
            prefix,
            rps,
            limiter: limiter(rps),
        })
    }

    fn matches(&self, method: &str, api_path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && api_path.starts_with(&self.prefix)
    }
}

/// All the budgets of one workspace.
#[derive(Debug)]
pub struct RateLimits {
    rules: Vec<EndpointRule>,
    default: Arc<DefaultDirectRateLimiter>,
}

/// The part of a path after `/api/<version>/`, or `None` for non-API paths.
fn api_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/")?;
    let (_version, rest) = rest.split_once('/')?;
    Some(rest)
}

impl RateLimits {
    pub fn new(config: &LimitsConfig) -> RateLimits {
        let mut keys: Vec<(String, f64)> = DEFAULT_ENDPOINT_LIMITS
            .iter()
            .filter(|(k, _)| !config.endpoints.contains_key(*k))
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        keys.extend(config.endpoints.iter().map(|(k, v)| (k.clone(), *v)));
        let mut rules: Vec<EndpointRule> = keys
            .iter()
            .filter_map(|(k, v)| EndpointRule::parse(k, *v))
            .collect();
        // Most specific first: longer prefixes, then a named method over `*`.
        rules.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then(b.method.is_some().cmp(&a.method.is_some()))
        });
        RateLimits {
            rules,
            default: limiter(config.requests_per_second),
        }
    }

    /// The budget a request draws from.
    #[cfg(test)]
    fn rule_for(&self, method: &str, path: &str) -> Option<&EndpointRule> {
        let api = api_path(path)?;
        self.rules.iter().find(|r| r.matches(method, api))
    }

    /// Waits until the request's budget allows it. Non-API paths (discovery,
    /// token endpoint) are not limited here.
    pub async fn acquire(&self, method: &str, path: &str) {
        let Some(api) = api_path(path) else { return };
        match self.rules.iter().find(|r| r.matches(method, api)) {
            Some(rule) => rule.limiter.until_ready().await,
            None => self.default.until_ready().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn most_specific_rule_wins_and_config_overrides_defaults() {
        let config = LimitsConfig {
            endpoints: BTreeMap::from([
                ("POST jobs/create".to_string(), 2.0),
                ("* jobs/".to_string(), 50.0),
            ]),
            ..LimitsConfig::default()
        };
        let limits = RateLimits::new(&config);
        let rule = limits
            .rule_for("POST", "/api/2.2/jobs/create")
            .expect("rule");
        assert_eq!(rule.rps, 2.0);
        let rule = limits.rule_for("GET", "/api/2.2/jobs/list").expect("rule");
        assert_eq!(rule.rps, 50.0);
        let rule = limits
            .rule_for("PUT", "/api/2.0/permissions/jobs/1")
            .expect("rule");
        assert_eq!(rule.rps, 30.0);
        assert!(limits.rule_for("GET", "/api/2.1/clusters/list").is_none());
        assert!(limits.rule_for("POST", "/oidc/v1/token").is_none());
    }

    #[test]
    fn keys_must_name_a_method_and_a_prefix() {
        assert!(EndpointRule::parse("POST jobs/create", 1.0).is_some());
        assert!(EndpointRule::parse("* /secrets/", 1.0).is_some());
        assert!(EndpointRule::parse("jobs/create", 1.0).is_none());
        assert!(EndpointRule::parse("post jobs/create", 1.0).is_none());
    }

    #[tokio::test]
    async fn a_bucket_holds_back_requests_beyond_its_burst() {
        let config = LimitsConfig {
            requests_per_second: 10.0,
            ..LimitsConfig::default()
        };
        let limits = RateLimits::new(&config);
        let start = std::time::Instant::now();
        for _ in 0..15 {
            limits.acquire("GET", "/api/2.1/clusters/list").await;
        }
        // 10 fit the burst; 5 more need about half a second at 10/s.
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
    }
}
