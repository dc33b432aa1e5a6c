//! The read-only JSON API over the controller's status:
//! `GET /api/v1/apps` (the source and every app) and
//! `GET /api/v1/apps/{name}` (one app, or a JSON 404). It reads the latest
//! snapshot the controller published; it never waits for the controller.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tokio::sync::watch;

use super::{json_error, json_response};
use crate::model::status::ControllerStatus;

/// The status channel the handlers read.
pub(crate) type StatusReceiver = watch::Receiver<Arc<ControllerStatus>>;

/// `GET /api/v1/apps`: `{"source": …, "apps": [ … ], "updated": …}`.
pub(crate) async fn list_apps(State(status): State<StatusReceiver>) -> Response {
    let snapshot = Arc::clone(&status.borrow());
    json_response(StatusCode::OK, &*snapshot)
}

/// `GET /api/v1/apps/{name}`: one app's status.
pub(crate) async fn get_app(
    State(status): State<StatusReceiver>,
    Path(name): Path<String>,
) -> Response {
    let snapshot = Arc::clone(&status.borrow());
    match snapshot.app(&name) {
        Some(app) => json_response(StatusCode::OK, app),
        None => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!(
                "no app named `{}`",
                name.chars().take(100).collect::<String>()
            ),
        ),
    }
}
