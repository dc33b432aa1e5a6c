//! Emulator throughput and memory.
//!
//! Throughput of `jobs/get` and `jobs/list` on loopback (latency 0, keep-alive,
//! concurrent clients), as requests/s and as a ratio against a baseline
//! measured in the same run: a trivial handler returning that target's own
//! response bytes as a fixed body, served by the emulator's own accept loop
//! (same hyper stack, no auth, no state). Memory: VmRSS growth and live heap bytes (counted by a wrapping
//! global allocator) while the emulator holds 10,000 jobs.
//!
//! `cargo bench --bench emulator`; `EMULATOR_BENCH_QUICK=1` (or running it
//! without `--bench`, as `cargo test --all-targets` does) shrinks the run to a
//! smoke check.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use mortar_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Counts live heap bytes so the job store's size can be told apart from
/// allocator slack in VmRSS.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

struct Sizes {
    jobs: usize,
    duration: Duration,
    clients: usize,
}

fn sizes() -> Sizes {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // binary without it, where a quick smoke run is enough.
    let measuring = std::env::args().any(|a| a == "--bench");
    if std::env::var_os("EMULATOR_BENCH_QUICK").is_some() || !measuring {
        Sizes {
            jobs: 300,
            duration: Duration::from_millis(500),
            clients: 4,
        }
    } else {
        Sizes {
            jobs: 10_000,
            duration: Duration::from_secs(4),
            clients: 16,
        }
    }
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn job_settings(i: usize) -> Value {
    json!({
        "name": format!("bench-job-{i:05}"),
        "tags": {"team": "data", "env": "prod"},
        "job_clusters": [{
            "job_cluster_key": "main",
            "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}
        }],
        "tasks": [
            {"task_key": "extract", "job_cluster_key": "main",
             "notebook_task": {"notebook_path": format!("/Shared/etl/{i}/extract")}},
            {"task_key": "load", "job_cluster_key": "main", "depends_on": [{"task_key": "extract"}],
             "notebook_task": {"notebook_path": format!("/Shared/etl/{i}/load")}},
        ],
        "schedule": {"quartz_cron_expression": "0 0 3 * * ?", "timezone_id": "UTC"},
    })
}

/// Runs `clients` keep-alive loops against `url` for `duration`; returns req/s.
async fn throughput(url: String, token: Option<String>, clients: usize, duration: Duration) -> f64 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("http client");
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let mut request = client.get(&url);
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
                let response = request.send().await.expect("request");
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await.expect("body");
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

async fn baseline_server(body: Arc<Vec<u8>>) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/fixed", listener.local_addr().expect("addr"));
    let router = Router::new().route(
        "/fixed",
        get(move || {
            let body = Arc::clone(&body);
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body.as_ref().clone(),
                )
            }
        }),
    );
    let cancel = CancellationToken::new();
    tokio::spawn(mortar_emulator::server::serve(
        listener,
        router,
        cancel.clone(),
    ));
    (url, cancel)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let sizes = sizes();
    let rss_before = vm_rss_kib();
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let base = emulator.base_url().to_owned();
    let token = emulator.token();
    let client = reqwest::Client::new();

    let rss_started = vm_rss_kib();
    let heap_started = LIVE.load(Ordering::Relaxed);
    let created = Instant::now();
    let mut first_id = 0;
    let chunk = 16;
    for start in (0..sizes.jobs).step_by(chunk) {
        let mut batch = Vec::new();
        for i in start..(start + chunk).min(sizes.jobs) {
            let client = client.clone();
            let url = format!("{base}/api/2.2/jobs/create");
            let token = token.clone();
            batch.push(tokio::spawn(async move {
                let r: Value = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&job_settings(i))
                    .send()
                    .await
                    .expect("create")
                    .json()
                    .await
                    .expect("json");
                r["job_id"].as_i64().expect("job_id")
            }));
        }
        for task in batch {
            let id = task.await.expect("create task");
            if first_id == 0 || id < first_id {
                first_id = id;
            }
        }
    }
    let create_secs = created.elapsed().as_secs_f64();
    let rss_loaded = vm_rss_kib();
    let heap_loaded = LIVE.load(Ordering::Relaxed);

    let get_url = format!("{base}/api/2.2/jobs/get?job_id={first_id}");
    let list_url = format!("{base}/api/2.2/jobs/list?limit=20");
    // Each target's baseline serves that target's own response bytes, so the
    // ratio is the emulator's work, not the size of the answer.
    let sample = |url: String| {
        let client = client.clone();
        let token = token.clone();
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("sample")
                .bytes()
                .await
                .expect("body")
                .to_vec()
        }
    };
    let get_body = sample(get_url.clone()).await;
    let list_body = sample(list_url.clone()).await;
    let (get_base_url, get_cancel) = baseline_server(Arc::new(get_body.clone())).await;
    let (list_base_url, list_cancel) = baseline_server(Arc::new(list_body.clone())).await;

    // Warm up connections, then measure each target in the same conditions.
    throughput(
        get_base_url.clone(),
        None,
        sizes.clients,
        Duration::from_millis(300),
    )
    .await;
    let get_base = throughput(get_base_url, None, sizes.clients, sizes.duration).await;
    let get_rps = throughput(get_url, Some(token.clone()), sizes.clients, sizes.duration).await;
    let list_base = throughput(list_base_url, None, sizes.clients, sizes.duration).await;
    let list_rps = throughput(list_url, Some(token.clone()), sizes.clients, sizes.duration).await;
    get_cancel.cancel();
    list_cancel.cancel();

    println!(
        "emulator bench: {} jobs, {} clients, {:?} per target",
        sizes.jobs, sizes.clients, sizes.duration
    );
    println!(
        "  create {} jobs:            {:>10.0} req/s",
        sizes.jobs,
        sizes.jobs as f64 / create_secs
    );
    println!(
        "  jobs/get ({} B):          {get_rps:>10.0} req/s  baseline {get_base:>8.0} req/s  ratio {:.2}",
        get_body.len(),
        get_rps / get_base
    );
    println!(
        "  jobs/list 20/page ({} B): {list_rps:>10.0} req/s  baseline {list_base:>8.0} req/s  ratio {:.2}",
        list_body.len(),
        list_rps / list_base
    );
    match (rss_before, rss_started, rss_loaded) {
        (Some(before), Some(started), Some(loaded)) => {
            let delta = loaded.saturating_sub(started);
            println!(
                "  VmRSS: process {before} KiB, emulator started {started} KiB, with {} jobs {loaded} KiB (+{delta} KiB, {:.1} KiB/job)",
                sizes.jobs,
                delta as f64 / sizes.jobs as f64
            );
        }
        _ => println!("  VmRSS: unavailable (no /proc/self/status)"),
    }
    let heap = heap_loaded.saturating_sub(heap_started);
    println!(
        "  live heap: +{} KiB with {} jobs ({:.1} KiB/job)",
        heap / 1024,
        sizes.jobs,
        heap as f64 / 1024.0 / sizes.jobs as f64
    );
    emulator.shutdown().await;
}
