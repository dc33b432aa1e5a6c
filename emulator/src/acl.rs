//! Object ACL rules shared by every endpoint family: the object types and
//! their permission levels, the inherited `admins` entry and directory
//! inheritance, the single-owner rule for jobs and warehouses, creator
//! ownership, and the access checks for non-admin callers. The permissions
//! API itself (`permissions`) and the other handlers build on it.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::model::acl::acl_key;
use crate::model::{Ace, PrincipalKind, Workspace};

/// How one object type behaves.
pub struct TypeInfo {
    /// Canonical request type (storage key prefix).
    pub key: &'static str,
    /// `object_type` in responses.
    pub object_type: &'static str,
    /// Prefix of `object_id` in responses.
    pub id_prefix: &'static str,
    /// Levels, lowest first, with descriptions.
    pub levels: &'static [(&'static str, &'static str)],
    /// Whether exactly one `IS_OWNER` is required.
    pub single_owner: bool,
}

const JOB_LEVELS: &[(&str, &str)] = &[
    ("CAN_VIEW", "Can view the job"),
    ("CAN_MANAGE_RUN", "Can manage runs of the job"),
    ("CAN_MANAGE", "Can manage the job"),
    ("IS_OWNER", "Is the owner of the job"),
];
const CLUSTER_LEVELS: &[(&str, &str)] = &[
    ("CAN_ATTACH_TO", "Can attach to the cluster"),
    ("CAN_RESTART", "Can restart the cluster"),
    ("CAN_MANAGE", "Can manage the cluster"),
];
const POLICY_LEVELS: &[(&str, &str)] = &[("CAN_USE", "Can use the cluster policy")];
const POOL_LEVELS: &[(&str, &str)] = &[
    ("CAN_ATTACH_TO", "Can attach to the instance pool"),
    ("CAN_MANAGE", "Can manage the instance pool"),
];
const WAREHOUSE_LEVELS: &[(&str, &str)] = &[
    ("CAN_VIEW", "Can view the warehouse"),
    ("CAN_MONITOR", "Can monitor the warehouse"),
    ("CAN_USE", "Can use the warehouse"),
    ("CAN_MANAGE", "Can manage the warehouse"),
    ("IS_OWNER", "Is the owner of the warehouse"),
];
const OBJECT_LEVELS: &[(&str, &str)] = &[
    ("CAN_READ", "Can read the object"),
    ("CAN_RUN", "Can run the object"),
    ("CAN_EDIT", "Can edit the object"),
    ("CAN_MANAGE", "Can manage the object"),
];
const TOKEN_LEVELS: &[(&str, &str)] = &[
    ("CAN_USE", "Can use personal access tokens"),
    ("CAN_MANAGE", "Can manage personal access tokens"),
];

const TYPES: &[TypeInfo] = &[
    TypeInfo {
        key: "jobs",
        object_type: "job",
        id_prefix: "/jobs/",
        levels: JOB_LEVELS,
        single_owner: true,
    },
    TypeInfo {
        key: "clusters",
        object_type: "cluster",
        id_prefix: "/clusters/",
        levels: CLUSTER_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "cluster-policies",
        object_type: "cluster-policy",
        id_prefix: "/cluster-policies/",
        levels: POLICY_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "instance-pools",
        object_type: "instance-pool",
        id_prefix: "/instance-pools/",
        levels: POOL_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "warehouses",
        object_type: "warehouses",
        id_prefix: "/sql/warehouses/",
        levels: WAREHOUSE_LEVELS,
        single_owner: true,
    },
    TypeInfo {
        key: "notebooks",
        object_type: "notebook",
        id_prefix: "/notebooks/",
        levels: OBJECT_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "directories",
        object_type: "directory",
        id_prefix: "/directories/",
        levels: OBJECT_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "files",
        object_type: "file",
        id_prefix: "/files/",
        levels: OBJECT_LEVELS,
        single_owner: false,
    },
    TypeInfo {
        key: "authorization",
        object_type: "tokens",
        id_prefix: "",
        levels: TOKEN_LEVELS,
        single_owner: false,
    },
];

/// Looks up a request object type (`sql/warehouses` is an alias).
pub fn type_info(request_type: &str) -> Option<&'static TypeInfo> {
    let key = match request_type {
        "sql/warehouses" => "warehouses",
        other => other,
    };
    TYPES.iter().find(|t| t.key == key)
}

fn info(key: &str) -> &'static TypeInfo {
    type_info(key).unwrap_or(&TYPES[0])
}

