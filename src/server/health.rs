//! The probes: `/healthz` answers 200 while the process serves at all;
//! `/readyz` answers 503 until the controller declares itself ready (after
//! its first fetch and render), 200 after.

use axum::extract::State;
use axum::http::StatusCode;
use tokio::sync::watch;

/// `GET /healthz`.
pub(crate) async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

/// `GET /readyz`.
pub(crate) async fn readyz(
    State(ready): State<watch::Receiver<bool>>,
) -> (StatusCode, &'static str) {
    if *ready.borrow() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}
