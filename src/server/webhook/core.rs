//! What every webhook provider shares, all pure: the [`Push`] a delivery
//! turns into, the [`WebhookError`] it may fail with, signature and token
//! checks in constant time, repository URL normalisation and reference
//! matching against the watched source, and the bounded window of delivery
//! ids already seen.

use std::collections::{HashSet, VecDeque};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::databricks::Secret;

/// A Git hosting service that sends webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
    Gitea,
    Bitbucket,
    /// Any sender that signs a small Mortar-defined JSON body.
    Generic,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Github,
        Provider::Gitlab,
        Provider::Gitea,
        Provider::Bitbucket,
        Provider::Generic,
    ];

    /// The route segment and metric label.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Gitea => "gitea",
            Provider::Bitbucket => "bitbucket",
            Provider::Generic => "generic",
        }
    }

    pub fn from_label(label: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.label() == label)
    }
}

/// An authenticated push: the controller fetches when one arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Push {
    pub provider: Provider,
    /// Every URL the payload gives for the repository (web, HTTPS and SSH clone).
    pub repository_urls: Vec<String>,
    /// The full reference pushed, e.g. `refs/heads/main`.
    pub reference: String,
    /// The commit the reference points at after the push.
    pub after: Option<String>,
    /// The provider's delivery id, when it sends one.
    pub delivery: Option<String>,
}

/// Why a delivery is not a push the controller acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the {header} header is missing")]
    MissingSignature { header: &'static str },
    #[error("the {header} header does not match the body")]
    BadSignature { header: &'static str },
    #[error("the body is not the expected JSON: {message}")]
    Malformed { message: String },
    /// An authenticated delivery of another event (a ping, an issue comment).
    #[error("event `{event}` is not a push")]
    NotAPush { event: String },
}

impl WebhookError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            WebhookError::MissingSignature { .. } => "missing_signature",
            WebhookError::BadSignature { .. } => "bad_signature",
            WebhookError::Malformed { .. } => "malformed",
            WebhookError::NotAPush { .. } => "not_a_push",
        }
    }

    /// Whether the sender failed to prove it knows the secret.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            WebhookError::MissingSignature { .. } | WebhookError::BadSignature { .. }
        )
    }
}

/// How one delivery was handled, for metrics (a fixed list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryResult {
    /// A push of the watched source: a fetch was triggered (or is pending).
    Accepted,
    /// Authenticated, but another repository, branch or event.
    Ignored,
    /// A delivery id seen before.
    Duplicate,
    /// Missing or wrong signature or token.
    Unauthorized,
    /// The body is larger than `server.max_body_bytes`.
    TooLarge,
    /// The body is not the provider's JSON.
    Malformed,
    /// The controller no longer takes triggers (it is shutting down).
    Unavailable,
}

impl DeliveryResult {
    pub const ALL: [DeliveryResult; 7] = [
        DeliveryResult::Accepted,
        DeliveryResult::Ignored,
        DeliveryResult::Duplicate,
        DeliveryResult::Unauthorized,
        DeliveryResult::TooLarge,
        DeliveryResult::Malformed,
        DeliveryResult::Unavailable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DeliveryResult::Accepted => "accepted",
            DeliveryResult::Ignored => "ignored",
            DeliveryResult::Duplicate => "duplicate",
            DeliveryResult::Unauthorized => "unauthorized",
            DeliveryResult::TooLarge => "too_large",
            DeliveryResult::Malformed => "malformed",
            DeliveryResult::Unavailable => "unavailable",
        }
    }
}

/// The longest delivery id kept; longer ones are cut (ids are UUIDs).
const MAX_DELIVERY_ID: usize = 128;

/// A header's value as text, if present and printable.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The delivery id from `name`, cut to a bounded length; `None` when absent or empty.
pub fn delivery_id(headers: &HeaderMap, name: &str) -> Option<String> {
    let id = header(headers, name)?;
    if id.is_empty() {
        return None;
    }
    Some(id.chars().take(MAX_DELIVERY_ID).collect())
}

/// Checks a hex HMAC-SHA256 of `body` under `secret`, in constant time.
pub fn verify_hmac_hex(
    secret: &Secret,
    body: &[u8],
    signature_hex: &str,
    header: &'static str,
) -> Result<(), WebhookError> {
    let bad = WebhookError::BadSignature { header };
    let signature = hex::decode(signature_hex.trim()).map_err(|_| bad.clone())?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|_| bad.clone())?;
    mac.update(body);
    mac.verify_slice(&signature).map_err(|_| bad)
}

