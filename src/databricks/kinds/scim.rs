//! The adapter for SCIM 2.0 resources (groups, service principals), which
//! differ only in the data a [`ScimAdapter`] holds: paged lists, get,
//! create, `PATCH` computed from the live resource, delete, and the
//! canonical form of multi-valued attributes (`[{value}]`, sorted).

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::normalize::{drop_default, drop_empty, fields, fields_in, sort_by_field};
use super::{
    Desired, KindAdapter, KindSpec, ListedObject, created_id, found, gone, id_string, str_field,
};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_scim;
use crate::model::Kind;

/// One SCIM resource type. Display names are unique, so they name objects.
pub struct ScimAdapter {
    pub kind: Kind,
    /// The endpoint below `/api/2.0/preview/scim/v2` (`Groups`, …).
    pub resource: &'static str,
    /// The core schema URN a create body declares.
    pub schema: &'static str,
    /// Single-valued attributes Mortar manages, replaced when they differ.
    pub scalars: &'static [&'static str],
    /// The attribute holding the id the server assigns on create and other
    /// objects name the principal by (`applicationId`), if any.
    pub application_id: Option<&'static str>,
    /// Display names the workspace gives its own objects (`admins`, `users`).
    pub builtin: &'static [&'static str],
}

const BASE: &str = "/api/2.0/preview/scim/v2";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Multi-valued attributes Mortar manages; compared by `value`.
const MULTI: &[&str] = &["members", "entitlements", "roles"];

fn path(resource: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{BASE}/{resource}/{id}"),
        None => format!("{BASE}/{resource}"),
    }
}

fn live_object(r: Value) -> Option<ListedObject> {
    Some(ListedObject {
        id: id_string(r.get("id"))?,
        name: str_field(&r, "displayName").unwrap_or_default(),
        owner: None,
        raw: r,
    })
}

/// The `value`s of a multi-valued attribute.
fn values(v: &Value, attr: &str) -> BTreeSet<String> {
    v.get(attr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Keeps `scalars` and the managed multi-valued attributes, reduced to
/// sorted `[{value}]`; drops empties and `active: true`.
fn canonical(v: &Value, scalars: &[&str]) -> Value {
    let mut all: Vec<&str> = scalars.to_vec();
    all.extend_from_slice(MULTI);
    let mut r = fields_in(v, &all);
    for attr in MULTI {
        if r.contains_key(*attr) {
            let mut list: Vec<Value> = values(v, attr)
                .into_iter()
                .map(|value| json!({ "value": value }))
                .collect();
            sort_by_field(&mut list, "value");
            r.insert((*attr).to_string(), Value::Array(list));
        }
    }
    drop_default(&mut r, "active", json!(true));
    drop_empty(&mut r);
    Value::Object(r)
}

async fn list(
    client: &Client,
    resource: &str,
    names: &BTreeSet<String>,
) -> Result<Vec<ListedObject>, Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let all = if names.len() <= 5 {
        // A filter per name is cheaper than reading every principal.
        let mut out = Vec::new();
        for name in names {
            let filter = format!("displayName eq {}", scim_string(name));
            out.extend(list_scim(client, &path(resource, None), Some(&filter), 100).await?);
        }
        out
    } else {
        list_scim(client, &path(resource, None), None, 100).await?
    };
    Ok(all
        .into_iter()
        .filter_map(live_object)
        .filter(|o| names.contains(&o.name))
        .collect())
}

async fn get(client: &Client, resource: &str, id: &str) -> Result<Option<ListedObject>, Error> {
    Ok(found(client.get(&path(resource, Some(id)), &[]).await)?.and_then(live_object))
}

async fn create(
    client: &Client,
    resource: &str,
    schema: &str,
    spec: &Value,
) -> Result<String, Error> {
    let mut body = fields(spec);
    body.entry("schemas").or_insert_with(|| json!([schema]));
    let collection = path(resource, None);
    let resp = client
        .post_create(&collection, &Value::Object(body))
        .await?;
    created_id(&resp, "id", &collection)
}

/// The PATCH operations turning `live` into `desired`: `replace` for changed
/// `scalars`, `add`/`remove` per value of the multi-valued attributes.
fn patch_operations(live: &Value, desired: &Value, scalars: &[&str]) -> Vec<Value> {
    let mut ops = Vec::new();
    let mut replace = Map::new();
    for attr in scalars {
        if let Some(want) = desired.get(*attr)
            && live.get(*attr) != Some(want)
        {
            replace.insert((*attr).to_string(), want.clone());
        }
    }
    if !replace.is_empty() {
        ops.push(json!({"op": "replace", "value": replace}));
    }
    for attr in MULTI {
        let have = values(live, attr);
        let want = values(desired, attr);
        let add: Vec<Value> = want
            .difference(&have)
            .map(|v| json!({ "value": v }))
            .collect();
        if !add.is_empty() {
            ops.push(json!({"op": "add", "path": attr, "value": add}));
        }
        for v in have.difference(&want) {
            ops.push(
                json!({"op": "remove", "path": format!("{attr}[value eq {}]", scim_string(v))}),
            );
        }
    }
    ops
}

async fn update(
    client: &Client,
    resource: &str,
    id: &str,
    spec: &Value,
    scalars: &[&str],
) -> Result<(), Error> {
    let p = path(resource, Some(id));
    let live = client.get(&p, &[]).await?;
    let ops = patch_operations(&live, spec, scalars);
    if ops.is_empty() {
        return Ok(());
    }
    client
        .patch(&p, &json!({"schemas": [PATCH_OP], "Operations": ops}))
        .await?;
    Ok(())
}

async fn delete(client: &Client, resource: &str, id: &str) -> Result<(), Error> {
    gone(client.delete(&path(resource, Some(id)), &[]).await)
}

impl KindSpec for ScimAdapter {
    /// Identities before what names them.
    fn apply_rank(&self) -> u8 {
        1
    }

    /// SCIM resources are identities: ACLs, grants and memberships name them.
    fn is_principal(&self) -> bool {
        true
    }

    fn application_id(&self, live: &Value) -> Option<String> {
        str_field(live, self.application_id?)
    }

    fn reads_back_ids_after_create(&self) -> bool {
        self.application_id.is_some()
    }

    fn kind(&self) -> Kind {
        self.kind
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        str_field(spec, "displayName")
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live, self.scalars)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec, self.scalars)
    }

    /// Groups list their members by id, groups and service principals alike.
    fn referred_to_as(&self) -> &'static [&'static str] {
        &["value"]
    }

    fn made_by_databricks(&self, listed: &ListedObject) -> bool {
        self.builtin.contains(&listed.name.as_str())
    }
}

