//! The daemon's API behind a real IdP (`tests/idp`): bots calling with
//! bearer JWTs from the client-credentials grant, people signing in through
//! the authorization code flow (driven here over plain HTTP: the IdP's own
//! login page is fetched and filled in), the repository's AccessPolicy
//! deciding, every request and denial audited — and the attacks that must
//! fail closed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mortar::audit::AuditRecord;
use mortar::audit::history::{HistoryOptions, history};
use mortar::model::SyncStatus;
use mortar_emulator::EmulatorConfig;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use super::daemon_support::{GROUP, ROOT, git, job, synced_at, wait_for};
use super::databricks_support::{Idp, emulator};

const APPS: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: base }
spec:
  source: { path: base }
  destination: { workspace: dev }
  syncPolicy: { automated: { prune: true, selfHeal: true } }
---
apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  source: { path: team }
  destination: { workspace: dev }
";

/// Groups bound exactly; `mortar` (a bot) reads, `mortar-ci` operates.
const ACCESS: &str = "apiVersion: mortar.dev/v1alpha1
kind: AccessPolicy
metadata: { name: mortar }
spec:
  bindings:
    - role: viewer
      groups: [mortar-viewers]
      subjects: [mortar]
    - role: operator
      groups: [mortar-operators]
      subjects: [mortar-ci]
    - role: admin
      groups: [mortar-admins]
";

const AUDIENCE: &str = "https://mortar.example/api";

/// A workspace, the IdP, a repository with an AccessPolicy, and a
/// `mortar.yaml` whose server signs people in through the IdP.
pub(super) struct Env {
    dir: tempfile::TempDir,
    dev: mortar_emulator::RunningEmulator,
    idp: Idp,
    pub(super) first: String,
}

impl Env {
    pub(super) async fn start() -> Env {
        Env::start_with(true).await
    }

    /// As [`Env::start`], with no `server.auth`: loopback only.
    pub(super) async fn start_without_sign_in() -> Env {
        Env::start_with(false).await
    }

