//! Cluster policies (API 2.0): unique names, `definition` a JSON string;
//! `list` (not paged), `get`, `create`, `edit`, `delete`.

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::endpoints::Endpoints;
use super::normalize::{canonical_json_string, drop_default, drop_empty, fields, fields_in};
use super::{Desired, KindAdapter, KindSpec, ListedObject, id_string, str_field, take_array};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::Kind;

pub struct ClusterPolicyAdapter;

const FIELDS: &[&str] = &[
    "name",
    "definition",
    "description",
    "max_clusters_per_user",
    "policy_family_id",
    "policy_family_definition_overrides",
    "libraries",
];

const API: Endpoints = Endpoints {
    get: "/api/2.0/policies/clusters/get",
    create: "/api/2.0/policies/clusters/create",
    edit: "/api/2.0/policies/clusters/edit",
    delete: "/api/2.0/policies/clusters/delete",
    id_field: "policy_id",
};

fn live_object(p: Value) -> Option<ListedObject> {
    Some(ListedObject {
        id: id_string(p.get("policy_id"))?,
        name: str_field(&p, "name")?,
        owner: None,
        raw: p,
    })
}

fn canonical(v: &Value) -> Value {
    let mut p = fields_in(v, FIELDS);
    for key in ["definition", "policy_family_definition_overrides"] {
        if let Some(d) = p.get(key) {
            let d = canonical_json_string(d);
            p.insert(key.into(), d);
        }
    }
    drop_default(&mut p, "definition", json!("{}"));
    drop_empty(&mut p);
    Value::Object(p)
}

/// The create/edit body: `definition` must be sent as a string.
fn body(spec: &Value) -> Value {
    let mut b = fields(spec);
    for key in ["definition", "policy_family_definition_overrides"] {
        if let Some(d) = b.get(key).filter(|d| d.is_object()) {
            let s = Value::String(d.to_string());
            b.insert(key.into(), s);
        }
    }
    Value::Object(b)
}

impl KindSpec for ClusterPolicyAdapter {
    /// Before the clusters that use it.
    fn apply_rank(&self) -> u8 {
        2
    }

    fn kind(&self) -> Kind {
        Kind::ClusterPolicy
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "name")
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some("cluster-policies")
    }

    /// Clusters and job clusters name the policy they follow.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["policy_id"]
    }

    /// The workspace's default policies (Personal Compute, …).
    fn made_by_databricks(&self, listed: &ListedObject) -> bool {
        listed.raw.get("is_default").and_then(Value::as_bool) == Some(true)
    }
}

#[async_trait]
impl KindAdapter for ClusterPolicyAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        let resp = client.get("/api/2.0/policies/clusters/list", &[]).await?;
        Ok(take_array(resp, "policies")
            .into_iter()
            .filter_map(live_object)
            .filter(|o| names.contains(&o.name))
            .collect())
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let resp = client.get("/api/2.0/policies/clusters/list", &[]).await?;
        Ok(Some(
            take_array(resp, "policies")
                .into_iter()
                .filter_map(live_object)
                .collect(),
        ))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        Ok(API.get(client, id).await?.and_then(live_object))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        API.create(client, &body(desired.spec)).await
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        API.edit(client, id, &body(desired.spec)).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        API.delete(client, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_formatting_does_not_count() {
        let spec = json!({"name": "small", "definition": "{\"num_workers\":{\"type\":\"fixed\",\"value\":1}}"});
        let live = json!({"policy_id": "P1", "name": "small", "created_at_timestamp": 1, "is_default": false,
            "creator_user_name": "me", "definition": "{\n  \"num_workers\": {\"type\": \"fixed\", \"value\": 1}\n}"});
        assert_eq!(ClusterPolicyAdapter.normalize(&live), spec);
        let as_object =
            json!({"name": "small", "definition": {"num_workers": {"type": "fixed", "value": 1}}});
        assert_eq!(ClusterPolicyAdapter.normalize_spec(&as_object), spec);
    }
}
