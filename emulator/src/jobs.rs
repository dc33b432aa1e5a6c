//! Jobs API 2.0/2.1/2.2: create, get (2.2 pages arrays of more than 100
//! elements), list (token paging, name filter, `expand_tasks`), reset, update
//! (arrays merged by key, `fields_to_remove`) and delete, with the server-side
//! defaults and reorderings the real service applies.

use std::ops::Bound;

use axum::extract::State;
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, first_page, json_bytes, now_ms, ok, ok_empty, req_id};
use crate::model::job::{Arrays, PAGE};
use crate::model::{Job, PrincipalKind, Workspace};

const MAX_TASKS: usize = 1000;

/// Jobs routes, served under 2.0, 2.1 and 2.2.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for version in ["2.0", "2.1", "2.2"] {
        router = router
            .route(&format!("/api/{version}/jobs/create"), post(create))
            .route(&format!("/api/{version}/jobs/get"), get(read))
            .route(&format!("/api/{version}/jobs/list"), get(list))
            .route(&format!("/api/{version}/jobs/reset"), post(reset))
            .route(&format!("/api/{version}/jobs/update"), post(update))
            .route(&format!("/api/{version}/jobs/delete"), post(delete));
    }
    router
}

fn is_v22(uri: &Uri) -> bool {
    uri.path().starts_with("/api/2.2/")
}

fn not_exist(id: i64) -> ApiError {
    ApiError::invalid(format!("Job {id} does not exist."))
}

fn sort_depends_on(task: &mut Map<String, Value>) {
    if let Some(Value::Array(deps)) = task.get_mut("depends_on") {
        deps.sort_by(|a, b| {
            let ka = a
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kb = b
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ka.cmp(kb)
        });
    }
}

fn default_cluster(cluster: &mut Map<String, Value>) {
    let has_cloud = ["aws_attributes", "azure_attributes", "gcp_attributes"]
        .iter()
        .any(|k| cluster.contains_key(*k));
    if !has_cloud {
        cluster.insert(
            "aws_attributes".into(),
            json!({"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c", "first_on_demand": 1}),
        );
    }
    cluster.entry("enable_elastic_disk").or_insert(json!(false));
    cluster
        .entry("data_security_mode")
        .or_insert(json!("SINGLE_USER"));
    cluster.remove("apply_policy_default_values");
    if let Some(node) = cluster.get("node_type_id").cloned() {
        cluster.entry("driver_node_type_id").or_insert(node);
    }
}

fn default_task(task: &mut Map<String, Value>, git: bool) {
    task.entry("run_if").or_insert(json!("ALL_SUCCESS"));
    task.entry("timeout_seconds").or_insert(json!(0));
    task.entry("email_notifications").or_insert(json!({}));
    sort_depends_on(task);
    let source = if git { "GIT" } else { "WORKSPACE" };
    for kind in ["notebook_task", "spark_python_task"] {
        if let Some(Value::Object(inner)) = task.get_mut(kind) {
            inner.entry("source").or_insert(json!(source));
        }
    }
    if let Some(Value::Object(cluster)) = task.get_mut("new_cluster") {
        default_cluster(cluster);
    }
}

/// Applies the server-side defaults to settings (idempotent).
fn apply_defaults(settings: &mut Map<String, Value>) {
    settings.entry("name").or_insert(json!("Untitled"));
    settings.entry("email_notifications").or_insert(json!({}));
    settings.entry("webhook_notifications").or_insert(json!({}));
    settings.entry("timeout_seconds").or_insert(json!(0));
    settings.entry("max_concurrent_runs").or_insert(json!(1));
    settings.entry("format").or_insert(json!("MULTI_TASK"));
    let git = settings.contains_key("git_source");
    if let Some(Value::Array(tasks)) = settings.get_mut("tasks") {
        for task in tasks.iter_mut() {
            if let Value::Object(task) = task {
                default_task(task, git);
            }
        }
    }
    if let Some(Value::Array(clusters)) = settings.get_mut("job_clusters") {
        for jc in clusters.iter_mut() {
            if let Some(Value::Object(cluster)) = jc.get_mut("new_cluster") {
                default_cluster(cluster);
            }
        }
    }
    for trigger in ["schedule", "trigger", "continuous"] {
        if let Some(Value::Object(inner)) = settings.get_mut(trigger) {
            inner.entry("pause_status").or_insert(json!("UNPAUSED"));
        }
    }
}

