//! The stored cluster record and its lazily completed state transitions.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A stored cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub cluster_id: String,
    /// The user-specified settings of the last create/edit.
    pub spec: Map<String, Value>,
    pub creator_user_name: String,
    pub state: String,
    pub state_message: String,
    /// When a PENDING/RESTARTING cluster becomes RUNNING (epoch ms).
    #[serde(default)]
    pub running_at: Option<i64>,
    pub start_time: i64,
    #[serde(default)]
    pub terminated_time: Option<i64>,
    #[serde(default)]
    pub last_restarted_time: Option<i64>,
    #[serde(default)]
    pub pinned: bool,
    /// The create request's `idempotency_token`, if any.
    #[serde(default)]
    pub idempotency_token: Option<String>,
}

impl Cluster {
    /// The state as of `now` (transitions complete lazily).
    pub fn state_at(&self, now: i64) -> &str {
        match self.running_at {
            Some(at)
                if at <= now
                    && matches!(self.state.as_str(), "PENDING" | "RESTARTING" | "RESIZING") =>
            {
                "RUNNING"
            }
            _ => &self.state,
        }
    }

    /// Completes a due transition to RUNNING in the stored state.
    pub fn settle(&mut self, now: i64) {
        if self.state_at(now) == "RUNNING" && self.state != "RUNNING" {
            self.state = "RUNNING".into();
            self.state_message = String::new();
            self.running_at = None;
        }
    }
}
