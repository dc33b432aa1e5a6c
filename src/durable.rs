//! Replacing a file whole or not at all: the new content goes to a
//! temporary file beside it, is fsynced, renamed over the old one, and the
//! directory is fsynced so the rename survives a crash. Inventories, the
//! controller's status, pins and sync requests are written this way.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A write that failed, and the path it failed on.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Replaces `path` with `body`, creating its directory if needed. A reader
/// sees the old content or the new, never a part; a crash leaves one of them.
pub fn replace(path: &Path, body: &[u8]) -> Result<(), WriteError> {
    let at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| WriteError { path: p, source }
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(at(dir))?;
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError {
            path: path.to_path_buf(),
            source,
        });
    }
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(at(dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        replace(&path, b"one").unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        let err = replace(&dir.path().join("sub/state.json/x"), b"").unwrap_err();
        assert!(err.to_string().contains("state.json"), "{err}");
    }
}
