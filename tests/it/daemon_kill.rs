//! The daemon killed with SIGKILL at random moments, twenty times, while it
//! syncs commits against a workspace that fails one request in ten. After
//! the last restart, with the faults off, it must converge: no object
//! twice, the audit chain intact, the status and the workspace equal to Git.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mortar::model::{Health, SyncStatus};
use mortar_emulator::{EmulatorConfig, FaultSettings};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::daemon_support::{ROOT, git};
use super::databricks_support::emulator;
use super::harness::{command, run};

const APPS: usize = 3;
const JOBS_PER_APP: usize = 8;

fn apps() -> String {
    (0..APPS)
        .map(|a| {
            format!(
                "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: team{a} }}\nspec:\n  source: {{ path: team{a} }}\n  destination: {{ workspace: dev }}\n  syncPolicy:\n    automated: {{ prune: true, selfHeal: true }}\n    retry: {{ limit: 10, backoff: {{ duration: 1s, factor: 1, maxDuration: 1s }} }}\n---\n"
            )
        })
        .collect()
}

fn jobs(app: usize, generation: u32) -> String {
    (0..JOBS_PER_APP)
        .map(|j| {
            format!(
                "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: team{app}-job{j} }}\nspec:\n  name: team{app}-job{j}\n  max_concurrent_runs: {}\n  tasks:\n    - task_key: main\n      notebook_task: {{ notebook_path: /Shared/team{app}/job{j} }}\n---\n",
                generation + 1
            )
        })
        .collect()
}

fn commit(repo: &Path, generations: &[u32]) {
    for (app, generation) in generations.iter().enumerate() {
        let dir = repo.join(format!("team{app}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("jobs.yaml"), jobs(app, *generation)).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "--allow-empty", "-m", "jobs"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sigkills_during_faulty_syncs_converge_without_duplicates() {
    let seed: u64 = std::env::var("MORTAR_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("kill test seed {seed} (MORTAR_KILL_SEED repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dev = emulator(EmulatorConfig {
        latency: Duration::from_millis(3),
        fault_rate: 0.1,
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("root.yaml"), ROOT).unwrap();
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    std::fs::write(repo.join("apps/apps.yaml"), apps()).unwrap();
    let mut generations = vec![0u32; APPS];
    commit(&repo, &generations);
    std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
    std::fs::write(
        dir.path().join("mortar.yaml"),
        format!(
            "source: {{ git: {{ repo: repo, revision: main }} }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 10, max_backoff_ms: 100 }}\ncontroller: {{ drift_interval: 1s }}\nserver: {{ listen: '127.0.0.1:0', metrics_listen: '127.0.0.1:0' }}\n",
            dev.base_url()
        ),
    )
    .unwrap();

    let mut kills = 0;
    while kills < 20 {
        // A new commit every other round, touching one app.
        if kills % 2 == 0 {
            let app = rng.random_range(0..APPS);
            generations[app] += 1;
            commit(&repo, &generations);
        }
        let mut child = command(dir.path(), &["run"], true).spawn().unwrap();
        let wait = Duration::from_millis(rng.random_range(30..400));
        tokio::time::sleep(wait).await;
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the daemon exited on its own: {status}");
        }
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        kills += 1;
    }

    // Faults off: the next run converges.
    dev.set_faults(FaultSettings {
        fault_rate: 0.0,
        ..dev.faults()
    });
    let out = run(command(dir.path(), &["run", "--once"], true)).await;
    assert_eq!(out.code, 0, "after {kills} kills:\n{}", out.stderr);

    // No object twice, and each job as the last commit says.
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{}/api/2.2/jobs/list?limit=100", dev.base_url()))
        .bearer_auth(dev.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for job in list["jobs"].as_array().unwrap() {
        by_name
            .entry(job["settings"]["name"].as_str().unwrap().to_string())
            .or_default()
            .push(job["job_id"].as_i64().unwrap());
    }
    assert_eq!(by_name.len(), APPS * JOBS_PER_APP, "{by_name:?}");
    for (name, ids) in &by_name {
        assert_eq!(ids.len(), 1, "{name} exists {} times", ids.len());
        let app: usize = name[4..5].parse().unwrap();
        let get: Value = http
            .get(format!(
                "{}/api/2.2/jobs/get?job_id={}",
                dev.base_url(),
                ids[0]
            ))
            .bearer_auth(dev.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            get["settings"]["max_concurrent_runs"],
            generations[app] + 1,
            "{name}"
        );
    }

    // The audit chain verifies.
    let verify = run(command(
        dir.path(),
        &["audit", "verify", "state/audit.jsonl"],
        false,
    ))
    .await;
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    // The status says what the workspace holds.
    let status = mortar::controller::status_store::StatusStore::new(dir.path().join("state"))
        .load()
        .unwrap()
        .expect("a saved status");
    for app in status.apps.iter().filter(|a| a.name != "root") {
        assert_eq!(
            (app.sync, app.health),
            (SyncStatus::Synced, Health::Healthy),
            "{app:?}"
        );
    }
    let plan = run(command(dir.path(), &["plan"], true)).await;
    assert_eq!(
        plan.code, 0,
        "a plan after convergence:\n{}{}",
        plan.stdout, plan.stderr
    );
}
