//! Workspace files: the spec is a `workspace/import` body (`path`, base64
//! `content`, `format: AUTO` by default); read back with `export`.

use super::workspace_objects::ImportedAdapter;
use crate::model::Kind;

pub const ADAPTER: ImportedAdapter = ImportedAdapter {
    kind: Kind::WorkspaceFile,
    object_type: "FILE",
    format: "AUTO",
    fields: &["path", "content"],
    permissions_type: "files",
};
