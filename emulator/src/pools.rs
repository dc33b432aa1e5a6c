//! Instance pools (`/api/2.0/instance-pools/*`): create, edit (only the
//! mutable fields; `node_type_id` is immutable), get, list and delete, with
//! server-filled `state`, `stats`, `status` and `default_tags`. A missing or
//! deleted pool is 404 `RESOURCE_DOES_NOT_EXIST`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, list_body, ok, ok_empty, opt_int, req_str};
use crate::model::Workspace;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/instance-pools/create", post(create))
        .route("/api/2.0/instance-pools/edit", post(edit))
        .route("/api/2.0/instance-pools/get", get(read))
        .route("/api/2.0/instance-pools/list", get(list))
        .route("/api/2.0/instance-pools/delete", post(delete))
}

const CREATE_FIELDS: &[&str] = &[
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
const MUTABLE: &[&str] = &[
    "instance_pool_name",
    "custom_tags",
    "idle_instance_autotermination_minutes",
    "max_capacity",
    "min_idle_instances",
    "remote_disk_throughput",
    "total_initial_remote_disk_size",
];

/// 404 `RESOURCE_DOES_NOT_EXIST` for a pool that is unknown or deleted
/// (the SDKs have no override for instance pools, so only this code makes
/// their `NotFound`).
fn not_exist(id: &str) -> ApiError {
    ApiError::not_found(format!("Can't find an instance pool with id: {id}."))
}

fn validate(body: &Map<String, Value>) -> ApiResult<()> {
    req_str(body, "instance_pool_name")?;
    req_str(body, "node_type_id")?;
    let min = opt_int(body, "min_idle_instances")?.unwrap_or(0);
    if min < 0 {
        return Err(ApiError::invalid("min_idle_instances must be non-negative"));
    }
    if let Some(max) = opt_int(body, "max_capacity")?
        && max < min
    {
        return Err(ApiError::invalid(
            "max_capacity must be greater than or equal to min_idle_instances",
        ));
    }
    if let Some(m) = opt_int(body, "idle_instance_autotermination_minutes")?
        && !(0..=10_000).contains(&m)
    {
        return Err(ApiError::invalid(
            "idle_instance_autotermination_minutes must be between 0 and 10000",
        ));
    }
    Ok(())
}

fn render(pool: &Value, creator_id: &str) -> Value {
    let mut out = pool.clone();
    if let Some(map) = out.as_object_mut() {
        let id = map.get("instance_pool_id").cloned().unwrap_or(Value::Null);
        map.entry("idle_instance_autotermination_minutes")
            .or_insert(json!(60));
        map.entry("min_idle_instances").or_insert(json!(0));
        map.entry("enable_elastic_disk").or_insert(json!(true));
        let has_cloud = ["aws_attributes", "azure_attributes", "gcp_attributes"]
            .iter()
            .any(|k| map.contains_key(*k));
        if !has_cloud {
            map.insert(
                "aws_attributes".into(),
                json!({"availability": "SPOT", "zone_id": "us-east-1c", "spot_bid_price_percent": 100}),
            );
        }
        map.insert("state".into(), json!("ACTIVE"));
        map.insert(
            "stats".into(),
            json!({"used_count": 0, "idle_count": 0, "pending_used_count": 0, "pending_idle_count": 0}),
        );
        map.insert("status".into(), json!({}));
        map.insert(
            "default_tags".into(),
            json!({
                "Vendor": "Databricks",
                "DatabricksInstancePoolCreatorId": creator_id,
                "DatabricksInstancePoolId": id,
            }),
        );
        map.remove("creator_id");
    }
    out
}

fn creator_of(pool: &Value) -> String {
    pool.get("creator_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The pool, when the caller may manage it.
fn managed_pool<'a>(ws: &'a Workspace, id: &str, caller: &Caller) -> ApiResult<&'a Value> {
    let pool = ws.pools.get(id).ok_or_else(|| not_exist(id))?;
    acl::require(ws, "instance-pools", id, caller, "CAN_MANAGE")?;
    Ok(pool)
}

fn new_pool_id(ws: &mut Workspace) -> String {
    let n = ws.next_id();
    format!("1128-{:06}-pool{:07x}", n % 1_000_000, n)
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    validate(&body)?;
    let id = ctx.store.write(|ws| {
        let id = new_pool_id(ws);
        let creator = ws
            .principal_id(&caller.name, caller.kind)
            .unwrap_or_default();
        let mut pool: Map<String, Value> = body
            .iter()
            .filter(|(k, _)| CREATE_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pool.insert("instance_pool_id".into(), json!(id));
        pool.insert("creator_id".into(), json!(creator));
        ws.pools.insert(id.clone(), Value::Object(pool));
        acl::init_creator(ws, "instance-pools", &id, &caller);
        Ok(id)
    })?;
    ok(json!({"instance_pool_id": id}))
}

async fn edit(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "instance_pool_id")?.to_owned();
    validate(&body)?;
    ctx.store.write(|ws| {
        let existing = managed_pool(ws, &id, &caller)?;
        if existing.get("node_type_id") != body.get("node_type_id") {
            return Err(ApiError::invalid(
                "node_type_id cannot be changed; create a new instance pool",
            ));
        }
        for key in body.keys() {
            if CREATE_FIELDS.contains(&key.as_str())
                && !MUTABLE.contains(&key.as_str())
                && key != "node_type_id"
                && existing.get(key) != body.get(key)
            {
                return Err(ApiError::invalid(format!(
                    "{key} cannot be changed on an existing instance pool"
                )));
            }
        }
        let mut pool = existing.as_object().cloned().unwrap_or_default();
        for key in MUTABLE {
            match body.get(*key) {
                Some(v) if !v.is_null() => {
                    pool.insert((*key).to_owned(), v.clone());
                }
                _ => {
                    pool.remove(*key);
                }
            }
        }
        ws.pools.insert(id.clone(), Value::Object(pool));
        Ok(())
    })?;
    ok_empty()
}

async fn read(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let id = params.required("instance_pool_id")?;
    let pool = ctx
        .store
        .read(|ws| ws.pools.get(id).map(|p| render(p, &creator_of(p))))
        .ok_or_else(|| not_exist(id))?;
    ok(pool)
}

async fn list(State(ctx): State<AppState>) -> ApiResult {
    let pools: Vec<Value> = ctx.store.read(|ws| {
        ws.pools
            .values()
            .map(|p| render(p, &creator_of(p)))
            .collect()
    });
    ok(Value::Object(list_body("instance_pools", pools, None)))
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "instance_pool_id")?.to_owned();
    ctx.store.write(|ws| {
        managed_pool(ws, &id, &caller)?;
        ws.pools.remove(&id);
        acl::forget(ws, "instance-pools", &id);
        Ok(())
    })?;
    ok_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_pool_is_resource_does_not_exist() {
        let err = not_exist("1128-000001-pool0000001");
        assert_eq!(err.status(), axum::http::StatusCode::NOT_FOUND);
        assert_eq!(
            err.message(),
            "Can't find an instance pool with id: 1128-000001-pool0000001."
        );
        assert!(err.to_string().contains("RESOURCE_DOES_NOT_EXIST"));
    }
}
