//! Unity Catalog (`/api/2.1/unity-catalog/*`): catalogs and schemas (CRUD,
//! paged lists; names are stored lower-case), and grants — GET/PATCH of
//! direct privileges and GET of effective privileges, with a case-insensitive
//! securable type, `ALL_PRIVILEGES` removal clearing a principal, duplicate
//! add/remove rejected, and privileges returned in the server's own order.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, now_ms, ok, ok_empty, opt_str, req_str};
use crate::model::Workspace;

const UC: &str = "/api/2.1/unity-catalog";
const METASTORE_ID: &str = "11111111-2222-4333-8444-metastore0001";

const CATALOG_PRIVILEGES: &[&str] = &[
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "BROWSE",
    "CREATE_FUNCTION",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
    "CREATE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "EXECUTE",
    "EXTERNAL_USE_SCHEMA",
    "MANAGE",
    "MODIFY",
    "READ_VOLUME",
    "REFRESH",
    "SELECT",
    "USE_CATALOG",
    "USE_SCHEMA",
    "WRITE_VOLUME",
    "CREATE_VIEW",
];
const SCHEMA_PRIVILEGES: &[&str] = &[
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "CREATE_FUNCTION",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "EXECUTE",
    "EXTERNAL_USE_SCHEMA",
    "MANAGE",
    "MODIFY",
    "READ_VOLUME",
    "REFRESH",
    "SELECT",
    "USE_SCHEMA",
    "WRITE_VOLUME",
    "CREATE_VIEW",
];

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{UC}/catalogs"),
            get(list_catalogs).post(create_catalog),
        )
        .route(
            &format!("{UC}/catalogs/{{name}}"),
            get(get_catalog)
                .patch(update_catalog)
                .delete(delete_catalog),
        )
        .route(
            &format!("{UC}/schemas"),
            get(list_schemas).post(create_schema),
        )
        .route(
            &format!("{UC}/schemas/{{full_name}}"),
            get(get_schema).patch(update_schema).delete(delete_schema),
        )
        .route(
            &format!("{UC}/permissions/{{securable_type}}/{{full_name}}"),
            get(get_grants).patch(update_grants),
        )
        .route(
            &format!("{UC}/effective-permissions/{{securable_type}}/{{full_name}}"),
            get(get_effective),
        )
}

fn valid_name(kind: &str, name: &str) -> ApiResult<String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.contains(['.', ' ', '/'])
        && name.chars().all(|c| !c.is_control());
    if ok {
        Ok(name.to_lowercase())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid {kind} name '{name}': names may not be empty or contain '.', ' ' or '/'"
        )))
    }
}

fn no_catalog(name: &str) -> ApiError {
    ApiError::not_found(format!("Catalog '{name}' does not exist."))
}

fn no_schema(name: &str) -> ApiError {
    ApiError::not_found(format!("Schema '{name}' does not exist."))
}

fn is_owner(ws: &Workspace, object: &Value, caller: &Caller) -> bool {
    if caller.admin {
        return true;
    }
    let owner = object
        .get("owner")
        .and_then(Value::as_str)
        .unwrap_or_default();
    owner.eq_ignore_ascii_case(&caller.name)
        || crate::acl::groups_of(ws, caller).iter().any(|g| g == owner)
}

/// Fails with 403 unless the caller owns `object`, the `kind` named `key`.
fn require_owner(
    ws: &Workspace,
    object: &Value,
    caller: &Caller,
    kind: &str,
    key: &str,
) -> ApiResult<()> {
    if is_owner(ws, object, caller) {
        Ok(())
    } else {
        Err(ApiError::denied(format!(
            "User {} is not an owner of {kind} '{key}'",
            caller.name
        )))
    }
}

/// The catalog stored under `key` (`name` as the client spelled it), when
/// the caller owns it.
fn owned_catalog<'a>(
    ws: &'a Workspace,
    key: &str,
    name: &str,
    caller: &Caller,
) -> ApiResult<&'a Value> {
    let catalog = ws.catalogs.get(key).ok_or_else(|| no_catalog(name))?;
    require_owner(ws, catalog, caller, "catalog", key)?;
    Ok(catalog)
}

