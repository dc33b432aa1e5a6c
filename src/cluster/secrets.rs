//! The Kubernetes Secrets the config's credentials name: one watch per
//! Secret (a field selector on its name, so a Role granting `get`, `list`
//! and `watch` on just those `resourceNames` suffices), each change put in
//! the process's secret store where credential readers find it. A rotated
//! Secret is used at the next token request, without a restart. Every
//! value read is given to the redactor before anything can print it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Cluster, ClusterError};
use crate::config::set_secret;

/// How long the first read of every Secret may take.
const FIRST_READ: Duration = Duration::from_secs(30);

/// Starts watching `names` and returns once each has been read once (or
/// found missing). The watches stop when `cancel` fires.
pub async fn watch_secrets(
    cluster: &Cluster,
    names: BTreeSet<String>,
    cancel: &CancellationToken,
) -> Result<(), ClusterError> {
    if names.is_empty() {
        return Ok(());
    }
    let (read_tx, mut read_rx) = watch::channel(BTreeSet::<String>::new());
    for name in &names {
        let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
        let name = name.clone();
        let read = read_tx.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = follow(api, name, read) => {}
            }
        });
    }
    let all = names.clone();
    let waited = tokio::time::timeout(FIRST_READ, read_rx.wait_for(|read| read.is_superset(&all)))
        .await
        .is_ok_and(|r| r.is_ok());
    match waited {
        true => Ok(()),
        false => {
            let read = read_rx.borrow().clone();
            let missing: Vec<&str> = names.difference(&read).map(String::as_str).collect();
            Err(ClusterError::SecretsNotRead {
                names: missing.join(", "),
                seconds: FIRST_READ.as_secs(),
            })
        }
    }
}

/// Follows one Secret for ever, storing each version.
async fn follow(api: Api<Secret>, name: String, read: watch::Sender<BTreeSet<String>>) {
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher::watcher(api, config).default_backoff().boxed();
    let mut found_in_listing = false;
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => found_in_listing = false,
            Ok(Event::InitApply(secret) | Event::Apply(secret)) => {
                found_in_listing = true;
                store(&name, Some(&secret));
                read.send_modify(|r| {
                    r.insert(name.clone());
                });
            }
            Ok(Event::InitDone) => {
                if !found_in_listing {
                    store(&name, None);
                }
                read.send_modify(|r| {
                    r.insert(name.clone());
                });
            }
            Ok(Event::Delete(_)) => {
                tracing::warn!(secret = %name, "the Secret was deleted; credentials it held fail until it is back");
                store(&name, None);
            }
            Err(e) => {
                tracing::warn!(secret = %name, error = %e, "cannot watch the Secret; retrying");
            }
        }
    }
}

fn store(name: &str, secret: Option<&Secret>) {
    let data = secret.map(|s| {
        let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (k, v) in s.string_data.iter().flatten() {
            data.insert(k.clone(), v.clone().into_bytes());
        }
        for (k, v) in s.data.iter().flatten() {
            data.insert(k.clone(), v.0.clone());
        }
        data
    });
    for value in data.iter().flat_map(|d| d.values()) {
        if let Ok(text) = std::str::from_utf8(value) {
            crate::databricks::redact::register(text.trim());
        }
    }
    tracing::info!(secret = %name, present = data.is_some(), "read the Secret");
    set_secret(name, data);
}