/// Checks a `sha256=<hex>` signature header (GitHub, Bitbucket, generic).
pub fn verify_prefixed_signature(
    headers: &HeaderMap,
    header_name: &'static str,
    secret: &Secret,
    body: &[u8],
) -> Result<(), WebhookError> {
    let value = header(headers, header_name).ok_or(WebhookError::MissingSignature {
        header: header_name,
    })?;
    let Some(hex) = value.strip_prefix("sha256=") else {
        return Err(WebhookError::BadSignature {
            header: header_name,
        });
    };
    verify_hmac_hex(secret, body, hex, header_name)
}

/// Compares a shared token in constant time (lengths included: both sides
/// are hashed first).
pub fn verify_token(
    headers: &HeaderMap,
    header_name: &'static str,
    expected: &Secret,
) -> Result<(), WebhookError> {
    let given = header(headers, header_name).ok_or(WebhookError::MissingSignature {
        header: header_name,
    })?;
    let a = Sha256::digest(expected.expose().as_bytes());
    let b = Sha256::digest(given.as_bytes());
    if bool::from(a.ct_eq(&b)) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature {
            header: header_name,
        })
    }
}

/// Parses a JSON body; the error message is cut short.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed {
        message: e.to_string().chars().take(200).collect(),
    })
}

/// A repository URL reduced to `host/path`: scheme, user, port, `.git`,
/// trailing slashes and host case dropped, so the HTTPS and SSH forms of one
/// repository compare equal (`https://GitHub.com/org/repo.git/`,
/// `git@github.com:org/repo`, `ssh://git@github.com:22/org/repo.git` all
/// give `github.com/org/repo`). A local path is kept as written, less the
/// trailing slash and `.git`.
pub fn normalize_repo_url(url: &str) -> String {
    let url = url.trim();
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        (Some(host_of(authority)), path)
    } else if let Some((authority, path)) = scp_like(url) {
        (Some(host_of(authority)), path)
    } else {
        (None, url)
    };
    let mut path = path.trim_end_matches('/');
    if let Some(p) = path.strip_suffix(".git") {
        path = p.trim_end_matches('/');
    }
    match host {
        Some(host) => format!("{host}/{}", path.trim_start_matches('/')),
        None => path.to_string(),
    }
}

/// `user@host:path` (the SCP-like SSH form): a colon before any slash.
fn scp_like(url: &str) -> Option<(&str, &str)> {
    // A bracketed IPv6 host holds colons of its own.
    let from = match (url.find('['), url.find(']')) {
        (Some(open), Some(close)) if open < close => close,
        _ => 0,
    };
    let colon = from + url[from..].find(':')?;
    let slash = url.find('/').unwrap_or(usize::MAX);
    (colon < slash && colon > 0).then(|| (&url[..colon], &url[colon + 1..]))
}

/// The lower-cased host of an authority, without user or port.
fn host_of(authority: &str) -> String {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    host.to_ascii_lowercase()
}

/// Whether any of `urls` names the repository `watched`.
pub fn repository_matches(watched: &str, urls: &[String]) -> bool {
    let watched = normalize_repo_url(watched);
    !watched.is_empty() && urls.iter().any(|u| normalize_repo_url(u) == watched)
}

/// Whether a push of `pushed` (a full reference) moves the watched reference
/// (`main`, `refs/heads/main`, `v1.2`, or `HEAD` for the default branch,
/// which any branch push may have moved). A commit SHA never moves.
pub fn reference_matches(watched: &str, pushed: &str) -> bool {
    let watched = watched.trim();
    if watched.is_empty() || watched == "HEAD" {
        return pushed.starts_with("refs/heads/");
    }
    if watched.starts_with("refs/") {
        return pushed == watched;
    }
    pushed == watched
        || pushed.strip_prefix("refs/heads/") == Some(watched)
        || pushed.strip_prefix("refs/tags/") == Some(watched)
}

/// The last `capacity` delivery ids, per provider: a redelivery within the
/// window is reported, not acted on twice.
#[derive(Debug)]
pub struct DeliveryWindow {
    capacity: usize,
    order: VecDeque<(Provider, String)>,
    seen: HashSet<(Provider, String)>,
}

/// How many delivery ids the server remembers.
pub const DELIVERY_WINDOW: usize = 4096;

