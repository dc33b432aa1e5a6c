//! `mortar validate` on copies of the example repository with one rule
//! broken at a time: exit 1 and a message naming file, line and field.
//! Also the rendered output of the valid repository, and a property test
//! feeding arbitrary input to the loader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::harness::run_blocking;
use super::harness::{copy_dir, repo_root};
use mortar::manifest::{self, Kind, RenderOptions};
use mortar::source::{DirEntry, EntryKind, SourceError, SourceTree};

/// A private copy of `manifests/`.
struct Copy {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Copy {
    fn new() -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("manifests");
        copy_dir(&repo_root().join("manifests"), &root);
        Copy { _dir: dir, root }
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.root.join(file)).unwrap()
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces the one occurrence of `from` in `file`.
    fn replace(&self, file: &str, from: &str, to: &str) {
        let text = self.read(file);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` should occur once in {file}"
        );
        self.write(file, &text.replacen(from, to, 1));
    }

    /// The 1-based line of the first line of `file` containing `needle`.
    fn line_of(&self, file: &str, needle: &str) -> usize {
        self.read(file)
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` not in {file}"))
            + 1
    }

    /// The 1-based line of the first line of `file` equal to `text`.
    fn line_eq(&self, file: &str, text: &str) -> usize {
        self.read(file).lines().position(|l| l == text).unwrap() + 1
    }

    fn validate(&self, extra: &[&str]) -> Outcome {
        validate(&self.root, extra)
    }
}

struct Outcome {
    /// The PATH given to validate: error lines name files below it.
    root: PathBuf,
    code: i32,
    stdout: String,
    stderr: String,
}

