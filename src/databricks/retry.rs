//! When a failed call is tried again, and how long to wait first:
//! exponential backoff with jitter, a server's integer `Retry-After` honored
//! up to a cap. All arithmetic saturates: no server value can overflow it.

use std::time::Duration;

use rand::Rng;

use super::error::Error;
use crate::config::RetryConfig;

/// Messages the Databricks SDKs treat as transient whatever the status.
const TRANSIENT_MESSAGES: &[&str] = &[
    "UnknownWorkerEnvironmentException",
    "does not have any associated worker environments",
    "There is no worker environment with id",
    "Unknown worker environment",
    "ClusterNotReadyException",
    "Unexpected error",
    "Please try again later or try a faster operation.",
    "RPC token bucket limit has been exceeded",
];

/// Attempts and backoff bounds for one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial: Duration,
    pub max: Duration,
    /// The longest `Retry-After` honored; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl From<&RetryConfig> for RetryPolicy {
    fn from(c: &RetryConfig) -> Self {
        RetryPolicy {
            max_attempts: c.max_attempts,
            initial: Duration::from_millis(c.initial_backoff_ms),
            max: Duration::from_millis(c.max_backoff_ms),
            max_retry_after: Duration::from_secs(c.max_retry_after_secs),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::from(&RetryConfig::default())
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): the
    /// server's `Retry-After` (at most `max_retry_after`) plus a little
    /// jitter when it gave one, else `initial * 2^(retry-1)` capped at `max`,
    /// jittered into its upper half.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let mut rng = rand::rng();
        if let Some(after) = retry_after {
            let spread = self.initial.min(Duration::from_secs(1)).as_millis() as u64;
            return after
                .min(self.max_retry_after)
                .saturating_add(Duration::from_millis(rng.random_range(0..=spread)));
        }
        let exp = retry.saturating_sub(1).min(20);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let base = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        let low = base / 2;
        Duration::from_millis(rng.random_range(low..=base))
    }
}

/// Whether a failure is worth another attempt, given whether the call may
/// safely run twice.
pub fn should_retry(err: &Error, idempotent: bool) -> bool {
    match err {
        // The server refused before doing anything.
        Error::RateLimited(_) => true,
        Error::Transport { sent: false, .. } => true,
        Error::Transport { sent: true, .. } | Error::Timeout { .. } => idempotent,
        // A 5xx on a call that may run twice: try again (a reconciler
        // would only come back to it later anyway).
        Error::Unavailable(_) => idempotent,
        Error::Api(api) | Error::InvalidState(api) => {
            idempotent && TRANSIENT_MESSAGES.iter().any(|m| api.message.contains(m))
        }
        // Too large stays too large; a deadline or a paging loop is final.
        Error::ResponseTooLarge { .. }
        | Error::DeadlineExceeded { .. }
        | Error::PageLoop { .. }
        | Error::TooManyPages { .. } => false,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::error::decode_error;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = policy();
        for _ in 0..50 {
            let d1 = p.delay(1, None);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.delay(3, None);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d10 = p.delay(10, None);
            assert!(d10 <= Duration::from_millis(1000), "{d10:?}");
        }
    }

    #[test]
    fn retry_after_is_honored() {
        let d = policy().delay(1, Some(Duration::from_secs(3)));
        assert!(
            d >= Duration::from_secs(3) && d <= Duration::from_millis(3100),
            "{d:?}"
        );
    }

    #[test]
    fn huge_retry_after_is_capped_without_overflow() {
        let p = policy();
        for after in [999_999, u64::MAX] {
            let d = p.delay(1, Some(Duration::from_secs(after)));
            assert!(
                d >= Duration::from_secs(5) && d <= Duration::from_millis(5100),
                "{d:?}"
            );
        }
        let d = p.delay(1, Some(Duration::MAX));
        assert!(d <= Duration::from_millis(5100), "{d:?}");
        let huge = RetryPolicy {
            max_attempts: u32::MAX,
            initial: Duration::MAX,
            max: Duration::MAX,
            max_retry_after: Duration::MAX,
        };
        assert_eq!(huge.delay(u32::MAX, Some(Duration::MAX)), Duration::MAX);
        assert!(huge.delay(u32::MAX, None) >= Duration::from_secs(1 << 40));
    }

    #[test]
    fn creates_are_not_retried_after_ambiguous_failures() {
        let e503 = decode_error("POST", "/x", 503, "Service Unavailable", b"", None);
        let e429 = decode_error("POST", "/x", 429, "Too Many Requests", b"", None);
        let e500 = decode_error("POST", "/x", 500, "Internal Server Error", b"", None);
        let timeout = Error::Timeout {
            method: "POST".into(),
            path: "/x".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(should_retry(&e503, true));
        assert!(!should_retry(&e503, false));
        assert!(should_retry(&e429, false));
        assert!(should_retry(&e500, true));
        assert!(!should_retry(&e500, false));
        assert!(should_retry(&timeout, true));
        assert!(!should_retry(&timeout, false));
        let bad = decode_error("GET", "/x", 400, "Bad Request", b"{}", None);
        assert!(!should_retry(&bad, true));
    }
}
