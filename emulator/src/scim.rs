//! SCIM 2.0 (workspace): `Me`, Users, Groups and ServicePrincipals with
//! filters, `startIndex`/`count` paging, PUT replace and PATCH operations
//! (including group members). Also seeds the configured identities.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, json_response};
use crate::model::identity::{array_field, member_entry, text};
use crate::model::{PrincipalKind, Workspace};
use crate::scim_filter::{self, parse_filter, project, tokenize, values_at};

const BASE: &str = "/api/2.0/preview/scim/v2";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The three SCIM collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Users,
    Groups,
    ServicePrincipals,
}

impl Kind {
    fn parse(segment: &str) -> Result<Self, ApiError> {
        match segment {
            "Users" => Ok(Kind::Users),
            "Groups" => Ok(Kind::Groups),
            "ServicePrincipals" => Ok(Kind::ServicePrincipals),
            other => Err(ApiError::no_endpoint(&format!("{BASE}/{other}"))),
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Kind::Users => "User",
            Kind::Groups => "Group",
            Kind::ServicePrincipals => "ServicePrincipal",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            Kind::Users => USER_SCHEMA,
            Kind::Groups => GROUP_SCHEMA,
            Kind::ServicePrincipals => SP_SCHEMA,
        }
    }

    fn map(self, ws: &Workspace) -> &std::collections::BTreeMap<String, Value> {
        match self {
            Kind::Users => &ws.users,
            Kind::Groups => &ws.groups,
            Kind::ServicePrincipals => &ws.service_principals,
        }
    }

    fn map_mut(self, ws: &mut Workspace) -> &mut std::collections::BTreeMap<String, Value> {
        match self {
            Kind::Users => &mut ws.users,
            Kind::Groups => &mut ws.groups,
            Kind::ServicePrincipals => &mut ws.service_principals,
        }
    }
}

/// SCIM routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/Me"), get(me))
        .route(&format!("{BASE}/{{kind}}"), get(list).post(create))
        .route(
            &format!("{BASE}/{{kind}}/{{id}}"),
            get(read).put(replace).patch(patch).delete(delete),
        )
}

