//! What a crash can leave at the end of a log, and what may be accepted.
//!
//! [`AuditLog`](super::AuditLog) appends a record, fsyncs it, then replaces
//! the head sidecar; a crash can therefore leave exactly one of:
//!
//! - an incomplete last line beyond the head (cut off on reopen);
//! - one complete record beyond the head, which is an intent as Mortar
//!   writes it, or the outcome of an intent still open before it (the one
//!   just before it, or — actions run concurrently — an earlier one with no
//!   outcome yet); accepted on reopen with an explicit `recovered` record
//!   naming its sequence number;
//! - that record and the `recovered` record naming it, when the crash hit
//!   while the acceptance itself was being written (the head is moved).
//!
//! Anything else beyond the head — two or more records, a record of another
//! shape — is tampering and is refused, so that reopening a log can never
//! make a forged record pass verification. Readers (plan's recovery step)
//! apply the same judgement without changing anything.

use super::AuditError;
use super::head::HeadState;
use super::record::{AuditAction, AuditEvent, AuditRecord, Phase, RecordHash};
use super::verify::{self, ChainStart, Problem};
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::Path;

/// What to do to bring the log and its head back in line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Completion {
    /// The head covers the last record.
    None,
    /// Accept this record (the last one) by appending a `recovered`
    /// record naming it.
    Accept(Box<AuditRecord>),
    /// The acceptance was already recorded: move the head to the last
    /// record (`seq`, `hash`).
    MoveHead(u64, RecordHash),
}

/// A log judged readable: its verified chain, how much of the data it
/// covers, and what (if anything) must be completed.
pub(crate) struct Assessed {
    pub chain: verify::Chain,
    /// The data ends in an incomplete line beyond the head.
    pub torn: bool,
    pub completion: Completion,
}

/// How much of the log is read and checked at a time.
const CHUNK: usize = 8 << 20;

/// Judges the log read from `source` (positioned just after `start`)
/// against `head`: Ok when it verifies or differs from its head only as a
/// crash can leave it. The log is read in chunks, never whole; `visit` sees
/// every verified record with the offset (from where `source` started)
/// just past its line. Offsets in the returned chain are from there too.
pub(crate) fn assess(
    path: &Path,
    source: &mut dyn Read,
    start: &ChainStart,
    head: &HeadState,
    visit: &mut dyn FnMut(&AuditRecord, usize),
) -> Result<Assessed, AuditError> {
    let mut intents = OpenIntents::default();
    let chain = read_chain(path, source, CHUNK, start, head, &mut |record, end| {
        intents.see(record);
        visit(record, end);
    })?;
    let head_seq = match head {
        HeadState::Present(h) => Some(h.seq),
        HeadState::Missing => Some(0),
        HeadState::Unreadable(_) => None,
    };
    let torn = match &chain.torn_at {
        // A torn line can only be the one being written after the head.
        Some(failure) if head_seq.is_none_or(|s| chain.last_seq < s) => {
            return Err(AuditError::Broken(failure.clone()));
        }
        Some(_) => true,
        None => false,
    };
    let failure = match verify::check_head(&chain, head) {
        Ok(()) => {
            return Ok(Assessed {
                chain,
                torn,
                completion: Completion::None,
            });
        }
        Err(failure) => failure,
    };
    let beyond_head = matches!(failure.problem, Problem::HeadBehind { .. })
        || failure.problem == Problem::HeadMissing;
    let Some(head_seq) = head_seq.filter(|_| beyond_head) else {
        return Err(AuditError::Broken(failure));
    };
    let beyond = chain.last_seq - head_seq;
    let recent = &chain.recent;
    // `recent` ends with the last record; `at(k)` is the record k before it.
    let at = |k: usize| recent.len().checked_sub(k + 1).map(|i| &recent[i]);
    let tampered = |seq: u64, reason: String| AuditError::Tampered {
        path: path.to_path_buf(),
        seq,
        head_seq,
        reason,
        failure: failure.clone(),
    };
    let completion = match beyond {
        1 => {
            let last = at(0).ok_or_else(|| tampered(chain.last_seq, "unreadable".into()))?;
            if let Some(reason) = not_crash_shaped(last, intents.closed_open_intent(last.seq)) {
                return Err(tampered(last.seq, reason.to_string()));
            }
            Completion::Accept(Box::new(last.clone()))
        }
        2 => {
            let (Some(last), Some(accepted)) = (at(0), at(1)) else {
                return Err(tampered(chain.last_seq, "unreadable".into()));
            };
            if last.event.phase != Phase::Recovered || last.event.accepted_seq != Some(accepted.seq)
            {
                return Err(tampered(
                    accepted.seq,
                    format!(
                        "{beyond} records beyond the head; a crash leaves at most one \
                         (or one and the `recovered` record accepting it)"
                    ),
                ));
            }
            if let Some(reason) =
                not_crash_shaped(accepted, intents.closed_open_intent(accepted.seq))
            {
                return Err(tampered(accepted.seq, reason.to_string()));
            }
            Completion::MoveHead(last.seq, last.hash.clone())
        }
        _ => {
            return Err(tampered(
                head_seq + 1,
                format!("{beyond} records beyond the head; a crash leaves at most one"),
            ));
        }
    };
    Ok(Assessed {
        chain,
        torn,
        completion,
    })
}

