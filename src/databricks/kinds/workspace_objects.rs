//! Workspace tree plumbing shared by notebooks, files and directories
//! (`get-status`, `import`, `export`, `mkdirs`, `delete`, content compared
//! after decoding), and the adapter for imported objects, which differ
//! only in the data an [`ImportedAdapter`] holds.

use async_trait::async_trait;
use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Value, json};

use super::normalize::{drop_default, drop_empty, fields, fields_in};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, found, gone, id_string, named_object, read_each,
    spec_str, str_field,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::Kind;

/// A workspace object made by `workspace/import` (notebooks, files): the
/// spec is an import body with base64 `content`; read back with
/// `get-status` and `export`; updated by importing again with overwrite.
/// The path is its id.
pub struct ImportedAdapter {
    pub kind: Kind,
    /// `object_type` as `get-status` reports it.
    pub object_type: &'static str,
    /// The import and export format, and the spec's default.
    pub format: &'static str,
    /// The spec fields compared.
    pub fields: &'static [&'static str],
    /// The permissions API object type.
    pub permissions_type: &'static str,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The path a spec puts a workspace object at, without the `/Workspace`
/// prefix or a trailing `/`.
pub fn object_path(spec: &Value) -> Option<String> {
    let p = spec.get("path")?.as_str()?;
    let p = p
        .strip_prefix("/Workspace")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(p);
    Some(p.trim_end_matches('/').to_string())
}

/// `get-status` of a path; `None` when it does not exist.
async fn status(client: &Client, path: &str) -> Result<Option<Value>, Error> {
    found(
        client
            .get("/api/2.0/workspace/get-status", &[("path", path)])
            .await,
    )
}

/// The object at `path` if it is of `object_type`, with its exported
/// content under `content` when `format` is given.
pub async fn read(
    client: &Client,
    path: &str,
    object_type: &str,
    format: Option<&str>,
) -> Result<Option<ListedObject>, Error> {
    let Some(mut st) = status(client, path).await? else {
        return Ok(None);
    };
    if st.get("object_type").and_then(Value::as_str) != Some(object_type) {
        return Ok(None);
    }
    if let Some(format) = format {
        let Some(mut export) = found(
            client
                .get(
                    "/api/2.0/workspace/export",
                    &[("path", path), ("format", format)],
                )
                .await,
        )?
        else {
            return Ok(None);
        };
        if let (Some(obj), Some(content)) = (st.as_object_mut(), export.get_mut("content")) {
            obj.insert("content".into(), content.take());
        }
    }
    Ok(Some(named_object(path.to_string(), st)))
}

/// The objects of `object_type` at `paths` (paths holding something else
/// are left out).
pub async fn list(
    client: &Client,
    paths: &BTreeSet<String>,
    object_type: &str,
    format: Option<&str>,
) -> Result<Vec<ListedObject>, Error> {
    read_each(paths, |path| read(client, path, object_type, format)).await
}

/// Every object below `root` (not `root` itself), as `workspace/list`
/// describes them (`path`, `object_type`, …), directories before what
/// they hold.
pub async fn list_tree(client: &Client, root: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_string()];
    while let Some(dir) = dirs.pop() {
        let listed = client
            .get("/api/2.0/workspace/list", &[("path", dir.as_str())])
            .await?;
        let mut objects = super::take_array(listed, "objects");
        objects.sort_by_key(|o| str_field(o, "path"));
        for object in objects {
            if object.get("object_type").and_then(Value::as_str) == Some("DIRECTORY")
                && let Some(path) = str_field(&object, "path")
            {
                dirs.push(path);
            }
            out.push(object);
        }
    }
    Ok(out)
}

/// The numeric object id the permissions API wants for a path.
pub async fn object_id(client: &Client, path: &str) -> Result<String, Error> {
    let st = client
        .get("/api/2.0/workspace/get-status", &[("path", path)])
        .await?;
    id_string(st.get("object_id")).ok_or_else(|| Error::Decode {
        method: "GET".into(),
        path: "/api/2.0/workspace/get-status".into(),
        message: format!("no object_id for {path}"),
    })
}

/// Creates the directory at `path` and its parents (harmless when it exists).
pub async fn mkdirs(client: &Client, path: &str) -> Result<(), Error> {
    client
        .post("/api/2.0/workspace/mkdirs", &json!({ "path": path }))
        .await?;
    Ok(())
}

/// Creates the parent directory of `path`.
async fn mkdirs_parent(client: &Client, path: &str) -> Result<(), Error> {
    match path.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => mkdirs(client, parent).await,
        _ => Ok(()),
    }
}

/// Imports `spec` (an import body) at its path.
async fn import(client: &Client, spec: &Value, overwrite: bool) -> Result<(), Error> {
    let mut body = spec.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("overwrite".into(), json!(overwrite));
    }
    // With overwrite the import is idempotent; without, a repeat answers
    // RESOURCE_ALREADY_EXISTS, which `create` resolves by lookup.
    if overwrite {
        client.post("/api/2.0/workspace/import", &body).await?;
    } else {
        client
            .post_create("/api/2.0/workspace/import", &body)
            .await?;
    }
    Ok(())
}

