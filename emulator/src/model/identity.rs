//! Who is who in the workspace: the identity questions every layer asks of
//! the SCIM data (ids, display names, `admins` membership), answered from the
//! indexes as methods of [`Workspace`].

use std::collections::HashMap;

use serde_json::Value;

use super::principal::PrincipalKind;
use super::workspace::Workspace;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Workspace {
    /// The SCIM id of a principal named in an ACL.
    pub fn principal_id(&self, name: &str, kind: PrincipalKind) -> Option<String> {
        match kind {
            PrincipalKind::User => self.index.user_ids.get(&name.to_lowercase()).cloned(),
            PrincipalKind::ServicePrincipal => self.index.sp_ids.get(name).cloned(),
            PrincipalKind::Group => self.index.group_ids.get(name).cloned(),
        }
    }

    /// Display name of a principal for ACL listings.
    pub fn display_name(&self, name: &str, kind: PrincipalKind) -> Option<String> {
        let id = self.principal_id(name, kind)?;
        let map = match kind {
            PrincipalKind::User => &self.users,
            PrincipalKind::ServicePrincipal => &self.service_principals,
            PrincipalKind::Group => &self.groups,
        };
        map.get(&id)
            .and_then(|v| text(v, "displayName"))
            .map(str::to_owned)
    }

    /// Whether a principal is a member of `admins`.
    pub fn is_admin(&self, name: &str, kind: PrincipalKind) -> bool {
        let Some(id) = self.principal_id(name, kind) else {
            return false;
        };
        self.index
            .group_ids
            .get("admins")
            .and_then(|gid| self.groups.get(gid))
            .and_then(|g| g.get("members"))
            .and_then(Value::as_array)
            .is_some_and(|members| members.iter().any(|m| text(m, "value") == Some(&id)))
    }

    /// Whether any principal of this name exists (users, SPs or groups).
    pub fn principal_exists(&self, name: &str) -> bool {
        self.index.user_ids.contains_key(&name.to_lowercase())
            || self.index.sp_ids.contains_key(name)
            || self.index.group_ids.contains_key(name)
    }

    /// User names by SCIM id, for callers that need to resolve many at once.
    pub fn user_names(&self) -> HashMap<String, String> {
        self.users
            .iter()
            .filter_map(|(id, u)| Some((id.clone(), text(u, "userName")?.to_owned())))
            .collect()
    }
}