/// A deterministic UUID-shaped application id.
fn new_application_id(ws: &mut Workspace) -> String {
    let n = ws.next_id();
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// A resource as returned to clients: schemas, `meta`, and for users and
/// service principals their direct group memberships.
fn render(ws: &Workspace, kind: Kind, resource: &Value) -> Value {
    let mut out = resource.clone();
    let id = text(resource, "id").unwrap_or_default().to_owned();
    if let Some(map) = out.as_object_mut() {
        let mut schemas = vec![json!(kind.schema())];
        if kind == Kind::Users {
            schemas.push(json!(
                "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"
            ));
        }
        map.insert("schemas".into(), Value::Array(schemas));
        map.insert("meta".into(), json!({"resourceType": kind.singular()}));
        if kind != Kind::Groups || !map.contains_key("groups") {
            let groups: Vec<Value> = ws
                .groups
                .iter()
                .filter(|(_, g)| {
                    g.get("members")
                        .and_then(Value::as_array)
                        .is_some_and(|ms| ms.iter().any(|m| text(m, "value") == Some(&id)))
                })
                .map(|(gid, g)| {
                    json!({
                        "value": gid,
                        "display": text(g, "displayName").unwrap_or_default(),
                        "type": "direct",
                        "$ref": format!("Groups/{gid}"),
                    })
                })
                .collect();
            map.insert("groups".into(), Value::Array(groups));
        }
    }
    out
}

fn scim_response(status: StatusCode, body: &Value) -> Response {
    json_response(status, body)
}

fn not_found(kind: Kind, id: &str) -> ApiError {
    ApiError::scim(
        StatusCode::NOT_FOUND,
        format!("{} with id {id} not found.", kind.singular()),
    )
}

async fn me(State(ctx): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult {
    let body = ctx.store.read(|ws| {
        let kind = match caller.kind {
            PrincipalKind::ServicePrincipal => Kind::ServicePrincipals,
            _ => Kind::Users,
        };
        let id = ws.principal_id(&caller.name, caller.kind)?;
        let resource = kind.map(ws).get(&id)?;
        let mut out = render(ws, Kind::Users, resource);
        if kind == Kind::ServicePrincipals
            && let Some(map) = out.as_object_mut()
        {
            map.insert("userName".into(), json!(caller.name));
        }
        Some(out)
    });
    let body = body.unwrap_or_else(|| {
        json!({
            "schemas": [USER_SCHEMA],
            "id": "0",
            "userName": caller.name,
            "displayName": caller.name,
            "active": true,
        })
    });
    let mut response = scim_response(StatusCode::OK, &body);
    if let Ok(value) = HeaderValue::from_str(&ctx.config.workspace_id) {
        response.headers_mut().insert("X-Databricks-Org-Id", value);
    }
    Ok(response)
}

async fn list(State(ctx): State<AppState>, Path(kind): Path<String>, params: Params) -> ApiResult {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    let filter = params
        .get("filter")
        .filter(|f| !f.trim().is_empty())
        .map(parse_filter)
        .transpose()?;
    let start = params
        .int("startIndex")
        .map_err(ApiError::into_scim)?
        .unwrap_or(1)
        .max(1) as usize;
    let count = params
        .int("count")
        .map_err(ApiError::into_scim)?
        .unwrap_or(10_000)
        .clamp(0, 10_000) as usize;
    let sort_by = params.get("sortBy").map(str::to_owned);
    let descending = params.get("sortOrder") == Some("descending");
    let attributes = params.get("attributes");
    let excluded = params.get("excludedAttributes");
    let (total, page) = ctx.store.read(|ws| {
        let mut selected: Vec<&Value> = kind
            .map(ws)
            .values()
            .filter(|r| filter.as_ref().is_none_or(|f| scim_filter::matches(f, r)))
            .collect();
        if let Some(key) = &sort_by {
            selected.sort_by_key(|r| values_at(r, key).into_iter().next().unwrap_or_default());
        }
        if descending {
            selected.reverse();
        }
        let total = selected.len();
        let page: Vec<Value> = selected
            .into_iter()
            .skip(start - 1)
            .take(count)
            .map(|r| project(render(ws, kind, r), attributes, excluded))
            .collect();
        (total, page)
    });
    let mut body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
    });
    if !page.is_empty()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("Resources".into(), Value::Array(page));
    }
    Ok(scim_response(StatusCode::OK, &body))
}

async fn read(
    State(ctx): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    let body = ctx
        .store
        .read(|ws| kind.map(ws).get(&id).map(|r| render(ws, kind, r)))
        .ok_or_else(|| not_found(kind, &id))?;
    Ok(scim_response(
        StatusCode::OK,
        &project(
            body,
            params.get("attributes"),
            params.get("excludedAttributes"),
        ),
    ))
}

