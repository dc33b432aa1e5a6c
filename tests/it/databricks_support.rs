//! Shared fixtures of the Databricks client tests: an in-process emulator,
//! clients configured as a user would configure them, the real OpenID
//! provider from `tests/idp`, and a proxy that counts requests by path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use tokio::io::{AsyncBufReadExt, BufReader};

use mortar::config::{AuthConfig, LimitsConfig, RetryConfig, SecretRef, WorkspaceConfig};
use mortar::databricks::Client;
use mortar_emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// A federation policy trusting the [`Idp`]'s `mortar` client (its JWTs'
/// subject) for `audience`, as service principal `sp`.
pub fn trusting_idp(issuer: &str, audience: &str, sp: &str) -> mortar_emulator::FederationPolicy {
    mortar_emulator::FederationPolicy {
        issuer: issuer.into(),
        audiences: vec![audience.into()],
        subject: Some("mortar".into()),
        subject_claim: "sub".into(),
        jwks: None,
        service_principal: Some(sp.into()),
    }
}

/// Starts an emulator on 127.0.0.1 with a random port.
pub async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// Limits and retries sized for tests: fast backoff, short timeouts.
pub fn test_limits() -> (LimitsConfig, RetryConfig) {
    (
        LimitsConfig {
            requests_per_second: 1000.0,
            max_concurrency: 16,
            request_timeout_secs: 5,
            endpoints: BTreeMap::new(),
            ..LimitsConfig::default()
        },
        RetryConfig {
            max_attempts: 12,
            initial_backoff_ms: 20,
            max_backoff_ms: 500,
            ..RetryConfig::default()
        },
    )
}

/// Writes a secret to a file in `dir` and returns a reference to it.
pub fn secret_file(dir: &Path, name: &str, value: &str) -> SecretRef {
    let path = dir.join(name);
    std::fs::write(&path, value).expect("write secret file");
    SecretRef::File(path)
}

/// The jobs of `emu` named `name` (as `jobs/list?name=` gives them).
pub async fn jobs_named(emu: &RunningEmulator, name: &str) -> Vec<serde_json::Value> {
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/2.2/jobs/list", emu.base_url()))
        .query(&[("name", name), ("limit", "100")])
        .bearer_auth(emu.token())
        .send()
        .await
        .expect("emulator answers")
        .json()
        .await
        .expect("jobs/list JSON");
    list["jobs"].as_array().cloned().unwrap_or_default()
}

/// A workspace config for `host` with `auth`.
pub fn workspace(host: &str, auth: AuthConfig) -> WorkspaceConfig {
    let (limits, retry) = test_limits();
    WorkspaceConfig {
        host: host.to_string(),
        auth,
        allow_insecure_http: false,
        limits,
        retry,
    }
}

/// A client using the emulator's administrator PAT (read from a file).
pub fn pat_client(emu: &RunningEmulator, dir: &Path) -> Client {
    let token = secret_file(dir, "pat", &emu.token());
    Client::new(
        "test",
        &workspace(emu.base_url(), AuthConfig::Pat { token }),
    )
    .expect("client")
}

/// The `tests/idp` OpenID provider, running as a child process.
pub struct Idp {
    pub issuer: String,
    child: tokio::process::Child,
}

impl Idp {
    /// Starts `node $MORTAR_TEST_IDP 0` and reads its issuer URL.
    pub async fn start() -> Idp {
        Idp::launch(None, 0).await
    }

    /// [`Idp::start`], with `secret` as the `mortar` client's secret.
    pub async fn start_with_secret(secret: &str) -> Idp {
        Idp::launch(Some(secret), 0).await
    }

    /// [`Idp::start`] on `port`: the same issuer as an IdP that ran there
    /// before, with new signing keys (a key rotation).
    pub async fn start_on(port: u16) -> Idp {
        Idp::launch(None, port).await
    }

