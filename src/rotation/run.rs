//! One look at one rotation: the thin I/O shell around [`decide`]. It reads
//! the marker and the live credentials, asks for the next step, carries it
//! out (each call audited before and after, with the credential's id and
//! fingerprint), and asks again until the answer is to wait.
//!
//! A delivery that fails never revokes anything that was delivered before;
//! the new, undelivered credential is revoked at once, unless the target
//! cannot tell whether it arrived — then it stays `pending` in the marker
//! and the next look settles it (confirmed when the target holds it,
//! revoked otherwise).

use jiff::Timestamp;

use super::RotationError;
use super::decide::{self, Declared, Live, Observed, Step, Why};
use super::issuer::{self, Principal};
use super::marker::{Issuer, Marker, Pending, fingerprint};
use super::target::Target;
use crate::audit::{AuditAction, AuditEvent, AuditSink, ChangeSummary, Outcome, Trigger};
use crate::databricks::Client;
use crate::manifest::credentials::CredentialRotation;

/// Steps a look takes at most (a confirm, a revoke and a rotation fit).
const MAX_STEPS: usize = 6;

/// A step carried out, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    Create,
    Deliver,
    Revoke,
    /// A created credential that never reached its target, revoked.
    Discard,
    /// A pending credential found at its target, recorded as delivered.
    Confirm,
    /// A previous credential already gone, forgotten.
    Forget,
    /// Reading the marker or the live credentials.
    Look,
}

impl StepName {
    /// A bounded label.
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Create => "create",
            StepName::Deliver => "deliver",
            StepName::Revoke => "revoke",
            StepName::Discard => "discard",
            StepName::Confirm => "confirm",
            StepName::Forget => "forget",
            StepName::Look => "look",
        }
    }
}

/// One step done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub step: StepName,
    pub credential_id: String,
    pub fingerprint: String,
}

/// What one look did, and when the next is due.
#[derive(Debug)]
pub struct Checked {
    pub done: Vec<Done>,
    /// When the rotation wants its next look (when it ended well).
    pub next: Option<Timestamp>,
    /// The step that failed, and why.
    pub failed: Option<(StepName, RotationError)>,
}

/// Everything one look needs.
pub struct Context<'a> {
    pub client: &'a Client,
    pub app: &'a str,
    pub rotation: &'a CredentialRotation,
    pub principal: Principal,
    pub target: Target<'a>,
    pub audit: &'a dyn AuditSink,
    pub acting_as: Option<String>,
    pub revision: Option<String>,
}

impl Context<'_> {
    fn declared(&self) -> Declared {
        Declared {
            issuer: self.rotation.credential.into(),
            rotate_every: self.rotation.rotate_every,
            overlap: self.rotation.overlap,
        }
    }

    fn event(&self, action: AuditAction, id: Option<&str>, fp: Option<&str>) -> AuditEvent {
        let mut e = AuditEvent::intent(self.app, &self.rotation.key, action, Trigger::Controller);
        e.databricks_id = id.map(str::to_string);
        e.fingerprint = fp.map(str::to_string);
        e.acting_as = self.acting_as.clone();
        e.revision = self.revision.clone();
        e
    }
}

/// What a look holds between steps.
struct State {
    marker: Marker,
    live: Live,
    done: Vec<Done>,
}

/// Looks at one rotation and carries out what is due.
pub async fn check(ctx: &Context<'_>) -> Checked {
    let mut state = State {
        marker: Marker::default(),
        live: Live::new(),
        done: Vec::new(),
    };
    let result = steps(ctx, &mut state).await;
    match result {
        Ok(next) => Checked {
            done: state.done,
            next: Some(next),
            failed: None,
        },
        Err((step, e)) => Checked {
            done: state.done,
            next: None,
            failed: Some((step, e)),
        },
    }
}

type StepResult<T> = Result<T, (StepName, RotationError)>;

fn at(step: StepName) -> impl FnOnce(RotationError) -> (StepName, RotationError) {
    move |e| (step, e)
}

