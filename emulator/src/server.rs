//! The HTTP server: the request pipeline (latency, injected faults, rate
//! limits, authentication, durability barrier), the route table, and the
//! accept loop that serves each connection with hyper (so that a
//! "dropped connection" fault can close a socket without answering).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::app::{AppState, Ctx};
use crate::config::EmulatorConfig;
use crate::errors::{ApiError, EmulatorError};
use crate::faults::Fault;
use crate::model::Workspace;
use crate::state::Store;
use crate::{
    admin, clusters, jobs, oidc, permissions, policies, pools, scim, secrets, sp_secrets, tokens,
    unity_catalog, warehouses, workspace, workspace_conf,
};

/// Signals the connection task to close its socket without answering.
#[derive(Clone)]
pub struct DropConnection(Arc<Notify>);

impl DropConnection {
    /// Closes the connection that carries the current request.
    pub fn trigger(&self) {
        self.0.notify_one();
    }
}

/// Binds the listener and builds the shared context.
pub async fn bind(config: EmulatorConfig) -> Result<(TcpListener, AppState), EmulatorError> {
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen.to_string(),
                source,
            })?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen.to_string(),
            source,
        })?;
    let base_url = format!("http://{addr}");
    let (store, ws) = match &config.state_file {
        Some(path) => {
            let (store, ws) = Store::open(path)?;
            (store, ws)
        }
        None => (Store::memory(Workspace::default()), Workspace::default()),
    };
    let store = Arc::new(store);
    store.replace(crate::seed::seeded_workspace(&config, ws));
    if let Some(path) = &config.state_file {
        // Fail at start, not on the first write, when the file is not writable.
        let bytes = serde_json::to_vec(&store.snapshot()).unwrap_or_default();
        crate::state::write_atomic(path, &bytes)?;
    }
    Ok((listener, Ctx::new(config, store, base_url)))
}

/// The full route table.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(jobs::routes())
        .merge(clusters::routes())
        .merge(policies::routes())
        .merge(pools::routes())
        .merge(warehouses::routes())
        .merge(scim::routes())
        .merge(permissions::routes())
        .merge(secrets::routes())
        .merge(workspace::routes())
        .merge(workspace_conf::routes())
        .merge(unity_catalog::routes())
        .merge(tokens::routes())
        .merge(sp_secrets::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline,
        ));
    Router::new()
        .merge(oidc::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            token_throttle,
        )))
        .nest("/_emulator", admin::routes())
        .merge(api)
        .layer(axum::extract::DefaultBodyLimit::max(crate::http::MAX_BODY))
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    ApiError::no_endpoint(request.uri().path()).into_response()
}

/// Throttle bursts aimed explicitly at the discovery or token endpoints
/// (`inject_throttle` with a `/oidc` or `/.well-known` prefix).
async fn token_throttle(State(ctx): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(retry_after) = ctx.faults.take_throttle_named(request.uri().path()) {
        return ApiError::throttled(retry_after).into_response();
    }
    next.run(request).await
}

/// Latency, faults, rate limits, authentication and the durability barrier,
/// in that order, for every `/api/` request.
async fn pipeline(State(ctx): State<AppState>, mut request: Request, next: Next) -> Response {
    let latency = ctx.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match ctx.faults.decide() {
        Some(Fault::Drop) => {
            if let Some(drop) = request.extensions().get::<DropConnection>() {
                drop.trigger();
                std::future::pending::<()>().await;
            }
            return ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "TEMPORARILY_UNAVAILABLE",
                "The service is temporarily unavailable.",
            )
            .into_response();
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(fault) => return fault.response(),
        None => {}
    }
    if let Some(retry_after) = ctx.faults.take_throttle(request.uri().path()) {
        return ApiError::throttled(retry_after).into_response();
    }
    if let Err(retry_after) = ctx.limits.check(request.method(), request.uri().path()) {
        return ApiError::throttled(retry_after).into_response();
    }
    let caller = match ctx.authenticate(request.headers()) {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    request.extensions_mut().insert(caller);
    let mutating = request.method() != Method::GET;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if let Ok(org) = axum::http::HeaderValue::from_str(&ctx.config.workspace_id) {
        response.headers_mut().insert("x-databricks-org-id", org);
    }
    tracing::debug!(%method, %path, status = response.status().as_u16(), "emulator request");
    if mutating
        && ctx.store.is_durable()
        && let Err(err) = ctx.store.durable().await
    {
        return err.into_response();
    }
    if mutating && let Some(delay) = ctx.faults.late_answer(&path) {
        tokio::time::sleep(delay).await;
    }
    response
}

/// Serves connections until `cancel` fires.
pub async fn serve(listener: TcpListener, router: Router, cancel: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Whole responses leave at once; no Nagle delay on keep-alive.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let signal = Arc::new(Notify::new());
            let drop = DropConnection(Arc::clone(&signal));
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(drop.clone());
                let mut router = router.clone();
                async move { router.call(req.map(Body::new)).await }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = signal.notified() => {}
                _ = cancel.cancelled() => {}
            }
        });
    }
}
