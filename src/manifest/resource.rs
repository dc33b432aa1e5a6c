//! The identity of a resource and the ACL entries that sit beside its spec.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Kind;

/// A resource's stable identity: `workspace/Kind/name`, unique across all apps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceKey {
    pub workspace: String,
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.workspace, self.kind, self.name)
    }
}

/// Who an ACL entry or grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    UserName(String),
    GroupName(String),
    ServicePrincipalName(String),
}

/// One entry of a resource's `permissions:` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PermissionEntry {
    pub principal: Principal,
    pub permission_level: String,
}
