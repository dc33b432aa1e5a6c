//! Verifying a log: every line canonical, every hash matching its record,
//! sequence numbers consecutive, each record chained to the one before, and
//! the last record equal to the head sidecar. The first problem is reported
//! with its line number and sequence number.

use std::fmt;
use std::fs;
use std::path::Path;

use super::AuditError;
use super::head::{self, HeadState};
use super::record::{AuditRecord, RecordHash};

/// What is wrong with a record (or with the head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    EmptyLine,
    NotUtf8,
    Unparseable(String),
    NotCanonical,
    HashMismatch,
    WrongSeq { expected: u64, found: u64 },
    BrokenChain,
    TornLine,
    HeadMissing,
    HeadUnreadable(String),
    Truncated { head_seq: u64, last_seq: u64 },
    HeadMismatch { head_seq: u64 },
    HeadBehind { head_seq: u64, last_seq: u64 },
    AnchorMissing { anchor: RecordHash },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptyLine => f.write_str("empty line"),
            Problem::NotUtf8 => f.write_str("not UTF-8 (the line was altered)"),
            Problem::Unparseable(err) => write!(f, "not a valid audit record ({err})"),
            Problem::NotCanonical => {
                f.write_str("not in canonical form (the line was edited after it was written)")
            }
            Problem::HashMismatch => {
                f.write_str("its content does not match its hash (the record was edited)")
            }
            Problem::WrongSeq { expected, found } => write!(
                f,
                "sequence number {found} where {expected} was expected \
                 (records were deleted, inserted or reordered)"
            ),
            Problem::BrokenChain => f.write_str(
                "prev_hash does not match the previous record's hash \
                 (records were deleted, inserted or reordered)",
            ),
            Problem::TornLine => {
                f.write_str("the last line is incomplete (the log was truncated mid-line)")
            }
            Problem::HeadMissing => {
                f.write_str("the head file is missing, so truncation cannot be ruled out")
            }
            Problem::HeadUnreadable(err) => write!(f, "the head file is unreadable ({err})"),
            Problem::Truncated { head_seq, last_seq } => write!(
                f,
                "missing: the log ends at seq {last_seq} but the head records seq {head_seq} \
                 (records were cut off the end)"
            ),
            Problem::HeadMismatch { head_seq } => write!(
                f,
                "the head records a different hash for seq {head_seq} \
                 (the log was rewritten from there on)"
            ),
            Problem::HeadBehind { head_seq, last_seq } => write!(
                f,
                "records {}..={last_seq} are beyond the head (seq {head_seq}): \
                 appended outside Mortar, or a crash before the head was written",
                head_seq + 1
            ),
            Problem::AnchorMissing { anchor } => write!(
                f,
                "anchor {anchor} not found in this log \
                 (rewritten, or an anchor of another log)"
            ),
        }
    }
}

/// The first bad record: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// 1-based line number.
    pub line: usize,
    /// The sequence number the record at this line should have (its
    /// position in the chain; the line's own `seq` may be the tampered part).
    pub seq: u64,
    pub problem: Problem,
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record at line {} (seq {}): {}",
            self.line, self.seq, self.problem
        )
    }
}

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    /// The last record's hash; `None` for an empty log.
    pub head: Option<RecordHash>,
}

/// Verifies a log file and its head sidecar.
pub fn verify_file(path: &Path) -> Result<Verified, AuditError> {
    verify_file_anchored(path, None)
}

