//! SQL warehouses (`/api/2.0/sql/warehouses`): create (STARTING → RUNNING
//! after the transition delay), get, list (paged), edit, start, stop, delete,
//! and the workspace-level warehouse config (`/api/2.0/sql/config/warehouses`).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{
    JsonBody, Params, first_page, list_body, now_ms, ok, ok_empty, opt_int, opt_str,
};
use crate::model::{Warehouse, Workspace};

const SIZES: &[&str] = &[
    "2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large",
    "4X-Large",
];
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
    "creator_name",
    "max_dbu",
];
const CONFIG_KEY: &str = "__sql_warehouse_config";

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/sql/warehouses", get(list).post(create))
        .route("/api/2.0/sql/warehouses/", get(list))
        .route("/api/2.0/sql/warehouses/{id}", get(read).delete(delete))
        .route("/api/2.0/sql/warehouses/{id}/edit", post(edit))
        .route("/api/2.0/sql/warehouses/{id}/start", post(start))
        .route("/api/2.0/sql/warehouses/{id}/stop", post(stop))
        .route(
            "/api/2.0/sql/config/warehouses",
            get(get_config).put(put_config),
        )
}

fn not_exist(id: &str) -> ApiError {
    ApiError::not_found(format!("Unable to find warehouse {id}"))
}

fn settings_of(
    ws: &Workspace,
    body: &Map<String, Value>,
    own: Option<&str>,
) -> ApiResult<Map<String, Value>> {
    let name = opt_str(body, "name")?.unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::invalid("Missing required field: name"));
    }
    if name.len() > 100 {
        return Err(ApiError::invalid("name must be at most 100 characters"));
    }
    if ws.warehouses.values().any(|w| {
        Some(w.id.as_str()) != own && w.settings.get("name").and_then(Value::as_str) == Some(name)
    }) {
        return Err(ApiError::exists(format!(
            "SQL warehouse with name '{name}' already exists"
        )));
    }
    let size = opt_str(body, "cluster_size")?.unwrap_or_default();
    if !SIZES.contains(&size) {
        return Err(ApiError::invalid(format!(
            "cluster_size must be one of {}; got '{size}'",
            SIZES.join(", ")
        )));
    }
    let min = opt_int(body, "min_num_clusters")?.unwrap_or(1);
    let max = opt_int(body, "max_num_clusters")?.unwrap_or(min.max(1));
    if min < 1 || max < min || max > 40 {
        return Err(ApiError::invalid(
            "Need 1 <= min_num_clusters <= max_num_clusters <= 40",
        ));
    }
    let serverless = body
        .get("enable_serverless_compute")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let auto_stop = opt_int(body, "auto_stop_mins")?.unwrap_or(120);
    if auto_stop != 0 && auto_stop < if serverless { 1 } else { 10 } {
        return Err(ApiError::invalid(
            "auto_stop_mins must be 0 or at least 10 (1 for serverless)",
        ));
    }
    let kind = opt_str(body, "warehouse_type")?.unwrap_or("CLASSIC");
    if !["CLASSIC", "PRO", "TYPE_UNSPECIFIED"].contains(&kind) {
        return Err(ApiError::invalid(format!(
            "Invalid warehouse_type '{kind}'"
        )));
    }
    if serverless && kind != "PRO" {
        return Err(ApiError::invalid(
            "Serverless compute requires warehouse_type PRO",
        ));
    }
    if let Some(policy) = opt_str(body, "spot_instance_policy")?
        && ![
            "COST_OPTIMIZED",
            "RELIABILITY_OPTIMIZED",
            "POLICY_UNSPECIFIED",
        ]
        .contains(&policy)
    {
        return Err(ApiError::invalid(format!(
            "Invalid spot_instance_policy '{policy}'"
        )));
    }
    let mut settings: Map<String, Value> = body
        .iter()
        .filter(|(k, v)| {
            FIELDS.contains(&k.as_str()) && !v.is_null() && k.as_str() != "creator_name"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    settings.insert("min_num_clusters".into(), json!(min));
    settings.insert("max_num_clusters".into(), json!(max));
    settings.insert("auto_stop_mins".into(), json!(auto_stop));
    settings.entry("enable_photon").or_insert(json!(true));
    settings
        .entry("enable_serverless_compute")
        .or_insert(json!(false));
    settings.entry("warehouse_type").or_insert(json!("CLASSIC"));
    settings
        .entry("spot_instance_policy")
        .or_insert(json!("COST_OPTIMIZED"));
    settings
        .entry("channel")
        .or_insert(json!({"name": "CHANNEL_NAME_CURRENT"}));
    Ok(settings)
}

fn render(base: &str, warehouse: &Warehouse, now: i64) -> Value {
    let mut out = warehouse.settings.clone();
    let state = warehouse.state_at(now);
    let host = base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split(':')
        .next()
        .unwrap_or("localhost")
        .to_owned();
    let path = format!("/sql/1.0/warehouses/{}", warehouse.id);
    out.insert("id".into(), json!(warehouse.id));
    out.insert("creator_name".into(), json!(warehouse.creator_name));
    out.insert("state".into(), json!(state));
    out.insert(
        "num_clusters".into(),
        json!(if state == "RUNNING" { 1 } else { 0 }),
    );
    out.insert("num_active_sessions".into(), json!(0));
    out.insert(
        "jdbc_url".into(),
        json!(format!(
            "jdbc:spark://{host}:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath={path};"
        )),
    );
    out.insert(
        "odbc_params".into(),
        json!({"hostname": host, "path": path, "protocol": "https", "port": 443}),
    );
    if state == "RUNNING" {
        out.insert("health".into(), json!({"status": "HEALTHY"}));
    }
    Value::Object(out)
}

fn new_id(ws: &mut Workspace) -> String {
    format!("{:016x}", 0x5ca1_ab1e_0000_0000_u64 + ws.next_id())
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let delay = ctx.transition_delay_ms();
    let id = ctx.store.write(|ws| {
        let settings = settings_of(ws, &body, None)?;
        let id = new_id(ws);
        ws.warehouses.insert(
            id.clone(),
            Warehouse {
                id: id.clone(),
                settings,
                creator_name: caller.name.clone(),
                state: "STARTING".into(),
                running_at: Some(now_ms() + delay),
            },
        );
        acl::init_creator(ws, "warehouses", &id, &caller);
        Ok(id)
    })?;
    ok(json!({"id": id}))
}

/// The warehouse, when the caller holds `level` on it.
fn warehouse_for<'a>(
    ws: &'a Workspace,
    id: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<&'a Warehouse> {
    let warehouse = ws.warehouses.get(id).ok_or_else(|| not_exist(id))?;
    acl::require(ws, "warehouses", id, caller, level)?;
    Ok(warehouse)
}

