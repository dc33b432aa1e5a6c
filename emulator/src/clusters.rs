//! Clusters API 2.0/2.1: create, edit, update (field mask), get (with
//! `spec`), list (filters, sort, paging), delete (terminate),
//! permanent-delete, start/restart/resize, pin/unpin, plus the node-type and
//! Spark-version catalogues. Clusters go PENDING → RUNNING after the
//! configured transition delay; cluster policies' fixed values apply.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::clusters_catalog as catalog;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, list_body, now_ms, ok, ok_empty, opt_str, req_str};
use crate::model::{Cluster, Workspace};

/// Routes under 2.0 and 2.1.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for v in ["2.0", "2.1"] {
        let p = |s: &str| format!("/api/{v}/clusters/{s}");
        router = router
            .route(&p("create"), post(create))
            .route(&p("edit"), post(edit))
            .route(&p("update"), post(update))
            .route(&p("get"), get(read))
            .route(&p("list"), get(list))
            .route(&p("delete"), post(terminate))
            .route(&p("permanent-delete"), post(permanent_delete))
            .route(&p("start"), post(start))
            .route(&p("restart"), post(restart))
            .route(&p("resize"), post(resize))
            .route(&p("pin"), post(pin))
            .route(&p("unpin"), post(unpin))
            .route(&p("change-owner"), post(change_owner))
            .route(&p("events"), post(events))
            .route(&p("list-node-types"), get(catalog::node_types))
            .route(&p("spark-versions"), get(catalog::spark_versions))
            .route(&p("list-zones"), get(catalog::zones));
    }
    router
}

fn not_exist(id: &str) -> ApiError {
    ApiError::invalid(format!("Cluster {id} does not exist"))
}

/// Fields a client may set (everything else in a request is ignored).
const SPEC_FIELDS: &[&str] = &[
    "apply_policy_default_values",
    "autoscale",
    "autotermination_minutes",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "cluster_log_conf",
    "cluster_name",
    "custom_tags",
    "data_security_mode",
    "docker_image",
    "driver_instance_pool_id",
    "driver_node_type_id",
    "enable_elastic_disk",
    "enable_local_disk_encryption",
    "init_scripts",
    "instance_pool_id",
    "is_single_node",
    "kind",
    "node_type_id",
    "num_workers",
    "policy_id",
    "runtime_engine",
    "single_user_name",
    "spark_conf",
    "spark_env_vars",
    "spark_version",
    "ssh_public_keys",
    "use_ml_runtime",
    "workload_type",
    "remote_disk_throughput",
    "total_initial_remote_disk_size",
    "dependency_mode",
    "driver_node_type_flexibility",
    "worker_node_type_flexibility",
];

fn spec_of(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| SPEC_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Policy attributes with a fixed value (and default values when the spec
/// asks for them), as (path, value).
fn policy_values(
    ws: &Workspace,
    spec: &Map<String, Value>,
) -> ApiResult<Vec<(String, Value, bool)>> {
    let Some(policy_id) = spec.get("policy_id").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let policy = ws
        .policies
        .get(policy_id)
        .ok_or_else(|| ApiError::invalid(format!("Cluster policy {policy_id} does not exist")))?;
    let definition: Map<String, Value> = policy
        .get("definition")
        .and_then(Value::as_str)
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let with_defaults = spec
        .get("apply_policy_default_values")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut out = Vec::new();
    for (path, rule) in definition {
        let kind = rule.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind == "fixed" {
            if let Some(value) = rule.get("value") {
                out.push((path, value.clone(), true));
            }
        } else if with_defaults && let Some(value) = rule.get("defaultValue") {
            out.push((path, value.clone(), false));
        }
    }
    Ok(out)
}

fn get_path<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.splitn(2, '.');
    let head = parts.next()?;
    match parts.next() {
        None => map.get(head),
        Some(rest) => map.get(head)?.as_object()?.get(rest),
    }
}

fn set_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = map.entry(head.to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(inner) = entry {
                inner.insert(rest.to_owned(), value);
            }
        }
    }
}

