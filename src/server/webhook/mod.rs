//! `POST /api/v1/webhooks/{provider}`: authenticates a Git provider's
//! delivery, drops replays and pushes of other repositories or branches,
//! and hands an accepted push to the controller without ever blocking.
//!
//! The order is fixed so that nothing unauthenticated has an effect: the
//! body is read under the size cap, the signature (or token) is checked,
//! the payload is parsed, the delivery id is looked up in the window of
//! recent ids, the push is matched against the watched source, and only then
//! `try_send` into the controller's channel. A full channel means a fetch is
//! already pending, which is how a burst of pushes coalesces into one fetch.
//! Every delivery is counted by provider and result.

pub mod bitbucket;
pub mod core;
pub mod generic;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod key;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_LENGTH};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::mpsc;

use self::core::{DELIVERY_WINDOW, DeliveryWindow, reference_matches, repository_matches};
pub use self::core::{DeliveryResult, Provider, Push, WebhookError};
use self::key::WebhookKey;
use super::metrics::Metrics;
use super::{WatchedSource, json_error, json_response};
use crate::databricks::Secret;

/// How long a sender may take to send its body.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Authenticates and reads one delivery of `provider`: every push it carries.
pub fn parse(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: &Secret,
) -> Result<Vec<Push>, WebhookError> {
    match provider {
        Provider::Github => github::parse(headers, body, secret).map(|p| vec![p]),
        Provider::Gitlab => gitlab::parse(headers, body, secret).map(|p| vec![p]),
        Provider::Gitea => gitea::parse(headers, body, secret).map(|p| vec![p]),
        Provider::Bitbucket => bitbucket::parse(headers, body, secret),
        Provider::Generic => generic::parse(headers, body, secret).map(|p| vec![p]),
    }
}

/// What the webhook route needs, shared by every request.
pub(crate) struct Webhooks {
    /// The configured providers' secrets; a provider not here has no route.
    pub secrets: BTreeMap<Provider, WebhookKey>,
    pub max_body: usize,
    pub source: WatchedSource,
    pub pushes: mpsc::Sender<Push>,
    pub metrics: Arc<Metrics>,
    pub window: Mutex<DeliveryWindow>,
}

impl Webhooks {
    pub fn new(
        secrets: BTreeMap<Provider, WebhookKey>,
        max_body: usize,
        source: WatchedSource,
        pushes: mpsc::Sender<Push>,
        metrics: Arc<Metrics>,
    ) -> Webhooks {
        Webhooks {
            secrets,
            max_body,
            source,
            pushes,
            metrics,
            window: Mutex::new(DeliveryWindow::new(DELIVERY_WINDOW)),
        }
    }
}

/// The handler of `POST /api/v1/webhooks/{provider}`.
pub(crate) async fn receive(
    State(hooks): State<Arc<Webhooks>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((provider, secret)) = Provider::from_label(&provider)
        .and_then(|p| hooks.secrets.get(&p).map(|key| (p, key.current())))
    else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no webhook is configured for this provider",
        );
    };
    let (result, response) = handle(&hooks, provider, &secret, &headers, body).await;
    hooks.metrics.webhook_delivery(provider, result);
    response
}

async fn handle(
    hooks: &Webhooks,
    provider: Provider,
    secret: &Secret,
    headers: &HeaderMap,
    body: Body,
) -> (DeliveryResult, Response) {
    let too_large = || {
        (
            DeliveryResult::TooLarge,
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                &format!("the body is larger than {} bytes", hooks.max_body),
            ),
        )
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > hooks.max_body as u64) {
        return too_large();
    }
    let read = tokio::time::timeout(
        BODY_READ_TIMEOUT,
        Limited::new(body, hooks.max_body).collect(),
    );
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Ok(Err(_)) | Err(_) => {
            return (
                DeliveryResult::Malformed,
                json_error(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "the body could not be read",
                ),
            );
        }
    };
    let pushes = match parse(provider, headers, &body, secret) {
        Ok(pushes) => pushes,
        Err(err) if err.is_unauthorized() => {
            tracing::warn!(
                provider = provider.label(),
                reason = err.metric_label(),
                "webhook delivery refused"
            );
            return (
                DeliveryResult::Unauthorized,
                json_error(StatusCode::UNAUTHORIZED, "unauthorized", &err.to_string()),
            );
        }
        Err(WebhookError::NotAPush { event }) => {
            let message = if matches!(event.as_str(), "ping" | "diagnostics:ping") {
                "pong".to_string()
            } else {
                format!("event `{event}` is not a push")
            };
            return (
                DeliveryResult::Ignored,
                json_response(StatusCode::OK, &Outcome::new("ignored", message)),
            );
        }
        Err(err) => {
            return (
                DeliveryResult::Malformed,
                json_error(StatusCode::BAD_REQUEST, "malformed", &err.to_string()),
            );
        }
    };
    let delivery = pushes.first().and_then(|p| p.delivery.clone());
    if let Some(id) = &delivery {
        let first = hooks
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first_time(provider, id);
        if !first {
            return (
                DeliveryResult::Duplicate,
                json_response(
                    StatusCode::OK,
                    &Outcome::new("duplicate", "this delivery was received before".into()),
                ),
            );
        }
    }
    let source = &hooks.source;
    let Some(push) = pushes.into_iter().find(|p| {
        repository_matches(&source.url, &p.repository_urls)
            && reference_matches(&source.reference, &p.reference)
    }) else {
        tracing::debug!(
            provider = provider.label(),
            delivery = delivery.as_deref().unwrap_or(""),
            "webhook push for another repository or reference ignored"
        );
        return (
            DeliveryResult::Ignored,
            json_response(
                StatusCode::OK,
                &Outcome::new(
                    "ignored",
                    "the push is not for the watched repository and reference".into(),
                ),
            ),
        );
    };
    tracing::info!(
        provider = provider.label(),
        delivery = push.delivery.as_deref().unwrap_or(""),
        reference = %push.reference,
        after = push.after.as_deref().unwrap_or(""),
        "webhook push accepted"
    );
    match hooks.pushes.try_send(push) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::debug!("a fetch is already pending; the push joins it");
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            return (
                DeliveryResult::Unavailable,
                json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the controller is shutting down",
                ),
            );
        }
    }
    (
        DeliveryResult::Accepted,
        json_response(
            StatusCode::ACCEPTED,
            &Outcome::new("accepted", "a fetch is triggered".into()),
        ),
    )
}

/// The body of a 200 or 202 answer.
#[derive(serde::Serialize)]
struct Outcome {
    result: &'static str,
    message: String,
}

impl Outcome {
    fn new(result: &'static str, message: String) -> Outcome {
        Outcome { result, message }
    }
}
