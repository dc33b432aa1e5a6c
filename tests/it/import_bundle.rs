//! Importing Databricks Asset Bundles: the bundles under
//! `tests/fixtures/bundles/` (written for these tests: several targets,
//! includes, variables with a lookup, presets, permissions, job clusters,
//! a for-each task, notebooks and files, Python-defined resources), each
//! converted for a target and compared with the create bodies and ACLs
//! `bundle deploy` sends for it (`expected/<target>/`, derived from the
//! CLI's own rules; see their NOTES.md).

use std::path::{Path, PathBuf};

use mortar::import::bundle::{self, DiskFiles, Imported, Options};
use serde_json::Value;

const DEPLOYER: &str = "deployer@example.com";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bundles")
        .join(name)
}

fn import(name: &str, target: Option<&str>) -> Imported {
    let dir = fixture(name);
    let loaded = bundle::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let options = Options {
        target: target.map(str::to_string),
        user: Some(DEPLOYER.into()),
        ..Options::default()
    };
    bundle::convert(&loaded, &options, &DiskFiles(&dir)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The spec with the import's variables put in, as Mortar renders it.
fn rendered(imported: &Imported, spec: &Value) -> Value {
    let mut text = serde_json::to_string(spec).unwrap();
    for (name, value) in &imported.variables {
        let escaped = serde_json::to_string(value).unwrap();
        text = text.replace(&format!("${{var.{name}}}"), &escaped[1..escaped.len() - 1]);
    }
    serde_json::from_str(&text).unwrap()
}

/// Each expected body and ACL of `expected/<target>/` equals the import's.
fn matches_expected(name: &str, target: &str, imported: &Imported) -> usize {
    let expected = fixture(name).join("expected").join(target);
    let mut compared = 0;
    for group in ["jobs", "clusters", "sql_warehouses", "schemas"] {
        let Ok(entries) = std::fs::read_dir(expected.join(group)) else {
            continue;
        };
        for entry in entries.flatten() {
            let key = entry
                .path()
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let resource = imported
                .resources
                .iter()
                .find(|r| r.group == group && r.key == key)
                .unwrap_or_else(|| panic!("{name}/{target}: no {group}.{key} imported"));
            assert_eq!(
                rendered(imported, &resource.spec),
                read_json(&entry.path()),
                "{name}/{target}: the body of {group}.{key}"
            );
            let acl = expected
                .join("permissions")
                .join(group)
                .join(format!("{key}.json"));
            if acl.exists() {
                assert_eq!(
                    Value::Array(resource.permissions.clone()),
                    read_json(&acl)["access_control_list"],
                    "{name}/{target}: the ACL of {group}.{key}"
                );
            } else {
                assert!(resource.permissions.is_empty(), "{group}.{key}: no ACL");
            }
            compared += 1;
        }
    }
    compared
}

#[test]
fn a_multi_target_bundle_imports_as_each_target_deploys() {
    for target in ["dev", "prod"] {
        let imported = import("multi-target", Some(target));
        assert_eq!(imported.target, target);
        assert_eq!(matches_expected("multi-target", target, &imported), 2);
        // The lookup variable the workspace would answer is reported, and
        // kept as a variable for --var to give.
        assert!(
            imported
                .unmapped
                .iter()
                .any(|u| u.what.contains("variable `etl_policy_id` is a lookup")
                    && u.place.file == "databricks.yml"),
            "{:#?}",
            imported.unmapped
        );
        assert_eq!(imported.unmapped.len(), 1, "{:#?}", imported.unmapped);
        // The notebooks and files the job runs come along.
        let files: Vec<(&str, bool)> = imported
            .files
            .iter()
            .map(|f| (f.relative.as_str(), f.notebook))
            .collect();
        let mut expected_files = vec![
            ("src/ingest.py", true),
            ("src/refresh_region.py", true),
            ("src/transform.py", false),
        ];
        if target == "prod" {
            expected_files.push(("src/refresh_marts.sql", false));
            expected_files.sort();
        }
        assert_eq!(files, expected_files);
    }
    // The default target is dev; a variable given on the command line wins.
    let dir = fixture("multi-target");
    let loaded = bundle::load(&dir).unwrap();
    let options = Options {
        user: Some(DEPLOYER.into()),
        vars: [("etl_policy_id".to_string(), "E0A1B2C3".to_string())].into(),
        ..Options::default()
    };
    let imported = bundle::convert(&loaded, &options, &DiskFiles(&dir)).unwrap();
    assert_eq!(imported.target, "dev");
    assert!(imported.unmapped.is_empty(), "{:#?}", imported.unmapped);
    let job = &imported
        .resources
        .iter()
        .find(|r| r.key == "nightly_etl")
        .unwrap();
    assert_eq!(
        rendered(&imported, &job.spec)["job_clusters"][0]["new_cluster"]["policy_id"],
        "E0A1B2C3"
    );
}

#[test]
fn presets_shape_names_tags_and_triggers() {
    let imported = import("presets", None);
    assert_eq!(matches_expected("presets", "staging", &imported), 4);
    // The schema's grants become a Grants resource on it, with the
    // privileges the CLI adds for each principal.
    let grants = imported
        .resources
        .iter()
        .find(|r| r.key == "reporting-grants")
        .expect("the schema's grants");
    assert_eq!(
        grants.spec["full_name"],
        "${resources.schemas.reporting.id}"
    );
    let sent =
        read_json(&fixture("presets").join("expected/staging/grants/schemas/reporting.json"));
    let assigned: Vec<(Value, Value)> = grants.spec["privilege_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["principal"].clone(), a["privileges"].clone()))
        .collect();
    let expected: Vec<(Value, Value)> = sent["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["principal"].clone(), c["add"].clone()))
        .collect();
    assert_eq!(assigned, expected);
    let reported: Vec<&str> = imported.unmapped.iter().map(|u| u.what.as_str()).collect();
    assert!(
        reported
            .iter()
            .any(|w| w.starts_with("volumes.landing: Mortar has no kind")),
        "{reported:#?}"
    );
}

#[test]
fn what_has_no_mortar_equivalent_is_listed_with_file_and_line() {
    let imported = import("python-and-unknown", None);
    let listed = |needle: &str| {
        imported
            .unmapped
            .iter()
            .find(|u| u.what.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {:#?}", imported.unmapped))
            .clone()
    };
    let python = listed("`python:` is not imported");
    assert_eq!(
        (python.place.file.as_str(), python.place.line),
        ("databricks.yml", 8)
    );
    listed("`experimental:` is not imported");
    let pipeline = listed("pipelines.features: Mortar has no kind");
    assert!(
        pipeline.place.file.starts_with("resources/"),
        "{pipeline:?}"
    );
    listed("model_serving_endpoints.churn: Mortar has no kind");
    listed("`${resources.pipelines.features.id}` has no Mortar equivalent");
}

#[test]
fn a_bad_bundle_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("resources")).unwrap();
    std::fs::write(
        dir.path().join("databricks.yml"),
        "bundle: { name: x }\ninclude: [resources/*.yml]\nresources:\n  jobs:\n    etl: { name: etl }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("resources/more.yml"),
        "resources:\n  pipelines:\n    etl: { name: etl }\n",
    )
    .unwrap();
    let err = bundle::load(dir.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        "resources/more.yml:3: resource key `etl` is defined already as jobs.etl at databricks.yml:5"
    );
    std::fs::write(
        dir.path().join("databricks.yml"),
        "bundle: { name: x }\ninclude: [missing.yml]\n",
    )
    .unwrap();
    let err = bundle::load(dir.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        "databricks.yml:2: include[0]: `missing.yml` does not exist"
    );
    let none = tempfile::tempdir().unwrap();
    assert!(
        bundle::load(none.path())
            .unwrap_err()
            .to_string()
            .ends_with("no databricks.yml (nor databricks.yaml, bundle.yml, bundle.yaml)")
    );
}

/// A workspace where the bundle was deployed (its create bodies sent as
/// `bundle deploy` sends them, its files synced), imported, planned: only
/// adoptions; applied; planned again: nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_bundle_is_adopted_without_a_duplicate() {
    use super::harness::{command, run};
    use base64::Engine as _;
    let dev = super::databricks_support::emulator(mortar_emulator::EmulatorConfig::default()).await;
    let http = reqwest::Client::new();
    // One call to the workspace, which must succeed; its JSON answer.
    let api = |method: reqwest::Method, path: String, body: Value| {
        let request = http
            .request(method, format!("{}{path}", dev.base_url()))
            .bearer_auth(dev.token())
            .json(&body);
        async move {
            let answer = request.send().await.unwrap();
            let status = answer.status();
            let text = answer.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
        }
    };
    let post = reqwest::Method::POST;
    // The people and groups the bundle's ACLs name.
    for group in ["sales-analysts", "sales-data-platform", "sales-oncall"] {
        let body = serde_json::json!({"displayName": group});
        api(post.clone(), "/api/2.0/preview/scim/v2/Groups".into(), body).await;
    }
    for user in ["auditor@example.com", DEPLOYER] {
        let body = serde_json::json!({"userName": user});
        api(post.clone(), "/api/2.0/preview/scim/v2/Users".into(), body).await;
    }
    // What `bundle deploy -t dev` did: files, the job, the warehouse, ACLs.
    let bundle_dir = fixture("multi-target");
    let expected = bundle_dir.join("expected/dev");
    let root = "/Workspace/Users/deployer@example.com/.bundle/sales-etl/dev/files";
    let dirs = serde_json::json!({"path": format!("{root}/src")});
    api(post.clone(), "/api/2.0/workspace/mkdirs".into(), dirs).await;
    for (file, path, notebook) in [
        ("src/ingest.py", "src/ingest", true),
        ("src/refresh_region.py", "src/refresh_region", true),
        ("src/transform.py", "src/transform.py", false),
    ] {
        let content = std::fs::read(bundle_dir.join(file)).unwrap();
        let mut body = serde_json::json!({
            "path": format!("{root}/{path}"),
            "content": base64::engine::general_purpose::STANDARD.encode(&content),
            "overwrite": true,
        });
        if notebook {
            body["format"] = "SOURCE".into();
            body["language"] = "PYTHON".into();
        } else {
            body["format"] = "AUTO".into();
        }
        api(post.clone(), "/api/2.0/workspace/import".into(), body).await;
    }
    let mut job = read_json(&expected.join("jobs/nightly_etl.json"));
    job["job_clusters"][0]["new_cluster"]["policy_id"] = "E0A1B2C3".into();
    let created = api(post.clone(), "/api/2.2/jobs/create".into(), job).await;
    let job_id = created["job_id"].as_i64().expect("a job id");
    let warehouse = read_json(&expected.join("sql_warehouses/reporting.json"));
    let warehouse = api(post.clone(), "/api/2.0/sql/warehouses".into(), warehouse).await;
    let warehouse_id = warehouse["id"].as_str().expect("a warehouse id");
    for (path, acl) in [
        (
            format!("/api/2.0/permissions/jobs/{job_id}"),
            "permissions/jobs/nightly_etl.json",
        ),
        (
            format!("/api/2.0/permissions/sql/warehouses/{warehouse_id}"),
            "permissions/sql_warehouses/reporting.json",
        ),
    ] {
        api(reqwest::Method::PUT, path, read_json(&expected.join(acl))).await;
    }

    // The import, into a manifest root whose workspace is that one.
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(
        manifests.join("root.yaml"),
        format!(
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: root }}\nspec:\n  source: {{ path: apps }}\n---\napiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: {{ name: dev }}\nspec: {{ host: {} }}\n",
            dev.base_url()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
    std::fs::write(
        dir.path().join("mortar.yaml"),
        format!(
            "source: {{ dir: manifests }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n",
            dev.base_url()
        ),
    )
    .unwrap();
    let out = run(command(
        dir.path(),
        &[
            "import",
            "bundle",
            bundle_dir.to_str().unwrap(),
            "--user",
            DEPLOYER,
            "--var",
            "etl_policy_id=E0A1B2C3",
            "--out",
            "manifests",
        ],
        false,
    ))
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Imported 2 resource(s) and 3 file(s)"),
        "{}",
        out.stdout
    );

    let plan = run(command(dir.path(), &["plan", "--output", "json"], true)).await;
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let app = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == "sales-etl-dev")
        .unwrap_or_else(|| panic!("the imported app is planned: {plan:#}"));
    let actions: Vec<(String, String)> = app["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].to_string(),
                a["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        actions.iter().all(|(_, a)| a == "adopt"),
        "only adoptions: {actions:#?}\n{plan:#}"
    );
    assert_eq!(actions.len(), 5, "{actions:#?}");
    // The bodies are what the bundle sent: adopting changes no field.
    for action in app["actions"].as_array().unwrap() {
        let changed: Vec<&str> = action["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["path"].as_str())
            .collect();
        assert!(changed.is_empty(), "{}: {changed:?}", action["key"]);
        assert_eq!(
            action["permission_changes"].as_array().map_or(0, Vec::len),
            0,
            "{}: the ACL is the bundle's",
            action["key"]
        );
    }

    let apply = run(command(dir.path(), &["apply", "--auto-approve"], true)).await;
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let again = run(command(dir.path(), &["plan"], true)).await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    // Still one job and one warehouse.
    let jobs = api(
        reqwest::Method::GET,
        "/api/2.2/jobs/list".into(),
        Value::Null,
    )
    .await;
    assert_eq!(jobs["jobs"].as_array().map_or(0, Vec::len), 1, "{jobs}");
}

/// The same bundle imported twice gives the same files, byte for byte;
/// `--strict` refuses a bundle with anything it cannot take in, and
/// writes nothing; an existing app is never overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_are_deterministic_strict_and_never_overwrite() {
    use super::harness::{command, run};
    let dir = tempfile::tempdir().unwrap();
    let bundle_dir = fixture("multi-target");
    let import = |out: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "import",
            "bundle",
            bundle_dir.to_str().unwrap(),
            "--user",
            DEPLOYER,
            "--target",
            "prod",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        run(command(dir.path(), &args, false))
    };
    assert_eq!(import("a", &[]).await.code, 0);
    assert_eq!(import("b", &[]).await.code, 0);
    let listing = |root: &str| {
        let mut files = Vec::new();
        let mut stack = vec![dir.path().join(root)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    files.push((
                        e.path()
                            .strip_prefix(dir.path().join(root))
                            .unwrap()
                            .to_path_buf(),
                        std::fs::read(e.path()).unwrap(),
                    ));
                }
            }
        }
        files.sort();
        files
    };
    let a = listing("a");
    assert!(
        a.len() >= 8,
        "{:?}",
        a.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(a, listing("b"));

    // The lookup variable was not given: reported, and with --strict fatal.
    let strict = import("c", &["--strict"]).await;
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(
        strict.stderr.contains("databricks.yml:") && strict.stderr.contains("etl_policy_id"),
        "{}",
        strict.stderr
    );
    assert!(!dir.path().join("c").exists(), "nothing written");

    let again = import("a", &[]).await;
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("exists already: nothing was written"),
        "{}",
        again.stderr
    );
}
