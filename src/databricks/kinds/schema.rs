//! Unity Catalog schemas (API 2.1): identified by `catalog.schema`; listed
//! per catalog (paged), get, create, `PATCH`, delete (never forced).

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::Value;

use super::catalog::{CatalogAdapter, is_system_catalog, patch_body};
use super::normalize::kept;
use super::{Desired, KindAdapter, KindSpec, ListedObject, found, gone, named_object};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::model::Kind;

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

fn full_name(v: &Value) -> Option<String> {
    if let Some(full) = v.get("full_name").and_then(Value::as_str) {
        return Some(full.to_string());
    }
    let catalog = v.get("catalog_name").and_then(Value::as_str)?;
    let name = v.get("name").and_then(Value::as_str)?;
    Some(format!("{catalog}.{name}"))
}

fn live_object(s: Value) -> Option<ListedObject> {
    Some(named_object(full_name(&s)?, s))
}

impl KindSpec for SchemaAdapter {
    fn kind(&self) -> Kind {
        Kind::Schema
    }

    /// `catalog.schema`.
    fn name_of(&self, spec: &Value) -> Option<String> {
        full_name(spec)
    }

    fn normalize(&self, live: &Value) -> Value {
        kept(live, FIELDS)
    }

    fn grants_securable(&self) -> Option<&'static str> {
        Some("schema")
    }

    /// The schemas a catalog is created with, and those of the
    /// metastore's own catalogs.
    fn made_by_databricks(&self, listed: &ListedObject) -> bool {
        let field = |f| listed.raw.get(f).and_then(Value::as_str);
        matches!(field("name"), Some("information_schema" | "default"))
            || field("catalog_name").is_some_and(is_system_catalog)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        kept(spec, FIELDS)
    }
}

#[async_trait]
impl KindAdapter for SchemaAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
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
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let catalogs = CatalogAdapter.list_all(client).await?.unwrap_or_default();
        let mut out = Vec::new();
        for catalog in &catalogs {
            let page = list_token_paged(
                client,
                BASE,
                &[("catalog_name", catalog.id.as_str()), ("max_results", "0")],
                "schemas",
            )
            .await;
            // A catalog dropped meanwhile holds no schemas.
            if let Some(schemas) = found(page)? {
                out.extend(schemas.into_iter().filter_map(live_object));
            }
        }
        Ok(Some(out))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        Ok(found(client.get(&format!("{BASE}/{id}"), &[]).await)?.and_then(live_object))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let full = full_name(desired.spec).ok_or_else(|| {
            Error::Unsupported("Schema spec needs `name` and `catalog_name`".into())
        })?;
        client.post_create(BASE, desired.spec).await?;
        Ok(full)
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        let body = patch_body(desired.spec, MUTABLE);
        client.patch(&format!("{BASE}/{id}"), &body).await?;
        Ok(())
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        gone(client.delete(&format!("{BASE}/{id}"), &[]).await)
    }
}