/// Keeps only the fields a client may set on a resource.
fn settable(kind: Kind, body: &Map<String, Value>) -> Map<String, Value> {
    let allowed: &[&str] = match kind {
        Kind::Users => &[
            "userName",
            "displayName",
            "name",
            "emails",
            "active",
            "externalId",
            "entitlements",
            "roles",
        ],
        Kind::Groups => &[
            "displayName",
            "externalId",
            "entitlements",
            "roles",
            "members",
        ],
        Kind::ServicePrincipals => &[
            "applicationId",
            "displayName",
            "active",
            "externalId",
            "entitlements",
            "roles",
        ],
    };
    body.iter()
        .filter(|(k, _)| allowed.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn validate_resource(
    ws: &Workspace,
    kind: Kind,
    fields: &Map<String, Value>,
    own_id: Option<&str>,
) -> ApiResult<()> {
    let conflict = |what: String| Err(ApiError::scim(StatusCode::CONFLICT, what));
    match kind {
        Kind::Users => {
            let name = fields
                .get("userName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() {
                return Err(ApiError::scim(
                    StatusCode::BAD_REQUEST,
                    "Request is unparsable, syntactically incorrect, or violates schema. userName is required.",
                ));
            }
            if let Some(existing) = ws.index.user_ids.get(&name.to_lowercase())
                && Some(existing.as_str()) != own_id
            {
                return conflict(format!("User with username {name} already exists."));
            }
        }
        Kind::Groups => {
            let name = fields
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() {
                return Err(ApiError::scim(
                    StatusCode::BAD_REQUEST,
                    "Request is unparsable, syntactically incorrect, or violates schema. displayName is required.",
                ));
            }
            if let Some(existing) = ws.index.group_ids.get(name)
                && Some(existing.as_str()) != own_id
            {
                return conflict(format!("Group with name {name} already exists."));
            }
            if let Some(members) = fields.get("members").and_then(Value::as_array) {
                for member in members {
                    let id = text(member, "value").unwrap_or_default();
                    if !(ws.users.contains_key(id)
                        || ws.service_principals.contains_key(id)
                        || ws.groups.contains_key(id))
                    {
                        return Err(ApiError::scim(
                            StatusCode::NOT_FOUND,
                            format!("Member with id {id} not found."),
                        ));
                    }
                }
            }
        }
        Kind::ServicePrincipals => {
            if let Some(app) = fields.get("applicationId").and_then(Value::as_str)
                && let Some(existing) = ws.index.sp_ids.get(app)
                && Some(existing.as_str()) != own_id
            {
                return conflict(format!(
                    "Service principal with application id {app} already exists."
                ));
            }
        }
    }
    Ok(())
}

/// Fills server-side fields and normalizes members of a resource.
fn finish(ws: &mut Workspace, kind: Kind, id: &str, mut fields: Map<String, Value>) -> Value {
    fields.insert("id".into(), json!(id));
    match kind {
        Kind::Users => {
            let name = fields.get("userName").cloned().unwrap_or(Value::Null);
            fields.entry("displayName").or_insert(name.clone());
            fields.entry("active").or_insert(json!(true));
            fields
                .entry("emails")
                .or_insert(json!([{"value": name, "type": "work", "primary": true}]));
        }
        Kind::ServicePrincipals => {
            if !fields.contains_key("applicationId") {
                let app = new_application_id(ws);
                fields.insert("applicationId".into(), json!(app));
            }
            fields.entry("active").or_insert(json!(true));
            let app = fields.get("applicationId").cloned().unwrap_or(Value::Null);
            fields.entry("displayName").or_insert(app);
        }
        Kind::Groups => {
            let members: Vec<Value> = fields
                .get("members")
                .and_then(Value::as_array)
                .map(|ms| {
                    ms.iter()
                        .filter_map(|m| text(m, "value"))
                        .map(|mid| member_entry(mid, ws.member_display(mid)))
                        .collect()
                })
                .unwrap_or_default();
            fields.insert("members".into(), Value::Array(members));
        }
    }
    for key in ["entitlements", "roles"] {
        fields.entry(key).or_insert(json!([]));
    }
    Value::Object(fields)
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(kind): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    caller.require_admin().map_err(ApiError::into_scim)?;
    let fields = settable(kind, &body);
    let created = ctx.store.write(|ws| {
        validate_resource(ws, kind, &fields, None)?;
        let id = ws.new_scim_id();
        let resource = finish(ws, kind, &id, fields);
        kind.map_mut(ws).insert(id.clone(), resource);
        ws.reindex_identities();
        if kind != Kind::Groups
            && let Some(users) = ws.index.group_ids.get("users").cloned()
        {
            ws.add_member(&users, &id);
        }
        Ok(render(ws, kind, &kind.map(ws)[&id]))
    })?;
    Ok(scim_response(StatusCode::CREATED, &created))
}

async fn replace(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    caller.require_admin().map_err(ApiError::into_scim)?;
    let mut fields = settable(kind, &body);
    let updated = ctx.store.write(|ws| {
        let existing = kind.map(ws).get(&id).ok_or_else(|| not_found(kind, &id))?;
        if kind == Kind::ServicePrincipals
            && !fields.contains_key("applicationId")
            && let Some(app) = existing.get("applicationId")
        {
            fields.insert("applicationId".into(), app.clone());
        }
        validate_resource(ws, kind, &fields, Some(&id))?;
        let resource = finish(ws, kind, &id, fields);
        kind.map_mut(ws).insert(id.clone(), resource);
        ws.reindex_identities();
        Ok(render(ws, kind, &kind.map(ws)[&id]))
    })?;
    Ok(scim_response(StatusCode::OK, &updated))
}

/// A PATCH path: attribute plus optional `[value eq "x"]` selector.
fn split_path(path: &str) -> (String, Option<String>) {
    match path.split_once('[') {
        Some((attr, rest)) => {
            let inner = rest.trim_end_matches(']');
            let value = tokenize(inner).ok().and_then(|t| {
                (t.len() == 3 && t[1].eq_ignore_ascii_case("eq"))
                    .then(|| t[2].trim_start_matches('"').to_owned())
            });
            (attr.to_owned(), value)
        }
        None => (path.to_owned(), None),
    }
}

fn value_list(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

const MULTI: &[&str] = &["members", "entitlements", "roles", "emails", "groups"];

fn apply_op(
    ws: &mut Workspace,
    kind: Kind,
    id: &str,
    op: &str,
    path: Option<&str>,
    value: Option<&Value>,
) -> ApiResult<()> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        // No path: the value is an object of attributes.
        let Some(Value::Object(attrs)) = value else {
            return Err(ApiError::scim(
                StatusCode::BAD_REQUEST,
                "PATCH operation without path needs an object value",
            ));
        };
        for (key, v) in attrs {
            apply_op(ws, kind, id, op, Some(key), Some(v))?;
        }
        return Ok(());
    };
    let (attr, selector) = split_path(path);
    let attr = MULTI
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&attr))
        .map_or(attr, |m| (*m).to_owned());
    if attr == "groups" && kind != Kind::Groups {
        // Membership is stored on the group.
        for item in value_list(value) {
            let Some(gid) = text(&item, "value").map(str::to_owned) else {
                continue;
            };
            if !ws.groups.contains_key(&gid) {
                return Err(ApiError::scim(
                    StatusCode::NOT_FOUND,
                    format!("Group with id {gid} not found."),
                ));
            }
            if op == "remove" {
                if let Some(group) = ws.groups.get_mut(&gid)
                    && let Some(members) = array_field(group, "members")
                {
                    members.retain(|m| text(m, "value") != Some(id));
                }
            } else {
                ws.add_member(&gid, id);
            }
        }
        return Ok(());
    }
    let incoming: Vec<Value> = if attr == "members" {
        let mut out = Vec::new();
        for item in value_list(value) {
            let mid = text(&item, "value").unwrap_or_default().to_owned();
            if op != "remove"
                && !(ws.users.contains_key(&mid)
                    || ws.service_principals.contains_key(&mid)
                    || ws.groups.contains_key(&mid))
            {
                return Err(ApiError::scim(
                    StatusCode::NOT_FOUND,
                    format!("Member with id {mid} not found."),
                ));
            }
            let display = ws.member_display(&mid);
            out.push(member_entry(&mid, display));
        }
        out
    } else {
        value_list(value)
    };
    let resource = kind
        .map_mut(ws)
        .get_mut(id)
        .ok_or_else(|| not_found(kind, id))?;
    if MULTI.contains(&attr.as_str()) {
        let items = array_field(resource, &attr).ok_or_else(|| {
            ApiError::scim(
                StatusCode::INTERNAL_SERVER_ERROR,
                "stored resource is not an object",
            )
        })?;
        match op {
            "add" => {
                for item in incoming {
                    let key = text(&item, "value").map(str::to_owned);
                    if key.is_none() || !items.iter().any(|i| text(i, "value") == key.as_deref()) {
                        items.push(item);
                    }
                }
            }
            "replace" => *items = incoming,
            "remove" => match selector {
                Some(sel) => items.retain(|i| text(i, "value") != Some(sel.as_str())),
                None if incoming.is_empty() => items.clear(),
                None => {
                    let gone: Vec<Option<String>> = incoming
                        .iter()
                        .map(|i| text(i, "value").map(str::to_owned))
                        .collect();
                    items.retain(|i| !gone.contains(&text(i, "value").map(str::to_owned)));
                }
            },
            other => {
                return Err(ApiError::scim(
                    StatusCode::BAD_REQUEST,
                    format!("Unsupported op '{other}'"),
                ));
            }
        }
    } else if let Some(map) = resource.as_object_mut() {
        let key = map
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&attr))
            .cloned()
            .unwrap_or(attr.clone());
        if key == "id"
            || key == "applicationId" && kind == Kind::ServicePrincipals && op == "remove"
        {
            return Err(ApiError::scim(
                StatusCode::BAD_REQUEST,
                format!("Attribute {key} is immutable"),
            ));
        }
        match op {
            "remove" => {
                map.remove(&key);
            }
            _ => {
                let v = value.cloned().ok_or_else(|| {
                    ApiError::scim(
                        StatusCode::BAD_REQUEST,
                        format!("Operation {op} on {key} needs a value"),
                    )
                })?;
                map.insert(key, v);
            }
        }
    }
    Ok(())
}

