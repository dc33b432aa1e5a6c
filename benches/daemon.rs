//! The daemon (`mortar run`) at scale: a Git repository made with the `git`
//! CLI, emulated workspaces behind counting proxies, and three figures, each
//! against a baseline measured in the same run.
//!
//! 1. Webhook → applied: `RESOURCES` jobs over a few apps in one workspace
//!    (20 ms latency), synced; then a commit changing one field of one job,
//!    announced by a signed webhook. Printed: the time from the delivery's
//!    POST to the `update` outcome record in the audit trail, against the
//!    floor of the requests that sync made (counted by the proxy) taken one
//!    after another at the emulator's latency; the median of a few runs.
//! 2. A commit touching 1 of 50 apps: the requests the daemon makes for that
//!    reconcile, against one app's plan and apply run alone through the
//!    engine, and against a full plan of all 50 apps.
//! 3. Idle daemon: `IDLE_RESOURCES` jobs over `IDLE_WORKSPACES` workspaces,
//!    run as the real `mortar` binary, twice on one state directory. First
//!    with no drift check due in the window: after the first sync its RSS
//!    and CPU are read from `/proc` (the goal's "between drift checks").
//!    Then restarted with drift checks back to back, paced by the budget:
//!    their request rate per workspace is printed against
//!    `drift_budget × requests_per_second`, with the RSS they take.
//!
//! `cargo bench --bench daemon` runs the full sizes. Without `--bench` (as
//! `cargo test --all-targets` runs it) the sizes are small and the idle
//! window a few seconds. `MORTAR_BENCH_DAEMON_*` variables override them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::*;
use mortar::audit::Trigger;
use mortar::controller::status_store::StatusStore;
use mortar::controller::{Daemon, DaemonHandle, DaemonOptions};
use mortar::engine::{Engine, Scope};
use mortar::model::{ControllerStatus, Health, SyncStatus};
use mortar_emulator::RunningEmulator;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const LATENCY: Duration = Duration::from_millis(20);
const HOOK_SECRET: &str = "bench-hook-secret-7c1e";
/// How long any one wait (a first sync, a status) may take.
const PATIENCE: Duration = Duration::from_secs(900);

// ---------------------------------------------------------------- config

struct Settings {
    /// `requests_per_second` of every workspace.
    rps: f64,
    drift_interval: String,
    drift_budget: f64,
}

/// Writes `mortar.yaml` (and the token and hook secret files) in `dir`:
/// the repository at `dir/repo`, each workspace at its proxy.
fn write_config(dir: &Path, hosts: &[(String, String)], token: &str, s: &Settings) -> PathBuf {
    std::fs::write(dir.join("pat"), token).expect("token");
    std::fs::write(dir.join("hook-secret"), HOOK_SECRET).expect("secret");
    let mut config = String::from(
        "source: { git: { repo: repo, revision: main, interval: 1h } }\nworkspaces:\n",
    );
    for (name, host) in hosts {
        let _ = write!(
            config,
            "  {name}:\n    host: {host}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    limits: {{ requests_per_second: {}, endpoints: {{ 'POST jobs/create': 1000 }} }}\n",
            s.rps
        );
    }
    let _ = write!(
        config,
        "controller: {{ drift_interval: {}, drift_budget: {}, shutdown_grace: 10s }}\nserver:\n  listen: '127.0.0.1:0'\n  metrics_listen: '127.0.0.1:0'\n  webhooks: {{ generic: {{ secret: {{ file: hook-secret }} }} }}\n",
        s.drift_interval, s.drift_budget
    );
    let path = dir.join("mortar.yaml");
    std::fs::write(&path, config).expect("config");
    path
}

// ---------------------------------------------------------------- daemon

