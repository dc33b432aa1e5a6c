//! Replicas sharing the apps over Leases of a real kube-apiserver: `APPS`
//! apps holding `RESOURCES` jobs over `WORKSPACES` emulated workspaces
//! (in-process, each behind a counting proxy), three `mortar run`
//! processes with `SHARDS` shards. Printed, each against its baseline:
//!
//! 1. each replica's share of the apps against the fair share (apps ÷
//!    replicas);
//! 2. after one replica is killed, the time until the others hold its
//!    shards and have looked at its apps, against the lease duration plus
//!    one reconcile of those apps;
//! 3. peak RSS of each replica;
//! 4. the steady drift-check request rate per workspace against
//!    `drift_budget × requests_per_second`.
//!
//! `cargo bench --bench shards` runs the full sizes (the API server is
//! built by `scripts/kube-apiserver` when `MORTAR_TEST_KUBE_APISERVER` is
//! unset). Without `--bench` the sizes are small. `MORTAR_BENCH_SHARDS_*`
//! variables override them; with `MORTAR_BENCH_KEEP` set, the replicas'
//! directories (config, logs, state) are kept.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::*;
use futures::stream::{self, StreamExt};
use mortar::cluster::shard_of;
use mortar::controller::status_store::StatusStore;
use mortar::model::{ControllerStatus, Health, SyncStatus};

const REPLICAS: usize = 3;
const LATENCY: Duration = Duration::from_millis(10);
const PATIENCE: Duration = Duration::from_secs(1200);

/// The API server, up for the bench's life.
struct ApiServer {
    _child: Child,
    dir: tempfile::TempDir,
}

fn api_server() -> ApiServer {
    let binary = std::env::var("MORTAR_TEST_KUBE_APISERVER").unwrap_or_else(|_| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(root.join("scripts/kube-apiserver"))
            .stderr(Stdio::inherit())
            .output()
            .expect("scripts/kube-apiserver runs");
        assert!(out.status.success(), "cannot build the test kube-apiserver");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(&binary)
        .arg("--dir")
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the API server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    assert!(line.starts_with("ready "), "the API server did not start");
    ApiServer { _child: child, dir }
}

struct Replica {
    name: String,
    dir: PathBuf,
    child: Option<Child>,
    peak_kib: u64,
}

impl Replica {
    fn status(&self) -> Option<ControllerStatus> {
        StatusStore::new(self.dir.join("state"))
            .load()
            .ok()
            .flatten()
    }

    fn sample(&mut self) {
        if let Some(child) = &self.child
            && let Some((_, _, hwm)) = proc_sample(child.id())
        {
            self.peak_kib = self.peak_kib.max(hwm);
        }
    }
}

/// The app's status as the replica holding its shard tells it.
fn owner_status<'a>(
    statuses: &'a [(usize, ControllerStatus)],
    app: &str,
) -> Option<&'a mortar::model::AppStatus> {
    statuses.iter().find_map(|(_, s)| {
        let replica = s.replica.as_ref()?;
        replica
            .held
            .contains(&shard_of(app, replica.shards))
            .then(|| s.app(app))
            .flatten()
    })
}

