//! Personal access tokens (`/api/2.0/token/*`), the admin token-management
//! API and on-behalf-of tokens for service principals. Only SHA-256 hashes
//! of token values are stored; created tokens authenticate like real PATs.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{Caller, random_hex, token_hash};
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, now_ms, ok, ok_empty, opt_int, opt_str, req_str};
use crate::model::{PatRecord, PrincipalKind, Workspace};

/// Default lifetime of a PAT created without `lifetime_seconds`: two years.
const DEFAULT_LIFETIME_SECS: i64 = 2 * 365 * 24 * 3600;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/token/create", post(create))
        .route("/api/2.0/token/list", get(list_own))
        .route("/api/2.0/token/delete", post(delete_own))
        .route("/api/2.0/token-management/tokens", get(list_all))
        .route(
            "/api/2.0/token-management/tokens/{token_id}",
            get(get_one).delete(delete_one),
        )
        .route(
            "/api/2.0/token-management/on-behalf-of/tokens",
            post(create_obo),
        )
}

fn mint(
    ws: &mut Workspace,
    owner: (&str, PrincipalKind),
    creator: &Caller,
    comment: &str,
    lifetime: Option<i64>,
) -> (String, PatRecord) {
    let value = format!("dapi{}", random_hex(16));
    let now = now_ms();
    let lifetime = lifetime.filter(|l| *l > 0).unwrap_or(DEFAULT_LIFETIME_SECS);
    let owner_id = ws.principal_id(owner.0, owner.1).unwrap_or_default();
    let creator_id = ws
        .principal_id(&creator.name, creator.kind)
        .unwrap_or_default();
    let record = PatRecord {
        token_id: random_hex(32),
        hash: token_hash(&value),
        owner: owner.0.to_owned(),
        owner_kind: owner.1,
        owner_id,
        created_by_username: creator.name.clone(),
        created_by_id: creator_id,
        comment: comment.to_owned(),
        creation_time: now,
        expiry_time: now + lifetime * 1000,
    };
    ws.index
        .token_hashes
        .insert(record.hash.clone(), record.token_id.clone());
    ws.tokens.insert(record.token_id.clone(), record.clone());
    (value, record)
}

fn token_enabled(ws: &Workspace) -> ApiResult<()> {
    if ws.conf.get("enableTokensConfig").map(String::as_str) == Some("false") {
        return Err(ApiError::denied(
            "Personal access tokens are disabled for this workspace.",
        ));
    }
    Ok(())
}

fn check_lifetime(ws: &Workspace, lifetime: Option<i64>) -> ApiResult<()> {
    if let (Some(max_days), Some(l)) = (
        ws.conf
            .get("maxTokenLifetimeDays")
            .and_then(|d| d.parse::<i64>().ok()),
        lifetime,
    ) && max_days > 0
        && l > max_days * 86_400
    {
        return Err(ApiError::invalid(format!(
            "Token lifetime exceeds the maximum of {max_days} days"
        )));
    }
    Ok(())
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let comment = opt_str(&body, "comment")?.unwrap_or_default().to_owned();
    let lifetime = opt_int(&body, "lifetime_seconds")?;
    let (value, record) = ctx.store.write(|ws| {
        token_enabled(ws)?;
        check_lifetime(ws, lifetime)?;
        Ok(mint(
            ws,
            (&caller.name, caller.kind),
            &caller,
            &comment,
            lifetime,
        ))
    })?;
    ok(json!({"token_value": value, "token_info": record.public_info()}))
}

async fn list_own(State(ctx): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult {
    let infos: Vec<Value> = ctx.store.read(|ws| {
        ws.tokens
            .values()
            .filter(|t| t.owner == caller.name)
            .map(PatRecord::public_info)
            .collect()
    });
    ok(json!({"token_infos": infos}))
}

fn no_token(token_id: &str) -> ApiError {
    ApiError::not_found(format!("Token with id {token_id} does not exist."))
}

fn remove(ws: &mut Workspace, token_id: &str) {
    if let Some(record) = ws.tokens.remove(token_id) {
        ws.index.token_hashes.remove(&record.hash);
    }
}

async fn delete_own(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let token_id = req_str(&body, "token_id")?.to_owned();
    ctx.store.write(|ws| {
        match ws.tokens.get(&token_id) {
            Some(t) if t.owner == caller.name => {}
            _ => {
                return Err(no_token(&token_id));
            }
        }
        remove(ws, &token_id);
        Ok(())
    })?;
    ok_empty()
}

async fn list_all(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    caller.require_admin()?;
    let by_id = params.get("created_by_id").map(str::to_owned);
    let by_name = params.get("created_by_username").map(str::to_owned);
    let infos: Vec<Value> = ctx.store.read(|ws| {
        ws.tokens
            .values()
            .filter(|t| by_id.as_ref().is_none_or(|id| &t.created_by_id == id))
            .filter(|t| by_name.as_ref().is_none_or(|n| &t.created_by_username == n))
            .map(PatRecord::admin_info)
            .collect()
    });
    ok(json!({"token_infos": infos}))
}

async fn get_one(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token_id): Path<String>,
) -> ApiResult {
    caller.require_admin()?;
    let info = ctx
        .store
        .read(|ws| ws.tokens.get(&token_id).map(PatRecord::admin_info))
        .ok_or_else(|| no_token(&token_id))?;
    ok(json!({"token_info": info}))
}

async fn delete_one(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(token_id): Path<String>,
) -> ApiResult {
    caller.require_admin()?;
    ctx.store.write(|ws| {
        if !ws.tokens.contains_key(&token_id) {
            return Err(no_token(&token_id));
        }
        remove(ws, &token_id);
        Ok(())
    })?;
    ok_empty()
}

async fn create_obo(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let application_id = req_str(&body, "application_id")?.to_owned();
    let comment = opt_str(&body, "comment")?.unwrap_or_default().to_owned();
    let lifetime = opt_int(&body, "lifetime_seconds")?;
    let (value, record) = ctx.store.write(|ws| {
        token_enabled(ws)?;
        check_lifetime(ws, lifetime)?;
        if !ws.index.sp_ids.contains_key(&application_id) {
            return Err(ApiError::not_found(format!(
                "Service principal with application id {application_id} does not exist."
            )));
        }
        Ok(mint(
            ws,
            (&application_id, PrincipalKind::ServicePrincipal),
            &caller,
            &comment,
            lifetime,
        ))
    })?;
    ok(json!({"token_value": value, "token_info": record.admin_info()}))
}
