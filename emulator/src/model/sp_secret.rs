//! Stored OAuth secrets of service principals (the SHA-256 hash of the
//! value, never the value), their API view, and the client-credentials check
//! the token endpoint asks of them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::identity::text;
use super::workspace::Workspace;

/// Status every stored secret reports.
const ACTIVE: &str = "ACTIVE";

/// A service principal's OAuth secret (hash only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpSecret {
    /// 64 hex characters.
    pub id: String,
    /// SCIM id of the service principal that owns it.
    pub sp_id: String,
    /// Creation order (list order and page token).
    pub seq: u64,
    /// SHA-256 (hex) of the value; also shown as `secret_hash`.
    pub hash: String,
    /// OAuth scopes bound to the secret (empty: unrestricted).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Epoch milliseconds.
    pub create_time: i64,
    /// Epoch milliseconds; `None` never expires.
    pub expire_time: Option<i64>,
}

/// Why client credentials were not accepted (all answer `invalid_client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientSecretError {
    /// No service principal has this application id.
    #[error("no service principal has this client id")]
    UnknownClient,
    /// The service principal is deactivated.
    #[error("the service principal is not active")]
    Inactive,
    /// No secret of the service principal matches.
    #[error("no secret of the service principal matches")]
    NoMatch,
    /// The matching secret has expired.
    #[error("the secret has expired")]
    Expired,
}

/// An epoch-milliseconds instant as the API writes it
/// (`2023-01-01T19:30:41.000Z`).
pub fn api_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => String::new(),
    }
}

impl SpSecret {
    /// Whether the secret has expired at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expire_time.is_some_and(|exp| exp <= now_ms)
    }

    /// The secret as `list` shows it (no value).
    pub fn info(&self) -> Map<String, Value> {
        let mut info = Map::new();
        info.insert("id".into(), json!(self.id));
        info.insert("secret_hash".into(), json!(self.hash));
        info.insert("status".into(), json!(ACTIVE));
        info.insert("create_time".into(), json!(api_time(self.create_time)));
        info.insert("update_time".into(), json!(api_time(self.create_time)));
        if let Some(expire) = self.expire_time {
            info.insert("expire_time".into(), json!(api_time(expire)));
        }
        if !self.scopes.is_empty() {
            info.insert("scopes".into(), json!(self.scopes));
        }
        info
    }
}

impl Workspace {
    /// The secrets of the service principal with SCIM id `sp_id`, oldest
    /// first.
    pub fn sp_secrets_of(&self, sp_id: &str) -> Vec<&SpSecret> {
        let mut secrets: Vec<&SpSecret> = self
            .sp_secrets
            .values()
            .filter(|s| s.sp_id == sp_id)
            .collect();
        secrets.sort_by_key(|s| s.seq);
        secrets
    }

    /// Checks client credentials against the stored secrets: `client_id` is
    /// the service principal's application id, `secret_hash` the SHA-256 of
    /// the presented secret. Answers the application id to act as.
    pub fn check_client_secret(
        &self,
        client_id: &str,
        secret_hash: &str,
        now_ms: i64,
    ) -> Result<String, ClientSecretError> {
        let sp_id = self
            .index
            .sp_ids
            .get(client_id)
            .ok_or(ClientSecretError::UnknownClient)?;
        let sp = self
            .service_principals
            .get(sp_id)
            .ok_or(ClientSecretError::UnknownClient)?;
        if sp.get("active").and_then(Value::as_bool) == Some(false) {
            return Err(ClientSecretError::Inactive);
        }
        let secret = self
            .sp_secrets_of(sp_id)
            .into_iter()
            .find(|s| s.hash == secret_hash)
            .ok_or(ClientSecretError::NoMatch)?;
        if secret.expired(now_ms) {
            return Err(ClientSecretError::Expired);
        }
        Ok(text(sp, "applicationId").unwrap_or(client_id).to_owned())
    }

    /// Forgets every secret of the service principal with SCIM id `sp_id`.
    pub fn forget_sp_secrets(&mut self, sp_id: &str) {
        self.sp_secrets.retain(|_, s| s.sp_id != sp_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        let mut ws = Workspace::default();
        ws.service_principals.insert(
            "71".into(),
            json!({"id": "71", "applicationId": "app-1", "displayName": "robot", "active": true}),
        );
        ws.reindex_identities();
        ws.sp_secrets.insert(
            "s1".into(),
            SpSecret {
                id: "s1".into(),
                sp_id: "71".into(),
                seq: 1,
                hash: "h1".into(),
                scopes: Vec::new(),
                create_time: 1_000,
                expire_time: Some(10_000),
            },
        );
        ws
    }

    #[test]
    fn a_matching_live_secret_authenticates_its_service_principal() {
        let ws = workspace();
        assert_eq!(
            ws.check_client_secret("app-1", "h1", 5_000),
            Ok("app-1".into())
        );
        assert_eq!(
            ws.check_client_secret("app-1", "h2", 5_000),
            Err(ClientSecretError::NoMatch)
        );
        assert_eq!(
            ws.check_client_secret("app-2", "h1", 5_000),
            Err(ClientSecretError::UnknownClient)
        );
        assert_eq!(
            ws.check_client_secret("app-1", "h1", 10_000),
            Err(ClientSecretError::Expired)
        );
    }

    #[test]
    fn deactivated_or_forgotten_secrets_stop_working() {
        let mut ws = workspace();
        ws.service_principals.get_mut("71").unwrap()["active"] = json!(false);
        assert_eq!(
            ws.check_client_secret("app-1", "h1", 5_000),
            Err(ClientSecretError::Inactive)
        );
        ws.service_principals.get_mut("71").unwrap()["active"] = json!(true);
        ws.forget_sp_secrets("71");
        assert_eq!(
            ws.check_client_secret("app-1", "h1", 5_000),
            Err(ClientSecretError::NoMatch)
        );
    }

    #[test]
    fn info_has_no_value_and_api_times() {
        let ws = workspace();
        let info = ws.sp_secrets["s1"].info();
        assert!(!info.contains_key("secret"));
        assert_eq!(info["create_time"], "1970-01-01T00:00:01.000Z");
        assert_eq!(info["expire_time"], "1970-01-01T00:00:10.000Z");
        assert_eq!(info["status"], "ACTIVE");
    }
}
