//! Unauthenticated discovery documents and the OAuth token endpoint:
//! client credentials (HTTP Basic or form fields; configured OAuth clients
//! or service principal secrets created through the API) and RFC 8693 token
//! exchange (verified by [`crate::federation`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::json;

use crate::app::{AppState, Ctx};
use crate::auth::token_hash;
use crate::errors::{ApiError, ApiResult};
use crate::http::{Params, now_ms, ok, request_base};
use crate::model::{Grant, PrincipalKind};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Discovery and token routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/databricks-config", get(databricks_config))
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .route("/oidc/v1/token", post(token))
}

async fn databricks_config(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    let base = request_base(&headers, &ctx.base_url);
    ok(json!({
        "oidc_endpoint": format!("{base}/oidc"),
        "workspace_id": ctx.config.workspace_id,
        "cloud": "aws",
    }))
}

async fn authorization_server(State(ctx): State<AppState>, headers: HeaderMap) -> ApiResult {
    let base = request_base(&headers, &ctx.base_url);
    ok(json!({
        "issuer": format!("{base}/oidc"),
        "authorization_endpoint": format!("{base}/oidc/v1/authorize"),
        "token_endpoint": format!("{base}/oidc/v1/token"),
        "grant_types_supported": ["client_credentials", TOKEN_EXCHANGE],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "scopes_supported": ["all-apis", "offline_access"],
    }))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn client_auth_failed() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed",
    )
}

/// The service principal (application id) that client credentials act as:
/// an OAuth client from the configuration, else a live secret created
/// through the service principal secrets API.
fn client_principal(ctx: &Ctx, client_id: &str, secret: &str) -> ApiResult<String> {
    if let Some(client) = ctx
        .config
        .oauth_clients
        .iter()
        .find(|c| c.client_id == client_id && c.client_secret.expose() == secret)
    {
        return Ok(client.client_id.clone());
    }
    let hash = token_hash(secret);
    let now = now_ms();
    ctx.store
        .read(|ws| ws.check_client_secret(client_id, &hash, now))
        .map_err(|reason| {
            tracing::debug!(client_id, %reason, "client credentials refused");
            client_auth_failed()
        })
}

async fn token(State(ctx): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let form = Params::parse(&String::from_utf8_lossy(&body));
    let scope = form.get("scope").unwrap_or("all-apis").to_owned();
    let grant_type = form.get("grant_type").unwrap_or("");
    let ttl_ms = i64::try_from(ctx.config.oauth_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let (grant, lifetime_ms) = match grant_type {
        "client_credentials" => {
            let (id, secret) = basic_credentials(&headers)
                .or_else(|| {
                    Some((
                        form.get("client_id")?.to_owned(),
                        form.get("client_secret")?.to_owned(),
                    ))
                })
                .ok_or_else(client_auth_failed)?;
            let name = client_principal(&ctx, &id, &secret)?;
            let grant = Grant {
                name,
                kind: PrincipalKind::ServicePrincipal,
                expires_at_ms: Some(now_ms() + ttl_ms),
            };
            (grant, ttl_ms)
        }
        TOKEN_EXCHANGE => {
            let subject_token = form.get("subject_token").ok_or_else(|| {
                ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "subject_token is required",
                )
            })?;
            let token_type = form.get("subject_token_type").unwrap_or("");
            if token_type != "urn:ietf:params:oauth:token-type:jwt"
                && token_type != "urn:ietf:params:oauth:token-type:id_token"
            {
                return Err(ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("unsupported subject_token_type '{token_type}'"),
                ));
            }
            let verified = ctx
                .verify_federated(subject_token, form.get("client_id"))
                .await?;
            let remaining = verified.expires_at_ms - now_ms();
            let lifetime = remaining.min(ttl_ms).max(1000);
            let grant = Grant {
                name: verified.principal,
                kind: verified.kind,
                expires_at_ms: Some(now_ms() + lifetime),
            };
            (grant, lifetime)
        }
        other => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type '{other}' is not supported"),
            ));
        }
    };
    let access_token = ctx.tokens.issue(grant);
    ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": (lifetime_ms / 1000).max(1),
        "scope": scope,
    }))
}
