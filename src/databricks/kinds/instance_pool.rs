//! Instance pools (API 2.0): `list` (not paged), `get`, `create`, `edit`
//! (name and node type must be re-sent), `delete`; ownership in `custom_tags`.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::endpoints::Endpoints;
use super::normalize::{drop_auto_zone, drop_default, drop_empty, fields_in, strip_ownership};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, id_string, owned_or_named, ownership_from_tags,
    str_field, take_array, with_ownership_tags,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::Kind;

pub struct InstancePoolAdapter;

const API: Endpoints = Endpoints {
    get: "/api/2.0/instance-pools/get",
    create: "/api/2.0/instance-pools/create",
    edit: "/api/2.0/instance-pools/edit",
    delete: "/api/2.0/instance-pools/delete",
    id_field: "instance_pool_id",
};
const TAGS: &str = "custom_tags";
/// What `instance-pools/edit` takes: the rest is fixed at create (a pool's
/// `aws_attributes` as the server filled them cannot be sent back).
const EDITABLE: &[&str] = &[
    "instance_pool_name",
    "node_type_id",
    "custom_tags",
    "idle_instance_autotermination_minutes",
    "max_capacity",
    "min_idle_instances",
    "remote_disk_throughput",
    "total_initial_remote_disk_size",
];

const FIELDS: &[&str] = &[
    "instance_pool_name",
    "node_type_id",
    "min_idle_instances",
    "max_capacity",
    "idle_instance_autotermination_minutes",
    "custom_tags",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "disk_spec",
    "enable_elastic_disk",
    "preloaded_spark_versions",
    "preloaded_docker_images",
    "node_type_flexibility",
    "remote_disk_throughput",
    "total_initial_remote_disk_size",
];

fn canonical(v: &Value) -> Value {
    let mut p = fields_in(v, FIELDS);
    strip_ownership(&mut p, TAGS);
    drop_default(&mut p, "min_idle_instances", json!(0));
    drop_default(&mut p, "enable_elastic_disk", json!(true));
    drop_default(&mut p, "idle_instance_autotermination_minutes", json!(60));
    if let Some(aws) = p.get_mut("aws_attributes").and_then(Value::as_object_mut) {
        drop_default(aws, "availability", json!("SPOT"));
        drop_default(aws, "spot_bid_price_percent", json!(100));
        drop_auto_zone(aws);
        drop_empty(aws);
    }
    drop_empty(&mut p);
    Value::Object(p)
}

/// True when `have` holds everything `want` sets (the server may fill
/// more, such as the zone it chose).
fn holds(have: Option<&Value>, want: &Value) -> bool {
    match (have, want) {
        (Some(Value::Object(h)), Value::Object(w)) => w.iter().all(|(k, v)| holds(h.get(k), v)),
        (have, want) => have == Some(want),
    }
}

fn live_object(p: Value) -> Option<ListedObject> {
    Some(ListedObject {
        id: id_string(p.get("instance_pool_id"))?,
        name: str_field(&p, "instance_pool_name").unwrap_or_default(),
        owner: ownership_from_tags(p.get(TAGS)),
        raw: p,
    })
}

impl KindSpec for InstancePoolAdapter {
    /// Before the clusters that draw from it.
    fn apply_rank(&self) -> u8 {
        2
    }

    fn carries_tags(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::InstancePool
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "instance_pool_name")
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
        Some("instance-pools")
    }

    fn tags(&self, raw: &Value) -> BTreeMap<String, String> {
        super::string_map(raw.get(TAGS))
    }

    /// Clusters draw their workers (and driver) from a pool.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["instance_pool_id", "driver_instance_pool_id"]
    }
}

#[async_trait]
impl KindAdapter for InstancePoolAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        let resp = client.get("/api/2.0/instance-pools/list", &[]).await?;
        Ok(owned_or_named(take_array(resp, "instance_pools"), Some(names), live_object).collect())
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let resp = client.get("/api/2.0/instance-pools/list", &[]).await?;
        Ok(Some(
            owned_or_named(take_array(resp, "instance_pools"), None, live_object).collect(),
        ))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        Ok(API.get(client, id).await?.and_then(live_object))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let body = with_ownership_tags(desired.spec, TAGS, &desired.ownership());
        API.create(client, &body).await
    }

    /// Sends what `edit` takes; a change to what is fixed at create
    /// (`aws_attributes`, `disk_spec`, preloaded versions, …) is refused
    /// by name rather than dropped, so it never looks applied.
    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        if let Some(live) = API.get(client, id).await? {
            let (have, want) = (canonical(&live), canonical(desired.spec));
            let fixed: Vec<&str> = FIELDS
                .iter()
                .copied()
                .filter(|f| !EDITABLE.contains(f))
                .filter(|f| want.get(f).is_some_and(|w| !holds(have.get(f), w)))
                .collect();
            if !fixed.is_empty() {
                return Err(Error::Unsupported(format!(
                    "instance pool {id}: {} cannot be changed on an existing pool (delete it and let Mortar create it again)",
                    fixed.join(", ")
                )));
            }
        }
        let editable = Value::Object(fields_in(desired.spec, EDITABLE));
        let body = with_ownership_tags(&editable, TAGS, &desired.ownership());
        API.edit(client, id, &body).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        API.delete(client, id).await
    }
}
