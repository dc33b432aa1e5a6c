//! `mortar import workspace`: what a live workspace holds, as one Mortar
//! app. [`read::gather`] is the I/O: it lists every object of the kinds
//! asked for through the kinds' adapters (the ones `observe` uses) and then
//! reads what the chosen ones need (ACLs, secret keys, grants, notebook
//! sources). The decisions are pure:
//!
//! - [`select`] chooses: objects the workspace makes itself and objects
//!   another Mortar app owns (by ownership tag or inventory) are left out,
//!   as is what `--kinds` and `--filter` exclude; each object chosen gets a
//!   key (its owner's, or one made from its name, unique in the workspace).
//! - [`convert`] writes each as a manifest: its spec as the kind's
//!   normalization gives it (server-filled and read-only fields gone), ids
//!   of other objects as `${resources…}` references, its ACL as
//!   `permissions:`, the `mortar.dev/adopt-id` annotation naming it, and a
//!   secret scope's keys listed for their sources to be filled in.

pub mod filter;
pub mod read;
pub mod refs;

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde_json::{Map, Value};

use crate::databricks::ListedObject;
use crate::databricks::kinds::{self, KindSpec, workspace_objects};
use crate::manifest::build::extension_for;
use crate::manifest::permissions::{acl_keys, entry_json};
use crate::model::{Inventory, Kind, PermissionEntry, Principal, mask};
pub use filter::Filter;
use refs::Referable;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The app written; objects it owns already are imported too (its
    /// manifests as the workspace holds them).
    pub app: String,
    /// The kinds to import (`None`: every Databricks kind).
    pub kinds: Option<BTreeSet<Kind>>,
    pub filter: Filter,
    /// Workspace folders whose notebooks, files and directories are
    /// imported (none: no workspace objects).
    pub paths: Vec<String>,
}

/// Why the options of an import were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error(
        "--app `{0}` is not a valid app name: letters, digits, `_` and `-`, starting with a letter or digit"
    )]
    AppName(String),
    #[error(
        "--filter app={filtered}: objects of app `{filtered}` are its own; import them with --app {filtered}"
    )]
    OtherApp { filtered: String },
}

impl OptionsError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            OptionsError::AppName(_) => "import_app_name",
            OptionsError::OtherApp { .. } => "import_other_app",
        }
    }
}

impl Options {
    /// Checks what no import could satisfy: an app name a manifest cannot
    /// carry, or a filter asking for another app's objects (which are
    /// always left to it).
    pub fn check(&self) -> Result<(), OptionsError> {
        if !crate::apply::inventory::valid_app_name(&self.app) {
            return Err(OptionsError::AppName(self.app.clone()));
        }
        if let Some(other) = self.filter.apps().find(|a| *a != self.app) {
            return Err(OptionsError::OtherApp {
                filtered: other.to_string(),
            });
        }
        Ok(())
    }

    /// True when `kind` is to be imported.
    pub fn wants(&self, kind: Kind) -> bool {
        kind.is_databricks() && self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }
}

/// Who owns what in one workspace, from the ownership tags and every app's
/// inventory.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// `(kind, canonical id)` → (app, key name, the id as the inventory
    /// spells it).
    by_id: BTreeMap<(Kind, String), (String, String, String)>,
    /// Every key name in use, by kind (new keys must not collide).
    names: BTreeMap<Kind, BTreeSet<String>>,
}

impl Owners {
    /// The owners the inventories of `workspace` record.
    pub fn from_inventories(workspace: &str, inventories: &[Inventory]) -> Owners {
        let mut owners = Owners::default();
        for inventory in inventories {
            for (key, managed) in &inventory.resources {
                if key.workspace == workspace {
                    owners.by_id.insert(
                        (key.kind, canonical_id(key.kind, &managed.id)),
                        (inventory.app.clone(), key.name.clone(), managed.id.clone()),
                    );
                    owners
                        .names
                        .entry(key.kind)
                        .or_default()
                        .insert(key.name.clone());
                }
            }
        }
        owners
    }

