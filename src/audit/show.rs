//! A readable history from audit records: one line per change, pairing each
//! intent with its outcome; an intent without an outcome reads as
//! interrupted. Several chains (one per replica) merge into one history by
//! time, each keeping its own order.

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
    /// The chain the line comes from, when several are shown together.
    pub chain: Option<String>,
}

impl std::fmt::Display for HistoryLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let revision = self
            .revision
            .as_deref()
            .map(|r| r.get(..12).unwrap_or(r))
            .unwrap_or("-");
        write!(f, "{}  ", self.time.strftime("%Y-%m-%dT%H:%M:%SZ"))?;
        if let Some(chain) = &self.chain {
            write!(f, "[{chain}]  ")?;
        }
        write!(
            f,
            "{}  {}  {}  {}  id={}  {}  by {}  rev {}",
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
            id: match (&e.databricks_id, &e.fingerprint) {
                (Some(id), Some(fp)) => Some(format!("{id} fingerprint={fp}")),
                (id, _) => id.clone(),
            },
            outcome: match (e.phase, e.accepted_seq, &e.outcome) {
                (Phase::Recovered, Some(seq), _) => {
                    format!("accepted seq {seq}, left beyond the head by a crash")
                }
                (_, _, Some(outcome)) => match &e.reason {
                    Some(reason) => format!("{outcome} ({reason})"),
                    None => outcome.to_string(),
                },
                (Phase::Observed, _, None) => "observed".to_string(),
                (_, _, None) => "interrupted (no outcome recorded)".to_string(),
            },
            who,
            revision: e.revision.clone(),
            seq: record.seq,
            chain: None,
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

/// The histories of several chains (name, records) as one, oldest first.
/// Intents pair with outcomes within their own chain only; lines are
/// merged by time, ties going to the chain named first, and each chain's
/// lines keep their order even where its clock stepped back.
pub fn merged_history(
    chains: &[(String, Vec<AuditRecord>)],
    filter: &ShowFilter,
) -> Vec<HistoryLine> {
    let mut queues: Vec<std::collections::VecDeque<HistoryLine>> = chains
        .iter()
        .map(|(name, records)| {
            history(records, filter)
                .into_iter()
                .map(|mut line| {
                    line.chain = Some(name.clone());
                    line
                })
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(queues.iter().map(|q| q.len()).sum());
    while let Some(next) = queues
        .iter()
        .enumerate()
        .filter_map(|(i, q)| q.front().map(|line| (line.time, i)))
        .min()
        .map(|(_, i)| i)
    {
        out.extend(queues[next].pop_front());
    }
    out
}

/// Parses every line that is a record, skipping the rest (show is for
/// reading; verify is for judging).
pub fn parse_lenient(data: &[u8]) -> Vec<AuditRecord> {
    data.split(|b| *b == b'\n')
        .filter_map(|raw| serde_json::from_slice(raw).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::{AuditAction, AuditEvent, Outcome, RecordHash, Trigger};
    use crate::model::{Kind, ResourceKey};

    /// A chain of `(second, phase, key)` records, sealed in order.
    fn chain(entries: &[(i64, Phase, &str)]) -> Vec<AuditRecord> {
        let mut prev = RecordHash::genesis();
        let mut out = Vec::new();
        for (i, (second, phase, name)) in entries.iter().enumerate() {
            let key = ResourceKey {
                workspace: "prod".into(),
                kind: Kind::Group,
                name: name.to_string(),
            };
            let intent = AuditEvent::intent("team", &key, AuditAction::Create, Trigger::Controller);
            let event = match phase {
                Phase::Outcome => intent.to_outcome(Some("7".into()), Outcome::Ok),
                _ => intent,
            };
            let at = Timestamp::from_second(*second).unwrap();
            let record = AuditRecord::seal(i as u64 + 1, at, prev, event).unwrap();
            prev = record.hash.clone();
            out.push(record);
        }
        out
    }

    #[test]
    fn chains_merge_by_time_and_pair_only_within_themselves() {
        let a = chain(&[
            (10, Phase::Intent, "g1"),
            (11, Phase::Outcome, "g1"),
            // Replica a died here with g2 in flight.
            (30, Phase::Intent, "g2"),
        ]);
        // Replica b's clock stepped back between its two records.
        let b = chain(&[(20, Phase::Outcome, "g2"), (15, Phase::Intent, "g3")]);
        let chains = vec![("a".to_string(), a), ("b".to_string(), b)];
        let lines = merged_history(&chains, &ShowFilter::default());
        let got: Vec<(i64, &str, &str, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l.time.as_second(),
                    l.chain.as_deref().unwrap(),
                    l.key.as_str(),
                    l.outcome.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (11, "a", "prod/Group/g1", "ok"),
                (20, "b", "prod/Group/g2", "ok"),
                (
                    15,
                    "b",
                    "prod/Group/g3",
                    "interrupted (no outcome recorded)"
                ),
                (
                    30,
                    "a",
                    "prod/Group/g2",
                    "interrupted (no outcome recorded)"
                ),
            ]
        );
        assert!(
            lines[1]
                .to_string()
                .contains("[b]  team  prod  create  prod/Group/g2")
        );
        let only_late = merged_history(
            &chains,
            &ShowFilter {
                app: None,
                since: Some(Timestamp::from_second(16).unwrap()),
            },
        );
        assert_eq!(only_late.len(), 2);
    }
}
