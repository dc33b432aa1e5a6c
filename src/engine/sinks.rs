//! The audit sinks the config names: the log of record, then any further
//! files and stderr.

use crate::audit::{AuditError, AuditEvent, AuditLog, AuditRecord, AuditSink, Fanout};
use crate::config::{AuditSinkConfig, Config};

/// Each record also as one JSON line on stderr (for a log collector).
struct StderrSink;

impl AuditSink for StderrSink {
    fn name(&self) -> &str {
        "stderr"
    }
    fn record(&self, event: &AuditEvent) -> Result<Option<AuditRecord>, AuditError> {
        let line = serde_json::to_string(event).map_err(AuditError::Serialize)?;
        eprintln!("{line}");
        Ok(None)
    }
}

/// Opens every sink (each file log verified on opening).
pub fn open(config: &Config) -> Result<Fanout, AuditError> {
    let mut fan = Fanout::default();
    fan.push(Box::new(AuditLog::open(config.audit_file())?));
    for sink in &config.audit.sinks {
        match sink {
            AuditSinkConfig::File(path) => fan.push(Box::new(AuditLog::open(path)?)),
            AuditSinkConfig::Stderr => fan.push(Box::new(StderrSink)),
        }
    }
    Ok(fan)
}
