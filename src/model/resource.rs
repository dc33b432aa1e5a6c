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

impl Principal {
    /// The key of the resource a manifest declares this principal as, in
    /// `workspace`: a Group or a ServicePrincipal (users are not declared).
    pub fn key_in(&self, workspace: &str) -> Option<ResourceKey> {
        let kind = match self {
            Principal::GroupName(_) => Kind::Group,
            Principal::ServicePrincipalName(_) => Kind::ServicePrincipal,
            Principal::UserName(_) => return None,
        };
        Some(ResourceKey {
            workspace: workspace.to_string(),
            kind,
            name: self.name().to_string(),
        })
    }

    /// The name, whatever the principal's type.
    pub fn name(&self) -> &str {
        match self {
            Principal::UserName(s)
            | Principal::GroupName(s)
            | Principal::ServicePrincipalName(s) => s,
        }
    }
}

/// One entry of a resource's `permissions:` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PermissionEntry {
    pub principal: Principal,
    pub permission_level: String,
}

/// Where a manifest document came from, for error messages and plans.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    /// Path relative to the repository root, `/`-separated.
    pub file: String,
    /// 1-based line of the document's start.
    pub line: usize,
    /// 1-based column of the document's start.
    pub column: usize,
}

/// One Databricks resource as rendered from Git: the input of the planner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub key: ResourceKey,
    /// The app that declares it.
    pub app: String,
    /// The body of the Databricks create call, variables substituted;
    /// `${resources.<plural>.<name>.id}` references are left in place for
    /// apply to resolve to the ids it has just created.
    pub spec: serde_json::Value,
    /// Direct ACL entries; empty when the manifest has no `permissions:`.
    pub permissions: Vec<PermissionEntry>,
    /// Resources this one references, so apply can order creates.
    pub depends_on: Vec<ResourceKey>,
    /// JSON pointers of specs values that are exactly one reference in a
    /// numeric field: sent as numbers once resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric_references: Vec<String>,
    /// The id of the existing object to adopt for this resource (the
    /// [`ADOPT_ID_ANNOTATION`]), when the manifest names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt_id: Option<String>,
    pub origin: Origin,
}

/// The annotation naming the id of the existing object a resource adopts:
/// it wins over the name, so an object whose name differs (or that shares
/// its name with others) is taken over without a guess. `mortar import`
/// writes it.
pub const ADOPT_ID_ANNOTATION: &str = "mortar.dev/adopt-id";
