//! Variables (`${var.NAME}`), ApplicationSet element templating
//! (`{{key}}`), and finding `${resources.<plural>.<name>.<attr>}` references.
//!
//! `$${` writes a literal `${`.

use std::collections::BTreeMap;

use super::diag::{At, Diagnostics, suggest};
use super::yaml::{Entry, Node, Value};
use crate::model::reference::{self, Segment};

/// Values by name.
pub type Values = BTreeMap<String, serde_json::Value>;

/// Where a `${resources.…}` reference is written in a manifest, and its
/// words as written (checked against the tree by the graph stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceSite {
    pub plural: String,
    pub name: String,
    pub attribute: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
}

/// Replaces every `${var.NAME}` in the strings of `node`. A string that is
/// exactly one `${var.NAME}` takes the variable's type (number, boolean).
pub fn substitute(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    path: &str,
    vars: &Values,
) -> Node {
    map_strings(node, path, &mut |text, line, column, field| {
        expand(diags, file, text, line, column, field, vars, Pattern::Var)
    })
}

/// Replaces every `{{key}}` in the strings of `node` with the element's value.
pub fn template(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    path: &str,
    element: &Values,
) -> Node {
    map_strings(node, path, &mut |text, line, column, field| {
        expand(
            diags,
            file,
            text,
            line,
            column,
            field,
            element,
            Pattern::Element,
        )
    })
}

fn map_strings(
    node: &Node,
    path: &str,
    f: &mut dyn FnMut(&str, usize, usize, &str) -> Option<Value>,
) -> Node {
    let value = match &node.value {
        Value::String(text) if text.contains("${") || text.contains("{{") => {
            f(text, node.line, node.column, path).unwrap_or_else(|| node.value.clone())
        }
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| map_strings(item, &format!("{path}[{i}]"), f))
                .collect(),
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    line: e.line,
                    column: e.column,
                    value: map_strings(&e.value, &super::fields::join(path, &e.key), f),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        line: node.line,
        column: node.column,
    }
}

#[derive(Clone, Copy)]
enum Pattern {
    Var,
    Element,
}

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_to_value(value: &serde_json::Value) -> Value {
    Node::from_json(value, 0, 0).value
}

