//! Outbound JSON webhooks: what notifications and the audit webhook sink
//! have in common. A body is posted with a delivery id (the same on every
//! retry of one delivery), signed with HMAC-SHA256 when a key is given
//! (`X-Mortar-Signature: sha256=<hex>`), with a timeout; 5xx, 429 and
//! connection errors are retried with jittered exponential backoff (a
//! `Retry-After` honoured up to a cap); any other answer is final. URLs
//! can be secrets (a Slack URL is its own credential), so logs and reasons
//! show a target's origin, never its path or query.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::StatusCode;
use sha2::Sha256;

use crate::config::{ValueRef, check_notification_url};
use crate::databricks::Secret;
use crate::databricks::auth::{AuthError, read_secret};

/// The header carrying the body's HMAC-SHA256, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Mortar-Signature";
/// The header carrying the delivery id (the same on every retry of one delivery).
pub const DELIVERY_HEADER: &str = "X-Mortar-Delivery";

/// `sha256=<hex>` of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (`sha256=<hex>`) is the signature of `body` under `key`,
/// compared in constant time. For receivers and tests.
pub fn verify_signature(key: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// A fresh delivery id: 16 random bytes as hex.
pub fn delivery_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// How long to wait between attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// The first backoff; it doubles on each retry (with jitter).
    pub initial: Duration,
    pub max: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before retry `retry` (1 for the first): the server's
    /// `Retry-After` up to the cap, else `initial * 2^(retry-1)` up to the
    /// maximum, jittered into its upper half.
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after);
        }
        let exp = retry.saturating_sub(1).min(20);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let base = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(base / 2..=base))
    }
}

/// One delivery: where, how, and what.
pub struct Post<'a> {
    /// The URL (possibly a secret).
    pub url: &'a Secret,
    /// `scheme://host:port` of the URL: what logs may show of it.
    pub origin: &'a str,
    /// The HMAC key, when the receiver checks signatures.
    pub key: Option<&'a Secret>,
    /// The delivery id (from [`delivery_id`]), sent on every attempt.
    pub delivery: &'a str,
    /// Further headers (name, value), e.g. the event kind.
    pub headers: &'a [(&'static str, &'a str)],
    pub body: &'a [u8],
    pub timeout: Duration,
    /// Attempts, the first included (at least one is made).
    pub attempts: u32,
    /// Names the sender in logs (a notification channel, an audit sink).
    pub sender: &'a str,
}

/// A delivery given up on: after how many attempts, and the last reason
/// (which names no URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    pub attempts: u32,
    pub reason: String,
}

/// How one attempt ended, when it did not deliver.
enum Attempt {
    /// Worth another try, after the server's `Retry-After` if it gave one.
    Retry(String, Option<Duration>),
    /// The answer will not change (a 4xx other than 429, a redirect).
    Final(String),
}

/// Posts `post.body`, retrying what is worth retrying; the number of
/// attempts it took when a receiver answered 2xx.
pub async fn post(
    http: &reqwest::Client,
    backoff: &Backoff,
    post: Post<'_>,
) -> Result<u32, GaveUp> {
    let signed = post
        .key
        .map(|key| signature(key.expose().as_bytes(), post.body));
    let attempts = post.attempts.max(1);
    for attempt in 1..=attempts {
        let mut request = http
            .post(post.url.expose())
            .timeout(post.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, post.delivery);
        for (name, value) in post.headers {
            request = request.header(*name, *value);
        }
        if let Some(signed) = &signed {
            request = request.header(SIGNATURE_HEADER, signed);
        }
        let outcome = match request.body(post.body.to_vec()).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(attempt),
            Ok(resp) => {
                let status = resp.status();
                let reason = format!("the receiver answered {status}");
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    Attempt::Retry(reason, retry_after(&resp))
                } else {
                    Attempt::Final(reason)
                }
            }
            Err(err) => Attempt::Retry(transport_reason(&err, post.timeout), None),
        };
        match outcome {
            Attempt::Final(reason) => {
                return Err(GaveUp {
                    attempts: attempt,
                    reason,
                });
            }
            Attempt::Retry(reason, _) if attempt == attempts => {
                return Err(GaveUp {
                    attempts: attempt,
                    reason,
                });
            }
            Attempt::Retry(reason, after) => {
                let wait = backoff.wait(attempt, after);
                tracing::debug!(
                    sender = %post.sender,
                    target = %post.origin,
                    attempt,
                    reason = %reason,
                    wait_ms = wait.as_millis() as u64,
                    "webhook not delivered; retrying"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// Words for a transport error, without the URL reqwest would print.
fn transport_reason(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        format!("no answer within {}s", timeout.as_secs())
    } else if err.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed before an answer".to_string()
    }
}

/// An integer `Retry-After`, in seconds.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Why a configured URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error(transparent)]
    Read(AuthError),
    /// What is wrong with it, naming only its origin.
    #[error("{0}")]
    Invalid(String),
}