async fn steps(ctx: &Context<'_>, state: &mut State) -> StepResult<Timestamp> {
    let declared = ctx.declared();
    state.marker = ctx
        .target
        .read_marker()
        .await
        .map_err(at(StepName::Look))?
        .unwrap_or_default();
    let mut issuers = vec![declared.issuer];
    let m = &state.marker;
    issuers.extend(m.current.as_ref().map(|c| c.issuer));
    issuers.extend(m.previous.as_ref().map(|c| c.issuer));
    issuers.extend(m.pending.as_ref().map(|c| c.issuer));
    issuers.sort();
    issuers.dedup();
    for issuer in issuers {
        let ids = issuer::list(ctx.client, issuer, &ctx.principal)
            .await
            .map_err(|source| {
                (
                    StepName::Look,
                    RotationError::Databricks {
                        step: "cannot list the service principal's credentials",
                        source,
                    },
                )
            })?;
        state.live.insert(issuer, ids);
    }
    for _ in 0..MAX_STEPS {
        let delivered = match &state.marker.pending {
            Some(_) => ctx
                .target
                .delivered_fingerprint()
                .await
                .map_err(at(StepName::Look))?,
            None => None,
        };
        let now = Timestamp::now();
        let step = decide::decide(
            &declared,
            Observed {
                marker: Some(&state.marker),
                live: &state.live,
                delivered: delivered.as_deref(),
                now,
            },
        );
        match step {
            Step::Wait { until } => return Ok(until),
            Step::Rotate { why } => rotate(ctx, state, &declared, why).await?,
            Step::Confirm => {
                let next = decide::delivered(&state.marker, &declared, &state.live, now);
                let pending = state.marker.pending.clone();
                write(ctx, state, next, StepName::Confirm).await?;
                if let Some(p) = pending {
                    tracing::info!(app = ctx.app, key = %ctx.rotation.key, credential_id = %p.credential_id, fingerprint = %p.fingerprint, "a pending credential was found delivered; recorded as current");
                    state.done.push(Done {
                        step: StepName::Confirm,
                        credential_id: p.credential_id,
                        fingerprint: p.fingerprint,
                    });
                }
            }
            Step::Discard {
                credential_id,
                issuer,
                live,
            } => {
                let fp = state
                    .marker
                    .pending
                    .as_ref()
                    .map(|p| p.fingerprint.clone())
                    .unwrap_or_default();
                if live {
                    revoke(
                        ctx,
                        state,
                        issuer,
                        &credential_id,
                        &fp,
                        "created but never delivered",
                    )
                    .await
                    .map_err(at(StepName::Discard))?;
                }
                let next = decide::discarded(&state.marker);
                write(ctx, state, next, StepName::Discard).await?;
                state.done.push(Done {
                    step: StepName::Discard,
                    credential_id,
                    fingerprint: fp,
                });
            }
            Step::Revoke {
                credential_id,
                issuer,
            } => {
                let fp = state
                    .marker
                    .previous
                    .as_ref()
                    .map(|p| p.fingerprint.clone())
                    .unwrap_or_default();
                let successor = state
                    .marker
                    .current
                    .as_ref()
                    .map_or("-".to_string(), |c| c.credential_id.clone());
                let reason = format!(
                    "the overlap ({}) passed since its successor {successor} was delivered",
                    crate::config::show_duration(declared.overlap)
                );
                revoke(ctx, state, issuer, &credential_id, &fp, &reason)
                    .await
                    .map_err(at(StepName::Revoke))?;
                let next = decide::revoked(&state.marker);
                write(ctx, state, next, StepName::Revoke).await?;
                state.done.push(Done {
                    step: StepName::Revoke,
                    credential_id,
                    fingerprint: fp,
                });
            }
            Step::ForgetPrevious => {
                let next = decide::revoked(&state.marker);
                if let Some(p) = &state.marker.previous {
                    tracing::info!(app = ctx.app, key = %ctx.rotation.key, credential_id = %p.credential_id, "the previous credential is gone already; forgotten");
                    state.done.push(Done {
                        step: StepName::Forget,
                        credential_id: p.credential_id.clone(),
                        fingerprint: p.fingerprint.clone(),
                    });
                }
                write(ctx, state, next, StepName::Forget).await?;
            }
        }
    }
    // Still busy after the steps a look may take: look again soon.
    Ok(Timestamp::now())
}

async fn write(
    ctx: &Context<'_>,
    state: &mut State,
    marker: Marker,
    step: StepName,
) -> StepResult<()> {
    ctx.target.write_marker(&marker).await.map_err(at(step))?;
    state.marker = marker;
    Ok(())
}

/// Records `event`, then runs `call`, then records how it ended.
async fn audited<T>(
    ctx: &Context<'_>,
    event: AuditEvent,
    call: impl std::future::Future<Output = Result<T, RotationError>>,
    id_of: impl Fn(&T) -> (Option<String>, Option<String>),
) -> Result<T, RotationError> {
    ctx.audit.record(&event)?;
    let result = call.await;
    let outcome = match &result {
        Ok(v) => {
            let (id, fp) = id_of(v);
            let mut out = event.to_outcome(id, Outcome::Ok);
            out.fingerprint = fp.or(out.fingerprint);
            out
        }
        Err(e) => {
            let message =
                crate::databricks::redact::redact(&crate::engine::error_chain(e)).into_owned();
            event.to_outcome(None, Outcome::error(&message))
        }
    };
    ctx.audit.record(&outcome)?;
    result
}

