//! Finding a workspace's OAuth token endpoint: `/.well-known/databricks-config`
//! → `oidc_endpoint` → `<oidc_endpoint>/.well-known/oauth-authorization-server`,
//! falling back to `/oidc/.well-known/oauth-authorization-server` and then to
//! `/oidc/v1/token`. Every URL found must stay on the workspace's host.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::token::describe_reqwest;
use super::{AuthError, origin, same_origin};
use crate::databricks::body::{BodyError, read_capped};

const TIMEOUT: Duration = Duration::from_secs(15);

/// A discovery document, or `None` when the server has none (any non-2xx
/// answer, or not JSON). A body over `max_body` is an error.
async fn get_json(
    http: &reqwest::Client,
    url: &Url,
    max_body: u64,
) -> Result<Option<Value>, AuthError> {
    let transport = |err: &reqwest::Error| AuthError::Transport {
        url: url.to_string(),
        message: describe_reqwest(err),
    };
    let resp = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|err| transport(&err))?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let body = read_capped(resp, max_body).await.map_err(|err| match err {
        BodyError::TooLarge { limit } => AuthError::ResponseTooLarge {
            url: url.to_string(),
            limit,
        },
        BodyError::Transport(err) => transport(&err),
    })?;
    Ok(serde_json::from_slice::<Value>(&body).ok())
}

fn on_host(base: &Url, raw: &str) -> Result<Url, AuthError> {
    let url = base.join(raw).map_err(|e| AuthError::Discovery {
        url: raw.to_string(),
        message: e.to_string(),
    })?;
    if !same_origin(&url, base) {
        return Err(AuthError::ForeignHost {
            url: url.to_string(),
            expected: origin(base),
        });
    }
    Ok(url)
}

/// The workspace's token endpoint.
pub async fn token_endpoint(
    http: &reqwest::Client,
    base: &Url,
    max_body: u64,
) -> Result<Url, AuthError> {
    let host_config = on_host(base, "/.well-known/databricks-config")?;
    let mut candidates = Vec::new();
    if let Some(doc) = get_json(http, &host_config, max_body).await?
        && let Some(oidc) = doc.get("oidc_endpoint").and_then(Value::as_str)
    {
        let account = doc.get("account_id").and_then(Value::as_str).unwrap_or("");
        let oidc = oidc.replace("{account_id}", account);
        let oidc = on_host(base, &oidc)?;
        let meta = format!(
            "{}/.well-known/oauth-authorization-server",
            oidc.as_str().trim_end_matches('/')
        );
        candidates.push(on_host(base, &meta)?);
    }
    let fallback = on_host(base, "/oidc/.well-known/oauth-authorization-server")?;
    if !candidates.contains(&fallback) {
        candidates.push(fallback);
    }
    for meta in candidates {
        if let Some(doc) = get_json(http, &meta, max_body).await?
            && let Some(endpoint) = doc.get("token_endpoint").and_then(Value::as_str)
        {
            return on_host(base, endpoint);
        }
    }
    on_host(base, "/oidc/v1/token")
}
