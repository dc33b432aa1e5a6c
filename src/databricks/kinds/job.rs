//! Jobs (API 2.2): `jobs/list` (expanded, paged), `jobs/get` (array paging),
//! `create`, `reset` for updates, `delete`; ownership in `tags`.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::cluster::normalize_cluster_spec;
use super::normalize::{
    drop_default, drop_empty, fields, fill_default, sort_by_field, sort_field_by, strip_ownership,
};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, created_id, found, gone, id_string,
    looks_like_uuid, owned_or_named, ownership_from_tags, str_field, with_ownership_tags,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::{get_job, list_token_paged};
use crate::model::Kind;

pub struct JobAdapter;

const TAGS: &str = "tags";

fn live_object(job: Value) -> Option<ListedObject> {
    let settings = job.get("settings");
    Some(ListedObject {
        id: id_string(job.get("job_id"))?,
        name: settings
            .and_then(|s| str_field(s, "name"))
            .unwrap_or_default(),
        owner: ownership_from_tags(settings.and_then(|s| s.get(TAGS))),
        raw: job,
    })
}

/// A job id as the API takes it: a number (a string only if it is not one).
fn job_id(id: &str) -> Value {
    id.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(id))
}

/// The full job `id`; `None` when it does not exist.
async fn read_job(client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
    Ok(found(get_job(client, id).await)?.and_then(live_object))
}

/// Drops what the Jobs API fills in on read, sorts what it treats as sets.
pub fn normalize_settings(settings: &Value) -> Value {
    canonical_settings(fields(settings))
}

fn canonical_settings(mut s: Map<String, Value>) -> Value {
    strip_ownership(&mut s, TAGS);
    for key in ["format", "edit_mode"] {
        if matches!(
            s.get(key).and_then(Value::as_str),
            Some("MULTI_TASK" | "SINGLE_TASK" | "EDITABLE")
        ) {
            s.remove(key);
        }
    }
    drop_default(&mut s, "timeout_seconds", json!(0));
    drop_default(&mut s, "max_concurrent_runs", json!(1));
    // Jobs API 2.2 enables queueing when `queue` is left out: absent and
    // `{enabled: true}` behave alike.
    drop_default(&mut s, "queue", json!({"enabled": true}));
    // A schedule, trigger or continuous block makes the job run by itself:
    // its presence is the setting. Spell out the default pause status
    // instead of dropping it, so `continuous: {}` stays present and a block
    // removed by hand shows as a difference.
    for trigger in PRESENCE {
        if let Some(t) = s.get_mut(*trigger).and_then(Value::as_object_mut) {
            fill_default(t, "pause_status", json!("UNPAUSED"));
        }
    }
    canonical_git_provider(&mut s);
    if let Some(tasks) = s.get_mut("tasks").and_then(Value::as_array_mut) {
        for task in tasks.iter_mut() {
            *task = normalize_task(task.take());
        }
    }
    sort_field_by(&mut s, "tasks", "task_key");
    if let Some(clusters) = s.get_mut("job_clusters").and_then(Value::as_array_mut) {
        for jc in clusters.iter_mut() {
            if let Some(obj) = jc.as_object_mut()
                && let Some(nc) = obj.get("new_cluster")
            {
                let nc = normalize_cluster_spec(nc);
                obj.insert("new_cluster".into(), nc);
            }
        }
    }
    sort_field_by(&mut s, "job_clusters", "job_cluster_key");
    drop_empty(&mut s);
    Value::Object(s)
}

/// Job fields whose presence alone changes what the job does.
pub const PRESENCE: &[&str] = &["schedule", "trigger", "continuous"];

/// `git_source.git_provider` as the API spells it.
pub const GIT_PROVIDERS: &[&str] = &[
    "gitHub",
    "bitbucketCloud",
    "azureDevOpsServices",
    "gitHubEnterprise",
    "bitbucketServer",
    "gitLab",
    "gitLabEnterpriseEdition",
    "awsCodeCommit",
];

/// The API takes `git_provider` in any case (`bundle generate` writes
/// `github`); compare it in the API's canonical spelling.
fn canonical_git_provider(s: &mut Map<String, Value>) {
    if let Some(provider) = s
        .get_mut("git_source")
        .and_then(|g| g.get_mut("git_provider"))
        && let Some(canonical) = provider.as_str().and_then(|text| {
            GIT_PROVIDERS
                .iter()
                .find(|p| p.eq_ignore_ascii_case(text))
                .copied()
        })
    {
        *provider = json!(canonical);
    }
}

