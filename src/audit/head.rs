//! The head sidecar (`FILE.head`): the last record's sequence number and
//! hash, replaced atomically after every append so that cutting records off
//! the end of the log no longer matches it.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AuditError;
use super::record::RecordHash;

/// The chain's head as last written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub seq: u64,
    pub hash: RecordHash,
}

/// What the head file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadState {
    Missing,
    Unreadable(String),
    Present(Head),
}

/// The head file beside a log: `FILE.head`.
pub fn head_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

/// Reads the head file; a missing or unparseable file is a state, not an
/// error, so that verify can report it as a finding.
pub fn read(path: &Path) -> Result<HeadState, AuditError> {
    match fs::read(path) {
        Ok(bytes) => Ok(match serde_json::from_slice::<Head>(&bytes) {
            Ok(head) => HeadState::Present(head),
            Err(err) => HeadState::Unreadable(err.to_string()),
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(HeadState::Missing),
        Err(source) => Err(AuditError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Replaces the head file atomically: temp file, fsync, rename, dir fsync.
pub fn write(path: &Path, head: &Head) -> Result<(), AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut body = serde_json::to_vec(head).map_err(AuditError::Serialize)?;
    body.push(b'\n');
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let mut file = File::create(&tmp).map_err(io)?;
    file.write_all(&body).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io)?;
    sync_dir(path).map_err(io)
}

/// Makes a rename in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
