//! `mortar plan` and `mortar apply` as a user runs them: the real binary,
//! a `mortar.yaml` in a temporary directory, the example repository (or a
//! changed copy of it, or a real Git repository made with the `git` CLI)
//! and two emulated workspaces (`dev`, `prod`) over real HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::databricks_support::emulator;
use super::harness::{Out, command, copy_dir, repo_root, run};
use mortar_emulator::{EmulatorConfig, RunningEmulator};

const DB_PASSWORD: &str = "pw-0f3a9c1e-never-logged";
const PARTNER_TOKEN: &str = "partner-7d1b2e-never-logged";

/// Two emulated workspaces and a config directory holding `mortar.yaml`,
/// a copy of the example repository (`manifests/`), and `state/`.
pub(crate) struct Env {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    prod: RunningEmulator,
    http: reqwest::Client,
}

impl Env {
    pub(crate) async fn start(latency: Duration) -> Env {
        let config = EmulatorConfig {
            latency,
            transition_delay: Duration::from_millis(20),
            ..Default::default()
        };
        let dev = emulator(config.clone()).await;
        let prod = emulator(config).await;
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &repo_root().join("manifests"),
            &dir.path().join("manifests"),
        );
        std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/partner-api-token"), PARTNER_TOKEN).unwrap();
        std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
        let env = Env {
            dir,
            dev,
            prod,
            http: reqwest::Client::new(),
        };
        env.write_config("source: { dir: manifests }");
        env
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn manifests(&self) -> PathBuf {
        self.path().join("manifests")
    }

    pub(crate) fn write_config(&self, source: &str) {
        let text = format!(
            "{source}\nsecrets:\n  projects:\n    data-engineering: {{ env: [ETL_WAREHOUSE_DB_PASSWORD], dir: secrets }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}\n  prod:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}\n",
            self.dev.base_url(),
            self.prod.base_url()
        );
        std::fs::write(self.path().join("mortar.yaml"), text).unwrap();
    }

