//! The Databricks client against the emulator over real HTTP: every kind's
//! adapter round-trips, injected faults never duplicate an object, tokens
//! are fetched once for many concurrent callers, and credentials never leave
//! their host.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use mortar::config::{AuthConfig, ValueRef};
use mortar::databricks::kinds::{Acl, Desired, OwnershipTags, adapter};
use mortar::databricks::{Client, Error};
use mortar::manifest::{Kind, PermissionEntry, Principal, ResourceKey};
use mortar_emulator::{EmulatorConfig, FaultKind, FaultSettings, OAuthClient, Secret};

use crate::databricks_support::{CountingProxy, emulator, pat_client, secret_file, workspace};

const APP: &str = "platform";
const READERS: &str = "mortar-readers";
const CATALOG: &str = "mortar_cat";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn key(kind: Kind, name: &str) -> ResourceKey {
    ResourceKey {
        workspace: "test".into(),
        kind,
        name: name.into(),
    }
}

fn readers(level: &str) -> PermissionEntry {
    PermissionEntry {
        principal: Principal::GroupName(READERS.into()),
        permission_level: level.into(),
    }
}

/// One kind's round trip: its spec, an updated spec, and two ACL levels.
struct Case {
    kind: Kind,
    spec: Value,
    updated: Value,
    acl: Option<(&'static str, &'static str)>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            kind: Kind::Group,
            spec: json!({"displayName": "mortar-analysts"}),
            updated: json!({"displayName": "mortar-analysts", "entitlements": [{"value": "databricks-sql-access"}]}),
            acl: None,
        },
        Case {
            kind: Kind::ServicePrincipal,
            spec: json!({"displayName": "mortar-etl"}),
            updated: json!({"displayName": "mortar-etl", "entitlements": [{"value": "allow-cluster-create"}]}),
            acl: None,
        },
        Case {
            kind: Kind::ClusterPolicy,
            spec: json!({"name": "mortar-small", "definition": "{\"num_workers\":{\"type\":\"fixed\",\"value\":1}}"}),
            updated: json!({"name": "mortar-small", "definition": "{\"num_workers\":{\"type\":\"fixed\",\"value\":2}}",
                "description": "two workers", "max_clusters_per_user": 2}),
            acl: Some(("CAN_USE", "CAN_USE")),
        },
        Case {
            kind: Kind::InstancePool,
            spec: json!({"instance_pool_name": "mortar-pool", "node_type_id": "i3.xlarge", "max_capacity": 10,
                "custom_tags": {"team": "data"}}),
            updated: json!({"instance_pool_name": "mortar-pool", "node_type_id": "i3.xlarge", "max_capacity": 20,
                "min_idle_instances": 1, "custom_tags": {"team": "data"}}),
            acl: Some(("CAN_ATTACH_TO", "CAN_MANAGE")),
        },
        Case {
            kind: Kind::Cluster,
            spec: json!({"cluster_name": "mortar-shared", "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge", "num_workers": 2, "autotermination_minutes": 30,
                "custom_tags": {"team": "data"}}),
            updated: json!({"cluster_name": "mortar-shared", "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge", "num_workers": 3, "autotermination_minutes": 30,
                "custom_tags": {"team": "data"}}),
            acl: Some(("CAN_ATTACH_TO", "CAN_RESTART")),
        },
        Case {
            kind: Kind::Job,
            spec: json!({"name": "mortar-nightly", "max_concurrent_runs": 2, "tags": {"team": "data"},
            "tasks": [
                {"task_key": "load", "depends_on": [{"task_key": "ingest"}],
                 "notebook_task": {"notebook_path": "/Shared/load"}, "existing_cluster_id": "0101-000000-abc"},
                {"task_key": "ingest", "notebook_task": {"notebook_path": "/Shared/ingest"},
                 "existing_cluster_id": "0101-000000-abc"}
            ]}),
            updated: json!({"name": "mortar-nightly", "max_concurrent_runs": 2, "tags": {"team": "data"},
            "timeout_seconds": 3600,
            "tasks": [
                {"task_key": "ingest", "notebook_task": {"notebook_path": "/Shared/ingest"},
                 "existing_cluster_id": "0101-000000-abc"},
                {"task_key": "load", "depends_on": [{"task_key": "ingest"}, {"task_key": "check"}],
                 "notebook_task": {"notebook_path": "/Shared/load"}, "existing_cluster_id": "0101-000000-abc"},
                {"task_key": "check", "notebook_task": {"notebook_path": "/Shared/check"},
                 "existing_cluster_id": "0101-000000-abc"}
            ]}),
            acl: Some(("CAN_VIEW", "CAN_MANAGE_RUN")),
        },
        Case {
            kind: Kind::SqlWarehouse,
            spec: json!({"name": "mortar-bi", "cluster_size": "Small", "max_num_clusters": 2, "auto_stop_mins": 30}),
            updated: json!({"name": "mortar-bi", "cluster_size": "Medium", "max_num_clusters": 2, "auto_stop_mins": 30}),
            acl: Some(("CAN_USE", "CAN_MANAGE")),
        },
        Case {
            kind: Kind::SecretScope,
            spec: json!({"scope": "mortar-scope"}),
            updated: json!({"scope": "mortar-scope"}),
            acl: Some(("READ", "WRITE")),
        },
        Case {
            kind: Kind::Directory,
            spec: json!({"path": "/Shared/mortar/reports"}),
            updated: json!({"path": "/Shared/mortar/reports"}),
            acl: Some(("CAN_READ", "CAN_RUN")),
        },
        Case {
            kind: Kind::Notebook,
            spec: json!({"path": "/Shared/mortar/etl", "language": "PYTHON", "content": b64("print(1)")}),
            updated: json!({"path": "/Shared/mortar/etl", "language": "PYTHON", "content": b64("print(2)")}),
            acl: Some(("CAN_READ", "CAN_EDIT")),
        },
        Case {
            kind: Kind::WorkspaceFile,
            spec: json!({"path": "/Shared/mortar/conf.json", "content": b64("{\"a\": 1}")}),
            updated: json!({"path": "/Shared/mortar/conf.json", "content": b64("{\"a\": 2}")}),
            acl: Some(("CAN_READ", "CAN_MANAGE")),
        },
        Case {
            kind: Kind::Catalog,
            spec: json!({"name": "mortar_sales", "comment": "sales data"}),
            updated: json!({"name": "mortar_sales", "comment": "sales data, curated",
                "properties": {"owner-team": "sales"}}),
            acl: None,
        },
        Case {
            kind: Kind::Schema,
            spec: json!({"catalog_name": CATALOG, "name": "raw", "comment": "landing"}),
            updated: json!({"catalog_name": CATALOG, "name": "raw", "comment": "landing zone"}),
            acl: None,
        },
        Case {
            kind: Kind::Grants,
            spec: json!({"securable_type": "catalog", "full_name": CATALOG,
                "privilege_assignments": [{"principal": READERS, "privileges": ["USE_CATALOG"]}]}),
            updated: json!({"securable_type": "catalog", "full_name": CATALOG,
                "privilege_assignments": [{"principal": READERS, "privileges": ["SELECT", "USE_CATALOG", "USE_SCHEMA"]}]}),
            acl: None,
        },
        Case {
            kind: Kind::WorkspaceConf,
            spec: json!({"enableTokensConfig": "true", "maxTokenLifetimeDays": "90"}),
            updated: json!({"enableTokensConfig": "true", "maxTokenLifetimeDays": "30"}),
            acl: None,
        },
    ]
}

