//! Notebooks: the spec is a `workspace/import` body (`path`, `language`,
//! `format: SOURCE`, base64 `content`); read back with `get-status` and
//! `export`; updated by re-importing with overwrite.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{drop_default, drop_empty, fields, keep};
use super::workspace_objects::{self as ws, canonical_content};
use super::{Desired, KindAdapter, LiveObject, spec_str};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct NotebookAdapter;

fn canonical(v: &Value) -> Value {
    let mut n = fields(v);
    ws::strip_workspace_prefix(&mut n);
    keep(&mut n, &["path", "language", "content", "format"]);
    drop_default(&mut n, "format", json!("SOURCE"));
    if let Some(c) = n.get("content") {
        let c = canonical_content(c);
        n.insert("content".into(), c);
    }
    drop_empty(&mut n);
    Value::Object(n)
}

impl KindAdapter for NotebookAdapter {
    fn kind(&self) -> Kind {
        Kind::Notebook
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        spec.get("path").and_then(Value::as_str).map(str::to_string)
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for path in names {
                if let Some(o) = ws::read(client, path, "NOTEBOOK", Some("SOURCE")).await? {
                    out.push(o);
                }
            }
            Ok(out)
        })
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<LiveObject>, Error>> {
        Box::pin(ws::read(client, id, "NOTEBOOK", Some("SOURCE")))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let path = spec_str(desired.spec, "path", Kind::Notebook)?.to_string();
            let mut body = fields(desired.spec);
            body.entry("format").or_insert_with(|| json!("SOURCE"));
            ws::mkdirs_parent(client, &path).await?;
            ws::import(client, &Value::Object(body), false).await?;
            Ok(path)
        })
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        _id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut body = fields(desired.spec);
            body.entry("format").or_insert_with(|| json!("SOURCE"));
            ws::import(client, &Value::Object(body), true).await
        })
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ws::delete(client, id, false))
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some("notebooks")
    }

    fn permissions_id<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(ws::object_id(client, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn export_header_and_trailing_newline_do_not_count() {
        let e = base64::engine::general_purpose::STANDARD;
        let spec = json!({"path": "/Shared/a", "language": "PYTHON", "format": "SOURCE",
            "content": e.encode("print(1)\n")});
        let live = json!({"path": "/Shared/a", "language": "PYTHON", "object_type": "NOTEBOOK", "object_id": 5,
            "content": e.encode("# Databricks notebook source\nprint(1)")});
        assert_eq!(
            NotebookAdapter.normalize(&live),
            NotebookAdapter.normalize_spec(&spec)
        );
    }
}