/// The schema stored under `key` (`name` as the client spelled it), when
/// the caller owns it.
fn owned_schema<'a>(
    ws: &'a Workspace,
    key: &str,
    name: &str,
    caller: &Caller,
) -> ApiResult<&'a Value> {
    let schema = ws.schemas.get(key).ok_or_else(|| no_schema(name))?;
    require_owner(ws, schema, caller, "schema", key)?;
    Ok(schema)
}

fn paged(items: Vec<Value>, params: &Params, key: &str) -> ApiResult {
    let max = params.int("max_results")?.unwrap_or(0);
    if max < 0 {
        return Err(ApiError::invalid("max_results must be non-negative"));
    }
    let offset = params.offset_token()?;
    let take = if max == 0 { usize::MAX } else { max as usize };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(take).collect();
    let end = offset.saturating_add(page.len());
    let mut body = Map::new();
    body.insert(key.to_owned(), Value::Array(page));
    if end < total {
        body.insert("next_page_token".into(), json!(end.to_string()));
    }
    ok(Value::Object(body))
}

fn string_map(body: &Map<String, Value>, key: &str) -> ApiResult<Option<Value>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.values().all(Value::is_string) => {
            Ok(Some(Value::Object(map.clone())))
        }
        Some(_) => Err(ApiError::invalid(format!("{key} must be a map of strings"))),
    }
}

fn insert_schema(
    ws: &mut Workspace,
    catalog: &str,
    name: &str,
    caller: &str,
    comment: Option<&str>,
) -> Value {
    let now = now_ms();
    let full = format!("{catalog}.{name}");
    let mut schema = json!({
        "name": name, "catalog_name": catalog, "full_name": full, "owner": caller,
        "created_at": now, "created_by": caller, "updated_at": now, "updated_by": caller,
        "metastore_id": METASTORE_ID, "catalog_type": "MANAGED_CATALOG",
        "securable_type": "SCHEMA", "browse_only": false,
    });
    if let (Some(c), Some(map)) = (comment, schema.as_object_mut()) {
        map.insert("comment".into(), json!(c));
    }
    ws.schemas.insert(full, schema.clone());
    schema
}

async fn create_catalog(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let name = valid_name("catalog", req_str(&body, "name")?)?;
    let comment = opt_str(&body, "comment")?.map(str::to_owned);
    let properties = string_map(&body, "properties")?;
    let storage_root = opt_str(&body, "storage_root")?.map(str::to_owned);
    let catalog = ctx.store.write(|ws| {
        if ws.catalogs.contains_key(&name) {
            return Err(ApiError::exists(format!("Catalog '{name}' already exists")));
        }
        let now = now_ms();
        let mut catalog = json!({
            "name": name, "full_name": name, "owner": caller.name,
            "created_at": now, "created_by": caller.name, "updated_at": now, "updated_by": caller.name,
            "metastore_id": METASTORE_ID, "catalog_type": "MANAGED_CATALOG", "isolation_mode": "OPEN",
            "securable_type": "CATALOG", "securable_kind": "CATALOG_STANDARD", "browse_only": false,
            "enable_predictive_optimization": "INHERIT",
        });
        if let Some(map) = catalog.as_object_mut() {
            if let Some(c) = &comment {
                map.insert("comment".into(), json!(c));
            }
            if let Some(p) = &properties {
                map.insert("properties".into(), p.clone());
            }
            if let Some(root) = &storage_root {
                map.insert("storage_root".into(), json!(root));
                map.insert("storage_location".into(), json!(format!("{root}/__unitystorage/catalogs/{name}")));
            }
        }
        ws.catalogs.insert(name.clone(), catalog.clone());
        insert_schema(ws, &name, "default", &caller.name, Some("Default schema (auto-created)"));
        insert_schema(ws, &name, "information_schema", "System user", Some("Information schema (auto-created)"));
        Ok(catalog)
    })?;
    ok(catalog)
}

