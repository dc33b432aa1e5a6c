//! The daemon over a real Git repository (made with the `git` CLI) and an
//! emulated workspace over real HTTP: the first sync with `dependsOn`
//! ordering, a commit applied after a nudge with its author in the audit
//! trail, drift healed at the next drift check, a broken commit that blocks
//! only its app, and a graceful stop on SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mortar::controller::status_store::StatusStore;
use mortar::controller::{DaemonHandle, Nudge};
use mortar::model::status::{ConditionKind, SyncResult};
use mortar::model::{Health, SyncStatus};
use mortar_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::daemon_support::{GROUP, ROOT, git, job, synced_at, wait_for};
use super::databricks_support::emulator;
use super::harness::command;

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
  dependsOn: [base]
  syncPolicy: { automated: { prune: true, selfHeal: true } }
";

const HOOK_SECRET: &str = "hook-secret-4f9a";

/// Delivers a signed push of `commit` to the daemon's generic webhook.
async fn push_webhook(api: std::net::SocketAddr, repo: &Path, commit: &str) -> u16 {
    deliver(api, repo, commit, commit.to_string()).await
}

/// Delivers a signed push of `commit` with its own delivery id.
async fn deliver(api: std::net::SocketAddr, repo: &Path, commit: &str, delivery: String) -> u16 {
    use hmac::{Hmac, Mac};
    let body = serde_json::to_vec(&json!({
        "repository": repo.display().to_string(),
        "ref": "refs/heads/main",
        "after": commit,
    }))
    .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    reqwest::Client::new()
        .post(format!("http://{api}/api/v1/webhooks/generic"))
        .header("X-Mortar-Signature", signature)
        .header("X-Mortar-Delivery", delivery)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the daemon answers")
        .status()
        .as_u16()
}

struct Env {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    /// Bodies of the notifications received.
    notes: Arc<std::sync::Mutex<Vec<Value>>>,
}

