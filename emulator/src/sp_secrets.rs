//! Workspace-level OAuth secrets of service principals
//! (`/api/2.0/accounts/servicePrincipals/{service_principal_id}/credentials/secrets`,
//! the SDK's `service_principal_secrets_proxy`): create (the value is shown
//! once), list (paged, without values) and delete, for workspace admins. The
//! path id is the service principal's numeric SCIM id, not its application
//! id. Only SHA-256 hashes of values are stored; `/oidc/v1/token` accepts a
//! live secret as `client_secret` with the application id as `client_id`.

use axum::extract::{Path, State};
use axum::routing::{delete, post};
use axum::{Extension, Router};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::auth::{Caller, random_hex, token_hash};
use crate::errors::{ApiError, ApiResult};
use crate::http::{JsonBody, Params, first_page, list_body, now_ms, ok, ok_empty, opt_str};
use crate::model::{SpSecret, Workspace};

/// Lifetime of a secret created without `lifetime`: 730 days.
const DEFAULT_LIFETIME_SECS: i64 = 730 * 86_400;
/// Longest lifetime accepted (keeps expiry arithmetic in range).
const MAX_LIFETIME_SECS: f64 = 100.0 * 365.0 * 86_400.0;
/// Entries per list page when `page_size` is not given.
const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest page served.
const MAX_PAGE_SIZE: usize = 1000;

const COLLECTION: &str =
    "/api/2.0/accounts/servicePrincipals/{service_principal_id}/credentials/secrets";

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create).get(list))
        .route(&format!("{COLLECTION}/{{secret_id}}"), delete(remove))
}

fn no_sp(sp_id: &str) -> ApiError {
    ApiError::not_found(format!("Service principal {sp_id} does not exist."))
}

fn no_secret(secret_id: &str) -> ApiError {
    ApiError::not_found(format!("Secret {secret_id} does not exist."))
}

/// Fails unless a service principal has SCIM id `sp_id`.
fn known_sp(ws: &Workspace, sp_id: &str) -> ApiResult<()> {
    if ws.service_principals.contains_key(sp_id) {
        Ok(())
    } else {
        Err(no_sp(sp_id))
    }
}

/// Parses a lifetime in the API's duration form (`"3600s"`; a bare number of
/// seconds is taken too) into milliseconds.
fn parse_lifetime(text: &str) -> ApiResult<i64> {
    let invalid = || {
        ApiError::invalid(format!(
            "Invalid lifetime '{text}': expected a positive number of seconds such as \"3600s\""
        ))
    };
    let number = text.trim().strip_suffix('s').unwrap_or(text.trim());
    let secs: f64 = number.parse().map_err(|_| invalid())?;
    if !secs.is_finite() || secs <= 0.0 || secs > MAX_LIFETIME_SECS {
        return Err(invalid());
    }
    Ok((secs * 1000.0).round() as i64)
}

/// The optional `scopes` of a create request.
fn parse_scopes(body: &Map<String, Value>) -> ApiResult<Vec<String>> {
    match body.get("scopes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::invalid("scopes must be non-empty strings"))
            })
            .collect(),
        Some(_) => Err(ApiError::invalid("scopes must be an array of strings")),
    }
}

/// What a create request asks for.
struct NewSecret {
    lifetime_ms: i64,
    scopes: Vec<String>,
}

impl NewSecret {
    fn parse(body: &Map<String, Value>) -> ApiResult<Self> {
        let lifetime_ms = match opt_str(body, "lifetime")? {
            Some(text) => parse_lifetime(text)?,
            None => DEFAULT_LIFETIME_SECS * 1000,
        };
        Ok(NewSecret {
            lifetime_ms,
            scopes: parse_scopes(body)?,
        })
    }

    /// Stores the hash of `value` as a new secret of `sp_id`.
    fn store(self, ws: &mut Workspace, sp_id: &str, value: &str) -> SpSecret {
        let now = now_ms();
        let record = SpSecret {
            id: random_hex(32),
            sp_id: sp_id.to_owned(),
            seq: ws.next_id(),
            hash: token_hash(value),
            scopes: self.scopes,
            create_time: now,
            expire_time: Some(now.saturating_add(self.lifetime_ms)),
        };
        ws.sp_secrets.insert(record.id.clone(), record.clone());
        record
    }
}

