//! Observe: read what each destination workspace really holds, for the keys
//! that matter to a plan.
//!
//! For every workspace and kind, one paged list through the kind's adapter
//! (concurrently across workspaces and kinds) keeps the objects that carry
//! Mortar's ownership tags or whose name desired state or the inventory
//! names; objects are then matched to keys (ownership tag, then inventory id,
//! then name), normalized by the adapter, and — for kinds with ACLs whose
//! permissions Mortar manages — their direct ACL is read. The result is the
//! planner's [`LiveState`], plus the application ids of service principals
//! (for `${resources.service_principals.<name>.application_id}`).

mod matching;
mod wants;

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::databricks::{Client, KindAdapter, ListedObject, adapter};
use crate::model::{Kind, LiveObject, LiveState, PermissionEntry, ResourceKey, Unmatched};

pub use wants::{Wanted, Wants};

/// Reads (single objects, ACLs) in flight at once per workspace and kind
/// (the client bounds requests too).
const READS_IN_FLIGHT: usize = 16;

/// Why live state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error(
        "workspace `{workspace}` is not configured in the config file's `workspaces:` section (needed by {key})"
    )]
    UnknownWorkspace { workspace: String, key: String },
    #[error("workspace `{workspace}`: listing {kind} objects")]
    List {
        workspace: String,
        kind: Kind,
        #[source]
        source: crate::databricks::Error,
    },
    #[error("{key}: reading {what}")]
    Read {
        key: ResourceKey,
        what: &'static str,
        #[source]
        source: crate::databricks::Error,
    },
}

impl ObserveError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ObserveError::UnknownWorkspace { .. } => "unknown_workspace",
            ObserveError::List { .. } => "list",
            ObserveError::Read { .. } => "read",
        }
    }
}

/// What observing found.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Live objects by key, normalized, with their direct ACL.
    pub live: LiveState,
    /// Service principals' application ids, by key.
    pub application_ids: BTreeMap<ResourceKey, String>,
    /// Keys no object was taken for although one may exist, and why.
    pub unmatched: BTreeMap<ResourceKey, Unmatched>,
}

/// Observes every workspace named in `wants` with the client of that name.
pub async fn observe(
    clients: &BTreeMap<String, Client>,
    wants: &Wants,
) -> Result<Observed, ObserveError> {
    for (workspace, kinds) in &wants.by_workspace {
        if !clients.contains_key(workspace) {
            let key = kinds
                .values()
                .flat_map(|w| w.keys.keys())
                .next()
                .map(ToString::to_string)
                .unwrap_or_else(|| workspace.clone());
            return Err(ObserveError::UnknownWorkspace {
                workspace: workspace.clone(),
                key,
            });
        }
    }
    let jobs = wants.by_workspace.iter().flat_map(|(workspace, kinds)| {
        kinds.iter().filter_map(move |(kind, wanted)| {
            let client = clients.get(workspace)?;
            let adapter = adapter(*kind)?;
            Some(observe_kind(client, adapter, wanted))
        })
    });
    let parts: Vec<Observed> = stream::iter(jobs)
        .buffer_unordered(64)
        .try_collect()
        .await?;
    let mut out = Observed::default();
    for part in parts {
        out.live.extend(part.live);
        out.application_ids.extend(part.application_ids);
        out.unmatched.extend(part.unmatched);
    }
    Ok(out)
}

