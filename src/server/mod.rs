//! The daemon's HTTP side, on two listeners: `server.listen` takes Git
//! provider webhooks (`POST /api/v1/webhooks/{provider}`), serves the
//! status API (`GET /api/v1/apps[/{name}]`), the write API
//! (`POST /api/v1/apps/{name}/{command}`) and sign-in (`/auth/…`);
//! `server.metrics_listen` serves `/metrics`, `/healthz` and `/readyz`.
//!
//! The server only reads what the controller publishes (a status snapshot,
//! the access policy, a readiness flag), hands it pushes through a channel
//! and commands through the [`control::Control`] port; it knows nothing of
//! the controller itself. [`serve`] loads the secrets, binds both listeners
//! and serves until cancelled.

pub mod actions;
pub mod api;
pub mod auth;
pub mod control;
pub mod gate;
pub mod health;
pub mod metrics;
pub mod signin_routes;
pub mod view;
pub mod web;
pub mod webhook;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use metrics::Metrics;
pub use webhook::{DeliveryResult, Provider, Push, WebhookError};

use crate::config::ServerConfig;
use crate::databricks::AuthError;
use crate::model::status::ControllerStatus;

/// The source the controller follows: pushes of anything else are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedSource {
    /// The repository URL (any of its HTTPS or SSH forms).
    pub url: String,
    /// The branch, tag or `HEAD` followed.
    pub reference: String,
}

/// What the controller shares with the server.
#[derive(Clone)]
pub struct ServerState {
    /// The latest status snapshot.
    pub status: watch::Receiver<Arc<ControllerStatus>>,
    /// Accepted pushes; a full channel means a fetch is pending already.
    pub pushes: mpsc::Sender<Push>,
    /// True once the controller has fetched and rendered once.
    pub ready: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
    pub source: WatchedSource,
    /// The access policy and resources of the revision last rendered.
    pub tree: watch::Receiver<Arc<view::TreeView>>,
    /// Each app's last plan.
    pub plans: watch::Receiver<Arc<view::Plans>>,
    /// The audit log the web view shows.
    pub audit_log: Option<std::path::PathBuf>,
    /// Where commands go.
    pub control: Arc<dyn control::Control>,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{field}: {source}")]
    Secret {
        field: &'static str,
        #[source]
        source: Box<AuthError>,
    },
    #[error("{field}: cannot listen on {addr}")]
    Bind {
        field: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the {listener} listener failed")]
    Serve {
        listener: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the {listener} listener's task ended abnormally")]
    Task { listener: &'static str },
    #[error(transparent)]
    Auth(#[from] auth::AuthSetupError),
}

impl ServerError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ServerError::Secret { .. } => "secret",
            ServerError::Bind { .. } => "bind",
            ServerError::Serve { .. } => "serve",
            ServerError::Task { .. } => "task",
            ServerError::Auth(_) => "auth",
        }
    }
}

/// The running server: the addresses it really listens on (a port 0 in the
/// config is resolved here) and its tasks.
#[derive(Debug)]
pub struct Bound {
    /// Webhooks and the API.
    pub api: SocketAddr,
    /// Metrics and health.
    pub metrics: SocketAddr,
    tasks: Vec<(&'static str, JoinHandle<std::io::Result<()>>)>,
}

impl Bound {
    /// Waits until both listeners have stopped (after the cancel token fired
    /// and open requests finished).
    pub async fn stopped(self) -> Result<(), ServerError> {
        let mut first_error = None;
        for (listener, task) in self.tasks {
            let outcome = match task.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(source)) => Err(ServerError::Serve { listener, source }),
                Err(_) => Err(ServerError::Task { listener }),
            };
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Loads the webhook secrets, binds both listeners and serves until
/// `cancel` fires. A secret that cannot be read stops the start, naming
/// its field.
pub async fn serve(
    config: &ServerConfig,
    state: ServerState,
    cancel: CancellationToken,
) -> Result<Bound, ServerError> {
    let secrets = load_secrets(config)?;
    if !config.metrics_listen.ip().is_loopback() {
        tracing::info!(
            field = "server.metrics_listen",
            addr = %config.metrics_listen,
            "metrics and health probes are served beyond loopback, without authentication"
        );
    }
    let api_listener = bind("server.listen", config.listen).await?;
    let metrics_listener = bind("server.metrics_listen", config.metrics_listen).await?;
    let api = local_addr("server.listen", config.listen, &api_listener)?;
    let metrics = local_addr(
        "server.metrics_listen",
        config.metrics_listen,
        &metrics_listener,
    )?;

    let max_body = usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX);
    let hooks = Arc::new(webhook::Webhooks::new(
        secrets,
        max_body,
        state.source.clone(),
        state.pushes.clone(),
        Arc::clone(&state.metrics),
    ));
    let base = auth::base_url(config.auth.as_ref(), api);
    let authentication = auth::Auth::open(config.auth.as_ref(), &base, reqwest::Client::new())?;
    match &config.auth {
        None => tracing::warn!(
            %api,
            "no server.auth: the API listens on loopback only, and callers on this host act as admin"
        ),
        Some(a) => tracing::info!(
            issuer = %a.issuer,
            sign_in = authentication.signs_in(),
            "the API authenticates callers through the IdP"
        ),
    }
    let gate = gate::Gate {
        status: state.status.clone(),
        tree: state.tree.clone(),
        auth: Arc::new(authentication),
        control: Arc::clone(&state.control),
        metrics: Arc::clone(&state.metrics),
    };
    let web = web::Web {
        gate: gate.clone(),
        plans: state.plans.clone(),
        feed: Arc::new(web::feed::AuditFeed::new(state.audit_log.clone())),
    };
    let api_router = api_router(hooks, gate, web);
    let metrics_router = metrics_router(
        Arc::clone(&state.metrics),
        health::Readiness {
            ready: state.ready.clone(),
            status: state.status.clone(),
        },
    );

