//! Guardrails in Rego as a team meets them: the example repository's
//! policies (`manifests/policies/`), its projects listing them, the real
//! binary, and two emulated workspaces over real HTTP. A denied app is
//! held back with the policy's message and the manifest's file and line
//! while its siblings apply; a policy that cannot run never passes.

use std::time::Duration;

use serde_json::Value;

use super::harness::{command, repo_root, run};
use super::plan_apply::{Env, data_engineering_records};

const SCRATCH: &str = "---\napiVersion: mortar.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: scratch\nspec:\n  cluster_name: scratch-${var.env}\n  spark_version: ${var.spark_version}\n  node_type_id: ${var.node_type}\n  num_workers: 1\n  custom_tags:\n    team: data-engineering\n    env: ${var.env}\n";

/// Appends the `scratch` cluster (no auto-termination) to the team's
/// compute file; returns the line its document starts on.
fn add_scratch_cluster(env: &Env) -> usize {
    let path = env.manifests().join("data-engineering/compute.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    std::fs::write(&path, format!("{text}{SCRATCH}")).unwrap();
    text.lines().count() + 2
}

const MESSAGE: &str = "cluster must auto-terminate within 120 minutes: set autotermination_minutes between 1 and 120 (now 0) (policy mortar.compute.autotermination)";

#[test]
fn the_example_policies_pass_their_own_tests() {
    let out = super::harness::run_blocking(&["policy", "test", "manifests"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let passed = out.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(passed >= 30, "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!("{passed} passed, 0 failed")),
        "{}",
        out.stderr
    );

    // A policy that no longer does what its test says fails the run,
    // naming the test and its line.
    let dir = tempfile::tempdir().unwrap();
    super::harness::copy_dir(&repo_root().join("manifests"), dir.path());
    let policy = dir.path().join("policies/warehouses/size.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replace("\"max_size\", \"Medium\"", "\"max_size\", \"4X-Large\""),
    )
    .unwrap();
    let out = super::harness::run_blocking(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "FAIL  mortar.warehouses.size_test.test_a_large_warehouse_is_denied (policies/warehouses/size_test.rego:"
        ),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guardrail_holds_back_only_the_app_it_denies() {
    let env = Env::start(Duration::ZERO).await;
    let line = add_scratch_cluster(&env);

    // Pull-request review: validate names the file, the line and the policy.
    let out = run(command(env.path(), &["validate", "manifests"], false)).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    for ws in ["dev", "prod"] {
        let needle = format!(
            "manifests/data-engineering/compute.yaml:{line}:1: {ws}/Cluster/scratch: {MESSAGE}"
        );
        assert!(
            out.stderr.contains(&needle),
            "no `{needle}` in:\n{}",
            out.stderr
        );
    }

    // The plan: the team's apps blocked with the message, the others planned.
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let violation = format!(
        "! violation of rule `mortar.compute.autotermination` dev/Cluster/scratch: data-engineering/compute.yaml:{line}: dev/Cluster/scratch: {MESSAGE}"
    );
    for needle in [
        violation.as_str(),
        "this app is blocked by the violations above",
        "+ dev/Group/data-engineers",
        "+ prod/Catalog/analytics",
    ] {
        assert!(
            plan.stdout.contains(needle),
            "no `{needle}` in:\n{}",
            plan.stdout
        );
    }

    // Apply: the siblings apply, nothing of the denied apps does.
    let out = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("app identity-dev: ok"),
        "{}",
        out.stdout
    );
    assert!(env.jobs_named("dev", "nightly-etl-dev").await.is_empty());
    let clusters = env.api("dev", "GET", "/api/2.1/clusters/list", None).await;
    assert!(!clusters.to_string().contains("scratch"), "{clusters}");
    assert!(data_engineering_records(&env.audit_records()).is_empty());

    // Fixed within the bound: everything applies.
    env.edit(
        "data-engineering/compute.yaml",
        "  num_workers: 1\n",
        "  num_workers: 1\n  autotermination_minutes: 60\n",
    );
    env.apply(&[]).await;
    assert_eq!(env.jobs_named("dev", "nightly-etl-dev").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_cannot_run_never_passes() {
    let env = Env::start(Duration::ZERO).await;
    let policies = env.manifests().join("policies");

    // One that does not parse: nothing is planned or applied, and the
    // error names the policy's file and line.
    std::fs::write(
        policies.join("broken.rego"),
        "package mortar.broken\n\nimport rego.v1\n\ndeny contains m if {\n  m := 1 +\n}\n",
    )
    .unwrap();
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let out = env.mortar(args).await;
        assert_eq!(out.code, 1, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("policies/broken.rego:6:"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert!(env.audit_records().is_empty());
    let out = run(command(env.path(), &["validate", "manifests"], false)).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("manifests/policies/broken.rego:6:"),
        "{}",
        out.stderr
    );

    // One that parses but fails as it runs (a division by zero), and a
    // project that names a package nobody declares.
    std::fs::write(
        policies.join("broken.rego"),
        "package mortar.broken\n\nimport rego.v1\n\ndeny contains m if {\n  some r in input.resources\n  m := sprintf(\"%v\", [count(input.resources) / 0])\n}\n",
    )
    .unwrap();
    env.edit(
        "projects.yaml",
        "    - mortar.grants.broad\n",
        "    - mortar.grants.broad\n    - mortar.broken\n",
    );
    let out = env.mortar(&["plan", "--output", "json"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    for app in plan["apps"].as_array().unwrap() {
        let governance = app["app"].as_str().unwrap().starts_with("identity")
            || app["app"].as_str().unwrap().starts_with("unity-catalog");
        let rules: Vec<&str> = app["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rule"].as_str().unwrap())
            .collect();
        if governance {
            assert_eq!(rules, ["policy-error"], "{app:#}");
            let message = app["violations"][0]["message"].as_str().unwrap();
            assert!(
                message
                    .contains("policy `mortar.broken` fails to evaluate (policies/broken.rego:7)"),
                "{message}"
            );
        } else {
            assert!(rules.is_empty(), "{app:#}");
        }
    }

    env.edit(
        "projects.yaml",
        "    - mortar.broken\n",
        "    - mortar.brokn\n",
    );
    let out = env.mortar(&["plan"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("names policy `mortar.brokn`, which no file under policies/ declares; did you mean `mortar.broken`?"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_is_shown_and_blocks_nothing() {
    let env = Env::start(Duration::ZERO).await;
    env.edit(
        "data-engineering/jobs.yaml",
        "  tags:\n    team: data-engineering\n    env: ${var.env}\n  email_notifications:",
        "  tags:\n    team: data-engineering\n  email_notifications:",
    );
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "? warning of rule `mortar.tags.required` dev/Job/hourly-quality-checks: data-engineering/jobs.yaml:"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("missing recommended tag env (policy mortar.tags.required)")
    );
    assert!(!plan.stdout.contains("blocked"), "{}", plan.stdout);
}

/// The grants on the example's catalog, live in prod.
async fn catalog_grants(env: &Env) -> Value {
    env.api(
        "prod",
        "GET",
        "/api/2.1/unity-catalog/permissions/catalog/analytics",
        None,
    )
    .await
}

/// The agent's application id in prod, from SCIM.
async fn agent_application_id(env: &Env) -> String {
    let sps = env
        .api(
            "prod",
            "GET",
            "/api/2.0/preview/scim/v2/ServicePrincipals?filter=displayName%20eq%20%22insights-agent%22",
            None,
        )
        .await;
    sps["Resources"][0]["applicationId"]
        .as_str()
        .unwrap_or_else(|| panic!("no insights-agent: {sps}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reaches_only_its_approved_data() {
    let env = Env::start(Duration::ZERO).await;
    env.apply(&[]).await;
    let app_id = agent_application_id(&env).await;
    let held_by_agent = |grants: &Value| -> Vec<String> {
        grants["privilege_assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["principal"] == app_id.as_str())
            .flat_map(|a| a["privileges"].as_array().unwrap().iter())
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(held_by_agent(&catalog_grants(&env).await), ["USE_CATALOG"]);

    // Someone grants the agent SELECT on the whole catalog by hand: the
    // next apply takes it back, and the audit trail says why.
    env.api(
        "prod",
        "PATCH",
        "/api/2.1/unity-catalog/permissions/catalog/analytics",
        Some(serde_json::json!({"changes": [{"principal": app_id, "add": ["SELECT"]}]})),
    )
    .await;
    assert_eq!(
        held_by_agent(&catalog_grants(&env).await),
        ["SELECT", "USE_CATALOG"]
    );
    env.apply(&[]).await;
    assert_eq!(held_by_agent(&catalog_grants(&env).await), ["USE_CATALOG"]);
    let records = env.audit_records();
    let revoke = records
        .iter()
        .rfind(|r| r["event"]["key"] == "prod/Grants/analytics-catalog")
        .unwrap_or_else(|| panic!("no Grants record in {records:#?}"));
    assert_eq!(revoke["event"]["action"], "heal", "{revoke:#}");
    assert_eq!(
        revoke["event"]["reason"],
        "agent-data: revokes SELECT on catalog `analytics` to agent `insights-agent`, outside its approved data (schemas: analytics.curated)",
        "{revoke:#}"
    );

    let show = run(command(
        env.path(),
        &["audit", "show", "state/audit.jsonl"],
        false,
    ))
    .await;
    assert!(
        show.stdout
            .contains("(agent-data: revokes SELECT on catalog `analytics`"),
        "{}",
        show.stdout
    );

    // Git asks for it: refused at plan time, only that app held back.
    env.edit(
        "unity-catalog/grants.yaml",
        "      privileges: [USE_CATALOG]\n",
        "      privileges: [USE_CATALOG, SELECT]\n",
    );
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let needle = "! violation of rule `agent-data` prod/Grants/analytics-catalog: unity-catalog/grants.yaml:3: prod/Grants/analytics-catalog grants SELECT on catalog `analytics` to agent `insights-agent`, outside its approved data (schemas: analytics.curated); agents reach only the data listed under approved_data (unity-catalog/agents.yaml:4)";
    assert!(
        plan.stdout.contains(needle),
        "no `{needle}` in:\n{}",
        plan.stdout
    );
    let out = run(command(env.path(), &["validate", "manifests"], false)).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("manifests/unity-catalog/grants.yaml:3:1: prod/Grants/analytics-catalog grants SELECT on catalog `analytics` to agent `insights-agent`"),
        "{}",
        out.stderr
    );
    let out = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(held_by_agent(&catalog_grants(&env).await), ["USE_CATALOG"]);

    // Writing, even on approved data, is refused with its own message.
    env.edit(
        "unity-catalog/grants.yaml",
        "      privileges: [USE_CATALOG, SELECT]\n",
        "      privileges: [USE_CATALOG]\n",
    );
    env.edit(
        "unity-catalog/grants.yaml",
        "insights-agent.application_id}\n      privileges: [USE_SCHEMA, SELECT]",
        "insights-agent.application_id}\n      privileges: [USE_SCHEMA, SELECT, MODIFY]",
    );
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("grants MODIFY on schema `analytics.curated` to agent `insights-agent`, which may hold only BROWSE, USE_CATALOG, USE_SCHEMA, SELECT, READ_VOLUME"),
        "{}",
        plan.stdout
    );
}
