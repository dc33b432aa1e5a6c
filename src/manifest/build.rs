//! Turning one resource document of an app into a [`DesiredResource`]:
//! variables substituted, spec checked, permissions read, repository files
//! inlined, secret references collected.

use base64::Engine;
use serde::Serialize;

use super::Kind;
use super::agent::{self, AgentScope};
use super::app::Project;
use super::credentials::{self, CredentialRotation};
use super::diag::{At, Diagnostics};
use super::document::Document;
use super::fields::Fields;
use super::permissions;
use super::resource::{ADOPT_ID_ANNOTATION, DesiredResource, Origin, PermissionEntry, ResourceKey};
use super::schema::{self, Ctx};
use super::vars::{self, ReferenceSite, Values};
use super::yaml::{Entry, Node, Value};
use crate::source::tree::{self as source, EntryKind, SourceTree};

/// Largest notebook or file inlined from the repository (the workspace import limit).
pub const MAX_CONTENT_BYTES: u64 = 10 * 1024 * 1024;

/// Where a secret's value comes from at apply time. Manifests only ever
/// name the source; the value is read by the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretSource {
    /// An environment variable of the controller process.
    FromEnv(String),
    /// A file on the controller's machine (e.g. a mounted Kubernetes Secret).
    FromFile(String),
}

/// One secret a SecretScope declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeSecret {
    pub scope: ResourceKey,
    pub key: String,
    pub source: SecretSource,
    pub origin: Origin,
}

/// What building one resource yields.
pub struct Built {
    pub resource: DesiredResource,
    pub references: Vec<ReferenceSite>,
    pub secrets: Vec<ScopeSecret>,
    /// The approved data of a service principal labelled as an agent.
    pub agent: Option<AgentScope>,
    /// A service principal's credential rotation.
    pub rotation: Option<CredentialRotation>,
    /// Its document's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The app a resource is built for.
pub struct AppScope<'a> {
    pub name: &'a str,
    pub workspace: Option<&'a str>,
    pub project: &'a Project,
    pub variables: &'a Values,
}

/// The id the document's [`ADOPT_ID_ANNOTATION`] names, if it names one.
fn adopt_id(diags: &mut Diagnostics, doc: &Document) -> Option<String> {
    let id = doc.annotations.get(ADOPT_ID_ANNOTATION)?.trim();
    if id.is_empty() {
        diags.error(
            At::new(
                &doc.file,
                doc.origin.line,
                doc.origin.column,
                "metadata.annotations",
            ),
            format!(
                "`{ADOPT_ID_ANNOTATION}` is empty: give the id of the object to adopt, or remove it"
            ),
        );
        return None;
    }
    Some(id.to_string())
}

