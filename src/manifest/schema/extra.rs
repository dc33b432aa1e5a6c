//! Request shapes Mortar spells out itself: SCIM bodies (camelCase on the
//! wire), workspace import/mkdirs bodies, Unity Catalog grants, and the
//! workspace-conf keys; and what the API documents about the generated
//! shapes that the SDK's types do not say (enums it reads in any case).

use super::{Ty, TypeDef, f};

static VALUE_REF: TypeDef = TypeDef {
    name: "ComplexValue",
    fields: &[
        f("value", Ty::Str, false, true),
        f("display", Ty::Str, false, false),
        f("primary", Ty::Bool, false, false),
        f("type", Ty::Str, false, false),
        f("$ref", Ty::Str, false, false),
    ],
};

/// Entitlement values a workspace accepts.
pub static ENTITLEMENTS: &[&str] = &[
    "allow-cluster-create",
    "allow-instance-pool-create",
    "databricks-sql-access",
    "workspace-access",
    "workspace-consume",
];

static ENTITLEMENT: TypeDef = TypeDef {
    name: "Entitlement",
    fields: &[f("value", Ty::Enum(ENTITLEMENTS), false, true)],
};

/// SCIM `Group` create body.
pub static GROUP: TypeDef = TypeDef {
    name: "Group",
    fields: &[
        f("displayName", Ty::Str, false, true),
        f("externalId", Ty::Str, false, false),
        f("members", Ty::Obj(&VALUE_REF), true, false),
        f("entitlements", Ty::Obj(&ENTITLEMENT), true, false),
        f("roles", Ty::Obj(&VALUE_REF), true, false),
        f("groups", Ty::Obj(&VALUE_REF), true, false),
        f("schemas", Ty::Str, true, false),
    ],
};

/// SCIM `ServicePrincipal` create body.
pub static SERVICE_PRINCIPAL: TypeDef = TypeDef {
    name: "ServicePrincipal",
    fields: &[
        f("displayName", Ty::Str, false, true),
        f("applicationId", Ty::Str, false, false),
        f("active", Ty::Bool, false, false),
        f("externalId", Ty::Str, false, false),
        f("entitlements", Ty::Obj(&ENTITLEMENT), true, false),
        f("roles", Ty::Obj(&VALUE_REF), true, false),
        f("groups", Ty::Obj(&VALUE_REF), true, false),
        f("schemas", Ty::Str, true, false),
    ],
};

static IMPORT_FORMATS: &[&str] = &[
    "AUTO",
    "DBC",
    "HTML",
    "JUPYTER",
    "RAW",
    "R_MARKDOWN",
    "SOURCE",
];
static LANGUAGES: &[&str] = &["PYTHON", "R", "SCALA", "SQL"];

/// Workspace import body for a notebook; `content` is filled from `source:`.
pub static NOTEBOOK: TypeDef = TypeDef {
    name: "Notebook",
    fields: &[
        f("path", Ty::Str, false, true),
        f("format", Ty::Enum(IMPORT_FORMATS), false, false),
        f("language", Ty::Enum(LANGUAGES), false, false),
        f("overwrite", Ty::Bool, false, false),
    ],
};

/// Workspace import body for a file; `content` is filled from `source:`.
pub static WORKSPACE_FILE: TypeDef = TypeDef {
    name: "WorkspaceFile",
    fields: &[
        f("path", Ty::Str, false, true),
        f("format", Ty::Enum(&["AUTO", "RAW"]), false, false),
        f("overwrite", Ty::Bool, false, false),
    ],
};

/// Workspace mkdirs body.
pub static DIRECTORY: TypeDef = TypeDef {
    name: "Directory",
    fields: &[f("path", Ty::Str, false, true)],
};

/// Securable types grants can be declared on (as in the UC permissions path).
pub static SECURABLE_TYPES: &[&str] = &[
    "catalog",
    "schema",
    "table",
    "volume",
    "function",
    "external_location",
    "storage_credential",
    "credential",
    "connection",
    "metastore",
    "share",
    "model",
];

static PRIVILEGE_ASSIGNMENT: TypeDef = TypeDef {
    name: "PrivilegeAssignment",
    fields: &[
        f("principal", Ty::Str, false, true),
        f("privileges", Ty::Str, true, true),
    ],
};

/// The direct grants on one securable, authoritative.
pub static GRANTS: TypeDef = TypeDef {
    name: "Grants",
    fields: &[
        f("securable_type", Ty::Enum(SECURABLE_TYPES), false, true),
        f("full_name", Ty::Str, false, true),
        f(
            "privilege_assignments",
            Ty::Obj(&PRIVILEGE_ASSIGNMENT),
            true,
            true,
        ),
    ],
};

/// Workspace-conf keys (the `/api/2.0/workspace-conf` PATCH body); values are strings.
pub static WORKSPACE_CONF: TypeDef = TypeDef {
    name: "WorkspaceConf",
    fields: &[
        f("enableTokensConfig", Ty::Str, false, false),
        f("maxTokenLifetimeDays", Ty::Str, false, false),
        f("enableIpAccessLists", Ty::Str, false, false),
        f("enableDbfsFileBrowser", Ty::Str, false, false),
        f("enableExportNotebook", Ty::Str, false, false),
        f("enableNotebookTableClipboard", Ty::Str, false, false),
        f("enableResultsDownloading", Ty::Str, false, false),
        f("enableWebTerminal", Ty::Str, false, false),
        f("enableUploadDataUis", Ty::Str, false, false),
        f("enableVerboseAuditLogs", Ty::Str, false, false),
        f("enableDeprecatedGlobalInitScripts", Ty::Str, false, false),
        f(
            "enableDeprecatedClusterNamedInitScripts",
            Ty::Str,
            false,
            false,
        ),
        f("enforceUserIsolation", Ty::Str, false, false),
        f("enableWorkspaceFilesystem", Ty::Str, false, false),
        f("enableProjectTypeInWorkspace", Ty::Str, false, false),
        f("enableHlsRuntime", Ty::Str, false, false),
        f(
            "storeInteractiveNotebookResultsInCustomerAccount",
            Ty::Str,
            false,
            false,
        ),
        f("mlflowRunArtifactDownloadEnabled", Ty::Str, false, false),
        f(
            "mlflowModelServingEndpointCreationEnabled",
            Ty::Str,
            false,
            false,
        ),
        f(
            "mlflowModelRegistryEmailNotificationsEnabled",
            Ty::Str,
            false,
            false,
        ),
        f("enableJobViewAcls", Ty::Str, false, false),
        f("enforceClusterViewAcls", Ty::Str, false, false),
        f("enforceWorkspaceViewAcls", Ty::Str, false, false),
        f("rStudioUserDefaultHomeBase", Ty::Str, false, false),
    ],
};

/// Enum fields the API documents as case-insensitive, by field name (the
/// last segment of the path): `git_source.git_provider` ("gitHub", and the
/// `github` that `databricks bundle generate` writes).
pub static CASE_INSENSITIVE_ENUMS: &[&str] = &["git_provider"];

/// True when the enum field at `path` accepts its values in any case.
pub fn case_insensitive(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    CASE_INSENSITIVE_ENUMS.contains(&last)
}
