//! The audit trail end to end: logs written by the library, tampered with
//! on disk, judged by the real `mortar audit verify` / `show` binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::harness::{Out, error_chain, run_blocking};
use mortar::audit::{
    AuditAction, AuditError, AuditEvent, AuditLog, AuditRecord, ChangeSummary, Outcome, Trigger,
};
use mortar::manifest::{Kind, ResourceKey};
use mortar::plan::FieldChange;
use serde_json::json;

fn key(kind: Kind, name: &str) -> ResourceKey {
    ResourceKey {
        workspace: "prod".into(),
        kind,
        name: name.into(),
    }
}

fn intent(app: &str, name: &str, action: AuditAction) -> AuditEvent {
    let mut e = AuditEvent::intent(
        app,
        &key(Kind::Job, name),
        action,
        Trigger::Cli("alice".into()),
    );
    e.revision = Some("0123456789abcdef0123456789abcdef01234567".into());
    e.commit_author = Some("Bob <bob@example.com>".into());
    e.acting_as = Some("mortar-sp".into());
    e
}

/// A log of `pairs` intent/outcome pairs (2 × pairs records).
fn write_log(dir: &Path, pairs: usize) -> PathBuf {
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    for i in 0..pairs {
        let app = if i % 2 == 0 { "analytics" } else { "platform" };
        let e = intent(app, &format!("job-{i}"), AuditAction::Update);
        log.append(&e).unwrap();
        log.append(&e.to_outcome(Some(format!("{}", 100 + i)), Outcome::Ok))
            .unwrap();
    }
    path
}

/// A log of two minimal records, for exhaustive byte flipping.
fn write_tiny_log(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let e = AuditEvent::intent(
        "a",
        &key(Kind::Job, "j"),
        AuditAction::Create,
        Trigger::Controller,
    );
    log.append(&e).unwrap();
    log.append(&e.to_outcome(Some("7".into()), Outcome::Ok))
        .unwrap();
    path
}

fn verify(path: &Path) -> Out {
    run_blocking(&["audit", "verify", path.to_str().unwrap()])
}

fn assert_fails_at(path: &Path, line: usize, seq: u64, why: &str) {
    let run = verify(path);
    assert_eq!(run.code, 1, "stdout: {} stderr: {}", run.stdout, run.stderr);
    let named = format!("record at line {line} (seq {seq})");
    assert!(
        run.stderr.contains(&named),
        "expected `{named}` in: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(why),
        "expected `{why}` in: {}",
        run.stderr
    );
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_untouched_log_verifies_and_prints_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let head = std::fs::read_to_string(dir.path().join("audit.jsonl.head")).unwrap();
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("6 records"), "{}", run.stdout);
    let last: AuditRecord = serde_json::from_str(lines(&path).last().unwrap()).unwrap();
    assert!(run.stdout.contains(&last.hash.0), "{}", run.stdout);
    assert!(head.contains(&last.hash.0));
}

#[test]
fn an_edited_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut l = lines(&path);
    assert!(l[2].contains("\"app\":\"platform\""));
    l[2] = l[2].replace("\"app\":\"platform\"", "\"app\":\"platforn\"");
    write_lines(&path, &l);
    assert_fails_at(&path, 3, 3, "does not match its hash");
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_chain_at_the_next_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut l = lines(&path);
    let mut rec: AuditRecord = serde_json::from_str(&l[2]).unwrap();
    rec.event.databricks_id = Some("999".into());
    let forged = AuditRecord::seal(rec.seq, rec.timestamp, rec.prev_hash, rec.event).unwrap();
    l[2] = forged.to_line().unwrap();
    write_lines(&path, &l);
    assert_fails_at(&path, 4, 4, "prev_hash does not match");
}

#[test]
fn a_reformatted_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let mut l = lines(&path);
    l[1] = l[1].replacen("{\"seq\":2,", "{\"seq\": 2,", 1);
    write_lines(&path, &l);
    assert_fails_at(&path, 2, 2, "canonical");
}

