//! Latency and seeded fault injection: with probability `fault_rate` an API
//! request gets a 500, a 503, a 429, a dropped connection or a slow answer,
//! drawn from a PRNG seeded by `--seed` so a run is reproducible. Also holds
//! throttle bursts injected through the admin API.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::config::EmulatorConfig;
pub use crate::config::FaultKind;
use crate::errors::ApiError;

/// Run-time adjustable latency and fault settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultSettings {
    /// Latency added to every API request.
    #[serde(with = "millis", rename = "latency_ms")]
    pub latency: Duration,
    /// Probability (0..=1) of a fault per API request.
    pub fault_rate: f64,
    /// Kinds to draw from (all when empty).
    pub kinds: Vec<FaultKind>,
    /// Delay of a `slow` fault.
    #[serde(with = "millis", rename = "slow_ms")]
    pub slow: Duration,
    /// When set, the fault sequence restarts from this seed.
    pub seed: Option<u64>,
    /// Answers that come late, after the request took effect.
    pub late: Option<LateAnswer>,
}

/// Answers to mutating requests whose path starts with `path` are held
/// for `delay` after the request took effect: a response lost or slow on
/// its way back, as a client that dies waiting sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateAnswer {
    pub path: String,
    #[serde(with = "millis", rename = "delay_ms")]
    pub delay: Duration,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            latency: Duration::ZERO,
            fault_rate: 0.0,
            kinds: Vec::new(),
            slow: Duration::from_millis(1500),
            seed: None,
            late: None,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Error500,
    Error503,
    Throttle,
    Drop,
    Slow(Duration),
}

impl Fault {
    /// The response for faults that answer.
    pub fn response(self) -> Response {
        match self {
            Fault::Error500 => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Injected fault: internal error.",
            )
            .into_response(),
            Fault::Error503 => {
                let mut response = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "TEMPORARILY_UNAVAILABLE",
                    "Injected fault: the service is temporarily unavailable.",
                )
                .into_response();
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("1"),
                );
                response
            }
            Fault::Throttle => ApiError::throttled(1).into_response(),
            Fault::Drop | Fault::Slow(_) => StatusCode::NO_CONTENT.into_response(),
        }
    }
}

struct Burst {
    remaining: u64,
    retry_after: u64,
    prefix: String,
}

struct Inner {
    settings: FaultSettings,
    rng: StdRng,
    burst: Option<Burst>,
}

/// Fault state shared by all requests.
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    /// From the start configuration.
    pub fn new(config: &EmulatorConfig) -> Self {
        // Without a seed one is drawn, and reported in the settings, so a
        // run with faults can be reproduced.
        let seed = config.seed.unwrap_or_else(|| rand::rng().random());
        let settings = FaultSettings {
            latency: config.latency,
            fault_rate: config.fault_rate,
            kinds: config.fault_kinds.clone(),
            seed: Some(seed),
            ..FaultSettings::default()
        };
        let rng = StdRng::seed_from_u64(seed);
        Faults {
            inner: Mutex::new(Inner {
                settings,
                rng,
                burst: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current latency.
    pub fn latency(&self) -> Duration {
        self.lock().settings.latency
    }

    /// How late the answer to a mutating request on `path` comes.
    pub fn late_answer(&self, path: &str) -> Option<Duration> {
        let inner = self.lock();
        let late = inner.settings.late.as_ref()?;
        path.starts_with(&late.path).then_some(late.delay)
    }

    /// Current settings.
    pub fn settings(&self) -> FaultSettings {
        self.lock().settings.clone()
    }

    /// Replaces the settings; a seed restarts the sequence, no seed continues it.
    pub fn update(&self, mut settings: FaultSettings) {
        let mut inner = self.lock();
        match settings.seed {
            Some(seed) => inner.rng = StdRng::seed_from_u64(seed),
            // The sequence continues; the reported seed stays the one it began with.
            None => settings.seed = inner.settings.seed,
        }
        inner.settings = settings;
    }

    /// Draws the fault (if any) for the next request. One draw per request
    /// keeps the sequence reproducible for a given seed.
    pub fn decide(&self) -> Option<Fault> {
        let mut inner = self.lock();
        if inner.settings.fault_rate <= 0.0 {
            return None;
        }
        let roll: f64 = inner.rng.random();
        let pick: usize = inner.rng.random_range(0..usize::MAX);
        if roll >= inner.settings.fault_rate {
            return None;
        }
        let kinds: &[FaultKind] = if inner.settings.kinds.is_empty() {
            &FaultKind::ALL
        } else {
            &inner.settings.kinds
        };
        Some(match kinds[pick % kinds.len()] {
            FaultKind::Error500 => Fault::Error500,
            FaultKind::Error503 => Fault::Error503,
            FaultKind::Throttle => Fault::Throttle,
            FaultKind::Drop => Fault::Drop,
            FaultKind::Slow => Fault::Slow(inner.settings.slow),
        })
    }

    /// Queues `count` throttled answers for paths starting with `prefix`.
    pub fn throttle(&self, count: u64, retry_after: u64, prefix: &str) {
        self.lock().burst = (count > 0).then(|| Burst {
            remaining: count,
            retry_after: retry_after.max(1),
            prefix: prefix.to_owned(),
        });
    }

    /// Takes one queued throttle for `path`, returning its `Retry-After`.
    pub fn take_throttle(&self, path: &str) -> Option<u64> {
        self.take_matching(path, false)
    }

    /// Like [`Faults::take_throttle`] for paths outside `/api/` (the token
    /// endpoint): only a burst whose prefix names the path explicitly applies.
    pub fn take_throttle_named(&self, path: &str) -> Option<u64> {
        self.take_matching(path, true)
    }

    fn take_matching(&self, path: &str, named_only: bool) -> Option<u64> {
        let mut inner = self.lock();
        let burst = inner.burst.as_mut()?;
        if (named_only && burst.prefix.is_empty()) || !path.starts_with(&burst.prefix) {
            return None;
        }
        burst.remaining -= 1;
        let retry_after = burst.retry_after;
        if burst.remaining == 0 {
            inner.burst = None;
        }
        Some(retry_after)
    }

    /// Remaining queued throttles.
    pub fn pending_throttles(&self) -> u64 {
        self.lock().burst.as_ref().map_or(0, |b| b.remaining)
    }
}
