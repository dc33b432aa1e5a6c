//! Who is calling the API server, and whether a state-changing request
//! really comes from them. With `server.auth`: people by a session made by
//! signing in through the IdP ([`signin`], [`session`]), bots by a bearer
//! JWT from the same IdP ([`bearer`]). Without it the server listens on
//! loopback only and every caller is this host's user ([`Proof::Loopback`]).
//!
//! Requests that ride on something the browser sends by itself (a session
//! cookie, or merely being on loopback) must also carry the CSRF token the
//! server handed out, and must not come from another site.

pub mod bearer;
pub mod identity;
pub mod session;
pub mod signin;

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};

pub use identity::{Identity, LOOPBACK_SUBJECT, Proof};

use crate::config::ApiAuthConfig;
use crate::databricks::auth::read_secret;

/// The header a script sends its CSRF token in; forms send the field `csrf`.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A caller, and what a state-changing request of theirs must carry.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub identity: Identity,
    /// The CSRF token expected (for sessions and loopback callers); none
    /// for bearer tokens, which a browser never sends by itself.
    pub csrf: Option<String>,
    /// The session's id, to end it.
    pub session: Option<String>,
}

/// Why a caller is not authenticated. Bounded labels.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("sign in, or send a bearer token")]
    Missing,
    #[error(
        "without sign-in this server answers to loopback names only (127.0.0.1, [::1], localhost)"
    )]
    ForeignHost,
    #[error(transparent)]
    Bearer(#[from] bearer::BearerError),
}

impl AuthFailure {
    pub fn metric_label(&self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::ForeignHost => "foreign_host",
            AuthFailure::Bearer(e) => e.metric_label(),
        }
    }
}

/// How the server authenticates.
pub enum Auth {
    /// No `server.auth`: loopback only, one CSRF token for the process.
    Loopback {
        csrf: String,
    },
    Idp(Box<IdpAuth>),
}

/// Sign-in and bearer tokens against one IdP.
pub struct IdpAuth {
    pub keys: bearer::Keys,
    pub sessions: session::Sessions,
    /// None when no web client is configured (bearer tokens only).
    pub signin: Option<signin::SignIn>,
    /// How the CLI signs in, when a client is configured for it.
    pub cli: Option<crate::remote::CliSignIn>,
}

/// Why authentication could not be set up. Bounded labels.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("server.auth.client_secret: {0}")]
    Secret(String),
}

impl Auth {
    /// Authentication for a server reachable at `base` (its public URL, or
    /// `http://` and the address it listens on).
    pub fn open(
        config: Option<&ApiAuthConfig>,
        base: &url::Url,
        http: reqwest::Client,
    ) -> Result<Auth, AuthSetupError> {
        let Some(config) = config else {
            return Ok(Auth::Loopback {
                csrf: session::random_token(),
            });
        };
        let issuer = config.issuer.as_str().trim_end_matches('/');
        let rules = bearer::Rules::new(
            issuer,
            config.accepted_audiences(),
            &config.algorithms,
            &config.groups_claim,
            config.clock_skew,
        );
        let secure = base.scheme() == "https";
        let signin = match (&config.client_id, &config.client_secret) {
            (Some(id), Some(secret)) => {
                let secret = read_secret(secret, "sign-in client secret")
                    .map_err(|e| AuthSetupError::Secret(crate::error_chain::error_chain(&e)))?;
                Some(signin::SignIn::new(
                    issuer,
                    id.clone(),
                    secret,
                    base.join("auth/callback")
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                    config.scopes.clone(),
                    config.groups_claim.clone(),
                    &config.algorithms,
                    http.clone(),
                ))
            }
            _ => None,
        };
        let cli = config
            .cli_client_id
            .as_ref()
            .map(|client_id| crate::remote::CliSignIn {
                issuer: issuer.to_string(),
                client_id: client_id.clone(),
                scopes: config.scopes.clone(),
            });
        Ok(Auth::Idp(Box::new(IdpAuth {
            keys: bearer::Keys::new(http, rules),
            sessions: session::Sessions::new(config.session_ttl, secure),
            signin,
            cli,
        })))
    }

    /// Whether people sign in through the IdP.
    pub fn signs_in(&self) -> bool {
        matches!(self, Auth::Idp(idp) if idp.signin.is_some())
    }

