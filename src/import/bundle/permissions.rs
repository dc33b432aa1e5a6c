//! A resource's ACL as a bundle deploys it: the resource's own entries,
//! then the bundle's top-level ones mapped to the resource type's levels
//! (skipping a principal the resource already names), then the deploying
//! user as owner; one entry per principal, the highest level kept.

use serde_json::{Map, Value, json};

const PRINCIPALS: [&str; 3] = ["user_name", "group_name", "service_principal_name"];

/// The resource type's level for a top-level `CAN_MANAGE`, `CAN_VIEW` or
/// `CAN_RUN` (none: not applied to this type).
fn mapped(group: &str, level: &str) -> Option<&'static str> {
    Some(match (group, level) {
        (_, "CAN_MANAGE") => "CAN_MANAGE",
        ("jobs", "CAN_VIEW") => "CAN_VIEW",
        ("jobs", "CAN_RUN") => "CAN_MANAGE_RUN",
        ("clusters", "CAN_VIEW") => "CAN_ATTACH_TO",
        ("clusters", "CAN_RUN") => "CAN_RESTART",
        ("sql_warehouses", "CAN_VIEW") => "CAN_VIEW",
        ("sql_warehouses", "CAN_RUN") => "CAN_MONITOR",
        _ => return None,
    })
}

/// The order of levels, lowest first, for keeping the highest.
fn rank(level: &str) -> usize {
    [
        "CAN_VIEW",
        "CAN_READ",
        "CAN_ATTACH_TO",
        "CAN_MONITOR",
        "CAN_RUN",
        "CAN_USE",
        "CAN_QUERY",
        "CAN_RESTART",
        "CAN_MANAGE_RUN",
        "CAN_MANAGE",
        "IS_OWNER",
    ]
    .iter()
    .position(|l| *l == level)
    .unwrap_or(0)
}

/// Who an entry is for: `(field, name)`.
fn principal(entry: &Map<String, Value>) -> Option<(&'static str, String)> {
    PRINCIPALS.iter().find_map(|field| {
        entry
            .get(*field)
            .and_then(Value::as_str)
            .map(|n| (*field, n.to_string()))
    })
}

/// The ACL entries (`{<principal field>: name, permission_level}`) for a
/// resource of `group` (`jobs`, `clusters`, `sql_warehouses`) with its own
/// `permissions:` and the bundle's top-level ones; `deployer` is the
/// deploying user. Empty when neither list has entries (no ACL is set).
pub fn combine(group: &str, own: &[Value], top: &[Value], deployer: &str) -> Vec<Value> {
    let mut out: Vec<Entry> = Vec::new();
    for entry in own.iter().filter_map(Value::as_object) {
        if let (Some((field, name)), Some(level)) =
            (principal(entry), entry.get("level").and_then(Value::as_str))
        {
            add(&mut out, field, name, level);
        }
    }
    for entry in top.iter().filter_map(Value::as_object) {
        let Some((field, name)) = principal(entry) else {
            continue;
        };
        if own
            .iter()
            .filter_map(Value::as_object)
            .any(|e| principal(e).is_some_and(|(_, n)| n == name))
        {
            continue;
        }
        if let Some(level) = entry
            .get("level")
            .and_then(Value::as_str)
            .and_then(|l| mapped(group, l))
        {
            add(&mut out, field, name, level);
        }
    }
    if out.is_empty() {
        return Vec::new();
    }
    let owner_kind = matches!(group, "jobs" | "sql_warehouses" | "pipelines");
    let someone_owns = out.iter().any(|(_, _, l)| l == "IS_OWNER");
    let deployer_field = if uuid_like(deployer) {
        "service_principal_name"
    } else {
        "user_name"
    };
    let level = if owner_kind && !someone_owns {
        "IS_OWNER"
    } else {
        "CAN_MANAGE"
    };
    add(&mut out, deployer_field, deployer.to_string(), level);
    out.into_iter()
        .map(|(field, name, level)| json!({field: name, "permission_level": level}))
        .collect()
}

/// One principal's entry: its field, name and level.
type Entry = (&'static str, String, String);

/// Adds an entry, or raises the principal's level to `level`.
fn add(out: &mut Vec<Entry>, field: &'static str, name: String, level: &str) {
    match out.iter_mut().find(|(f, n, _)| *f == field && *n == name) {
        Some((_, _, have)) => {
            if rank(level) > rank(have) {
                *have = level.to_string();
            }
        }
        None => out.push((field, name, level.to_string())),
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_entries_then_mapped_top_level_ones_then_the_owner() {
        let own = vec![
            json!({"level": "CAN_MANAGE_RUN", "group_name": "analysts"}),
            json!({"level": "CAN_VIEW", "user_name": "auditor@example.com"}),
        ];
        let top = vec![
            json!({"level": "CAN_MANAGE", "group_name": "platform"}),
            json!({"level": "CAN_VIEW", "group_name": "analysts"}),
            json!({"level": "CAN_RUN", "group_name": "oncall"}),
        ];
        assert_eq!(
            combine("jobs", &own, &top, "deployer@example.com"),
            vec![
                json!({"group_name": "analysts", "permission_level": "CAN_MANAGE_RUN"}),
                json!({"user_name": "auditor@example.com", "permission_level": "CAN_VIEW"}),
                json!({"group_name": "platform", "permission_level": "CAN_MANAGE"}),
                json!({"group_name": "oncall", "permission_level": "CAN_MANAGE_RUN"}),
                json!({"user_name": "deployer@example.com", "permission_level": "IS_OWNER"}),
            ]
        );
        assert_eq!(
            combine("sql_warehouses", &[], &top[2..], "x@example.com")[0],
            json!({"group_name": "oncall", "permission_level": "CAN_MONITOR"})
        );
        assert!(combine("clusters", &[], &[], "x@example.com").is_empty());
        assert_eq!(
            combine("clusters", &[], &top[..1], "x@example.com")[1],
            json!({"user_name": "x@example.com", "permission_level": "CAN_MANAGE"})
        );
    }
}
