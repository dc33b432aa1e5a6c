//! Where audit events go. The file log is the sink of record (it seals the
//! hash chain); further durable sinks (a second log) implement the same
//! trait and are fanned out to in order; shippers (stdout, stderr, a
//! webhook) then get the sealed record without holding up the caller.

use super::AuditError;
use super::record::{AuditEvent, AuditRecord};
use super::ship::AuditShipper;

/// A destination for audit events.
pub trait AuditSink: Send + Sync {
    /// A short name for errors and logs.
    fn name(&self) -> &str;

    /// Records one event durably before returning. Sinks that seal records
    /// into a chain return the sealed record.
    fn record(&self, event: &AuditEvent) -> Result<Option<AuditRecord>, AuditError>;
}

/// Several sinks behind one: every event goes to each in order; the first
/// failure stops the fan-out and is returned, so the caller does not make
/// an API call whose intent was not recorded. Once every sink has it, the
/// record sealed by the first sealing sink goes to each shipper.
#[derive(Default)]
pub struct Fanout {
    sinks: Vec<Box<dyn AuditSink>>,
    shippers: Vec<Box<dyn AuditShipper>>,
}

impl Fanout {
    pub fn new(sinks: Vec<Box<dyn AuditSink>>) -> Fanout {
        Fanout {
            sinks,
            shippers: Vec::new(),
        }
    }

    pub fn push(&mut self, sink: Box<dyn AuditSink>) {
        self.sinks.push(sink);
    }

    pub fn push_shipper(&mut self, shipper: Box<dyn AuditShipper>) {
        self.shippers.push(shipper);
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty() && self.shippers.is_empty()
    }
}

impl AuditSink for Fanout {
    fn name(&self) -> &str {
        "fanout"
    }

    fn record(&self, event: &AuditEvent) -> Result<Option<AuditRecord>, AuditError> {
        let mut sealed = None;
        for sink in &self.sinks {
            let record = sink.record(event).map_err(|err| AuditError::Sink {
                sink: sink.name().to_string(),
                source: Box::new(err),
            })?;
            sealed = sealed.or(record);
        }
        if let Some(record) = &sealed {
            for shipper in &self.shippers {
                shipper.ship(record);
            }
        }
        Ok(sealed)
    }
}