/// Verifies a log file and its head sidecar, and that a record with the
/// `anchor` hash (a head printed earlier and kept elsewhere) is still in the
/// chain: someone able to rewrite both the log and its head cannot also
/// rewrite a copy kept outside.
pub fn verify_file_anchored(
    path: &Path,
    anchor: Option<&RecordHash>,
) -> Result<Verified, AuditError> {
    let data = fs::read(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let head = head::read(&head::head_path(path))?;
    check(&data, &head, anchor).map_err(AuditError::Broken)
}

/// Verifies log bytes against a head state (and an optional anchor). Pure.
pub fn check(
    data: &[u8],
    head: &HeadState,
    anchor: Option<&RecordHash>,
) -> Result<Verified, VerifyFailure> {
    let chain = check_chain(data, &ChainStart::genesis(), head, anchor, &mut |_, _| {})?;
    if let Some(torn) = chain.torn_at {
        return Err(torn);
    }
    check_head(&chain, head)?;
    if let Some(anchor) = anchor
        && !chain.anchor_seen
    {
        return Err(VerifyFailure {
            line: chain.last_seq as usize + 1,
            seq: chain.last_seq + 1,
            problem: Problem::AnchorMissing {
                anchor: anchor.clone(),
            },
        });
    }
    Ok(Verified {
        records: chain.last_seq,
        head: chain.last_hash,
    })
}

/// Where checking starts: the genesis, or a record already verified (the
/// data then begins on the line after it).
#[derive(Debug, Clone)]
pub(crate) struct ChainStart {
    pub seq: u64,
    pub hash: RecordHash,
    /// The last few records up to and including the one at `seq`, oldest
    /// first (empty at the genesis).
    pub recent: Vec<AuditRecord>,
}

impl ChainStart {
    pub fn genesis() -> ChainStart {
        ChainStart {
            seq: 0,
            hash: RecordHash::genesis(),
            recent: Vec::new(),
        }
    }
}

/// How many of the last records a [`Chain`] keeps.
pub(crate) const RECENT: usize = 2;

pub(crate) struct Chain {
    /// A record carries the anchor hash asked for.
    pub anchor_seen: bool,
    pub last_seq: u64,
    pub last_hash: Option<RecordHash>,
    /// The hash of the record the head names, when the chain reaches it.
    pub at_head_seq: Option<RecordHash>,
    /// The last few records (the start record included), oldest first.
    pub recent: Vec<AuditRecord>,
    /// Bytes of `data` holding complete, verified lines.
    pub complete_len: usize,
    /// Where the last verified record's line starts in `data` (`None` when
    /// `data` holds no complete record).
    pub last_line_start: Option<usize>,
    /// The last line is incomplete (everything before it verified): what
    /// a strict verify reports.
    pub torn_at: Option<VerifyFailure>,
}

/// Checks every line and the links between them from `start` on, not the
/// head. An incomplete last line is not an error here but noted in
/// [`Chain::torn_at`]; `visit` sees each verified record with the offset
/// just past its line.
pub(crate) fn check_chain(
    data: &[u8],
    start: &ChainStart,
    head: &HeadState,
    anchor: Option<&RecordHash>,
    visit: &mut dyn FnMut(&AuditRecord, usize),
) -> Result<Chain, VerifyFailure> {
    let head_seq = match head {
        HeadState::Present(h) => Some(h.seq),
        _ => None,
    };
    let mut chain = Chain {
        anchor_seen: anchor == Some(&start.hash) && start.seq > 0,
        last_seq: start.seq,
        last_hash: (start.seq > 0).then(|| start.hash.clone()),
        at_head_seq: (head_seq == Some(start.seq) && start.seq > 0).then(|| start.hash.clone()),
        recent: start.recent.clone(),
        complete_len: 0,
        last_line_start: None,
        torn_at: None,
    };
    let mut prev = start.hash.clone();
    let mut pos = 0;
    while pos < data.len() {
        let expected = chain.last_seq + 1;
        let line = expected as usize;
        let fail = |problem| VerifyFailure {
            line,
            seq: expected,
            problem,
        };
        let Some(len) = data[pos..].iter().position(|b| *b == b'\n') else {
            chain.torn_at = Some(fail(Problem::TornLine));
            break;
        };
        let raw = &data[pos..pos + len];
        let end = pos + len + 1;
        if raw.is_empty() {
            return Err(fail(Problem::EmptyLine));
        }
        let text = std::str::from_utf8(raw).map_err(|_| fail(Problem::NotUtf8))?;
        let record: AuditRecord = serde_json::from_str(text)
            .map_err(|err| fail(Problem::Unparseable(err.to_string())))?;
        match record.to_line() {
            Ok(canonical) if canonical == text => {}
            _ => return Err(fail(Problem::NotCanonical)),
        }
        if !record.hash_is_valid() {
            return Err(fail(Problem::HashMismatch));
        }
        if record.seq != expected {
            return Err(fail(Problem::WrongSeq {
                expected,
                found: record.seq,
            }));
        }
        if record.prev_hash != prev {
            return Err(fail(Problem::BrokenChain));
        }
        if Some(record.seq) == head_seq {
            chain.at_head_seq = Some(record.hash.clone());
        }
        chain.last_seq = record.seq;
        chain.anchor_seen |= anchor == Some(&record.hash);
        prev = record.hash.clone();
        chain.last_hash = Some(record.hash.clone());
        chain.last_line_start = Some(pos);
        chain.complete_len = end;
        visit(&record, end);
        if chain.recent.len() >= RECENT {
            chain.recent.drain(..=chain.recent.len() - RECENT);
        }
        chain.recent.push(record);
        pos = end;
    }
    Ok(chain)
}

/// Compares the chain's end with the head sidecar.
pub(crate) fn check_head(chain: &Chain, head: &HeadState) -> Result<(), VerifyFailure> {
    let last_line = chain.last_seq as usize;
    let head = match head {
        HeadState::Present(h) => h,
        HeadState::Missing if chain.last_seq == 0 => return Ok(()),
        HeadState::Missing => {
            return Err(VerifyFailure {
                line: last_line,
                seq: chain.last_seq,
                problem: Problem::HeadMissing,
            });
        }
        HeadState::Unreadable(err) => {
            return Err(VerifyFailure {
                line: last_line.max(1),
                seq: chain.last_seq.max(1),
                problem: Problem::HeadUnreadable(err.clone()),
            });
        }
    };
    if head.seq > chain.last_seq {
        return Err(VerifyFailure {
            line: last_line + 1,
            seq: chain.last_seq + 1,
            problem: Problem::Truncated {
                head_seq: head.seq,
                last_seq: chain.last_seq,
            },
        });
    }
    let genesis_head = head.seq == 0 && head.hash == RecordHash::genesis();
    let matches = genesis_head || chain.at_head_seq.as_ref() == Some(&head.hash);
    if !matches {
        return Err(VerifyFailure {
            line: (head.seq as usize).max(1),
            seq: head.seq.max(1),
            problem: Problem::HeadMismatch { head_seq: head.seq },
        });
    }
    if head.seq < chain.last_seq {
        return Err(VerifyFailure {
            line: head.seq as usize + 1,
            seq: head.seq + 1,
            problem: Problem::HeadBehind {
                head_seq: head.seq,
                last_seq: chain.last_seq,
            },
        });
    }
    Ok(())
}