/// [`verify::check_chain`] over `source`, one chunk of whole lines at a
/// time, as if over all of it at once.
fn read_chain(
    path: &Path,
    source: &mut dyn Read,
    chunk: usize,
    start: &ChainStart,
    head: &HeadState,
    visit: &mut dyn FnMut(&AuditRecord, usize),
) -> Result<verify::Chain, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut buf: Vec<u8> = Vec::new();
    // Offset of `buf[0]` from where `source` started.
    let mut base = 0;
    let mut at = start.clone();
    let mut whole: Option<verify::Chain> = None;
    loop {
        let before = buf.len();
        let eof = (&mut *source)
            .take(chunk as u64)
            .read_to_end(&mut buf)
            .map_err(io)?
            == 0
            && before == buf.len();
        let upto = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(i) => i + 1,
                // A line longer than a chunk: read on.
                None => continue,
            }
        };
        let chain = verify::check_chain(&buf[..upto], &at, head, None, &mut |record, end| {
            visit(record, base + end)
        })
        .map_err(AuditError::Broken)?;
        let merged = match whole.take() {
            None => verify::Chain {
                complete_len: base + chain.complete_len,
                last_line_start: chain.last_line_start.map(|s| base + s),
                ..chain
            },
            Some(prev) => verify::Chain {
                anchor_seen: prev.anchor_seen || chain.anchor_seen,
                at_head_seq: chain.at_head_seq.or(prev.at_head_seq),
                complete_len: match chain.last_line_start {
                    Some(_) => base + chain.complete_len,
                    None => prev.complete_len,
                },
                last_line_start: chain
                    .last_line_start
                    .map(|s| base + s)
                    .or(prev.last_line_start),
                ..chain
            },
        };
        at = ChainStart {
            seq: merged.last_seq,
            hash: merged
                .last_hash
                .clone()
                .unwrap_or_else(|| start.hash.clone()),
            recent: merged.recent.clone(),
        };
        whole = Some(merged);
        if eof {
            break;
        }
        buf.drain(..upto);
        base += upto;
    }
    whole.ok_or_else(|| AuditError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("nothing read"),
    })
}

/// The intents read so far that have no outcome yet, and for the last few
/// outcomes whether they closed one of them.
#[derive(Default)]
struct OpenIntents {
    open: HashMap<(String, String, &'static str), AuditEvent>,
    /// `(seq, closed an open intent)` of the last few outcomes.
    closes: VecDeque<(u64, bool)>,
}

impl OpenIntents {
    fn see(&mut self, record: &AuditRecord) {
        let e = &record.event;
        let slot = (e.app.clone(), e.key.clone(), e.action.as_str());
        match e.phase {
            Phase::Intent => {
                self.open.insert(slot, e.clone());
            }
            Phase::Outcome => {
                let closes = match (self.open.get(&slot), &e.outcome) {
                    (Some(intent), Some(outcome)) => {
                        intent.to_outcome(e.databricks_id.clone(), outcome.clone()) == *e
                    }
                    _ => false,
                };
                if closes {
                    self.open.remove(&slot);
                }
                if self.closes.len() == 3 {
                    self.closes.pop_front();
                }
                self.closes.push_back((record.seq, closes));
            }
            Phase::Recovered | Phase::Observed => {}
        }
    }

