//! The secret-leak sweep: one whole life of Mortar with a sentinel value for
//! every secret it holds — a PAT, an OAuth M2M client secret, the IdP's
//! client secret, a federation JWT, a webhook secret (which also keys the
//! notifications and the audit webhook), and SecretScope values from an
//! environment variable and a file. Every output is captured: the stdout
//! and stderr of each command (JSON logs at trace level), the audit trail,
//! inventories and status files, `/metrics`, every answer of Mortar's API
//! (error bodies included), and every notification and audit record posted
//! out. No sentinel may appear anywhere, as is or base64-encoded at any
//! alignment.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use mortar_emulator::{
    EmulatorConfig, FaultKind, FaultSettings, OAuthClient, RunningEmulator, Secret,
};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::daemon_support::git;
use super::databricks_support::{Idp, emulator, trusting_idp};

const PAT: &str = "dapi-sentinel-pat-7e1c0b5a93d2";
const M2M_ID: &str = "6f1f4a3e-0000-4000-8000-00000000beef";
const M2M_SECRET: &str = "m2m-sentinel-secret-4f2a9c7e11d0";
const IDP_SECRET: &str = "idp-sentinel-secret-8b3e6d20c4f1";
const HOOK_SECRET: &str = "hook-sentinel-secret-25d9a7f0e6b3";
const SCOPE_ENV_VALUE: &str = "scope-sentinel-env-value-c1d4e7f0";
const SCOPE_FILE_VALUE: &str = "scope-sentinel-file-value-9a8b7c6d";
const SP: &str = "0c8c5e8f-1111-4222-8333-44445555beef";
const AUDIENCE: &str = "https://workspace.example/";

/// Everything Mortar said or wrote, by where it came from.
#[derive(Default)]
struct Captured {
    outputs: Vec<(String, Vec<u8>)>,
}

impl Captured {
    fn add(&mut self, what: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.outputs.push((what.into(), bytes.into()));
    }

    /// Every file under `dir`.
    fn add_tree(&mut self, what: &str, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                self.add_tree(what, &path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                self.add(format!("{what} {}", path.display()), bytes);
            }
        }
    }

    /// Where each sentinel was found, as is or base64-encoded.
    fn leaks(&self, sentinels: &[(&str, &str)]) -> Vec<String> {
        let mut found = Vec::new();
        for (what, bytes) in &self.outputs {
            let decoded = base64_runs(bytes);
            for (name, value) in sentinels {
                if contains(bytes, value.as_bytes()) {
                    found.push(format!("{name} in {what}"));
                } else if decoded.iter().any(|d| contains(d, value.as_bytes())) {
                    found.push(format!("{name} (base64) in {what}"));
                }
            }
        }
        found
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes every run of base64 characters in `text` decodes to, at each
/// of the four alignments, in the standard and URL-safe alphabets.
fn base64_runs(text: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let lenient = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone);
    let engines = [
        GeneralPurpose::new(&base64::alphabet::STANDARD, lenient),
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient),
    ];
    let is_b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let mut out = Vec::new();
    for run in text.split(|b| !is_b64(b)).filter(|r| r.len() >= 16) {
        for shift in 0..4 {
            let body = &run[shift..];
            // A last lone character carries no whole byte.
            let body = if body.len() % 4 == 1 {
                &body[..body.len() - 1]
            } else {
                body
            };
            for engine in &engines {
                if let Ok(bytes) = engine.decode(body) {
                    out.push(bytes);
                }
            }
        }
    }
    out
}

