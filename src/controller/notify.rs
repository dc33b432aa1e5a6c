//! Notifications: telling people when an app changes state.
//!
//! [`events`] compares an app's status before and after a loop and names
//! each change once (a failure that persists is told once). A [`Notifier`]
//! takes those events without ever blocking its caller: each configured
//! channel has a bounded queue (when full, the oldest event is dropped and
//! counted) and a background task that posts one event at a time — a
//! Slack-compatible `{"text": …}` or a generic JSON body signed with
//! HMAC-SHA256 — with a timeout, retrying 5xx, 429 and connection errors
//! with backoff (a `Retry-After` honoured up to a cap), and giving up after
//! the configured attempts with a warning. A slow or hung receiver holds
//! back only its own channel. URLs are secrets here (a Slack URL is its own
//! credential): logs and errors name a channel and its origin, never the
//! URL's path or query.

pub mod body;
pub mod events;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::cluster::{EventReason, EventSink};
use crate::config::{EventKind, NotificationConfig, ValueRef, check_notification_url};
use crate::databricks::auth::{AuthError, read_secret};
use crate::databricks::{Secret, redact};

pub use events::{Event, events};

/// Why the notifier could not start.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification `{notification}`: cannot read {field}")]
    Secret {
        notification: String,
        field: &'static str,
        #[source]
        source: Box<AuthError>,
    },
    #[error("notification `{notification}`: {field}: {message}")]
    Url {
        notification: String,
        field: &'static str,
        message: String,
    },
    #[error("cannot build the notifications' HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("notifications need a Tokio runtime to send from")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
}

impl NotifyError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            NotifyError::Secret { .. } => "secret",
            NotifyError::Url { .. } => "url",
            NotifyError::Client(_) => "client",
            NotifyError::NoRuntime(_) => "no_runtime",
        }
    }
}

