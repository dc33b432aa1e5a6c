//! Requests for a running controller — sync an app now, or compare it
//! with its workspaces now — from `mortar sync --app NAME` while the
//! controller holds the state directory, or from the HTTP API: one file per
//! app and request under the state directory, taken (read and removed) by
//! the controller within seconds. Asking twice before it looks is one
//! request.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::Trigger;

/// Where requests wait in the state directory.
pub const REQUESTS_DIR: &str = "controller/requests";

/// What is asked of the controller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// Apply the app's revision now, whatever its sync policy.
    #[default]
    Sync,
    /// Compare the app with its workspaces now (a drift check; healed only
    /// when the app's policy heals).
    Refresh,
    /// Plan the app now and apply nothing (a dry run of a sync).
    DryRun,
}

impl Ask {
    fn label(self) -> &'static str {
        match self {
            Ask::Sync => "sync",
            Ask::Refresh => "refresh",
            Ask::DryRun => "dry-run",
        }
    }
}

/// One request about one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRequest {
    pub app: String,
    #[serde(default)]
    pub ask: Ask,
    /// A sync that also deletes what left Git, whatever the app's policy.
    #[serde(default)]
    pub prune: bool,
    /// Who asked: a person at the CLI, or a caller of the API. The sync's
    /// audit records carry it.
    pub by: Trigger,
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

    /// Hands `request` to the controller.
    pub fn submit(&self, request: &AppRequest) -> Result<(), RequestError> {
        let path = self.dir.join(format!(
            "{}.{}.json",
            hex::encode(request.app.as_bytes()),
            request.ask.label()
        ));
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
    pub fn take(&self) -> Vec<AppRequest> {
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
            match read.map(|b| serde_json::from_slice::<AppRequest>(&b)) {
                Ok(Ok(request)) => out.push(request),
                Ok(Err(e)) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignored an unreadable request")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignored an unreadable request")
                }
            }
        }
        out.sort_by(|a, b| (&a.app, a.ask).cmp(&(&b.app, b.ask)));
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
        let ask = |app: &str, ask: Ask| AppRequest {
            app: app.into(),
            ask,
            prune: false,
            by: Trigger::Cli("ana".into()),
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        store.submit(&ask("team/../x", Ask::Sync)).unwrap();
        store.submit(&ask("base", Ask::Sync)).unwrap();
        store.submit(&ask("base", Ask::Refresh)).unwrap();
        store.submit(&ask("base", Ask::Sync)).unwrap();
        let taken: Vec<(String, Ask)> = store.take().into_iter().map(|r| (r.app, r.ask)).collect();
        assert_eq!(
            taken,
            vec![
                ("base".into(), Ask::Sync),
                ("base".into(), Ask::Refresh),
                ("team/../x".into(), Ask::Sync)
            ]
        );
        assert!(store.take().is_empty());
    }
}
