//! Definitions pasted from elsewhere, applied with the real `mortar` binary
//! to an emulated workspace over real HTTP, then changed by hand through
//! the REST API: what `mortar plan` must see (drift normalization could
//! hide), what `mortar validate` must accept, and what a reviewer reads.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::databricks_support::emulator;
use super::harness::{Out, command, run};
use mortar_emulator::{EmulatorConfig, RunningEmulator};

const TOP: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  project: team
  source: { path: team }
  destination: { workspace: dev }
---
apiVersion: mortar.dev/v1alpha1
kind: Project
metadata: { name: team }
spec:
  destinations: [ { workspace: dev } ]
  sourcePaths: [team]
  kinds: [Job, Cluster]
---
apiVersion: mortar.dev/v1alpha1
kind: Workspace
metadata: { name: dev }
spec: { host: https://dbc-dev.cloud.databricks.com, cloud: aws }
";

/// One emulated workspace and a manifest repository of one app, `team`,
/// whose resources are the files written under `manifests/team/`.
struct Env {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    http: reqwest::Client,
}

impl Env {
    async fn start(files: &[(&str, &str)]) -> Env {
        let dev = emulator(EmulatorConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            dir,
            dev,
            http: reqwest::Client::new(),
        };
        std::fs::create_dir_all(env.manifests().join("team")).unwrap();
        std::fs::write(env.manifests().join("root.yaml"), TOP).unwrap();
        for (name, text) in files {
            env.write(name, text);
        }
        std::fs::write(env.path().join("pat"), env.dev.token()).unwrap();
        let config = format!(
            "source: {{ dir: manifests }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}\n",
            env.dev.base_url()
        );
        std::fs::write(env.path().join("mortar.yaml"), config).unwrap();
        env
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn manifests(&self) -> PathBuf {
        self.path().join("manifests")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.manifests().join("team").join(name), text).unwrap();
    }

    async fn mortar(&self, args: &[&str]) -> Out {
        run(command(self.path(), args, args[0] != "validate")).await
    }

    async fn validate(&self) -> Out {
        self.mortar(&["validate", "manifests"]).await
    }

    /// The changed actions of `mortar plan --output json`, and its exit code.
    async fn plan(&self) -> (i32, Vec<Value>) {
        let out = self.mortar(&["plan", "--output", "json"]).await;
        assert!(
            out.code == 0 || out.code == 2,
            "plan failed: {}",
            out.stderr
        );
        let plan: Value = serde_json::from_str(&out.stdout).expect("plan JSON");
        let actions = plan["apps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["actions"].as_array().unwrap().clone())
            .filter(|a| a["action"] != "no_op")
            .collect();
        (out.code, actions)
    }

    async fn apply(&self) -> Out {
        let out = self.mortar(&["apply", "--auto-approve"]).await;
        assert_eq!(out.code, 0, "apply failed:\n{}\n{}", out.stdout, out.stderr);
        out
    }

    /// Applies, then checks that a second plan has nothing to do.
    async fn apply_clean(&self) {
        self.apply().await;
        let (code, actions) = self.plan().await;
        assert_eq!(code, 0, "a plan right after apply: {actions:#?}");
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.dev.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url).bearer_auth(self.dev.token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("emulator answers");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    async fn job(&self, name: &str) -> Value {
        let list = self
            .api(
                "GET",
                &format!("/api/2.2/jobs/list?name={name}&limit=100"),
                None,
            )
            .await;
        let jobs = list["jobs"].as_array().cloned().unwrap_or_default();
        assert_eq!(jobs.len(), 1, "jobs named {name}: {jobs:?}");
        let id = &jobs[0]["job_id"];
        self.api("GET", &format!("/api/2.2/jobs/get?job_id={id}"), None)
            .await
    }

    /// `clusters/edit` by hand, once the cluster has started.
    async fn edit_cluster(&self, spec: Value) {
        let url = format!("{}/api/2.1/clusters/edit", self.dev.base_url());
        for _ in 0..200 {
            let resp = self
                .http
                .post(&url)
                .bearer_auth(self.dev.token())
                .json(&spec)
                .send()
                .await
                .expect("emulator answers");
            if resp.status().is_success() {
                return;
            }
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(body["error_code"], "INVALID_STATE", "{body}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the cluster never started");
    }

    async fn cluster(&self, name: &str) -> Value {
        let list = self.api("GET", "/api/2.1/clusters/list", None).await;
        let found: Vec<Value> = list["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["cluster_name"] == name)
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "clusters named {name}: {found:?}");
        found[0].clone()
    }
}

fn job_manifest(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: {{ name: {name} }}
spec:
  name: {name}
  tasks:
    - task_key: main
      notebook_task: {{ notebook_path: /Workspace/x }}
{extra}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_block_removed_by_hand_is_planned_as_drift_and_healed() {
    for block in [
        "  continuous: { pause_status: UNPAUSED }\n",
        "  continuous: {}\n",
    ] {
        let env = Env::start(&[("job.yaml", &job_manifest("streamer", block))]).await;
        env.apply_clean().await;
        let job = env.job("streamer").await;
        assert!(job["settings"]["continuous"].is_object(), "{job:#}");

        // Someone makes the job a plain one by hand.
        env.api(
            "POST",
            "/api/2.2/jobs/update",
            Some(json!({"job_id": job["job_id"], "fields_to_remove": ["continuous"]})),
        )
        .await;
        assert!(env.job("streamer").await["settings"]["continuous"].is_null());

        let (code, actions) = env.plan().await;
        assert_eq!(code, 2, "{block}: the removal is planned");
        assert_eq!(actions.len(), 1, "{actions:#?}");
        assert_eq!(actions[0]["action"], "update");
        assert_eq!(actions[0]["drift"], true, "{:#}", actions[0]);
        assert_eq!(
            actions[0]["changes"][0]["path"], "/continuous",
            "{:#}",
            actions[0]
        );
        let text = env.mortar(&["plan"]).await;
        assert!(
            text.stdout.contains("[drift]") && !text.stdout.contains("No changes"),
            "{}",
            text.stdout
        );

        // Apply heals it.
        env.apply_clean().await;
        let healed = env.job("streamer").await;
        assert!(healed["settings"]["continuous"].is_object(), "{healed:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_zone_changed_by_hand_is_planned_and_a_chosen_one_is_not() {
    let pinned = "apiVersion: mortar.dev/v1alpha1
kind: Cluster
metadata: { name: pinned }
spec:
  cluster_name: pinned
  spark_version: 15.4.x-scala2.12
  node_type_id: i3.xlarge
  num_workers: 1
  aws_attributes: { zone_id: us-east-1 }
";
    let chosen = "apiVersion: mortar.dev/v1alpha1
kind: Cluster
metadata: { name: chosen }
spec:
  cluster_name: chosen
  spark_version: 15.4.x-scala2.12
  node_type_id: i3.xlarge
  num_workers: 1
";
    let env = Env::start(&[("pinned.yaml", pinned), ("chosen.yaml", chosen)]).await;
    env.apply_clean().await;

    let cluster = env.cluster("pinned").await;
    let mut spec = env
        .api(
            "GET",
            &format!(
                "/api/2.1/clusters/get?cluster_id={}",
                cluster["cluster_id"].as_str().unwrap()
            ),
            None,
        )
        .await["spec"]
        .clone();
    spec["cluster_id"] = cluster["cluster_id"].clone();
    spec["aws_attributes"]["zone_id"] = json!("us-east-1b");
    env.edit_cluster(spec).await;

    let (code, actions) = env.plan().await;
    assert_eq!(code, 2, "the moved zone is planned");
    assert_eq!(actions.len(), 1, "only the pinned cluster: {actions:#?}");
    assert_eq!(
        actions[0]["address"], "dev/Cluster/pinned",
        "{:#}",
        actions[0]
    );
    assert_eq!(
        actions[0]["changes"],
        json!([{"path": "/aws_attributes/zone_id", "old": "us-east-1b", "new": "us-east-1", "drift": true, "sensitive": false}])
    );
    env.apply_clean().await;
    let healed = env.cluster("pinned").await;
    assert_eq!(
        healed["aws_attributes"]["zone_id"], "us-east-1",
        "{healed:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_cluster_switched_to_autoscaling_by_hand_is_planned() {
    let single = "apiVersion: mortar.dev/v1alpha1
kind: Cluster
metadata: { name: single }
spec:
  cluster_name: single
  spark_version: 15.4.x-scala2.12
  node_type_id: i3.xlarge
  num_workers: 0
";
    let env = Env::start(&[("single.yaml", single)]).await;
    env.apply_clean().await;
    let cluster = env.cluster("single").await;
    let id = cluster["cluster_id"].as_str().unwrap().to_string();
    let mut spec = env
        .api(
            "GET",
            &format!("/api/2.1/clusters/get?cluster_id={id}"),
            None,
        )
        .await["spec"]
        .clone();
    let fields = spec.as_object_mut().unwrap();
    fields.remove("num_workers");
    fields.insert("cluster_id".into(), json!(id));
    fields.insert(
        "autoscale".into(),
        json!({"min_workers": 1, "max_workers": 8}),
    );
    env.edit_cluster(spec).await;

    let (code, actions) = env.plan().await;
    assert_eq!(code, 2, "the switch to autoscaling is planned");
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["address"], "dev/Cluster/single");
    assert_eq!(actions[0]["drift"], true, "{:#}", actions[0]);
    env.apply_clean().await;
    let healed = env
        .api(
            "GET",
            &format!("/api/2.1/clusters/get?cluster_id={id}"),
            None,
        )
        .await;
    assert!(healed["spec"]["autoscale"].is_null(), "{healed:#}");
    assert_eq!(healed["spec"]["num_workers"], 0, "{healed:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_task_types_and_a_lower_case_git_provider_validate_plan_and_apply() {
    let job = "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: modern }
spec:
  name: modern
  git_source: { git_url: https://github.com/acme/etl, git_provider: github, git_branch: main }
  tasks:
    - task_key: op
      python_operator_task: { main: acme.etl.run }
    - task_key: ai
      ai_function_task: { output: { catalog: main, schema: ai, table: out } }
    - task_key: train
      ai_runtime_task:
        experiment: /Shared/exp
        deployments: [ { compute: { accelerator_type: GPU_1xA10, accelerator_count: 1 } } ]
";
    let env = Env::start(&[("job.yaml", job)]).await;
    let out = env.validate().await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains(": warning"), "{}", out.stderr);

    let (code, actions) = env.plan().await;
    assert_eq!(code, 2);
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["action"], "create");
    env.apply_clean().await;
    let live = env.job("modern").await;
    let tasks = live["settings"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3, "{live:#}");
}

/// True when `text` holds a character a terminal acts on.
fn has_raw_controls(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202A}'..='\u{202E}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_in_names_and_fields_print_escaped() {
    // A field name holding "erase line, carriage return, right-to-left".
    let job = "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: plain }
spec:
  name: plain
  \"field\\e[2K\\r\\u202E\": 1
  tasks:
    - task_key: main
      notebook_task: { notebook_path: /Workspace/x }
";
    let env = Env::start(&[("job.yaml", job)]).await;
    for out in [env.validate().await, env.mortar(&["plan"]).await] {
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!has_raw_controls(&all), "raw control characters: {all:?}");
        assert!(
            all.contains("spec.field\\u{1b}[2K\\u{d}\\u{202e}"),
            "the field name is shown escaped: {all}"
        );
    }
    let plan = env.mortar(&["plan"]).await;
    assert!(plan.stdout.contains("+ dev/Job/plain"), "{}", plan.stdout);

    // The same in `metadata.name`: refused, and shown escaped where it is
    // named (validate's error, the plan's `!` line).
    let job = "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: \"evil\\e[2K\\r\\u202Ex\" }
spec:
  name: plain
  tasks:
    - task_key: main
      notebook_task: { notebook_path: /Workspace/x }
";
    env.write("job.yaml", job);
    for out in [env.validate().await, env.mortar(&["plan"]).await] {
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!has_raw_controls(&all), "raw control characters: {all:?}");
        assert!(
            all.contains("evil\\u{1b}[2K\\u{d}\\u{202e}x"),
            "the name is shown escaped: {all}"
        );
    }
}
