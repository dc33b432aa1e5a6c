//! Unity Catalog catalogs (API 2.1): unique names; paged list, get, create,
//! `PATCH` for updates, delete (never forced: a catalog holding schemas
//! Mortar does not manage is not dropped).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{drop_empty, fields, keep};
use super::{Desired, KindAdapter, LiveObject, found, gone, spec_str};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::manifest::Kind;

pub struct CatalogAdapter;

const BASE: &str = "/api/2.1/unity-catalog/catalogs";
const FIELDS: &[&str] = &[
    "name",
    "comment",
    "properties",
    "storage_root",
    "provider_name",
    "share_name",
    "connection_name",
    "options",
];
/// Fields `PATCH` may change.
const MUTABLE: &[&str] = &["comment", "properties", "options", "owner"];

fn canonical(v: &Value) -> Value {
    let mut c = fields(v);
    keep(&mut c, FIELDS);
    drop_empty(&mut c);
    Value::Object(c)
}

fn live_object(c: Value) -> Option<LiveObject> {
    let name = c.get("name").and_then(Value::as_str)?.to_string();
    Some(LiveObject {
        id: name.clone(),
        name,
        owner: None,
        raw: c,
    })
}

impl KindAdapter for CatalogAdapter {
    fn kind(&self) -> Kind {
        Kind::Catalog
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        spec.get("name").and_then(Value::as_str).map(str::to_string)
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(async move {
            if names.is_empty() {
                return Ok(Vec::new());
            }
            let all = list_token_paged(client, BASE, &[("max_results", "0")], "catalogs").await?;
            Ok(all
                .into_iter()
                .filter_map(live_object)
                .filter(|o| names.contains(&o.name))
                .collect())
        })
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<LiveObject>, Error>> {
        Box::pin(async move {
            Ok(found(client.get(&format!("{BASE}/{id}"), &[]).await)?.and_then(live_object))
        })
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let name = spec_str(desired.spec, "name", Kind::Catalog)?.to_string();
            client.post_create(BASE, desired.spec).await?;
            Ok(name)
        })
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut body = fields(desired.spec);
            keep(&mut body, MUTABLE);
            // Fields the spec no longer sets are cleared.
            body.entry("comment").or_insert_with(|| json!(""));
            client
                .patch(&format!("{BASE}/{id}"), &Value::Object(body))
                .await?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { gone(client.delete(&format!("{BASE}/{id}"), &[]).await) })
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec)
    }
}