    /// The (app, key name, id as its owner spells it) owning an object:
    /// its ownership tag, else an inventory's entry.
    fn of(
        &self,
        workspace: &str,
        kind: Kind,
        object: &ListedObject,
    ) -> Option<(String, String, String)> {
        if let Some(tag) = &object.owner {
            // A tag naming another workspace or kind (copied by hand) still
            // says which app owns the object.
            let key = tag
                .key
                .strip_prefix(&format!("{workspace}/{kind}/"))
                .unwrap_or_else(|| tag.key.rsplit('/').next().unwrap_or(&tag.key));
            return Some((tag.app.clone(), key.to_string(), object.id.clone()));
        }
        self.by_id
            .get(&(kind, canonical_id(kind, &object.id)))
            .cloned()
    }

    /// The inventory entries of settings (`WorkspaceConf`) in this
    /// workspace: their ids name the settings they hold.
    pub fn settings(&self) -> impl Iterator<Item = &str> {
        self.by_id
            .keys()
            .filter(|(kind, _)| *kind == Kind::WorkspaceConf)
            .map(|(_, id)| id.as_str())
    }
}

/// An id as both sides spell it: a workspace object's path without the
/// `/Workspace` prefix (an inventory keeps the path its manifest gave).
fn canonical_id(kind: Kind, id: &str) -> String {
    match kinds::spec(kind).and_then(KindSpec::workspace_object_type) {
        Some(_) => workspace_objects::without_workspace_prefix(id).to_string(),
        None => id.to_string(),
    }
}

/// One object read from the workspace.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: Kind,
    pub object: ListedObject,
}

/// An object chosen for import, with its key.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub kind: Kind,
    pub key: String,
    pub object: ListedObject,
    /// True when it is not yet any app's: the manifest adopts it by id.
    pub unowned: bool,
}

/// Why an object was left out (reported; the rest of what `--kinds` and
/// `--filter` leave out is only counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kind: Kind,
    pub name: String,
    pub app: String,
}

/// The outcome of [`select`].
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub chosen: Vec<Chosen>,
    pub skipped: Vec<Skipped>,
    /// Objects the workspace made itself, or that `--filter` left out.
    pub passed_over: usize,
}

/// Chooses among `found` (every object of the kinds asked for) what to
/// import, and gives each a key.
pub fn select(workspace: &str, found: Vec<Found>, owners: &Owners, options: &Options) -> Selection {
    let mut out = Selection::default();
    let mut taken = owners.names.clone();
    let mut fresh = Vec::new();
    // Overlapping `--path` folders find an object twice: it is one object.
    let mut seen = BTreeSet::new();
    for Found { kind, object } in found {
        let Some(spec) = kinds::spec(kind) else {
            continue;
        };
        if !seen.insert((kind, canonical_id(kind, &object.id))) {
            continue;
        }
        let owner = owners.of(workspace, kind, &object);
        if let Some((app, key, _)) = &owner {
            taken.entry(kind).or_default().insert(key.clone());
            if *app != options.app {
                out.skipped.push(Skipped {
                    kind,
                    name: object.name.clone(),
                    app: app.clone(),
                });
                continue;
            }
        }
        let tags = spec.tags(&object.raw);
        let subject = filter::Subject {
            name: &object.name,
            app: owner.as_ref().map(|(a, _, _)| a.as_str()),
            tags: &tags,
        };
        if !options.filter.admits(&subject) || (owner.is_none() && spec.made_by_databricks(&object))
        {
            out.passed_over += 1;
            continue;
        }
        match owner {
            // Its id as the app knows it (a workspace path keeps the
            // spelling its manifest gave).
            Some((_, key, id)) => out.chosen.push(Chosen {
                kind,
                key,
                object: ListedObject { id, ..object },
                unowned: false,
            }),
            None => fresh.push((kind, object)),
        }
    }
    // New keys in a stable order, so the same workspace gives the same files.
    fresh.sort_by(|(ka, a), (kb, b)| (ka, &a.name, &a.id).cmp(&(kb, &b.name, &b.id)));
    for (kind, object) in fresh {
        let names = taken.entry(kind).or_default();
        let key = unique_key(&object.name, &object.id, kind, names);
        names.insert(key.clone());
        out.chosen.push(Chosen {
            kind,
            key,
            object,
            unowned: true,
        });
    }
    out.chosen
        .sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    out.skipped
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out
}

