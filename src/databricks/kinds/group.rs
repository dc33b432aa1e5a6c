//! Workspace groups (SCIM `Groups`): unique display names; members,
//! entitlements and roles patched value by value.

use super::scim::ScimAdapter;
use crate::model::Kind;

pub const ADAPTER: ScimAdapter = ScimAdapter {
    kind: Kind::Group,
    resource: "Groups",
    schema: "urn:ietf:params:scim:schemas:core:2.0:Group",
    scalars: &["displayName", "externalId"],
    application_id: None,
    builtin: &["admins", "users"],
};
