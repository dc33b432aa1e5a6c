//! The inventory: per app, the keys Mortar manages with their Databricks id,
//! last-applied spec and permissions, revision and ownership. By default one
//! JSON file per app under a directory, replaced atomically (temp file,
//! fsync, rename, directory fsync) after every change, so a crash leaves
//! either the old or the new file, never a torn one. Where several replicas
//! share the apps the store is a [`SharedState`] instead (the cluster's),
//! which also keeps the write-ahead markers of creates in flight, since the
//! replica that recovers them is not the one whose audit trail holds their
//! intent. Secret values are masked before they are stored.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::ResourceKey;
use crate::plan::{ManagedResource, mask};

/// The version of the inventory file format.
pub const INVENTORY_VERSION: u32 = 1;

/// What can go wrong reading or writing the inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("inventory {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "inventory file {} is corrupt; restore it from a backup or move it aside \
         (Mortar then treats the app's objects as unmanaged and reports them as conflicts)",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("inventory file {} has format_version {found}; this Mortar reads version {INVENTORY_VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("inventory file {} belongs to app `{found}`, not `{expected}`", path.display())]
    WrongApp {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("`{app}` cannot name an inventory file: use letters, digits, `-`, `_` and `.`")]
    BadAppName { app: String },
    #[error("cannot serialize the inventory of app `{app}`")]
    Serialize {
        app: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot {what} the state of app `{app}` in {store}")]
    Shared {
        app: String,
        what: &'static str,
        store: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "the state of app `{app}` in {store} was changed by someone else since it was read \
         (another replica holds the app now); nothing was overwritten"
    )]
    Conflict { app: String, store: String },
}

impl InventoryError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            InventoryError::Io { .. } => "io",
            InventoryError::Corrupt { .. } => "corrupt",
            InventoryError::Version { .. } => "version",
            InventoryError::WrongApp { .. } => "wrong_app",
            InventoryError::BadAppName { .. } => "bad_app_name",
            InventoryError::Serialize { .. } => "serialize",
            InventoryError::Shared { .. } => "shared_state",
            InventoryError::Conflict { .. } => "conflict",
        }
    }
}

pub use crate::model::Inventory;

/// The file's shape: a sorted list, since JSON object keys must be strings.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    format_version: u32,
    app: String,
    resources: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    key: ResourceKey,
    id: String,
    spec: serde_json::Value,
    #[serde(default)]
    permissions: Vec<crate::model::PermissionEntry>,
    #[serde(default)]
    revision: Option<String>,
    ownership: crate::plan::Ownership,
}

/// Inventories kept somewhere several replicas can reach, with the
/// write-ahead markers of creates in flight. Every write must fail with
/// [`InventoryError::Conflict`] rather than overwrite a change it has not
/// read.
pub trait SharedState: Send + Sync + std::fmt::Debug {
    /// `app`'s inventory (empty when it has none) and the keys of the
    /// creates marked in flight for it.
    fn load(&self, app: &str) -> Result<(Inventory, BTreeSet<ResourceKey>), InventoryError>;
    /// Replaces `inventory.app`'s inventory; markers of keys it now holds
    /// are dropped.
    fn save(&self, inventory: &Inventory) -> Result<(), InventoryError>;
    /// Marks a create of `key` as about to be sent, before it is.
    fn intend_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError>;
    /// Drops the marker of a create that failed (nothing was made).
    fn forget_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError>;
    /// Every app with state kept.
    fn apps(&self) -> Result<Vec<String>, InventoryError>;
}

/// Where inventories are kept: a directory of files, `<dir>/<app>.json`,
/// or a [`SharedState`].
#[derive(Debug, Clone)]
pub struct InventoryStore {
    dir: PathBuf,
    shared: Option<Arc<dyn SharedState>>,
}