fn normalize_task(task: Value) -> Value {
    let Value::Object(mut t) = task else {
        return Value::Object(Map::new());
    };
    drop_default(&mut t, "run_if", json!("ALL_SUCCESS"));
    drop_default(&mut t, "timeout_seconds", json!(0));
    drop_default(&mut t, "retry_on_timeout", json!(false));
    drop_default(&mut t, "disabled", json!(false));
    drop_default(&mut t, "max_retries", json!(0));
    for kind in ["notebook_task", "spark_python_task", "dbt_task"] {
        if let Some(obj) = t.get_mut(kind).and_then(Value::as_object_mut) {
            drop_default(obj, "source", json!("WORKSPACE"));
            drop_empty(obj);
        }
    }
    if let Some(sql) = t
        .get_mut("sql_task")
        .and_then(|v| v.get_mut("file"))
        .and_then(Value::as_object_mut)
    {
        drop_default(sql, "source", json!("WORKSPACE"));
    }
    if let Some(deps) = t.get_mut("depends_on").and_then(Value::as_array_mut) {
        sort_by_field(deps, "task_key");
    }
    if let Some(nc) = t.get("new_cluster") {
        let nc = normalize_cluster_spec(nc);
        t.insert("new_cluster".into(), nc);
    }
    drop_empty(&mut t);
    Value::Object(t)
}

/// Jobs API reads do not return `settings.run_as`; rebuild it from
/// `run_as_user_name` when that differs from the creator.
fn run_as_from(job: &Value) -> Option<Value> {
    let run_as = job.get("run_as_user_name").and_then(Value::as_str)?;
    let creator = job.get("creator_user_name").and_then(Value::as_str);
    if Some(run_as) == creator {
        return None;
    }
    Some(if looks_like_uuid(run_as) {
        json!({"service_principal_name": run_as})
    } else {
        json!({"user_name": run_as})
    })
}

impl KindSpec for JobAdapter {
    /// After the clusters, notebooks and scopes it uses.
    fn apply_rank(&self) -> u8 {
        4
    }

    fn carries_tags(&self) -> bool {
        true
    }

    /// `jobs/list` leaves these settings out.
    fn fields_not_listed(&self) -> &'static [&'static str] {
        &["run_as", "parameters", "environments"]
    }

    /// `jobs/create` takes `access_control_list` beside the settings.
    fn acl_in_create(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::Job
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "name")
    }

    fn unique_names(&self) -> bool {
        false
    }

    fn normalize(&self, live: &Value) -> Value {
        let settings = live.get("settings").unwrap_or(live);
        let mut s = fields(settings);
        if !s.contains_key("run_as")
            && let Some(run_as) = run_as_from(live)
        {
            s.insert("run_as".into(), run_as);
        }
        canonical_settings(s)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        normalize_settings(spec)
    }

    fn permissions_type(&self) -> Option<&'static str> {
        Some("jobs")
    }

    fn tags(&self, raw: &Value) -> BTreeMap<String, String> {
        super::string_map(raw.get("settings").unwrap_or(raw).get(TAGS))
    }

    /// A `run_job_task` names the job it runs.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["job_id"]
    }
}