async fn create(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sp_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    caller.require_admin()?;
    let request = NewSecret::parse(&body)?;
    let value = format!("dose{}", random_hex(16));
    let record = ctx.store.write(|ws| {
        known_sp(ws, &sp_id)?;
        Ok(request.store(ws, &sp_id, &value))
    })?;
    tracing::debug!(sp_id = %sp_id, secret_id = %record.id, "service principal secret created");
    let mut answer = record.info();
    answer.insert("secret".into(), Value::String(value));
    ok(Value::Object(answer))
}

/// `page_size` (default 100, at most 1000) and the creation order to start
/// after (`page_token`).
fn page_request(params: &Params) -> ApiResult<(usize, u64)> {
    let size = match params.int("page_size")? {
        Some(n) if n > 0 => usize::try_from(n)
            .unwrap_or(MAX_PAGE_SIZE)
            .min(MAX_PAGE_SIZE),
        _ => DEFAULT_PAGE_SIZE,
    };
    let after = match params.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => token
            .parse::<u64>()
            .map_err(|_| ApiError::invalid(format!("Invalid page_token '{token}'")))?,
        None => 0,
    };
    Ok((size, after))
}

async fn list(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sp_id): Path<String>,
    params: Params,
) -> ApiResult {
    caller.require_admin()?;
    let (size, after) = page_request(&params)?;
    let body = ctx.store.read(|ws| {
        known_sp(ws, &sp_id)?;
        let secrets = ws
            .sp_secrets_of(&sp_id)
            .into_iter()
            .filter(|s| s.seq > after);
        let (page, more) = first_page(secrets, size);
        let next = more
            .then(|| page.last().map(|s| s.seq.to_string()))
            .flatten();
        let infos = page.iter().map(|s| Value::Object(s.info())).collect();
        Ok::<_, ApiError>(list_body("secrets", infos, next))
    })?;
    ok(Value::Object(body))
}

async fn remove(
    State(ctx): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((sp_id, secret_id)): Path<(String, String)>,
) -> ApiResult {
    caller.require_admin()?;
    ctx.store.write(|ws| {
        known_sp(ws, &sp_id)?;
        match ws.sp_secrets.get(&secret_id) {
            Some(secret) if secret.sp_id == sp_id => {
                ws.sp_secrets.remove(&secret_id);
                Ok(())
            }
            _ => Err(no_secret(&secret_id)),
        }
    })?;
    tracing::debug!(sp_id = %sp_id, secret_id = %secret_id, "service principal secret deleted");
    ok_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_seconds_with_or_without_the_unit() {
        assert_eq!(parse_lifetime("3600s").unwrap(), 3_600_000);
        assert_eq!(parse_lifetime("86400").unwrap(), 86_400_000);
        assert_eq!(parse_lifetime("1.5s").unwrap(), 1_500);
        for bad in ["", "s", "0s", "-5s", "1h", "NaNs", "1e300s"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_must_be_strings() {
        let body = |v: Value| match v {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        assert_eq!(
            parse_scopes(&body(serde_json::json!({"scopes": ["sql", "all-apis"]}))).unwrap(),
            ["sql", "all-apis"]
        );
        assert!(
            parse_scopes(&body(serde_json::json!({})))
                .unwrap()
                .is_empty()
        );
        assert!(parse_scopes(&body(serde_json::json!({"scopes": [1]}))).is_err());
        assert!(parse_scopes(&body(serde_json::json!({"scopes": "sql"}))).is_err());
    }

    #[test]
    fn a_stored_secret_keeps_only_the_hash() {
        let mut ws = Workspace::default();
        let request = NewSecret {
            lifetime_ms: 60_000,
            scopes: Vec::new(),
        };
        let record = request.store(&mut ws, "71", "dose-value");
        assert_eq!(record.hash, token_hash("dose-value"));
        assert_eq!(record.id.len(), 64);
        let text = serde_json::to_string(&ws).unwrap();
        assert!(!text.contains("dose-value"));
        assert_eq!(
            record.expire_time.unwrap() - record.create_time,
            60_000,
            "expiry follows the lifetime"
        );
    }

    #[test]
    fn page_requests_default_and_clamp() {
        let (size, after) = page_request(&Params::parse("")).unwrap();
        assert_eq!((size, after), (DEFAULT_PAGE_SIZE, 0));
        let (size, after) = page_request(&Params::parse("page_size=5000&page_token=7")).unwrap();
        assert_eq!((size, after), (MAX_PAGE_SIZE, 7));
        assert!(page_request(&Params::parse("page_token=abc")).is_err());
    }
}
