//! `mortar import workspace` as a user runs it, against emulated
//! workspaces over real HTTP: the example repository applied, then every
//! app imported back from what the workspaces hold (every kind) into a new
//! repository that plans to nothing; and a workspace made by hand through
//! the REST API, imported and planned as adoptions only, applied, and
//! planned to nothing.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::harness::{command, run};
use super::plan_apply::Env;

/// Every file under `dir`, with its text (binary files as lossy text).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.push((rel, text));
            }
        }
    }
    out.sort();
    out
}

fn actions(plan: &Value) -> Vec<(String, String, String)> {
    plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|app| {
            app["actions"].as_array().unwrap().iter().map(move |a| {
                (
                    app["app"].as_str().unwrap().to_string(),
                    a["address"].as_str().unwrap_or_default().to_string(),
                    a["action"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .collect()
}

/// `mortar import workspace --workspace dev` with `args`.
async fn import_dev(env: &Env, args: &[&str]) -> super::harness::Out {
    let mut all = vec!["import", "workspace", "--workspace", "dev"];
    all.extend_from_slice(args);
    env.mortar(&all).await
}

const ROOT: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n";

/// The example repository applied to two workspaces; each of its apps
/// imported back (`--app` and `--filter app=`) into a new repository made
/// of nothing else: that repository plans to nothing against the same
/// workspaces and state, for every kind the example declares.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_repository_imported_back_plans_to_nothing() {
    let env = Env::start(Duration::ZERO).await;
    env.apply(&[]).await;
    let imported = env.path().join("imported");
    std::fs::create_dir_all(&imported).unwrap();
    std::fs::write(imported.join("root.yaml"), ROOT).unwrap();
    std::fs::copy(
        env.manifests().join("workspaces.yaml"),
        imported.join("workspaces.yaml"),
    )
    .unwrap();
    let apps = [
        ("identity-dev", "dev"),
        ("identity-prod", "prod"),
        ("data-engineering-dev", "dev"),
        ("data-engineering-prod", "prod"),
        ("unity-catalog", "prod"),
    ];
    for (app, workspace) in apps {
        let filter = format!("app={app}");
        let out = env
            .mortar(&[
                "import",
                "workspace",
                "--workspace",
                workspace,
                "--app",
                app,
                "--filter",
                &filter,
                "--path",
                "/Shared",
                "--out",
                "imported",
            ])
            .await;
        assert_eq!(out.code, 0, "{app}: {}{}", out.stdout, out.stderr);
        if app == "data-engineering-dev" {
            // Another app's objects are left to it, and said so.
            assert!(
                out.stderr
                    .contains("skipped: Group `analysts`: managed by app `identity-dev`"),
                "{}",
                out.stderr
            );
        }
    }
    let files = files_under(&imported);
    let kinds: std::collections::BTreeSet<&str> = files
        .iter()
        .filter_map(|(_, text)| {
            text.lines()
                .find_map(|l| l.strip_prefix("kind: "))
                .filter(|k| *k != "Application" && *k != "Workspace")
        })
        .collect();
    let expected: std::collections::BTreeSet<&str> = [
        "Catalog",
        "Cluster",
        "ClusterPolicy",
        "Directory",
        "Grants",
        "Group",
        "InstancePool",
        "Job",
        "Notebook",
        "Schema",
        "SecretScope",
        "ServicePrincipal",
        "SqlWarehouse",
        "WorkspaceConf",
        "WorkspaceFile",
    ]
    .into();
    assert_eq!(kinds, expected, "every kind of the example is imported");
    // References, not ids: a job on the shared cluster, an ACL naming a
    // service principal of another app.
    let text_of = |suffix: &str| {
        files
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .unwrap_or_else(|| {
                panic!(
                    "no {suffix} in {:#?}",
                    files.iter().map(|f| &f.0).collect::<Vec<_>>()
                )
            })
            .1
            .clone()
    };
    let secrets = text_of("data-engineering-dev/secretscope-etl.yaml");
    assert!(
        secrets.contains("#   - key: warehouse-db-password"),
        "{secrets}"
    );
    assert!(
        secrets.contains("${resources.service_principals.pipeline-runner.application_id}"),
        "{secrets}"
    );
    for (path, text) in &files {
        assert!(
            !text.contains("pw-0f3a9c1e") && !text.contains("partner-7d1b2e"),
            "{path} holds a secret value"
        );
    }
    let jobs: Vec<&(String, String)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("data-engineering-dev/job-"))
        .collect();
    assert!(
        jobs.iter()
            .any(|(_, t)| t.contains("${resources.clusters.shared-etl.id}")),
        "{jobs:#?}"
    );

    env.write_config("source: { dir: imported }");
    let (code, plan) = env.plan_json(&[]).await;
    let changing: Vec<_> = actions(&plan)
        .into_iter()
        .filter(|(_, _, a)| a != "no_op")
        .collect();
    assert!(changing.is_empty(), "{changing:#?}\n{plan:#}");
    assert_eq!(code, 0, "{plan:#}");
}

/// A workspace made by hand through the REST API (every kind, a secret,
/// ACLs, grants, two jobs sharing a name), imported with one command:
/// the plan shows only adoptions, with no field or ACL to change; after
/// apply the next plan is empty and nothing was created twice. Before the
/// import, a manifest naming the shared job name without saying which is
/// a conflict listing both, never a guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_made_workspace_is_imported_adopted_and_planned_to_nothing() {
    use base64::Engine as _;
    let env = Env::start(Duration::ZERO).await;
    let post = |path: &str, body: Value| {
        let path = path.to_string();
        let env = &env;
        async move { env.api("dev", "POST", &path, Some(body)).await }
    };
    let scim = "/api/2.0/preview/scim/v2";
    let bot = post(
        &format!("{scim}/ServicePrincipals"),
        json!({"displayName": "etl-bot"}),
    )
    .await;
    let bot_app_id = bot["applicationId"].as_str().unwrap().to_string();
    let bot_id = bot["id"].as_str().unwrap().to_string();
    post(
        &format!("{scim}/Groups"),
        json!({"displayName": "analysts"}),
    )
    .await;
    post(
        &format!("{scim}/Groups"),
        json!({"displayName": "engineers", "members": [{"value": bot_id}]}),
    )
    .await;
    let policy = post(
        "/api/2.0/policies/clusters/create",
        json!({"name": "etl-policy", "definition": "{\"spark_version\":{\"type\":\"unlimited\"}}"}),
    )
    .await;
    let policy_id = policy["policy_id"].as_str().unwrap().to_string();
    let pool = post(
        "/api/2.0/instance-pools/create",
        json!({"instance_pool_name": "etl-pool", "node_type_id": "i3.xlarge"}),
    )
    .await;
    let pool_id = pool["instance_pool_id"].as_str().unwrap().to_string();
    let cluster = post(
        "/api/2.1/clusters/create",
        json!({"cluster_name": "shared", "spark_version": "15.4.x-scala2.12",
               "instance_pool_id": pool_id, "policy_id": policy_id, "num_workers": 2,
               "autotermination_minutes": 60}),
    )
    .await;
    let cluster_id = cluster["cluster_id"].as_str().unwrap().to_string();
    let warehouse = post(
        "/api/2.0/sql/warehouses",
        json!({"name": "bi", "cluster_size": "Small", "max_num_clusters": 1}),
    )
    .await;
    let warehouse_id = warehouse["id"].as_str().unwrap().to_string();
    let job = post(
        "/api/2.2/jobs/create",
        json!({"name": "nightly", "run_as": {"service_principal_name": bot_app_id},
               "tasks": [
                   {"task_key": "ingest", "existing_cluster_id": cluster_id,
                    "notebook_task": {"notebook_path": "/Shared/team/ingest",
                                     "base_parameters": {"note": "costs ${USD}"}}},
                   {"task_key": "report", "depends_on": [{"task_key": "ingest"}],
                    "sql_task": {"warehouse_id": warehouse_id,
                                 "file": {"path": "/Shared/team/report.sql"}}}]}),
    )
    .await;
    let job_id = job["job_id"].as_i64().unwrap();
    env.api(
        "dev",
        "PATCH",
        &format!("/api/2.0/permissions/jobs/{job_id}"),
        Some(json!({"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_VIEW"}]})),
    )
    .await;
    let mut twins = Vec::new();
    for _ in 0..2 {
        let twin = post(
            "/api/2.2/jobs/create",
            json!({"name": "twin", "max_concurrent_runs": 1}),
        )
        .await;
        twins.push(twin["job_id"].as_i64().unwrap().to_string());
    }
    post("/api/2.0/secrets/scopes/create", json!({"scope": "etl"})).await;
    post(
        "/api/2.0/secrets/put",
        json!({"scope": "etl", "key": "db-password", "string_value": "s3cr3t-never-written"}),
    )
    .await;
    post(
        "/api/2.0/secrets/acls/put",
        json!({"scope": "etl", "principal": "analysts", "permission": "READ"}),
    )
    .await;
    post(
        "/api/2.1/unity-catalog/catalogs",
        json!({"name": "sales", "comment": "sales data"}),
    )
    .await;
    post(
        "/api/2.1/unity-catalog/schemas",
        json!({"name": "raw", "catalog_name": "sales"}),
    )
    .await;
    env.api(
        "dev",
        "PATCH",
        "/api/2.1/unity-catalog/permissions/catalog/sales",
        Some(json!({"changes": [{"principal": "analysts", "add": ["USE_CATALOG"]}]})),
    )
    .await;
    let b64 = base64::engine::general_purpose::STANDARD;
    post(
        "/api/2.0/workspace/mkdirs",
        json!({"path": "/Shared/team/empty"}),
    )
    .await;
    post(
        "/api/2.0/workspace/import",
        json!({"path": "/Shared/team/ingest", "format": "SOURCE", "language": "PYTHON",
               "content": b64.encode("print('ingest')\n")}),
    )
    .await;
    post(
        "/api/2.0/workspace/import",
        json!({"path": "/Shared/team/report.sql", "format": "AUTO",
               "content": b64.encode("select 1\n")}),
    )
    .await;
    env.api(
        "dev",
        "PATCH",
        "/api/2.0/workspace-conf",
        Some(json!({"maxTokenLifetimeDays": "90"})),
    )
    .await;

    // A new repository, empty but for the root app and the workspaces.
    let repo = env.path().join("repo");
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    std::fs::write(repo.join("root.yaml"), ROOT).unwrap();
    std::fs::copy(
        env.manifests().join("workspaces.yaml"),
        repo.join("workspaces.yaml"),
    )
    .unwrap();
    env.write_config("source: { dir: repo }");

    // A manifest for `twin` that does not say which: a conflict.
    std::fs::write(
        repo.join("apps/by-hand.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: by-hand }\nspec:\n  source: { path: by-hand }\n  destination: { workspace: dev }\n  adopt: true\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.join("by-hand")).unwrap();
    let twin_manifest = "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata:\n  name: twin\nspec: { name: twin, max_concurrent_runs: 1 }\n";
    std::fs::write(repo.join("by-hand/twin.yaml"), twin_manifest).unwrap();
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 2, "{plan:#}");
    let twin = &plan["apps"][0]["actions"][0];
    assert_eq!(twin["action"], "conflict", "{plan:#}");
    let reason = twin["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("(ids {}, {})", twins[0], twins[1])),
        "{reason}"
    );
    // Naming one adopts that one.
    std::fs::write(
        repo.join("by-hand/twin.yaml"),
        twin_manifest.replace(
            "  name: twin\n",
            &format!(
                "  name: twin\n  annotations: {{ mortar.dev/adopt-id: \"{}\" }}\n",
                twins[1]
            ),
        ),
    )
    .unwrap();
    let (_, plan) = env.plan_json(&[]).await;
    let twin = &plan["apps"][0]["actions"][0];
    assert_eq!(twin["action"], "adopt", "{plan:#}");
    assert_eq!(twin["id"], twins[1].as_str(), "{plan:#}");
    // An adopt id naming nothing, a malformed one, or one another manifest
    // has: each that manifest's conflict, and the plan still runs.
    let more = [
        ("ghost", "424242".to_string()),
        ("typo", "not-a-job-id".to_string()),
        ("again", twins[1].clone()),
    ]
    .iter()
    .map(|(name, id)| {
        format!("apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata:\n  name: {name}\n  annotations: {{ mortar.dev/adopt-id: \"{id}\" }}\nspec: {{ name: {name} }}\n")
    })
    .collect::<Vec<_>>()
    .join("---\n");
    std::fs::write(repo.join("by-hand/more.yaml"), more).unwrap();
    let (_, plan) = env.plan_json(&[]).await;
    let reason = |name: &str| {
        let a = plan["apps"][0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["address"] == format!("dev/Job/{name}"))
            .unwrap_or_else(|| panic!("no {name} in {plan:#}"));
        assert_eq!(a["action"], "conflict", "{a:#}");
        a["reason"].as_str().unwrap().to_string()
    };
    assert!(
        reason("ghost").contains("names no Job in workspace `dev`"),
        "{plan:#}"
    );
    assert!(reason("typo").contains("names no Job"), "{plan:#}");
    assert!(
        reason("again").contains("is named by dev/Job/twin too"),
        "{plan:#}"
    );
    assert!(
        reason("twin").contains("is named by dev/Job/again too"),
        "{plan:#}"
    );
    std::fs::remove_dir_all(repo.join("by-hand")).unwrap();
    std::fs::remove_file(repo.join("apps/by-hand.yaml")).unwrap();

    let out = import_dev(
        &env,
        &["--app", "team", "--path", "/Shared/team", "--out", "repo"],
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let files = files_under(&repo);
    // The same workspace gives the same files; nothing is overwritten.
    let again = import_dev(
        &env,
        &["--app", "team", "--path", "/Shared/team", "--out", "again"],
    )
    .await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(
        files_under(&env.path().join("again")),
        files
            .iter()
            .filter(|(p, _)| !p.ends_with("root.yaml") && !p.ends_with("workspaces.yaml"))
            .cloned()
            .collect::<Vec<_>>()
    );
    let over = import_dev(&env, &["--app", "team", "--out", "repo"]).await;
    assert_eq!(over.code, 1, "{}{}", over.stdout, over.stderr);
    assert!(
        over.stderr.contains("exists already: nothing was written"),
        "{}",
        over.stderr
    );
    for (path, text) in &files {
        assert!(
            !text.contains("s3cr3t-never-written"),
            "{path} holds the secret's value"
        );
    }
    let text_of = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p == name)
            .unwrap_or_else(|| {
                panic!(
                    "no {name} in {:#?}",
                    files.iter().map(|f| &f.0).collect::<Vec<_>>()
                )
            })
            .1
            .clone()
    };
    let job = text_of("team/job-nightly.yaml");
    for reference in [
        "existing_cluster_id: ${resources.clusters.shared.id}",
        "warehouse_id: ${resources.sql_warehouses.bi.id}",
        "service_principal_name: ${resources.service_principals.etl-bot.application_id}",
        &format!("mortar.dev/adopt-id: \"{job_id}\""),
        "group_name: analysts",
    ] {
        assert!(job.contains(reference), "no `{reference}` in\n{job}");
    }
    let cluster = text_of("team/cluster-shared.yaml");
    assert!(
        cluster.contains("policy_id: ${resources.cluster_policies.etl-policy.id}"),
        "{cluster}"
    );
    assert!(
        cluster.contains("instance_pool_id: ${resources.instance_pools.etl-pool.id}"),
        "{cluster}"
    );
    assert!(
        text_of("team/group-engineers.yaml").contains("${resources.service_principals.etl-bot.id}")
    );
    assert!(text_of("team/secretscope-etl.yaml").contains("#   - key: db-password"));
    assert!(text_of("team/grants-catalog-sales.yaml").contains("USE_CATALOG"));
    assert_eq!(
        text_of("team/files/Shared/team/report.sql").trim_end(),
        "select 1"
    );
    assert!(text_of("team/files/Shared/team/ingest.py").contains("print('ingest')"));
    assert!(
        files
            .iter()
            .any(|(p, _)| p == "team/directory-shared-team-empty.yaml")
    );
    let twin_ids: std::collections::BTreeSet<String> = files
        .iter()
        .filter(|(p, _)| p.starts_with("team/job-twin"))
        .filter_map(|(_, t)| {
            t.lines()
                .find_map(|l| l.trim().strip_prefix("mortar.dev/adopt-id: "))
                .map(|id| id.trim_matches('"').to_string())
        })
        .collect();
    assert_eq!(
        twin_ids,
        twins.iter().cloned().collect(),
        "both twins, each by its id"
    );
    // A literal `${` stays text: escaped, so it reads back as it is.
    assert!(job.contains("note: costs $${USD}"), "{job}");
    assert!(
        !files.iter().any(|(p, _)| p.contains("group-admins")),
        "the workspace's own group"
    );

    // Bad input is refused by flag, and nothing is written.
    for (args, said) in [
        (
            &["--kinds", "bogus"][..],
            "--kinds: `bogus` is not a Databricks kind",
        ),
        (
            &["--filter", "color=red"][..],
            "--filter `color=red`: unknown field",
        ),
        (
            &["--app", "../up"][..],
            "--app `../up` is not a valid app name",
        ),
        (
            &["--filter", "app=other"][..],
            "--filter app=other: objects of app `other` are its own",
        ),
        (
            &["--path", "/Shared/missing"][..],
            "reading folder `/Shared/missing` (--path)",
        ),
    ] {
        let mut all = vec!["--out", "refused"];
        all.extend_from_slice(args);
        let out = import_dev(&env, &all).await;
        assert_eq!(out.code, 1, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(said), "{args:?}: {}", out.stderr);
        assert!(!env.path().join("refused").exists(), "{args:?} wrote files");
    }
    let valid = run(command(env.path(), &["validate", "repo"], false)).await;
    assert_eq!(valid.code, 0, "{}{}", valid.stdout, valid.stderr);
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 2, "{plan:#}");
    let all = actions(&plan);
    // Settings always exist: they are taken over without an adoption.
    let not_adopting: Vec<_> = all
        .iter()
        .filter(|(_, k, a)| a != "adopt" && !(k.contains("/WorkspaceConf/") && a == "no_op"))
        .collect();
    assert!(
        not_adopting.is_empty(),
        "only adoptions: {not_adopting:#?}\n{plan:#}"
    );
    assert_eq!(all.len(), 18, "{all:#?}");
    assert!(
        all.iter()
            .any(|(_, k, _)| k == "dev/WorkspaceConf/workspace-settings"),
        "{all:#?}"
    );
    for action in plan["apps"][0]["actions"].as_array().unwrap() {
        assert_eq!(
            action["changes"].as_array().map_or(0, Vec::len),
            0,
            "{}: adopting changes no field\n{action:#}",
            action["address"]
        );
        assert_eq!(
            action["permission_changes"].as_array().map_or(0, Vec::len),
            0,
            "{}: nor any ACL",
            action["address"]
        );
    }
    env.apply(&[]).await;
    let (code, plan) = env.plan_json(&[]).await;
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(env.jobs_named("dev", "nightly").await.len(), 1);
    assert_eq!(env.jobs_named("dev", "twin").await.len(), 2);
}