fn validate(root: &Path, extra: &[&str]) -> Outcome {
    let root_arg = root.to_str().expect("a UTF-8 path");
    let mut args = vec!["validate", root_arg];
    args.extend_from_slice(extra);
    let out = run_blocking(&args);
    Outcome {
        root: root.to_path_buf(),
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Asserts exit 1 and an error line starting `file:line:` that contains `field` and `message`.
#[track_caller]
fn assert_error(out: &Outcome, file: &str, line: usize, field: &str, message: &str) {
    assert_eq!(out.code, 1, "expected exit 1; stderr:\n{}", out.stderr);
    let prefix = format!("{}:{line}:", out.root.join(file).display());
    let found = out.stderr.lines().any(|l| {
        l.starts_with(&prefix)
            && (field.is_empty() || l.contains(&format!(": {field}: ")))
            && l.contains(message)
    });
    assert!(
        found,
        "no error `{prefix}…: {field}: …{message}…` in:\n{}",
        out.stderr
    );
}

#[test]
fn example_repository_is_valid_and_prints_the_tree() {
    let out = validate(&repo_root().join("manifests"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("platform [project platform, source apps]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("├── data-engineering-dev [project data-engineering")
    );
    assert!(out.stdout.contains("data-engineering-prod"));
    assert!(
        out.stdout
            .contains("workspace prod: 1 Catalog, 2 Grants, 2 Schema"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("workspace dev: 3 Group, 2 ServicePrincipal, 1 WorkspaceConf")
    );
    assert!(out.stderr.contains("valid: 6 apps"), "{}", out.stderr);
}

#[test]
fn json_output_lists_apps_and_keys() {
    let out = validate(&repo_root().join("manifests"), &["--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["valid"], true);
    let apps = report["apps"].as_array().unwrap();
    let prod = apps
        .iter()
        .find(|a| a["name"] == "data-engineering-prod")
        .unwrap();
    assert_eq!(prod["workspace"], "prod");
    assert!(
        prod["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "prod/Job/nightly-etl")
    );
}

#[test]
fn rendered_specs_are_create_bodies() {
    let rendered = manifest::render_dir(&repo_root().join("manifests"), None).unwrap();
    let app = rendered.app("data-engineering-prod").unwrap();
    assert_eq!(app.workspace.as_deref(), Some("prod"));
    assert_eq!(app.sync_policy.automated.map(|a| a.prune), Some(true));
    assert_eq!(
        app.ignore_differences[0].json_pointers,
        vec!["/num_workers"]
    );
    let job = app
        .resources
        .iter()
        .find(|r| r.key.name == "nightly-etl")
        .unwrap();
    assert_eq!(job.key.to_string(), "prod/Job/nightly-etl");
    assert_eq!(job.spec["name"], "nightly-etl-prod");
    // A whole-value variable keeps its type; references stay for apply.
    assert_eq!(
        job.spec["job_clusters"][0]["new_cluster"]["autoscale"]["max_workers"],
        16
    );
    assert_eq!(
        job.spec["tasks"][2]["sql_task"]["warehouse_id"],
        "${resources.sql_warehouses.analytics.id}"
    );
    // Databricks' own `{{…}}` placeholders pass through untouched.
    assert_eq!(
        job.spec["parameters"][0]["default"],
        "{{job.start_time.iso_date}}"
    );
    let deps: Vec<String> = job.depends_on.iter().map(|k| k.to_string()).collect();
    assert!(
        deps.contains(&"prod/InstancePool/etl-pool".to_string()),
        "{deps:?}"
    );
    assert!(
        deps.contains(&"prod/SqlWarehouse/analytics".to_string()),
        "{deps:?}"
    );
    assert!(
        job.permissions
            .iter()
            .any(|p| p.permission_level == "IS_OWNER")
    );

    let policy = app
        .resources
        .iter()
        .find(|r| r.key.kind == Kind::ClusterPolicy)
        .unwrap();
    let definition: serde_json::Value =
        serde_json::from_str(policy.spec["definition"].as_str().unwrap()).unwrap();
    assert_eq!(definition["autotermination_minutes"]["maxValue"], 120);

    let notebook = app
        .resources
        .iter()
        .find(|r| r.key.name == "ingest")
        .unwrap();
    assert_eq!(notebook.spec["language"], "PYTHON");
    assert_eq!(notebook.spec["format"], "SOURCE");
    assert!(!notebook.spec["content"].as_str().unwrap().is_empty());

    let scope = app
        .resources
        .iter()
        .find(|r| r.key.kind == Kind::SecretScope)
        .unwrap();
    assert_eq!(scope.permissions.len(), 3);
    assert_eq!(app.secrets.len(), 2);
    assert_eq!(
        app.secrets[0].source,
        manifest::SecretSource::FromEnv("ETL_WAREHOUSE_DB_PASSWORD".into())
    );
    let dev = rendered.app("data-engineering-dev").unwrap();
    assert_eq!(dev.parent.as_deref(), Some("platform"));
    assert_eq!(dev.generated_by.as_deref(), Some("data-engineering"));
}

#[test]
fn misspelled_fields_suggest_the_right_name() {
    let c = Copy::new();
    c.replace(
        "data-engineering/jobs.yaml",
        "  max_concurrent_runs: 1\n  timeout_seconds",
        "  max_concurent_runs: 1\n  timeout_seconds",
    );
    c.replace(
        "data-engineering/jobs.yaml",
        "      notebook_task:\n        notebook_path: /Workspace/Shared/etl/ingest",
        "      notebok_task:\n        notebook_path: /Workspace/Shared/etl/ingest",
    );
    let out = c.validate(&[]);
    let file = "data-engineering/jobs.yaml";
    assert_error(
        &out,
        file,
        c.line_of(file, "max_concurent_runs"),
        "spec.max_concurent_runs",
        "unknown field; did you mean `max_concurrent_runs`?",
    );
    assert_error(
        &out,
        file,
        c.line_of(file, "notebok_task"),
        "spec.tasks[0].notebok_task",
        "did you mean `notebook_task`?",
    );
    // Both errors, in both generated apps' renderings, reported in one run.
    assert!(out.stderr.contains("invalid: "), "{}", out.stderr);
    // The misspelled task type is reported once, as the typo it is, not
    // again as a task without a type.
    assert!(
        !out.stderr.contains("needs exactly one task type"),
        "{}",
        out.stderr
    );
}

#[test]
fn new_fields_pass_through_with_a_warning() {
    let c = Copy::new();
    c.replace(
        "data-engineering/jobs.yaml",
        "  max_concurrent_runs: 1\n  timeout_seconds",
        "  max_concurrent_runs: 1\n  compute_budget_mode: strict\n  timeout_seconds",
    );
    let out = c.validate(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = c.line_of("data-engineering/jobs.yaml", "compute_budget_mode");
    assert!(
        out.stderr.contains(&format!("data-engineering/jobs.yaml:{line}:3: warning: spec.compute_budget_mode: field not in the Databricks API schema")),
        "{}",
        out.stderr
    );
    let rendered = manifest::render_dir(&c.root, None).unwrap();
    let job = rendered
        .resources()
        .find(|r| r.key.name == "nightly-etl")
        .unwrap();
    assert_eq!(job.spec["compute_budget_mode"], "strict");
}

#[test]
fn types_enums_and_required_fields_are_checked() {
    let c = Copy::new();
    let file = "data-engineering/compute.yaml";
    c.replace(
        file,
        "  runtime_engine: PHOTON",
        "  runtime_engine: PHOTONN",
    );
    c.replace(
        file,
        "  autotermination_minutes: 30\n  data_security_mode",
        "  autotermination_minutes: thirty\n  data_security_mode",
    );
    c.replace(file, "  node_type_id: ${var.node_type}\n", "");
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "PHOTONN"),
        "spec.runtime_engine",
        "invalid value `PHOTONN`; expected one of NULL, PHOTON, STANDARD; did you mean `PHOTON`?",
    );
    assert_error(
        &out,
        file,
        c.line_of(file, "thirty"),
        "spec.autotermination_minutes",
        "expected an integer, found a string",
    );
    assert_error(
        &out,
        file,
        c.line_of(file, "instance_pool_name:"),
        "spec",
        "missing required field `node_type_id`",
    );
}

#[test]
fn job_task_rules_are_checked() {
    let c = Copy::new();
    let file = "data-engineering/jobs.yaml";
    c.replace(
        file,
        "        - task_key: transform\n",
        "        - task_key: transfrom\n",
    );
    c.replace(file, "      job_cluster_key: etl\n      notebook_task:\n        notebook_path: /Workspace/Shared/etl/transform", "      job_cluster_key: etl-cluster\n      notebook_task:\n        notebook_path: /Workspace/Shared/etl/transform");
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "task_key: transfrom"),
        "spec.tasks[2].depends_on[0].task_key",
        "no task `transfrom` in this job; did you mean `transform`?",
    );
    assert_error(
        &out,
        file,
        c.line_of(file, "etl-cluster"),
        "spec.tasks[1].job_cluster_key",
        "no job cluster `etl-cluster`",
    );
}

#[test]
fn permission_levels_are_checked_per_object_type() {
    let c = Copy::new();
    let file = "data-engineering/compute.yaml";
    c.replace(
        file,
        "    permission_level: CAN_RESTART",
        "    permission_level: CAN_VIEW",
    );
    let jobs = "data-engineering/jobs.yaml";
    c.replace(
        jobs,
        "  - group_name: data-engineers\n    permission_level: CAN_MANAGE_RUN",
        "  - group_name: data-engineers\n    permission_level: IS_OWNER",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "CAN_VIEW"),
        "permissions[0].permission_level",
        "`CAN_VIEW` is not a permission level of a Cluster; expected one of CAN_ATTACH_TO, CAN_RESTART, CAN_MANAGE",
    );
    let line = c
        .read(jobs)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("IS_OWNER"))
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_error(
        &out,
        jobs,
        line,
        "permissions[1].permission_level",
        "a group cannot be IS_OWNER",
    );
}

#[test]
fn secret_scope_acls_and_literal_secrets() {
    let c = Copy::new();
    let file = "data-engineering/secrets.yaml";
    c.replace(
        file,
        "    permission: READ\n  - service_principal_name",
        "    permission: CAN_READ\n  - service_principal_name",
    );
    c.replace(
        file,
        "    fromEnv: ETL_WAREHOUSE_DB_PASSWORD",
        "    string_value: hunter2",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "CAN_READ"),
        "acls[0].permission",
        "`CAN_READ` is not a permission level of a SecretScope; expected one of READ, WRITE, MANAGE",
    );
    assert_error(
        &out,
        file,
        c.line_of(file, "string_value"),
        "secrets[0].string_value",
        "secret values never appear in manifests",
    );
    assert!(
        !out.stderr.contains("hunter2"),
        "a secret value was echoed:\n{}",
        out.stderr
    );
}

#[test]
fn unity_catalog_privileges_are_checked_per_securable() {
    let c = Copy::new();
    let file = "unity-catalog/grants.yaml";
    c.replace(
        file,
        "    - principal: analysts\n      privileges: [USE_SCHEMA, SELECT]",
        "    - principal: analysts\n      privileges: [USE_CATALOG, SELECT]",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "[USE_CATALOG, SELECT]"),
        "spec.privilege_assignments[0].privileges[0]",
        "privilege `USE_CATALOG` does not apply to a schema",
    );
}

#[test]
fn unknown_variables_name_file_line_and_field() {
    let c = Copy::new();
    let file = "data-engineering/warehouse.yaml";
    c.replace(
        file,
        "  name: analytics-${var.env}",
        "  name: analytics-${var.environment}",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "var.environment"),
        "spec.name",
        "unknown variable `environment`",
    );
}

#[test]
fn references_must_exist_and_not_cycle() {
    let c = Copy::new();
    let file = "data-engineering/jobs.yaml";
    c.replace(file, "      existing_cluster_id: ${resources.clusters.shared-etl.id}\n      notebook_task:\n        notebook_path: /Workspace/Shared/etl/transform\n        base_parameters:\n          mode: freshness", "      existing_cluster_id: ${resources.clusters.shared-etc.id}\n      notebook_task:\n        notebook_path: /Workspace/Shared/etl/transform\n        base_parameters:\n          mode: freshness");
    let compute = "data-engineering/compute.yaml";
    c.replace(
        compute,
        "  description: Bounded, tagged clusters for ETL jobs.",
        "  description: Used by ${resources.clusters.shared-etl.id}",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        file,
        c.line_of(file, "shared-etc"),
        "spec.tasks[0].existing_cluster_id",
        "no Cluster named `shared-etc` in app `data-engineering-dev` (workspace `dev`); did you mean `shared-etl`?",
    );
    assert!(out.stderr.contains("reference cycle: "), "{}", out.stderr);
    assert!(out.stderr.contains("Cluster/shared-etl"), "{}", out.stderr);
}

#[test]
fn yaml_problems_are_refused_with_position() {
    let fixtures = repo_root().join("tests/fixtures/manifest");
    for (fixture, line, message) in [
        (
            "duplicate-keys.yaml",
            9,
            "invalid YAML: duplicate mapping key: max_concurrent_runs",
        ),
        ("invalid-syntax.yaml", 8, "invalid YAML: unclosed bracket"),
        (
            "yaml-bomb.yaml",
            11,
            "aliases expand beyond 50000 events (a YAML bomb?); refused",
        ),
        (
            "deep-nesting.yaml",
            7,
            "nested deeper than 48 levels; refused",
        ),
    ] {
        let c = Copy::new();
        let text = std::fs::read_to_string(fixtures.join(fixture)).unwrap();
        c.write(&format!("data-engineering/{fixture}"), &text);
        let started = std::time::Instant::now();
        let out = c.validate(&[]);
        assert_eq!(out.code, 1, "{fixture}: {}", out.stderr);
        let prefix = format!(
            "{}:{line}:",
            out.root.join("data-engineering").join(fixture).display()
        );
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(message)),
            "{fixture}: no `{prefix}…{message}` in\n{}",
            out.stderr
        );
        // Refused by the budget, not after expanding the input.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{fixture} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn huge_files_are_refused_before_parsing() {
    let c = Copy::new();
    let mut text = String::from(
        "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: { name: huge }\nspec:\n  name: huge\n  description: \"",
    );
    text.push_str(&"x".repeat(5 * 1024 * 1024));
    text.push_str("\"\n");
    c.write("data-engineering/huge.yaml", &text);
    let out = c.validate(&[]);
    assert_eq!(out.code, 1);
    let prefix = format!(
        "{}: `data-engineering/huge.yaml` is ",
        out.root.join("data-engineering/huge.yaml").display()
    );
    assert!(
        out.stderr.lines().any(|l| l.starts_with(&prefix)
            && l.ends_with("bytes, over the 4194304-byte limit for a manifest file")),
        "{}",
        out.stderr
    );
}

