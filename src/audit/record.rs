//! The audit record: what one event says, how it is sealed into the hash
//! chain, and its one canonical line.
//!
//! A record's line is `serde_json::to_string` of [`AuditRecord`] (fields in
//! declaration order, no whitespace). Its hash is SHA-256 over a fixed prefix
//! and the same serialization without the `hash` field, so it covers the
//! sequence number, the timestamp, the previous record's hash and the event.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{FieldChange, Kind, PermissionChange, Principal, ResourceKey, mask};

/// A record's SHA-256 as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordHash(pub String);

impl RecordHash {
    /// The `prev_hash` of the first record.
    pub fn genesis() -> RecordHash {
        RecordHash("0".repeat(64))
    }
}

impl fmt::Display for RecordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Write-ahead pairs: an intent before the API call, an outcome after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Intent,
    Outcome,
    /// Written on opening the log: the record named by `accepted_seq` was
    /// left beyond the head by a crash and has been accepted into the chain.
    Recovered,
    /// Something the controller saw, with no API call of its own: drift
    /// on an object, a revision it refused. Stands alone (no pair).
    Observed,
}

/// What Mortar did (or set out to do) to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Adopt,
    /// An update that puts back a change made outside Mortar.
    Heal,
    /// Replacing the object's direct ACL.
    SetPermissions,
    /// The object was changed outside Mortar (an `observed` record).
    DriftDetected,
    /// The source's head was refused (unsigned, untrusted): an `observed`
    /// record about the app, naming the refused revision.
    RevisionRefused,
    /// A new credential for a service principal (its id and fingerprint,
    /// never its value).
    RotateCreate,
    /// A new credential written where its consumers read it.
    RotateDeliver,
    /// A credential Mortar created revoked: after its successor's overlap,
    /// or because it was never delivered.
    RotateRevoke,
    /// Someone asked through the API for a sync of the app (an `observed`
    /// record naming them; the sync's own records follow).
    SyncRequested,
    /// Someone asked for a drift check of the app now.
    RefreshRequested,
    /// Someone pinned the app to an earlier revision.
    RollbackRequested,
    /// Someone paused the app's automated sync.
    PauseRequested,
    /// Someone resumed the app's automated sync.
    ResumeRequested,
    /// The access policy refused someone an action on the app.
    AccessDenied,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Adopt => "adopt",
            AuditAction::Heal => "heal",
            AuditAction::SetPermissions => "set_permissions",
            AuditAction::DriftDetected => "drift_detected",
            AuditAction::RevisionRefused => "revision_refused",
            AuditAction::RotateCreate => "rotate_create",
            AuditAction::RotateDeliver => "rotate_deliver",
            AuditAction::RotateRevoke => "rotate_revoke",
            AuditAction::SyncRequested => "sync_requested",
            AuditAction::RefreshRequested => "refresh_requested",
            AuditAction::RollbackRequested => "rollback_requested",
            AuditAction::PauseRequested => "pause_requested",
            AuditAction::ResumeRequested => "resume_requested",
            AuditAction::AccessDenied => "access_denied",
        }
    }

    /// A step of a credential rotation: not part of any sync.
    pub fn is_rotation(self) -> bool {
        matches!(
            self,
            AuditAction::RotateCreate | AuditAction::RotateDeliver | AuditAction::RotateRevoke
        )
    }
}

/// Who set the change in motion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A person running the CLI (their login name).
    Cli(String),
    /// The controller's own sync loop (records written before it named why).
    Controller,
    /// A request to Mortar's HTTP API by an authenticated user.
    Api(String),
    /// The controller's sync loop, and what set it off: `startup`, `poll`,
    /// `webhook`, `drift`, `retry`, `manual`, `rollback`.
    Sync(String),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Cli(user) => write!(f, "cli:{user}"),
            Trigger::Controller => f.write_str("controller"),
            Trigger::Api(user) => write!(f, "api:{user}"),
            Trigger::Sync(why) => write!(f, "controller:{why}"),
        }
    }
}

/// How the API call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Error(String),
}

impl Outcome {
    /// A failure; anything in the message that looks like a credential is masked.
    pub fn error(message: &str) -> Outcome {
        let scrubbed: Vec<&str> = message
            .split(' ')
            .map(|word| {
                if mask::looks_secret(word.trim_matches(|c: char| !c.is_ascii_alphanumeric())) {
                    mask::SENSITIVE
                } else {
                    word
                }
            })
            .collect();
        Outcome::Error(scrubbed.join(" "))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Error(msg) => write!(f, "error: {msg}"),
        }
    }
}

