//! Secret scopes (API 2.0): unique names, immutable once created; their ACLs
//! (`MANAGE`/`WRITE`/`READ`) are the secrets ACL API, not the permissions API;
//! the secrets they hold are listed by key and put one by one (values are
//! never read back).

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::normalize::{drop_default, drop_empty};
use super::{
    Acl, Desired, KindAdapter, KindSpec, ListedObject, gone, looks_like_uuid, named_object,
    spec_str, str_field, take_array,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::secret::Secret;
use crate::model::{Kind, PermissionEntry, Principal};

pub struct SecretScopeAdapter;

fn live_object(s: Value) -> Option<ListedObject> {
    Some(named_object(str_field(&s, "name")?, s))
}

/// Every scope: the API has no call reading one.
async fn all_scopes(client: &Client) -> Result<Vec<ListedObject>, Error> {
    let resp = client.get("/api/2.0/secrets/scopes/list", &[]).await?;
    Ok(take_array(resp, "scopes")
        .into_iter()
        .filter_map(live_object)
        .collect())
}

/// A secrets-ACL principal is a bare name: guess its kind from its shape.
fn principal(name: &str) -> Principal {
    if name.contains('@') {
        Principal::UserName(name.into())
    } else if looks_like_uuid(name) {
        Principal::ServicePrincipalName(name.into())
    } else {
        Principal::GroupName(name.into())
    }
}

/// The caller's name as the secrets ACL API writes it.
async fn caller(client: &Client) -> Result<Option<String>, Error> {
    let me = client.identity().await?;
    Ok(me
        .get("applicationId")
        .or_else(|| me.get("userName"))
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// The spec's fields, each with the name the list API gives it.
const FIELDS: &[(&str, &str)] = &[
    ("scope", "name"),
    ("scope_backend_type", "backend_type"),
    ("backend_azure_keyvault", "keyvault_metadata"),
];

/// The spec's fields, read from a spec or (`from_live`) from a listed scope.
fn canonical(v: &Value, from_live: bool) -> Value {
    let mut m = Map::new();
    for (spec_field, live_field) in FIELDS {
        let source = if from_live { live_field } else { spec_field };
        if let Some(value) = v.get(*source) {
            m.insert((*spec_field).into(), value.clone());
        }
    }
    drop_default(&mut m, "scope_backend_type", json!("DATABRICKS"));
    drop_empty(&mut m);
    Value::Object(m)
}

impl KindSpec for SecretScopeAdapter {
    /// Before the jobs and clusters that read from it.
    fn apply_rank(&self) -> u8 {
        2
    }

    /// The secrets ACL API, not the permissions API.
    fn has_acl(&self) -> bool {
        true
    }

    /// The creator's own `MANAGE` is implicit, not a declared owner.
    fn owner_in_acl(&self) -> bool {
        false
    }

    fn holds_secrets(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::SecretScope
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "scope")
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live, true)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec, false)
    }
}

#[async_trait]
impl KindAdapter for SecretScopeAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        Ok(all_scopes(client)
            .await?
            .into_iter()
            .filter(|o| names.contains(&o.name))
            .collect())
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        all_scopes(client).await.map(Some)
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        Ok(all_scopes(client).await?.into_iter().find(|o| o.id == id))
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let name = spec_str(desired.spec, "scope", Kind::SecretScope)?.to_string();
        client
            .post_create("/api/2.0/secrets/scopes/create", desired.spec)
            .await?;
        Ok(name)
    }

    async fn update(&self, _client: &Client, id: &str, _desired: Desired<'_>) -> Result<(), Error> {
        Err(Error::Unsupported(format!(
            "secret scope {id} cannot be changed in place; its backend is fixed at creation (delete and recreate it)"
        )))
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        gone(
            client
                .post("/api/2.0/secrets/scopes/delete", &json!({"scope": id}))
                .await,
        )
    }

    async fn secret_keys(&self, client: &Client, id: &str) -> Result<BTreeSet<String>, Error> {
        let resp = client
            .get("/api/2.0/secrets/list", &[("scope", id)])
            .await?;
        Ok(take_array(resp, "secrets")
            .iter()
            .filter_map(|s| str_field(s, "key"))
            .collect())
    }

    async fn put_secret(
        &self,
        client: &Client,
        id: &str,
        key: &str,
        value: &Secret,
    ) -> Result<(), Error> {
        client
            .post(
                "/api/2.0/secrets/put",
                &json!({"scope": id, "key": key, "string_value": value.expose()}),
            )
            .await?;
        Ok(())
    }

    async fn read_permissions(&self, client: &Client, id: &str) -> Result<Acl, Error> {
        let me = caller(client).await?;
        let resp = client
            .get("/api/2.0/secrets/acls/list", &[("scope", id)])
            .await?;
        let mut acl = Acl::default();
        for item in resp
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(p), Some(level)) = (
                item.get("principal").and_then(Value::as_str),
                item.get("permission").and_then(Value::as_str),
            ) else {
                continue;
            };
            if Some(p) == me.as_deref() && level == "MANAGE" {
                // The creator's own MANAGE: kept, like an owner.
                acl.owner = Some(principal(p));
                continue;
            }
            acl.entries.push(PermissionEntry {
                principal: principal(p),
                permission_level: level.to_string(),
            });
        }
        acl.entries.sort();
        Ok(acl)
    }

    async fn write_permissions(
        &self,
        client: &Client,
        id: &str,
        entries: &[PermissionEntry],
    ) -> Result<(), Error> {
        let live = self.read_permissions(client, id).await?;
        let wanted: BTreeSet<&str> = entries.iter().map(|e| e.principal.name()).collect();
        for e in entries {
            if live.entries.contains(e) {
                continue;
            }
            client
                .post(
                    "/api/2.0/secrets/acls/put",
                    &json!({"scope": id, "principal": e.principal.name(), "permission": e.permission_level}),
                )
                .await?;
        }
        for e in &live.entries {
            let name = e.principal.name();
            if !wanted.contains(name) {
                gone(
                    client
                        .post(
                            "/api/2.0/secrets/acls/delete",
                            &json!({"scope": id, "principal": name}),
                        )
                        .await,
                )?;
            }
        }
        Ok(())
    }
}
