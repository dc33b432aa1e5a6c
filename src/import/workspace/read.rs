//! The I/O of `mortar import workspace`: every object of the kinds asked
//! for, listed through the kinds' adapters; then, for the objects
//! [`select`] chooses, what their manifests need (the object whole where
//! the list leaves fields out, its ACL, a secret scope's keys, the grants
//! on a catalog or schema, a notebook's source). Secret values are never
//! read.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;

use super::{Chosen, Details, Found, Options, Owners, WorkspaceImport, convert, select};
use crate::databricks::kinds::{self, KindAdapter, workspace_conf, workspace_objects};
use crate::databricks::{Client, ListedObject, adapter};
use crate::model::Kind;
use crate::observe::acl_entries;

/// Reads (ACLs, whole objects) in flight at once.
const READS_IN_FLIGHT: usize = 8;

/// Why a workspace could not be read for an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("workspace `{workspace}`: listing {kind} objects")]
    List {
        workspace: String,
        kind: Kind,
        #[source]
        source: crate::databricks::Error,
    },
    #[error("workspace `{workspace}`: reading folder `{path}` (--path)")]
    Folder {
        workspace: String,
        path: String,
        #[source]
        source: crate::databricks::Error,
    },
    #[error("workspace `{workspace}`: reading {what} of {kind} `{name}`")]
    Read {
        workspace: String,
        kind: Kind,
        name: String,
        what: &'static str,
        #[source]
        source: crate::databricks::Error,
    },
}

impl ImportError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ImportError::List { .. } => "import_list",
            ImportError::Folder { .. } => "import_folder",
            ImportError::Read { .. } => "import_read",
        }
    }
}

/// Reads the workspace `client` talks to and imports it as `options` say.
pub async fn gather(
    client: &Client,
    owners: &Owners,
    options: &Options,
) -> Result<WorkspaceImport, ImportError> {
    let workspace = client.name().to_string();
    let mut unmapped = Vec::new();
    let mut found = listed(client, options).await?;
    found.extend(walked(client, options, &mut unmapped).await?);
    // Settings have no list: the documented ones are read, those an app
    // manages apart from the rest.
    if options.wants(Kind::WorkspaceConf) {
        let read = settings(client, owners).await;
        found.extend(read.map_err(list_error(client, Kind::WorkspaceConf))?);
    }
    let mut selection = select(&workspace, found, owners, options);
    if options.wants(Kind::Grants) {
        let grants = grants_on(client, owners, options, &selection.chosen).await?;
        // Grants were found through the catalogs and schemas the filter
        // chose: only its ownership conditions apply to them.
        let grant_options = Options {
            filter: options.filter.ownership_only(),
            ..options.clone()
        };
        let more = select(&workspace, grants, owners, &grant_options);
        selection.chosen.extend(more.chosen);
        selection.skipped.extend(more.skipped);
        selection.passed_over += more.passed_over;
    }
    let read: Vec<(Chosen, Details)> = stream::iter(std::mem::take(&mut selection.chosen))
        .map(|c| details(client, c))
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut by_key = BTreeMap::new();
    for (c, d) in read {
        by_key.insert((c.kind, c.key.clone()), d);
        selection.chosen.push(c);
    }
    let converted = convert(&selection, &by_key);
    unmapped.extend(converted.unmapped);
    Ok(WorkspaceImport {
        resources: converted.resources,
        workspace,
        skipped: selection.skipped,
        passed_over: selection.passed_over,
        unmapped,
    })
}

fn list_error(client: &Client, kind: Kind) -> impl FnOnce(crate::databricks::Error) -> ImportError {
    let workspace = client.name().to_string();
    move |source| ImportError::List {
        workspace,
        kind,
        source,
    }
}

/// Every object of the kinds asked for that have a list of their own.
async fn listed(client: &Client, options: &Options) -> Result<Vec<Found>, ImportError> {
    let mut found = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|k| options.wants(*k)) {
        let Some(adapter) = adapter(kind) else {
            continue;
        };
        let objects = adapter.list_all(client).await;
        if let Some(objects) = objects.map_err(list_error(client, kind))? {
            found.extend(objects.into_iter().map(|object| Found { kind, object }));
        }
    }
    Ok(found)
}

