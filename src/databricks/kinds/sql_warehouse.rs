//! SQL warehouses (API 2.0): paged list, get, create, `edit`, delete;
//! ownership in `tags.custom_tags` (a list of `{key, value}`).

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::normalize::{drop_default, drop_empty, fields, fields_in, sort_by_field};
use super::{
    APP_TAG, Desired, KEY_TAG, KindAdapter, KindSpec, ListedObject, OwnershipTags, created_id,
    found, gone, id_string, owned_or_named, str_field,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::model::Kind;

pub struct SqlWarehouseAdapter;

const BASE: &str = "/api/2.0/sql/warehouses";

const FIELDS: &[&str] = &[
    "name",
    "cluster_size",
    "min_num_clusters",
    "max_num_clusters",
    "auto_stop_mins",
    "enable_photon",
    "enable_serverless_compute",
    "warehouse_type",
    "spot_instance_policy",
    "channel",
    "tags",
    "instance_profile_arn",
    "max_dbu",
];

/// The `{key, value}` list at `tags.custom_tags`.
fn custom_tags(v: &Value) -> &[Value] {
    v.pointer("/tags/custom_tags")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn tag_key(t: &Value) -> Option<&str> {
    t.get("key").and_then(Value::as_str)
}

fn tag<'a>(tags: &'a [Value], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| tag_key(t) == Some(key))
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
}

/// The custom tags other than Mortar's ownership tags.
fn user_tags(v: &Value) -> Vec<Value> {
    custom_tags(v)
        .iter()
        .filter(|t| !matches!(tag_key(t), Some(k) if k == APP_TAG || k == KEY_TAG))
        .cloned()
        .collect()
}

fn ownership(v: &Value) -> Option<OwnershipTags> {
    let tags = custom_tags(v);
    Some(OwnershipTags {
        app: tag(tags, APP_TAG)?.to_string(),
        key: tag(tags, KEY_TAG)?.to_string(),
    })
}

fn with_ownership(spec: &Value, owner: &OwnershipTags) -> Value {
    let mut tags = user_tags(spec);
    tags.push(json!({"key": APP_TAG, "value": owner.app}));
    tags.push(json!({"key": KEY_TAG, "value": owner.key}));
    let mut body = fields(spec);
    body.insert("tags".into(), json!({ "custom_tags": tags }));
    Value::Object(body)
}

fn canonical(v: &Value) -> Value {
    let mut w = fields_in(v, FIELDS);
    let mut tags = user_tags(v);
    sort_by_field(&mut tags, "key");
    if tags.is_empty() {
        w.remove("tags");
    } else {
        w.insert("tags".into(), json!({ "custom_tags": tags }));
    }
    drop_default(&mut w, "auto_stop_mins", json!(120));
    drop_default(&mut w, "min_num_clusters", json!(1));
    drop_default(&mut w, "max_num_clusters", json!(1));
    drop_default(&mut w, "enable_photon", json!(true));
    drop_default(&mut w, "enable_serverless_compute", json!(false));
    drop_default(&mut w, "spot_instance_policy", json!("COST_OPTIMIZED"));
    drop_default(&mut w, "warehouse_type", json!("CLASSIC"));
    drop_default(&mut w, "channel", json!({"name": "CHANNEL_NAME_CURRENT"}));
    drop_empty(&mut w);
    Value::Object(w)
}

fn live_object(w: Value) -> Option<ListedObject> {
    Some(ListedObject {
        id: id_string(w.get("id"))?,
        name: str_field(&w, "name").unwrap_or_default(),
        owner: ownership(&w),
        raw: w,
    })
}

impl KindSpec for SqlWarehouseAdapter {
    fn carries_tags(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::SqlWarehouse
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "name")
    }

    fn unique_names(&self) -> bool {
        false
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some("warehouses")
    }

    fn tags(&self, raw: &Value) -> BTreeMap<String, String> {
        custom_tags(raw)
            .iter()
            .filter_map(|t| {
                let value = t.get("value").and_then(Value::as_str)?;
                Some((tag_key(t)?.to_string(), value.to_string()))
            })
            .collect()
    }

    /// SQL tasks, dashboards and alerts run on a warehouse.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["warehouse_id"]
    }
}

#[async_trait]
impl KindAdapter for SqlWarehouseAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        let all = list_token_paged(client, BASE, &[("page_size", "100")], "warehouses").await?;
        Ok(owned_or_named(all, Some(names), live_object)
            .filter(|o| !is_going(o))
            .collect())
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let all = list_token_paged(client, BASE, &[("page_size", "100")], "warehouses").await?;
        Ok(Some(
            owned_or_named(all, None, live_object)
                .filter(|o| !is_going(o))
                .collect(),
        ))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        let path = format!("{BASE}/{id}");
        Ok(found(client.get(&path, &[]).await)?
            .and_then(live_object)
            .filter(|o| !is_going(o)))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let body = with_ownership(desired.spec, &desired.ownership());
        let resp = client.post_create(BASE, &body).await?;
        created_id(&resp, "id", BASE)
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        let body = with_ownership(desired.spec, &desired.ownership());
        client.post(&format!("{BASE}/{id}/edit"), &body).await?;
        Ok(())
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        gone(client.delete(&format!("{BASE}/{id}"), &[]).await)
    }
}

/// A warehouse being deleted, or deleted: list and get both treat it as gone.
fn is_going(o: &ListedObject) -> bool {
    matches!(
        o.raw.get("state").and_then(Value::as_str),
        Some("DELETED" | "DELETING")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_lives_in_the_custom_tag_list() {
        let owner = OwnershipTags {
            app: "a".into(),
            key: "w/SqlWarehouse/bi".into(),
        };
        let spec = json!({"name": "bi", "cluster_size": "Small",
            "tags": {"custom_tags": [{"key": "team", "value": "bi"}]}});
        let body = with_ownership(&spec, &owner);
        assert_eq!(ownership(&body), Some(owner));
        let mut live = body.clone();
        live["id"] = json!("w1");
        live["state"] = json!("RUNNING");
        live["auto_stop_mins"] = json!(120);
        live["creator_name"] = json!("me");
        assert_eq!(SqlWarehouseAdapter.normalize(&live), spec);
    }
}
