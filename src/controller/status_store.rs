//! The persisted controller status: one JSON file in the state directory,
//! replaced atomically (temp file in the same directory, fsync, rename,
//! directory fsync) so a crash leaves the old or the new snapshot, never a
//! torn one. `mortar status` reads it without a server or a workspace call;
//! the controller loads it on start so notifications do not repeat.
//!
//! In a cluster, where apps move between replicas, each app's status is
//! also kept where the next owner finds it ([`SharedStatus`]).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::apply::inventory::InventoryError;
use crate::model::{AppStatus, ControllerStatus};

/// The status file's path in the state directory: in a directory of its
/// own, apart from the apps' inventory files (`<state.dir>/<app>.json`),
/// which are listed to find apps that left Git.
pub const STATUS_FILE: &str = "controller/status.json";

/// The version of the status file format.
pub const STATUS_VERSION: u32 = 1;

/// What can go wrong reading or writing the status file.
#[derive(Debug, thiserror::Error)]
pub enum StatusStoreError {
    #[error("status file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "status file {} is corrupt; move it aside (the controller writes a new one on its next loop)",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("status file {} has format_version {found}; this Mortar reads version {STATUS_VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("cannot serialize the controller status")]
    Serialize(#[source] serde_json::Error),
}

impl StatusStoreError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            StatusStoreError::Io { .. } => "io",
            StatusStoreError::Corrupt { .. } => "corrupt",
            StatusStoreError::Version { .. } => "version",
            StatusStoreError::Serialize(_) => "serialize",
        }
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    format_version: u32,
    status: &'a ControllerStatus,
}

#[derive(Deserialize)]
struct Versioned {
    format_version: u32,
}

#[derive(Deserialize)]
struct FileIn {
    status: ControllerStatus,
}

/// Each app's last published status, kept beside its inventory where every
/// replica can reach it. Writes fail with [`InventoryError::Conflict`]
/// rather than overwrite what another replica wrote since.
pub trait SharedStatus: Send + Sync + std::fmt::Debug {
    /// `app`'s status as last kept, read afresh; `None` when none was.
    fn load_status(&self, app: &str) -> Result<Option<AppStatus>, InventoryError>;
    /// Keeps `status` as its app's (nothing is written when it is unchanged).
    fn save_status(&self, status: &AppStatus) -> Result<(), InventoryError>;
}

/// Where the controller status is kept: `<state.dir>/controller/status.json`.
#[derive(Debug, Clone)]
pub struct StatusStore {
    path: PathBuf,
}

impl StatusStore {
    /// A store in the state directory `state_dir` (created on the first save).
    pub fn new(state_dir: impl Into<PathBuf>) -> StatusStore {
        StatusStore {
            path: state_dir.into().join(STATUS_FILE),
        }
    }

    /// The status file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last saved status; `None` when none was saved yet.
    pub fn load(&self) -> Result<Option<ControllerStatus>, StatusStoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StatusStoreError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |source| StatusStoreError::Corrupt {
            path: self.path.clone(),
            source,
        };
        let version: Versioned = serde_json::from_slice(&bytes).map_err(corrupt)?;
        if version.format_version != STATUS_VERSION {
            return Err(StatusStoreError::Version {
                path: self.path.clone(),
                found: version.format_version,
            });
        }
        let file: FileIn = serde_json::from_slice(&bytes).map_err(corrupt)?;
        Ok(Some(file.status))
    }

    /// Replaces the status file atomically and durably.
    pub fn save(&self, status: &ControllerStatus) -> Result<(), StatusStoreError> {
        let mut body = serde_json::to_vec_pretty(&FileOut {
            format_version: STATUS_VERSION,
            status,
        })
        .map_err(StatusStoreError::Serialize)?;
        body.push(b'\n');
        crate::durable::replace(&self.path, &body).map_err(|e| StatusStoreError::Io {
            path: e.path,
            source: e.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::inventory::InventoryStore;
    use crate::model::{AppStatus, Health, SyncStatus};

    fn sample() -> ControllerStatus {
        let mut app = AppStatus::unknown("status");
        app.sync = SyncStatus::Synced;
        app.health = Health::Healthy;
        app.revision_applied = Some("a".repeat(40));
        ControllerStatus {
            apps: vec![app],
            updated: Some(jiff::Timestamp::UNIX_EPOCH),
            ..ControllerStatus::default()
        }
    }

    #[test]
    fn saves_and_loads_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = StatusStore::new(dir.path().join("state"));
        assert_eq!(store.load().unwrap(), None);
        let status = sample();
        store.save(&status).unwrap();
        store.save(&status).unwrap();
        assert_eq!(store.load().unwrap(), Some(status));
        let names: Vec<_> = fs::read_dir(dir.path().join("state/controller"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("status.json")]);
        // Nothing beside the inventories that could be read as one.
        let top: Vec<_> = fs::read_dir(dir.path().join("state"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(top, vec![std::ffi::OsString::from("controller")]);
    }

    #[test]
    fn an_app_named_status_keeps_its_own_inventory_file() {
        let dir = tempfile::tempdir().unwrap();
        let inventories = InventoryStore::new(dir.path());
        let store = StatusStore::new(dir.path());
        assert_ne!(inventories.path_for("status").unwrap(), store.path());
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = StatusStore::new(dir.path());
        fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        fs::write(
            store.path(),
            b"{\"format_version\": 1, \"status\": {\"apps\": [",
        )
        .unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.metric_label(), "corrupt");
        assert!(err.to_string().contains(STATUS_FILE), "{err}");
        fs::write(store.path(), b"{\"format_version\": 7, \"status\": {}}").unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.metric_label(), "version");
        assert!(err.to_string().contains("format_version 7"), "{err}");
    }
}
