//! `AccessPolicy`: who may act on Mortar itself — read an app, sync it,
//! refresh, roll back, pause or override — kept in Git beside the rest and
//! reviewed in pull requests. One document, in the top-level files only
//! (like `Project`): built-in roles `viewer`, `operator` and `admin`,
//! custom roles whose permissions are actions on apps chosen by project and
//! name pattern, bindings from IdP groups or subjects to roles, and an
//! optional default role. This file reads and checks it; `crate::authz`
//! decides with it.

use serde::Serialize;

use super::app::glob;
use super::diag::{At, Diagnostics, suggest};
use super::fields::Fields;
use super::resource::Origin;

/// What a person or a bot may do to an app through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Get,
    Sync,
    Refresh,
    Rollback,
    Pause,
    Override,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Get,
        Action::Sync,
        Action::Refresh,
        Action::Rollback,
        Action::Pause,
        Action::Override,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Sync => "sync",
            Action::Refresh => "refresh",
            Action::Rollback => "rollback",
            Action::Pause => "pause",
            Action::Override => "override",
        }
    }

    /// The action named `name`, exactly (no case folding: a policy means
    /// what it says).
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Actions on the apps chosen by project and name patterns (`*` wildcard;
/// an empty list chooses every project or every app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub actions: Vec<Action>,
    pub projects: Vec<String>,
    pub apps: Vec<String>,
}

impl Permission {
    /// Whether it lets `action` be taken on app `app` of project `project`.
    pub fn allows(&self, action: Action, app: &str, project: &str) -> bool {
        self.actions.contains(&action)
            && (self.projects.is_empty() || self.projects.iter().any(|p| glob(p, project)))
            && (self.apps.is_empty() || self.apps.iter().any(|p| glob(p, app)))
    }
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiRole {
    pub name: String,
    pub permissions: Vec<Permission>,
    /// Where it is declared; `None` for a built-in role.
    pub origin: Option<Origin>,
}

/// The built-in roles: `viewer` reads every app, `operator` also syncs and
/// refreshes them, `admin` may take every action.
pub fn built_in_roles() -> Vec<ApiRole> {
    let everywhere = |actions: &[Action]| Permission {
        actions: actions.to_vec(),
        projects: Vec::new(),
        apps: Vec::new(),
    };
    vec![
        ApiRole {
            name: "viewer".into(),
            permissions: vec![everywhere(&[Action::Get])],
            origin: None,
        },
        ApiRole {
            name: "operator".into(),
            permissions: vec![everywhere(&[Action::Get, Action::Sync, Action::Refresh])],
            origin: None,
        },
        ApiRole {
            name: "admin".into(),
            permissions: vec![everywhere(&Action::ALL)],
            origin: None,
        },
    ]
}

/// A role given to IdP groups and subjects, matched exactly (names are
/// never patterns, so a group named like a glob matches only itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiBinding {
    pub role: String,
    pub groups: Vec<String>,
    pub subjects: Vec<String>,
    /// The binding's entry in the document.
    pub origin: Origin,
}

/// The repository's access policy for Mortar's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessPolicy {
    pub name: String,
    /// Built-in roles first, then the document's.
    pub roles: Vec<ApiRole>,
    pub bindings: Vec<ApiBinding>,
    /// The role everyone signed in holds besides their bound ones; none by default.
    pub default_role: Option<String>,
    pub origin: Origin,
}

