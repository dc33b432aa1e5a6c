//! Ids in imported specs written as references: a job on an imported
//! cluster names `${resources.clusters.<key>.id}`, not the cluster's id;
//! a service principal's application id becomes
//! `${resources.service_principals.<key>.application_id}`. Which fields
//! hold which kind's id is each kind's own knowledge
//! ([`KindSpec::referred_to_as`]). Literal `${` in live values is escaped
//! (`$${`) first, so the manifest reads it back as text.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::databricks::kinds::{self, KindSpec};
use crate::model::Kind;

/// The objects references may name: those imported together (references
/// stay within one app).
#[derive(Debug, Clone, Default)]
pub struct Referable {
    /// `(kind, id)` → key.
    ids: BTreeMap<(Kind, String), String>,
    /// Service principals' application ids → key.
    application_ids: BTreeMap<String, String>,
    /// Spec field → the kinds whose ids it may hold.
    fields: BTreeMap<&'static str, Vec<Kind>>,
}

impl Referable {
    pub fn new() -> Referable {
        let mut fields: BTreeMap<&'static str, Vec<Kind>> = BTreeMap::new();
        for kind in Kind::ALL {
            for field in kinds::spec(kind).map_or(&[][..], KindSpec::referred_to_as) {
                fields.entry(field).or_default().push(kind);
            }
        }
        Referable {
            fields,
            ..Referable::default()
        }
    }

    /// Makes the object `(kind, id)` known as `key`.
    pub fn add(&mut self, kind: Kind, id: &str, key: &str, application_id: Option<&str>) {
        self.ids.insert((kind, id.to_string()), key.to_string());
        if let Some(app_id) = application_id {
            self.application_ids
                .insert(app_id.to_string(), key.to_string());
        }
    }

    /// `value` with literal `${` escaped and known ids written as
    /// references (but never to `(kind, own_id)`, the object itself).
    pub fn rewrite(&self, value: &Value, own: (Kind, &str)) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(field, v)| {
                        let new = self
                            .reference(field, v, own)
                            .unwrap_or_else(|| self.rewrite(v, own));
                        (field.clone(), new)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rewrite(v, own)).collect())
            }
            Value::String(s) => match self.application_ids.get(s) {
                Some(key) => {
                    Value::String(reference(Kind::ServicePrincipal, key, "application_id"))
                }
                None => Value::String(s.replace("${", "$${")),
            },
            other => other.clone(),
        }
    }

    /// A principal's name as a manifest writes it: a known service
    /// principal's application id as a reference.
    pub fn principal(&self, name: &str) -> String {
        match self.application_ids.get(name) {
            Some(key) => reference(Kind::ServicePrincipal, key, "application_id"),
            None => name.replace("${", "$${"),
        }
    }

    fn reference(&self, field: &str, value: &Value, own: (Kind, &str)) -> Option<Value> {
        let id = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let kinds = self.fields.get(field)?;
        kinds.iter().find_map(|kind| {
            if (*kind, id.as_str()) == own {
                return None;
            }
            let key = self.ids.get(&(*kind, id.clone()))?;
            Some(Value::String(reference(*kind, key, "id")))
        })
    }
}

fn reference(kind: Kind, key: &str, attribute: &str) -> String {
    format!("${{resources.{}.{key}.{attribute}}}", kind.plural())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_in_the_fields_that_hold_them_become_references() {
        let mut r = Referable::new();
        r.add(Kind::Cluster, "0101-abc", "shared", None);
        r.add(Kind::Job, "42", "ingest", None);
        r.add(Kind::ServicePrincipal, "7", "runner", Some("9f0c-app"));
        r.add(Kind::Group, "11", "analysts", None);
        let job = json!({
            "name": "etl ${not a ref}",
            "run_as": {"service_principal_name": "9f0c-app"},
            "tasks": [
                {"task_key": "a", "existing_cluster_id": "0101-abc"},
                {"task_key": "b", "run_job_task": {"job_id": 42}},
                {"task_key": "c", "existing_cluster_id": "unknown"},
                {"task_key": "d", "description": "0101-abc"}
            ]
        });
        let out = r.rewrite(&job, (Kind::Job, "43"));
        assert_eq!(out["name"], "etl $${not a ref}");
        assert_eq!(
            out["run_as"]["service_principal_name"],
            "${resources.service_principals.runner.application_id}"
        );
        assert_eq!(
            out["tasks"][0]["existing_cluster_id"],
            "${resources.clusters.shared.id}"
        );
        assert_eq!(
            out["tasks"][1]["run_job_task"]["job_id"],
            "${resources.jobs.ingest.id}"
        );
        assert_eq!(out["tasks"][2]["existing_cluster_id"], "unknown");
        // Only fields that hold ids are rewritten.
        assert_eq!(out["tasks"][3]["description"], "0101-abc");
        // Group members: groups and service principals by SCIM id.
        let group = json!({"displayName": "g", "members": [{"value": "11"}, {"value": "7"}, {"value": "500"}]});
        let out = r.rewrite(&group, (Kind::Group, "12"));
        assert_eq!(
            out["members"],
            json!([{"value": "${resources.groups.analysts.id}"},
                   {"value": "${resources.service_principals.runner.id}"},
                   {"value": "500"}])
        );
        // An object never refers to itself.
        let own = r.rewrite(&json!({"job_id": 42}), (Kind::Job, "42"));
        assert_eq!(own["job_id"], 42);
        assert_eq!(
            r.principal("9f0c-app"),
            "${resources.service_principals.runner.application_id}"
        );
        assert_eq!(r.principal("ada@example.com"), "ada@example.com");
    }
}
