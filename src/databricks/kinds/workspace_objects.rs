//! Workspace tree plumbing shared by notebooks, files and directories:
//! `get-status`, `import`, `export`, `mkdirs`, `delete`, and content
//! compared after decoding.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Value, json};

use super::normalize::{drop_default, drop_empty, fields, keep};
use super::{LiveObject, found, gone, id_string, named_object, read_each, spec_str};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `get-status` of a path; `None` when it does not exist.
pub async fn status(client: &Client, path: &str) -> Result<Option<Value>, Error> {
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
) -> Result<Option<LiveObject>, Error> {
    let Some(mut st) = status(client, path).await? else {
        return Ok(None);
    };
    if st.get("object_type").and_then(Value::as_str) != Some(object_type) {
        return Ok(None);
    }
    if let Some(format) = format {
        let Some(export) = found(
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
        if let (Some(obj), Some(content)) = (st.as_object_mut(), export.get("content")) {
            obj.insert("content".into(), content.clone());
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
) -> Result<Vec<LiveObject>, Error> {
    read_each(paths, |path| read(client, path, object_type, format)).await
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

/// Creates the object an import body describes (and its parent directory);
/// returns its path, the object's id.
pub async fn create_imported(
    client: &Client,
    kind: Kind,
    spec: &Value,
    format: &str,
) -> Result<String, Error> {
    let path = spec_str(spec, "path", kind)?.to_string();
    mkdirs_parent(client, &path).await?;
    import(client, &import_body(spec, format), false).await?;
    Ok(path)
}

/// Replaces the object an import body describes.
pub async fn update_imported(client: &Client, spec: &Value, format: &str) -> Result<(), Error> {
    import(client, &import_body(spec, format), true).await
}

/// The spec as an import body, in `format` unless it names one.
fn import_body(spec: &Value, format: &str) -> Value {
    let mut body = fields(spec);
    body.entry("format").or_insert_with(|| json!(format));
    Value::Object(body)
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

pub async fn delete(client: &Client, path: &str, recursive: bool) -> Result<(), Error> {
    gone(
        client
            .post(
                "/api/2.0/workspace/delete",
                &json!({"path": path, "recursive": recursive}),
            )
            .await,
    )
}

/// An imported object in canonical form: only `keys`, `format` dropped
/// when it is the default, content compared after decoding.
pub fn canonical_imported(v: &Value, keys: &[&str], default_format: &str) -> Value {
    let mut map = fields(v);
    keep(&mut map, keys);
    drop_default(&mut map, "format", json!(default_format));
    if let Some(c) = map.get("content") {
        let c = canonical_content(c);
        map.insert("content".into(), c);
    }
    drop_empty(&mut map);
    Value::Object(map)
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
