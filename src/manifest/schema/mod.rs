//! Checking a resource `spec` against the Databricks request shape of its
//! kind: misspelled well-known fields (with a suggestion), wrong types,
//! missing required fields and enum values are errors; fields Mortar does not
//! know and that are not near-misses pass through with a warning.

mod extra;
mod rules;
mod sdk;

use super::Kind;
use super::diag::{At, Diagnostics, suggest};
use super::yaml::{Node, Value};

pub use rules::check_kind_rules;

/// The type of a field.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    /// A mapping with free-form keys and string values (the SDK's
    /// `Dict[str, str]`: tags, spark_conf, base_parameters, …).
    Map,
    /// Anything (free-form JSON).
    Any,
    Enum(&'static [&'static str]),
    Obj(&'static TypeDef),
}

/// One field of an object.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: Ty,
    /// The field holds a list of `ty`.
    pub list: bool,
    pub required: bool,
}

/// An object's fields.
#[derive(Debug)]
pub struct TypeDef {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
}

impl TypeDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

pub(crate) const fn f(name: &'static str, ty: Ty, list: bool, required: bool) -> FieldDef {
    FieldDef {
        name,
        ty,
        list,
        required,
    }
}

/// The request shape of a Databricks kind's create call.
pub fn type_of(kind: Kind) -> Option<&'static TypeDef> {
    Some(match kind {
        Kind::Job => &sdk::JOB,
        Kind::Cluster => &sdk::CLUSTER,
        Kind::ClusterPolicy => &sdk::CLUSTER_POLICY,
        Kind::InstancePool => &sdk::INSTANCE_POOL,
        Kind::SqlWarehouse => &sdk::SQL_WAREHOUSE,
        Kind::SecretScope => &sdk::SECRET_SCOPE,
        Kind::Catalog => &sdk::CATALOG,
        Kind::Schema => &sdk::SCHEMA,
        Kind::Group => &extra::GROUP,
        Kind::ServicePrincipal => &extra::SERVICE_PRINCIPAL,
        Kind::Notebook => &extra::NOTEBOOK,
        Kind::WorkspaceFile => &extra::WORKSPACE_FILE,
        Kind::Directory => &extra::DIRECTORY,
        Kind::Grants => &extra::GRANTS,
        Kind::WorkspaceConf => &extra::WORKSPACE_CONF,
        Kind::Application
        | Kind::ApplicationSet
        | Kind::Project
        | Kind::Workspace
        | Kind::Role
        | Kind::RoleBinding
        | Kind::AccessPolicy => {
            return None;
        }
    })
}

/// Where in a file a check runs.
pub struct Ctx<'a> {
    pub file: &'a str,
    pub diags: &'a mut Diagnostics,
}

impl Ctx<'_> {
    pub fn error(
        &mut self,
        node_line: usize,
        node_column: usize,
        field: &str,
        message: impl Into<String>,
    ) {
        self.diags
            .error(At::new(self.file, node_line, node_column, field), message);
    }
    pub fn warn(
        &mut self,
        node_line: usize,
        node_column: usize,
        field: &str,
        message: impl Into<String>,
    ) {
        self.diags
            .warn(At::new(self.file, node_line, node_column, field), message);
    }
}

/// Checks `node` (the value at `path`) against an object type.
pub fn check_object(ctx: &mut Ctx<'_>, node: &Node, def: &TypeDef, path: &str) {
    let Some(entries) = node.as_map() else {
        ctx.error(
            node.line,
            node.column,
            path,
            format!("expected a mapping, found {}", node.type_name()),
        );
        return;
    };
    for entry in entries {
        let field_path = if path.is_empty() {
            entry.key.clone()
        } else {
            format!("{path}.{}", entry.key)
        };
        match def.field(&entry.key) {
            Some(field) => check_field(ctx, &entry.value, field, &field_path),
            None => match suggest(&entry.key, def.fields.iter().map(|f| f.name)) {
                Some(close) => ctx.error(
                    entry.line,
                    entry.column,
                    &field_path,
                    format!("unknown field; did you mean `{close}`?"),
                ),
                None => ctx.warn(
                    entry.line,
                    entry.column,
                    &field_path,
                    "field not in the Databricks API schema Mortar knows; passed through unchanged",
                ),
            },
        }
    }
    for field in def.fields.iter().filter(|f| f.required) {
        let present = entries
            .iter()
            .any(|e| e.key == field.name && e.value.value != Value::Null);
        if !present {
            ctx.error(
                node.line,
                node.column,
                path,
                format!("missing required field `{}`", field.name),
            );
        }
    }
}

