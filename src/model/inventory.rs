//! One app's inventory: the objects Mortar manages for it, with their ids
//! and what was last applied (the store that keeps it on disk is
//! `apply::inventory`).

use std::collections::BTreeMap;

use super::{LastApplied, ManagedResource, ResourceKey, mask};

/// One app's managed objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inventory {
    pub app: String,
    pub resources: LastApplied,
}

impl Inventory {
    /// An empty inventory.
    pub fn new(app: &str) -> Inventory {
        Inventory {
            app: app.to_string(),
            resources: BTreeMap::new(),
        }
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&ManagedResource> {
        self.resources.get(key)
    }

    /// Records (or replaces) what was applied for `key`. Sensitive values
    /// in the spec are masked first: the inventory never holds a secret
    /// (the field stays present, so removing it from Git is still planned).
    pub fn upsert(&mut self, key: ResourceKey, mut resource: ManagedResource) {
        resource.spec = mask::mask_value(&resource.spec);
        self.resources.insert(key, resource);
    }

    /// Forgets `key`; returns what was recorded.
    pub fn remove(&mut self, key: &ResourceKey) -> Option<ManagedResource> {
        self.resources.remove(key)
    }

    /// Ids by key, for reference resolution.
    pub fn ids(&self) -> BTreeMap<ResourceKey, String> {
        self.resources
            .iter()
            .map(|(k, r)| (k.clone(), r.id.clone()))
            .collect()
    }
}
