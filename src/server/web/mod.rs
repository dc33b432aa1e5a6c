//! The web view, served by the daemon on `server.listen`: the app tree at
//! `/`, one app at `/apps/{name}`, and the buttons' form posts to
//! `/apps/{name}/{command}`. Server-rendered HTML with one stylesheet and
//! one small script (live updates), both built into the binary: no CDN,
//! works offline, usable without the script. Every page passes the same
//! gate as the JSON API; a button shows only when the viewer's role
//! allows its action.

pub mod feed;
pub mod pages;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde::Deserialize;
use tokio::sync::watch;

use super::actions::{Failure, no_app, perform};
use super::auth::{Auth, AuthFailure, Authenticated};
use super::control::{Command, Parameters};
use super::gate::{Gate, Refusal};
use super::signin_routes::see_other;
use super::view::Plans;
use crate::audit::history::{HistoryOptions, history};
use crate::manifest::access_policy::Action;
use crate::model::AppStatus;
use feed::AuditFeed;
use pages::{Allowed, AppPage, Notice, Viewer};

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("live.js");

/// What the pages read.
#[derive(Clone)]
pub struct Web {
    pub gate: Gate,
    pub plans: watch::Receiver<Arc<Plans>>,
    pub feed: Arc<AuditFeed>,
}

fn html(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self' ; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

impl Web {
    /// The caller, or the answer for a browser that is not signed in: to
    /// the sign-in (when people sign in), else a 401.
    async fn viewer(&self, headers: &HeaderMap, here: &str) -> Result<Authenticated, Response> {
        match self.gate.caller(headers).await {
            Ok(caller) => Ok(caller),
            Err(Refusal::Unauthenticated(AuthFailure::Missing)) if self.gate.auth.signs_in() => {
                let to = format!("/auth/login?return={}", pages::urlencode(here));
                Err(see_other(&to, &[]))
            }
            Err(refusal) => Err(refusal.into_response()),
        }
    }

    fn allowed(&self, caller: &Authenticated, app: &AppStatus) -> Allowed {
        let may = |action| self.gate.decide(caller, action, app).allowed();
        Allowed {
            sync: may(Action::Sync),
            override_policy: may(Action::Override),
            refresh: may(Action::Refresh),
            rollback: may(Action::Rollback),
            pause: may(Action::Pause),
        }
    }

    fn viewer_of<'a>(&self, caller: &'a Authenticated) -> Viewer<'a> {
        Viewer {
            identity: &caller.identity,
            csrf: caller.csrf.as_deref(),
            signed_in: matches!(&*self.gate.auth, Auth::Idp(_)) && caller.session.is_some(),
        }
    }

    fn app_page(
        &self,
        caller: &Authenticated,
        app: &AppStatus,
        notice: Option<Notice>,
        error: Option<&str>,
    ) -> Markup {
        let status = Arc::clone(&self.gate.status.borrow());
        let tree = Arc::clone(&self.gate.tree.borrow());
        let plans = Arc::clone(&self.plans.borrow());
        let (records, verification) = self.feed.of_app(&app.name);
        let entries = history(
            &records,
            &HistoryOptions {
                app: Some(app.name.clone()),
                limit: 20,
                ..HistoryOptions::default()
            },
        );
        let mine: Vec<&crate::audit::AuditRecord> = records.iter().rev().collect();
        let resources = tree
            .resources
            .get(&app.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        pages::app(
            &status,
            &self.viewer_of(caller),
            &AppPage {
                app,
                allowed: self.allowed(caller, app),
                notice,
                error,
                plan: plans.get(&app.name),
                resources,
                history: &entries,
                records: &mine,
                verification: &verification,
            },
        )
    }

    fn problem(
        &self,
        caller: &Authenticated,
        status: StatusCode,
        title: &str,
        message: &str,
    ) -> Response {
        let snapshot = Arc::clone(&self.gate.status.borrow());
        html(
            status,
            pages::problem(&snapshot, &self.viewer_of(caller), title, message),
        )
    }
}

/// `GET /`: the app tree.
pub(crate) async fn tree(State(web): State<Web>, headers: HeaderMap) -> Response {
    let caller = match web.viewer(&headers, "/").await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let snapshot = Arc::clone(&web.gate.status.borrow());
    let mut visible = (*snapshot).clone();
    visible
        .apps
        .retain(|app| web.gate.decide(&caller, Action::Get, app).allowed());
    let allowed = |app: &AppStatus| web.allowed(&caller, app);
    html(
        StatusCode::OK,
        pages::tree(&visible, &web.viewer_of(&caller), &allowed),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppQuery {
    did: Option<String>,
}

/// `GET /apps/{name}`: one app.
pub(crate) async fn app(
    State(web): State<Web>,
    Path(name): Path<String>,
    Query(q): Query<AppQuery>,
    headers: HeaderMap,
) -> Response {
    let here = format!("/apps/{}", pages::urlencode(&name));
    let caller = match web.viewer(&headers, &here).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let Some(app) = web.gate.app(&name) else {
        return web.problem(&caller, StatusCode::NOT_FOUND, "Not found", &no_app(&name));
    };
    if let Err(Refusal::Forbidden(message)) = web.gate.authorize(&caller, Action::Get, &app) {
        return web.problem(&caller, StatusCode::FORBIDDEN, "Not allowed", &message);
    }
    let notice = q.did.as_deref().and_then(Notice::parse);
    html(StatusCode::OK, web.app_page(&caller, &app, notice, None))
}

/// `POST /apps/{name}/{command}`: a button, as a form with the page's
/// CSRF token; back to the app's page.
pub(crate) async fn command(
    State(web): State<Web>,
    Path((name, command)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match web.gate.caller(&headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if web
        .gate
        .genuine(&caller, &headers, field("csrf").as_deref(), "command")
        .is_err()
    {
        return web.problem(
            &caller,
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was not sent from this server's page (its CSRF token is missing or wrong). Reload the page and try again.",
        );
    }
    let Some(app) = web.gate.app(&name) else {
        return web.problem(&caller, StatusCode::NOT_FOUND, "Not found", &no_app(&name));
    };
    let parameters = Parameters {
        revision: field("revision"),
        prune: field("prune").is_some_and(|v| v == "true"),
        dry_run: field("dry_run").is_some_and(|v| v == "true"),
    };
    let command = match Command::named(&command, parameters) {
        Some(Ok(c)) => c,
        Some(Err(message)) => {
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                web.app_page(&caller, &app, None, Some(&message)),
            );
        }
        None => {
            return web.problem(
                &caller,
                StatusCode::NOT_FOUND,
                "Not found",
                "no such command",
            );
        }
    };
    match perform(&web.gate, &caller, &app, &command).await {
        Ok(_) => {
            let to = format!(
                "/apps/{}?did={}",
                pages::urlencode(&app.name),
                command.label()
            );
            see_other(&to, &[])
        }
        Err(Failure::Refused(Refusal::Forbidden(message))) => {
            web.problem(&caller, StatusCode::FORBIDDEN, "Not allowed", &message)
        }
        Err(Failure::Refused(refusal)) => refusal.into_response(),
        Err(Failure::Control(e)) => {
            let message = e.to_string();
            html(
                e.status(),
                web.app_page(&caller, &app, None, Some(&message)),
            )
        }
    }
}

/// `GET /assets/style.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /assets/live.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
