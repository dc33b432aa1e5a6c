//! A principal as Git names it, and every way a manifest or a live ACL can
//! write it: a service principal by its manifest name (written as a
//! reference to its application id), a group by its display name, or any
//! other name (a user, a principal Git does not declare).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::manifest::Rendered;
use crate::model::{Kind, Principal, ResourceKey, reference};
use crate::plan::resolve::Known;

/// One principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A ServicePrincipal of the manifests, by its manifest name.
    ServicePrincipal(String),
    /// A group: its manifest name (`None` when Git does not declare it)
    /// and the display name ACLs and grants use.
    Group {
        name: Option<String>,
        display: String,
    },
    /// A user, or any principal Git does not declare.
    Other(String),
}

impl Who {
    /// What `name` stands for in `rendered`.
    pub fn find(rendered: &Rendered, name: &str) -> Who {
        if rendered
            .resources()
            .any(|r| r.key.kind == Kind::ServicePrincipal && r.key.name == name)
        {
            return Who::ServicePrincipal(name.to_string());
        }
        if let Some(group) = rendered
            .resources()
            .filter(|r| r.key.kind == Kind::Group)
            .find(|r| r.key.name == name || display_name(&r.spec) == Some(name))
        {
            return Who::Group {
                name: Some(group.key.name.clone()),
                display: display_name(&group.spec).unwrap_or(name).to_string(),
            };
        }
        Who::Other(name.to_string())
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Who::ServicePrincipal(_) => "service principal",
            Who::Group { .. } => "group",
            Who::Other(_) => "user or other principal",
        }
    }

    /// The name a reader knows it by.
    pub fn label(&self) -> &str {
        match self {
            Who::ServicePrincipal(n) | Who::Other(n) => n,
            Who::Group { display, .. } => display,
        }
    }

    /// True when a manifest's ACL entry names it.
    pub fn is_written(&self, p: &Principal) -> bool {
        match (self, p) {
            (Who::ServicePrincipal(name), Principal::ServicePrincipalName(s)) => {
                sp_reference(s).is_some_and(|n| n == *name)
            }
            (Who::Group { display, .. }, Principal::GroupName(g)) => g == display,
            (Who::Other(name), Principal::UserName(n) | Principal::ServicePrincipalName(n)) => {
                n == name
            }
            (Who::Other(name), Principal::GroupName(n)) => n == name,
            _ => false,
        }
    }

    /// True when a Grants `principal` names it.
    pub fn is_grantee(&self, principal: &str) -> bool {
        match self {
            Who::ServicePrincipal(name) => sp_reference(principal).is_some_and(|n| n == *name),
            Who::Group { display, .. } => principal == display,
            Who::Other(name) => principal == name,
        }
    }

    /// True when a live (resolved) ACL entry in `workspace` is its.
    pub fn is(&self, p: &Principal, workspace: &str, known: &Known) -> bool {
        match (self, p) {
            (Who::ServicePrincipal(name), Principal::ServicePrincipalName(id)) => {
                let key = ResourceKey {
                    workspace: workspace.to_string(),
                    kind: Kind::ServicePrincipal,
                    name: name.clone(),
                };
                known.application_ids.get(&key) == Some(id)
            }
            _ => self.is_written(p),
        }
    }

    /// True when `key` is the resource declaring it.
    pub fn is_resource(&self, key: &ResourceKey) -> bool {
        match self {
            Who::ServicePrincipal(name) => key.kind == Kind::ServicePrincipal && key.name == *name,
            Who::Group {
                name: Some(name), ..
            } => key.kind == Kind::Group && key.name == *name,
            _ => false,
        }
    }

    /// The groups of `workspace` it is a member of, directly or through
    /// other groups, as Git declares their members.
    pub fn groups_in(&self, rendered: &Rendered, workspace: &str) -> Vec<Who> {
        let groups: Vec<_> = rendered
            .resources()
            .filter(|r| r.key.kind == Kind::Group && r.key.workspace == workspace)
            .collect();
        let mut found: Vec<Who> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut frontier = vec![self.clone()];
        while let Some(member) = frontier.pop() {
            for g in &groups {
                if seen.contains(&g.key.name) || !has_member(&g.spec, &member) {
                    continue;
                }
                seen.insert(g.key.name.clone());
                let group = Who::Group {
                    name: Some(g.key.name.clone()),
                    display: display_name(&g.spec).unwrap_or(&g.key.name).to_string(),
                };
                frontier.push(group.clone());
                found.push(group);
            }
        }
        found
    }

    /// An ACL entry's principal for a reader.
    pub fn display(p: &Principal) -> String {
        match p {
            Principal::UserName(n) => format!("user {n}"),
            Principal::GroupName(n) => format!("group {n}"),
            Principal::ServicePrincipalName(s) => match sp_reference(s) {
                Some(name) => format!("service principal {name}"),
                None => format!("service principal {s}"),
            },
        }
    }

    /// A Grants principal for a reader.
    pub fn display_grantee(principal: &str) -> String {
        match sp_reference(principal) {
            Some(name) => format!("service principal {name}"),
            None => principal.to_string(),
        }
    }
}

fn display_name(spec: &Value) -> Option<&str> {
    spec.get("displayName").and_then(Value::as_str)
}

/// The manifest name of the service principal a reference names.
fn sp_reference(text: &str) -> Option<String> {
    if !reference::is_whole(text) {
        return None;
    }
    reference::in_str(text)
        .into_iter()
        .find(|r| r.kind == Kind::ServicePrincipal)
        .map(|r| r.name)
}

/// True when a group's `members` name `member` (by a reference to its id).
fn has_member(spec: &Value, member: &Who) -> bool {
    let Some(members) = spec.get("members").and_then(Value::as_array) else {
        return false;
    };
    members
        .iter()
        .filter_map(|m| m.get("value")?.as_str())
        .filter(|v| reference::is_whole(v))
        .flat_map(reference::in_str)
        .any(|r| match member {
            Who::ServicePrincipal(name) => r.kind == Kind::ServicePrincipal && r.name == *name,
            Who::Group {
                name: Some(name), ..
            } => r.kind == Kind::Group && r.name == *name,
            _ => false,
        })
}
