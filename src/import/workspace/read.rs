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
    let list_error = |kind: Kind| {
        let workspace = workspace.clone();
        move |source| ImportError::List {
            workspace,
            kind,
            source,
        }
    };
    let mut found = Vec::new();
    let mut unmapped = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|k| options.wants(*k)) {
        let Some(adapter) = adapter(kind) else {
            continue;
        };
        if let Some(objects) = adapter.list_all(client).await.map_err(list_error(kind))? {
            found.extend(objects.into_iter().map(|object| Found { kind, object }));
        }
    }
    // Workspace objects: the folders `--path` names, walked.
    let tree_kinds: Vec<(&'static str, Kind)> = Kind::ALL
        .into_iter()
        .filter_map(|k| Some((kinds::spec(k)?.workspace_object_type()?, k)))
        .collect();
    if tree_kinds.iter().any(|(_, k)| options.wants(*k)) {
        if options.paths.is_empty() && options.kinds.is_some() {
            unmapped.push(
                "notebooks, files and directories: name the folders to import with --path".into(),
            );
        }
        for root in &options.paths {
            let entries = workspace_objects::list_tree(client, root)
                .await
                .map_err(list_error(Kind::Directory))?;
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
    }
    // Settings have no list: the documented ones are read, those an app
    // manages apart from the rest.
    if options.wants(Kind::WorkspaceConf) {
        found.extend(
            settings(client, owners)
                .await
                .map_err(list_error(Kind::WorkspaceConf))?,
        );
    }

    let mut selection = select(&workspace, found, owners, options);
    // The grants on the catalogs and schemas chosen.
    if options.wants(Kind::Grants)
        && let Some(grants) = adapter(Kind::Grants)
    {
        let mut found = Vec::new();
        for c in &selection.chosen {
            let Some(securable) = kinds::spec(c.kind).and_then(|s| s.grants_securable()) else {
                continue;
            };
            let id = format!("{securable}/{}", c.object.id);
            if let Some(object) = grants
                .get(client, &id)
                .await
                .map_err(list_error(Kind::Grants))?
            {
                found.push(Found {
                    kind: Kind::Grants,
                    object,
                });
            }
        }
        let more = select(&workspace, found, owners, options);
        selection.chosen.extend(more.chosen);
        selection.skipped.extend(more.skipped);
        selection.passed_over += more.passed_over;
    }

    let read: Vec<(Chosen, Details)> = stream::iter(selection.chosen.drain(..))
        .map(|c| details(client, c))
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut by_key = BTreeMap::new();
    for (c, d) in read {
        by_key.insert((c.kind, c.key.clone()), d);
        selection.chosen.push(c);
    }
    let resources = convert(&selection, &by_key, &options.app);
    Ok(WorkspaceImport {
        workspace,
        resources,
        skipped: selection.skipped,
        passed_over: selection.passed_over,
        unmapped,
    })
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
    let Some(read) = conf.get(client, &rest.join(",")).await? else {
        return Ok(out);
    };
    let set: serde_json::Map<String, Value> = read
        .raw
        .as_object()
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
                raw: Value::Object(set),
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
