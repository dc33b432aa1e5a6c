//! The context every handler shares: the start configuration, the workspace
//! model, accepted tokens, fault injection, rate limits and federation keys.
//! It sits above the shared services it holds (`auth`, `faults`,
//! `federation`, `limits`, `state`) and the model, and below the handler
//! modules; the server (routing, accept loop) depends on the handlers and
//! builds the context, never the other way round.

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::auth::{self, Caller, Tokens};
use crate::config::EmulatorConfig;
use crate::errors::ApiError;
use crate::faults::Faults;
use crate::federation::{self, KeyCache, Verified};
use crate::limits::Limits;
use crate::state::Store;

/// State shared by every handler.
pub struct Ctx {
    /// The start configuration.
    pub config: EmulatorConfig,
    /// The workspace model.
    pub store: Arc<Store>,
    /// Accepted bearer tokens.
    pub tokens: Tokens,
    /// Latency and fault injection.
    pub faults: Faults,
    /// Per-endpoint rate limits.
    pub limits: Limits,
    /// Federation signing keys by issuer.
    pub keys: KeyCache,
    /// Base URL the emulator listens on.
    pub base_url: String,
}

/// Handler state.
pub type AppState = Arc<Ctx>;

impl Ctx {
    /// The shared context for `config`, serving `store` at `base_url`.
    pub fn new(config: EmulatorConfig, store: Arc<Store>, base_url: String) -> AppState {
        Arc::new(Ctx {
            tokens: Tokens::new(&config),
            faults: Faults::new(&config),
            limits: Limits::new(&config),
            keys: KeyCache::default(),
            store,
            base_url,
            config,
        })
    }

    /// How long a cluster or warehouse takes to reach RUNNING, in ms.
    pub fn transition_delay_ms(&self) -> i64 {
        i64::try_from(self.config.transition_delay.as_millis()).unwrap_or(0)
    }

    /// Resolves the bearer token of a request to its caller.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        auth::authenticate(&self.tokens, &self.store, headers)
    }

    /// Verifies an external token against the federation policies.
    pub async fn verify_federated(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<Verified, ApiError> {
        federation::verify(&self.keys, &self.config, token, client_id).await
    }
}
