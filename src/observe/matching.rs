//! Matching listed objects to keys: an object carrying a key's ownership tag
//! is that key's; else the one with the inventory's id; else the one its
//! manifest's `mortar.dev/adopt-id` names (that object or none); else the
//! one with the key's name. When several objects Mortar does not own share
//! that name, or an adopt id names an object another key has, none is
//! taken: the key is reported [`Unmatched`] (the plan shows a conflict)
//! rather than guessed. Objects tagged with a key nobody asked about are reported under
//! that key, so their app can prune them.

use std::collections::BTreeMap;

use super::wants::Wanted;
use crate::databricks::ListedObject;
use crate::model::{Kind, ResourceKey, Unmatched};

/// The outcome of matching one kind in one workspace.
#[derive(Debug, Default)]
pub struct Matched {
    pub objects: BTreeMap<ResourceKey, ListedObject>,
    /// Inventory keys (with their id) the list did not return.
    pub missing_ids: Vec<(ResourceKey, String)>,
    /// Keys whose adopt id the list did not return: read one by one.
    pub adopt_reads: Vec<(ResourceKey, String)>,
    /// Keys no object was taken for, and why.
    pub unmatched: BTreeMap<ResourceKey, Unmatched>,
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
    // Listed objects taken, by index, with the key that took them.
    let mut claimed: BTreeMap<usize, ResourceKey> = BTreeMap::new();
    let tag_of = |o: &ListedObject| o.owner.as_ref().map(|w| w.key.clone());
    // 1. Ownership tags.
    for (i, obj) in listed.iter().enumerate() {
        let Some(tag) = tag_of(obj) else { continue };
        let Some(key) = parse_key(&tag) else { continue };
        if key.workspace != workspace || key.kind != kind {
            continue;
        }
        if wanted.keys.contains_key(&key) && !out.objects.contains_key(&key) {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i, key);
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
            .find(|(i, o)| !claimed.contains_key(i) && &o.id == id)
        {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i, key.clone());
        }
    }
    // 3. The id the manifest says to adopt, for a key the inventory does
    //    not know: that object, unless another key has it. Two manifests
    //    naming one id are both refused: neither is the right one.
    let mut naming: BTreeMap<&String, Vec<&ResourceKey>> = BTreeMap::new();
    for (key, hint) in &wanted.keys {
        if let (None, Some(id)) = (&hint.inventory_id, &hint.adopt_id)
            && !out.objects.contains_key(key)
        {
            naming.entry(id).or_default().push(key);
        }
    }
    for keys in naming.values().filter(|keys| keys.len() > 1) {
        for key in keys {
            let other = keys.iter().find(|k| *k != key).map(|k| (*k).clone());
            if let (Some(other), Some(id)) = (other, &wanted.keys[*key].adopt_id) {
                out.unmatched.insert(
                    (*key).clone(),
                    Unmatched::AdoptIdTwice {
                        id: id.clone(),
                        other,
                    },
                );
            }
        }
    }
    for (key, hint) in &wanted.keys {
        let (None, Some(id)) = (&hint.inventory_id, &hint.adopt_id) else {
            continue;
        };
        if out.objects.contains_key(key) || out.unmatched.contains_key(key) {
            continue;
        }
        match listed.iter().enumerate().find(|(_, o)| &o.id == id) {
            Some((i, _)) if claimed.contains_key(&i) => {
                let by = claimed[&i].clone();
                out.unmatched
                    .insert(key.clone(), Unmatched::AdoptIdTaken { id: id.clone(), by });
            }
            Some((i, obj)) => {
                out.objects.insert(key.clone(), obj.clone());
                claimed.insert(i, key.clone());
            }
            None => out.adopt_reads.push((key.clone(), id.clone())),
        }
    }
    // 4. The name (untagged objects first, so a stray copy tagged for
    //    another key is not taken for this one). A key with an adopt id
    //    adopts that object or none.
    for (key, hint) in &wanted.keys {
        if out.objects.contains_key(key)
            || out.unmatched.contains_key(key)
            || (hint.inventory_id.is_none() && hint.adopt_id.is_some())
        {
            continue;
        }
        let Some(name) = &hint.name else { continue };
        let candidates: Vec<(usize, &ListedObject)> = listed
            .iter()
            .enumerate()
            .filter(|(i, o)| !claimed.contains_key(i) && &o.name == name)
            .collect();
        let untagged: Vec<&ListedObject> = candidates
            .iter()
            .filter(|(_, o)| o.owner.is_none())
            .map(|(_, o)| *o)
            .collect();
        // A key the inventory knows reads its own id below instead.
        if untagged.len() > 1 && hint.inventory_id.is_none() {
            let ids = untagged.iter().map(|o| o.id.clone()).collect();
            out.unmatched
                .insert(key.clone(), Unmatched::SharedName { ids });
            continue;
        }
        let pick = candidates
            .into_iter()
            .min_by_key(|(_, o)| o.owner.is_some());
        if let Some((i, obj)) = pick {
            out.objects.insert(key.clone(), obj.clone());
            claimed.insert(i, key.clone());
        }
    }
    // 5. Tagged objects of the apps planned here that no key claimed.
    for (i, obj) in listed.iter().enumerate() {
        if claimed.contains_key(&i) {
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

/// Settles the adopt ids the list did not return, once each is read
/// (`None`: no such object): a key takes the object unless another key has
/// it already.
pub fn settle_adopt_reads(
    matched: &mut Matched,
    read: Vec<(ResourceKey, String, Option<ListedObject>)>,
) {
    for (key, id, found) in read {
        let Some(obj) = found else {
            matched.unmatched.insert(key, Unmatched::AdoptIdGone { id });
            continue;
        };
        match matched.objects.iter().find(|(_, o)| o.id == obj.id) {
            Some((by, _)) => {
                let by = by.clone();
                matched
                    .unmatched
                    .insert(key, Unmatched::AdoptIdTaken { id, by });
            }
            None => {
                matched.objects.insert(key, obj);
            }
        }
    }
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

    use crate::observe::wants::KeyHint;

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
        let m = match_objects("prod", Kind::Job, &wanted, listed.clone());
        assert!(m.objects.is_empty());
        assert_eq!(
            m.unmatched[&key("etl")],
            Unmatched::SharedName {
                ids: vec!["1".into(), "2".into()]
            }
        );
        assert!(m.missing_ids.is_empty());
        // A key the inventory knows is never reported ambiguous: what it
        // matches by name is checked against its id by the planner.
        wanted.keys.get_mut(&key("etl")).unwrap().inventory_id = Some("9".into());
        let m = match_objects("prod", Kind::Job, &wanted, listed);
        assert!(m.unmatched.is_empty());
        assert_eq!(m.objects[&key("etl")].id, "1");
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
        let mut m = match_objects("prod", Kind::Job, &wanted, listed);
        assert_eq!(m.objects[&key("etl")].id, "2");
        assert!(m.unmatched.is_empty());
        // Not listed: read by id, never matched by its name instead.
        assert!(!m.objects.contains_key(&key("gone")));
        assert_eq!(m.adopt_reads, vec![(key("gone"), "7".to_string())]);
        settle_adopt_reads(&mut m, vec![(key("gone"), "7".into(), None)]);
        assert_eq!(
            m.unmatched[&key("gone")],
            Unmatched::AdoptIdGone { id: "7".into() }
        );
    }

    #[test]
    fn one_object_is_adopted_by_one_key_only() {
        let mut wanted = Wanted::default();
        wanted.keys.insert(key("a"), hint("a", Some("2")));
        wanted.keys.insert(key("b"), hint("b", Some("2")));
        wanted.keys.insert(key("c"), hint("c", Some("5")));
        wanted.keys.insert(key("d"), hint("d", Some("6")));
        let listed = vec![
            job("2", "x", None),
            job("5", "y", Some(("a", "prod/Job/e"))),
        ];
        wanted.keys.insert(key("e"), hint("e", None));
        let mut m = match_objects("prod", Kind::Job, &wanted, listed);
        // Two manifests naming one id: neither takes it.
        assert_eq!(
            m.unmatched[&key("a")],
            Unmatched::AdoptIdTwice {
                id: "2".into(),
                other: key("b")
            }
        );
        assert_eq!(
            m.unmatched[&key("b")],
            Unmatched::AdoptIdTwice {
                id: "2".into(),
                other: key("a")
            }
        );
        // An id naming what another key holds (by its tag).
        assert_eq!(
            m.unmatched[&key("c")],
            Unmatched::AdoptIdTaken {
                id: "5".into(),
                by: key("e")
            }
        );
        // Read by id (not listed), then found held by another key.
        assert_eq!(m.adopt_reads, vec![(key("d"), "6".to_string())]);
        settle_adopt_reads(
            &mut m,
            vec![(key("d"), "6".into(), Some(job("5", "y", None)))],
        );
        assert_eq!(
            m.unmatched[&key("d")],
            Unmatched::AdoptIdTaken {
                id: "6".into(),
                by: key("e")
            }
        );
        assert!(!m.objects.contains_key(&key("d")));
    }
}
