//! Whether a caller — a person signed in through the IdP, or a bot with a
//! token — may take an action on an app, by the repository's
//! `AccessPolicy`. Pure: the caller's subject and groups come from a
//! verified identity, the app's project from the rendered tree.

use serde::Serialize;

use crate::manifest::access_policy::{AccessPolicy, Action};
use crate::manifest::resource::Origin;

/// Who asks: the IdP's subject and the groups its token lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub groups: Vec<String>,
}

/// How a role reached the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "via", content = "name")]
pub enum Via {
    Subject(String),
    Group(String),
    /// The policy's `defaultRole`.
    Default,
}

/// The answer, with the role that allows it or why nothing does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    Allowed {
        role: String,
        #[serde(flatten)]
        via: Via,
        /// The binding (or the policy, for the default role).
        origin: Origin,
    },
    Denied {
        /// The roles the caller holds, none of which allows the action.
        roles: Vec<String>,
    },
    /// The repository has no AccessPolicy: nobody may act.
    NoPolicy,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// May `caller` take `action` on app `app` of project `project`?
///
/// Subjects and groups are matched exactly; the roles a caller holds are
/// those bound to its subject or to any of its groups, plus the default
/// role everyone signed in holds. Among them, the first binding (in the
/// document's order, the default role last) whose role allows the action
/// decides.
pub fn decide(
    policy: Option<&AccessPolicy>,
    caller: &Caller,
    action: Action,
    app: &str,
    project: &str,
) -> Decision {
    let Some(policy) = policy else {
        return Decision::NoPolicy;
    };
    let mut held: Vec<(&str, Via, &Origin)> = Vec::new();
    for binding in &policy.bindings {
        let via = if binding.subjects.contains(&caller.subject) {
            Some(Via::Subject(caller.subject.clone()))
        } else {
            binding
                .groups
                .iter()
                .find(|g| caller.groups.contains(g))
                .map(|g| Via::Group(g.clone()))
        };
        if let Some(via) = via {
            held.push((&binding.role, via, &binding.origin));
        }
    }
    if let Some(role) = &policy.default_role {
        held.push((role, Via::Default, &policy.origin));
    }
    for (role, via, origin) in &held {
        let allows = policy
            .role(role)
            .is_some_and(|r| r.permissions.iter().any(|p| p.allows(action, app, project)));
        if allows {
            return Decision::Allowed {
                role: role.to_string(),
                via: via.clone(),
                origin: (*origin).clone(),
            };
        }
    }
    // Each role once, in the order it was found (bound twice, it is held once).
    let mut roles: Vec<String> = Vec::new();
    for (role, _, _) in &held {
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_string());
        }
    }
    Decision::Denied { roles }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::access_policy::{ApiBinding, ApiRole, Permission, built_in_roles};

    fn at(line: usize) -> Origin {
        Origin {
            file: "access.yaml".into(),
            line,
            column: 1,
        }
    }

    fn policy(default_role: Option<&str>) -> AccessPolicy {
        let mut roles = built_in_roles();
        roles.push(ApiRole {
            name: "team-operator".into(),
            permissions: vec![Permission {
                actions: vec![Action::Get, Action::Sync, Action::Rollback],
                projects: vec!["data-engineering".into()],
                apps: vec!["data-engineering-*".into()],
            }],
            origin: Some(at(5)),
        });
        let binding = |role: &str, groups: &[&str], subjects: &[&str], line| ApiBinding {
            role: role.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            origin: at(line),
        };
        AccessPolicy {
            name: "mortar".into(),
            roles,
            bindings: vec![
                binding("admin", &["platform-admins"], &[], 20),
                binding("team-operator", &["data-engineers"], &[], 22),
                binding("operator", &[], &["ci-bot"], 24),
                binding("viewer", &["data-*"], &[], 26),
            ],
            default_role: default_role.map(str::to_string),
            origin: at(1),
        }
    }

    fn caller(subject: &str, groups: &[&str]) -> Caller {
        Caller {
            subject: subject.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn built_in_roles_mean_what_their_names_say() {
        let p = policy(None);
        let ci = caller("ci-bot", &[]);
        for (action, allowed) in [
            (Action::Get, true),
            (Action::Sync, true),
            (Action::Refresh, true),
            (Action::Rollback, false),
            (Action::Pause, false),
            (Action::Override, false),
        ] {
            let d = decide(Some(&p), &ci, action, "identity-prod", "governance");
            assert_eq!(d.allowed(), allowed, "operator {action}: {d:?}");
        }
        let admin = caller("alice", &["platform-admins"]);
        for action in Action::ALL {
            assert!(decide(Some(&p), &admin, action, "unity-catalog", "governance").allowed());
        }
    }

    #[test]
    fn a_custom_role_reaches_only_its_projects_and_apps() {
        let p = policy(None);
        let dana = caller("dana", &["data-engineers"]);
        let d = decide(
            Some(&p),
            &dana,
            Action::Rollback,
            "data-engineering-prod",
            "data-engineering",
        );
        assert_eq!(
            d,
            Decision::Allowed {
                role: "team-operator".into(),
                via: Via::Group("data-engineers".into()),
                origin: at(22),
            }
        );
        assert_eq!(
            decide(Some(&p), &dana, Action::Sync, "identity-prod", "governance"),
            Decision::Denied {
                roles: vec!["team-operator".into()]
            }
        );
        // The project must match too, not only the app's name.
        assert!(
            !decide(
                Some(&p),
                &dana,
                Action::Sync,
                "data-engineering-x",
                "governance"
            )
            .allowed()
        );
        assert!(
            !decide(
                Some(&p),
                &dana,
                Action::Pause,
                "data-engineering-dev",
                "data-engineering"
            )
            .allowed()
        );
    }

    #[test]
    fn groups_and_subjects_match_exactly_never_as_patterns() {
        let p = policy(None);
        // A group named like the pattern in a binding matches only that
        // binding's literal name; `data-*` is a name here, not a glob.
        let crafted = caller("mallory", &["data-engineers-evil", "*", "platform-admins "]);
        assert_eq!(
            decide(
                Some(&p),
                &crafted,
                Action::Get,
                "identity-dev",
                "governance"
            ),
            Decision::Denied { roles: vec![] }
        );
        let literal = caller("mallory", &["data-*"]);
        assert!(
            decide(
                Some(&p),
                &literal,
                Action::Get,
                "identity-dev",
                "governance"
            )
            .allowed()
        );
        assert!(
            !decide(
                Some(&p),
                &literal,
                Action::Sync,
                "identity-dev",
                "governance"
            )
            .allowed()
        );
        // A subject equal to a group's name is not a member of it.
        let named = caller("platform-admins", &[]);
        assert!(!decide(Some(&p), &named, Action::Get, "identity-dev", "governance").allowed());
    }

    #[test]
    fn the_default_role_is_everyone_s_baseline() {
        let p = policy(Some("viewer"));
        let anyone = caller("bob", &["sales"]);
        assert_eq!(
            decide(Some(&p), &anyone, Action::Get, "identity-dev", "governance"),
            Decision::Allowed {
                role: "viewer".into(),
                via: Via::Default,
                origin: at(1),
            }
        );
        assert!(
            !decide(
                Some(&p),
                &anyone,
                Action::Sync,
                "identity-dev",
                "governance"
            )
            .allowed()
        );
        // A team's operators also see the apps their role does not reach.
        let dana = caller("dana", &["data-engineers"]);
        assert!(decide(Some(&p), &dana, Action::Get, "identity-prod", "governance").allowed());
        assert_eq!(
            decide(Some(&p), &dana, Action::Sync, "identity-prod", "governance"),
            Decision::Denied {
                roles: vec!["team-operator".into(), "viewer".into()]
            }
        );
        // Without one, nobody unnamed may even read.
        let strict = policy(None);
        assert!(
            !decide(
                Some(&strict),
                &anyone,
                Action::Get,
                "identity-dev",
                "governance"
            )
            .allowed()
        );
    }

    #[test]
    fn a_role_bound_twice_is_named_once() {
        let mut p = policy(None);
        p.bindings.push(ApiBinding {
            role: "operator".into(),
            groups: vec!["deployers".into()],
            subjects: vec![],
            origin: at(28),
        });
        let bot = caller("ci-bot", &["deployers"]);
        assert_eq!(
            decide(Some(&p), &bot, Action::Pause, "identity-dev", "governance"),
            Decision::Denied {
                roles: vec!["operator".into()]
            }
        );
    }

    #[test]
    fn without_a_policy_nobody_may_act() {
        let admin = caller("alice", &["platform-admins"]);
        assert_eq!(
            decide(None, &admin, Action::Get, "identity-dev", "governance"),
            Decision::NoPolicy
        );
    }
}