fn statuses(replicas: &[Replica]) -> Vec<(usize, ControllerStatus)> {
    replicas
        .iter()
        .enumerate()
        .filter(|(_, r)| r.child.is_some())
        .filter_map(|(i, r)| r.status().map(|s| (i, s)))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn write_config(
    dir: &Path,
    repo: &Path,
    hosts: &[(String, String)],
    token: &str,
    kubeconfig: &Path,
    name: &str,
    shards: usize,
    rps: f64,
    drift_interval: &str,
) {
    std::fs::create_dir_all(dir).expect("replica dir");
    std::fs::write(dir.join("pat"), token).expect("token");
    let mut config = format!(
        "source: {{ git: {{ repo: {}, revision: main, interval: 1h }} }}\nworkspaces:\n",
        repo.display()
    );
    for (ws, host) in hosts {
        let _ = write!(
            config,
            "  {ws}:\n    host: {host}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    limits: {{ requests_per_second: {rps}, endpoints: {{ 'POST jobs/create': 1000 }} }}\n"
        );
    }
    let _ = write!(
        config,
        "controller: {{ drift_interval: {drift_interval}, drift_budget: 0.25, shutdown_grace: 10s }}\n\
         server: {{ listen: '127.0.0.1:0', metrics_listen: '127.0.0.1:0' }}\n\
         kubernetes:\n  kubeconfig: {}\n  namespace: default\n  identity: {name}\n  lease: bench\n  shards: {shards}\n  max_replicas: 4\n  lease_duration: 5s\n  events: false\n",
        kubeconfig.display()
    );
    std::fs::write(dir.join("mortar.yaml"), config).expect("config");
}

fn start(replica: &mut Replica) {
    let log = std::fs::File::create(replica.dir.join("mortar.log")).expect("log");
    replica.child = Some(
        Command::new(env!("CARGO_BIN_EXE_mortar"))
            .current_dir(&replica.dir)
            .args(["run", "--config", "mortar.yaml"])
            .env_remove("MORTAR_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("mortar run starts"),
    );
}

async fn bench(
    apps: usize,
    jobs_per_app: usize,
    workspaces: usize,
    shards: usize,
    window: Duration,
) {
    let layout = Layout {
        workspaces,
        apps,
        jobs_per_app,
        acl: false,
    };
    let server = api_server();
    let kubeconfig = server.dir.path().join("admin.kubeconfig");
    let mut dir = tempfile::tempdir().expect("tempdir");
    if std::env::var_os("MORTAR_BENCH_KEEP").is_some() {
        // Kept for reading the replicas' logs afterwards.
        dir.disable_cleanup(true);
        println!("  replicas' directories (kept): {}", dir.path().display());
    }
    let mut emulators = Vec::new();
    let mut hosts = Vec::new();
    let mut seen = Vec::new();
    for w in 0..workspaces {
        emulators.push(emulator().await);
        hosts.push((format!("ws{w}"), String::new()));
    }
    // The workspaces already hold every job (as after a first sync), so
    // the replicas start from steady state.
    stream::iter(0..apps)
        .map(|a| {
            let emu = &emulators[a % workspaces];
            let layout = layout.clone();
            async move { seed(emu, &layout, a).await }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    for (w, emu) in emulators.iter().enumerate() {
        emu.set_latency(LATENCY);
        let (proxy, s) = start_proxy(emu.base_url()).await;
        hosts[w].1 = proxy;
        seen.push(s);
    }
    let repo = Repo::init(dir.path().join("repo"));
    let commit = repo.commit(&layout.files(), "apps");
    // Requests per second per workspace: a drift check of a workspace's
    // apps every few seconds would need this much at the 0.25 share.
    let per_workspace_jobs = (apps / workspaces) * jobs_per_app;
    let rps = ((per_workspace_jobs / 100 + 2) as f64 * 4.0).max(20.0);
    let drift_interval = "10s";
    println!(
        "shards: {apps} apps, {} jobs over {workspaces} workspaces ({} ms latency), {REPLICAS} replicas of `mortar run`, {shards} shards, lease 5 s; requests_per_second {rps}, drift_budget 0.25, drift_interval {drift_interval}",
        layout.resources(),
        LATENCY.as_millis()
    );
    let mut replicas: Vec<Replica> = (0..REPLICAS)
        .map(|r| {
            let name = format!("replica-{r}");
            let rdir = dir.path().join(&name);
            write_config(
                &rdir,
                &repo.dir,
                &hosts,
                &emulators[0].token(),
                &kubeconfig,
                &name,
                shards,
                rps,
                drift_interval,
            );
            Replica {
                name,
                dir: rdir,
                child: None,
                peak_kib: 0,
            }
        })
        .collect();
    let started = Instant::now();
    for r in &mut replicas {
        start(r);
    }
    let names: Vec<String> = (0..apps).map(|a| layout.app(a)).collect();
    loop {
        for r in &mut replicas {
            r.sample();
        }
        let st = statuses(&replicas);
        let balanced = st.len() == REPLICAS
            && st.iter().all(|(_, s)| {
                s.replica.as_ref().is_some_and(|r| {
                    r.held.len() <= shards.div_ceil(REPLICAS) && !r.held.is_empty()
                })
            });
        let synced = names.iter().all(|a| {
            owner_status(&st, a).is_some_and(|s| {
                s.sync == SyncStatus::Synced
                    && s.health == Health::Healthy
                    && s.revision_applied.as_deref() == Some(commit.as_str())
            })
        });
        if balanced && synced {
            break;
        }
        if let Some((i, s)) = st.iter().find(|(_, s)| s.source.error.is_some()) {
            panic!(
                "{} cannot use the source: {}",
                replicas[*i].name,
                s.source.error.as_deref().unwrap_or_default()
            );
        }
        assert!(started.elapsed() < PATIENCE, "no steady state");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "  all apps synced and shards spread: {:.1} s after start",
        started.elapsed().as_secs_f64()
    );
    let st = statuses(&replicas);
    let fair = apps as f64 / REPLICAS as f64;
    let mut worst: f64 = 0.0;
    for (i, s) in &st {
        let held = &s.replica.as_ref().expect("replica").held;
        let owned = names
            .iter()
            .filter(|a| held.contains(&shard_of(a, shards as u32)))
            .count();
        worst = worst.max((owned as f64 / fair - 1.0).abs());
        println!(
            "  {}: shards {held:?}, {owned} apps: ratio {:.3} of the fair share ({fair:.1})",
            replicas[*i].name,
            owned as f64 / fair
        );
    }
    println!(
        "  largest deviation from the fair share: {:.1}% (goal ≤ 10%)",
        worst * 100.0
    );

    // Steady state: drift checks only.
    for s in &seen {
        s.take();
    }
    let t0 = Instant::now();
    let mut per_second: Vec<Vec<u64>> = vec![Vec::new(); workspaces];
    while t0.elapsed() < window {
        let before: Vec<u64> = seen.iter().map(|s| s.count()).collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        for (w, s) in seen.iter().enumerate() {
            per_second[w].push(s.count() - before[w]);
        }
        for r in &mut replicas {
            r.sample();
        }
    }
    let budget = 0.25 * rps;
    let mean_rates: Vec<f64> = seen
        .iter()
        .map(|s| s.count() as f64 / t0.elapsed().as_secs_f64())
        .collect();
    let max_mean = mean_rates.iter().copied().fold(0.0, f64::max);
    let max_second = per_second.iter().flatten().copied().max().unwrap_or(0);
    println!(
        "  drift checks over {:.0} s: request rate per workspace {:.2}/s mean (highest workspace), busiest second {max_second} vs budget {budget:.2}/s (drift_budget × requests_per_second): ratio {:.2}",
        t0.elapsed().as_secs_f64(),
        max_mean,
        max_mean / budget
    );

    // Kill the replica holding shard 0; the others take its shards.
    let victim = st
        .iter()
        .find(|(_, s)| s.replica.as_ref().is_some_and(|r| r.held.contains(&0)))
        .map(|(i, _)| *i)
        .expect("someone holds shard 0");
    let moved: Vec<String> = {
        let held = &st.iter().find(|(i, _)| *i == victim).expect("victim").1;
        let held = &held.replica.as_ref().expect("replica").held;
        names
            .iter()
            .filter(|a| held.contains(&shard_of(a, shards as u32)))
            .cloned()
            .collect()
    };
    let killed_at = jiff::Timestamp::now();
    if let Some(mut child) = replicas[victim].child.take() {
        child.kill().expect("kill");
        child.wait().expect("reaped");
    }
    let killed = Instant::now();
    let mut shards_moved = None;
    loop {
        for r in &mut replicas {
            r.sample();
        }
        let st = statuses(&replicas);
        let union: BTreeSet<u32> = st
            .iter()
            .flat_map(|(_, s)| s.replica.iter().flat_map(|r| r.held.clone()))
            .collect();
        if shards_moved.is_none() && union.len() == shards {
            shards_moved = Some(killed.elapsed());
        }
        let looked = moved.iter().all(|a| {
            owner_status(&st, a).is_some_and(|s| {
                s.last_drift_check
                    .as_ref()
                    .is_some_and(|d| d.at > killed_at)
                    || s.last_sync.as_ref().is_some_and(|r| r.finished > killed_at)
            })
        });
        if shards_moved.is_some() && looked {
            break;
        }
        assert!(killed.elapsed() < PATIENCE, "no takeover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = shards_moved.expect("moved");
    let looked = killed.elapsed();
    let reconcile = looked.saturating_sub(taken);
    let bound = Duration::from_secs(5) + Duration::from_secs(5) / 3 + reconcile;
    println!(
        "  takeover of {} ({} apps): shards held by the others {:.1} s after the kill, its apps looked at after {:.1} s; bound lease 5 s + a renewal period 1.7 s + one reconcile of them {:.1} s = {:.1} s: ratio {:.2}",
        replicas[victim].name,
        moved.len(),
        taken.as_secs_f64(),
        looked.as_secs_f64(),
        reconcile.as_secs_f64(),
        bound.as_secs_f64(),
        looked.as_secs_f64() / bound.as_secs_f64()
    );
    for r in &replicas {
        println!(
            "  peak RSS of {}: {:.1} MiB",
            r.name,
            r.peak_kib as f64 / 1024.0
        );
    }
    for r in &mut replicas {
        if let Some(child) = r.child.take() {
            // SAFETY: signals our own child, not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let mut child = child;
            let _ = child.wait();
        }
    }
}

fn main() {
    let apps = size("MORTAR_BENCH_SHARDS_APPS", 1_000, 12);
    let resources = size("MORTAR_BENCH_SHARDS_RESOURCES", 100_000, 120);
    let workspaces = size("MORTAR_BENCH_SHARDS_WORKSPACES", 100, 3).max(1);
    let shards = size("MORTAR_BENCH_SHARDS_SHARDS", 3, 3).max(1);
    let window = Duration::from_secs(size("MORTAR_BENCH_SHARDS_WINDOW_SECS", 60, 3) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(
        apps,
        (resources / apps).max(1),
        workspaces,
        shards,
        window,
    ));
}
