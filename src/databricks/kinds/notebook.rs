//! Notebooks: the spec is a `workspace/import` body (`path`, `language`,
//! `format: SOURCE`, base64 `content`); read back with `get-status` and
//! `export`; updated by re-importing with overwrite.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::Value;

use super::workspace_objects as ws;
use super::{Desired, KindAdapter, LiveObject, str_field};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::manifest::Kind;

pub struct NotebookAdapter;

const OBJECT_TYPE: &str = "NOTEBOOK";
const FORMAT: &str = "SOURCE";
const FIELDS: &[&str] = &["path", "language", "content", "format"];

impl KindAdapter for NotebookAdapter {
    fn kind(&self) -> Kind {
        Kind::Notebook
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
            Kind::Notebook,
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
    use serde_json::json;

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