fn validate_spec(ws: &Workspace, spec: &Map<String, Value>) -> ApiResult<()> {
    for (path, value, fixed) in policy_values(ws, spec)? {
        if fixed
            && let Some(given) = get_path(spec, &path)
            && given != &value
        {
            return Err(ApiError::invalid(format!(
                "Validation failed for {path}, the value must be {value} (is {given})"
            )));
        }
    }
    let mut effective = spec.clone();
    for (path, value, _) in policy_values(ws, spec)? {
        if get_path(&effective, &path).is_none() {
            set_path(&mut effective, &path, value);
        }
    }
    if effective
        .get("spark_version")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid("Missing required field: spark_version"));
    }
    if !effective.contains_key("node_type_id") && !effective.contains_key("instance_pool_id") {
        return Err(ApiError::invalid(
            "Missing required field: node_type_id (or instance_pool_id)",
        ));
    }
    if let Some(n) = effective.get("num_workers")
        && n.as_i64().is_none_or(|n| n < 0)
    {
        return Err(ApiError::invalid(
            "num_workers must be a non-negative integer",
        ));
    }
    if let Some(a) = effective.get("autoscale") {
        let min = a.get("min_workers").and_then(Value::as_i64).unwrap_or(0);
        let max = a.get("max_workers").and_then(Value::as_i64).unwrap_or(0);
        if min < 0 || max < min || max == 0 {
            return Err(ApiError::invalid(
                "autoscale needs 0 <= min_workers <= max_workers and max_workers > 0",
            ));
        }
    }
    if let Some(m) = effective
        .get("autotermination_minutes")
        .and_then(Value::as_i64)
        && m != 0
        && !(10..=10_000).contains(&m)
    {
        return Err(ApiError::invalid(
            "autotermination_minutes must be 0 or between 10 and 10000",
        ));
    }
    Ok(())
}