    /// Replaces `from` with `to` in a file of the manifest copy.
    pub(crate) fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.manifests().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = command(self.path(), args, true);
        cmd.env("ETL_WAREHOUSE_DB_PASSWORD", DB_PASSWORD);
        cmd
    }

    pub(crate) async fn mortar(&self, args: &[&str]) -> Out {
        run(self.command(args)).await
    }

    pub(crate) async fn plan_json(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["plan", "--output", "json"];
        args.extend_from_slice(extra);
        let out = self.mortar(&args).await;
        assert!(
            out.code == 0 || out.code == 2,
            "plan failed: {}",
            out.stderr
        );
        (
            out.code,
            serde_json::from_str(&out.stdout).expect("plan JSON"),
        )
    }

    pub(crate) async fn apply(&self, extra: &[&str]) -> Out {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend_from_slice(extra);
        let out = self.mortar(&args).await;
        assert_eq!(out.code, 0, "apply failed:\n{}\n{}", out.stdout, out.stderr);
        out
    }

    fn ws(&self, name: &str) -> &RunningEmulator {
        if name == "dev" { &self.dev } else { &self.prod }
    }

    /// An API call to a workspace, as the SDK would make it.
    pub(crate) async fn api(
        &self,
        ws: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let emu = self.ws(ws);
        let url = format!("{}{path}", emu.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url).bearer_auth(emu.token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("emulator answers");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    pub(crate) async fn jobs_named(&self, ws: &str, name: &str) -> Vec<Value> {
        super::databricks_support::jobs_named(self.ws(ws), name).await
    }

    async fn job(&self, ws: &str, name: &str) -> Value {
        let jobs = self.jobs_named(ws, name).await;
        assert_eq!(jobs.len(), 1, "{ws}: jobs named {name}: {jobs:?}");
        let id = jobs[0]["job_id"].clone();
        self.api(ws, "GET", &format!("/api/2.2/jobs/get?job_id={id}"), None)
            .await
    }

    /// Names of every object of the kinds Mortar creates, in both
    /// workspaces; panics naming any name that appears twice.
    async fn assert_no_duplicates(&self) {
        for ws in ["dev", "prod"] {
            let lists: [(&str, &str, &str); 7] = [
                ("/api/2.2/jobs/list?limit=100", "jobs", "/settings/name"),
                ("/api/2.1/clusters/list", "clusters", "/cluster_name"),
                (
                    "/api/2.0/instance-pools/list",
                    "instance_pools",
                    "/instance_pool_name",
                ),
                ("/api/2.0/policies/clusters/list", "policies", "/name"),
                ("/api/2.0/sql/warehouses", "warehouses", "/name"),
                (
                    "/api/2.0/preview/scim/v2/ServicePrincipals",
                    "Resources",
                    "/displayName",
                ),
                (
                    "/api/2.0/preview/scim/v2/Groups",
                    "Resources",
                    "/displayName",
                ),
            ];
            for (path, field, name) in lists {
                let v = self.api(ws, "GET", path, None).await;
                let mut seen: BTreeMap<String, usize> = BTreeMap::new();
                for item in v[field].as_array().into_iter().flatten() {
                    let n = item.pointer(name).and_then(Value::as_str).unwrap_or("?");
                    *seen.entry(n.to_string()).or_default() += 1;
                }
                let dups: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
                assert!(dups.is_empty(), "{ws} {path}: duplicates {dups:?}");
            }
        }
    }

    pub(crate) fn audit_records(&self) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.path().join("state/audit.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn audit_verify(&self) -> Out {
        let file = self.path().join("state/audit.jsonl");
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
            .args(["audit", "verify"])
            .arg(&file)
            .output()
            .await
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The actions of a JSON plan that are not no-ops.
fn changed(plan: &Value) -> Vec<Value> {
    plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["actions"].as_array().unwrap().clone())
        .filter(|a| a["action"] != "no_op")
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Dana Engineer")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_NAME", "Merge Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_applies_from_git_then_plans_nothing_and_heals_drift_with_an_audit_trail() {
    let env = Env::start(Duration::ZERO).await;
    // The manifests as a real Git repository, read at `main`.
    let repo = env.manifests();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "Example platform"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    env.write_config("source: { git: { repo: manifests, revision: main } }");

    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!("Plan at revision {commit}")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ dev/Job/nightly-etl"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 42 to create, 2 to update."),
        "{}",
        plan.stdout
    );

    let applied = env.apply(&[]).await;
    assert!(
        applied
            .stdout
            .contains("Apply complete: 42 created, 2 updated"),
        "{}",
        applied.stdout
    );
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 0, "{:#}", Value::Array(changed(&plan)));
    assert_eq!(plan["revision"], commit.as_str());

    // The runner's application id reached the job, and secrets their scope.
    let job = env.job("dev", "nightly-etl-dev").await;
    let runner = env
        .api("dev", "GET", "/api/2.0/preview/scim/v2/ServicePrincipals?filter=displayName%20eq%20%22pipeline-runner-dev%22", None)
        .await;
    let app_id = runner["Resources"][0]["applicationId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(job["run_as_user_name"], app_id.as_str());
    let keys = env
        .api("dev", "GET", "/api/2.0/secrets/list?scope=etl-dev", None)
        .await;
    let mut names: Vec<&str> = keys["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["partner-api-token", "warehouse-db-password"]);
    let got = env
        .api(
            "dev",
            "GET",
            "/api/2.0/secrets/get?scope=etl-dev&key=warehouse-db-password",
            None,
        )
        .await;
    use base64::Engine as _;
    let value = base64::engine::general_purpose::STANDARD
        .decode(got["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(value, DB_PASSWORD.as_bytes());

    // Someone raises max_concurrent_runs and grants a group CAN_MANAGE by hand.
    let id = job["job_id"].clone();
    env.api(
        "dev",
        "POST",
        "/api/2.2/jobs/update",
        Some(json!({"job_id": id, "new_settings": {"max_concurrent_runs": 5}})),
    )
    .await;
    env.api("dev", "PATCH", &format!("/api/2.0/permissions/jobs/{id}"), Some(json!({"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_MANAGE"}]}))).await;
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 2);
    let actions = changed(&plan);
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let a = &actions[0];
    assert_eq!(a["address"], "dev/Job/nightly-etl");
    assert_eq!(a["action"], "update");
    assert_eq!(
        a["changes"],
        json!([{"path": "/max_concurrent_runs", "old": 5, "new": 1, "drift": true, "sensitive": false}])
    );
    assert_eq!(
        a["permission_changes"],
        json!([{"principal": {"group_name": "analysts"}, "old": "CAN_MANAGE", "new": "CAN_VIEW", "drift": true}])
    );

    env.apply(&[]).await;
    let (code, _) = env.plan_json(&[]).await;
    assert_eq!(code, 0);
    let job = env.job("dev", "nightly-etl-dev").await;
    assert_eq!(job["settings"]["max_concurrent_runs"], 1);

    // A secret deleted by hand is put back (its value is never shown).
    env.api(
        "dev",
        "POST",
        "/api/2.0/secrets/delete",
        Some(json!({"scope": "etl-dev", "key": "partner-api-token"})),
    )
    .await;
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 2);
    let actions = changed(&plan);
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["address"], "dev/SecretScope/etl");
    assert_eq!(
        actions[0]["changes"],
        json!([{"path": "/secrets/partner-api-token", "new": "(sensitive, from file partner-api-token)", "drift": true, "sensitive": true}])
    );
    env.apply(&[]).await;
    assert_eq!(env.plan_json(&[]).await.0, 0);
    let got = env
        .api(
            "dev",
            "GET",
            "/api/2.0/secrets/get?scope=etl-dev&key=partner-api-token",
            None,
        )
        .await;
    let value = base64::engine::general_purpose::STANDARD
        .decode(got["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(value, PARTNER_TOKEN.as_bytes());

    // The audit trail: who, from which commit, as whom; the heal recorded.
    let records = env.audit_records();
    let heal = records
        .iter()
        .find(|r| r["event"]["action"] == "heal" && r["event"]["phase"] == "outcome")
        .expect("a heal outcome");
    let e = &heal["event"];
    assert_eq!(e["key"], "dev/Job/nightly-etl");
    assert_eq!(e["outcome"], "ok");
    assert_eq!(e["revision"], commit.as_str());
    assert_eq!(e["commit_author"], "Dana Engineer <dana@example.com>");
    assert_eq!(e["acting_as"], "admin@example.com");
    assert_eq!(e["triggered_by"], json!({"cli": "ci-bot"}));
    assert_eq!(
        e["changes"],
        json!([{"path": "/max_concurrent_runs", "old": "5", "new": "1"}])
    );
    assert!(
        records
            .iter()
            .any(|r| r["event"]["action"] == "set_permissions"
                && r["event"]["key"] == "dev/Job/nightly-etl"
                && r["event"]["changes"][0]["old"] == "CAN_MANAGE")
    );
    // Every intent is followed by its outcome.
    let intents = records
        .iter()
        .filter(|r| r["event"]["phase"] == "intent")
        .count();
    assert_eq!(intents * 2, records.len());

    // Secret values are nowhere in Mortar's state, logs or output.
    for entry in std::fs::read_dir(env.path().join("state")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(DB_PASSWORD) && !text.contains(PARTNER_TOKEN));
    }
    assert!(!applied.stdout.contains(DB_PASSWORD) && !applied.stderr.contains(PARTNER_TOKEN));

    let verify = env.audit_verify().await;
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    // Any changed byte is caught.
    let file = env.path().join("state/audit.jsonl");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(&file, bytes).unwrap();
    assert_eq!(env.audit_verify().await.code, 1);

    // A pull request's checkout, planned against the live workspaces: the
    // change, in stable JSON.
    let checkout = env.path().join("checkout");
    copy_dir(&repo, &checkout);
    let jobs = checkout.join("data-engineering/jobs.yaml");
    let text = std::fs::read_to_string(&jobs).unwrap();
    std::fs::write(
        &jobs,
        text.replacen("timeout_seconds: 14400", "timeout_seconds: 7200", 1),
    )
    .unwrap();
    let dir = checkout.to_str().unwrap();
    let first = env
        .mortar(&["plan", "--source-dir", dir, "--output", "json"])
        .await;
    let second = env
        .mortar(&["plan", "--source-dir", dir, "--output", "json"])
        .await;
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert_eq!(first.stdout, second.stdout);
    let plan: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["revision"], Value::Null);
    let actions = changed(&plan);
    let addresses: Vec<&str> = actions
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["dev/Job/nightly-etl", "prod/Job/nightly-etl"]);
    assert_eq!(
        actions[0]["changes"],
        json!([{"path": "/timeout_seconds", "old": 14400, "new": 7200, "drift": false, "sensitive": false}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_resources_go_only_with_prune_and_removed_fields_go_live() {
    let env = Env::start(Duration::ZERO).await;
    env.edit(
        "apps/data-engineering.yaml",
        "automated: { prune: true, selfHeal: true }",
        "automated: { prune: false, selfHeal: true }",
    );
    // The team's guardrails would refuse a job cluster without a timeout.
    env.edit(
        "projects.yaml",
        "    - package: mortar.compute.autotermination\n      parameters: { max_minutes: 120, max_job_minutes: 480 }\n",
        "",
    );
    env.apply(&[]).await;
    assert_eq!(
        env.job("dev", "nightly-etl-dev").await["settings"]["timeout_seconds"],
        14400
    );

    // Git drops the hourly job and the nightly job's timeout.
    let jobs = env.manifests().join("data-engineering/jobs.yaml");
    let text = std::fs::read_to_string(&jobs).unwrap();
    let (nightly, _) = text.split_once("---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata:\n  name: hourly-quality-checks").unwrap();
    std::fs::write(&jobs, nightly.replacen("  timeout_seconds: 14400\n", "", 1)).unwrap();

    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 2);
    let actions = changed(&plan);
    let dev: Vec<(&str, &str)> = actions
        .iter()
        .filter(|a| a["key"]["workspace"] == "dev")
        .map(|a| {
            (
                a["address"].as_str().unwrap(),
                a["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        dev,
        [
            ("dev/Job/nightly-etl", "update"),
            ("dev/Job/hourly-quality-checks", "delete_skipped")
        ]
    );
    assert_eq!(
        actions[0]["changes"],
        json!([{"path": "/timeout_seconds", "old": 14400, "drift": false, "sensitive": false}])
    );

    env.apply(&[]).await;
    let job = env.job("dev", "nightly-etl-dev").await;
    assert!(
        job["settings"]["timeout_seconds"].as_i64().unwrap_or(0) == 0,
        "{job}"
    );
    assert_eq!(
        env.jobs_named("dev", "hourly-quality-checks-dev")
            .await
            .len(),
        1
    );
    let (code, _) = env.plan_json(&[]).await;
    assert_eq!(code, 0, "without prune, only a skipped delete is left");

    let pruned = env.apply(&["--prune"]).await;
    assert!(pruned.stdout.contains("2 deleted"), "{}", pruned.stdout);
    assert!(
        env.jobs_named("dev", "hourly-quality-checks-dev")
            .await
            .is_empty()
    );
    assert!(
        env.jobs_named("prod", "hourly-quality-checks-prod")
            .await
            .is_empty()
    );
    let (code, plan) = env.plan_json(&["--app", "data-engineering-dev"]).await;
    assert_eq!(code, 0, "{:#}", Value::Array(changed(&plan)));
    assert_eq!(plan["apps"].as_array().unwrap().len(), 1);

    // An app dropped from Git altogether: its objects would go only with
    // --prune. A role binding still granting on its securables is an error
    // naming the role, until it goes too.
    std::fs::remove_file(env.manifests().join("apps/unity-catalog.yaml")).unwrap();
    let out = env.mortar(&["plan"]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("role `curated-writer` (bound by `pipelines-write-curated`) grants on schema `analytics.curated` in prod, but no Grants resource manages it there"),
        "{}",
        out.stderr
    );
    drop_curated_writer(&env);
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 0);
    let uc = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == "unity-catalog")
        .expect("the orphaned app is planned");
    let actions: Vec<&str> = uc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete_skipped"; 6]);
}

/// Removes the example's role granting on the catalog app's securables.
fn drop_curated_writer(env: &Env) {
    let roles = env.manifests().join("roles.yaml");
    let text = std::fs::read_to_string(&roles).unwrap();
    let (kept, _) = text
        .split_once("---\n# The pipelines write the curated schema")
        .expect("the example's curated-writer role");
    std::fs::write(&roles, kept).unwrap();
}

/// Audit records naming an app of the data-engineering team.
pub(crate) fn data_engineering_records(records: &[Value]) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| {
            r["event"]["app"]
                .as_str()
                .is_some_and(|a| a.starts_with("data-engineering"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_violation_blocks_only_its_app() {
    let env = Env::start(Duration::ZERO).await;
    // The data-engineering team reaches for a Unity Catalog catalog, which
    // its project does not allow (both of its apps read this directory).
    let grants = env.manifests().join("data-engineering/grants.yaml");
    let sneaky = "apiVersion: mortar.dev/v1alpha1\nkind: Catalog\nmetadata: { name: sneaky }\nspec: { name: sneaky }\n";
    std::fs::write(&grants, sneaky).unwrap();
    let rule = "violation of rule `kinds`: data-engineering/grants.yaml:2:7: kind: project `data-engineering` does not allow kind Catalog";

    // The plan shows every other app in full, the blocked ones with `!`, and exits 1.
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    for needle in [
        "app data-engineering-dev\n  ! ",
        "app data-engineering-prod\n  ! ",
        rule,
        "+ dev/Group/data-engineers",
        "+ prod/Group/platform-admins",
        // The catalog's app waits with them: a role binding gives the
        // team's service principal grants there.
        "app unity-catalog\n  ! ",
        "role binding `pipelines-write-curated` gives service principal pipeline-runner rights on this app's objects in prod, but it is not declared by any app that renders there; blocked: data-engineering-prod",
    ] {
        assert!(
            plan.stdout.contains(needle),
            "no `{needle}` in:\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stderr.contains("data-engineering-dev"),
        "{}",
        plan.stderr
    );

    let out = env.mortar(&["plan", "--output", "json"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).expect("plan JSON");
    let app = |name: &str| {
        json["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["app"] == name)
            .unwrap_or_else(|| panic!("no app {name} in the plan"))
            .clone()
    };
    let blocked = app("data-engineering-dev");
    assert_eq!(blocked["actions"], json!([]));
    assert_eq!(blocked["summary"]["violations"], 1);
    let v = &blocked["violations"][0];
    assert_eq!(v["rule"], "kinds");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("data-engineering/grants.yaml:2:7: kind: project `data-engineering` does not allow kind Catalog"),
        "{v}"
    );
    assert!(
        !app("identity-dev")["actions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A blocked app can be planned on its own; a healthy one plans as usual.
    let out = env
        .mortar(&["plan", "--output", "json", "--app", "data-engineering-prod"])
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let one: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(one["apps"].as_array().unwrap().len(), 1);
    assert_eq!(one["apps"][0]["violations"][0]["rule"], "kinds");
    let (code, _) = env.plan_json(&["--app", "identity-dev"]).await;
    assert_eq!(code, 2);

    // Apply: the other apps are applied, the blocked ones not at all.
    let out = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(rule), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("app data-engineering-dev: STOPPED after 0 action(s)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("app identity-dev: ok"),
        "{}",
        out.stdout
    );
    assert!(env.jobs_named("dev", "nightly-etl-dev").await.is_empty());
    assert!(env.jobs_named("prod", "nightly-etl-prod").await.is_empty());
    for ws in ["dev", "prod"] {
        let groups = env
            .api(ws, "GET", "/api/2.0/preview/scim/v2/Groups", None)
            .await;
        assert!(
            groups.to_string().contains("data-engineers"),
            "{ws}: {groups}"
        );
    }
    let catalogs = env
        .api("prod", "GET", "/api/2.1/unity-catalog/catalogs", None)
        .await;
    assert!(!catalogs.to_string().contains("analytics"), "{catalogs}");
    assert!(!catalogs.to_string().contains("sneaky"), "{catalogs}");
    let records = env.audit_records();
    assert!(!records.is_empty());
    assert!(data_engineering_records(&records).is_empty());

    // Fixed: the team's apps apply, and the catalog's with them.
    std::fs::remove_file(&grants).unwrap();
    env.apply(&[]).await;
    assert_eq!(env.jobs_named("dev", "nightly-etl-dev").await.len(), 1);
    let catalogs = env
        .api("prod", "GET", "/api/2.1/unity-catalog/catalogs", None)
        .await;
    assert!(catalogs.to_string().contains("analytics"), "{catalogs}");

    // Broken again, even with --prune: what the blocked apps manage is
    // neither planned as deleted nor touched.
    std::fs::write(&grants, sneaky).unwrap();
    let before = env.audit_records().len();
    let out = env.mortar(&["plan", "--output", "json"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        changed(&json).is_empty(),
        "{:#}",
        Value::Array(changed(&json))
    );
    let out = env.mortar(&["apply", "--auto-approve", "--prune"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(env.jobs_named("dev", "nightly-etl-dev").await.len(), 1);
    assert_eq!(env.jobs_named("prod", "nightly-etl-prod").await.len(), 1);
    assert_eq!(env.audit_records().len(), before);
    let inventory = env.path().join("state/data-engineering-dev.json");
    assert!(
        std::fs::read_to_string(inventory)
            .unwrap()
            .contains("nightly-etl"),
        "the blocked app's inventory is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_terminal_needs_auto_approve() {
    let env = Env::start(Duration::ZERO).await;
    let out = env.mortar(&["apply"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);
    assert!(env.jobs_named("dev", "nightly-etl-dev").await.is_empty());
}

/// Kills `mortar apply` (SIGKILL) after a random number of new audit
/// records — that is, between an intent and its outcome, or between an
/// outcome and the next intent — several times per fresh workspace, then
/// re-runs it to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_applies_converge_without_duplicates() {
    let env = Env::start(Duration::from_millis(10)).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_2026);
    let audit = env.path().join("state/audit.jsonl");
    let lines = |p: &Path| {
        std::fs::read(p)
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    };
    let mut kills = 0;
    let mut landed = 0;
    while kills < 20 {
        env.dev.reset();
        env.prod.reset();
        let _ = std::fs::remove_dir_all(env.path().join("state"));
        for _ in 0..5 {
            let before = lines(&audit);
            let target = before + rng.random_range(1..25);
            let mut child = env.command(&["apply", "--auto-approve"]).spawn().unwrap();
            let finished = loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break true;
                }
                if lines(&audit) >= target {
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            if !finished {
                child.start_kill().unwrap();
                landed += 1;
            }
            let _ = child.wait().await;
            kills += 1;
        }
        let out = env.mortar(&["apply", "--auto-approve"]).await;
        assert_eq!(
            out.code, 0,
            "re-run after kills:\n{}\n{}",
            out.stdout, out.stderr
        );
        let (code, plan) = env.plan_json(&[]).await;
        assert_eq!(code, 0, "not converged: {:#}", Value::Array(changed(&plan)));
        env.assert_no_duplicates().await;
        let verify = env.audit_verify().await;
        assert_eq!(verify.code, 0, "{}", verify.stderr);
    }
    assert!(
        landed >= 15,
        "only {landed} of {kills} kills landed mid-apply"
    );
}

/// The names of the keys a workspace's secret scope holds, or `None` when
/// the scope does not exist.
async fn secret_keys(env: &Env, ws: &str, scope: &str) -> Option<Vec<String>> {
    let scopes = env
        .api(ws, "GET", "/api/2.0/secrets/scopes/list", None)
        .await;
    let exists = scopes["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["name"] == scope);
    if !exists {
        return None;
    }
    let list = env
        .api(
            ws,
            "GET",
            &format!("/api/2.0/secrets/list?scope={scope}"),
            None,
        )
        .await;
    let mut keys: Vec<String> = list["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["key"].as_str().map(str::to_string))
        .collect();
    keys.sort();
    Some(keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_reads_only_the_secret_sources_the_platform_allows_it() {
    let env = Env::start(Duration::ZERO).await;
    // The plan names every secret and where its value comes from, never the value.
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    for needle in [
        "/secrets/warehouse-db-password",
        "(sensitive, from env ETL_WAREHOUSE_DB_PASSWORD)",
        "(sensitive, from file partner-api-token)",
    ] {
        assert!(
            plan.stdout.contains(needle),
            "no `{needle}` in:\n{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains(DB_PASSWORD) && !plan.stdout.contains(PARTNER_TOKEN));

    // The team names the controller's own token file and a variable the
    // platform never listed: a project violation, nothing of the app applies.
    env.edit(
        "data-engineering/secrets.yaml",
        "fromEnv: ETL_WAREHOUSE_DB_PASSWORD",
        "fromEnv: HOME",
    );
    env.edit(
        "data-engineering/secrets.yaml",
        "fromFile: partner-api-token",
        "fromFile: ../pat",
    );
    let out = env.mortar(&["plan", "--output", "json"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let app = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == "data-engineering-dev")
        .unwrap();
    let messages: Vec<&str> = app["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["rule"] == "secret-sources")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{app:#}");
    assert!(
        messages[0].contains("data-engineering/secrets.yaml:"),
        "{}",
        messages[0]
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("environment variable HOME"))
    );
    assert!(messages.iter().any(|m| m.contains("file ../pat")));
    let out = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(secret_keys(&env, "dev", "etl-dev").await, None);
    assert!(env.jobs_named("dev", "nightly-etl-dev").await.is_empty());
    // The other apps were applied.
    assert!(
        !env.api("dev", "GET", "/api/2.0/preview/scim/v2/Groups", None)
            .await["Resources"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A link inside the allowed directory that leads out of it passes review
    // (the path looks fine) but is refused when read, before the scope is made.
    env.edit(
        "data-engineering/secrets.yaml",
        "fromEnv: HOME",
        "fromEnv: ETL_WAREHOUSE_DB_PASSWORD",
    );
    env.edit(
        "data-engineering/secrets.yaml",
        "fromFile: ../pat",
        "fromFile: partner-api-token",
    );
    let link = env.path().join("secrets/partner-api-token");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(env.path().join("pat"), &link).unwrap();
    let out = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("a link leading out of"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(secret_keys(&env, "dev", "etl-dev").await, None);
    let token = env.dev.token().to_string();
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(&token));
    }
}