fn desired<'a>(key: &'a ResourceKey, spec: &'a Value) -> Desired<'a> {
    Desired {
        key,
        app: APP,
        spec,
    }
}

async fn create_fixture(client: &Client, kind: Kind, spec: Value) -> String {
    let a = adapter(kind).expect("adapter");
    let k = key(kind, "fixture");
    a.create(client, desired(&k, &spec))
        .await
        .unwrap_or_else(|e| panic!("create {kind} fixture: {e}"))
}

async fn round_trip(client: &Client, case: &Case) {
    let kind = case.kind;
    let a = adapter(kind).expect("adapter");
    let name = a.name_of(&case.spec).expect("spec names the object");
    let k = key(kind, &name);
    let ctx = |step: &str| format!("{kind} {name}: {step}");

    // Create, then find it in the list by name or ownership tag.
    let id = a
        .create(client, desired(&k, &case.spec))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("create")));
    let names = BTreeSet::from([name.clone()]);
    let listed = a
        .list(client, &names)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("list")));
    let found: Vec<_> = listed.iter().filter(|o| o.id == id).collect();
    assert_eq!(found.len(), 1, "{}: {listed:#?}", ctx("listed once"));
    if !a.unique_names() {
        assert_eq!(
            found[0].owner,
            Some(OwnershipTags {
                app: APP.into(),
                key: k.to_string()
            }),
            "{}",
            ctx("ownership tags")
        );
    }
    let want = a.normalize_spec(&case.spec);
    if kind != Kind::Job {
        // Only the job's spec lists its tasks out of order on purpose.
        assert_eq!(want, case.spec, "{}", ctx("spec is already canonical"));
    }
    assert_eq!(
        as_declared(a.normalize(&found[0].raw), &want),
        want,
        "{}",
        ctx("listed object normalizes to the manifest")
    );

    // Read back: normalized equals the manifest spec.
    let live = a
        .get(client, &id)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("get")))
        .unwrap_or_else(|| panic!("{}", ctx("exists after create")));
    assert_eq!(
        as_declared(a.normalize(&live.raw), &want),
        want,
        "{}",
        ctx("read back")
    );

    // ACL: authoritative write, direct entries read back.
    if let Some((level, _)) = case.acl {
        a.write_permissions(client, &id, &[readers(level)])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("write permissions")));
        let acl: Acl = a
            .read_permissions(client, &id)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("read permissions")));
        assert_eq!(acl.entries, vec![readers(level)], "{}", ctx("ACL"));
    }

    // Update with the kind's verb; the change reads back.
    if case.updated != case.spec {
        a.update(client, &id, desired(&k, &case.updated))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("update")));
        let live = a
            .get(client, &id)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("get after update")))
            .unwrap_or_else(|| panic!("{}", ctx("exists after update")));
        let updated = a.normalize_spec(&case.updated);
        assert_eq!(
            as_declared(a.normalize(&live.raw), &updated),
            updated,
            "{}",
            ctx("updated read back")
        );
    }
    if let Some((_, level)) = case.acl {
        a.write_permissions(client, &id, &[readers(level)])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("rewrite permissions")));
        let acl = a
            .read_permissions(client, &id)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("re-read permissions")));
        assert_eq!(acl.entries, vec![readers(level)], "{}", ctx("ACL replaced"));
    }

    // Delete; deleting again is not an error.
    a.delete(client, &id)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("delete")));
    if kind != Kind::WorkspaceConf {
        let after = a
            .get(client, &id)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", ctx("get after delete")));
        assert!(after.is_none(), "{}: {after:?}", ctx("gone after delete"));
    }
    a.delete(client, &id)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("second delete")));
}

