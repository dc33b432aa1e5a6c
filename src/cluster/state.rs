//! App state in the cluster (`kubernetes.state: configmaps`): each app's
//! inventory, the markers of creates in flight and the app's last
//! published status live in one ConfigMap,
//! labelled `mortar.dev/state-of=<lease>` and annotated with the app's
//! name, so the replica that takes a shard over reads what the last holder
//! knew — including a create it sent and never heard back from, for kinds
//! that carry no ownership tag to be recognised by.
//!
//! Every write carries the resourceVersion this replica last read or wrote
//! for the object: a write that lost a race with another replica fails as
//! a conflict and overwrites nothing. The inventory is stored gzipped (a
//! ConfigMap holds at most 1 MiB); the markers and the status are plain
//! JSON.
//!
//! The store is called from synchronous code (the executor saves between
//! API calls, on whatever runtime it runs), so its requests run on a
//! thread of its own with its own runtime and client: a caller only waits
//! for the answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use sha2::{Digest, Sha256};

use super::{Cluster, ClusterError};
use crate::apply::inventory::{self, Inventory, InventoryError, SharedState};
use crate::controller::status_store::SharedStatus;
use crate::model::{AppStatus, ResourceKey};

/// The label naming the lease group whose state an object holds.
pub const STATE_LABEL: &str = "mortar.dev/state-of";
/// The annotation holding the app's exact name.
pub const APP_ANNOTATION: &str = "mortar.dev/app";
const INVENTORY_KEY: &str = "inventory.json.gz";
const MARKERS_KEY: &str = "creates-in-flight.json";
const STATUS_KEY: &str = "status.json";
/// What the apiserver accepts in one ConfigMap (1 MiB), less room for the
/// object's metadata.
const MAX_DATA_BYTES: usize = 1024 * 1024 - 8 * 1024;

