//! A bundle's `${…}` interpolations: which value each variable takes for
//! the selected target (`--var`, then `BUNDLE_VAR_<name>`, then the
//! target's or the declared default; a `lookup` the workspace would answer
//! stays unresolved), and substituting references inside values. A string
//! that is exactly one reference keeps the referenced value's type.

use std::collections::BTreeMap;

use serde_json::Value;

/// One variable's value for the target, or why it has none.
#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    Known(Value),
    /// A `lookup` (by name, through the workspace API) with no value given.
    Lookup {
        kind: String,
        name: String,
    },
    /// Declared with no default and given no value.
    Missing,
}

/// The value of each declared variable. `declared` is the merged
/// `variables:` map (the target's overrides already merged in).
pub fn values(
    declared: &serde_json::Map<String, Value>,
    given: &BTreeMap<String, String>,
    env: &BTreeMap<String, String>,
) -> BTreeMap<String, VarValue> {
    let mut out = BTreeMap::new();
    for (name, decl) in declared {
        let value = if let Some(v) = given.get(name) {
            VarValue::Known(Value::String(v.clone()))
        } else if let Some(v) = env.get(name) {
            VarValue::Known(Value::String(v.clone()))
        } else if let Some(lookup) = decl.get("lookup").and_then(Value::as_object) {
            match lookup.iter().next() {
                Some((kind, name)) => VarValue::Lookup {
                    kind: kind.clone(),
                    name: name.as_str().unwrap_or_default().to_string(),
                },
                None => VarValue::Missing,
            }
        } else if let Some(default) = decl.get("default").filter(|d| !d.is_null()) {
            VarValue::Known(default.clone())
        } else if !decl.is_object() && !decl.is_null() {
            // `name: value` shorthand.
            VarValue::Known(decl.clone())
        } else {
            VarValue::Missing
        };
        out.insert(name.clone(), value);
    }
    out
}

/// Substitutes every `${path}` in the strings of `value` for which
/// `lookup` has an answer; the others stay as written and are passed to
/// `unresolved`.
pub fn substitute(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<Value>,
    unresolved: &mut dyn FnMut(&str),
) {
    match value {
        Value::String(s) => {
            if let Some(whole) = whole_reference(s) {
                if let Some(v) = lookup(whole) {
                    *value = v;
                } else {
                    unresolved(whole);
                }
                return;
            }
            if !s.contains("${") {
                return;
            }
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else {
                    out.push_str(&rest[start..]);
                    rest = "";
                    break;
                };
                let path = &after[..end];
                match lookup(path) {
                    Some(Value::String(text)) => out.push_str(&text),
                    Some(other) if !other.is_object() && !other.is_array() => {
                        out.push_str(&other.to_string())
                    }
                    _ => {
                        unresolved(path);
                        out.push_str(&rest[start..start + 2 + end + 1]);
                    }
                }
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(items) => {
            for item in items {
                substitute(item, lookup, unresolved);
            }
        }
        Value::Object(map) => {
            for (_, v) in map.iter_mut() {
                substitute(v, lookup, unresolved);
            }
        }
        _ => {}
    }
}

/// The path of a string that is exactly one `${path}`.
fn whole_reference(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    (!inner.contains("${") && !inner.contains('}')).then_some(inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_given_value_beats_the_environment_which_beats_a_lookup_and_a_default() {
        let declared = json!({
            "catalog": {"default": "main"},
            "size": {"default": "Small"},
            "policy": {"lookup": {"cluster_policy": "Job Compute"}},
            "needed": {"description": "no default"},
            "short": "plain",
        });
        let given = BTreeMap::from([("catalog".to_string(), "sales".to_string())]);
        let env = BTreeMap::from([
            ("catalog".to_string(), "ignored".to_string()),
            ("size".to_string(), "Large".to_string()),
        ]);
        let v = values(declared.as_object().unwrap(), &given, &env);
        assert_eq!(v["catalog"], VarValue::Known(json!("sales")));
        assert_eq!(v["size"], VarValue::Known(json!("Large")));
        assert_eq!(
            v["policy"],
            VarValue::Lookup {
                kind: "cluster_policy".into(),
                name: "Job Compute".into()
            }
        );
        assert_eq!(v["needed"], VarValue::Missing);
        assert_eq!(v["short"], VarValue::Known(json!("plain")));
    }

    #[test]
    fn references_inside_strings_and_whole_references_keep_their_types() {
        let mut value = json!({
            "name": "etl-${bundle.target}",
            "workers": "${var.workers}",
            "path": "${workspace.file_path}/src/x",
            "left": "${var.unknown} and {{job.id}}",
        });
        let lookup = |path: &str| match path {
            "bundle.target" => Some(json!("dev")),
            "var.workers" => Some(json!(4)),
            "workspace.file_path" => Some(json!("/Workspace/files")),
            _ => None,
        };
        let mut missing = Vec::new();
        substitute(&mut value, &lookup, &mut |p| missing.push(p.to_string()));
        assert_eq!(
            value,
            json!({
                "name": "etl-dev",
                "workers": 4,
                "path": "/Workspace/files/src/x",
                "left": "${var.unknown} and {{job.id}}",
            })
        );
        assert_eq!(missing, vec!["var.unknown"]);
    }
}
