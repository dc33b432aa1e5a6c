//! Unity Catalog grants on one securable, authoritative: the spec is
//! `{securable_type, full_name, privilege_assignments: [{principal,
//! privileges}]}`; writes are one `PATCH` whose `add`/`remove` lists are
//! computed from the live grants. Creating and updating are the same
//! (idempotent) operation; deleting revokes every direct grant.

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Desired, KindAdapter, KindSpec, ListedObject, found, named_object, read_each};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::databricks::pagination::list_token_paged;
use crate::model::Kind;

pub struct GrantsAdapter;

const BASE: &str = "/api/2.1/unity-catalog/permissions";

/// principal → privileges.
type Grants = BTreeMap<String, BTreeSet<String>>;

fn grants_of(v: &Value) -> Grants {
    let mut out = Grants::new();
    for a in v
        .get("privilege_assignments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(p) = a.get("principal").and_then(Value::as_str) else {
            continue;
        };
        let privs = a
            .get("privileges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| {
                x.as_str()
                    .or_else(|| x.get("privilege").and_then(Value::as_str))
            })
            .map(|s| s.to_ascii_uppercase());
        out.entry(p.to_string()).or_default().extend(privs);
    }
    out.retain(|_, privs| !privs.is_empty());
    out
}

/// `catalog/main` from `{securable_type: CATALOG, full_name: main}`.
fn id_of(spec: &Value) -> Option<String> {
    let t = spec.get("securable_type").and_then(Value::as_str)?;
    let n = spec.get("full_name").and_then(Value::as_str)?;
    Some(format!("{}/{n}", t.to_ascii_lowercase()))
}

fn split_id(id: &str) -> Result<(&str, &str), Error> {
    id.split_once('/')
        .ok_or_else(|| Error::Unsupported(format!("grants id `{id}` is not `type/full_name`")))
}

fn canonical(securable_type: &str, full_name: &str, grants: &Grants) -> Value {
    let assignments: Vec<Value> = grants
        .iter()
        .map(|(p, privs)| json!({"principal": p, "privileges": privs.iter().collect::<Vec<_>>()}))
        .collect();
    let mut v =
        json!({"securable_type": securable_type.to_ascii_lowercase(), "full_name": full_name});
    if !assignments.is_empty() {
        v["privilege_assignments"] = Value::Array(assignments);
    }
    v
}

/// The `changes` of a PATCH turning `live` into `want`.
pub fn changes(live: &Grants, want: &Grants) -> Vec<Value> {
    let principals: BTreeSet<&String> = live.keys().chain(want.keys()).collect();
    let empty = BTreeSet::new();
    let mut out = Vec::new();
    for p in principals {
        let have = live.get(p).unwrap_or(&empty);
        let need = want.get(p).unwrap_or(&empty);
        let add: Vec<&String> = need.difference(have).collect();
        let remove: Vec<&String> = have.difference(need).collect();
        if add.is_empty() && remove.is_empty() {
            continue;
        }
        let mut change = json!({ "principal": p });
        if !add.is_empty() {
            change["add"] = json!(add);
        }
        if !remove.is_empty() {
            change["remove"] = json!(remove);
        }
        out.push(change);
    }
    out
}

async fn read(client: &Client, id: &str) -> Result<ListedObject, Error> {
    let (t, name) = split_id(id)?;
    let assignments = list_token_paged(
        client,
        &format!("{BASE}/{t}/{name}"),
        &[],
        "privilege_assignments",
    )
    .await?;
    let raw = json!({"securable_type": t, "full_name": name, "privilege_assignments": assignments});
    Ok(named_object(id.to_string(), raw))
}

/// The grants on a securable; `None` when it has no direct grants (or does
/// not exist).
async fn existing(client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
    Ok(found(read(client, id).await)?.filter(|o| !grants_of(&o.raw).is_empty()))
}

async fn apply(client: &Client, id: &str, want: &Grants) -> Result<(), Error> {
    let (t, name) = split_id(id)?;
    let live = grants_of(&read(client, id).await?.raw);
    let changes = changes(&live, want);
    if changes.is_empty() {
        return Ok(());
    }
    client
        .patch(
            &format!("{BASE}/{t}/{name}"),
            &json!({ "changes": changes }),
        )
        .await?;
    Ok(())
}

impl KindSpec for GrantsAdapter {
    /// After the securables it grants on.
    fn apply_rank(&self) -> u8 {
        4
    }

    fn kind(&self) -> Kind {
        Kind::Grants
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        id_of(spec)
    }

    fn normalize(&self, live: &Value) -> Value {
        let t = live
            .get("securable_type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let n = live.get("full_name").and_then(Value::as_str).unwrap_or("");
        canonical(t, n, &grants_of(live))
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        self.normalize(spec)
    }
}

#[async_trait]
impl KindAdapter for GrantsAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        read_each(names, |id| existing(client, id)).await
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        existing(client, id).await
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let id = id_of(desired.spec).ok_or_else(|| {
            Error::Unsupported("Grants spec needs `securable_type` and `full_name`".into())
        })?;
        apply(client, &id, &grants_of(desired.spec)).await?;
        Ok(id)
    }

    async fn update(&self, client: &Client, id: &str, desired: Desired<'_>) -> Result<(), Error> {
        apply(client, id, &grants_of(desired.spec)).await
    }

    async fn delete(&self, client: &Client, id: &str) -> Result<(), Error> {
        match apply(client, id, &Grants::new()).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_add_and_remove_per_principal() {
        let live = grants_of(&json!({"privilege_assignments": [
            {"principal": "eng", "privileges": ["USE_CATALOG", "SELECT"]},
            {"principal": "old", "privileges": ["USE_CATALOG"]}]}));
        let want = grants_of(&json!({"privilege_assignments": [
            {"principal": "eng", "privileges": ["use_catalog", "MODIFY"]},
            {"principal": "new", "privileges": ["USE_CATALOG"]}]}));
        assert_eq!(
            changes(&live, &want),
            vec![
                json!({"principal": "eng", "add": ["MODIFY"], "remove": ["SELECT"]}),
                json!({"principal": "new", "add": ["USE_CATALOG"]}),
                json!({"principal": "old", "remove": ["USE_CATALOG"]}),
            ]
        );
        assert!(changes(&want, &want).is_empty());
    }

    #[test]
    fn privileges_are_sorted_sets() {
        let spec = json!({"securable_type": "CATALOG", "full_name": "main",
            "privilege_assignments": [{"principal": "b", "privileges": ["SELECT", "USE_CATALOG"]}, {"principal": "a", "privileges": ["USE_CATALOG"]}]});
        let live = json!({"securable_type": "catalog", "full_name": "main",
            "privilege_assignments": [{"principal": "a", "privileges": ["USE_CATALOG"]}, {"principal": "b", "privileges": ["USE_CATALOG", "SELECT"]}]});
        assert_eq!(
            GrantsAdapter.normalize(&live),
            GrantsAdapter.normalize_spec(&spec)
        );
    }
}
