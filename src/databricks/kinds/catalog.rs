//! Unity Catalog catalogs (API 2.1): unique names; paged list, get, create,
//! `PATCH` for updates, delete (never forced: a catalog holding schemas
//! Mortar does not manage is not dropped).

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::normalize::{fields_in, kept};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, found, gone, named_object, spec_str, str_field,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::model::Kind;

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
/// True for the catalogs every metastore has (and the schemas in them).
pub fn is_system_catalog(name: &str) -> bool {
    matches!(name, "system" | "hive_metastore" | "samples")
}
/// Fields `PATCH` may change.
const MUTABLE: &[&str] = &["comment", "properties", "options", "owner"];

fn live_object(c: Value) -> Option<ListedObject> {
    Some(named_object(str_field(&c, "name")?, c))
}

/// The `PATCH` body for a securable (catalogs and schemas): the `mutable`
/// fields of the spec, with a comment the spec no longer sets cleared.
pub(super) fn patch_body(spec: &Value, mutable: &[&str]) -> Value {
    let mut body = fields_in(spec, mutable);
    body.entry("comment").or_insert_with(|| json!(""));
    Value::Object(body)
}

impl KindSpec for CatalogAdapter {
    /// Before its schemas.
    fn apply_rank(&self) -> u8 {
        2
    }

    fn kind(&self) -> Kind {
        Kind::Catalog
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "name")
    }

    fn normalize(&self, live: &Value) -> Value {
        kept(live, FIELDS)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        kept(spec, FIELDS)
    }

    fn grants_securable(&self) -> Option<&'static str> {
        Some("catalog")
    }

    /// The metastore's own catalogs.
    fn made_by_databricks(&self, listed: &ListedObject) -> bool {
        is_system_catalog(&listed.name)
            || listed.raw.get("catalog_type").and_then(Value::as_str) == Some("SYSTEM_CATALOG")
    }
}

#[async_trait]
impl KindAdapter for CatalogAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let all = list_token_paged(client, BASE, &[("max_results", "0")], "catalogs").await?;
        Ok(all
            .into_iter()
            .filter_map(live_object)
            .filter(|o| names.contains(&o.name))
            .collect())
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let all = list_token_paged(client, BASE, &[("max_results", "0")], "catalogs").await?;
        Ok(Some(all.into_iter().filter_map(live_object).collect()))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        Ok(found(client.get(&format!("{BASE}/{id}"), &[]).await)?.and_then(live_object))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let name = spec_str(desired.spec, "name", Kind::Catalog)?.to_string();
        client.post_create(BASE, desired.spec).await?;
        Ok(name)
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