impl InventoryStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> InventoryStore {
        InventoryStore {
            dir: dir.into(),
            shared: None,
        }
    }

    /// A store kept in `shared` instead of files.
    pub fn shared(shared: Arc<dyn SharedState>) -> InventoryStore {
        InventoryStore {
            dir: PathBuf::new(),
            shared: Some(shared),
        }
    }

    /// The file holding `app`'s inventory.
    pub fn path_for(&self, app: &str) -> Result<PathBuf, InventoryError> {
        checked(app)?;
        Ok(self.dir.join(format!("{app}.json")))
    }

    /// Loads `app`'s inventory; a missing file is an empty inventory.
    pub fn load(&self, app: &str) -> Result<Inventory, InventoryError> {
        Ok(self.load_with_markers(app)?.0)
    }

    /// Loads `app`'s inventory and the keys of the creates marked in flight
    /// for it (always none for files: their intents are in the audit trail).
    pub fn load_with_markers(
        &self,
        app: &str,
    ) -> Result<(Inventory, BTreeSet<ResourceKey>), InventoryError> {
        if let Some(shared) = &self.shared {
            checked(app)?;
            return shared.load(app);
        }
        let path = self.path_for(app)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Inventory::new(app), BTreeSet::new()));
            }
            Err(source) => return Err(InventoryError::Io { path, source }),
        };
        Ok((decode(&bytes, app, &path)?, BTreeSet::new()))
    }

    /// Replaces `inventory.app`'s inventory atomically and durably.
    pub fn save(&self, inventory: &Inventory) -> Result<(), InventoryError> {
        if let Some(shared) = &self.shared {
            return shared.save(inventory);
        }
        let path = self.path_for(&inventory.app)?;
        let body = encode(inventory)?;
        crate::durable::replace(&path, &body).map_err(|e| InventoryError::Io {
            path: e.path,
            source: e.source,
        })
    }

    /// Before a create of a kind that carries no ownership tag: marks it in
    /// flight where another replica would look. Files need no marker (the
    /// audit trail's intent is read instead).
    pub fn intend_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError> {
        match &self.shared {
            Some(shared) => shared.intend_create(app, key),
            None => Ok(()),
        }
    }

    /// After a create that failed: drops its marker.
    pub fn forget_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError> {
        match &self.shared {
            Some(shared) => shared.forget_create(app, key),
            None => Ok(()),
        }
    }

    /// The apps with an inventory in the store.
    pub fn apps(&self) -> Result<Vec<String>, InventoryError> {
        if let Some(shared) = &self.shared {
            return shared.apps();
        }
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(InventoryError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.strip_suffix(".json")?.to_string();
                valid_app_name(&name).then_some(name)
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

fn checked(app: &str) -> Result<(), InventoryError> {
    if valid_app_name(app) {
        Ok(())
    } else {
        Err(InventoryError::BadAppName {
            app: app.to_string(),
        })
    }
}

/// Whether `app` can name an inventory (a file, a Kubernetes object).
pub fn valid_app_name(app: &str) -> bool {
    !app.is_empty()
        && !app.starts_with('.')
        && app
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The inventory as stored: pretty JSON with a trailing newline, secret
/// values masked.
pub fn encode(inventory: &Inventory) -> Result<Vec<u8>, InventoryError> {
    let file = InventoryFile {
        format_version: INVENTORY_VERSION,
        app: inventory.app.clone(),
        resources: inventory
            .resources
            .iter()
            .map(|(k, r)| Entry {
                key: k.clone(),
                id: r.id.clone(),
                spec: mask::mask_value(&r.spec),
                permissions: r.permissions.clone(),
                revision: r.revision.clone(),
                ownership: r.ownership,
            })
            .collect(),
    };
    let mut body =
        serde_json::to_vec_pretty(&file).map_err(|source| InventoryError::Serialize {
            app: inventory.app.clone(),
            source,
        })?;
    body.push(b'\n');
    Ok(body)
}

/// Reads a stored inventory of `app`; `origin` names where it came from in
/// errors.
pub fn decode(bytes: &[u8], app: &str, origin: &Path) -> Result<Inventory, InventoryError> {
    let path = origin.to_path_buf();
    let file: InventoryFile =
        serde_json::from_slice(bytes).map_err(|source| InventoryError::Corrupt {
            path: path.clone(),
            source,
        })?;
    if file.format_version != INVENTORY_VERSION {
        return Err(InventoryError::Version {
            path,
            found: file.format_version,
        });
    }
    if file.app != app {
        return Err(InventoryError::WrongApp {
            path,
            expected: app.to_string(),
            found: file.app,
        });
    }
    Ok(Inventory {
        app: file.app,
        resources: file
            .resources
            .into_iter()
            .map(|e| {
                let resource = ManagedResource {
                    id: e.id,
                    spec: e.spec,
                    permissions: e.permissions,
                    revision: e.revision,
                    ownership: e.ownership,
                };
                (e.key, resource)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, PermissionEntry, Principal};
    use crate::plan::Ownership;
    use serde_json::json;

    fn key(name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "prod".into(),
            kind: Kind::Job,
            name: name.into(),
        }
    }

    fn managed(id: &str) -> ManagedResource {
        ManagedResource {
            id: id.into(),
            spec: json!({"name": "x", "existing_cluster_id": "${resources.clusters.c.id}"}),
            permissions: vec![PermissionEntry {
                principal: Principal::GroupName("analysts".into()),
                permission_level: "CAN_VIEW".into(),
            }],
            revision: Some("abc123".into()),
            ownership: Ownership::Created,
        }
    }

    #[test]
    fn missing_file_is_empty_and_saves_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = InventoryStore::new(dir.path().join("inventory"));
        let mut inv = store.load("analytics").unwrap();
        assert!(inv.resources.is_empty());
        inv.upsert(key("a"), managed("1"));
        inv.upsert(key("b"), managed("2"));
        store.save(&inv).unwrap();
        assert_eq!(store.load("analytics").unwrap(), inv);
        inv.remove(&key("a"));
        store.save(&inv).unwrap();
        let back = store.load("analytics").unwrap();
        assert_eq!(back.resources.len(), 1);
        assert_eq!(back.get(&key("b")).unwrap().id, "2");
        assert_eq!(store.apps().unwrap(), vec!["analytics".to_string()]);
        let leftovers: Vec<_> = fs::read_dir(&store.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("analytics.json")]);
    }

    #[test]
    fn secrets_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = InventoryStore::new(dir.path());
        let mut inv = Inventory::new("ops");
        let mut m = managed("1");
        m.spec = json!({"scope": "s", "key": "k", "string_value": "hunter2"});
        inv.upsert(key("secret"), m);
        store.save(&inv).unwrap();
        let text = fs::read_to_string(store.path_for("ops").unwrap()).unwrap();
        assert!(!text.contains("hunter2"));
        assert!(text.contains("string_value"));
        assert!(!format!("{inv:?}").contains("hunter2"));
    }

    #[test]
    fn corrupt_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = InventoryStore::new(dir.path());
        let path = store.path_for("ops").unwrap();
        fs::write(
            &path,
            b"{\"format_version\": 1, \"app\": \"ops\", \"resources\": [",
        )
        .unwrap();
        let err = store.load("ops").unwrap_err();
        assert!(matches!(err, InventoryError::Corrupt { .. }));
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn app_names_cannot_escape_the_directory() {
        let store = InventoryStore::new("/tmp/x");
        for bad in ["", "..", "../etc", "a/b"] {
            assert!(matches!(
                store.path_for(bad),
                Err(InventoryError::BadAppName { .. })
            ));
        }
    }
}
