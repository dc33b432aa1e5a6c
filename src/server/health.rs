//! The probes: `/healthz` answers 200 while the process serves at all;
//! `/readyz` answers 503 until the controller declares itself ready (after
//! its first fetch and render), 200 after; in a cluster its body also names
//! the shards this replica holds.

use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

use tokio::sync::watch;

use crate::model::ControllerStatus;

/// `GET /healthz`.
pub(crate) async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

/// What `/readyz` reads.
#[derive(Clone)]
pub(crate) struct Readiness {
    pub ready: watch::Receiver<bool>,
    pub status: watch::Receiver<Arc<ControllerStatus>>,
}

/// `GET /readyz`.
pub(crate) async fn readyz(State(r): State<Readiness>) -> (StatusCode, String) {
    let (code, word) = if *r.ready.borrow() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    let shards = r.status.borrow().replica.as_ref().map(|replica| {
        let held: Vec<String> = replica.held.iter().map(u32::to_string).collect();
        format!(
            "{} holds shards [{}] of {}\n",
            replica.identity,
            held.join(","),
            replica.shards
        )
    });
    (code, format!("{word}\n{}", shards.unwrap_or_default()))
}