/// A configured URL (inline, or read from a file, variable or Secret:
/// its path may be a token), checked, and its origin for logs.
pub fn open_url(
    value: &ValueRef,
    what: &'static str,
    allow_insecure_http: bool,
) -> Result<(Secret, String), UrlError> {
    let url = match value {
        ValueRef::Literal(url) => Secret::new(url.clone()),
        ValueRef::Ref(r) => read_secret(r, what).map_err(UrlError::Read)?,
    };
    let origin = check_notification_url(url.expose(), allow_insecure_http)
        .map_err(UrlError::Invalid)?
        .origin()
        .ascii_serialization();
    Ok((url, origin))
}

/// What became of a sender's deliveries since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Accepted by the receiver (2xx).
    pub delivered: u64,
    /// Given up on (attempts exhausted, or an answer that is final).
    pub failed: u64,
    /// Dropped from a full queue.
    pub dropped: u64,
}

/// The deliveries waiting for one sender, bounded: when full, the oldest
/// is dropped (counted, and warned about at 1, 2, 4, … drops). Pushing
/// never blocks; the sender's task waits on [`Outbox::wait`].
pub struct Outbox<T> {
    sender: String,
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    wake: tokio::sync::Notify,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl<T> Outbox<T> {
    /// An empty outbox of `sender` (named in warnings) holding at most
    /// `capacity` items (at least one).
    pub fn new(sender: &str, capacity: usize) -> Outbox<T> {
        Outbox {
            sender: sender.to_string(),
            items: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            wake: tokio::sync::Notify::new(),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues `item`, dropping the oldest when full, and wakes the sender.
    pub fn push(&self, item: T) {
        {
            let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
            if items.len() >= self.capacity {
                items.pop_front();
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(sender = %self.sender, dropped, "outbound queue full: dropped the oldest delivery");
                }
            }
            items.push_back(item);
        }
        self.wake.notify_one();
    }

    /// The oldest item waiting, if any.
    pub fn pop(&self) -> Option<T> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Until something is pushed (or [`Outbox::wake`] is called).
    pub async fn wait(&self) {
        self.wake.notified().await;
    }

    /// Wakes the sender without an item (to have it look at a stop flag).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Counts how one delivery ended.
    pub fn count(&self, delivered: bool) {
        let counter = if delivered {
            &self.delivered
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// The HTTP client outbound webhooks share: no redirects (a redirect could
/// carry a signed body elsewhere), a connect timeout, Mortar's user agent.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mortar/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_honours_retry_after_up_to_a_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(5),
        };
        let first = b.wait(1, None);
        assert!((50..=100).contains(&first.as_millis()), "{first:?}");
        let second = b.wait(2, None);
        assert!((100..=200).contains(&second.as_millis()), "{second:?}");
        let late = b.wait(30, None);
        assert!((175..=350).contains(&late.as_millis()), "{late:?}");
        assert_eq!(
            b.wait(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            b.wait(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_full_outbox_drops_its_oldest_and_counts_it() {
        let outbox = Outbox::new("test", 2);
        for i in 0..3 {
            outbox.push(i);
        }
        assert_eq!(outbox.stats().dropped, 1);
        assert_eq!(
            (outbox.pop(), outbox.pop(), outbox.pop()),
            (Some(1), Some(2), None)
        );
        outbox.count(true);
        outbox.count(false);
        assert_eq!(
            outbox.stats(),
            DeliveryStats {
                delivered: 1,
                failed: 1,
                dropped: 1
            }
        );
    }

    #[test]
    fn signatures_are_hmac_sha256_and_checked_in_full() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = signature(b"k", b"{\"a\":1}");
        assert!(verify_signature(b"k", b"{\"a\":1}", &sig));
        assert!(!verify_signature(b"other", b"{\"a\":1}", &sig));
        assert!(!verify_signature(b"k", b"{}", &sig));
        assert!(!verify_signature(b"k", b"{\"a\":1}", "sha1=00"));
        assert!(!verify_signature(b"k", b"{\"a\":1}", &sig[..sig.len() - 2]));
    }
}