fn keyed_unique(settings: &Map<String, Value>, array: &str, key: &str) -> ApiResult<()> {
    let Some(items) = settings.get(array) else {
        return Ok(());
    };
    let items = items
        .as_array()
        .ok_or_else(|| ApiError::invalid(format!("{array} must be an array")))?;
    let mut seen = std::collections::HashSet::new();
    for item in items {
        let k = item
            .get(key)
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::invalid(format!("Missing required field: {array}.{key}")))?;
        if !seen.insert(k.to_owned()) {
            return Err(ApiError::invalid(format!(
                "{array} must have unique {key} values; '{k}' is duplicated"
            )));
        }
    }
    Ok(())
}

/// Validates settings: each field on its own, then the references between
/// tasks and job clusters.
fn validate(settings: &Map<String, Value>) -> ApiResult<()> {
    check_fields(settings)?;
    check_references(settings)
}

/// Checks each field on its own (shapes, limits, unique keys), as a partial
/// `jobs/update` may carry only some of the tasks.
fn check_fields(settings: &Map<String, Value>) -> ApiResult<()> {
    keyed_unique(settings, "tasks", "task_key")?;
    keyed_unique(settings, "job_clusters", "job_cluster_key")?;
    if let Some(tasks) = settings.get("tasks").and_then(Value::as_array)
        && tasks.len() > MAX_TASKS
    {
        return Err(ApiError::invalid(format!(
            "A job can have at most {MAX_TASKS} tasks; got {}",
            tasks.len()
        )));
    }
    if let Some(name) = settings.get("name") {
        let name = name
            .as_str()
            .ok_or_else(|| ApiError::invalid("name must be a string"))?;
        if name.len() > 4096 {
            return Err(ApiError::invalid("name must be at most 4096 bytes"));
        }
    }
    if let Some(n) = settings.get("max_concurrent_runs") {
        let n = n
            .as_i64()
            .ok_or_else(|| ApiError::invalid("max_concurrent_runs must be an integer"))?;
        if !(0..=1000).contains(&n) {
            return Err(ApiError::invalid(
                "max_concurrent_runs must be between 0 and 1000",
            ));
        }
    }
    if let Some(t) = settings.get("timeout_seconds")
        && t.as_i64().is_none_or(|t| t < 0)
    {
        return Err(ApiError::invalid(
            "timeout_seconds must be a non-negative integer",
        ));
    }
    if let Some(tags) = settings.get("tags") {
        let tags = tags
            .as_object()
            .ok_or_else(|| ApiError::invalid("tags must be an object"))?;
        if tags.len() > 25 {
            return Err(ApiError::invalid("A job can have at most 25 tags"));
        }
    }
    if let Some(run_as) = settings.get("run_as") {
        run_as_name(run_as)?;
    }
    Ok(())
}

/// The string values of `key` across the objects of array `array`.
fn keys_of<'a>(
    settings: &'a Map<String, Value>,
    array: &str,
    key: &str,
) -> std::collections::HashSet<&'a str> {
    settings
        .get(array)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get(key).and_then(Value::as_str))
        .collect()
}

