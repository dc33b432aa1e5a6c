//! The guard: project rules checked on the plan itself. Rendering already
//! blocks an app whose manifests reach outside its project; the plan can still
//! hold actions the project does not allow — deletes of objects an app's
//! inventory holds in a workspace or of a kind the project no longer
//! allows, or a configured workspace the project does not name. Any
//! violation stops the whole app: nothing of it is applied.

use crate::manifest::Project;
use crate::plan::{AppPlan, Violation};

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
    use crate::manifest::{Kind, ResourceKey};
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
