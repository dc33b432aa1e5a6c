//! Secrets (`/api/2.0/secrets/*`): scopes, secrets (string or bytes values,
//! returned base64-encoded by `get`) and scope ACLs (READ < WRITE < MANAGE),
//! with the documented name, size and count limits.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, now_ms, ok, ok_empty, opt_str, req_str};
use crate::model::{Scope, Secret, SecretValue, Workspace};

const MAX_VALUE: usize = 128 * 1024;
const MAX_SECRETS: usize = 1000;
const LEVELS: [&str; 3] = ["READ", "WRITE", "MANAGE"];

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/secrets/scopes/create", post(create_scope))
        .route("/api/2.0/secrets/scopes/delete", post(delete_scope))
        .route("/api/2.0/secrets/scopes/list", get(list_scopes))
        .route("/api/2.0/secrets/put", post(put_secret))
        .route("/api/2.0/secrets/delete", post(delete_secret))
        .route("/api/2.0/secrets/list", get(list_secrets))
        .route("/api/2.0/secrets/get", get(get_secret))
        .route("/api/2.0/secrets/acls/put", post(put_acl))
        .route("/api/2.0/secrets/acls/delete", post(delete_acl))
        .route("/api/2.0/secrets/acls/list", get(list_acls))
        .route("/api/2.0/secrets/acls/get", get(get_acl))
}

fn valid_name(kind: &str, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{kind} name '{name}' must consist of alphanumeric characters, dashes, underscores, '@' and periods, and may not exceed 128 characters"
        )))
    }
}

fn no_scope(name: &str) -> ApiError {
    ApiError::not_found(format!("Scope {name} does not exist!"))
}

fn no_secret(key: &str, scope: &str) -> ApiError {
    ApiError::not_found(format!("Secret {key} does not exist in scope {scope}"))
}

fn no_acl(principal: &str, scope: &str) -> ApiError {
    ApiError::not_found(format!("No ACL for principal {principal} on scope {scope}"))
}

/// The scope for a change, when the caller holds `level` on it.
fn scope_for_mut<'a>(
    ws: &'a mut Workspace,
    scope: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<&'a mut Scope> {
    scope_for(ws, scope, caller, level)?;
    ws.scopes.get_mut(scope).ok_or_else(|| no_scope(scope))
}

/// The scope, when the caller holds `level` on it.
fn scope_for<'a>(
    ws: &'a Workspace,
    scope: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<&'a Scope> {
    let s = ws.scopes.get(scope).ok_or_else(|| no_scope(scope))?;
    if caller.admin {
        return Ok(s);
    }
    let rank = |l: &str| LEVELS.iter().position(|x| *x == l);
    let groups = crate::acl::groups_of(ws, caller);
    let have = s
        .acls
        .iter()
        .filter(|(p, _)| p.eq_ignore_ascii_case(&caller.name) || groups.contains(p))
        .filter_map(|(_, l)| rank(l))
        .max();
    if have >= rank(level) {
        Ok(s)
    } else {
        Err(ApiError::denied(format!(
            "User {} does not have {level} permission on scope {scope}",
            caller.name
        )))
    }
}

async fn create_scope(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let name = req_str(&body, "scope")?.to_owned();
    valid_name("Scope", &name)?;
    let initial = opt_str(&body, "initial_manage_principal")?.map(str::to_owned);
    let backend = opt_str(&body, "scope_backend_type")?
        .unwrap_or("DATABRICKS")
        .to_owned();
    if backend != "DATABRICKS" && backend != "AZURE_KEYVAULT" {
        return Err(ApiError::invalid(format!(
            "Invalid scope_backend_type '{backend}'"
        )));
    }
    let keyvault = body.get("backend_azure_keyvault").cloned();
    if backend == "AZURE_KEYVAULT" && keyvault.is_none() {
        return Err(ApiError::invalid(
            "backend_azure_keyvault is required for AZURE_KEYVAULT scopes",
        ));
    }
    ctx.store.write(|ws| {
        if ws.scopes.contains_key(&name) {
            return Err(ApiError::exists(format!("Scope {name} already exists!")));
        }
        if let Some(p) = &initial
            && p != "users"
        {
            return Err(ApiError::invalid(format!(
                "initial_manage_principal must be 'users' (got '{p}')"
            )));
        }
        let mut acls = BTreeMap::new();
        acls.insert(caller.name.clone(), "MANAGE".to_owned());
        if initial.is_some() {
            acls.insert("users".to_owned(), "MANAGE".to_owned());
        }
        ws.scopes.insert(
            name.clone(),
            Scope {
                backend_type: backend.clone(),
                keyvault_metadata: keyvault.clone(),
                secrets: BTreeMap::new(),
                acls,
            },
        );
        Ok(())
    })?;
    ok_empty()
}

async fn delete_scope(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let name = req_str(&body, "scope")?.to_owned();
    ctx.store.write(|ws| {
        scope_for(ws, &name, &caller, "MANAGE")?;
        ws.scopes.remove(&name);
        Ok(())
    })?;
    ok_empty()
}

async fn list_scopes(State(ctx): State<AppState>) -> ApiResult {
    let scopes: Vec<Value> = ctx.store.read(|ws| {
        ws.scopes
            .iter()
            .map(|(name, s)| {
                let mut v = json!({"name": name, "backend_type": s.backend_type});
                if let (Some(meta), Some(map)) = (&s.keyvault_metadata, v.as_object_mut()) {
                    map.insert("keyvault_metadata".into(), meta.clone());
                }
                v
            })
            .collect()
    });
    ok(json!({"scopes": scopes}))
}