/// Applies PATCH operations in order, then validates the result.
fn apply_ops(ws: &mut Workspace, kind: Kind, id: &str, operations: &[Value]) -> ApiResult<()> {
    for operation in operations {
        let op = text(operation, "op").unwrap_or_default().to_lowercase();
        apply_op(
            ws,
            kind,
            id,
            &op,
            text(operation, "path"),
            operation.get("value"),
        )?;
    }
    let fields = kind
        .map(ws)
        .get(id)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    validate_resource(ws, kind, &fields, Some(id))
}

async fn patch(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    caller.require_admin().map_err(ApiError::into_scim)?;
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ApiError::scim(StatusCode::BAD_REQUEST, "Operations is required"))?;
    ctx.store.write(|ws| {
        let before = kind
            .map(ws)
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(kind, &id))?;
        let groups_before = ws.groups.clone();
        if let Err(err) = apply_ops(ws, kind, &id, &operations) {
            // Nothing half-applied: restore what was touched.
            kind.map_mut(ws).insert(id.clone(), before);
            ws.groups = groups_before;
            ws.reindex_identities();
            return Err(err);
        }
        ws.reindex_identities();
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).map_err(ApiError::into_scim)?;
    caller.require_admin().map_err(ApiError::into_scim)?;
    ctx.store.write(|ws| {
        if kind == Kind::Groups && ws.index.group_ids.get("admins") == Some(&id) {
            return Err(ApiError::scim(
                StatusCode::BAD_REQUEST,
                "The admins group cannot be deleted.",
            ));
        }
        kind.map_mut(ws)
            .remove(&id)
            .ok_or_else(|| not_found(kind, &id))?;
        if kind == Kind::ServicePrincipals {
            ws.forget_sp_secrets(&id);
        }
        for group in ws.groups.values_mut() {
            if let Some(members) = array_field(group, "members") {
                members.retain(|m| text(m, "value") != Some(id.as_str()));
            }
        }
        ws.reindex_identities();
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_split_selectors() {
        assert_eq!(
            split_path(r#"members[value eq "123"]"#),
            ("members".to_owned(), Some("123".to_owned()))
        );
        assert_eq!(split_path("displayName"), ("displayName".to_owned(), None));
    }
}