/// Queue and retry bounds shared by every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierTuning {
    /// Events waiting per channel; when full, the oldest is dropped.
    pub queue_capacity: usize,
    /// The first backoff; it doubles on each retry (with jitter).
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for NotifierTuning {
    fn default() -> Self {
        NotifierTuning {
            queue_capacity: 256,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What the notifier has done since it started, over every channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyStats {
    /// Events a receiver accepted (2xx).
    pub delivered: u64,
    /// Events given up on (attempts exhausted, or an answer that is final).
    pub failed: u64,
    /// Events dropped from a full queue.
    pub dropped: u64,
}

enum Target {
    Slack { url: Secret },
    Webhook { url: Secret, key: Option<Secret> },
}

struct Channel {
    config: NotificationConfig,
    target: Target,
    /// `scheme://host:port` of the URL: what logs may show of it.
    origin: String,
    queue: Mutex<VecDeque<Event>>,
    wake: tokio::sync::Notify,
    capacity: usize,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// Sends events to the configured channels in the background.
#[derive(Clone)]
pub struct Notifier {
    channels: Arc<Vec<Arc<Channel>>>,
    /// Kubernetes Events on the controller's pod, in a cluster.
    cluster_events: Option<EventSink>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .channels
            .iter()
            .map(|c| c.config.name.as_str())
            .collect();
        f.debug_struct("Notifier")
            .field("channels", &names)
            .finish()
    }
}

impl Notifier {
    /// Reads each channel's URL and key and starts its sender task (on the
    /// current Tokio runtime) until `cancel` fires. With no channels
    /// configured, `send` does nothing.
    pub fn start(
        config: &[NotificationConfig],
        cancel: CancellationToken,
    ) -> Result<Notifier, NotifyError> {
        Notifier::start_tuned(config, NotifierTuning::default(), cancel)
    }

    /// [`Notifier::start`] with other queue and backoff bounds.
    pub fn start_tuned(
        config: &[NotificationConfig],
        tuning: NotifierTuning,
        cancel: CancellationToken,
    ) -> Result<Notifier, NotifyError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(NotifyError::NoRuntime)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mortar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(NotifyError::Client)?;
        let mut channels = Vec::new();
        for n in config {
            let (target, origin) = open_target(n)?;
            channels.push(Arc::new(Channel {
                config: n.clone(),
                target,
                origin,
                queue: Mutex::new(VecDeque::new()),
                wake: tokio::sync::Notify::new(),
                capacity: tuning.queue_capacity.max(1),
                delivered: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }));
        }
        for channel in &channels {
            let channel = Arc::clone(channel);
            let http = http.clone();
            let tuning = tuning.clone();
            let cancel = cancel.clone();
            runtime.spawn(async move { channel.run(http, tuning, cancel).await });
        }
        Ok(Notifier {
            channels: Arc::new(channels),
            cluster_events: None,
        })
    }

    /// Also records failures, healed drift and refused revisions as
    /// Kubernetes Events.
    pub fn with_cluster_events(mut self, sink: EventSink) -> Notifier {
        self.cluster_events = Some(sink);
        self
    }

    /// Queues each event for every channel that wants it. Never blocks and
    /// never fails: a full queue drops its oldest event (counted).
    pub fn send(&self, events: Vec<Event>) {
        if let Some(sink) = &self.cluster_events {
            for event in &events {
                let reason = match event.kind {
                    EventKind::SyncFailed => EventReason::SyncFailed,
                    EventKind::AppDegraded => EventReason::AppDegraded,
                    EventKind::DriftHealed => EventReason::DriftHealed,
                    EventKind::RevisionRefused => EventReason::RevisionRefused,
                    _ => continue,
                };
                let sink = sink.clone();
                let app = event.app.clone();
                let note = event.message.clone();
                tokio::spawn(async move { sink.record_about(reason, Some(&app), note).await });
            }
        }
        for channel in self.channels.iter() {
            let mut queued = false;
            for event in events
                .iter()
                .filter(|e| channel.config.wants(e.kind, &e.app))
            {
                channel.push(event.clone());
                queued = true;
            }
            if queued {
                channel.wake.notify_one();
            }
        }
    }

    /// Counts since start, over every channel.
    pub fn stats(&self) -> NotifyStats {
        let mut out = NotifyStats::default();
        for (_, s) in self.stats_by_channel() {
            out.delivered += s.delivered;
            out.failed += s.failed;
            out.dropped += s.dropped;
        }
        out
    }

    /// Counts since start, per channel (by name, in config order).
    pub fn stats_by_channel(&self) -> Vec<(String, NotifyStats)> {
        self.channels
            .iter()
            .map(|c| {
                (
                    c.config.name.clone(),
                    NotifyStats {
                        delivered: c.delivered.load(Ordering::Relaxed),
                        failed: c.failed.load(Ordering::Relaxed),
                        dropped: c.dropped.load(Ordering::Relaxed),
                    },
                )
            })
            .collect()
    }
}

/// Reads a channel's URL (and key) and checks the URL.
fn open_target(n: &NotificationConfig) -> Result<(Target, String), NotifyError> {
    let secret = |r: &crate::config::SecretRef, field: &'static str| {
        read_secret(r, field).map_err(|source| NotifyError::Secret {
            notification: n.name.clone(),
            field,
            source: Box::new(source),
        })
    };
    let url = |v: &ValueRef, field: &'static str| -> Result<(Secret, String), NotifyError> {
        let url = match v {
            ValueRef::Literal(s) => Secret::new(s.clone()),
            ValueRef::Ref(r) => secret(r, field)?,
        };
        let parsed =
            check_notification_url(url.expose(), n.allow_insecure_http).map_err(|message| {
                NotifyError::Url {
                    notification: n.name.clone(),
                    field,
                    message,
                }
            })?;
        Ok((url, parsed.origin().ascii_serialization()))
    };
    match (&n.slack, &n.webhook) {
        (Some(slack), _) => {
            let (url, origin) = url(&slack.url, "slack.url")?;
            Ok((Target::Slack { url }, origin))
        }
        (None, Some(hook)) => {
            let (url, origin) = url(&hook.url, "webhook.url")?;
            let key = hook
                .secret
                .as_ref()
                .map(|r| secret(r, "webhook.secret"))
                .transpose()?;
            Ok((Target::Webhook { url, key }, origin))
        }
        (None, None) => Err(NotifyError::Url {
            notification: n.name.clone(),
            field: "slack or webhook",
            message: "no target configured".into(),
        }),
    }
}

