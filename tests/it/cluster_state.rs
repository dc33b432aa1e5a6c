//! App state kept in ConfigMaps of a real kube-apiserver: what one replica
//! writes the next finds, a write from a stale read is refused instead of
//! overwriting, markers of creates in flight outlive their writer, an app's
//! status travels with its state, and a state too big for a ConfigMap is an
//! error naming the app.

use std::io::Read as _;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use mortar::apply::inventory::{InventoryError, InventoryStore, SharedState};
use mortar::cluster::Cluster;
use mortar::cluster::state::{ConfigMapState, STATE_LABEL};
use mortar::config::KubernetesConfig;
use mortar::controller::status_store::SharedStatus;
use mortar::model::{AppStatus, Health, Inventory, Kind, ResourceKey, SyncStatus};
use mortar::plan::{ManagedResource, Ownership};
use serde_json::json;

use super::kube_support::TestCluster;

/// One replica's inventories, kept in the namespace's ConfigMaps.
async fn replica(cluster: &TestCluster, ns: &str, identity: &str) -> InventoryStore {
    let state: Arc<dyn SharedState> = state_store(cluster, ns, identity).await;
    InventoryStore::shared(state)
}

/// One replica's store of app state in the namespace's ConfigMaps.
async fn state_store(cluster: &TestCluster, ns: &str, identity: &str) -> Arc<ConfigMapState> {
    let config = KubernetesConfig {
        kubeconfig: Some(cluster.kubeconfig_path()),
        namespace: Some(ns.into()),
        identity: Some(identity.into()),
        ..Default::default()
    };
    let connected = Cluster::connect(&config).await.unwrap();
    Arc::new(ConfigMapState::new(&connected).unwrap())
}

fn group(name: &str) -> ResourceKey {
    ResourceKey {
        workspace: "dev".into(),
        kind: Kind::Group,
        name: name.into(),
    }
}

fn managed(id: &str, spec: serde_json::Value) -> ManagedResource {
    ManagedResource {
        id: id.into(),
        spec,
        permissions: Vec::new(),
        revision: Some("c0ffee".into()),
        ownership: Ownership::Created,
    }
}

