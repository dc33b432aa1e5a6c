//! The repository's AccessPolicy as a reviewer of the policy itself runs
//! it: `mortar access can-i` on the example repository (built-in and custom
//! roles, groups, subjects, the default role), and a broken policy refused
//! by `validate` with file, line and field.

use std::path::Path;

use serde_json::Value;

use super::harness::{copy_dir, repo_root, run_blocking};

/// A copy of the example and a config reading it as a directory source.
fn example() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("manifests"), &dir.path().join("repo"));
    let config = dir.path().join("mortar.yaml");
    std::fs::write(
        &config,
        format!(
            "source: {{ dir: {} }}\nworkspaces:\n  dev: {{ host: https://dev.example.com, auth: {{ method: pat, token: {{ env: UNUSED_TOKEN }} }} }}\n  prod: {{ host: https://prod.example.com, auth: {{ method: pat, token: {{ env: UNUSED_TOKEN }} }} }}\n",
            dir.path().join("repo").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    (dir, config)
}

fn can_i(config: &str, subject: &str, groups: &str, action: &str, app: &str) -> (i32, String) {
    let mut args = vec!["access", "can-i", "--config", config, "--as", subject];
    if !groups.is_empty() {
        args.extend(["--groups", groups]);
    }
    args.extend([action, app]);
    let out = run_blocking(&args);
    (out.code, format!("{}{}", out.stdout, out.stderr))
}

#[test]
fn can_i_answers_from_the_example_policy() {
    let (_dir, config) = example();

    // A team's operators roll back their own apps, named by the binding.
    let (code, out) = can_i(
        &config,
        "dana",
        "data-engineers",
        "rollback",
        "data-engineering-prod",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("yes: dana may rollback data-engineering-prod (project data-engineering): role data-engineering-operator, bound to group data-engineers at access.yaml:"),
        "{out}"
    );
    // … but only read the platform's, through the default role.
    let (code, out) = can_i(&config, "dana", "data-engineers", "sync", "identity-prod");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no: dana holds data-engineering-operator, viewer; none of them allows sync on identity-prod (project governance)"),
        "{out}"
    );
    let (code, _) = can_i(&config, "dana", "data-engineers", "get", "identity-prod");
    assert_eq!(code, 0);

    // The deploy bot, by subject: the built-in operator syncs, never pauses.
    assert_eq!(
        can_i(&config, "ci-deployer", "", "sync", "unity-catalog").0,
        0
    );
    assert_eq!(
        can_i(&config, "ci-deployer", "", "pause", "unity-catalog").0,
        1
    );
    // Admins may override anything.
    assert_eq!(
        can_i(&config, "erin", "platform-admins", "override", "platform").0,
        0
    );
    // Group names are never patterns: near misses get the default only.
    for crafted in ["platform-admins-x", "*", "Platform-Admins"] {
        let (code, out) = can_i(&config, "mallory", crafted, "sync", "identity-dev");
        assert_eq!(code, 1, "{crafted}: {out}");
    }

    // JSON for scripts.
    let out = run_blocking(&[
        "access", "can-i", "--config", &config, "--as", "bob", "--output", "json", "sync",
        "platform",
    ]);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(answer["allowed"], false, "{}{}", out.stdout, out.stderr);
    let out = run_blocking(&[
        "access", "can-i", "--config", &config, "--as", "bob", "--output", "json", "get",
        "platform",
    ]);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(answer["allowed"], true, "{answer:#}");
    assert_eq!(answer["answer"]["via"], "default", "{answer:#}");

    // Bad input is named, not answered.
    let (code, out) = can_i(&config, "dana", "", "get", "unity-catlog");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no app `unity-catlog` in the tree; did you mean `unity-catalog`?"),
        "{out}"
    );
    let (code, out) = can_i(&config, "dana", "", "delete", "unity-catalog");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown action `delete`"), "{out}");
}

#[test]
fn without_a_policy_nobody_may_act() {
    let (dir, config) = example();
    std::fs::remove_file(dir.path().join("repo/access.yaml")).unwrap();
    let (code, out) = can_i(&config, "erin", "platform-admins", "get", "platform");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the repository has no AccessPolicy"), "{out}");
}

fn validate(repo: &Path) -> String {
    let out = run_blocking(&["validate", repo.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.stderr
}

#[test]
fn a_broken_policy_is_refused_with_file_line_and_field() {
    let (dir, _) = example();
    let repo = dir.path().join("repo");
    std::fs::write(
        repo.join("access.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: AccessPolicy\nmetadata: { name: mortar }\nspec:\n  defaultRole: veiwer\n  roles:\n    - name: admin\n      permissions: [{ actions: [get] }]\n    - name: team\n      permissions:\n        - actions: [get, synk]\n          projects: [data-engneering]\n  bindings:\n    - role: opertor\n      groups: [ops]\n    - role: team\n---\napiVersion: mortar.dev/v1alpha1\nkind: AccessPolicy\nmetadata: { name: other }\nspec: {}\n",
    )
    .unwrap();
    let errors = validate(&repo);
    for needle in [
        "access.yaml:5:16: spec.defaultRole: no role `veiwer`: the roles are viewer, operator, admin, team; did you mean `viewer`?",
        "access.yaml:7:13: spec.roles[0].name: `admin` is a built-in role",
        "access.yaml:11:26: spec.roles[1].permissions[0].actions: unknown action `synk`",
        "did you mean `sync`?",
        "access.yaml:12:21: spec.roles[1].permissions[0].projects: no project `data-engneering` is declared; did you mean `data-engineering`?",
        "access.yaml:14:13: spec.bindings[0].role: no role `opertor`",
        "access.yaml:16:7: spec.bindings[1]: a binding names at least one of `groups` and `subjects`",
        "access.yaml:18:1: kind: an AccessPolicy is already declared at access.yaml:1; a repository has one",
    ] {
        assert!(errors.contains(needle), "no `{needle}` in:\n{errors}");
    }

    // Only in the top-level files, like a Project.
    std::fs::remove_file(repo.join("access.yaml")).unwrap();
    std::fs::write(
        repo.join("identity/access.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: AccessPolicy\nmetadata: { name: mortar }\nspec: {}\n",
    )
    .unwrap();
    let errors = validate(&repo);
    assert!(
        errors.contains("identity/access.yaml:2:7: kind: an AccessPolicy is declared in the top-level files of the manifest root, not in an app's source"),
        "{errors}"
    );
}