/// A local receiver of generic notification webhooks.
async fn receiver(notes: Arc<std::sync::Mutex<Vec<Value>>>) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let notes = notes.clone();
            async move {
                notes
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

impl Env {
    async fn start() -> Env {
        let dev = emulator(EmulatorConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let notes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let hook = receiver(notes.clone()).await;
        let env = Env { dir, dev, notes };
        git(&env.repo_init(), &["init", "-q", "-b", "main"]);
        env.commit(
            &[
                ("root.yaml", ROOT),
                ("apps/apps.yaml", APPS),
                ("base/group.yaml", GROUP),
                ("team/job.yaml", &job(1)),
            ],
            "first",
        );
        std::fs::write(env.path().join("pat"), env.dev.token()).unwrap();
        std::fs::write(env.path().join("hook-secret"), HOOK_SECRET).unwrap();
        let config = format!(
            "source: {{ git: {{ repo: repo, revision: main }} }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}\ncontroller: {{ drift_interval: 1s, shutdown_grace: 10s }}\nserver:\n  listen: '127.0.0.1:0'\n  metrics_listen: '127.0.0.1:0'\n  webhooks: {{ generic: {{ secret: {{ file: hook-secret }} }} }}\nnotifications:\n  - name: team-hook\n    webhook: {{ url: 'http://{hook}/hook', secret: {{ file: hook-secret }} }}\n    on: [drift-detected, drift-healed, sync-failed]\n",
            env.dev.base_url()
        );
        std::fs::write(env.path().join("mortar.yaml"), config).unwrap();
        env
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }

    fn repo_init(&self) -> PathBuf {
        std::fs::create_dir_all(self.repo()).unwrap();
        self.repo()
    }

    /// Writes files and commits them as Ana; returns the commit SHA.
    fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, text) in files {
            let full = self.repo().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        git(&self.repo(), &["add", "-A"]);
        git(&self.repo(), &["commit", "-q", "-m", message]);
        git(&self.repo(), &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// The daemon, a handle on it and what stops it. The daemon's future
    /// runs beside the test's own (joined in one task).
    fn daemon(
        &self,
    ) -> (
        DaemonHandle,
        CancellationToken,
        impl std::future::Future<Output = bool>,
    ) {
        super::daemon_support::start(&self.path().join("mortar.yaml"))
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.dev.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = reqwest::Client::new()
            .request(method, url)
            .bearer_auth(self.dev.token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("emulator answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn job(&self) -> Value {
        let list = self
            .api("GET", "/api/2.2/jobs/list?name=nightly&limit=100", None)
            .await;
        let jobs = list["jobs"].as_array().cloned().unwrap_or_default();
        assert_eq!(jobs.len(), 1, "one job named nightly: {list}");
        let id = jobs[0]["job_id"].as_i64().unwrap();
        self.api("GET", &format!("/api/2.2/jobs/get?job_id={id}"), None)
            .await
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path().join("state/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_syncs_in_dependency_order_applies_commits_and_heals_drift() {
    let env = Env::start().await;
    let first = git(&env.repo(), &["rev-parse", "HEAD"]).trim().to_string();
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        let status = wait_for(&mut handle, "the first sync", |s| {
            synced_at(s, "base", &first) && synced_at(s, "team", &first)
        })
        .await;
        assert!(*handle.ready.borrow());
        let base = status.app("base").unwrap().last_sync.clone().unwrap();
        let team = status.app("team").unwrap().last_sync.clone().unwrap();
        assert!(
            base.finished <= team.started,
            "team (dependsOn base) started before base finished: {base:?} {team:?}"
        );
        assert_eq!(team.result, SyncResult::Succeeded);
        assert_eq!(team.counts.created, 1);
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 1);

        // A commit, announced by a signed webhook.
        let addresses = handle.bound.borrow().expect("the daemon listens");
        let second = env.commit(&[("team/job.yaml", &job(3))], "raise max runs");
        let repo = env.repo().canonicalize().unwrap();
        assert_eq!(push_webhook(addresses.api, &repo, &second).await, 202);
        let status = wait_for(&mut handle, "the second commit", |s| {
            synced_at(s, "team", &second)
        })
        .await;
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 3);
        // base did not change: no sync of it, yet it is in sync at the new revision.
        assert_eq!(status.app("base").unwrap().last_sync.as_ref(), Some(&base));
        assert_eq!(
            status.app("base").unwrap().revision_applied.as_deref(),
            Some(second.as_str())
        );
        let update = env
            .audit()
            .into_iter()
            .find(|r| r["event"]["action"] == "update" && r["event"]["phase"] == "outcome")
            .expect("an update outcome in the audit trail");
        assert_eq!(update["event"]["revision"], json!(second));
        assert_eq!(
            update["event"]["commit_author"],
            "Ana Lopez <ana@example.com>"
        );
        assert_eq!(update["event"]["triggered_by"], json!({"sync": "webhook"}));

        // The API and the metrics tell the same.
        let http = reqwest::Client::new();
        let app: Value = http
            .get(format!("http://{}/api/v1/apps/team", addresses.api))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(app["revision_applied"], json!(second));
        let metrics = http
            .get(format!("http://{}/metrics", addresses.metrics))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in [
            "mortar_syncs_total{app=\"team\",trigger=\"webhook\",result=\"succeeded\"} 1",
            "mortar_webhook_deliveries_total{provider=\"generic\",result=\"accepted\"} 1",
        ] {
            assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
        }

        // Floods of deliveries, each with its own id: for the head already
        // held, no fetch at all; for a new commit, one look at the source.
        let fetches = |m: &str| -> u64 {
            m.lines()
                .find(|l| l.starts_with("mortar_git_fetches_total{result=\"ok\"}"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let scrape = || async {
            http.get(format!("http://{}/metrics", addresses.metrics))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let flood = |commit: String, tag: &'static str| {
            let repo = repo.clone();
            async move {
                futures::future::join_all(
                    (0..50).map(|i| deliver(addresses.api, &repo, &commit, format!("{tag}-{i}"))),
                )
                .await
            }
        };
        let before = fetches(&scrape().await);
        let codes = flood(second.clone(), "held").await;
        assert!(codes.iter().all(|c| *c == 202), "{codes:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            fetches(&scrape().await),
            before,
            "a fetch for the head already held"
        );
        // A commit that changes no app: one look, no sync, every app at it.
        let quiet = env.commit(&[("README.md", "The platform's manifests.\n")], "a readme");
        let codes = flood(quiet.clone(), "quiet").await;
        assert!(codes.iter().all(|c| *c == 202), "{codes:?}");
        let status = wait_for(&mut handle, "the quiet commit", |s| {
            synced_at(s, "team", &quiet)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let looks = fetches(&scrape().await) - before;
        assert_eq!(looks, 1, "{looks} fetches for one burst");
        let team_sync = status.app("team").unwrap().last_sync.clone().unwrap();
        assert_eq!(
            team_sync.revision.as_deref(),
            Some(second.as_str()),
            "no new sync"
        );

        // Someone changes the job by hand: healed at the next drift check.
        let job = env.job().await;
        let mut settings = job["settings"].clone();
        settings["max_concurrent_runs"] = json!(9);
        env.api(
            "POST",
            "/api/2.2/jobs/reset",
            Some(json!({"job_id": job["job_id"], "new_settings": settings})),
        )
        .await;
        wait_for(&mut handle, "the heal", |s| {
            s.app("team")
                .and_then(|a| a.last_sync.as_ref())
                .is_some_and(|r| r.trigger == "drift" && r.result == SyncResult::Succeeded)
        })
        .await;
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 3);
        let audit = env.audit();
        assert!(
            audit
                .iter()
                .any(|r| r["event"]["action"] == "heal" && r["event"]["phase"] == "outcome"),
            "the heal is audited"
        );
        let detected = audit
            .iter()
            .find(|r| r["event"]["action"] == "drift_detected")
            .expect("the drift is audited");
        assert_eq!(detected["event"]["phase"], "observed");
        assert_eq!(detected["event"]["key"], "dev/Job/nightly");
        let change = &detected["event"]["changes"][0];
        assert_eq!(
            (&change["path"], &change["old"], &change["new"]),
            (&json!("/max_concurrent_runs"), &json!("9"), &json!("3")),
            "{detected}"
        );

        // People were told, once each.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let kinds: Vec<String> = env
                .notes
                .lock()
                .unwrap()
                .iter()
                .filter(|n| n["app"] == "team")
                .map(|n| n["event"].as_str().unwrap().to_string())
                .collect();
            if kinds.contains(&"drift-healed".to_string()) {
                assert_eq!(
                    kinds.iter().filter(|k| *k == "drift-detected").count(),
                    1,
                    "{kinds:?}"
                );
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no drift-healed notification: {kinds:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A broken commit blocks only its app; the other goes on.
        let third = env.commit(
            &[
                ("team/job.yaml", "kind: Job\nmetadata: { name: nightly\n"),
                ("base/group2.yaml", &GROUP.replace("analysts", "auditors")),
            ],
            "break team, add a group",
        );
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "the broken commit", |s| {
            synced_at(s, "base", &third)
                && s.app("team").is_some_and(|a| a.health == Health::Blocked)
        })
        .await;
        let team = status.app("team").unwrap();
        assert_eq!(team.revision_applied.as_deref(), Some(quiet.as_str()));
        assert!(
            team.condition(ConditionKind::RenderFailed)
                .unwrap()
                .message
                .contains("team/job.yaml"),
            "{team:?}"
        );

        cancel.cancel();
    };
    let (all_synced, ()) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the daemon stops when cancelled");
    assert!(!all_synced, "team is blocked");
    // The status survives the daemon.
    let saved = mortar::controller::status_store::StatusStore::new(env.path().join("state"))
        .load()
        .unwrap()
        .expect("a saved status");
    assert_eq!(saved.app("team").unwrap().health, Health::Blocked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mortar_run_stops_gracefully_on_sigterm_and_once_reports_the_result() {
    let env = Env::start().await;
    let out = command(env.path(), &["run", "--once"], true)
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let child = command(env.path(), &["run"], true).spawn().unwrap();
    let status_file = StatusStore::new(env.path().join("state"))
        .path()
        .to_path_buf();
    let before = std::fs::metadata(&status_file).unwrap().modified().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&status_file).unwrap().modified().unwrap() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon never wrote its status"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let stopped = std::time::Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("the daemon exits within its grace")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "stopping took {:?}:\n{stderr}",
        stopped.elapsed()
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_pins_an_app_pauses_it_and_clear_resumes_it() {
    let env = Env::start().await;
    let first = git(&env.repo(), &["rev-parse", "HEAD"]).trim().to_string();
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        wait_for(&mut handle, "the first sync", |s| {
            synced_at(s, "team", &first)
        })
        .await;
        let second = env.commit(&[("team/job.yaml", &job(3))], "three runs");
        handle.nudges.send(Nudge::Source).await.unwrap();
        wait_for(&mut handle, "the second commit", |s| {
            synced_at(s, "team", &second)
        })
        .await;

        // The controller holds the state: the CLI pins, the controller rolls back.
        let out = super::harness::run(command(
            env.path(),
            &["rollback", "--app", "team", "--to", &first[..10]],
            true,
        ))
        .await;
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("Pinned team to"), "{}", out.stdout);
        let status = wait_for(&mut handle, "the rollback", |s| {
            s.app("team").is_some_and(|a| {
                a.revision_applied.as_deref() == Some(first.as_str())
                    && a.last_sync
                        .as_ref()
                        .is_some_and(|r| r.trigger == "rollback")
            })
        })
        .await;
        let team = status.app("team").unwrap();
        assert!(team.paused);
        assert_eq!(team.pinned.as_deref(), Some(first.as_str()));
        assert!(team.condition(ConditionKind::Paused).is_some());
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 1);

        // A new commit moves base, not the pinned team.
        let third = env.commit(
            &[
                ("team/job.yaml", &job(5)),
                ("base/group2.yaml", &GROUP.replace("analysts", "auditors")),
            ],
            "five runs, a group",
        );
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "base at the third commit", |s| {
            synced_at(s, "base", &third)
        })
        .await;
        let team = status.app("team").unwrap();
        assert_eq!(team.revision_applied.as_deref(), Some(first.as_str()));
        assert_eq!(team.revision_seen.as_deref(), Some(third.as_str()));
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 1);

        // Unpinned: automated sync resumes at the newest revision.
        let out = super::harness::run(command(
            env.path(),
            &["rollback", "--app", "team", "--clear"],
            true,
        ))
        .await;
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let status = wait_for(&mut handle, "the resumed sync", |s| {
            synced_at(s, "team", &third)
        })
        .await;
        assert!(!status.app("team").unwrap().paused);
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 5);
        cancel.cancel();
        second
    };
    let (_, second) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the test ends");

    // No controller running: the CLI applies the rollback itself, audited.
    let out = super::harness::run(command(
        env.path(),
        &["rollback", "--app", "team", "--to", &second],
        true,
    ))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Apply complete"), "{}", out.stdout);
    assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 3);
    let rolled = env
        .audit()
        .into_iter()
        .rev()
        .find(|r| r["event"]["action"] == "update" && r["event"]["phase"] == "outcome")
        .unwrap();
    assert_eq!(rolled["event"]["revision"], json!(second));
    assert_eq!(rolled["event"]["triggered_by"], json!({"cli": "ci-bot"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_removed_from_git_is_pruned_when_its_parent_prunes() {
    let env = Env::start().await;
    let pruning_root = ROOT.replace(
        "  source: { path: apps }\n",
        "  source: { path: apps }\n  syncPolicy: { automated: { prune: true } }\n",
    );
    let first = env.commit(&[("root.yaml", &pruning_root)], "the root prunes");
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        wait_for(&mut handle, "the first sync", |s| {
            synced_at(s, "team", &first)
        })
        .await;
        assert_eq!(env.job().await["settings"]["name"], "nightly");
        // team leaves Git.
        let only_base = APPS.split("---\n").next().unwrap().to_string();
        std::fs::remove_dir_all(env.repo().join("team")).unwrap();
        let second = env.commit(&[("apps/apps.yaml", &only_base)], "retire team");
        handle.nudges.send(Nudge::Source).await.unwrap();
        wait_for(&mut handle, "team gone", |s| {
            s.app("team").is_none() && synced_at(s, "base", &second)
        })
        .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let list = env
                .api("GET", "/api/2.2/jobs/list?name=nightly&limit=100", None)
                .await;
            if list["jobs"].as_array().is_none_or(|j| j.is_empty()) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the retired app's job is still there: {list}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            env.audit().iter().any(|r| r["event"]["app"] == "team"
                && r["event"]["action"] == "delete"
                && r["event"]["phase"] == "outcome"),
            "the prune is audited"
        );
        cancel.cancel();
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the test ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_brings_every_example_app_to_synced() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = super::harness::run(command(
        dir.path(),
        &[
            "demo",
            "--exit-after-sync",
            "--dir",
            demo.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        false,
    ))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let rendered =
        mortar::manifest::render_dir(&super::harness::repo_root().join("manifests"), None).unwrap();
    for app in &rendered.apps {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(app.name.as_str()))
            .unwrap_or_else(|| panic!("no line for {} in\n{}", app.name, out.stdout));
        assert!(
            line.contains("Synced") && line.contains("Healthy"),
            "{line}"
        );
    }
    // The demo leaves a repository and a config a user can go on with.
    let status = mortar::controller::status_store::StatusStore::new(demo.join("state"))
        .load()
        .unwrap()
        .unwrap();
    assert_eq!(status.apps.len(), rendered.apps.len());
    assert!(demo.join("repo/.git").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_app_waits_until_a_sync_is_asked_for() {
    let env = Env::start().await;
    let manual = APPS.replace(
        "  dependsOn: [base]\n  syncPolicy: { automated: { prune: true, selfHeal: true } }\n",
        "  dependsOn: [base]\n",
    );
    let first = env.commit(&[("apps/apps.yaml", &manual)], "team syncs by hand");
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        let status = wait_for(&mut handle, "team waiting", |s| {
            s.app("team").is_some_and(|a| {
                a.sync == SyncStatus::OutOfSync
                    && a.condition(ConditionKind::WaitingForSync).is_some()
            }) && synced_at(s, "base", &first)
        })
        .await;
        assert!(!status.app("team").unwrap().automated);
        let list = env
            .api("GET", "/api/2.2/jobs/list?name=nightly&limit=100", None)
            .await;
        assert!(
            list["jobs"].as_array().is_none_or(|j| j.is_empty()),
            "{list}"
        );

        let out = super::harness::run(command(env.path(), &["sync", "--app", "team"], true)).await;
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let status = wait_for(&mut handle, "the requested sync", |s| {
            synced_at(s, "team", &first)
        })
        .await;
        assert_eq!(
            status
                .app("team")
                .unwrap()
                .last_sync
                .as_ref()
                .unwrap()
                .trigger,
            "manual"
        );
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 1);
        cancel.cancel();
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the test ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_push_is_reported_and_followed() {
    let env = Env::start().await;
    let first = git(&env.repo(), &["rev-parse", "HEAD"]).trim().to_string();
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        wait_for(&mut handle, "the first sync", |s| {
            synced_at(s, "team", &first)
        })
        .await;
        let second = env.commit(&[("team/job.yaml", &job(3))], "three");
        handle.nudges.send(Nudge::Source).await.unwrap();
        wait_for(&mut handle, "the second", |s| synced_at(s, "team", &second)).await;
        // History rewritten: the branch now points at a commit beside the old head.
        git(&env.repo(), &["reset", "-q", "--hard", &first]);
        let rewritten = env.commit(&[("team/job.yaml", &job(2))], "two, rewritten");
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "the rewritten head", |s| {
            synced_at(s, "team", &rewritten)
        })
        .await;
        let note = status
            .source
            .force_pushed
            .clone()
            .expect("the force-push is reported");
        assert!(
            note.contains(&rewritten[..12]) && note.contains(&second[..12]),
            "{note}"
        );
        assert_eq!(env.job().await["settings"]["max_concurrent_runs"], 2);
        cancel.cancel();
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the test ends");
}