/// Why the cluster's state store failed (the source of an
/// [`InventoryError::Shared`]).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the Kubernetes API refused")]
    Api(#[source] kube::Error),
    #[error("the state thread has stopped")]
    Stopped,
    #[error("the stored state is {bytes} bytes; a ConfigMap holds at most {MAX_DATA_BYTES}")]
    TooLarge { bytes: usize },
    #[error("the stored state cannot be read: {what}")]
    Unreadable { what: String },
    #[error("cannot compress the inventory")]
    Compress(#[source] std::io::Error),
    #[error("cannot encode the status")]
    Encode(#[source] serde_json::Error),
}

type Job = Box<dyn FnOnce(Api<ConfigMap>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Runs requests on a thread of its own; each request is a task there, so
/// apps are written concurrently.
struct Worker {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Worker {
    fn start(config: kube::Config, namespace: String) -> Result<Worker, ClusterError> {
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("mortar-state".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start a runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let client = match kube::Client::try_from(config) {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = ready_tx.send(Err(crate::error_chain::error_chain(&e)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let api = Api::<ConfigMap>::namespaced(client, &namespace);
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job(api.clone()));
                    }
                });
            })
            .map_err(|e| ClusterError::State {
                what: format!("cannot start the state thread: {e}"),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Worker { jobs }),
            Ok(Err(what)) => Err(ClusterError::State { what }),
            Err(_) => Err(ClusterError::State {
                what: "the state thread stopped".into(),
            }),
        }
    }

    /// Runs `request` there and waits for its answer.
    fn call<T, F>(
        &self,
        request: impl FnOnce(Api<ConfigMap>) -> F + Send + 'static,
    ) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, kube::Error>> + Send + 'static,
    {
        let (answer_tx, answer_rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |api| {
            Box::pin(async move {
                let _ = answer_tx.send(request(api).await);
            })
        });
        self.jobs.send(job).map_err(|_| StateError::Stopped)?;
        answer_rx
            .recv()
            .map_err(|_| StateError::Stopped)?
            .map_err(StateError::Api)
    }
}

/// What this replica last read or wrote of one app's object.
#[derive(Debug, Default)]
struct Seen {
    read: bool,
    /// `None`: the object did not exist.
    resource_version: Option<String>,
    markers: BTreeSet<ResourceKey>,
    /// The status as stored (JSON), kept so a whole write carries it on.
    status: Option<String>,
}

/// The apps' state as ConfigMaps in the controller's namespace.
pub struct ConfigMapState {
    group: String,
    namespace: String,
    worker: Worker,
    seen: Mutex<HashMap<String, Arc<Mutex<Seen>>>>,
}

impl std::fmt::Debug for ConfigMapState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigMapState")
            .field("namespace", &self.namespace)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl ConfigMapState {
    /// The store of `cluster`'s lease group, in its namespace.
    pub fn new(cluster: &Cluster) -> Result<ConfigMapState, ClusterError> {
        Ok(ConfigMapState {
            group: cluster.config.lease.clone(),
            namespace: cluster.namespace.clone(),
            worker: Worker::start(cluster.client_config.clone(), cluster.namespace.clone())?,
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// The ConfigMap holding `app`'s state.
    pub fn object_name(&self, app: &str) -> String {
        object_name(&self.group, app)
    }

    fn where_(&self) -> String {
        format!("ConfigMaps of namespace `{}`", self.namespace)
    }

    fn shared(&self, app: &str, what: &'static str, source: StateError) -> InventoryError {
        if let StateError::Api(kube::Error::Api(status)) = &source
            && status.code == 409
        {
            return InventoryError::Conflict {
                app: app.to_string(),
                store: self.where_(),
            };
        }
        InventoryError::Shared {
            app: app.to_string(),
            what,
            store: self.where_(),
            source: Box::new(source),
        }
    }

    fn seen(&self, app: &str) -> Arc<Mutex<Seen>> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(app.to_string())
            .or_default()
            .clone()
    }

    /// `app`'s object, if there is one.
    fn get(&self, app: &str) -> Result<Option<ConfigMap>, InventoryError> {
        let name = self.object_name(app);
        self.worker
            .call(move |api| async move { api.get_opt(&name).await })
            .map_err(|e| self.shared(app, "read", e))
    }

    /// Reads the object; remembers its version, markers and status.
    fn read(&self, app: &str, seen: &mut Seen) -> Result<Inventory, InventoryError> {
        let got = self.get(app)?;
        self.remember(app, got.as_ref(), seen)?;
        match &got {
            Some(object) => self.decode(app, object),
            None => Ok(Inventory::new(app)),
        }
    }

    /// Takes in what `object` (or its absence) says of the next write's
    /// starting point: version, markers and status as stored.
    fn remember(
        &self,
        app: &str,
        object: Option<&ConfigMap>,
        seen: &mut Seen,
    ) -> Result<(), InventoryError> {
        let data = object.and_then(|o| o.data.as_ref());
        let markers = match data.and_then(|d| d.get(MARKERS_KEY)) {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                self.shared(
                    app,
                    "read",
                    StateError::Unreadable {
                        what: format!("{MARKERS_KEY}: {e}"),
                    },
                )
            })?,
            None => BTreeSet::new(),
        };
        *seen = Seen {
            read: true,
            resource_version: object.and_then(|o| o.metadata.resource_version.clone()),
            markers,
            status: data.and_then(|d| d.get(STATUS_KEY)).cloned(),
        };
        Ok(())
    }

    /// The inventory an object holds.
    fn decode(&self, app: &str, object: &ConfigMap) -> Result<Inventory, InventoryError> {
        let Some(bytes) = object
            .binary_data
            .as_ref()
            .and_then(|d| d.get(INVENTORY_KEY))
        else {
            return Ok(Inventory::new(app));
        };
        let origin = PathBuf::from(format!(
            "ConfigMap {}/{}",
            self.namespace,
            object.metadata.name.as_deref().unwrap_or_default()
        ));
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes.0.as_slice())
            .read_to_end(&mut json)
            .map_err(|e| {
                self.shared(
                    app,
                    "read",
                    StateError::Unreadable {
                        what: format!("{INVENTORY_KEY}: {e}"),
                    },
                )
            })?;
        inventory::decode(&json, app, &origin)
    }

    /// The whole object for `app`, as this replica would write it.
    fn object(
        &self,
        app: &str,
        inventory: &Inventory,
        markers: &BTreeSet<ResourceKey>,
        status: Option<&String>,
        resource_version: Option<String>,
    ) -> Result<ConfigMap, InventoryError> {
        let json = inventory::encode(inventory)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let zipped = gz
            .write_all(&json)
            .and_then(|()| gz.finish())
            .map_err(|e| self.shared(app, "write", StateError::Compress(e)))?;
        let markers_text = markers_json(markers);
        let bytes = zipped.len() + markers_text.len() + status.map_or(0, String::len);
        if bytes > MAX_DATA_BYTES {
            return Err(self.shared(app, "write", StateError::TooLarge { bytes }));
        }
        let mut data = BTreeMap::from([(MARKERS_KEY.into(), markers_text)]);
        if let Some(status) = status {
            data.insert(STATUS_KEY.into(), status.clone());
        }
        Ok(ConfigMap {
            metadata: ObjectMeta {
                name: Some(self.object_name(app)),
                labels: Some(BTreeMap::from([(STATE_LABEL.into(), self.group.clone())])),
                annotations: Some(BTreeMap::from([(APP_ANNOTATION.into(), app.to_string())])),
                resource_version,
                ..Default::default()
            },
            binary_data: Some(BTreeMap::from([(INVENTORY_KEY.into(), ByteString(zipped))])),
            data: Some(data),
            ..Default::default()
        })
    }

    /// Writes the whole object: created when it did not exist, else
    /// replaced at the version last seen.
    fn write_whole(
        &self,
        app: &str,
        seen: &mut Seen,
        inventory: &Inventory,
        markers: BTreeSet<ResourceKey>,
    ) -> Result<(), InventoryError> {
        let object = self.object(
            app,
            inventory,
            &markers,
            seen.status.as_ref(),
            seen.resource_version.clone(),
        )?;
        let exists = seen.resource_version.is_some();
        let name = self.object_name(app);
        let written = self
            .worker
            .call(move |api| async move {
                if exists {
                    api.replace(&name, &PostParams::default(), &object).await
                } else {
                    api.create(&PostParams::default(), &object).await
                }
            })
            .map_err(|e| self.shared(app, "write", e));
        settle(seen, written, markers)
    }

    /// Changes only the markers, at the version last seen.
    fn write_markers(
        &self,
        app: &str,
        seen: &mut Seen,
        markers: BTreeSet<ResourceKey>,
    ) -> Result<(), InventoryError> {
        let text = markers_json(&markers);
        self.write_key(app, seen, MARKERS_KEY, text, markers)
    }

    /// Changes only the status, at the version last seen.
    fn write_status(
        &self,
        app: &str,
        seen: &mut Seen,
        status: String,
    ) -> Result<(), InventoryError> {
        // Kept at once so a whole write carries it; a failed write makes
        // the next call read the object again.
        seen.status = Some(status.clone());
        let markers = seen.markers.clone();
        self.write_key(app, seen, STATUS_KEY, status, markers)
    }

    /// Changes one data key to `text` at the version last seen (the whole
    /// object is made when there is none yet); `markers` are the markers
    /// the object holds afterwards.
    fn write_key(
        &self,
        app: &str,
        seen: &mut Seen,
        key: &'static str,
        text: String,
        markers: BTreeSet<ResourceKey>,
    ) -> Result<(), InventoryError> {
        let Some(version) = seen.resource_version.clone() else {
            return self.write_whole(app, seen, &Inventory::new(app), markers);
        };
        let patch = serde_json::json!({
            "metadata": { "resourceVersion": version },
            "data": { key: text },
        });
        let name = self.object_name(app);
        let written = self
            .worker
            .call(move |api| async move {
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
            })
            .map_err(|e| self.shared(app, "write", e));
        settle(seen, written, markers)
    }

    /// `app`'s record, read first unless this replica knows the version.
    fn current(&self, app: &str) -> Result<Arc<Mutex<Seen>>, InventoryError> {
        let seen = self.seen(app);
        {
            let mut held = seen.lock().unwrap_or_else(PoisonError::into_inner);
            if !held.read {
                self.read(app, &mut held)?;
            }
        }
        Ok(seen)
    }
}

impl SharedStatus for ConfigMapState {
    fn load_status(&self, app: &str) -> Result<Option<AppStatus>, InventoryError> {
        let got = self.get(app)?;
        // What was read is what the next write builds on (the inventory is
        // not decoded: a status needs none of it).
        let seen = self.seen(app);
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        self.remember(app, got.as_ref(), &mut seen)?;
        seen.status
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
                self.shared(
                    app,
                    "read",
                    StateError::Unreadable {
                        what: format!("{STATUS_KEY}: {e}"),
                    },
                )
            })
    }

    fn save_status(&self, status: &AppStatus) -> Result<(), InventoryError> {
        let app = status.name.as_str();
        let text = serde_json::to_string(status)
            .map_err(|e| self.shared(app, "write", StateError::Encode(e)))?;
        let seen = self.current(app)?;
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.status.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        self.write_status(app, &mut seen, text)
    }
}

