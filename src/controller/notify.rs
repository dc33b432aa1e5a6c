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

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::{EventReason, EventSink};
use crate::config::{EventKind, NotificationConfig, ValueRef};
use crate::databricks::auth::{AuthError, read_secret};
use crate::databricks::{Secret, redact};
use crate::outbound::{self, Backoff, DeliveryStats, Outbox, Post, UrlError};

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
    pub backoff: Backoff,
}

impl Default for NotifierTuning {
    fn default() -> Self {
        NotifierTuning {
            queue_capacity: 256,
            backoff: Backoff::default(),
        }
    }
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
    outbox: Outbox<Event>,
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
        let http = outbound::client().map_err(NotifyError::Client)?;
        let mut channels = Vec::new();
        for n in config {
            let (target, origin) = open_target(n)?;
            channels.push(Arc::new(Channel {
                config: n.clone(),
                target,
                origin,
                outbox: Outbox::new(&n.name, tuning.queue_capacity),
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
            for event in events
                .iter()
                .filter(|e| channel.config.wants(e.kind, &e.app))
            {
                channel.outbox.push(event.clone());
            }
        }
    }

    /// Counts since start, over every channel.
    pub fn stats(&self) -> DeliveryStats {
        let mut out = DeliveryStats::default();
        for (_, s) in self.stats_by_channel() {
            out.delivered += s.delivered;
            out.failed += s.failed;
            out.dropped += s.dropped;
        }
        out
    }

    /// Counts since start, per channel (by name, in config order).
    pub fn stats_by_channel(&self) -> Vec<(String, DeliveryStats)> {
        self.channels
            .iter()
            .map(|c| (c.config.name.clone(), c.outbox.stats()))
            .collect()
    }
}

/// Reads a channel's URL (and key) and checks the URL.
fn open_target(n: &NotificationConfig) -> Result<(Target, String), NotifyError> {
    let secret = |source: AuthError, field: &'static str| NotifyError::Secret {
        notification: n.name.clone(),
        field,
        source: Box::new(source),
    };
    let url = |v: &ValueRef, field: &'static str| {
        outbound::open_url(v, field, n.allow_insecure_http).map_err(|e| match e {
            UrlError::Read(source) => secret(source, field),
            UrlError::Invalid(message) => NotifyError::Url {
                notification: n.name.clone(),
                field,
                message,
            },
        })
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
                .map(|r| read_secret(r, "webhook.secret").map_err(|e| secret(e, "webhook.secret")))
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

impl Channel {
    async fn run(&self, http: reqwest::Client, tuning: NotifierTuning, cancel: CancellationToken) {
        loop {
            match self.outbox.pop() {
                Some(event) => {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.deliver(&http, &tuning, event) => {}
                    }
                }
                None => {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.outbox.wait() => {}
                    }
                }
            }
        }
    }

    /// Posts one event, retrying what is worth retrying.
    async fn deliver(&self, http: &reqwest::Client, tuning: &NotifierTuning, event: Event) {
        let id = outbound::delivery_id();
        // Messages never hold a secret; a loaded secret is masked anyway.
        let message = redact::redact(&event.message).into_owned();
        let built = match &self.target {
            Target::Slack { .. } => body::slack(&event, &message),
            Target::Webhook { .. } => body::generic(&event, &message, &self.config.name, &id),
        };
        let body = match built {
            Ok(b) => b,
            Err(err) => {
                self.outbox.count(false);
                tracing::warn!(notification = %self.config.name, error = %err, "cannot encode a notification");
                return;
            }
        };
        let (url, key) = match &self.target {
            Target::Slack { url } => (url, None),
            Target::Webhook { url, key } => (url, key.as_ref()),
        };
        let delivered = outbound::post(
            http,
            &tuning.backoff,
            Post {
                url,
                origin: &self.origin,
                key,
                delivery: &id,
                headers: &[(body::EVENT_HEADER, event.kind.label())],
                body: &body,
                timeout: Duration::from_secs(self.config.timeout_secs),
                attempts: self.config.max_attempts,
                sender: &self.config.name,
            },
        )
        .await;
        match delivered {
            Ok(attempt) => {
                self.outbox.count(true);
                tracing::debug!(
                    notification = %self.config.name,
                    event = event.kind.label(),
                    app = %event.app,
                    attempt,
                    "notification delivered"
                );
            }
            Err(gave_up) => {
                self.outbox.count(false);
                tracing::warn!(
                    notification = %self.config.name,
                    target = %self.origin,
                    event = event.kind.label(),
                    app = %event.app,
                    attempts = gave_up.attempts,
                    reason = %gave_up.reason,
                    "giving up on a notification"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