/// The notebooks, files and directories below the folders `--path`
/// names; what the tree holds that Mortar has no kind for goes to
/// `unmapped`.
async fn walked(
    client: &Client,
    options: &Options,
    unmapped: &mut Vec<String>,
) -> Result<Vec<Found>, ImportError> {
    let tree_kinds: Vec<(&'static str, Kind)> = Kind::ALL
        .into_iter()
        .filter_map(|k| Some((kinds::spec(k)?.workspace_object_type()?, k)))
        .collect();
    let mut found = Vec::new();
    if !tree_kinds.iter().any(|(_, k)| options.wants(*k)) {
        if !options.paths.is_empty() {
            unmapped.push("--path: --kinds names no notebooks, files or directories".into());
        }
        return Ok(found);
    }
    if options.paths.is_empty() && options.kinds.is_some() {
        unmapped.push(
            "notebooks, files and directories: name the folders to import with --path".into(),
        );
    }
    for root in &options.paths {
        let entries = workspace_objects::list_tree(client, root)
            .await
            .map_err(|source| ImportError::Folder {
                workspace: client.name().to_string(),
                path: root.clone(),
                source,
            })?;
        for entry in entries {
            let path = kinds::str_field(&entry, "path").unwrap_or_default();
            let object_type = kinds::str_field(&entry, "object_type").unwrap_or_default();
            match tree_kinds.iter().find(|(t, _)| *t == object_type) {
                Some((_, kind)) if options.wants(*kind) => found.push(Found {
                    kind: *kind,
                    object: kinds::named_object(path, entry),
                }),
                Some(_) => {}
                None => unmapped.push(format!(
                    "{path}: a workspace {object_type} has no Mortar kind"
                )),
            }
        }
    }
    Ok(found)
}

/// The grants on the catalogs and schemas chosen, or, when `--kinds`
/// leaves those out, on the ones the filter and ownership would choose
/// (those that hold any grant).
async fn grants_on(
    client: &Client,
    owners: &Owners,
    options: &Options,
    chosen: &[Chosen],
) -> Result<Vec<Found>, ImportError> {
    let Some(grants) = adapter(Kind::Grants) else {
        return Ok(Vec::new());
    };
    let mut securables: Vec<(Kind, String)> = chosen
        .iter()
        .map(|c| (c.kind, c.object.id.clone()))
        .collect();
    for kind in Kind::ALL {
        let Some(adapter) = adapter(kind).filter(|a| a.grants_securable().is_some()) else {
            continue;
        };
        if options.wants(kind) {
            continue;
        }
        let listed = adapter
            .list_all(client)
            .await
            .map_err(list_error(client, kind))?;
        let found = listed
            .unwrap_or_default()
            .into_iter()
            .map(|object| Found { kind, object })
            .collect();
        let picked = select(client.name(), found, owners, options);
        securables.extend(picked.chosen.into_iter().map(|c| (c.kind, c.object.id)));
    }
    let mut found = Vec::new();
    for (kind, id) in securables {
        let Some(securable) = kinds::spec(kind).and_then(|s| s.grants_securable()) else {
            continue;
        };
        let read = grants.get(client, &format!("{securable}/{id}")).await;
        if let Some(object) = read.map_err(list_error(client, Kind::Grants))? {
            found.push(Found {
                kind: Kind::Grants,
                object,
            });
        }
    }
    Ok(found)
}

/// The documented settings: one object per app's `WorkspaceConf` (its id
/// names its settings), and one for the rest that are set.
async fn settings(
    client: &Client,
    owners: &Owners,
) -> Result<Vec<Found>, crate::databricks::Error> {
    let Some(conf) = adapter(Kind::WorkspaceConf) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut managed = std::collections::BTreeSet::new();
    for id in owners.settings() {
        managed.extend(id.split(',').map(str::to_string));
        if let Some(object) = conf.get(client, id).await? {
            out.push(Found {
                kind: Kind::WorkspaceConf,
                object,
            });
        }
    }
    let rest: Vec<&str> = workspace_conf::DOCUMENTED_SETTINGS
        .iter()
        .copied()
        .filter(|k| !managed.contains(*k))
        .collect();
    if rest.is_empty() {
        return Ok(out);
    }
    // A workspace that does not know one of the keys refuses the whole
    // read: then each is read alone, and the ones it refuses left out.
    let values = match conf.get(client, &rest.join(",")).await {
        Ok(read) => read.map(|o| o.raw),
        Err(crate::databricks::Error::InvalidParameter(_)) => {
            let mut one_by_one = serde_json::Map::new();
            for key in &rest {
                match conf.get(client, key).await {
                    Ok(Some(o)) => {
                        one_by_one.extend(o.raw.as_object().cloned().unwrap_or_default())
                    }
                    Ok(None) | Err(crate::databricks::Error::InvalidParameter(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Some(Value::Object(one_by_one))
        }
        Err(e) => return Err(e),
    };
    // Sorted, as the kind names settings (its id is their keys, joined).
    let set: BTreeMap<String, Value> = values
        .as_ref()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !set.is_empty() {
        let id = set.keys().cloned().collect::<Vec<_>>().join(",");
        out.push(Found {
            kind: Kind::WorkspaceConf,
            object: ListedObject {
                id,
                name: "workspace-settings".into(),
                owner: None,
                raw: Value::Object(set.into_iter().collect()),
            },
        });
    }
    Ok(out)
}

/// What one chosen object's manifest needs beyond the list.
async fn details(client: &Client, mut c: Chosen) -> Result<(Chosen, Details), ImportError> {
    let adapter: &'static dyn KindAdapter = adapter(c.kind).expect("chosen kinds have adapters");
    let failed = |what: &'static str, c: &Chosen| {
        let (workspace, kind, name) = (client.name().to_string(), c.kind, c.object.name.clone());
        move |source| ImportError::Read {
            workspace,
            kind,
            name,
            what,
            source,
        }
    };
    // Read whole what the list leaves fields out of (a job's `run_as`), and
    // a notebook's or file's content.
    if !adapter.fields_not_listed().is_empty() || adapter.workspace_object_type().is_some() {
        let whole = adapter
            .get(client, &c.object.id)
            .await
            .map_err(failed("the object", &c))?;
        if let Some(whole) = whole {
            c.object = ListedObject {
                owner: c.object.owner.take(),
                ..whole
            };
        }
    }
    let mut d = Details::default();
    if adapter.has_acl() {
        d.permissions = acl_entries(adapter, client, &c.object.id)
            .await
            .map_err(failed("the permissions", &c))?;
    }
    if adapter.holds_secrets() {
        d.secret_keys = adapter
            .secret_keys(client, &c.object.id)
            .await
            .map_err(failed("the secret keys", &c))?
            .into_iter()
            .collect();
    }
    Ok((c, d))
}