#[test]
fn every_single_byte_flip_is_detected_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tiny_log(dir.path());
    let original = std::fs::read(&path).unwrap();
    assert_eq!(verify(&path).code, 0);
    let mut line = 1;
    for pos in 0..original.len() {
        let mut tampered = original.clone();
        tampered[pos] ^= 0x01;
        std::fs::write(&path, &tampered).unwrap();
        let run = verify(&path);
        assert_eq!(
            run.code, 1,
            "flip at byte {pos} went unnoticed: {}",
            run.stdout
        );
        let named = format!("record at line {line} (seq {line})");
        assert!(
            run.stderr.contains(&named),
            "flip at byte {pos}: expected `{named}` in {}",
            run.stderr
        );
        if original[pos] == b'\n' {
            line += 1;
        }
    }
}

#[test]
fn a_deleted_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut l = lines(&path);
    l.remove(1);
    write_lines(&path, &l);
    assert_fails_at(&path, 2, 2, "sequence number 3 where 2 was expected");
}

#[test]
fn swapped_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut l = lines(&path);
    l.swap(3, 4);
    write_lines(&path, &l);
    assert_fails_at(&path, 4, 4, "sequence number 5 where 4 was expected");
}

#[test]
fn records_cut_off_the_end_are_named_from_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut l = lines(&path);
    l.truncate(4);
    write_lines(&path, &l);
    assert_fails_at(&path, 5, 5, "the head records seq 6");
    std::fs::write(&path, b"").unwrap();
    assert_fails_at(&path, 1, 1, "the head records seq 6");
}

#[test]
fn a_log_cut_mid_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let data = std::fs::read(&path).unwrap();
    std::fs::write(&path, &data[..data.len() - 40]).unwrap();
    assert_fails_at(&path, 6, 6, "incomplete");
}

#[test]
fn a_missing_edited_or_stale_head_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let head_path = dir.path().join("audit.jsonl.head");
    let stale = std::fs::read(&head_path).unwrap();
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("analytics", "late", AuditAction::Delete))
            .unwrap();
    }
    assert_eq!(verify(&path).code, 0);
    let fresh = std::fs::read(&head_path).unwrap();

    std::fs::write(&head_path, &stale).unwrap();
    assert_fails_at(&path, 5, 5, "beyond the head");

    let edited =
        String::from_utf8(fresh.clone())
            .unwrap()
            .replacen("\"hash\":\"", "\"hash\":\"f", 1);
    std::fs::write(&head_path, edited).unwrap();
    assert_fails_at(&path, 5, 5, "different hash for seq 5");

    std::fs::remove_file(&head_path).unwrap();
    assert_fails_at(&path, 5, 5, "head file is missing");
}

#[test]
fn show_prints_one_line_per_change_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("platform", "crashed", AuditAction::Create))
            .unwrap();
    }
    let p = path.to_str().unwrap();
    let all = run_blocking(&["audit", "show", p]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let shown: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(shown.len(), 4, "{}", all.stdout);
    assert!(shown[0].contains("analytics  prod  update  prod/Job/job-0  id=100  ok  by cli:alice as mortar-sp  rev 0123456789ab"), "{}", shown[0]);
    assert!(shown[3].contains("prod/Job/crashed") && shown[3].contains("interrupted"));

    let only = run_blocking(&["audit", "show", p, "--app", "analytics"]);
    assert_eq!(only.stdout.lines().count(), 2, "{}", only.stdout);
    assert!(only.stdout.lines().all(|l| l.contains("analytics")));

    let future = run_blocking(&["audit", "show", p, "--since", "2999-01-01"]);
    assert_eq!(future.code, 0);
    assert_eq!(future.stdout.trim(), "");
    let recent = run_blocking(&["audit", "show", p, "--since", "1h"]);
    assert_eq!(recent.stdout.lines().count(), 4);

    let mut l = lines(&path);
    l.remove(0);
    write_lines(&path, &l);
    let broken = run_blocking(&["audit", "show", p]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("does not verify"),
        "{}",
        broken.stderr
    );
}

