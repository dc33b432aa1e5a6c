//! Workspace objects (`/api/2.0/workspace/*`): mkdirs, import (JSON with
//! base64 content, or multipart as the SDK's `upload` sends), export (JSON or
//! `direct_download` raw bytes), get-status, list and delete. Paths may carry
//! the `/Workspace` prefix; it is stripped. The seeded tree (`/Users/<user>`
//! homes, `/Shared`) comes from `seed`.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::acl;
use crate::app::AppState;
use crate::auth::Caller;
use crate::errors::{ApiError, ApiResult};
use crate::http::{
    JsonBody, Params, list_body, now_ms, ok, ok_empty, opt_str, parse_object, req_str,
};
use crate::model::tree::parent_of;
use crate::model::{Workspace, WsObject};

const MAX_CONTENT: usize = 10 * 1024 * 1024;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/workspace/mkdirs", post(mkdirs))
        .route("/api/2.0/workspace/import", post(import))
        .route("/api/2.0/workspace/export", get(export))
        .route("/api/2.0/workspace/get-status", get(status))
        .route("/api/2.0/workspace/list", get(list))
        .route("/api/2.0/workspace/delete", post(delete))
}

/// Strips `/Workspace`, trailing slashes; requires an absolute path.
pub fn normalize(path: &str) -> ApiResult<String> {
    if !path.starts_with('/') {
        return Err(ApiError::invalid(format!("Path ({path}) must be absolute")));
    }
    let stripped = match path.strip_prefix("/Workspace") {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    };
    let trimmed = stripped.trim_end_matches('/');
    if trimmed
        .split('/')
        .skip(1)
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(ApiError::invalid(format!(
            "Path ({path}) is not a valid path"
        )));
    }
    Ok(if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    })
}

/// Creates `path` and its missing parents as directories.
fn mkdirs_in(ws: &mut Workspace, path: &str) -> ApiResult<()> {
    ws.mkdirs(path).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "RESOURCE_ALREADY_EXISTS",
            err.to_string(),
        )
    })
}

fn missing(path: &str) -> ApiError {
    ApiError::not_found(format!("Path ({path}) doesn't exist."))
}

fn info(path: &str, object: &WsObject) -> Value {
    let mut out = json!({
        "object_type": object.object_type,
        "path": path,
        "object_id": object.object_id,
        "resource_id": object.object_id.to_string(),
        "created_at": object.created_at,
        "modified_at": object.modified_at,
    });
    if let Some(map) = out.as_object_mut() {
        if let Some(language) = &object.language {
            map.insert("language".into(), json!(language));
        }
        if object.object_type == "FILE" {
            map.insert("size".into(), json!(object.size));
        }
    }
    out
}

/// Fails unless the caller holds `level` on the object at `path` (or, when it
/// does not exist, on its nearest existing ancestor directory).
fn require(ws: &Workspace, path: &str, caller: &Caller, level: &str) -> ApiResult<()> {
    if caller.admin {
        return Ok(());
    }
    let mut current = Some(path.to_owned());
    while let Some(p) = current {
        if let Some(o) = ws.objects.get(&p) {
            return acl::require(
                ws,
                o.permission_type(),
                &o.object_id.to_string(),
                caller,
                level,
            );
        }
        current = parent_of(&p);
    }
    Err(ApiError::denied(format!(
        "{} cannot access {path}",
        caller.name
    )))
}

async fn mkdirs(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let path = normalize(req_str(&body, "path")?)?;
    ctx.store.write(|ws| {
        require(ws, &path, &caller, "CAN_EDIT")?;
        mkdirs_in(ws, &path)
    })?;
    ok_empty()
}

struct ImportRequest {
    path: String,
    format: String,
    language: Option<String>,
    overwrite: bool,
    content: Vec<u8>,
}