/// Creates the fixtures the cases refer to, runs every case, cleans up.
async fn round_trip_every_kind(client: &Client) {
    let readers_id = create_fixture(client, Kind::Group, json!({"displayName": READERS})).await;

    let all = cases();
    let covered: BTreeSet<Kind> = all.iter().map(|c| c.kind).collect();
    let expected: BTreeSet<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| k.is_databricks())
        .collect();
    assert_eq!(covered, expected, "a round trip for every Databricks kind");

    let mut catalog_id = None;
    for case in &all {
        if matches!(case.kind, Kind::Schema | Kind::Grants) && catalog_id.is_none() {
            catalog_id =
                Some(create_fixture(client, Kind::Catalog, json!({"name": CATALOG})).await);
        }
        round_trip(client, case).await;
    }

    let fixtures = catalog_id
        .map(|id| (Kind::Catalog, id))
        .into_iter()
        .chain([(Kind::Group, readers_id)]);
    for (kind, id) in fixtures {
        adapter(kind)
            .expect("adapter")
            .delete(client, &id)
            .await
            .expect("fixture deleted");
    }
}

#[tokio::test]
async fn every_kind_round_trips_through_its_adapter() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    round_trip_every_kind(&client).await;
}

#[tokio::test]
async fn every_kind_round_trips_while_a_fifth_of_requests_fail() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    emu.set_faults(FaultSettings {
        fault_rate: 0.2,
        kinds: vec![
            FaultKind::Throttle,
            FaultKind::Error503,
            FaultKind::Drop,
            FaultKind::Error500,
        ],
        seed: Some(3),
        ..FaultSettings::default()
    });
    // Each create is checked to be listed exactly once.
    round_trip_every_kind(&client).await;
}

