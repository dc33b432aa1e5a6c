//! The file sink: appends sealed records to a JSON-lines log, fsyncs each
//! one, then replaces the head sidecar. One writer per file per process;
//! appends from many tasks are serialized by a mutex.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use jiff::Timestamp;

use super::AuditError;
use super::crash::{self, Completion};
use super::head::{self, Head};
use super::record::{AuditEvent, AuditRecord, RecordHash};
use super::sink::AuditSink;
use super::verify::ChainStart;

/// Log files open for writing in this process, so a second writer cannot
/// fork the chain.
fn open_logs() -> &'static Mutex<HashSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashSet::new()))
}

fn lock_registry() -> MutexGuard<'static, HashSet<PathBuf>> {
    open_logs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct State {
    file: File,
    len: u64,
    seq: u64,
    last: RecordHash,
    /// Set when a failed append could not be rolled back.
    broken: bool,
}

/// An open audit log. Share it between tasks behind an `Arc`.
pub struct AuditLog {
    path: PathBuf,
    head_path: PathBuf,
    registered: PathBuf,
    state: Mutex<State>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

impl AuditLog {
    /// Opens (or creates) a log for appending, after verifying it.
    ///
    /// What a crash between an append and the head update can leave is
    /// completed rather than refused (see the `crash` module): a torn last
    /// line beyond the head is cut off, and a single intent (or the outcome
    /// of the intent before it) beyond the head is accepted with a
    /// `recovered` record naming it. Anything else that does not verify is
    /// an error: appending to a tampered log would bury the evidence.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        let path = path.as_ref().to_path_buf();
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| AuditError::Io { path: p, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let registered = match fs::canonicalize(&path) {
            Ok(p) => p,
            Err(_) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let dir = fs::canonicalize(dir).map_err(io(dir))?;
                dir.join(path.file_name().unwrap_or_default())
            }
        };
        if !lock_registry().insert(registered.clone()) {
            return Err(AuditError::AlreadyOpen { path });
        }
        match Self::open_registered(&path, &registered) {
            Ok(log) => Ok(log),
            Err(err) => {
                lock_registry().remove(&registered);
                Err(err)
            }
        }
    }

    fn open_registered(path: &Path, registered: &Path) -> Result<AuditLog, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        let head_path = head::head_path(path);
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let head_state = head::read(&head_path)?;
        let mut reader = File::open(path).map_err(io)?;
        let assessed = crash::assess(
            path,
            &mut reader,
            &ChainStart::genesis(),
            &head_state,
            &mut |_, _| {},
        )?;
        drop(reader);
        let chain = assessed.chain;
        if assessed.torn {
            tracing::warn!(log = %path.display(), "cutting an incomplete last line left by a crash");
            file.set_len(chain.complete_len as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let log = AuditLog {
            path: path.to_path_buf(),
            head_path,
            registered: registered.to_path_buf(),
            state: Mutex::new(State {
                file,
                len: chain.complete_len as u64,
                seq: chain.last_seq,
                last: chain.last_hash.clone().unwrap_or_else(RecordHash::genesis),
                broken: false,
            }),
        };
        match assessed.completion {
            Completion::None => {}
            Completion::MoveHead(seq, hash) => {
                tracing::warn!(log = %path.display(), seq, "completing a head left behind by a crash");
                head::write(&log.head_path, &Head { seq, hash })?;
            }
            Completion::Accept(record) => {
                tracing::warn!(log = %path.display(), seq = record.seq, "accepting a record left beyond the head by a crash");
                log.append(&AuditEvent::recovered(&record))?;
            }
        }
        Ok(log)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last sequence number and hash (`0` and the genesis hash when empty).
    pub fn head(&self) -> (u64, RecordHash) {
        let state = self.lock();
        (state.seq, state.last.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seals, writes and fsyncs one event, then moves the head; returns the
    /// new record's hash. If writing the record fails it is rolled back and
    /// nothing is recorded; if only replacing the head fails, the record is
    /// in the log, the error says so, and the next append (or open) brings
    /// the head up to date.
    pub fn append(&self, event: &AuditEvent) -> Result<RecordHash, AuditError> {
        self.append_record(event).map(|r| r.hash)
    }

    /// Like [`append`](Self::append), returning the whole sealed record.
    pub fn append_record(&self, event: &AuditEvent) -> Result<AuditRecord, AuditError> {
        let mut state = self.lock();
        if state.broken {
            return Err(AuditError::NeedsReopen {
                path: self.path.clone(),
            });
        }
        let record = AuditRecord::seal(
            state.seq + 1,
            Timestamp::now(),
            state.last.clone(),
            event.clone(),
        )
        .map_err(AuditError::Serialize)?;
        let mut line = record.to_line().map_err(AuditError::Serialize)?;
        line.push('\n');
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        let written = state
            .file
            .write_all(line.as_bytes())
            .and_then(|()| state.file.sync_data());
        if let Err(err) = written {
            let len = state.len;
            let rolled_back = state
                .file
                .set_len(len)
                .and_then(|()| state.file.sync_data());
            if rolled_back.is_err() {
                state.broken = true;
            }
            return Err(io(err));
        }
        state.len += line.len() as u64;
        state.seq = record.seq;
        state.last = record.hash.clone();
        head::write(
            &self.head_path,
            &Head {
                seq: record.seq,
                hash: record.hash.clone(),
            },
        )?;
        Ok(record)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        lock_registry().remove(&self.registered);
    }
}

impl AuditSink for AuditLog {
    fn name(&self) -> &str {
        "file"
    }

    fn record(&self, event: &AuditEvent) -> Result<Option<AuditRecord>, AuditError> {
        self.append_record(event).map(Some)
    }
}