/// Runs blocking store calls off the test's runtime threads.
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_replica_writes_the_next_finds_and_a_stale_write_is_refused() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("state").await;
    let a = replica(cluster, &ns, "mortar-0").await;
    let b = replica(cluster, &ns, "mortar-1").await;

    let (a2, b2) = (a.clone(), b.clone());
    off(move || {
        let mut inv = a2.load("team_a").unwrap();
        assert!(inv.resources.is_empty());
        inv.upsert(
            group("analysts"),
            managed("g-1", json!({"displayName": "analysts"})),
        );
        a2.save(&inv).unwrap();

        // The next holder reads it, and writes on top of it.
        let mut seen = b2.load("team_a").unwrap();
        assert_eq!(seen, inv);
        seen.upsert(
            group("engineers"),
            managed("g-2", json!({"displayName": "engineers"})),
        );
        b2.save(&seen).unwrap();

        // The first, still holding its old read, may not overwrite that.
        inv.remove(&group("analysts"));
        let err = a2.save(&inv).unwrap_err();
        assert!(matches!(err, InventoryError::Conflict { .. }), "{err:?}");
        assert!(err.to_string().contains("team_a"), "{err}");
        assert_eq!(b2.load("team_a").unwrap().resources.len(), 2);
        // Having read again, it may write.
        let mut again = a2.load("team_a").unwrap();
        again.remove(&group("analysts"));
        a2.save(&again).unwrap();
        assert_eq!(
            b2.load("team_a")
                .unwrap()
                .resources
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            vec![group("engineers")]
        );
        assert_eq!(b2.apps().unwrap(), vec!["team_a".to_string()]);
    })
    .await;

    // One labelled object, secret values masked inside.
    let objects = Api::<ConfigMap>::namespaced(cluster.admin_client().await, &ns)
        .list(&kube::api::ListParams::default().labels(&format!("{STATE_LABEL}=mortar")))
        .await
        .unwrap();
    assert_eq!(objects.items.len(), 1);
    assert_eq!(
        objects.items[0].metadata.annotations.as_ref().unwrap()["mortar.dev/app"],
        "team_a"
    );

    // A secret value never reaches the object.
    off(move || {
        let mut inv = a.load("team_b").unwrap();
        inv.upsert(
            group("token"),
            managed(
                "s-1",
                json!({"scope": "s", "key": "k", "string_value": "hunter2-sentinel"}),
            ),
        );
        a.save(&inv).unwrap();
    })
    .await;
    let object = Api::<ConfigMap>::namespaced(cluster.admin_client().await, &ns)
        .get(&mortar::cluster::state::object_name("mortar", "team_b"))
        .await
        .unwrap();
    let mut stored = String::new();
    flate2::read::GzDecoder::new(
        object.binary_data.unwrap()["inventory.json.gz"]
            .0
            .as_slice(),
    )
    .read_to_string(&mut stored)
    .unwrap();
    assert!(stored.contains("string_value"), "{stored}");
    assert!(!stored.contains("hunter2-sentinel"), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markers_of_creates_in_flight_outlive_their_writer() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("markers").await;
    let a = replica(cluster, &ns, "mortar-0").await;
    let b = replica(cluster, &ns, "mortar-1").await;
    off(move || {
        a.load("ops").unwrap();
        a.intend_create("ops", &group("admins")).unwrap();
        a.intend_create("ops", &group("readers")).unwrap();
        a.forget_create("ops", &group("readers")).unwrap();
        drop(a);

        let (inv, marked) = b.load_with_markers("ops").unwrap();
        assert!(inv.resources.is_empty());
        assert_eq!(
            marked.into_iter().collect::<Vec<_>>(),
            vec![group("admins")]
        );
        // Once the inventory holds the key, its marker is gone.
        let mut inv = Inventory::new("ops");
        inv.upsert(
            group("admins"),
            managed("g-9", json!({"displayName": "admins"})),
        );
        b.save(&inv).unwrap();
        let (_, marked) = b.load_with_markers("ops").unwrap();
        assert!(marked.is_empty(), "{marked:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_too_big_for_a_config_map_is_an_error_naming_the_app() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("big").await;
    let a = replica(cluster, &ns, "mortar-0").await;
    off(move || {
        let mut inv = a.load("huge").unwrap();
        // Text that does not compress: 1,500 objects of 1 KiB of noise.
        let mut seed: u64 = 7;
        for i in 0..1500 {
            let noise: String = (0..1024)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'!' + ((seed >> 33) % 90) as u8)
                })
                .collect();
            inv.upsert(
                group(&format!("g{i}")),
                managed(&i.to_string(), json!({ "description": noise })),
            );
        }
        let err = a.save(&inv).unwrap_err();
        let text = mortar::error_chain::error_chain(&err);
        assert!(
            text.contains("`huge`") && text.contains("at most"),
            "{text}"
        );
        assert!(a.load("huge").unwrap().resources.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_status_travels_with_its_state_to_the_next_owner() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("status").await;
    let a = state_store(cluster, &ns, "mortar-0").await;
    let b = state_store(cluster, &ns, "mortar-1").await;
    off(move || {
        assert_eq!(b.load_status("team").unwrap(), None);
        let mut status = AppStatus::unknown("team");
        status.sync = SyncStatus::Synced;
        status.health = Health::Healthy;
        status.revision_applied = Some("c0ffee".into());
        // Before the app has an inventory: the object is made for it.
        a.save_status(&status).unwrap();
        // An inventory written afterwards keeps the status beside it.
        let mut inv = a.load("team").unwrap().0;
        inv.upsert(
            group("analysts"),
            managed("g-1", json!({"displayName": "analysts"})),
        );
        a.save(&inv).unwrap();
        assert_eq!(b.load_status("team").unwrap(), Some(status.clone()));
        assert_eq!(b.load("team").unwrap().0, inv);

        // The next owner writes; the one that lost the app is refused.
        let mut later = status.clone();
        later.revision_applied = Some("beef".into());
        b.save_status(&later).unwrap();
        let mut stale = status.clone();
        stale.health = Health::Degraded;
        let refused = a.save_status(&stale).unwrap_err();
        assert!(
            matches!(refused, InventoryError::Conflict { .. }),
            "{refused}"
        );
        assert_eq!(a.load_status("team").unwrap(), Some(later));
    })
    .await;
}
