//! Matching listed objects to keys: an object carrying a key's ownership tag
//! is that key's; else the one with the inventory's id; else one with the
//! key's name. Objects tagged with a key nobody asked about are reported
//! under that key, so their app can prune them.

use std::collections::{BTreeMap, BTreeSet};

use super::wants::Wanted;
use crate::databricks::ListedObject;
use crate::model::{Kind, ResourceKey};

/// The outcome of matching one kind in one workspace.
#[derive(Debug, Default)]
pub struct Matched {
    pub objects: BTreeMap<ResourceKey, ListedObject>,
    /// Inventory keys (with their id) the list did not return.
    pub missing_ids: Vec<(ResourceKey, String)>,
}

/// Parses `workspace/Kind/name` (names may contain `/`).
pub fn parse_key(s: &str) -> Option<ResourceKey> {
    let (workspace, rest) = s.split_once('/')?;
    let (kind, name) = rest.split_once('/')?;
    Some(ResourceKey {
        workspace: workspace.to_string(),
        kind: kind.parse().ok()?,
        name: name.to_string(),
    })
}

pub fn match_objects(
    workspace: &str,
    kind: Kind,
    wanted: &Wanted,
    listed: Vec<ListedObject>,
) -> Matched {
    let mut out = Matched::default();
    let mut claimed: BTreeSet<usize> = BTreeSet::new();
    let tag_of = |o: &ListedObject| o.owner.as_ref().map(|w| w.key.clone());
    // 1. Ownership tags.
    for (i, obj) in listed.iter().enumerate() {
        let Some(tag) = tag_of(obj) else { continue };
        let Some(key) = parse_key(&tag) else { continue };
        if key.workspace != workspace || key.kind != kind {
            continue;
        }
        if wanted.keys.contains_key(&key) && !out.objects.contains_key(&key) {
            out.objects.insert(key, obj.clone());
            claimed.insert(i);
        }
    }
    // 2. The inventory's id.
    for (key, hint) in &wanted.keys {
        if out.objects.contains_key(key) {
            continue;
        }
        let Some(id) = &hint.inventory_id else {
            continue;
        };
        if let Some((i, obj)) = listed
            .iter()
            .enumerate()
            .find(|(i, o)| !claimed.contains(i) && &o.id == id)
        {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i);
        }
    }
    // 3. The name (untagged objects first, so a stray copy tagged for
    //    another key is not taken for this one).
    for (key, hint) in &wanted.keys {
        if out.objects.contains_key(key) {
            continue;
        }
        let Some(name) = &hint.name else { continue };
        let pick = listed
            .iter()
            .enumerate()
            .filter(|(i, o)| !claimed.contains(i) && &o.name == name)
            .min_by_key(|(_, o)| o.owner.is_some());
        if let Some((i, obj)) = pick {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i);
        }
    }
    // 4. Tagged objects of the apps planned here that no key claimed.
    for (i, obj) in listed.iter().enumerate() {
        if claimed.contains(&i) {
            continue;
        }
        let (Some(owner), Some(key)) =
            (obj.owner.as_ref(), tag_of(obj).and_then(|t| parse_key(&t)))
        else {
            continue;
        };
        if key.workspace == workspace
            && key.kind == kind
            && wanted.apps.contains(&owner.app)
            && !out.objects.contains_key(&key)
        {
            out.objects.insert(key, obj.clone());
        }
    }
    for (key, hint) in &wanted.keys {
        if let Some(id) = &hint.inventory_id
            && !out.objects.contains_key(key)
        {
            out.missing_ids.push((key.clone(), id.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::OwnershipTags;
    use crate::observe::wants::KeyHint;

    fn key(name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "prod".into(),
            kind: Kind::Job,
            name: name.into(),
        }
    }

    fn job(id: &str, name: &str, tag: Option<(&str, &str)>) -> ListedObject {
        ListedObject {
            id: id.into(),
            name: name.into(),
            owner: tag.map(|(app, key)| OwnershipTags {
                app: app.into(),
                key: key.into(),
            }),
            raw: serde_json::json!({}),
        }
    }

    #[test]
    fn tags_win_over_names_and_unknown_tagged_objects_are_kept_for_prune() {
        let mut wanted = Wanted::default();
        wanted.apps.insert("a".into());
        wanted.keys.insert(
            key("etl"),
            KeyHint {
                name: Some("etl".into()),
                inventory_id: None,
                full_read: false,
            },
        );
        let listed = vec![
            job("1", "etl", None),
            job("2", "etl", Some(("a", "prod/Job/etl"))),
            job("3", "old", Some(("a", "prod/Job/old"))),
            job("4", "x", Some(("b", "prod/Job/x"))),
        ];
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert_eq!(m.objects[&key("etl")].id, "2");
        assert_eq!(m.objects[&key("old")].id, "3");
        assert!(!m.objects.contains_key(&key("x")));
        assert!(m.missing_ids.is_empty());
    }

    #[test]
    fn inventory_ids_beat_names_and_missing_ones_are_reported() {
        let mut wanted = Wanted::default();
        wanted.keys.insert(
            key("etl"),
            KeyHint {
                name: Some("etl".into()),
                inventory_id: Some("9".into()),
                full_read: false,
            },
        );
        wanted.keys.insert(
            key("gone"),
            KeyHint {
                name: Some("gone".into()),
                inventory_id: Some("7".into()),
                full_read: false,
            },
        );
        let listed = vec![job("1", "etl", None), job("9", "renamed", None)];
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert_eq!(m.objects[&key("etl")].id, "9");
        assert_eq!(m.missing_ids, vec![(key("gone"), "7".to_string())]);
        assert_eq!(parse_key("prod/Job/a/b"), Some(key("a/b")));
    }
}
