//! Sign-in sessions, held server-side: a session is a random id mapped to
//! the person it belongs to, a CSRF token and an expiry. The browser holds
//! only the id, in a cookie encrypted and authenticated with a key made at
//! start (AES-256-GCM): HttpOnly, SameSite=Lax, Secure (and `__Host-`)
//! unless the server is reached over plain http on loopback. A session id
//! is made only after a completed sign-in, never taken from a request, so
//! an id planted in a browser before sign-in is worth nothing after it.
//! Signing out, expiry and a restart end sessions on the server.
//!
//! Sign-ins in progress are held here too, by their OAuth `state`: the
//! PKCE verifier, the nonce and where to return, bound to the browser that
//! started them by a second short-lived encrypted cookie.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, CookieJar, Key, SameSite};
use rand::RngCore;

use super::identity::Identity;

/// How long a sign-in may take at the IdP.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);

/// Sign-ins in progress held at most; the oldest is dropped past it (an
/// unauthenticated client can start sign-ins, so the map is bounded).
const MAX_PENDING: usize = 10_000;

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    /// Sent back with every state-changing request.
    pub csrf: String,
    pub expires: Instant,
}

/// A sign-in started and not finished.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub pkce_verifier: String,
    pub nonce: String,
    /// A path on this server.
    pub return_to: String,
    started: Instant,
}

/// The sessions of one server.
pub struct Sessions {
    key: Key,
    ttl: Duration,
    secure: bool,
    live: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, PendingLogin>>,
}

impl Sessions {
    /// `secure`: cookies only over https (every deployment but a plain-http
    /// loopback one).
    pub fn new(ttl: Duration, secure: bool) -> Sessions {
        Sessions {
            key: Key::generate(),
            ttl,
            secure,
            live: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn session_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-mortar_session"
        } else {
            "mortar_session"
        }
    }