fn check_field(ctx: &mut Ctx<'_>, node: &Node, field: &FieldDef, path: &str) {
    if node.value == Value::Null {
        return;
    }
    if field.list {
        match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_value(ctx, item, field.ty, &format!("{path}[{i}]"));
                }
            }
            _ => ctx.error(
                node.line,
                node.column,
                path,
                format!("expected a list, found {}", node.type_name()),
            ),
        }
    } else {
        check_value(ctx, node, field.ty, path);
    }
}

/// Checks one value against a type.
pub fn check_value(ctx: &mut Ctx<'_>, node: &Node, ty: Ty, path: &str) {
    let reference = node.as_str().is_some_and(crate::model::reference::is_whole);
    let expected = match (ty, &node.value) {
        (Ty::Any, _) => return,
        (Ty::Str, Value::String(_)) => return,
        (Ty::Str, Value::Number(_) | Value::Bool(_)) => {
            ctx.error(
                node.line,
                node.column,
                path,
                format!(
                    "expected a string, found {}; quote the value",
                    node.type_name()
                ),
            );
            return;
        }
        (Ty::Str, _) => "a string",
        (Ty::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => return,
        (Ty::Int, _) if reference => return,
        (Ty::Int, _) => "an integer",
        (Ty::Float, Value::Number(_)) => return,
        (Ty::Float, _) if reference => return,
        (Ty::Float, _) => "a number",
        (Ty::Bool, Value::Bool(_)) => return,
        (Ty::Bool, _) => "true or false",
        (Ty::Map, Value::Map(entries)) => {
            check_string_values(ctx, entries, path);
            return;
        }
        (Ty::Map, _) => "a mapping",
        (Ty::Enum(values), Value::String(s)) => {
            let any_case =
                extra::case_insensitive(path) && values.iter().any(|v| v.eq_ignore_ascii_case(s));
            if !values.contains(&s.as_str()) && !reference && !any_case {
                let hint = match suggest(s, values.iter().copied()) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => String::new(),
                };
                ctx.error(
                    node.line,
                    node.column,
                    path,
                    format!(
                        "invalid value `{s}`; expected one of {}{hint}",
                        values.join(", ")
                    ),
                );
            }
            return;
        }
        (Ty::Enum(_), _) => "a string",
        (Ty::Obj(def), _) => {
            check_object(ctx, node, def, path);
            return;
        }
    };
    ctx.error(
        node.line,
        node.column,
        path,
        format!("expected {expected}, found {}", node.type_name()),
    );
}

/// The values of a string map must be strings: YAML's `100` or `true`
/// would be sent as a number or a boolean, which the API refuses or reads
/// differently. A quoted `"100"` is a string.
fn check_string_values(ctx: &mut Ctx<'_>, entries: &[super::yaml::Entry], path: &str) {
    for entry in entries {
        let node = &entry.value;
        if matches!(node.value, Value::String(_)) {
            continue;
        }
        let found = node.type_name();
        let hint = match node.value {
            Value::Number(_) | Value::Bool(_) => "; quote the value",
            _ => "",
        };
        ctx.error(
            node.line,
            node.column,
            &format!("{path}.{}", entry.key),
            format!("expected a string (values of `{path}` are strings), found {found}{hint}"),
        );
    }
}

