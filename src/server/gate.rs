//! The gate every API route goes through: who is calling
//! ([`super::auth`]), whether a state-changing request is genuine (CSRF),
//! and whether the repository's `AccessPolicy` lets them take the action on
//! the app ([`crate::authz`]). A refusal is an answer ready to send; a
//! denial by the policy is also written to the audit trail.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::auth::{Auth, AuthFailure, Authenticated, Proof};
use super::control::{Control, RequestRecord, requester};
use super::json_error;
use super::view::TreeView;
use crate::audit::AuditAction;
use crate::authz::{Decision, decide};
use crate::manifest::access_policy::{AccessPolicy, Action};
use crate::model::AppStatus;
use crate::model::status::ControllerStatus;

/// The access policy of the revision the controller last rendered.
pub type PolicyReceiver = watch::Receiver<Arc<Option<AccessPolicy>>>;

/// What the API's routes share.
#[derive(Clone)]
pub struct Gate {
    pub status: watch::Receiver<Arc<ControllerStatus>>,
    /// The revision last rendered: its access policy decides.
    pub tree: watch::Receiver<Arc<TreeView>>,
    pub auth: Arc<Auth>,
    pub control: Arc<dyn Control>,
    pub metrics: Arc<super::Metrics>,
}

/// Why a request stops at the gate.
#[derive(Debug)]
pub enum Refusal {
    Unauthenticated(AuthFailure),
    /// A state-changing request without its CSRF token, or from another site.
    NotGenuine,
    /// The policy does not allow it; the message says what the caller holds.
    Forbidden(String),
}

impl Refusal {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Refusal::Unauthenticated(_) => "unauthenticated",
            Refusal::NotGenuine => "csrf",
            Refusal::Forbidden(_) => "forbidden",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthenticated(AuthFailure::ForeignHost) => json_error(
                StatusCode::MISDIRECTED_REQUEST,
                "foreign_host",
                &AuthFailure::ForeignHost.to_string(),
            ),
            Refusal::Unauthenticated(failure) => {
                let challenge = match &failure {
                    AuthFailure::Missing | AuthFailure::ForeignHost => {
                        r#"Bearer realm="mortar""#.to_string()
                    }
                    AuthFailure::Bearer(e) => format!(
                        r#"Bearer realm="mortar", error="invalid_token", error_description="{e}""#
                    ),
                };
                let mut response = json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    &failure.to_string(),
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            Refusal::NotGenuine => json_error(
                StatusCode::FORBIDDEN,
                "csrf",
                "this request lacks the page's CSRF token or comes from another site",
            ),
            Refusal::Forbidden(message) => json_error(StatusCode::FORBIDDEN, "forbidden", &message),
        }
    }
}

impl Gate {
    /// Who is calling.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Authenticated, Refusal> {
        self.auth.authenticate(headers).await.map_err(|failure| {
            self.metrics
                .api_request("authenticate", failure.metric_label());
            Refusal::Unauthenticated(failure)
        })
    }

    /// Refuses a state-changing request that is not genuine (CSRF), and
    /// counts it.
    pub fn genuine(
        &self,
        caller: &Authenticated,
        headers: &HeaderMap,
        form_token: Option<&str>,
        action: &'static str,
    ) -> Result<(), Refusal> {
        if super::auth::request_is_genuine(caller, headers, form_token) {
            Ok(())
        } else {
            self.metrics.api_request(action, "csrf");
            Err(Refusal::NotGenuine)
        }
    }

    /// Whether `caller` may take `action` on `app`. Loopback callers (no
    /// sign-in configured) may do anything, as the CLI on this host may.
    pub fn decide(&self, caller: &Authenticated, action: Action, app: &AppStatus) -> Decision {
        if caller.identity.proof == Proof::Loopback {
            return Decision::Allowed {
                role: "admin".into(),
                via: crate::authz::Via::Default,
                origin: crate::manifest::resource::Origin {
                    file: "(no sign-in configured: loopback callers act as admin)".into(),
                    line: 0,
                    column: 0,
                },
            };
        }
        let tree = Arc::clone(&self.tree.borrow());
        decide(
            tree.policy.as_ref(),
            &caller.identity.caller(),
            action,
            &app.name,
            &app.project,
        )
    }

    /// Lets `caller` take `action` on `app`, or refuses with a message and
    /// an audit record of the denial.
    pub fn authorize(
        &self,
        caller: &Authenticated,
        action: Action,
        app: &AppStatus,
    ) -> Result<(), Refusal> {
        let decision = self.decide(caller, action, app);
        if decision.allowed() {
            return Ok(());
        }
        let who = &caller.identity.subject;
        let message = match decision {
            Decision::Denied { roles } if roles.is_empty() => format!(
                "{who} holds no role; the access policy does not allow {action} on {}",
                app.name
            ),
            Decision::Denied { roles } => format!(
                "{who} holds {}; none of them allows {action} on {}",
                roles.join(", "),
                app.name
            ),
            _ => format!(
                "the repository has no AccessPolicy, so nobody may {action} {} through the API",
                app.name
            ),
        };
        let record = RequestRecord {
            app: app.name.clone(),
            action: AuditAction::AccessDenied,
            by: requester(&caller.identity),
            outcome: Err(format!("denied {action}: {message}")),
            revision: None,
        };
        if let Err(e) = self.control.record(record) {
            tracing::error!(app = %app.name, error = %e, "cannot audit an access denial");
        }
        tracing::info!(app = %app.name, subject = %who, action = action.as_str(), "access denied");
        self.metrics.api_request(action.as_str(), "forbidden");
        Err(Refusal::Forbidden(message))
    }

    /// The app named `name` in the latest status.
    pub fn app(&self, name: &str) -> Option<AppStatus> {
        self.status.borrow().app(name).cloned()
    }
}
