//! Live state and last-applied state: one object as observed in a
//! workspace, and what Mortar last applied for one key (the inventory's
//! entries, the planner's third side).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PermissionEntry, ResourceKey, mask};

/// One object as observed in a workspace, already normalized by its kind
/// adapter (server-only fields and defaults dropped, set-like lists sorted).
/// Its `Debug` output masks secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveObject {
    /// The Databricks id (job id, cluster id, group id, …) as a string.
    pub id: String,
    /// The object's settings in the shape of its create body.
    pub spec: Value,
    /// Direct ACL entries (inherited ones dropped).
    #[serde(default)]
    pub permissions: Vec<PermissionEntry>,
    /// The app named by the object's ownership tag, when the kind can be tagged.
    #[serde(default)]
    pub managed_by: Option<String>,
}

/// Live objects of one or more workspaces, by key.
pub type LiveState = BTreeMap<ResourceKey, LiveObject>;

/// How Mortar came to manage an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Mortar created it: prune may delete it.
    Created,
    /// It existed before and was adopted: prune leaves it in place.
    Adopted,
}

/// What Mortar last applied for one key: the planner's third side. Its
/// `Debug` output masks secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedResource {
    pub id: String,
    /// The desired spec as last applied (references left unresolved).
    pub spec: Value,
    /// The permissions as last applied.
    #[serde(default)]
    pub permissions: Vec<PermissionEntry>,
    /// The Git revision it was applied from.
    #[serde(default)]
    pub revision: Option<String>,
    pub ownership: Ownership,
}

impl fmt::Debug for LiveObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveObject")
            .field("id", &self.id)
            .field("spec", &mask::mask_value(&self.spec))
            .field("permissions", &self.permissions)
            .field("managed_by", &self.managed_by)
            .finish()
    }
}

impl fmt::Debug for ManagedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedResource")
            .field("id", &self.id)
            .field("spec", &mask::mask_value(&self.spec))
            .field("permissions", &self.permissions)
            .field("revision", &self.revision)
            .field("ownership", &self.ownership)
            .finish()
    }
}

/// Why observing took no live object for a key although one may exist:
/// the plan shows each as a conflict rather than guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// Several objects Mortar does not own carry the key's name (their ids).
    SharedName { ids: Vec<String> },
    /// The key's adopt id names an object another key has already.
    AdoptIdTaken { id: String, by: ResourceKey },
    /// Another key's manifest names the same adopt id.
    AdoptIdTwice { id: String, other: ResourceKey },
    /// The key's adopt id names no object of its kind.
    AdoptIdGone { id: String },
}

/// One app's last-applied state, by key.
pub type LastApplied = BTreeMap<ResourceKey, ManagedResource>;
