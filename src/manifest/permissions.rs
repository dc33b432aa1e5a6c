//! `permissions:` beside a resource's spec (and a secret scope's `acls:`):
//! one principal per entry and a level valid for the object type.

use super::Kind;
use super::diag::{At, Diagnostics, suggest};
use super::fields::Fields;
use super::resource::{PermissionEntry, Principal};
use super::yaml::Node;

/// The permission levels the Permissions API accepts for a kind, or `None`
/// when the kind has no ACL of its own.
pub fn levels_for(kind: Kind) -> Option<&'static [&'static str]> {
    Some(match kind {
        Kind::Job => &["CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"],
        Kind::Cluster => &["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"],
        Kind::ClusterPolicy => &["CAN_USE"],
        Kind::InstancePool => &["CAN_ATTACH_TO", "CAN_MANAGE"],
        Kind::SqlWarehouse => &[
            "CAN_VIEW",
            "CAN_MONITOR",
            "CAN_USE",
            "IS_OWNER",
            "CAN_MANAGE",
        ],
        Kind::Notebook | Kind::WorkspaceFile | Kind::Directory => {
            &["CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"]
        }
        Kind::SecretScope => &["READ", "WRITE", "MANAGE"],
        _ => return None,
    })
}

const PRINCIPAL_KEYS: [&str; 3] = ["user_name", "group_name", "service_principal_name"];

/// Where a kind's manifest keeps its ACL and what an entry calls its
/// level: `permissions:` with `permission_level`, or a secret scope's
/// `acls:` with `permission`.
pub fn acl_keys(kind: Kind) -> (&'static str, &'static str) {
    if kind == Kind::SecretScope {
        ("acls", "permission")
    } else {
        ("permissions", "permission_level")
    }
}

/// One entry as a manifest writes it (`{group_name: …, permission_level: …}`,
/// or `permission` for a secret scope's `acls:`).
pub fn entry_json(entry: &PermissionEntry, level_key: &str) -> serde_json::Value {
    let mut v = crate::databricks::kinds::permissions::entry_json(
        &entry.principal,
        &entry.permission_level,
    );
    if let Some(obj) = v.as_object_mut()
        && let Some(level) = obj.remove("permission_level")
    {
        obj.insert(level_key.to_string(), level);
    }
    v
}

/// Reads a permissions list. `level_key` is `permission_level`, or
/// `permission` for secret scope ACLs.
pub fn read(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    path: &str,
    kind: Kind,
    level_key: &str,
) -> Vec<PermissionEntry> {
    let mut out: Vec<PermissionEntry> = Vec::new();
    let Some(levels) = levels_for(kind) else {
        diags.error(
            At::new(file, node.line, node.column, path),
            format!("{kind} has no access control list; use a Grants resource or the group's members instead"),
        );
        return out;
    };
    let Some(items) = node.as_seq() else {
        diags.error(
            At::new(file, node.line, node.column, path),
            format!("expected a list, found {}", node.type_name()),
        );
        return out;
    };
    let mut owners = 0;
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let mut allowed: Vec<&str> = PRINCIPAL_KEYS.to_vec();
        allowed.push(level_key);
        let Some(fields) = Fields::open(diags, file, item, &item_path, &allowed) else {
            continue;
        };
        let present: Vec<&str> = PRINCIPAL_KEYS
            .iter()
            .copied()
            .filter(|k| fields.entry(k).is_some())
            .collect();
        let principal = match present.as_slice() {
            [one] => fields.string(diags, one, true).map(|name| match *one {
                "user_name" => Principal::UserName(name),
                "group_name" => Principal::GroupName(name),
                _ => Principal::ServicePrincipalName(name),
            }),
            [] => {
                diags.error(
                    At::new(file, item.line, item.column, &item_path),
                    "an entry needs one of user_name, group_name, service_principal_name",
                );
                None
            }
            _ => {
                diags.error(
                    At::new(file, item.line, item.column, &item_path),
                    format!(
                        "an entry names exactly one principal, found {}",
                        present.join(" and ")
                    ),
                );
                None
            }
        };
        let level = fields.string(diags, level_key, true);
        let (Some(principal), Some(level)) = (principal, level) else {
            continue;
        };
        let (line, column) = fields.at(level_key);
        let level_path = fields.field_path(level_key);
        if !levels.contains(&level.as_str()) {
            let hint = suggest(&level, levels.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            diags.error(
                At::new(file, line, column, &level_path),
                format!(
                    "`{level}` is not a permission level of a {kind}; expected one of {}{hint}",
                    levels.join(", ")
                ),
            );
            continue;
        }
        if level == "IS_OWNER" {
            owners += 1;
            if matches!(principal, Principal::GroupName(_)) {
                diags.error(
                    At::new(file, line, column, &level_path),
                    "a group cannot be IS_OWNER; name a user or service principal",
                );
            } else if owners > 1 {
                diags.error(
                    At::new(file, line, column, &level_path),
                    format!("a {kind} has exactly one IS_OWNER"),
                );
            }
        }
        if let Some(previous) = out.iter().find(|p| p.principal == principal) {
            diags.error(
                At::new(file, item.line, item.column, &item_path),
                format!(
                    "principal listed twice (already {}); give each principal one entry",
                    previous.permission_level
                ),
            );
            continue;
        }
        out.push(PermissionEntry {
            principal,
            permission_level: level,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::{Limits, parse_documents};

    fn read_yaml(kind: Kind, yaml: &str) -> (Vec<PermissionEntry>, Diagnostics) {
        let node = parse_documents(yaml, &Limits::default()).unwrap().remove(0);
        let mut diags = Diagnostics::default();
        let out = read(
            &mut diags,
            "f.yaml",
            &node,
            "permissions",
            kind,
            "permission_level",
        );
        (out, diags)
    }

    #[test]
    fn levels_follow_the_object_type() {
        let (ok, d) = read_yaml(
            Kind::SqlWarehouse,
            "- { user_name: a@x.com, permission_level: IS_OWNER }\n- { group_name: g, permission_level: CAN_MONITOR }\n",
        );
        assert!(d.errors.is_empty(), "{d}");
        assert_eq!(ok[0].principal, Principal::UserName("a@x.com".into()));
        let (_, d) = read_yaml(
            Kind::ClusterPolicy,
            "- { group_name: g, permission_level: CAN_MANAGE }\n",
        );
        assert!(
            d.to_string().contains(
                "`CAN_MANAGE` is not a permission level of a ClusterPolicy; expected one of CAN_USE"
            ),
            "{d}"
        );
    }

    #[test]
    fn one_principal_one_owner() {
        let (_, d) = read_yaml(
            Kind::Job,
            "- { user_name: a, group_name: g, permission_level: CAN_VIEW }\n- { user_name: b, permission_level: IS_OWNER }\n- { user_name: c, permission_level: IS_OWNER }\n- { user_name: b, permission_level: CAN_VIEW }\n",
        );
        let text = d.to_string();
        assert!(
            text.contains("exactly one principal, found user_name and group_name"),
            "{text}"
        );
        assert!(text.contains("a Job has exactly one IS_OWNER"), "{text}");
        assert!(text.contains("principal listed twice"), "{text}");
    }

    #[test]
    fn kinds_without_acls_refuse_permissions() {
        let (_, d) = read_yaml(
            Kind::Catalog,
            "- { group_name: g, permission_level: CAN_USE }\n",
        );
        assert!(
            d.to_string().contains("Catalog has no access control list"),
            "{d}"
        );
    }
}
