//! Role mappings as a platform team writes them: `Role` and `RoleBinding`
//! in the example repository's top-level files, checked by `validate`,
//! merged into the objects they reach, applied to two emulated
//! workspaces over real HTTP, and answered by `mortar access`.

use std::time::Duration;

use serde_json::Value;

use super::harness::{command, copy_dir, repo_root, run, run_blocking};
use super::plan_apply::Env;

/// A copy of the example with `extra` appended to its roles file.
fn example_with_roles(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("manifests"), dir.path());
    let roles = dir.path().join("roles.yaml");
    let text = std::fs::read_to_string(&roles).unwrap();
    std::fs::write(&roles, format!("{text}{extra}")).unwrap();
    dir
}

fn validate(dir: &tempfile::TempDir) -> super::harness::Out {
    run_blocking(&["validate", dir.path().to_str().unwrap()])
}

const ANALYSTS_ON_CALL_IN_DEV: &str = "---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata:\n  name: analysts-on-call\nspec:\n  role: on-call\n  subjects:\n    - group: analysts\n  workspaces: [dev]\n";

#[test]
fn two_levels_for_one_principal_resolve_to_the_higher_with_a_warning() {
    // The nightly job's manifest gives the analysts CAN_VIEW; a binding of
    // on-call gives them CAN_MANAGE_RUN, and a second binding CAN_VIEW again.
    let viewer = "---\napiVersion: mortar.dev/v1alpha1\nkind: Role\nmetadata:\n  name: viewer\nspec:\n  permissions:\n    - kinds: [Job]\n      names: [nightly-*]\n      level: CAN_VIEW\n---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata:\n  name: analysts-view\nspec:\n  role: viewer\n  subjects:\n    - group: analysts\n  workspaceSelector: { env: dev }\n";
    let dir = example_with_roles(&format!("{ANALYSTS_ON_CALL_IN_DEV}{viewer}"));
    let out = validate(&dir);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "group analysts gets CAN_MANAGE_RUN on dev/Job/nightly-etl from role binding `analysts-on-call` and CAN_VIEW from data-engineering/jobs.yaml:2; the higher, CAN_MANAGE_RUN, applies",
        "group analysts gets CAN_VIEW on dev/Job/nightly-etl from role binding `analysts-view` and CAN_MANAGE_RUN from role binding `analysts-on-call`; the higher, CAN_MANAGE_RUN, applies",
        // A role's lower level never lowers what a manifest gives.
        "group analysts gets CAN_MONITOR on dev/SqlWarehouse/analytics from role binding `analysts-on-call` and CAN_USE from data-engineering/warehouse.yaml:1; the higher, CAN_USE, applies",
    ] {
        assert!(
            out.stderr.contains(needle),
            "no `{needle}` in:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr
            .contains("valid: 6 apps, 44 resources, 3 warnings"),
        "{}",
        out.stderr
    );

    // `mortar access` credits each level to what gives it: the binding
    // whose higher level won, the manifest whose level a role did not lower.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("mortar.yaml");
    std::fs::write(
        &config,
        format!(
            "source: {{ dir: {} }}\nworkspaces:\n  dev: {{ host: https://dev.example.com, auth: {{ method: pat, token: {{ env: UNUSED_TOKEN }} }} }}\n  prod: {{ host: https://prod.example.com, auth: {{ method: pat, token: {{ env: UNUSED_TOKEN }} }} }}\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = run_blocking(&[
        "access",
        "of",
        "analysts",
        "--workspace",
        "dev",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |object: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(object) && !l.contains("via group"))
            .unwrap_or_else(|| panic!("no {object} in:\n{}", out.stdout))
            .to_string()
    };
    let job = line("dev/Job/nightly-etl");
    assert!(
        job.contains("CAN_MANAGE_RUN")
            && job.contains("(role binding analysts-on-call)  roles.yaml:"),
        "{job}"
    );
    let warehouse = line("dev/SqlWarehouse/analytics");
    assert!(
        warehouse.contains("CAN_USE")
            && warehouse.contains("data-engineering/warehouse.yaml:1")
            && !warehouse.contains("role binding"),
        "{warehouse}"
    );
}

#[test]
fn bad_roles_and_bindings_name_file_and_field() {
    let cases: [(&str, &str); 6] = [
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata: { name: typo }\nspec:\n  role: on-cal\n  subjects: [{ group: analysts }]\n  workspaces: [dev]\n",
            "role binding `typo` names role `on-cal`, which is not declared; did you mean `on-call`?",
        ),
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Role\nmetadata: { name: owner }\nspec:\n  permissions:\n    - { kinds: [Job], names: ['*'], level: IS_OWNER }\n",
            "spec.permissions[0].level: IS_OWNER belongs to one principal per object",
        ),
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Role\nmetadata: { name: odd }\nspec:\n  permissions:\n    - { kinds: [Job, Cluster], names: ['*'], level: CAN_MANAGE_RUN }\n",
            "Cluster has no level `CAN_MANAGE_RUN`",
        ),
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata: { name: ghost }\nspec:\n  role: on-call\n  subjects: [{ servicePrincipal: ghost-bot }]\n  workspaces: [prod]\n",
            "role binding `ghost`: service principal ghost-bot is not declared in workspace prod",
        ),
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Role\nmetadata: { name: finance-reader }\nspec:\n  grants:\n    - { securable: catalog, names: [finance], privileges: [USE_CATALOG] }\n---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata: { name: finance }\nspec:\n  role: finance-reader\n  subjects: [{ group: analysts }]\n  workspaces: [prod]\n",
            "role `finance-reader` (bound by `finance`) grants on catalog `finance` in prod, but no Grants resource manages it there",
        ),
        (
            "---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata: { name: both }\nspec:\n  role: on-call\n  subjects: [{ group: analysts, user: ana@example.com }]\n  workspaces: [dev]\n",
            "spec.subjects[0]: give exactly one of `group`, `user`, `servicePrincipal`",
        ),
    ];
    for (extra, needle) in cases {
        let dir = example_with_roles(extra);
        let out = validate(&dir);
        assert_eq!(out.code, 1, "{needle}: {}", out.stderr);
        assert!(out.stderr.contains("roles.yaml:"), "{}", out.stderr);
        assert!(
            out.stderr.contains(needle),
            "no `{needle}` in:\n{}",
            out.stderr
        );
    }
}