async fn put_secret(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let scope = req_str(&body, "scope")?.to_owned();
    let key = req_str(&body, "key")?.to_owned();
    valid_name("Secret key", &key)?;
    let string_value = opt_str(&body, "string_value")?;
    let bytes_value = opt_str(&body, "bytes_value")?;
    let raw: Vec<u8> = match (string_value, bytes_value) {
        (Some(s), None) => s.as_bytes().to_vec(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|_| ApiError::invalid("bytes_value must be base64-encoded"))?,
        _ => {
            return Err(ApiError::invalid(
                "Exactly one of string_value or bytes_value must be specified",
            ));
        }
    };
    if raw.len() > MAX_VALUE {
        return Err(ApiError::invalid(format!(
            "Secret value exceeds the maximum size of {MAX_VALUE} bytes"
        )));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&raw);
    ctx.store.write(|ws| {
        let s = scope_for_mut(ws, &scope, &caller, "WRITE")?;
        if s.backend_type == "AZURE_KEYVAULT" {
            return Err(ApiError::invalid(
                "Secrets of Azure Key Vault-backed scopes are managed in Azure",
            ));
        }
        if !s.secrets.contains_key(&key) && s.secrets.len() >= MAX_SECRETS {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "RESOURCE_LIMIT_EXCEEDED",
                format!("Scope {scope} already holds {MAX_SECRETS} secrets"),
            ));
        }
        s.secrets.insert(
            key.clone(),
            Secret {
                value: SecretValue::new(encoded.clone()),
                last_updated_timestamp: now_ms(),
            },
        );
        Ok(())
    })?;
    ok_empty()
}

async fn delete_secret(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let scope = req_str(&body, "scope")?.to_owned();
    let key = req_str(&body, "key")?.to_owned();
    ctx.store.write(|ws| {
        let s = scope_for_mut(ws, &scope, &caller, "WRITE")?;
        s.secrets
            .remove(&key)
            .ok_or_else(|| no_secret(&key, &scope))?;
        Ok(())
    })?;
    ok_empty()
}

async fn list_secrets(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let scope = params.required("scope")?.to_owned();
    let secrets = ctx.store.read(|ws| {
        let s = scope_for(ws, &scope, &caller, "READ")?;
        Ok::<_, ApiError>(
            s.secrets
                .iter()
                .map(|(k, s)| json!({"key": k, "last_updated_timestamp": s.last_updated_timestamp}))
                .collect::<Vec<_>>(),
        )
    })?;
    ok(json!({"secrets": secrets}))
}

async fn get_secret(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let scope = params.required("scope")?.to_owned();
    let key = params.required("key")?.to_owned();
    let value = ctx.store.read(|ws| {
        let s = scope_for(ws, &scope, &caller, "READ")?;
        s.secrets
            .get(&key)
            .map(|s| s.value.expose().to_owned())
            .ok_or_else(|| no_secret(&key, &scope))
    })?;
    ok(json!({"key": key, "value": value}))
}

async fn put_acl(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let scope = req_str(&body, "scope")?.to_owned();
    let principal = req_str(&body, "principal")?.to_owned();
    let permission = req_str(&body, "permission")?.to_owned();
    if !LEVELS.contains(&permission.as_str()) {
        return Err(ApiError::invalid(format!(
            "permission must be one of READ, WRITE, MANAGE; got '{permission}'"
        )));
    }
    ctx.store.write(|ws| {
        scope_for(ws, &scope, &caller, "MANAGE")?;
        if !ws.principal_exists(&principal) {
            return Err(ApiError::not_found(format!(
                "Principal {principal} does not exist"
            )));
        }
        if let Some(s) = ws.scopes.get_mut(&scope) {
            s.acls.insert(principal.clone(), permission.clone());
        }
        Ok(())
    })?;
    ok_empty()
}

async fn delete_acl(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let scope = req_str(&body, "scope")?.to_owned();
    let principal = req_str(&body, "principal")?.to_owned();
    ctx.store.write(|ws| {
        let s = scope_for_mut(ws, &scope, &caller, "MANAGE")?;
        s.acls
            .remove(&principal)
            .ok_or_else(|| no_acl(&principal, &scope))?;
        Ok(())
    })?;
    ok_empty()
}

async fn list_acls(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let scope = params.required("scope")?.to_owned();
    let items = ctx.store.read(|ws| {
        let s = scope_for(ws, &scope, &caller, "MANAGE")?;
        Ok::<_, ApiError>(
            s.acls
                .iter()
                .map(|(p, l)| json!({"principal": p, "permission": l}))
                .collect::<Vec<_>>(),
        )
    })?;
    ok(json!({"items": items}))
}

async fn get_acl(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let scope = params.required("scope")?.to_owned();
    let principal = params.required("principal")?.to_owned();
    let permission = ctx.store.read(|ws| {
        let s = scope_for(ws, &scope, &caller, "MANAGE")?;
        s.acls
            .get(&principal)
            .cloned()
            .ok_or_else(|| no_acl(&principal, &scope))
    })?;
    ok(json!({"principal": principal, "permission": permission}))
}