/// Delivers a signed push of `commit` to the daemon's generic webhook.
async fn push_webhook(api: std::net::SocketAddr, repo: &Path, commit: &str) -> u16 {
    use hmac::{Hmac, Mac};
    let body = serde_json::to_vec(&json!({
        "repository": repo.display().to_string(),
        "ref": "refs/heads/main",
        "after": commit,
    }))
    .expect("JSON");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).expect("HMAC key");
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    reqwest::Client::new()
        .post(format!("http://{api}/api/v1/webhooks/generic"))
        .header("X-Mortar-Signature", signature)
        .header("X-Mortar-Delivery", commit)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the daemon answers")
        .status()
        .as_u16()
}

/// Waits until the daemon's status satisfies `ok`.
async fn wait_for(
    handle: &mut DaemonHandle,
    what: &str,
    ok: impl Fn(&ControllerStatus) -> bool,
) -> Arc<ControllerStatus> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        {
            let status = handle.status.borrow_and_update().clone();
            if ok(&status) {
                return status;
            }
        }
        if tokio::time::timeout_at(deadline, handle.status.changed())
            .await
            .is_err()
        {
            panic!("timed out waiting for {what}");
        }
    }
}

fn synced_at(status: &ControllerStatus, app: &str, commit: &str) -> bool {
    status.app(app).is_some_and(|a| {
        a.sync == SyncStatus::Synced
            && a.health == Health::Healthy
            && a.revision_applied.as_deref() == Some(commit)
    })
}

fn all_synced_at(status: &ControllerStatus, layout: &Layout, commit: &str) -> bool {
    (0..layout.apps).all(|a| synced_at(status, &layout.app(a), commit))
}

fn audit_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("state/audit.jsonl")).map_or(0, |m| m.len())
}

