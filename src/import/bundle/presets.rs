//! What a bundle's target does to each resource body before it is sent:
//! `mode: development` fills presets (a `[dev <short name>] ` name prefix,
//! a `dev` tag, paused triggers, four concurrent runs), the presets are
//! applied per resource type, and the CLI's defaults and implicit job
//! fields are filled in where the body has none.

use serde_json::{Map, Value, json};

/// The presets in force for a target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Presets {
    pub name_prefix: Option<String>,
    pub tags: Vec<(String, String)>,
    pub trigger_pause_status: Option<String>,
    pub jobs_max_concurrent_runs: Option<u64>,
}

impl Presets {
    /// The target's `presets:` map, with development mode's filled in
    /// where it sets none.
    pub fn of(presets: Option<&Value>, development: bool, short_name: Option<&str>) -> Presets {
        let p = presets.and_then(Value::as_object);
        let text = |k: &str| {
            p.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut tags: Vec<(String, String)> = p
            .and_then(|m| m.get("tags"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let mut out = Presets {
            name_prefix: text("name_prefix"),
            trigger_pause_status: text("trigger_pause_status"),
            jobs_max_concurrent_runs: p
                .and_then(|m| m.get("jobs_max_concurrent_runs"))
                .and_then(Value::as_u64),
            tags: Vec::new(),
        };
        if development {
            let short = short_name.unwrap_or("user");
            out.name_prefix
                .get_or_insert_with(|| format!("[dev {short}] "));
            if !tags.iter().any(|(k, _)| k == "dev") {
                tags.push(("dev".into(), short.to_string()));
            }
            out.trigger_pause_status
                .get_or_insert_with(|| "PAUSED".into());
            out.jobs_max_concurrent_runs.get_or_insert(4);
        }
        out.tags = tags;
        out
    }

    /// The prefix as schemas take it: `[dev jane] ` → `dev_jane_`.
    pub fn normalized_prefix(&self) -> Option<String> {
        let raw = self.name_prefix.as_deref()?;
        let trimmed = raw.replace('[', "");
        let trimmed = trimmed.trim();
        let mut out = snake(trimmed);
        if trimmed.ends_with(']') {
            out.push('_');
        }
        Some(out)
    }
}

/// `text` as the CLI normalizes names: lower case, any other character
/// `_`, runs of `_` collapsed, none at either end.
pub fn snake(text: &str) -> String {
    crate::import::joined_words(text, '_')
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key.to_string()).or_insert(value);
}

fn prefixed(map: &mut Map<String, Value>, field: &str, prefix: Option<&str>) {
    if let (Some(prefix), Some(Value::String(name))) = (prefix, map.get_mut(field)) {
        *name = format!("{prefix}{name}");
    }
}

/// A tag as AWS accepts it: characters outside letters, digits, space and
/// `+-=.:/@` become `_`.
fn aws_tag(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || " +-=.:/@_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A job as sent: presets, then defaults, then the implicit fields.
/// `state_path` names where the bundle keeps its deployment metadata.
pub fn job(job: &mut Map<String, Value>, presets: &Presets, state_path: &str) {
    prefixed(job, "name", presets.name_prefix.as_deref());
    if !presets.tags.is_empty() {
        let tags = job
            .entry("tags")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(tags) = tags.as_object_mut() {
            for (k, v) in &presets.tags {
                tags.entry(k.clone())
                    .or_insert_with(|| Value::String(v.clone()));
            }
        }
    }
    for block in ["schedule", "trigger", "continuous"] {
        if let Some(Value::Object(b)) = job.get_mut(block) {
            let status = presets
                .trigger_pause_status
                .clone()
                .unwrap_or_else(|| "UNPAUSED".into());
            set_default(b, "pause_status", Value::String(status));
        }
    }
    let runs = job.get("max_concurrent_runs").and_then(Value::as_u64);
    if runs.is_none_or(|r| r == 0) {
        let value = presets.jobs_max_concurrent_runs.unwrap_or(1);
        job.insert("max_concurrent_runs".into(), json!(value));
    }
    set_default(job, "queue", json!({"enabled": true}));
    job.insert(
        "deployment".into(),
        json!({"kind": "BUNDLE", "metadata_file_path": format!("{state_path}/metadata.json")}),
    );
    job.insert("edit_mode".into(), json!("UI_LOCKED"));
    job.insert("format".into(), json!("MULTI_TASK"));
}

/// An all-purpose cluster as sent.
pub fn cluster(cluster: &mut Map<String, Value>, presets: &Presets) {
    prefixed(cluster, "cluster_name", presets.name_prefix.as_deref());
    if !presets.tags.is_empty() {
        let tags = cluster
            .entry("custom_tags")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(tags) = tags.as_object_mut() {
            for (k, v) in &presets.tags {
                tags.entry(aws_tag(k))
                    .or_insert_with(|| Value::String(aws_tag(v)));
            }
        }
    }
    set_default(cluster, "autotermination_minutes", json!(60));
}

/// A SQL warehouse as sent.
pub fn sql_warehouse(warehouse: &mut Map<String, Value>, presets: &Presets) {
    prefixed(warehouse, "name", presets.name_prefix.as_deref());
    if !presets.tags.is_empty() {
        let mut tags: Vec<Value> = warehouse
            .get("tags")
            .and_then(|t| t.get("custom_tags"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut added: Vec<Value> = presets
            .tags
            .iter()
            .map(|(k, v)| json!({"key": aws_tag(k), "value": aws_tag(v)}))
            .filter(|t| !tags.iter().any(|have| have.get("key") == t.get("key")))
            .collect();
        added.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
        tags.extend(added);
        let holder = warehouse.entry("tags").or_insert_with(|| json!({}));
        holder["custom_tags"] = Value::Array(tags);
    }
    set_default(warehouse, "auto_stop_mins", json!(120));
    set_default(warehouse, "enable_photon", json!(true));
    set_default(warehouse, "max_num_clusters", json!(1));
    set_default(warehouse, "spot_instance_policy", json!("COST_OPTIMIZED"));
}

/// A Unity Catalog schema as sent (its prefix normalized).
pub fn schema(schema: &mut Map<String, Value>, presets: &Presets) {
    prefixed(schema, "name", presets.normalized_prefix().as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_mode_fills_what_the_target_leaves_open() {
        let p = Presets::of(
            Some(&json!({"jobs_max_concurrent_runs": 2})),
            true,
            Some("jane"),
        );
        assert_eq!(p.name_prefix.as_deref(), Some("[dev jane] "));
        assert_eq!(p.tags, vec![("dev".to_string(), "jane".to_string())]);
        assert_eq!(p.trigger_pause_status.as_deref(), Some("PAUSED"));
        assert_eq!(p.jobs_max_concurrent_runs, Some(2));
        assert_eq!(p.normalized_prefix().as_deref(), Some("dev_jane_"));
        let staging = Presets::of(Some(&json!({"name_prefix": "stg-"})), false, None);
        assert_eq!(staging.normalized_prefix().as_deref(), Some("stg"));
    }

    #[test]
    fn a_job_gets_its_prefix_tags_pause_status_and_the_implicit_fields() {
        let mut body = json!({
            "name": "etl",
            "tags": {"team": "sales", "dev": "kept"},
            "schedule": {"quartz_cron_expression": "0 0 2 * * ?"},
            "trigger": {"pause_status": "UNPAUSED"},
        });
        let presets = Presets::of(None, true, Some("jane"));
        job(body.as_object_mut().unwrap(), &presets, "/root/state");
        assert_eq!(body["name"], "[dev jane] etl");
        assert_eq!(body["tags"], json!({"team": "sales", "dev": "kept"}));
        assert_eq!(body["schedule"]["pause_status"], "PAUSED");
        assert_eq!(body["trigger"]["pause_status"], "UNPAUSED");
        assert_eq!(body["max_concurrent_runs"], 4);
        assert_eq!(body["queue"], json!({"enabled": true}));
        assert_eq!(body["format"], "MULTI_TASK");
        assert_eq!(
            body["deployment"]["metadata_file_path"],
            "/root/state/metadata.json"
        );
    }
}