/// A manifest name made from an object's name: lower case, runs of other
/// characters as one `-`; when it is taken, the id is added.
fn unique_key(name: &str, id: &str, kind: Kind, taken: &BTreeSet<String>) -> String {
    let base = Some(slug(name))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| kind.as_str().to_ascii_lowercase());
    if !taken.contains(&base) {
        return base;
    }
    let with_id = slug(&format!("{base}-{id}"));
    let mut candidate = with_id.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{with_id}-{n}");
        n += 1;
    }
    candidate
}

fn slug(text: &str) -> String {
    let words = super::joined_words(text, '-');
    words
        .chars()
        .take(100)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// What [`read::gather`] read of one chosen object.
#[derive(Debug, Clone, Default)]
pub struct Details {
    /// The direct ACL (for kinds with one).
    pub permissions: Vec<PermissionEntry>,
    /// The keys of a secret scope's secrets (never their values).
    pub secret_keys: Vec<String>,
}

/// One imported resource, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedResource {
    pub kind: Kind,
    pub key: String,
    pub spec: Value,
    /// The manifest's top-level fields besides `spec` (`permissions`,
    /// `acls`); a file's `source:` is where [`crate::import::write`] puts it.
    pub extra: Map<String, Value>,
    /// The adopt-id annotation's value, for objects no app owns yet.
    pub adopt_id: Option<String>,
    /// A secret scope's keys, listed for the user to give their sources.
    pub secret_keys: Vec<String>,
    /// A notebook's or file's content, written beside the manifest.
    pub file: Option<ExportedFile>,
}

/// A workspace object's content, as a file of the manifest repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// Relative to the app's `files/` folder.
    pub relative: String,
    pub bytes: Vec<u8>,
}

/// A whole import.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceImport {
    pub workspace: String,
    pub resources: Vec<ImportedResource>,
    pub skipped: Vec<Skipped>,
    pub passed_over: usize,
    /// Things that could not be imported, each a sentence.
    pub unmapped: Vec<String>,
}

/// What [`convert`] gives: the resources, and sentences on what it left
/// out of them.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    pub resources: Vec<ImportedResource>,
    pub unmapped: Vec<String>,
}

/// Writes the chosen objects as resources. `details` is by (kind, key).
pub fn convert(selection: &Selection, details: &BTreeMap<(Kind, String), Details>) -> Converted {
    // References stay within one app: only objects imported together
    // refer to each other.
    let mut referable = Referable::new();
    for c in &selection.chosen {
        let app_id = kinds::spec(c.kind).and_then(|s| s.application_id(&c.object.raw));
        referable.add(c.kind, &c.object.id, &c.key, app_id.as_deref());
    }
    let none = Details::default();
    let mut out = Converted::default();
    for c in &selection.chosen {
        let got = details.get(&(c.kind, c.key.clone())).unwrap_or(&none);
        match resource(c, got, &referable) {
            Ok((resource, withheld)) => {
                out.unmapped.extend(withheld.into_iter().map(|pointer| {
                    format!(
                        "{} `{}`: {pointer} looks like a secret and was left out; keep it in a secret scope and write {{{{secrets/<scope>/<key>}}}}",
                        c.kind, c.object.name
                    )
                }));
                out.resources.push(resource);
            }
            Err(why) => out
                .unmapped
                .push(format!("{} `{}`: {why}", c.kind, c.object.name)),
        }
    }
    out
}

