//! Resolving the references of desired resources (specs and ACL
//! principals) from the ids known so far, through the one reference parser
//! in [`crate::model::reference`]. Resolution always starts from the spec as
//! rendered, so an escaped literal is unescaped exactly once.

use std::collections::BTreeMap;

use serde_json::Value;

pub use crate::model::reference::Mode;
use crate::model::reference::{self, Attribute, Reference};
use crate::model::{DesiredResource, LiveState, PermissionEntry, Principal, ResourceKey};

/// Ids and application ids known so far.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub ids: BTreeMap<ResourceKey, String>,
    pub application_ids: BTreeMap<ResourceKey, String>,
}

impl Known {
    /// Adds the ids of live objects not known already (an inventory's id
    /// wins over a live object found by name).
    pub fn add_live(&mut self, live: &LiveState) {
        for (key, object) in live {
            self.ids
                .entry(key.clone())
                .or_insert_with(|| object.id.clone());
        }
    }

    /// The id `r` stands for in `workspace`, if known (application ids
    /// only, with `app_ids_only`).
    fn get(&self, r: &Reference, workspace: &str, app_ids_only: bool) -> Option<String> {
        let key = r.key_in(workspace);
        match r.attribute {
            Attribute::ApplicationId => self.application_ids.get(&key).cloned(),
            Attribute::Id if app_ids_only => None,
            Attribute::Id => self.ids.get(&key).cloned(),
        }
    }
}

/// A resource's spec with its references resolved (numeric fields as
/// numbers); returns whether any reference is left.
pub fn resolve_spec(r: &DesiredResource, known: &Known, mode: Mode) -> (Value, bool) {
    let ws = r.key.workspace.as_str();
    reference::resolve_value(&r.spec, &r.numeric_references, mode, &|x| {
        known.get(x, ws, false)
    })
}

/// Resolves references throughout a JSON value; returns whether any is left.
pub fn resolve_value(v: &Value, workspace: &str, known: &Known, mode: Mode) -> (Value, bool) {
    reference::resolve_value(v, &[], mode, &|x| known.get(x, workspace, false))
}

/// Resolves references in ACL principals.
pub fn resolve_permissions(
    entries: &[PermissionEntry],
    workspace: &str,
    known: &Known,
    app_ids_only: bool,
) -> (Vec<PermissionEntry>, bool) {
    let mut left = false;
    let mut resolve = |s: &str| {
        let r = reference::resolve_str(s, Mode::Final, &|x| known.get(x, workspace, app_ids_only));
        left |= r.unresolved;
        r.text
    };
    let mut out: Vec<PermissionEntry> = entries
        .iter()
        .map(|e| PermissionEntry {
            principal: match &e.principal {
                Principal::UserName(s) => Principal::UserName(resolve(s)),
                Principal::GroupName(s) => Principal::GroupName(resolve(s)),
                Principal::ServicePrincipalName(s) => Principal::ServicePrincipalName(resolve(s)),
            },
            permission_level: e.permission_level.clone(),
        })
        .collect();
    out.sort();
    (out, left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn key(kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "dev".into(),
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn resolves_ids_in_specs_and_application_ids_in_principals() {
        let mut known = Known::default();
        known.ids.insert(key(Kind::Cluster, "etl"), "0101".into());
        known
            .application_ids
            .insert(key(Kind::ServicePrincipal, "bot"), "6f1c".into());
        let s = Value::from(
            "${resources.clusters.etl.id}/${resources.service_principals.bot.application_id}",
        );
        assert_eq!(
            resolve_value(&s, "dev", &known, Mode::Final),
            (Value::from("0101/6f1c"), false)
        );
        let acl = [PermissionEntry {
            principal: Principal::ServicePrincipalName(
                "${resources.service_principals.bot.application_id}".into(),
            ),
            permission_level: "CAN_VIEW".into(),
        }];
        let (resolved, left) = resolve_permissions(&acl, "dev", &known, true);
        assert!(!left);
        assert_eq!(resolved[0].principal.name(), "6f1c");
    }
}