pub fn build(
    diags: &mut Diagnostics,
    tree: &dyn SourceTree,
    app: &AppScope<'_>,
    doc: &Document,
) -> Option<Built> {
    let file = doc.file.as_str();
    let kind = doc.kind;
    if !app.project.allows_kind(kind) {
        let allowed = app
            .project
            .kinds
            .as_ref()
            .map(|k| k.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        diags.violation(
            At::new(file, doc.kind_at.0, doc.kind_at.1, "kind"),
            "kinds",
            format!(
                "project `{}` does not allow kind {kind} (allowed: {allowed})",
                app.project.name
            ),
        );
    }
    let Some(workspace) = app.workspace else {
        diags.error(
            At::new(file, doc.origin.line, doc.origin.column, ""),
            format!("app `{}` has no destination workspace for this {kind}; set spec.destination.workspace on the Application", app.name),
        );
        return None;
    };
    let key = ResourceKey {
        workspace: workspace.to_string(),
        kind,
        name: doc.name.clone(),
    };
    let raw_spec = doc.spec()?;
    let mut spec = vars::substitute(diags, file, raw_spec, "spec", app.variables);
    if kind == Kind::ClusterPolicy {
        inline_policy_definition(&mut spec);
    }
    if kind == Kind::SecretScope {
        refuse_literal_secrets(diags, file, &spec, "spec");
    }
    let mut ctx = Ctx { file, diags };
    schema::check_spec(&mut ctx, kind, &spec);

    let mut references = Vec::new();
    vars::references(diags, file, &spec, "spec", &mut references);

    let mut permissions_list: Vec<PermissionEntry> = Vec::new();
    let (acl_key, level_key) = permissions::acl_keys(kind);
    if let Some(entry) = doc.node.get(acl_key) {
        let node = vars::substitute(diags, file, &entry.value, acl_key, app.variables);
        vars::references(diags, file, &node, acl_key, &mut references);
        permissions_list = permissions::read(diags, file, &node, acl_key, kind, level_key);
    }

    let mut secrets = Vec::new();
    if kind == Kind::SecretScope
        && let Some(entry) = doc.node.get("secrets")
    {
        let node = vars::substitute(diags, file, &entry.value, "secrets", app.variables);
        secrets = read_secrets(diags, file, &node, &key);
    }

    if matches!(kind, Kind::Notebook | Kind::WorkspaceFile) {
        inline_content(diags, tree, app.project, doc, &mut spec);
    }

    let (agent, rotation) = if kind == Kind::ServicePrincipal {
        let rotation = doc.node.get(credentials::CREDENTIALS).and_then(|entry| {
            let node = vars::substitute(
                diags,
                file,
                &entry.value,
                credentials::CREDENTIALS,
                app.variables,
            );
            credentials::read(diags, file, &node, &key, &doc.origin)
        });
        (read_agent(diags, doc, &key, app.variables), rotation)
    } else {
        (None, None)
    };

    let spec_json = vars::emit(&spec);
    Some(Built {
        resource: DesiredResource {
            key,
            app: app.name.to_string(),
            numeric_references: super::numeric::numeric_references(kind, &spec_json),
            adopt_id: adopt_id(diags, doc),
            spec: spec_json,
            permissions: permissions_list,
            depends_on: Vec::new(),
            origin: doc.origin.clone(),
        },
        references,
        secrets,
        agent,
        rotation,
        labels: doc.labels.clone(),
    })
}

/// A service principal's `approved_data`: required when it is labelled as
/// an agent, refused when it is not.
fn read_agent(
    diags: &mut Diagnostics,
    doc: &Document,
    key: &ResourceKey,
    variables: &Values,
) -> Option<AgentScope> {
    let file = doc.file.as_str();
    match (
        agent::is_agent(&doc.labels),
        doc.node.get(agent::APPROVED_DATA),
    ) {
        (true, Some(entry)) => {
            let node = vars::substitute(diags, file, &entry.value, agent::APPROVED_DATA, variables);
            agent::read(diags, file, &node, key, &doc.origin)
        }
        (true, None) => {
            diags.error(
                At::new(file, doc.origin.line, doc.origin.column, ""),
                format!(
                    "an agent (label {}: \"true\") declares the data it may reach: add {}: {{ catalogs, schemas, tables }}",
                    agent::AGENT_LABEL,
                    agent::APPROVED_DATA
                ),
            );
            None
        }
        (false, Some(entry)) => {
            diags.error(
                At::new(file, entry.line, entry.column, agent::APPROVED_DATA),
                format!(
                    "{} is for agents: label the service principal {}: \"true\"",
                    agent::APPROVED_DATA,
                    agent::AGENT_LABEL
                ),
            );
            None
        }
        (false, None) => None,
    }
}

/// A policy `definition` written as a YAML mapping is sent as the JSON string the API expects.
fn inline_policy_definition(spec: &mut Node) {
    if let Value::Map(entries) = &mut spec.value
        && let Some(entry) = entries.iter_mut().find(|e| e.key == "definition")
        && entry.value.as_map().is_some()
    {
        let text = vars::emit(&entry.value).to_string();
        entry.value.value = Value::String(text);
    }
}

const LITERAL_SECRET_KEYS: &[&str] = &["string_value", "bytes_value", "value"];

fn refuse_literal_secrets(diags: &mut Diagnostics, file: &str, node: &Node, path: &str) {
    if let Some(entries) = node.as_map() {
        for e in entries {
            let field = super::fields::join(path, &e.key);
            if LITERAL_SECRET_KEYS.contains(&e.key.as_str()) {
                diags.error(
                    At::new(file, e.line, e.column, &field),
                    "secret values never appear in manifests; list the secret under `secrets:` with fromEnv or fromFile",
                );
            }
            refuse_literal_secrets(diags, file, &e.value, &field);
        }
    }
}

fn read_secrets(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    scope: &ResourceKey,
) -> Vec<ScopeSecret> {
    let mut out: Vec<ScopeSecret> = Vec::new();
    let Some(items) = node.as_seq() else {
        diags.error(
            At::new(file, node.line, node.column, "secrets"),
            format!("expected a list, found {}", node.type_name()),
        );
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("secrets[{i}]");
        if let Some(entries) = item.as_map() {
            for e in entries
                .iter()
                .filter(|e| LITERAL_SECRET_KEYS.contains(&e.key.as_str()))
            {
                diags.error(
                    At::new(file, e.line, e.column, &format!("{path}.{}", e.key)),
                    "secret values never appear in manifests; use fromEnv: VARIABLE or fromFile: /path/on/the/controller",
                );
            }
        }
        let mut allowed = vec!["key", "fromEnv", "fromFile"];
        allowed.extend_from_slice(LITERAL_SECRET_KEYS);
        let Some(f) = Fields::open(diags, file, item, &path, &allowed) else {
            continue;
        };
        let Some(key) = f.string(diags, "key", true) else {
            continue;
        };
        if key.is_empty()
            || key.len() > 128
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            let (line, column) = f.at("key");
            diags.error(At::new(file, line, column, &f.field_path("key")), format!("`{key}` is not a valid secret key (letters, digits, `-`, `_`, `.`, at most 128)"));
        }
        let env = f.string(diags, "fromEnv", false);
        let from_file = f.string(diags, "fromFile", false);
        let source = match (env, from_file) {
            (Some(v), None) => SecretSource::FromEnv(v),
            (None, Some(p)) => SecretSource::FromFile(p),
            (Some(_), Some(_)) => {
                diags.error(
                    At::new(file, item.line, item.column, &path),
                    "give either fromEnv or fromFile, not both",
                );
                continue;
            }
            (None, None) => {
                if !item.as_map().is_some_and(|m| {
                    m.iter()
                        .any(|e| LITERAL_SECRET_KEYS.contains(&e.key.as_str()))
                }) {
                    diags.error(At::new(file, item.line, item.column, &path), "missing `fromEnv` or `fromFile`: where the controller reads this secret's value");
                }
                continue;
            }
        };
        if out.iter().any(|s| s.key == key) {
            diags.error(
                At::new(file, item.line, item.column, &path),
                format!("secret key `{key}` listed twice"),
            );
            continue;
        }
        out.push(ScopeSecret {
            scope: scope.clone(),
            key,
            source,
            origin: Origin {
                file: file.to_string(),
                line: item.line,
                column: item.column,
            },
        });
    }
    out
}

