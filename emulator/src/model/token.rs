//! The stored personal access token record (its SHA-256 hash, never the value).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::principal::{Grant, PrincipalKind};

/// A stored token (hash only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatRecord {
    pub token_id: String,
    pub hash: String,
    pub owner: String,
    pub owner_kind: PrincipalKind,
    pub owner_id: String,
    pub created_by_username: String,
    pub created_by_id: String,
    pub comment: String,
    pub creation_time: i64,
    /// Epoch ms; -1 never expires.
    pub expiry_time: i64,
}

impl PatRecord {
    /// Who the token acts as.
    pub fn grant(&self) -> Grant {
        Grant {
            name: self.owner.clone(),
            kind: self.owner_kind,
            expires_at_ms: (self.expiry_time >= 0).then_some(self.expiry_time),
        }
    }

    /// The token info every owner sees.
    pub fn public_info(&self) -> Value {
        json!({
            "token_id": self.token_id,
            "creation_time": self.creation_time,
            "expiry_time": self.expiry_time,
            "comment": self.comment,
        })
    }

    /// The token info of the token-management API.
    pub fn admin_info(&self) -> Value {
        json!({
            "token_id": self.token_id,
            "creation_time": self.creation_time,
            "expiry_time": self.expiry_time,
            "comment": self.comment,
            "created_by_id": self.created_by_id.parse::<i64>().unwrap_or_default(),
            "created_by_username": self.created_by_username,
            "owner_id": self.owner_id.parse::<i64>().unwrap_or_default(),
        })
    }
}