async fn get_catalog(State(ctx): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let key = name.to_lowercase();
    let catalog = ctx
        .store
        .read(|ws| ws.catalogs.get(&key).cloned())
        .ok_or_else(|| no_catalog(&name))?;
    ok(catalog)
}

async fn list_catalogs(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let items: Vec<Value> = ctx.store.read(|ws| ws.catalogs.values().cloned().collect());
    paged(items, &params, "catalogs")
}

/// Moves every key under `old` (exact or `old.` prefix) to `new`.
fn rename_keys(map: &mut BTreeMap<String, Value>, old: &str, new: &str) {
    let moved: Vec<String> = map
        .keys()
        .filter(|k| *k == old || k.starts_with(&format!("{old}.")))
        .cloned()
        .collect();
    for key in moved {
        if let Some(mut v) = map.remove(&key) {
            let renamed = format!("{new}{}", &key[old.len()..]);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("full_name".into(), json!(renamed));
                if obj.contains_key("catalog_name") && !renamed.contains('.') {
                    obj.insert("catalog_name".into(), json!(new));
                }
            }
            map.insert(renamed, v);
        }
    }
}

fn rename_grants(ws: &mut Workspace, old_key: &str, new_key: &str) {
    let moved: Vec<String> = ws
        .grants
        .keys()
        .filter(|k| *k == old_key || k.starts_with(&format!("{old_key}.")))
        .cloned()
        .collect();
    for key in moved {
        if let Some(v) = ws.grants.remove(&key) {
            ws.grants
                .insert(format!("{new_key}{}", &key[old_key.len()..]), v);
        }
    }
}

fn apply_common(
    object: &mut Map<String, Value>,
    body: &Map<String, Value>,
    ws: &Workspace,
    caller: &Caller,
) -> ApiResult<()> {
    if let Some(comment) = opt_str(body, "comment")? {
        object.insert("comment".into(), json!(comment));
    }
    if let Some(owner) = opt_str(body, "owner")? {
        if !ws.principal_exists(owner) {
            return Err(ApiError::invalid(format!(
                "Could not find principal with name {owner}"
            )));
        }
        object.insert("owner".into(), json!(owner));
    }
    if let Some(props) = string_map(body, "properties")? {
        object.insert("properties".into(), props);
    }
    object.insert("updated_at".into(), json!(now_ms()));
    object.insert("updated_by".into(), json!(caller.name));
    Ok(())
}

async fn update_catalog(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let key = name.to_lowercase();
    let new_name = opt_str(&body, "new_name")?
        .map(|n| valid_name("catalog", n))
        .transpose()?;
    let updated = ctx.store.write(|ws| {
        let mut object = owned_catalog(ws, &key, &name, &caller)?
            .as_object()
            .cloned()
            .unwrap_or_default();
        apply_common(&mut object, &body, ws, &caller)?;
        if let Some(mode) = opt_str(&body, "isolation_mode")? {
            object.insert("isolation_mode".into(), json!(mode));
        }
        if let Some(po) = opt_str(&body, "enable_predictive_optimization")? {
            object.insert("enable_predictive_optimization".into(), json!(po));
        }
        let mut final_key = key.clone();
        if let Some(new) = new_name.filter(|n| *n != key) {
            if ws.catalogs.contains_key(&new) {
                return Err(ApiError::exists(format!("Catalog '{new}' already exists")));
            }
            object.insert("name".into(), json!(new));
            object.insert("full_name".into(), json!(new));
            ws.catalogs.remove(&key);
            rename_keys(&mut ws.schemas, &key, &new);
            rename_grants(ws, &format!("catalog/{key}"), &format!("catalog/{new}"));
            rename_grants(ws, &format!("schema/{key}"), &format!("schema/{new}"));
            final_key = new;
        }
        let value = Value::Object(object);
        ws.catalogs.insert(final_key, value.clone());
        Ok(value)
    })?;
    ok(updated)
}

