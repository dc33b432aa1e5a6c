//! Sync requests for a running controller (`mortar sync --app NAME` while
//! the controller holds the state directory): one file per app under the
//! state directory, taken (read and removed) by the controller within
//! seconds. Asking twice before it looks is one request.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where requests wait in the state directory.
pub const REQUESTS_DIR: &str = "controller/requests";

/// One request to sync an app now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub app: String,
    /// Who asked.
    pub by: String,
    pub at: jiff::Timestamp,
}

/// Why a request could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the sync request {path}")]
pub struct RequestError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

impl RequestError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        "io"
    }
}

/// The requests directory of one state directory.
#[derive(Debug, Clone)]
pub struct RequestStore {
    dir: PathBuf,
}

impl RequestStore {
    pub fn new(state_dir: &Path) -> RequestStore {
        RequestStore {
            dir: state_dir.join(REQUESTS_DIR),
        }
    }

    /// Asks the controller to sync `app`.
    pub fn submit(&self, request: &SyncRequest) -> Result<(), RequestError> {
        let path = self
            .dir
            .join(format!("{}.json", hex::encode(request.app.as_bytes())));
        let body = serde_json::to_vec(request).map_err(|e| RequestError {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        crate::durable::replace(&path, &body).map_err(|e| RequestError {
            path: e.path,
            source: e.source,
        })
    }

    /// Takes every waiting request (removing it). Unreadable files are
    /// removed and reported in the log, never retried forever.
    pub fn take(&self) -> Vec<SyncRequest> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let read = fs::read(&path);
            let _ = fs::remove_file(&path);
            match read.map(|b| serde_json::from_slice::<SyncRequest>(&b)) {
                Ok(Ok(request)) => out.push(request),
                Ok(Err(e)) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignored an unreadable sync request")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignored an unreadable sync request")
                }
            }
        }
        out.sort_by(|a, b| a.app.cmp(&b.app));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_taken_once_and_repeats_collapse() {
        let dir = tempfile::tempdir().unwrap();
        let store = RequestStore::new(dir.path());
        assert!(store.take().is_empty());
        let ask = |app: &str| SyncRequest {
            app: app.into(),
            by: "ana".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        store.submit(&ask("team/../x")).unwrap();
        store.submit(&ask("base")).unwrap();
        store.submit(&ask("base")).unwrap();
        let taken: Vec<String> = store.take().into_iter().map(|r| r.app).collect();
        assert_eq!(taken, vec!["base", "team/../x"]);
        assert!(store.take().is_empty());
    }
}
