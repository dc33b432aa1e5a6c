//! `mortar run` as one library call: opens the engine on the config, then
//! runs the loop with its outlets until cancelled. The command line only
//! adds flags and signals.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::runner::{ControllerError, Nudge, Outlets, RunOptions, Runner, Sharing};
use crate::cluster::{ClusterError, EventSink, LeaseKeeper};
use crate::engine::{Engine, EngineError};
use crate::model::ControllerStatus;
use crate::server::view::{Plans, TreeView};
use crate::server::{self, Metrics, ServerError, ServerState, WatchedSource};

/// Why the daemon could not start or went down.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot open the engine")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Controller(#[from] ControllerError),
    #[error("the HTTP server")]
    Server(#[from] ServerError),
    #[error(
        "{file}: no `source:` section; the controller needs one: `source: {{ git: {{ repo: URL, revision: main }} }}` or `source: {{ dir: PATH }}`"
    )]
    NoSource { file: String },
    #[error("notifications")]
    Notify(#[from] super::notify::NotifyError),
    #[error("Kubernetes")]
    Cluster(#[from] ClusterError),
}

impl DaemonError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            DaemonError::Engine(e) => e.metric_label(),
            DaemonError::Controller(e) => e.metric_label(),
            DaemonError::Server(e) => e.metric_label(),
            DaemonError::NoSource { .. } => "no_source",
            DaemonError::Notify(e) => e.metric_label(),
            DaemonError::Cluster(e) => e.metric_label(),
        }
    }
}

/// A daemon opened on its config, ready to run.
pub struct Daemon {
    engine: Engine,
    status: watch::Sender<Arc<ControllerStatus>>,
    ready: watch::Sender<bool>,
    passes: watch::Sender<u64>,
    bound: watch::Sender<Option<Addresses>>,
    nudges: (mpsc::Sender<Nudge>, mpsc::Receiver<Nudge>),
    metrics: Arc<Metrics>,
    tree: watch::Sender<Arc<TreeView>>,
    plans: watch::Sender<Arc<Plans>>,
}

/// Where the daemon's listeners really are (a port 0 resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addresses {
    /// Webhooks and the API.
    pub api: std::net::SocketAddr,
    /// Metrics and health.
    pub metrics: std::net::SocketAddr,
}

/// What others hold of a running daemon: its status as it changes, and a
/// way to ask it to look now.
#[derive(Clone)]
pub struct DaemonHandle {
    pub status: watch::Receiver<Arc<ControllerStatus>>,
    pub ready: watch::Receiver<bool>,
    /// Full reconciles finished so far.
    pub passes: watch::Receiver<u64>,
    /// The listeners' addresses, once bound.
    pub bound: watch::Receiver<Option<Addresses>>,
    pub nudges: mpsc::Sender<Nudge>,
}

/// How the daemon was asked to run.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Stop after the first full reconcile.
    pub once: bool,
    /// Poll the source this often instead of what the config says.
    pub poll_interval: Option<Duration>,
}

impl Daemon {
    /// Reads `mortar.yaml` and opens the engine, taking the state lock.
    pub fn open(config_file: &Path) -> Result<Daemon, DaemonError> {
        let engine = Engine::open_file(config_file)?;
        if engine.config().source.is_none() {
            return Err(DaemonError::NoSource {
                file: config_file.display().to_string(),
            });
        }
        engine.lock_state(Some(Duration::from_secs(5)))?;
        Ok(Daemon {
            engine,
            status: watch::channel(Arc::new(ControllerStatus::default())).0,
            ready: watch::channel(false).0,
            passes: watch::channel(0).0,
            bound: watch::channel(None).0,
            nudges: mpsc::channel(64),
            metrics: Arc::new(Metrics::new()),
            tree: watch::channel(Arc::new(TreeView::default())).0,
            plans: watch::channel(Arc::new(Plans::new())).0,
        })
    }

    /// A handle for watching and nudging the daemon once it runs.
    pub fn handle(&self) -> DaemonHandle {
        DaemonHandle {
            status: self.status.subscribe(),
            ready: self.ready.subscribe(),
            passes: self.passes.subscribe(),
            bound: self.bound.subscribe(),
            nudges: self.nudges.0.clone(),
        }
    }

    /// How long shutdown may take.
    pub fn shutdown_grace(&self) -> Duration {
        self.engine.config().controller.shutdown_grace
    }

