//! The daemon with `source.git.verify` on, over a repository whose commits
//! are signed with real `git commit -S` (SSH keys from `ssh-keygen`) and an
//! emulated workspace over real HTTP: a signed commit syncs; an unsigned
//! head, then one signed by a key nobody trusts, are refused while every app
//! stays at its last good revision (status, API, metrics and audit trail
//! say why); a trusted commit on top syncs again and the refusal clears.

use std::path::Path;
use std::time::Duration;

use mortar::controller::{DaemonHandle, Nudge};
use mortar::model::status::ConditionKind;
use mortar::model::{ControllerStatus, Health, SyncStatus};
use mortar_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::daemon_support::{GROUP, ROOT, job, synced_at, wait_for};
use super::databricks_support::emulator;
use super::git_servers::{Served, Signing, SshKey};

const APPS: &str = "apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: base }
spec:
  source: { path: base }
  destination: { workspace: dev }
  syncPolicy: { automated: { prune: true, selfHeal: true } }
---
apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  source: { path: team }
  destination: { workspace: dev }
  syncPolicy: { automated: { prune: true, selfHeal: true } }
";

const APPS_WITH_RESOURCES: [&str; 2] = ["base", "team"];

struct Env {
    dir: tempfile::TempDir,
    dev: RunningEmulator,
    served: Served,
    /// Trusted: listed in `allowed_signers`.
    ana: SshKey,
    /// A valid key nobody listed.
    mallory: SshKey,
}