/// The GET representation: spec plus server defaults and output fields.
fn render(ws: &Workspace, cluster: &Cluster, now: i64, with_spec: bool) -> Value {
    let mut details = cluster.spec.clone();
    if let Ok(values) = policy_values(ws, &cluster.spec) {
        for (path, value, _) in values {
            if get_path(&details, &path).is_none() {
                set_path(&mut details, &path, value);
            }
        }
    }
    details.remove("apply_policy_default_values");
    let has_cloud = ["aws_attributes", "azure_attributes", "gcp_attributes"]
        .iter()
        .any(|k| details.contains_key(*k));
    if !has_cloud {
        details.insert(
            "aws_attributes".into(),
            json!({"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c", "first_on_demand": 1, "spot_bid_price_percent": 100}),
        );
    }
    details.entry("enable_elastic_disk").or_insert(json!(false));
    if !details.contains_key("autoscale") {
        details.entry("num_workers").or_insert(json!(0));
    }
    if let Some(node) = details.get("node_type_id").cloned() {
        details.entry("driver_node_type_id").or_insert(node);
    }
    let dedicated = matches!(
        details.get("data_security_mode").and_then(Value::as_str),
        Some("SINGLE_USER") | Some("DATA_SECURITY_MODE_DEDICATED")
    );
    if dedicated {
        details
            .entry("single_user_name")
            .or_insert(json!(cluster.creator_user_name));
    }
    let name = details
        .get("cluster_name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let state = cluster.state_at(now);
    details.insert("cluster_id".into(), json!(cluster.cluster_id));
    details.insert("creator_user_name".into(), json!(cluster.creator_user_name));
    details.insert("state".into(), json!(state));
    details.insert(
        "state_message".into(),
        json!(if state == "RUNNING" {
            ""
        } else {
            cluster.state_message.as_str()
        }),
    );
    details.insert("cluster_source".into(), json!("API"));
    details.insert("start_time".into(), json!(cluster.start_time));
    details.insert("jdbc_port".into(), json!(10000));
    details.insert(
        "default_tags".into(),
        json!({
            "Vendor": "Databricks",
            "Creator": cluster.creator_user_name,
            "ClusterName": name,
            "ClusterId": cluster.cluster_id,
        }),
    );
    if state == "RUNNING" {
        details.insert("spark_context_id".into(), json!(cluster.start_time));
    }
    if let Some(t) = cluster.terminated_time {
        details.insert("terminated_time".into(), json!(t));
        details.insert(
            "termination_reason".into(),
            json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": cluster.creator_user_name}}),
        );
    }
    if let Some(t) = cluster.last_restarted_time {
        details.insert("last_restarted_time".into(), json!(t));
    }
    if with_spec {
        details.insert("spec".into(), Value::Object(cluster.spec.clone()));
    }
    Value::Object(details)
}

fn new_cluster_id(ws: &mut Workspace) -> String {
    let n = ws.next_id();
    format!("1128-{:06}-c{:07x}", n % 1_000_000, n)
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let spec = spec_of(&body);
    let token = opt_str(&body, "idempotency_token")?.map(str::to_owned);
    if token.as_ref().is_some_and(|t| t.len() > 64) {
        return Err(ApiError::invalid(
            "idempotency_token must be at most 64 characters",
        ));
    }
    let delay = ctx.transition_delay_ms();
    let id = ctx.store.write(|ws| {
        // An active cluster created with the same token is the answer.
        if let Some(t) = &token {
            let now = now_ms();
            if let Some(existing) = ws.clusters.values().find(|c| {
                c.idempotency_token.as_deref() == Some(t.as_str())
                    && !matches!(c.state_at(now), "TERMINATED" | "TERMINATING" | "ERROR")
            }) {
                return Ok(existing.cluster_id.clone());
            }
        }
        validate_spec(ws, &spec)?;
        if let Some(pool) = spec.get("instance_pool_id").and_then(Value::as_str)
            && !ws.pools.contains_key(pool)
        {
            return Err(ApiError::invalid(format!(
                "Instance pool {pool} does not exist"
            )));
        }
        let id = new_cluster_id(ws);
        let now = now_ms();
        ws.clusters.insert(
            id.clone(),
            Cluster {
                cluster_id: id.clone(),
                spec: spec.clone(),
                creator_user_name: caller.name.clone(),
                state: "PENDING".into(),
                state_message: "Starting Spark".into(),
                running_at: Some(now + delay),
                start_time: now,
                terminated_time: None,
                last_restarted_time: None,
                pinned: false,
                idempotency_token: token.clone(),
            },
        );
        acl::init_creator(ws, "clusters", &id, &caller);
        Ok(id)
    })?;
    ok(json!({"cluster_id": id}))
}

/// The cluster, when the caller may act on it at `level`.
fn cluster_for<'a>(
    ws: &'a Workspace,
    id: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<&'a Cluster> {
    let cluster = ws.clusters.get(id).ok_or_else(|| not_exist(id))?;
    acl::require(ws, "clusters", id, caller, level)?;
    Ok(cluster)
}

/// Applies `f` to a cluster the caller may act on at `level`, its state
/// settled first. `f` works on a copy that is stored only when it succeeds,
/// so a refused action leaves the cluster as it was.
fn with_cluster<R>(
    ws: &mut Workspace,
    id: &str,
    caller: &Caller,
    level: &str,
    f: impl FnOnce(&mut Cluster, i64) -> ApiResult<R>,
) -> ApiResult<R> {
    let mut cluster = cluster_for(ws, id, caller, level)?.clone();
    let now = now_ms();
    cluster.settle(now);
    let result = f(&mut cluster, now)?;
    ws.clusters.insert(id.to_owned(), cluster);
    Ok(result)
}

fn restart_now(cluster: &mut Cluster, now: i64, delay: i64, state: &str, message: &str) {
    cluster.state = state.into();
    cluster.state_message = message.into();
    cluster.running_at = Some(now + delay);
}

fn unexpected_state(id: &str, state: &str) -> ApiError {
    ApiError::invalid_state(format!("Cluster {id} is in unexpected state {state}."))
}

/// Fails unless the (settled) cluster is in `expected`.
fn require_state(cluster: &Cluster, id: &str, expected: &str) -> ApiResult<()> {
    if cluster.state == expected {
        Ok(())
    } else {
        Err(unexpected_state(id, &cluster.state))
    }
}