/// Checks a resource's `spec` for `kind`: shape, then the kind's own rules.
pub fn check_spec(ctx: &mut Ctx<'_>, kind: Kind, spec: &Node) {
    if let Some(def) = type_of(kind) {
        check_object(ctx, spec, def, "spec");
        if spec.as_map().is_some() {
            check_kind_rules(ctx, kind, spec);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::{Limits, parse_documents};

    fn check(kind: Kind, yaml: &str) -> Diagnostics {
        let doc = parse_documents(yaml, &Limits::default()).unwrap().remove(0);
        let mut diags = Diagnostics::default();
        let mut ctx = Ctx {
            file: "f.yaml",
            diags: &mut diags,
        };
        check_spec(&mut ctx, kind, &doc);
        diags
    }

    #[test]
    fn misspelled_task_field_is_an_error_with_suggestion() {
        let d = check(
            Kind::Job,
            "name: x\nmax_concurent_runs: 1\ntasks:\n  - task_key: a\n    notebok_task: { notebook_path: /x }\n",
        );
        let text = d.to_string();
        assert!(text.contains("f.yaml:2:1: spec.max_concurent_runs: unknown field; did you mean `max_concurrent_runs`?"), "{text}");
        assert!(text.contains("f.yaml:5:5: spec.tasks[0].notebok_task: unknown field; did you mean `notebook_task`?"), "{text}");
    }

    #[test]
    fn new_fields_pass_with_a_warning() {
        let d = check(Kind::Job, "name: x\nquantum_scheduler: { level: 3 }\n");
        assert!(d.errors.is_empty(), "{d}");
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].field, "spec.quantum_scheduler");
    }

    #[test]
    fn types_enums_and_required_fields() {
        let d = check(
            Kind::Cluster,
            "spark_version: 15.4\nruntime_engine: PHOTONN\nnum_workers: two\n",
        );
        let text = d.to_string();
        assert!(
            text.contains("spec.spark_version: expected a string, found a number; quote the value"),
            "{text}"
        );
        assert!(text.contains("did you mean `PHOTON`?"), "{text}");
        assert!(
            text.contains("spec.num_workers: expected an integer"),
            "{text}"
        );
        let d = check(Kind::InstancePool, "instance_pool_name: p\n");
        assert!(
            d.to_string()
                .contains("missing required field `node_type_id`"),
            "{d}"
        );
    }

    #[test]
    fn every_task_type_of_the_sdk_is_one() {
        for task in [
            "python_operator_task: { main: pkg.mod.fn }",
            "ai_function_task: { output: { catalog: c, schema: s, table: t } }",
            "ai_runtime_task: { experiment: /e, deployments: [] }",
            "notebook_task: { notebook_path: /x }",
        ] {
            let d = check(
                Kind::Job,
                &format!("name: x\ntasks:\n  - task_key: a\n    {task}\n"),
            );
            assert!(d.errors.is_empty(), "{task}: {d}");
        }
        let types = rules::task_types();
        assert!(types.contains(&"python_operator_task"), "{types:?}");
        assert!(!types.contains(&"compute"), "{types:?}");
        let d = check(Kind::Job, "name: x\ntasks:\n  - task_key: a\n");
        assert!(
            d.to_string().contains("python_operator_task"),
            "the error lists every task type: {d}"
        );
    }

    #[test]
    fn git_provider_is_accepted_in_any_case() {
        for provider in ["github", "gitHub", "GITLAB", "azureDevOpsServices"] {
            let d = check(
                Kind::Job,
                &format!(
                    "name: x\ngit_source: {{ git_url: https://x/y, git_provider: {provider} }}\n"
                ),
            );
            assert!(d.errors.is_empty(), "{provider}: {d}");
        }
        let d = check(
            Kind::Job,
            "name: x\ngit_source: { git_url: https://x/y, git_provider: gitHubb }\n",
        );
        assert!(d.to_string().contains("did you mean `gitHub`?"), "{d}");
    }

    #[test]
    fn string_map_values_must_be_strings() {
        let d = check(
            Kind::Job,
            "name: x\ntags: { n: 100, b: true, q: \"100\", s: text }\ntasks:\n  - task_key: a\n    notebook_task: { notebook_path: /x, base_parameters: { p: 1.5 } }\n    new_cluster: { spark_version: v, spark_conf: { spark.x: false } }\n",
        );
        let text = d.to_string();
        assert_eq!(d.errors.len(), 4, "{text}");
        assert!(
            text.contains("f.yaml:2:12: spec.tags.n: expected a string (values of `spec.tags` are strings), found a number; quote the value"),
            "{text}"
        );
        assert!(text.contains("spec.tags.b: expected a string"), "{text}");
        assert!(
            text.contains("spec.tasks[0].notebook_task.base_parameters.p: expected a string"),
            "{text}"
        );
        assert!(
            text.contains("spec.tasks[0].new_cluster.spark_conf.spark.x: expected a string"),
            "{text}"
        );
    }

    #[test]
    fn a_jobs_2_0_body_is_an_error_saying_how_to_write_tasks() {
        let d = check(
            Kind::Job,
            "name: x\nnotebook_task: { notebook_path: /x }\nnew_cluster: { spark_version: v, num_workers: 1 }\nmax_retries: 2\n",
        );
        let text = d.to_string();
        assert_eq!(d.errors.len(), 3, "{text}");
        assert!(
            d.warnings.is_empty(),
            "said once, as an error: {:?}",
            d.warnings
        );
        assert!(
            text.contains("f.yaml:2:1: spec.notebook_task: a job-level `notebook_task` is the Jobs API 2.0 single-task format, which creates a job with no tasks; move `notebook_task`, `new_cluster`, `max_retries` into a task: `tasks: [{task_key: main, notebook_task: …, new_cluster: …, max_retries: …}]`"),
            "{text}"
        );
    }

    #[test]
    fn a_trigger_names_its_kind() {
        let d = check(Kind::Job, "name: x\ntrigger: { type: cron }\n");
        let text = d.to_string();
        assert_eq!(d.errors.len(), 1, "{text}");
        assert!(
            text.contains("spec.trigger: a trigger needs one kind of trigger (one of"),
            "{text}"
        );
        assert!(text.contains("periodic"), "{text}");
        let d = check(
            Kind::Job,
            "name: x\ntrigger: { pause_status: PAUSED, periodic: { interval: 1, unit: HOURS } }\n",
        );
        assert!(d.errors.is_empty(), "{d}");
    }
}
