//! Who is who in the workspace: the identity questions every layer asks of
//! the SCIM data (ids, display names, `admins` membership), answered from the
//! indexes as methods of [`Workspace`], and the group-membership edits SCIM
//! and seeding share.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::principal::PrincipalKind;
use super::workspace::Workspace;

/// A string field of a JSON object.
pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A group's member entry.
pub fn member_entry(id: &str, (display, reference): (String, String)) -> Value {
    json!({"value": id, "display": display, "$ref": reference})
}

/// The array under `key` of a resource object, created when absent (a
/// non-object resource has none).
pub fn array_field<'a>(object: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
    let map = object.as_object_mut()?;
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    entry.as_array_mut()
}

impl Workspace {
    /// A new SCIM id.
    pub fn new_scim_id(&mut self) -> String {
        format!("{}", 7_100_000_000_000_000u64 + self.next_id())
    }

    /// The id of the group named `name`, created when absent.
    pub fn ensure_group(&mut self, name: &str) -> String {
        if let Some(id) = self.index.group_ids.get(name) {
            return id.clone();
        }
        let id = self.new_scim_id();
        self.groups.insert(
            id.clone(),
            json!({"id": id, "displayName": name, "members": [], "entitlements": [], "roles": [], "groups": []}),
        );
        self.index.group_ids.insert(name.to_owned(), id.clone());
        id
    }

    /// Adds `member_id` to a group's `members` (once).
    pub fn add_member(&mut self, group_id: &str, member_id: &str) {
        let display = self.member_display(member_id);
        let Some(group) = self.groups.get_mut(group_id) else {
            return;
        };
        if let Some(members) = array_field(group, "members")
            && !members.iter().any(|m| text(m, "value") == Some(member_id))
        {
            members.push(member_entry(member_id, display));
        }
    }

    /// The `display` and `$ref` of a member entry.
    pub fn member_display(&self, id: &str) -> (String, String) {
        if let Some(user) = self.users.get(id) {
            let name = text(user, "displayName")
                .or_else(|| text(user, "userName"))
                .unwrap_or(id);
            return (name.to_owned(), format!("Users/{id}"));
        }
        if let Some(sp) = self.service_principals.get(id) {
            let name = text(sp, "displayName").unwrap_or(id);
            return (name.to_owned(), format!("ServicePrincipals/{id}"));
        }
        if let Some(group) = self.groups.get(id) {
            let name = text(group, "displayName").unwrap_or(id);
            return (name.to_owned(), format!("Groups/{id}"));
        }
        (id.to_owned(), String::new())
    }

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