/// Stores the new spec of an edit or update: a running cluster restarts to
/// apply it, a terminated one keeps it for its next start.
fn replace_spec(
    ws: &mut Workspace,
    id: &str,
    caller: &Caller,
    spec: Map<String, Value>,
    delay: i64,
) -> ApiResult<()> {
    with_cluster(ws, id, caller, "CAN_MANAGE", |cluster, now| {
        match cluster.state.as_str() {
            "RUNNING" => restart_now(cluster, now, delay, "RESTARTING", "Restarting Spark"),
            "TERMINATED" => {}
            other => return Err(unexpected_state(id, other)),
        }
        cluster.spec = spec;
        Ok(())
    })
}

async fn edit(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let spec = spec_of(&body);
    let delay = ctx.transition_delay_ms();
    ctx.store.write(|ws| {
        validate_spec(ws, &spec)?;
        replace_spec(ws, &id, &caller, spec, delay)
    })?;
    ok_empty()
}

async fn update(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let mask = req_str(&body, "update_mask")?.to_owned();
    let patch = body
        .get("cluster")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let delay = ctx.transition_delay_ms();
    ctx.store.write(|ws| {
        let current = ws.clusters.get(&id).ok_or_else(|| not_exist(&id))?;
        let mut spec = current.spec.clone();
        for field in mask.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            if !SPEC_FIELDS.contains(&field) {
                return Err(ApiError::invalid(format!(
                    "Invalid update_mask field '{field}'"
                )));
            }
            match patch.get(field) {
                Some(value) => spec.insert(field.to_owned(), value.clone()),
                None => spec.remove(field),
            };
        }
        validate_spec(ws, &spec)?;
        replace_spec(ws, &id, &caller, spec, delay)
    })?;
    ok_empty()
}

async fn read(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let id = params.required("cluster_id")?.to_owned();
    let body = ctx.store.read(|ws| {
        let cluster = cluster_for(ws, &id, &caller, "CAN_ATTACH_TO")?;
        Ok::<_, ApiError>(render(ws, cluster, now_ms(), true))
    })?;
    ok(body)
}

async fn list(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    params: Params,
) -> ApiResult {
    let paged = uri.path().starts_with("/api/2.1/");
    let page_size = params.int("page_size")?.unwrap_or(0).max(0) as usize;
    let offset = params.offset_token()?;
    let states: Vec<String> = params
        .get_all("filter_by.cluster_states")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let pinned = params.get("filter_by.is_pinned").map(|v| v == "true");
    let policy = params.get("filter_by.policy_id").map(str::to_owned);
    let sort_name = params.get("sort_by.field") == Some("CLUSTER_NAME");
    let descending = params.get("sort_by.direction") == Some("DESC");
    let now = now_ms();
    let (clusters, next, prev) = ctx.store.read(|ws| {
        let visibility = acl::Visibility::new(ws, "clusters", &caller, "CAN_ATTACH_TO");
        let mut selected: Vec<&Cluster> = ws
            .clusters
            .values()
            .filter(|c| states.is_empty() || states.iter().any(|s| s == c.state_at(now)))
            .filter(|c| pinned.is_none_or(|p| p == c.pinned))
            .filter(|c| {
                policy
                    .as_ref()
                    .is_none_or(|p| c.spec.get("policy_id").and_then(Value::as_str) == Some(p))
            })
            .filter(|c| visibility.allows(&c.cluster_id))
            .collect();
        if sort_name {
            selected.sort_by_key(|c| {
                c.spec
                    .get("cluster_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_lowercase()
            });
        }
        if descending {
            selected.reverse();
        }
        let take = if paged && page_size > 0 {
            page_size
        } else {
            usize::MAX
        };
        let page: Vec<Value> = selected
            .iter()
            .skip(offset)
            .take(take)
            .map(|c| render(ws, c, now, false))
            .collect();
        let end = offset.saturating_add(page.len());
        let next = (paged && end < selected.len()).then(|| end.to_string());
        let prev = (paged && offset > 0).then(|| offset.saturating_sub(take).to_string());
        (page, next, prev)
    });
    let mut body = list_body("clusters", clusters, next);
    if let Some(prev) = prev {
        body.insert("prev_page_token".into(), json!(prev));
    }
    ok(Value::Object(body))
}

async fn terminate(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    ctx.store.write(|ws| {
        with_cluster(ws, &id, &caller, "CAN_RESTART", |cluster, now| {
            cluster.state = "TERMINATED".into();
            cluster.state_message = "Terminated by user".into();
            cluster.running_at = None;
            cluster.terminated_time = Some(now);
            Ok(())
        })
    })?;
    ok_empty()
}

async fn permanent_delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    ctx.store.write(|ws| {
        if cluster_for(ws, &id, &caller, "CAN_MANAGE")?.pinned {
            return Err(ApiError::invalid(format!(
                "Cluster {id} is pinned. Please unpin the cluster first."
            )));
        }
        ws.clusters.remove(&id);
        acl::forget(ws, "clusters", &id);
        Ok(())
    })?;
    ok_empty()
}

