//! The marker: what Mortar remembers of a rotation, kept beside the value
//! it delivered (a sibling key `<key>.mortar-credential` in a secret scope,
//! an annotation `rotation.mortar.dev/<key>` on a Kubernetes Secret), so a
//! restarted controller or another replica continues where the last one
//! stopped. It names credentials by id and fingerprint, never by value:
//!
//! ```json
//! {"credential_id": "…", "type": "oauth-secret", "fingerprint": "3f9a0c…",
//!  "created": "…", "delivered_at": "…",
//!  "previous": {"credential_id": "…", "type": "oauth-secret", "fingerprint": "…", "revoke_after": "…"},
//!  "pending": {"credential_id": "…", "type": "oauth-secret", "fingerprint": "…", "created": "…"}}
//! ```
//!
//! `pending` is a credential created and about to be delivered; it is
//! there only between those two steps (or after a crash between them).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::credentials::CredentialType;

/// Which API issued a credential (and revokes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Issuer {
    /// A service-principal OAuth secret.
    OauthSecret,
    /// An on-behalf-of personal access token.
    Pat,
}

impl Issuer {
    pub fn as_str(self) -> &'static str {
        match self {
            Issuer::OauthSecret => "oauth-secret",
            Issuer::Pat => "pat",
        }
    }
}

impl From<CredentialType> for Issuer {
    fn from(t: CredentialType) -> Issuer {
        match t {
            CredentialType::OauthSecret => Issuer::OauthSecret,
            CredentialType::Pat => Issuer::Pat,
        }
    }
}

/// The credential delivered last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub credential_id: String,
    pub issuer: Issuer,
    pub fingerprint: String,
    pub created: Timestamp,
    pub delivered_at: Timestamp,
}

/// The credential the current one replaced, revoked once `revoke_after` passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub credential_id: String,
    #[serde(rename = "type")]
    pub issuer: Issuer,
    pub fingerprint: String,
    pub revoke_after: Timestamp,
}

/// A credential created and not yet known to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub credential_id: String,
    #[serde(rename = "type")]
    pub issuer: Issuer,
    pub fingerprint: String,
    pub created: Timestamp,
}

/// Everything remembered of one rotation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct Marker {
    pub current: Option<Current>,
    pub previous: Option<Previous>,
    pub pending: Option<Pending>,
}

/// The marker as written: the current credential's fields at the top.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_id: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    issuer: Option<Issuer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<Previous>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending>,
}

impl From<Wire> for Marker {
    fn from(w: Wire) -> Marker {
        let current = match (w.credential_id, w.issuer, w.fingerprint, w.created) {
            (Some(credential_id), Some(issuer), Some(fingerprint), Some(created)) => {
                Some(Current {
                    credential_id,
                    issuer,
                    fingerprint,
                    delivered_at: w.delivered_at.unwrap_or(created),
                    created,
                })
            }
            _ => None,
        };
        Marker {
            current,
            previous: w.previous,
            pending: w.pending,
        }
    }
}

impl From<Marker> for Wire {
    fn from(m: Marker) -> Wire {
        let c = m.current;
        Wire {
            credential_id: c.as_ref().map(|c| c.credential_id.clone()),
            issuer: c.as_ref().map(|c| c.issuer),
            fingerprint: c.as_ref().map(|c| c.fingerprint.clone()),
            created: c.as_ref().map(|c| c.created),
            delivered_at: c.as_ref().map(|c| c.delivered_at),
            previous: m.previous,
            pending: m.pending,
        }
    }
}

impl Marker {
    /// The marker's text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads a marker's text; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Marker> {
        serde_json::from_str(text).ok()
    }
}

/// A credential's fingerprint: the first 12 hex digits of the SHA-256 of
/// its value. Enough to tell credentials apart, useless to recover one.
pub fn fingerprint(value: &str) -> String {
    let digest = hex::encode(Sha256::digest(value.as_bytes()));
    digest[..12].to_string()
}

/// The secret-scope key holding the marker of the value under `key`.
pub fn scope_marker_key(key: &str) -> String {
    format!("{key}.mortar-credential")
}

/// The annotation holding the marker of a Kubernetes Secret's `key`.
pub fn annotation(key: &str) -> String {
    format!("rotation.mortar.dev/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_marker_round_trips_with_the_current_credential_at_the_top() {
        let m = Marker {
            current: Some(Current {
                credential_id: "c2".into(),
                issuer: Issuer::OauthSecret,
                fingerprint: fingerprint("value-2"),
                created: at("2026-01-01T00:00:00Z"),
                delivered_at: at("2026-01-01T00:00:01Z"),
            }),
            previous: Some(Previous {
                credential_id: "c1".into(),
                issuer: Issuer::OauthSecret,
                fingerprint: fingerprint("value-1"),
                revoke_after: at("2026-01-02T00:00:01Z"),
            }),
            pending: None,
        };
        let text = m.to_text();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["credential_id"], "c2");
        assert_eq!(v["type"], "oauth-secret");
        assert_eq!(v["previous"]["credential_id"], "c1");
        assert!(v.get("pending").is_none());
        assert!(!text.contains("value-2"));
        assert_eq!(Marker::parse(&text), Some(m));
        assert_eq!(Marker::parse("{}"), Some(Marker::default()));
        assert_eq!(Marker::parse("not json"), None);
    }

    #[test]
    fn fingerprints_are_twelve_hex_digits_of_the_hash() {
        let f = fingerprint("dose0123456789");
        assert_eq!(f.len(), 12);
        assert!(f.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(f, fingerprint("dose0123456788"));
        assert_eq!(scope_marker_key("k"), "k.mortar-credential");
        assert_eq!(annotation("k"), "rotation.mortar.dev/k");
    }
}
