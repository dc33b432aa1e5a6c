//! Reading a log incrementally: the records after a kept [`Position`],
//! verified link by link from the record at that position (whose hash must
//! not have changed) and judged against the head sidecar exactly as the
//! writer judges them on open (a crash remnant the writer would accept is
//! read; anything else that does not verify is an error).
//!
//! Readers that keep state derived from the log (plan's crash recovery)
//! keep a position beside it and read only what was appended since.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::AuditError;
use super::crash::{self, Completion};
use super::head::{self, HeadState};
use super::record::{AuditRecord, RecordHash};
use super::verify::ChainStart;

/// The longest line a kept position may point at (a sanity bound).
const MAX_LINE: u64 = 16 << 20;

/// A verified record's place in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Byte offset just past the record's line.
    pub offset: u64,
    /// Byte offset where the record's line starts.
    pub line_start: u64,
    pub seq: u64,
    pub hash: RecordHash,
}

/// What one read saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// The last complete, verified record (`None` for an empty log).
    pub position: Option<Position>,
    /// The log and its head agree up to `position` (nothing left for the
    /// writer to complete), so the position is safe to keep.
    pub settled: bool,
    /// Records read (and verified) by this call.
    pub records: u64,
}

/// How many times a read is retried when the head moved under it (a writer
/// appending while it read).
const ATTEMPTS: usize = 5;

/// Reads the log at `path` after `from` (from the start when `None`),
/// passing each verified record to `visit` in order as `Some(record)`;
/// `None` tells `visit` to forget what it was given (a writer appended
/// while the log was read, and the read starts over). `Ok(None)` when the
/// record at `from` is no longer there with the kept hash (the log was
/// replaced or rewritten): read again from the start. A missing log reads
/// as empty.
pub fn read_verified(
    path: &Path,
    from: Option<&Position>,
    visit: &mut dyn FnMut(Option<&AuditRecord>),
) -> Result<Option<Scanned>, AuditError> {
    let head_path = head::head_path(path);
    let mut attempt = 1;
    loop {
        let head = head::read(&head_path)?;
        match read_once(path, from, &head, visit) {
            Err(AuditError::Broken(_) | AuditError::Tampered { .. })
                if attempt < ATTEMPTS && head::read(&head_path)? != head =>
            {
                visit(None);
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn read_once(
    path: &Path,
    from: Option<&Position>,
    head: &HeadState,
    visit: &mut dyn FnMut(Option<&AuditRecord>),
) -> Result<Option<Scanned>, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && from.is_none() => {
            return Ok(Some(Scanned {
                position: None,
                settled: true,
                records: 0,
            }));
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io(err)),
    };
    let len = file.metadata().map_err(io)?.len();
    let (start, base) = match from {
        None => (ChainStart::genesis(), 0),
        Some(pos) => match kept_record(&mut file, len, pos).map_err(io)? {
            Some(record) => (
                ChainStart {
                    seq: record.seq,
                    hash: record.hash.clone(),
                    recent: vec![record],
                },
                pos.offset,
            ),
            None => return Ok(None),
        },
    };
    file.seek(SeekFrom::Start(base)).map_err(io)?;
    let mut records = 0;
    let assessed = crash::assess(path, &mut file, &start, head, &mut |record, _| {
        records += 1;
        visit(Some(record));
    })?;
    let chain = &assessed.chain;
    let position = match (chain.last_line_start, &chain.last_hash) {
        (Some(line_start), Some(hash)) => Some(Position {
            offset: base + chain.complete_len as u64,
            line_start: base + line_start as u64,
            seq: chain.last_seq,
            hash: hash.clone(),
        }),
        _ => from.cloned(),
    };
    Ok(Some(Scanned {
        position,
        settled: assessed.completion == Completion::None,
        records,
    }))
}

/// The record at a kept position, if it is still there, intact, with the
/// kept sequence number and hash.
fn kept_record(file: &mut File, len: u64, pos: &Position) -> std::io::Result<Option<AuditRecord>> {
    if pos.offset > len || pos.line_start >= pos.offset || pos.offset - pos.line_start > MAX_LINE {
        return Ok(None);
    }
    let mut line = vec![0; (pos.offset - pos.line_start) as usize];
    file.seek(SeekFrom::Start(pos.line_start))?;
    file.read_exact(&mut line)?;
    let Some(body) = line.strip_suffix(b"\n") else {
        return Ok(None);
    };
    if body.contains(&b'\n') {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_str::<AuditRecord>(text) else {
        return Ok(None);
    };
    let intact = record.to_line().is_ok_and(|l| l == text)
        && record.hash_is_valid()
        && record.seq == pos.seq
        && record.hash == pos.hash;
    // The line before must end exactly where this one starts.
    let mut before = [0u8; 1];
    let aligned = pos.line_start == 0 || {
        file.seek(SeekFrom::Start(pos.line_start - 1))?;
        file.read_exact(&mut before)?;
        before[0] == b'\n'
    };
    Ok((intact && aligned).then_some(record))
}
