//! Per-endpoint rate limits (off unless `--rate-limit` or `rate_limits` is
//! set). Endpoints with a published workspace limit use it; every other
//! endpoint uses the `--rate-limit` value. A throttled request gets 429
//! `REQUEST_LIMIT_EXCEEDED` with an integer `Retry-After`.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::EmulatorConfig;

/// Published per-workspace limits (requests/second) by endpoint class.
pub const PUBLISHED: &[(&str, f64)] = &[
    ("jobs/create", 20.0),
    ("jobs/run-now", 20.0),
    ("jobs/runs/get", 100.0),
    ("jobs/runs/submit", 35.0),
    ("scim/get", 255.0),
    ("permissions/get", 100.0),
    ("permissions/update", 30.0),
    ("secrets", 1100.0),
    ("token-management", 40.0),
    ("workspace/export", 60.0),
    ("workspace/import", 30.0),
];

/// The endpoint class a request is counted under.
pub fn class_of(method: &Method, path: &str) -> String {
    let rest = path
        .strip_prefix("/api/")
        .and_then(|p| p.split_once('/'))
        .map_or(path, |(_, rest)| rest);
    let named = if rest.starts_with("jobs/create") {
        "jobs/create"
    } else if rest.starts_with("jobs/run-now") {
        "jobs/run-now"
    } else if rest.starts_with("jobs/runs/get") {
        "jobs/runs/get"
    } else if rest.starts_with("jobs/runs/submit") {
        "jobs/runs/submit"
    } else if rest.starts_with("preview/scim/") && method == Method::GET {
        "scim/get"
    } else if rest.starts_with("permissions/") {
        if method == Method::GET {
            "permissions/get"
        } else {
            "permissions/update"
        }
    } else if rest.starts_with("secrets/") {
        "secrets"
    } else if rest.starts_with("token-management/") {
        "token-management"
    } else if rest.starts_with("workspace/export") {
        "workspace/export"
    } else if rest.starts_with("workspace/import") {
        "workspace/import"
    } else {
        ""
    };
    if named.is_empty() {
        format!("{method} {rest}")
    } else {
        named.to_owned()
    }
}

fn limiter(rps: f64) -> Option<DefaultDirectRateLimiter> {
    if rps.is_nan() || rps <= 0.0 {
        return None;
    }
    let burst = NonZeroU32::new(rps.floor().clamp(1.0, 1e6) as u32)?;
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rps))?.allow_burst(burst);
    Some(RateLimiter::direct(quota))
}

struct Inner {
    default: Option<f64>,
    overrides: BTreeMap<String, f64>,
    limiters: HashMap<String, Option<Arc<DefaultDirectRateLimiter>>>,
}

/// Rate limiter registry.
pub struct Limits {
    inner: Mutex<Inner>,
}

impl Limits {
    /// From the start configuration.
    pub fn new(config: &EmulatorConfig) -> Self {
        Limits {
            inner: Mutex::new(Inner {
                default: config.rate_limit,
                overrides: config.rate_limits.clone(),
                limiters: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Turns limiting on with `rps` as the default, or off.
    pub fn set_default(&self, rps: Option<f64>) {
        let mut inner = self.lock();
        inner.default = rps;
        inner.limiters.clear();
    }

    /// Sets or clears one class's limit.
    pub fn set_override(&self, class: &str, rps: Option<f64>) {
        let mut inner = self.lock();
        match rps {
            Some(rps) => inner.overrides.insert(class.to_owned(), rps),
            None => inner.overrides.remove(class),
        };
        inner.limiters.clear();
    }

    /// The default and the overrides.
    pub fn describe(&self) -> (Option<f64>, BTreeMap<String, f64>) {
        let inner = self.lock();
        (inner.default, inner.overrides.clone())
    }

    /// Counts one request; `Err(secs)` when it must be throttled.
    pub fn check(&self, method: &Method, path: &str) -> Result<(), u64> {
        let limiter = {
            let mut inner = self.lock();
            if inner.default.is_none() && inner.overrides.is_empty() {
                return Ok(());
            }
            let class = class_of(method, path);
            if let Some(existing) = inner.limiters.get(&class) {
                existing.clone()
            } else {
                let rps = inner.overrides.get(&class).copied().or_else(|| {
                    inner.default.map(|default| {
                        PUBLISHED
                            .iter()
                            .find(|(name, _)| *name == class)
                            .map_or(default, |(_, published)| *published)
                    })
                });
                let created = rps.and_then(limiter).map(Arc::new);
                inner.limiters.insert(class, created.clone());
                created
            }
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        match limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(wait.as_secs_f64().ceil().max(1.0) as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_map_to_published_classes() {
        assert_eq!(
            class_of(&Method::POST, "/api/2.2/jobs/create"),
            "jobs/create"
        );
        assert_eq!(
            class_of(&Method::GET, "/api/2.0/preview/scim/v2/Users"),
            "scim/get"
        );
        assert_eq!(
            class_of(&Method::PUT, "/api/2.0/permissions/jobs/1"),
            "permissions/update"
        );
        assert_eq!(class_of(&Method::GET, "/api/2.2/jobs/get"), "GET jobs/get");
    }
}