/// One chosen object as a resource, with the JSON pointers of the values
/// withheld as secrets.
fn resource(
    c: &Chosen,
    got: &Details,
    referable: &Referable,
) -> Result<(ImportedResource, Vec<String>), &'static str> {
    let spec_of = kinds::spec(c.kind).ok_or("not a Databricks kind")?;
    let normalized = spec_of.normalize(&c.object.raw);
    let mut spec = referable.rewrite(&normalized, (c.kind, &c.object.id));
    let withheld = withhold_secrets(&mut spec, "");
    let mut extra = Map::new();
    let (acl_field, level_key) = acl_keys(c.kind);
    // An ACL holding nothing but its owner is left unmanaged.
    if got
        .permissions
        .iter()
        .any(|e| e.permission_level != "IS_OWNER")
    {
        let entries: Vec<Value> = got
            .permissions
            .iter()
            .map(|e| {
                let mut entry = e.clone();
                if let Principal::ServicePrincipalName(n) = &e.principal {
                    entry.principal = Principal::ServicePrincipalName(referable.principal(n));
                }
                entry_json(&entry, level_key)
            })
            .collect();
        extra.insert(acl_field.to_string(), Value::Array(entries));
    }
    // A workspace object is known by its path, spelled as its owner knows it.
    let file = if spec_of.workspace_object_type().is_some() {
        if let Some(obj) = spec.as_object_mut() {
            obj.insert("path".into(), Value::String(c.object.id.clone()));
        }
        exported_file(spec_of, &mut spec)?
    } else {
        None
    };
    let resource = ImportedResource {
        kind: c.kind,
        key: c.key.clone(),
        spec,
        extra,
        // Settings always exist and are taken over whole: no id to name.
        adopt_id: (c.unowned && !spec_of.adopt_always()).then(|| c.object.id.clone()),
        secret_keys: got.secret_keys.clone(),
        file,
    };
    Ok((resource, withheld))
}

/// Removes from `value` every value at a field whose name says it holds a
/// secret (a password, a token) or that looks like a credential, a
/// Databricks secret reference excepted; gives their JSON pointers.
fn withhold_secrets(value: &mut Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            let mut drop = Vec::new();
            for (field, v) in map.iter_mut() {
                let pointer = format!("{at}/{field}");
                let secret_here = v.as_str().is_some_and(|s| {
                    // A flag or a number under a name like `enableTokens`
                    // holds nothing secret.
                    let plain = matches!(s, "true" | "false") || s.parse::<f64>().is_ok();
                    !mask::is_secret_reference(s)
                        && (mask::looks_secret(s) || (mask::is_sensitive_key(field) && !plain))
                });
                if secret_here {
                    drop.push(field.clone());
                    out.push(pointer);
                } else {
                    out.extend(withhold_secrets(v, &pointer));
                }
            }
            for field in drop {
                map.remove(&field);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                out.extend(withhold_secrets(item, &format!("{at}/{i}")));
            }
        }
        _ => {}
    }
    out
}

