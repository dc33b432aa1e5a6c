//! All-purpose clusters (API 2.1): `clusters/list` (paged), `get` (whose
//! `spec` is the user's last settings), `create`, `edit` for updates,
//! `permanent-delete`; ownership in `custom_tags`.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::endpoints::Endpoints;
use super::normalize::{
    drop_auto_zone, drop_default, drop_empty, fields, fields_in, fill_default, is_empty,
    strip_ownership,
};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, id_string, owned_or_named, ownership_from_tags,
    str_field, with_ownership_tags,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::model::Kind;

pub struct ClusterAdapter;

/// Fields a user sets in a cluster spec (`ClusterSpec`).
pub const CLUSTER_SPEC_FIELDS: &[&str] = &[
    "apply_policy_default_values",
    "autoscale",
    "autotermination_minutes",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "cluster_log_conf",
    "cluster_name",
    "custom_tags",
    "data_security_mode",
    "docker_image",
    "driver_instance_pool_id",
    "driver_node_type_id",
    "enable_elastic_disk",
    "enable_local_disk_encryption",
    "init_scripts",
    "instance_pool_id",
    "is_single_node",
    "kind",
    "node_type_id",
    "num_workers",
    "policy_id",
    "runtime_engine",
    "single_user_name",
    "spark_conf",
    "spark_env_vars",
    "spark_version",
    "ssh_public_keys",
    "use_ml_runtime",
    "workload_type",
    "libraries",
    "dependency_mode",
    "driver_node_type_flexibility",
    "worker_node_type_flexibility",
    "remote_disk_throughput",
    "total_initial_remote_disk_size",
];

/// A cluster spec in canonical form: user fields only, server defaults and
/// the ownership tags dropped. Used for clusters and jobs' `new_cluster`.
pub fn normalize_cluster_spec(spec: &Value) -> Value {
    let mut c = fields_in(spec, CLUSTER_SPEC_FIELDS);
    strip_ownership(&mut c, TAGS);
    // Not returned on read; the server applies it at create time.
    c.remove("apply_policy_default_values");
    drop_default(&mut c, "enable_elastic_disk", json!(false));
    drop_default(&mut c, "enable_local_disk_encryption", json!(false));
    drop_default(&mut c, "autotermination_minutes", json!(0));
    if c.get("driver_node_type_id") == c.get("node_type_id") {
        c.remove("driver_node_type_id");
    }
    if c.get("driver_instance_pool_id") == c.get("instance_pool_id") {
        c.remove("driver_instance_pool_id");
    }
    // Autoscaling or a fixed size: which one is set is the setting. With
    // `autoscale` the worker count is the server's to move; without it the
    // size is `num_workers`, 0 when left out (spelled out, so a cluster
    // switched to autoscaling by hand shows as a difference).
    if c.get("autoscale").is_some_and(|a| !is_empty(a)) {
        c.remove("num_workers");
    } else {
        fill_default(&mut c, "num_workers", json!(0));
    }
    drop_default(&mut c, "data_security_mode", json!("SINGLE_USER"));
    // Cloud attributes the server fills when none were given.
    if let Some(aws) = c.get_mut("aws_attributes").and_then(Value::as_object_mut) {
        drop_default(aws, "availability", json!("SPOT_WITH_FALLBACK"));
        drop_default(aws, "first_on_demand", json!(1));
        drop_default(aws, "spot_bid_price_percent", json!(100));
        drop_auto_zone(aws);
        drop_empty(aws);
    }
    if let Some(gcp) = c.get_mut("gcp_attributes").and_then(Value::as_object_mut) {
        drop_default(gcp, "first_on_demand", json!(1));
        drop_default(gcp, "use_preemptible_executors", json!(false));
        drop_empty(gcp);
    }
    if let Some(azure) = c.get_mut("azure_attributes").and_then(Value::as_object_mut) {
        drop_default(azure, "availability", json!("ON_DEMAND_AZURE"));
        drop_default(azure, "first_on_demand", json!(1));
        drop_empty(azure);
    }
    drop_empty(&mut c);
    Value::Object(c)
}

/// True when `live` has every field of `want` with the same value (fields
/// the server filled in, like a zone it chose, may be extra).
fn holds(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| l.get(k).is_some_and(|lv| holds(lv, wv))),
        _ => live == want,
    }
}

const API: Endpoints = Endpoints {
    get: "/api/2.1/clusters/get",
    create: "/api/2.1/clusters/create",
    edit: "/api/2.1/clusters/edit",
    delete: "/api/2.1/clusters/permanent-delete",
    id_field: "cluster_id",
};
const TAGS: &str = "custom_tags";

fn live_object(cluster: Value) -> Option<ListedObject> {
    Some(ListedObject {
        id: id_string(cluster.get("cluster_id"))?,
        name: str_field(&cluster, "cluster_name").unwrap_or_default(),
        owner: ownership_from_tags(cluster.get(TAGS)),
        raw: cluster,
    })
}

async fn get_cluster(client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
    Ok(API.get(client, id).await?.and_then(live_object))
}

