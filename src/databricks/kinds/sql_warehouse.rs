//! SQL warehouses (API 2.0): paged list, get, create, `edit`, delete;
//! ownership in `tags.custom_tags` (a list of `{key, value}`).

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::normalize::{drop_default, drop_empty, fields, keep, sort_by_field};
use super::{
    APP_TAG, Desired, KEY_TAG, KindAdapter, LiveObject, Ownership, found, gone, id_string, wanted,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::manifest::Kind;

pub struct SqlWarehouseAdapter;

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
];

fn custom_tags(v: &Value) -> Vec<Value> {
    v.pointer("/tags/custom_tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn tag<'a>(tags: &'a [Value], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.get("key").and_then(Value::as_str) == Some(key))
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
}

fn ownership(v: &Value) -> Option<Ownership> {
    let tags = custom_tags(v);
    Some(Ownership {
        app: tag(&tags, APP_TAG)?.to_string(),
        key: tag(&tags, KEY_TAG)?.to_string(),
    })
}

fn with_ownership(spec: &Value, owner: &Ownership) -> Value {
    let mut tags: Vec<Value> = custom_tags(spec)
        .into_iter()
        .filter(|t| {
            !matches!(t.get("key").and_then(Value::as_str), Some(k) if k == APP_TAG || k == KEY_TAG)
        })
        .collect();
    tags.push(json!({"key": APP_TAG, "value": owner.app}));
    tags.push(json!({"key": KEY_TAG, "value": owner.key}));
    let mut body = fields(spec);
    body.insert("tags".into(), json!({ "custom_tags": tags }));
    Value::Object(body)
}

fn canonical(v: &Value) -> Value {
    let mut w = fields(v);
    keep(&mut w, FIELDS);
    let mut tags: Vec<Value> = custom_tags(v)
        .into_iter()
        .filter(|t| {
            !matches!(t.get("key").and_then(Value::as_str), Some(k) if k == APP_TAG || k == KEY_TAG)
        })
        .collect();
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

fn live_object(w: Value) -> Option<LiveObject> {
    Some(LiveObject {
        id: id_string(w.get("id"))?,
        name: w
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        owner: ownership(&w),
        raw: w,
    })
}

impl KindAdapter for SqlWarehouseAdapter {
    fn kind(&self) -> Kind {
        Kind::SqlWarehouse
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        spec.get("name").and_then(Value::as_str).map(str::to_string)
    }

    fn unique_names(&self) -> bool {
        false
    }

    fn list<'a>(
        &'a self,
        client: &'a Client,
        names: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<Vec<LiveObject>, Error>> {
        Box::pin(async move {
            let all = list_token_paged(
                client,
                "/api/2.0/sql/warehouses",
                &[("page_size", "100")],
                "warehouses",
            )
            .await?;
            Ok(all
                .into_iter()
                .filter_map(live_object)
                .filter(|o| wanted(&o.owner, &o.name, names))
                .filter(|o| {
                    !matches!(
                        o.raw.get("state").and_then(Value::as_str),
                        Some("DELETED" | "DELETING")
                    )
                })
                .collect())
        })
    }

    fn get<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<LiveObject>, Error>> {
        Box::pin(async move {
            let path = format!("/api/2.0/sql/warehouses/{id}");
            Ok(found(client.get(&path, &[]).await)?
                .and_then(live_object)
                .filter(|o| o.raw.get("state").and_then(Value::as_str) != Some("DELETED")))
        })
    }

    fn create_once<'a>(
        &'a self,
        client: &'a Client,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let body = with_ownership(desired.spec, &desired.ownership());
            let resp = client.post_create("/api/2.0/sql/warehouses", &body).await?;
            id_string(resp.get("id")).ok_or_else(|| Error::Decode {
                method: "POST".into(),
                path: "/api/2.0/sql/warehouses".into(),
                message: "no id in the response".into(),
            })
        })
    }

    fn update<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        desired: Desired<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let body = with_ownership(desired.spec, &desired.ownership());
            client
                .post(&format!("/api/2.0/sql/warehouses/{id}/edit"), &body)
                .await?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            gone(
                client
                    .delete(&format!("/api/2.0/sql/warehouses/{id}"), &[])
                    .await,
            )
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_lives_in_the_custom_tag_list() {
        let owner = Ownership {
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