async fn observe_kind(
    client: &Client,
    adapter: &'static dyn KindAdapter,
    wanted: &Wanted,
) -> Result<Observed, ObserveError> {
    let kind = adapter.kind();
    let listed = adapter
        .list(client, &wanted.names)
        .await
        .map_err(|source| ObserveError::List {
            workspace: client.name().to_string(),
            kind,
            source,
        })?;
    let mut matched = matching::match_objects(client.name(), kind, wanted, listed);
    // Inventory entries the list did not return (renamed by hand, or a
    // kind listed by name only): one GET each.
    for (key, id) in &matched.missing_ids {
        let found = adapter
            .get(client, id)
            .await
            .map_err(|source| ObserveError::Read {
                key: key.clone(),
                what: "the object",
                source,
            })?;
        if let Some(obj) = found {
            matched.objects.insert(key.clone(), obj);
        }
    }
    // Adopt ids the list did not return: one GET each. An id the workspace
    // refuses (malformed) names nothing, like one it does not know: that
    // key's conflict, not a failed plan.
    let mut adopted = Vec::new();
    for (key, id) in std::mem::take(&mut matched.adopt_reads) {
        let found = match adapter.get(client, &id).await {
            Ok(found) => found,
            Err(crate::databricks::Error::InvalidParameter(_)) => None,
            Err(source) => {
                return Err(ObserveError::Read {
                    key,
                    what: "the object its adopt id names",
                    source,
                });
            }
        };
        adopted.push((key, id, found));
    }
    matching::settle_adopt_reads(&mut matched, adopted);
    // Each object is normalized as soon as it is in hand, so a workspace's
    // raw API bodies are never all held at once: a drift check of thousands
    // of objects keeps only their normalized specs.
    let mut out = Observed {
        unmatched: std::mem::take(&mut matched.unmatched),
        ..Observed::default()
    };
    let mut full = Vec::new();
    for (key, obj) in std::mem::take(&mut matched.objects) {
        if wanted.keys.get(&key).is_some_and(|h| h.full_read) {
            full.push((key, obj.id));
        } else {
            out.take(adapter, key, obj);
        }
    }
    let whole = read_each(full, "the object", |id| async move {
        let read = adapter.get(client, &id).await?;
        Ok(read.map(|obj| Normalized::of(adapter, obj)))
    })
    .await?;
    for (key, read) in whole {
        if let Some(n) = read {
            out.insert(key, n);
        }
    }
    if adapter.has_acl() {
        let acl_keys: Vec<(ResourceKey, String)> = out
            .live
            .iter()
            .filter(|(key, _)| wanted.acl_keys.contains(*key))
            .map(|(key, obj)| (key.clone(), obj.id.clone()))
            .collect();
        let acls = read_each(acl_keys, "permissions", |id| async move {
            acl_entries(adapter, client, &id).await
        })
        .await?;
        for (key, entries) in acls {
            if let Some(live) = out.live.get_mut(&key) {
                live.permissions = entries;
            }
        }
    }
    Ok(out)
}

/// An object's direct ACL as a manifest's `permissions:` compare with it:
/// sorted, with the owner as an `IS_OWNER` entry where the kind declares
/// owners.
pub async fn acl_entries(
    adapter: &'static dyn KindAdapter,
    client: &Client,
    id: &str,
) -> Result<Vec<PermissionEntry>, crate::databricks::Error> {
    let acl = adapter.read_permissions(client, id).await?;
    let mut entries = acl.entries;
    if let Some(owner) = acl.owner.filter(|_| adapter.owner_in_acl()) {
        entries.push(PermissionEntry {
            principal: owner,
            permission_level: "IS_OWNER".to_string(),
        });
        entries.sort();
    }
    Ok(entries)
}

/// One object normalized by its adapter, with the service principal's
/// application id when it is one.
struct Normalized {
    live: LiveObject,
    application_id: Option<String>,
}

impl Normalized {
    fn of(adapter: &'static dyn KindAdapter, obj: ListedObject) -> Normalized {
        Normalized {
            application_id: adapter.application_id(&obj.raw),
            live: LiveObject {
                spec: adapter.normalize(&obj.raw),
                id: obj.id,
                permissions: Vec::new(),
                managed_by: obj.owner.map(|o| o.app),
            },
        }
    }
}

impl Observed {
    fn take(&mut self, adapter: &'static dyn KindAdapter, key: ResourceKey, obj: ListedObject) {
        self.insert(key, Normalized::of(adapter, obj));
    }

    fn insert(&mut self, key: ResourceKey, n: Normalized) {
        if let Some(app_id) = n.application_id {
            self.application_ids.insert(key.clone(), app_id);
        }
        self.live.insert(key, n.live);
    }
}

/// Runs `read` for each `(key, id)`, a bounded number at once; the first
/// failure names its key and `what` was being read.
async fn read_each<T, F, Fut>(
    items: Vec<(ResourceKey, String)>,
    what: &'static str,
    read: F,
) -> Result<Vec<(ResourceKey, T)>, ObserveError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::databricks::Error>>,
{
    stream::iter(items)
        .map(|(key, id)| {
            let call = read(id);
            async move {
                call.await
                    .map(|value| (key.clone(), value))
                    .map_err(|source| ObserveError::Read { key, what, source })
            }
        })
        .buffer_unordered(READS_IN_FLIGHT)
        .try_collect()
        .await
}
