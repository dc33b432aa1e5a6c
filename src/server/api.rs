//! The read API over the controller's status: `GET /api/v1/apps` (the
//! source and every app the caller may `get`) and `GET /api/v1/apps/{name}`
//! (one app, a 403 when the policy does not let the caller read it, or a
//! JSON 404). It reads the latest snapshot the controller published; it
//! never waits for the controller.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::actions::no_app;
use super::gate::Gate;
use super::{json_error, json_response};
use crate::manifest::access_policy::Action;

/// `GET /api/v1/apps`: `{"source": …, "apps": [ … ], "updated": …}`, the
/// apps the caller may not read left out.
pub(crate) async fn list_apps(State(gate): State<Gate>, headers: HeaderMap) -> Response {
    let caller = match gate.caller(&headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let snapshot = Arc::clone(&gate.status.borrow());
    let mut visible = (*snapshot).clone();
    visible
        .apps
        .retain(|app| gate.decide(&caller, Action::Get, app).allowed());
    json_response(StatusCode::OK, &visible)
}

/// `GET /api/v1/apps/{name}`: one app's status.
pub(crate) async fn get_app(
    State(gate): State<Gate>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match gate.caller(&headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(app) = gate.app(&name) else {
        return json_error(StatusCode::NOT_FOUND, "not_found", &no_app(&name));
    };
    match gate.authorize(&caller, Action::Get, &app) {
        Ok(()) => json_response(StatusCode::OK, &app),
        Err(refusal) => refusal.into_response(),
    }
}
