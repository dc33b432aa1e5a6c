//! One writer per state directory: an exclusive OS lock (`flock`) on
//! `<state.dir>/mortar.lock`, held for the life of the process that writes
//! the inventory and the audit trail, and released when [`StateLock`] is
//! dropped or the process dies.
//!
//! The holder writes who it is (pid, host, command, since when) into the
//! lock file so that a refused process can name it. Only the OS lock
//! decides: a lock file left behind by a dead process holds a stale
//! description but no lock, and never blocks anyone.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rustix::fs::{FlockOperation, flock};
use serde::{Deserialize, Serialize};

/// The lock file's name inside the state directory.
pub const LOCK_FILE: &str = "mortar.lock";

/// How long to sleep between attempts while waiting for a held lock.
const RETRY: Duration = Duration::from_millis(100);

/// Longest command line written into the lock file.
const MAX_COMMAND: usize = 300;

/// Who holds (or last held) the lock, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub command: String,
    pub since: Timestamp,
}

impl Holder {
    /// This process: its pid, host name, command line and the time now.
    pub fn current() -> Holder {
        let mut command = std::env::args_os()
            .enumerate()
            .map(|(i, a)| {
                let a = Path::new(&a);
                let shown = if i == 0 {
                    a.file_name().unwrap_or(a.as_os_str())
                } else {
                    a.as_os_str()
                };
                shown.to_string_lossy().into_owned()
            })
            .collect::<Vec<_>>()
            .join(" ");
        if command.len() > MAX_COMMAND {
            let mut cut = MAX_COMMAND;
            while !command.is_char_boundary(cut) {
                cut -= 1;
            }
            command.truncate(cut);
            command.push('…');
        }
        Holder {
            pid: std::process::id(),
            host: host_name(),
            command,
            since: Timestamp::now(),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} on {}, `{}`, since {}",
            self.pid,
            self.host,
            self.command,
            self.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown host".to_string())
}

/// How to acquire the lock.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// Wait up to this long for a held lock instead of failing at once.
    pub wait: Option<Duration>,
    /// Who to write into the lock file; [`Holder::current`] when `None`.
    pub holder: Option<Holder>,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("lock file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "state directory {} is locked by another Mortar process ({}){}; only one process may write it at a time",
        dir.display(),
        holder.as_ref().map_or_else(|| "holder unknown".to_string(), ToString::to_string),
        waited.map_or_else(String::new, |w| format!(", still held after waiting {}s", w.as_secs_f64()))
    )]
    Held {
        dir: PathBuf,
        holder: Option<Holder>,
        /// How long this process waited before giving up.
        waited: Option<Duration>,
    },
}

impl LockError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            LockError::Io { .. } => "io",
            LockError::Held { .. } => "held",
        }
    }
}

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
    holder: Holder,
}

impl StateLock {
    /// Takes the exclusive lock on `dir`'s lock file (creating the
    /// directory and the file if need be), then writes this process's
    /// [`Holder`] into it. Fails with [`LockError::Held`] naming the holder
    /// if another process holds it (after waiting up to `options.wait`).
    pub fn acquire(dir: &Path, options: &LockOptions) -> Result<StateLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| LockError::Io { path: p, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let started = Instant::now();
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(err) if err == rustix::io::Errno::WOULDBLOCK => {
                    let waited = started.elapsed();
                    match options.wait {
                        Some(limit) if waited < limit => {
                            std::thread::sleep(RETRY.min(limit - waited));
                        }
                        _ => {
                            return Err(LockError::Held {
                                dir: dir.to_path_buf(),
                                holder: read_holder(&mut file),
                                waited: options.wait.map(|_| waited),
                            });
                        }
                    }
                }
                Err(err) if err == rustix::io::Errno::INTR => {}
                Err(err) => return Err(io(&path)(err.into())),
            }
        }
        let holder = options.holder.clone().unwrap_or_else(Holder::current);
        let mut body = serde_json::to_vec(&holder).unwrap_or_default();
        body.push(b'\n');
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(&body))
            .and_then(|()| file.sync_data())
            .map_err(io(&path))?;
        Ok(StateLock { file, path, holder })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What this process wrote into the lock file.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Clear the description while still holding the lock, so the file
        // never names a process that no longer holds it; closing the file
        // releases the OS lock.
        let _ = self.file.set_len(0);
        let _ = flock(&self.file, FlockOperation::Unlock);
    }
}

/// The holder description in a lock file; `None` when it is empty or
/// unreadable (the holder is between taking the lock and writing it).
fn read_holder(file: &mut File) -> Option<Holder> {
    for attempt in 0..3 {
        let mut text = String::new();
        let read = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut text));
        if read.is_ok()
            && let Ok(holder) = serde_json::from_str::<Holder>(text.trim())
        {
            return Some(holder);
        }
        if attempt < 2 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), &LockOptions::default()).unwrap();
        assert_eq!(first.holder().pid, std::process::id());
        let err = StateLock::acquire(dir.path(), &LockOptions::default()).unwrap_err();
        match &err {
            LockError::Held { holder, .. } => {
                assert_eq!(holder.as_ref().unwrap().pid, std::process::id());
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id()))
        );
        assert_eq!(err.metric_label(), "held");
        drop(first);
        let again = StateLock::acquire(dir.path(), &LockOptions::default()).unwrap();
        drop(again);
    }

    #[test]
    fn waiting_gets_the_lock_once_it_is_released_or_gives_up_saying_how_long() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), &LockOptions::default()).unwrap();
        let wait = LockOptions {
            wait: Some(Duration::from_millis(250)),
            holder: None,
        };
        let started = Instant::now();
        let err = StateLock::acquire(dir.path(), &wait).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(err.to_string().contains("after waiting"), "{err}");
        let path = dir.path().to_path_buf();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(first);
        });
        let long = LockOptions {
            wait: Some(Duration::from_secs(10)),
            holder: None,
        };
        let got = StateLock::acquire(&path, &long).unwrap();
        releaser.join().unwrap();
        drop(got);
    }

    #[test]
    fn a_stale_lock_file_of_a_dead_process_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let stale = Holder {
            pid: 999_999,
            host: "gone".into(),
            command: "mortar apply".into(),
            since: Timestamp::UNIX_EPOCH,
        };
        fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_vec(&stale).unwrap(),
        )
        .unwrap();
        let lock = StateLock::acquire(dir.path(), &LockOptions::default()).unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert!(!text.contains("999999"), "{text}");
    }
}