    /// Who sent the request: a bearer token first (a request that sends
    /// one is judged by it alone), then a session cookie.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authenticated, AuthFailure> {
        match self {
            // A page of another site whose name was made to resolve to
            // 127.0.0.1 (DNS rebinding) sends its own host name: only
            // loopback names are this host's users.
            Auth::Loopback { .. } if !loopback_host(headers) => Err(AuthFailure::ForeignHost),
            Auth::Loopback { csrf } => Ok(Authenticated {
                identity: Identity::loopback(),
                csrf: Some(csrf.clone()),
                session: None,
            }),
            Auth::Idp(idp) => {
                if let Some(token) = bearer_token(headers) {
                    let identity = idp.keys.verify(token).await?;
                    return Ok(Authenticated {
                        identity,
                        csrf: None,
                        session: None,
                    });
                }
                match idp.sessions.find(headers) {
                    Some((id, session)) => Ok(Authenticated {
                        identity: session.identity,
                        csrf: Some(session.csrf),
                        session: Some(id),
                    }),
                    None => Err(AuthFailure::Missing),
                }
            }
        }
    }
}

/// Whether the request's `Host` names this host's loopback (or is absent,
/// as from a client that sends none).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    crate::config::is_loopback_host(name)
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether a state-changing request may go on: when the caller's
/// credential rides along by itself, the request carries the CSRF token
/// (in the header, or the form's `csrf` field) and is not from another
/// site.
pub fn request_is_genuine(
    caller: &Authenticated,
    headers: &HeaderMap,
    form_token: Option<&str>,
) -> bool {
    let Some(expected) = &caller.csrf else {
        return true;
    };
    if !same_site(headers) {
        return false;
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(form_token);
    sent.is_some_and(|s| session::constant_time_eq(s.as_bytes(), expected.as_bytes()))
}

/// False when the browser says the request comes from another site
/// (`Sec-Fetch-Site`), or its `Origin` is not the host it was sent to.
fn same_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if text("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Where to send the browser after signing in: a path on this server, or
/// `/`. Anything that could leave it — a scheme, `//host`, `/\host`, a
/// control character — becomes `/`.
pub fn safe_return_path(requested: Option<&str>) -> String {
    let Some(path) = requested else {
        return "/".into();
    };
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\')
        && path.len() <= 2048;
    if ok { path.to_string() } else { "/".into() }
}

/// The URL the server is reached at: `public_url` when configured, else
/// `http://` and the address it listens on.
pub fn base_url(config: Option<&ApiAuthConfig>, bound: SocketAddr) -> url::Url {
    if let Some(url) = config.and_then(|c| c.public_url.clone()) {
        let mut url = url;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        return url;
    }
    url::Url::parse(&format!("http://{bound}/")).expect("a socket address makes a URL")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_return_path_never_leaves_the_server() {
        assert_eq!(safe_return_path(Some("/apps/etl?x=1")), "/apps/etl?x=1");
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "/a\r\nLocation: https://evil.example",
            "evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_return_path(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_return_path(None), "/");
    }

    #[tokio::test]
    async fn without_sign_in_only_loopback_names_are_answered() {
        let auth = Auth::open(
            None,
            &url::Url::parse("http://127.0.0.1:8080/").unwrap(),
            reqwest::Client::new(),
        )
        .unwrap();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "localhost",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            assert!(auth.authenticate(&headers).await.is_ok(), "{host}");
        }
        let mut rebound = HeaderMap::new();
        rebound.insert(
            header::HOST,
            HeaderValue::from_static("attacker.example:8080"),
        );
        assert!(matches!(
            auth.authenticate(&rebound).await,
            Err(AuthFailure::ForeignHost)
        ));
    }

    #[test]
    fn ambient_credentials_need_the_token_and_the_same_site() {
        let caller = Authenticated {
            identity: Identity::loopback(),
            csrf: Some("t0k3n".into()),
            session: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!request_is_genuine(&caller, &headers, None));
        assert!(!request_is_genuine(&caller, &headers, Some("wrong")));
        assert!(request_is_genuine(&caller, &headers, Some("t0k3n")));
        headers.insert("origin", HeaderValue::from_static("http://evil.example"));
        assert!(!request_is_genuine(&caller, &headers, Some("t0k3n")));
        headers.insert("origin", HeaderValue::from_static("http://127.0.0.1:8080"));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("t0k3n"));
        assert!(request_is_genuine(&caller, &headers, None));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!request_is_genuine(&caller, &headers, None));

        let bot = Authenticated {
            csrf: None,
            ..caller
        };
        assert!(request_is_genuine(&bot, &HeaderMap::new(), None));
    }
}