/// Checks that every `depends_on` names a task of the job and every task's
/// `job_cluster_key` names one of its job clusters.
fn check_references(settings: &Map<String, Value>) -> ApiResult<()> {
    let task_keys = keys_of(settings, "tasks", "task_key");
    let cluster_keys = keys_of(settings, "job_clusters", "job_cluster_key");
    let tasks = settings.get("tasks").and_then(Value::as_array);
    for task in tasks.into_iter().flatten() {
        let task_key = task
            .get("task_key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let deps = task.get("depends_on").and_then(Value::as_array);
        for dep in deps.into_iter().flatten() {
            let dep_key = dep
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !task_keys.contains(dep_key) {
                return Err(ApiError::invalid(format!(
                    "Task {task_key} depends on {dep_key}, which is not defined in the job"
                )));
            }
        }
        if let Some(cluster) = task.get("job_cluster_key").and_then(Value::as_str)
            && !cluster_keys.contains(cluster)
        {
            return Err(ApiError::invalid(format!(
                "Task {task_key} uses job cluster {cluster}, which is not defined in the job"
            )));
        }
    }
    Ok(())
}

/// The identity named by `run_as`.
fn run_as_name(run_as: &Value) -> ApiResult<(PrincipalKind, String)> {
    let names: Vec<(PrincipalKind, &str)> = [
        (PrincipalKind::User, "user_name"),
        (PrincipalKind::ServicePrincipal, "service_principal_name"),
        (PrincipalKind::Group, "group_name"),
    ]
    .into_iter()
    .filter_map(|(k, f)| run_as.get(f).and_then(Value::as_str).map(|n| (k, n)))
    .collect();
    match names.as_slice() {
        [(kind, name)] => Ok((*kind, (*name).to_owned())),
        _ => Err(ApiError::invalid(
            "run_as must set exactly one of user_name, service_principal_name or group_name",
        )),
    }
}

fn check_run_as(ws: &Workspace, run_as: &Value) -> ApiResult<String> {
    let (kind, name) = run_as_name(run_as)?;
    if ws.principal_id(&name, kind).is_none() {
        return Err(ApiError::invalid(format!(
            "Principal {name} does not exist"
        )));
    }
    Ok(name)
}

fn set_name_index(ws: &mut Workspace, id: i64, old: Option<String>, new: String) {
    if let Some(old) = old
        && let Some(ids) = ws.index.job_names.get_mut(&old)
    {
        ids.remove(&id);
        if ids.is_empty() {
            ws.index.job_names.remove(&old);
        }
    }
    ws.index.job_names.entry(new).or_default().insert(id);
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    JsonBody(mut body): JsonBody,
) -> ApiResult {
    let acl = body.remove("access_control_list");
    body.remove("idempotency_token");
    validate(&body)?;
    let v22 = is_v22(&uri);
    let job_id = ctx.store.write(|ws| {
        let run_as = body.remove("run_as");
        let run_as_user = match &run_as {
            Some(r) => check_run_as(ws, r)?,
            None => caller.name.clone(),
        };
        if v22 && !body.contains_key("queue") {
            body.insert("queue".into(), json!({"enabled": true}));
        }
        let mut settings = body;
        apply_defaults(&mut settings);
        let job_id = i64::try_from(ws.next_id()).unwrap_or(i64::MAX) + 1_000_000_000_000;
        let job = Job::build(
            job_id,
            caller.name.clone(),
            run_as_user,
            run_as,
            now_ms(),
            &settings,
        );
        acl::init_creator(ws, "jobs", &job_id.to_string(), &caller);
        let name = job.name_key();
        // The job must exist for the ACL checks; roll back on error.
        ws.jobs.insert(job_id, job);
        if let Some(Value::Array(list)) = &acl {
            let key = job_id.to_string();
            if let Err(err) = acl::put_acl(ws, "jobs", &key, list, &caller) {
                ws.jobs.remove(&job_id);
                acl::forget(ws, "jobs", &key);
                return Err(err);
            }
        }
        set_name_index(ws, job_id, None, name);
        Ok(job_id)
    })?;
    ok(json!({"job_id": job_id}))
}

/// Writes a job object as `get` or `list` returns it around `settings`
/// (JSON text).
fn write_job(
    out: &mut Vec<u8>,
    job: &Job,
    with_run_as: bool,
    settings: &str,
    has_more: Option<bool>,
    next: Option<usize>,
) {
    out.extend_from_slice(b"{\"job_id\":");
    out.extend_from_slice(job.job_id.to_string().as_bytes());
    out.extend_from_slice(b",\"creator_user_name\":");
    let _ = serde_json::to_writer(&mut *out, &job.creator_user_name);
    if with_run_as {
        out.extend_from_slice(b",\"run_as_user_name\":");
        let _ = serde_json::to_writer(&mut *out, &job.run_as_user_name);
    }
    out.extend_from_slice(b",\"created_time\":");
    out.extend_from_slice(job.created_time.to_string().as_bytes());
    out.extend_from_slice(b",\"settings\":");
    out.extend_from_slice(settings.as_bytes());
    if let Some(more) = has_more {
        out.extend_from_slice(if more {
            b",\"has_more\":true"
        } else {
            b",\"has_more\":false"
        });
    }
    if let Some(next) = next {
        out.extend_from_slice(format!(",\"next_page_token\":\"{next}\"").as_bytes());
    }
    out.push(b'}');
}

/// The `jobs/get` body; `page` selects the 100-element window of arrays
/// (2.2), `None` returns every element (2.0/2.1).
fn get_body(job: &Job, page: Option<usize>) -> Vec<u8> {
    let (arrays, has_more, next) = match page {
        Some(offset) => {
            let more = job.array_lens().iter().any(|l| *l > offset + PAGE);
            (
                Arrays::Window(offset),
                Some(more),
                more.then_some(offset + PAGE),
            )
        }
        None => (Arrays::All, None, None),
    };
    let text = job.view_text(arrays);
    let mut out = Vec::with_capacity(text.len() + 160);
    write_job(&mut out, job, true, &text, has_more, next);
    out
}

/// Appends one `jobs/list` entry.
fn write_list_entry(out: &mut Vec<u8>, job: &Job, expand: bool) {
    let [tasks, clusters, _, _] = job.array_lens();
    let (arrays, has_more) = if expand {
        (Arrays::Expand, Some(tasks > PAGE || clusters > PAGE))
    } else {
        (Arrays::Omit, None)
    };
    let text = job.view_text(arrays);
    write_job(out, job, false, &text, has_more, None);
}

async fn read(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    params: Params,
) -> ApiResult {
    let job_id = params
        .required("job_id")?
        .parse::<i64>()
        .map_err(|_| ApiError::invalid("Invalid value for job_id"))?;
    let page = if is_v22(&uri) {
        Some(params.offset_token()?)
    } else {
        None
    };
    let body = ctx.store.read(|ws| {
        let job = ws.jobs.get(&job_id).ok_or_else(|| not_exist(job_id))?;
        acl::require(ws, "jobs", &job_id.to_string(), &caller, "CAN_VIEW")?;
        Ok::<_, ApiError>(json_bytes(get_body(job, page)))
    })?;
    Ok(body)
}

async fn list(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let limit = params.int("limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "The limit must be greater than 0 and less or equal to 100",
        ));
    }
    let limit = limit as usize;
    let after = match params.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => Some(
            token
                .parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("Invalid page_token '{token}'")))?,
        ),
        None => None,
    };
    let offset = params.int("offset")?.unwrap_or(0).max(0) as usize;
    let expand = params.bool("expand_tasks");
    let name = params.get("name").map(str::to_lowercase);
    let body = ctx.store.read(|ws| {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let visibility = acl::Visibility::new(ws, "jobs", &caller, "CAN_VIEW");
        let visible = |job: &&Job| visibility.allows(job.job_id);
        let (page, more) = match &name {
            Some(name) => {
                let ids = ws.index.job_names.get(name);
                let jobs = ids
                    .into_iter()
                    .flat_map(|ids| ids.range((lower, Bound::Unbounded)))
                    .filter_map(|id| ws.jobs.get(id));
                first_page(jobs.filter(visible).skip(offset), limit)
            }
            None => {
                let jobs = ws.jobs.range((lower, Bound::Unbounded)).map(|(_, job)| job);
                first_page(jobs.filter(visible).skip(offset), limit)
            }
        };
        let next = more.then(|| page.last().map(|j| j.job_id)).flatten();
        let mut out = Vec::with_capacity(page.len() * 1024 + 64);
        out.push(b'{');
        if !page.is_empty() {
            out.extend_from_slice(b"\"jobs\":[");
            for (i, job) in page.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_list_entry(&mut out, job, expand);
            }
            out.extend_from_slice(b"],");
        }
        out.extend_from_slice(if next.is_some() {
            b"\"has_more\":true"
        } else {
            b"\"has_more\":false"
        });
        if let Some(next) = next {
            out.extend_from_slice(format!(",\"next_page_token\":\"{next}\"").as_bytes());
        }
        out.push(b'}');
        json_bytes(out)
    });
    Ok(body)
}

