//! What a crash can leave at the end of a log, and what may be accepted.
//!
//! [`AuditLog`](super::AuditLog) appends a record, fsyncs it, then replaces
//! the head sidecar; a crash can therefore leave exactly one of:
//!
//! - an incomplete last line beyond the head (cut off on reopen);
//! - one complete record beyond the head, which is an intent as Mortar
//!   writes it, or the outcome of the intent just before it (accepted on
//!   reopen with an explicit `recovered` record naming its sequence number);
//! - that record and the `recovered` record naming it, when the crash hit
//!   while the acceptance itself was being written (the head is moved).
//!
//! Anything else beyond the head — two or more records, a record of another
//! shape — is tampering and is refused, so that reopening a log can never
//! make a forged record pass verification. Readers (plan's recovery step)
//! apply the same judgement without changing anything.

use super::AuditError;
use super::head::HeadState;
use super::record::{AuditAction, AuditRecord, Phase, RecordHash};
use super::verify::{self, ChainStart, Problem};
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

/// Judges `data` (the log from just after `start`) against `head`: Ok when
/// it verifies or differs from its head only as a crash can leave it.
/// `visit` sees every verified record (see [`verify::check_chain`]).
pub(crate) fn assess(
    path: &Path,
    data: &[u8],
    start: &ChainStart,
    head: &HeadState,
    visit: &mut dyn FnMut(&AuditRecord, usize),
) -> Result<Assessed, AuditError> {
    let chain = verify::check_chain(data, start, head, None, visit).map_err(AuditError::Broken)?;
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
            crash_shape(last, at(1).filter(|_| head_seq > 0))
                .map_err(|reason| tampered(last.seq, reason))?;
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
            crash_shape(accepted, at(2).filter(|_| head_seq > 0))
                .map_err(|reason| tampered(accepted.seq, reason))?;
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

/// Ok when `record` is what a crash between its append and the head update
/// can leave after `prev` (the record the head names, `None` at the start
/// of the log): an intent as Mortar writes it, or the outcome of `prev`.
fn crash_shape(record: &AuditRecord, prev: Option<&AuditRecord>) -> Result<(), String> {
    let e = &record.event;
    if e.phase == Phase::Recovered {
        return Err("it is a `recovered` record accepting nothing".into());
    }
    if e.accepted_seq.is_some() {
        return Err("it is an intent or outcome naming an accepted record".into());
    }
    if let Some(prev) = prev
        && record.timestamp < prev.timestamp
    {
        return Err("it is dated before the record the head names".into());
    }
    match e.phase {
        Phase::Intent => {
            if e.outcome.is_some() {
                return Err("it is an intent carrying an outcome".into());
            }
            if e.action == AuditAction::Create && e.databricks_id.is_some() {
                return Err("it is a create intent carrying an object id".into());
            }
            Ok(())
        }
        Phase::Outcome => {
            let Some(prev) = prev.filter(|p| p.event.phase == Phase::Intent) else {
                return Err("it is an outcome that does not follow its intent".into());
            };
            let Some(outcome) = e.outcome.clone() else {
                return Err("it is an outcome without an outcome".into());
            };
            if prev.event.to_outcome(e.databricks_id.clone(), outcome) != *e {
                return Err("it is an outcome that does not match the intent before it".into());
            }
            Ok(())
        }
        Phase::Recovered => Err("it is a `recovered` record".into()),
    }
}
