//! The test API server behaves as a cluster does in what the controller
//! relies on: optimistic concurrency, watches, ServiceAccount tokens and
//! their audiences, and RBAC refusing a token with no role.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::watcher::{self, Event};

use super::kube_support::{TestCluster, client_from};

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("value".to_string(), value.to_string())])),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_is_refused_and_a_watch_sees_another_clients_change() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("smoke").await;
    let api = Api::<ConfigMap>::namespaced(cluster.admin_client().await, &ns);
    let first = api
        .create(&PostParams::default(), &config_map("state", "1"))
        .await
        .unwrap();
    let mut second = config_map("state", "2");
    second.metadata.resource_version = first.metadata.resource_version.clone();
    api.replace("state", &PostParams::default(), &second)
        .await
        .unwrap();
    // The first version again: someone else wrote in between.
    let mut stale = config_map("state", "3");
    stale.metadata.resource_version = first.metadata.resource_version.clone();
    let refused = api.replace("state", &PostParams::default(), &stale).await;
    assert!(
        matches!(refused, Err(kube::Error::Api(ref s)) if s.code == 409),
        "{refused:?}"
    );

    let watched = Api::<ConfigMap>::namespaced(cluster.admin_client().await, &ns);
    let mut events = watcher::watcher(watched, watcher::Config::default()).boxed();
    // The initial listing ends before the change is made.
    loop {
        match events.next().await.unwrap().unwrap() {
            Event::InitDone => break,
            _ => continue,
        }
    }
    let current = api.get("state").await.unwrap();
    let mut update = config_map("state", "4");
    update.metadata.resource_version = current.metadata.resource_version;
    api.replace("state", &PostParams::default(), &update)
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Apply(cm) = events.next().await.unwrap().unwrap()
                && cm
                    .data
                    .as_ref()
                    .and_then(|d| d.get("value"))
                    .map(String::as_str)
                    == Some("4")
            {
                return cm;
            }
        }
    })
    .await
    .expect("the watch delivered the change");
    assert_eq!(seen.metadata.name.as_deref(), Some("state"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_tokens_carry_their_audience_and_need_a_role() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("tokens").await;
    let admin = cluster.admin_client().await;
    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: ObjectMeta {
                    name: Some("robot".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Api::<Secret>::namespaced(admin, &ns)
        .create(
            &PostParams::default(),
            &Secret {
                metadata: ObjectMeta {
                    name: Some("private".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // A token for a federation audience says so in its payload.
    let federated = cluster
        .service_account_token(&ns, "robot", Some("https://dbc-1.example.com/oidc"), 600)
        .await;
    let payload = federated.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"][0], "https://dbc-1.example.com/oidc");
    assert_eq!(claims["sub"], format!("system:serviceaccount:{ns}:robot"));
    // A token for the API server, with no role: authenticated, refused.
    let token = cluster.service_account_token(&ns, "robot", None, 600).await;
    let client = client_from(&cluster.kubeconfig_for_token(&token)).await;
    let read = Api::<Secret>::namespaced(client, &ns).get("private").await;
    assert!(
        matches!(read, Err(kube::Error::Api(ref s)) if s.code == 403),
        "{read:?}"
    );
}
