//! Unity Catalog schemas (API 2.1): identified by `catalog.schema`; listed
//! per catalog (paged), get, create, `PATCH`, delete (never forced).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{drop_empty, fields, keep};
use super::{Desired, KindAdapter, LiveObject, found, gone};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::manifest::Kind;

pub struct SchemaAdapter;

const BASE: &str = "/api/2.1/unity-catalog/schemas";
const FIELDS: &[&str] = &[
    "name",
    "catalog_name",
    "comment",
    "properties",
    "storage_root",
];
const MUTABLE: &[&str] = &["comment", "properties", "owner"];

fn canonical(v: &Value) -> Value {
    let mut s = fields(v);
    keep(&mut s, FIELDS);
    drop_empty(&mut s);
    Value::Object(s)
}

fn full_name(v: &Value) -> Option<String> {
    if let Some(full) = v.get("full_name").and_then(Value::as_str) {
        return Some(full.to_string());
    }
    let catalog = v.get("catalog_name").and_then(Value::as_str)?;
    let name = v.get("name").and_then(Value::as_str)?;
    Some(format!("{catalog}.{name}"))
}

fn live_object(s: Value) -> Option<LiveObject> {
    let full = full_name(&s)?;
    Some(LiveObject {
        id: full.clone(),
        name: full,
        owner: None,
        raw: s,
    })
}

impl KindAdapter for SchemaAdapter {
    fn kind(&self) -> Kind {
        Kind::Schema
    }

    /// `catalog.schema`.
    fn name_of(&self, spec: &Value) -> Option<String> {
        full_name(spec)
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(async move {
            let catalogs: BTreeSet<&str> = names
                .iter()
                .filter_map(|n| n.split_once('.').map(|(c, _)| c))
                .collect();
            let mut out = Vec::new();
            for catalog in catalogs {
                let page = list_token_paged(
                    client,
                    BASE,
                    &[("catalog_name", catalog), ("max_results", "0")],
                    "schemas",
                )
                .await;
                // A catalog that does not exist yet holds no schemas.
                let Some(schemas) = found(page)? else {
                    continue;
                };
                out.extend(
                    schemas
                        .into_iter()
                        .filter_map(live_object)
                        .filter(|o| names.contains(&o.name)),
                );
            }
            Ok(out)
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
            let full = full_name(desired.spec).ok_or_else(|| {
                Error::Unsupported("Schema spec needs `name` and `catalog_name`".into())
            })?;
            client.post_create(BASE, desired.spec).await?;
            Ok(full)
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