impl KindSpec for ClusterAdapter {
    fn carries_tags(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::Cluster
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "cluster_name")
    }

    fn unique_names(&self) -> bool {
        false
    }

    fn normalize(&self, live: &Value) -> Value {
        match live.get("spec").filter(|s| s.is_object()) {
            Some(spec) => {
                // `spec` omits the tags the server keeps at the top level.
                let mut s = fields(spec);
                if !s.contains_key(TAGS)
                    && let Some(tags) = live.get(TAGS)
                {
                    s.insert(TAGS.into(), tags.clone());
                }
                normalize_cluster_spec(&Value::Object(s))
            }
            None => normalize_cluster_spec(live),
        }
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        normalize_cluster_spec(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some("clusters")
    }

    fn tags(&self, raw: &Value) -> BTreeMap<String, String> {
        super::string_map(raw.get(TAGS))
    }

    /// Clusters Databricks starts for pipelines, models and SQL, not
    /// clusters people create (`UI`, `API`).
    fn made_by_databricks(&self, listed: &ListedObject) -> bool {
        listed
            .raw
            .get("cluster_source")
            .and_then(Value::as_str)
            .is_some_and(|source| !matches!(source, "UI" | "API"))
    }

    /// A job task's (or a pipeline's) cluster.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["existing_cluster_id", "cluster_id"]
    }
}

/// The clusters Mortar owns or `names` names (every all-purpose cluster
/// without `names`), each read whole.
async fn list_clusters(
    client: &Client,
    names: Option<&BTreeSet<String>>,
) -> Result<Vec<ListedObject>, Error> {
    let clusters = list_token_paged(
        client,
        "/api/2.1/clusters/list",
        &[("page_size", "100")],
        "clusters",
    )
    .await?;
    let mut out = Vec::new();
    for obj in owned_or_named(clusters, names, live_object) {
        // Jobs' clusters are not Mortar's to manage.
        if obj.raw.get("cluster_source").and_then(Value::as_str) == Some("JOB") {
            continue;
        }
        // The list omits `spec`; read each wanted cluster whole.
        if let Some(full) = get_cluster(client, &obj.id).await? {
            out.push(full);
        }
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for ClusterAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        list_clusters(client, Some(names)).await
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        list_clusters(client, None).await.map(Some)
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        get_cluster(client, id).await
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let body = with_ownership_tags(desired.spec, TAGS, &desired.ownership());
        API.create(client, &body).await
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        let body = with_ownership_tags(desired.spec, TAGS, &desired.ownership());
        // `edit` is refused while the cluster is starting or restarting
        // (perhaps because an earlier edit, whose answer was lost, took
        // effect): wait, unless the cluster already has the settings.
        let want = normalize_cluster_spec(&body);
        let mut waited = Duration::ZERO;
        loop {
            match API.edit(client, id, &body).await {
                Err(Error::InvalidState(api)) => {
                    if let Some(live) = get_cluster(client, id).await?
                        && holds(&self.normalize(&live.raw), &want)
                    {
                        return Ok(());
                    }
                    if waited >= Duration::from_secs(600) {
                        return Err(Error::InvalidState(api));
                    }
                    let step = Duration::from_millis(500);
                    tokio::time::sleep(step).await;
                    waited += step;
                }
                other => return other,
            }
        }
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        API.delete(client, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_fields_and_defaults_are_dropped() {
        let spec = json!({"cluster_name": "etl", "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge", "num_workers": 2, "custom_tags": {"team": "a"}});
        let live = json!({"cluster_id": "0101-x", "state": "RUNNING", "cluster_name": "etl",
            "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "driver_node_type_id": "i3.xlarge",
            "num_workers": 2, "enable_elastic_disk": false, "default_tags": {"Vendor": "Databricks"},
            "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c"},
            "custom_tags": {"team": "a", "mortar.dev/app": "x", "mortar.dev/key": "w/Cluster/etl"},
            "creator_user_name": "me@x", "start_time": 5});
        // The zone the server chose stays on the live side only, where the
        // three-way diff takes it for a server-set field.
        let mut want = ClusterAdapter.normalize_spec(&spec);
        assert_eq!(want, spec);
        want["aws_attributes"] = json!({"zone_id": "us-east-1c"});
        assert_eq!(ClusterAdapter.normalize(&live), want);
    }

    #[test]
    fn a_pinned_zone_is_compared_and_auto_is_not() {
        let pinned = json!({"spark_version": "15.4.x-scala2.12", "num_workers": 1,
            "aws_attributes": {"zone_id": "us-east-1"}});
        let mut moved = pinned.clone();
        moved["aws_attributes"]["zone_id"] = json!("us-east-1b");
        assert_ne!(
            ClusterAdapter.normalize(&moved),
            ClusterAdapter.normalize_spec(&pinned)
        );
        let auto = json!({"spark_version": "15.4.x-scala2.12", "num_workers": 1,
            "aws_attributes": {"zone_id": "auto"}});
        assert_eq!(
            ClusterAdapter.normalize_spec(&auto),
            json!({"spark_version": "15.4.x-scala2.12", "num_workers": 1})
        );
    }

    #[test]
    fn fixed_size_and_autoscaling_differ_even_at_zero_workers() {
        let single = json!({"spark_version": "15.4.x-scala2.12", "num_workers": 0});
        let unset = json!({"spark_version": "15.4.x-scala2.12"});
        let scaled = json!({"spark_version": "15.4.x-scala2.12", "num_workers": 3,
            "autoscale": {"min_workers": 1, "max_workers": 4}});
        let want = ClusterAdapter.normalize_spec(&single);
        assert_eq!(want["num_workers"], json!(0));
        assert_eq!(ClusterAdapter.normalize(&unset), want);
        let live = ClusterAdapter.normalize(&scaled);
        assert!(live.get("num_workers").is_none(), "{live}");
        assert_ne!(live, want);
    }
}