    /// Whether the outcome with this seq closed an intent that was open.
    fn closed_open_intent(&self, seq: u64) -> bool {
        self.closes.iter().any(|(s, closed)| *s == seq && *closed)
    }
}

/// Why `record` is not what a crash between its append and the head
/// update can leave (`None` when it is): an intent as Mortar writes it, or
/// an outcome that closed an intent still open before it
/// (`closes_open_intent`: an intent read in this pass with exactly this
/// event, and no outcome for it since).
fn not_crash_shaped(record: &AuditRecord, closes_open_intent: bool) -> Option<&'static str> {
    let e = &record.event;
    match e.phase {
        Phase::Recovered => Some("it is a `recovered` record accepting nothing"),
        _ if e.accepted_seq.is_some() => {
            Some("it is an intent or outcome naming an accepted record")
        }
        Phase::Intent if e.outcome.is_some() => Some("it is an intent carrying an outcome"),
        Phase::Intent if e.action == AuditAction::Create && e.databricks_id.is_some() => {
            Some("it is a create intent carrying an object id")
        }
        Phase::Intent => None,
        // A standalone record: a crash can leave it beyond the head as is.
        Phase::Observed => None,
        Phase::Outcome if closes_open_intent => None,
        Phase::Outcome => Some("it is an outcome that closes no open intent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::head::Head;
    use crate::audit::record::{AuditEvent, Outcome, Trigger};
    use crate::model::{Kind, ResourceKey};

    fn log(records: usize) -> (Vec<u8>, Vec<AuditRecord>) {
        let mut prev = RecordHash::genesis();
        let mut out = Vec::new();
        let mut all = Vec::new();
        for i in 0..records {
            let key = ResourceKey {
                workspace: "w".into(),
                kind: Kind::Job,
                name: format!("j{}", i / 2),
            };
            let intent = AuditEvent::intent("a", &key, AuditAction::Update, Trigger::Controller);
            let event = if i % 2 == 0 {
                intent
            } else {
                intent.to_outcome(Some("1".into()), Outcome::Ok)
            };
            let r = AuditRecord::seal(i as u64 + 1, jiff::Timestamp::now(), prev, event).unwrap();
            out.extend_from_slice(r.to_line().unwrap().as_bytes());
            out.push(b'\n');
            prev = r.hash.clone();
            all.push(r);
        }
        (out, all)
    }

    fn run(
        data: &[u8],
        chunk: usize,
        head: &HeadState,
    ) -> Result<(Vec<(u64, usize)>, String), String> {
        let mut seen = Vec::new();
        let mut src = data;
        let mut intents = OpenIntents::default();
        let chain = read_chain(
            Path::new("t"),
            &mut src,
            chunk,
            &ChainStart::genesis(),
            head,
            &mut |r, end| {
                intents.see(r);
                seen.push((r.seq, end));
            },
        )
        .map_err(|e| e.to_string())?;
        let summary = format!(
            "{} {:?} {:?} {} {:?} {:?} {:?}",
            chain.last_seq,
            chain.last_hash,
            chain.at_head_seq,
            chain.complete_len,
            chain.last_line_start,
            chain.torn_at,
            chain.recent.iter().map(|r| r.seq).collect::<Vec<_>>()
        );
        Ok((seen, summary))
    }

    #[test]
    fn reading_in_chunks_of_any_size_is_reading_it_whole() {
        let (data, records) = log(7);
        let head = HeadState::Present(Head {
            seq: 5,
            hash: records[4].hash.clone(),
        });
        let mut torn = data.clone();
        torn.extend_from_slice(b"{\"seq\":8,");
        let mut bad = data.clone();
        let third = bad
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(2)
            .unwrap()
            .0;
        bad[third - 3] ^= 1;
        for input in [&data, &torn, &bad, &Vec::new()] {
            let whole = run(input, usize::MAX, &head);
            for chunk in 1..=input.len().max(1) + 1 {
                assert_eq!(run(input, chunk, &head), whole, "chunk {chunk}");
            }
        }
    }
}
