//! The token endpoint on the wire: a form POST, its JSON answer, its error
//! body, and a look inside a JWT's claims (expiry) without trusting them.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use url::Url;

use super::{AuthError, AuthLimits, FreshToken};
use crate::databricks::body::{BodyError, read_capped, read_truncated};
use crate::databricks::redact::redact;
use crate::databricks::secret::Secret;

const ATTEMPTS: u32 = 4;

/// POSTs a token request form and decodes the answer. Retries a few times
/// on 429/503 (waiting at most `limits.max_retry_after`) and refused
/// connections (nothing was issued then). Reads at most `limits.max_body`.
pub async fn request_token(
    http: &reqwest::Client,
    endpoint: &Url,
    form: &[(&str, &str)],
    basic: Option<(&str, &Secret)>,
    grant: &'static str,
    limits: &AuthLimits,
) -> Result<FreshToken, AuthError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut req = http
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .timeout(limits.timeout);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret.expose()));
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(err) if err.is_connect() && attempt < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                continue;
            }
            Err(err) => {
                return Err(AuthError::Transport {
                    url: endpoint.to_string(),
                    message: describe_reqwest(&err),
                });
            }
        };
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return Err(AuthError::Redirected {
                endpoint: endpoint.to_string(),
                grant,
                status,
                location: short(location),
            });
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let success = (200..300).contains(&status);
        let body = if success {
            read_capped(resp, limits.max_body).await
        } else {
            read_truncated(resp, ERROR_BODY_BYTES.min(limits.max_body)).await
        };
        let body = body.map_err(|err| match err {
            BodyError::TooLarge { limit } => AuthError::ResponseTooLarge {
                url: endpoint.to_string(),
                limit,
            },
            BodyError::Transport(err) => AuthError::Transport {
                url: endpoint.to_string(),
                message: describe_reqwest(&err),
            },
        })?;
        if (status == 429 || status == 503) && attempt < ATTEMPTS {
            let wait = retry_after
                .unwrap_or(Duration::from_secs(1))
                .min(limits.max_retry_after);
            tokio::time::sleep(wait).await;
            continue;
        }
        if success {
            return parse_token_response(endpoint, &body);
        }
        return Err(rejected(endpoint, grant, status, &body));
    }
}

/// How much of a token endpoint's error answer is read.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// A header value for a message: redacted and at most 200 characters.
fn short(text: &str) -> String {
    redact(text).chars().take(200).collect()
}

fn parse_token_response(endpoint: &Url, body: &[u8]) -> Result<FreshToken, AuthError> {
    let bad = |message: &str| AuthError::BadResponse {
        url: endpoint.to_string(),
        message: message.to_string(),
    };
    let json: Value = serde_json::from_slice(body).map_err(|_| bad("not JSON"))?;
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no access_token"))?;
    let expires_in = match json.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("no integer expires_in"))?;
    Ok(FreshToken {
        access_token: Secret::rotating(token),
        expires_in: Duration::from_secs(expires_in),
    })
}

/// The error for a non-2xx answer: a refusal of the credentials only when
/// it is a 400/401/403 carrying an OAuth error code; a 5xx is a server
/// failure; anything else an unexpected status. Text from the body is
/// redacted.
fn rejected(endpoint: &Url, grant: &'static str, status: u16, body: &[u8]) -> AuthError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| json.get(*k).and_then(Value::as_str))
            .map(|t| redact(t).chars().take(500).collect::<String>())
    };
    let code = text(&["error", "errorCode", "error_code"]);
    let description =
        text(&["error_description", "errorSummary", "message"]).unwrap_or_else(|| {
            if json.is_null() {
                short(String::from_utf8_lossy(body).trim())
            } else {
                String::new()
            }
        });
    let endpoint_s = endpoint.to_string();
    match (status, code) {
        (400 | 401 | 403, Some(code)) => {
            let hint = hint(grant, &code, &description);
            AuthError::Rejected {
                endpoint: endpoint_s,
                grant,
                status,
                code,
                description,
                hint,
            }
        }
        (500..=599, code) => AuthError::ServerError {
            endpoint: endpoint_s,
            grant,
            status,
            message: join(code, description),
        },
        (_, code) => AuthError::UnexpectedStatus {
            endpoint: endpoint_s,
            grant,
            status,
            message: join(code, description),
        },
    }
}

fn join(code: Option<String>, description: String) -> String {
    match code {
        Some(code) if description.is_empty() => code,
        Some(code) => format!("{code}: {description}"),
        None => description,
    }
}

