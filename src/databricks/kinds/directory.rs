//! Workspace directories: `mkdirs` (idempotent, so creates need no lookup),
//! `get-status`, non-recursive delete (a directory holding objects Mortar
//! does not manage is never emptied).

use async_trait::async_trait;
use std::collections::BTreeSet;

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

    fn workspace_object_type(&self) -> Option<&'static str> {
        Some(OBJECT_TYPE)
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

#[async_trait]
impl KindAdapter for DirectoryAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        ws::list(client, names, OBJECT_TYPE, None).await
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        ws::read(client, id, OBJECT_TYPE, None).await
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let path = spec_str(desired.spec, "path", Kind::Directory)?;
        ws::mkdirs(client, path).await?;
        Ok(path.to_string())
    }

    async fn update(&self, client: &Client, _id: &str, desired: Desired<'_>) -> Result<(), Error> {
        ws::mkdirs(client, spec_str(desired.spec, "path", Kind::Directory)?).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        ws::delete(client, id).await
    }

    async fn permissions_id(&self, client: &Client, id: &str) -> Result<String, Error> {
        ws::object_id(client, id).await
    }
}
