//! Reading Mortar's own typed sections (`metadata`, Application specs, …)
//! field by field: unknown keys are errors with a suggestion, wrong types
//! are errors naming the field.

use super::diag::{At, Diagnostics, suggest};
use super::yaml::{Entry, Node, Value};

/// A mapping being read, with the allowed keys.
pub struct Fields<'a> {
    pub file: &'a str,
    pub node: &'a Node,
    pub path: String,
}

impl<'a> Fields<'a> {
    /// Starts reading `node` at `path`; reports a non-mapping or unknown keys.
    pub fn open(
        diags: &mut Diagnostics,
        file: &'a str,
        node: &'a Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<Fields<'a>> {
        let Some(entries) = node.as_map() else {
            diags.error(
                At::new(file, node.line, node.column, path),
                format!("expected a mapping, found {}", node.type_name()),
            );
            return None;
        };
        for entry in entries {
            if !allowed.contains(&entry.key.as_str()) {
                let field = join(path, &entry.key);
                let message = match suggest(&entry.key, allowed.iter().copied()) {
                    Some(close) => format!("unknown field; did you mean `{close}`?"),
                    None => format!("unknown field; expected one of {}", allowed.join(", ")),
                };
                diags.error(At::new(file, entry.line, entry.column, &field), message);
            }
        }
        Some(Fields {
            file,
            node,
            path: path.to_string(),
        })
    }

    pub fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.node.get(key).filter(|e| e.value.value != Value::Null)
    }

    pub fn field_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn at(&self, key: &str) -> (usize, usize) {
        self.entry(key)
            .map(|e| (e.value.line, e.value.column))
            .unwrap_or((self.node.line, self.node.column))
    }

    /// A required or optional string.
    pub fn string(&self, diags: &mut Diagnostics, key: &str, required: bool) -> Option<String> {
        match self.entry(key) {
            None => {
                if required {
                    diags.error(
                        At::new(self.file, self.node.line, self.node.column, &self.path),
                        format!("missing required field `{key}`"),
                    );
                }
                None
            }
            Some(entry) => match &entry.value.value {
                Value::String(s) => Some(s.clone()),
                _ => {
                    self.wrong_type(diags, key, entry, "a string");
                    None
                }
            },
        }
    }

    /// An optional boolean.
    pub fn boolean(&self, diags: &mut Diagnostics, key: &str) -> Option<bool> {
        let entry = self.entry(key)?;
        match entry.value.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(diags, key, entry, "true or false");
                None
            }
        }
    }

    /// An optional non-negative integer.
    pub fn integer(&self, diags: &mut Diagnostics, key: &str) -> Option<u64> {
        let entry = self.entry(key)?;
        match &entry.value.value {
            Value::Number(n) if n.is_u64() => n.as_u64(),
            _ => {
                self.wrong_type(diags, key, entry, "a non-negative integer");
                None
            }
        }
    }

    /// An optional list of strings.
    pub fn strings(&self, diags: &mut Diagnostics, key: &str) -> Option<Vec<(String, &'a Node)>> {
        let entry = self.entry(key)?;
        let Some(items) = entry.value.as_seq() else {
            self.wrong_type(diags, key, entry, "a list of strings");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push((s.to_string(), item)),
                None => diags.error(
                    At::new(
                        self.file,
                        item.line,
                        item.column,
                        &format!("{}[{i}]", self.field_path(key)),
                    ),
                    format!("expected a string, found {}", item.type_name()),
                ),
            }
        }
        Some(out)
    }
}

impl Fields<'_> {
    /// Reports that `key` holds something other than `expected`.
    fn wrong_type(&self, diags: &mut Diagnostics, key: &str, entry: &Entry, expected: &str) {
        diags.error(
            At::new(
                self.file,
                entry.value.line,
                entry.value.column,
                &self.field_path(key),
            ),
            format!("expected {expected}, found {}", entry.value.type_name()),
        );
    }
}

/// `path.key`, or `key` at the top.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
