//! `mortar status` end to end: the real binary reading what the status
//! store persisted, with no server and no workspace.

use super::harness::{command, run};
use mortar::controller::status_store::StatusStore;
use mortar::model::status::{
    AppStatus, Condition, ConditionKind, ControllerStatus, Health, SourceStatus, SyncCounts,
    SyncResult, SyncRun, SyncStatus,
};

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn status() -> ControllerStatus {
    let mut root = AppStatus::unknown("platform");
    root.sync = SyncStatus::Synced;
    root.health = Health::Healthy;
    root.revision_seen = Some("0123456789abcdef0123456789abcdef01234567".into());
    root.revision_applied = root.revision_seen.clone();
    let mut child = AppStatus::unknown("analytics");
    child.parent = Some("platform".into());
    child.depth = 1;
    child.workspace = Some("prod".into());
    child.sync = SyncStatus::OutOfSync;
    child.health = Health::Degraded;
    child.revision_seen = Some("fedcba9876543210fedcba9876543210fedcba98".into());
    child.revision_applied = root.revision_seen.clone();
    child.last_sync = Some(SyncRun {
        started: at("2026-12-02T10:00:00Z"),
        finished: at("2026-12-02T10:00:05Z"),
        trigger: "webhook".into(),
        revision: child.revision_seen.clone(),
        author: Some("Bob <bob@example.com>".into()),
        result: SyncResult::Failed,
        counts: SyncCounts {
            created: 2,
            failed: 1,
            ..SyncCounts::default()
        },
        message: Some("Job/nightly: 400 INVALID_PARAMETER_VALUE".into()),
    });
    child.conditions = vec![Condition {
        kind: ConditionKind::SyncFailed,
        message: "the last sync failed".into(),
        since: at("2026-12-02T10:00:05Z"),
    }];
    ControllerStatus {
        source: SourceStatus {
            repository: "https://git.example.com/platform.git".into(),
            reference: "main".into(),
            head: child.revision_seen.clone(),
            last_fetch: Some(at("2026-12-02T10:00:00Z")),
            error: None,
            force_pushed: None,
        },
        apps: vec![root, child],
        updated: Some(at("2026-12-02T10:00:06Z")),
        replica: None,
    }
}

#[tokio::test]
async fn status_prints_the_persisted_tree_and_says_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mortar.yaml"), "state: { dir: state }\n").unwrap();

    let none = run(command(dir.path(), &["status"], true)).await;
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("no status yet"), "{none:?}");

    let saved = status();
    StatusStore::new(dir.path().join("state"))
        .save(&saved)
        .unwrap();

    let text = run(command(dir.path(), &["status"], true)).await;
    assert_eq!(text.code, 0, "{text:?}");
    let out = &text.stdout;
    assert!(
        out.contains("source https://git.example.com/platform.git @ main  head fedcba987654"),
        "{out}"
    );
    assert!(
        out.contains("\nplatform  Synced  Healthy  rev 0123456789ab\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\n  analytics  OutOfSync  Degraded  applied 0123456789ab  seen fedcba987654  workspace prod\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("last sync 2026-12-02T10:00:05Z (webhook): failed at fedcba987654, 2 created, 0 updated, 0 deleted, 1 failed"),
        "{out}"
    );
    assert!(
        out.contains("Job/nightly: 400 INVALID_PARAMETER_VALUE"),
        "{out}"
    );
    assert!(out.contains("! SyncFailed since"), "{out}");

    let json = run(command(dir.path(), &["status", "--output", "json"], true)).await;
    assert_eq!(json.code, 0, "{json:?}");
    let back: ControllerStatus = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(back, saved);

    let one = run(command(
        dir.path(),
        &["status", "--app", "analytics", "--output", "json"],
        true,
    ))
    .await;
    let back: ControllerStatus = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(back.apps.len(), 1);
    assert_eq!(back.apps[0].name, "analytics");

    let unknown = run(command(dir.path(), &["status", "--app", "nope"], true)).await;
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("no app named nope"), "{unknown:?}");

    std::fs::write(
        dir.path()
            .join("state")
            .join(mortar::controller::status_store::STATUS_FILE),
        "{ not json",
    )
    .unwrap();
    let corrupt = run(command(dir.path(), &["status"], true)).await;
    assert_eq!(corrupt.code, 1, "{corrupt:?}");
    assert!(corrupt.stderr.contains("is corrupt"), "{corrupt:?}");
    assert!(!corrupt.stderr.contains("panicked"), "{corrupt:?}");
}

