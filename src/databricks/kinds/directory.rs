//! Workspace directories: `mkdirs` (idempotent, so creates need no lookup),
//! `get-status`, non-recursive delete (a directory holding objects Mortar
//! does not manage is never emptied).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::Value;

use super::normalize::fields_in;
use super::workspace_objects as ws;
use super::{Desired, KindAdapter, KindSpec, ListedObject, spec_str, str_field};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::Kind;

pub struct DirectoryAdapter;

const OBJECT_TYPE: &str = "DIRECTORY";

fn canonical(v: &Value) -> Value {
    let mut d = fields_in(v, &["path"]);
    ws::strip_workspace_prefix(&mut d);
    Value::Object(d)
}

impl KindSpec for DirectoryAdapter {
    /// Before the notebooks and files inside it.
    fn apply_rank(&self) -> u8 {
        2
    }

    fn workspace_path(&self, spec: &Value) -> Option<String> {
        ws::object_path(spec)
    }

    /// Notebooks, files and directories declared inside wait for it.
    fn is_folder(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::Directory
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "path")
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
}

impl KindAdapter for DirectoryAdapter {
    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<ListedObject>, Error>> {
        Box::pin(ws::list(client, names, OBJECT_TYPE, None))
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ListedObject>, Error>> {
        Box::pin(ws::read(client, id, OBJECT_TYPE, None))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let path = spec_str(desired.spec, "path", Kind::Directory)?;
            ws::mkdirs(client, path).await?;
            Ok(path.to_string())
        })
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        _id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            ws::mkdirs(client, spec_str(desired.spec, "path", Kind::Directory)?).await
        })
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ws::delete(client, id))
    }

    fn permissions_id<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(ws::object_id(client, id))
    }
}