    /// Stops it and waits until it has exited (its port is free).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the issuer names a port")
    }

    async fn launch(secret: Option<&str>, port: u16) -> Idp {
        let script = std::env::var("MORTAR_TEST_IDP").unwrap_or_else(|_| {
            panic!(
                "MORTAR_TEST_IDP is not set: run scripts/test, which installs tests/idp (npm ci) and points MORTAR_TEST_IDP at tests/idp/server.mjs"
            )
        });
        // Node loads the provider in about a second. A start that prints
        // nothing for a minute (seen with the whole suite on two cores) is
        // killed and made again; what it wrote to stderr is kept for the
        // message should every attempt fail.
        let mut failures = Vec::new();
        for attempt in 1..=3 {
            let log = tempfile::NamedTempFile::new().expect("IdP log file");
            let mut command = tokio::process::Command::new("node");
            if let Some(secret) = secret {
                command.env("IDP_MORTAR_SECRET", secret);
            }
            let mut child = command
                .arg(&script)
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log.reopen().expect("IdP log file"))
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run `node {script}`: {e} (is node installed?)"));
            let stdout = child.stdout.take().expect("stdout");
            let mut lines = BufReader::new(stdout).lines();
            match tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await {
                Ok(line) => {
                    let issuer = line.expect("read IdP stdout").unwrap_or_else(|| {
                        panic!(
                            "the IdP exited without printing its issuer: {}",
                            std::fs::read_to_string(log.path()).unwrap_or_default()
                        )
                    });
                    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
                    // Whatever else it prints is read and dropped: a closed
                    // pipe would end it at its next write.
                    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                    return Idp { issuer, child };
                }
                Err(_) => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    let said = std::fs::read_to_string(log.path()).unwrap_or_default();
                    eprintln!(
                        "the IdP printed nothing for 60 s (attempt {attempt}); starting it again"
                    );
                    failures.push(format!(
                        "attempt {attempt}: silent for 60 s; stderr: {said}"
                    ));
                }
            }
        }
        panic!("the IdP never printed its issuer:\n{}", failures.join("\n"));
    }

    /// An access token (a signed JWT) by client credentials.
    pub async fn token(&self, client_id: &str, secret: &str, audience: &str) -> String {
        let resp = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("resource", audience)])
            .send()
            .await
            .expect("IdP token request");
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.expect("IdP token JSON");
        assert!(status.is_success(), "IdP refused: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A reverse proxy in front of the emulator that counts requests per path
/// and can lose answers.
pub struct CountingProxy {
    pub base_url: String,
    counts: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    _task: tokio::task::JoinHandle<()>,
}

/// Path and body of every API POST seen so far.
type SeenPosts = Arc<std::sync::Mutex<std::collections::HashSet<(String, Vec<u8>)>>>;

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    counts: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    /// Distinct API POSTs (path and body) seen, when losing first answers.
    seen_posts: Option<SeenPosts>,
}

async fn forward(State(s): State<ProxyState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    *s.counts
        .lock()
        .expect("counts")
        .entry(format!("{} {path}", parts.method))
        .or_default() += 1;
    let body = axum::body::to_bytes(body, 64 << 20).await.expect("body");
    let lose = parts.method == axum::http::Method::POST
        && path.starts_with("/api/")
        && s.seen_posts.as_ref().is_some_and(|seen| {
            seen.lock()
                .expect("seen")
                .insert((path.clone(), body.to_vec()))
        });
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or(path);
    // The Host header is passed on, so the emulator advertises the proxy's
    // address in its discovery documents.
    let upstream = s
        .http
        .request(parts.method, format!("{}{pq}", s.upstream))
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .expect("upstream answers");
    if lose {
        // The workspace acted, but its answer is lost on the way back, as
        // when a load balancer gives up on a slow backend.
        let _ = upstream.bytes().await;
        return Response::builder()
            .status(504)
            .body(Body::from("<html><title>Gateway Timeout</title></html>"))
            .expect("response");
    }
    let mut out = Response::builder().status(upstream.status());
    for (k, v) in upstream.headers() {
        if k != "transfer-encoding" && k != "content-length" && k != "connection" {
            out = out.header(k, v);
        }
    }
    let bytes = upstream.bytes().await.expect("upstream body");
    out.body(Body::from(bytes)).expect("response")
}

impl CountingProxy {
    pub async fn start(upstream: &str) -> CountingProxy {
        CountingProxy::with_losses(upstream, false).await
    }

    /// A proxy that forwards every request, but answers the first of each
    /// distinct API POST (path and body) with 504 after the workspace has
    /// carried it out.
    pub async fn start_lossy(upstream: &str) -> CountingProxy {
        CountingProxy::with_losses(upstream, true).await
    }

    async fn with_losses(upstream: &str, lose_first_posts: bool) -> CountingProxy {
        let counts = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
        let state = ProxyState {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("proxy client"),
            counts: counts.clone(),
            seen_posts: lose_first_posts.then(Default::default),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CountingProxy {
            base_url: format!("http://{addr}"),
            counts,
            _task: task,
        }
    }

    /// Requests seen for `"METHOD /path"`.
    pub fn count(&self, method_path: &str) -> u64 {
        self.counts
            .lock()
            .expect("counts")
            .get(method_path)
            .copied()
            .unwrap_or(0)
    }
}

/// The `mortar` binary built for these tests.
pub fn mortar_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mortar"))
}
