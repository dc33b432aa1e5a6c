//! Which references stand in numeric fields: a string that is exactly one
//! `${resources.…}` reference where the kind's request schema expects an
//! integer or a number (`run_job_task.job_id`) is sent as a number once
//! its id is known, as the official clients do.

use serde_json::Value;

use super::schema::{self, Ty, TypeDef};
use crate::model::Kind;
use crate::model::reference;

/// JSON pointers (RFC 6901) into `spec` of whole references in numeric fields.
pub fn numeric_references(kind: Kind, spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(def) = schema::type_of(kind) {
        walk_object(spec, def, &mut String::new(), &mut out);
    }
    out
}

fn walk_object(value: &Value, def: &TypeDef, pointer: &mut String, out: &mut Vec<String>) {
    let Some(map) = value.as_object() else { return };
    for (key, item) in map {
        let Some(field) = def.field(key) else {
            continue;
        };
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        match (field.list, item) {
            (true, Value::Array(items)) => {
                for (i, element) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    walk_value(element, field.ty, pointer, out);
                    pointer.truncate(len);
                }
            }
            (false, _) => walk_value(item, field.ty, pointer, out),
            _ => {}
        }
        pointer.truncate(len);
    }
}

fn walk_value(value: &Value, ty: Ty, pointer: &mut String, out: &mut Vec<String>) {
    match (ty, value) {
        (Ty::Int | Ty::Float, Value::String(s)) if reference::is_whole(s) => {
            out.push(pointer.clone());
        }
        (Ty::Obj(def), _) => walk_object(value, def, pointer, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_in_run_job_tasks_are_numeric_references() {
        let spec = serde_json::json!({
            "name": "${resources.jobs.other.id}",
            "tasks": [
                {"task_key": "a", "run_job_task": {"job_id": "${resources.jobs.other.id}"}},
                {"task_key": "b", "existing_cluster_id": "${resources.clusters.etl.id}"},
                {"task_key": "c", "run_job_task": {"job_id": "x-${resources.jobs.other.id}"}}
            ]
        });
        assert_eq!(
            numeric_references(Kind::Job, &spec),
            ["/tasks/0/run_job_task/job_id"]
        );
    }
}
