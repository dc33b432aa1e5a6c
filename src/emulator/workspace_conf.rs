//! workspace_conf endpoints.

use axum::Router;

use super::server::AppState;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