impl SharedState for ConfigMapState {
    fn load(&self, app: &str) -> Result<(Inventory, BTreeSet<ResourceKey>), InventoryError> {
        let seen = self.seen(app);
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let inventory = self.read(app, &mut seen)?;
        Ok((inventory, seen.markers.clone()))
    }

    fn save(&self, inventory: &Inventory) -> Result<(), InventoryError> {
        let app = inventory.app.as_str();
        let seen = self.current(app)?;
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let markers = seen
            .markers
            .iter()
            .filter(|k| !inventory.resources.contains_key(*k))
            .cloned()
            .collect();
        self.write_whole(app, &mut seen, inventory, markers)
    }

    fn intend_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError> {
        let seen = self.current(app)?;
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut markers = seen.markers.clone();
        markers.insert(key.clone());
        self.write_markers(app, &mut seen, markers)
    }

    fn forget_create(&self, app: &str, key: &ResourceKey) -> Result<(), InventoryError> {
        let seen = self.current(app)?;
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut markers = seen.markers.clone();
        if !markers.remove(key) {
            return Ok(());
        }
        self.write_markers(app, &mut seen, markers)
    }

    fn apps(&self) -> Result<Vec<String>, InventoryError> {
        let selector = format!("{STATE_LABEL}={}", self.group);
        let listed = self
            .worker
            .call(move |api| async move {
                api.list_metadata(&ListParams::default().labels(&selector))
                    .await
            })
            .map_err(|e| self.shared("*", "list", e))?;
        let mut apps: Vec<String> = listed
            .items
            .into_iter()
            .filter_map(|o| o.metadata.annotations?.remove(APP_ANNOTATION))
            .filter(|app| inventory::valid_app_name(app))
            .collect();
        apps.sort();
        Ok(apps)
    }
}

