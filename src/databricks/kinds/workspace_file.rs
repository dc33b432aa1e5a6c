//! Workspace files: the spec is a `workspace/import` body (`path`, base64
//! `content`, `format: AUTO` by default); read back with `export`.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::Value;

use super::workspace_objects as ws;
use super::{Desired, KindAdapter, LiveObject, str_field};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct WorkspaceFileAdapter;

const OBJECT_TYPE: &str = "FILE";
const FORMAT: &str = "AUTO";
const FIELDS: &[&str] = &["path", "content"];

impl KindAdapter for WorkspaceFileAdapter {
    fn kind(&self) -> Kind {
        Kind::WorkspaceFile
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "path")
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(ws::list(client, names, OBJECT_TYPE, Some(FORMAT)))
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<LiveObject>, Error>> {
        Box::pin(ws::read(client, id, OBJECT_TYPE, Some(FORMAT)))
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(ws::create_imported(
            client,
            Kind::WorkspaceFile,
            desired.spec,
            FORMAT,
        ))
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        _id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ws::update_imported(client, desired.spec, FORMAT))
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ws::delete(client, id, false))
    }

    fn normalize(&self, live: &Value) -> Value {
        ws::canonical_imported(live, FIELDS, FORMAT)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        ws::canonical_imported(spec, FIELDS, FORMAT)
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
