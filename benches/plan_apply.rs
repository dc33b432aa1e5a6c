//! Plan and apply at scale, against emulated workspaces.
//!
//! Plan: `RESOURCES` jobs (each with an ACL) spread over `WORKSPACES`
//! workspaces, already live and tagged as Mortar's, planned with 20 ms of
//! latency per request and rate limits on. Printed: requests made against
//! the lower bound (one `jobs/list` page per 100 jobs plus one ACL read per
//! job), wall time against the rate-limit bound (the slowest workspace's
//! ACL reads at the published `permissions/get` budget, its list pages at
//! the emulator's default budget, and no faster than 8 requests in flight of
//! one latency each), and the process's peak RSS (it hosts the emulators
//! too).
//!
//! Apply: `APPLY_JOBS` new jobs applied by Mortar (with its audit trail and
//! inventory) against the same number of `jobs/create` calls made one at a
//! time by the same client, both with 20 ms latency, in the same run.
//!
//! `cargo bench --bench plan_apply` runs the full size (10,000 resources over
//! 10 workspaces; 1,000 jobs applied). Without `--bench` (as `cargo test
//! --all-targets` runs it) the sizes are small. `MORTAR_BENCH_RESOURCES`,
//! `MORTAR_BENCH_WORKSPACES` and `MORTAR_BENCH_APPLY_JOBS` override them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::stream::{self, StreamExt};
use mortar::audit::Trigger;
use mortar::config::{
    AuthConfig, Config, LimitsConfig, RetryConfig, SecretRef, SourceConfig, StateConfig,
    WorkspaceConfig,
};
use mortar::databricks::Client;
use mortar::engine::{Engine, Scope};
use mortar_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const LATENCY: Duration = Duration::from_millis(20);
/// The emulator's budget for endpoints without a published limit (req/s).
const DEFAULT_RPS: f64 = 50.0;
/// The published `permissions/get` budget (req/s per workspace).
const ACL_RPS: f64 = 100.0;
const LIST_PAGE: usize = 100;

fn size(var: &str, full: usize, quick: usize) -> usize {
    let bench = std::env::args().any(|a| a == "--bench");
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { full } else { quick })
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// A reverse proxy counting every request it forwards.
#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    count: Arc<AtomicU64>,
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    p.count.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let pq = parts
        .uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_default();
    let resp = p
        .http
        .request(parts.method, format!("{}{pq}", p.upstream))
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    let Ok(resp) = resp else {
        return Response::builder()
            .status(502)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let mut out = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if k != "transfer-encoding" && k != "content-length" && k != "connection" {
            out = out.header(k, v);
        }
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    out.body(Body::from(bytes)).unwrap_or_default()
}

