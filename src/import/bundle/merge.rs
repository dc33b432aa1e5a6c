//! How a bundle's pieces combine, as `databricks bundle` combines them:
//! included files and the selected target merge into the root map by map
//! (a later scalar wins, lists are concatenated, null never overwrites);
//! then within one resource, list elements that share a key merge into one
//! (a job's tasks by `task_key`, then sorted by it; job clusters by
//! `job_cluster_key`; parameters by `name`; grants by `principal`).

use serde_json::{Map, Value};

/// Merges `later` into `base`.
pub fn merge(base: &mut Value, later: Value) {
    match (base, later) {
        (_, Value::Null) => {}
        (Value::Object(b), Value::Object(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(l)) => b.extend(l),
        (b, l) => *b = l,
    }
}

/// What a target replaces rather than merges.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// `development` or `production`, when the target says.
    pub mode: Option<String>,
    /// The target's `run_as`, else the root's.
    pub run_as: Option<Value>,
}

/// Merges the selected `target` into the bundle's `root`: its sections
/// map by map, its variable overrides into the declared variables (a
/// default given drops the declared lookup and the other way round; a
/// plain value is a default); `mode` and `run_as` replace.
pub fn apply_target(root: &mut Map<String, Value>, target: &Map<String, Value>) -> Chosen {
    let mut chosen = Chosen {
        mode: None,
        run_as: root.get("run_as").cloned(),
    };
    for (section, value) in target {
        match section.as_str() {
            "mode" => chosen.mode = value.as_str().map(str::to_string),
            "run_as" => chosen.run_as = Some(value.clone()),
            "variables" => {
                let declared = root
                    .entry("variables")
                    .or_insert_with(|| Value::Object(Map::new()));
                for (name, over) in value.as_object().into_iter().flatten() {
                    let over = match over {
                        Value::Object(_) => over.clone(),
                        plain => serde_json::json!({ "default": plain }),
                    };
                    let Some(declared) = declared.as_object_mut() else {
                        continue;
                    };
                    let slot = declared
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(d) = slot {
                        if over.get("default").is_some() {
                            d.remove("lookup");
                        }
                        if over.get("lookup").is_some() {
                            d.remove("default");
                        }
                    }
                    merge(slot, over);
                }
            }
            "bundle" | "workspace" | "resources" | "permissions" | "presets" | "sync"
            | "artifacts" => merge(
                root.entry(section.clone()).or_insert(Value::Null),
                value.clone(),
            ),
            _ => {}
        }
    }
    chosen
}

/// Merges the elements of `list` that share `key`'s value into the first
/// of them (elements without the key stay as they are).
pub fn merge_by_key(list: &mut Vec<Value>, key: &str) {
    let mut out: Vec<Value> = Vec::with_capacity(list.len());
    for item in list.drain(..) {
        let id = item.get(key).cloned();
        match id
            .as_ref()
            .and_then(|id| out.iter_mut().find(|o| o.get(key) == Some(id)))
        {
            Some(existing) => merge(existing, item),
            None => out.push(item),
        }
    }
    *list = out;
}

