//! Cluster policies (`/api/2.0/policies/clusters/*`): create, edit, get,
//! list (sorted, not paginated) and delete. `definition` is a JSON string
//! that must parse; it cannot be combined with `policy_family_id`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, list_body, now_ms, ok, ok_empty, opt_int, opt_str, req_str};
use crate::model::Workspace;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/policies/clusters/create", post(create))
        .route("/api/2.0/policies/clusters/edit", post(edit))
        .route("/api/2.0/policies/clusters/get", get(read))
        .route("/api/2.0/policies/clusters/list", get(list))
        .route("/api/2.0/policies/clusters/delete", post(delete))
}

fn not_exist(id: &str) -> ApiError {
    ApiError::not_found(format!("Cluster policy {id} does not exist"))
}

/// Validates the settable fields and returns them.
fn fields(
    ws: &Workspace,
    body: &Map<String, Value>,
    own: Option<&str>,
) -> ApiResult<Map<String, Value>> {
    let name = req_str(body, "name")?;
    if name.len() > 100 {
        return Err(ApiError::invalid(
            "Policy name must be at most 100 characters",
        ));
    }
    if ws.policies.iter().any(|(id, p)| {
        Some(id.as_str()) != own && p.get("name").and_then(Value::as_str) == Some(name)
    }) {
        return Err(ApiError::exists(format!(
            "Policy with name {name} already exists"
        )));
    }
    let definition = opt_str(body, "definition")?;
    let family = opt_str(body, "policy_family_id")?;
    if definition.is_some_and(|d| !d.is_empty()) && family.is_some() {
        return Err(ApiError::invalid(
            "definition cannot be combined with policy_family_id; use policy_family_definition_overrides",
        ));
    }
    for key in ["definition", "policy_family_definition_overrides"] {
        if let Some(text) = opt_str(body, key)?.filter(|t| !t.is_empty()) {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(_)) => {}
                _ => {
                    return Err(ApiError::invalid(format!(
                        "{key} must be a JSON object encoded as a string"
                    )));
                }
            }
        }
    }
    if let Some(max) = opt_int(body, "max_clusters_per_user")?
        && max < 0
    {
        return Err(ApiError::invalid(
            "max_clusters_per_user must be non-negative",
        ));
    }
    let mut out = Map::new();
    for key in [
        "name",
        "definition",
        "description",
        "max_clusters_per_user",
        "policy_family_id",
        "policy_family_definition_overrides",
        "libraries",
    ] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.entry("definition").or_insert(json!("{}"));
    Ok(out)
}

fn new_policy_id(ws: &mut Workspace) -> String {
    format!("E0631F5C0D{:06X}", ws.next_id())
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let id = ctx.store.write(|ws| {
        let mut policy = fields(ws, &body, None)?;
        let id = new_policy_id(ws);
        policy.insert("policy_id".into(), json!(id));
        policy.insert("created_at_timestamp".into(), json!(now_ms()));
        policy.insert("creator_user_name".into(), json!(caller.name));
        policy.insert("is_default".into(), json!(false));
        ws.policies.insert(id.clone(), Value::Object(policy));
        // Only admins create policies and admins manage every policy, so
        // the creator gets no entry (`CAN_USE` is the only level a
        // policy's ACL holds).
        Ok(id)
    })?;
    ok(json!({"policy_id": id}))
}

async fn edit(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let id = req_str(&body, "policy_id")?.to_owned();
    ctx.store.write(|ws| {
        let existing = ws.policies.get(&id).ok_or_else(|| not_exist(&id))?;
        let mut policy = fields(ws, &body, Some(&id))?;
        for key in [
            "policy_id",
            "created_at_timestamp",
            "creator_user_name",
            "is_default",
        ] {
            if let Some(v) = existing.get(key) {
                policy.insert(key.to_owned(), v.clone());
            }
        }
        ws.policies.insert(id.clone(), Value::Object(policy));
        Ok(())
    })?;
    ok_empty()
}

async fn read(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let id = params.required("policy_id")?;
    let policy = ctx
        .store
        .read(|ws| ws.policies.get(id).cloned())
        .ok_or_else(|| not_exist(id))?;
    ok(policy)
}

async fn list(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let by_time = params.get("sort_column") == Some("POLICY_CREATION_TIME");
    let descending = params.get("sort_order") == Some("DESC");
    let mut policies: Vec<Value> = ctx.store.read(|ws| ws.policies.values().cloned().collect());
    if by_time {
        policies.sort_by_key(|p| {
            p.get("created_at_timestamp")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        });
    } else {
        policies.sort_by_key(|p| {
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase()
        });
    }
    if descending {
        policies.reverse();
    }
    let total = policies.len();
    let mut body = list_body("policies", policies, None);
    body.insert("total_count".into(), json!(total));
    ok(Value::Object(body))
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let id = req_str(&body, "policy_id")?.to_owned();
    ctx.store.write(|ws| {
        ws.policies.remove(&id).ok_or_else(|| not_exist(&id))?;
        acl::forget(ws, "cluster-policies", &id);
        Ok(())
    })?;
    ok_empty()
}