impl AccessPolicy {
    pub fn role(&self, name: &str) -> Option<&ApiRole> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// Reads an `AccessPolicy` spec; `projects` are the declared projects'
/// names, for checking the ones a permission names.
pub fn read(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &super::yaml::Node,
    origin: Origin,
    projects: &[&str],
) -> Option<AccessPolicy> {
    let f = Fields::open(
        diags,
        file,
        spec,
        "spec",
        &["roles", "bindings", "defaultRole"],
    )?;
    let mut roles = built_in_roles();
    for (i, item) in f
        .entry("roles")
        .and_then(|e| e.value.as_seq())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("spec.roles[{i}]");
        let Some(r) = Fields::open(diags, file, item, &path, &["name", "permissions"]) else {
            continue;
        };
        let Some(role_name) = r.string(diags, "name", true) else {
            continue;
        };
        if let Some(first) = roles.iter().find(|x| x.name == role_name) {
            let (line, column) = r.at("name");
            let message = match &first.origin {
                None => {
                    format!("`{role_name}` is a built-in role; give a custom role another name")
                }
                Some(o) => format!(
                    "role `{role_name}` is already declared at {}:{}",
                    o.file, o.line
                ),
            };
            diags.error(
                At::new(file, line, column, &format!("{path}.name")),
                message,
            );
            continue;
        }
        let mut permissions = Vec::new();
        for (j, p) in r
            .entry("permissions")
            .and_then(|e| e.value.as_seq())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let ppath = format!("{path}.permissions[{j}]");
            if let Some(permission) = read_permission(diags, file, p, &ppath, projects) {
                permissions.push(permission);
            }
        }
        if permissions.is_empty() {
            let (line, column) = r.at("permissions");
            diags.error(
                At::new(file, line, column, &format!("{path}.permissions")),
                "a role needs at least one permission",
            );
            continue;
        }
        roles.push(ApiRole {
            name: role_name,
            permissions,
            origin: Some(Origin {
                file: file.to_string(),
                line: item.line,
                column: item.column,
            }),
        });
    }
    let role_names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    let known_role = |diags: &mut Diagnostics, role: &str, at: (usize, usize), path: &str| {
        if role_names.iter().any(|r| r == role) {
            return true;
        }
        let hint = suggest(role, role_names.iter().map(String::as_str))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        diags.error(
            At::new(file, at.0, at.1, path),
            format!(
                "no role `{role}`: the roles are {}{hint}",
                role_names.join(", ")
            ),
        );
        false
    };
    let mut bindings = Vec::new();
    for (i, item) in f
        .entry("bindings")
        .and_then(|e| e.value.as_seq())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("spec.bindings[{i}]");
        let Some(b) = Fields::open(diags, file, item, &path, &["role", "groups", "subjects"])
        else {
            continue;
        };
        let Some(role) = b.string(diags, "role", true) else {
            continue;
        };
        if !known_role(diags, &role, b.at("role"), &format!("{path}.role")) {
            continue;
        }
        let names = |diags: &mut Diagnostics, key: &str| -> Vec<String> {
            b.strings(diags, key)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        let groups = names(diags, "groups");
        let subjects = names(diags, "subjects");
        if let Some(empty) = groups.iter().chain(&subjects).find(|n| n.trim().is_empty()) {
            diags.error(
                At::new(file, item.line, item.column, &path),
                format!("a group or subject is a non-empty name, not `{empty}`"),
            );
            continue;
        }
        if groups.is_empty() && subjects.is_empty() {
            diags.error(
                At::new(file, item.line, item.column, &path),
                "a binding names at least one of `groups` and `subjects`",
            );
            continue;
        }
        bindings.push(ApiBinding {
            role,
            groups,
            subjects,
            origin: Origin {
                file: file.to_string(),
                line: item.line,
                column: item.column,
            },
        });
    }
    let default_role = f.string(diags, "defaultRole", false);
    if let Some(role) = &default_role
        && !known_role(diags, role, f.at("defaultRole"), "spec.defaultRole")
    {
        return None;
    }
    Some(AccessPolicy {
        name: name.to_string(),
        roles,
        bindings,
        default_role,
        origin,
    })
}

fn read_permission(
    diags: &mut Diagnostics,
    file: &str,
    node: &super::yaml::Node,
    path: &str,
    projects: &[&str],
) -> Option<Permission> {
    let p = Fields::open(diags, file, node, path, &["actions", "projects", "apps"])?;
    let mut actions = Vec::new();
    let listed = p.strings(diags, "actions").unwrap_or_default();
    for (name, at) in &listed {
        if name == "*" {
            actions.extend(Action::ALL);
            continue;
        }
        match Action::parse(name) {
            Some(a) => actions.push(a),
            None => {
                let hint = suggest(name, Action::ALL.iter().map(|a| a.as_str()))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                diags.error(
                    At::new(file, at.line, at.column, &format!("{path}.actions")),
                    format!(
                        "unknown action `{name}`: the actions are get, sync, refresh, rollback, pause, override, or `*` for all{hint}"
                    ),
                );
            }
        }
    }
    if listed.is_empty() {
        let (line, column) = p.at("actions");
        diags.error(
            At::new(file, line, column, &format!("{path}.actions")),
            "a permission lists at least one action",
        );
        return None;
    }
    actions.sort();
    actions.dedup();
    let mut patterns = |key: &str| -> Vec<String> {
        p.strings(diags, key)
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    };
    let chosen_projects = patterns("projects");
    let apps = patterns("apps");
    for project in chosen_projects.iter().filter(|p| !p.contains('*')) {
        if !projects.contains(&project.as_str()) {
            let hint = suggest(project, projects.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            let (line, column) = p.at("projects");
            diags.error(
                At::new(file, line, column, &format!("{path}.projects")),
                format!("no project `{project}` is declared{hint}"),
            );
        }
    }
    Some(Permission {
        actions,
        projects: chosen_projects,
        apps,
    })
}
