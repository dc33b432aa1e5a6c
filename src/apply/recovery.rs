//! Crash recovery from the write-ahead audit trail: a create whose intent
//! was recorded but whose outcome never was (the process died during the
//! call) may have created the object, and one whose successful outcome was
//! recorded did, even if the process died before saving the inventory. For kinds that cannot carry ownership
//! tags, the next run finds it by name only; the dangling intent says it is
//! Mortar's, so it is taken back into the inventory instead of being
//! reported as a conflict.

use std::collections::BTreeSet;
use std::path::Path;

use crate::audit::{AuditAction, Outcome, Phase, show};

/// `(app, key)` of every create whose last record is its intent or its
/// successful outcome (anything recorded later for the key means the
/// inventory was saved in between).
pub fn dangling_creates(audit_file: &Path) -> std::io::Result<BTreeSet<(String, String)>> {
    let data = match std::fs::read(audit_file) {
        Ok(d) => d,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(err) => return Err(err),
    };
    let mut open = BTreeSet::new();
    for record in show::parse_lenient(&data) {
        let e = &record.event;
        let id = (e.app.clone(), e.key.clone());
        let created = e.action == AuditAction::Create
            && (e.phase == Phase::Intent || e.outcome == Some(Outcome::Ok));
        if created {
            open.insert(id);
        } else {
            open.remove(&id);
        }
    }
    Ok(open)
}
