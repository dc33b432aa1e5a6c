//! The policy library: every `.rego` file under `policies/` in the manifest
//! repository, parsed once per revision. A file that does not parse, and a
//! Project naming a package no file declares, are errors of the whole
//! repository: a guardrail that cannot run must never pass.

use std::collections::BTreeSet;

use crate::manifest::diag::{At, suggest};
use crate::manifest::{Diagnostics, Project};
use crate::source::{EntryKind, SourceTree};

/// The directory, at the manifest root, that holds the policies.
pub const POLICY_DIR: &str = "policies";

/// The largest policy file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Files with this suffix hold tests of the policies (`mortar policy test`);
/// plans never evaluate them.
pub const TEST_SUFFIX: &str = "_test.rego";

/// One policy file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// Path from the manifest root, `/`-separated.
    pub path: String,
    /// The package it declares, without `data.`.
    pub package: String,
    pub text: String,
}

/// The parsed policies of one revision.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// The policies (test files excluded), parsed into one engine that each
    /// evaluation clones.
    engine: Option<regorus::Engine>,
    files: Vec<PolicyFile>,
}

impl PolicySet {
    /// Reads and parses every policy under `policies/` of `tree`; an absent
    /// directory is an empty set.
    pub fn load(tree: &dyn SourceTree) -> Result<PolicySet, Diagnostics> {
        let mut diags = Diagnostics::default();
        let mut files = Vec::new();
        if tree.entry(POLICY_DIR).ok().flatten() == Some(EntryKind::Dir) {
            walk(tree, POLICY_DIR, &mut files, &mut diags);
        }
        let set = PolicySet::parse(files, &mut diags);
        diags.finish();
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(set)
        }
    }

    /// Parses `files` (path, text), recording each file that does not parse.
    fn parse(read: Vec<(String, String)>, diags: &mut Diagnostics) -> PolicySet {
        let mut engine = new_engine();
        let mut files = Vec::new();
        for (path, text) in read {
            // Tests are parsed on their own: plans never evaluate them.
            let is_test = path.ends_with(TEST_SUFFIX);
            let mut own = new_engine();
            let target = if is_test { &mut own } else { &mut engine };
            match target.add_policy(path.clone(), text.clone()) {
                Ok(package) => files.push(PolicyFile {
                    path,
                    package: package.trim_start_matches("data.").to_string(),
                    text,
                }),
                Err(e) => {
                    let (line, column, message) = located(&e.to_string(), &path);
                    diags.error(
                        At::new(&path, line, column, ""),
                        format!("the policy does not parse: {message}"),
                    );
                }
            }
        }
        let any_policy = files.iter().any(|f| !f.path.ends_with(TEST_SUFFIX));
        PolicySet {
            engine: any_policy.then_some(engine),
            files,
        }
    }

    /// Builds a set from texts, for tests and tools: `(path, rego)`.
    pub fn from_texts(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
        let mut diags = Diagnostics::default();
        let set = PolicySet::parse(
            files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            &mut diags,
        );
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(set)
        }
    }

    /// The files read, test files included, sorted by path.
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    /// The packages plans can evaluate (test files excluded).
    pub fn packages(&self) -> BTreeSet<&str> {
        self.files
            .iter()
            .filter(|f| !f.path.ends_with(TEST_SUFFIX))
            .map(|f| f.package.as_str())
            .collect()
    }

    /// An engine holding the policies, ready for an input.
    pub(super) fn engine(&self) -> Option<regorus::Engine> {
        self.engine.clone()
    }

    /// Errors for each Project that names a package no policy declares.
    pub fn check_projects(&self, projects: &[Project]) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let packages = self.packages();
        for project in projects {
            for (i, policy) in project.policies.iter().enumerate() {
                if packages.contains(policy.package.as_str()) {
                    continue;
                }
                let hint = suggest(&policy.package, packages.iter().copied())
                    .map(|p| format!("; did you mean `{p}`?"))
                    .unwrap_or_else(|| {
                        format!(
                            "; add a .rego file declaring `package {}` under {POLICY_DIR}/",
                            policy.package
                        )
                    });
                diags.error(
                    At::new(
                        &project.origin.file,
                        policy.line,
                        policy.column,
                        &format!("spec.policies[{i}]"),
                    ),
                    format!(
                        "project `{}` names policy `{}`, which no file under {POLICY_DIR}/ declares{hint}",
                        project.name, policy.package
                    ),
                );
            }
        }
        diags
    }
}

