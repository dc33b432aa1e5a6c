//! Crash recovery from the write-ahead audit trail: a create whose intent
//! was recorded but whose outcome never was (the process died during the
//! call) may have created the object, and one whose successful outcome was
//! recorded did, even if the process died before saving the inventory. For
//! kinds that cannot carry ownership tags, the next run finds it by name
//! only; the dangling intent says it is Mortar's, so it is taken back into
//! the inventory instead of being reported as a conflict.
//!
//! The set of dangling creates is kept beside the log in `FILE.recovery`
//! with the position (byte offset, sequence number, record hash) up to
//! which the log was read and verified, so each lookup reads only the
//! records appended since. The index is a cache: if the record at the kept
//! position no longer has the kept hash, or the index is unreadable, the
//! log is read again from the start; a log that does not verify is an error.
//! Only readers write the index (atomic replace, no fsync: a lost or torn
//! index just means one full read), so the writer's appends cost nothing
//! more.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::audit::reader::{self, Position};
use crate::audit::{AuditAction, AuditError, AuditRecord, Outcome, Phase};

/// `(app, key)` pairs.
pub type Dangling = BTreeSet<(String, String)>;

const INDEX_VERSION: u32 = 1;

/// Why the dangling creates could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("crash recovery")]
    Audit(#[from] AuditError),
}

impl RecoveryError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RecoveryError::Audit(err) => err.metric_label(),
        }
    }
}

/// The index sidecar: where the log was read up to, and the open set there.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    version: u32,
    position: Position,
    open: Vec<(String, String)>,
}

/// The index beside a log: `FILE.recovery`.
pub fn index_path(audit_file: &Path) -> PathBuf {
    let mut name = audit_file.as_os_str().to_owned();
    name.push(".recovery");
    PathBuf::from(name)
}

/// What a lookup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub dangling: Dangling,
    /// Records read by this lookup (all of them without a usable index).
    pub records_read: u64,
    /// The lookup started from the kept position.
    pub from_index: bool,
}

/// `(app, key)` of every create whose last record is its intent or its
/// successful outcome (anything recorded later for the key means the
/// inventory was saved in between).
pub fn dangling_creates(audit_file: &Path) -> Result<Dangling, RecoveryError> {
    lookup(audit_file).map(|l| l.dangling)
}

/// Like [`dangling_creates`], saying how much of the log it read.
pub fn lookup(audit_file: &Path) -> Result<Lookup, RecoveryError> {
    let index_file = index_path(audit_file);
    if let Some(index) = read_index(&index_file) {
        let mut open: Dangling = index.open.iter().cloned().collect();
        let kept = open.clone();
        let read = reader::read_verified(audit_file, Some(&index.position), &mut |r| match r {
            Some(record) => apply(&mut open, record),
            None => open = kept.clone(),
        });
        match read {
            Ok(Some(scanned)) => {
                if scanned.settled && scanned.position.as_ref() != Some(&index.position) {
                    save_index(&index_file, scanned.position.as_ref(), &open);
                }
                return Ok(Lookup {
                    dangling: open,
                    records_read: scanned.records,
                    from_index: true,
                });
            }
            Ok(None) => {
                tracing::info!(log = %audit_file.display(), "the audit log changed before the kept recovery position: reading it again from the start");
            }
            Err(err) => {
                tracing::warn!(log = %audit_file.display(), error = %err, "the audit log does not verify from the kept recovery position: reading it again from the start");
            }
        }
    }
    let mut open = Dangling::new();
    let scanned = reader::read_verified(audit_file, None, &mut |r| match r {
        Some(record) => apply(&mut open, record),
        None => open.clear(),
    })?;
    let Some(scanned) = scanned else {
        // Only a kept position can be stale; reading from the start cannot.
        return Ok(Lookup {
            dangling: open,
            records_read: 0,
            from_index: false,
        });
    };
    if scanned.settled && scanned.position.is_some() {
        save_index(&index_file, scanned.position.as_ref(), &open);
    }
    Ok(Lookup {
        dangling: open,
        records_read: scanned.records,
        from_index: false,
    })
}

fn apply(open: &mut Dangling, record: &AuditRecord) {
    let e = &record.event;
    // A rotation step names a service principal but creates no object of its own.
    if e.phase == Phase::Recovered || e.action.is_rotation() {
        return;
    }
    let id = (e.app.clone(), e.key.clone());
    let created = e.action == AuditAction::Create
        && (e.phase == Phase::Intent || e.outcome == Some(Outcome::Ok));
    if created {
        open.insert(id);
    } else {
        open.remove(&id);
    }
}

fn read_index(path: &Path) -> Option<Index> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice::<Index>(&bytes)
        .ok()
        .filter(|i| i.version == INDEX_VERSION)
}

/// Replaces the index atomically (temporary file, rename). Not fsynced: the
/// index is a cache that is checked before use. A failure is logged, not
/// returned: the lookup itself succeeded.
fn save_index(path: &Path, position: Option<&Position>, open: &Dangling) {
    let Some(position) = position else { return };
    let index = Index {
        version: INDEX_VERSION,
        position: position.clone(),
        open: open.iter().cloned().collect(),
    };
    let write = || -> std::io::Result<()> {
        let body = serde_json::to_vec(&index)?;
        let mut tmp = path.as_os_str().to_owned();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        tmp.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&body)?;
        drop(file);
        fs::rename(&tmp, path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    };
    if let Err(err) = write() {
        tracing::warn!(index = %path.display(), error = %err, "cannot save the crash-recovery index; the next lookup reads the whole audit log");
    }
}
