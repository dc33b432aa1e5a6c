//! Notebooks: the spec is a `workspace/import` body (`path`, `language`,
//! `format: SOURCE`, base64 `content`); read back with `get-status` and
//! `export`; updated by re-importing with overwrite.

use super::workspace_objects::ImportedAdapter;
use crate::model::Kind;

pub const ADAPTER: ImportedAdapter = ImportedAdapter {
    kind: Kind::Notebook,
    object_type: "NOTEBOOK",
    format: "SOURCE",
    fields: &["path", "language", "content", "format"],
    permissions_type: "notebooks",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::kinds::KindSpec;
    use base64::Engine;
    use serde_json::json;

    #[test]
    fn export_header_and_trailing_newline_do_not_count() {
        let e = base64::engine::general_purpose::STANDARD;
        let spec = json!({"path": "/Shared/a", "language": "PYTHON", "format": "SOURCE",
            "content": e.encode("print(1)\n")});
        let live = json!({"path": "/Shared/a", "language": "PYTHON", "object_type": "NOTEBOOK", "object_id": 5,
            "content": e.encode("# Databricks notebook source\nprint(1)")});
        assert_eq!(ADAPTER.normalize(&live), ADAPTER.normalize_spec(&spec));
    }
}