#[test]
fn chains_of_several_replicas_are_verified_each_and_shown_as_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_log(&dir.path().join("mortar-0"), 2);
    let second = dir.path().join("mortar-1").join("audit.jsonl");
    {
        let log = AuditLog::open(&second).unwrap();
        log.append(&intent("platform", "taken-over", AuditAction::Create))
            .unwrap();
    }
    let (a, b) = (first.to_str().unwrap(), second.to_str().unwrap());

    let ok = run_blocking(&["audit", "verify", a, b]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.stdout.lines().count(), 2, "{}", ok.stdout);
    assert!(
        ok.stdout.contains(&format!("{a}: ok, 4 records")),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains(&format!("{b}: ok, 1 records")),
        "{}",
        ok.stdout
    );

    let shown = run_blocking(&["audit", "show", a, b]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let merged: Vec<&str> = shown.stdout.lines().collect();
    assert_eq!(merged.len(), 3, "{}", shown.stdout);
    // The second log was written last: its change comes last, named by its log.
    assert!(
        merged[0].contains(&format!("[{a}]")) && merged[0].contains("job-0"),
        "{}",
        merged[0]
    );
    assert!(
        merged[1].contains(&format!("[{a}]")) && merged[1].contains("job-1"),
        "{}",
        merged[1]
    );
    assert!(
        merged[2].contains(&format!("[{b}]"))
            && merged[2].contains("taken-over  id=-  interrupted"),
        "{}",
        merged[2]
    );

    let mut l = lines(&first);
    l.remove(0);
    write_lines(&first, &l);
    let one_bad = run_blocking(&["audit", "verify", a, b]);
    assert_eq!(one_bad.code, 1);
    assert!(
        one_bad
            .stderr
            .contains(&format!("{a}: verification FAILED")),
        "{}",
        one_bad.stderr
    );
    assert!(
        one_bad.stdout.contains(&format!("{b}: ok")),
        "{}",
        one_bad.stdout
    );
    let shown = run_blocking(&["audit", "show", a, b]);
    assert_eq!(shown.code, 1);
    assert!(
        shown.stderr.contains(&format!("{a} does not verify")),
        "{}",
        shown.stderr
    );

    let anchored = run_blocking(&["audit", "verify", a, b, "--anchor", &"0".repeat(64)]);
    assert_eq!(anchored.code, 2);
    assert!(anchored.stderr.contains("one log"), "{}", anchored.stderr);
}

#[test]
fn concurrent_appends_from_many_threads_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..25 {
                    log.append(&intent(
                        &format!("app-{t}"),
                        &format!("j{i}"),
                        AuditAction::Update,
                    ))
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(log.head().0, 200);
    assert!(matches!(
        AuditLog::open(&path),
        Err(AuditError::AlreadyOpen { .. })
    ));
    drop(log);
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("200 records"));
}

#[test]
fn reopening_continues_the_chain_and_refuses_a_tampered_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 1);
    {
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head().0, 2);
        log.append(&intent("analytics", "next", AuditAction::Create))
            .unwrap();
    }
    assert!(verify(&path).stdout.contains("3 records"));
    let mut l = lines(&path);
    l.swap(0, 1);
    write_lines(&path, &l);
    let err = AuditLog::open(&path).unwrap_err();
    assert!(matches!(err, AuditError::Broken(_)), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn a_crash_mid_append_is_completed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let head_path = dir.path().join("audit.jsonl.head");
    let good = std::fs::read(&path).unwrap();
    let good_head = std::fs::read(&head_path).unwrap();

    // Crash after the log fsync, before the head rename: head one behind.
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("analytics", "x", AuditAction::Create))
            .unwrap();
    }
    std::fs::write(&head_path, &good_head).unwrap();
    assert_eq!(verify(&path).code, 1);
    drop(AuditLog::open(&path).unwrap());
    assert_eq!(verify(&path).code, 0);

    // Crash mid-write: a torn line beyond the head.
    let mut torn = good.clone();
    torn.extend_from_slice(b"{\"seq\":5,\"timest");
    std::fs::write(&path, &torn).unwrap();
    std::fs::write(&head_path, &good_head).unwrap();
    assert_fails_at(&path, 5, 5, "incomplete");
    {
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head().0, 4);
        log.append(&intent("analytics", "y", AuditAction::Create))
            .unwrap();
    }
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("5 records"));
}

