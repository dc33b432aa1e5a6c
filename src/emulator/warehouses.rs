//! SQL warehouses.

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::server::AppState;

/// A stored warehouse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warehouse {
    pub details: Map<String, Value>,
}

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
