//! The write API: `POST /api/v1/apps/{name}/{sync|refresh|rollback|pause|resume}`.
//! Each request passes the gate (who, CSRF, the access policy), is carried
//! out by the controller, and is written to the audit trail with the
//! caller's identity — taken on or refused.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::auth::Authenticated;
use super::control::{Accepted, Command, ControlError, Parameters, RequestRecord, requester};
use super::gate::{Gate, Refusal};
use super::{json_error, json_response};
use crate::model::AppStatus;

/// The largest request body the write API reads.
pub const MAX_COMMAND_BYTES: usize = 16 * 1024;

/// The answer to a command taken on.
#[derive(Debug, Serialize)]
struct CommandAnswer<'a> {
    app: &'a str,
    command: &'static str,
    #[serde(flatten)]
    accepted: Accepted,
}

/// `POST /api/v1/apps/{name}/{command}`: 202 when taken on.
pub(crate) async fn post_command(
    State(gate): State<Gate>,
    Path((name, command)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match gate.caller(&headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = gate.genuine(&caller, &headers, None, "command") {
        return refusal.into_response();
    }
    let body: Parameters = if body.iter().all(u8::is_ascii_whitespace) {
        Parameters::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    &format!("the body is not a command: {e}"),
                );
            }
        }
    };
    let command = match Command::named(&command, body) {
        Some(Ok(c)) => c,
        Some(Err(message)) => {
            return json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &message);
        }
        None => return json_error(StatusCode::NOT_FOUND, "not_found", "no such command"),
    };
    let Some(app) = gate.app(&name) else {
        return json_error(StatusCode::NOT_FOUND, "not_found", &no_app(&name));
    };
    match perform(&gate, &caller, &app, &command).await {
        Ok(accepted) => json_response(
            StatusCode::ACCEPTED,
            &CommandAnswer {
                app: &app.name,
                command: command.label(),
                accepted,
            },
        ),
        Err(Failure::Refused(refusal)) => refusal.into_response(),
        Err(Failure::Control(e)) => json_error(e.status(), e.metric_label(), &e.to_string()),
    }
}

/// Why a command was not carried out.
#[derive(Debug)]
pub enum Failure {
    Refused(Refusal),
    Control(ControlError),
}

/// Authorizes `command` for `caller` on `app`, carries it out, and audits
/// it either way. Shared by the JSON API and the web view's buttons.
pub async fn perform(
    gate: &Gate,
    caller: &Authenticated,
    app: &AppStatus,
    command: &Command,
) -> Result<Accepted, Failure> {
    for action in command.actions(app) {
        gate.authorize(caller, action, app)
            .map_err(Failure::Refused)?;
    }
    let outcome = gate.control.carry_out(app, command, &caller.identity).await;
    let revision = match (&outcome, command) {
        (Ok(a), _) => a.revision.clone(),
        (Err(_), Command::Rollback { revision }) => Some(revision.clone()),
        _ => None,
    };
    let record = RequestRecord {
        app: app.name.clone(),
        action: command.audit_action(),
        by: requester(&caller.identity),
        outcome: outcome.as_ref().map(|_| ()).map_err(ToString::to_string),
        revision,
    };
    if let Err(e) = gate.control.record(record) {
        tracing::error!(app = %app.name, error = %e, "cannot audit a request");
    }
    let result = outcome
        .as_ref()
        .map_or_else(|e| e.metric_label(), |_| "accepted");
    gate.metrics.api_request(command.label(), result);
    tracing::info!(
        app = %app.name,
        subject = %caller.identity.subject,
        command = command.label(),
        result,
        "API request"
    );
    outcome.map_err(Failure::Control)
}

/// "no app named …", with the name cut short and made printable.
pub(crate) fn no_app(name: &str) -> String {
    format!(
        "no app named `{}`",
        crate::manifest::diag::printable(&name.chars().take(100).collect::<String>())
    )
}