/// The file extension a notebook source in `language` is written with
/// (the one [`language_for`] reads back).
pub fn extension_for(language: &str) -> Option<&'static str> {
    Some(match language {
        "PYTHON" => "py",
        "SQL" => "sql",
        "SCALA" => "scala",
        "R" => "r",
        _ => return None,
    })
}

fn language_for(path: &str) -> Option<(&'static str, &'static str)> {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "py" => ("SOURCE", "PYTHON"),
        "sql" => ("SOURCE", "SQL"),
        "scala" => ("SOURCE", "SCALA"),
        "r" => ("SOURCE", "R"),
        "ipynb" => ("JUPYTER", "PYTHON"),
        _ => return None,
    })
}

fn set_if_absent(spec: &mut Node, key: &str, value: Value) {
    if let Value::Map(entries) = &mut spec.value
        && !entries.iter().any(|e| e.key == key)
    {
        entries.push(Entry {
            key: key.to_string(),
            line: spec.line,
            column: spec.column,
            value: Node::synthetic(value),
        });
    }
}

/// Reads `source:` from the repository into `spec.content` (base64), and
/// fills `format`/`language` from the file name when they are not given.
fn inline_content(
    diags: &mut Diagnostics,
    tree: &dyn SourceTree,
    project: &Project,
    doc: &Document,
    spec: &mut Node,
) {
    let file = doc.file.as_str();
    let Some(entry) = doc.node.get("source") else {
        diags.error(
            At::new(file, doc.origin.line, doc.origin.column, ""),
            format!("missing required field `source`: the repository file whose content becomes this {}", doc.kind),
        );
        return;
    };
    let (line, column) = (entry.value.line, entry.value.column);
    let Some(raw) = entry.value.as_str() else {
        diags.error(
            At::new(file, line, column, "source"),
            format!("expected a path, found {}", entry.value.type_name()),
        );
        return;
    };
    let clean = match source::clean(raw) {
        Ok(p) => p,
        Err(reason) => {
            diags.error(
                At::new(file, line, column, "source"),
                format!("`{raw}`: {reason}"),
            );
            return;
        }
    };
    if !project.allows_path(&clean) {
        diags.violation(
            At::new(file, line, column, "source"),
            "sourcePaths",
            format!(
                "project `{}` does not allow source path `{clean}` (allowed: {})",
                project.name,
                project.source_paths.join(", ")
            ),
        );
        return;
    }
    let resolved = match source::resolve(tree, &clean) {
        Ok((path, Some(EntryKind::File))) => path,
        Ok((_, Some(_))) => {
            diags.error(
                At::new(file, line, column, "source"),
                format!("`{clean}` is not a file"),
            );
            return;
        }
        Ok((_, None)) => {
            diags.error(
                At::new(file, line, column, "source"),
                format!("`{clean}` does not exist"),
            );
            return;
        }
        Err(err) => {
            diags.error(At::new(file, line, column, "source"), err.to_string());
            return;
        }
    };
    if !project.allows_path(&resolved) {
        diags.violation(
            At::new(file, line, column, "source"),
            "sourcePaths",
            format!(
                "`{clean}` resolves to `{resolved}`, which project `{}` does not allow",
                project.name
            ),
        );
        return;
    }
    let bytes = match tree.read(&resolved, MAX_CONTENT_BYTES) {
        Ok(b) => b,
        Err(err) => {
            diags.error(At::new(file, line, column, "source"), err.to_string());
            return;
        }
    };
    if doc.kind == Kind::Notebook {
        match language_for(&resolved) {
            Some((format, language)) => {
                set_if_absent(spec, "format", Value::String(format.into()));
                if format == "SOURCE" {
                    set_if_absent(spec, "language", Value::String(language.into()));
                }
            }
            None if spec.get("language").is_none() => diags.error(
                At::new(file, line, column, "source"),
                format!("cannot tell the notebook language from `{resolved}`; set spec.language (PYTHON, SQL, SCALA, R)"),
            ),
            None => {}
        }
    } else {
        set_if_absent(spec, "format", Value::String("AUTO".into()));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    set_if_absent(spec, "content", Value::String(encoded));
}
