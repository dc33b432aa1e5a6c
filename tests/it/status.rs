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
        },
        apps: vec![root, child],
        updated: Some(at("2026-12-02T10:00:06Z")),
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
