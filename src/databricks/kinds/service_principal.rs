//! Service principals (SCIM `ServicePrincipals`): unique display names;
//! `applicationId` is their identity (set by the server, or given on Azure)
//! and not compared; entitlements and roles patched value by value.

use super::scim::ScimAdapter;
use crate::model::Kind;

pub const ADAPTER: ScimAdapter = ScimAdapter {
    kind: Kind::ServicePrincipal,
    resource: "ServicePrincipals",
    schema: "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal",
    scalars: &["displayName", "externalId", "active"],
    application_id: Some("applicationId"),
    builtin: &[],
};