async fn parse_import(request: Request) -> ApiResult<ImportRequest> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let mut form = Multipart::from_request(request, &())
            .await
            .map_err(|err| ApiError::malformed(format!("invalid multipart body: {err}")))?;
        let mut fields: Map<String, Value> = Map::new();
        let mut content = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|err| ApiError::malformed(format!("invalid multipart body: {err}")))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|err| ApiError::malformed(format!("invalid multipart body: {err}")))?;
            if name == "content" {
                content = bytes.to_vec();
            } else {
                fields.insert(name, json!(String::from_utf8_lossy(&bytes)));
            }
        }
        let path = req_str(&fields, "path")?.to_owned();
        Ok(ImportRequest {
            path,
            format: opt_str(&fields, "format")?.unwrap_or("SOURCE").to_owned(),
            language: opt_str(&fields, "language")?.map(str::to_owned),
            overwrite: opt_str(&fields, "overwrite")? == Some("true"),
            content,
        })
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), crate::http::MAX_BODY)
            .await
            .map_err(|err| ApiError::malformed(format!("cannot read request body: {err}")))?;
        let body = parse_object(&bytes)?;
        let content = match opt_str(&body, "content")? {
            Some(c) => base64::engine::general_purpose::STANDARD
                .decode(c)
                .map_err(|_| ApiError::invalid("content must be base64-encoded"))?,
            None => Vec::new(),
        };
        Ok(ImportRequest {
            path: req_str(&body, "path")?.to_owned(),
            format: opt_str(&body, "format")?.unwrap_or("SOURCE").to_owned(),
            language: opt_str(&body, "language")?.map(str::to_owned),
            overwrite: match body.get("overwrite") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s == "true",
                _ => false,
            },
            content,
        })
    }
}

fn language_of(path: &str) -> Option<(&'static str, &str)> {
    [
        (".py", "PYTHON"),
        (".sql", "SQL"),
        (".scala", "SCALA"),
        (".r", "R"),
        (".R", "R"),
    ]
    .into_iter()
    .find_map(|(ext, lang)| path.strip_suffix(ext).map(|stem| (lang, stem)))
}

fn is_notebook_source(content: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&content[..content.len().min(200)]).to_string();
    head.trim_start()
        .starts_with("# Databricks notebook source")
        || head
            .trim_start()
            .starts_with("-- Databricks notebook source")
        || head
            .trim_start()
            .starts_with("// Databricks notebook source")
}

async fn import(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> ApiResult {
    let req = parse_import(request).await?;
    let mut path = normalize(&req.path)?;
    if req.content.len() > MAX_CONTENT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            "File size imported is greater than the maximum allowed size of 10 MB",
        ));
    }
    let (object_type, language) = match req.format.as_str() {
        "SOURCE" => {
            let language = req.language.clone().ok_or_else(|| {
                ApiError::invalid(
                    "The language must be specified when importing with format SOURCE",
                )
            })?;
            if !["PYTHON", "SQL", "SCALA", "R"].contains(&language.as_str()) {
                return Err(ApiError::invalid(format!("Invalid language '{language}'")));
            }
            ("NOTEBOOK", Some(language))
        }
        "AUTO" => match language_of(&path) {
            Some((lang, stem)) if is_notebook_source(&req.content) => {
                let stem = stem.to_owned();
                path = stem;
                ("NOTEBOOK", Some(lang.to_owned()))
            }
            _ => ("FILE", None),
        },
        "RAW" => ("FILE", None),
        "JUPYTER" | "HTML" | "DBC" | "R_MARKDOWN" => (
            "NOTEBOOK",
            Some(req.language.clone().unwrap_or_else(|| {
                if req.format == "R_MARKDOWN" {
                    "R".into()
                } else {
                    "PYTHON".into()
                }
            })),
        ),
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid import format '{other}'"
            )));
        }
    };
    let size = req.content.len();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&req.content);
    ctx.store.write(|ws| {
        let parent = parent_of(&path).ok_or_else(|| ApiError::invalid("Cannot import to /"))?;
        match ws.objects.get(&parent) {
            Some(p) if p.is_dir() => {}
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "The parent ({parent}) is not a folder."
                )));
            }
            None => {
                return Err(ApiError::not_found(format!(
                    "The parent folder ({parent}) does not exist."
                )));
            }
        }
        require(ws, &path, &caller, "CAN_EDIT")?;
        if let Some(existing) = ws.objects.get_mut(&path) {
            if existing.is_dir() {
                return Err(ApiError::invalid(format!("Path ({path}) is a directory.")));
            }
            if !req.overwrite {
                return Err(ApiError::exists(format!("Path ({path}) already exists.")));
            }
            existing.object_type = object_type.to_owned();
            existing.language = language.clone();
            existing.content = encoded.clone();
            existing.size = size;
            existing.modified_at = now_ms();
            return Ok(());
        }
        ws.insert_object(&path, object_type, language.clone(), encoded.clone(), size);
        Ok(())
    })?;
    ok_empty()
}

