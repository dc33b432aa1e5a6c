//! The state directory as users meet it: real `mortar apply` processes
//! against one `state/` and two emulated workspaces over real HTTP.
//!
//! One writer at a time: a second apply is refused naming the first and
//! writes nothing; once the first is gone (even killed with SIGKILL) the
//! next apply proceeds and converges with an audit trail that verifies.
//! A trail with a forged record is not laundered: apply refuses it before
//! changing anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::databricks_support::emulator;
use super::harness::{Out, command, copy_dir, run};
use mortar_emulator::{EmulatorConfig, RunningEmulator};

struct Env {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    prod: RunningEmulator,
}

impl Env {
    async fn start(latency: Duration) -> Env {
        let config = EmulatorConfig {
            latency,
            transition_delay: Duration::from_millis(20),
            ..Default::default()
        };
        let dev = emulator(config.clone()).await;
        let prod = emulator(config).await;
        let dir = tempfile::tempdir().unwrap();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        copy_dir(&root.join("manifests"), &dir.path().join("manifests"));
        std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/partner-api-token"), "partner-x").unwrap();
        std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
        let ws = |name: &str, emu: &RunningEmulator| {
            format!(
                "  {name}:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}\n",
                emu.base_url()
            )
        };
        let text = format!(
            "source: {{ dir: manifests }}\nsecrets:\n  projects:\n    data-engineering: {{ env: [ETL_WAREHOUSE_DB_PASSWORD], dir: secrets }}\nworkspaces:\n{}{}",
            ws("dev", &dev),
            ws("prod", &prod)
        );
        std::fs::write(dir.path().join("mortar.yaml"), text).unwrap();
        Env { dir, dev, prod }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = command(self.path(), args, true);
        cmd.env("ETL_WAREHOUSE_DB_PASSWORD", "pw-lock-test");
        cmd
    }

    async fn mortar(&self, args: &[&str]) -> Out {
        run(self.command(args)).await
    }

    fn audit_lines(&self) -> usize {
        std::fs::read(self.path().join("state/audit.jsonl"))
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    }

