//! Crash recovery from the write-ahead audit trail: a create whose intent
//! was recorded but whose outcome never was (the process died during the
//! call) may have created the object. For kinds that cannot carry ownership
//! tags, the next run finds it by name only; the dangling intent says it is
//! Mortar's, so it is taken back into the inventory instead of being
//! reported as a conflict.

use std::collections::BTreeSet;
use std::path::Path;

use crate::audit::{AuditAction, Phase, show};

/// `(app, key)` of every create intent left without an outcome.
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
        if e.phase == Phase::Intent && e.action == AuditAction::Create {
            open.insert(id);
        } else {
            open.remove(&id);
        }
    }
    Ok(open)
}
