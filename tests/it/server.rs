//! The daemon's HTTP side over real listeners on 127.0.0.1: signed webhook
//! deliveries reaching (or not reaching) the controller's channel, the
//! read-only status API, `/metrics` checked against the Prometheus text
//! format's rules, and the health probes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use mortar::config::{
    AuthConfig, HmacWebhook, SecretRef, ServerConfig, TokenWebhook, WebhooksConfig,
};
use mortar::databricks::Client;
use mortar::model::status::{AppStatus, ControllerStatus, Health, SyncStatus};
use mortar::server::auth::Identity;
use mortar::server::control::{Accepted, Command, Control, ControlError, RequestRecord};
use mortar::server::{self, Bound, Metrics, Push, ServerError, ServerState, WatchedSource};
use mortar_emulator::{EmulatorConfig, FaultKind};

use crate::databricks_support::{emulator, secret_file, workspace};

const GITHUB_SECRET: &str = "server-it-github-secret-3b1f";
const GITLAB_TOKEN: &str = "server-it-gitlab-token-77c0";
const MAX_BODY: u64 = 16 * 1024;

/// A running server with the controller's side of every channel.
struct Fixture {
    bound: Bound,
    pushes: mpsc::Receiver<Push>,
    status: watch::Sender<Arc<ControllerStatus>>,
    ready: watch::Sender<bool>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(capacity: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(dir.path());
        let (push_tx, pushes) = mpsc::channel(capacity);
        let (status, status_rx) = watch::channel(Arc::new(ControllerStatus::default()));
        let (ready, ready_rx) = watch::channel(false);
        let metrics = Arc::new(Metrics::new());
        let cancel = CancellationToken::new();
        let state = ServerState {
            status: status_rx,
            pushes: push_tx,
            ready: ready_rx,
            metrics: Arc::clone(&metrics),
            source: WatchedSource {
                url: "git@github.com:acme/platform.git".into(),
                reference: "main".into(),
            },
            tree: watch::channel(Arc::default()).1,
            plans: watch::channel(Arc::default()).1,
            audit_log: None,
            control: Arc::new(NoCommands),
        };
        let bound = server::serve(&config, state, cancel.clone())
            .await
            .expect("server starts");
        Fixture {
            bound,
            pushes,
            status,
            ready,
            metrics,
            cancel,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.bound.api)
    }