/// A fresh delivery id: 16 random bytes as hex.
fn delivery_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// How one attempt ended, when it did not deliver.
enum Attempt {
    /// Worth another try, after the server's `Retry-After` if it gave one.
    Retry(String, Option<Duration>),
    /// The answer will not change (a 4xx other than 429, a redirect).
    Final(String),
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

impl Channel {
    fn push(&self, event: Event) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= self.capacity {
            queue.pop_front();
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    notification = %self.config.name,
                    dropped,
                    "notification queue full: dropped the oldest event"
                );
            }
        }
        queue.push_back(event);
    }

    fn pop(&self) -> Option<Event> {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    async fn run(&self, http: reqwest::Client, tuning: NotifierTuning, cancel: CancellationToken) {
        loop {
            match self.pop() {
                Some(event) => {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.deliver(&http, &tuning, event) => {}
                    }
                }
                None => {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.wake.notified() => {}
                    }
                }
            }
        }
    }

    /// Posts one event, retrying what is worth retrying.
    async fn deliver(&self, http: &reqwest::Client, tuning: &NotifierTuning, event: Event) {
        let id = delivery_id();
        // Messages never hold a secret; a loaded secret is masked anyway.
        let message = redact::redact(&event.message).into_owned();
        let built = match &self.target {
            Target::Slack { .. } => body::slack(&event, &message),
            Target::Webhook { .. } => body::generic(&event, &message, &self.config.name, &id),
        };
        let body = match built {
            Ok(b) => b,
            Err(err) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(notification = %self.config.name, error = %err, "cannot encode a notification");
                return;
            }
        };
        let timeout = Duration::from_secs(self.config.timeout_secs);
        let attempts = self.config.max_attempts.max(1);
        for attempt in 1..=attempts {
            let mut request = http
                .post(match &self.target {
                    Target::Slack { url } | Target::Webhook { url, .. } => url.expose(),
                })
                .timeout(timeout)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(body::EVENT_HEADER, event.kind.label())
                .header(body::DELIVERY_HEADER, &id);
            if let Target::Webhook { key: Some(key), .. } = &self.target {
                request = request.header(
                    body::SIGNATURE_HEADER,
                    body::signature(key.expose().as_bytes(), &body),
                );
            }
            let outcome = match request.body(body.clone()).send().await {
                Ok(resp) if resp.status().is_success() => {
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        notification = %self.config.name,
                        event = event.kind.label(),
                        app = %event.app,
                        attempt,
                        "notification delivered"
                    );
                    return;
                }
                Ok(resp) => {
                    let status = resp.status();
                    let reason = format!("the receiver answered {status}");
                    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                        Attempt::Retry(reason, retry_after(&resp))
                    } else {
                        Attempt::Final(reason)
                    }
                }
                Err(err) => Attempt::Retry(transport_reason(&err, timeout), None),
            };
            let (reason, wait) = match outcome {
                Attempt::Final(reason) => (reason, None),
                Attempt::Retry(reason, _) if attempt == attempts => (reason, None),
                Attempt::Retry(reason, after) => {
                    let wait = backoff(tuning, attempt, after);
                    tracing::debug!(
                        notification = %self.config.name,
                        target = %self.origin,
                        attempt,
                        reason = %reason,
                        wait_ms = wait.as_millis() as u64,
                        "notification not delivered; retrying"
                    );
                    (reason, Some(wait))
                }
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        notification = %self.config.name,
                        target = %self.origin,
                        event = event.kind.label(),
                        app = %event.app,
                        attempts = attempt,
                        reason = %reason,
                        "giving up on a notification"
                    );
                    return;
                }
            }
        }
    }
}

/// The wait before retry `retry` (1 for the first): the server's
/// `Retry-After` up to the cap, else `initial * 2^(retry-1)` up to the
/// maximum, jittered into its upper half.
fn backoff(tuning: &NotifierTuning, retry: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(after) = retry_after {
        return after.min(tuning.max_retry_after);
    }
    let exp = retry.saturating_sub(1).min(20);
    let base = tuning
        .initial_backoff
        .saturating_mul(1u32 << exp)
        .min(tuning.max_backoff);
    let base = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(base / 2..=base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_honours_retry_after_up_to_a_cap() {
        let t = NotifierTuning {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(5),
            ..NotifierTuning::default()
        };
        let first = backoff(&t, 1, None);
        assert!((50..=100).contains(&first.as_millis()), "{first:?}");
        let second = backoff(&t, 2, None);
        assert!((100..=200).contains(&second.as_millis()), "{second:?}");
        let late = backoff(&t, 30, None);
        assert!((175..=350).contains(&late.as_millis()), "{late:?}");
        assert_eq!(
            backoff(&t, 1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(&t, 1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error_not_a_panic() {
        let err = Notifier::start(&[], CancellationToken::new()).unwrap_err();
        assert_eq!(err.metric_label(), "no_runtime");
    }

    #[test]
    fn a_missing_secret_names_the_channel_and_field_but_no_value() {
        let config = crate::config::Config::parse(
            "notifications: [{ name: team-slack, slack: { url: { env: MORTAR_TEST_UNSET_SLACK_URL } }, on: [sync-failed] }]",
            std::path::Path::new("mortar.yaml"),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(async { Notifier::start(&config.notifications, CancellationToken::new()) })
            .unwrap_err();
        assert_eq!(err.metric_label(), "secret");
        assert!(
            err.to_string()
                .contains("notification `team-slack`: cannot read slack.url"),
            "{err}"
        );
    }
}
