//! A readable history from audit records: one line per change, pairing each
//! intent with its outcome; an intent without an outcome reads as
//! interrupted.

use std::collections::HashMap;

use jiff::Timestamp;

use super::record::{AuditRecord, Phase};

/// Which changes to show.
#[derive(Debug, Clone, Default)]
pub struct ShowFilter {
    pub app: Option<String>,
    /// Only changes at or after this time.
    pub since: Option<Timestamp>,
}

/// One change as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub time: Timestamp,
    pub app: String,
    pub workspace: String,
    pub action: String,
    pub key: String,
    pub id: Option<String>,
    pub outcome: String,
    pub who: String,
    pub revision: Option<String>,
    pub seq: u64,
}

impl std::fmt::Display for HistoryLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let revision = self
            .revision
            .as_deref()
            .map(|r| r.get(..12).unwrap_or(r))
            .unwrap_or("-");
        write!(
            f,
            "{}  {}  {}  {}  {}  id={}  {}  by {}  rev {}",
            self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            self.app,
            self.workspace,
            self.action,
            self.key,
            self.id.as_deref().unwrap_or("-"),
            self.outcome,
            self.who,
            revision
        )
    }
}

/// Pairs intents with outcomes and applies the filter, oldest first.
pub fn history(records: &[AuditRecord], filter: &ShowFilter) -> Vec<HistoryLine> {
    let mut lines: Vec<Option<HistoryLine>> = Vec::new();
    let mut pending: HashMap<(String, String, &'static str), usize> = HashMap::new();
    for record in records {
        let e = &record.event;
        let who = match &e.acting_as {
            Some(identity) => format!("{} as {identity}", e.triggered_by),
            None => e.triggered_by.to_string(),
        };
        let line = HistoryLine {
            time: record.timestamp,
            app: e.app.clone(),
            workspace: e.workspace.clone(),
            action: match e.phase {
                Phase::Recovered => "recovered".to_string(),
                _ => e.action.as_str().to_string(),
            },
            key: e.key.clone(),
            id: e.databricks_id.clone(),
            outcome: match (e.phase, e.accepted_seq, &e.outcome) {
                (Phase::Recovered, Some(seq), _) => {
                    format!("accepted seq {seq}, left beyond the head by a crash")
                }
                (_, _, Some(outcome)) => outcome.to_string(),
                (Phase::Observed, _, None) => "observed".to_string(),
                (_, _, None) => "interrupted (no outcome recorded)".to_string(),
            },
            who,
            revision: e.revision.clone(),
            seq: record.seq,
        };
        let slot = (e.app.clone(), e.key.clone(), e.action.as_str());
        match e.phase {
            Phase::Intent => {
                pending.insert(slot, lines.len());
                lines.push(Some(line));
            }
            Phase::Outcome => {
                if let Some(i) = pending.remove(&slot) {
                    lines[i] = None;
                }
                lines.push(Some(line));
            }
            Phase::Recovered | Phase::Observed => lines.push(Some(line)),
        }
    }
    lines
        .into_iter()
        .flatten()
        .filter(|l| filter.app.as_ref().is_none_or(|a| *a == l.app))
        .filter(|l| filter.since.is_none_or(|t| l.time >= t))
        .collect()
}

/// Parses every line that is a record, skipping the rest (show is for
/// reading; verify is for judging).
pub fn parse_lenient(data: &[u8]) -> Vec<AuditRecord> {
    data.split(|b| *b == b'\n')
        .filter_map(|raw| serde_json::from_slice(raw).ok())
        .collect()
}
