//! The sign-in routes: `GET /auth/login?return=PATH` sends the browser to
//! the IdP, `GET /auth/callback` finishes the sign-in and starts a session,
//! `POST /auth/logout` ends it, and `GET /auth/me` says who the caller is
//! (with the CSRF token their state-changing requests must carry).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, Identity, safe_return_path};
use super::gate::Gate;
use super::{json_error, json_response};

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(rename = "return")]
    return_to: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A redirect (303) to `location`, setting `cookies`.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A short page for a person whose sign-in did not work.
fn sign_in_failed(status: StatusCode, message: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · Mortar</title></head><body><main><h1>Sign-in failed</h1><p role=\"alert\">{}</p><p><a href=\"/auth/login\">Sign in again</a></p></main></body></html>",
        html_escape(message)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /auth/login`: to the IdP, remembering where to come back to.
pub(crate) async fn login(State(gate): State<Gate>, Query(q): Query<LoginQuery>) -> Response {
    let return_to = safe_return_path(q.return_to.as_deref());
    let Auth::Idp(idp) = &*gate.auth else {
        // Nothing to sign in to: loopback callers are trusted.
        return see_other(&return_to, &[]);
    };
    let Some(signin) = &idp.signin else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "sign-in is not configured (server.auth.client_id); send a bearer token",
        );
    };
    match signin.begin().await {
        Ok(begun) => {
            let bound =
                idp.sessions
                    .begin_login(&begun.state, begun.pkce_verifier, begun.nonce, return_to);
            see_other(begun.authorize_url.as_str(), &[bound])
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot start a sign-in");
            sign_in_failed(StatusCode::BAD_GATEWAY, &e.to_string())
        }
    }
}

/// `GET /auth/callback`: the IdP sends the browser back with a code.
pub(crate) async fn callback(
    State(gate): State<Gate>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Auth::Idp(idp) = &*gate.auth else {
        return see_other("/", &[]);
    };
    let Some(signin) = &idp.signin else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "sign-in is not configured",
        );
    };
    if let Some(error) = &q.error {
        let error: String = error.chars().take(200).collect();
        return sign_in_failed(
            StatusCode::UNAUTHORIZED,
            &format!("the IdP did not sign you in: {error}"),
        );
    }
    let (Some(code), Some(state)) = (&q.code, &q.state) else {
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "the IdP's answer lacks a code or state",
        );
    };
    let Some(pending) = idp.sessions.finish_login(&headers, state) else {
        return sign_in_failed(
            StatusCode::BAD_REQUEST,
            "this sign-in was not started in this browser, was already used, or took too long",
        );
    };
    match signin
        .finish(code, &pending.pkce_verifier, &pending.nonce)
        .await
    {
        Ok(identity) => {
            gate.metrics.api_request("sign_in", "accepted");
            tracing::info!(subject = %identity.subject, groups = ?identity.groups, "signed in");
            let (_, cookie) = idp.sessions.start(identity);
            see_other(&pending.return_to, &[cookie, idp.sessions.clear_login()])
        }
        Err(e) => {
            gate.metrics.api_request("sign_in", e.metric_label());
            tracing::warn!(error = %e, label = e.metric_label(), "a sign-in failed");
            sign_in_failed(StatusCode::UNAUTHORIZED, &e.to_string())
        }
    }
}

/// `POST /auth/logout`: ends the session (with the page's CSRF token).
pub(crate) async fn logout(State(gate): State<Gate>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match gate.caller(&headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let form_token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if let Err(refusal) = gate.genuine(&caller, &headers, form_token.as_deref(), "sign_out") {
        return refusal.into_response();
    }
    match (&*gate.auth, &caller.session) {
        (Auth::Idp(idp), Some(id)) => {
            tracing::info!(subject = %caller.identity.subject, "signed out");
            see_other("/", &[idp.sessions.end(id)])
        }
        _ => see_other("/", &[]),
    }
}

/// `GET /auth/cli`: how `mortar app login` signs in (the IdP and the
/// CLI's public client), or 404 when no CLI client is configured.
pub(crate) async fn cli(State(gate): State<Gate>) -> Response {
    match &*gate.auth {
        Auth::Idp(idp) => match &idp.cli {
            Some(cli) => json_response(StatusCode::OK, cli),
            None => json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no CLI sign-in is configured (server.auth.cli_client_id); use a bearer token",
            ),
        },
        Auth::Loopback { .. } => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "this controller has no sign-in: on its host, no login is needed",
        ),
    }
}

#[derive(Serialize)]
struct Me<'a> {
    #[serde(flatten)]
    identity: &'a Identity,
    /// The token state-changing requests send in `X-CSRF-Token` (absent
    /// for bearer tokens, which need none).
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<&'a str>,
}

/// `GET /auth/me`: who the caller is.
pub(crate) async fn me(State(gate): State<Gate>, headers: HeaderMap) -> Response {
    match gate.caller(&headers).await {
        Ok(caller) => {
            let mut response = json_response(
                StatusCode::OK,
                &Me {
                    identity: &caller.identity,
                    csrf: caller.csrf.as_deref(),
                },
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}
