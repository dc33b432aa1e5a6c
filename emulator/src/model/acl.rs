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