/// The job to change, when the caller may manage it.
fn manageable<'a>(ws: &'a Workspace, job_id: i64, caller: &Caller) -> ApiResult<&'a Job> {
    let job = ws.jobs.get(&job_id).ok_or_else(|| not_exist(job_id))?;
    acl::require(ws, "jobs", &job_id.to_string(), caller, "CAN_MANAGE")?;
    Ok(job)
}

/// Takes `run_as` out of new settings, with the user name it resolves to.
fn take_run_as(
    ws: &Workspace,
    settings: &mut Map<String, Value>,
) -> ApiResult<Option<(Value, String)>> {
    settings
        .remove("run_as")
        .map(|run_as| check_run_as(ws, &run_as).map(|user| (run_as, user)))
        .transpose()
}

/// Stores an edited job and keeps the name index in step. A `run_as` sent
/// with the edit replaces the identity; omitting it keeps the previous one.
fn store_edited(ws: &mut Workspace, job_id: i64, mut job: Job, run_as: Option<(Value, String)>) {
    if let Some((run_as, user)) = run_as {
        job.run_as = Some(run_as);
        job.run_as_user_name = user;
    }
    let old = ws.jobs.get(&job_id).map(Job::name_key);
    let new = job.name_key();
    ws.jobs.insert(job_id, job);
    set_name_index(ws, job_id, old, new);
}

