//! The library pipeline as the CLI and the controller call it:
//! `Engine::open` → `render` → `plan` → `apply`, against an emulated
//! workspace over real HTTP.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mortar::apply::Progress;
use mortar::audit::Trigger;
use mortar::config::LimitsConfig;
use mortar::engine::{AppFilter, Scope};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::databricks_support::emulator;
use super::harness::engine;
use mortar_emulator::EmulatorConfig;

fn write_repo(root: &Path, jobs: usize) {
    let top = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n";
    let apps = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n  syncPolicy: { automated: { selfHeal: true } }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: manual }\nspec:\n  source: { path: manual }\n  destination: { workspace: dev }\n";
    let job = |name: String| {
        format!(
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: {name} }}\nspec:\n  name: {name}\n  tasks:\n    - task_key: t\n      notebook_task: {{ notebook_path: /Shared/x }}\n"
        )
    };
    let team: String = (0..jobs).map(|i| job(format!("job-{i}"))).collect();
    for (file, text) in [
        ("top.yaml", top.to_string()),
        ("apps/apps.yaml", apps.to_string()),
        ("team/jobs.yaml", team),
        ("manual/jobs.yaml", job("by-hand".into())),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn audit_records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("state/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_apply_finishes_the_calls_in_flight_and_starts_no_more() {
    let emu = emulator(EmulatorConfig {
        latency: Duration::from_millis(60),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    write_repo(&dir.path().join("repo"), 12);
    let engine = engine(
        dir.path(),
        emu.base_url(),
        &emu.token(),
        LimitsConfig {
            max_concurrency: 2,
            ..LimitsConfig::default()
        },
        Default::default(),
    );
    let tree = engine.render(None).unwrap();

    // A scope of the automated apps alone leaves the manual one out.
    let automated = Scope {
        apps: AppFilter::Automated,
        ..Scope::default()
    };
    let planned = engine.plan_to_apply(&tree, &automated).await.unwrap();
    let names: Vec<&str> = planned.plan().apps.iter().map(|a| a.app.as_str()).collect();
    assert_eq!(names, ["team"]);
    assert_eq!(planned.plan().summary.create, 12);

    let cancel = CancellationToken::new();
    let on_first = cancel.clone();
    let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p| {
        if matches!(p, Progress::Finished { .. }) {
            on_first.cancel();
        }
    });
    let report = engine
        .apply(planned, Trigger::Cli("test".into()), progress, cancel)
        .await
        .unwrap();
    let team = &report.apps[0];
    assert!(!report.success());
    assert!(team.done >= 1 && team.done <= 3, "{team:?}");
    assert_eq!(team.done + team.skipped, 12, "{team:?}");
    assert!(
        team.failure.as_deref().unwrap().contains("cancelled"),
        "{team:?}"
    );
    // Every call made has its intent and its outcome.
    let records = audit_records(dir.path());
    let intents = records
        .iter()
        .filter(|r| r["event"]["phase"] == "intent")
        .count();
    let outcomes = records
        .iter()
        .filter(|r| r["event"]["phase"] == "outcome")
        .count();
    assert_eq!(intents, team.done);
    assert_eq!(outcomes, team.done);

    // The next apply picks up exactly where this one stopped.
    let planned = engine.plan_to_apply(&tree, &automated).await.unwrap();
    assert_eq!(planned.plan().summary.create, 12 - team.done);
    let report = engine
        .apply(
            planned,
            Trigger::Cli("test".into()),
            Arc::new(|_| {}),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(report.success(), "{report:?}");
    let planned = engine.plan(&tree, &Scope::app("team")).await.unwrap();
    assert!(!planned.has_work(), "{:?}", planned.plan().summary);
    // The manual app was never in scope.
    let planned = engine.plan(&tree, &Scope::app("manual")).await.unwrap();
    assert_eq!(planned.plan().summary.create, 1);

    // A change made by hand: a drift-only scope holds the app it touched
    // and leaves out the one that merely has creates pending.
    let http = reqwest::Client::new();
    let jobs: Value = http
        .get(format!("{}/api/2.2/jobs/list?name=job-3", emu.base_url()))
        .bearer_auth(emu.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = jobs["jobs"][0]["job_id"].clone();
    let changed = http
        .post(format!("{}/api/2.2/jobs/update", emu.base_url()))
        .bearer_auth(emu.token())
        .json(&serde_json::json!({"job_id": id, "new_settings": {"name": "renamed-by-hand"}}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success());
    let drift_only = Scope {
        drift_only: true,
        ..Scope::default()
    };
    let planned = engine.plan(&tree, &drift_only).await.unwrap();
    let names: Vec<&str> = planned.plan().apps.iter().map(|a| a.app.as_str()).collect();
    assert_eq!(names, ["team"]);
    assert_eq!(planned.plan().summary.update, 1);
}
