//! `mortar run` as one library call: opens the engine on the config, then
//! runs the loop with its outlets until cancelled. The command line only
//! adds flags and signals.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::runner::{ControllerError, Nudge, Outlets, RunOptions, Runner};
use crate::engine::{Engine, EngineError};
use crate::model::ControllerStatus;

/// Why the daemon could not start or went down.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot open the engine")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Controller(#[from] ControllerError),
}

impl DaemonError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            DaemonError::Engine(e) => e.metric_label(),
            DaemonError::Controller(e) => e.metric_label(),
        }
    }
}

/// A daemon opened on its config, ready to run.
pub struct Daemon {
    engine: Arc<Engine>,
    status: watch::Sender<Arc<ControllerStatus>>,
    ready: watch::Sender<bool>,
    passes: watch::Sender<u64>,
    nudges: (mpsc::Sender<Nudge>, mpsc::Receiver<Nudge>),
}

/// What others hold of a running daemon: its status as it changes, and a
/// way to ask it to look now.
#[derive(Clone)]
pub struct DaemonHandle {
    pub status: watch::Receiver<Arc<ControllerStatus>>,
    pub ready: watch::Receiver<bool>,
    /// Full reconciles finished so far.
    pub passes: watch::Receiver<u64>,
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
        engine.lock_state(Some(Duration::from_secs(5)))?;
        Ok(Daemon {
            engine: Arc::new(engine),
            status: watch::channel(Arc::new(ControllerStatus::default())).0,
            ready: watch::channel(false).0,
            passes: watch::channel(0).0,
            nudges: mpsc::channel(64),
        })
    }

    /// A handle for watching and nudging the daemon once it runs.
    pub fn handle(&self) -> DaemonHandle {
        DaemonHandle {
            status: self.status.subscribe(),
            ready: self.ready.subscribe(),
            passes: self.passes.subscribe(),
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
        let (_, nudge_rx) = self.nudges;
        let poll_interval = options.poll_interval.unwrap_or(Duration::from_secs(180));
        let runner = Runner::new(
            self.engine.clone(),
            Outlets {
                status: self.status,
                ready: self.ready,
                passes: self.passes,
            },
            RunOptions {
                poll_interval,
                once: options.once,
            },
            cancel,
        )?;
        Ok(runner.run(nudge_rx).await?)
    }
}