#[test]
fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let token = format!("dapi{}", "ab".repeat(16));
    let mut e = intent("analytics", "etl", AuditAction::Update);
    e.changes = vec![
        ChangeSummary::from_field(&FieldChange {
            path: "/spark_env_vars/DB_PASSWORD".into(),
            old: Some(json!("hunter2")),
            new: Some(json!("correct-horse")),
            drift: false,
            sensitive: false,
        }),
        ChangeSummary::from_field(&FieldChange {
            path: "/spark_conf".into(),
            old: None,
            new: Some(json!({"fs.azure.account.key": "s3cr3t", "spark.x": "1"})),
            drift: false,
            sensitive: false,
        }),
    ];
    let log = AuditLog::open(&path).unwrap();
    log.append(&e).unwrap();
    log.append(&e.to_outcome(
        None,
        Outcome::error(&format!("401: token {token} rejected")),
    ))
    .unwrap();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    for secret in ["hunter2", "correct-horse", "s3cr3t", token.as_str()] {
        assert!(!text.contains(secret), "{secret} leaked into the audit log");
    }
    assert!(text.contains("(sensitive)"));
    assert!(text.contains("spark.x"));
    assert_eq!(verify(&path).code, 0);
}

#[test]
fn an_anchor_kept_elsewhere_catches_a_rewritten_log_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let anchor: AuditRecord = serde_json::from_str(&lines(&path)[1]).unwrap();
    let p = path.to_str().unwrap();
    let ok = run_blocking(&["audit", "verify", p, "--anchor", &anchor.hash.0]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    // Rewrite history from scratch with a consistent chain and head.
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(dir.path().join("audit.jsonl.head")).unwrap();
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("analytics", "innocent", AuditAction::Update))
            .unwrap();
    }
    assert_eq!(verify(&path).code, 0);
    let run = run_blocking(&["audit", "verify", p, "--anchor", &anchor.hash.0]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("record at line 2 (seq 2)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("not found in this log (rewritten, or an anchor of another log)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("well-formed"), "{}", run.stderr);
}