async fn revoke(
    ctx: &Context<'_>,
    state: &mut State,
    issuer: Issuer,
    credential_id: &str,
    fp: &str,
    reason: &str,
) -> Result<(), RotationError> {
    let mut event = ctx.event(AuditAction::RotateRevoke, Some(credential_id), Some(fp));
    event.reason = Some(reason.to_string());
    let call = async {
        issuer::revoke(ctx.client, issuer, &ctx.principal, credential_id)
            .await
            .map_err(|source| RotationError::Databricks {
                step: "cannot revoke the credential",
                source,
            })
    };
    audited(ctx, event, call, |_| (None, None)).await?;
    if let Some(ids) = state.live.get_mut(&issuer) {
        ids.remove(credential_id);
    }
    tracing::info!(app = ctx.app, key = %ctx.rotation.key, credential_id, fingerprint = fp, reason, "rotation: revoked a credential");
    Ok(())
}

/// Creates a credential and delivers it; on a failed delivery, revokes it
/// (never the one delivered before).
async fn rotate(
    ctx: &Context<'_>,
    state: &mut State,
    declared: &Declared,
    why: Why,
) -> StepResult<()> {
    let mut event = ctx.event(AuditAction::RotateCreate, None, None);
    event.reason = Some(why.describe().to_string());
    let comment = format!("mortar rotation for {}", ctx.rotation.key);
    let call = async {
        issuer::create(
            ctx.client,
            declared.issuer,
            &ctx.principal,
            decide::lifetime(declared),
            &comment,
        )
        .await
        .map_err(|source| RotationError::Databricks {
            step: "cannot create the credential",
            source,
        })
    };
    let issued = audited(ctx, event, call, |i| {
        (Some(i.id.clone()), Some(fingerprint(i.value.expose())))
    })
    .await
    .map_err(at(StepName::Create))?;
    let fp = fingerprint(issued.value.expose());
    state
        .live
        .entry(declared.issuer)
        .or_default()
        .insert(issued.id.clone());
    tracing::info!(app = ctx.app, key = %ctx.rotation.key, credential_id = %issued.id, fingerprint = %fp, reason = why.describe(), "rotation: created a credential");
    state.done.push(Done {
        step: StepName::Create,
        credential_id: issued.id.clone(),
        fingerprint: fp.clone(),
    });
    let with_pending = decide::created(
        &state.marker,
        Pending {
            credential_id: issued.id.clone(),
            issuer: declared.issuer,
            fingerprint: fp.clone(),
            created: issued.created,
        },
    );
    let mut event = ctx.event(AuditAction::RotateDeliver, Some(&issued.id), Some(&fp));
    event.changes = vec![ChangeSummary {
        path: "credentials/deliver_to".into(),
        old: None,
        new: Some(ctx.target.describe()),
    }];
    // The marker first names the new credential as pending, so a crash
    // before the value lands leaves it known (and revoked at the next look).
    let mut marked = false;
    let delivery = async {
        ctx.target.write_marker(&with_pending).await?;
        marked = true;
        ctx.target.put_value(&issued.value).await
    };
    let delivered = audited(ctx, event, delivery, |_| (None, None)).await;
    if let Err(e) = delivered {
        let arrived = match marked {
            // Nothing names it anywhere but here: it did not arrive.
            false => Some(false),
            true => match ctx.target.delivered_fingerprint().await {
                Ok(found) => Some(found.as_deref() == Some(fp.as_str())),
                Err(_) => None,
            },
        };
        match arrived {
            Some(true) => {}
            Some(false) => {
                if let Err(revoke_error) = revoke(
                    ctx,
                    state,
                    declared.issuer,
                    &issued.id,
                    &fp,
                    "created but never delivered",
                )
                .await
                {
                    tracing::warn!(app = ctx.app, key = %ctx.rotation.key, credential_id = %issued.id, error = %crate::engine::error_chain(&revoke_error), "rotation: cannot revoke the undelivered credential; it expires with its lifetime");
                }
                if marked {
                    // Should this fail, the marker still names it pending
                    // and the next look forgets it.
                    let _ = ctx.target.write_marker(&state.marker).await;
                }
                return Err((StepName::Deliver, e));
            }
            None => {
                // Whether it arrived is unknown: it stays pending, and the
                // next look confirms or revokes it.
                state.marker = with_pending;
                return Err((StepName::Deliver, e));
            }
        }
    }
    state.marker = with_pending;
    tracing::info!(app = ctx.app, key = %ctx.rotation.key, credential_id = %issued.id, fingerprint = %fp, target = %ctx.target.describe(), "rotation: delivered a credential");
    state.done.push(Done {
        step: StepName::Deliver,
        credential_id: issued.id.clone(),
        fingerprint: fp,
    });
    let next = decide::delivered(&state.marker, declared, &state.live, Timestamp::now());
    write(ctx, state, next, StepName::Deliver).await
}