#[async_trait]
impl KindAdapter for ScimAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        list(client, self.resource, names).await
    }

    async fn list_all(&self, client: &Client) -> Result<Option<Vec<ListedObject>>, Error> {
        let all = list_scim(client, &path(self.resource, None), None, 100).await?;
        Ok(Some(all.into_iter().filter_map(live_object).collect()))
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        get(client, self.resource, id).await
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        create(client, self.resource, self.schema, desired.spec).await
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        update(client, self.resource, id, desired.spec, self.scalars).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        delete(client, self.resource, id).await
    }
}

/// A SCIM filter string literal (RFC 7644 §3.4.2.2 uses JSON string
/// syntax): quoted, with `\\` and `"` escaped, so a name can never end the
/// literal early and widen the filter.
fn scim_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_literals_cannot_be_closed_early() {
        assert_eq!(scim_string("eng"), r#""eng""#);
        assert_eq!(
            scim_string(r#"x" or displayName pr or "\"#),
            r#""x\" or displayName pr or \"\\""#
        );
    }

    #[test]
    fn patch_adds_and_removes_by_value() {
        let live = json!({"displayName": "eng", "members": [{"value": "1", "display": "a"}, {"value": "2"}],
            "entitlements": [{"value": "workspace-access"}]});
        let want = json!({"displayName": "eng", "members": [{"value": "2"}, {"value": "3"}]});
        let ops = patch_operations(&live, &want, &["displayName"]);
        assert_eq!(
            ops,
            vec![
                json!({"op": "add", "path": "members", "value": [{"value": "3"}]}),
                json!({"op": "remove", "path": "members[value eq \"1\"]"}),
                json!({"op": "remove", "path": "entitlements[value eq \"workspace-access\"]"}),
            ]
        );
        assert!(patch_operations(&live, &live, &["displayName"]).is_empty());
    }

    #[test]
    fn canonical_form_drops_server_detail() {
        let live = json!({"id": "9", "schemas": ["x"], "meta": {"resourceType": "Group"}, "displayName": "eng",
            "members": [{"value": "2", "display": "b", "$ref": "Users/2"}, {"value": "1"}], "groups": [], "roles": []});
        assert_eq!(
            canonical(&live, &["displayName", "externalId"]),
            json!({"displayName": "eng", "members": [{"value": "1"}, {"value": "2"}]})
        );
    }
}
