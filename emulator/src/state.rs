//! The store of the emulated workspace (the [`Workspace`] of `model`): one
//! in-memory model behind a short-lived lock (never held across an await),
//! optionally persisted to a state file with atomic writes (temp file + fsync
//! + rename) and group commit, so an acknowledged write survives `kill -9`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::errors::{ApiError, EmulatorError};
use crate::model::Workspace;

/// Where the persister stands: the last generation on disk, or why it failed.
#[derive(Debug, Clone)]
enum Persisted {
    Upto(u64),
    Failed(String),
}

struct Persist {
    path: PathBuf,
    wake: Notify,
    done: watch::Sender<Persisted>,
}

/// The workspace behind a lock, plus optional durability.
pub struct Store {
    ws: RwLock<Workspace>,
    generation: AtomicU64,
    persist: Option<Arc<Persist>>,
}

impl Store {
    /// An in-memory store.
    pub fn memory(ws: Workspace) -> Self {
        Store {
            ws: RwLock::new(ws),
            generation: AtomicU64::new(0),
            persist: None,
        }
    }

    /// A store backed by `path`: loads it when present, else starts empty.
    /// Temp files left by a write that was killed are removed.
    pub fn open(path: &Path) -> Result<(Self, Workspace), EmulatorError> {
        remove_stale_temps(path);
        let ws = load(path)?;
        let (done, _) = watch::channel(Persisted::Upto(0));
        let store = Store {
            ws: RwLock::new(Workspace::default()),
            generation: AtomicU64::new(0),
            persist: Some(Arc::new(Persist {
                path: path.to_owned(),
                wake: Notify::new(),
                done,
            })),
        };
        Ok((store, ws))
    }

    /// Replaces the whole workspace (used at start, on reset and restore).
    pub fn replace(&self, mut ws: Workspace) {
        ws.reindex();
        *self.ws.write().unwrap_or_else(|e| e.into_inner()) = ws;
        self.bump();
    }

    /// Runs `f` with shared access.
    pub fn read<R>(&self, f: impl FnOnce(&Workspace) -> R) -> R {
        let guard = self.ws.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Runs `f` with exclusive access; a successful result marks the state
    /// dirty for the persister. `f` must validate before it mutates.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut Workspace) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let result = {
            let mut guard = self.ws.write().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        };
        if result.is_ok() {
            self.bump();
        }
        result
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(persist) = &self.persist {
            persist.wake.notify_one();
        }
    }

    /// Whether a state file backs this store.
    pub fn is_durable(&self) -> bool {
        self.persist.is_some()
    }

    /// Waits until everything written so far is on disk.
    pub async fn durable(&self) -> Result<(), ApiError> {
        let Some(persist) = &self.persist else {
            return Ok(());
        };
        let target = self.generation.load(Ordering::SeqCst);
        let mut rx = persist.done.subscribe();
        loop {
            match &*rx.borrow_and_update() {
                Persisted::Upto(done) if *done >= target => return Ok(()),
                Persisted::Upto(_) => {}
                Persisted::Failed(message) => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "INTERNAL_ERROR",
                        format!("cannot persist emulator state: {message}"),
                    ));
                }
            }
            if rx.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    /// Serializes the whole workspace as JSON.
    pub fn snapshot(&self) -> Value {
        self.read(|ws| serde_json::to_value(ws).unwrap_or(Value::Null))
    }

    /// Starts the background persister (group commit) when a state file is
    /// set; it stops when `stop` is cancelled (after its current write).
    pub fn spawn_persister(self: &Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let Some(persist) = self.persist.clone() else {
            return;
        };
        let store = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                // Pending changes are written before a stop is honoured.
                tokio::select! {
                    biased;
                    _ = persist.wake.notified() => {}
                    _ = stop.cancelled() => return,
                }
                let generation = store.generation.load(Ordering::SeqCst);
                let bytes = store.read(serde_json::to_vec);
                let bytes = match bytes {
                    Ok(bytes) => bytes,
                    Err(err) => {
                        persist
                            .done
                            .send_replace(Persisted::Failed(err.to_string()));
                        continue;
                    }
                };
                let path = persist.path.clone();
                let written =
                    tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
                match written {
                    Ok(Ok(())) => {
                        persist.done.send_replace(Persisted::Upto(generation));
                    }
                    Ok(Err(err)) => {
                        tracing::error!(error = %err, "cannot persist emulator state");
                        persist
                            .done
                            .send_replace(Persisted::Failed(err.to_string()));
                    }
                    Err(err) => {
                        persist
                            .done
                            .send_replace(Persisted::Failed(err.to_string()));
                    }
                }
            }
        });
    }
}

/// Removes `.<name>.tmp-*` files next to `path` (a killed write's leftovers;
/// the state file itself is always whole).
fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Loads a state file; a missing file is an empty workspace.
fn load(path: &Path) -> Result<Workspace, EmulatorError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice::<Workspace>(&bytes).map_err(|err| EmulatorError::StateLoad {
                path: path.to_owned(),
                message: err.to_string(),
            })
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Workspace::default()),
        Err(err) => Err(EmulatorError::StateLoad {
            path: path.to_owned(),
            message: err.to_string(),
        }),
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory is
/// written and fsynced, renamed over `path`, then the directory is fsynced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EmulatorError> {
    let wrap = |source| EmulatorError::StateWrite {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp).map_err(wrap)?;
        file.write_all(bytes).map_err(wrap)?;
        file.sync_all().map_err(wrap)?;
    }
    std::fs::rename(&tmp, path).map_err(wrap)?;
    if let Ok(dir) = std::fs::File::open(&dir) {
        // Directory fsync makes the rename durable; not all platforms allow it.
        let _ = dir.sync_all();
    }
    Ok(())
}
