//! What is sent for one event: a Slack-compatible `{"text": …}` with a
//! short mrkdwn summary, or Mortar's generic JSON body signed with
//! HMAC-SHA256 (`X-Mortar-Signature: sha256=<hex>`).

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::events::Event;

/// The header carrying the body's HMAC-SHA256, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Mortar-Signature";
/// The header naming the event kind (`sync-failed`, …).
pub const EVENT_HEADER: &str = "X-Mortar-Event";
/// The header carrying the delivery id (the same on every retry of one delivery).
pub const DELIVERY_HEADER: &str = "X-Mortar-Delivery";

/// The generic webhook body.
#[derive(Debug, Serialize)]
pub struct GenericBody<'a> {
    /// The delivery id, as in `X-Mortar-Delivery`.
    pub id: &'a str,
    /// The notification channel's name.
    pub notification: &'a str,
    pub event: &'static str,
    pub app: &'a str,
    pub revision: Option<&'a str>,
    pub message: &'a str,
    pub at: String,
}

/// The generic body's bytes.
pub fn generic(
    event: &Event,
    message: &str,
    notification: &str,
    delivery: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&GenericBody {
        id: delivery,
        notification,
        event: event.kind.label(),
        app: &event.app,
        revision: event.revision.as_deref(),
        message,
        at: event.at.to_string(),
    })
}

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

/// Slack's three escapes for text it would otherwise read as markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn emoji(event: &Event) -> &'static str {
    use crate::config::EventKind as K;
    match event.kind {
        K::SyncFailed => ":x:",
        K::SyncSucceeded => ":white_check_mark:",
        K::DriftDetected => ":warning:",
        K::DriftHealed => ":adhesive_bandage:",
        K::RevisionRefused => ":no_entry:",
        K::AppDegraded => ":red_circle:",
        K::AppRecovered => ":large_green_circle:",
    }
}

/// The Slack body: `{"text": "<emoji> *<event>* `app` at `rev`\n<message>"}`.
pub fn slack(event: &Event, message: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = format!(
        "{} *{}* `{}`",
        emoji(event),
        event.kind.label(),
        escape(&event.app).replace('`', "'")
    );
    if let Some(rev) = &event.revision {
        text.push_str(&format!(" at `{}`", escape(rev.get(..12).unwrap_or(rev))));
    }
    text.push('\n');
    text.push_str(&escape(message));
    serde_json::to_vec(&serde_json::json!({ "text": text }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EventKind;

    fn event() -> Event {
        Event {
            kind: EventKind::SyncFailed,
            app: "analytics".into(),
            revision: Some("0123456789abcdef0123".into()),
            message: "analytics: sync failed <here> & there".into(),
            at: "2026-12-02T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn slack_text_is_escaped_mrkdwn() {
        let e = event();
        let body: serde_json::Value =
            serde_json::from_slice(&slack(&e, &e.message).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "text": ":x: *sync-failed* `analytics` at `0123456789ab`\nanalytics: sync failed &lt;here&gt; &amp; there"
            })
        );
    }

    #[test]
    fn generic_body_and_signature() {
        let e = event();
        let body = generic(&e, &e.message, "pager", "d-1").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["event"], "sync-failed");
        assert_eq!(v["id"], "d-1");
        assert_eq!(v["notification"], "pager");
        assert_eq!(v["at"], "2026-12-02T10:00:00Z");
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = signature(b"k", &body);
        assert!(verify_signature(b"k", &body, &sig));
        assert!(!verify_signature(b"other", &body, &sig));
        assert!(!verify_signature(b"k", b"{}", &sig));
        assert!(!verify_signature(b"k", &body, "sha1=00"));
    }
}