/// The jobs Mortar owns or `names` names (every job without `names`),
/// each whole.
async fn list_jobs(
    client: &Client,
    names: Option<&BTreeSet<String>>,
) -> Result<Vec<ListedObject>, Error> {
    let jobs = list_token_paged(
        client,
        "/api/2.2/jobs/list",
        &[("limit", "100"), ("expand_tasks", "true")],
        "jobs",
    )
    .await?;
    let mut out = Vec::new();
    for obj in owned_or_named(jobs, names, live_object) {
        // A job with more tasks than the list holds is read whole.
        if obj.raw.get("has_more").and_then(Value::as_bool) == Some(true) {
            if let Some(full) = read_job(client, &obj.id).await? {
                out.push(full);
            }
        } else {
            out.push(obj);
        }
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for JobAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        list_jobs(client, Some(names)).await
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        list_jobs(client, None).await.map(Some)
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        read_job(client, id).await
    }

    /// Looks only at the jobs with the desired name (`jobs/list?name=`),
    /// and takes the one carrying the desired ownership key.
    async fn find(
        &self,
        client: &Client,
        desired: Desired<'_>,
    ) -> Result<Option<ListedObject>, Error> {
        let Some(name) = self.name_of(desired.spec) else {
            return Ok(None);
        };
        let jobs = list_token_paged(
            client,
            "/api/2.2/jobs/list",
            &[("limit", "100"), ("name", &name)],
            "jobs",
        )
        .await?;
        let key = desired.key.to_string();
        let Some(obj) = jobs
            .into_iter()
            .filter_map(live_object)
            .find(|o| o.owner.as_ref().is_some_and(|w| w.key == key))
        else {
            return Ok(None);
        };
        read_job(client, &obj.id).await
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let body = with_ownership_tags(desired.spec, TAGS, &desired.ownership());
        let resp = client.post_create("/api/2.2/jobs/create", &body).await?;
        created_id(&resp, "job_id", "/api/2.2/jobs/create")
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        let settings = with_ownership_tags(desired.spec, TAGS, &desired.ownership());
        client
            .post(
                "/api/2.2/jobs/reset",
                &json!({"job_id": job_id(id), "new_settings": settings}),
            )
            .await?;
        Ok(())
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        gone(
            client
                .post("/api/2.2/jobs/delete", &json!({"job_id": job_id(id)}))
                .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_read_back_equals_its_manifest() {
        let spec = json!({
            "name": "nightly",
            "tasks": [
                {"task_key": "b", "depends_on": [{"task_key": "z"}, {"task_key": "a"}],
                 "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c1"},
                {"task_key": "a", "notebook_task": {"notebook_path": "/y"}, "existing_cluster_id": "c1"}
            ],
            "tags": {"team": "data"}
        });
        let live = json!({
            "job_id": 7, "creator_user_name": "me@x", "run_as_user_name": "me@x", "created_time": 1,
            "settings": {
                "name": "nightly", "format": "MULTI_TASK", "timeout_seconds": 0, "max_concurrent_runs": 1,
                "email_notifications": {}, "webhook_notifications": {}, "queue": {"enabled": true},
                "tags": {"team": "data", "mortar.dev/app": "a", "mortar.dev/key": "w/Job/nightly"},
                "tasks": [
                    {"task_key": "a", "run_if": "ALL_SUCCESS", "timeout_seconds": 0, "email_notifications": {},
                     "notebook_task": {"notebook_path": "/y", "source": "WORKSPACE"}, "existing_cluster_id": "c1"},
                    {"task_key": "b", "run_if": "ALL_SUCCESS", "timeout_seconds": 0,
                     "depends_on": [{"task_key": "a"}, {"task_key": "z"}],
                     "notebook_task": {"notebook_path": "/x", "source": "WORKSPACE"}, "existing_cluster_id": "c1"}
                ]
            }
        });
        assert_eq!(
            JobAdapter.normalize(&live),
            JobAdapter.normalize_spec(&spec)
        );
        // A changed field still shows.
        let mut drifted = live.clone();
        drifted["settings"]["max_concurrent_runs"] = json!(5);
        assert_ne!(
            JobAdapter.normalize(&drifted),
            JobAdapter.normalize_spec(&spec)
        );
    }

    #[test]
    fn a_trigger_block_stays_present_even_when_all_defaults() {
        for block in ["continuous", "schedule", "trigger"] {
            for value in [json!({}), json!({"pause_status": "UNPAUSED"})] {
                let spec = json!({"name": "j", block: value});
                let want = JobAdapter.normalize_spec(&spec);
                assert_eq!(want[block]["pause_status"], json!("UNPAUSED"), "{want}");
                // Removed by hand: the live job no longer has the block.
                let live = json!({"job_id": 1, "settings": {"name": "j"}});
                assert_ne!(JobAdapter.normalize(&live), want);
                let live = json!({"job_id": 1, "settings": {"name": "j", block: {"pause_status": "UNPAUSED"}}});
                assert_eq!(JobAdapter.normalize(&live), want);
            }
        }
    }

    #[test]
    fn git_provider_compares_in_any_case() {
        let spec = json!({"name": "j", "git_source": {"git_url": "https://github.com/a/b", "git_provider": "github"}});
        let live = json!({"job_id": 1, "settings": {"name": "j",
            "git_source": {"git_url": "https://github.com/a/b", "git_provider": "gitHub"}}});
        assert_eq!(
            JobAdapter.normalize_spec(&spec)["git_source"]["git_provider"],
            json!("gitHub")
        );
        assert_eq!(
            JobAdapter.normalize(&live),
            JobAdapter.normalize_spec(&spec)
        );
    }

    #[test]
    fn run_as_is_rebuilt_from_the_effective_identity() {
        let live = json!({"job_id": 1, "creator_user_name": "me@x",
            "run_as_user_name": "9f0c8f5e-1111-2222-3333-444455556666", "settings": {"name": "j"}});
        assert_eq!(
            JobAdapter.normalize(&live)["run_as"],
            json!({"service_principal_name": "9f0c8f5e-1111-2222-3333-444455556666"})
        );
    }
}
