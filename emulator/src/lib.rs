//! A fake Databricks workspace that speaks the same REST API as the real one.
//! It keeps its own model of the API and shares no types with the client.
//!
//! Start it in-process with [`Emulator::start`] (port 0 picks a free port) or
//! from the command line with `mortar emulator`. See `docs/emulator.md`.
//!
//! Modules import one way, bottom to top:
//! 1. `errors` (the API error and its response body);
//! 2. `http`, `config` and small helpers (`scim_filter`, `clusters_catalog`);
//! 3. `model`: the stored records and the [`model::Workspace`] (the state
//!    file's format) with its indexes — no HTTP, no handlers;
//! 4. services: `state` (the store), `auth`, `federation`, `faults`, `limits`,
//!    `acl` (access rules) and `seed`;
//! 5. `app`: the shared context every handler gets;
//! 6. handlers, one module per endpoint family, never importing each other;
//! 7. `server` (routes, accept loop) and this file.

pub mod acl;
pub mod admin;
pub mod app;
pub mod auth;
pub mod clusters;
pub mod clusters_catalog;
pub mod config;
pub mod errors;
pub mod faults;
pub mod federation;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod model;
pub mod oidc;
pub mod permissions;
pub mod policies;
pub mod pools;
pub mod scim;
pub mod scim_filter;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod sp_secrets;
pub mod state;
pub mod tokens;
pub mod unity_catalog;
pub mod warehouses;
pub mod workspace;
pub mod workspace_conf;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    DEFAULT_ADMIN, DEFAULT_TOKEN, EmulatorConfig, FederationPolicy, OAuthClient, Secret, UserToken,
};
pub use errors::EmulatorError;
pub use faults::{FaultKind, FaultSettings, LateAnswer};

use app::AppState;

/// Entry point for starting an emulator in-process.
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen`, loads the state file if any, and serves in the
    /// background until [`RunningEmulator::shutdown`] (or drop).
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        if let Err((field, message)) = config.validate() {
            return Err(EmulatorError::ConfigInvalid {
                path: "(in-process config)".into(),
                field,
                message,
            });
        }
        let (listener, ctx) = server::bind(config).await?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: ctx.base_url.clone(),
                source,
            })?;
        let cancel = CancellationToken::new();
        ctx.store.spawn_persister(cancel.child_token());
        let router = server::router(ctx.clone());
        let task = tokio::spawn(server::serve(listener, router, cancel.clone()));
        Ok(RunningEmulator {
            addr,
            ctx,
            cancel,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct RunningEmulator {
    addr: SocketAddr,
    ctx: AppState,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`, the host to give an SDK or client.
    pub fn base_url(&self) -> &str {
        &self.ctx.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first token accepted for the workspace administrator.
    pub fn token(&self) -> String {
        self.tokens().into_iter().next().unwrap_or_default()
    }

    /// Every token accepted for the workspace administrator.
    pub fn tokens(&self) -> Vec<String> {
        self.ctx
            .config
            .admin_tokens()
            .iter()
            .map(|t| t.expose().to_owned())
            .collect()
    }

    /// Current latency and fault settings.
    pub fn faults(&self) -> FaultSettings {
        self.ctx.faults.settings()
    }

    /// Replaces the latency and fault settings (the seed restarts the
    /// fault sequence when given).
    pub fn set_faults(&self, settings: FaultSettings) {
        self.ctx.faults.update(settings);
    }

    /// Sets the latency added to every API response.
    pub fn set_latency(&self, latency: Duration) {
        let mut settings = self.ctx.faults.settings();
        settings.latency = latency;
        // Keep the fault sequence where it is.
        settings.seed = None;
        self.ctx.faults.update(settings);
    }

    /// Turns per-endpoint rate limiting on (`Some(rps)` for endpoints without
    /// a published limit) or off.
    pub fn set_rate_limit(&self, rps: Option<f64>) {
        self.ctx.limits.set_default(rps);
    }

    /// Answers the next `count` API requests whose path starts with `prefix`
    /// (all `/api/` paths when empty) with 429 and `Retry-After:
    /// retry_after_secs`. A prefix naming `/oidc/…` or `/.well-known/…`
    /// throttles those endpoints instead; `count` 0 cancels a burst.
    pub fn inject_throttle(&self, count: u64, retry_after_secs: u64, prefix: &str) {
        self.ctx.faults.throttle(count, retry_after_secs, prefix);
    }

    /// The whole workspace state as JSON (same format as the state file).
    pub fn snapshot(&self) -> Value {
        self.ctx.store.snapshot()
    }

    /// Replaces the workspace state with a snapshot.
    pub fn restore(&self, snapshot: Value) -> Result<(), EmulatorError> {
        admin::restore(&self.ctx, snapshot).map_err(|err| EmulatorError::StateLoad {
            path: "(snapshot)".into(),
            message: err.message().to_owned(),
        })
    }

    /// Empties the workspace (configured identities are seeded again).
    pub fn reset(&self) {
        admin::reset(&self.ctx);
    }

    /// Waits until every write so far is on disk (no-op without a state file).
    pub async fn flush(&self) {
        let _ = self.ctx.store.durable().await;
    }

    /// Stops serving and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.ctx.store.durable().await;
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
