//! The REST client for one workspace: every request goes through its rate
//! limiter, concurrency limit, per-request timeout, authentication and retry
//! policy, and only ever to the workspace's own host. Every call ends by
//! its deadline, and every answer is read under a size cap.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::auth::token::describe_reqwest;
use super::auth::{AuthLimits, Credential, same_origin};
use super::body::{BodyError, read_capped, read_truncated};
use super::error::{Error, decode_error};
use super::rate_limit::RateLimits;
use super::redact::redact;
use super::retry::{RetryPolicy, should_retry};
use super::stats::RequestStats;
use crate::config::{WorkspaceConfig, check_url};

/// How much of an error answer is read: enough for any real error body.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// One API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// An absolute path on the workspace, e.g. `/api/2.2/jobs/get`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Whether running the call twice is harmless. Non-idempotent calls
    /// (creates) are retried only when the request cannot have been processed.
    pub idempotent: bool,
}

impl Call {
    pub fn new(method: Method, path: &str) -> Call {
        let idempotent = method != Method::POST;
        Call {
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
            idempotent,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Call {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: &Value) -> Call {
        self.body = Some(body.clone());
        self
    }

    pub fn idempotent(mut self, idempotent: bool) -> Call {
        self.idempotent = idempotent;
        self
    }
}

struct Inner {
    name: String,
    base: Url,
    http: reqwest::Client,
    credential: Credential,
    limits: RateLimits,
    slots: Semaphore,
    retry: RetryPolicy,
    timeout: Duration,
    /// The whole call's time: attempts, waits and token requests.
    deadline: Duration,
    max_body: u64,
    max_export_body: u64,
    max_pages: usize,
    /// SCIM `Me`, read once: the identity behind a credential does not change.
    me: tokio::sync::OnceCell<Value>,
    /// Requests sent and rate-limiter waits, for metrics.
    stats: Arc<RequestStats>,
}

/// A client for one workspace. Cheap to clone; clones share the token
/// cache, rate limiter and concurrency limit.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("workspace", &self.inner.name)
            .field("host", &self.inner.base.as_str())
            .field("auth", &self.inner.credential.method())
            .finish()
    }
}

/// The HTTP client every workspace client and token request uses: no
/// redirects are followed, so credentials never follow a `Location`.
pub fn http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mortar/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Refused(format!("cannot build the HTTP client: {e}")))
}

