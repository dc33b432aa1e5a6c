//! What each kind knows, seen through a whole apply against an emulated
//! workspace over real HTTP: a job's ACL rides in its create call, while a
//! kind whose create call takes no ACL gets it written separately.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use mortar::apply::Progress;
use mortar::audit::Trigger;
use mortar::databricks::kinds::adapter;
use mortar::engine::{Engine, Scope};
use mortar::manifest::{Kind, PermissionEntry, Principal};
use mortar_emulator::EmulatorConfig;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::databricks_support::{CountingProxy, emulator, pat_client, test_limits};
use super::harness::{self, write_files};

const REPO: &str = "\
apiVersion: mortar.dev/v1alpha1
kind: Workspace
metadata: { name: dev }
spec: { host: https://dev.example.com }
---
apiVersion: mortar.dev/v1alpha1
kind: Application
metadata: { name: team }
spec:
  source: { path: team }
  destination: { workspace: dev }
";

const TEAM: &str = "\
apiVersion: mortar.dev/v1alpha1
kind: Group
metadata: { name: analysts }
spec: { displayName: analysts }
---
apiVersion: mortar.dev/v1alpha1
kind: Job
metadata: { name: nightly }
spec:
  name: nightly
  tasks:
    - task_key: t
      notebook_task: { notebook_path: /Shared/x }
permissions:
  - { group_name: analysts, permission_level: CAN_MANAGE_RUN }
---
apiVersion: mortar.dev/v1alpha1
kind: ClusterPolicy
metadata: { name: small }
spec:
  name: small
  definition: '{\"num_workers\": {\"type\": \"fixed\", \"value\": 1}}'
permissions:
  - { group_name: analysts, permission_level: CAN_USE }
";

/// An engine for a one-app repository whose workspace is reached at `host`.
fn engine(dir: &Path, host: &str, token: &str) -> Engine {
    write_files(
        &dir.join("repo"),
        &[("top.yaml", REPO), ("team/all.yaml", TEAM)],
    );
    let (limits, retry) = test_limits();
    harness::engine(dir, host, token, limits, retry)
}

fn audit_events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("state/audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"].clone())
        .collect()
}

/// The id of the one object of `kind` named `name`, read past the proxy.
async fn id_of(client: &mortar::databricks::Client, kind: Kind, name: &str) -> String {
    let names = BTreeSet::from([name.to_string()]);
    let found = adapter(kind).unwrap().list(client, &names).await.unwrap();
    let found: Vec<_> = found.into_iter().filter(|o| o.name == name).collect();
    assert_eq!(found.len(), 1, "{kind} {name}: {found:?}");
    found[0].id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_job_with_permissions_is_one_create_request_and_its_acl_reads_back() {
    let emu = emulator(EmulatorConfig::default()).await;
    let proxy = CountingProxy::start(emu.base_url()).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &proxy.base_url, &emu.token());
    let tree = engine.render(None).unwrap();
    let scope = Scope::default();

    let planned = engine.plan_to_apply(&tree, &scope).await.unwrap();
    assert_eq!(planned.plan().summary.create, 3);
    let report = engine
        .apply(
            planned,
            Trigger::Cli("test".into()),
            Arc::new(|_: Progress| {}),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(report.success(), "{report:?}");

    let direct = pat_client(&emu, dir.path());
    let job = id_of(&direct, Kind::Job, "nightly").await;
    let policy = id_of(&direct, Kind::ClusterPolicy, "small").await;

    // The job: one create call carrying the ACL, no permissions call at all.
    assert_eq!(proxy.count("POST /api/2.2/jobs/create"), 1);
    let job_acl = format!("/api/2.0/permissions/jobs/{job}");
    for method in ["GET", "PUT", "PATCH"] {
        assert_eq!(proxy.count(&format!("{method} {job_acl}")), 0, "{method}");
    }
    // A cluster policy's create call takes no ACL: it is written after.
    assert_eq!(proxy.count("POST /api/2.0/policies/clusters/create"), 1);
    assert_eq!(
        proxy.count(&format!(
            "PUT /api/2.0/permissions/cluster-policies/{policy}"
        )),
        1
    );

    // The job's ACL is what the manifest declares, owned by its creator.
    let acl = adapter(Kind::Job)
        .unwrap()
        .read_permissions(&direct, &job)
        .await
        .unwrap();
    assert_eq!(
        acl.entries,
        vec![PermissionEntry {
            principal: Principal::GroupName("analysts".into()),
            permission_level: "CAN_MANAGE_RUN".into(),
        }]
    );
    assert!(acl.owner.is_some(), "the creator stays the owner");

    // The audit trail still records the job's ACL: in its create intent.
    let events = audit_events(dir.path());
    let create = events
        .iter()
        .find(|e| {
            e["key"] == "dev/Job/nightly" && e["action"] == "create" && e["phase"] == "intent"
        })
        .expect("the job's create intent");
    let acl_change = create["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "/access_control_list")
        .expect("the ACL in the create body");
    let recorded = acl_change["new"].as_str().unwrap();
    assert!(
        recorded.contains("analysts") && recorded.contains("CAN_MANAGE_RUN"),
        "{recorded}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["key"] == "dev/Job/nightly" && e["action"] == "set_permissions")
    );
    assert!(events.iter().any(|e| e["key"] == "dev/ClusterPolicy/small"
        && e["action"] == "set_permissions"
        && e["phase"] == "outcome"
        && e["outcome"] == "ok"));

    // The inventory knows the ACL was applied: the next plan changes nothing.
    let again = engine.plan(&tree, &scope).await.unwrap();
    let s = &again.plan().summary;
    assert_eq!(
        (s.create, s.update, s.adopt, s.delete),
        (0, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.no_op, 3, "{s:?}");
}