/// One changed field as recorded: a path and the old and new values as
/// compact JSON text (`None` = absent), secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSummary {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl ChangeSummary {
    /// From a plan's field change, masking again whatever looks sensitive.
    pub fn from_field(change: &FieldChange) -> ChangeSummary {
        let segments: Vec<&str> = change.path.split('/').collect();
        let sensitive = change.sensitive || mask::is_sensitive_path(&segments);
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref().map(|v| mask::mask_at(sensitive, v).to_string())
        };
        ChangeSummary {
            path: change.path.clone(),
            old: show(&change.old),
            new: show(&change.new),
        }
    }

    /// From a plan's permission change: path `permissions/<principal type>/<name>`.
    pub fn from_permission(change: &PermissionChange) -> ChangeSummary {
        let (field, name) = match &change.principal {
            Principal::UserName(n) => ("user_name", n),
            Principal::GroupName(n) => ("group_name", n),
            Principal::ServicePrincipalName(n) => ("service_principal_name", n),
        };
        ChangeSummary {
            path: format!("permissions/{field}/{name}"),
            old: change.old.clone(),
            new: change.new.clone(),
        }
    }
}

/// One event, before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    pub phase: Phase,
    pub app: String,
    pub workspace: String,
    pub kind: Kind,
    /// `workspace/Kind/name`.
    pub key: String,
    /// The Databricks id; absent in a create's intent.
    pub databricks_id: Option<String>,
    pub action: AuditAction,
    pub changes: Vec<ChangeSummary>,
    /// The Git commit the desired state came from.
    pub revision: Option<String>,
    pub commit_author: Option<String>,
    /// The identity Mortar called the API as (from `Me`).
    pub acting_as: Option<String>,
    pub triggered_by: Trigger,
    /// `None` for intents.
    pub outcome: Option<Outcome>,
    /// In a `recovered` record only: the sequence number of the record it
    /// accepted. Absent from every other record's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_seq: Option<u64>,
    /// The apply this record belongs to: every record of one apply carries
    /// the same id, so history groups a sync's records without guessing.
    /// Absent from records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<String>,
    /// Why the change is made, when a guard asked for it (an agent's grant
    /// outside its approved data being revoked). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A rotation step's credential, as the first 12 hex digits of the
    /// SHA-256 of its value (never the value). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Who asked, in a record of a request to the API: the subject, email
    /// and groups their IdP vouched for. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<Requester>,
}

/// How the trail names a person or bot: `subject <email>`, or the subject
/// alone when there is no email (or it is the subject).
pub fn person(subject: &str, email: Option<&str>) -> String {
    match email {
        Some(email) if email != subject => format!("{subject} <{email}>"),
        _ => subject.to_string(),
    }
}

/// A person or bot that asked something of Mortar through its API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// `session`, `bearer` or `loopback`.
    pub proof: String,
}

impl AuditEvent {
    /// An intent for `action` on `key`, with nothing else filled in.
    pub fn intent(
        app: &str,
        key: &ResourceKey,
        action: AuditAction,
        triggered_by: Trigger,
    ) -> AuditEvent {
        AuditEvent {
            phase: Phase::Intent,
            app: app.to_string(),
            workspace: key.workspace.clone(),
            kind: key.kind,
            key: key.to_string(),
            databricks_id: None,
            action,
            changes: Vec::new(),
            revision: None,
            commit_author: None,
            acting_as: None,
            triggered_by,
            outcome: None,
            accepted_seq: None,
            sync_id: None,
            reason: None,
            fingerprint: None,
            requested_by: None,
        }
    }

    /// An `observed` record: something seen, no call made.
    pub fn observed(
        app: &str,
        key: &ResourceKey,
        action: AuditAction,
        triggered_by: Trigger,
    ) -> AuditEvent {
        AuditEvent {
            phase: Phase::Observed,
            ..AuditEvent::intent(app, key, action, triggered_by)
        }
    }

    /// The `recovered` record accepting `record` (left beyond the head by a
    /// crash): it repeats what the accepted record is about and names its
    /// sequence number.
    pub fn recovered(record: &AuditRecord) -> AuditEvent {
        AuditEvent {
            phase: Phase::Recovered,
            changes: Vec::new(),
            outcome: None,
            accepted_seq: Some(record.seq),
            ..record.event.clone()
        }
    }