    fn login_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-mortar_login"
        } else {
            "mortar_login"
        }
    }

    /// Starts a session for `identity`; returns it and the `Set-Cookie`
    /// value that hands its id to the browser.
    pub fn start(&self, identity: Identity) -> (Session, String) {
        let id = random_token();
        let session = Session {
            identity,
            csrf: random_token(),
            expires: Instant::now() + self.ttl,
        };
        self.live
            .lock()
            .expect("sessions lock")
            .insert(id.clone(), session.clone());
        let cookie = self.seal(self.session_cookie(), id, Some(self.ttl));
        (session, cookie)
    }

    /// The session the request's cookie names, if it is live. Returns its
    /// id too, for ending it.
    pub fn find(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = self.open(headers, self.session_cookie())?;
        let mut live = self.live.lock().expect("sessions lock");
        match live.get(&id) {
            Some(s) if s.expires > Instant::now() => Some((id, s.clone())),
            Some(_) => {
                live.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Ends a session; returns the `Set-Cookie` value that clears it.
    pub fn end(&self, id: &str) -> String {
        self.live.lock().expect("sessions lock").remove(id);
        self.clear(self.session_cookie())
    }

    /// Records a sign-in in progress under `state`; returns the
    /// `Set-Cookie` value binding it to this browser.
    pub fn begin_login(
        &self,
        state: &str,
        pkce_verifier: String,
        nonce: String,
        return_to: String,
    ) -> String {
        let mut pending = self.pending.lock().expect("sessions lock");
        pending.retain(|_, p| p.started.elapsed() < LOGIN_TTL);
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(
            state.to_string(),
            PendingLogin {
                pkce_verifier,
                nonce,
                return_to,
                started: Instant::now(),
            },
        );
        self.seal(self.login_cookie(), state.to_string(), Some(LOGIN_TTL))
    }

    /// Takes the sign-in `state` names, if this browser started it (its
    /// login cookie holds the same state) and it has not expired. A state
    /// is taken once.
    pub fn finish_login(&self, headers: &HeaderMap, state: &str) -> Option<PendingLogin> {
        let bound = self.open(headers, self.login_cookie())?;
        if !constant_time_eq(bound.as_bytes(), state.as_bytes()) {
            return None;
        }
        let taken = self.pending.lock().expect("sessions lock").remove(state)?;
        (taken.started.elapsed() < LOGIN_TTL).then_some(taken)
    }

    /// The `Set-Cookie` value that clears the login cookie.
    pub fn clear_login(&self) -> String {
        self.clear(self.login_cookie())
    }

    fn seal(&self, name: &'static str, value: String, max_age: Option<Duration>) -> String {
        let mut jar = CookieJar::new();
        let mut cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .build();
        if let Some(age) = max_age {
            cookie.set_max_age(cookie::time::Duration::seconds(
                i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
            ));
        }
        jar.private_mut(&self.key).add(cookie);
        jar.get(name)
            .map(|c| c.encoded().to_string())
            .unwrap_or_default()
    }

    fn clear(&self, name: &'static str) -> String {
        let cookie = Cookie::build((name, ""))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::ZERO)
            .build();
        cookie.encoded().to_string()
    }

    /// The decrypted value of cookie `name`; a cookie that does not
    /// decrypt under this server's key is ignored.
    fn open(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        for header in headers.get_all(COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            for cookie in Cookie::split_parse_encoded(text.to_string()).flatten() {
                if cookie.name() == name {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        jar.private(&self.key)
            .get(name)
            .map(|c| c.value().to_string())
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::server::auth::identity::Proof;

    fn person(subject: &str) -> Identity {
        Identity {
            subject: subject.into(),
            email: None,
            name: None,
            groups: vec!["ops".into()],
            proof: Proof::Session,
        }
    }

    fn request_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    }

    #[test]
    fn a_session_cookie_is_opaque_and_works_only_with_this_servers_key() {
        let sessions = Sessions::new(Duration::from_secs(60), true);
        let (session, set_cookie) = sessions.start(person("otto"));
        assert!(set_cookie.starts_with("__Host-mortar_session="));
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let (id, found) = sessions.find(&request_with(&set_cookie)).unwrap();
        assert_eq!(found.identity.subject, "otto");
        assert_eq!(found.csrf, session.csrf);
        assert!(!set_cookie.contains(&id), "the id travels encrypted");

        let other = Sessions::new(Duration::from_secs(60), true);
        assert!(other.find(&request_with(&set_cookie)).is_none());
        let plain = format!("__Host-mortar_session={id}");
        assert!(sessions.find(&request_with(&plain)).is_none());

        let cleared = sessions.end(&id);
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert!(sessions.find(&request_with(&set_cookie)).is_none());
    }

    #[test]
    fn a_sign_in_finishes_once_and_only_in_the_browser_that_began_it() {
        let sessions = Sessions::new(Duration::from_secs(60), false);
        let bound = sessions.begin_login("state-1", "v".into(), "n".into(), "/apps/x".into());
        assert!(bound.starts_with("mortar_login="), "{bound}");
        let other_browser = HeaderMap::new();
        assert!(sessions.finish_login(&other_browser, "state-1").is_none());
        let this_browser = request_with(&bound);
        assert!(sessions.finish_login(&this_browser, "state-2").is_none());
        let taken = sessions.finish_login(&this_browser, "state-1").unwrap();
        assert_eq!(taken.return_to, "/apps/x");
        assert!(sessions.finish_login(&this_browser, "state-1").is_none());
    }

    #[test]
    fn ending_one_session_leaves_the_others() {
        let sessions = Sessions::new(Duration::from_secs(60), false);
        let (_, a) = sessions.start(person("otto"));
        let (_, b) = sessions.start(person("vera"));
        let (id, _) = sessions.find(&request_with(&a)).unwrap();
        sessions.end(&id);
        assert!(sessions.find(&request_with(&a)).is_none());
        assert!(sessions.find(&request_with(&b)).is_some());
    }

    #[test]
    fn an_expired_session_is_gone() {
        let sessions = Sessions::new(Duration::ZERO, false);
        let (_, cookie) = sessions.start(person("otto"));
        assert!(sessions.find(&request_with(&cookie)).is_none());
    }
}
