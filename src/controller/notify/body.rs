//! What is sent for one event: a Slack-compatible `{"text": …}` with a
//! short mrkdwn summary, or Mortar's generic JSON body (signed on the way
//! out, see [`crate::outbound`]).

use serde::Serialize;

use super::events::Event;

/// The header naming the event kind (`sync-failed`, …).
pub const EVENT_HEADER: &str = "X-Mortar-Event";

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
    fn generic_body() {
        let e = event();
        let body = generic(&e, &e.message, "pager", "d-1").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["event"], "sync-failed");
        assert_eq!(v["id"], "d-1");
        assert_eq!(v["notification"], "pager");
        assert_eq!(v["at"], "2026-12-02T10:00:00Z");
    }
}