async fn reset(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    JsonBody(mut body): JsonBody,
) -> ApiResult {
    let job_id = req_id(&body, "job_id")?;
    let mut settings = match body.remove("new_settings") {
        Some(Value::Object(s)) => s,
        _ => return Err(ApiError::invalid("Missing required field: new_settings")),
    };
    validate(&settings)?;
    let v22 = is_v22(&uri);
    ctx.store.write(|ws| {
        let mut job = manageable(ws, job_id, &caller)?.clone();
        let run_as = take_run_as(ws, &mut settings)?;
        if v22 && !settings.contains_key("queue") {
            settings.insert("queue".into(), json!({"enabled": true}));
        }
        apply_defaults(&mut settings);
        job.set_settings(&settings);
        store_edited(ws, job_id, job, run_as);
        Ok(())
    })?;
    ok_empty()
}

/// Merges `incoming` array entries into `current` by `key`: an entry whose
/// key is already there replaces it in place, a new key is appended, the
/// rest stay.
fn merge_keyed(current: &mut Vec<Value>, incoming: Vec<Value>, key: &str) {
    for item in incoming {
        let k = item.get(key).and_then(Value::as_str).map(str::to_owned);
        let existing = k.as_deref().and_then(|k| {
            current
                .iter_mut()
                .find(|c| c.get(key).and_then(Value::as_str) == Some(k))
        });
        match existing {
            Some(existing) => *existing = item,
            None => current.push(item),
        }
    }
}

/// The key field of the arrays `jobs/update` merges instead of replacing.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "tasks" => Some("task_key"),
        "job_clusters" => Some("job_cluster_key"),
        _ => None,
    }
}

/// Applies `new_settings` of `jobs/update`: top-level fields are replaced,
/// `tasks` and `job_clusters` are merged by key.
fn merge_settings(settings: &mut Map<String, Value>, new_settings: Map<String, Value>) {
    for (field, value) in new_settings {
        let key = merge_key(&field);
        match (key, settings.get_mut(&field), value) {
            (Some(key), Some(Value::Array(current)), Value::Array(incoming)) => {
                merge_keyed(current, incoming, key);
            }
            (_, _, value) => {
                settings.insert(field, value);
            }
        }
    }
}

/// One entry of `fields_to_remove`: a top-level field, or one task or job
/// cluster by key (`tasks/<task_key>`, `job_clusters/<job_cluster_key>`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Removal {
    Field(String),
    Entry {
        array: &'static str,
        key: &'static str,
        value: String,
    },
}

impl Removal {
    /// Parses one path; other nested paths are refused, as the API does.
    fn parse(path: &str) -> ApiResult<Removal> {
        let nested = || ApiError::invalid(format!("Removing nested field {path} is not supported"));
        match path.split_once('/') {
            None if !path.is_empty() => Ok(Removal::Field(path.to_owned())),
            None => Err(ApiError::invalid(
                "fields_to_remove must not hold empty names",
            )),
            Some((array, value)) => {
                let (array, key) = match array {
                    "tasks" => ("tasks", "task_key"),
                    "job_clusters" => ("job_clusters", "job_cluster_key"),
                    _ => return Err(nested()),
                };
                if value.is_empty() || value.contains('/') {
                    return Err(nested());
                }
                Ok(Removal::Entry {
                    array,
                    key,
                    value: value.to_owned(),
                })
            }
        }
    }