async fn start_proxy(upstream: &str, count: Arc<AtomicU64>) -> String {
    let state = Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        count,
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// The engine on a config naming `workspaces`, the manifests under
/// `root` and a state directory in `dir`.
fn engine(dir: &Path, root: &Path, workspaces: BTreeMap<String, WorkspaceConfig>) -> Engine {
    let config = Config {
        workspaces,
        source: Some(SourceConfig {
            dir: Some(root.to_path_buf()),
            ..SourceConfig::default()
        }),
        state: StateConfig {
            dir: dir.join("state"),
        },
        ..Config::default()
    };
    Engine::open(config, &dir.join("mortar.yaml")).expect("engine")
}

fn workspace_config(host: &str, token_file: &Path, create_rps: f64) -> WorkspaceConfig {
    let mut endpoints = BTreeMap::new();
    endpoints.insert("POST jobs/create".to_string(), create_rps);
    WorkspaceConfig {
        host: host.to_string(),
        auth: AuthConfig::Pat {
            token: SecretRef::File(token_file.to_path_buf()),
        },
        allow_insecure_http: false,
        limits: LimitsConfig {
            endpoints,
            ..LimitsConfig::default()
        },
        retry: RetryConfig::default(),
    }
}

fn job_doc(out: &mut String, name: &str, with_acl: bool) {
    let _ = write!(
        out,
        "---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: {name} }}\nspec:\n  name: {name}\n  tasks:\n    - task_key: main\n      notebook_task: {{ notebook_path: /Shared/bench/main }}\n"
    );
    if with_acl {
        out.push_str("permissions:\n  - { group_name: users, permission_level: CAN_VIEW }\n");
    }
}

/// A manifest root: one app per workspace, `jobs[i]` jobs in workspace i.
fn write_manifests(root: &Path, jobs: &[usize], with_acl: bool) {
    let mut top = String::new();
    for (i, n) in jobs.iter().enumerate() {
        let ws = format!("ws{i}");
        let _ = write!(
            top,
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: {{ name: {ws} }}\nspec: {{ host: https://{ws}.example.com }}\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: bench-{ws} }}\nspec:\n  project: default\n  source: {{ path: {ws} }}\n  destination: {{ workspace: {ws} }}\n"
        );
        std::fs::create_dir_all(root.join(&ws)).expect("mkdir");
        // At most 512 documents per file are read: 250 jobs per file.
        for (k, chunk) in (0..*n).collect::<Vec<_>>().chunks(250).enumerate() {
            let mut docs = String::new();
            for j in chunk {
                job_doc(&mut docs, &format!("job-{j}"), with_acl);
            }
            std::fs::write(root.join(&ws).join(format!("jobs-{k}.yaml")), docs)
                .expect("write jobs");
        }
    }
    std::fs::write(root.join("root.yaml"), top).expect("write root");
}

async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        transition_delay: Duration::from_millis(1),
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

/// Makes `n` jobs live in workspace `ws`, tagged as Mortar's, each with an ACL.
async fn seed(emu: &RunningEmulator, ws: &str, n: usize) {
    let http = reqwest::Client::new();
    let base = emu.base_url().to_string();
    let token = emu.token();
    stream::iter(0..n)
        .map(|j| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let name = format!("job-{j}");
                let body = json!({
                    "name": name,
                    "tasks": [{"task_key": "main", "notebook_task": {"notebook_path": "/Shared/bench/main"}}],
                    "tags": {"mortar.dev/app": format!("bench-{ws}"), "mortar.dev/key": format!("{ws}/Job/{name}")}
                });
                let created: serde_json::Value = http
                    .post(format!("{base}/api/2.2/jobs/create"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .expect("create")
                    .json()
                    .await
                    .expect("create JSON");
                let id = &created["job_id"];
                http.put(format!("{base}/api/2.0/permissions/jobs/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({"access_control_list": [{"group_name": "users", "permission_level": "CAN_VIEW"}]}))
                    .send()
                    .await
                    .expect("acl");
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
}

async fn bench_plan(resources: usize, workspaces: usize) {
    println!(
        "plan: {resources} jobs with ACLs over {workspaces} workspaces, {} ms latency, rate limits on",
        LATENCY.as_millis()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let per_ws: Vec<usize> = (0..workspaces)
        .map(|i| resources / workspaces + usize::from(i < resources % workspaces))
        .collect();
    let mut emulators = Vec::new();
    let mut workspaces_config = BTreeMap::new();
    let count = Arc::new(AtomicU64::new(0));
    let token_file = dir.path().join("token");
    for (i, n) in per_ws.iter().enumerate() {
        let emu = emulator().await;
        std::fs::write(&token_file, emu.token()).expect("token");
        seed(&emu, &format!("ws{i}"), *n).await;
        let proxy = start_proxy(emu.base_url(), count.clone()).await;
        let ws = format!("ws{i}");
        workspaces_config.insert(ws.clone(), workspace_config(&proxy, &token_file, 20.0));
        emulators.push(emu);
    }
    let root = dir.path().join("manifests");
    write_manifests(&root, &per_ws, true);
    let engine = engine(dir.path(), &root, workspaces_config);
    let tree = engine.render(None).expect("renders");
    for emu in &emulators {
        emu.set_latency(LATENCY);
        emu.set_rate_limit(Some(DEFAULT_RPS));
    }
    let rss_before = peak_rss_mib();
    count.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let planned = engine.plan(&tree, &Scope::default()).await.expect("plan");
    let wall = started.elapsed();
    let requests = count.load(Ordering::Relaxed);
    let pages: usize = per_ws.iter().map(|n| n.div_ceil(LIST_PAGE).max(1)).sum();
    let bound_requests = pages + resources;
    let slowest = per_ws.iter().copied().max().unwrap_or(0);
    // Token buckets start full (a burst of one second's budget).
    let bucket = |n: f64, rps: f64| ((n - rps).max(0.0) / rps).max(LATENCY.as_secs_f64());
    // And no more than `max_concurrency` requests in flight, each at least
    // one latency long.
    let in_flight = LimitsConfig::default().max_concurrency as f64;
    let bound_secs = bucket(slowest as f64, ACL_RPS)
        .max(bucket(slowest.div_ceil(LIST_PAGE) as f64, DEFAULT_RPS))
        .max((slowest + slowest.div_ceil(LIST_PAGE)) as f64 / in_flight * LATENCY.as_secs_f64());
    let s = &planned.plan().summary;
    println!(
        "  plan: {} unchanged, {} to change ({} workspaces observed)",
        s.no_op,
        s.create + s.update + s.delete + s.conflict,
        workspaces
    );
    println!(
        "  requests: {requests} vs lower bound {bound_requests} ({pages} list pages + {resources} ACL reads): ratio {:.3}",
        requests as f64 / bound_requests as f64
    );
    println!(
        "  wall time: {:.2} s vs bound {:.2} s (largest workspace: {slowest} ACL reads at {ACL_RPS}/s after a burst of {ACL_RPS}, or {in_flight} requests in flight of {} ms each, whichever is slower): ratio {:.2}",
        wall.as_secs_f64(),
        bound_secs,
        LATENCY.as_millis(),
        wall.as_secs_f64() / bound_secs
    );
    match (rss_before, peak_rss_mib()) {
        (Some(b), Some(a)) => println!(
            "  peak RSS (VmHWM, process incl. {workspaces} emulators): {b:.1} MiB before planning, {a:.1} MiB after"
        ),
        _ => println!("  peak RSS: unavailable (no /proc/self/status)"),
    }
}

async fn bench_apply(jobs: usize) {
    println!(
        "apply: {jobs} new jobs, {} ms latency (jobs/create budget raised to 1000/s for both runs)",
        LATENCY.as_millis()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = emulator().await;
    emu.set_latency(LATENCY);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, emu.token()).expect("token");
    let config = workspace_config(emu.base_url(), &token_file, 1000.0);
    let client = Client::new("ws0", &config).expect("client");
    let concurrency = config.limits.max_concurrency;

    // Baseline: the same creates, one request at a time.
    let started = Instant::now();
    for j in 0..jobs {
        let body = json!({"name": format!("job-{j}"), "tasks": [{"task_key": "main", "notebook_task": {"notebook_path": "/Shared/bench/main"}}]});
        client
            .post_create("/api/2.2/jobs/create", &body)
            .await
            .expect("create");
    }
    let baseline = started.elapsed();
    emu.reset();

    let root = dir.path().join("manifests");
    write_manifests(&root, &[jobs], false);
    let engine = engine(
        dir.path(),
        &root,
        BTreeMap::from([("ws0".to_string(), config)]),
    );
    let tree = engine.render(None).expect("renders");
    let started = Instant::now();
    let planned = engine
        .plan_to_apply(&tree, &Scope::default())
        .await
        .expect("plan");
    let plan_time = started.elapsed();
    let report = engine
        .apply(
            planned,
            Trigger::Cli("bench".into()),
            Arc::new(|_| {}),
            CancellationToken::new(),
        )
        .await
        .expect("apply");
    let total = started.elapsed();
    assert!(report.success(), "{report:?}");
    let created: usize = report.apps.iter().map(|a| a.done).sum();
    assert_eq!(created, jobs);
    println!(
        "  sequential baseline: {:.2} s ({:.1} jobs/s)",
        baseline.as_secs_f64(),
        jobs as f64 / baseline.as_secs_f64()
    );
    println!(
        "  mortar apply: {:.2} s (plan {:.2} s), {:.1} jobs/s, with an fsynced audit intent and outcome and an inventory save per job",
        total.as_secs_f64(),
        plan_time.as_secs_f64(),
        jobs as f64 / total.as_secs_f64()
    );
    println!(
        "  speed-up over the baseline: {:.2}x (concurrency {} per workspace)",
        baseline.as_secs_f64() / total.as_secs_f64(),
        concurrency
    );
}

fn main() {
    let resources = size("MORTAR_BENCH_RESOURCES", 10_000, 200);
    let workspaces = size("MORTAR_BENCH_WORKSPACES", 10, 2).max(1);
    let apply_jobs = size("MORTAR_BENCH_APPLY_JOBS", 1_000, 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        bench_plan(resources, workspaces).await;
        bench_apply(apply_jobs).await;
    });
}
