//! Mortar in a cluster, against a real kube-apiserver: replicas sharing
//! the apps over Leases and surviving one being killed, credentials read
//! from a Secret and re-read when it rotates, Events on the controller's
//! pod, and a service account that may do what the controller needs and
//! nothing more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::events::v1::Event as KubeEvent;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, PostParams};
use mortar::controller::status_store::StatusStore;
use mortar::model::{AppStatus, ControllerStatus, Health, SyncStatus};
use mortar_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;

use super::daemon_support::{ROOT, git};
use super::databricks_support::emulator;
use super::harness::command;
use super::kube_support::TestCluster;

const LEASE_SECONDS: u64 = 3;

/// A manifest repository of `apps` child apps, one job each.
fn repository(dir: &Path, apps: usize, generation: u32) -> PathBuf {
    let repo = dir.join("repo");
    if !repo.exists() {
        std::fs::create_dir_all(repo.join("apps")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("root.yaml"), ROOT).unwrap();
    }
    let mut declared = String::new();
    for a in 0..apps {
        declared.push_str(&format!(
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: team{a} }}\nspec:\n  source: {{ path: team{a} }}\n  destination: {{ workspace: dev }}\n  syncPolicy:\n    automated: {{ prune: true, selfHeal: true }}\n    retry: {{ limit: 50, backoff: {{ duration: 1s, factor: 1, maxDuration: 1s }} }}\n---\n"
        ));
        let app_dir = repo.join(format!("team{a}"));
        std::fs::create_dir_all(&app_dir).unwrap();
        std::fs::write(
            app_dir.join("job.yaml"),
            format!(
                "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: team{a}-nightly }}\nspec:\n  name: team{a}-nightly\n  max_concurrent_runs: {}\n  tasks:\n    - task_key: main\n      notebook_task: {{ notebook_path: /Shared/team{a} }}\n",
                generation + 1
            ),
        )
        .unwrap();
    }
    std::fs::write(repo.join("apps/apps.yaml"), declared).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "apps"]);
    repo
}

fn head(repo: &Path) -> String {
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

/// What the chart's Role grants, for a release named `mortar`: the
/// group's Leases by name, Events, and only the Secrets it is told of.
async fn service_account(
    cluster: &TestCluster,
    ns: &str,
    shards: u32,
    slots: u32,
    secrets: &[&str],
) -> PathBuf {
    account(cluster, ns, "mortar", shards, slots, secrets).await
}

/// A ServiceAccount `name` bound (RoleBinding `name`) to such a Role;
/// returns a kubeconfig with its token.
async fn account(
    cluster: &TestCluster,
    ns: &str,
    name: &str,
    shards: u32,
    slots: u32,
    secrets: &[&str],
) -> PathBuf {
    let client = cluster.admin_client().await;
    Api::<ServiceAccount>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut leases: Vec<String> = (0..shards).map(|i| format!("mortar-shard-{i}")).collect();
    leases.extend((0..slots).map(|k| format!("mortar-member-{k}")));
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str], names: Option<Vec<String>>| {
        PolicyRule {
            api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            resource_names: names,
            ..Default::default()
        }
    };
    let role = Role {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        rules: Some(vec![
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["list", "create"],
                None,
            ),
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["get", "update", "patch"],
                Some(leases),
            ),
            rule(&["events.k8s.io"], &["events"], &["create", "patch"], None),
            rule(
                &[""],
                &["configmaps"],
                &["get", "list", "create", "update", "patch"],
                None,
            ),
            rule(
                &[""],
                &["secrets"],
                &["get", "list", "watch"],
                Some(secrets.iter().map(|s| s.to_string()).collect()),
            ),
        ]),
    };
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &RoleBinding {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    ..Default::default()
                },
                role_ref: RoleRef {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "Role".into(),
                    name: name.into(),
                },
                subjects: Some(vec![Subject {
                    kind: "ServiceAccount".into(),
                    name: name.into(),
                    namespace: Some(ns.into()),
                    ..Default::default()
                }]),
            },
        )
        .await
        .unwrap();
    let token = cluster.service_account_token(ns, name, None, 3600).await;
    cluster.kubeconfig_for_token(&token)
}