    /// Removes the field or entry (absent ones are ignored).
    fn apply(&self, settings: &mut Map<String, Value>) {
        match self {
            Removal::Field(field) => {
                settings.remove(field);
            }
            Removal::Entry { array, key, value } => {
                if let Some(Value::Array(items)) = settings.get_mut(*array) {
                    items.retain(|item| item.get(*key).and_then(Value::as_str) != Some(value));
                }
            }
        }
    }
}

/// Parses `fields_to_remove` (absent or null means none).
fn removals(body: &Map<String, Value>) -> ApiResult<Vec<Removal>> {
    match body.get("fields_to_remove") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| ApiError::invalid("fields_to_remove must be strings"))
                    .and_then(Removal::parse)
            })
            .collect(),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => Err(ApiError::invalid("fields_to_remove must be an array")),
    }
}

/// The settings after an update: removals first (so a removed array can be
/// sent again in full), then the merge; the result is validated as a whole
/// and gets the server defaults.
fn updated_settings(
    mut settings: Map<String, Value>,
    new_settings: Map<String, Value>,
    removals: &[Removal],
) -> ApiResult<Map<String, Value>> {
    for removal in removals {
        removal.apply(&mut settings);
    }
    merge_settings(&mut settings, new_settings);
    validate(&settings)?;
    // Re-applying defaults fills anything a removal dropped.
    apply_defaults(&mut settings);
    Ok(settings)
}

