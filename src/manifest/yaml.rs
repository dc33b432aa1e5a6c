//! Parsing YAML text into a tree that remembers where every node and key
//! came from, under an explicit budget so hostile input is refused fast.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Limits applied to every manifest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes (scalars, mappings, sequences) in one file.
    pub max_nodes: usize,
    /// Most documents in one file.
    pub max_documents: usize,
    /// Most alias (`*name`) uses in one file.
    pub max_aliases: usize,
    /// Most events replayed through aliases in one file (the "billion laughs" guard).
    pub max_alias_replay: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 * 1024 * 1024,
            max_depth: 48,
            max_nodes: 200_000,
            max_documents: 512,
            max_aliases: 1_000,
            max_alias_replay: 50_000,
        }
    }
}

/// A YAML node with its 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping, with the key's position.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub column: usize,
    pub value: Node,
}

/// A file that is not acceptable YAML, with the position the parser reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses every document of `text`. Empty documents are skipped.
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.strict_booleans = true;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = limits.max_depth;
    budget.max_nodes = limits.max_nodes;
    budget.max_documents = limits.max_documents;
    budget.max_aliases = limits.max_aliases;
    // The alias count and the replayed events bound a YAML bomb; the ratio
    // heuristic would refuse a plain list of aliases well inside both.
    budget.enforce_alias_anchor_ratio = false;
    budget.max_reader_input_bytes = usize::try_from(limits.max_file_bytes).ok();
    budget.flow_nesting_limit = limits.max_depth;
    budget.max_events = limits.max_nodes.saturating_mul(4);
    budget.max_total_scalar_bytes = usize::try_from(limits.max_file_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(2);
    budget.max_recorded_anchor_events = limits.max_alias_replay;
    options.budget = Some(budget);
    let mut alias = serde_saphyr::options::AliasLimits::default();
    alias.max_total_replayed_events = limits.max_alias_replay;
    alias.max_replay_stack_depth = limits.max_depth;
    options.alias_limits = alias;

    let docs: Vec<Spanned<Raw>> = serde_saphyr::from_str_multiple_with_options(text, options)
        .map_err(|err| {
            let (line, column) = err
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 1));
            YamlError {
                message: explain(&clean_message(&err.to_string()), limits),
                line: line.max(1),
                column: column.max(1),
            }
        })?;
    Ok(docs
        .into_iter()
        .map(Node::from)
        .filter(|n| n.value != Value::Null)
        .collect())
}

/// Says which limit a refused file hit, in the manifest's terms.
fn explain(message: &str, limits: &Limits) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("recursion limit") || lower.contains("depth") || lower.contains("nesting") {
        format!("nested deeper than {} levels; refused", limits.max_depth)
    } else if lower.contains("budget breached: aliases") {
        format!(
            "more than {} aliases in one file; refused",
            limits.max_aliases
        )
    } else if lower.contains("budget breached")
        && (lower.contains("anchor") || lower.contains("alias") || lower.contains("replay"))
    {
        format!(
            "aliases expand beyond {} events (a YAML bomb?); refused",
            limits.max_alias_replay
        )
    } else if lower.contains("budget breached") && lower.contains("documents") {
        format!(
            "more than {} documents in one file; refused",
            limits.max_documents
        )
    } else if lower.contains("budget breached") && lower.contains("nodes") {
        format!("more than {} nodes in one file; refused", limits.max_nodes)
    } else if lower.contains("budget breached") {
        format!("over the loader's size budget ({message}); refused")
    } else if let Some(at) = message.find(", set DuplicateKeyPolicy") {
        message[..at].to_string()
    } else {
        message.to_string()
    }
}

/// Drops the parser's own " at line N, column M" suffix: positions are
/// printed once, in front, by the diagnostic.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let trimmed = match first.rfind(" at line ") {
        Some(at) => &first[..at],
        None => first,
    };
    trimmed.trim().trim_end_matches(',').to_string()
}