#[allow(clippy::too_many_arguments)]
fn expand(
    diags: &mut Diagnostics,
    file: &str,
    text: &str,
    line: usize,
    column: usize,
    field: &str,
    values: &Values,
    pattern: Pattern,
) -> Option<Value> {
    let (open, close) = match pattern {
        Pattern::Var => ("${", "}"),
        Pattern::Element => ("{{", "}}"),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut whole: Option<&serde_json::Value> = None;
    let mut pieces = 0;
    let mut failed = false;
    while let Some(start) = rest.find(open) {
        if matches!(pattern, Pattern::Var) && rest[..start].ends_with('$') {
            // `$${` stays as written; it is removed when references resolve.
            out.push_str(&rest[..start + open.len()]);
            rest = &rest[start + open.len()..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else {
            diags.error(
                At::new(file, line, column, field),
                format!("unterminated `{open}` in `{text}`"),
            );
            return None;
        };
        let inner = after[..end].trim();
        rest = &after[end + close.len()..];
        pieces += 1;
        let name = match pattern {
            Pattern::Var => {
                if inner.starts_with("resources.") {
                    out.push_str(open);
                    out.push_str(&after[..end]);
                    out.push_str(close);
                    pieces += 1;
                    continue;
                }
                match inner.strip_prefix("var.") {
                    Some(name) => name,
                    None => {
                        diags.error(
                            At::new(file, line, column, field),
                            format!("unknown expression `${{{inner}}}`; use ${{var.NAME}} or ${{resources.<kind>.<name>.id}}"),
                        );
                        failed = true;
                        continue;
                    }
                }
            }
            Pattern::Element => inner,
        };
        match values.get(name) {
            Some(value) => {
                whole = Some(value);
                out.push_str(&scalar_text(value));
            }
            None => {
                let what = match pattern {
                    Pattern::Var => "variable",
                    Pattern::Element => "generator element key",
                };
                let hint = suggest(name, values.keys().map(String::as_str))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                let known = if values.is_empty() {
                    "none are declared".to_string()
                } else {
                    format!(
                        "declared: {}",
                        values.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                diags.error(
                    At::new(file, line, column, field),
                    format!("unknown {what} `{name}` ({known}){hint}"),
                );
                failed = true;
            }
        }
    }
    if failed {
        return None;
    }
    out.push_str(rest);
    let trimmed_whole = pieces == 1
        && text.trim_start().starts_with(open)
        && text.trim_end().ends_with(close)
        && text.trim().matches(open).count() == 1;
    match whole {
        Some(value) if trimmed_whole => Some(json_to_value(value)),
        _ => Some(Value::String(out)),
    }
}

/// Every `${resources.…}` reference in the strings of `node`.
pub fn references(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    path: &str,
    out: &mut Vec<ReferenceSite>,
) {
    match &node.value {
        Value::String(text) => scan(diags, file, text, node.line, node.column, path, out),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                references(diags, file, item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Map(entries) => {
            for e in entries {
                references(
                    diags,
                    file,
                    &e.value,
                    &super::fields::join(path, &e.key),
                    out,
                );
            }
        }
        _ => {}
    }
}

fn scan(
    diags: &mut Diagnostics,
    file: &str,
    text: &str,
    line: usize,
    column: usize,
    field: &str,
    out: &mut Vec<ReferenceSite>,
) {
    for segment in reference::segments(text) {
        let Segment::Reference { raw, parts } = segment else {
            continue;
        };
        let Some(parts) = parts else {
            diags.error(
                At::new(file, line, column, field),
                format!("malformed reference `{raw}`; expected ${{resources.<kind>.<name>.id}}"),
            );
            continue;
        };
        out.push(ReferenceSite {
            plural: parts.plural.to_string(),
            name: parts.name.to_string(),
            attribute: parts.attribute.to_string(),
            line,
            column,
            field: field.to_string(),
        });
    }
}

/// The node as JSON. Escapes (`$${`) are kept: they are removed when the
/// spec's references are resolved ([`crate::model::reference`]), so a
/// literal can never be read as a reference on the way.
pub fn emit(node: &Node) -> serde_json::Value {
    node.to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        Node {
            value: Value::String(text.to_string()),
            line: 3,
            column: 5,
        }
    }

    fn vars() -> Values {
        let mut v = Values::new();
        v.insert("env".into(), serde_json::json!("prod"));
        v.insert("workers".into(), serde_json::json!(4));
        v
    }

    #[test]
    fn substitutes_in_text_and_keeps_whole_value_types() {
        let mut d = Diagnostics::default();
        let out = substitute(&mut d, "f", &node("etl-${var.env}"), "spec.name", &vars());
        assert_eq!(out.value, Value::String("etl-prod".into()));
        let out = substitute(
            &mut d,
            "f",
            &node("${var.workers}"),
            "spec.num_workers",
            &vars(),
        );
        assert_eq!(out.to_json(), serde_json::json!(4));
        let out = substitute(
            &mut d,
            "f",
            &node("${resources.clusters.x.id}"),
            "s",
            &vars(),
        );
        assert_eq!(
            out.value,
            Value::String("${resources.clusters.x.id}".into())
        );
        let out = substitute(&mut d, "f", &node("$${var.env}"), "s", &vars());
        assert_eq!(emit(&out), serde_json::json!("$${var.env}"));
        assert!(d.errors.is_empty(), "{d}");
    }

    #[test]
    fn unknown_variables_name_file_line_and_field() {
        let mut d = Diagnostics::default();
        substitute(
            &mut d,
            "apps/x.yaml",
            &node("${var.evn}"),
            "spec.name",
            &vars(),
        );
        assert_eq!(
            d.to_string(),
            "apps/x.yaml:3:5: spec.name: unknown variable `evn` (declared: env, workers); did you mean `env`?"
        );
    }

    #[test]
    fn finds_references() {
        let mut d = Diagnostics::default();
        let mut refs = Vec::new();
        references(
            &mut d,
            "f",
            &node("${resources.clusters.shared.id}"),
            "spec.x",
            &mut refs,
        );
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].plural.as_str(), refs[0].name.as_str()),
            ("clusters", "shared")
        );
        references(
            &mut d,
            "f",
            &node("${resources.clusters}"),
            "spec.y",
            &mut refs,
        );
        assert_eq!(d.errors.len(), 1);
    }
}
