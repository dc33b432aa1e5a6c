//! The guard: project rules checked on the plan itself. Rendering already
//! blocks an app whose manifests reach outside its project; the plan can still
//! hold actions the project does not allow — deletes of objects an app's
//! inventory holds in a workspace or of a kind the project no longer
//! allows, or a configured workspace the project does not name. Any
//! violation stops the whole app: nothing of it is applied. The project's
//! guardrails (Rego policies, see `policy`) are evaluated here too: a
//! `deny` is a violation, and so is a policy that gives no answer.

use crate::config::SecretAllowance;
use crate::manifest::{Project, ScopeSecret, SecretSource};
use crate::plan::{AppPlan, Violation};
use crate::policy::{self, PolicySet, Subject};

/// The project's guardrails on `subject`: violations (denies, and any
/// policy that fails) and warnings.
pub fn check_policies(set: &PolicySet, subject: &Subject<'_>) -> (Vec<Violation>, Vec<Violation>) {
    match policy::evaluate(set, subject) {
        Ok(findings) => {
            let as_violation = |f: &policy::Finding| Violation {
                rule: f.package.clone(),
                key: f.key.clone(),
                message: f.text(subject.app),
            };
            (
                findings.deny.iter().map(as_violation).collect(),
                findings.warn.iter().map(as_violation).collect(),
            )
        }
        Err(e) => (
            vec![Violation {
                rule: "policy-error".into(),
                key: None,
                message: format!("{e}; the app is held back until the policy answers"),
            }],
            Vec::new(),
        ),
    }
}

/// The violations of an app's secret sources against what the platform
/// allows its project to read (`secrets.projects` in `mortar.yaml`).
pub fn check_secrets(
    secrets: &[ScopeSecret],
    project: &str,
    allowance: Option<&SecretAllowance>,
) -> Vec<Violation> {
    let none = SecretAllowance::default();
    let allowance = allowance.unwrap_or(&none);
    secrets
        .iter()
        .filter_map(|s| {
            let (allowed, what, hint) = match &s.source {
                SecretSource::FromEnv(name) => (
                    allowance.allows_env(name),
                    format!("environment variable {name}"),
                    format!("list it under `secrets.projects.{project}.env` in mortar.yaml"),
                ),
                SecretSource::FromFile(path) => (
                    allowance.file(path).is_some(),
                    format!("file {path}"),
                    match &allowance.dir {
                        Some(dir) => format!(
                            "files must be relative paths inside {} (`secrets.projects.{project}.dir`), without `..`",
                            dir.display()
                        ),
                        None => format!(
                            "set `secrets.projects.{project}.dir` in mortar.yaml to a directory for this project's secret files"
                        ),
                    },
                ),
            };
            (!allowed).then(|| Violation {
                rule: "secret-sources".into(),
                key: Some(s.scope.clone()),
                message: format!(
                    "{}:{}: secret `{}` reads {what}, which project `{project}` may not read; {hint}",
                    s.origin.file, s.origin.line, s.key
                ),
            })
        })
        .collect()
}

/// The violations of `plan` against `project`.
pub fn check(plan: &AppPlan, project: &Project) -> Vec<Violation> {
    let mut out = Vec::new();
    for action in plan.actions.iter().filter(|a| a.action.changes_workspace()) {
        let key = &action.key;
        if !project.allows_destination(&key.workspace) {
            out.push(Violation {
                rule: "destinations".into(),
                key: Some(key.clone()),
                message: format!(
                    "project `{}` does not allow workspace `{}` (allowed: {}); would {} it",
                    project.name,
                    key.workspace,
                    project.destinations.join(", "),
                    action.action.as_str()
                ),
            });
        } else if !project.allows_kind(key.kind) {
            let allowed = project
                .kinds
                .as_ref()
                .map(|k| k.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            out.push(Violation {
                rule: "kinds".into(),
                key: Some(key.clone()),
                message: format!(
                    "project `{}` does not allow kind {} (allowed: {allowed}); would {} it",
                    project.name,
                    key.kind,
                    action.action.as_str()
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    fn secret(key: &str, source: SecretSource) -> ScopeSecret {
        ScopeSecret {
            scope: ResourceKey {
                workspace: "dev".into(),
                kind: Kind::SecretScope,
                name: "etl".into(),
            },
            key: key.into(),
            source,
            origin: Origin {
                file: "team/secrets.yaml".into(),
                line: 7,
                column: 3,
            },
        }
    }

    #[test]
    fn secrets_read_only_what_the_project_is_allowed() {
        let allowance = SecretAllowance {
            env: vec!["TEAM_DB".into()],
            dir: Some("/etc/mortar/team".into()),
        };
        let secrets = [
            secret("ok-env", SecretSource::FromEnv("TEAM_DB".into())),
            secret("ok-file", SecretSource::FromFile("api/token".into())),
            secret("stolen", SecretSource::FromEnv("PROD_CLIENT_SECRET".into())),
            secret("passwd", SecretSource::FromFile("/etc/passwd".into())),
            secret("escape", SecretSource::FromFile("../other/token".into())),
        ];
        let v = check_secrets(&secrets, "team", Some(&allowance));
        let keys: Vec<&str> = v
            .iter()
            .map(|v| v.message.split('`').nth(1).unwrap())
            .collect();
        assert_eq!(keys, ["stolen", "passwd", "escape"]);
        assert!(v.iter().all(|v| v.rule == "secret-sources"));
        assert!(
            v[0].message.starts_with("team/secrets.yaml:7: "),
            "{}",
            v[0].message
        );
        assert!(v[0].message.contains("PROD_CLIENT_SECRET"));
        // A project the config does not list may read nothing.
        assert_eq!(check_secrets(&secrets, "other", None).len(), secrets.len());
    }
    use crate::model::{Kind, ResourceKey};
    use crate::plan::{ActionKind, PlannedAction};

    fn action(kind: ActionKind, workspace: &str, k: Kind) -> PlannedAction {
        let key = ResourceKey {
            workspace: workspace.into(),
            kind: k,
            name: "x".into(),
        };
        PlannedAction {
            action: kind,
            address: key.to_string(),
            key,
            id: Some("1".into()),
            changes: vec![],
            permission_changes: vec![],
            drift: false,
            reason: None,
            after: vec![],
        }
    }

    #[test]
    fn deletes_outside_the_project_block_the_app() {
        let mut project = Project::permissive("team");
        project.destinations = vec!["dev".into()];
        project.kinds = Some(vec![Kind::Job]);
        let mut plan = AppPlan {
            app: "a".into(),
            actions: vec![
                action(ActionKind::Delete, "prod", Kind::Job),
                action(ActionKind::Delete, "dev", Kind::Cluster),
                action(ActionKind::Create, "dev", Kind::Job),
                action(ActionKind::DeleteSkipped, "prod", Kind::Job),
            ],
            violations: vec![],
            warnings: Vec::new(),
            summary: Default::default(),
        };
        let v = check(&plan, &project);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].rule, "destinations");
        assert_eq!(v[1].rule, "kinds");
        plan.add_violations(v);
        assert!(plan.is_blocked());
    }
}
