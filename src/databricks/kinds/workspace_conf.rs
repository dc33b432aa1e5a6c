//! Workspace settings (`/api/2.0/workspace-conf`): the spec is a map of
//! setting → value. The object's id is its sorted, comma-joined keys, so a
//! read knows which settings to ask for. Settings cannot be deleted:
//! deleting the resource stops managing them and leaves their values.

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Desired, KindAdapter, KindSpec, ListedObject, found, named_object};
use crate::databricks::client::Client;
use crate::databricks::error::Error;
use crate::model::Kind;

pub struct WorkspaceConfAdapter;

const PATH: &str = "/api/2.0/workspace-conf";

/// The documented settings an import reads (the API has no list of keys).
pub const DOCUMENTED_SETTINGS: &[&str] = &[
    "enableDbfsFileBrowser",
    "enableDeprecatedGlobalInitScripts",
    "enableExportNotebook",
    "enableIpAccessLists",
    "enableNotebookTableClipboard",
    "enableResultsDownloading",
    "enableTokensConfig",
    "enableUploadDataUis",
    "enableVerboseAuditLogs",
    "enableWebTerminal",
    "enforceUserIsolation",
    "maxTokenLifetimeDays",
    "storeInteractiveNotebookResultsInCustomerAccount",
];

/// Values as the API returns them: strings.
fn canonical(v: &Value) -> Value {
    let mut out = Map::new();
    for (k, val) in v.as_object().into_iter().flatten() {
        let s = match val {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(k.clone(), Value::String(s));
    }
    Value::Object(out)
}

fn keys_id(spec: &Value) -> Option<String> {
    let keys: BTreeSet<&String> = spec.as_object()?.keys().collect();
    if keys.is_empty() {
        return None;
    }
    Some(keys.into_iter().cloned().collect::<Vec<_>>().join(","))
}

async fn read(client: &Client, id: &str) -> Result<ListedObject, Error> {
    let raw = client.get(PATH, &[("keys", id)]).await?;
    let raw = if raw.is_null() {
        Value::Object(Map::new())
    } else {
        raw
    };
    Ok(named_object(id.to_string(), raw))
}

impl KindSpec for WorkspaceConfAdapter {
    /// Settings first: everything else runs in the workspace they shape.
    fn apply_rank(&self) -> u8 {
        0
    }

    /// Settings always exist: nothing to create or own, only to take over.
    fn adopt_always(&self) -> bool {
        true
    }

    fn kind(&self) -> Kind {
        Kind::WorkspaceConf
    }

    fn name_of(&self, spec: &Value) -> Option<String> {
        keys_id(spec)
    }

    fn normalize(&self, live: &Value) -> Value {
        canonical(live)
    }

    fn normalize_spec(&self, spec: &Value) -> Value {
        canonical(spec)
    }
}

#[async_trait]
impl KindAdapter for WorkspaceConfAdapter {
    async fn list(
        &self,
        client: &Client,
        names: &BTreeSet<String>,
    ) -> Result<Vec<ListedObject>, Error> {
        let mut out = Vec::new();
        for id in names {
            out.push(read(client, id).await?);
        }
        Ok(out)
    }

    async fn get(&self, client: &Client, id: &str) -> Result<Option<ListedObject>, Error> {
        found(read(client, id).await)
    }

    async fn create_once(&self, client: &Client, desired: Desired<'_>) -> Result<String, Error> {
        let id = keys_id(desired.spec).ok_or_else(|| {
            Error::Unsupported("WorkspaceConf spec needs at least one setting".into())
        })?;
        client.patch(PATH, &canonical(desired.spec)).await?;
        Ok(id)
    }

    async fn update(&self, client: &Client, _id: &str, desired: Desired<'_>) -> Result<(), Error> {
        client.patch(PATH, &canonical(desired.spec)).await?;
        Ok(())
    }

    async fn delete(&self, _client: &Client, _id: &str) -> Result<(), Error> {
        Ok(())
    }
}
