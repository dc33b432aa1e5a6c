//! `mortar access` as an auditor runs it: who can do what, from Git and,
//! with `--live`, from two emulated workspaces over real HTTP, with the
//! drift someone made by hand.

use std::time::Duration;

use serde_json::{Value, json};

use super::plan_apply::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_answers_from_git_and_shows_live_drift() {
    let env = Env::start(Duration::ZERO).await;

    // From Git alone: a service principal's ACLs, grants and entitlements
    // across dev and prod, each with the manifest that gives it.
    let out = env.mortar(&["access", "of", "pipeline-runner"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for ws in ["dev", "prod"] {
        for needle in [
            format!("ACL         IS_OWNER               {ws}/Job/nightly-etl"),
            format!("ACL         READ                   {ws}/SecretScope/etl"),
            format!("entitlement workspace-access       {ws}/ServicePrincipal/pipeline-runner"),
        ] {
            assert!(
                out.stdout.contains(&needle),
                "no `{needle}` in:\n{}",
                out.stdout
            );
        }
    }
    assert!(
        out.stdout
            .starts_with("pipeline-runner (service principal)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("data-engineering/jobs.yaml:2"),
        "{}",
        out.stdout
    );
    // Its Unity Catalog grants come from a role binding, in prod only,
    // and name the binding rather than the Grants manifest they join.
    let grants: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("grant"))
        .collect();
    assert_eq!(grants.len(), 4, "{}", out.stdout);
    for privilege in ["USE_SCHEMA", "SELECT", "MODIFY"] {
        let needle = format!(
            "grant       {privilege:<22} schema analytics.curated                     (role binding pipelines-write-curated)  roles.yaml:"
        );
        assert!(
            out.stdout.contains(&needle),
            "no `{needle}` in:\n{}",
            out.stdout
        );
    }
    let prod_section = out.stdout.split("\n  prod\n").nth(1).unwrap();
    assert!(
        grants.iter().all(|g| prod_section.contains(g)),
        "grants outside prod:\n{}",
        out.stdout
    );

    // Through a group: etl-runner is a member of data-engineers.
    let out = env
        .mortar(&[
            "access",
            "of",
            "etl-runner",
            "--workspace",
            "prod",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["member_of"], json!(["prod/data-engineers"]));
    let via: Vec<&Value> = report["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["via"] == "data-engineers")
        .collect();
    assert!(
        via.iter()
            .any(|h| h["object"] == "catalog analytics" && h["right"] == "MODIFY"),
        "{report:#}"
    );
    assert!(
        report["holdings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["workspace"] == "prod")
    );

    // An agent shows exactly the data it can reach.
    let out = env.mortar(&["access", "of", "insights-agent"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("agent, approved data in prod: schemas: analytics.curated"),
        "{}",
        out.stdout
    );
    let grants: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("grant "))
        .collect();
    assert_eq!(grants.len(), 3, "{}", out.stdout);

    // Live: after an apply the workspaces match; then someone gives the
    // analysts CAN_MANAGE on the nightly job by hand.
    env.apply(&[]).await;
    let out = env.mortar(&["access", "of", "analysts", "--live"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("live: the workspaces match Git"),
        "{}",
        out.stdout
    );
    let job = env.jobs_named("dev", "nightly-etl-dev").await[0]["job_id"].clone();
    env.api(
        "dev",
        "PATCH",
        &format!("/api/2.0/permissions/jobs/{job}"),
        Some(json!({"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_MANAGE"}]})),
    )
    .await;
    let out = env.mortar(&["access", "of", "analysts", "--live"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("live: differs from Git\n    dev/Job/nightly-etl (group analysts): live CAN_MANAGE, Git CAN_VIEW"),
        "{}",
        out.stdout
    );
    let out = env
        .mortar(&[
            "access",
            "who-can",
            "--workspace",
            "dev",
            "Job/nightly-etl",
            "--live",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "ACL         CAN_VIEW               group analysts",
        "dev/Job/nightly-etl (group analysts): live CAN_MANAGE, Git CAN_VIEW",
    ] {
        assert!(
            out.stdout.contains(needle),
            "no `{needle}` in:\n{}",
            out.stdout
        );
    }
    // Grants by securable name.
    let out = env
        .mortar(&[
            "access",
            "who-can",
            "--workspace",
            "prod",
            "catalog analytics",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("grant       USE_CATALOG            service principal insights-agent"),
        "{}",
        out.stdout
    );
}
