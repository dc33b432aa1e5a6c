//! Workspace files: the spec is a `workspace/import` body (`path`, base64
//! `content`, `format: AUTO` by default); read back with `export`.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{drop_empty, fields, keep};
use super::workspace_objects::{self as ws, canonical_content};
use super::{Desired, KindAdapter, LiveObject, spec_str};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct WorkspaceFileAdapter;

fn canonical(v: &Value) -> Value {
    let mut f = fields(v);
    ws::strip_workspace_prefix(&mut f);
    keep(&mut f, &["path", "content"]);
    if let Some(c) = f.get("content") {
        let c = canonical_content(c);
        f.insert("content".into(), c);
    }
    drop_empty(&mut f);
    Value::Object(f)
}

fn body(spec: &Value) -> Value {
    let mut b = fields(spec);
    b.entry("format").or_insert_with(|| json!("AUTO"));
    Value::Object(b)
}

impl KindAdapter for WorkspaceFileAdapter {
    fn kind(&self) -> Kind {
        Kind::WorkspaceFile
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
                if let Some(o) = ws::read(client, path, "FILE", Some("AUTO")).await? {
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
        Box::pin(ws::read(client, id, "FILE", Some("AUTO")))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let path = spec_str(desired.spec, "path", Kind::WorkspaceFile)?.to_string();
            ws::mkdirs_parent(client, &path).await?;
            ws::import(client, &body(desired.spec), false).await?;
            Ok(path)
        })
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        _id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { ws::import(client, &body(desired.spec), true).await })
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
        Some("files")
    }

    fn permissions_id<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(ws::object_id(client, id))
    }
}