    fn metrics_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.bound.metrics)
    }

    /// Posts a GitHub delivery signed with `secret`.
    async fn github(&self, event: &str, delivery: &str, body: &str, secret: &str) -> (u16, String) {
        let resp = self
            .http
            .post(self.url("/api/v1/webhooks/github"))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header(
                "X-Hub-Signature-256",
                format!("sha256={}", sign(secret, body)),
            )
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// Every push queued so far.
    fn drain(&mut self) -> Vec<Push> {
        let mut out = Vec::new();
        while let Ok(p) = self.pushes.try_recv() {
            out.push(p);
        }
        out
    }

    async fn scrape(&self) -> String {
        let resp = self
            .http
            .get(self.metrics_url("/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(resp.status().as_u16(), 200);
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        resp.text().await.expect("text")
    }
}

/// A fake controller for the tests of webhooks and reads, which send no
/// commands: it takes none and audits nothing. The write API is tested on
/// the real daemon (`api_access.rs`).
struct NoCommands;

#[async_trait::async_trait]
impl Control for NoCommands {
    async fn carry_out(
        &self,
        _: &AppStatus,
        _: &Command,
        _: &Identity,
    ) -> Result<Accepted, ControlError> {
        Err(ControlError::Unavailable(
            "no controller in this test".into(),
        ))
    }

    fn record(&self, _: RequestRecord) -> Result<(), String> {
        Ok(())
    }
}

fn config(dir: &Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        metrics_listen: "127.0.0.1:0".parse().expect("addr"),
        max_body_bytes: MAX_BODY,
        webhooks: WebhooksConfig {
            github: Some(HmacWebhook {
                secret: secret_file(dir, "github", &format!("{GITHUB_SECRET}\n")),
            }),
            gitlab: Some(TokenWebhook {
                token: secret_file(dir, "gitlab", GITLAB_TOKEN),
            }),
            ..WebhooksConfig::default()
        },
        auth: None,
    }
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A GitHub push payload for `repo` (an HTTPS URL) and `reference`.
fn github_push(repo: &str, reference: &str) -> String {
    serde_json::json!({
        "ref": reference,
        "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5",
        "repository": {
            "full_name": "acme/platform",
            "html_url": repo,
            "clone_url": format!("{repo}.git"),
        },
        "commits": [],
    })
    .to_string()
}

const REPO: &str = "https://github.com/acme/platform";

#[tokio::test]
async fn a_signed_github_push_reaches_the_channel_once() {
    let mut fx = Fixture::start(8).await;
    let body = github_push(REPO, "refs/heads/main");
    let (status, text) = fx.github("push", "d-1", &body, GITHUB_SECRET).await;
    assert_eq!(status, 202, "{text}");
    assert!(text.contains("\"accepted\""), "{text}");
    let pushes = fx.drain();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].reference, "refs/heads/main");
    assert_eq!(
        pushes[0].after.as_deref(),
        Some("59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5")
    );
    assert_eq!(pushes[0].delivery.as_deref(), Some("d-1"));

    // GitHub redelivers on a timeout: the same id has no second effect.
    let (status, text) = fx.github("push", "d-1", &body, GITHUB_SECRET).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"duplicate\""), "{text}");
    assert!(fx.drain().is_empty());

    // GitLab's token header and SSH URLs reach the same channel.
    let gitlab = serde_json::json!({
        "object_kind": "push",
        "ref": "refs/heads/main",
        "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        "project": { "git_ssh_url": "ssh://git@GitHub.com:22/acme/platform.git" },
    })
    .to_string();
    let resp = fx
        .http
        .post(fx.url("/api/v1/webhooks/gitlab"))
        .header("X-Gitlab-Token", GITLAB_TOKEN)
        .header("X-Gitlab-Event", "Push Hook")
        .header("X-Gitlab-Event-UUID", "g-1")
        .body(gitlab)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 202);
    let pushes = fx.drain();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].provider, server::Provider::Gitlab);
}

#[tokio::test]
async fn a_rotated_webhook_secret_is_checked_from_the_next_delivery_without_a_restart() {
    let mut fx = Fixture::start(8).await;
    let body = github_push(REPO, "refs/heads/main");
    let rotated = "rotated-github-secret-5b1e";
    std::fs::write(fx._dir.path().join("github"), format!("{rotated}\n")).unwrap();
    let (status, text) = fx.github("push", "r-1", &body, GITHUB_SECRET).await;
    assert_eq!(status, 401, "the old secret is refused at once: {text}");
    let (status, text) = fx.github("push", "r-2", &body, rotated).await;
    assert_eq!(status, 202, "{text}");
    assert_eq!(fx.drain().len(), 1);
    // Mid-rotation, the file briefly gone: the last secret read still works.
    std::fs::remove_file(fx._dir.path().join("github")).unwrap();
    let (status, text) = fx.github("push", "r-3", &body, rotated).await;
    assert_eq!(status, 202, "{text}");
}

