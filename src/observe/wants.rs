//! What to look for in each workspace: per kind, the names desired state and
//! the inventory give, the keys to match, and which keys' ACLs to read.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::databricks::kinds;
use crate::model::LastApplied;
use crate::model::{DesiredResource, Kind, ResourceKey};

/// What to look for of one kind in one workspace.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Names to keep from the list (besides objects carrying ownership tags).
    pub names: BTreeSet<String>,
    /// Keys to match, with the name their spec gives and the inventory's id.
    pub keys: BTreeMap<ResourceKey, KeyHint>,
    /// Keys whose ACL is managed (Git declares one, or Mortar applied one).
    pub acl_keys: BTreeSet<ResourceKey>,
    /// Apps that may own tagged objects: tagged objects of other apps whose
    /// key is unknown are still reported (prune candidates of their app).
    pub apps: BTreeSet<String>,
}

/// How to recognise one key's object.
#[derive(Debug, Clone, Default)]
pub struct KeyHint {
    pub name: Option<String>,
    pub inventory_id: Option<String>,
    /// The list answer lacks fields this key's spec sets (a job's
    /// `run_as`, `parameters`, `environments`): read the object whole.
    pub full_read: bool,
    /// The id of the existing object the manifest adopts (its
    /// `mortar.dev/adopt-id`), which wins over the name.
    pub adopt_id: Option<String>,
}

/// True when `spec` sets a field the kind's list call does not return.
fn needs_full_read(kind: Kind, spec: &Value) -> bool {
    kinds::spec(kind).is_some_and(|k| k.needs_full_read(spec))
}

/// Everything to look for, by workspace and kind.
#[derive(Debug, Clone, Default)]
pub struct Wants {
    pub by_workspace: BTreeMap<String, BTreeMap<Kind, Wanted>>,
}

impl Wants {
    fn slot(&mut self, key: &ResourceKey) -> Option<&mut Wanted> {
        kinds::spec(key.kind)?;
        Some(
            self.by_workspace
                .entry(key.workspace.clone())
                .or_default()
                .entry(key.kind)
                .or_default(),
        )
    }

    /// Adds an app's desired resources (specs before normalization).
    pub fn add_desired(&mut self, app: &str, resources: &[DesiredResource]) {
        for r in resources {
            let name = kinds::spec(r.key.kind).and_then(|k| k.name_of(&r.spec));
            let has_acl = !r.permissions.is_empty();
            let Some(slot) = self.slot(&r.key) else {
                continue;
            };
            slot.apps.insert(app.to_string());
            if let Some(n) = &name {
                slot.names.insert(n.clone());
            }
            let hint = slot.keys.entry(r.key.clone()).or_default();
            hint.name = name;
            hint.adopt_id = r.adopt_id.clone();
            hint.full_read |= needs_full_read(r.key.kind, &r.spec);
            if has_acl {
                slot.acl_keys.insert(r.key.clone());
            }
        }
    }

    /// Adds an app's inventory (its last-applied specs give names and ids).
    pub fn add_inventory(&mut self, app: &str, last: &LastApplied) {
        for (key, managed) in last {
            // Normalization keeps the create body's name fields, so the
            // name reads from a last-applied spec as from a spec.
            let name = kinds::spec(key.kind).and_then(|k| k.name_of(&managed.spec));
            let has_acl = !managed.permissions.is_empty();
            let Some(slot) = self.slot(key) else {
                continue;
            };
            slot.apps.insert(app.to_string());
            if let Some(n) = &name {
                slot.names.insert(n.clone());
            }
            let hint = slot.keys.entry(key.clone()).or_default();
            if hint.name.is_none() {
                hint.name = name;
            }
            hint.inventory_id = Some(managed.id.clone());
            hint.full_read |= needs_full_read(key.kind, &managed.spec);
            if has_acl {
                slot.acl_keys.insert(key.clone());
            }
        }
    }

    /// Every workspace mentioned.
    pub fn workspaces(&self) -> impl Iterator<Item = &String> {
        self.by_workspace.keys()
    }
}
