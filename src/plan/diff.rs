//! The three-way field diff: desired (Git), live (workspace) and last-applied
//! (inventory) in, changed fields out. Pure functions on `serde_json::Value`.
//!
//! Rules, per field:
//! - in desired and live with different values: an update (drift when Git's
//!   value equals the last-applied one, i.e. someone changed it by hand);
//! - in desired, absent live: an addition (`{}` and `[]` count as absent,
//!   since the API drops empty values; a desired `null` means "not set");
//! - absent from desired, present live and in last-applied: a removal (Git
//!   dropped it);
//! - absent from desired and from last-applied, present live: set by the
//!   server, ignored;
//! - objects are compared key by key, arrays of equal length element by
//!   element, arrays of different lengths are replaced whole;
//! - a desired `${resources.…}` string equals the live value once the
//!   referenced id is known and matches;
//! - paths covered by an ignore pattern never produce a change.

use std::collections::BTreeMap;

use serde_json::Value;

use super::pointer::{self, Pattern};
use crate::model::reference;
use crate::model::{PermissionEntry, Principal, ResourceKey};

use crate::model::PermissionChange;

/// One changed field before masking; `path` holds unescaped segments.
#[derive(Debug, Clone, PartialEq)]
pub struct RawChange {
    pub path: Vec<String>,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub drift: bool,
}

impl RawChange {
    /// The path as an RFC 6901 pointer.
    pub fn pointer(&self) -> String {
        self.path
            .iter()
            .fold(String::new(), |p, s| pointer::push(&p, s))
    }
}

/// What a diff needs besides the three documents.
#[derive(Debug, Clone, Copy)]
pub struct DiffContext<'a> {
    /// The workspace of the resource, for resolving references.
    pub workspace: &'a str,
    /// Known Databricks ids, for resolving references.
    pub ids: &'a BTreeMap<ResourceKey, String>,
    /// Ignore patterns that apply to this resource.
    pub ignore: &'a [Pattern],
}

/// Diffs one spec three ways. `last` is `None` when Mortar never applied it
/// (then nothing is removed: live-only fields are treated as server-set).
pub fn diff_spec(
    desired: &Value,
    live: &Value,
    last: Option<&Value>,
    ctx: &DiffContext<'_>,
) -> Vec<RawChange> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(
        desired,
        Some(live),
        last,
        last.is_some(),
        &mut path,
        ctx,
        &mut out,
    );
    out
}