impl DeliveryWindow {
    pub fn new(capacity: usize) -> DeliveryWindow {
        DeliveryWindow {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// Records `id`; false when it was already in the window.
    pub fn first_time(&mut self, provider: Provider, id: &str) -> bool {
        let key = (provider, id.to_string());
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.order.push_back(key.clone());
        self.seen.insert(key);
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `sha256=<hex>` of `body` under `secret`, as the providers compute it.
    pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn https_ssh_and_scp_forms_of_one_repository_are_equal() {
        let forms = [
            "https://github.com/acme/platform",
            "https://GitHub.com/acme/platform.git",
            "https://github.com/acme/platform/",
            "https://user:pw@github.com:443/acme/platform.git/",
            "git@github.com:acme/platform.git",
            "ssh://git@github.com/acme/platform.git",
            "ssh://git@GITHUB.COM:22/acme/platform",
            "git://github.com/acme/platform.git",
            "http://github.com/acme/platform",
        ];
        for form in forms {
            assert_eq!(
                normalize_repo_url(form),
                "github.com/acme/platform",
                "{form}"
            );
        }
        assert_eq!(normalize_repo_url("git@[::1]:acme/x.git"), "::1/acme/x");
        assert_eq!(
            normalize_repo_url("/srv/git/platform.git/"),
            "/srv/git/platform"
        );
        assert!(repository_matches(
            "git@github.com:acme/platform.git",
            &[
                "https://example.org/x".into(),
                "https://github.com/acme/platform".into()
            ]
        ));
        // The path keeps its case, and another owner is another repository.
        assert!(!repository_matches(
            "https://github.com/acme/platform",
            &["https://github.com/acme/Platform".into()]
        ));
        assert!(!repository_matches(
            "https://github.com/acme/platform",
            &["https://github.com/evil/platform".into()]
        ));
        assert!(!repository_matches("", &["".into()]));
    }

    #[test]
    fn references_match_by_branch_tag_or_default() {
        assert!(reference_matches("main", "refs/heads/main"));
        assert!(reference_matches("refs/heads/main", "refs/heads/main"));
        assert!(!reference_matches("main", "refs/heads/main2"));
        assert!(!reference_matches("main", "refs/heads/feature"));
        assert!(reference_matches("v1.2", "refs/tags/v1.2"));
        assert!(!reference_matches("refs/tags/v1.2", "refs/heads/v1.2"));
        assert!(reference_matches("HEAD", "refs/heads/anything"));
        assert!(!reference_matches("HEAD", "refs/tags/v1"));
        assert!(!reference_matches(
            "0123456789abcdef0123456789abcdef01234567",
            "refs/heads/main"
        ));
    }

    #[test]
    fn the_window_forgets_the_oldest_ids_only() {
        let mut window = DeliveryWindow::new(3);
        assert!(window.first_time(Provider::Github, "a"));
        assert!(!window.first_time(Provider::Github, "a"));
        // Another provider's id space is its own.
        assert!(window.first_time(Provider::Gitlab, "a"));
        assert!(window.first_time(Provider::Github, "b"));
        assert!(window.first_time(Provider::Github, "c"));
        assert_eq!(window.len(), 3);
        // `github/a` fell out of the window; `b` and `c` are remembered.
        assert!(window.first_time(Provider::Github, "a"));
        assert!(!window.first_time(Provider::Github, "c"));
        assert_eq!(window.len(), 3);
        let mut big = DeliveryWindow::new(DELIVERY_WINDOW);
        for i in 0..10_000 {
            big.first_time(Provider::Generic, &i.to_string());
        }
        assert_eq!(big.len(), DELIVERY_WINDOW);
        assert!(!big.first_time(Provider::Generic, "9999"));
        assert!(big.first_time(Provider::Generic, "0"));
    }

    #[test]
    fn signatures_and_tokens_are_checked() {
        let secret = Secret::new("webhook-core-test-secret");
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = sign("webhook-core-test-secret", body);
        assert!(verify_hmac_hex(&secret, body, &good, "X").is_ok());
        assert!(verify_hmac_hex(&secret, b"{}", &good, "X").is_err());
        assert!(verify_hmac_hex(&secret, body, "zz", "X").is_err());
        assert!(verify_hmac_hex(&secret, body, &good[..20], "X").is_err());
        let h = headers(&[("x-sig", &format!("sha256={good}"))]);
        assert!(verify_prefixed_signature(&h, "x-sig", &secret, body).is_ok());
        let h = headers(&[("x-sig", &good)]);
        assert_eq!(
            verify_prefixed_signature(&h, "x-sig", &secret, body),
            Err(WebhookError::BadSignature { header: "x-sig" })
        );
        assert_eq!(
            verify_prefixed_signature(&HeaderMap::new(), "x-sig", &secret, body),
            Err(WebhookError::MissingSignature { header: "x-sig" })
        );
        let h = headers(&[("x-token", "webhook-core-test-secret")]);
        assert!(verify_token(&h, "x-token", &secret).is_ok());
        let h = headers(&[("x-token", "webhook-core-test-secre")]);
        assert!(verify_token(&h, "x-token", &secret).is_err());
    }

    #[test]
    fn delivery_ids_are_bounded() {
        let long = "x".repeat(1000);
        let h = headers(&[("x-id", &long), ("x-empty", "")]);
        assert_eq!(delivery_id(&h, "x-id").map(|s| s.len()), Some(128));
        assert_eq!(delivery_id(&h, "x-empty"), None);
        assert_eq!(delivery_id(&h, "x-absent"), None);
    }
}
