//! The `notifications:` section of `mortar.yaml`: where the controller
//! tells people that an app changed state (a Slack incoming webhook or a
//! generic signed JSON webhook), for which events and which apps.
//!
//! ```yaml
//! notifications:
//!   - name: team-slack
//!     slack: { url: { file: /etc/mortar/slack-url } }   # the URL is a secret
//!     on: [sync-failed, drift-detected, drift-healed, revision-refused, app-degraded]
//!     apps: ["analytics-*"]
//!   - name: pager
//!     webhook: { url: https://hooks.example.com/mortar, secret: { env: HOOK_SECRET } }
//!     on: [sync-failed]
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Config, SecretRef, ValueRef};
use crate::config::is_loopback_host;

/// What a notification can be sent for: a change of an app's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A sync failed (once per failure, not once per retry of it).
    SyncFailed,
    /// A sync succeeded after a failure, or changed something.
    SyncSucceeded,
    /// Live state drifted from Git.
    DriftDetected,
    /// The drift is gone (healed by a sync, or put back by hand).
    DriftHealed,
    /// The source's head was refused (unsigned, untrusted key, or unreachable).
    RevisionRefused,
    /// The app became Degraded, Blocked or Error.
    AppDegraded,
    /// The app became Healthy again.
    AppRecovered,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::SyncFailed,
        EventKind::SyncSucceeded,
        EventKind::DriftDetected,
        EventKind::DriftHealed,
        EventKind::RevisionRefused,
        EventKind::AppDegraded,
        EventKind::AppRecovered,
    ];

    /// The name as written in `on:` (and sent in `X-Mortar-Event`).
    pub fn label(self) -> &'static str {
        match self {
            EventKind::SyncFailed => "sync-failed",
            EventKind::SyncSucceeded => "sync-succeeded",
            EventKind::DriftDetected => "drift-detected",
            EventKind::DriftHealed => "drift-healed",
            EventKind::RevisionRefused => "revision-refused",
            EventKind::AppDegraded => "app-degraded",
            EventKind::AppRecovered => "app-recovered",
        }
    }
}

/// One notification channel.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationConfig {
    /// Names the channel in logs and in the generic body.
    pub name: String,
    /// A Slack (or Slack-compatible) incoming webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackTarget>,
    /// A generic JSON webhook, signed when `secret` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTarget>,
    /// The events sent to this channel.
    pub on: Vec<EventKind>,
    /// Only apps whose name matches one of these globs (`*`, `?`); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// Time allowed for one request, in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Attempts per event, the first included (5xx, 429 and connection
    /// errors are retried with backoff; other answers are final).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Allow plain `http://` to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_timeout_secs() -> u64 {
    10
}

fn default_max_attempts() -> u32 {
    4
}

/// A Slack incoming webhook: the URL itself is the credential, so it is
/// only ever read from a file or an environment variable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackTarget {
    pub url: ValueRef,
}

/// A generic webhook: a URL (inline or a reference) and an optional HMAC key.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: ValueRef,
    /// The key of the `X-Mortar-Signature` HMAC-SHA256 over the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
}

impl NotificationConfig {
    /// Whether `app` passes the `apps` filter.
    pub fn wants_app(&self, app: &str) -> bool {
        self.apps.is_empty() || self.apps.iter().any(|g| glob_match(g, app))
    }

    /// Whether events of `kind` for `app` go to this channel.
    pub fn wants(&self, kind: EventKind, app: &str) -> bool {
        self.on.contains(&kind) && self.wants_app(app)
    }
}

/// `*` matches any run of characters, `?` one character; the rest literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Checks a notification URL: http(s) with a host, no credentials in the
/// authority, plain http only to loopback unless allowed. The message
/// shows the origin only (a URL's path may be its secret).
pub fn check_notification_url(raw: &str, allow_insecure_http: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
    let host = url
        .host_str()
        .ok_or_else(|| "the URL has no host".to_string())?
        .to_string();
    let origin = url.origin().ascii_serialization();
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback_host(&host) => {}
        "http" => {
            return Err(format!(
                "{origin} uses plain http to a non-loopback host (use https, or set allow_insecure_http: true)"
            ));
        }
        other => return Err(format!("scheme `{other}` is not http or https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{origin}: credentials do not belong in the URL"));
    }
    Ok(url)
}