fn ignored(path: &[String], ctx: &DiffContext<'_>) -> bool {
    ctx.ignore.iter().any(|p| p.covers(path))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn walk(
    d: &Value,
    l: Option<&Value>,
    a: Option<&Value>,
    has_last: bool,
    path: &mut Vec<String>,
    ctx: &DiffContext<'_>,
    out: &mut Vec<RawChange>,
) {
    if ignored(path, ctx) {
        return;
    }
    let drift = has_last && a == Some(d);
    let Some(l) = l else {
        if !is_empty(d) {
            out.push(RawChange {
                path: path.clone(),
                old: None,
                new: Some(d.clone()),
                drift,
            });
        }
        return;
    };
    match (d, l) {
        (Value::Object(dm), Value::Object(lm)) => {
            let am = a.and_then(Value::as_object);
            for (k, dv) in dm {
                if dv.is_null() {
                    continue;
                }
                path.push(k.clone());
                walk(
                    dv,
                    lm.get(k),
                    am.and_then(|m| m.get(k)),
                    has_last,
                    path,
                    ctx,
                    out,
                );
                path.pop();
            }
            for (k, lv) in lm {
                let declared = dm.get(k).is_some_and(|v| !v.is_null());
                if declared || lv.is_null() || !am.is_some_and(|m| m.contains_key(k)) {
                    continue;
                }
                path.push(k.clone());
                if !ignored(path, ctx) {
                    out.push(RawChange {
                        path: path.clone(),
                        old: Some(lv.clone()),
                        new: None,
                        drift: false,
                    });
                }
                path.pop();
            }
        }
        (Value::Array(da), Value::Array(la)) if da.len() == la.len() => {
            let aa = a.and_then(Value::as_array);
            for (i, (dv, lv)) in da.iter().zip(la).enumerate() {
                path.push(i.to_string());
                walk(
                    dv,
                    Some(lv),
                    aa.and_then(|v| v.get(i)),
                    has_last,
                    path,
                    ctx,
                    out,
                );
                path.pop();
            }
        }
        _ => {
            if !equal(d, l, ctx) {
                out.push(RawChange {
                    path: path.clone(),
                    old: Some(l.clone()),
                    new: Some(d.clone()),
                    drift,
                });
            }
        }
    }
}

/// Deep equality that resolves references and compares numbers by value.
fn equal(d: &Value, l: &Value, ctx: &DiffContext<'_>) -> bool {
    match (d, l) {
        (Value::String(ds), _) if ds.contains("${") => {
            // References resolve to the ids known; escapes (`$${`) to `${`.
            let r = reference::resolve_str(ds, reference::Mode::Final, &|x| {
                (x.attribute == reference::Attribute::Id)
                    .then(|| ctx.ids.get(&x.key_in(ctx.workspace)).cloned())
                    .flatten()
            });
            !r.unresolved
                && match l {
                    Value::String(ls) => *ls == r.text,
                    Value::Number(n) => n.to_string() == r.text,
                    _ => false,
                }
        }
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        (Value::Array(da), Value::Array(la)) => {
            da.len() == la.len() && da.iter().zip(la).all(|(d, l)| equal(d, l, ctx))
        }
        (Value::Object(dm), Value::Object(lm)) => {
            dm.len() == lm.len()
                && dm
                    .iter()
                    .all(|(k, dv)| lm.get(k).is_some_and(|lv| equal(dv, lv, ctx)))
        }
        _ => d == l,
    }
}

/// Applies changes to a live document: what the workspace holds after the
/// update (used by apply to preview, and by the tests' round-trip property).
pub fn apply_changes(live: &Value, changes: &[RawChange]) -> Value {
    let mut doc = live.clone();
    for change in changes {
        match &change.new {
            Some(v) => pointer::set(&mut doc, &change.path, v.clone()),
            None => pointer::remove(&mut doc, &change.path),
        }
    }
    doc
}

/// The ACL owner level the server assigns; never removed unless Git names it.
const OWNER_LEVEL: &str = "IS_OWNER";

fn by_principal(entries: &[PermissionEntry]) -> BTreeMap<&Principal, &str> {
    entries
        .iter()
        .map(|e| (&e.principal, e.permission_level.as_str()))
        .collect()
}

/// Diffs direct ACLs. ACLs are managed only when Git declares some or Mortar
/// applied some before; then they are authoritative: a direct entry nobody
/// declared is removed (flagged as drift when Mortar never set it), except
/// the server-assigned `IS_OWNER` entry.
pub fn diff_permissions(
    desired: &[PermissionEntry],
    live: &[PermissionEntry],
    last: Option<&[PermissionEntry]>,
) -> Vec<PermissionChange> {
    let last = last.unwrap_or(&[]);
    if desired.is_empty() && last.is_empty() {
        return Vec::new();
    }
    let d = by_principal(desired);
    let l = by_principal(live);
    let a = by_principal(last);
    let mut out = Vec::new();
    for (p, dl) in &d {
        let ll = l.get(p).copied();
        if ll != Some(*dl) {
            out.push(PermissionChange {
                principal: (*p).clone(),
                old: ll.map(str::to_string),
                new: Some((*dl).to_string()),
                drift: a.get(p) == Some(dl),
            });
        }
    }
    for (p, ll) in &l {
        if d.contains_key(p) || *ll == OWNER_LEVEL {
            continue;
        }
        out.push(PermissionChange {
            principal: (*p).clone(),
            old: Some((*ll).to_string()),
            new: None,
            drift: !a.contains_key(p),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx<'a>(ids: &'a BTreeMap<ResourceKey, String>, ignore: &'a [Pattern]) -> DiffContext<'a> {
        DiffContext {
            workspace: "prod",
            ids,
            ignore,
        }
    }

    fn paths(changes: &[RawChange]) -> Vec<String> {
        changes.iter().map(RawChange::pointer).collect()
    }

    #[test]
    fn field_removed_from_git_is_removed_live() {
        let ids = BTreeMap::new();
        let last = json!({"name": "a", "timeout_seconds": 60});
        let live = json!({"name": "a", "timeout_seconds": 60, "created_time": 5});
        let desired = json!({"name": "a"});
        let changes = diff_spec(&desired, &live, Some(&last), &ctx(&ids, &[]));
        assert_eq!(
            changes,
            vec![RawChange {
                path: vec!["timeout_seconds".into()],
                old: Some(json!(60)),
                new: None,
                drift: false
            }]
        );
    }

    #[test]
    fn server_set_fields_are_not_drift() {
        let ids = BTreeMap::new();
        let desired = json!({"name": "a", "tasks": [{"task_key": "t"}]});
        let live = json!({"name": "a", "format": "MULTI_TASK", "tasks": [{"task_key": "t", "run_if": "ALL_SUCCESS"}]});
        assert!(diff_spec(&desired, &live, Some(&desired), &ctx(&ids, &[])).is_empty());
        assert!(diff_spec(&desired, &live, None, &ctx(&ids, &[])).is_empty());
    }

    #[test]
    fn hand_made_change_is_drift_and_git_change_is_not() {
        let ids = BTreeMap::new();
        let last = json!({"timeout_seconds": 60, "max_retries": 1});
        let live = json!({"timeout_seconds": 999, "max_retries": 1});
        let desired = json!({"timeout_seconds": 60, "max_retries": 3});
        let changes = diff_spec(&desired, &live, Some(&last), &ctx(&ids, &[]));
        assert_eq!(paths(&changes), vec!["/timeout_seconds", "/max_retries"]);
        assert!(changes[0].drift);
        assert_eq!(changes[0].old, Some(json!(999)));
        assert!(!changes[1].drift);
    }

    #[test]
    fn references_compare_equal_to_the_known_id() {
        let mut ids = BTreeMap::new();
        let cluster = ResourceKey {
            workspace: "prod".into(),
            kind: crate::model::Kind::Cluster,
            name: "etl".into(),
        };
        let desired = json!({"existing_cluster_id": "${resources.clusters.etl.id}"});
        let live = json!({"existing_cluster_id": "0101-abc"});
        let unknown = diff_spec(&desired, &live, None, &ctx(&ids, &[]));
        assert_eq!(paths(&unknown), vec!["/existing_cluster_id"]);
        ids.insert(cluster.clone(), "0101-abc".into());
        assert!(diff_spec(&desired, &live, None, &ctx(&ids, &[])).is_empty());
        ids.insert(cluster, "other".into());
        assert_eq!(diff_spec(&desired, &live, None, &ctx(&ids, &[])).len(), 1);
    }

    #[test]
    fn ignored_paths_produce_no_change() {
        let ids = BTreeMap::new();
        let ignore = [Pattern::parse("/tasks/*/new_cluster/num_workers").unwrap()];
        let desired = json!({"tasks": [{"new_cluster": {"num_workers": 2}}], "name": "x"});
        let live = json!({"tasks": [{"new_cluster": {"num_workers": 8}}], "name": "y"});
        let changes = diff_spec(&desired, &live, None, &ctx(&ids, &ignore));
        assert_eq!(paths(&changes), vec!["/name"]);
    }

    #[test]
    fn arrays_of_other_length_are_replaced_and_empty_desired_is_absent() {
        let ids = BTreeMap::new();
        let desired = json!({"tags": {}, "libs": [1, 2, 3], "n": 1.0});
        let live = json!({"libs": [1, 2], "n": 1});
        let changes = diff_spec(&desired, &live, None, &ctx(&ids, &[]));
        assert_eq!(paths(&changes), vec!["/libs"]);
        assert_eq!(changes[0].new, Some(json!([1, 2, 3])));
    }

    fn entry(group: &str, level: &str) -> PermissionEntry {
        PermissionEntry {
            principal: Principal::GroupName(group.into()),
            permission_level: level.into(),
        }
    }

    #[test]
    fn permissions_three_way() {
        let desired = [entry("analysts", "CAN_VIEW"), entry("ops", "CAN_MANAGE")];
        let last = [entry("analysts", "CAN_VIEW"), entry("ops", "CAN_MANAGE")];
        let live = [
            entry("analysts", "CAN_MANAGE"),
            entry("ops", "CAN_MANAGE"),
            entry("intruder", "CAN_MANAGE"),
            entry("creator", "IS_OWNER"),
        ];
        let changes = diff_permissions(&desired, &live, Some(&last));
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].old.as_deref(), Some("CAN_MANAGE"));
        assert_eq!(changes[0].new.as_deref(), Some("CAN_VIEW"));
        assert!(changes[0].drift);
        assert_eq!(
            changes[1].principal,
            Principal::GroupName("intruder".into())
        );
        assert_eq!(changes[1].new, None);
        assert!(changes[1].drift);
        assert!(diff_permissions(&[], &live, None).is_empty());
        let dropped = diff_permissions(&[], &live[..2], Some(&last));
        assert_eq!(dropped.len(), 2);
        assert!(dropped.iter().all(|c| c.new.is_none() && !c.drift));
    }
}