/// A job's lists merged by key, as the CLI normalizes a job before it is
/// sent: tasks by `task_key` (then sorted by it), job clusters by
/// `job_cluster_key`, parameters by `name`.
pub fn normalize_job(job: &mut Map<String, Value>) {
    if let Some(Value::Array(tasks)) = job.get_mut("tasks") {
        merge_by_key(tasks, "task_key");
        tasks.sort_by(|a, b| {
            let key = |v: &Value| {
                v.get("task_key")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            key(a).cmp(&key(b))
        });
    }
    if let Some(Value::Array(clusters)) = job.get_mut("job_clusters") {
        merge_by_key(clusters, "job_cluster_key");
    }
    if let Some(Value::Array(parameters)) = job.get_mut("parameters") {
        merge_by_key(parameters, "name");
    }
}

/// Grants with one principal merged: privileges concatenated, each once.
pub fn normalize_grants(grants: &mut Vec<Value>) {
    merge_by_key(grants, "principal");
    for grant in grants.iter_mut() {
        if let Some(Value::Array(privileges)) = grant.get_mut("privileges") {
            let mut seen = Vec::new();
            privileges.retain(|p| {
                let fresh = !seen.contains(p);
                seen.push(p.clone());
                fresh
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_merge_scalars_replace_lists_concatenate_and_null_never_wins() {
        let mut base = json!({"a": {"x": 1, "y": [1]}, "b": "keep", "c": 3});
        merge(
            &mut base,
            json!({"a": {"x": 2, "y": [2], "z": true}, "b": null, "d": 4}),
        );
        assert_eq!(
            base,
            json!({"a": {"x": 2, "y": [1, 2], "z": true}, "b": "keep", "c": 3, "d": 4})
        );
    }

    #[test]
    fn a_target_merges_its_sections_and_replaces_mode_and_run_as() {
        let mut root = json!({
            "variables": {"catalog": {"default": "main"}, "policy": {"lookup": {"cluster_policy": "x"}}},
            "permissions": [{"level": "CAN_VIEW", "group_name": "a"}],
            "run_as": {"user_name": "root@example.com"},
        });
        let target = json!({
            "mode": "production",
            "run_as": {"service_principal_name": "sp"},
            "variables": {"catalog": "sales", "policy": {"default": "P1"}},
            "permissions": [{"level": "CAN_MANAGE", "group_name": "b"}],
            "workspace": {"host": "https://h"},
        });
        let chosen = apply_target(root.as_object_mut().unwrap(), target.as_object().unwrap());
        assert_eq!(chosen.mode.as_deref(), Some("production"));
        assert_eq!(chosen.run_as, Some(json!({"service_principal_name": "sp"})));
        assert_eq!(root["variables"]["catalog"], json!({"default": "sales"}));
        assert_eq!(root["variables"]["policy"], json!({"default": "P1"}));
        assert_eq!(root["permissions"].as_array().unwrap().len(), 2);
        assert_eq!(root["workspace"]["host"], "https://h");
    }

    #[test]
    fn a_targets_task_merges_into_the_one_with_its_key_and_tasks_sort() {
        let mut job = json!({
            "tasks": [
                {"task_key": "transform", "libraries": [{"pypi": "a"}]},
                {"task_key": "ingest", "notebook_task": {"notebook_path": "x"}},
                {"task_key": "transform", "libraries": [{"pypi": "b"}], "timeout_seconds": 5},
            ],
            "job_clusters": [
                {"job_cluster_key": "etl", "new_cluster": {"num_workers": 2, "node_type_id": "a"}},
                {"job_cluster_key": "etl", "new_cluster": {"num_workers": 8}},
            ]
        });
        normalize_job(job.as_object_mut().unwrap());
        assert_eq!(
            job,
            json!({
                "tasks": [
                    {"task_key": "ingest", "notebook_task": {"notebook_path": "x"}},
                    {"task_key": "transform", "libraries": [{"pypi": "a"}, {"pypi": "b"}], "timeout_seconds": 5},
                ],
                "job_clusters": [
                    {"job_cluster_key": "etl", "new_cluster": {"num_workers": 8, "node_type_id": "a"}},
                ]
            })
        );
    }

    #[test]
    fn grants_to_one_principal_become_one_with_each_privilege_once() {
        let mut grants = vec![
            json!({"principal": "a", "privileges": ["USE_SCHEMA", "SELECT"]}),
            json!({"principal": "b", "privileges": ["SELECT"]}),
            json!({"principal": "a", "privileges": ["SELECT", "MODIFY"]}),
        ];
        normalize_grants(&mut grants);
        assert_eq!(
            grants,
            vec![
                json!({"principal": "a", "privileges": ["USE_SCHEMA", "SELECT", "MODIFY"]}),
                json!({"principal": "b", "privileges": ["SELECT"]}),
            ]
        );
    }
}