    /// Every file under `state/` with its bytes.
    fn state_snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(self.path().join("state")).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                files.insert(
                    entry.file_name().to_string_lossy().into_owned(),
                    std::fs::read(entry.path()).unwrap(),
                );
            }
        }
        files
    }

    async fn job_names(&self, emu: &RunningEmulator) -> Vec<String> {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/api/2.2/jobs/list?limit=100", emu.base_url()))
            .bearer_auth(emu.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut names: Vec<String> = v["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| j.pointer("/settings/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {pid}");
}

/// Waits until every thread of `pid` has stopped: a thread inside a write
/// when the signal came finishes that write first.
async fn wait_stopped(pid: u32) {
    let stopped = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks.filter_map(Result::ok).all(|t| {
                    std::fs::read_to_string(t.path().join("stat")).is_ok_and(|stat| {
                        // The state follows the parenthesized command name.
                        stat.rsplit_once(") ")
                            .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
                    })
                })
            })
            .unwrap_or(false)
    };
    for _ in 0..2_000 {
        if stopped() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("process {pid} did not stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_is_refused_naming_the_holder_and_a_killed_holder_blocks_no_one() {
    let env = Env::start(Duration::from_millis(30)).await;
    let mut first = env.command(&["apply", "--auto-approve"]).spawn().unwrap();
    let pid = first.id().expect("first apply runs");
    // Mid-apply: some records written, more to come.
    let mut waited = 0;
    while env.audit_lines() < 4 {
        if let Ok(Some(status)) = first.try_wait() {
            panic!("first apply ended before it was caught mid-apply: {status}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        waited += 1;
        assert!(waited < 12_000, "first apply wrote no audit records");
    }
    // Freeze it, so that anything that changes from here on was written by
    // the second process.
    signal(pid, "-STOP");
    wait_stopped(pid).await;
    let before = env.state_snapshot();
    assert!(before.contains_key("mortar.lock"), "{:?}", before.keys());

    let second = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(
        second.code, 1,
        "second apply was not refused:\n{}\n{}",
        second.stdout, second.stderr
    );
    for expected in [
        "locked by another Mortar process".to_string(),
        format!("pid {pid} on "),
        "mortar apply --auto-approve".to_string(),
        "since ".to_string(),
    ] {
        assert!(
            second.stderr.contains(&expected),
            "`{expected}` not in: {}",
            second.stderr
        );
    }
    assert_eq!(
        env.state_snapshot(),
        before,
        "the refused apply wrote state"
    );

    // Waiting a bounded time for a holder that never finishes also fails.
    let started = std::time::Instant::now();
    let waiting = env
        .mortar(&["apply", "--auto-approve", "--lock-timeout", "1"])
        .await;
    assert_eq!(waiting.code, 1, "{}", waiting.stderr);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        waiting.stderr.contains("after waiting"),
        "{}",
        waiting.stderr
    );
    assert_eq!(
        env.state_snapshot(),
        before,
        "the waiting apply wrote state"
    );

    // The holder dies without any chance to clean up; its lock file (with
    // its description) stays, its OS lock does not.
    signal(pid, "-KILL");
    let _ = first.wait().await;
    assert!(!env.state_snapshot()["mortar.lock"].is_empty());

    let next = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(
        next.code, 0,
        "apply after the holder died:\n{}\n{}",
        next.stdout, next.stderr
    );
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(
        plan.code, 0,
        "not converged:\n{}\n{}",
        plan.stdout, plan.stderr
    );
    for emu in [&env.dev, &env.prod] {
        let names = env.job_names(emu).await;
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "duplicate jobs");
        assert!(!names.is_empty());
    }
    let file = env.path().join("state/audit.jsonl");
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .args(["audit", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_a_trail_with_a_forged_record_and_changes_nothing() {
    use mortar::audit::{AuditRecord, Outcome};
    let env = Env::start(Duration::ZERO).await;
    let first = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    // The workspaces lose everything, so the next apply has work to do.
    env.dev.reset();
    env.prod.reset();

    // One record appended with a correct hash, head untouched: an outcome
    // claiming a deletion that no intent announced.
    let file = env.path().join("state/audit.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let last: AuditRecord = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let mut event = last.event.clone();
    event.action = mortar::audit::AuditAction::Delete;
    event.phase = mortar::audit::Phase::Outcome;
    event.outcome = Some(Outcome::Ok);
    let forged = AuditRecord::seal(last.seq + 1, jiff::Timestamp::now(), last.hash, event).unwrap();
    std::fs::write(&file, format!("{text}{}\n", forged.to_line().unwrap())).unwrap();
    let tampered = std::fs::read(&file).unwrap();
    let verify = |file: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
            .args(["audit", "verify"])
            .arg(file)
            .output()
            .unwrap()
    };
    let before = verify(&file);
    assert_eq!(before.status.code(), Some(1));

    // A plan does not trust (or ignore) a trail that does not verify.
    let plan = env.mortar(&["plan"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("crash recovery"), "{}", plan.stderr);

    let refused = env.mortar(&["apply", "--auto-approve"]).await;
    assert_eq!(
        refused.code, 1,
        "apply accepted a forged trail:\n{}\n{}",
        refused.stdout, refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!(
            "record {} is beyond the head (seq {}) but is not what a crash can leave",
            forged.seq,
            forged.seq - 1
        )),
        "{}",
        refused.stderr
    );
    // Nothing was created, nothing was appended, and verify still fails.
    for emu in [&env.dev, &env.prod] {
        assert!(env.job_names(emu).await.is_empty());
    }
    assert_eq!(std::fs::read(&file).unwrap(), tampered);
    let after = verify(&file);
    assert_eq!(after.status.code(), Some(1));
    assert_eq!(after.stderr, before.stderr);
}
