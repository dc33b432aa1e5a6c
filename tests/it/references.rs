//! References and escapes end to end: what `mortar apply` sends for
//! `${resources.…}` and `$${…}`, read back by the official Databricks SDK
//! for Python from an emulated workspace.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::databricks_support::emulator;
use super::harness::{command, run, write_files};
use mortar_emulator::EmulatorConfig;

const TOP: &str = "apiVersion: mortar.dev/v1alpha1
kind: Workspace
metadata: { name: dev }
spec: { host: https://dev.example.com }
---
apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: root }
spec:
  source: { path: apps }
";

const APP: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  source: { path: team }
  destination: { workspace: dev }
";

const JOBS: &str = "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: upstream }
spec:
  name: upstream
  max_concurrent_runs: 1
  description: \"$${resources.clusters.nope.id} is written as is\"
  tags: { template: \"$${var.env}\" }
  tasks:
    - task_key: t
      notebook_task: { notebook_path: /Shared/x }
---
apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: downstream }
spec:
  name: downstream
  tasks:
    - task_key: run
      run_job_task: { job_id: \"${resources.jobs.upstream.id}\" }
";

async fn mortar(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = run(command(dir, args, true)).await;
    (out.code, format!("{}{}", out.stdout, out.stderr))
}

/// Reads jobs back through the Python SDK: `{name: settings as a dict}`.
fn jobs_through_sdk(host: &str, token: &str) -> Value {
    let python = std::env::var("MORTAR_TEST_PYTHON").expect(
        "MORTAR_TEST_PYTHON names a Python with databricks-sdk; run the suite with scripts/test",
    );
    let script = "import json, sys
from databricks.sdk import WorkspaceClient
w = WorkspaceClient(host=sys.argv[1], token=sys.argv[2], auth_type='pat')
out = {}
for j in w.jobs.list():
    s = w.jobs.get(j.job_id).settings
    out[s.name] = {'job_id': j.job_id, 'settings': s.as_dict(),
                   'run_job_id_is_int': [isinstance(t.run_job_task.job_id, int) for t in s.tasks if t.run_job_task]}
print(json.dumps(out))
";
    let out = Command::new(python)
        .args(["-c", script, host, token])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the SDK script")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaped_literals_apply_unchanged_and_job_references_are_sent_as_numbers() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_files(
        &dir.path().join("repo"),
        &[
            ("top.yaml", TOP),
            ("apps/team.yaml", APP),
            ("team/jobs.yaml", JOBS),
        ],
    );
    std::fs::write(dir.path().join("pat"), emu.token()).unwrap();
    std::fs::write(
        dir.path().join("mortar.yaml"),
        format!(
            "source: {{ dir: repo }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n",
            emu.base_url()
        ),
    )
    .unwrap();

    let (code, out) = mortar(dir.path(), &["apply", "--auto-approve"]).await;
    assert_eq!(code, 0, "{out}");
    // The create's audit intent carries the body sent, defaults included.
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).unwrap();
    let intent: Value = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event"]["key"] == "dev/Job/upstream" && r["event"]["phase"] == "intent")
        .expect("a create intent for the job");
    let changes = intent["event"]["changes"].as_array().unwrap();
    let field = |path: &str| {
        changes
            .iter()
            .find(|c| c["path"] == path)
            .map(|c| c["new"].clone())
    };
    assert_eq!(field("/max_concurrent_runs"), Some(Value::from("1")));
    assert_eq!(
        field("/description"),
        Some(Value::from(
            "\"${resources.clusters.nope.id} is written as is\""
        ))
    );
    assert!(field("/tasks").is_some());
    // Nothing left to do: the literal is neither a dependency nor drift.
    let (code, out) = mortar(dir.path(), &["plan"]).await;
    assert_eq!(code, 0, "{out}");

    let jobs = jobs_through_sdk(emu.base_url(), &emu.token());
    let upstream = &jobs["upstream"];
    assert_eq!(
        upstream["settings"]["description"],
        "${resources.clusters.nope.id} is written as is"
    );
    assert_eq!(upstream["settings"]["tags"]["template"], "${var.env}");
    let downstream = &jobs["downstream"];
    assert_eq!(
        downstream["settings"]["tasks"][0]["run_job_task"]["job_id"],
        upstream["job_id"]
    );
    assert_eq!(downstream["run_job_id_is_int"], serde_json::json!([true]));
}