/// Keeps what a write left: the new version and markers, or, after a
/// failure, nothing (a conflict means the version held is stale, and any
/// other error leaves it unknown), so the next write reads first.
fn settle(
    seen: &mut Seen,
    written: Result<ConfigMap, InventoryError>,
    markers: BTreeSet<ResourceKey>,
) -> Result<(), InventoryError> {
    match written {
        Ok(object) => {
            seen.resource_version = object.metadata.resource_version;
            seen.markers = markers;
            Ok(())
        }
        Err(e) => {
            seen.read = false;
            Err(e)
        }
    }
}

fn markers_json(markers: &BTreeSet<ResourceKey>) -> String {
    serde_json::to_string(markers).unwrap_or_else(|_| "[]".into())
}

/// `<group>-state-<app, as a name allows>-<8 hex of the app's hash>`: a
/// valid object name for any app name, distinct for distinct apps.
pub fn object_name(group: &str, app: &str) -> String {
    let mut slug: String = app
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .take(40)
        .collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    let hash = hex::encode(&Sha256::digest(app.as_bytes())[..4]);
    if slug.is_empty() {
        format!("{group}-state-{hash}")
    } else {
        format!("{group}-state-{slug}-{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_valid_and_distinct() {
        let names: Vec<String> = ["team_a", "team-a", "Team.A", "x".repeat(200).as_str(), "_"]
            .iter()
            .map(|a| object_name("mortar", a))
            .collect();
        for n in &names {
            assert!(n.len() <= 253, "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{n}"
            );
            assert!(!n.ends_with('-') && n.starts_with("mortar-state-"), "{n}");
        }
        let distinct: BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{names:?}");
        assert_eq!(
            object_name("mortar", "team_a"),
            object_name("mortar", "team_a")
        );
    }
}
