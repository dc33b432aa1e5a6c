//! The emulator's own control API under `/_emulator/` (not part of the
//! Databricks API): change latency, faults and rate limits at run time,
//! queue a burst of 429s, snapshot, restore and reset the state. Every call
//! except `health` needs an administrator's bearer token. Also seeds a fresh
//! workspace with the configured identities (at start and on reset).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::{AppState, Ctx};
use crate::errors::{ApiError, ApiResult};
use crate::faults::FaultSettings;
use crate::http::{JsonBody, ok};
use crate::model::Workspace;
use crate::seed::seeded_workspace;

/// Admin routes (nested under `/_emulator`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/throttle", post(throttle))
        .route("/rate-limit", get(get_rate_limit).put(put_rate_limit))
        .route("/snapshot", get(snapshot).put(put_snapshot))
        .route("/reset", post(reset_handler))
}

fn admin_only(ctx: &Ctx, headers: &HeaderMap) -> ApiResult<()> {
    ctx.authenticate(headers)?.require_admin()
}

/// Empties the workspace and seeds the configured identities again.
pub fn reset(ctx: &Ctx) {
    ctx.store
        .replace(seeded_workspace(&ctx.config, Workspace::default()));
}

/// Replaces the workspace with a snapshot.
pub fn restore(ctx: &Ctx, snapshot: Value) -> ApiResult<()> {
    let ws: Workspace = serde_json::from_value(snapshot)
        .map_err(|err| ApiError::invalid(format!("invalid snapshot: {err}")))?;
    ctx.store.replace(seeded_workspace(&ctx.config, ws));
    Ok(())
}

async fn health() -> ApiResult {
    ok(json!({"status": "ok"}))
}

async fn get_faults(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    admin_only(&ctx, &headers)?;
    ok(serde_json::to_value(ctx.faults.settings()).unwrap_or(Value::Null))
}

async fn put_faults(
    State(ctx): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    admin_only(&ctx, &headers)?;
    let settings: FaultSettings = serde_json::from_value(Value::Object(body))
        .map_err(|err| ApiError::invalid(format!("invalid fault settings: {err}")))?;
    if !(0.0..=1.0).contains(&settings.fault_rate) {
        return Err(ApiError::invalid("fault_rate must be between 0 and 1"));
    }
    ctx.faults.update(settings);
    ok(serde_json::to_value(ctx.faults.settings()).unwrap_or(Value::Null))
}

#[derive(Deserialize)]
struct ThrottleRequest {
    count: u64,
    #[serde(default = "one")]
    retry_after_secs: u64,
    #[serde(default)]
    path_prefix: String,
}

fn one() -> u64 {
    1
}

async fn throttle(
    State(ctx): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    admin_only(&ctx, &headers)?;
    let request: ThrottleRequest = serde_json::from_value(Value::Object(body))
        .map_err(|err| ApiError::invalid(format!("invalid throttle request: {err}")))?;
    ctx.faults.throttle(
        request.count,
        request.retry_after_secs,
        &request.path_prefix,
    );
    ok(json!({"pending": ctx.faults.pending_throttles()}))
}

fn describe_limits(ctx: &Ctx) -> Value {
    let (default, overrides) = ctx.limits.describe();
    let published: Map<String, Value> = crate::limits::PUBLISHED
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({"rps": default, "overrides": overrides, "published": published})
}

async fn get_rate_limit(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    admin_only(&ctx, &headers)?;
    ok(describe_limits(&ctx))
}

async fn put_rate_limit(
    State(ctx): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    admin_only(&ctx, &headers)?;
    let rps = match body.get("rps") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|r| *r > 0.0)
                .ok_or_else(|| ApiError::invalid("rps must be a positive number or null"))?,
        ),
    };
    ctx.limits.set_default(rps);
    if let Some(Value::Object(overrides)) = body.get("overrides") {
        for (class, value) in overrides {
            let rps = match value {
                Value::Null => None,
                v => Some(v.as_f64().filter(|r| *r > 0.0).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "overrides.{class} must be a positive number or null"
                    ))
                })?),
            };
            ctx.limits.set_override(class, rps);
        }
    }
    ok(describe_limits(&ctx))
}

async fn snapshot(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    admin_only(&ctx, &headers)?;
    ok(ctx.store.snapshot())
}

async fn put_snapshot(
    State(ctx): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    admin_only(&ctx, &headers)?;
    restore(&ctx, Value::Object(body))?;
    ctx.store.durable().await?;
    ok(json!({}))
}

async fn reset_handler(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    admin_only(&ctx, &headers)?;
    reset(&ctx);
    ctx.store.durable().await?;
    ok(json!({}))
}
