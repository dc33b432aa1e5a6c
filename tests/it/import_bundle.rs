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
