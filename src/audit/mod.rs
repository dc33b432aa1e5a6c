//! The audit trail: a hash-chained, append-only JSON-lines log, its sinks and its verifier.
//!
//! Each line is one [`AuditRecord`]: a sequence number, an RFC 3339
//! timestamp, the previous record's hash, the [`AuditEvent`] (intent or
//! outcome of one API call: app, workspace, kind, key, Databricks id,
//! action, masked field changes, revision and author, the identity Mortar
//! acted as, who triggered it, outcome) and the record's own SHA-256.
//! [`AuditLog`] appends and fsyncs, then atomically replaces the `FILE.head`
//! sidecar so truncation is detectable; [`verify::verify_file`] names the
//! first bad record.

mod crash;
pub mod head;
pub mod history;
pub mod log;
pub mod reader;
pub mod record;
pub mod ship;
pub mod show;
pub mod sink;
pub mod verify;

use std::path::PathBuf;

pub use log::AuditLog;
pub use record::{
    AuditAction, AuditEvent, AuditRecord, ChangeSummary, Outcome, Phase, RecordHash, Requester,
    Trigger, person,
};
pub use ship::AuditShipper;
pub use sink::{AuditSink, Fanout};
pub use verify::{Problem, Verified, VerifyFailure, verify_file, verify_file_anchored};

/// What can go wrong writing or reading the audit trail.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialize an audit record")]
    Serialize(#[source] serde_json::Error),
    #[error("the audit log does not verify: {0}")]
    Broken(VerifyFailure),
    #[error(
        "audit log {}: record {seq} is beyond the head (seq {head_seq}) but is not what a crash \
         can leave ({reason}): it was appended outside Mortar; refusing to write to this log \
         (`mortar audit verify` names the record)",
        path.display()
    )]
    Tampered {
        path: PathBuf,
        seq: u64,
        head_seq: u64,
        reason: String,
        failure: VerifyFailure,
    },
    #[error("audit log {} is already open for writing in this process", path.display())]
    AlreadyOpen { path: PathBuf },
    #[error("audit log {}: an earlier write failed and could not be rolled back; reopen the log", path.display())]
    NeedsReopen { path: PathBuf },
    #[error("audit sink `{sink}`")]
    Sink {
        sink: String,
        #[source]
        source: Box<AuditError>,
    },
}

impl AuditError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            AuditError::Io { .. } => "io",
            AuditError::Serialize(_) => "serialize",
            AuditError::Broken(_) => "broken",
            AuditError::Tampered { .. } => "tampered",
            AuditError::AlreadyOpen { .. } => "already_open",
            AuditError::NeedsReopen { .. } => "needs_reopen",
            AuditError::Sink { source, .. } => source.metric_label(),
        }
    }
}
