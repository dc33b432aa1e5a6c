//! The permissions API (`/api/2.0/permissions/{type}/{id}`): reading the
//! direct ACL (inherited entries ignored) and replacing it with an
//! authoritative `PUT`.

use serde_json::{Value, json};

use super::Acl;
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::{PermissionEntry, Principal};

const OWNER: &str = "IS_OWNER";
const ADMINS: &str = "admins";

/// Object types whose ACL must name exactly one owner.
fn has_owner(object_type: &str) -> bool {
    matches!(
        object_type,
        "jobs" | "pipelines" | "sql/warehouses" | "warehouses"
    )
}

fn principal_of(entry: &Value) -> Option<Principal> {
    let s = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(u) = s("user_name") {
        return Some(Principal::UserName(u));
    }
    if let Some(g) = s("group_name") {
        return Some(Principal::GroupName(g));
    }
    s("service_principal_name").map(Principal::ServicePrincipalName)
}

/// The request form of an entry.
pub fn entry_json(principal: &Principal, level: &str) -> Value {
    match principal {
        Principal::UserName(u) => json!({"user_name": u, "permission_level": level}),
        Principal::GroupName(g) => json!({"group_name": g, "permission_level": level}),
        Principal::ServicePrincipalName(s) => {
            json!({"service_principal_name": s, "permission_level": level})
        }
    }
}

/// The request form of a whole ACL (`admins` is Databricks' to manage).
fn request_entries(entries: &[PermissionEntry]) -> Vec<Value> {
    entries
        .iter()
        .filter(|e| e.principal != Principal::GroupName(ADMINS.into()))
        .map(|e| entry_json(&e.principal, &e.permission_level))
        .collect()
}

/// A create body carrying the object's ACL as `access_control_list`, for
/// kinds whose create call takes it ([`super::KindSpec::acl_in_create`]).
/// The creator stays the owner unless `entries` names one.
pub fn with_create_acl(body: &Value, entries: &[PermissionEntry]) -> Value {
    let mut body = body.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "access_control_list".into(),
            Value::Array(request_entries(entries)),
        );
    }
    body
}

/// Splits a permissions GET response into direct entries and owner.
pub fn parse_acl(body: &Value) -> Acl {
    let mut acl = Acl::default();
    for entry in body
        .get("access_control_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(principal) = principal_of(entry) else {
            continue;
        };
        if principal == Principal::GroupName(ADMINS.into()) {
            continue;
        }
        for p in entry
            .get("all_permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get("inherited").and_then(Value::as_bool).unwrap_or(false) {
                continue;
            }
            let Some(level) = p.get("permission_level").and_then(Value::as_str) else {
                continue;
            };
            if level == OWNER {
                acl.owner = Some(principal.clone());
            } else {
                acl.entries.push(PermissionEntry {
                    principal: principal.clone(),
                    permission_level: level.to_string(),
                });
            }
        }
    }
    acl.entries.sort();
    acl.entries.dedup();
    acl
}

/// The direct ACL of an object.
pub async fn read_acl(client: &Client, object_type: &str, object_id: &str) -> Result<Acl, Error> {
    let path = format!("/api/2.0/permissions/{object_type}/{object_id}");
    Ok(parse_acl(&client.get(&path, &[]).await?))
}

/// Replaces the direct ACL with `entries`. For objects with an owner, the
/// current owner is kept when `entries` names none.
pub async fn write_acl(
    client: &Client,
    object_type: &str,
    object_id: &str,
    entries: &[PermissionEntry],
) -> Result<(), Error> {
    let path = format!("/api/2.0/permissions/{object_type}/{object_id}");
    let mut list = request_entries(entries);
    if has_owner(object_type) && !entries.iter().any(|e| e.permission_level == OWNER) {
        let live = parse_acl(&client.get(&path, &[]).await?);
        if let Some(owner) = live.owner {
            list.push(entry_json(&owner, OWNER));
        }
    }
    client
        .put(&path, &json!({ "access_control_list": list }))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_admins_and_owner_are_kept_apart() {
        let acl = parse_acl(&json!({
            "object_id": "/jobs/1",
            "access_control_list": [
                {"user_name": "me@x", "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]},
                {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/jobs/"]}]},
                {"group_name": "users", "all_permissions": [{"permission_level": "CAN_VIEW", "inherited": true}]},
                {"group_name": "analysts", "all_permissions": [{"permission_level": "CAN_VIEW", "inherited": false}]},
                {"service_principal_name": "abc", "all_permissions": [{"permission_level": "CAN_MANAGE_RUN", "inherited": false}]}
            ]
        }));
        assert_eq!(acl.owner, Some(Principal::UserName("me@x".into())));
        assert_eq!(
            acl.entries,
            vec![
                PermissionEntry {
                    principal: Principal::GroupName("analysts".into()),
                    permission_level: "CAN_VIEW".into()
                },
                PermissionEntry {
                    principal: Principal::ServicePrincipalName("abc".into()),
                    permission_level: "CAN_MANAGE_RUN".into()
                },
            ]
        );
    }
}
