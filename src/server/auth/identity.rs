//! Who is calling: a person signed in through the IdP, a bot with a bearer
//! token, or (with no `server.auth`, on loopback only) whoever is on this
//! host. Built from verified claims only.

use serde::Serialize;
use serde_json::Value;

use crate::authz::Caller;

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// A session made by signing in through the IdP.
    Session,
    /// A bearer JWT the IdP issued.
    Bearer,
    /// No sign-in configured: the server listens on loopback only and
    /// trusts this host's users, as the CLI does.
    Loopback,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub groups: Vec<String>,
    pub proof: Proof,
}

/// The subject every loopback caller has when no sign-in is configured.
pub const LOOPBACK_SUBJECT: &str = "local";

impl Identity {
    /// The caller when no sign-in is configured.
    pub fn loopback() -> Identity {
        Identity {
            subject: LOOPBACK_SUBJECT.into(),
            email: None,
            name: None,
            groups: Vec::new(),
            proof: Proof::Loopback,
        }
    }

    /// The identity in a verified token's claims: `sub` (required),
    /// `email`, `name`, and the groups under `groups_claim` (a list of
    /// strings, or one string). Anything else in a group list is ignored.
    pub fn from_claims(claims: &Value, groups_claim: &str, proof: Proof) -> Option<Identity> {
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let groups = match claims.get(groups_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Some(Identity {
            subject: text("sub")?,
            email: text("email"),
            name: text("name"),
            groups,
            proof,
        })
    }

    /// What the access policy decides on.
    pub fn caller(&self) -> Caller {
        Caller {
            subject: self.subject.clone(),
            groups: self.groups.clone(),
        }
    }

    /// How people read who it is: `subject <email>` or `subject`.
    pub fn display(&self) -> String {
        crate::audit::person(&self.subject, self.email.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_subject_email_and_groups_in_either_shape() {
        let listed = json!({"sub": "otto", "email": "otto@example.com", "groups": ["ops", 7, "b"]});
        let id = Identity::from_claims(&listed, "groups", Proof::Session).unwrap();
        assert_eq!(id.groups, vec!["ops", "b"]);
        assert_eq!(id.display(), "otto <otto@example.com>");
        let single = json!({"sub": "bot", "roles": "deployers"});
        let id = Identity::from_claims(&single, "roles", Proof::Bearer).unwrap();
        assert_eq!(id.groups, vec!["deployers"]);
        assert_eq!(id.display(), "bot");
        assert!(Identity::from_claims(&json!({"email": "x@y"}), "groups", Proof::Bearer).is_none());
        assert!(Identity::from_claims(&json!({"sub": ""}), "groups", Proof::Bearer).is_none());
    }
}