    let spawn = |listener: TcpListener, router: Router, cancel: CancellationToken| {
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await
        })
    };
    let tasks = vec![
        ("api", spawn(api_listener, api_router, cancel.clone())),
        ("metrics", spawn(metrics_listener, metrics_router, cancel)),
    ];
    tracing::info!(%api, %metrics, "HTTP server listening");
    Ok(Bound {
        api,
        metrics,
        tasks,
    })
}

fn load_secrets(
    config: &ServerConfig,
) -> Result<BTreeMap<Provider, webhook::key::WebhookKey>, ServerError> {
    let w = &config.webhooks;
    let configured = [
        (
            Provider::Github,
            "server.webhooks.github.secret",
            w.github.as_ref().map(|h| &h.secret),
        ),
        (
            Provider::Gitlab,
            "server.webhooks.gitlab.token",
            w.gitlab.as_ref().map(|h| &h.token),
        ),
        (
            Provider::Gitea,
            "server.webhooks.gitea.secret",
            w.gitea.as_ref().map(|h| &h.secret),
        ),
        (
            Provider::Bitbucket,
            "server.webhooks.bitbucket.secret",
            w.bitbucket.as_ref().map(|h| &h.secret),
        ),
        (
            Provider::Generic,
            "server.webhooks.generic.secret",
            w.generic.as_ref().map(|h| &h.secret),
        ),
    ];
    let mut secrets = BTreeMap::new();
    for (provider, field, reference) in configured {
        if let Some(reference) = reference {
            let key = webhook::key::WebhookKey::open(field, reference).map_err(|e| {
                ServerError::Secret {
                    field,
                    source: Box::new(e),
                }
            })?;
            secrets.insert(provider, key);
        }
    }
    Ok(secrets)
}

async fn bind(field: &'static str, addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind {
            field,
            addr,
            source,
        })
}

fn local_addr(
    field: &'static str,
    addr: SocketAddr,
    listener: &TcpListener,
) -> Result<SocketAddr, ServerError> {
    listener.local_addr().map_err(|source| ServerError::Bind {
        field,
        addr,
        source,
    })
}

