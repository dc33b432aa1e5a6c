//! What the daemon tests share: a repository made with the `git` CLI as
//! one author, the manifests they start from, starting the daemon in the
//! test's runtime, and waiting on the daemon's status.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mortar::controller::{Daemon, DaemonHandle, DaemonOptions};
use mortar::model::{ControllerStatus, Health, SyncStatus};
use tokio_util::sync::CancellationToken;

pub const ROOT: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: root }
spec:
  source: { path: apps }
---
apiVersion: mortar.dev/v1alpha1
kind: Workspace
metadata: { name: dev }
spec: { host: https://dbc-dev.cloud.databricks.com }
";

pub const GROUP: &str = "apiVersion: mortar.dev/v1alpha1
kind: Group
metadata: { name: analysts }
spec: { displayName: analysts }
";

pub fn job(max_runs: u32) -> String {
    format!(
        "apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: {{ name: nightly }}
spec:
  name: nightly
  max_concurrent_runs: {max_runs}
  tasks:
    - task_key: main
      notebook_task: {{ notebook_path: /Shared/nightly }}
"
    )
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ana Lopez")
        .env("GIT_AUTHOR_EMAIL", "ana@example.com")
        .env("GIT_COMMITTER_NAME", "Ana Lopez")
        .env("GIT_COMMITTER_EMAIL", "ana@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The daemon of `config`, a handle on it and what stops it. The daemon's
/// future runs beside the test's own (joined in one task).
pub fn start(
    config: &Path,
) -> (
    DaemonHandle,
    CancellationToken,
    impl std::future::Future<Output = bool> + use<>,
) {
    let daemon = Daemon::open(config).expect("the daemon opens");
    let handle = daemon.handle();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let run = async move {
        daemon
            .run(DaemonOptions::default(), stop)
            .await
            .expect("the daemon runs")
    };
    (handle, cancel, run)
}

/// Waits until the daemon's status satisfies `ok`.
pub async fn wait_for(
    handle: &mut DaemonHandle,
    what: &str,
    ok: impl Fn(&ControllerStatus) -> bool,
) -> Arc<ControllerStatus> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        {
            let status = handle.status.borrow_and_update().clone();
            if ok(&status) {
                return status;
            }
        }
        if tokio::time::timeout_at(deadline, handle.status.changed())
            .await
            .is_err()
        {
            panic!(
                "timed out waiting for {what}; status:\n{}",
                serde_json::to_string_pretty(&**handle.status.borrow()).unwrap()
            );
        }
    }
}

pub fn synced_at(status: &ControllerStatus, app: &str, commit: &str) -> bool {
    status.app(app).is_some_and(|a| {
        a.sync == SyncStatus::Synced
            && a.health == Health::Healthy
            && a.revision_applied.as_deref() == Some(commit)
    })
}
