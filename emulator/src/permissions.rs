//! The permissions API (`/api/2.0/permissions/{type}/{id}`): GET with the
//! inherited `admins` entry, PUT (replace direct entries), PATCH (merge by
//! principal) and `permissionLevels`. The rules themselves live in `acl`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl::{
    TypeInfo, caller_rank, missing, object_exists, patch_acl, put_acl, render, require, type_info,
};
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, ok};

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/2.0/permissions/{*rest}",
        get(read).put(replace).patch(update),
    )
}

/// Splits `jobs/12`, `sql/warehouses/ab/permissionLevels`, `authorization/tokens`.
fn split(rest: &str) -> ApiResult<(&'static TypeInfo, String, bool)> {
    let (rest, levels) = match rest.strip_suffix("/permissionLevels") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (request_type, id) = if let Some(id) = rest.strip_prefix("sql/warehouses/") {
        ("sql/warehouses", id)
    } else {
        rest.split_once('/').unwrap_or((rest, ""))
    };
    let info = type_info(request_type).ok_or_else(|| {
        ApiError::invalid(format!(
            "Object type '{request_type}' is not supported by the permissions API"
        ))
    })?;
    if id.is_empty() {
        return Err(ApiError::invalid("Missing object id"));
    }
    if info.key == "authorization" && id != "tokens" {
        return Err(ApiError::invalid(format!(
            "Unsupported authorization object '{id}'"
        )));
    }
    Ok((info, id.to_owned(), levels))
}

async fn read(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(rest): Path<String>,
) -> ApiResult {
    let (info, id, levels) = split(&rest)?;
    if levels {
        let list: Vec<Value> = info
            .levels
            .iter()
            .map(|(level, description)| json!({"permission_level": level, "description": description}))
            .collect();
        return ok(json!({"permission_levels": list}));
    }
    let body = ctx.store.read(|ws| {
        if !object_exists(ws, info.key, &id) {
            return Err(missing(info, &id));
        }
        if caller_rank(ws, info, &id, &caller).is_none() {
            return Err(ApiError::denied(format!(
                "{} does not have permissions on {}{id}.",
                caller.name, info.id_prefix
            )));
        }
        Ok(render(ws, info, &id))
    })?;
    ok(body)
}

async fn write(
    ctx: AppState,
    caller: Caller,
    rest: String,
    body: Map<String, Value>,
    replace: bool,
) -> ApiResult {
    let (info, id, levels) = split(&rest)?;
    if levels {
        return Err(ApiError::no_endpoint(&rest));
    }
    let list = match body.get("access_control_list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(ApiError::invalid("access_control_list must be an array")),
    };
    let rendered = ctx.store.write(|ws| {
        if !object_exists(ws, info.key, &id) {
            return Err(missing(info, &id));
        }
        let manage = if info.key == "cluster-policies" || info.key == "authorization" {
            "CAN_USE"
        } else {
            "CAN_MANAGE"
        };
        if !caller.admin {
            require(ws, info.key, &id, &caller, manage)?;
            if info.key == "authorization" {
                caller.require_admin()?;
            }
        }
        if replace {
            put_acl(ws, info.key, &id, &list, &caller)?;
        } else {
            patch_acl(ws, info, &id, &list, &caller)?;
        }
        Ok(render(ws, info, &id))
    })?;
    ok(rendered)
}

async fn replace(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(rest): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    write(ctx, caller, rest, body, true).await
}

async fn update(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(rest): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    write(ctx, caller, rest, body, false).await
}