async fn delete_catalog(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let key = name.to_lowercase();
    let force = params.bool("force");
    ctx.store.write(|ws| {
        owned_catalog(ws, &key, &name, &caller)?;
        let prefix = format!("{key}.");
        let schemas: Vec<String> = ws
            .schemas
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        let user_schemas = schemas
            .iter()
            .filter(|s| !s.ends_with(".default") && !s.ends_with(".information_schema"))
            .count();
        if user_schemas > 0 && !force {
            return Err(ApiError::invalid_state(format!(
                "Catalog '{key}' is not empty. The catalog has {user_schemas} schemas (excluding 'default' and 'information_schema')."
            )));
        }
        for s in schemas {
            ws.schemas.remove(&s);
            ws.grants.remove(&format!("schema/{s}"));
        }
        ws.catalogs.remove(&key);
        ws.grants.remove(&format!("catalog/{key}"));
        Ok(())
    })?;
    ok_empty()
}

async fn create_schema(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let name = valid_name("schema", req_str(&body, "name")?)?;
    let catalog = req_str(&body, "catalog_name")?.to_lowercase();
    let comment = opt_str(&body, "comment")?.map(str::to_owned);
    let properties = string_map(&body, "properties")?;
    let schema = ctx.store.write(|ws| {
        let cat = ws
            .catalogs
            .get(&catalog)
            .ok_or_else(|| no_catalog(&catalog))?;
        if !is_owner(ws, cat, &caller)
            && !has_privilege(ws, "catalog", &catalog, &caller, "CREATE_SCHEMA")
        {
            return Err(ApiError::denied(format!(
                "User {} does not have CREATE SCHEMA on catalog '{catalog}'",
                caller.name
            )));
        }
        let full = format!("{catalog}.{name}");
        if ws.schemas.contains_key(&full) {
            return Err(ApiError::exists(format!("Schema '{full}' already exists")));
        }
        let mut schema = insert_schema(ws, &catalog, &name, &caller.name, comment.as_deref());
        if let (Some(p), Some(map)) = (&properties, schema.as_object_mut()) {
            map.insert("properties".into(), p.clone());
            ws.schemas.insert(full, schema.clone());
        }
        Ok(schema)
    })?;
    ok(schema)
}

async fn get_schema(State(ctx): State<AppState>, Path(full_name): Path<String>) -> ApiResult {
    let key = full_name.to_lowercase();
    let schema = ctx
        .store
        .read(|ws| ws.schemas.get(&key).cloned())
        .ok_or_else(|| no_schema(&full_name))?;
    ok(schema)
}

async fn list_schemas(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let catalog = params.required("catalog_name")?.to_lowercase();
    let items = ctx.store.read(|ws| {
        if !ws.catalogs.contains_key(&catalog) {
            return Err(no_catalog(&catalog));
        }
        let prefix = format!("{catalog}.");
        Ok(ws
            .schemas
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>())
    })?;
    paged(items, &params, "schemas")
}

async fn update_schema(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(full_name): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let key = full_name.to_lowercase();
    let new_name = opt_str(&body, "new_name")?
        .map(|n| valid_name("schema", n))
        .transpose()?;
    let updated = ctx.store.write(|ws| {
        let mut object = owned_schema(ws, &key, &full_name, &caller)?
            .as_object()
            .cloned()
            .unwrap_or_default();
        apply_common(&mut object, &body, ws, &caller)?;
        let mut final_key = key.clone();
        if let Some(new) = new_name {
            let catalog = key.split('.').next().unwrap_or_default().to_owned();
            let new_full = format!("{catalog}.{new}");
            if new_full != key {
                if ws.schemas.contains_key(&new_full) {
                    return Err(ApiError::exists(format!(
                        "Schema '{new_full}' already exists"
                    )));
                }
                object.insert("name".into(), json!(new));
                object.insert("full_name".into(), json!(new_full));
                ws.schemas.remove(&key);
                rename_grants(ws, &format!("schema/{key}"), &format!("schema/{new_full}"));
                final_key = new_full;
            }
        }
        let value = Value::Object(object);
        ws.schemas.insert(final_key, value.clone());
        Ok(value)
    })?;
    ok(updated)
}

