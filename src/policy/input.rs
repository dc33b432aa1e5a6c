//! The document a guardrail reads as `input`: one app, its project, what it
//! declares, what the plan would do, and the revision with its author.
//! Built from plain data, the same way for `validate` (no actions) and for
//! every plan.
//!
//! ```text
//! input.stage       "validate" | "plan"
//! input.app         { name, project, workspace, path, parent, file, line }
//! input.project     { name, destinations, kinds }
//! input.parameters  the project's parameters for this policy ({} if none)
//! input.resources   [{ address, workspace, kind, name, spec, permissions, file, line }]
//! input.actions     [{ action, address, workspace, kind, name, id, drift, changes }]
//! input.revision    { commit, author } or null
//! ```

use serde_json::{Value, json};

use crate::manifest::{Project, RenderedApp};
use crate::model::{DesiredResource, PermissionEntry, Principal, ResourceKey};
use crate::plan::PlannedAction;

/// The commit a tree was rendered from, as guardrails see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionFacts {
    pub commit: String,
    /// `Name <email>`.
    pub author: Option<String>,
}

/// One app at one moment: what a guardrail is asked about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub app: &'a RenderedApp,
    pub project: &'a Project,
    /// The plan's actions for the app; `None` in `validate`, which plans nothing.
    pub actions: Option<&'a [PlannedAction]>,
    pub revision: Option<&'a RevisionFacts>,
}

impl Subject<'_> {
    /// The input document, without `parameters` (each policy gets its own).
    pub fn document(&self) -> Value {
        let app = self.app;
        json!({
            "stage": if self.actions.is_some() { "plan" } else { "validate" },
            "app": {
                "name": app.name,
                "project": app.project,
                "workspace": app.workspace,
                "path": app.source.path,
                "parent": app.parent,
                "file": app.origin.file,
                "line": app.origin.line,
            },
            "project": {
                "name": self.project.name,
                "destinations": self.project.destinations,
                "kinds": self.project.kinds.as_ref().map(|k| k.iter().map(|k| k.as_str()).collect::<Vec<_>>()),
            },
            "resources": app.resources.iter().map(resource).collect::<Vec<_>>(),
            "actions": self.actions.unwrap_or_default().iter().map(action).collect::<Vec<_>>(),
            "revision": self.revision.map(|r| json!({ "commit": r.commit, "author": r.author })),
        })
    }
}

fn key_fields(key: &ResourceKey) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("address".into(), key.to_string().into());
    m.insert("workspace".into(), key.workspace.clone().into());
    m.insert("kind".into(), key.kind.as_str().into());
    m.insert("name".into(), key.name.clone().into());
    m
}

fn resource(r: &DesiredResource) -> Value {
    let mut m = key_fields(&r.key);
    m.insert("spec".into(), r.spec.clone());
    m.insert(
        "permissions".into(),
        r.permissions.iter().map(permission).collect(),
    );
    m.insert("file".into(), r.origin.file.clone().into());
    m.insert("line".into(), r.origin.line.into());
    Value::Object(m)
}

/// As written in a manifest: `{ group_name: G, permission_level: L }`.
fn permission(p: &PermissionEntry) -> Value {
    let (field, name) = match &p.principal {
        Principal::UserName(n) => ("user_name", n),
        Principal::GroupName(n) => ("group_name", n),
        Principal::ServicePrincipalName(n) => ("service_principal_name", n),
    };
    json!({ field: name, "permission_level": p.permission_level })
}

fn action(a: &PlannedAction) -> Value {
    let mut m = key_fields(&a.key);
    m.insert("action".into(), a.action.as_str().into());
    m.insert("id".into(), a.id.clone().into());
    m.insert("drift".into(), a.drift.into());
    m.insert(
        "changes".into(),
        serde_json::to_value(&a.changes).unwrap_or(Value::Null),
    );
    Value::Object(m)
}
