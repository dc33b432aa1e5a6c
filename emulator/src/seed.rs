//! Seeding from the start configuration: the `admins` and `users` groups, the
//! configured users and service principals, `/Shared` and a home directory
//! per identity with its owner's ACL. Used at start, on reset and on restore.

use serde_json::json;

use crate::config::EmulatorConfig;
use crate::model::acl::acl_key;
use crate::model::{Ace, PrincipalKind, Workspace};

/// A fresh workspace seeded with the configured identities.
pub fn seeded_workspace(config: &EmulatorConfig, mut ws: Workspace) -> Workspace {
    seed_identities(&mut ws, config);
    seed_tree(&mut ws, config);
    ws.reindex();
    ws
}

/// Creates the `admins`/`users` groups and the configured identities.
pub fn seed_identities(ws: &mut Workspace, config: &EmulatorConfig) {
    ws.reindex_identities();
    let admins = ws.ensure_group("admins");
    let users = ws.ensure_group("users");
    let mut people: Vec<(String, bool)> = vec![(config.admin_user.clone(), true)];
    people.extend(config.users.iter().map(|u| (u.user_name.clone(), u.admin)));
    for (name, admin) in people {
        let id = match ws.index.user_ids.get(&name.to_lowercase()) {
            Some(id) => id.clone(),
            None => {
                let id = ws.new_scim_id();
                ws.users.insert(
                    id.clone(),
                    json!({
                        "id": id, "userName": name, "displayName": name, "active": true,
                        "emails": [{"value": name, "type": "work", "primary": true}],
                        "entitlements": [], "roles": [],
                    }),
                );
                ws.index.user_ids.insert(name.to_lowercase(), id.clone());
                id
            }
        };
        ws.add_member(&users, &id);
        if admin {
            ws.add_member(&admins, &id);
        }
    }
    let mut sps: Vec<(String, String, bool)> = config
        .oauth_clients
        .iter()
        .map(|c| {
            let display = c
                .service_principal
                .clone()
                .unwrap_or_else(|| c.client_id.clone());
            (c.client_id.clone(), display, c.admin)
        })
        .collect();
    for policy in &config.federation_policies {
        if let Some(app) = &policy.service_principal
            && !sps.iter().any(|(id, _, _)| id == app)
        {
            sps.push((app.clone(), app.clone(), true));
        }
    }
    for (app, display, admin) in sps {
        let id = match ws.index.sp_ids.get(&app) {
            Some(id) => id.clone(),
            None => {
                let id = ws.new_scim_id();
                ws.service_principals.insert(
                    id.clone(),
                    json!({
                        "id": id, "applicationId": app, "displayName": display, "active": true,
                        "entitlements": [], "roles": [],
                    }),
                );
                ws.index.sp_ids.insert(app.clone(), id.clone());
                id
            }
        };
        ws.add_member(&users, &id);
        if admin {
            ws.add_member(&admins, &id);
        }
    }
}

/// Creates `/`, `/Users`, `/Shared` and a home per configured identity.
pub fn seed_tree(ws: &mut Workspace, config: &EmulatorConfig) {
    let mut homes: Vec<(String, PrincipalKind)> =
        vec![(config.admin_user.clone(), PrincipalKind::User)];
    homes.extend(
        config
            .users
            .iter()
            .map(|u| (u.user_name.clone(), PrincipalKind::User)),
    );
    homes.extend(
        config
            .oauth_clients
            .iter()
            .map(|c| (c.client_id.clone(), PrincipalKind::ServicePrincipal)),
    );
    let _ = ws.mkdirs("/Shared");
    let shared = ws.objects.get("/Shared").map(|o| o.object_id);
    if let Some(id) = shared {
        ws.acls
            .entry(acl_key("directories", &id.to_string()))
            .or_insert_with(|| {
                vec![Ace {
                    kind: PrincipalKind::Group,
                    name: "users".into(),
                    level: "CAN_MANAGE".into(),
                }]
            });
    }
    for (name, kind) in homes {
        let home = format!("/Users/{name}");
        if ws.mkdirs(&home).is_err() {
            continue;
        }
        if let Some(id) = ws.objects.get(&home).map(|o| o.object_id) {
            ws.acls
                .entry(acl_key("directories", &id.to_string()))
                .or_insert_with(|| {
                    vec![Ace {
                        kind,
                        name: name.clone(),
                        level: "CAN_MANAGE".into(),
                    }]
                });
        }
    }
}