impl Client {
    /// A client for workspace `name` as configured. Nothing is sent yet:
    /// secrets are read and tokens obtained on the first call.
    pub fn new(name: &str, config: &WorkspaceConfig) -> Result<Client, Error> {
        check_url(&config.host, config.allow_insecure_http, false)
            .map_err(|m| Error::Refused(format!("workspace {name}: {m}")))?;
        let base = Url::parse(&config.host)
            .and_then(|u| u.join("/"))
            .map_err(|e| Error::Refused(format!("workspace {name}: {e}")))?;
        let http = http_client()?;
        let credential = Credential::new(
            &config.auth,
            &base,
            &http,
            AuthLimits::from_config(&config.limits, &config.retry),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                name: name.to_string(),
                base,
                http,
                credential,
                limits: RateLimits::new(&config.limits),
                slots: Semaphore::new(config.limits.max_concurrency.max(1)),
                retry: RetryPolicy::from(&config.retry),
                timeout: Duration::from_secs(config.limits.request_timeout_secs.max(1)),
                deadline: Duration::from_secs(config.limits.call_deadline_secs.clamp(1, 86_400)),
                max_body: config.limits.max_response_bytes,
                max_export_body: config.limits.max_export_bytes,
                max_pages: config.limits.max_pages.max(1),
                me: tokio::sync::OnceCell::new(),
                stats: Arc::new(RequestStats::new(name)),
            }),
        })
    }

    /// One client per configured workspace, by name.
    pub fn for_workspaces(
        workspaces: &std::collections::BTreeMap<String, WorkspaceConfig>,
    ) -> Result<std::collections::BTreeMap<String, Client>, Error> {
        workspaces
            .iter()
            .map(|(name, ws)| Ok((name.clone(), Client::new(name, ws)?)))
            .collect()
    }

    /// The workspace name from the config.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The workspace URL, e.g. `https://adb-1.azuredatabricks.net/`.
    pub fn host(&self) -> &Url {
        &self.inner.base
    }

    /// `pat`, `oauth-m2m` or `oidc-federation`.
    pub fn auth_method(&self) -> &'static str {
        self.inner.credential.method()
    }

    /// The time allowed for one HTTP request.
    pub fn request_timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The workspace's retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The time one call may take in all, retries included.
    pub fn call_deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// Pages one paged list may take.
    pub fn max_pages(&self) -> usize {
        self.inner.max_pages
    }

    /// How many tokens this client has requested from the token endpoint.
    pub fn token_requests(&self) -> u64 {
        self.inner.credential.token_requests()
    }

    /// This client's request counters (shared by its clones).
    pub fn request_stats(&self) -> Arc<RequestStats> {
        Arc::clone(&self.inner.stats)
    }

    /// Resolves a path (or an absolute URL on the workspace) against the
    /// workspace host; anything pointing elsewhere is refused.
    fn url_for(&self, path: &str) -> Result<Url, Error> {
        let base = &self.inner.base;
        let url = if path.starts_with('/') && !path.starts_with("//") {
            base.join(path)
        } else if path.contains("://") {
            Url::parse(path)
        } else {
            return Err(Error::Refused(format!(
                "`{path}` is neither an absolute path nor a URL"
            )));
        }
        .map_err(|e| Error::Refused(format!("`{path}`: {e}")))?;
        if !same_origin(&url, base) {
            return Err(Error::Refused(format!(
                "{url} is not on workspace {} ({}); credentials stay with their host",
                self.inner.name,
                base.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    /// Makes a call with retries; returns the JSON answer (`null` when empty).
    /// The call fails with [`Error::DeadlineExceeded`] when its attempts and
    /// waits would run past the call deadline.
    pub async fn call(&self, call: Call) -> Result<Value, Error> {
        let url = self.url_for(&call.path)?;
        let started = tokio::time::Instant::now();
        let deadline = started
            .checked_add(self.inner.deadline)
            .unwrap_or_else(|| started + Duration::from_secs(86_400));
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        // The failure being retried, for the deadline error's cause.
        let mut last: Option<Error> = None;
        loop {
            attempt = attempt.saturating_add(1);
            let outcome = match tokio::time::timeout_at(deadline, self.attempt(&call, &url)).await {
                Ok(outcome) => outcome,
                Err(_) => return Err(self.deadline_error(&call, attempt, last)),
            };
            match outcome {
                Ok(value) => return Ok(value),
                Err((err, token)) => {
                    let stale = match token {
                        Some(t) if !reauthenticated && matches!(err, Error::Unauthenticated(_)) => {
                            Some(t)
                        }
                        _ => None,
                    };
                    if let Some(stale) = stale {
                        reauthenticated = true;
                        if self.inner.credential.invalidate(&stale).await {
                            continue;
                        }
                    }
                    if attempt >= self.inner.retry.max_attempts
                        || !should_retry(&err, call.idempotent)
                    {
                        return Err(err);
                    }
                    let retry_after = err.api().and_then(|a| a.retry_after);
                    let wait = self.inner.retry.delay(attempt, retry_after);
                    // A wait that would end past the deadline is not started.
                    let resume = tokio::time::Instant::now().checked_add(wait);
                    if resume.is_none_or(|at| at >= deadline) {
                        return Err(self.deadline_error(&call, attempt, Some(err)));
                    }
                    tracing::debug!(
                        workspace = %self.inner.name,
                        method = %call.method,
                        path = %call.path,
                        attempt,
                        error = %err,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "retrying"
                    );
                    last = Some(err);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn deadline_error(&self, call: &Call, attempts: u32, last: Option<Error>) -> Error {
        Error::DeadlineExceeded {
            method: call.method.to_string(),
            path: call.path.clone(),
            deadline: self.inner.deadline,
            attempts,
            last: last.map(Box::new),
        }
    }

    /// The body cap for a path, and the setting that sets it.
    fn body_cap(&self, path: &str) -> (u64, &'static str) {
        if path.contains("/workspace/export") {
            (self.inner.max_export_body, "max_export_bytes")
        } else {
            (self.inner.max_body, "max_response_bytes")
        }
    }

    /// One HTTP exchange. On failure also returns the token that was used,
    /// so a 401 can invalidate exactly that token.
    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
    ) -> Result<Value, (Error, Option<super::secret::Secret>)> {
        let inner = &*self.inner;
        let method = call.method.as_str();
        let Ok(_permit) = inner.slots.acquire().await else {
            return Err((Error::Refused("the client is shutting down".into()), None));
        };
        let waiting = tokio::time::Instant::now();
        inner.limits.acquire(method, &call.path).await;
        inner.stats.waited(&call.path, waiting.elapsed());
        let token = match inner.credential.bearer().await {
            Ok(t) => t,
            Err(e) => return Err((Error::Auth(e), None)),
        };
        let mut req = inner
            .http
            .request(call.method.clone(), url.clone())
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(inner.timeout);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        let started = std::time::Instant::now();
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(err) => {
                inner.stats.record(&call.path, None);
                return Err((self.transport_error(call, &err), Some(token)));
            }
        };
        let status = resp.status();
        inner.stats.record(&call.path, Some(status.as_u16()));
        tracing::debug!(
            workspace = %inner.name,
            method,
            path = %call.path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "databricks call"
        );
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let location: String = redact(location).chars().take(200).collect();
            return Err((
                Error::Refused(format!(
                    "{method} {}: HTTP {} redirect to `{location}` not followed (credentials stay with their host)",
                    &call.path,
                    status.as_u16()
                )),
                Some(token),
            ));
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (cap, setting) = self.body_cap(&call.path);
        let body = if status.is_success() {
            read_capped(resp, cap).await
        } else {
            // An error answer is only ever read for its beginning.
            read_truncated(resp, ERROR_BODY_BYTES.min(cap)).await
        };
        let body = match body {
            Ok(b) => b,
            Err(BodyError::TooLarge { limit }) => {
                return Err((
                    Error::ResponseTooLarge {
                        method: method.to_string(),
                        path: call.path.clone(),
                        limit,
                        setting,
                    },
                    Some(token),
                ));
            }
            Err(BodyError::Transport(err)) => {
                return Err((self.transport_error(call, &err), Some(token)));
            }
        };
        if status.is_success() {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return match serde_json::from_slice(&body) {
                Ok(v) => Ok(v),
                Err(e) => Err((
                    Error::Decode {
                        method: method.to_string(),
                        path: call.path.clone(),
                        message: e.to_string(),
                    },
                    Some(token),
                )),
            };
        }
        let err = decode_error(
            method,
            &call.path,
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            &body,
            retry_after,
        );
        Err((err, Some(token)))
    }

    fn transport_error(&self, call: &Call, err: &reqwest::Error) -> Error {
        if err.is_timeout() {
            return Error::Timeout {
                method: call.method.to_string(),
                path: call.path.to_string(),
                timeout: self.inner.timeout,
            };
        }
        Error::Transport {
            method: call.method.to_string(),
            path: call.path.to_string(),
            message: describe_reqwest(err),
            sent: !err.is_connect(),
        }
    }

    /// `GET path?query`.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
        let mut call = Call::new(Method::GET, path);
        for (k, v) in query {
            call = call.query(k, *v);
        }
        self.call(call).await
    }

    /// A POST that is safe to repeat (edit, reset, delete, …).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Call::new(Method::POST, path).body(body).idempotent(true))
            .await
    }

    /// A POST that creates something: never blindly repeated after an
    /// ambiguous failure (see [`super::kinds::KindAdapter::create`]).
    pub async fn post_create(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Call::new(Method::POST, path).body(body).idempotent(false))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Call::new(Method::PUT, path).body(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Call::new(Method::PATCH, path).body(body)).await
    }

    pub async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
        let mut call = Call::new(Method::DELETE, path);
        for (k, v) in query {
            call = call.query(k, *v);
        }
        self.call(call).await
    }

    /// The identity Mortar acts as (SCIM `Me`).
    pub async fn me(&self) -> Result<Value, Error> {
        self.get("/api/2.0/preview/scim/v2/Me", &[]).await
    }

    /// SCIM `Me`, read once per client and then remembered (a failed read
    /// is not): for callers that need the identity on every operation.
    pub async fn identity(&self) -> Result<Value, Error> {
        self.inner.me.get_or_try_init(|| self.me()).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthConfig, SecretRef};

    fn client(host: &str, allow: bool) -> Result<Client, Error> {
        Client::new(
            "w",
            &WorkspaceConfig {
                host: host.into(),
                auth: AuthConfig::Pat {
                    token: SecretRef::Env("MORTAR_TEST_UNSET_TOKEN".into()),
                },
                allow_insecure_http: allow,
                limits: Default::default(),
                retry: Default::default(),
            },
        )
    }

    #[test]
    fn credentials_stay_on_their_host() {
        let c = client("https://adb-1.example.net", false).expect("client");
        assert!(c.url_for("/api/2.2/jobs/list").is_ok());
        assert!(
            c.url_for("https://adb-1.example.net/api/2.2/jobs/list")
                .is_ok()
        );
        assert!(c.url_for("https://evil.example/api/2.2/jobs/list").is_err());
        assert!(c.url_for("//evil.example/x").is_err());
        assert!(c.url_for("http://adb-1.example.net/api").is_err());
        assert!(c.url_for("relative/path").is_err());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(client("http://dbx.example.com", false).is_err());
        assert!(client("http://dbx.example.com", true).is_ok());
        assert!(client("http://127.0.0.1:9", false).is_ok());
    }

    #[test]
    fn debug_output_names_no_secret() {
        let c = client("https://adb-1.example.net", false).expect("client");
        let debug = format!("{c:?}");
        assert!(
            debug.contains("adb-1.example.net") && debug.contains("pat"),
            "{debug}"
        );
    }
}