/// Polls the audit trail from byte `from` until an `update` outcome at
/// `commit` appears.
async fn wait_for_update_outcome(dir: &Path, from: u64, commit: &str) {
    let path = dir.join("state/audit.jsonl");
    let deadline = Instant::now() + PATIENCE;
    let mut text = String::new();
    let mut at = from;
    loop {
        if let Ok(mut file) = std::fs::File::open(&path)
            && file.seek(std::io::SeekFrom::Start(at)).is_ok()
        {
            let mut more = String::new();
            if let Ok(n) = file.read_to_string(&mut more) {
                at += n as u64;
                text.push_str(&more);
            }
        }
        let found = text.lines().any(|line| {
            serde_json::from_str::<Value>(line).is_ok_and(|r| {
                r["event"]["action"] == "update"
                    && r["event"]["phase"] == "outcome"
                    && r["event"]["revision"] == commit
            })
        });
        if found {
            return;
        }
        assert!(Instant::now() < deadline, "no update outcome for {commit}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// One workspace behind a counting proxy, a repository of `layout` and a
/// config naming them.
struct Setup {
    dir: tempfile::TempDir,
    emu: RunningEmulator,
    seen: Arc<Seen>,
    repo: Repo,
    config: PathBuf,
    first: String,
}

async fn setup_one_workspace(layout: &Layout) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = emulator().await;
    let (proxy, seen) = start_proxy(emu.base_url()).await;
    let repo = Repo::init(dir.path().join("repo"));
    let first = repo.commit(&layout.files(), "first");
    let config = write_config(
        dir.path(),
        &[("ws0".to_string(), proxy)],
        &emu.token(),
        &Settings {
            rps: 1000.0,
            drift_interval: "1h".into(),
            drift_budget: 0.25,
        },
    );
    Setup {
        dir,
        emu,
        seen,
        repo,
        config,
        first,
    }
}

/// Opens the daemon on `config` and runs `work` beside it (joined in one
/// task); the daemon stops when `work` returns.
async fn with_daemon<T, F, Fut>(config: &Path, work: F) -> T
where
    F: FnOnce(DaemonHandle) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let daemon = Daemon::open(config).expect("the daemon opens");
    let handle = daemon.handle();
    // Held until the daemon has stopped: once every nudge sender is gone
    // the runner's loop may wait on the closed channel and miss the cancel.
    let keep = daemon.handle();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let run = async move {
        daemon
            .run(DaemonOptions::default(), stop)
            .await
            .expect("the daemon runs")
    };
    let work = async {
        let out = work(handle).await;
        cancel.cancel();
        out
    };
    let (_, out) = tokio::join!(run, work);
    drop(keep);
    out
}

// ---------------------------------------------------------------- 1

async fn bench_webhook(resources: usize, apps: usize, repeats: usize) {
    let layout = Layout {
        workspaces: 1,
        apps,
        jobs_per_app: resources / apps,
        acl: false,
    };
    println!(
        "webhook → applied: {} jobs over {apps} apps in one workspace, {} ms latency, {repeats} runs",
        layout.resources(),
        LATENCY.as_millis()
    );
    let s = &setup_one_workspace(&layout).await;
    let repo_path = &s.repo.dir.canonicalize().expect("repo path");
    let layout = &layout;
    let runs = with_daemon(&s.config, |mut handle| async move {
        let started = Instant::now();
        wait_for(&mut handle, "the first sync", |st| {
            all_synced_at(st, layout, &s.first)
        })
        .await;
        println!(
            "  first sync (no latency): {:.1} s, {} requests",
            started.elapsed().as_secs_f64(),
            s.seen.take().len()
        );
        let api = handle.bound.borrow().expect("the daemon listens").api;
        s.emu.set_latency(LATENCY);
        let mut runs = Vec::new();
        let mut changed = BTreeMap::new();
        for i in 0..repeats {
            let a = i % layout.apps;
            let j = (i * 7) % layout.jobs_per_app;
            let commit = s.repo.commit(
                &[layout.change(&mut changed, a, j, 2 + i as u32)],
                &format!("job {j} of {}: more runs", layout.app(a)),
            );
            let from = audit_len(s.dir.path());
            s.seen.take();
            let posted = Instant::now();
            assert_eq!(push_webhook(api, repo_path, &commit).await, 202);
            wait_for_update_outcome(s.dir.path(), from, &commit).await;
            let applied = posted.elapsed();
            wait_for(&mut handle, "the commit's sync", |st| {
                all_synced_at(st, layout, &commit)
            })
            .await;
            let log = s.seen.take();
            let floor = LATENCY * log.len() as u32;
            println!(
                "  run {}: {:.0} ms to the update outcome; floor {:.0} ms ({} requests × {} ms: {}); over the floor {:+.0} ms",
                i + 1,
                applied.as_secs_f64() * 1e3,
                floor.as_secs_f64() * 1e3,
                log.len(),
                LATENCY.as_millis(),
                breakdown(&log),
                (applied.as_secs_f64() - floor.as_secs_f64()) * 1e3
            );
            runs.push((applied.as_secs_f64(), floor.as_secs_f64()));
        }
        runs
    })
    .await;
    let time = median(runs.iter().map(|r| r.0).collect());
    let floor = median(runs.iter().map(|r| r.1).collect());
    let over = median(runs.iter().map(|r| r.0 - r.1).collect());
    println!(
        "  median: {:.0} ms vs floor {:.0} ms: ratio {:.2}, over the floor {:+.0} ms (goal ≤ +1000 ms)",
        time * 1e3,
        floor * 1e3,
        time / floor,
        over * 1e3
    );
}

// ---------------------------------------------------------------- 2

async fn bench_one_of_many(apps: usize, jobs_per_app: usize) {
    let layout = Layout {
        workspaces: 1,
        apps,
        jobs_per_app,
        acl: true,
    };
    println!(
        "a commit touching 1 of {apps} apps: {jobs_per_app} jobs with ACLs per app, one workspace"
    );
    let s = &setup_one_workspace(&layout).await;
    let repo_path = &s.repo.dir.canonicalize().expect("repo path");
    let target = apps / 3;
    let name = &layout.app(target);
    let layout = &layout;
    let (reconcile, synced_apps) = with_daemon(&s.config, |mut handle| async move {
        let before = wait_for(&mut handle, "the first sync", |st| {
            all_synced_at(st, layout, &s.first)
        })
        .await;
        let api = handle.bound.borrow().expect("the daemon listens").api;
        let commit = s.repo.commit(
            &[layout.change(&mut BTreeMap::new(), target, 0, 4)],
            &format!("{name}: more runs"),
        );
        s.seen.take();
        assert_eq!(push_webhook(api, repo_path, &commit).await, 202);
        let after = wait_for(&mut handle, "the commit's sync", |st| {
            all_synced_at(st, layout, &commit)
        })
        .await;
        let synced: Vec<String> = after
            .apps
            .iter()
            .filter(|a| before.app(&a.name).map(|b| &b.last_sync) != Some(&a.last_sync))
            .map(|a| a.name.clone())
            .collect();
        (s.seen.take(), synced)
    })
    .await;

    // Baselines through the engine, on the same workspace and state.
    let engine = Engine::open_file(&s.config).expect("engine");
    s.repo.commit(
        &[layout.change(&mut BTreeMap::new(), target, 0, 5)],
        &format!("{name}: again"),
    );
    let tree = engine.render(None).expect("renders");
    s.seen.take();
    let planned = engine
        .plan_to_apply(&tree, &Scope::app(name.clone()))
        .await
        .expect("plan");
    let report = engine
        .apply(
            planned,
            Trigger::Cli("bench".into()),
            Arc::new(|_| {}),
            CancellationToken::new(),
        )
        .await
        .expect("apply");
    assert!(report.success(), "{report:?}");
    let alone = s.seen.take();
    let full = engine
        .plan(&tree, &Scope::default())
        .await
        .expect("full plan");
    let full_requests = s.seen.take();
    assert!(!full.plan().has_changes, "everything is in sync");

    let acl_reads = |log: &[String]| {
        log.iter()
            .filter(|l| l.starts_with("GET /api/2.0/permissions/"))
            .count()
    };
    println!(
        "  apps synced by the reconcile: {} ({}); ACLs read: {} of {} jobs",
        synced_apps.len(),
        synced_apps.join(", "),
        acl_reads(&reconcile),
        layout.resources()
    );
    println!(
        "  the daemon's reconcile: {} requests ({})",
        reconcile.len(),
        breakdown(&reconcile)
    );
    println!(
        "  vs that app's plan + apply alone: {} requests ({}): ratio {:.2}",
        alone.len(),
        breakdown(&alone),
        reconcile.len() as f64 / alone.len() as f64
    );
    println!(
        "  vs a full plan of all {apps} apps: {} requests ({}): ratio {:.3}",
        full_requests.len(),
        breakdown(&full_requests),
        reconcile.len() as f64 / full_requests.len() as f64
    );
}

// ---------------------------------------------------------------- 3

async fn bench_idle(resources: usize, workspaces: usize, window: Duration) {
    let layout = Layout {
        workspaces,
        apps: workspaces,
        jobs_per_app: resources / workspaces,
        acl: true,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut emulators = Vec::new();
    let mut hosts = Vec::new();
    let mut seen = Vec::new();
    for w in 0..workspaces {
        let emu = emulator().await;
        seed(&emu, &layout, w).await;
        emu.set_latency(LATENCY);
        let (proxy, s) = start_proxy(emu.base_url()).await;
        hosts.push((format!("ws{w}"), proxy));
        seen.push(s);
        emulators.push(emu);
    }
    // The budget binds: the daemon's own estimate of a drift check of a
    // workspace, spread so that checks come about twice in the window (a
    // check's period starts when the one before it was planned).
    let budget_share = 0.25;
    let estimate = mortar::controller::pacing::estimated_cost(layout.jobs_per_app, 1);
    let period = window.as_secs_f64() / 4.0;
    let rps = (estimate / (budget_share * period)).ceil();
    let budget = budget_share * rps;
    println!(
        "idle daemon: the `mortar` binary, {} jobs with ACLs over {workspaces} workspaces ({} ms latency); requests_per_second {rps}, drift_budget {budget_share}, drift_interval 1s (estimated {estimate} requests per check and workspace: checks every {:.0} s)",
        layout.resources(),
        LATENCY.as_millis(),
        estimate / budget
    );
    let repo = Repo::init(dir.path().join("repo"));
    let first = repo.commit(&layout.files(), "first");
    let token = emulators[0].token();
    let settings = |drift_interval: &str| Settings {
        rps,
        drift_interval: drift_interval.into(),
        drift_budget: budget_share,
    };

    // Between drift checks: a drift interval longer than the window, so
    // nothing is due in it. The first sync creates every job.
    write_config(dir.path(), &hosts, &token, &settings("1h"));
    let quiet = watch_daemon(dir.path(), &layout, &first, &seen, window).await;
    println!(
        "  first sync: {:.1} s, {} requests",
        quiet.first_sync.as_secs_f64(),
        quiet.first_requests
    );
    println!("  between drift checks (drift_interval 1h, no check due in the window):");
    println!(
        "    RSS: {:.1} MiB after the first sync, {:.1} MiB at most in the window (goal ≤ 100 MiB): ratio {:.2}; peak (VmHWM, first sync included) {:.1} MiB",
        mib(quiet.rss_synced),
        mib(quiet.rss_max),
        mib(quiet.rss_max) / 100.0,
        mib(quiet.hwm)
    );
    println!(
        "    CPU over {:.0} s: {:.2}% of one core (goal ≤ 1%): ratio {:.2}; busiest second {:.1}%; {} requests to the workspaces",
        quiet.elapsed,
        quiet.cpu,
        quiet.cpu,
        quiet.busiest_second,
        quiet.requests.iter().map(Vec::len).sum::<usize>()
    );
    println!("    on SIGTERM: {}", quiet.stopped);

    // Drift checks back to back, paced by the budget: the same state
    // directory, restarted with a drift interval of 1 s.
    write_config(dir.path(), &hosts, &token, &settings("1s"));
    let busy = watch_daemon(dir.path(), &layout, &first, &seen, window).await;
    let elapsed = busy.elapsed;
    let logs = &busy.requests;
    let checks: Vec<usize> = logs
        .iter()
        .map(|l| {
            l.iter()
                .filter(|r| r.starts_with("GET /api/2.2/jobs/list") && !r.contains("page_token"))
                .count()
        })
        .collect();
    let rates: Vec<f64> = logs.iter().map(|l| l.len() as f64 / elapsed).collect();
    let max_rate = rates.iter().copied().fold(0.0, f64::max);
    let mean_rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let per_check: Vec<f64> = logs
        .iter()
        .zip(&checks)
        .filter(|(_, c)| **c > 0)
        .map(|(l, c)| l.len() as f64 / *c as f64)
        .collect();
    println!("  drift checks back to back (drift_interval 1s, restarted on the same state):");
    println!(
        "    drift checks in the window: {} per workspace ({} requests each, median); request rate per workspace {mean_rate:.2}/s mean, {max_rate:.2}/s highest vs budget {budget:.2}/s (drift_budget × requests_per_second): ratio {:.2}",
        checks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/"),
        median(per_check),
        max_rate / budget
    );
    println!(
        "    RSS while checking: {:.1} MiB at most, {:.1} MiB at the end; CPU {:.2}% of one core",
        mib(busy.rss_max),
        mib(busy.rss_end),
        busy.cpu
    );
    if let Some(l) = logs.first() {
        println!("    ws0's requests in the window: {}", breakdown(l));
    }
    let requests: usize = logs.iter().map(Vec::len).sum();
    if requests > 0 {
        println!(
            "    CPU per request in the window: {:.3} ms ({requests} requests, {:.2} s of CPU)",
            busy.cpu_seconds / requests as f64 * 1e3,
            busy.cpu_seconds
        );
    }
    println!("    on SIGTERM: {}", busy.stopped);
    drop(emulators);
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// What one run of the daemon showed over the window after its first look.
struct Watched {
    first_sync: Duration,
    first_requests: u64,
    rss_synced: u64,
    rss_max: u64,
    rss_end: u64,
    hwm: u64,
    /// Percent of one core over the window, and the busiest second's.
    cpu: f64,
    busiest_second: f64,
    cpu_seconds: f64,
    elapsed: f64,
    /// Each workspace's requests in the window.
    requests: Vec<Vec<String>>,
    stopped: String,
}

/// Runs the `mortar` binary on `dir/mortar.yaml` until every app is Synced
/// at `first`, samples `/proc` each second for `window`, then stops it
/// with SIGTERM.
async fn watch_daemon(
    dir: &Path,
    layout: &Layout,
    first: &str,
    seen: &[Arc<Seen>],
    window: Duration,
) -> Watched {
    let log_path = dir.join("mortar.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    for s in seen {
        s.take();
    }
    let store = StatusStore::new(dir.join("state"));
    let before = store.load().ok().flatten().and_then(|s| s.updated);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .current_dir(dir)
        .args(["run", "--config"])
        .arg(dir.join("mortar.yaml"))
        .env_remove("MORTAR_CONFIG")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("mortar runs");
    let pid = child.id();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = store.load()
            && status.updated != before
            && all_synced_at(&status, layout, first)
        {
            break;
        }
        if let Ok(Some(exit)) = child.try_wait() {
            panic!(
                "mortar run exited ({exit}):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        assert!(started.elapsed() < PATIENCE, "no first sync");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_sync = started.elapsed();
    let first_requests: u64 = seen.iter().map(|s| s.count()).sum();
    for s in seen {
        s.take();
    }
    let ticks_per_second = clock_ticks();
    let (cpu0, rss_synced, _) = proc_sample(pid).expect("/proc readable");
    let t0 = Instant::now();
    let mut busiest_second: f64 = 0.0;
    let mut rss_max = 0;
    let mut last = (cpu0, t0);
    let (mut rss_end, mut hwm) = (0, 0);
    while t0.elapsed() < window {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (cpu, r, h) = proc_sample(pid).expect("the daemon is alive");
        let now = Instant::now();
        busiest_second = busiest_second
            .max((cpu - last.0) as f64 / ticks_per_second / (now - last.1).as_secs_f64() * 100.0);
        last = (cpu, now);
        rss_max = rss_max.max(r);
        (rss_end, hwm) = (r, h);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_seconds = (last.0 - cpu0) as f64 / ticks_per_second;
    let requests: Vec<Vec<String>> = seen.iter().map(|s| s.take()).collect();
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let stop = Instant::now();
    let stopped = loop {
        if let Ok(Some(exit)) = child.try_wait() {
            break format!("{exit} after {:.1} s", stop.elapsed().as_secs_f64());
        }
        if stop.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break "still running after 20 s: killed".to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Watched {
        first_sync,
        first_requests,
        rss_synced,
        rss_max,
        rss_end,
        hwm,
        cpu: cpu_seconds / elapsed * 100.0,
        busiest_second,
        cpu_seconds,
        elapsed,
        requests,
        stopped,
    }
}

fn main() {
    let resources = size("MORTAR_BENCH_DAEMON_RESOURCES", 1_000, 40);
    let apps = size("MORTAR_BENCH_DAEMON_APPS", 4, 2).max(1);
    let repeats = size("MORTAR_BENCH_DAEMON_REPEATS", 5, 2).max(1);
    let many_apps = size("MORTAR_BENCH_DAEMON_MANY_APPS", 50, 6).max(3);
    let jobs_per_app = size("MORTAR_BENCH_DAEMON_JOBS_PER_APP", 20, 2).max(1);
    let idle_resources = size("MORTAR_BENCH_DAEMON_IDLE_RESOURCES", 10_000, 100);
    let idle_workspaces = size("MORTAR_BENCH_DAEMON_IDLE_WORKSPACES", 10, 2).max(1);
    let window = Duration::from_secs(size("MORTAR_BENCH_DAEMON_IDLE_SECS", 60, 5) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        bench_webhook(resources, apps, repeats).await;
        bench_one_of_many(many_apps, jobs_per_app).await;
        bench_idle(idle_resources, idle_workspaces, window).await;
    });
}