#[tokio::test]
async fn lost_answers_to_creates_never_duplicate_an_object() {
    let emu = emulator(EmulatorConfig::default()).await;
    // Every create (every first POST of its kind) is carried out by the
    // workspace, but its answer is lost: the client sees a 504.
    let proxy = CountingProxy::start_lossy(emu.base_url()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "pat", &emu.token());
    let client = Client::new(
        "lossy",
        &workspace(&proxy.base_url, AuthConfig::Pat { token }),
    )
    .expect("client");
    // Each create is checked to be listed exactly once, with the id returned.
    round_trip_every_kind(&client).await;
    // The job was created once, on the first try; the second was never needed.
    assert_eq!(proxy.count("POST /api/2.2/jobs/create"), 1);
}

#[tokio::test]
async fn timed_out_creates_never_duplicate_a_job() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "pat", &emu.token());
    let mut config = workspace(emu.base_url(), AuthConfig::Pat { token });
    config.limits.request_timeout_secs = 1;
    let client = Client::new("slow", &config).expect("client");
    // A fifth of requests answer after 1.5 s: past the client's timeout.
    emu.set_faults(FaultSettings {
        fault_rate: 0.2,
        kinds: vec![FaultKind::Slow],
        slow: Duration::from_millis(1500),
        seed: Some(5),
        ..FaultSettings::default()
    });
    let job = adapter(Kind::Job).expect("adapter");
    let jobs: Vec<(ResourceKey, Value)> = (0..8)
        .map(|i| {
            let name = format!("slow-{i}");
            let spec = json!({"name": name, "tasks": [{"task_key": "t",
                "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "c"}]});
            (key(Kind::Job, &name), spec)
        })
        .collect();
    let ids = futures::future::join_all(
        jobs.iter()
            .map(|(k, spec)| job.create(&client, desired(k, spec))),
    )
    .await;
    emu.set_faults(FaultSettings::default());
    let names: BTreeSet<String> = jobs.iter().map(|(k, _)| k.name.clone()).collect();
    let live = job.list(&client, &names).await.expect("list");
    assert_eq!(live.len(), jobs.len(), "one job per create: {live:#?}");
    for ((k, _), id) in jobs.iter().zip(ids) {
        let id = id.expect("create converges");
        let same: Vec<_> = live.iter().filter(|o| o.name == k.name).collect();
        assert_eq!(same.len(), 1, "{}", k.name);
        assert_eq!(same[0].id, id);
    }
}

#[tokio::test]
async fn missing_objects_are_not_found() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    // The Jobs API answers 400 INVALID_PARAMETER_VALUE "Job 424242 does not exist."
    let err = client
        .get("/api/2.2/jobs/get", &[("job_id", "424242")])
        .await
        .expect_err("no such job");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("424242"), "{err}");
    let job = adapter(Kind::Job).expect("adapter");
    assert!(job.get(&client, "424242").await.expect("get").is_none());
    job.delete(&client, "424242")
        .await
        .expect("deleting a missing job is a no-op");

    let err = client
        .post(
            "/api/2.2/jobs/create",
            &json!({"name": "x", "tasks": [{"task_key": "t", "notebook_task": {}}], "max_concurrent_runs": -1}),
        )
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");
}

#[tokio::test]
async fn throttled_calls_wait_for_retry_after() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    emu.inject_throttle(2, 1, "/api/2.2/jobs/list");
    let start = Instant::now();
    let listed = adapter(Kind::Job)
        .expect("adapter")
        .list(&client, &BTreeSet::new())
        .await
        .expect("list succeeds after two 429s");
    assert!(listed.is_empty());
    // Two answers said `Retry-After: 1`; both were honored.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn injected_faults_never_duplicate_an_object() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    emu.set_faults(FaultSettings {
        fault_rate: 0.2,
        kinds: vec![FaultKind::Throttle, FaultKind::Error503, FaultKind::Drop],
        seed: Some(11),
        ..FaultSettings::default()
    });

    let job = adapter(Kind::Job).expect("adapter");
    let group = adapter(Kind::Group).expect("adapter");
    let jobs: Vec<(ResourceKey, Value)> = (0..12)
        .map(|i| {
            let name = format!("faulty-{i:02}");
            let spec = json!({"name": name, "tasks": [{"task_key": "t",
                "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "c"}]});
            (key(Kind::Job, &name), spec)
        })
        .collect();
    let groups: Vec<(ResourceKey, Value)> = (0..4)
        .map(|i| {
            let name = format!("faulty-group-{i}");
            (key(Kind::Group, &name), json!({ "displayName": name }))
        })
        .collect();

    // Create everything concurrently while 20% of requests fail.
    let job_ids = futures::future::join_all(
        jobs.iter()
            .map(|(k, spec)| job.create(&client, desired(k, spec))),
    )
    .await;
    let group_ids = futures::future::join_all(
        groups
            .iter()
            .map(|(k, spec)| group.create(&client, desired(k, spec))),
    )
    .await;
    let job_ids: Vec<String> = job_ids
        .into_iter()
        .map(|r| r.expect("job create converges"))
        .collect();
    let group_ids: Vec<String> = group_ids
        .into_iter()
        .map(|r| r.expect("group create converges"))
        .collect();

    // Update every job, still under faults.
    let updated: Vec<Value> = jobs
        .iter()
        .map(|(_, spec)| {
            let mut s = spec.clone();
            s["max_concurrent_runs"] = json!(3);
            s
        })
        .collect();
    let results = futures::future::join_all(
        jobs.iter()
            .zip(&job_ids)
            .zip(&updated)
            .map(|(((k, _), id), spec)| job.update(&client, id, desired(k, spec))),
    )
    .await;
    for r in results {
        r.expect("update converges");
    }
    // Delete half of them, still under faults.
    let results =
        futures::future::join_all(job_ids.iter().take(6).map(|id| job.delete(&client, id))).await;
    for r in results {
        r.expect("delete converges");
    }

    emu.set_faults(FaultSettings::default());
    let names: BTreeSet<String> = jobs
        .iter()
        .map(|(k, _)| k.name.clone())
        .chain(groups.iter().map(|(k, _)| k.name.clone()))
        .collect();
    let live_jobs = job.list(&client, &names).await.expect("list jobs");
    assert_eq!(
        live_jobs.len(),
        6,
        "exactly the six kept jobs: {live_jobs:#?}"
    );
    for (i, ((k, _), id)) in jobs.iter().zip(&job_ids).enumerate().skip(6) {
        let same: Vec<_> = live_jobs.iter().filter(|o| o.name == k.name).collect();
        assert_eq!(same.len(), 1, "one job named {}", k.name);
        assert_eq!(&same[0].id, id, "create returned the id that exists");
        assert_eq!(
            job.normalize(&same[0].raw),
            job.normalize_spec(&updated[i]),
            "update applied"
        );
    }
    let live_groups = group.list(&client, &names).await.expect("list groups");
    assert_eq!(live_groups.len(), 4, "{live_groups:#?}");
    for id in &group_ids {
        assert!(live_groups.iter().any(|g| &g.id == id));
    }
}

#[tokio::test]
async fn fifty_concurrent_callers_cause_one_token_request() {
    let client_id = "6f1f4a3e-0000-4000-8000-000000000001";
    let emu = emulator(EmulatorConfig {
        oauth_clients: vec![OAuthClient {
            client_id: client_id.into(),
            client_secret: Secret::new("m2m-secret"),
            service_principal: Some("mortar-m2m".into()),
            admin: true,
        }],
        oauth_token_ttl: Duration::from_secs(6),
        ..EmulatorConfig::default()
    })
    .await;
    let proxy = CountingProxy::start(emu.base_url()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = AuthConfig::OauthM2m {
        client_id: ValueRef::Literal(client_id.into()),
        client_secret: secret_file(dir.path(), "secret", "m2m-secret"),
    };
    let client = Client::new("m2m", &workspace(&proxy.base_url, auth)).expect("client");

    let calls = futures::future::join_all((0..50).map(|_| client.me())).await;
    for me in calls {
        let me = me.expect("Me");
        assert_eq!(me["applicationId"], client_id);
    }
    assert_eq!(
        proxy.count("POST /oidc/v1/token"),
        1,
        "one token for 50 callers"
    );
    assert_eq!(proxy.count("GET /api/2.0/preview/scim/v2/Me"), 50);

    // The 6 s token is replaced 1.5 s before it expires: after 5 s the next
    // wave fetches exactly one new token and no call sees a 401.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let calls = futures::future::join_all((0..50).map(|_| client.me())).await;
    for me in calls {
        me.expect("Me after refresh");
    }
    assert_eq!(
        proxy.count("POST /oidc/v1/token"),
        2,
        "one refresh for 50 callers"
    );
    assert_eq!(client.token_requests(), 2);

    // `identity` reads `Me` once per client and remembers it.
    for _ in 0..3 {
        assert_eq!(
            client.identity().await.expect("Me")["applicationId"],
            client_id
        );
    }
    assert_eq!(proxy.count("GET /api/2.0/preview/scim/v2/Me"), 101);
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    // A host that receives nothing but counts what it gets.
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let other = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            "{}"
        }
    });
    let other_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let other_addr = other_listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(other_listener, other).await;
    });
    // The configured workspace answers every API call with a redirect there.
    let location = format!("http://{other_addr}/api/2.0/preview/scim/v2/Me");
    let workspace_app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move {
            axum::response::Response::builder()
                .status(307)
                .header("location", location)
                .body(axum::body::Body::empty())
                .expect("response")
        }
    });
    let ws_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ws_addr = ws_listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(ws_listener, workspace_app).await;
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "pat", "dapi-do-not-leak");
    let client = Client::new(
        "w",
        &workspace(&format!("http://{ws_addr}"), AuthConfig::Pat { token }),
    )
    .expect("client");
    let err = client.me().await.expect_err("redirect refused");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(!err.to_string().contains("dapi-do-not-leak"));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the other host got nothing");
    // An absolute URL on another host is refused before any request.
    let err = client
        .get(&format!("http://{other_addr}/api/2.2/jobs/list"), &[])
        .await
        .expect_err("foreign URL refused");
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn paged_lists_and_long_jobs_are_read_to_the_end() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    let job = adapter(Kind::Job).expect("adapter");
    let group = adapter(Kind::Group).expect("adapter");

    // 105 jobs: two pages of jobs/list at 100 per page.
    let specs: Vec<(ResourceKey, Value)> = (0..105)
        .map(|i| {
            let name = format!("paged-{i:03}");
            let spec = json!({"name": name, "tasks": [{"task_key": "t",
                "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "c"}]});
            (key(Kind::Job, &name), spec)
        })
        .collect();
    for r in futures::future::join_all(
        specs
            .iter()
            .map(|(k, spec)| job.create(&client, desired(k, spec))),
    )
    .await
    {
        r.expect("create");
    }
    let owned = job.list(&client, &BTreeSet::new()).await.expect("list");
    assert_eq!(owned.len(), 105, "every owned job, across pages");

    // A job with 150 tasks: jobs/get returns them 100 at a time.
    let tasks: Vec<Value> = (0..150)
        .map(|i| {
            json!({"task_key": format!("t{i:03}"),
            "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "c"})
        })
        .collect();
    let big = json!({"name": "big", "tasks": tasks});
    let big_key = key(Kind::Job, "big");
    let id = job
        .create(&client, desired(&big_key, &big))
        .await
        .expect("create big");
    let live = job.get(&client, &id).await.expect("get").expect("exists");
    assert_eq!(job.normalize(&live.raw), job.normalize_spec(&big));
    let listed = job
        .list(&client, &BTreeSet::from(["big".to_string()]))
        .await
        .expect("list");
    let big_listed = listed.iter().find(|o| o.id == id).expect("listed");
    assert_eq!(job.normalize(&big_listed.raw), job.normalize_spec(&big));

    // 105 groups: SCIM startIndex/count paging at 100 per page.
    let names: BTreeSet<String> = (0..105).map(|i| format!("paged-group-{i:03}")).collect();
    let keys: Vec<ResourceKey> = names.iter().map(|n| key(Kind::Group, n)).collect();
    let specs: Vec<Value> = names.iter().map(|n| json!({ "displayName": n })).collect();
    for r in futures::future::join_all(
        keys.iter()
            .zip(&specs)
            .map(|(k, spec)| group.create(&client, desired(k, spec))),
    )
    .await
    {
        r.expect("create group");
    }
    let listed = group.list(&client, &names).await.expect("list groups");
    assert_eq!(listed.len(), 105);
}

#[tokio::test]
async fn the_client_stays_within_the_workspace_rate_limit() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.set_rate_limit(Some(5.0));
    let proxy = CountingProxy::start(emu.base_url()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "pat", &emu.token());
    let mut config = workspace(&proxy.base_url, AuthConfig::Pat { token });

    // Unlimited, the client is throttled (and retries until it gets through).
    let client = Client::new("eager", &config).expect("client");
    for r in futures::future::join_all((0..12).map(|_| client.get("/api/2.2/jobs/list", &[]))).await
    {
        r.expect("eventually answered");
    }
    let eager = proxy.count("GET /api/2.2/jobs/list");
    assert!(
        eager > 12,
        "the workspace throttled an unlimited client ({eager} requests for 12 calls)"
    );

    // With a 4/s budget below the workspace's 5/s, nothing is throttled.
    tokio::time::sleep(Duration::from_secs(3)).await;
    config.limits.requests_per_second = 4.0;
    let client = Client::new("polite", &config).expect("client");
    let start = Instant::now();
    for r in futures::future::join_all((0..12).map(|_| client.get("/api/2.2/jobs/list", &[]))).await
    {
        r.expect("answered");
    }
    assert_eq!(
        proxy.count("GET /api/2.2/jobs/list") - eager,
        12,
        "no request was throttled"
    );
    // 4 fit the burst, 8 more at 4/s.
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_concurrency_limit() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.set_latency(Duration::from_millis(200));
    let dir = tempfile::tempdir().expect("tempdir");
    let token = secret_file(dir.path(), "pat", &emu.token());
    let mut config = workspace(emu.base_url(), AuthConfig::Pat { token });
    config.limits.max_concurrency = 2;
    let client = Client::new("narrow", &config).expect("client");
    let start = Instant::now();
    for r in futures::future::join_all((0..6).map(|_| client.get("/api/2.2/jobs/list", &[]))).await
    {
        r.expect("answered");
    }
    // Six 200 ms calls, two at a time: three rounds.
    assert!(
        start.elapsed() >= Duration::from_millis(590),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_token_endpoint_on_another_host_gets_no_secret() {
    // A host that counts what reaches it.
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let other = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            "{}"
        }
    });
    let other_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let other_addr = other_listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(other_listener, other).await;
    });
    // A workspace whose discovery document points at that host.
    let oidc = format!("http://{other_addr}/oidc");
    let ws = axum::Router::new().route(
        "/.well-known/databricks-config",
        axum::routing::get(move || {
            let oidc = oidc.clone();
            async move { axum::Json(json!({ "oidc_endpoint": oidc })) }
        }),
    );
    let ws_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ws_addr = ws_listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(ws_listener, ws).await;
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let auth = AuthConfig::OauthM2m {
        client_id: ValueRef::Literal("sp".into()),
        client_secret: secret_file(dir.path(), "secret", "m2m-secret"),
    };
    let client = Client::new("w", &workspace(&format!("http://{ws_addr}"), auth)).expect("client");
    let err = client.me().await.expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Auth(mortar::databricks::AuthError::ForeignHost { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&other_addr.to_string()), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the other host got nothing");
}

/// A normalized live object without the zone the server chose: normalization
/// keeps it on the live side, where the three-way diff takes it for a
/// server-set field; only a zone the manifest pins is compared.
fn as_declared(mut live: Value, want: &Value) -> Value {
    if want.pointer("/aws_attributes/zone_id").is_none()
        && let Some(aws) = live
            .get_mut("aws_attributes")
            .and_then(Value::as_object_mut)
    {
        aws.remove("zone_id");
        if aws.is_empty()
            && let Some(obj) = live.as_object_mut()
        {
            obj.remove("aws_attributes");
        }
    }
    live
}

#[tokio::test]
async fn a_scope_takes_its_secrets_through_its_adapter_and_lists_only_their_keys() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    let scopes = adapter(Kind::SecretScope).expect("adapter");
    let k = key(Kind::SecretScope, "etl");
    let spec = json!({"scope": "etl"});
    let id = scopes
        .create(&client, desired(&k, &spec))
        .await
        .expect("create scope");
    assert!(
        scopes
            .secret_keys(&client, &id)
            .await
            .expect("keys")
            .is_empty()
    );
    let value = mortar::databricks::Secret::new("s3cr3t-value");
    scopes
        .put_secret(&client, &id, "db-password", &value)
        .await
        .expect("put");
    let keys = scopes.secret_keys(&client, &id).await.expect("keys");
    assert_eq!(keys, BTreeSet::from(["db-password".to_string()]));
    // The value went to the workspace, base64 as the API returns it.
    let got = client
        .get(
            "/api/2.0/secrets/get",
            &[("scope", id.as_str()), ("key", "db-password")],
        )
        .await
        .expect("secrets/get");
    assert_eq!(got["value"], b64("s3cr3t-value"));
    // A kind that holds no secrets refuses rather than calling anything.
    let job = adapter(Kind::Job).expect("adapter");
    let err = job
        .put_secret(&client, "1", "k", &value)
        .await
        .expect_err("jobs hold no secrets");
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

/// A pool whose `aws_attributes` the server filled is updated with what
/// `instance-pools/edit` takes; a change to a field fixed at create is
/// refused by name, never dropped as if applied.
#[tokio::test]
async fn instance_pools_change_what_edit_takes_and_refuse_the_rest() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_client(&emu, dir.path());
    let pools = adapter(Kind::InstancePool).expect("adapter");
    let k = key(Kind::InstancePool, "etl-pool");
    let spec = json!({"instance_pool_name": "etl-pool", "node_type_id": "i3.xlarge"});
    let id = create_fixture(&client, Kind::InstancePool, spec).await;
    let live = pools.get(&client, &id).await.unwrap().unwrap();
    assert!(
        live.raw.get("aws_attributes").is_some(),
        "the server fills it"
    );

    let wider =
        json!({"instance_pool_name": "etl-pool", "node_type_id": "i3.xlarge", "max_capacity": 8});
    pools
        .update(&client, &id, desired(&k, &wider))
        .await
        .expect("an editable change");
    let live = pools.get(&client, &id).await.unwrap().unwrap();
    assert_eq!(live.raw["max_capacity"], 8);

    let moved = json!({"instance_pool_name": "etl-pool", "node_type_id": "i3.xlarge", "max_capacity": 8,
                       "aws_attributes": {"availability": "ON_DEMAND"}});
    let err = pools
        .update(&client, &id, desired(&k, &moved))
        .await
        .expect_err("fixed at create");
    assert!(
        err.to_string()
            .contains("aws_attributes cannot be changed on an existing pool"),
        "{err}"
    );
}
