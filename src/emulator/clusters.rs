//! Clusters API 2.0/2.1.

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::server::AppState;

/// A stored cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub details: Map<String, Value>,
}

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
