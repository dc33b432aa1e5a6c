//! Reading a Databricks Asset Bundle as `databricks bundle deploy -t
//! TARGET` would deploy it: [`load`] reads `databricks.yml` and its
//! `include:` files (the only I/O), [`convert`] turns the merged
//! configuration into the bodies the CLI would send — the target merged
//! in, variables and `${bundle|workspace}` references resolved, presets
//! and defaults applied, local paths rewritten, ACLs combined — and lists
//! everything it could not take in, with file and line.

pub mod merge;
pub mod paths;
pub mod permissions;
pub mod presets;
pub mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::manifest::yaml::{Limits, Node, parse_documents};
use crate::model::Kind;
use paths::{Files, LocalFile};
use presets::Presets;
use vars::VarValue;

/// The names the root file may have.
const ROOT_FILES: [&str; 4] = [
    "databricks.yml",
    "databricks.yaml",
    "bundle.yml",
    "bundle.yaml",
];

/// Resource groups Mortar has a kind for, and how it is called.
const MAPPED: [(&str, Kind); 4] = [
    ("jobs", Kind::Job),
    ("clusters", Kind::Cluster),
    ("sql_warehouses", Kind::SqlWarehouse),
    ("schemas", Kind::Schema),
];

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// From the bundle root.
    pub file: String,
    pub line: usize,
}

/// A bundle's files, read and merged (targets not applied yet).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dir: PathBuf,
    /// The root file and its includes, merged in load order.
    pub config: Value,
    /// Where each resource (`group`, `key`) is defined.
    pub resources: BTreeMap<(String, String), Place>,
    /// Where each top-level section first appears.
    pub sections: BTreeMap<String, Place>,
}

/// Why a bundle cannot be read or imported. Bounded labels.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{dir}: no databricks.yml (nor databricks.yaml, bundle.yml, bundle.yaml)")]
    NoRoot { dir: String },
    #[error("cannot read {file}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Target(String),
}

impl BundleError {
    pub fn metric_label(&self) -> &'static str {
        match self {
            BundleError::NoRoot { .. } => "no_root",
            BundleError::Read { .. } => "read",
            BundleError::Yaml { .. } => "yaml",
            BundleError::Invalid { .. } => "invalid",
            BundleError::Target(_) => "target",
        }
    }
}