#[tokio::test]
async fn refused_deliveries_leave_nothing_in_the_channel() {
    let mut fx = Fixture::start(8).await;
    let body = github_push(REPO, "refs/heads/main");

    let (status, text) = fx.github("push", "r-1", &body, "not-the-secret").await;
    assert_eq!(status, 401, "{text}");
    let error: serde_json::Value = serde_json::from_str(&text).expect("JSON error");
    assert_eq!(error["error"], "unauthorized");
    assert!(!text.contains(GITHUB_SECRET));

    // A refused delivery does not take its id: the genuine one still counts.
    let (status, _) = fx.github("push", "r-1", &body, GITHUB_SECRET).await;
    assert_eq!(status, 202);
    assert_eq!(fx.drain().len(), 1);

    let (status, text) = fx.github("push", "r-2", "{\"ref\": ", GITHUB_SECRET).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("\"malformed\""), "{text}");

    let other_branch = github_push(REPO, "refs/heads/feature");
    let (status, text) = fx.github("push", "r-3", &other_branch, GITHUB_SECRET).await;
    assert_eq!(
        (status, text.contains("\"ignored\"")),
        (200, true),
        "{text}"
    );
    let other_repo = github_push("https://github.com/acme/other", "refs/heads/main");
    let (status, text) = fx.github("push", "r-4", &other_repo, GITHUB_SECRET).await;
    assert_eq!(
        (status, text.contains("\"ignored\"")),
        (200, true),
        "{text}"
    );
    let (status, text) = fx
        .github("ping", "r-5", "{\"zen\":\"x\"}", GITHUB_SECRET)
        .await;
    assert_eq!((status, text.contains("pong")), (200, true), "{text}");

    // Larger than `max_body_bytes`, signed or not: 413 before any check.
    let padding = "x".repeat(MAX_BODY as usize);
    let big = github_push(&format!("{REPO}?{padding}"), "refs/heads/main");
    let (status, _) = fx.github("push", "r-6", &big, GITHUB_SECRET).await;
    assert_eq!(status, 413);

    // The same without a Content-Length (chunked): cut off while reading.
    // (The server may close before reading the rest; a lost answer is retried.)
    let mut answer = String::new();
    for _ in 0..3 {
        answer = chunked_post(fx.bound.api, "/api/v1/webhooks/github", 5, 4096).await;
        if !answer.is_empty() {
            break;
        }
    }
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A provider with no secret configured has no route.
    let resp = fx
        .http
        .post(fx.url("/api/v1/webhooks/gitea"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 404);
    let resp = fx
        .http
        .post(fx.url("/api/v1/webhooks/sourcehut"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 404);

    assert!(fx.drain().is_empty());
    let text = fx.scrape().await;
    let samples = parse_prometheus_text(&text);
    let count = |result: &str| {
        samples
            [&format!("mortar_webhook_deliveries_total{{provider=\"github\",result=\"{result}\"}}")]
    };
    assert_eq!(count("unauthorized"), 1.0);
    assert_eq!(count("accepted"), 1.0);
    assert_eq!(count("malformed"), 1.0);
    assert_eq!(count("ignored"), 3.0);
    assert!(count("too_large") >= 2.0);
    assert_eq!(count("duplicate"), 0.0);
}

#[tokio::test]
async fn a_flood_of_pushes_coalesces_in_the_channel() {
    const CAPACITY: usize = 4;
    let mut fx = Fixture::start(CAPACITY).await;
    let fx_ref = &fx;
    let body = github_push(REPO, "refs/heads/main");
    // Nobody drains the channel meanwhile: a server that waited for room
    // would never answer, so the flood has a deadline.
    let flood = futures::future::join_all((0..200).map(|i| {
        let body = body.clone();
        async move {
            fx_ref
                .github("push", &format!("flood-{i}"), &body, GITHUB_SECRET)
                .await
                .0
        }
    }));
    let statuses = tokio::time::timeout(Duration::from_secs(60), flood)
        .await
        .expect("every delivery is answered without waiting for the controller");
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    let queued = fx.drain();
    assert!(
        !queued.is_empty() && queued.len() <= CAPACITY,
        "{} queued",
        queued.len()
    );
    let text = fx.scrape().await;
    assert_eq!(
        parse_prometheus_text(&text)["mortar_webhook_deliveries_total{provider=\"github\",result=\"accepted\"}"],
        200.0
    );
}

#[tokio::test]
async fn readiness_follows_the_controller_and_health_is_always_ok() {
    let fx = Fixture::start(1).await;
    let get = |path: &'static str| {
        let http = fx.http.clone();
        let url = fx.metrics_url(path);
        async move { http.get(url).send().await.expect("probe").status().as_u16() }
    };
    assert_eq!(get("/healthz").await, 200);
    assert_eq!(get("/readyz").await, 503);
    fx.ready.send(true).expect("ready");
    assert_eq!(get("/readyz").await, 200);
    assert_eq!(get("/healthz").await, 200);
    // The probes live on the metrics listener only.
    let resp = fx.http.get(fx.url("/readyz")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 404);

    // Cancelling stops both listeners.
    fx.cancel.cancel();
    let api = fx.bound.api;
    tokio::time::timeout(Duration::from_secs(10), fx.bound.stopped())
        .await
        .expect("stops in time")
        .expect("clean stop");
    assert!(tokio::net::TcpStream::connect(api).await.is_err());
}

