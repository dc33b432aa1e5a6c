//! Rules a field table cannot express: one task type per job task (the task
//! types read from the generated schema), no Jobs API 2.0 single-task body,
//! a trigger that names its kind, task and
//! job-cluster keys that exist, policy definitions that are JSON, warehouse
//! sizes, and Unity Catalog privileges valid for the securable type.

use super::{Ctx, Ty, TypeDef, sdk};
use crate::manifest::Kind;
use crate::manifest::diag::suggest;
use crate::manifest::yaml::{Node, Value};

/// The object type of a field of `def`, if it is one.
fn object_of(def: &'static TypeDef, field: &str) -> Option<&'static TypeDef> {
    match def.field(field)?.ty {
        Ty::Obj(inner) => Some(inner),
        _ => None,
    }
}

/// The fields of a job task that each name what the task runs: the `Task`
/// fields of the generated schema that end in `_task` and hold one object
/// (`notebook_task`, `python_operator_task`, …). A task has exactly one.
pub fn task_types() -> Vec<&'static str> {
    object_of(&sdk::JOB, "tasks")
        .map(|task| {
            task.fields
                .iter()
                .filter(|f| f.name.ends_with("_task") && !f.list && matches!(f.ty, Ty::Obj(_)))
                .map(|f| f.name)
                .collect()
        })
        .unwrap_or_default()
}

/// The kinds of trigger a job's `trigger` block can hold: the object fields
/// of the generated `TriggerSettings` (`periodic`, `file_arrival`, …).
pub fn trigger_kinds() -> Vec<&'static str> {
    object_of(&sdk::JOB, "trigger")
        .map(|trigger| {
            trigger
                .fields
                .iter()
                .filter(|f| !f.list && matches!(f.ty, Ty::Obj(_)))
                .map(|f| f.name)
                .collect()
        })
        .unwrap_or_default()
}

/// SQL warehouse sizes.
pub const WAREHOUSE_SIZES: &[&str] = &[
    "2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large",
    "4X-Large",
];

/// Privileges valid on each securable type.
pub fn privileges_for(securable: &str) -> &'static [&'static str] {
    match securable {
        "catalog" => &[
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
        ],
        "schema" => &[
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
        ],
        "table" => &[
            "ALL_PRIVILEGES",
            "APPLY_TAG",
            "MANAGE",
            "MODIFY",
            "REFRESH",
            "SELECT",
        ],
        "volume" => &[
            "ALL_PRIVILEGES",
            "APPLY_TAG",
            "MANAGE",
            "READ_VOLUME",
            "WRITE_VOLUME",
        ],
        "function" => &["ALL_PRIVILEGES", "EXECUTE", "MANAGE"],
        "model" => &["ALL_PRIVILEGES", "APPLY_TAG", "EXECUTE", "MANAGE"],
        "external_location" => &[
            "ALL_PRIVILEGES",
            "BROWSE",
            "CREATE_EXTERNAL_TABLE",
            "CREATE_EXTERNAL_VOLUME",
            "CREATE_FOREIGN_SECURABLE",
            "CREATE_MANAGED_STORAGE",
            "EXTERNAL_USE_LOCATION",
            "MANAGE",
            "READ_FILES",
            "WRITE_FILES",
        ],
        "storage_credential" => &[
            "ALL_PRIVILEGES",
            "CREATE_EXTERNAL_LOCATION",
            "CREATE_EXTERNAL_TABLE",
            "MANAGE",
            "READ_FILES",
            "WRITE_FILES",
        ],
        "credential" => &[
            "ALL_PRIVILEGES",
            "ACCESS",
            "CREATE_CONNECTION",
            "CREATE_EXTERNAL_LOCATION",
            "CREATE_EXTERNAL_TABLE",
            "MANAGE",
            "READ_FILES",
            "WRITE_FILES",
        ],
        "connection" => &[
            "ALL_PRIVILEGES",
            "CREATE_FOREIGN_CATALOG",
            "MANAGE",
            "USE_CONNECTION",
        ],
        "metastore" => &[
            "CREATE_CATALOG",
            "CREATE_CLEAN_ROOM",
            "CREATE_CONNECTION",
            "CREATE_EXTERNAL_LOCATION",
            "CREATE_PROVIDER",
            "CREATE_RECIPIENT",
            "CREATE_SERVICE_CREDENTIAL",
            "CREATE_SHARE",
            "CREATE_STORAGE_CREDENTIAL",
            "MANAGE_ALLOWLIST",
            "SET_SHARE_PERMISSION",
            "USE_MARKETPLACE_ASSETS",
            "USE_PROVIDER",
            "USE_RECIPIENT",
            "USE_SHARE",
        ],
        "share" => &["SELECT"],
        _ => &[],
    }
}

