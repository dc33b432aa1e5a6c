//! Secrets.

use axum::Router;
use serde::{Deserialize, Serialize};

use super::server::AppState;

/// A secret scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scope {
    pub backend_type: String,
}

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
