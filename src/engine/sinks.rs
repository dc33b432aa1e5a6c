//! The audit sinks the config names: the log of record, then any further
//! logs, then the shippers (stdout, stderr, signed webhooks).

use std::time::Duration;

use crate::audit::ship::{LineShipper, Stream, WebhookShipper, WebhookTarget, WebhookTuning};
use crate::audit::{AuditLog, Fanout};
use crate::config::{AuditSinkConfig, AuditWebhookConfig, Config};
use crate::databricks::auth::read_secret;
use crate::outbound::{UrlError, open_url};

use super::EngineError;

/// Opens every sink (each file log verified on opening) and starts every
/// shipper (each webhook's URL and key read now).
pub fn open(config: &Config) -> Result<Fanout, EngineError> {
    let mut fan = Fanout::default();
    fan.push(Box::new(AuditLog::open(config.audit_file())?));
    for (i, sink) in config.audit.sinks.iter().enumerate() {
        match sink {
            AuditSinkConfig::File(path) => fan.push(Box::new(AuditLog::open(path)?)),
            AuditSinkConfig::Stderr => fan.push_shipper(Box::new(LineShipper::new(Stream::Stderr))),
            AuditSinkConfig::Stdout => fan.push_shipper(Box::new(LineShipper::new(Stream::Stdout))),
            AuditSinkConfig::Webhook(hook) => {
                let field = format!("audit.sinks[{i}].webhook");
                fan.push_shipper(Box::new(start_webhook(&field, hook)?));
            }
        }
    }
    Ok(fan)
}

fn start_webhook(field: &str, hook: &AuditWebhookConfig) -> Result<WebhookShipper, EngineError> {
    let (url, origin) =
        open_url(&hook.url, "url", hook.allow_insecure_http).map_err(|e| match e {
            UrlError::Read(source) => EngineError::AuditWebhookSecret {
                field: field.to_string(),
                what: "url",
                source: Box::new(source),
            },
            UrlError::Invalid(reason) => EngineError::AuditWebhookUrl {
                field: format!("{field}.url"),
                reason,
            },
        })?;
    let key =
        read_secret(&hook.secret, "secret").map_err(|source| EngineError::AuditWebhookSecret {
            field: field.to_string(),
            what: "secret",
            source: Box::new(source),
        })?;
    let tuning = WebhookTuning {
        queue_capacity: hook.queue,
        timeout: Duration::from_secs(hook.timeout_secs),
        max_attempts: hook.max_attempts,
        ..WebhookTuning::default()
    };
    WebhookShipper::start(field, WebhookTarget { url, origin, key }, tuning).map_err(|source| {
        EngineError::AuditWebhookStart {
            field: field.to_string(),
            source,
        }
    })
}