/// Deletes the object at `path`, never recursively: a directory holding
/// objects Mortar does not manage is not emptied.
pub async fn delete(client: &Client, path: &str) -> Result<(), Error> {
    gone(
        client
            .post(
                "/api/2.0/workspace/delete",
                &json!({"path": path, "recursive": false}),
            )
            .await,
    )
}

impl ImportedAdapter {
    /// The spec as an import body, in the kind's format unless it names one.
    fn import_body(&self, spec: &Value) -> Value {
        let mut body = fields(spec);
        body.entry("format").or_insert_with(|| json!(self.format));
        Value::Object(body)
    }

    /// Only the compared fields, `format` dropped when it is the default,
    /// content compared after decoding.
    fn canonical(&self, v: &Value) -> Value {
        let mut map = fields_in(v, self.fields);
        strip_workspace_prefix(&mut map);
        drop_default(&mut map, "format", json!(self.format));
        if let Some(c) = map.get("content") {
            let c = canonical_content(c);
            map.insert("content".into(), c);
        }
        drop_empty(&mut map);
        Value::Object(map)
    }
}

impl KindSpec for ImportedAdapter {
    fn workspace_path(&self, spec: &Value) -> Option<String> {
        object_path(spec)
    }

    fn workspace_object_type(&self) -> Option<&'static str> {
        Some(self.object_type)
    }

    fn kind(&self) -> Kind {
        self.kind
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "path")
    }

    fn normalize(&self, live: &Value) -> Value {
        self.canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        self.canonical(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some(self.permissions_type)
    }
}

#[async_trait]
impl KindAdapter for ImportedAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        list(client, names, self.object_type, Some(self.format)).await
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        read(client, id, self.object_type, Some(self.format)).await
    }

    /// Creates the parent directory, then imports without overwrite.
    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let path = spec_str(desired.spec, "path", self.kind)?.to_string();
        mkdirs_parent(client, &path).await?;
        import(client, &self.import_body(desired.spec), false).await?;
        Ok(path)
    }

    async fn update(&self, client: &Client, _id: &str, desired: Desired<'_>) -> Result<(), Error> {
        import(client, &self.import_body(desired.spec), true).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        delete(client, id).await
    }

    async fn permissions_id(&self, client: &Client, id: &str) -> Result<String, Error> {
        object_id(client, id).await
    }
}

/// Content in canonical form: decoded, the export header of a notebook
/// source dropped, trailing whitespace trimmed, encoded again.
fn canonical_content(content: &Value) -> Value {
    let Some(text) = content.as_str() else {
        return content.clone();
    };
    let Ok(bytes) = B64.decode(text.trim()) else {
        return content.clone();
    };
    let Ok(source) = String::from_utf8(bytes.clone()) else {
        return Value::String(B64.encode(bytes));
    };
    let mut body = source.as_str();
    for header in [
        "# Databricks notebook source",
        "-- Databricks notebook source",
        "// Databricks notebook source",
    ] {
        if let Some(rest) = body.strip_prefix(header) {
            body = rest.trim_start_matches(['\r', '\n']);
        }
    }
    Value::String(B64.encode(body.trim_end()))
}

/// Workspace paths may be written with or without the `/Workspace` prefix;
/// the API answers without it. The path without it.
pub fn without_workspace_prefix(path: &str) -> &str {
    match path.strip_prefix("/Workspace") {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Strips the `/Workspace` prefix from a canonical object's `path`.
pub fn strip_workspace_prefix(obj: &mut serde_json::Map<String, Value>) {
    if let Some(Value::String(p)) = obj.get_mut("path") {
        *p = without_workspace_prefix(p).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::kinds::spec;

    #[test]
    fn objects_nest_by_path_with_or_without_the_workspace_prefix() {
        let at = |kind: Kind, path: &str| spec(kind)?.workspace_path(&json!({ "path": path }));
        let dir = at(Kind::Directory, "/Workspace/Shared/etl/").expect("a folder path");
        assert_eq!(dir, "/Shared/etl");
        let notebook = at(Kind::Notebook, "/Shared/etl/ingest").expect("a path");
        assert!(notebook.starts_with(&format!("{dir}/")));
        // `/Workspaces` is not the `/Workspace` prefix.
        assert_eq!(
            at(Kind::WorkspaceFile, "/Workspaces/x").as_deref(),
            Some("/Workspaces/x")
        );
        assert_eq!(at(Kind::Job, "/Shared/etl/x"), None);
        assert!(spec(Kind::Directory).is_some_and(|k| k.is_folder()));
        assert!(!spec(Kind::Notebook).is_some_and(|k| k.is_folder()));
    }
}