/// A fresh engine with Mortar's limits: Rego v1 and a bound on how long one
/// evaluation may run.
pub(super) fn new_engine() -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: std::time::Duration::from_secs(10),
        check_interval: std::num::NonZeroU32::new(1000).expect("non-zero"),
    });
    // A builtin given bad arguments (a division by zero, a malformed
    // regex) is an error, not an undefined value a deny rule skips over.
    engine.set_strict_builtin_errors(true);
    engine
}

/// The line, column and message of a Rego error, whose text reads
/// `--> path:line:column`, the source line, then `error: message`.
pub(super) fn located(text: &str, path: &str) -> (usize, usize, String) {
    let mut line = 0;
    let mut column = 0;
    let mut message = None;
    for l in text.lines() {
        let l = l.trim();
        if let Some(at) = l.strip_prefix("-->") {
            let mut parts = at.trim().rsplitn(3, ':');
            let c = parts.next().and_then(|c| c.parse().ok());
            let n = parts.next().and_then(|n| n.parse().ok());
            if parts.next() == Some(path) || line == 0 {
                (line, column) = (n.unwrap_or(0), c.unwrap_or(0));
            }
        } else if let Some(m) = l.strip_prefix("error:") {
            message = Some(m.trim().to_string());
        }
    }
    let message = message.unwrap_or_else(|| text.lines().next().unwrap_or("").trim().to_string());
    (line, column, message)
}

fn walk(
    tree: &dyn SourceTree,
    dir: &str,
    files: &mut Vec<(String, String)>,
    diags: &mut Diagnostics,
) {
    let entries = match tree.list(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.error(At::new(dir, 0, 0, ""), e.to_string());
            return;
        }
    };
    for entry in entries {
        let path = format!("{dir}/{}", entry.name);
        match entry.kind {
            EntryKind::Dir => walk(tree, &path, files, diags),
            EntryKind::File if path.ends_with(".rego") => match tree.read(&path, MAX_FILE_BYTES) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push((path, text)),
                    Err(_) => diags.error(At::new(&path, 0, 0, ""), "not UTF-8"),
                },
                Err(e) => diags.error(At::new(&path, 0, 0, ""), e.to_string()),
            },
            EntryKind::Symlink(_) if path.ends_with(".rego") => diags.error(
                At::new(&path, 0, 0, ""),
                "a symbolic link; policies must be files in the repository",
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::PolicyRef;

    const AUTOTERMINATION: &str = "package mortar.compute\nimport rego.v1\ndeny contains \"x\" if { input.resources[_].spec.bad }\n";

    #[test]
    fn a_policy_that_does_not_parse_names_its_file_and_line() {
        let err = PolicySet::from_texts(&[
            ("policies/ok.rego", AUTOTERMINATION),
            (
                "policies/broken.rego",
                "package broken\nimport rego.v1\ndeny contains m if {\n  m := 1 +\n}\n",
            ),
        ])
        .unwrap_err();
        assert_eq!(err.errors.len(), 1);
        let d = &err.errors[0];
        assert_eq!((d.file.as_str(), d.line), ("policies/broken.rego", 4));
        assert!(
            d.message.starts_with("the policy does not parse: "),
            "{}",
            d.message
        );
    }

    #[test]
    fn projects_must_name_declared_packages() {
        let set = PolicySet::from_texts(&[
            ("policies/ok.rego", AUTOTERMINATION),
            (
                "policies/ok_test.rego",
                "package mortar.compute_test\nimport rego.v1\ntest_x if { true }\n",
            ),
        ])
        .unwrap();
        assert_eq!(set.packages(), BTreeSet::from(["mortar.compute"]));
        let mut project = Project::permissive("team");
        project.origin.file = "projects.yaml".into();
        for package in ["mortar.compute", "mortar.compte", "mortar.compute_test"] {
            project.policies.push(PolicyRef {
                package: package.into(),
                parameters: serde_json::json!({}),
                line: 9,
                column: 7,
            });
        }
        let diags = set.check_projects(&[project]);
        let messages: Vec<_> = diags.errors.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("did you mean `mortar.compute`?"),
            "{}",
            messages[0]
        );
        assert_eq!(diags.errors[1].field, "spec.policies[2]");
    }
}
