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
    /// A mapping with free-form keys (tags, spark_conf, …).
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
        Kind::Application | Kind::ApplicationSet | Kind::Project | Kind::Workspace => {
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

/// True when `text` is exactly one `${resources.…}` reference, which apply
/// replaces with an id of whatever type the field needs.
fn is_reference(text: &str) -> bool {
    text.starts_with("${resources.") && text.ends_with('}') && text.matches("${").count() == 1
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
    let reference = node.as_str().is_some_and(is_reference);
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
        (Ty::Map, Value::Map(_)) => return,
        (Ty::Map, _) => "a mapping",
        (Ty::Enum(values), Value::String(s)) => {
            if !values.contains(&s.as_str()) && !reference {
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
}