/// The warehouse to change, when the caller holds `level` on it.
fn warehouse_for_mut<'a>(
    ws: &'a mut Workspace,
    id: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<&'a mut Warehouse> {
    warehouse_for(ws, id, caller, level)?;
    ws.warehouses.get_mut(id).ok_or_else(|| not_exist(id))
}

async fn read(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let body = ctx.store.read(|ws| {
        let warehouse = warehouse_for(ws, &id, &caller, "CAN_VIEW")?;
        Ok::<_, ApiError>(render(&ctx.base_url, warehouse, now_ms()))
    })?;
    ok(body)
}

async fn list(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let page_size = params.int("page_size")?.unwrap_or(0).max(0) as usize;
    let after = params
        .get("page_token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let now = now_ms();
    let (items, next) = ctx.store.read(|ws| {
        let visibility = acl::Visibility::new(ws, "warehouses", &caller, "CAN_VIEW");
        let lower = after
            .clone()
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let take = if page_size == 0 {
            usize::MAX
        } else {
            page_size
        };
        let warehouses = ws
            .warehouses
            .range::<String, _>((lower, std::ops::Bound::Unbounded))
            .map(|(_, w)| w)
            .filter(|w| visibility.allows(&w.id));
        let (page, more) = first_page(warehouses, take);
        let next = more.then(|| page.last().map(|w| w.id.clone())).flatten();
        let items: Vec<Value> = page.iter().map(|w| render(&ctx.base_url, w, now)).collect();
        (items, next)
    });
    ok(Value::Object(list_body("warehouses", items, next)))
}

async fn edit(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    ctx.store.write(|ws| {
        // Fields left out of an edit keep their current values.
        let mut merged = warehouse_for(ws, &id, &caller, "CAN_MANAGE")?
            .settings
            .clone();
        for (key, value) in &body {
            if value.is_null() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let settings = settings_of(ws, &merged, Some(&id))?;
        if let Some(w) = ws.warehouses.get_mut(&id) {
            w.settings = settings;
        }
        Ok(())
    })?;
    ok_empty()
}

async fn start(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let delay = ctx.transition_delay_ms();
    ctx.store.write(|ws| {
        let w = warehouse_for_mut(ws, &id, &caller, "CAN_USE")?;
        let now = now_ms();
        if w.state_at(now) != "RUNNING" {
            w.state = "STARTING".into();
            w.running_at = Some(now + delay);
        }
        Ok(())
    })?;
    ok_empty()
}

async fn stop(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.store.write(|ws| {
        let w = warehouse_for_mut(ws, &id, &caller, "CAN_MANAGE")?;
        w.state = "STOPPED".into();
        w.running_at = None;
        Ok(())
    })?;
    ok_empty()
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.store.write(|ws| {
        warehouse_for(ws, &id, &caller, "CAN_MANAGE")?;
        ws.warehouses.remove(&id);
        acl::forget(ws, "warehouses", &id);
        Ok(())
    })?;
    ok_empty()
}

async fn get_config(State(ctx): State<AppState>) -> ApiResult {
    let config = ctx.store.read(|ws| {
        ws.conf
            .get(CONFIG_KEY)
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
    });
    ok(config.unwrap_or_else(|| json!({"security_policy": "NONE"})))
}

async fn put_config(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let text = serde_json::to_string(&body).unwrap_or_default();
    ctx.store.write(|ws| {
        ws.conf.insert(CONFIG_KEY.to_owned(), text);
        Ok(())
    })?;
    ok_empty()
}
