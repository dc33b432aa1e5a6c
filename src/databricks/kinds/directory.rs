//! Workspace directories: `mkdirs` (idempotent, so creates need no lookup),
//! `get-status`, non-recursive delete (a directory holding objects Mortar
//! does not manage is never emptied).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{fields, keep};
use super::workspace_objects as ws;
use super::{Desired, KindAdapter, LiveObject, spec_str};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct DirectoryAdapter;

fn canonical(v: &Value) -> Value {
    let mut d = fields(v);
    ws::strip_workspace_prefix(&mut d);
    keep(&mut d, &["path"]);
    Value::Object(d)
}

impl KindAdapter for DirectoryAdapter {
    fn kind(&self) -> Kind {
        Kind::Directory
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
                if let Some(o) = ws::read(client, path, "DIRECTORY", None).await? {
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
        Box::pin(ws::read(client, id, "DIRECTORY", None))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let path = spec_str(desired.spec, "path", Kind::Directory)?.to_string();
            client
                .post("/api/2.0/workspace/mkdirs", &json!({ "path": path }))
                .await?;
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
            let path = spec_str(desired.spec, "path", Kind::Directory)?;
            client
                .post("/api/2.0/workspace/mkdirs", &json!({ "path": path }))
                .await?;
            Ok(())
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
        Some("directories")
    }

    fn permissions_id<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(ws::object_id(client, id))
    }
}