    /// Runs until `cancel` fires (or once). Returns whether every app
    /// ended Synced and Healthy.
    pub async fn run(
        self,
        options: DaemonOptions,
        cancel: CancellationToken,
    ) -> Result<bool, DaemonError> {
        let (nudge_tx, nudge_rx) = self.nudges;
        let commands = nudge_tx.clone();
        let config = self.engine.config().clone();
        // In a cluster: the Secrets credentials name are read before
        // anything needs them, the apps' state is kept where the next holder
        // finds it, and the Leases say which apps are ours.
        let lease_stop = CancellationToken::new();
        let mut keeper = None;
        let mut events = None;
        let mut sharing = None;
        let mut kube = None;
        let mut engine = self.engine;
        if let Some(k) = &config.kubernetes
            && let Some(cluster) = crate::cluster::open_for(&mut engine, &cancel).await?
        {
            tracing::info!(namespace = %cluster.namespace, identity = %cluster.identity, shards = k.shards, state = ?k.state, "in a cluster");
            kube = Some(crate::rotation::KubeTarget {
                client: cluster.client.clone(),
                namespace: cluster.namespace.clone(),
            });
            events = k.events.then(|| EventSink::new(&cluster));
            let (mut leases, ownership) = LeaseKeeper::new(&cluster, events.clone(), &cancel);
            leases.first_round().await;
            keeper = Some(tokio::spawn(leases.run(lease_stop.clone())));
            sharing = Some(Sharing {
                identity: cluster.identity.clone(),
                ownership,
                statuses: cluster
                    .state
                    .clone()
                    .map(|s| s as Arc<dyn super::status_store::SharedStatus>),
            });
        }
        let engine = Arc::new(engine);
        self.metrics.set_request_stats(engine.request_stats());
        // Accepted webhook pushes become nudges; a full channel means a
        // look is pending already, which is how bursts coalesce.
        let (push_tx, mut push_rx) = mpsc::channel::<server::Push>(16);
        tokio::spawn(async move {
            while let Some(push) = push_rx.recv().await {
                tracing::info!(provider = push.provider.label(), reference = %push.reference, "webhook push");
                let _ = nudge_tx.try_send(Nudge::Push { after: push.after });
            }
        });
        let bound = server::serve(
            &config.server,
            ServerState {
                status: self.status.subscribe(),
                pushes: push_tx,
                ready: self.ready.subscribe(),
                metrics: self.metrics.clone(),
                source: watched_source(&config),
                tree: self.tree.subscribe(),
                plans: self.plans.subscribe(),
                audit_log: Some(config.audit_file()),
                control: Arc::new(super::commands::Commands::new(
                    Arc::clone(&engine),
                    commands,
                )),
            },
            cancel.clone(),
        )
        .await?;
        tracing::info!(api = %bound.api, metrics = %bound.metrics, "serving");
        self.bound.send_replace(Some(Addresses {
            api: bound.api,
            metrics: bound.metrics,
        }));
        let mut notifier = super::notify::Notifier::start(&config.notifications, cancel.clone())?;
        if let Some(events) = events {
            notifier = notifier.with_cluster_events(events);
        }
        let poll_interval = options.poll_interval.unwrap_or_else(|| {
            config
                .source
                .as_ref()
                .and_then(|s| s.git.as_ref())
                .map_or(Duration::from_secs(180), |g| g.poll_interval())
        });
        let runner = Runner::new(
            engine,
            Outlets {
                status: self.status,
                ready: self.ready,
                passes: self.passes,
                metrics: self.metrics,
                notifier,
                tree: self.tree,
                plans: self.plans,
            },
            RunOptions {
                poll_interval,
                once: options.once,
                sharing,
                kube,
            },
            cancel.clone(),
        )?;
        let synced = runner.run(nudge_rx).await;
        cancel.cancel();
        // Writes have stopped: the shards go back so others need not wait.
        lease_stop.cancel();
        if let Some(keeper) = keeper
            && let Err(e) = keeper.await
        {
            tracing::error!(error = %e, "the Lease keeper stopped unexpectedly");
        }
        bound.stopped().await?;
        Ok(synced?)
    }
}

/// The repository and reference webhooks must name.
fn watched_source(config: &crate::config::Config) -> WatchedSource {
    let git = config.source.as_ref().and_then(|s| s.git.as_ref());
    WatchedSource {
        url: git.map(|g| g.repo.clone()).unwrap_or_default(),
        reference: git.map_or_else(|| "HEAD".to_string(), |g| g.revision.clone()),
    }
}
