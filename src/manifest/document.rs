//! One manifest document: the envelope every kind shares (`apiVersion`,
//! `kind`, `metadata`, `spec`, and the kind's extras), checked strictly.

use std::collections::BTreeMap;

use super::Kind;
use super::diag::{At, Diagnostics, suggest};
use super::fields::Fields;
use super::permissions;
use super::resource::Origin;
use super::yaml::{Limits, Node, parse_documents};
use crate::source::SourceTree;

/// The only apiVersion this release reads.
pub const API_VERSION: &str = "mortar.dev/v1alpha1";

/// A document whose envelope is valid.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    pub kind: Kind,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The whole document.
    pub node: Node,
    pub origin: Origin,
    /// Position of the `kind:` value.
    pub kind_at: (usize, usize),
}

impl Document {
    /// The `spec` node (always present on a valid document).
    pub fn spec(&self) -> Option<&Node> {
        self.node.value_of("spec")
    }
}

/// Top-level keys a kind accepts besides `apiVersion`, `kind`, `metadata`, `spec`.
pub fn extras(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::SecretScope => &["acls", "secrets"],
        Kind::Notebook | Kind::WorkspaceFile => &["source", "permissions"],
        Kind::ServicePrincipal => &[super::agent::APPROVED_DATA, super::credentials::CREDENTIALS],
        k if permissions::levels_for(k).is_some() => &["permissions"],
        _ => &[],
    }
}

/// True for a name usable in keys and references: letters, digits, `_`, `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads and parses one file; envelope errors go to `diags`, valid documents are returned.
pub fn read_file(
    diags: &mut Diagnostics,
    tree: &dyn SourceTree,
    path: &str,
    limits: &Limits,
) -> Vec<Document> {
    let bytes = match tree.read(path, limits.max_file_bytes) {
        Ok(b) => b,
        Err(err) => {
            diags.error(At::new(path, 0, 0, ""), err.to_string());
            return Vec::new();
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        diags.error(At::new(path, 0, 0, ""), "not UTF-8 text");
        return Vec::new();
    };
    let nodes = match parse_documents(&text, limits) {
        Ok(nodes) => nodes,
        Err(err) => {
            diags.error(
                At::new(path, err.line, err.column, ""),
                format!("invalid YAML: {}", err.message),
            );
            return Vec::new();
        }
    };
    nodes
        .into_iter()
        .filter_map(|node| envelope(diags, path, node))
        .collect()
}

fn envelope(diags: &mut Diagnostics, file: &str, node: Node) -> Option<Document> {
    if node.as_map().is_none() {
        diags.error(
            At::new(file, node.line, node.column, ""),
            format!(
                "a manifest document is a mapping, found {}",
                node.type_name()
            ),
        );
        return None;
    }
    let origin = Origin {
        file: file.to_string(),
        line: node.line,
        column: node.column,
    };
    let top = Fields {
        file,
        node: &node,
        path: String::new(),
    };
    let api = top.string(diags, "apiVersion", true);
    if let Some(api) = &api
        && api != API_VERSION
    {
        let (line, column) = top.at("apiVersion");
        diags.error(
            At::new(file, line, column, "apiVersion"),
            format!("unsupported apiVersion `{api}`; expected `{API_VERSION}`"),
        );
    }
    let kind_text = top.string(diags, "kind", true)?;
    let kind_at = top.at("kind");
    let kind = match kind_text.parse::<Kind>() {
        Ok(kind) => kind,
        Err(_) => {
            let hint = suggest(&kind_text, Kind::ALL.iter().map(|k| k.as_str()))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            diags.error(
                At::new(file, kind_at.0, kind_at.1, "kind"),
                format!("unknown kind `{kind_text}`{hint}"),
            );
            return None;
        }
    };
    let mut allowed = vec!["apiVersion", "kind", "metadata", "spec"];
    allowed.extend_from_slice(extras(kind));
    Fields::open(diags, file, &node, "", &allowed)?;

    let Some(meta_entry) = top.entry("metadata") else {
        diags.error(
            At::new(file, node.line, node.column, ""),
            "missing required field `metadata`",
        );
        return None;
    };
    let meta = Fields::open(
        diags,
        file,
        &meta_entry.value,
        "metadata",
        &["name", "labels", "annotations"],
    )?;
    let name = meta.string(diags, "name", true)?;
    if !valid_name(&name) {
        let (line, column) = meta.at("name");
        diags.error(
            At::new(file, line, column, "metadata.name"),
            format!("`{name}` is not a valid name: letters, digits, `_` and `-`, starting with a letter or digit, at most 128 characters"),
        );
        return None;
    }
    let mut maps = [BTreeMap::new(), BTreeMap::new()];
    for (slot, key) in maps.iter_mut().zip(["labels", "annotations"]) {
        if let Some(entry) = meta.entry(key) {
            let path = format!("metadata.{key}");
            match entry.value.as_map() {
                Some(items) => {
                    for item in items {
                        match item.value.as_str() {
                            Some(v) => {
                                slot.insert(item.key.clone(), v.to_string());
                            }
                            None => diags.error(
                                At::new(
                                    file,
                                    item.value.line,
                                    item.value.column,
                                    &format!("{path}.{}", item.key),
                                ),
                                format!("expected a string, found {}", item.value.type_name()),
                            ),
                        }
                    }
                }
                None => diags.error(
                    At::new(file, entry.value.line, entry.value.column, &path),
                    format!("expected a mapping, found {}", entry.value.type_name()),
                ),
            }
        }
    }
    match top.entry("spec") {
        None => {
            diags.error(
                At::new(file, node.line, node.column, ""),
                "missing required field `spec`",
            );
            return None;
        }
        Some(spec) if spec.value.as_map().is_none() => {
            diags.error(
                At::new(file, spec.value.line, spec.value.column, "spec"),
                format!("expected a mapping, found {}", spec.value.type_name()),
            );
            return None;
        }
        Some(_) => {}
    }
    let [labels, annotations] = maps;
    Some(Document {
        file: file.to_string(),
        kind,
        name,
        labels,
        annotations,
        node,
        origin,
        kind_at,
    })
}
