//! The audit trail as the web view reads it: incrementally, from where the
//! last page view left off, each record verified link by link; the newest
//! records kept in memory, each page given its app's for history, drift
//! and the trail, and whether the chain verifies.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::audit::AuditRecord;
use crate::audit::reader::{Position, read_verified};

/// Records kept for the pages (the newest).
const KEPT: usize = 20_000;

/// Whether the chain read so far verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every record read so far verifies; how many there are.
    Verified(u64),
    /// The log does not verify: why.
    Broken(String),
}

struct Read {
    position: Option<Position>,
    records: VecDeque<AuditRecord>,
    total: u64,
    verification: Verification,
}

/// The audit log of one state directory.
pub struct AuditFeed {
    path: Option<PathBuf>,
    read: Mutex<Read>,
}

impl AuditFeed {
    pub fn new(path: Option<PathBuf>) -> AuditFeed {
        AuditFeed {
            path,
            read: Mutex::new(Read {
                position: None,
                records: VecDeque::new(),
                total: 0,
                verification: Verification::Verified(0),
            }),
        }
    }

    /// Reads what was appended since the last call, and returns the records
    /// of `app` among the newest kept (oldest first), with the chain's
    /// verification.
    pub fn of_app(&self, app: &str) -> (Vec<AuditRecord>, Verification) {
        let Some(path) = &self.path else {
            return (Vec::new(), Verification::Verified(0));
        };
        let mut read = self.read.lock().expect("audit feed lock");
        let mut fresh: Vec<AuditRecord> = Vec::new();
        let from = read.position.clone();
        let outcome = read_verified(path, from.as_ref(), &mut |record| match record {
            Some(r) => fresh.push(r.clone()),
            None => fresh.clear(),
        });
        // Records a writer is mid-way through: shown now, read again next time.
        let mut pending = Vec::new();
        match outcome {
            Ok(Some(scanned)) => {
                let count = fresh.len() as u64;
                if scanned.settled {
                    // Settled: kept, and the next read starts after them.
                    read.total += count;
                    read.records.extend(fresh);
                    while read.records.len() > KEPT {
                        read.records.pop_front();
                    }
                    read.position = scanned.position;
                    read.verification = Verification::Verified(read.total);
                } else {
                    read.verification = Verification::Verified(read.total + count);
                    pending = fresh;
                }
            }
            Ok(None) => {
                // Replaced or rewritten under us: start over next time,
                // and say so now.
                read.position = None;
                read.records.clear();
                read.total = 0;
                read.verification = Verification::Broken(
                    "the log was replaced or rewritten since it was last read".into(),
                );
            }
            Err(e) => {
                read.verification = Verification::Broken(crate::error_chain::error_chain(&e));
            }
        }
        let shown = read
            .records
            .iter()
            .chain(&pending)
            .filter(|r| r.event.app == app)
            .cloned()
            .collect();
        (shown, read.verification.clone())
    }
}