/// A notebook's or file's content taken out of its spec, as the file its
/// manifest's `source:` names; the spec keeps its path (and is imported
/// over what is there). `None` for a directory.
fn exported_file(
    spec_of: &dyn KindSpec,
    spec: &mut Value,
) -> Result<Option<ExportedFile>, &'static str> {
    let path = spec_of.workspace_path(spec).ok_or("no path")?;
    let Some(obj) = spec.as_object_mut() else {
        return Err("not an object");
    };
    let Some(content) = obj.remove("content") else {
        return Ok(None);
    };
    let mut bytes = content
        .as_str()
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .ok_or("its exported content is not base64; it was not imported")?;
    // Normalized content has lost its last newline; a source file ends in one.
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    obj.remove("format");
    let language = obj.remove("language");
    obj.insert("overwrite".into(), Value::Bool(true));
    let mut relative = path.trim_start_matches('/').to_string();
    if let Some(ext) = language
        .as_ref()
        .and_then(Value::as_str)
        .and_then(extension_for)
    {
        relative = format!("{relative}.{ext}");
    }
    Ok(Some(ExportedFile { relative, bytes }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::databricks::OwnershipTags;
    use crate::model::{ManagedResource, Ownership, ResourceKey};
    use serde_json::json;

    fn found(kind: Kind, id: &str, name: &str, raw: Value) -> Found {
        Found {
            kind,
            object: ListedObject {
                id: id.into(),
                name: name.into(),
                owner: None,
                raw,
            },
        }
    }

    fn options(app: &str) -> Options {
        Options {
            app: app.into(),
            ..Options::default()
        }
    }

    #[test]
    fn other_apps_objects_are_skipped_and_new_keys_never_collide() {
        let mut inventory = Inventory::new("platform");
        inventory.resources.insert(
            ResourceKey {
                workspace: "prod".into(),
                kind: Kind::Group,
                name: "analysts".into(),
            },
            ManagedResource {
                id: "g1".into(),
                spec: json!({}),
                permissions: vec![],
                revision: None,
                ownership: Ownership::Created,
            },
        );
        let owners = Owners::from_inventories("prod", &[inventory]);
        let mut tagged = found(Kind::Job, "5", "tagged", json!({"name": "tagged"}));
        tagged.object.owner = Some(OwnershipTags {
            app: "mine".into(),
            key: "prod/Job/nightly".into(),
        });
        let all = vec![
            found(
                Kind::Group,
                "g1",
                "analysts",
                json!({"displayName": "analysts"}),
            ),
            found(
                Kind::Group,
                "g2",
                "Analysts!",
                json!({"displayName": "Analysts!"}),
            ),
            found(
                Kind::Group,
                "g0",
                "admins",
                json!({"displayName": "admins"}),
            ),
            found(
                Kind::Job,
                "7",
                "ETL  nightly",
                json!({"name": "ETL  nightly"}),
            ),
            found(
                Kind::Job,
                "8",
                "etl nightly",
                json!({"name": "etl nightly"}),
            ),
            tagged,
        ];
        let s = select("prod", all, &owners, &options("mine"));
        let keys: Vec<(Kind, &str, bool)> = s
            .chosen
            .iter()
            .map(|c| (c.kind, c.key.as_str(), c.unowned))
            .collect();
        assert_eq!(
            keys,
            vec![
                (Kind::Job, "etl-nightly", true),
                (Kind::Job, "etl-nightly-8", true),
                (Kind::Job, "nightly", false),
                (Kind::Group, "analysts-g2", true),
            ]
        );
        assert_eq!(
            s.skipped,
            vec![Skipped {
                kind: Kind::Group,
                name: "analysts".into(),
                app: "platform".into()
            }]
        );
        assert_eq!(s.passed_over, 1, "the admins group is the workspace's own");
    }

    #[test]
    fn convert_writes_references_permissions_and_the_adopt_id() {
        let cluster = found(
            Kind::Cluster,
            "0101-abc",
            "shared",
            json!({"cluster_id": "0101-abc", "cluster_name": "shared", "spark_version": "15.4.x-scala2.12",
                   "node_type_id": "i3.xlarge", "num_workers": 2, "state": "RUNNING"}),
        );
        let job = found(
            Kind::Job,
            "42",
            "etl",
            json!({"job_id": 42, "settings": {"name": "etl", "tasks": [
                {"task_key": "a", "existing_cluster_id": "0101-abc",
                 "notebook_task": {"notebook_path": "/Shared/a"}}]}}),
        );
        let s = select(
            "prod",
            vec![cluster, job],
            &Owners::default(),
            &options("team"),
        );
        let mut details = BTreeMap::new();
        details.insert(
            (Kind::Job, "etl".to_string()),
            Details {
                permissions: vec![
                    PermissionEntry {
                        principal: crate::model::Principal::GroupName("analysts".into()),
                        permission_level: "CAN_VIEW".into(),
                    },
                    PermissionEntry {
                        principal: crate::model::Principal::UserName("ada@example.com".into()),
                        permission_level: "IS_OWNER".into(),
                    },
                ],
                secret_keys: vec![],
            },
        );
        let out = convert(&s, &details).resources;
        let job = out.iter().find(|r| r.kind == Kind::Job).unwrap();
        assert_eq!(
            job.spec["tasks"][0]["existing_cluster_id"],
            "${resources.clusters.shared.id}"
        );
        assert_eq!(job.adopt_id.as_deref(), Some("42"));
        assert_eq!(
            job.extra["permissions"],
            json!([{"group_name": "analysts", "permission_level": "CAN_VIEW"},
                   {"user_name": "ada@example.com", "permission_level": "IS_OWNER"}])
        );
        let cluster = out.iter().find(|r| r.kind == Kind::Cluster).unwrap();
        assert!(cluster.spec.get("state").is_none() && cluster.spec.get("cluster_id").is_none());
        assert!(!cluster.extra.contains_key("permissions"));
    }

    #[test]
    fn a_notebook_becomes_a_source_file_and_a_manifest_naming_it() {
        let e = base64::engine::general_purpose::STANDARD;
        let nb = found(
            Kind::Notebook,
            "/Shared/etl/ingest",
            "/Shared/etl/ingest",
            json!({"path": "/Shared/etl/ingest", "object_type": "NOTEBOOK", "language": "PYTHON",
                   "object_id": 9, "content": e.encode("# Databricks notebook source\nprint(1)\n")}),
        );
        let s = select("prod", vec![nb], &Owners::default(), &options("team"));
        assert_eq!(s.chosen[0].key, "shared-etl-ingest");
        let out = convert(&s, &BTreeMap::new()).resources;
        let r = &out[0];
        let file = r.file.as_ref().unwrap();
        assert_eq!(file.relative, "Shared/etl/ingest.py");
        // The export's header line is the workspace's, not the source's.
        assert_eq!(file.bytes, b"print(1)\n");
        let written = crate::import::write::workspace_files(
            &WorkspaceImport {
                resources: out.clone(),
                ..WorkspaceImport::default()
            },
            &crate::import::write::Layout {
                app: "team".into(),
                workspace: "prod".into(),
                project: "default".into(),
            },
        )
        .unwrap();
        let manifest = written
            .iter()
            .find_map(|f| match f {
                crate::import::write::OutputFile::Text { path, text }
                    if path == "team/notebook-shared-etl-ingest.yaml" =>
                {
                    Some(text)
                }
                _ => None,
            })
            .unwrap();
        assert!(
            manifest.contains("\nsource: team/files/Shared/etl/ingest.py\n"),
            "{manifest}"
        );
        assert_eq!(
            r.spec,
            json!({"path": "/Shared/etl/ingest", "overwrite": true})
        );
    }

    #[test]
    fn secrets_in_live_specs_are_withheld_and_named() {
        let mut spec = json!({
            "spark_env_vars": {"DB_PASSWORD": "hunter2", "MODE": "batch"},
            "spark_conf": {"spark.hadoop.fs.token": "{{secrets/etl/token}}"},
            "settings": {"enableTokensConfig": "true", "maxTokenLifetimeDays": "90"},
            "tasks": [{"base_parameters": {"key": "dapi0123456789abcdef0123456789abcdef"}}]
        });
        let withheld = withhold_secrets(&mut spec, "");
        assert_eq!(
            withheld,
            vec![
                "/spark_env_vars/DB_PASSWORD",
                "/tasks/0/base_parameters/key"
            ]
        );
        assert_eq!(spec["spark_env_vars"], json!({"MODE": "batch"}));
        assert_eq!(
            spec["spark_conf"]["spark.hadoop.fs.token"],
            "{{secrets/etl/token}}"
        );
        assert_eq!(spec["settings"]["enableTokensConfig"], "true");
        assert_eq!(spec["tasks"][0]["base_parameters"], json!({}));
    }

    #[test]
    fn what_databricks_runs_or_made_itself_is_passed_over() {
        let all = vec![
            found(
                Kind::Cluster,
                "c1",
                "etl",
                json!({"cluster_name": "etl", "cluster_source": "UI"}),
            ),
            found(
                Kind::Cluster,
                "c2",
                "dlt-x",
                json!({"cluster_name": "dlt-x", "cluster_source": "PIPELINE"}),
            ),
            found(
                Kind::Schema,
                "sales.raw",
                "sales.raw",
                json!({"name": "raw", "catalog_name": "sales"}),
            ),
            found(
                Kind::Schema,
                "sales.default",
                "sales.default",
                json!({"name": "default", "catalog_name": "sales"}),
            ),
            found(
                Kind::Schema,
                "system.access",
                "system.access",
                json!({"name": "access", "catalog_name": "system"}),
            ),
            found(Kind::Catalog, "system", "system", json!({"name": "system"})),
        ];
        let s = select("prod", all, &Owners::default(), &options("team"));
        let ids: Vec<&str> = s.chosen.iter().map(|c| c.object.id.as_str()).collect();
        assert_eq!(ids, vec!["c1", "sales.raw"]);
        assert_eq!(s.passed_over, 4);
    }

    #[test]
    fn a_tag_copied_from_elsewhere_still_names_its_owner() {
        let mut job = found(Kind::Job, "5", "etl", json!({"settings": {"name": "etl"}}));
        job.object.owner = Some(OwnershipTags {
            app: "other".into(),
            key: "dev/Job/etl".into(),
        });
        let s = select("prod", vec![job], &Owners::default(), &options("team"));
        assert!(s.chosen.is_empty());
        assert_eq!(s.skipped[0].app, "other");
    }
}