    async fn start_with(sign_in: bool) -> Env {
        let dev = emulator(EmulatorConfig::default()).await;
        let idp = Idp::start().await;
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for (path, text) in [
            ("root.yaml", ROOT),
            ("access.yaml", ACCESS),
            ("apps/apps.yaml", APPS),
            ("base/group.yaml", GROUP),
            ("team/job.yaml", &job(1)),
        ] {
            let full = repo.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        let first = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
        std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
        std::fs::write(dir.path().join("web-secret"), "mortar-web-secret\n").unwrap();
        let auth = format!(
            "  auth:
    issuer: {}
    client_id: mortar-web
    client_secret: {{ file: web-secret }}
    cli_client_id: mortar-cli
    audiences: ['{AUDIENCE}']
    clock_skew: 1s
",
            idp.issuer
        );
        let config = format!(
            "source: {{ git: {{ repo: repo, revision: main }} }}
workspaces:
  dev:
    host: {}
    auth: {{ method: pat, token: {{ file: pat }} }}
controller: {{ drift_interval: 1h, shutdown_grace: 10s }}
server:
  listen: '127.0.0.1:0'
  metrics_listen: '127.0.0.1:0'
{}",
            dev.base_url(),
            if sign_in { auth.as_str() } else { "" }
        );
        std::fs::write(dir.path().join("mortar.yaml"), config).unwrap();
        Env {
            dir,
            dev,
            idp,
            first,
        }
    }

    pub(super) fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub(super) fn config(&self) -> PathBuf {
        self.dir.path().join("mortar.yaml")
    }

    fn records(&self) -> Vec<AuditRecord> {
        std::fs::read_to_string(self.dir.path().join("state/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The `observed` records of requests to the API.
    fn requests(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .map(|r| serde_json::to_value(&r.event).unwrap())
            .filter(|e| e["requested_by"].is_object())
            .collect()
    }

    /// How many jobs named `nightly` the workspace has.
    async fn nightly_jobs(&self) -> usize {
        super::databricks_support::jobs_named(&self.dev, "nightly")
            .await
            .len()
    }

    /// Commits `files` (a `None` text deletes the file); returns the commit.
    fn commit(&self, files: &[(&str, Option<&str>)], message: &str) -> String {
        let repo = self.dir.path().join("repo");
        for (path, text) in files {
            let full = repo.join(path);
            match text {
                Some(t) => std::fs::write(full, t).unwrap(),
                None => std::fs::remove_file(full).unwrap(),
            }
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", message]);
        git(&repo, &["rev-parse", "HEAD"]).trim().to_string()
    }

    async fn bot_token(&self, client: &str) -> String {
        self.idp
            .token(client, &format!("{client}-secret"), AUDIENCE)
            .await
    }
}

/// `method path` on the daemon's API with a bearer token.
async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.expect("the daemon answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn post(base: &str, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let (status, body, _) = call(base, reqwest::Method::POST, path, token, None).await;
    (status, body)
}

/// A browser without a browser: cookies by name (the IdP's and the
/// daemon's share 127.0.0.1; the IdP names its own `idp_*`), redirects
/// followed by hand.
struct Visitor {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Visitor {
    fn new() -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let cleared = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if cleared {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("an answer");
        self.take_cookies(&response);
        response
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let request = self.http.get(url);
        self.send(request).await
    }

    /// The session cookie's value, if it holds one.
    fn session(&self) -> Option<String> {
        self.cookies.get("mortar_session").cloned()
    }

    /// Signs in at `base` (the daemon) through the IdP's login page as
    /// `login`; returns where the daemon sent the browser in the end.
    async fn sign_in(&mut self, base: &str, login: &str, password: &str, back: &str) -> String {
        let mut url = format!("{base}/auth/login?return={back}");
        for _ in 0..20 {
            let response = self.get(&url).await;
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()[LOCATION].to_str().unwrap().to_string();
                let next = response.url().join(&location).unwrap().to_string();
                if next.starts_with(base) && !next.contains("/auth/") {
                    return location;
                }
                url = next;
                continue;
            }
            let page = response.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{url}: {page}");
            assert!(
                page.contains("name=\"password\""),
                "a login page at {url}: {page}"
            );
            let action = page
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("the form's action");
            let target = reqwest::Url::parse(&url).unwrap().join(action).unwrap();
            let request = self
                .http
                .post(target.clone())
                .form(&[("login", login), ("password", password)]);
            let response = self.send(request).await;
            if response.status() == StatusCode::UNAUTHORIZED {
                return "refused by the IdP".into();
            }
            assert!(
                response.status().is_redirection(),
                "the login form answered {}",
                response.status()
            );
            let location = response.headers()[LOCATION].to_str().unwrap();
            url = target.join(location).unwrap().to_string();
        }
        panic!("the sign-in did not end within 20 steps");
    }

    /// `GET /auth/me`: who the daemon thinks this browser is.
    async fn me(&mut self, base: &str) -> (StatusCode, Value) {
        let response = self.get(&format!("{base}/auth/me")).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A command as the web view sends it: the session cookie, and the
    /// CSRF token in its header (when given).
    async fn command(
        &mut self,
        base: &str,
        path: &str,
        csrf: Option<&str>,
        origin: Option<&str>,
    ) -> (StatusCode, Value) {
        self.command_with(base, path, csrf, origin, None).await
    }

    async fn command_with(
        &mut self,
        base: &str,
        path: &str,
        csrf: Option<&str>,
        origin: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{base}{path}"));
        if let Some(b) = body {
            request = request.json(&b);
        }
        if let Some(token) = csrf {
            request = request.header("X-CSRF-Token", token);
        }
        if let Some(o) = origin {
            request = request.header("Origin", o);
        }
        let response = self.send(request).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Waits until the daemon has synced `base` and holds the manual `team`
/// back; returns the API's base URL.
pub(super) async fn team_waiting(
    handle: &mut mortar::controller::DaemonHandle,
    env: &Env,
) -> String {
    wait_for(handle, "base synced, team waiting", |s| {
        synced_at(s, "base", &env.first)
            && s.app("team")
                .is_some_and(|a| a.sync == SyncStatus::OutOfSync)
    })
    .await;
    api_base(handle)
}

fn api_base(handle: &mortar::controller::DaemonHandle) -> String {
    let bound = handle.bound.borrow().expect("the daemon listens");
    format!("http://{}", bound.api)
}

pub(super) fn team_history(env: &Env) -> Vec<mortar::audit::history::SyncEntry> {
    history(
        &env.records(),
        &HistoryOptions {
            app: Some("team".into()),
            ..HistoryOptions::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_syncs_a_manual_app_and_a_viewer_bot_is_refused_and_audited() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;

        // The OpenAPI document is public, and the committed one.
        let (status, doc, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/openapi.json",
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(doc, committed);

        // No credential: 401 with a challenge; reads too.
        let (status, body, headers) =
            call(&base, reqwest::Method::GET, "/api/v1/apps", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );

        // A viewer bot reads every app, and may not sync.
        let viewer = env.bot_token("mortar").await;
        let (status, body, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/apps",
            Some(&viewer),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["apps"].as_array().unwrap().len(), 3, "{body}");
        let (status, body) = post(&base, "/api/v1/apps/team/sync", Some(&viewer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            body["message"],
            "mortar holds viewer; none of them allows sync on team"
        );

        // The operator bot syncs the manual app; the sync is its.
        let ci = env.bot_token("mortar-ci").await;
        let (status, body) = post(&base, "/api/v1/apps/team/sync", Some(&ci)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["command"], "sync");
        wait_for(&mut handle, "team synced on request", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        let synced = team_history(&env);
        assert_eq!(synced[0].trigger, "api");
        assert_eq!(synced[0].person.as_deref(), Some("mortar-ci"));
        assert_eq!(synced[0].counts.created, 1);

        // Both requests are in the trail, the denial with its reason.
        let requests = env.requests();
        let denied = requests
            .iter()
            .find(|e| e["action"] == "access_denied")
            .expect("the denial is audited");
        assert_eq!(denied["app"], "team");
        assert_eq!(denied["requested_by"]["subject"], "mortar");
        assert_eq!(denied["requested_by"]["proof"], "bearer");
        assert!(
            denied["outcome"]["error"]
                .as_str()
                .unwrap()
                .contains("none of them allows sync"),
            "{denied}"
        );
        let asked = requests
            .iter()
            .find(|e| e["action"] == "sync_requested")
            .expect("the request is audited");
        assert_eq!(asked["requested_by"]["subject"], "mortar-ci");
        assert_eq!(asked["outcome"], "ok");

        // The metrics count requests by action and result, never by who.
        let metrics = reqwest::get(format!(
            "http://{}/metrics",
            handle.bound.borrow().unwrap().metrics
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        for line in [
            r#"mortar_api_requests_total{action="sync",result="forbidden"} 1"#,
            r#"mortar_api_requests_total{action="sync",result="accepted"} 1"#,
            r#"mortar_api_requests_total{action="authenticate",result="missing"} 1"#,
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
        assert!(!metrics.contains("mortar-ci"), "no subject in labels");

        // Refresh, pause and resume need their own rights.
        let (status, _) = post(&base, "/api/v1/apps/team/refresh", Some(&ci)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (status, body) = post(&base, "/api/v1/apps/team/pause", Some(&ci)).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "operator may not pause: {body}"
        );
        let (status, body) = post(&base, "/api/v1/apps/nope/sync", Some(&ci)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body) = post(&base, "/api/v1/apps/team/explode", Some(&ci)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_may_be_a_dry_run_name_its_revision_or_prune_with_override() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let ci = env.bot_token("mortar-ci").await;
        let sync = |body: Value| {
            let (base, ci) = (base.clone(), ci.clone());
            async move {
                let (status, body, _) = call(
                    &base,
                    reqwest::Method::POST,
                    "/api/v1/apps/team/sync",
                    Some(&ci),
                    Some(body),
                )
                .await;
                (status, body)
            }
        };

        // A dry run plans and applies nothing.
        let (status, body) = sync(json!({ "dry_run": true })).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        wait_for(&mut handle, "the dry run's plan", |s| {
            s.app("team").is_some_and(|a| {
                a.conditions
                    .iter()
                    .any(|c| c.message.contains("a dry run found changes"))
            })
        })
        .await;
        assert_eq!(env.nightly_jobs().await, 0, "a dry run creates nothing");
        assert!(team_history(&env).is_empty());

        // A sync naming another revision than the one followed is refused;
        // naming the one followed, it goes ahead.
        let (status, body) = sync(json!({ "revision": "0000000" })).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("not 0000000"),
            "{body}"
        );
        let (status, body) = sync(json!({ "revision": "main" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = sync(json!({ "revision": &env.first[..10] })).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        wait_for(&mut handle, "team synced", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        assert_eq!(env.nightly_jobs().await, 1);

        // The job leaves Git (a group takes its place); the app does not
        // prune, so a sync would leave the job.
        let readers = GROUP.replace("analysts", "team-readers");
        let second = env.commit(&[("team/job.yaml", Some(&readers))], "a group for the job");
        handle
            .nudges
            .send(mortar::controller::Nudge::Source)
            .await
            .unwrap();
        wait_for(&mut handle, "team at the new revision", |s| {
            s.app("team")
                .is_some_and(|a| a.revision_seen.as_deref() == Some(second.as_str()))
        })
        .await;
        assert_eq!(env.nightly_jobs().await, 1);

        // Pruning beyond the app's policy needs `override`: an operator
        // lacks it, an admin has it.
        let (status, body) = sync(json!({ "prune": true })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("override"),
            "{body}"
        );
        let mut ada = Visitor::new();
        ada.sign_in(&base, "ada", "ada-password", "/").await;
        let csrf = ada.me(&base).await.1["csrf"].as_str().unwrap().to_string();
        let (status, body) = ada
            .command_with(
                &base,
                "/api/v1/apps/team/sync",
                Some(&csrf),
                None,
                Some(json!({ "prune": true })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("deleting what left Git"),
            "{body}"
        );
        for _ in 0..100 {
            if env.nightly_jobs().await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(env.nightly_jobs().await, 0, "pruned on request");
        let pruned = &team_history(&env)[0];
        assert_eq!((pruned.counts.created, pruned.counts.deleted), (1, 1));
        assert_eq!(pruned.person.as_deref(), Some("ada <ada@example.com>"));
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_must_not_pass_are_refused() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let refused = |token: String, why: &'static str| {
            let base = base.clone();
            async move {
                let (status, body, headers) = call(
                    &base,
                    reqwest::Method::GET,
                    "/api/v1/apps",
                    Some(&token),
                    None,
                )
                .await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
                let challenge = headers["www-authenticate"].to_str().unwrap().to_string();
                assert!(challenge.contains("invalid_token"), "{why}: {challenge}");
                challenge
            }
        };
        let good = env.bot_token("mortar-ci").await;
        let (status, _, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/apps",
            Some(&good),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        // Another audience.
        let other = env
            .idp
            .token("mortar-ci", "mortar-ci-secret", "https://other.example/")
            .await;
        let c = refused(other, "wrong audience").await;
        assert!(c.contains("another audience"), "{c}");

        // Expired: mortar-short's tokens live 1 s, and clock_skew is 1 s.
        let short = env
            .idp
            .token("mortar-short", "mortar-short-secret", AUDIENCE)
            .await;
        tokio::time::sleep(Duration::from_millis(3200)).await;
        let c = refused(short, "expired").await;
        assert!(c.contains("expired"), "{c}");

        // `alg: none`: the good token's claims, unsigned.
        let claims = good.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let c = refused(format!("{header}.{claims}."), "alg none").await;
        assert!(c.contains("algorithm"), "{c}");

        // HS256 "signed" with a guessable secret, naming the IdP's key.
        let kid = serde_json::from_slice::<Value>(
            &URL_SAFE_NO_PAD
                .decode(good.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_string();
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        hs.kid = Some(kid);
        let forged = jsonwebtoken::encode(
            &hs,
            &payload,
            &jsonwebtoken::EncodingKey::from_secret(b"mortar-ci-secret"),
        )
        .unwrap();
        let c = refused(forged, "HS256").await;
        assert!(c.contains("algorithm"), "{c}");

        // A key the IdP never published.
        let (key, _) = test_key();
        let mut unknown = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        unknown.kid = Some("made-up".into());
        let forged = jsonwebtoken::encode(&unknown, &payload, &key).unwrap();
        let c = refused(forged, "unknown kid").await;
        assert!(c.contains("no key"), "{c}");

        // A token from another issuer (another IdP, its own keys).
        let stranger = Idp::start().await;
        let theirs = stranger
            .token("mortar-ci", "mortar-ci-secret", AUDIENCE)
            .await;
        refused(theirs, "another issuer").await;

        // Garbage.
        refused("not.a.jwt".into(), "garbage").await;
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

/// A throwaway Ed25519 signing key (RFC 8037's example key).
fn test_key() -> (jsonwebtoken::EncodingKey, &'static str) {
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
    (
        jsonwebtoken::EncodingKey::from_ed_pem(PEM.as_bytes()).unwrap(),
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_idp_key_is_fetched_when_a_token_names_it() {
    let mut env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let before = env.bot_token("mortar-ci").await;
        let (status, _, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/apps",
            Some(&before),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let fetched = std::time::Instant::now();

        // The IdP restarts on the same address with a new signing key.
        let port = env.idp.port();
        let old = std::mem::replace(&mut env.idp, Idp::start().await);
        old.stop().await;
        let placeholder = std::mem::replace(&mut env.idp, Idp::start_on(port).await);
        drop(placeholder);
        let after = env.bot_token("mortar-ci").await;
        assert_ne!(kid_of(&before), kid_of(&after), "a new key");
        // Keys are fetched again at most every few seconds.
        let spacing = mortar::server::auth::bearer::REFRESH_SPACING;
        if let Some(rest) = spacing.checked_sub(fetched.elapsed()) {
            tokio::time::sleep(rest + Duration::from_millis(100)).await;
        }
        let (status, body, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/apps",
            Some(&after),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The old key is gone from the IdP, and so from the daemon.
        let (status, _, _) = call(
            &base,
            reqwest::Method::GET,
            "/api/v1/apps",
            Some(&before),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

fn kid_of(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_and_only_their_exact_groups_count() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;

        // A wrong password signs nobody in.
        let mut stranger = Visitor::new();
        assert_eq!(
            stranger.sign_in(&base, "otto", "guess", "/").await,
            "refused by the IdP"
        );
        assert!(stranger.session().is_none());
        assert_eq!(stranger.me(&base).await.0, StatusCode::UNAUTHORIZED);

        // Vera, a viewer, signs in and comes back where she asked to.
        let mut vera = Visitor::new();
        assert_eq!(
            vera.sign_in(&base, "vera", "vera-password", "/apps/team")
                .await,
            "/apps/team"
        );
        let (status, me) = vera.me(&base).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["subject"], "vera");
        assert_eq!(me["email"], "vera@example.com");
        assert_eq!(me["groups"], json!(["mortar-viewers"]));
        assert_eq!(me["proof"], "session");
        let csrf = me["csrf"].as_str().unwrap().to_string();
        let (status, body) = vera
            .command(&base, "/api/v1/apps/team/sync", Some(&csrf), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        // Eve's groups look like patterns and role names: they match nothing.
        let mut eve = Visitor::new();
        eve.sign_in(&base, "eve", "eve-password", "/").await;
        let (_, me) = eve.me(&base).await;
        assert_eq!(me["groups"], json!(["*", "mortar-*", "admin"]));
        let csrf_eve = me["csrf"].as_str().unwrap().to_string();
        let (status, body) = eve
            .command(&base, "/api/v1/apps/team/sync", Some(&csrf_eve), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            body["message"],
            "eve holds no role; the access policy does not allow sync on team"
        );

        // Otto, an operator: without the page's token, or from another
        // site, his browser's request is refused; with it, he syncs.
        let mut otto = Visitor::new();
        otto.sign_in(&base, "otto", "otto-password", "/").await;
        let (_, me) = otto.me(&base).await;
        let csrf = me["csrf"].as_str().unwrap().to_string();
        for (token, origin) in [
            (None, None),
            (Some("not-the-token"), None),
            (Some(csrf.as_str()), Some("http://evil.example")),
        ] {
            let (status, body) = otto
                .command(&base, "/api/v1/apps/team/sync", token, origin)
                .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{token:?} {origin:?}: {body}"
            );
            assert_eq!(body["error"], "csrf");
        }
        // Every command, as JSON and as the web view's form, wants it.
        for command in mortar::server::control::Command::NAMES {
            for path in [
                format!("/api/v1/apps/team/{command}"),
                format!("/apps/team/{command}"),
            ] {
                let (status, _) = otto.command(&base, &path, None, None).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{path} without the token");
            }
        }
        let (status, body) = otto
            .command(&base, "/api/v1/apps/team/sync", Some(&csrf), Some(&base))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        wait_for(&mut handle, "team synced on Otto's request", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        assert_eq!(
            team_history(&env)[0].person.as_deref(),
            Some("otto <otto@example.com>")
        );

        // Signing out ends the session on the server: the old cookie is dead.
        let old = otto.session().unwrap();
        let (status, _) = otto.command(&base, "/auth/logout", None, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "sign-out needs the token too"
        );
        let (status, _) = otto.command(&base, "/auth/logout", Some(&csrf), None).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(otto.session().is_none());
        otto.cookies.insert("mortar_session".into(), old);
        assert_eq!(otto.me(&base).await.0, StatusCode::UNAUTHORIZED);
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attacks_fail_closed() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;

        // Session fixation: Vera's session cookie planted in Otto's
        // browser before he signs in stays Vera's; Otto gets a new one.
        let mut vera = Visitor::new();
        vera.sign_in(&base, "vera", "vera-password", "/").await;
        let planted = vera.session().unwrap();
        let mut victim = Visitor::new();
        victim
            .cookies
            .insert("mortar_session".into(), planted.clone());
        victim.sign_in(&base, "otto", "otto-password", "/").await;
        let fresh = victim.session().unwrap();
        assert_ne!(fresh, planted);
        assert_eq!(victim.me(&base).await.1["subject"], "otto");
        assert_eq!(vera.me(&base).await.1["subject"], "vera");

        // A session id of our own making is no session.
        let mut forger = Visitor::new();
        forger
            .cookies
            .insert("mortar_session".into(), "0".repeat(64));
        assert_eq!(forger.me(&base).await.0, StatusCode::UNAUTHORIZED);

        // Open redirect: the return URL stays on the server.
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/%5Cevil.example",
            "/\\evil.example",
        ] {
            let mut v = Visitor::new();
            let to = v
                .sign_in(&base, "vera", "vera-password", &urlencode(evil))
                .await;
            assert!(
                to == "/" || to == "/%5Cevil.example",
                "{evil} sent the browser to {to}"
            );
        }

        // Login CSRF: a callback with a state this browser did not start.
        let mut attacker = Visitor::new();
        let response = attacker.get(&format!("{base}/auth/login")).await;
        let to_idp = response.headers()[LOCATION].to_str().unwrap().to_string();
        let state = reqwest::Url::parse(&to_idp)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let mut victim = Visitor::new();
        let response = victim
            .get(&format!("{base}/auth/callback?code=stolen&state={state}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(victim.session().is_none());

        // Path traversal in an app name finds no app.
        let ci = env.bot_token("mortar-ci").await;
        for name in ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "team%2F..%2Fbase"] {
            let (status, body) = post(&base, &format!("/api/v1/apps/{name}/sync"), Some(&ci)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {body}");
        }
        // An oversized command body.
        let (status, _, _) = call(
            &base,
            reqwest::Method::POST,
            "/api/v1/apps/team/rollback",
            Some(&ci),
            Some(json!({ "revision": "x".repeat(1 << 20) })),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