async fn export(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let path = normalize(params.required("path")?)?;
    let direct = params.bool("direct_download");
    let (content, language) = ctx.store.read(|ws| {
        let object = ws.objects.get(&path).ok_or_else(|| missing(&path))?;
        require(ws, &path, &caller, "CAN_READ")?;
        if object.is_dir() {
            return Err(ApiError::invalid(format!(
                "Path ({path}) is a directory; export it with format DBC"
            )));
        }
        Ok((object.content.clone(), object.language.clone()))
    })?;
    if direct {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap_or_default();
        let mut response = Response::new(Body::from(bytes));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        return Ok(response);
    }
    let file_type = match language.as_deref() {
        Some("PYTHON") => "py",
        Some("SQL") => "sql",
        Some("SCALA") => "scala",
        Some("R") => "r",
        _ => "",
    };
    ok(json!({"content": content, "file_type": file_type}))
}

async fn status(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let path = normalize(params.required("path")?)?;
    let body = ctx.store.read(|ws| {
        let object = ws.objects.get(&path).ok_or_else(|| missing(&path))?;
        require(ws, &path, &caller, "CAN_READ")?;
        Ok::<_, ApiError>(info(&path, object))
    })?;
    ok(body)
}

/// Direct children of a directory, read from the ordered path map.
fn children<'a>(
    ws: &'a Workspace,
    dir: &str,
) -> impl Iterator<Item = (&'a String, &'a WsObject)> + 'a {
    let prefix = if dir == "/" {
        "/".to_owned()
    } else {
        format!("{dir}/")
    };
    let start = prefix.clone();
    let skip = prefix.len();
    ws.objects
        .range(start..)
        .take_while(move |(p, _)| p.starts_with(&prefix))
        .filter(move |(p, _)| {
            let rest = &p[skip..];
            !rest.is_empty() && !rest.contains('/')
        })
}

async fn list(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    let path = normalize(params.required("path")?)?;
    let modified_after = params.int("notebooks_modified_after")?;
    let objects = ctx.store.read(|ws| {
        let object = ws.objects.get(&path).ok_or_else(|| missing(&path))?;
        require(ws, &path, &caller, "CAN_READ")?;
        if !object.is_dir() {
            return Ok(vec![info(&path, object)]);
        }
        Ok::<_, ApiError>(
            children(ws, &path)
                .filter(|(_, o)| {
                    modified_after
                        .is_none_or(|after| o.object_type != "NOTEBOOK" || o.modified_at > after)
                })
                .map(|(p, o)| info(p, o))
                .collect(),
        )
    })?;
    ok(Value::Object(list_body("objects", objects, None)))
}

async fn delete(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let path = normalize(req_str(&body, "path")?)?;
    let recursive = matches!(body.get("recursive"), Some(Value::Bool(true)))
        || body.get("recursive").and_then(Value::as_str) == Some("true");
    ctx.store.write(|ws| {
        let object = ws.objects.get(&path).ok_or_else(|| missing(&path))?;
        require(ws, &path, &caller, "CAN_MANAGE")?;
        if path == "/" || path == "/Users" || path == "/Shared" {
            return Err(ApiError::invalid(format!(
                "Path ({path}) cannot be deleted"
            )));
        }
        let mut doomed = vec![path.clone()];
        if object.is_dir() {
            let prefix = format!("{path}/");
            let below: Vec<String> = ws
                .objects
                .range(prefix.clone()..)
                .take_while(|(p, _)| p.starts_with(&prefix))
                .map(|(p, _)| p.clone())
                .collect();
            if !below.is_empty() && !recursive {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "DIRECTORY_NOT_EMPTY",
                    format!("Folder ({path}) is not empty"),
                ));
            }
            doomed.extend(below);
        }
        for p in doomed {
            if let Some(o) = ws.objects.remove(&p) {
                ws.index.object_paths.remove(&o.object_id);
                acl::forget(ws, o.permission_type(), &o.object_id.to_string());
            }
        }
        Ok(())
    })?;
    ok_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_drop_the_workspace_prefix_and_trailing_slashes() {
        assert_eq!(normalize("/Workspace/Users/a/").expect("ok"), "/Users/a");
        assert_eq!(normalize("/Workspace").expect("ok"), "/");
        assert_eq!(normalize("/WorkspaceX/a").expect("ok"), "/WorkspaceX/a");
        assert!(normalize("relative/path").is_err());
        assert!(normalize("/a/../b").is_err());
    }
}