#[tokio::test]
async fn audit_history_groups_the_trail_into_syncs() {
    use mortar::audit::{AuditAction, AuditEvent, AuditLog, Outcome, Trigger};
    use mortar::manifest::{Kind, ResourceKey};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mortar.yaml"), "state: { dir: state }\n").unwrap();
    let empty = run(command(dir.path(), &["audit", "history"], true)).await;
    assert_eq!(empty.code, 0, "{empty:?}");
    assert!(empty.stderr.contains("no syncs recorded yet"), "{empty:?}");

    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let log = AuditLog::open(dir.path().join("state/audit.jsonl")).unwrap();
    let call = |app: &str, name: &str, action, trigger: Trigger, rev: &str, ok: bool| {
        let key = ResourceKey {
            workspace: "prod".into(),
            kind: Kind::Job,
            name: name.into(),
        };
        let mut e = AuditEvent::intent(app, &key, action, trigger);
        e.revision = Some(rev.repeat(40));
        e.commit_author = Some("Bob <bob@example.com>".into());
        e.acting_as = Some("service principal mortar (1234)".into());
        log.append(&e).unwrap();
        let outcome = if ok {
            Outcome::Ok
        } else {
            Outcome::error("400 INVALID_PARAMETER_VALUE")
        };
        log.append(&e.to_outcome(Some("7".into()), outcome))
            .unwrap();
    };
    let alice = || Trigger::Cli("alice".into());
    call("analytics", "etl", AuditAction::Create, alice(), "a", true);
    call("platform", "p", AuditAction::Create, alice(), "a", true);
    call(
        "analytics",
        "report",
        AuditAction::Create,
        alice(),
        "a",
        true,
    );
    call(
        "analytics",
        "etl",
        AuditAction::Update,
        Trigger::Controller,
        "b",
        false,
    );
    // The next loop, a retry of the same update.
    call(
        "analytics",
        "etl",
        AuditAction::Update,
        Trigger::Controller,
        "b",
        true,
    );
    drop(log);

    let text = run(command(
        dir.path(),
        &["audit", "history", "--app", "analytics"],
        true,
    ))
    .await;
    assert_eq!(text.code, 0, "{text:?}");
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", text.stdout);
    assert!(lines[0].contains("  analytics  succeeded  rev bbbbbbbbbbbb  by controller as service principal mortar (1234)  commit by Bob <bob@example.com>  0 created, 1 updated, 0 deleted"), "{}", lines[0]);
    assert!(
        lines[1].contains("  analytics  failed  rev bbbbbbbbbbbb  by controller"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with("0 created, 0 updated, 0 deleted, 1 failed"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("  analytics  succeeded  rev aaaaaaaaaaaa  by cli:alice as service principal mortar (1234)"), "{}", lines[2]);
    assert!(
        lines[2].ends_with("2 created, 0 updated, 0 deleted"),
        "{}",
        lines[2]
    );

    let json = run(command(
        dir.path(),
        &["audit", "history", "--limit", "1", "--output", "json"],
        true,
    ))
    .await;
    assert_eq!(json.code, 0, "{json:?}");
    let entries: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "one per app");
    assert_eq!(entries[0]["app"], "analytics");
    assert_eq!(entries[0]["result"], "succeeded");
    assert_eq!(entries[1]["app"], "platform");
    assert_eq!(entries[1]["person"], "alice");
    assert_eq!(entries[1]["trigger"], "cli");
    assert_eq!(entries[1]["counts"]["created"], 1);
}