#[test]
fn app_tree_cycles_are_errors() {
    let c = Copy::new();
    c.write(
        "apps/loop.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata:\n  name: loop\nspec:\n  project: platform\n  source:\n    path: ./apps/\n",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        "apps/loop.yaml",
        8,
        "spec.source.path",
        "cycle: source path `apps` is already rendered by `platform` (platform → loop)",
    );
}

#[test]
fn source_paths_stay_inside_the_repository() {
    for (path, message) in [
        ("../outside", "`..` is not allowed"),
        ("/etc", "absolute paths are not allowed"),
        ("missing-dir", "source path `missing-dir` does not exist"),
    ] {
        let c = Copy::new();
        c.replace(
            "apps/unity-catalog.yaml",
            "    path: unity-catalog",
            &format!("    path: {path}"),
        );
        let out = c.validate(&[]);
        let line = c.line_of("apps/unity-catalog.yaml", &format!("path: {path}"));
        assert_error(
            &out,
            "apps/unity-catalog.yaml",
            line,
            "spec.source.path",
            message,
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_pointing_outside_are_errors() {
    let c = Copy::new();
    let outside = c.root.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("x.yaml"), "apiVersion: mortar.dev/v1alpha1\n").unwrap();
    std::os::unix::fs::symlink(&outside, c.root.join("escape")).unwrap();
    std::os::unix::fs::symlink("../../outside", c.root.join("unity-catalog/sneaky")).unwrap();
    c.replace(
        "apps/unity-catalog.yaml",
        "    path: unity-catalog",
        "    path: escape",
    );
    let out = c.validate(&[]);
    let line = c.line_of("apps/unity-catalog.yaml", "path: escape");
    assert_error(
        &out,
        "apps/unity-catalog.yaml",
        line,
        "spec.source.path",
        "leaves the manifest root: symlink `escape` points to absolute path",
    );
}

#[test]
fn two_apps_claiming_one_key_is_an_error() {
    let c = Copy::new();
    c.write(
        "apps/catalog-copy.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata:\n  name: catalog-copy\nspec:\n  project: governance\n  source:\n    path: unity-catalog\n  destination:\n    workspace: prod\n",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        "unity-catalog/catalog.yaml",
        2,
        "metadata.name",
        "resource `prod/Catalog/analytics` is already declared by app `catalog-copy` at unity-catalog/catalog.yaml:2",
    );
    // The second app's references to its own (duplicate) resources are not reported on top.
    assert!(
        !out.stderr.contains("references stay within one app"),
        "{}",
        out.stderr
    );
}

#[test]
fn project_rules_are_enforced() {
    let c = Copy::new();
    // A destination the project does not allow.
    c.replace(
        "projects.yaml",
        "    - workspace: dev\n    - workspace: prod\n  sourcePaths: [identity, unity-catalog]",
        "    - workspace: dev\n  sourcePaths: [identity, unity-catalog]",
    );
    // A kind the project does not allow.
    c.write(
        "data-engineering/rogue-group.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata:\n  name: rogue\nspec:\n  displayName: rogue\n",
    );
    let out = c.validate(&[]);
    let line = c.line_of("apps/unity-catalog.yaml", "workspace: prod");
    assert_error(
        &out,
        "apps/unity-catalog.yaml",
        line,
        "spec.destination.workspace",
        "project `governance` does not allow destination workspace `prod`",
    );
    assert_error(
        &out,
        "data-engineering/rogue-group.yaml",
        2,
        "kind",
        "project `data-engineering` does not allow kind Group",
    );

    let c = Copy::new();
    c.replace(
        "apps/unity-catalog.yaml",
        "    path: unity-catalog",
        "    path: data-engineering",
    );
    let out = c.validate(&[]);
    let line = c.line_of("apps/unity-catalog.yaml", "path: data-engineering");
    assert_error(
        &out,
        "apps/unity-catalog.yaml",
        line,
        "spec.source.path",
        "project `governance` does not allow source path `data-engineering`",
    );
}

#[test]
fn unknown_projects_workspaces_and_kinds_suggest_names() {
    let c = Copy::new();
    c.replace(
        "apps/unity-catalog.yaml",
        "  project: governance",
        "  project: governnace",
    );
    c.replace(
        "apps/identity.yaml",
        "          - workspace: prod",
        "          - workspace: prdo",
    );
    c.replace(
        "unity-catalog/catalog.yaml",
        "kind: Catalog",
        "kind: Catalogue",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        "apps/unity-catalog.yaml",
        c.line_of("apps/unity-catalog.yaml", "governnace"),
        "spec.project",
        "unknown project `governnace`; did you mean `governance`?",
    );
    assert_error(
        &out,
        "apps/identity.yaml",
        c.line_of("apps/identity.yaml", "\"{{workspace}}\""),
        "spec.template.spec.destination.workspace",
        "unknown workspace `prdo`; did you mean `prod`?",
    );
    assert_error(
        &out,
        "unity-catalog/catalog.yaml",
        c.line_of("unity-catalog/catalog.yaml", "Catalogue"),
        "kind",
        "unknown kind `Catalogue`; did you mean `Catalog`?",
    );
}

#[test]
fn envelope_and_workspace_rules() {
    let c = Copy::new();
    c.replace(
        "unity-catalog/catalog.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Catalog",
        "apiVersion: mortar.dev/v1\nkind: Catalog",
    );
    c.replace(
        "workspaces.yaml",
        "  cloud: aws\n  description: Production workspace.",
        "  cloud: aws\n  token: dapi0123\n  description: Production workspace.",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        "unity-catalog/catalog.yaml",
        c.line_eq("unity-catalog/catalog.yaml", "apiVersion: mortar.dev/v1"),
        "apiVersion",
        "unsupported apiVersion `mortar.dev/v1`",
    );
    assert_error(
        &out,
        "workspaces.yaml",
        c.line_of("workspaces.yaml", "token:"),
        "spec.token",
        "credentials never go in manifests",
    );
    assert!(!out.stderr.contains("dapi0123"), "{}", out.stderr);
}

#[test]
fn app_depth_is_limited() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("workspaces.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n",
    )
    .unwrap();
    let app = |name: &str, path: &str| {
        format!(
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  source:\n    path: {path}\n"
        )
    };
    std::fs::write(root.join("root.yaml"), app("level-0", "l1")).unwrap();
    for i in 1..=12 {
        let dir = root.join(format!("l{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("app.yaml"),
            app(&format!("level-{i}"), &format!("l{}", i + 1)),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("l13")).unwrap();
    let out = validate(root, &[]);
    assert_error(
        &out,
        "l11/app.yaml",
        1,
        "",
        "app `level-11` is nested 11 levels deep; the limit is 10",
    );
}

#[test]
fn all_errors_are_reported_in_one_run() {
    let c = Copy::new();
    c.replace(
        "data-engineering/warehouse.yaml",
        "  cluster_size: ${var.warehouse_size}",
        "  cluster_size: Huge",
    );
    c.replace(
        "identity/groups.yaml",
        "    - value: databricks-sql-access",
        "    - value: sql-access",
    );
    c.replace(
        "unity-catalog/catalog.yaml",
        "  comment: Raw ingested events.",
        "  coment: Raw ingested events.",
    );
    let out = c.validate(&[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("spec.cluster_size: invalid value `Huge`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("spec.entitlements[1].value: invalid value `sql-access`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("spec.coment: unknown field; did you mean `comment`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn root_file_option_and_usage_errors() {
    let c = Copy::new();
    let out = c.validate(&["--root", "root.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let absolute = c.root.join("root.yaml");
    let out = c.validate(&["--root", absolute.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = c.validate(&["--root", "nope.yaml"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("nope.yaml: the root file does not exist"),
        "{}",
        out.stderr
    );
    let out = validate(&c.root.join("does-not-exist"), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = c.validate(&["--output", "yaml"]);
    assert_eq!(out.code, 2);
}

/// An in-memory tree: the loader only needs the trait.
struct MemTree(HashMap<String, Vec<u8>>);

impl SourceTree for MemTree {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        if path.is_empty() || self.0.keys().any(|k| k.starts_with(&format!("{path}/"))) {
            return Ok(Some(EntryKind::Dir));
        }
        Ok(self.0.get(path).map(|_| EntryKind::File))
    }
    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        let mut names: Vec<DirEntry> = self
            .0
            .keys()
            .filter(|k| path.is_empty() && !k.contains('/'))
            .map(|k| DirEntry {
                name: k.clone(),
                kind: EntryKind::File,
            })
            .collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(names)
    }
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let bytes = self
            .0
            .get(path)
            .ok_or_else(|| SourceError::NotFound(path.into()))?;
        if bytes.len() as u64 > limit {
            return Err(SourceError::TooLarge {
                path: path.into(),
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes.clone())
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

fn render_bytes(bytes: Vec<u8>) -> Result<manifest::Rendered, manifest::Diagnostics> {
    let mut files = HashMap::new();
    files.insert("root.yaml".to_string(), bytes);
    manifest::render(&MemTree(files), &RenderOptions::default())
}

mod properties {
    use proptest::prelude::*;

    fn yaml_token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("apiVersion: mortar.dev/v1alpha1\n".to_string()),
            Just("kind: Application\n".to_string()),
            Just("kind: Job\n".to_string()),
            Just("metadata: { name: x }\n".to_string()),
            Just("spec:\n".to_string()),
            Just("  source: { path: . }\n".to_string()),
            Just("  tasks:\n".to_string()),
            Just("    - task_key: a\n".to_string()),
            Just("---\n".to_string()),
            Just("&a [1, 2]\n".to_string()),
            Just("b: *a\n".to_string()),
            Just("- ".to_string()),
            Just("  ".to_string()),
            Just("{".to_string()),
            Just("[".to_string()),
            Just("}".to_string()),
            Just("]".to_string()),
            Just(": ".to_string()),
            Just("${var.x}".to_string()),
            Just("${resources.jobs.a.id}".to_string()),
            Just("{{e}}".to_string()),
            Just("\"".to_string()),
            Just("\n".to_string()),
            "[a-z_]{1,8}".prop_map(|s| s),
            "[ -~]{0,6}".prop_map(|s| s),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = super::render_bytes(bytes);
        }

        #[test]
        fn yaml_shaped_documents_never_panic(tokens in proptest::collection::vec(yaml_token(), 0..80)) {
            let text = tokens.concat();
            match super::render_bytes(text.into_bytes()) {
                Ok(_) => {}
                Err(diags) => prop_assert!(!diags.errors.is_empty()),
            }
        }
    }
}

#[test]
fn generator_templates_and_notebook_sources_are_checked() {
    let c = Copy::new();
    c.replace(
        "apps/data-engineering.yaml",
        "      name: data-engineering-{{env}}",
        "      name: data-engineering-{{environment}}",
    );
    let nb = "data-engineering/notebooks.yaml";
    c.replace(
        nb,
        "source: data-engineering/notebooks/ingest.py",
        "source: data-engineering/notebooks/ingest.scala",
    );
    c.replace(
        nb,
        "source: data-engineering/notebooks/transform.sql",
        "source: identity/groups.yaml",
    );
    let out = c.validate(&[]);
    let line = c.line_of("apps/data-engineering.yaml", "{{environment}}");
    assert_error(
        &out,
        "apps/data-engineering.yaml",
        line,
        "spec.template.metadata.name",
        "unknown generator element key `environment`",
    );
    // The app set failed to render, so check the notebooks through a clean copy.
    let c = Copy::new();
    c.replace(
        nb,
        "source: data-engineering/notebooks/ingest.py",
        "source: data-engineering/notebooks/ingest.scala",
    );
    c.replace(
        nb,
        "source: data-engineering/notebooks/transform.sql",
        "source: identity/groups.yaml",
    );
    let out = c.validate(&[]);
    assert_error(
        &out,
        nb,
        c.line_of(nb, "ingest.scala"),
        "source",
        "`data-engineering/notebooks/ingest.scala` does not exist",
    );
    assert_error(
        &out,
        nb,
        c.line_of(nb, "identity/groups.yaml"),
        "source",
        "project `data-engineering` does not allow source path `identity/groups.yaml`",
    );
}

#[test]
fn references_stay_within_one_app() {
    let c = Copy::new();
    let file = "data-engineering/warehouse.yaml";
    c.replace(file, "  - group_name: analysts\n    permission_level: CAN_USE", "  - service_principal_name: ${resources.service_principals.reporting-bot.application_id}\n    permission_level: CAN_USE");
    let out = c.validate(&[]);
    let line = c.line_of(file, "reporting-bot");
    assert_error(
        &out,
        file,
        line,
        "permissions[1].service_principal_name",
        "ServicePrincipal `reporting-bot` belongs to app `identity-dev`; references stay within one app",
    );
}

/// `src/manifest/schema/sdk.rs` is exactly what `scripts/gen-sdk-schema`
/// writes from the databricks-sdk pinned in tests/conformance, so the
/// field tables cannot drift from the SDK (or gain hand edits).
#[test]
fn the_sdk_schema_is_what_the_generator_writes() {
    let python = std::env::var("MORTAR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "MORTAR_TEST_PYTHON is not set and .venv/bin/python does not exist: run scripts/test, which creates .venv with the pinned databricks-sdk"
    );
    let out = Command::new(&python)
        .arg(repo_root().join("scripts/gen-sdk-schema"))
        .arg("--check")
        .output()
        .expect("the generator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(repo_root().join("src/manifest/schema/sdk.rs")).unwrap();
    assert!(
        text.starts_with("// @generated by scripts/gen-sdk-schema from databricks-sdk 0.162.0"),
        "{}",
        text.lines().next().unwrap_or_default()
    );
}

#[test]
fn values_that_would_change_meaning_silently_are_errors() {
    let copy = Copy::new();
    let file = "data-engineering/jobs.yaml";
    copy.replace(
        file,
        "    team: data-engineering\n    env: ${var.env}\n  schedule:",
        "    team: data-engineering\n    cost_center: 100\n    critical: true\n    quoted: \"100\"\n    env: ${var.env}\n  schedule:",
    );
    copy.replace(
        file,
        "  max_concurrent_runs: 1\n  timeout_seconds: 14400\n",
        "  max_concurrent_runs: 1\n  timeout_seconds: 14400\n  trigger: { type: cron }\n",
    );
    let out = copy.validate(&[]);
    let line = copy.line_of(file, "cost_center: 100");
    assert_error(
        &out,
        file,
        line,
        "spec.tags.cost_center",
        "expected a string",
    );
    assert_error(
        &out,
        file,
        line + 1,
        "spec.tags.critical",
        "quote the value",
    );
    assert!(!out.stderr.contains("spec.tags.quoted"), "{}", out.stderr);
    let line = copy.line_of(file, "trigger: { type: cron }");
    assert_error(
        &out,
        file,
        line,
        "spec.trigger",
        "a trigger needs one kind of trigger",
    );

    // A Jobs API 2.0 single-task body.
    let copy = Copy::new();
    copy.write(
        "data-engineering/legacy.yaml",
        "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: { name: legacy }\nspec:\n  name: legacy\n  new_cluster: { spark_version: v, num_workers: 1 }\n  notebook_task: { notebook_path: /x }\n",
    );
    let out = copy.validate(&[]);
    assert_error(
        &out,
        "data-engineering/legacy.yaml",
        7,
        "spec.notebook_task",
        "the Jobs API 2.0 single-task format, which creates a job with no tasks; move `new_cluster`, `notebook_task` into a task: `tasks: [{task_key: main, new_cluster: …, notebook_task: …}]`",
    );
}
