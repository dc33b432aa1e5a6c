//! Shipping sealed audit records off the machine, for a cluster's log
//! pipeline or an audit service: one JSON line per record on stdout or
//! stderr, or a signed webhook. A shipper gets each record after the log of
//! record sealed it, so what it sends carries the sequence number and both
//! hashes: a receiver can check the chain and see a gap.
//!
//! Shipping never blocks or fails the change it records (the log of record
//! already holds it durably). The webhook posts from a thread of its own,
//! in order, one record at a time, signed with HMAC-SHA256 and retried with
//! backoff; its queue is bounded (when full, the oldest record is dropped,
//! counted and warned about), and on shutdown it gets a grace period to
//! send what is queued.

use std::io::Write as _;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::record::AuditRecord;
use crate::databricks::Secret;
use crate::outbound::{self, Backoff, Outbox, Post};

/// The header naming what a webhook body is, on every audit delivery.
pub const EVENT_HEADER: &str = "X-Mortar-Event";
/// Its value: one sealed audit record.
pub const EVENT_AUDIT_RECORD: &str = "audit-record";

/// A destination for sealed records that must not hold up the caller.
pub trait AuditShipper: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &str;

    /// Hands one sealed record over; returns at once.
    fn ship(&self, record: &AuditRecord);
}

/// Which standard stream a [`LineShipper`] writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Each sealed record as one JSON line on stdout or stderr.
pub struct LineShipper {
    stream: Stream,
}

impl LineShipper {
    pub fn new(stream: Stream) -> LineShipper {
        LineShipper { stream }
    }
}

impl AuditShipper for LineShipper {
    fn name(&self) -> &str {
        match self.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn ship(&self, record: &AuditRecord) {
        let Ok(mut line) = record.to_line() else {
            return;
        };
        line.push('\n');
        // One write per line, so lines from several threads never interleave.
        let _ = match self.stream {
            Stream::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
            Stream::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
        };
    }
}

/// How a [`WebhookShipper`] delivers.
#[derive(Debug, Clone)]
pub struct WebhookTuning {
    /// Records waiting; when full, the oldest is dropped.
    pub queue_capacity: usize,
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Attempts per record, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// How long shutdown waits for queued records to be sent.
    pub drain_grace: Duration,
}

impl Default for WebhookTuning {
    fn default() -> Self {
        WebhookTuning {
            queue_capacity: 10_000,
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            backoff: Backoff::default(),
            drain_grace: Duration::from_secs(5),
        }
    }
}

/// Where a [`WebhookShipper`] posts, and the key it signs with.
pub struct WebhookTarget {
    /// The URL (a secret: its path may be a token).
    pub url: Secret,
    /// `scheme://host:port`: what logs show of the URL.
    pub origin: String,
    pub key: Secret,
}

/// Posts every sealed record, signed, to one URL, from a thread of its own.
pub struct WebhookShipper {
    name: String,
    /// Records waiting: sequence number and line.
    outbox: Arc<Outbox<(u64, Vec<u8>)>>,
    closing: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

/// Why a webhook shipper could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("cannot build the audit webhook's HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("cannot start the audit webhook's thread")]
    Thread(#[source] std::io::Error),
}

impl WebhookShipper {
    /// Starts the sender thread (with its own small runtime, so records can
    /// be shipped from synchronous code and any runtime).
    pub fn start(
        name: &str,
        target: WebhookTarget,
        tuning: WebhookTuning,
    ) -> Result<WebhookShipper, ShipError> {
        let http = outbound::client().map_err(ShipError::Client)?;
        let outbox = Arc::new(Outbox::new(name, tuning.queue_capacity));
        let closing = CancellationToken::new();
        let sender = Sender {
            name: name.to_string(),
            outbox: Arc::clone(&outbox),
            target,
            tuning,
            http,
        };
        let stop = closing.clone();
        let thread = std::thread::Builder::new()
            .name("mortar-audit-webhook".into())
            .spawn(move || sender.run(stop))
            .map_err(ShipError::Thread)?;
        Ok(WebhookShipper {
            name: name.to_string(),
            outbox,
            closing,
            thread: Some(thread),
        })
    }
}

impl AuditShipper for WebhookShipper {
    fn name(&self) -> &str {
        &self.name
    }

    fn ship(&self, record: &AuditRecord) {
        if let Ok(line) = record.to_line() {
            self.outbox.push((record.seq, line.into_bytes()));
        }
    }
}

impl Drop for WebhookShipper {
    /// Sends what is queued, for up to the drain grace, then stops.
    fn drop(&mut self) {
        self.closing.cancel();
        self.outbox.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sender thread's half.
struct Sender {
    name: String,
    outbox: Arc<Outbox<(u64, Vec<u8>)>>,
    target: WebhookTarget,
    tuning: WebhookTuning,
    http: reqwest::Client,
}

impl Sender {
    fn run(self, closing: CancellationToken) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(err) => {
                tracing::error!(sink = %self.name, error = %err, "audit webhook cannot start its runtime; records are not shipped");
                return;
            }
        };
        let work = async {
            loop {
                self.send_queued().await;
                tokio::select! {
                    _ = closing.cancelled() => break,
                    _ = self.outbox.wait() => {}
                }
            }
            self.send_queued().await;
        };
        let grace_over = async {
            closing.cancelled().await;
            tokio::time::sleep(self.tuning.drain_grace).await;
        };
        runtime.block_on(async {
            tokio::select! {
                _ = work => {}
                _ = grace_over => {
                    tracing::warn!(
                        sink = %self.name,
                        queued = self.outbox.len(),
                        "audit webhook: shutdown grace over with records unsent (the log of record keeps them)"
                    );
                }
            }
        });
    }

    /// Sends records until the queue is empty.
    async fn send_queued(&self) {
        while let Some((seq, body)) = self.outbox.pop() {
            let delivery = outbound::delivery_id();
            let seq_text = seq.to_string();
            let sent = outbound::post(
                &self.http,
                &self.tuning.backoff,
                Post {
                    url: &self.target.url,
                    origin: &self.target.origin,
                    key: Some(&self.target.key),
                    delivery: &delivery,
                    headers: &[
                        (EVENT_HEADER, EVENT_AUDIT_RECORD),
                        ("X-Mortar-Audit-Seq", &seq_text),
                    ],
                    body: &body,
                    timeout: self.tuning.timeout,
                    attempts: self.tuning.max_attempts,
                    sender: &self.name,
                },
            )
            .await;
            match sent {
                Ok(_) => self.outbox.count(true),
                Err(gave_up) => {
                    self.outbox.count(false);
                    tracing::warn!(
                        sink = %self.name,
                        target = %self.target.origin,
                        seq,
                        attempts = gave_up.attempts,
                        reason = %gave_up.reason,
                        "audit webhook: giving up on a record (the log of record keeps it)"
                    );
                }
            }
        }
    }
}
