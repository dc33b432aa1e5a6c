//! What the benchmarks that run the controller share: sizes from the
//! command line and environment, counting reverse proxies in front of
//! emulated workspaces, a Git repository made with the `git` CLI in a
//! given layout, seeding a workspace, and reading a process's CPU and
//! memory from `/proc`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::stream::{self, StreamExt};
use mortar_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

/// Jobs per manifest file (a file holds at most 512 documents).
pub const PER_FILE: usize = 250;

pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub fn size(var: &str, full: usize, quick: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench_mode() { full } else { quick })
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

// ---------------------------------------------------------------- proxy

/// What a proxy saw: a count and `METHOD path?query` per request.
#[derive(Default)]
pub struct Seen {
    count: AtomicU64,
    log: Mutex<Vec<String>>,
}

impl Seen {
    /// The requests since the last take.
    pub fn take(&self) -> Vec<String> {
        self.count.store(0, Ordering::Relaxed);
        std::mem::take(&mut *self.log.lock().expect("log"))
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// `n requests: a GET jobs/list, b GET permissions/…` from a log.
pub fn breakdown(log: &[String]) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for line in log {
        let (method, rest) = line.split_once(' ').unwrap_or((line, ""));
        let path = rest.split('?').next().unwrap_or(rest);
        // `/api/2.0/permissions/jobs/123` → `permissions/jobs/{id}`.
        let api = path.splitn(4, '/').nth(3).unwrap_or(path);
        let class: Vec<&str> = api
            .split('/')
            .map(|s| {
                if s.chars().all(|c| c.is_ascii_digit()) {
                    "{id}"
                } else {
                    s
                }
            })
            .collect();
        *by.entry(format!("{method} {}", class.join("/")))
            .or_default() += 1;
    }
    by.iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone)]
pub struct Proxy {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Seen>,
}

pub async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_default();
    p.seen.count.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut log) = p.seen.log.lock() {
        log.push(format!("{} {pq}", parts.method));
    }
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
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

/// A reverse proxy in front of `upstream` counting what it forwards.
pub async fn start_proxy(upstream: &str) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let state = Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        seen: seen.clone(),
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

pub async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        transition_delay: Duration::from_millis(1),
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