/// Runs the rules of `kind` on a spec that is a mapping.
pub fn check_kind_rules(ctx: &mut Ctx<'_>, kind: Kind, spec: &Node) {
    match kind {
        Kind::Job => check_job(ctx, spec),
        Kind::Cluster => check_cluster(ctx, spec, "spec"),
        Kind::ClusterPolicy => check_policy(ctx, spec),
        Kind::SqlWarehouse => check_warehouse(ctx, spec),
        Kind::Grants => check_grants(ctx, spec),
        _ => {}
    }
}

fn strings_of<'a>(list: Option<&'a Node>, key: &str) -> Vec<(&'a str, &'a Node)> {
    list.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let value = item.value_of(key)?;
            Some((value.as_str()?, value))
        })
        .collect()
}

/// A Jobs API 2.0 body puts one task's fields (`notebook_task`,
/// `new_cluster`, …) at the top level. The 2.2 API ignores them and creates
/// a job with no tasks, so they are an error saying how to write `tasks:`.
fn check_legacy_body(ctx: &mut Ctx<'_>, spec: &Node) {
    let Some(task) = object_of(&sdk::JOB, "tasks") else {
        return;
    };
    let Some(entries) = spec.as_map() else {
        return;
    };
    let legacy: Vec<&super::super::yaml::Entry> = entries
        .iter()
        .filter(|e| sdk::JOB.field(&e.key).is_none() && task.field(&e.key).is_some())
        .collect();
    if legacy.is_empty() {
        return;
    }
    let names: Vec<&str> = legacy.iter().map(|e| e.key.as_str()).collect();
    for entry in &legacy {
        let path = format!("spec.{}", entry.key);
        // Said once, here, rather than also as an unknown field.
        ctx.diags
            .warnings
            .retain(|w| !(w.file == ctx.file && w.field == path));
        ctx.diags
            .errors
            .retain(|w| !(w.file == ctx.file && w.field == path));
        ctx.error(
            entry.line,
            entry.column,
            &path,
            format!(
                "a job-level `{}` is the Jobs API 2.0 single-task format, which creates a job with no tasks; \
                 move {} into a task: `tasks: [{{task_key: main, {}}}]`",
                entry.key,
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                names
                    .iter()
                    .map(|n| format!("{n}: …"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// A `trigger` block must say what triggers the job; one without a kind of
/// trigger (`trigger: {type: cron}`) creates a job with an empty trigger.
fn check_trigger(ctx: &mut Ctx<'_>, spec: &Node) {
    let Some(trigger) = spec.get("trigger") else {
        return;
    };
    let Some(entries) = trigger.value.as_map() else {
        return;
    };
    let kinds = trigger_kinds();
    let present = entries
        .iter()
        .filter(|e| kinds.contains(&e.key.as_str()) && e.value.value != Value::Null)
        .count();
    if present == 0 {
        ctx.error(
            trigger.line,
            trigger.column,
            "spec.trigger",
            format!(
                "a trigger needs one kind of trigger (one of {}); for a cron schedule use `schedule: {{quartz_cron_expression: …, timezone_id: …}}`",
                kinds.join(", ")
            ),
        );
    } else if present > 1 {
        ctx.error(
            trigger.line,
            trigger.column,
            "spec.trigger",
            format!(
                "a trigger has exactly one kind of trigger, found {}",
                entries
                    .iter()
                    .filter(|e| kinds.contains(&e.key.as_str()) && e.value.value != Value::Null)
                    .map(|e| e.key.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        );
    }
}

fn check_job(ctx: &mut Ctx<'_>, spec: &Node) {
    check_legacy_body(ctx, spec);
    check_trigger(ctx, spec);
    let task_types = task_types();
    let tasks = spec.value_of("tasks");
    let task_keys = strings_of(tasks, "task_key");
    let cluster_keys = strings_of(spec.value_of("job_clusters"), "job_cluster_key");
    let environment_keys = strings_of(spec.value_of("environments"), "environment_key");
    for (i, (key, node)) in task_keys.iter().enumerate() {
        if task_keys[..i].iter().any(|(k, _)| k == key) {
            ctx.error(
                node.line,
                node.column,
                &format!("spec.tasks[{i}].task_key"),
                format!("duplicate task_key `{key}`"),
            );
        }
    }
    for (i, (key, node)) in cluster_keys.iter().enumerate() {
        if cluster_keys[..i].iter().any(|(k, _)| k == key) {
            ctx.error(
                node.line,
                node.column,
                &format!("spec.job_clusters[{i}].job_cluster_key"),
                format!("duplicate job_cluster_key `{key}`"),
            );
        }
    }
    if let Some(clusters) = spec.value_of("job_clusters").and_then(Node::as_seq) {
        for (i, jc) in clusters.iter().enumerate() {
            if let Some(nc) = jc.value_of("new_cluster").filter(|n| n.as_map().is_some()) {
                check_cluster(ctx, nc, &format!("spec.job_clusters[{i}].new_cluster"));
            }
        }
    }
    let Some(items) = tasks.and_then(Node::as_seq) else {
        return;
    };
    for (i, task) in items.iter().enumerate() {
        if task.as_map().is_none() {
            continue;
        }
        let path = format!("spec.tasks[{i}]");
        let types: Vec<&str> = task_types
            .iter()
            .copied()
            .filter(|t| task.get(t).is_some())
            .collect();
        // A misspelled task type is already reported as an unknown field
        // with its suggestion; saying "no task type" as well is noise.
        let misspelled_type = || {
            task.as_map().is_some_and(|entries| {
                entries.iter().any(|e| {
                    !task_types.contains(&e.key.as_str())
                        && suggest(&e.key, task_types.iter().copied()).is_some()
                })
            })
        };
        match types.len() {
            0 if misspelled_type() => {}
            0 => ctx.error(
                task.line,
                task.column,
                &path,
                format!(
                    "a task needs exactly one task type (one of {})",
                    task_types.join(", ")
                ),
            ),
            1 => {}
            _ => ctx.error(
                task.line,
                task.column,
                &path,
                format!(
                    "a task has exactly one task type, found {}",
                    types.join(" and ")
                ),
            ),
        }
        if let Some(entry) = task.get("job_cluster_key")
            && let Some(key) = entry.value.as_str()
            && !cluster_keys.iter().any(|(k, _)| *k == key)
        {
            let hint = suggest(key, cluster_keys.iter().map(|(k, _)| *k))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            ctx.error(
                entry.value.line,
                entry.value.column,
                &format!("{path}.job_cluster_key"),
                format!("no job cluster `{key}` in spec.job_clusters{hint}"),
            );
        }
        if let Some(entry) = task.get("environment_key")
            && let Some(key) = entry.value.as_str()
            && !environment_keys.iter().any(|(k, _)| *k == key)
        {
            ctx.error(
                entry.value.line,
                entry.value.column,
                &format!("{path}.environment_key"),
                format!("no environment `{key}` in spec.environments"),
            );
        }
        if let Some(nc) = task
            .value_of("new_cluster")
            .filter(|n| n.as_map().is_some())
        {
            check_cluster(ctx, nc, &format!("{path}.new_cluster"));
        }
        if let Some(deps) = task.value_of("depends_on").and_then(Node::as_seq) {
            for (j, dep) in deps.iter().enumerate() {
                let Some(target) = dep.value_of("task_key") else {
                    continue;
                };
                let Some(name) = target.as_str() else {
                    continue;
                };
                if !task_keys.iter().any(|(k, _)| *k == name) {
                    let hint = suggest(name, task_keys.iter().map(|(k, _)| *k))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    ctx.error(
                        target.line,
                        target.column,
                        &format!("{path}.depends_on[{j}].task_key"),
                        format!("no task `{name}` in this job{hint}"),
                    );
                } else if task.value_of("task_key").and_then(Node::as_str) == Some(name) {
                    ctx.error(
                        target.line,
                        target.column,
                        &format!("{path}.depends_on[{j}].task_key"),
                        "a task cannot depend on itself",
                    );
                }
            }
        }
    }
}

fn check_cluster(ctx: &mut Ctx<'_>, spec: &Node, path: &str) {
    if let (Some(_), Some(autoscale)) = (spec.get("num_workers"), spec.get("autoscale")) {
        ctx.error(
            autoscale.line,
            autoscale.column,
            &format!("{path}.autoscale"),
            "set either num_workers or autoscale, not both",
        );
    }
    if let Some(autoscale) = spec.value_of("autoscale")
        && let (Some(min), Some(max)) = (
            autoscale.value_of("min_workers").and_then(number),
            autoscale.value_of("max_workers").and_then(number),
        )
        && min > max
    {
        ctx.error(
            autoscale.line,
            autoscale.column,
            &format!("{path}.autoscale"),
            format!("min_workers ({min}) is greater than max_workers ({max})"),
        );
    }
}

fn number(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn check_policy(ctx: &mut Ctx<'_>, spec: &Node) {
    if spec.get("definition").is_some() && spec.get("policy_family_id").is_some() {
        let e = spec
            .get("policy_family_id")
            .map(|e| (e.line, e.column))
            .unwrap_or((spec.line, spec.column));
        ctx.error(
            e.0,
            e.1,
            "spec.policy_family_id",
            "`definition` cannot be combined with `policy_family_id`",
        );
    }
    if let Some(def) = spec.get("definition")
        && let Some(text) = def.value.as_str()
    {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => {}
            Ok(_) => ctx.error(
                def.value.line,
                def.value.column,
                "spec.definition",
                "the policy definition must be a JSON object",
            ),
            Err(err) => ctx.error(
                def.value.line,
                def.value.column,
                "spec.definition",
                format!("the policy definition is not valid JSON: {err}"),
            ),
        }
    }
}

fn check_warehouse(ctx: &mut Ctx<'_>, spec: &Node) {
    if spec.value_of("name").and_then(Node::as_str).is_none() {
        ctx.error(
            spec.line,
            spec.column,
            "spec",
            "missing required field `name`",
        );
    }
    if let Some(size) = spec.value_of("cluster_size")
        && let Some(text) = size.as_str()
        && !WAREHOUSE_SIZES.contains(&text)
    {
        let hint = suggest(text, WAREHOUSE_SIZES.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        ctx.error(
            size.line,
            size.column,
            "spec.cluster_size",
            format!(
                "invalid value `{text}`; expected one of {}{hint}",
                WAREHOUSE_SIZES.join(", ")
            ),
        );
    }
    if let (Some(min), Some(max)) = (
        spec.value_of("min_num_clusters").and_then(number),
        spec.value_of("max_num_clusters").and_then(number),
    ) && min > max
    {
        ctx.error(
            spec.line,
            spec.column,
            "spec.min_num_clusters",
            format!("min_num_clusters ({min}) is greater than max_num_clusters ({max})"),
        );
    }
}

fn check_grants(ctx: &mut Ctx<'_>, spec: &Node) {
    let Some(securable) = spec.value_of("securable_type").and_then(Node::as_str) else {
        return;
    };
    let valid = privileges_for(securable);
    if valid.is_empty() {
        return;
    }
    let Some(assignments) = spec
        .value_of("privilege_assignments")
        .and_then(Node::as_seq)
    else {
        return;
    };
    for (i, assignment) in assignments.iter().enumerate() {
        let Some(privileges) = assignment.value_of("privileges").and_then(Node::as_seq) else {
            continue;
        };
        for (j, privilege) in privileges.iter().enumerate() {
            let Some(name) = privilege.as_str() else {
                continue;
            };
            if !valid.contains(&name) {
                let hint = suggest(name, valid.iter().copied())
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                ctx.error(
                    privilege.line,
                    privilege.column,
                    &format!("spec.privilege_assignments[{i}].privileges[{j}]"),
                    format!("privilege `{name}` does not apply to a {securable}{hint}"),
                );
            }
        }
    }
}
