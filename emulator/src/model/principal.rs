//! Principal kinds as ACLs name them, and what a token grants.

use serde::{Deserialize, Serialize};

/// What kind of principal a name denotes in an ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    ServicePrincipal,
    Group,
}

impl PrincipalKind {
    /// The ACL field naming this kind of principal.
    pub fn acl_field(self) -> &'static str {
        match self {
            PrincipalKind::User => "user_name",
            PrincipalKind::ServicePrincipal => "service_principal_name",
            PrincipalKind::Group => "group_name",
        }
    }
}

/// Who a token acts as and until when.
#[derive(Debug, Clone)]
pub struct Grant {
    pub name: String,
    pub kind: PrincipalKind,
    /// Expiry in epoch milliseconds; `None` never expires.
    pub expires_at_ms: Option<i64>,
}
