//! Resolving `${resources.<plural>.<name>.id}` and
//! `${resources.service_principals.<name>.application_id}` references in
//! specs and ACL principals, from the ids known so far.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::{Kind, PermissionEntry, Principal, ResourceKey};

const OPEN: &str = "${resources.";

/// Ids and application ids known so far.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub ids: BTreeMap<ResourceKey, String>,
    pub application_ids: BTreeMap<ResourceKey, String>,
}

/// Replaces every reference in `s` whose target is known; returns the new
/// string and whether any reference is left unresolved.
pub fn resolve_str(s: &str, workspace: &str, known: &Known, app_ids_only: bool) -> (String, bool) {
    if !s.contains(OPEN) {
        return (s.to_string(), false);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut unresolved = false;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return (out, unresolved);
        };
        let inner = &after[..end];
        let whole = &rest[start..start + OPEN.len() + end + 1];
        let value = lookup(inner, workspace, known, app_ids_only);
        match value {
            Some(v) => out.push_str(&v),
            None => {
                if is_reference(inner) && (!app_ids_only || inner.ends_with(".application_id")) {
                    unresolved = true;
                }
                out.push_str(whole);
            }
        }
        rest = &rest[start + OPEN.len() + end + 1..];
    }
    out.push_str(rest);
    (out, unresolved)
}

fn is_reference(inner: &str) -> bool {
    inner.ends_with(".id") || inner.ends_with(".application_id")
}

fn lookup(inner: &str, workspace: &str, known: &Known, app_ids_only: bool) -> Option<String> {
    let (body, app_id) = if let Some(b) = inner.strip_suffix(".application_id") {
        (b, true)
    } else if let Some(b) = inner.strip_suffix(".id") {
        if app_ids_only {
            return None;
        }
        (b, false)
    } else {
        return None;
    };
    let (plural, name) = body.split_once('.')?;
    let kind = Kind::from_plural(plural)?;
    let key = ResourceKey {
        workspace: workspace.to_string(),
        kind,
        name: name.to_string(),
    };
    if app_id {
        (kind == Kind::ServicePrincipal)
            .then(|| known.application_ids.get(&key).cloned())
            .flatten()
    } else {
        known.ids.get(&key).cloned()
    }
}

/// Resolves references throughout a JSON value; returns whether any is left.
pub fn resolve_value(
    v: &Value,
    workspace: &str,
    known: &Known,
    app_ids_only: bool,
) -> (Value, bool) {
    match v {
        Value::String(s) => {
            let (s, left) = resolve_str(s, workspace, known, app_ids_only);
            (Value::String(s), left)
        }
        Value::Array(items) => {
            let mut left = false;
            let items = items
                .iter()
                .map(|i| {
                    let (v, l) = resolve_value(i, workspace, known, app_ids_only);
                    left |= l;
                    v
                })
                .collect();
            (Value::Array(items), left)
        }
        Value::Object(map) => {
            let mut left = false;
            let map = map
                .iter()
                .map(|(k, i)| {
                    let (v, l) = resolve_value(i, workspace, known, app_ids_only);
                    left |= l;
                    (k.clone(), v)
                })
                .collect();
            (Value::Object(map), left)
        }
        other => (other.clone(), false),
    }
}

/// Resolves references in ACL principals.
pub fn resolve_permissions(
    entries: &[PermissionEntry],
    workspace: &str,
    known: &Known,
    app_ids_only: bool,
) -> (Vec<PermissionEntry>, bool) {
    let mut left = false;
    let mut out: Vec<PermissionEntry> = entries
        .iter()
        .map(|e| {
            let (principal, l) = match &e.principal {
                Principal::UserName(s) => {
                    let (s, l) = resolve_str(s, workspace, known, app_ids_only);
                    (Principal::UserName(s), l)
                }
                Principal::GroupName(s) => {
                    let (s, l) = resolve_str(s, workspace, known, app_ids_only);
                    (Principal::GroupName(s), l)
                }
                Principal::ServicePrincipalName(s) => {
                    let (s, l) = resolve_str(s, workspace, known, app_ids_only);
                    (Principal::ServicePrincipalName(s), l)
                }
            };
            left |= l;
            PermissionEntry {
                principal,
                permission_level: e.permission_level.clone(),
            }
        })
        .collect();
    out.sort();
    (out, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "dev".into(),
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn resolves_ids_and_application_ids() {
        let mut known = Known::default();
        known.ids.insert(key(Kind::Cluster, "etl"), "0101".into());
        known
            .application_ids
            .insert(key(Kind::ServicePrincipal, "bot"), "6f1c".into());
        let s = "${resources.clusters.etl.id}/${resources.service_principals.bot.application_id}";
        assert_eq!(
            resolve_str(s, "dev", &known, false),
            ("0101/6f1c".into(), false)
        );
        let (only, left) = resolve_str(s, "dev", &known, true);
        assert_eq!(only, "${resources.clusters.etl.id}/6f1c");
        assert!(!left);
        let (none, left) = resolve_str("${resources.jobs.x.id}", "dev", &known, false);
        assert_eq!(none, "${resources.jobs.x.id}");
        assert!(left);
    }
}