fn api_router(hooks: Arc<webhook::Webhooks>, gate: gate::Gate, web: web::Web) -> Router {
    let webhooks = Router::new()
        .route("/api/v1/webhooks/{provider}", post(webhook::receive))
        .with_state(hooks);
    let apps = Router::new()
        .route("/api/v1/apps", get(api::list_apps))
        .route("/api/v1/apps/{name}", get(api::get_app))
        .route("/api/v1/apps/{name}/{command}", post(actions::post_command))
        .route("/auth/login", get(signin_routes::login))
        .route("/auth/callback", get(signin_routes::callback))
        .route("/auth/logout", post(signin_routes::logout))
        .route("/auth/me", get(signin_routes::me))
        .route("/auth/cli", get(signin_routes::cli))
        .route("/api/v1/openapi.json", get(openapi))
        .layer(axum::extract::DefaultBodyLimit::max(
            actions::MAX_COMMAND_BYTES,
        ))
        .with_state(gate);
    let pages = Router::new()
        .route("/", get(web::tree))
        .route("/apps/{name}", get(web::app))
        .route("/apps/{name}/{command}", post(web::command))
        .route("/assets/style.css", get(web::style))
        .route("/assets/live.js", get(web::script))
        .layer(axum::extract::DefaultBodyLimit::max(
            actions::MAX_COMMAND_BYTES,
        ))
        .with_state(web);
    webhooks
        .merge(apps)
        .merge(pages)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

fn metrics_router(metrics: Arc<Metrics>, ready: health::Readiness) -> Router {
    let scrape = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(ready);
    scrape
        .merge(probes)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /metrics`: OpenMetrics when the scraper asks for it, else the
/// Prometheus text format.
async fn scrape(State(metrics): State<Arc<Metrics>>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    match metrics.encode(openmetrics) {
        Ok(text) => {
            let content_type = if openmetrics {
                metrics::OPENMETRICS_CONTENT_TYPE
            } else {
                metrics::PROMETHEUS_CONTENT_TYPE
            };
            ([(header::CONTENT_TYPE, content_type)], text).into_response()
        }
        Err(_) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the metrics could not be encoded",
        ),
    }
}

/// The API's OpenAPI document (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// `GET /api/v1/openapi.json`.
async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// A JSON answer.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "encoding failed").into_response(),
    }
}

/// A JSON error: `{"error": CODE, "message": TEXT}`.
pub(crate) fn json_error(status: StatusCode, error: &'static str, message: &str) -> Response {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        error: &'static str,
        message: &'a str,
    }
    json_response(status, &ErrorBody { error, message })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// `(METHOD, path)` of every API route this file declares: the
    /// `.route(…)` calls whose path starts with `/api/` or `/auth/`.
    fn declared_routes() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut out = BTreeSet::new();
        for line in source.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix(".route(\"") else {
                continue;
            };
            let Some((path, handler)) = rest.split_once("\", ") else {
                continue;
            };
            if !(path.starts_with("/api/") || path.starts_with("/auth/")) {
                continue;
            }
            let method = handler.split('(').next().unwrap_or_default();
            out.insert((method.to_uppercase(), path.to_string()));
        }
        out
    }

    fn documented_routes() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("JSON");
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys() {
                if method != "parameters" {
                    // One route serves every command: /api/v1/apps/{name}/{command}.
                    let routed = match path.strip_prefix("/api/v1/apps/{name}/") {
                        Some(_) => "/api/v1/apps/{name}/{command}".to_string(),
                        None => path.clone(),
                    };
                    out.insert((method.to_uppercase(), routed));
                }
            }
        }
        out
    }

    #[test]
    fn the_openapi_document_describes_every_api_route_and_no_other() {
        let declared = declared_routes();
        assert!(declared.len() >= 8, "{declared:?}");
        assert_eq!(documented_routes(), declared);

        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let commands: BTreeSet<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|p| p.strip_prefix("/api/v1/apps/{name}/"))
            .collect();
        assert_eq!(
            commands,
            super::control::Command::NAMES.into_iter().collect()
        );
        for name in commands {
            assert!(
                super::control::Command::named(name, Default::default()).is_some(),
                "{name}"
            );
        }
    }
}
