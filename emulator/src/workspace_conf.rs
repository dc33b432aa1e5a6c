//! Workspace configuration (`/api/2.0/workspace-conf`): GET by `keys`,
//! PATCH of known keys (admins only). Values are strings; boolean keys take
//! `"true"`/`"false"`, numeric keys digits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, ok};

/// Known keys: (name, kind, default). Kind `b` boolean, `n` number, `s` string.
const KEYS: &[(&str, char, Option<&str>)] = &[
    ("enableTokensConfig", 'b', Some("true")),
    ("maxTokenLifetimeDays", 'n', None),
    ("enableIpAccessLists", 'b', Some("false")),
    ("enableDeprecatedGlobalInitScripts", 'b', Some("false")),
    (
        "enableDeprecatedClusterNamedInitScripts",
        'b',
        Some("false"),
    ),
    ("enableWebTerminal", 'b', Some("true")),
    ("enableDbfsFileBrowser", 'b', Some("false")),
    ("enableExportNotebook", 'b', Some("true")),
    ("enableNotebookTableClipboard", 'b', Some("true")),
    ("enableResultsDownloading", 'b', Some("true")),
    ("enableUploadDataUis", 'b', Some("true")),
    ("enableVerboseAuditLogs", 'b', Some("false")),
    ("enforceUserIsolation", 'b', Some("false")),
    ("enableWorkspaceFilesystem", 'b', Some("true")),
    ("enableJobsEmailsV2", 'b', Some("true")),
    ("enableProjectTypeInWorkspace", 'b', Some("true")),
    (
        "storeInteractiveNotebookResultsInCustomerAccount",
        'b',
        Some("false"),
    ),
    ("mlflowRunArtifactDownloadEnabled", 'b', Some("true")),
    ("enableEnforceImdsV2", 'b', Some("false")),
    ("enableGp3", 'b', Some("true")),
    ("enableHlsRuntime", 'b', Some("false")),
    ("enableDcs", 'b', Some("false")),
    (
        "enableLibraryAndInitScriptOnSharedCluster",
        'b',
        Some("true"),
    ),
    ("jobsListBackendPaginationEnabled", 'b', Some("true")),
    ("projectsAllowList", 's', None),
    ("reposIpynbResultsExportPermissions", 's', None),
    ("customerApprovedWSLoginExpirationTime", 's', None),
];

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/workspace-conf", get(read).patch(update))
}

fn known(key: &str) -> Option<&'static (&'static str, char, Option<&'static str>)> {
    KEYS.iter().find(|(k, _, _)| *k == key)
}

async fn read(State(ctx): State<AppState>, params: Params) -> ApiResult {
    let keys: Vec<String> = params
        .required("keys")?
        .split(',')
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect();
    let unknown: Vec<&String> = keys.iter().filter(|k| known(k).is_none()).collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(format!("Invalid keys: {unknown:?}")));
    }
    let values: Map<String, Value> = ctx.store.read(|ws| {
        keys.iter()
            .map(|k| {
                let value = ws
                    .conf
                    .get(k)
                    .cloned()
                    .or_else(|| known(k).and_then(|(_, _, d)| d.map(str::to_owned)));
                (k.clone(), value.map_or(Value::Null, Value::String))
            })
            .collect()
    });
    ok(Value::Object(values))
}

async fn update(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let mut changes = Vec::new();
    for (key, value) in &body {
        let (_, kind, _) =
            known(key).ok_or_else(|| ApiError::invalid(format!("Invalid keys: [\"{key}\"]")))?;
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            _ => return Err(ApiError::invalid(format!("Invalid value for {key}"))),
        };
        let valid = match kind {
            'b' => text == "true" || text == "false",
            'n' => text.is_empty() || text.parse::<u64>().is_ok(),
            _ => true,
        };
        if !valid {
            return Err(ApiError::invalid(format!(
                "Invalid value '{text}' for {key}; expected {}",
                if *kind == 'b' {
                    "true or false"
                } else {
                    "a number"
                }
            )));
        }
        changes.push((key.clone(), text));
    }
    ctx.store.write(|ws| {
        for (key, value) in changes {
            if value.is_empty() {
                ws.conf.remove(&key);
            } else {
                ws.conf.insert(key, value);
            }
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