async fn delete_schema(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(full_name): Path<String>,
) -> ApiResult {
    let key = full_name.to_lowercase();
    ctx.store.write(|ws| {
        owned_schema(ws, &key, &full_name, &caller)?;
        ws.schemas.remove(&key);
        ws.grants.remove(&format!("schema/{key}"));
        Ok(())
    })?;
    ok_empty()
}

/// Normalizes a securable type and checks the securable exists.
fn securable(ws: &Workspace, securable_type: &str, full_name: &str) -> ApiResult<(String, String)> {
    let kind = securable_type.to_lowercase().replace('-', "_");
    let name = full_name.to_lowercase();
    let exists = match kind.as_str() {
        "catalog" => ws.catalogs.contains_key(&name),
        "schema" => ws.schemas.contains_key(&name),
        "table" | "volume" | "function" | "registered_model" => {
            let parts: Vec<&str> = name.split('.').collect();
            parts.len() == 3
                && ws
                    .schemas
                    .contains_key(&format!("{}.{}", parts[0], parts[1]))
        }
        "metastore" | "external_location" | "storage_credential" | "connection" | "share"
        | "credential" => true,
        _ => {
            return Err(ApiError::invalid(format!(
                "Unsupported securable type '{securable_type}'"
            )));
        }
    };
    if !exists {
        return Err(ApiError::not_found(format!(
            "{} '{full_name}' does not exist.",
            capitalize(&kind)
        )));
    }
    Ok((kind, name))
}

/// A securable whose grants apply: (type, name, inherited-from label).
type Source = (String, String, Option<(String, String)>);

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "catalog" => Some(CATALOG_PRIVILEGES),
        "schema" => Some(SCHEMA_PRIVILEGES),
        _ => None,
    }
}

fn has_privilege(ws: &Workspace, kind: &str, name: &str, caller: &Caller, privilege: &str) -> bool {
    let groups = crate::acl::groups_of(ws, caller);
    ws.grants.get(&format!("{kind}/{name}")).is_some_and(|g| {
        g.iter().any(|(p, privs)| {
            (p.eq_ignore_ascii_case(&caller.name) || groups.contains(p))
                && (privs.contains(privilege) || privs.contains("ALL_PRIVILEGES"))
        })
    })
}

fn render_direct(
    grants: Option<&BTreeMap<String, BTreeSet<String>>>,
    principal: Option<&str>,
) -> Value {
    let list: Vec<Value> = grants
        .into_iter()
        .flatten()
        .filter(|(p, privs)| !privs.is_empty() && principal.is_none_or(|want| want == p.as_str()))
        .map(|(p, privs)| json!({"principal": p, "privileges": privs.iter().collect::<Vec<_>>()}))
        .collect();
    json!({"privilege_assignments": list})
}