/// The direct ACL of a job, live.
async fn job_acl(env: &Env, ws: &str, name: &str) -> Vec<(String, String)> {
    let job = env.jobs_named(ws, &format!("{name}-{ws}")).await[0]["job_id"].clone();
    let acl = env
        .api(ws, "GET", &format!("/api/2.0/permissions/jobs/{job}"), None)
        .await;
    let mut out: Vec<(String, String)> = acl["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let who = e["group_name"].as_str()?.to_string();
            let level = e["all_permissions"]
                .as_array()?
                .iter()
                .find(|p| p["inherited"] != true)?["permission_level"]
                .as_str()?
                .to_string();
            Some((who, level))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_are_applied_and_answered() {
    let env = Env::start(Duration::ZERO).await;
    env.apply(&[]).await;
    // The example binds on-call to platform-admins in prod only.
    let prod = job_acl(&env, "prod", "nightly-etl").await;
    assert!(
        prod.contains(&("platform-admins".into(), "CAN_MANAGE_RUN".into())),
        "{prod:?}"
    );
    let dev = job_acl(&env, "dev", "nightly-etl").await;
    assert!(!dev.iter().any(|(g, _)| g == "platform-admins"), "{dev:?}");

    // It binds curated-writer to pipeline-runner, declared by another app:
    // the grant names the service principal's application id, live.
    let runners = env
        .api(
            "prod",
            "GET",
            "/api/2.0/preview/scim/v2/ServicePrincipals?filter=displayName%20eq%20%22pipeline-runner-prod%22",
            None,
        )
        .await;
    let application_id = runners["Resources"][0]["applicationId"]
        .as_str()
        .expect("pipeline-runner exists in prod")
        .to_string();
    let grants = env
        .api(
            "prod",
            "GET",
            "/api/2.1/unity-catalog/permissions/schema/analytics.curated",
            None,
        )
        .await;
    let runner: Vec<&str> = grants["privilege_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["principal"] == application_id.as_str())
        .flat_map(|a| a["privileges"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(runner, ["MODIFY", "SELECT", "USE_SCHEMA"], "{grants:#}");
    // Planned alone (as a drift check plans it), the app with the grant
    // still knows the other app's service principal: nothing to change.
    let out = env.mortar(&["plan", "--app", "unity-catalog"]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let out = env
        .mortar(&[
            "access",
            "who-can",
            "--workspace",
            "prod",
            "Job/nightly-etl",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.lines().any(
            |l| l.contains("CAN_MANAGE_RUN         group platform-admins")
                && l.contains("(role binding platform-on-call-in-prod)  roles.yaml:")
        ),
        "{}",
        out.stdout
    );

    // A new binding in dev: the analysts' level on the jobs rises to the
    // higher one, and only that changes (on the warehouse they already hold
    // more than the role gives).
    let roles = env.manifests().join("roles.yaml");
    let text = std::fs::read_to_string(&roles).unwrap();
    std::fs::write(&roles, format!("{text}{ANALYSTS_ON_CALL_IN_DEV}")).unwrap();
    let out = env.mortar(&["plan", "--output", "json"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    let changed: Vec<String> = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["actions"].as_array().unwrap())
        .filter(|a| a["action"] != "no_op")
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        changed,
        ["dev/Job/hourly-quality-checks", "dev/Job/nightly-etl"],
        "{plan:#}"
    );
    env.apply(&[]).await;
    let dev = job_acl(&env, "dev", "nightly-etl").await;
    assert!(
        dev.contains(&("analysts".into(), "CAN_MANAGE_RUN".into())),
        "{dev:?}"
    );

    // A role that would give the agent a catalog outside its approved
    // data is refused like a Grants manifest would be.
    std::fs::write(
        &roles,
        format!(
            "{text}---\napiVersion: mortar.dev/v1alpha1\nkind: Role\nmetadata: {{ name: catalog-reader }}\nspec:\n  grants:\n    - {{ securable: catalog, names: [analytics], privileges: [USE_CATALOG, SELECT] }}\n---\napiVersion: mortar.dev/v1alpha1\nkind: RoleBinding\nmetadata: {{ name: agent-reads }}\nspec:\n  role: catalog-reader\n  subjects: [{{ servicePrincipal: insights-agent }}]\n  workspaces: [prod]\n"
        ),
    )
    .unwrap();
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("violation of rule `agent-data` prod/Grants/analytics-catalog")
            && plan.stdout.contains("grants SELECT on catalog `analytics` to agent `insights-agent`, outside its approved data"),
        "{}",
        plan.stdout
    );
    let out = run(command(env.path(), &["validate", "manifests"], false)).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
}