    /// The outcome record that closes this intent.
    pub fn to_outcome(&self, databricks_id: Option<String>, outcome: Outcome) -> AuditEvent {
        AuditEvent {
            phase: Phase::Outcome,
            databricks_id: databricks_id.or_else(|| self.databricks_id.clone()),
            outcome: Some(outcome),
            ..self.clone()
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// 1 for the first record, then +1 per record.
    pub seq: u64,
    pub timestamp: Timestamp,
    /// The previous record's hash ([`RecordHash::genesis`] for the first).
    pub prev_hash: RecordHash,
    pub event: AuditEvent,
    /// This record's hash.
    pub hash: RecordHash,
}

/// What the hash covers: the record without its own hash.
#[derive(Serialize)]
struct Sealed<'a> {
    seq: u64,
    timestamp: &'a Timestamp,
    prev_hash: &'a RecordHash,
    event: &'a AuditEvent,
}

const DOMAIN: &[u8] = b"mortar-audit-v1\n";

/// The hash of a record with these contents.
pub fn compute_hash(
    seq: u64,
    timestamp: &Timestamp,
    prev_hash: &RecordHash,
    event: &AuditEvent,
) -> Result<RecordHash, serde_json::Error> {
    let body = serde_json::to_vec(&Sealed {
        seq,
        timestamp,
        prev_hash,
        event,
    })?;
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(&body);
    Ok(RecordHash(hex::encode(hasher.finalize())))
}

impl AuditRecord {
    /// Seals an event as the record after `prev`.
    pub fn seal(
        seq: u64,
        timestamp: Timestamp,
        prev_hash: RecordHash,
        event: AuditEvent,
    ) -> Result<AuditRecord, serde_json::Error> {
        let hash = compute_hash(seq, &timestamp, &prev_hash, &event)?;
        Ok(AuditRecord {
            seq,
            timestamp,
            prev_hash,
            event,
            hash,
        })
    }

    /// The record's canonical line, without the newline.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// True when `hash` matches the contents.
    pub fn hash_is_valid(&self) -> bool {
        compute_hash(self.seq, &self.timestamp, &self.prev_hash, &self.event)
            .is_ok_and(|h| h == self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(action: AuditAction) -> AuditEvent {
        let key = ResourceKey {
            workspace: "prod".into(),
            kind: Kind::Job,
            name: "etl".into(),
        };
        let mut e = AuditEvent::intent("a", &key, action, Trigger::Controller);
        e.databricks_id = Some("12".into());
        e.changes = vec![
            ChangeSummary::from_field(&FieldChange {
                path: "/timeout_seconds".into(),
                old: Some(json!(1)),
                new: None,
                drift: true,
                sensitive: false,
            }),
            ChangeSummary::from_permission(&PermissionChange {
                principal: Principal::GroupName("analysts".into()),
                old: None,
                new: Some("CAN_VIEW".into()),
                drift: false,
            }),
        ];
        e
    }

    #[test]
    fn changes_are_summarized_and_outcomes_follow_their_intent() {
        let e = intent(AuditAction::Heal);
        assert_eq!(e.phase, Phase::Intent);
        assert_eq!(e.key, "prod/Job/etl");
        assert_eq!(
            e.changes,
            vec![
                ChangeSummary {
                    path: "/timeout_seconds".into(),
                    old: Some("1".into()),
                    new: None
                },
                ChangeSummary {
                    path: "permissions/group_name/analysts".into(),
                    old: None,
                    new: Some("CAN_VIEW".into())
                },
            ]
        );
        let done = e.to_outcome(None, Outcome::Ok);
        assert_eq!(done.phase, Phase::Outcome);
        assert_eq!(done.action, AuditAction::Heal);
        assert_eq!(done.databricks_id.as_deref(), Some("12"));
    }

    #[test]
    fn records_round_trip_through_their_canonical_line() {
        let mut e = intent(AuditAction::Create);
        e.triggered_by = Trigger::Cli("al".into());
        let r = AuditRecord::seal(1, Timestamp::now(), RecordHash::genesis(), e).unwrap();
        let line = r.to_line().unwrap();
        let back: AuditRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.to_line().unwrap(), line);
        assert!(back.hash_is_valid());
        let mut edited = back;
        edited.event.app = "b".into();
        assert!(!edited.hash_is_valid());
    }

    #[test]
    fn error_messages_are_scrubbed() {
        let token = format!("dapi{}", "12".repeat(16));
        let outcome = Outcome::error(&format!("401 Unauthorized for token '{token}'"));
        assert_eq!(
            outcome,
            Outcome::Error("401 Unauthorized for token (sensitive)".into())
        );
    }
}
