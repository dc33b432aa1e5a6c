//! Reading a local file that holds a credential or a secret value: only a
//! regular file is read (a FIFO, device, socket or directory is refused
//! after `fstat`, and the open cannot block on a FIFO), never more than a
//! cap, and a credential file that group or others can read is reported.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{LazyLock, Mutex};

/// The largest credential file read (PAT, client secret, JWT).
pub const MAX_CREDENTIAL_BYTES: u64 = 64 * 1024;
/// The largest secret-scope value read (Databricks stores at most 128 KiB).
pub const MAX_SECRET_VALUE_BYTES: u64 = 128 * 1024;

/// Why a local file could not be read. Never carries the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalFileError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is {what}, not a regular file")]
    NotRegular { path: String, what: &'static str },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: String, limit: u64 },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

impl LocalFileError {
    /// A short, bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            LocalFileError::Open { .. } => "open",
            LocalFileError::NotRegular { .. } => "not_regular",
            LocalFileError::TooLarge { .. } => "too_large",
            LocalFileError::Read { .. } => "read",
            LocalFileError::NotText { .. } => "not_text",
        }
    }
}

fn file_type_name(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a named pipe"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The bytes of the regular file at `path`, at most `max` of them.
pub fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, LocalFileError> {
    read(path, max).map(|(bytes, _)| bytes)
}

fn read(path: &Path, max: u64) -> Result<(Vec<u8>, u32), LocalFileError> {
    let shown = path.display().to_string();
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| LocalFileError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    let meta = file.metadata().map_err(|e| LocalFileError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(LocalFileError::NotRegular {
            path: shown,
            what: file_type_name(&ft),
        });
    }
    if meta.len() > max {
        return Err(LocalFileError::TooLarge {
            path: shown,
            limit: max,
        });
    }
    // The size can change after fstat (or lie, as in /proc): read one byte past the cap at most.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| LocalFileError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    if bytes.len() as u64 > max {
        return Err(LocalFileError::TooLarge {
            path: shown,
            limit: max,
        });
    }
    Ok((bytes, meta.permissions().mode()))
}

/// The UTF-8 text of the regular file at `path`, at most `max` bytes.
pub fn read_text_file(path: &Path, max: u64) -> Result<String, LocalFileError> {
    let bytes = read_regular_file(path, max)?;
    String::from_utf8(bytes).map_err(|_| LocalFileError::NotText {
        path: path.display().to_string(),
    })
}

static WARNED: LazyLock<Mutex<HashSet<std::path::PathBuf>>> = LazyLock::new(Mutex::default);

/// [`read_text_file`] for a credential, capped at [`MAX_CREDENTIAL_BYTES`],
/// warning once per path when group or others may read the file.
pub fn read_credential_file(path: &Path) -> Result<String, LocalFileError> {
    let (bytes, mode) = read(path, MAX_CREDENTIAL_BYTES)?;
    if mode & 0o044 != 0 {
        let first = WARNED
            .lock()
            .map(|mut w| w.insert(path.to_path_buf()))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "credential file is readable by group or others"
            );
        }
    }
    String::from_utf8(bytes).map_err(|_| LocalFileError::NotText {
        path: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn devices_and_directories_are_refused() {
        let err = read_regular_file(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(
            matches!(
                err,
                LocalFileError::NotRegular {
                    what: "a device",
                    ..
                }
            ),
            "{err}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_regular_file(dir.path(), 1024).unwrap_err();
        assert_eq!(err.metric_label(), "not_regular");
    }

    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = Instant::now();
        let err = read_credential_file(&fifo).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(err.to_string().contains("named pipe"), "{err}");
    }

    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn shared_credential_files_are_warned_about_once_without_their_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let open = dir.path().join("shared-token");
        let private = dir.path().join("private-token");
        for p in [&open, &private] {
            std::fs::write(p, "dapi-file-content-42").expect("write");
        }
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                assert_eq!(
                    read_credential_file(&open).expect("read"),
                    "dapi-file-content-42"
                );
            }
            read_credential_file(&private).expect("read");
        });
        let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf8");
        assert_eq!(
            text.matches("readable by group or others").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("shared-token") && !text.contains("private-token"),
            "{text}"
        );
        assert!(!text.contains("dapi-file-content"), "{text}");
    }

    #[test]
    fn large_files_are_refused_without_reading_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(10 << 30).expect("sparse 10 GiB");
        let err = read_regular_file(&path, 1024).unwrap_err();
        assert_eq!(
            err,
            LocalFileError::TooLarge {
                path: path.display().to_string(),
                limit: 1024
            }
        );
        std::fs::write(&path, "token\n").expect("write");
        assert_eq!(read_text_file(&path, 1024).expect("read"), "token\n");
    }
}
