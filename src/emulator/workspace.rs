//! Workspace objects.

use axum::Router;
use serde::{Deserialize, Serialize};

use super::config::EmulatorConfig;
use super::server::AppState;
use super::state::Workspace;

/// A workspace object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WsObject {
    pub object_id: i64,
    pub object_type: String,
}

impl WsObject {
    /// The permissions API type of this object.
    pub fn permission_type(&self) -> &'static str {
        match self.object_type.as_str() {
            "NOTEBOOK" => "notebooks",
            "DIRECTORY" => "directories",
            _ => "files",
        }
    }
}

/// Creates the root directories.
pub fn seed_tree(_ws: &mut Workspace, _config: &EmulatorConfig) {}

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