fn read_yaml(dir: &Path, relative: &str) -> Result<Node, BundleError> {
    let path = dir.join(relative);
    let text = std::fs::read_to_string(&path).map_err(|source| BundleError::Read {
        file: relative.to_string(),
        source,
    })?;
    let mut docs = parse_documents(&text, &Limits::default()).map_err(|e| BundleError::Yaml {
        file: relative.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    Ok(if docs.is_empty() {
        Node::from_json(&Value::Object(Map::new()), 1, 1)
    } else {
        docs.swap_remove(0)
    })
}

/// The files an `include:` entry names, sorted (`*` and `?` in the file
/// name part only).
fn expand(dir: &Path, pattern: &str) -> Result<Vec<String>, String> {
    if pattern.starts_with('/') {
        return Err(format!(
            "`{pattern}`: an include is relative to the bundle root"
        ));
    }
    let (parent, name) = match pattern.rsplit_once('/') {
        Some((p, n)) => (p, n),
        None => ("", pattern),
    };
    if parent.contains(['*', '?', '[']) {
        return Err(format!(
            "`{pattern}`: a pattern in a directory name is not supported; name the directories"
        ));
    }
    if !name.contains(['*', '?']) {
        return if dir.join(pattern).is_file() {
            Ok(vec![pattern.to_string()])
        } else {
            Err(format!("`{pattern}` does not exist"))
        };
    }
    let listing = std::fs::read_dir(dir.join(parent)).map_err(|e| format!("`{pattern}`: {e}"))?;
    let mut out: Vec<String> = listing
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|f| crate::config::glob_match(name, f))
        .map(|f| {
            if parent.is_empty() {
                f
            } else {
                format!("{parent}/{f}")
            }
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Reads the bundle at `dir`: the root file and its includes, merged.
/// The same resource key defined twice is an error naming both places.
pub fn load(dir: &Path) -> Result<Loaded, BundleError> {
    let present: Vec<&str> = ROOT_FILES
        .iter()
        .copied()
        .filter(|f| dir.join(f).is_file())
        .collect();
    let root_file = match present.as_slice() {
        [one] => *one,
        [] => {
            return Err(BundleError::NoRoot {
                dir: dir.display().to_string(),
            });
        }
        [a, b, ..] => {
            return Err(BundleError::Invalid {
                file: b.to_string(),
                line: 1,
                message: format!("a bundle has one root file, and `{a}` is one too"),
            });
        }
    };
    let root = read_yaml(dir, root_file)?;
    let mut files = vec![root_file.to_string()];
    if let Some(entry) = root.get("include") {
        for (i, item) in entry.value.as_seq().unwrap_or_default().iter().enumerate() {
            let pattern = item.as_str().ok_or_else(|| BundleError::Invalid {
                file: root_file.into(),
                line: item.line,
                message: format!("include[{i}]: expected a path"),
            })?;
            let matched = expand(dir, pattern).map_err(|message| BundleError::Invalid {
                file: root_file.into(),
                line: item.line,
                message: format!("include[{i}]: {message}"),
            })?;
            for m in matched {
                if !files.contains(&m) {
                    files.push(m);
                }
            }
        }
    }
    let mut config = Value::Object(Map::new());
    let mut resources: BTreeMap<(String, String), Place> = BTreeMap::new();
    let mut sections = BTreeMap::new();
    for file in &files {
        let node = if file == root_file {
            root.clone()
        } else {
            read_yaml(dir, file)?
        };
        for entry in node.as_map().unwrap_or_default() {
            sections.entry(entry.key.clone()).or_insert(Place {
                file: file.clone(),
                line: entry.line,
            });
        }
        if let Some(groups) = node.value_of("resources").and_then(Node::as_map) {
            for group in groups {
                for key in group.value.as_map().unwrap_or_default() {
                    let here = Place {
                        file: file.clone(),
                        line: key.line,
                    };
                    if let Some(((g, _), first)) =
                        resources.iter().find(|((_, k), _)| *k == key.key)
                    {
                        return Err(BundleError::Invalid {
                            file: file.clone(),
                            line: key.line,
                            message: format!(
                                "resource key `{}` is defined already as {g}.{} at {}:{}",
                                key.key, key.key, first.file, first.line
                            ),
                        });
                    }
                    resources.insert((group.key.clone(), key.key.clone()), here);
                }
            }
        }
        let mut value = node.to_json();
        if file != root_file
            && let Some(map) = value.as_object_mut()
        {
            map.remove("include");
        }
        // Paths are relative to the file that writes them: from here on,
        // relative to the bundle root.
        let dir = Path::new(file)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        root_paths(&mut value, &dir);
        merge::merge(&mut config, value);
    }
    Ok(Loaded {
        dir: dir.to_path_buf(),
        config,
        resources,
        sections,
    })
}

/// The jobs of one file's `resources:` and of its targets' `resources:`,
/// their task paths made relative to the bundle root.
fn root_paths(file: &mut Value, dir: &str) {
    let mut sections: Vec<&mut Value> = Vec::new();
    if let Some(map) = file.as_object_mut() {
        for (name, section) in map.iter_mut() {
            match name.as_str() {
                "resources" => sections.push(section),
                "targets" => {
                    for target in section
                        .as_object_mut()
                        .into_iter()
                        .flatten()
                        .map(|(_, t)| t)
                    {
                        if let Some(r) = target.get_mut("resources") {
                            sections.push(r);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for resources in sections {
        if let Some(jobs) = resources.get_mut("jobs").and_then(Value::as_object_mut) {
            for job in jobs.values_mut() {
                paths::from_root(job, dir);
            }
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The target; else the only one, or the one marked `default: true`.
    pub target: Option<String>,
    /// `--var name=value`.
    pub vars: BTreeMap<String, String>,
    /// `BUNDLE_VAR_<name>` from the environment.
    pub env_vars: BTreeMap<String, String>,
    /// The identity that deploys the bundle (its user name).
    pub user: Option<String>,
}

/// One resource, as its create body.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The bundle's group (`jobs`, …) and key.
    pub group: String,
    pub key: String,
    pub kind: Kind,
    pub spec: Value,
    /// ACL entries (`{user_name|group_name|service_principal_name, permission_level}`).
    pub permissions: Vec<Value>,
    pub place: Place,
}

/// Something the import did not take in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unmapped {
    pub place: Place,
    pub what: String,
}

/// A bundle's target, as Mortar resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub bundle: String,
    pub target: String,
    pub host: Option<String>,
    /// The bundle variables the resources use, by name, with their value
    /// for the target (lookups given no value are absent).
    pub variables: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    /// Local files the resources use (notebooks, Python and SQL files).
    pub files: Vec<LocalFile>,
    pub unmapped: Vec<Unmapped>,
}

/// The target chosen by `options` among the bundle's.
fn choose_target(config: &Value, wanted: Option<&str>) -> Result<String, BundleError> {
    let targets = config.get("targets").and_then(Value::as_object);
    let names: Vec<&String> = targets.map(|t| t.keys().collect()).unwrap_or_default();
    if let Some(w) = wanted {
        return if names.iter().any(|n| *n == w) || (names.is_empty() && w == "default") {
            Ok(w.to_string())
        } else {
            Err(BundleError::Target(format!(
                "no target `{w}`; the bundle's targets are {}",
                names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        };
    }
    match names.as_slice() {
        [] => Ok("default".into()),
        [one] => Ok((*one).clone()),
        many => {
            let defaults: Vec<&&String> = many
                .iter()
                .filter(|n| {
                    targets
                        .and_then(|t| t.get(n.as_str()))
                        .and_then(|t| t.get("default"))
                        == Some(&Value::Bool(true))
                })
                .collect();
            match defaults.as_slice() {
                [one] => Ok((**one).clone()),
                [] => Err(BundleError::Target(format!(
                    "the bundle has several targets ({}) and none is `default: true`: name one with --target",
                    many.iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
                _ => Err(BundleError::Target(
                    "more than one target is `default: true`".into(),
                )),
            }
        }
    }
}

/// The local part of a user name as the CLI shortens it: lower case,
/// other characters `_`, runs collapsed, ends trimmed.
fn short_name(user: &str) -> String {
    presets::snake(user.split('@').next().unwrap_or(user))
}

/// The bundle's `target` as Mortar resources; `files` answers what the
/// bundle's local files are.
pub fn convert(
    loaded: &Loaded,
    options: &Options,
    files: &dyn Files,
) -> Result<Imported, BundleError> {
    let mut config = loaded.config.clone();
    let target = choose_target(&config, options.target.as_deref())?;
    let target_config = config
        .get("targets")
        .and_then(|t| t.get(&target))
        .cloned()
        .unwrap_or(Value::Null);
    let root = config.as_object_mut().expect("a bundle's root is a map");
    let merge::Chosen { mode, run_as } = match &target_config {
        Value::Object(t) => merge::apply_target(root, t),
        _ => merge::Chosen {
            mode: None,
            run_as: root.get("run_as").cloned(),
        },
    };
    let name = config["bundle"]["name"]
        .as_str()
        .unwrap_or("bundle")
        .to_string();
    let development = mode.as_deref() == Some("development");
    let mut unmapped: Vec<Unmapped> = Vec::new();
    let section_place = |s: &str| {
        loaded.sections.get(s).cloned().unwrap_or(Place {
            file: "databricks.yml".into(),
            line: 1,
        })
    };
    for section in ["python", "experimental", "artifacts", "scripts"] {
        if config.get(section).is_some_and(|v| !v.is_null()) {
            unmapped.push(Unmapped {
                place: section_place(section),
                what: format!(
                    "`{section}:` is not imported (resources defined or changed by code, builds and hooks run by the CLI have no Mortar equivalent)"
                ),
            });
        }
    }

    // Variables and the deploying user.
    let declared = config["variables"].as_object().cloned().unwrap_or_default();
    let values = vars::values(&declared, &options.vars, &options.env_vars);
    for (var, value) in &values {
        let place = section_place("variables");
        match value {
            VarValue::Lookup { kind, name } => unmapped.push(Unmapped {
                place,
                what: format!(
                    "variable `{var}` is a lookup ({kind} `{name}`) the workspace answers at deploy time: give it with --var {var}=<id>"
                ),
            }),
            VarValue::Missing => unmapped.push(Unmapped {
                place,
                what: format!("variable `{var}` has no value for target `{target}`: give it with --var {var}=<value>"),
            }),
            VarValue::Known(_) => {}
        }
    }
    let user = options.user.clone();
    let short = user.as_deref().map(short_name);
    let workspace = config["workspace"].clone();
    let host = workspace["host"].as_str().map(str::to_string);
    let base_lookup = |path: &str| -> Option<Value> {
        match path {
            "bundle.name" => Some(Value::String(name.clone())),
            "bundle.target" => Some(Value::String(target.clone())),
            "workspace.current_user.userName" => user.clone().map(Value::String),
            "workspace.current_user.short_name" => short.clone().map(Value::String),
            "workspace.host" => host.clone().map(Value::String),
            _ => None,
        }
    };
    let mut root_path = workspace["root_path"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| "~/.bundle/${bundle.name}/${bundle.target}".into());
    let mut root_value = Value::String(root_path.clone());
    vars::substitute(&mut root_value, &base_lookup, &mut |_| {});
    root_path = root_value.as_str().unwrap_or_default().to_string();
    if let Some(rest) = root_path.strip_prefix("~/") {
        match &user {
            Some(u) => root_path = format!("/Workspace/Users/{u}/{rest}"),
            None => {
                return Err(BundleError::Target(
                    "the bundle's workspace paths depend on the deploying user: give it with --user NAME".into(),
                ));
            }
        }
    }
    if root_path.contains("${") && user.is_none() {
        return Err(BundleError::Target(
            "the bundle's workspace paths depend on the deploying user: give it with --user NAME"
                .into(),
        ));
    }
    if !root_path.starts_with("/Workspace/") && !root_path.starts_with("/Volumes/") {
        root_path = format!("/Workspace{root_path}");
    }
    let file_path = workspace["file_path"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{root_path}/files"));
    let state_path = workspace["state_path"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{root_path}/state"));
    if development && user.is_none() {
        return Err(BundleError::Target(format!(
            "target `{target}` is in development mode, whose names carry the deploying user: give it with --user NAME"
        )));
    }
    let presets = Presets::of(config.get("presets"), development, short.as_deref());

    // Which resources there are, for references between them.
    let resources_config = config["resources"].as_object().cloned().unwrap_or_default();
    let known: Vec<(String, String)> = resources_config
        .iter()
        .flat_map(|(g, items)| {
            items
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(k, _)| (g.clone(), k.clone()))
        })
        .collect();
    let mapped_groups: Vec<&str> = MAPPED.iter().map(|(g, _)| *g).collect();
    // A volume's path is known before deploy: `/Volumes/<catalog>/<schema>/
    // <name>`, its schema's name prefixed when the bundle declares it.
    let volume_paths: BTreeMap<String, String> = resources_config
        .get("volumes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, v)| {
            let text = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
            let (catalog, schema, volume) =
                (text("catalog_name")?, text("schema_name")?, text("name")?);
            let declared = resources_config
                .get("schemas")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .any(|(_, s)| {
                    s.get("catalog_name").and_then(Value::as_str) == Some(catalog.as_str())
                        && s.get("name").and_then(Value::as_str) == Some(schema.as_str())
                });
            let schema = match (declared, presets.normalized_prefix()) {
                (true, Some(prefix)) => format!("{prefix}{schema}"),
                _ => schema,
            };
            Some((key.clone(), format!("/Volumes/{catalog}/{schema}/{volume}")))
        })
        .collect();
    let top_permissions: Vec<Value> = config["permissions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let deployer = user.clone().unwrap_or_default();
    let mut used_vars = BTreeMap::new();
    let mut out_resources = Vec::new();
    let mut local_files = Vec::new();
    for (group, items) in &resources_config {
        for (key, body) in items.as_object().into_iter().flatten() {
            let place = loaded
                .resources
                .get(&(group.clone(), key.clone()))
                .cloned()
                .unwrap_or_else(|| section_place("resources"));
            let Some(kind) = MAPPED.iter().find(|(g, _)| g == group).map(|(_, k)| *k) else {
                unmapped.push(Unmapped {
                    place,
                    what: format!("{group}.{key}: Mortar has no kind for bundle `{group}`"),
                });
                continue;
            };
            let mut spec = body.clone();
            let own_permissions = spec
                .as_object_mut()
                .and_then(|m| m.remove("permissions"))
                .and_then(|p| p.as_array().cloned())
                .unwrap_or_default();
            let grants: Vec<Value> = spec
                .as_object_mut()
                .and_then(|m| m.remove("grants"))
                .and_then(|g| g.as_array().cloned())
                .unwrap_or_default();
            if !grants.is_empty() && kind != Kind::Schema {
                unmapped.push(Unmapped {
                    place: place.clone(),
                    what: format!("{group}.{key}: `grants` on {group} are not imported"),
                });
            }
            if !grants.is_empty() && kind == Kind::Schema {
                out_resources.push(Resource {
                    group: "grants".into(),
                    key: format!("{key}-grants"),
                    kind: Kind::Grants,
                    spec: schema_grants(key, grants),
                    permissions: Vec::new(),
                    place: place.clone(),
                });
            }
            // Interpolation: bundle and workspace values in place, bundle
            // variables kept as Mortar variables, references to resources
            // of this import kept.
            let lookup = |path: &str| -> Option<Value> {
                if let Some(v) = base_lookup(path) {
                    return Some(v);
                }
                if let Some(volume) = path
                    .strip_prefix("resources.volumes.")
                    .and_then(|r| r.strip_suffix(".volume_path"))
                {
                    return volume_paths.get(volume).cloned().map(Value::String);
                }
                match path {
                    "workspace.root_path" => return Some(Value::String(root_path.clone())),
                    "workspace.file_path" => return Some(Value::String(file_path.clone())),
                    "workspace.state_path" => return Some(Value::String(state_path.clone())),
                    _ => {}
                }
                let var = path.strip_prefix("var.")?;
                match values.get(var)? {
                    VarValue::Known(Value::String(_)) => None,
                    VarValue::Known(other) => Some(other.clone()),
                    _ => None,
                }
            };
            let mut unresolved = Vec::new();
            vars::substitute(&mut spec, &lookup, &mut |p| unresolved.push(p.to_string()));
            for path in unresolved {
                if let Some(var) = path.strip_prefix("var.") {
                    match values.get(var) {
                        Some(VarValue::Known(Value::String(s))) => {
                            used_vars.insert(var.to_string(), s.clone());
                        }
                        Some(_) => {}
                        None => unmapped.push(Unmapped {
                            place: place.clone(),
                            what: format!(
                                "{group}.{key}: `${{{path}}}` names no declared variable"
                            ),
                        }),
                    }
                    continue;
                }
                let reference = path.strip_prefix("resources.").and_then(|r| {
                    let mut parts = r.splitn(3, '.');
                    Some((parts.next()?, parts.next()?, parts.next()?))
                });
                match reference {
                    Some((g, k, _))
                        if mapped_groups.contains(&g)
                            && known.iter().any(|(kg, kk)| kg == g && kk == k) => {}
                    _ => unmapped.push(Unmapped {
                        place: place.clone(),
                        what: format!("{group}.{key}: `${{{path}}}` has no Mortar equivalent here"),
                    }),
                }
            }
            let mut problems = Vec::new();
            if kind == Kind::Job {
                paths::job(
                    &mut spec,
                    &file_path,
                    files,
                    &mut local_files,
                    &mut problems,
                );
            }
            let Some(body) = spec.as_object_mut() else {
                continue;
            };
            match kind {
                Kind::Job => {
                    merge::normalize_job(body);
                    if !body.contains_key("run_as")
                        && let Some(r) = &run_as
                    {
                        body.insert("run_as".into(), r.clone());
                    }
                    presets::job(body, &presets, &state_path);
                }
                Kind::Cluster => presets::cluster(body, &presets),
                Kind::SqlWarehouse => presets::sql_warehouse(body, &presets),
                Kind::Schema => presets::schema(body, &presets),
                _ => {}
            }
            for p in problems {
                unmapped.push(Unmapped {
                    place: place.clone(),
                    what: format!("{group}.{key}: path `{}` {}", p.path, p.message),
                });
            }
            let acl = if kind == Kind::Schema {
                Vec::new()
            } else {
                permissions::combine(group, &own_permissions, &top_permissions, &deployer)
            };
            out_resources.push(Resource {
                group: group.clone(),
                key: key.clone(),
                kind,
                spec,
                permissions: acl,
                place,
            });
        }
    }
    local_files.sort();
    local_files.dedup();
    unmapped.sort();
    unmapped.dedup();
    Ok(Imported {
        bundle: name,
        target,
        host,
        variables: used_vars,
        resources: out_resources,
        files: local_files,
        unmapped,
    })
}

/// A schema's `grants:` as a Mortar `Grants` resource on it: one entry
/// per principal, privileges each once and sorted (`ALL_PRIVILEGES`
/// standing alone), as the CLI sends them.
fn schema_grants(key: &str, mut grants: Vec<Value>) -> Value {
    merge::normalize_grants(&mut grants);
    let assignments: Vec<Value> = grants
        .iter()
        .filter_map(|g| {
            let principal = g.get("principal")?.as_str()?;
            let mut privileges: Vec<&str> = g
                .get("privileges")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if privileges.contains(&"ALL_PRIVILEGES") {
                privileges = vec!["ALL_PRIVILEGES"];
            }
            privileges.sort_unstable();
            privileges.dedup();
            Some(serde_json::json!({"principal": principal, "privileges": privileges}))
        })
        .collect();
    serde_json::json!({
        "securable_type": "schema",
        "full_name": format!("${{resources.schemas.{key}.id}}"),
        "privilege_assignments": assignments,
    })
}

/// The bundle's local files as they are on disk.
pub struct DiskFiles<'a>(pub &'a Path);

impl Files for DiskFiles<'_> {
    fn kind(&self, relative: &str) -> Option<bool> {
        let content = std::fs::read(self.0.join(relative)).ok()?;
        Some(paths::is_notebook(relative, &content))
    }
}
