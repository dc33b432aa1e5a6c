//! The stored workspace object record (notebook, directory or file).

use serde::{Deserialize, Serialize};

/// A workspace object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WsObject {
    pub object_id: i64,
    /// NOTEBOOK, DIRECTORY, FILE.
    pub object_type: String,
    #[serde(default)]
    pub language: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
    /// Base64 content (notebooks and files).
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub size: usize,
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

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.object_type == "DIRECTORY"
    }
}