/// A plain-words reading of a token endpoint's refusal.
fn hint(grant: &str, code: &str, description: &str) -> String {
    let d = description.to_ascii_lowercase();
    if d.contains("audience") || d.contains("aud ") || d.contains("`aud`") {
        return "the JWT's audience does not match the federation policy".into();
    }
    if d.contains("issuer") || d.contains("iss ") {
        return "the JWT's issuer does not match the federation policy".into();
    }
    if d.contains("expired") || d.contains("exp ") {
        return "the JWT has expired".into();
    }
    if d.contains("subject") {
        return "the JWT's subject does not match the federation policy".into();
    }
    if d.contains("signature") || d.contains("jwks") || d.contains("key") && d.contains("sign") {
        return "the JWT's signature does not verify against the issuer's keys".into();
    }
    if code == "invalid_client"
        || d.contains("client secret")
        || d.contains("client authentication")
    {
        return "wrong client id or client secret".into();
    }
    if grant == "token exchange" && code == "invalid_grant" {
        return "the workspace did not accept the JWT; check the federation policy".into();
    }
    String::new()
}

/// A reqwest error described without its URL query (which never holds
/// secrets here, but keeps messages short).
pub fn describe_reqwest(err: &reqwest::Error) -> String {
    let kind = if err.is_connect() {
        "connection failed"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// The claims of a JWT, read without verifying it (the workspace verifies).
pub fn peek_claims(jwt: &str) -> Result<Value, String> {
    let mut parts = jwt.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected three dot-separated parts".into());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("payload is not base64url: {e}"))?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("payload is not JSON: {e}"))?;
    if !claims.is_object() {
        return Err("payload is not a JSON object".into());
    }
    Ok(claims)
}

/// Refuses a JWT whose `exp` has passed, with a message naming where it came from.
pub fn check_not_expired(jwt: &str, origin: &str) -> Result<(), AuthError> {
    let claims = peek_claims(jwt).map_err(|message| AuthError::JwtMalformed {
        origin: origin.to_string(),
        message,
    })?;
    let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
        return Ok(());
    };
    let now = jiff::Timestamp::now().as_second();
    if exp <= now {
        let expired_at = jiff::Timestamp::from_second(exp)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| exp.to_string());
        return Err(AuthError::JwtExpired {
            origin: origin.to_string(),
            exp,
            expired_at,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"RS256"}"#),
            e.encode(claims)
        )
    }

    #[test]
    fn expired_jwts_are_refused_locally() {
        let err = check_not_expired(&jwt(r#"{"exp": 1000}"#), "file /tok").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("file /tok") && msg.contains("expired"),
            "{msg}"
        );
        let future = jiff::Timestamp::now().as_second() + 600;
        assert!(check_not_expired(&jwt(&format!(r#"{{"exp": {future}}}"#)), "x").is_ok());
        assert!(matches!(
            check_not_expired("not-a-jwt", "x"),
            Err(AuthError::JwtMalformed { .. })
        ));
    }

    #[test]
    fn refusals_get_a_plain_hint() {
        let u = Url::parse("http://127.0.0.1:1/oidc/v1/token").expect("url");
        let e = rejected(
            &u,
            "client credentials",
            401,
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        );
        assert!(
            e.to_string().contains("wrong client id or client secret"),
            "{e}"
        );
        let e = rejected(
            &u,
            "token exchange",
            400,
            br#"{"error":"invalid_grant","error_description":"token audience does not match"}"#,
        );
        assert!(e.to_string().contains("audience"), "{e}");
        let e = rejected(&u, "token exchange", 400, b"oops");
        assert!(e.to_string().contains("HTTP 400: oops"), "{e}");
        assert!(!e.to_string().contains("refused"), "{e}");
    }

    #[test]
    fn server_failures_are_not_refusals() {
        let u = Url::parse("http://127.0.0.1:1/oidc/v1/token").expect("url");
        let e = rejected(&u, "client credentials", 500, b"<html>boom</html>");
        assert!(
            matches!(e, AuthError::ServerError { status: 500, .. }),
            "{e:?}"
        );
        assert!(!e.to_string().contains("refused"), "{e}");
        assert_eq!(e.metric_label(), "server_error");
        let e = rejected(&u, "client credentials", 404, br#"{"error":"nope"}"#);
        assert!(
            matches!(e, AuthError::UnexpectedStatus { status: 404, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn token_responses_need_expiry() {
        let u = Url::parse("http://127.0.0.1:1/t").expect("url");
        let t = parse_token_response(
            &u,
            br#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
        )
        .expect("ok");
        assert_eq!(t.expires_in, Duration::from_secs(3600));
        assert!(parse_token_response(&u, br#"{"access_token":"a"}"#).is_err());
    }
}
