//! A stored direct ACL entry of an object.

use serde::{Deserialize, Serialize};

use super::principal::PrincipalKind;

/// One direct ACL entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ace {
    pub kind: PrincipalKind,
    pub name: String,
    pub level: String,
}

/// Storage key of an object's ACL.
pub fn acl_key(type_key: &str, id: &str) -> String {
    format!("{type_key}/{id}")
}