#[tokio::test]
async fn the_api_serves_each_apps_status() {
    let fx = Fixture::start(1).await;
    let mut analytics = AppStatus::unknown("analytics");
    analytics.sync = SyncStatus::OutOfSync;
    analytics.health = Health::Degraded;
    analytics.revision_seen = Some("59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5".into());
    let mut status = ControllerStatus::default();
    status.source.repository = REPO.into();
    status.source.reference = "main".into();
    status.apps = vec![AppStatus::unknown("platform"), analytics];
    fx.status.send(Arc::new(status.clone())).expect("publish");
    fx.metrics.set_app_states(&status);

    let get = |path: String| {
        let http = fx.http.clone();
        async move {
            let resp = http.get(path).send().await.expect("get");
            let code = resp.status().as_u16();
            let json: serde_json::Value = resp.json().await.expect("JSON");
            (code, json)
        }
    };
    let (code, all) = get(fx.url("/api/v1/apps")).await;
    assert_eq!(code, 200);
    assert_eq!(all["source"]["repository"], REPO);
    let names: Vec<&str> = all["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["platform", "analytics"]);

    let (code, one) = get(fx.url("/api/v1/apps/analytics")).await;
    assert_eq!(code, 200);
    assert_eq!(one["sync"], "OutOfSync");
    assert_eq!(one["health"], "Degraded");
    let back: AppStatus = serde_json::from_value(one).expect("an AppStatus");
    assert_eq!(&back, &status.apps[1]);

    // The API is read-only; every answer is JSON.
    let resp = fx
        .http
        .post(fx.url("/api/v1/apps"))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 405);
    let body: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(body["error"], "method_not_allowed");
    let (code, body) = get(fx.url("/api/v1/webhooks/github")).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );

    let (code, missing) = get(fx.url("/api/v1/apps/nope")).await;
    assert_eq!(code, 404);
    assert_eq!(missing["error"], "not_found");
    assert!(
        missing["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope"))
    );

    // `mortar app` reads the same from anywhere that reaches the API.
    let cli = |args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--server".to_string(), fx.url("/")]);
        let dir = fx._dir.path().to_path_buf();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::harness::run(crate::harness::command(&dir, &args, false)).await
        }
    };
    let list = cli(&["app", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("platform"), "{}", list.stdout);
    let line = list
        .stdout
        .lines()
        .find(|l| l.contains("analytics"))
        .unwrap_or_else(|| panic!("no analytics in:\n{}", list.stdout));
    assert!(
        line.contains("OutOfSync") && line.contains("Degraded"),
        "{line}"
    );
    let one = cli(&["app", "get", "analytics", "--output", "json"]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    let got: ControllerStatus = serde_json::from_str(&one.stdout).expect("a status");
    assert_eq!(got.apps, vec![status.apps[1].clone()]);
    let unknown = cli(&["app", "get", "nope"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("has no app named nope"),
        "{}",
        unknown.stderr
    );
    let nobody = crate::harness::run(crate::harness::command(
        fx._dir.path(),
        &["app", "list", "--server", "http://127.0.0.1:9"],
        false,
    ))
    .await;
    assert_eq!(nobody.code, 1);
    assert!(
        nobody
            .stderr
            .contains("cannot reach the controller at http://127.0.0.1:9/"),
        "{}",
        nobody.stderr
    );

    let text = fx.scrape().await;
    let samples = parse_prometheus_text(&text);
    assert_eq!(
        samples["mortar_apps{sync=\"OutOfSync\",health=\"Degraded\"}"],
        1.0
    );
    assert_eq!(
        samples["mortar_apps{sync=\"Synced\",health=\"Healthy\"}"],
        0.0
    );
}

#[tokio::test]
async fn metrics_show_the_databricks_clients_requests() {
    let emu = emulator(EmulatorConfig {
        fault_rate: 0.4,
        fault_kinds: vec![FaultKind::Error500],
        seed: Some(11),
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ws = workspace(
        emu.base_url(),
        AuthConfig::Pat {
            token: secret_file(dir.path(), "pat", &emu.token()),
        },
    );
    // A small budget, so the rate limiter holds requests back.
    ws.limits.requests_per_second = 5.0;
    let client = Client::new("prod", &ws).expect("client");
    let fx = Fixture::start(1).await;
    fx.metrics.set_request_stats(vec![client.request_stats()]);
    for _ in 0..10 {
        client.get("/api/2.2/jobs/list", &[]).await.expect("list");
    }
    let missing = client
        .get("/api/2.2/jobs/get", &[("job_id", "424242")])
        .await;
    assert!(missing.is_err());

    let text = fx.scrape().await;
    let samples = parse_prometheus_text(&text);
    let requests = |endpoint: &str, status: &str| {
        samples[&format!(
            "mortar_databricks_requests_total{{workspace=\"prod\",endpoint=\"{endpoint}\",status=\"{status}\"}}"
        )]
    };
    assert_eq!(requests("jobs", "2xx"), 10.0);
    assert_eq!(requests("jobs", "4xx"), 1.0);
    assert!(requests("jobs", "5xx") >= 1.0, "{text}");
    assert_eq!(requests("clusters", "2xx"), 0.0);
    let waited = samples["mortar_databricks_rate_limit_wait_seconds_total{workspace=\"prod\",endpoint=\"jobs\"}"];
    assert!(waited > 0.5, "waited {waited}s\n{text}");
    // No label value carries an id or a path.
    assert!(
        !text.contains("424242") && !text.contains("/api/"),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_secret_file_stops_the_start_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config(dir.path());
    config.webhooks.github = Some(HmacWebhook {
        secret: SecretRef::File(dir.path().join("absent")),
    });
    let (pushes, _rx) = mpsc::channel(1);
    let (_status, status_rx) = watch::channel(Arc::new(ControllerStatus::default()));
    let (_ready, ready_rx) = watch::channel(false);
    let state = ServerState {
        status: status_rx,
        pushes,
        ready: ready_rx,
        metrics: Arc::new(Metrics::new()),
        source: WatchedSource {
            url: REPO.into(),
            reference: "main".into(),
        },
        tree: watch::channel(Arc::default()).1,
        plans: watch::channel(Arc::default()).1,
        audit_log: None,
        control: Arc::new(NoCommands),
    };
    let err = server::serve(&config, state, CancellationToken::new())
        .await
        .expect_err("refused");
    assert!(matches!(err, ServerError::Secret { .. }));
    assert_eq!(err.metric_label(), "secret");
    let message = err.to_string();
    assert!(
        message.contains("server.webhooks.github.secret"),
        "{message}"
    );
}

/// Posts `chunks` chunks of `size` bytes with chunked transfer encoding
/// (no `Content-Length`) and returns the raw answer, possibly empty.
async fn chunked_post(
    addr: std::net::SocketAddr,
    path: &str,
    chunks: usize,
    size: usize,
) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let chunk = "y".repeat(size);
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-GitHub-Event: push\r\n\
         X-Hub-Signature-256: sha256=00\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for _ in 0..chunks {
        request.push_str(&format!("{size:x}\r\n{chunk}\r\n"));
    }
    request.push_str("0\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Parses the Prometheus text format (0.0.4) strictly, checking its rules:
/// every sample belongs to a family declared by `# TYPE` before it, names
/// and label names are valid, label values are quoted and escaped, values
/// are numbers, no series repeats, and histogram buckets are cumulative
/// with `+Inf` equal to `_count`. Returns `name{labels}` → value.
fn parse_prometheus_text(text: &str) -> BTreeMap<String, f64> {
    fn valid_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: BTreeSet<String> = BTreeSet::new();
    let mut samples = BTreeMap::new();
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (parts.next(), parts.next(), parts.next());
            let name = name.unwrap_or_else(|| panic!("no metric name: {line}"));
            assert!(valid_name(name), "bad name: {line}");
            match kind {
                Some("HELP") => assert!(helps.insert(name.to_string()), "two HELP: {line}"),
                Some("TYPE") => {
                    let t = tail.unwrap_or_default();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "bad type: {line}"
                    );
                    assert!(
                        types.insert(name.to_string(), t.to_string()).is_none(),
                        "two TYPE: {line}"
                    );
                }
                _ => panic!("unknown comment: {line}"),
            }
            continue;
        }
        assert!(!line.starts_with('#'), "bad comment: {line}");
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (
                name,
                rest.strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}")),
            ),
            None => (series, ""),
        };
        assert!(valid_name(name), "bad sample name: {line}");
        let mut le = None;
        let mut rest = labels;
        let mut plain = Vec::new();
        while !rest.is_empty() {
            let (key, after) = rest
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(
                valid_name(key) && !key.contains(':'),
                "bad label name: {line}"
            );
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        other => panic!("bad escape {other:?}: {line}"),
                    },
                    Some((i, '"')) => break i,
                    Some((_, c)) => value.push(c),
                    None => panic!("unterminated label value: {line}"),
                }
            };
            if key == "le" {
                le = Some(value.clone());
            } else {
                plain.push(format!("{key}={value:?}"));
            }
            rest = after[end + 1..]
                .strip_prefix(',')
                .unwrap_or(&after[end + 1..]);
        }
        let family = types
            .keys()
            .filter(|f| {
                name == f.as_str()
                    || (types[*f] == "histogram"
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name == format!("{f}{s}")))
                    || (name == format!("{f}_info") && types[*f] == "gauge")
            })
            .max_by_key(|f| f.len())
            .unwrap_or_else(|| panic!("sample of an undeclared family: {line}"));
        if types[family] == "histogram" && name.ends_with("_bucket") {
            let le = le.unwrap_or_else(|| panic!("bucket without le: {line}"));
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or_else(|_| panic!("bad le: {line}"))
            };
            buckets
                .entry(format!("{family}{{{}}}", plain.join(",")))
                .or_default()
                .push((bound, value));
        }
        let key = if labels.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{labels}}}")
        };
        assert!(
            samples.insert(key, value).is_none(),
            "repeated series: {line}"
        );
    }
    for (series, list) in &buckets {
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "buckets not cumulative: {series}"
        );
        let last = list.last().expect("a bucket");
        assert_eq!(last.0, f64::INFINITY, "no +Inf bucket: {series}");
        let (family, labels) = series.split_once('{').expect("braces");
        let labels = labels.trim_end_matches('}');
        let count_key = if labels.is_empty() {
            format!("{family}_count")
        } else {
            format!("{family}_count{{{labels}}}")
        };
        assert_eq!(
            samples.get(&count_key),
            Some(&last.1),
            "{series}: +Inf != count"
        );
    }
    samples
}

#[test]
fn the_parser_refuses_what_the_format_forbids() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    assert_eq!(parse_prometheus_text(ok)["a_total{x=\"1\"}"], 2.0);
    for bad in [
        "a_total 1\n",
        "# TYPE a counter\na{x=1} 1\n",
        "# TYPE a counter\na one\n",
        "# TYPE a counter\na 1\na 2\n",
        "# TYPE 1a counter\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_prometheus_text(bad)).is_err(),
            "accepted: {bad}"
        );
    }
}