#[test]
fn a_mistyped_anchor_is_reported_as_mistyped_not_as_a_rewritten_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let p = path.to_str().unwrap();
    let head: AuditRecord = serde_json::from_str(&lines(&path)[3]).unwrap();
    // Cut short, a stray character, not hex at all.
    let short = &head.hash.0[..63];
    let stray = format!("{}g", &head.hash.0[..63]);
    for bad in [short, stray.as_str(), "HEAD", ""] {
        let run = run_blocking(&["audit", "verify", p, "--anchor", bad]);
        assert_eq!(run.code, 2, "{bad}: {} {}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("is not a well-formed record hash"),
            "{bad}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("rewritten"), "{}", run.stderr);
    }
    // Upper case (as some tools print hex) is the same hash.
    let upper = head.hash.0.to_ascii_uppercase();
    let run = run_blocking(&["audit", "verify", p, "--anchor", &upper]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Well-formed but from nowhere.
    let run = run_blocking(&["audit", "verify", p, "--anchor", &"ab".repeat(32)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("anchor abab") && run.stderr.contains("not found in this log"),
        "{}",
        run.stderr
    );
}

/// Appends `event` to the log as record `seq` with a correct hash, without
/// touching the head: what someone with write access to the file can do.
fn forge(path: &Path, event: AuditEvent) -> AuditRecord {
    let l = lines(path);
    let last: AuditRecord = serde_json::from_str(l.last().unwrap()).unwrap();
    let record = AuditRecord::seal(last.seq + 1, jiff::Timestamp::now(), last.hash, event).unwrap();
    let mut l = l;
    l.push(record.to_line().unwrap());
    write_lines(path, &l);
    record
}

#[test]
fn a_forged_record_is_not_laundered_by_reopening_the_log() {
    let unmatched_outcome =
        intent("analytics", "job-x", AuditAction::Update).to_outcome(Some("1".into()), Outcome::Ok);
    let mut create_with_id = intent("analytics", "job-y", AuditAction::Create);
    create_with_id.databricks_id = Some("42".into());
    let mut recovered_alone = intent("analytics", "job-z", AuditAction::Update);
    recovered_alone.phase = mortar::audit::Phase::Recovered;
    recovered_alone.accepted_seq = Some(2);
    let cases: Vec<(&str, Vec<AuditEvent>, &str)> = vec![
        (
            "an outcome after an outcome",
            vec![unmatched_outcome],
            "closes no open intent",
        ),
        (
            "a second outcome for a closed intent",
            vec![
                intent("analytics", "job-0", AuditAction::Update)
                    .to_outcome(Some("100".into()), Outcome::error("failed")),
            ],
            "closes no open intent",
        ),
        (
            "a create intent with an id",
            vec![create_with_id],
            "create intent carrying an object id",
        ),
        (
            "a recovered record",
            vec![recovered_alone],
            "accepting nothing",
        ),
        (
            "two intents",
            vec![
                intent("analytics", "a", AuditAction::Update),
                intent("analytics", "b", AuditAction::Delete),
            ],
            "2 records beyond the head",
        ),
    ];
    for (what, events, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write_log(dir.path(), 2);
        for e in events {
            forge(&path, e);
        }
        let forged = std::fs::read(&path).unwrap();
        assert_fails_at(&path, 5, 5, "beyond the head");
        let err = AuditLog::open(&path).unwrap_err();
        assert!(matches!(err, AuditError::Tampered { .. }), "{what}: {err}");
        assert_eq!(err.metric_label(), "tampered");
        let message = err.to_string();
        assert!(
            message.contains("record 5 is beyond the head (seq 4)"),
            "{what}: {message}"
        );
        assert!(message.contains(why), "{what}: {message}");
        // Refused without a trace: the evidence stays, verify still fails,
        // and the crash-recovery reader refuses it too.
        assert_eq!(std::fs::read(&path).unwrap(), forged, "{what}");
        assert_fails_at(&path, 5, 5, "beyond the head");
        let read = mortar::apply::recovery::dangling_creates(&path).unwrap_err();
        assert!(
            error_chain(&read).contains("not what a crash"),
            "{what}: {read}"
        );
    }
}

#[test]
fn a_record_a_crash_can_leave_is_accepted_with_a_recovered_record_in_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    // Crash after the intent was fsynced, before the head was replaced.
    let pending = forge(&path, intent("analytics", "new-job", AuditAction::Create));
    assert_fails_at(&path, 5, 5, "beyond the head");
    let dangling = mortar::apply::recovery::dangling_creates(&path).unwrap();
    assert!(dangling.contains(&("analytics".to_string(), "prod/Job/new-job".to_string())));
    {
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.head().0, 6);
    }
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let recovered: AuditRecord = serde_json::from_str(&lines(&path)[5]).unwrap();
    assert_eq!(recovered.event.phase, mortar::audit::Phase::Recovered);
    assert_eq!(recovered.event.accepted_seq, Some(pending.seq));
    assert_eq!(recovered.event.key, "prod/Job/new-job");
    let show = run_blocking(&["audit", "show", path.to_str().unwrap()]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let line = show
        .stdout
        .lines()
        .find(|l| l.contains("recovered"))
        .unwrap_or_else(|| panic!("no recovered line in:\n{}", show.stdout));
    assert!(line.contains("prod/Job/new-job"), "{line}");
    assert!(
        line.contains("accepted seq 5, left beyond the head by a crash"),
        "{line}"
    );
    // The accepted intent still reads as interrupted: no outcome was recorded.
    assert!(show.stdout.contains("interrupted (no outcome recorded)"));
    // Recovery still sees the create as dangling (the recovered record
    // changes nothing about it).
    let dangling = mortar::apply::recovery::dangling_creates(&path).unwrap();
    assert!(dangling.contains(&("analytics".to_string(), "prod/Job/new-job".to_string())));

    // The outcome of the intent just before it is accepted the same way.
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("analytics", "other", AuditAction::Update))
            .unwrap();
    }
    let before: AuditRecord = serde_json::from_str(lines(&path).last().unwrap()).unwrap();
    forge(
        &path,
        before.event.to_outcome(Some("77".into()), Outcome::Ok),
    );
    drop(AuditLog::open(&path).unwrap());
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("9 records"), "{}", run.stdout);

    // Actions run concurrently: the outcome may close an intent that is not
    // the one just before it.
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 1);
    let first = intent("analytics", "a", AuditAction::Update);
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&first).unwrap();
        log.append(&intent("analytics", "b", AuditAction::Update))
            .unwrap();
    }
    forge(&path, first.to_outcome(Some("5".into()), Outcome::Ok));
    assert_fails_at(&path, 5, 5, "beyond the head");
    drop(AuditLog::open(&path).unwrap());
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("6 records"), "{}", run.stdout);

    // A crash while the acceptance itself was written: the intent and the
    // recovered record naming it, the head two behind. Completed without a
    // second recovered record.
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 2);
    let pending = forge(&path, intent("analytics", "x", AuditAction::Update));
    forge(&path, AuditEvent::recovered(&pending));
    assert_fails_at(&path, 5, 5, "beyond the head");
    drop(AuditLog::open(&path).unwrap());
    let run = verify(&path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("6 records"), "{}", run.stdout);
}

