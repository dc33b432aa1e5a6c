//! The API's commands, carried out on the running controller: a sync or a
//! drift check becomes a nudge to the runner (the sync's records then name
//! the caller), a rollback or pause a pin in the state directory (the
//! runner reads pins within seconds), a resume the pin's removal. Requests
//! and denials are written to the audit trail through the engine.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::pins::{Pin, PinStore};
use super::requests::{AppRequest, Ask};
use super::runner::Nudge;
use crate::audit::{AuditEvent, Outcome, Trigger};
use crate::engine::Engine;
use crate::model::{AppStatus, Kind, ResourceKey};
use crate::server::auth::Identity;
use crate::server::control::{Accepted, Command, Control, ControlError, RequestRecord};

/// The controller behind the API.
pub struct Commands {
    engine: Arc<Engine>,
    nudges: mpsc::Sender<Nudge>,
    pins: PinStore,
}

impl Commands {
    pub fn new(engine: Arc<Engine>, nudges: mpsc::Sender<Nudge>) -> Commands {
        let pins = PinStore::new(&engine.config().state.dir);
        Commands {
            engine,
            nudges,
            pins,
        }
    }

    fn nudge(&self, nudge: Nudge, message: String) -> Result<Accepted, ControlError> {
        self.nudges.try_send(nudge).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                ControlError::Unavailable("the controller is busy; ask again in a moment".into())
            }
            mpsc::error::TrySendError::Closed(_) => {
                ControlError::Unavailable("the controller is shutting down".into())
            }
        })?;
        Ok(Accepted {
            message,
            revision: None,
        })
    }

    fn pin(&self, app: &str, commit: &str, by: &Identity) -> Result<(), ControlError> {
        self.pins
            .set(
                app,
                Some(Pin {
                    commit: commit.to_string(),
                    by: by.display(),
                    at: jiff::Timestamp::now(),
                }),
            )
            .map(|_| ())
            .map_err(|e| ControlError::Unavailable(crate::error_chain::error_chain(&e)))
    }

    /// The full commit `revision` names, if `app` renders there.
    async fn resolve(&self, app: &str, revision: &str) -> Result<String, ControlError> {
        let engine = Arc::clone(&self.engine);
        let at = revision.to_string();
        let tree = tokio::task::spawn_blocking(move || engine.render_at(&at))
            .await
            .map_err(|e| ControlError::Unavailable(e.to_string()))?
            .map_err(|e| {
                ControlError::Invalid(format!(
                    "cannot read revision `{revision}`: {}",
                    crate::engine::error_chain(&e)
                ))
            })?;
        let commit = tree
            .revision
            .as_ref()
            .map(|r| r.commit.clone())
            .ok_or_else(|| ControlError::Invalid("the source has no revisions".into()))?;
        if tree.rendered.app(app).is_none() {
            return Err(ControlError::Invalid(format!(
                "app `{app}` does not render at {}",
                short(&commit)
            )));
        }
        Ok(commit)
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// A sync that names a revision goes ahead only if the controller follows
/// that revision: what was reviewed is what is applied.
fn expect_revision(app: &AppStatus, expected: &str) -> Result<(), ControlError> {
    let hex = expected.chars().all(|c| c.is_ascii_hexdigit());
    if !hex || expected.len() < 7 {
        return Err(ControlError::Invalid(format!(
            "`{}` is not a commit: give at least 7 hex digits",
            crate::manifest::diag::printable(expected)
        )));
    }
    match &app.revision_seen {
        Some(seen) if seen.starts_with(&expected.to_ascii_lowercase()) => Ok(()),
        Some(seen) => Err(ControlError::Conflict(format!(
            "{} follows {}, not {expected}: a sync applies the revision the controller follows (wait for it to fetch yours, or roll back to hold another)",
            app.name,
            short(seen)
        ))),
        None => Err(ControlError::Conflict(format!(
            "{} has no revision yet",
            app.name
        ))),
    }
}

#[async_trait::async_trait]
impl Control for Commands {
    async fn carry_out(
        &self,
        app: &AppStatus,
        command: &Command,
        by: &Identity,
    ) -> Result<Accepted, ControlError> {
        let name = app.name.clone();
        let request = |ask: Ask, prune: bool| {
            Nudge::Request(AppRequest {
                app: name.clone(),
                ask,
                prune,
                by: Trigger::Api(by.display()),
                at: jiff::Timestamp::now(),
            })
        };
        match command {
            Command::Sync(options) => {
                if let Some(expected) = &options.revision {
                    expect_revision(app, expected)?;
                }
                if options.dry_run {
                    return self.nudge(
                        request(Ask::DryRun, options.prune),
                        format!(
                            "{name} is planned within seconds and nothing is applied; its page shows the plan"
                        ),
                    );
                }
                let pruning = if options.prune && !app.prune {
                    ", deleting what left Git this once"
                } else {
                    ""
                };
                self.nudge(
                    request(Ask::Sync, options.prune),
                    format!(
                        "{name} syncs within seconds{pruning}; its history will name {}",
                        by.display()
                    ),
                )
            }
            Command::Refresh => self.nudge(
                request(Ask::Refresh, false),
                format!("{name} is compared with its workspaces within seconds"),
            ),
            Command::Rollback { revision } => {
                let commit = self.resolve(&name, revision).await?;
                self.pin(&name, &commit, by)?;
                Ok(Accepted {
                    message: format!(
                        "{name} is rolled back to {} within seconds, its automated sync paused until resumed",
                        short(&commit)
                    ),
                    revision: Some(commit),
                })
            }
            Command::Pause => {
                if let Some(pinned) = &app.pinned {
                    return Err(ControlError::Conflict(format!(
                        "{name} is paused already, at {}",
                        short(pinned)
                    )));
                }
                let commit = app.revision_applied.clone().ok_or_else(|| {
                    ControlError::Conflict(format!(
                        "{name} has no revision applied yet to hold it at"
                    ))
                })?;
                self.pin(&name, &commit, by)?;
                Ok(Accepted {
                    message: format!("{name}'s automated sync is paused at {}", short(&commit)),
                    revision: Some(commit),
                })
            }
            Command::Resume => {
                if self.engine.config().controller.pins.contains_key(&name) {
                    return Err(ControlError::Conflict(format!(
                        "{name} is pinned in the controller's config (controller.pins); remove it there"
                    )));
                }
                match self.pins.set(&name, None) {
                    Ok(Some(_)) => Ok(Accepted {
                        message: format!(
                            "{name}'s automated sync resumes at the newest revision within seconds"
                        ),
                        revision: None,
                    }),
                    Ok(None) => Err(ControlError::Conflict(format!("{name} is not paused"))),
                    Err(e) => Err(ControlError::Unavailable(crate::error_chain::error_chain(
                        &e,
                    ))),
                }
            }
        }
    }

    fn record(&self, record: RequestRecord) -> Result<(), String> {
        let key = ResourceKey {
            workspace: String::new(),
            kind: Kind::Application,
            name: record.app.clone(),
        };
        let display = crate::audit::person(&record.by.subject, record.by.email.as_deref());
        let mut event =
            AuditEvent::observed(&record.app, &key, record.action, Trigger::Api(display));
        event.key = format!("Application/{}", record.app);
        event.revision = record.revision;
        event.outcome = Some(match record.outcome {
            Ok(()) => Outcome::Ok,
            Err(reason) => Outcome::error(&reason),
        });
        event.requested_by = Some(record.by);
        self.engine
            .record_event(&event)
            .map_err(|e| crate::engine::error_chain(&e))
    }
}