async fn update(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(mut body): JsonBody,
) -> ApiResult {
    let job_id = req_id(&body, "job_id")?;
    let mut new_settings = match body.remove("new_settings") {
        Some(Value::Object(s)) => s,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(ApiError::invalid("new_settings must be an object")),
    };
    let removals = removals(&body)?;
    // Cross-references are checked on the merged result.
    check_fields(&new_settings)?;
    ctx.store.write(|ws| {
        let mut job = manageable(ws, job_id, &caller)?.clone();
        let run_as = take_run_as(ws, &mut new_settings)?;
        let settings = updated_settings(job.settings_map(), new_settings, &removals)?;
        job.set_settings(&settings);
        store_edited(ws, job_id, job, run_as);
        Ok(())
    })?;
    ok_empty()
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let job_id = req_id(&body, "job_id")?;
    ctx.store.write(|ws| {
        manageable(ws, job_id, &caller)?;
        if let Some(job) = ws.jobs.remove(&job_id) {
            let key = job.name_key();
            if let Some(ids) = ws.index.job_names.get_mut(&key) {
                ids.remove(&job_id);
                if ids.is_empty() {
                    ws.index.job_names.remove(&key);
                }
            }
        }
        acl::forget(ws, "jobs", &job_id.to_string());
        Ok(())
    })?;
    ok_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn task_keys(settings: &Map<String, Value>) -> Vec<&str> {
        settings["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["task_key"].as_str().unwrap())
            .collect()
    }

    fn stored() -> Map<String, Value> {
        let mut settings = obj(json!({
            "name": "etl",
            "job_clusters": [
                {"job_cluster_key": "main", "new_cluster": {"spark_version": "15.4.x-scala2.12"}},
                {"job_cluster_key": "big", "new_cluster": {"spark_version": "15.4.x-scala2.12"}},
            ],
            "tasks": [
                {"task_key": "extract", "job_cluster_key": "main", "notebook_task": {"notebook_path": "/a"}},
                {"task_key": "load", "job_cluster_key": "main", "depends_on": [{"task_key": "extract"}],
                 "notebook_task": {"notebook_path": "/b"}},
            ],
        }));
        validate(&settings).unwrap();
        apply_defaults(&mut settings);
        settings
    }

    #[test]
    fn merge_replaces_by_key_keeps_the_rest_and_appends_new_keys() {
        let mut current = vec![json!({"k": "a", "v": 1}), json!({"k": "b", "v": 1})];
        merge_keyed(
            &mut current,
            vec![json!({"k": "b", "v": 2}), json!({"k": "c", "v": 3})],
            "k",
        );
        assert_eq!(
            current,
            vec![
                json!({"k": "a", "v": 1}),
                json!({"k": "b", "v": 2}),
                json!({"k": "c", "v": 3}),
            ]
        );
    }

    #[test]
    fn a_partial_task_list_may_depend_on_tasks_it_does_not_carry() {
        let partial = obj(json!({"tasks": [
            {"task_key": "load", "job_cluster_key": "big", "depends_on": [{"task_key": "extract"}],
             "notebook_task": {"notebook_path": "/b2"}},
            {"task_key": "report", "depends_on": [{"task_key": "load"}],
             "notebook_task": {"notebook_path": "/c"}},
        ]}));
        check_fields(&partial).unwrap();
        assert!(
            validate(&partial).is_err(),
            "alone it names an unknown task"
        );
        let merged = updated_settings(stored(), partial, &[]).unwrap();
        assert_eq!(task_keys(&merged), ["extract", "load", "report"]);
        let load = &merged["tasks"][1];
        assert_eq!(load["notebook_task"]["notebook_path"], "/b2");
        assert_eq!(load["job_cluster_key"], "big");
        assert_eq!(merged["tasks"][2]["run_if"], "ALL_SUCCESS");
        assert_eq!(merged["name"], "etl");
    }

    #[test]
    fn job_clusters_merge_by_key() {
        let partial = obj(json!({"job_clusters": [
            {"job_cluster_key": "main", "new_cluster": {"spark_version": "16.0.x-scala2.12"}},
            {"job_cluster_key": "gpu", "new_cluster": {"spark_version": "15.4.x-gpu-ml-scala2.12"}},
        ]}));
        let merged = updated_settings(stored(), partial, &[]).unwrap();
        let clusters: Vec<(&str, &str)> = merged["job_clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["job_cluster_key"].as_str().unwrap(),
                    c["new_cluster"]["spark_version"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            clusters,
            [
                ("main", "16.0.x-scala2.12"),
                ("big", "15.4.x-scala2.12"),
                ("gpu", "15.4.x-gpu-ml-scala2.12"),
            ]
        );
        assert_eq!(task_keys(&merged), ["extract", "load"]);
    }

    #[test]
    fn the_merged_result_must_be_consistent() {
        let unknown_dep = obj(json!({"tasks": [
            {"task_key": "report", "depends_on": [{"task_key": "nope"}]},
        ]}));
        let err = updated_settings(stored(), unknown_dep, &[]).unwrap_err();
        assert!(err.message().contains("nope"), "{err}");
        let remove_used = [Removal::parse("tasks/extract").unwrap()];
        assert!(updated_settings(stored(), Map::new(), &remove_used).is_err());
        let remove_cluster = [Removal::parse("job_clusters/main").unwrap()];
        assert!(updated_settings(stored(), Map::new(), &remove_cluster).is_err());
        let duplicate = obj(json!({"tasks": [{"task_key": "x"}, {"task_key": "x"}]}));
        assert!(check_fields(&duplicate).is_err());
    }

    #[test]
    fn removals_drop_fields_and_entries_before_the_merge() {
        let removals = [
            Removal::parse("tasks/load").unwrap(),
            Removal::parse("job_clusters/big").unwrap(),
            Removal::parse("name").unwrap(),
        ];
        let merged = updated_settings(stored(), Map::new(), &removals).unwrap();
        assert_eq!(task_keys(&merged), ["extract"]);
        assert_eq!(merged["job_clusters"].as_array().unwrap().len(), 1);
        assert_eq!(merged["name"], "Untitled");
        // Removing the whole array, then sending it, replaces it.
        let replace = obj(json!({"tasks": [{"task_key": "only"}]}));
        let merged =
            updated_settings(stored(), replace, &[Removal::parse("tasks").unwrap()]).unwrap();
        assert_eq!(task_keys(&merged), ["only"]);
    }

    #[test]
    fn only_tasks_and_job_clusters_take_nested_removals() {
        assert_eq!(
            Removal::parse("tasks/a").unwrap(),
            Removal::Entry {
                array: "tasks",
                key: "task_key",
                value: "a".into()
            }
        );
        for bad in ["schedule/quartz_cron_expression", "tasks/", "tasks/a/b", ""] {
            assert!(Removal::parse(bad).is_err(), "{bad}");
        }
    }
}