/// Whether the object exists.
pub fn object_exists(ws: &Workspace, type_key: &str, id: &str) -> bool {
    match type_key {
        "jobs" => id.parse::<i64>().is_ok_and(|n| ws.jobs.contains_key(&n)),
        "clusters" => ws.clusters.contains_key(id),
        "cluster-policies" => ws.policies.contains_key(id),
        "instance-pools" => ws.pools.contains_key(id),
        "warehouses" => ws.warehouses.contains_key(id),
        "notebooks" | "directories" | "files" => id
            .parse::<i64>()
            .ok()
            .and_then(|n| ws.index.object_paths.get(&n))
            .and_then(|p| ws.objects.get(p))
            .is_some_and(|o| o.permission_type() == type_key),
        "authorization" => true,
        _ => false,
    }
}

/// 404 for an object that does not exist.
pub fn missing(info: &TypeInfo, id: &str) -> ApiError {
    ApiError::not_found(format!("{} {id} does not exist.", info.object_type))
}

fn rank(info: &TypeInfo, level: &str) -> Option<usize> {
    info.levels.iter().position(|(l, _)| *l == level)
}

/// Groups (by name) a principal belongs to directly, plus `users`.
pub fn groups_of(ws: &Workspace, caller: &Caller) -> Vec<String> {
    let Some(id) = ws.principal_id(&caller.name, caller.kind) else {
        return Vec::new();
    };
    ws.groups
        .values()
        .filter(|g| {
            g.get("members")
                .and_then(Value::as_array)
                .is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m.get("value").and_then(Value::as_str) == Some(&id))
                })
        })
        .filter_map(|g| {
            g.get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// Entries that apply to an object: its own, plus those of parent
/// directories for workspace objects (marked with the object they come from).
fn applicable(ws: &Workspace, type_key: &str, id: &str) -> Vec<(Ace, Option<String>)> {
    let mut out: Vec<(Ace, Option<String>)> = ws
        .acls
        .get(&acl_key(type_key, id))
        .map(|aces| aces.iter().map(|a| (a.clone(), None)).collect())
        .unwrap_or_default();
    if matches!(type_key, "notebooks" | "directories" | "files")
        && let Some(path) = id
            .parse::<i64>()
            .ok()
            .and_then(|n| ws.index.object_paths.get(&n))
    {
        let mut current = path.clone();
        while let Some((parent, _)) = current.rsplit_once('/') {
            let parent = if parent.is_empty() {
                "/".to_owned()
            } else {
                parent.to_owned()
            };
            if let Some(dir) = ws.objects.get(&parent) {
                let from = format!("/directories/{}", dir.object_id);
                if let Some(aces) = ws
                    .acls
                    .get(&acl_key("directories", &dir.object_id.to_string()))
                {
                    out.extend(aces.iter().map(|a| (a.clone(), Some(from.clone()))));
                }
            }
            if parent == "/" {
                break;
            }
            current = parent;
        }
    }
    out
}

/// The highest level rank the caller holds on an object (admins: top).
pub fn caller_rank(ws: &Workspace, info: &TypeInfo, id: &str, caller: &Caller) -> Option<usize> {
    if caller.admin {
        return Some(info.levels.len());
    }
    rank_with_groups(ws, info, id, caller, &groups_of(ws, caller))
}

/// The highest level rank a non-admin caller in `groups` holds on an object.
fn rank_with_groups(
    ws: &Workspace,
    info: &TypeInfo,
    id: &str,
    caller: &Caller,
    groups: &[String],
) -> Option<usize> {
    applicable(ws, info.key, id)
        .into_iter()
        .filter(|(ace, _)| match ace.kind {
            PrincipalKind::Group => groups.contains(&ace.name),
            kind => kind == caller.kind && ace.name.eq_ignore_ascii_case(&caller.name),
        })
        .filter_map(|(ace, _)| rank(info, &ace.level))
        .max()
}

/// Fails with 403 unless the caller holds at least `level` on the object
/// (workspace admins hold every level).
pub fn require(
    ws: &Workspace,
    type_key: &str,
    id: &str,
    caller: &Caller,
    level: &str,
) -> ApiResult<()> {
    let info = info(type_key);
    let needed = rank(info, level).unwrap_or(0);
    match caller_rank(ws, info, id, caller) {
        Some(have) if have >= needed => Ok(()),
        _ => Err(ApiError::denied(format!(
            "{} does not have {level} permissions on {}{id}. Please contact the owner or an administrator for access.",
            caller.name, info.id_prefix
        ))),
    }
}

/// One caller's access to many objects of one type, for list endpoints: the
/// caller's groups are resolved once rather than per object.
pub struct Visibility<'a> {
    ws: &'a Workspace,
    info: &'static TypeInfo,
    caller: &'a Caller,
    needed: usize,
    /// `None` for admins, who see everything.
    groups: Option<Vec<String>>,
}

impl<'a> Visibility<'a> {
    /// Access at `level` or above to objects of `type_key`.
    pub fn new(ws: &'a Workspace, type_key: &str, caller: &'a Caller, level: &str) -> Self {
        let info = info(type_key);
        Visibility {
            ws,
            info,
            caller,
            needed: rank(info, level).unwrap_or(0),
            groups: (!caller.admin).then(|| groups_of(ws, caller)),
        }
    }

    /// Whether the caller holds the level on object `id` (same answer as
    /// [`require`]).
    pub fn allows(&self, id: impl std::fmt::Display) -> bool {
        match &self.groups {
            None => true,
            Some(groups) => {
                rank_with_groups(self.ws, self.info, &id.to_string(), self.caller, groups)
                    .is_some_and(|have| have >= self.needed)
            }
        }
    }
}

/// Gives a new object its creator as owner (or `CAN_MANAGE` without owners).
pub fn init_creator(ws: &mut Workspace, type_key: &str, id: &str, caller: &Caller) {
    let info = info(type_key);
    let level = if info.single_owner {
        "IS_OWNER"
    } else {
        "CAN_MANAGE"
    };
    ws.acls.insert(
        acl_key(type_key, id),
        vec![Ace {
            kind: caller.kind,
            name: caller.name.clone(),
            level: level.to_owned(),
        }],
    );
}

/// Drops an object's ACL when the object is deleted.
pub fn forget(ws: &mut Workspace, type_key: &str, id: &str) {
    ws.acls.remove(&acl_key(type_key, id));
}

/// The current owner entry, if any.
pub fn owner(ws: &Workspace, type_key: &str, id: &str) -> Option<Ace> {
    ws.acls
        .get(&acl_key(type_key, id))?
        .iter()
        .find(|a| a.level == "IS_OWNER")
        .cloned()
}

/// Parses and validates request ACL entries.
pub fn parse_entries(ws: &Workspace, info: &TypeInfo, list: &[Value]) -> ApiResult<Vec<Ace>> {
    let mut out: Vec<Ace> = Vec::new();
    for entry in list {
        let map = entry
            .as_object()
            .ok_or_else(|| ApiError::invalid("access_control_list entries must be objects"))?;
        let named: Vec<(PrincipalKind, &str)> = [
            PrincipalKind::User,
            PrincipalKind::Group,
            PrincipalKind::ServicePrincipal,
        ]
        .into_iter()
        .filter_map(|k| {
            map.get(k.acl_field())
                .and_then(Value::as_str)
                .map(|n| (k, n))
        })
        .collect();
        let [(kind, name)] = named.as_slice() else {
            return Err(ApiError::invalid(
                "Each access control entry needs exactly one of user_name, group_name or service_principal_name",
            ));
        };
        let level = map
            .get("permission_level")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::invalid("Missing required field: permission_level"))?;
        if rank(info, level).is_none() {
            return Err(ApiError::invalid(format!(
                "Permission {level} is not supported for object type {}. Supported: {}",
                info.object_type,
                info.levels
                    .iter()
                    .map(|(l, _)| *l)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if ws.principal_id(name, *kind).is_none() {
            let label = match kind {
                PrincipalKind::User => "UserName",
                PrincipalKind::Group => "GroupName",
                PrincipalKind::ServicePrincipal => "ServicePrincipalName",
            };
            return Err(ApiError::invalid(format!(
                "Principal: {label}({name}) does not exist"
            )));
        }
        if *kind == PrincipalKind::Group && level == "IS_OWNER" {
            return Err(ApiError::invalid(format!(
                "Group {name} cannot be the owner of a {}.",
                info.object_type
            )));
        }
        let ace = Ace {
            kind: *kind,
            name: (*name).to_owned(),
            level: level.to_owned(),
        };
        match out
            .iter_mut()
            .find(|a| a.kind == ace.kind && a.name == ace.name)
        {
            Some(existing) if rank(info, &existing.level) < rank(info, &ace.level) => {
                *existing = ace
            }
            Some(_) => {}
            None => out.push(ace),
        }
    }
    Ok(out)
}

/// Applies the owner rule to a resulting direct ACL: more than one owner is
/// rejected; none keeps the current owner (or makes the caller owner).
fn settle_owner(
    info: &TypeInfo,
    mut aces: Vec<Ace>,
    current: Option<Ace>,
    caller: &Caller,
) -> ApiResult<Vec<Ace>> {
    if !info.single_owner {
        return Ok(aces);
    }
    let owners = aces.iter().filter(|a| a.level == "IS_OWNER").count();
    if owners > 1 {
        return Err(ApiError::invalid(format!(
            "The {} must have exactly one owner.",
            if info.key == "jobs" {
                "job"
            } else {
                "warehouse"
            }
        )));
    }
    if owners == 0 {
        let owner = current.unwrap_or(Ace {
            kind: caller.kind,
            name: caller.name.clone(),
            level: "IS_OWNER".to_owned(),
        });
        aces.retain(|a| !(a.kind == owner.kind && a.name == owner.name));
        aces.push(owner);
    }
    Ok(aces)
}

/// Replaces the direct ACL of an object (PUT semantics).
pub fn put_acl(
    ws: &mut Workspace,
    type_key: &str,
    id: &str,
    list: &[Value],
    caller: &Caller,
) -> ApiResult<()> {
    let info = info(type_key);
    let aces = parse_entries(ws, info, list)?;
    let aces = settle_owner(info, aces, owner(ws, type_key, id), caller)?;
    ws.acls.insert(acl_key(type_key, id), aces);
    Ok(())
}

/// Merges entries into the direct ACL of an object (PATCH semantics).
pub fn patch_acl(
    ws: &mut Workspace,
    info: &TypeInfo,
    id: &str,
    list: &[Value],
    caller: &Caller,
) -> ApiResult<()> {
    let incoming = parse_entries(ws, info, list)?;
    let mut aces = ws
        .acls
        .get(&acl_key(info.key, id))
        .cloned()
        .unwrap_or_default();
    let current_owner = owner(ws, info.key, id);
    if incoming.iter().any(|a| a.level == "IS_OWNER") {
        aces.retain(|a| a.level != "IS_OWNER");
    }
    for ace in incoming {
        aces.retain(|a| !(a.kind == ace.kind && a.name == ace.name));
        aces.push(ace);
    }
    let keep = if aces.iter().any(|a| a.level == "IS_OWNER") {
        None
    } else {
        current_owner
    };
    let aces = settle_owner(info, aces, keep, caller)?;
    ws.acls.insert(acl_key(info.key, id), aces);
    Ok(())
}

/// The GET representation of an object's ACL.
pub fn render(ws: &Workspace, info: &TypeInfo, id: &str) -> Value {
    let mut entries: Vec<(PrincipalKind, String, Vec<Value>)> = Vec::new();
    let mut push = |kind: PrincipalKind, name: &str, perm: Value| match entries
        .iter_mut()
        .find(|(k, n, _)| *k == kind && n == name)
    {
        Some((_, _, perms)) => perms.push(perm),
        None => entries.push((kind, name.to_owned(), vec![perm])),
    };
    for (ace, from) in applicable(ws, info.key, id) {
        let perm = match from {
            None => json!({"permission_level": ace.level, "inherited": false}),
            Some(from) => {
                json!({"permission_level": ace.level, "inherited": true, "inherited_from_object": [from]})
            }
        };
        push(ace.kind, &ace.name, perm);
    }
    let root = match info.key {
        "notebooks" | "directories" | "files" => "/directories/".to_owned(),
        "authorization" => "/authorization/tokens".to_owned(),
        _ => info.id_prefix.to_owned(),
    };
    push(
        PrincipalKind::Group,
        "admins",
        json!({"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": [root]}),
    );
    let list: Vec<Value> = entries
        .into_iter()
        .map(|(kind, name, perms)| {
            let mut map = Map::new();
            map.insert(kind.acl_field().to_owned(), json!(name));
            if let Some(display) = ws.display_name(&name, kind) {
                map.insert("display_name".into(), json!(display));
            }
            map.insert("all_permissions".into(), Value::Array(perms));
            Value::Object(map)
        })
        .collect();
    let object_id = if info.key == "authorization" {
        "authorization/tokens".to_owned()
    } else {
        format!("{}{id}", info.id_prefix)
    };
    json!({"object_id": object_id, "object_type": info.object_type, "access_control_list": list})
}