impl Env {
    async fn start() -> Env {
        let dev = emulator(EmulatorConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let served = Served::create(dir.path(), "platform");
        let ana = SshKey::generate(dir.path(), "ana_signing");
        let mallory = SshKey::generate(dir.path(), "mallory_signing");
        let allowed = dir.path().join("allowed_signers");
        std::fs::write(
            &allowed,
            format!("ana@example.com namespaces=\"git\" {}\n", ana.key_only()),
        )
        .unwrap();
        std::fs::write(dir.path().join("pat"), dev.token()).unwrap();
        let config = format!(
            "source:
  git:
    repo: {repo}
    revision: main
    verify: {{ ssh_allowed_signers: {allowed} }}
workspaces:
  dev:
    host: {host}
    auth: {{ method: pat, token: {{ file: pat }} }}
    retry: {{ initial_backoff_ms: 20, max_backoff_ms: 200 }}
controller: {{ drift_interval: 1h, shutdown_grace: 10s }}
server:
  listen: '127.0.0.1:0'
  metrics_listen: '127.0.0.1:0'
",
            repo = served.bare.display(),
            allowed = allowed.display(),
            host = dev.base_url(),
        );
        std::fs::write(dir.path().join("mortar.yaml"), config).unwrap();
        Env {
            dir,
            dev,
            served,
            ana,
            mallory,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Commits `files` (signed as asked), pushes, and returns the SHA.
    fn push(&self, message: &str, files: &[(&str, &str)], signing: Signing<'_>) -> String {
        let commit = self.served.commit(message, files, signing);
        self.served.push();
        commit
    }

    fn daemon(
        &self,
    ) -> (
        DaemonHandle,
        CancellationToken,
        impl std::future::Future<Output = bool>,
    ) {
        super::daemon_support::start(&self.path().join("mortar.yaml"))
    }

    async fn max_runs(&self) -> Value {
        let http = reqwest::Client::new();
        let jobs = super::databricks_support::jobs_named(&self.dev, "nightly").await;
        assert_eq!(jobs.len(), 1, "one job named nightly: {jobs:?}");
        let job: Value = http
            .get(format!(
                "{}/api/2.2/jobs/get?job_id={}",
                self.dev.base_url(),
                jobs[0]["job_id"]
            ))
            .bearer_auth(self.dev.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        job["settings"]["max_concurrent_runs"].clone()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path().join("state/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn refused(status: &ControllerStatus, commit: &str) -> bool {
    !status.apps.is_empty()
        && status.apps.iter().all(|a| {
            a.health == Health::Blocked
                && a.condition(ConditionKind::RevisionRefused)
                    .is_some_and(|c| c.message.contains(commit))
        })
}

async fn get(url: String) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_not_signed_by_a_trusted_key_is_refused_and_every_app_keeps_its_last_good_revision()
{
    let env = Env::start().await;
    let first = env.push(
        "first",
        &[
            ("root.yaml", ROOT),
            ("apps/apps.yaml", APPS),
            ("base/group.yaml", GROUP),
            ("team/job.yaml", &job(1)),
        ],
        Signing::Ssh(&env.ana),
    );
    let (mut handle, cancel, daemon) = env.daemon();
    let test = async {
        // Signed by a trusted key: synced.
        wait_for(&mut handle, "the first signed commit", |s| {
            APPS_WITH_RESOURCES.iter().all(|a| synced_at(s, a, &first))
        })
        .await;
        assert_eq!(env.max_runs().await, 1);
        let addresses = handle.bound.borrow().expect("the daemon listens");

        // Unsigned: refused, nothing of it applied.
        let unsigned = env.push("unsigned", &[("team/job.yaml", &job(5))], Signing::None);
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "the unsigned head refused", |s| {
            refused(s, &unsigned)
        })
        .await;
        for app in &status.apps {
            let condition = app.condition(ConditionKind::RevisionRefused).unwrap();
            assert!(
                condition.message.contains("is not signed"),
                "{}: {}",
                app.name,
                condition.message
            );
        }
        for app in APPS_WITH_RESOURCES {
            let app = status.app(app).unwrap();
            assert_eq!(app.revision_applied.as_deref(), Some(first.as_str()));
            assert_eq!(app.sync, SyncStatus::Synced, "{}", app.name);
        }
        assert!(
            status
                .source
                .error
                .as_deref()
                .is_some_and(|e| e.contains(&unsigned)),
            "{:?}",
            status.source
        );
        assert_eq!(
            env.max_runs().await,
            1,
            "the unsigned change is not applied"
        );

        // The API tells the same as the status.
        let team: Value =
            serde_json::from_str(&get(format!("http://{}/api/v1/apps/team", addresses.api)).await)
                .unwrap();
        assert_eq!(team["health"], "Blocked", "{team}");
        assert_eq!(team["revision_applied"], first.as_str(), "{team}");
        assert!(
            team["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["kind"] == "RevisionRefused"),
            "{team}"
        );

        // Signed, but by a key nobody trusts: refused too, with its own reason.
        let untrusted = env.push(
            "signed by mallory",
            &[("team/job.yaml", &job(7))],
            Signing::Ssh(&env.mallory),
        );
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "the untrusted head refused", |s| {
            refused(s, &untrusted)
        })
        .await;
        let message = &status
            .app("team")
            .unwrap()
            .condition(ConditionKind::RevisionRefused)
            .unwrap()
            .message;
        assert!(message.contains("not trusted"), "{message}");
        assert_eq!(
            status.app("team").unwrap().revision_applied.as_deref(),
            Some(first.as_str())
        );
        assert_eq!(
            env.max_runs().await,
            1,
            "the untrusted change is not applied"
        );

        let metrics = get(format!("http://{}/metrics", addresses.metrics)).await;
        for line in [
            "mortar_revisions_refused_total{reason=\"unsigned\"} 1",
            "mortar_revisions_refused_total{reason=\"untrusted_key\"} 1",
            "mortar_apps{sync=\"Synced\",health=\"Blocked\"} 3",
            "mortar_app_health_status{app=\"team\",health=\"Blocked\"} 1",
        ] {
            assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
        }

        // Each refused head is in the audit trail once, as an observed record.
        let audit = env.audit();
        for (commit, why) in [(&unsigned, "is not signed"), (&untrusted, "not trusted")] {
            let records: Vec<&Value> = audit
                .iter()
                .filter(|r| {
                    r["event"]["action"] == "revision_refused"
                        && r["event"]["revision"] == commit.as_str()
                })
                .collect();
            assert_eq!(records.len(), 1, "{commit}: {records:?}");
            let event = &records[0]["event"];
            assert_eq!(event["phase"], "observed", "{event}");
            assert!(event.to_string().contains(why), "{event}");
        }

        // A trusted commit on top: synced again, and the refusal is gone.
        let good = env.push(
            "signed by ana",
            &[("team/job.yaml", &job(3))],
            Signing::Ssh(&env.ana),
        );
        handle.nudges.send(Nudge::Source).await.unwrap();
        let status = wait_for(&mut handle, "the trusted commit synced", |s| {
            synced_at(s, "team", &good)
        })
        .await;
        assert_eq!(env.max_runs().await, 3);
        assert!(status.source.error.is_none(), "{:?}", status.source);
        for app in &status.apps {
            assert!(
                app.condition(ConditionKind::RevisionRefused).is_none(),
                "{}: {:?}",
                app.name,
                app.conditions
            );
            assert_ne!(app.health, Health::Blocked, "{}", app.name);
        }
        let base = status.app("base").unwrap();
        assert_eq!(base.sync, SyncStatus::Synced);
        assert_eq!(base.revision_applied.as_deref(), Some(good.as_str()));

        cancel.cancel();
    };
    let (_, ()) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(daemon, test)
    })
    .await
    .expect("the daemon stops when cancelled");
}