/// A receiver on loopback keeping every body posted to it.
async fn receiver(bodies: Arc<Mutex<Vec<Vec<u8>>>>) -> String {
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let bodies = bodies.clone();
        async move {
            bodies.lock().unwrap().push(body.to_vec());
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Life {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    idp: Idp,
    jwt: String,
    captured: Captured,
    posted: Arc<Mutex<Vec<Vec<u8>>>>,
    receiver: String,
    http: reqwest::Client,
    /// What the last command printed, for failure messages.
    last: String,
}

const MANIFESTS: &[(&str, &str)] = &[
    (
        "root.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n  project: data\n  syncPolicy: { automated: { selfHeal: true } }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Project\nmetadata: { name: data }\nspec:\n  destinations: [{ workspace: dev }]\n  sourcePaths: [team]\n",
    ),
    (
        "team/resources.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: analysts }\nspec: { displayName: analysts }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: { name: nightly }\nspec:\n  name: nightly\n  max_concurrent_runs: 1\n  tasks:\n    - task_key: t\n      notebook_task: { notebook_path: /Shared/x }\n---\napiVersion: mortar.dev/v1alpha1\nkind: SecretScope\nmetadata: { name: etl }\nspec: { scope: etl }\nsecrets:\n  - key: from-env\n    fromEnv: SWEEP_SCOPE_VALUE\n  - key: from-file\n    fromFile: partner-token\n",
    ),
];

impl Life {
    async fn start() -> Life {
        let idp = Idp::start_with_secret(IDP_SECRET).await;
        let dev = emulator(EmulatorConfig {
            tokens: vec![Secret::new(PAT)],
            oauth_clients: vec![OAuthClient {
                client_id: M2M_ID.into(),
                client_secret: Secret::new(M2M_SECRET),
                service_principal: Some("mortar-m2m".into()),
                admin: true,
            }],
            federation_policies: vec![trusting_idp(&idp.issuer, AUDIENCE, SP)],
            ..EmulatorConfig::default()
        })
        .await;
        let jwt = idp.token("mortar", IDP_SECRET, AUDIENCE).await;
        let posted = Arc::new(Mutex::new(Vec::new()));
        let receiver = receiver(posted.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let repo = d.join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for (file, text) in MANIFESTS {
            let path = repo.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        std::fs::create_dir_all(d.join("scope")).unwrap();
        for (file, value) in [
            ("pat", PAT),
            ("hook-secret", HOOK_SECRET),
            ("jwt", jwt.as_str()),
            ("scope/partner-token", SCOPE_FILE_VALUE),
        ] {
            std::fs::write(d.join(file), value).unwrap();
        }
        Life {
            dir,
            dev,
            idp,
            jwt,
            captured: Captured::default(),
            posted,
            receiver,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            last: String::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `mortar.yaml` with the dev workspace authenticated by `auth`.
    fn write_config(&self, auth: &str) {
        let config = format!(
            "source: {{ git: {{ repo: repo, revision: main, interval: 1s }} }}\n\
             secrets:\n  projects:\n    data: {{ env: [SWEEP_SCOPE_VALUE], dir: scope }}\n\
             workspaces:\n  dev:\n    host: {host}\n    auth: {auth}\n    retry: {{ initial_backoff_ms: 10, max_backoff_ms: 50, max_attempts: 2 }}\n\
             controller: {{ drift_interval: 1s, shutdown_grace: 10s }}\n\
             server:\n  listen: '127.0.0.1:0'\n  metrics_listen: '127.0.0.1:0'\n  webhooks: {{ generic: {{ secret: {{ file: hook-secret }} }} }}\n\
             notifications:\n  - name: hook\n    webhook: {{ url: '{hook}/notify', secret: {{ file: hook-secret }} }}\n    on: [sync-failed, sync-succeeded, drift-detected, drift-healed, app-degraded, app-recovered]\n\
             audit:\n  sinks: [stdout, {{ webhook: {{ url: '{hook}/audit', secret: {{ file: hook-secret }} }} }}]\n",
            host = self.dev.base_url(),
            hook = self.receiver,
        );
        std::fs::write(self.path().join("mortar.yaml"), config).unwrap();
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"));
        cmd.current_dir(self.path())
            .args(["--log-format", "json"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("MORTAR_USER", "sweep")
            .env(
                "RUST_LOG",
                "trace,hyper=info,h2=info,rustls=info,kube=info,tower=info",
            )
            .env("SWEEP_SCOPE_VALUE", SCOPE_ENV_VALUE)
            .env("SWEEP_M2M_SECRET", M2M_SECRET)
            .env("SWEEP_IDP_SECRET", IDP_SECRET)
            .env("SWEEP_WRONG", "not-the-right-secret-value")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `mortar ARGS` to its end, keeping what it printed; its exit code.
    async fn mortar(&mut self, args: &[&str]) -> i32 {
        let out = tokio::time::timeout(Duration::from_secs(120), self.command(args).output())
            .await
            .expect("mortar finishes")
            .expect("mortar runs");
        let what = format!("`mortar {}`", args.join(" "));
        self.last = format!(
            "{what}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.captured.add(format!("{what} stdout"), out.stdout);
        self.captured.add(format!("{what} stderr"), out.stderr);
        out.status.code().unwrap_or(-1)
    }

    /// Runs `mortar ARGS`, which must exit with `code`.
    async fn expect(&mut self, args: &[&str], code: i32) {
        let got = self.mortar(args).await;
        assert_eq!(got, code, "{}", self.last);
    }

    /// Runs `mortar ARGS`, which must fail.
    async fn expect_failure(&mut self, args: &[&str]) {
        let got = self.mortar(args).await;
        assert_ne!(got, 0, "{}", self.last);
    }

    /// GET or POST to Mortar's own server; the answer is captured.
    async fn call(&mut self, what: &str, request: reqwest::RequestBuilder) -> u16 {
        let resp = request.send().await.expect("the daemon answers");
        let status = resp.status().as_u16();
        let headers = format!("{:?}", resp.headers());
        let body = resp.bytes().await.unwrap_or_default();
        self.captured.add(
            format!("{what} ({status})"),
            [headers.as_bytes(), &body].concat(),
        );
        status
    }

    async fn drift_a_job(&self) {
        let url = format!("{}/api/2.2/jobs/list?name=nightly", self.dev.base_url());
        let list: serde_json::Value = self
            .http
            .get(url)
            .bearer_auth(PAT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = list["jobs"][0]["job_id"].as_i64().expect("the job exists");
        let resp = self
            .http
            .post(format!("{}/api/2.2/jobs/update", self.dev.base_url()))
            .bearer_auth(PAT)
            .json(
                &serde_json::json!({ "job_id": id, "new_settings": { "max_concurrent_runs": 7 } }),
            )
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
    }
}

fn signed_push(repo: &Path, commit: &str, key: &str) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(&serde_json::json!({
        "repository": repo.display().to_string(),
        "ref": "refs/heads/main",
        "after": commit,
    }))
    .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&body);
    (
        body,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
    )
}

/// Keeps every line the daemon writes to stderr (JSON logs) from the
/// start, so the pipe never fills; the `serving` line's addresses (API,
/// metrics) are sent on as soon as it comes.
fn read_log(
    stderr: tokio::process::ChildStderr,
) -> (
    tokio::sync::oneshot::Receiver<(String, String)>,
    tokio::task::JoinHandle<Vec<u8>>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut tx = Some(tx);
        let mut lines = BufReader::new(stderr).lines();
        let mut out = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["message"] == "serving"
                && let Some(tx) = tx.take()
            {
                let field = |name: &str| v[name].as_str().unwrap_or_default().to_string();
                let _ = tx.send((field("api"), field("metrics")));
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out
    });
    (rx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_over_a_whole_life() {
    let mut life = Life::start().await;
    let pat_auth = "{ method: pat, token: { file: pat } }";
    life.write_config(pat_auth);

    // Pull-request review, then the first apply.
    life.expect(&["validate", "repo"], 0).await;
    life.expect(&["plan", "--config", "mortar.yaml"], 2).await;
    life.expect(&["plan", "--config", "mortar.yaml", "--output", "json"], 2)
        .await;
    life.expect(&["apply", "--config", "mortar.yaml", "--auto-approve"], 0)
        .await;
    // Drift made by hand, seen by plan, healed by apply.
    life.drift_a_job().await;
    life.expect(&["plan", "--config", "mortar.yaml"], 2).await;
    life.expect(&["apply", "--config", "mortar.yaml", "--auto-approve"], 0)
        .await;

    // A failed apply: every write answered 500.
    life.dev.set_faults(FaultSettings {
        fault_rate: 1.0,
        kinds: vec![FaultKind::Error500],
        ..FaultSettings::default()
    });
    std::fs::write(
        life.path().join("repo/team/more.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: late }\nspec: { displayName: late }\n",
    )
    .unwrap();
    git(&life.path().join("repo"), &["add", "-A"]);
    git(&life.path().join("repo"), &["commit", "-q", "-m", "more"]);
    life.expect_failure(&["apply", "--config", "mortar.yaml", "--auto-approve"])
        .await;
    life.dev.set_faults(FaultSettings::default());

    // Every auth method, right and wrong.
    let idp = life.idp.issuer.clone();
    let jwt_path = life.path().join("jwt").display().to_string();
    let good = BTreeMap::from([
        ("pat", pat_auth.to_string()),
        (
            "m2m",
            format!(
                "{{ method: oauth-m2m, client_id: {M2M_ID}, client_secret: {{ env: SWEEP_M2M_SECRET }} }}"
            ),
        ),
        (
            "idp",
            format!(
                "{{ method: oidc-federation, client_id: {SP}, idp: {{ issuer: '{idp}', client_id: mortar, client_secret: {{ env: SWEEP_IDP_SECRET }}, audience: '{AUDIENCE}' }} }}"
            ),
        ),
        (
            "token-file",
            format!("{{ method: oidc-federation, client_id: {SP}, token_file: {jwt_path} }}"),
        ),
    ]);
    for auth in good.values() {
        life.write_config(auth);
        life.expect(&["auth", "check", "--config", "mortar.yaml"], 0)
            .await;
    }
    std::fs::write(life.path().join("wrong-pat"), "dapi-wrong-0000").unwrap();
    std::fs::write(
        life.path().join("wrong-jwt"),
        &life.jwt[..life.jwt.len() - 8],
    )
    .unwrap();
    let wrong_jwt = life.path().join("wrong-jwt").display().to_string();
    // Each method with a wrong credential.
    for auth in [
        "{ method: pat, token: { file: wrong-pat } }".to_string(),
        format!(
            "{{ method: oauth-m2m, client_id: {M2M_ID}, client_secret: {{ env: SWEEP_WRONG }} }}"
        ),
        format!(
            "{{ method: oidc-federation, client_id: {SP}, idp: {{ issuer: '{idp}', client_id: mortar, client_secret: {{ env: SWEEP_WRONG }}, audience: '{AUDIENCE}' }} }}"
        ),
        format!("{{ method: oidc-federation, client_id: {SP}, token_file: {wrong_jwt} }}"),
    ] {
        life.write_config(&auth);
        life.expect(&["auth", "check", "--config", "mortar.yaml"], 1)
            .await;
        life.expect_failure(&["plan", "--config", "mortar.yaml"])
            .await;
    }

    // The daemon, on M2M, with webhooks, metrics, notifications and the
    // audit webhook; a drift it heals by itself.
    life.write_config(&good["m2m"]);
    let mut daemon = life
        .command(&["run", "--config", "mortar.yaml"])
        .spawn()
        .unwrap();
    let (served, log_rest) = read_log(daemon.stderr.take().unwrap());
    let stdout = daemon.stdout.take().unwrap();
    let daemon_stdout = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut reader = BufReader::new(stdout);
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut out).await;
        out
    });
    let (api, metrics) = tokio::time::timeout(Duration::from_secs(60), served)
        .await
        .expect("the daemon logs its addresses")
        .expect("the daemon runs");
    let repo = life.path().join("repo");
    let head = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    let status_url = format!("http://{api}/api/v1/apps/team");
    let started = std::time::Instant::now();
    loop {
        let resp: serde_json::Value = life
            .http
            .get(&status_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        if resp["revision_applied"] == head.as_str() && resp["sync"] == "Synced" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not synced: {resp}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    life.drift_a_job().await;
    let (body, signature) = signed_push(&repo, &head, HOOK_SECRET);
    let hooks = format!("http://{api}/api/v1/webhooks/generic");
    let good_hook = life
        .http
        .post(&hooks)
        .header("X-Mortar-Signature", &signature)
        .header("X-Mortar-Delivery", "sweep-1")
        .body(body.clone());
    let status = life.call("webhook, signed", good_hook).await;
    assert!(status == 200 || status == 202, "{status}");
    let (_, forged) = signed_push(&repo, &head, "not-the-secret");
    let bad_hook = life
        .http
        .post(&hooks)
        .header("X-Mortar-Signature", forged)
        .header("X-Mortar-Delivery", "sweep-2")
        .body(body);
    assert_eq!(life.call("webhook, forged", bad_hook).await, 401);
    let no_signature = life.http.post(&hooks).body("{}");
    assert_eq!(life.call("webhook, unsigned", no_signature).await, 401);
    for (what, url) in [
        ("apps", format!("http://{api}/api/v1/apps")),
        ("app", status_url.clone()),
        ("unknown app", format!("http://{api}/api/v1/apps/nope")),
        ("metrics", format!("http://{metrics}/metrics")),
        ("readyz", format!("http://{metrics}/readyz")),
    ] {
        let request = life.http.get(url);
        life.call(what, request).await;
    }
    // The drift heals (selfHeal) and is told.
    let started = std::time::Instant::now();
    while !life
        .posted
        .lock()
        .unwrap()
        .iter()
        .any(|b| contains(b, b"drift-healed"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no drift-healed notification"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let request = life.http.get(format!("http://{metrics}/metrics"));
    life.call("metrics after the heal", request).await;
    let pid = daemon.id().unwrap() as i32;
    // SAFETY: signals our own child, which has not been reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let exit = tokio::time::timeout(Duration::from_secs(30), daemon.wait())
        .await
        .expect("the daemon stops")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    life.captured
        .add("`mortar run` stderr", log_rest.await.unwrap());
    life.captured
        .add("`mortar run` stdout", daemon_stdout.await.unwrap());

    // Reading the trail back.
    let audit = life.path().join("state/audit.jsonl").display().to_string();
    life.expect(&["audit", "verify", &audit], 0).await;
    life.expect(&["audit", "show", &audit], 0).await;
    life.expect(&["audit", "history", "--config", "mortar.yaml"], 0)
        .await;
    life.mortar(&["status", "--config", "mortar.yaml"]).await;

    let state = life.path().join("state");
    life.captured.add_tree("state", &state);
    for (i, body) in life.posted.lock().unwrap().iter().enumerate() {
        life.captured.add(format!("posted body {i}"), body.clone());
    }
    let posted = life.posted.lock().unwrap().len();
    assert!(
        posted >= 3,
        "notifications and audit records were posted: {posted}"
    );

    let sentinels = [
        ("the PAT", PAT),
        ("the M2M client secret", M2M_SECRET),
        ("the IdP client secret", IDP_SECRET),
        ("the webhook secret", HOOK_SECRET),
        ("the SecretScope value from env", SCOPE_ENV_VALUE),
        ("the SecretScope value from a file", SCOPE_FILE_VALUE),
        ("the federation JWT", life.jwt.as_str()),
    ];
    let leaks = life.captured.leaks(&sentinels);
    assert!(
        leaks.is_empty(),
        "secrets leaked ({} outputs checked):\n{}",
        life.captured.outputs.len(),
        leaks.join("\n")
    );
    // The sweep saw what it should: trace logs, audit records and errors.
    let all: Vec<u8> = life
        .captured
        .outputs
        .iter()
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    for expected in [
        "\"level\":\"TRACE\"",
        "\"phase\":\"intent\"",
        "wrong client id or client secret",
        "drift-healed",
    ] {
        assert!(
            contains(&all, expected.as_bytes()),
            "nothing captured holds `{expected}`"
        );
    }
}

#[test]
fn the_sweep_finds_a_secret_as_is_and_in_base64_at_any_alignment() {
    let secret = "hook-sentinel-secret-25d9a7f0e6b3";
    let mut c = Captured::default();
    c.add("clean", "nothing to see here, not even aG9vay1zZW50aW5lbA");
    assert!(c.leaks(&[("s", secret)]).is_empty());
    for prefix in ["", "u", "us", "usr:"] {
        let mut c = Captured::default();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{secret}"));
        c.add("log", format!("Authorization: Basic {encoded}\n"));
        assert_eq!(
            c.leaks(&[("s", secret)]),
            vec!["s (base64) in log"],
            "{prefix}"
        );
        let mut c = Captured::default();
        let encoded =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{prefix}{secret}"));
        c.add("log", format!("{{\"jwt\":\"{encoded}\"}}"));
        assert_eq!(
            c.leaks(&[("s", secret)]),
            vec!["s (base64) in log"],
            "{prefix}"
        );
    }
    let mut c = Captured::default();
    c.add("log", format!("token={secret}"));
    assert_eq!(c.leaks(&[("s", secret)]), vec!["s in log"]);
}
