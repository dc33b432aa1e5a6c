//! Matching listed objects to keys: an object carrying a key's ownership tag
//! is that key's; else the one with the inventory's id; else the one its
//! manifest's `mortar.dev/adopt-id` names; else the one with the key's name.
//! When several objects Mortar does not own share that name, none is taken:
//! the key is reported as ambiguous (the plan shows a conflict) rather than
//! guessed. Objects tagged with a key nobody asked about are reported under
//! that key, so their app can prune them.

use std::collections::{BTreeMap, BTreeSet};

use super::wants::{KeyHint, Wanted};
use crate::databricks::ListedObject;
use crate::model::{Kind, ResourceKey};

/// The outcome of matching one kind in one workspace.
#[derive(Debug, Default)]
pub struct Matched {
    pub objects: BTreeMap<ResourceKey, ListedObject>,
    /// Keys (with the inventory's or the adopt-id's id) the list did not
    /// return: read one by one.
    pub missing_ids: Vec<(ResourceKey, String)>,
    /// Keys whose name several untagged objects carry, with their ids.
    pub ambiguous: BTreeMap<ResourceKey, Vec<String>>,
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
    // 2. The inventory's id, then the id the manifest says to adopt.
    let id_of = |hint: &KeyHint| hint.inventory_id.clone().or_else(|| hint.adopt_id.clone());
    for (key, hint) in &wanted.keys {
        if out.objects.contains_key(key) {
            continue;
        }
        let Some(id) = id_of(hint) else {
            continue;
        };
        if let Some((i, obj)) = listed
            .iter()
            .enumerate()
            .find(|(i, o)| !claimed.contains(i) && o.id == id)
        {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i);
        }
    }
    // 3. The name (untagged objects first, so a stray copy tagged for
    //    another key is not taken for this one). A key with an adopt id
    //    adopts that object or none.
    for (key, hint) in &wanted.keys {
        if out.objects.contains_key(key) || (hint.inventory_id.is_none() && hint.adopt_id.is_some())
        {
            continue;
        }
        let Some(name) = &hint.name else { continue };
        let candidates: Vec<(usize, &ListedObject)> = listed
            .iter()
            .enumerate()
            .filter(|(i, o)| !claimed.contains(i) && &o.name == name)
            .collect();
        let untagged: Vec<&ListedObject> = candidates
            .iter()
            .filter(|(_, o)| o.owner.is_none())
            .map(|(_, o)| *o)
            .collect();
        if untagged.len() > 1 {
            out.ambiguous
                .insert(key.clone(), untagged.iter().map(|o| o.id.clone()).collect());
            continue;
        }
        let pick = candidates
            .into_iter()
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
        if let Some(id) = id_of(hint)
            && !out.objects.contains_key(key)
            && !out.ambiguous.contains_key(key)
        {
            out.missing_ids.push((key.clone(), id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::OwnershipTags;

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
                adopt_id: None,
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
                adopt_id: None,
            },
        );
        wanted.keys.insert(
            key("gone"),
            KeyHint {
                name: Some("gone".into()),
                inventory_id: Some("7".into()),
                full_read: false,
                adopt_id: None,
            },
        );
        let listed = vec![job("1", "etl", None), job("9", "renamed", None)];
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert_eq!(m.objects[&key("etl")].id, "9");
        assert_eq!(m.missing_ids, vec![(key("gone"), "7".to_string())]);
        assert_eq!(parse_key("prod/Job/a/b"), Some(key("a/b")));
    }

    fn hint(name: &str, adopt_id: Option<&str>) -> KeyHint {
        KeyHint {
            name: Some(name.into()),
            inventory_id: None,
            full_read: false,
            adopt_id: adopt_id.map(Into::into),
        }
    }

    #[test]
    fn two_untagged_objects_with_the_name_are_ambiguous_not_guessed() {
        let mut wanted = Wanted::default();
        wanted.keys.insert(key("etl"), hint("etl", None));
        let listed = vec![job("1", "etl", None), job("2", "etl", None)];
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert!(m.objects.is_empty());
        assert_eq!(m.ambiguous[&key("etl")], vec!["1", "2"]);
        assert!(m.missing_ids.is_empty());
    }

    #[test]
    fn an_adopt_id_picks_its_object_whatever_the_names_say() {
        let mut wanted = Wanted::default();
        wanted.keys.insert(key("etl"), hint("etl", Some("2")));
        wanted.keys.insert(key("gone"), hint("gone", Some("7")));
        let listed = vec![
            job("1", "etl", None),
            job("2", "etl", None),
            job("3", "gone", None),
        ];
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert_eq!(m.objects[&key("etl")].id, "2");
        assert!(m.ambiguous.is_empty());
        // Not listed: read by id, never matched by its name instead.
        assert!(!m.objects.contains_key(&key("gone")));
        assert_eq!(m.missing_ids, vec![(key("gone"), "7".to_string())]);
    }
}