#[test]
fn dangling_creates_are_read_from_the_kept_position_and_only_new_records_are_read() {
    use mortar::apply::recovery::{index_path, lookup};
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 50);
    let pending = ("analytics".to_string(), "prod/Job/fresh".to_string());
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("analytics", "fresh", AuditAction::Create))
            .unwrap();
    }
    let first = lookup(&path).unwrap();
    assert!(!first.from_index);
    assert_eq!(first.records_read, 101);
    assert!(first.dangling.contains(&pending));
    assert!(index_path(&path).exists());

    let second = lookup(&path).unwrap();
    assert!(second.from_index);
    assert_eq!(second.records_read, 0);
    assert_eq!(second.dangling, first.dangling);

    // Only what was appended since is read.
    {
        let log = AuditLog::open(&path).unwrap();
        let e = intent("analytics", "fresh", AuditAction::Create);
        log.append(&e.to_outcome(None, Outcome::error("boom")))
            .unwrap();
    }
    let third = lookup(&path).unwrap();
    assert!(third.from_index);
    assert_eq!(third.records_read, 1);
    assert!(!third.dangling.contains(&pending));

    // A log replaced by another one (same length or not): read from the
    // start, the answer is the new log's.
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(dir.path().join("audit.jsonl.head")).unwrap();
    {
        let log = AuditLog::open(&path).unwrap();
        log.append(&intent("platform", "other", AuditAction::Create))
            .unwrap();
    }
    let replaced = lookup(&path).unwrap();
    assert!(!replaced.from_index);
    assert_eq!(
        replaced.dangling.into_iter().collect::<Vec<_>>(),
        vec![("platform".to_string(), "prod/Job/other".to_string())]
    );

    // The record at the kept position edited: read from the start, which
    // no longer verifies: an error, not a guess.
    let mut l = lines(&path);
    l[0] = l[0].replace("platform", "platfoRm");
    write_lines(&path, &l);
    let err = lookup(&path).unwrap_err();
    assert!(
        error_chain(&err).contains("does not match its hash"),
        "{err}"
    );

    // An unreadable index is only a cache miss.
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    std::fs::write(index_path(&path), b"{not json").unwrap();
    let again = lookup(&path).unwrap();
    assert!(!again.from_index);
    assert_eq!(again.records_read, 6);
    assert!(lookup(&path).unwrap().from_index);
}
