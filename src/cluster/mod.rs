//! The controller's side of Kubernetes, when `kubernetes:` is configured:
//! the client and who this replica is there (namespace, identity), the
//! Leases that share the apps among replicas (`leases`, decided in
//! `shards`), the apps' state kept where the next holder finds it
//! (`state`), the Secrets credentials are read from (`secrets`), and the
//! Events recorded on the controller's own pod (`events`). Nothing here
//! decides what to do with a workspace; the controller asks it which apps
//! are its own and tells it what happened.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::config::KubernetesConfig;
use crate::config::StateBackend;

pub mod events;
pub mod leases;
pub mod secrets;
pub mod shards;
pub mod state;

pub use events::{EventReason, EventSink};
pub use leases::{LeaseKeeper, Ownership};
pub use shards::{Holdings, shard_of};

/// Why the cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig {path}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("cannot find how to reach the cluster (no service account, no KUBECONFIG)")]
    Infer(#[source] kube::config::InferConfigError),
    #[error("cannot make a Kubernetes client")]
    Client(#[source] kube::Error),
    #[error("{what}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error(
        "the Secrets {names} were not read within {seconds} s (may the service account `get`, `list` and `watch` them?)"
    )]
    SecretsNotRead { names: String, seconds: u64 },
    #[error("the state store: {what}")]
    State { what: String },
}

impl ClusterError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ClusterError::Kubeconfig { .. } => "kubeconfig",
            ClusterError::Infer(_) => "infer",
            ClusterError::Client(_) => "client",
            ClusterError::Api { .. } => "api",
            ClusterError::SecretsNotRead { .. } => "secrets_not_read",
            ClusterError::State { .. } => "state",
        }
    }
}

/// A connection to the cluster, and who this replica is in it.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// What the client was made from (the state store makes its own).
    pub client_config: kube::Config,
    pub namespace: String,
    /// This replica's name in Leases and Events (its pod's name).
    pub identity: String,
    pub config: KubernetesConfig,
    /// The apps' state in ConfigMaps (`kubernetes.state: configmaps`), once
    /// [`open_for`] made it.
    pub state: Option<std::sync::Arc<state::ConfigMapState>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("namespace", &self.namespace)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects as the config says: a kubeconfig file, else the pod's
    /// service account, else `KUBECONFIG` / `~/.kube/config`.
    pub async fn connect(config: &KubernetesConfig) -> Result<Cluster, ClusterError> {
        let client_config = match &config.kubeconfig {
            Some(path) => {
                let file =
                    Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                        path: path.clone(),
                        source,
                    })?;
                kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(|source| ClusterError::Kubeconfig {
                        path: path.clone(),
                        source,
                    })?
            }
            None => kube::Config::infer().await.map_err(ClusterError::Infer)?,
        };
        let namespace = config
            .namespace
            .clone()
            .or_else(|| non_empty_env("POD_NAMESPACE"))
            .unwrap_or_else(|| client_config.default_namespace.clone());
        let identity = config
            .identity
            .clone()
            .or_else(|| non_empty_env("POD_NAME"))
            .unwrap_or_else(host_name);
        let client = kube::Client::try_from(client_config.clone()).map_err(ClusterError::Client)?;
        Ok(Cluster {
            client,
            client_config,
            namespace,
            identity,
            config: config.clone(),
            state: None,
        })
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The host name (a pod's name, in a cluster).
fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// For one-shot commands (`plan`, `apply`, `auth check`): when the config
/// names Kubernetes Secrets, connects and reads them (kept current while
/// the process runs). Does nothing otherwise. See [`open_for`] for commands
/// that also read app state.
pub async fn read_config_secrets(config: &crate::config::Config) -> Result<(), ClusterError> {
    let Some(k) = &config.kubernetes else {
        return Ok(());
    };
    let names = config.kubernetes_secret_names();
    if names.is_empty() {
        return Ok(());
    }
    let cluster = Cluster::connect(k).await?;
    secrets::watch_secrets(&cluster, names, &tokio_util::sync::CancellationToken::new()).await
}

/// For commands that plan or apply: connects when the config has a
/// `kubernetes` section, reads the Secrets it names and, with
/// `state: configmaps`, points the engine at the apps' state in the
/// cluster. Returns the connection (`None` outside a cluster).
pub async fn open_for(
    engine: &mut crate::engine::Engine,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<Cluster>, ClusterError> {
    let Some(k) = engine.config().kubernetes.clone() else {
        return Ok(None);
    };
    let mut cluster = Cluster::connect(&k).await?;
    secrets::watch_secrets(&cluster, engine.config().kubernetes_secret_names(), cancel).await?;
    if k.state == StateBackend::Configmaps {
        let shared = std::sync::Arc::new(state::ConfigMapState::new(&cluster)?);
        engine.share_state(shared.clone());
        cluster.state = Some(shared);
    }
    Ok(Some(cluster))
}