impl Config {
    /// Every secret reference the notifications read (URLs given by
    /// reference and HMAC keys), so no team's secret scope may read them.
    pub fn notification_secret_refs(&self) -> Vec<&SecretRef> {
        let mut out = Vec::new();
        for n in &self.notifications {
            if let Some(s) = &n.slack
                && let ValueRef::Ref(r) = &s.url
            {
                out.push(r);
            }
            if let Some(w) = &n.webhook {
                if let ValueRef::Ref(r) = &w.url {
                    out.push(r);
                }
                if let Some(r) = &w.secret {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Makes relative secret file paths relative to `dir`.
    pub(super) fn resolve_notification_paths(&mut self, dir: &Path) {
        let fix = |r: &mut SecretRef| {
            if let SecretRef::File(p) = r
                && p.is_relative()
            {
                *p = dir.join(&*p);
            }
        };
        let fix_value = |v: &mut ValueRef| {
            if let ValueRef::Ref(r) = v {
                fix(r);
            }
        };
        for n in &mut self.notifications {
            if let Some(s) = &mut n.slack {
                fix_value(&mut s.url);
            }
            if let Some(w) = &mut n.webhook {
                fix_value(&mut w.url);
                if let Some(r) = &mut w.secret {
                    fix(r);
                }
            }
        }
    }

    /// Checks the `notifications` section. Returns `(field, message)`.
    pub(super) fn validate_notifications(&self) -> Result<(), (String, String)> {
        let mut names = BTreeSet::new();
        for (i, n) in self.notifications.iter().enumerate() {
            let at = format!("notifications[{i}]");
            let valid_name = !n.name.is_empty()
                && n.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid_name {
                return Err((
                    format!("{at}.name"),
                    "names use letters, digits, `-`, `_` and `.`".into(),
                ));
            }
            if !names.insert(n.name.as_str()) {
                return Err((
                    format!("{at}.name"),
                    format!("`{}` is used by an earlier notification", n.name),
                ));
            }
            let check_ref = |r: &SecretRef, field: String| match r {
                SecretRef::File(p) if p.as_os_str().is_empty() => {
                    Err((format!("{field}.file"), "empty path".to_string()))
                }
                SecretRef::Env(v) if v.is_empty() => {
                    Err((format!("{field}.env"), "empty variable name".to_string()))
                }
                _ => Ok(()),
            };
            match (&n.slack, &n.webhook) {
                (Some(_), Some(_)) => {
                    return Err((at, "give either `slack` or `webhook`, not both".into()));
                }
                (None, None) => {
                    return Err((
                        at,
                        "needs `slack: { url: … }` or `webhook: { url: … }`".into(),
                    ));
                }
                (Some(slack), None) => match &slack.url {
                    ValueRef::Literal(_) => {
                        return Err((
                            format!("{at}.slack.url"),
                            "a Slack incoming-webhook URL is a secret: give `{file: PATH}` or `{env: NAME}`, not the URL itself".into(),
                        ));
                    }
                    ValueRef::Ref(r) => check_ref(r, format!("{at}.slack.url"))?,
                },
                (None, Some(hook)) => {
                    match &hook.url {
                        ValueRef::Literal(u) => check_notification_url(u, n.allow_insecure_http)
                            .map(|_| ())
                            .map_err(|m| (format!("{at}.webhook.url"), m))?,
                        ValueRef::Ref(r) => check_ref(r, format!("{at}.webhook.url"))?,
                    }
                    if let Some(r) = &hook.secret {
                        check_ref(r, format!("{at}.webhook.secret"))?;
                    }
                }
            }
            if n.on.is_empty() {
                let all: Vec<&str> = EventKind::ALL.iter().map(|k| k.label()).collect();
                return Err((
                    format!("{at}.on"),
                    format!("name at least one event: {}", all.join(", ")),
                ));
            }
            if let Some(j) = n.apps.iter().position(|g| g.trim().is_empty()) {
                return Err((format!("{at}.apps[{j}]"), "empty pattern".into()));
            }
            if !(1..=300).contains(&n.timeout_secs) {
                return Err((
                    format!("{at}.timeout_secs"),
                    "must be between 1 and 300".into(),
                ));
            }
            if !(1..=10).contains(&n.max_attempts) {
                return Err((
                    format!("{at}.max_attempts"),
                    "must be between 1 and 10".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("mortar.yaml"))
    }

    #[test]
    fn reads_slack_and_webhook_channels() {
        let config = parse(
            r#"
notifications:
  - name: team-slack
    slack: { url: { file: /etc/mortar/slack-url } }
    on: [sync-failed, drift-detected, drift-healed, revision-refused, app-degraded]
    apps: ["analytics-*"]
  - name: pager
    webhook: { url: https://hooks.example.com/mortar, secret: { env: HOOK_SECRET } }
    on: [sync-failed]
    timeout_secs: 3
"#,
        )
        .unwrap();
        let [slack, pager] = &config.notifications[..] else {
            panic!("two channels")
        };
        assert_eq!(
            slack.slack.as_ref().unwrap().url,
            ValueRef::Ref(SecretRef::File("/etc/mortar/slack-url".into()))
        );
        assert_eq!(slack.on.len(), 5);
        assert!(slack.wants(EventKind::SyncFailed, "analytics-prod"));
        assert!(!slack.wants(EventKind::SyncFailed, "platform"));
        assert!(!slack.wants(EventKind::AppRecovered, "analytics-prod"));
        assert_eq!(pager.timeout_secs, 3);
        assert_eq!(pager.max_attempts, 4);
        assert!(pager.wants(EventKind::SyncFailed, "anything"));
        let creds = config.controller_credentials();
        assert!(creds.env.contains("HOOK_SECRET"));
        assert!(creds.files.contains(Path::new("/etc/mortar/slack-url")));
    }

    #[test]
    fn mistakes_name_the_field() {
        for (text, field, message) in [
            (
                "notifications: [{ name: s, slack: { url: https://hooks.slack.com/services/T/B/x }, on: [sync-failed] }]",
                "notifications[0].slack.url",
                "is a secret",
            ),
            (
                "notifications: [{ name: w, webhook: { url: http://hooks.example.com/x }, on: [sync-failed] }]",
                "notifications[0].webhook.url",
                "plain http",
            ),
            (
                "notifications: [{ name: w, webhook: { url: https://x.example }, on: [] }]",
                "notifications[0].on",
                "at least one",
            ),
            (
                "notifications: [{ name: w, on: [sync-failed] }]",
                "notifications[0]",
                "needs",
            ),
            (
                "notifications: [{ name: w, webhook: { url: https://x.example }, on: [sync-failed] }, { name: w, webhook: { url: https://y.example }, on: [sync-failed] }]",
                "notifications[1].name",
                "earlier",
            ),
            (
                "notifications: [{ name: w, webhook: { url: https://x.example }, on: [sync-failed], timeout_secs: 0 }]",
                "notifications[0].timeout_secs",
                "between",
            ),
        ] {
            match parse(text) {
                Err(ConfigError::Invalid {
                    field: f,
                    message: m,
                    ..
                }) => {
                    assert_eq!(f, field, "{text}");
                    assert!(m.contains(message), "{text}: {m}");
                }
                other => panic!("{text}: expected an invalid field, got {other:?}"),
            }
        }
        let err = parse(
            "notifications: [{ name: w, webhook: { url: https://x.example }, on: [sync-faild] }]",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    }

    #[test]
    fn relative_secret_files_follow_the_config_file() {
        let mut config = parse(
            "notifications: [{ name: w, webhook: { url: { file: url }, secret: { file: key } }, on: [sync-failed] }]",
        )
        .unwrap();
        config.resolve_paths(Path::new("/etc/mortar"));
        let hook = config.notifications[0].webhook.as_ref().unwrap();
        assert_eq!(
            hook.url,
            ValueRef::Ref(SecretRef::File("/etc/mortar/url".into()))
        );
        assert_eq!(hook.secret, Some(SecretRef::File("/etc/mortar/key".into())));
    }

    #[test]
    fn globs() {
        assert!(glob_match("analytics-*", "analytics-prod"));
        assert!(glob_match("analytics-*", "analytics-"));
        assert!(!glob_match("analytics-*", "analytics"));
        assert!(glob_match("*-prod", "team-a-prod"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
        assert!(!glob_match("a*b*c", "a-x-b-y"));
        assert!(glob_match("exact", "exact"));
    }
}
