//! `${resources.<plural>.<name>.id}` references inside desired specs: finding
//! them (for ordering) and resolving them against known ids (for comparing
//! with live values, whose referenced ids are already concrete).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::{Kind, ResourceKey};

const OPEN: &str = "${resources.";

/// One reference: the kind and name of the resource whose id it stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub kind: Kind,
    pub name: String,
}

impl Reference {
    /// The key the reference names, in the referencing resource's workspace.
    pub fn key_in(&self, workspace: &str) -> ResourceKey {
        ResourceKey {
            workspace: workspace.to_string(),
            kind: self.kind,
            name: self.name.clone(),
        }
    }
}

/// A piece of a string: literal text or a reference.
enum Piece<'a> {
    Text(&'a str),
    Ref(Reference),
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let parsed = inner.strip_suffix(".id").and_then(|body| {
            let (plural, name) = body.split_once('.')?;
            let kind = Kind::from_plural(plural)?;
            (!name.is_empty()).then(|| Reference {
                kind,
                name: name.to_string(),
            })
        });
        let consumed = start + OPEN.len() + end + 1;
        match parsed {
            Some(r) => {
                if start > 0 {
                    out.push(Piece::Text(&rest[..start]));
                }
                out.push(Piece::Ref(r));
            }
            None => out.push(Piece::Text(&rest[..consumed])),
        }
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The references in one string.
pub fn in_str(s: &str) -> Vec<Reference> {
    if !s.contains(OPEN) {
        return Vec::new();
    }
    pieces(s)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Every reference anywhere in a document.
pub fn in_value(value: &Value) -> Vec<Reference> {
    let mut out = Vec::new();
    walk(value, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(value: &Value, out: &mut Vec<Reference>) {
    match value {
        Value::String(s) => out.extend(in_str(s)),
        Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
        Value::Object(map) => map.values().for_each(|v| walk(v, out)),
        _ => {}
    }
}

/// The string with every reference replaced by its id, or `None` when it has
/// no reference or some referenced id is not known yet.
pub fn resolve(s: &str, workspace: &str, ids: &BTreeMap<ResourceKey, String>) -> Option<String> {
    if !s.contains(OPEN) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut any = false;
    for piece in pieces(s) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Ref(r) => {
                out.push_str(ids.get(&r.key_in(workspace))?);
                any = true;
            }
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "prod".into(),
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn finds_references_with_dotted_names_and_ignores_other_placeholders() {
        let refs = in_str("${resources.clusters.etl.v2.id}/${var.x}/${resources.nope.a.id}");
        assert_eq!(
            refs,
            vec![Reference {
                kind: Kind::Cluster,
                name: "etl.v2".into()
            }]
        );
        assert!(in_str("plain").is_empty());
    }

    #[test]
    fn resolves_only_when_every_id_is_known() {
        let mut ids = BTreeMap::new();
        ids.insert(key(Kind::Cluster, "etl"), "0101-abc".to_string());
        assert_eq!(
            resolve("${resources.clusters.etl.id}", "prod", &ids).as_deref(),
            Some("0101-abc")
        );
        assert_eq!(
            resolve("x-${resources.clusters.etl.id}-y", "prod", &ids).as_deref(),
            Some("x-0101-abc-y")
        );
        assert_eq!(resolve("${resources.jobs.etl.id}", "prod", &ids), None);
        assert_eq!(resolve("${resources.clusters.etl.id}", "dev", &ids), None);
    }
}
