//! Workspace tree plumbing shared by notebooks, files and directories:
//! `get-status`, `import`, `export`, `mkdirs`, `delete`, and content
//! compared after decoding.

use base64::Engine;
use serde_json::{Value, json};

use super::{LiveObject, found, gone, id_string};
use crate::databricks::client::Client;
use crate::databricks::error::Error;

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
    Ok(Some(LiveObject {
        id: path.to_string(),
        name: path.to_string(),
        owner: None,
        raw: st,
    }))
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

/// Creates the parent directory of `path` (harmless when it exists).
pub async fn mkdirs_parent(client: &Client, path: &str) -> Result<(), Error> {
    if let Some((parent, _)) = path.rsplit_once('/')
        && !parent.is_empty()
    {
        client
            .post("/api/2.0/workspace/mkdirs", &json!({ "path": parent }))
            .await?;
    }
    Ok(())
}

/// Imports `spec` (an import body) at its path.
pub async fn import(client: &Client, spec: &Value, overwrite: bool) -> Result<(), Error> {
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

/// Content in canonical form: decoded, the export header of a notebook
/// source dropped, trailing whitespace trimmed, encoded again.
pub fn canonical_content(content: &Value) -> Value {
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
/// the API answers without it. Strips it from a canonical object's `path`.
pub fn strip_workspace_prefix(obj: &mut serde_json::Map<String, Value>) {
    if let Some(Value::String(p)) = obj.get_mut("path")
        && let Some(rest) = p.strip_prefix("/Workspace")
        && (rest.is_empty() || rest.starts_with('/'))
    {
        *p = if rest.is_empty() {
            "/".to_string()
        } else {
            rest.to_string()
        };
    }
}