async fn get_grants(
    State(ctx): State<AppState>,
    Path((securable_type, full_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let principal = params.get("principal").map(str::to_owned);
    if let Some(max) = params.int("max_results")?
        && (1..150).contains(&max)
    {
        return Err(ApiError::invalid("max_results must be 0 or at least 150"));
    }
    let body = ctx.store.read(|ws| {
        let (kind, name) = securable(ws, &securable_type, &full_name)?;
        Ok::<_, ApiError>(render_direct(
            ws.grants.get(&format!("{kind}/{name}")),
            principal.as_deref(),
        ))
    })?;
    ok(body)
}

fn string_list(change: &Value, key: &str) -> ApiResult<Vec<String>> {
    match change.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_uppercase).ok_or_else(|| {
                    ApiError::invalid(format!("{key} must be a list of privilege names"))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a list"))),
    }
}

async fn update_grants(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((securable_type, full_name)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let changes = match body.get("changes") {
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ApiError::invalid("changes must be a list")),
    };
    let omit = body
        .get("omit_permissions_in_response")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let result = ctx.store.write(|ws| {
        let (kind, name) = securable(ws, &securable_type, &full_name)?;
        let owner_ok = match kind.as_str() {
            "catalog" => ws
                .catalogs
                .get(&name)
                .is_some_and(|c| is_owner(ws, c, &caller)),
            "schema" => ws
                .schemas
                .get(&name)
                .is_some_and(|s| is_owner(ws, s, &caller)),
            _ => caller.admin,
        };
        if !owner_ok && !has_privilege(ws, &kind, &name, &caller, "MANAGE") {
            return Err(ApiError::denied(format!(
                "User {} does not have MANAGE on {kind} '{name}'",
                caller.name
            )));
        }
        let key = format!("{kind}/{name}");
        let mut grants = ws.grants.get(&key).cloned().unwrap_or_default();
        for change in &changes {
            let principal = change
                .get("principal")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| ApiError::invalid("Each change needs a principal"))?;
            if !ws.principal_exists(principal) {
                return Err(ApiError::invalid(format!(
                    "Could not find principal with name {principal}"
                )));
            }
            let add = string_list(change, "add")?;
            let remove = string_list(change, "remove")?;
            if add.iter().any(|p| remove.contains(p)) {
                return Err(ApiError::invalid(format!(
                    "Duplicate privileges to add and delete for principal {principal}."
                )));
            }
            if let Some(valid) = allowed(&kind) {
                for p in add.iter().chain(remove.iter()) {
                    if !valid.contains(&p.as_str()) {
                        return Err(ApiError::invalid(format!(
                            "Privilege {p} is not applicable to this entity [{kind}:{name}]"
                        )));
                    }
                }
            }
            let entry = grants.entry(principal.to_owned()).or_default();
            for p in &remove {
                if p == "ALL_PRIVILEGES" {
                    entry.clear();
                } else {
                    entry.remove(p);
                }
            }
            entry.extend(add);
        }
        grants.retain(|_, privs| !privs.is_empty());
        let rendered = render_direct(Some(&grants), None);
        if grants.is_empty() {
            ws.grants.remove(&key);
        } else {
            ws.grants.insert(key, grants);
        }
        Ok(rendered)
    })?;
    if omit {
        return ok(json!({}));
    }
    ok(result)
}

async fn get_effective(
    State(ctx): State<AppState>,
    Path((securable_type, full_name)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let principal = params.get("principal").map(str::to_owned);
    let body = ctx.store.read(|ws| {
        let (kind, name) = securable(ws, &securable_type, &full_name)?;
        let mut sources: Vec<Source> =
            vec![(kind.clone(), name.clone(), None)];
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() >= 2 {
            sources.push(("catalog".into(), parts[0].into(), Some(("CATALOG".into(), parts[0].into()))));
        }
        if parts.len() == 3 {
            let schema = format!("{}.{}", parts[0], parts[1]);
            sources.push(("schema".into(), schema.clone(), Some(("SCHEMA".into(), schema))));
        }
        let mut by_principal: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, n, inherited) in sources {
            for (p, privs) in ws.grants.get(&format!("{k}/{n}")).into_iter().flatten() {
                if principal.as_deref().is_some_and(|want| want != p) {
                    continue;
                }
                for privilege in privs {
                    let entry = match &inherited {
                        None => json!({"privilege": privilege}),
                        Some((t, from)) => json!({"privilege": privilege, "inherited_from_type": t, "inherited_from_name": from}),
                    };
                    by_principal.entry(p.clone()).or_default().push(entry);
                }
            }
        }
        let list: Vec<Value> = by_principal
            .into_iter()
            .map(|(p, privs)| json!({"principal": p, "privileges": privs}))
            .collect();
        Ok::<_, ApiError>(json!({"privilege_assignments": list}))
    })?;
    ok(body)
}