async fn put_secret(cluster: &TestCluster, ns: &str, name: &str, key: &str, value: &str) {
    let api = Api::<Secret>::namespaced(cluster.admin_client().await, ns);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            key.to_string(),
            ByteString(value.as_bytes().to_vec()),
        )])),
        ..Default::default()
    };
    match api.get_opt(name).await.unwrap() {
        Some(old) => {
            let mut new = secret;
            new.metadata.resource_version = old.metadata.resource_version;
            api.replace(name, &PostParams::default(), &new)
                .await
                .unwrap();
        }
        None => {
            api.create(&PostParams::default(), &secret).await.unwrap();
        }
    }
}

/// One `mortar run` with its own directory, state and identity.
struct Replica {
    identity: String,
    dir: PathBuf,
    child: Option<tokio::process::Child>,
}

impl Replica {
    fn start(
        root: &Path,
        identity: &str,
        repo: &Path,
        dev: &RunningEmulator,
        kubeconfig: &Path,
        ns: &str,
        shards: u32,
    ) -> Replica {
        let dir = root.join(identity);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mortar.yaml"),
            format!(
                "source: {{ git: {{ repo: {repo}, revision: main, interval: 1s }} }}\n\
                 workspaces:\n  dev:\n    host: {host}\n    auth: {{ method: pat, token: {{ secret: {{ name: databricks, key: pat }} }} }}\n    retry: {{ initial_backoff_ms: 10, max_backoff_ms: 100, max_attempts: 2 }}\n\
                 controller: {{ drift_interval: 2s, shutdown_grace: 5s }}\n\
                 server: {{ listen: '127.0.0.1:0', metrics_listen: '127.0.0.1:0' }}\n\
                 kubernetes:\n  kubeconfig: {kubeconfig}\n  namespace: {ns}\n  identity: {identity}\n  lease: mortar\n  shards: {shards}\n  max_replicas: 4\n  lease_duration: {LEASE_SECONDS}s\n",
                repo = repo.display(),
                host = dev.base_url(),
                kubeconfig = kubeconfig.display(),
            ),
        )
        .unwrap();
        let mut cmd = command(&dir, &["run"], true);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("mortar.log")).unwrap());
        let child = cmd.spawn().expect("mortar run starts");
        Replica {
            identity: identity.to_string(),
            dir,
            child: Some(child),
        }
    }

    /// `count` replicas, `mortar-0` …, sharing one account.
    fn start_many(
        count: usize,
        root: &Path,
        repo: &Path,
        dev: &RunningEmulator,
        kubeconfig: &Path,
        ns: &str,
        shards: u32,
    ) -> Vec<Replica> {
        (0..count)
            .map(|r| {
                Replica::start(
                    root,
                    &format!("mortar-{r}"),
                    repo,
                    dev,
                    kubeconfig,
                    ns,
                    shards,
                )
            })
            .collect()
    }

    fn status(&self) -> Option<ControllerStatus> {
        StatusStore::new(self.dir.join("state"))
            .load()
            .ok()
            .flatten()
    }

    fn held(&self) -> BTreeSet<u32> {
        self.status()
            .and_then(|s| s.replica)
            .map(|r| r.held.into_iter().collect())
            .unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mortar.log")).unwrap_or_default()
    }

    /// The apps this replica's audit trail shows it creating objects for.
    fn created(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.join("state/audit.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|r| r["event"]["action"] == "create" && r["event"]["outcome"] == "ok")
            .map(|r| {
                (
                    r["event"]["app"].as_str().unwrap_or("").to_string(),
                    r["event"]["key"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// How many records the replica's audit trail holds.
    fn records(&self) -> usize {
        std::fs::read_to_string(self.dir.join("state/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().unwrap() as i32;
            // SAFETY: signals our own child, which has not been reaped.
            // SIGTERM: a graceful stop gives the shards back.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
        }
    }
}

fn synced(replicas: &[&Replica], app: &str, commit: &str) -> bool {
    replicas.iter().any(|r| {
        r.status().is_some_and(|s| {
            s.replica.as_ref().is_some_and(|rep| {
                rep.held
                    .contains(&mortar::cluster::shard_of(app, rep.shards))
            }) && s.app(app).is_some_and(|a| {
                a.sync == SyncStatus::Synced
                    && a.health == Health::Healthy
                    && a.revision_applied.as_deref() == Some(commit)
            })
        })
    })
}

async fn eventually(
    what: &str,
    limit: Duration,
    replicas: &[&Replica],
    ok: impl Fn() -> bool,
) -> Duration {
    let started = Instant::now();
    while !ok() {
        if started.elapsed() > limit {
            let logs: Vec<String> = replicas
                .iter()
                .map(|r| format!("--- {} ---\n{}", r.identity, r.log()))
                .collect();
            panic!("{what}: not within {limit:?}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

async fn jobs_by_name(dev: &RunningEmulator) -> BTreeMap<String, usize> {
    let list: Value = reqwest::Client::new()
        .get(format!("{}/api/2.2/jobs/list?limit=100", dev.base_url()))
        .bearer_auth(dev.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for job in list["jobs"].as_array().into_iter().flatten() {
        *out.entry(job["settings"]["name"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_the_apps_and_take_over_from_a_killed_one() {
    const APPS: usize = 9;
    const SHARDS: u32 = 3;
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("shards").await;
    let dev = emulator(EmulatorConfig::default()).await;
    put_secret(cluster, &ns, "databricks", "pat", &dev.token()).await;
    let kubeconfig = service_account(cluster, &ns, SHARDS, 4, &["databricks"]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), APPS, 0);
    let first = head(&repo);

    let mut replicas = Replica::start_many(3, dir.path(), &repo, &dev, &kubeconfig, &ns, SHARDS);
    let apps: Vec<String> = (0..APPS).map(|a| format!("team{a}")).collect();
    {
        let all: Vec<&Replica> = replicas.iter().collect();
        eventually(
            "every app synced and one shard per replica",
            Duration::from_secs(90),
            &all,
            || {
                apps.iter().all(|a| synced(&all, a, &first))
                    && all.iter().all(|r| r.held().len() == 1)
            },
        )
        .await;
        let held: Vec<BTreeSet<u32>> = all.iter().map(|r| r.held()).collect();
        let union: BTreeSet<u32> = held.iter().flatten().copied().collect();
        assert_eq!(union, BTreeSet::from([0, 1, 2]), "{held:?}");
    }
    // No object made twice: one create per job over every replica's trail.
    let mut creates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &replicas {
        for (app, key) in r.created() {
            creates
                .entry(key)
                .or_default()
                .push(format!("{app}@{}", r.identity));
        }
    }
    assert_eq!(creates.len(), APPS, "{creates:?}");
    assert!(creates.values().all(|v| v.len() == 1), "{creates:?}");
    assert!(jobs_by_name(&dev).await.values().all(|n| *n == 1));
    // Each app's status is kept beside its state, for the next owner.
    let admin = cluster.admin_client().await;
    let kept = kept_statuses(&admin, &ns, &apps).await;
    assert!(
        kept.iter().all(|s| s
            .as_ref()
            .is_some_and(|s| s.revision_applied.as_deref() == Some(first.as_str()))),
        "{kept:?}"
    );

    // Kill the replica holding shard 0 and commit: the others take its
    // shard within the lease duration and sync its apps.
    let victim = replicas.iter().position(|r| r.held().contains(&0)).unwrap();
    replicas[victim].kill().await;
    let killed = Instant::now();
    repository(dir.path(), APPS, 1);
    let second = head(&repo);
    let survivors: Vec<&Replica> = replicas
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, r)| r)
        .collect();
    let takeover = eventually(
        "the killed replica's shard taken over",
        Duration::from_secs(60),
        &survivors,
        || {
            let union: BTreeSet<u32> = survivors.iter().flat_map(|r| r.held()).collect();
            union == BTreeSet::from([0, 1, 2])
        },
    )
    .await;
    eprintln!("shard 0 taken over {:?} after the kill", killed.elapsed());
    assert!(
        takeover < Duration::from_secs(LEASE_SECONDS * 3 + 5),
        "takeover took {takeover:?}"
    );
    eventually(
        "every app synced at the new commit",
        Duration::from_secs(60),
        &survivors,
        || apps.iter().all(|a| synced(&survivors, a, &second)),
    )
    .await;
    let jobs = jobs_by_name(&dev).await;
    assert_eq!(jobs.len(), APPS, "{jobs:?}");
    assert!(jobs.values().all(|n| *n == 1), "a job made twice: {jobs:?}");
    // The new owners started from the statuses the killed replica kept,
    // and keep theirs in turn.
    let took_in = survivors
        .iter()
        .map(|r| {
            r.log()
                .matches("took in the status the last owner kept")
                .count()
        })
        .sum::<usize>();
    assert!(took_in >= 1, "no survivor took a kept status in");
    let started = Instant::now();
    loop {
        let kept = kept_statuses(&admin, &ns, &apps).await;
        let at_second = |s: &Option<AppStatus>| {
            s.as_ref()
                .is_some_and(|s| s.revision_applied.as_deref() == Some(second.as_str()))
        };
        if kept.iter().all(at_second) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "kept statuses not at the new commit: {kept:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for r in &mut replicas {
        r.stop().await;
    }
}

/// Each app's status as kept in its state ConfigMap (`None`: none kept).
async fn kept_statuses(client: &kube::Client, ns: &str, apps: &[String]) -> Vec<Option<AppStatus>> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), ns);
    let mut out = Vec::new();
    for app in apps {
        let object = api
            .get_opt(&mortar::cluster::state::object_name("mortar", app))
            .await
            .unwrap();
        out.push(
            object
                .and_then(|o| o.data?.remove("status.json"))
                .map(|text| serde_json::from_str(&text).unwrap()),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_is_used_without_a_restart_and_failures_become_one_event() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("rotate").await;
    let dev = emulator(EmulatorConfig::default()).await;
    put_secret(
        cluster,
        &ns,
        "databricks",
        "pat",
        "dapi-not-the-right-token-0000",
    )
    .await;
    let kubeconfig = service_account(cluster, &ns, 1, 4, &["databricks"]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), 1, 0);
    let commit = head(&repo);
    let mut replica = Replica::start(dir.path(), "mortar-0", &repo, &dev, &kubeconfig, &ns, 1);
    let all = [&replica];
    // The wrong token: the app cannot be planned, again on every retry.
    eventually(
        "three failed attempts",
        Duration::from_secs(60),
        &all,
        || replica.log().matches("planning failed").count() >= 3,
    )
    .await;
    let status = replica.status().unwrap();
    assert_eq!(status.app("team0").unwrap().health, Health::Error);
    let events = Api::<KubeEvent>::namespaced(cluster.admin_client().await, &ns);
    let failed: Vec<KubeEvent> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some("AppDegraded")
                && e.related.as_ref().and_then(|r| r.name.as_deref()) == Some("team0")
        })
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "one Event for the failure, not one per retry: {failed:?}"
    );
    let event = &failed[0];
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(
        event.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("mortar-0")
    );
    assert_eq!(
        event.related.as_ref().and_then(|r| r.name.as_deref()),
        Some("team0")
    );
    assert!(
        !event
            .note
            .as_deref()
            .unwrap_or("")
            .contains("dapi-not-the-right-token")
    );
    // Rotate the Secret: the next retry uses the new value.
    put_secret(cluster, &ns, "databricks", "pat", &dev.token()).await;
    eventually(
        "synced after the rotation",
        Duration::from_secs(60),
        &all,
        || synced(&all, "team0", &commit),
    )
    .await;
    assert!(
        replica
            .child
            .as_mut()
            .unwrap()
            .try_wait()
            .unwrap()
            .is_none(),
        "restarted"
    );
    let reasons: BTreeSet<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    assert!(reasons.contains("ShardAcquired"), "{reasons:?}");
    // The probes and metrics say which shards the replica holds.
    let log = replica.log();
    let metrics = log
        .split("metrics=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{log}"))
        .to_string();
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://{metrics}/readyz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ready, "ready\nmortar-0 holds shards [0] of 1\n");
    let scraped = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scraped.contains("mortar_shard_held{shard=\"0\"} 1"),
        "{scraped}"
    );
    assert!(
        !replica.log().contains("dapi-not-the-right-token"),
        "the secret was logged"
    );
    replica.stop().await;
    // A graceful stop gives the shard and the member slot back.
    let leases = Api::<Lease>::namespaced(cluster.admin_client().await, &ns);
    for name in ["mortar-shard-0", "mortar-member-0"] {
        let lease = leases.get(name).await.unwrap();
        assert_eq!(lease.spec.and_then(|s| s.holder_identity), None, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_account_may_do_what_the_controller_needs_and_nothing_more() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("rbac").await;
    let other_ns = cluster.fresh_namespace("rbac-other").await;
    put_secret(cluster, &ns, "databricks", "pat", "dapi-value-12345").await;
    put_secret(cluster, &ns, "unrelated", "key", "not-for-mortar").await;
    let kubeconfig = service_account(cluster, &ns, 1, 2, &["databricks"]).await;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let secrets = Api::<Secret>::namespaced(client.clone(), &ns);
    assert!(secrets.get("databricks").await.is_ok());
    let forbidden =
        |r: Result<Secret, kube::Error>| matches!(r, Err(kube::Error::Api(ref s)) if s.code == 403);
    assert!(
        forbidden(secrets.get("unrelated").await),
        "another Secret was readable"
    );
    assert!(
        matches!(secrets.list(&ListParams::default()).await, Err(kube::Error::Api(ref s)) if s.code == 403),
        "every Secret was listable"
    );
    // Another release's Lease (created by an admin) cannot be taken.
    let admin_leases = Api::<Lease>::namespaced(cluster.admin_client().await, &ns);
    let other = Lease {
        metadata: ObjectMeta {
            name: Some("other-release-shard-0".into()),
            ..Default::default()
        },
        spec: Default::default(),
    };
    admin_leases
        .create(&PostParams::default(), &other)
        .await
        .unwrap();
    let leases = Api::<Lease>::namespaced(client.clone(), &ns);
    let read = leases.get_opt("other-release-shard-0").await;
    assert!(
        matches!(read, Err(kube::Error::Api(ref s)) if s.code == 403),
        "another release's Lease was readable: {read:?}"
    );
    let mut theirs = admin_leases.get("other-release-shard-0").await.unwrap();
    theirs
        .spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("mortar-0".into());
    assert!(
        matches!(leases.replace("other-release-shard-0", &PostParams::default(), &theirs).await, Err(kube::Error::Api(ref s)) if s.code == 403),
        "another release's Lease was writable"
    );
    // Nothing in another namespace.
    let elsewhere = Api::<Lease>::namespaced(client.clone(), &other_ns);
    assert!(
        matches!(elsewhere.list(&ListParams::default()).await, Err(kube::Error::Api(ref s)) if s.code == 403),
        "another namespace's Leases were listable"
    );
    let elsewhere = Api::<Secret>::namespaced(client.clone(), &other_ns);
    assert!(forbidden(elsewhere.get("databricks").await));
    // App state: written in its namespace, never deleted, nowhere else.
    let state = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    let object = ConfigMap {
        metadata: ObjectMeta {
            name: Some("mortar-state-team-0".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    state.create(&PostParams::default(), &object).await.unwrap();
    assert!(
        matches!(state.delete("mortar-state-team-0", &Default::default()).await, Err(kube::Error::Api(ref s)) if s.code == 403),
        "app state was deletable"
    );
    let elsewhere = Api::<ConfigMap>::namespaced(client, &other_ns);
    assert!(
        matches!(elsewhere.create(&PostParams::default(), &object).await, Err(kube::Error::Api(ref s)) if s.code == 403),
        "app state was writable in another namespace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_cannot_renew_stops_writing_before_another_takes_over() {
    const APPS: usize = 4;
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("fence").await;
    let dev = emulator(EmulatorConfig::default()).await;
    put_secret(cluster, &ns, "databricks", "pat", &dev.token()).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), APPS, 0);
    let first = head(&repo);
    // Two replicas, each with an account of its own; one shard.
    let a_config = account(cluster, &ns, "mortar-a", 1, 4, &["databricks"]).await;
    let mut a = Replica::start(dir.path(), "mortar-a", &repo, &dev, &a_config, &ns, 1);
    let apps: Vec<String> = (0..APPS).map(|i| format!("team{i}")).collect();
    eventually(
        "the first replica syncs everything",
        Duration::from_secs(60),
        &[&a],
        || apps.iter().all(|app| synced(&[&a], app, &first)) && a.held() == BTreeSet::from([0]),
    )
    .await;
    let b_config = account(cluster, &ns, "mortar-b", 1, 4, &["databricks"]).await;
    let mut b = Replica::start(dir.path(), "mortar-b", &repo, &dev, &b_config, &ns, 1);
    tokio::time::sleep(Duration::from_secs(LEASE_SECONDS)).await;
    assert!(b.held().is_empty(), "the standby took a held shard");

    // The first replica loses its access: it cannot renew.
    Api::<RoleBinding>::namespaced(cluster.admin_client().await, &ns)
        .delete("mortar-a", &Default::default())
        .await
        .unwrap();
    let stopped = eventually(
        "the replica that cannot renew drops its shard",
        Duration::from_secs(LEASE_SECONDS * 3),
        &[&a],
        || a.held().is_empty(),
    )
    .await;
    let taken = eventually(
        "the standby takes the shard",
        Duration::from_secs(LEASE_SECONDS * 6),
        &[&a, &b],
        || b.held() == BTreeSet::from([0]),
    )
    .await;
    eprintln!(
        "dropped {stopped:?} after the revocation; taken over {:?} after it",
        stopped + taken
    );
    assert!(
        stopped < Duration::from_secs(LEASE_SECONDS),
        "kept writing for {stopped:?}, past the lease duration"
    );
    assert!(a.log().contains("stopped writing"), "{}", a.log());
    // A new commit is synced by the new holder only.
    let before = a.created().len() + a.records();
    repository(dir.path(), APPS, 1);
    let second = head(&repo);
    eventually(
        "synced by the new holder",
        Duration::from_secs(60),
        &[&a, &b],
        || apps.iter().all(|app| synced(&[&b], app, &second)),
    )
    .await;
    assert_eq!(
        a.created().len() + a.records(),
        before,
        "the fenced replica wrote"
    );
    assert!(jobs_by_name(&dev).await.values().all(|n| *n == 1));
    a.stop().await;
    b.stop().await;
}

fn groups_named(dev: &RunningEmulator, name: &str) -> usize {
    dev.snapshot()["groups"].as_object().map_or(0, |g| {
        g.values().filter(|g| g["displayName"] == name).count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_creator_was_killed_mid_call_is_adopted_by_the_next_holder() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("midcreate").await;
    let dev = emulator(EmulatorConfig::default()).await;
    put_secret(cluster, &ns, "databricks", "pat", &dev.token()).await;
    let kubeconfig = service_account(cluster, &ns, 1, 4, &["databricks"]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), 1, 0);
    let first = head(&repo);
    let mut replicas = Replica::start_many(2, dir.path(), &repo, &dev, &kubeconfig, &ns, 1);
    {
        let all: Vec<&Replica> = replicas.iter().collect();
        eventually("team0 synced", Duration::from_secs(60), &all, || {
            synced(&all, "team0", &first)
        })
        .await;
    }
    let holder = replicas.iter().position(|r| r.held().contains(&0)).unwrap();

    // Groups carry no ownership tag. The create takes effect, but its
    // answer is held back, and the replica that sent it dies waiting.
    dev.set_faults(mortar_emulator::FaultSettings {
        late: Some(mortar_emulator::LateAnswer {
            path: "/api/2.0/preview/scim/v2/Groups".into(),
            delay: Duration::from_secs(30),
        }),
        ..Default::default()
    });
    std::fs::write(
        repo.join("team0/group.yaml"),
        "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: team0-admins }\nspec:\n  displayName: team0-admins\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a group"]);
    let second = head(&repo);
    let started = Instant::now();
    while groups_named(&dev, "team0-admins") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the group was never created:\n{}",
            replicas[holder].log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    replicas[holder].kill().await;
    dev.set_faults(mortar_emulator::FaultSettings::default());
    let trail = std::fs::read_to_string(replicas[holder].dir.join("state/audit.jsonl")).unwrap();
    let last = trail.lines().last().unwrap();
    assert!(
        last.contains("\"create\"")
            && last.contains("team0-admins")
            && last.contains("\"phase\":\"intent\""),
        "the killed replica's last record is not the group's open intent: {last}"
    );

    // The other replica takes the shard over, finds the marker the dead
    // one left in the app's state, and adopts the group instead of calling
    // it a conflict or making a second one.
    let next = 1 - holder;
    let survivors = [&replicas[next]];
    eventually(
        "team0 synced at the new commit by the next holder",
        Duration::from_secs(60),
        &survivors,
        || synced(&survivors, "team0", &second),
    )
    .await;
    assert_eq!(groups_named(&dev, "team0-admins"), 1);
    assert!(
        !replicas[next]
            .created()
            .iter()
            .any(|(_, key)| key.contains("team0-admins")),
        "the next holder created the group again"
    );
    let state = Api::<ConfigMap>::namespaced(cluster.admin_client().await, &ns)
        .get(&mortar::cluster::state::object_name("mortar", "team0"))
        .await
        .unwrap();
    assert_eq!(
        state.data.as_ref().unwrap()["creates-in-flight.json"],
        "[]",
        "the marker outlived the adoption"
    );
    for r in &mut replicas {
        r.stop().await;
    }
}
