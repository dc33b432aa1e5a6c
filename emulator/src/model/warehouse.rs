//! The stored SQL warehouse record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A stored warehouse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: String,
    /// User settings with defaults applied.
    pub settings: Map<String, Value>,
    pub creator_name: String,
    pub state: String,
    /// When a STARTING warehouse becomes RUNNING (epoch ms).
    #[serde(default)]
    pub running_at: Option<i64>,
}

impl Warehouse {
    /// The state as of `now` (STARTING completes lazily).
    pub fn state_at(&self, now: i64) -> &str {
        match self.running_at {
            Some(at) if at <= now && self.state == "STARTING" => "RUNNING",
            _ => &self.state,
        }
    }
}