// ---------------------------------------------------------------- repository

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ana Lopez")
        .env("GIT_AUTHOR_EMAIL", "ana@example.com")
        .env("GIT_COMMITTER_NAME", "Ana Lopez")
        .env("GIT_COMMITTER_EMAIL", "ana@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shape of a manifest repository: apps spread evenly over workspaces.
#[derive(Clone)]
pub struct Layout {
    pub workspaces: usize,
    pub apps: usize,
    pub jobs_per_app: usize,
    pub acl: bool,
}

impl Layout {
    pub fn app(&self, a: usize) -> String {
        format!("app-{a:02}")
    }

    pub fn workspace_of(&self, a: usize) -> String {
        format!("ws{}", a % self.workspaces)
    }

    pub fn job(&self, a: usize, j: usize) -> String {
        format!("{}-job-{j}", self.app(a))
    }

    pub fn resources(&self) -> usize {
        self.apps * self.jobs_per_app
    }

    /// The file holding the `chunk`th slice of app `a`'s jobs, every job at
    /// one concurrent run except those in `changed` (job index → runs).
    pub fn job_file(
        &self,
        a: usize,
        chunk: usize,
        changed: &BTreeMap<usize, u32>,
    ) -> (String, String) {
        let mut docs = String::new();
        let from = chunk * PER_FILE;
        let to = (from + PER_FILE).min(self.jobs_per_app);
        for j in from..to {
            let runs = changed.get(&j).copied().unwrap_or(1);
            let name = self.job(a, j);
            let _ = write!(
                docs,
                "---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: {name} }}\nspec:\n  name: {name}\n  max_concurrent_runs: {runs}\n  tasks:\n    - task_key: main\n      notebook_task: {{ notebook_path: /Shared/bench/main }}\n"
            );
            if self.acl {
                docs.push_str(
                    "permissions:\n  - { group_name: users, permission_level: CAN_VIEW }\n",
                );
            }
        }
        (format!("{}/jobs-{chunk}.yaml", self.app(a)), docs)
    }

    /// Every file of the repository.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut root = String::new();
        for w in 0..self.workspaces {
            let _ = write!(
                root,
                "---\napiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: {{ name: ws{w} }}\nspec: {{ host: https://ws{w}.example.com }}\n"
            );
        }
        // A file holds at most 512 documents: the Applications beyond the
        // first few hundred go to further top-level files.
        let mut files = Vec::new();
        let mut current = root;
        let mut in_file = self.workspaces;
        for a in 0..self.apps {
            if in_file >= 400 {
                let name = if files.is_empty() {
                    "root.yaml".to_string()
                } else {
                    format!("apps-{}.yaml", files.len())
                };
                files.push((name, std::mem::take(&mut current)));
                in_file = 0;
            }
            let _ = write!(
                current,
                "---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: {} }}\nspec:\n  project: default\n  source: {{ path: {} }}\n  destination: {{ workspace: {} }}\n  syncPolicy: {{ automated: {{ prune: true, selfHeal: true }} }}\n",
                self.app(a),
                self.app(a),
                self.workspace_of(a)
            );
            in_file += 1;
        }
        let name = if files.is_empty() {
            "root.yaml".to_string()
        } else {
            format!("apps-{}.yaml", files.len())
        };
        files.push((name, current));
        for a in 0..self.apps {
            for chunk in 0..self.jobs_per_app.div_ceil(PER_FILE) {
                files.push(self.job_file(a, chunk, &BTreeMap::new()));
            }
        }
        files
    }

    /// The file changing job `j` of app `a` to `runs` concurrent runs,
    /// keeping the changes made before (in `changed`, per app).
    pub fn change(
        &self,
        changed: &mut BTreeMap<usize, BTreeMap<usize, u32>>,
        a: usize,
        j: usize,
        runs: u32,
    ) -> (String, String) {
        let of_app = changed.entry(a).or_default();
        of_app.insert(j, runs);
        self.job_file(a, j / PER_FILE, of_app)
    }
}

pub struct Repo {
    pub dir: PathBuf,
}

impl Repo {
    pub fn init(dir: PathBuf) -> Repo {
        std::fs::create_dir_all(&dir).expect("repo dir");
        git(&dir, &["init", "-q", "-b", "main"]);
        Repo { dir }
    }

    /// Writes files and commits them; returns the commit SHA.
    pub fn commit(&self, files: &[(String, String)], message: &str) -> String {
        for (path, text) in files {
            let full = self.dir.join(path);
            std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        }
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "-m", message]);
        git(&self.dir, &["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// Makes the jobs of app `a` live in its workspace, tagged as Mortar's,
/// each with the ACL the manifests declare.
pub async fn seed(emu: &RunningEmulator, layout: &Layout, a: usize) {
    let http = reqwest::Client::new();
    let base = emu.base_url().to_string();
    let token = emu.token();
    let ws = layout.workspace_of(a);
    let app = layout.app(a);
    stream::iter(0..layout.jobs_per_app)
        .map(|j| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            let name = layout.job(a, j);
            let tags = json!({"mortar.dev/app": app, "mortar.dev/key": format!("{ws}/Job/{name}")});
            async move {
                let body = json!({
                    "name": name,
                    "max_concurrent_runs": 1,
                    "tasks": [{"task_key": "main", "notebook_task": {"notebook_path": "/Shared/bench/main"}}],
                    "tags": tags,
                });
                let created: Value = http
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

/// `(utime + stime in ticks, VmRSS KiB, VmHWM KiB)` of a process.
pub fn proc_sample(pid: u32) -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((ticks, kib("VmRSS:")?, kib("VmHWM:")?))
}

pub fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}