async fn start(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let delay = ctx.transition_delay_ms();
    ctx.store.write(|ws| {
        with_cluster(ws, &id, &caller, "CAN_RESTART", |cluster, now| {
            require_state(cluster, &id, "TERMINATED")?;
            restart_now(cluster, now, delay, "PENDING", "Starting Spark");
            cluster.terminated_time = None;
            cluster.start_time = now;
            Ok(())
        })
    })?;
    ok_empty()
}

async fn restart(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let delay = ctx.transition_delay_ms();
    ctx.store.write(|ws| {
        with_cluster(ws, &id, &caller, "CAN_RESTART", |cluster, now| {
            require_state(cluster, &id, "RUNNING")?;
            restart_now(cluster, now, delay, "RESTARTING", "Restarting Spark");
            cluster.last_restarted_time = Some(now);
            Ok(())
        })
    })?;
    ok_empty()
}

async fn resize(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let delay = ctx.transition_delay_ms();
    let workers = body.get("num_workers").cloned();
    let autoscale = body.get("autoscale").cloned();
    if workers.is_none() && autoscale.is_none() {
        return Err(ApiError::invalid(
            "Either num_workers or autoscale is required",
        ));
    }
    ctx.store.write(|ws| {
        with_cluster(ws, &id, &caller, "CAN_RESTART", |cluster, now| {
            require_state(cluster, &id, "RUNNING")?;
            if let Some(w) = workers {
                cluster.spec.remove("autoscale");
                cluster.spec.insert("num_workers".into(), w);
            }
            if let Some(a) = autoscale {
                cluster.spec.remove("num_workers");
                cluster.spec.insert("autoscale".into(), a);
            }
            restart_now(cluster, now, delay, "RESIZING", "Resizing cluster");
            Ok(())
        })
    })?;
    ok_empty()
}

async fn set_pin(
    ctx: AppState,
    caller: Caller,
    body: Map<String, Value>,
    pinned: bool,
) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    caller.require_admin()?;
    ctx.store.write(|ws| {
        with_cluster(ws, &id, &caller, "CAN_MANAGE", |cluster, _| {
            cluster.pinned = pinned;
            Ok(())
        })
    })?;
    ok_empty()
}

async fn pin(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    set_pin(ctx, caller, body, true).await
}

async fn unpin(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    set_pin(ctx, caller, body, false).await
}

async fn change_owner(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let id = req_str(&body, "cluster_id")?.to_owned();
    let owner = req_str(&body, "owner_username")?.to_owned();
    ctx.store.write(|ws| {
        if !ws.principal_exists(&owner) {
            return Err(ApiError::invalid(format!("User {owner} does not exist")));
        }
        with_cluster(ws, &id, &caller, "CAN_MANAGE", |cluster, _| {
            cluster.creator_user_name = owner;
            Ok(())
        })
    })?;
    ok_empty()
}

async fn events(State(ctx): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    let id = req_str(&body, "cluster_id")?.to_owned();
    let _ = opt_str(&body, "order")?;
    let exists = ctx.store.read(|ws| ws.clusters.contains_key(&id));
    if !exists {
        return Err(not_exist(&id));
    }
    ok(json!({"events": [], "total_count": 0}))
}