impl Node {
    /// A node without a known position (built by Mortar, not read from a file).
    pub fn synthetic(value: Value) -> Node {
        Node {
            value,
            line: 0,
            column: 0,
        }
    }

    /// The entries of a mapping, or `None` for any other node.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence, or `None` for any other node.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entry for `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// The value for `key` if this is a mapping that has it.
    pub fn value_of(&self, key: &str) -> Option<&Node> {
        self.get(key).map(|e| &e.value)
    }

    /// A short name of the node's type for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (mapping order kept).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// A node built from JSON, every part placed at `line`:`column`.
    pub fn from_json(value: &serde_json::Value, line: usize, column: usize) -> Node {
        let value = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::Seq(
                items
                    .iter()
                    .map(|v| Node::from_json(v, line, column))
                    .collect(),
            ),
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        line,
                        column,
                        value: Node::from_json(v, line, column),
                    })
                    .collect(),
            ),
        };
        Node {
            value,
            line,
            column,
        }
    }
}

/// What serde hands us before positions are attached.
enum Raw {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Key>, Spanned<Raw>)>),
}

struct Key(String);

impl From<Spanned<Raw>> for Node {
    fn from(spanned: Spanned<Raw>) -> Node {
        let line = spanned.referenced.line() as usize;
        let column = spanned.referenced.column() as usize;
        let value = match spanned.value {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Number(n) => Value::Number(n),
            Raw::String(s) => Value::String(s),
            Raw::Seq(items) => Value::Seq(items.into_iter().map(Node::from).collect()),
            Raw::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key: k.value.0,
                        line: k.referenced.line() as usize,
                        column: k.referenced.column() as usize,
                        value: Node::from(v),
                    })
                    .collect(),
            ),
        };
        Node {
            value,
            line,
            column,
        }
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_string()))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        serde_json::Number::from_f64(v)
            .map(Raw::Number)
            .ok_or_else(|| E::custom("numbers must be finite (no .inf or .nan)"))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value::<Spanned<Raw>>()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
        parse_documents(text, &Limits::default())
    }

    #[test]
    fn keys_and_values_carry_their_lines() {
        let docs = parse("a: 1\n---\nkind: Job\nspec:\n  tasks:\n    - task_key: x\n").unwrap();
        assert_eq!(docs.len(), 2);
        let spec = docs[1].get("spec").unwrap();
        assert_eq!((spec.line, spec.column), (4, 1));
        let task = &spec.value.value_of("tasks").unwrap().as_seq().unwrap()[0];
        let key = task.get("task_key").unwrap();
        assert_eq!((key.line, key.column), (6, 7));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate"), "{}", err.message);
        assert_eq!(err.line, 3);
    }

    #[test]
    fn yaml_one_one_booleans_stay_strings() {
        let docs = parse("n: on\ny: yes\n").unwrap();
        assert_eq!(docs[0].value_of("n").unwrap().as_str(), Some("on"));
        assert_eq!(docs[0].get("y").unwrap().key, "y");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!err.message.is_empty());
    }

    #[test]
    fn the_documented_alias_allowance_is_usable() {
        // 1,000 aliases of a one-character scalar: well inside the budget.
        let mut text = String::from(
            "base: &v x
list:\n",
        );
        for _ in 0..1_000 {
            text.push_str("  - *v\n");
        }
        let docs = parse(&text).unwrap_or_else(|e| panic!("{}", e.message));
        let list = docs[0].value_of("list").unwrap();
        assert_eq!(list.as_seq().unwrap().len(), 1_000);
        // One more is refused, and says which limit.
        text.push_str("  - *v\n");
        let err = parse(&text).unwrap_err();
        assert!(
            err.message.contains("more than 1000 aliases"),
            "{}",
            err.message
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let err = parse(&text).unwrap_err();
        assert!(!err.message.is_empty());
    }

    #[test]
    fn too_many_documents_are_refused() {
        let text = "a: 1\n---\n".repeat(2000);
        assert!(parse(&text).is_err());
    }
}
