//! Every kind Mortar knows, with the names manifests and references use.

use std::fmt;
use std::str::FromStr;

/// A manifest kind: the Mortar kinds that shape the app tree, and the
/// Databricks kinds that become objects in a workspace.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Kind {
    Application,
    ApplicationSet,
    Project,
    Workspace,
    Role,
    RoleBinding,
    AccessPolicy,
    Job,
    Cluster,
    ClusterPolicy,
    InstancePool,
    SqlWarehouse,
    Group,
    ServicePrincipal,
    SecretScope,
    Notebook,
    WorkspaceFile,
    Directory,
    Catalog,
    Schema,
    Grants,
    WorkspaceConf,
}

impl Kind {
    /// All kinds, Mortar's own first.
    pub const ALL: [Kind; 22] = [
        Kind::Application,
        Kind::ApplicationSet,
        Kind::Project,
        Kind::Workspace,
        Kind::Role,
        Kind::RoleBinding,
        Kind::AccessPolicy,
        Kind::Job,
        Kind::Cluster,
        Kind::ClusterPolicy,
        Kind::InstancePool,
        Kind::SqlWarehouse,
        Kind::Group,
        Kind::ServicePrincipal,
        Kind::SecretScope,
        Kind::Notebook,
        Kind::WorkspaceFile,
        Kind::Directory,
        Kind::Catalog,
        Kind::Schema,
        Kind::Grants,
        Kind::WorkspaceConf,
    ];

    /// The kind's name as written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Application => "Application",
            Kind::ApplicationSet => "ApplicationSet",
            Kind::Project => "Project",
            Kind::Workspace => "Workspace",
            Kind::Role => "Role",
            Kind::RoleBinding => "RoleBinding",
            Kind::AccessPolicy => "AccessPolicy",
            Kind::Job => "Job",
            Kind::Cluster => "Cluster",
            Kind::ClusterPolicy => "ClusterPolicy",
            Kind::InstancePool => "InstancePool",
            Kind::SqlWarehouse => "SqlWarehouse",
            Kind::Group => "Group",
            Kind::ServicePrincipal => "ServicePrincipal",
            Kind::SecretScope => "SecretScope",
            Kind::Notebook => "Notebook",
            Kind::WorkspaceFile => "WorkspaceFile",
            Kind::Directory => "Directory",
            Kind::Catalog => "Catalog",
            Kind::Schema => "Schema",
            Kind::Grants => "Grants",
            Kind::WorkspaceConf => "WorkspaceConf",
        }
    }

    /// The plural used in `${resources.<plural>.<name>.id}` references.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Application => "applications",
            Kind::ApplicationSet => "applicationsets",
            Kind::Project => "projects",
            Kind::Workspace => "workspaces",
            Kind::Role => "roles",
            Kind::RoleBinding => "rolebindings",
            Kind::AccessPolicy => "accesspolicies",
            Kind::Job => "jobs",
            Kind::Cluster => "clusters",
            Kind::ClusterPolicy => "cluster_policies",
            Kind::InstancePool => "instance_pools",
            Kind::SqlWarehouse => "sql_warehouses",
            Kind::Group => "groups",
            Kind::ServicePrincipal => "service_principals",
            Kind::SecretScope => "secret_scopes",
            Kind::Notebook => "notebooks",
            Kind::WorkspaceFile => "workspace_files",
            Kind::Directory => "directories",
            Kind::Catalog => "catalogs",
            Kind::Schema => "schemas",
            Kind::Grants => "grants",
            Kind::WorkspaceConf => "workspace_confs",
        }
    }

    /// The kind whose plural is `plural`, for parsing references.
    pub fn from_plural(plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == plural)
    }

    /// True for kinds that become objects in a Databricks workspace.
    pub fn is_databricks(self) -> bool {
        !matches!(
            self,
            Kind::Application
                | Kind::ApplicationSet
                | Kind::Project
                | Kind::Workspace
                | Kind::Role
                | Kind::RoleBinding
                | Kind::AccessPolicy
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a `kind:` that names no known kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_plurals_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(Kind::from_plural(kind.plural()), Some(kind));
        }
        assert!("Jobs".parse::<Kind>().is_err());
    }
}
