//! The actions themselves: create, update (or adopt, or heal), delete,
//! release and forget one object, each API call wrapped in an audit intent
//! and outcome, the inventory saved after each.

use serde_json::Value;
use tracing::Instrument;

use super::Ctx;
use super::error::{ActionError, api};
use crate::apply::inventory::Inventory;
use crate::apply::prepare::PreparedApp;
use crate::apply::secrets;
use crate::audit::{AuditAction, AuditEvent, ChangeSummary, Outcome};
use crate::databricks::kinds::permissions::with_create_acl;
use crate::databricks::{Client, Desired, KindAdapter, Secret, adapter};
use crate::model::{PermissionEntry, ResourceKey};
use crate::plan::resolve;
use crate::plan::{ActionKind, ManagedResource, Ownership, PlannedAction, mask};

impl Ctx {
    fn event(&self, app: &str, key: &ResourceKey, action: AuditAction) -> AuditEvent {
        let mut e = AuditEvent::intent(app, key, action, self.opts.trigger.clone());
        e.revision = self.opts.revision.clone();
        e.commit_author = self.opts.commit_author.clone();
        e.acting_as = self.opts.acting_as.get(&key.workspace).cloned();
        e.sync_id = self.opts.sync_id.clone();
        e
    }

    fn record(&self, event: &AuditEvent) -> Result<(), ActionError> {
        // An fsync (or several): let the runtime move other tasks away.
        blocking(|| self.audit.record(event))
            .map(|_| ())
            .map_err(ActionError::Audit)
    }

    /// Intent, call, outcome.
    async fn audited<T, F>(&self, intent: AuditEvent, call: F) -> Result<T, ActionError>
    where
        F: std::future::Future<Output = Result<T, ActionError>>,
        T: IdOf,
    {
        self.record(&intent)?;
        let result = call.await;
        let outcome = match &result {
            Ok(v) => intent.to_outcome(v.id_of(), Outcome::Ok),
            Err(e) => intent.to_outcome(None, Outcome::error(&e.chain())),
        };
        self.record(&outcome)?;
        result
    }

    fn save(&self, app: usize, change: impl FnOnce(&mut Inventory)) -> Result<(), ActionError> {
        let mut inv = self.inventories[app]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut inv);
        blocking(|| self.store.save(&inv)).map_err(ActionError::Inventory)
    }

    fn resolved(
        &self,
        app: &PreparedApp,
        key: &ResourceKey,
    ) -> Result<(Value, Vec<PermissionEntry>), ActionError> {
        let desired = app
            .desired
            .get(key)
            .ok_or_else(|| ActionError::NotDesired { key: key.clone() })?;
        let known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (spec, left) = resolve::resolve_spec(desired, &known, resolve::Mode::Final);
        let (perms, left_p) =
            resolve::resolve_permissions(&desired.permissions, &key.workspace, &known, false);
        if left || left_p {
            return Err(ActionError::UnresolvedReference { key: key.clone() });
        }
        Ok((spec, perms))
    }
}

/// The adapter of the key's kind.
fn kind_adapter(key: &ResourceKey) -> Result<&'static dyn KindAdapter, ActionError> {
    adapter(key.kind).ok_or(ActionError::NotDatabricks { kind: key.kind })
}

/// Runs blocking file I/O (fsyncs) so the runtime can move other tasks to
/// another worker; on a single-threaded runtime it simply runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

trait IdOf {
    fn id_of(&self) -> Option<String>;
}

impl IdOf for () {
    fn id_of(&self) -> Option<String> {
        None
    }
}

impl IdOf for String {
    fn id_of(&self) -> Option<String> {
        Some(self.clone())
    }
}

/// Carries out one action; returns the object's id.
pub(super) async fn run(
    ctx: &Ctx,
    app_index: usize,
    action: &PlannedAction,
) -> Result<Option<String>, ActionError> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let client = ctx
        .clients
        .get(&key.workspace)
        .ok_or_else(|| ActionError::UnknownWorkspace {
            workspace: key.workspace.clone(),
        })?;
    // The schedule started this action with a free slot in its workspace;
    // a cancellation since then still stops it before any call.
    if ctx.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let span = tracing::info_span!("apply", app = %app.name, workspace = %key.workspace, kind = %key.kind, key = %key);
    run_action(ctx, app_index, client, action)
        .instrument(span)
        .await
}

async fn run_action(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<Option<String>, ActionError> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    match action.action {
        ActionKind::Create => create(ctx, app_index, client, action).await.map(Some),
        ActionKind::Update | ActionKind::Adopt => {
            update(ctx, app_index, client, action).await?;
            Ok(action.id.clone())
        }
        ActionKind::Delete => {
            let id = action.id.clone().ok_or_else(|| ActionError::NoId {
                key: key.clone(),
                action: "delete",
            })?;
            let a = kind_adapter(key)?;
            let mut intent = ctx.event(&app.name, key, AuditAction::Delete);
            intent.databricks_id = Some(id.clone());
            ctx.audited(intent, async {
                a.delete(client, &id).await.map_err(api("delete"))
            })
            .await?;
            ctx.save(app_index, |inv| {
                inv.remove(key);
            })?;
            Ok(Some(id))
        }
        ActionKind::Release | ActionKind::Forget => {
            ctx.save(app_index, |inv| {
                inv.remove(key);
            })?;
            Ok(action.id.clone())
        }
        _ => Ok(action.id.clone()),
    }
}

async fn create(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<String, ActionError> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = kind_adapter(key)?;
    let (spec, perms) = ctx.resolved(app, key)?;
    // Secret values are read before anything is created, so a source that
    // cannot be read leaves no half-made scope behind.
    let secret_values = if a.holds_secrets() {
        read_secrets(ctx, app, key, None)?
    } else {
        Vec::new()
    };
    // Where the create call takes the ACL, it rides along: one request,
    // and the intent's body shows it.
    let acl_in_body = !perms.is_empty() && a.acl_in_create();
    let body = if acl_in_body {
        with_create_acl(&spec, &perms)
    } else {
        spec
    };
    let mut intent = ctx.event(&app.name, key, AuditAction::Create);
    intent.changes = body_changes(&body, action);
    let desired = Desired {
        key,
        app: &app.name,
        spec: &body,
    };
    // An object without ownership tags is found again after a crash only
    // through a marker another replica can read (where state is shared).
    let marked = !a.carries_tags();
    if marked {
        blocking(|| ctx.store.intend_create(&app.name, key)).map_err(ActionError::Inventory)?;
    }
    let created = ctx
        .audited(intent, async {
            a.create(client, desired).await.map_err(api("create"))
        })
        .await;
    if marked
        && created.is_err()
        && let Err(e) = blocking(|| ctx.store.forget_create(&app.name, key))
    {
        // Left in place, it only makes a later plan adopt an object of this
        // name without a tag, which a failed create did not make.
        tracing::warn!(error = %crate::error_chain::error_chain(&e), "cannot drop the marker of a failed create");
    }
    let id: String = created?;
    {
        let mut known = ctx
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.ids.insert(key.clone(), id.clone());
    }
    if a.reads_back_ids_after_create() {
        let live = a
            .get(client, &id)
            .await
            .map_err(api("read the application id"))?;
        if let Some(app_id) = live.as_ref().and_then(|l| a.application_id(&l.raw)) {
            let mut known = ctx
                .known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            known.application_ids.insert(key.clone(), app_id);
        }
    }
    let (normalized, recorded_acl) = app
        .normalized
        .get(key)
        .map(|r| (r.spec.clone(), r.permissions.clone()))
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        inv.upsert(
            key.clone(),
            ManagedResource {
                id: id.clone(),
                spec: normalized,
                permissions: if acl_in_body {
                    recorded_acl
                } else {
                    Vec::new()
                },
                revision: ctx.opts.revision.clone(),
                ownership: Ownership::Created,
            },
        );
    })?;
    put_secrets(ctx, app, client, key, &id, secret_values).await?;
    if !perms.is_empty() && !acl_in_body {
        set_permissions(ctx, app_index, client, action, &id, &perms).await?;
    }
    Ok(id)
}

/// A create's audit intent: every field of the body the call sends (masked;
/// not the normalized view the planner compared, which drops defaults), then
/// the secrets a scope is given (their sources, never their values).
fn body_changes(body: &Value, action: &PlannedAction) -> Vec<ChangeSummary> {
    let fields = body.as_object().into_iter().flatten().map(|(k, v)| {
        ChangeSummary::from_field(&crate::plan::FieldChange {
            path: format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            old: None,
            new: Some(v.clone()),
            drift: false,
            sensitive: false,
        })
    });
    let secrets = action
        .changes
        .iter()
        .filter(|c| c.path.starts_with("/secrets/"))
        .map(ChangeSummary::from_field);
    fields.chain(secrets).collect()
}

/// The values of the scope's secrets (only those in `only`, if given),
/// read from the sources the app's project may read.
fn read_secrets(
    ctx: &Ctx,
    app: &PreparedApp,
    key: &ResourceKey,
    only: Option<&[&str]>,
) -> Result<Vec<(String, Secret)>, ActionError> {
    let policy = secrets::SecretPolicy {
        project: &app.project,
        allowance: ctx.opts.secrets.projects.get(&app.project),
        credentials: &ctx.opts.credentials,
    };
    app.secrets
        .iter()
        .filter(|s| &s.scope == key && only.is_none_or(|o| o.contains(&s.key.as_str())))
        .map(|s| {
            secrets::read_value(s, policy)
                .map(|v| (s.key.clone(), v))
                .map_err(ActionError::Secret)
        })
        .collect()
}

async fn put_secrets(
    ctx: &Ctx,
    app: &PreparedApp,
    client: &Client,
    key: &ResourceKey,
    scope: &str,
    values: Vec<(String, Secret)>,
) -> Result<(), ActionError> {
    let a = kind_adapter(key)?;
    for (secret_key, value) in values {
        let mut intent = ctx.event(&app.name, key, AuditAction::Update);
        intent.databricks_id = Some(scope.to_string());
        intent.changes = vec![ChangeSummary {
            path: format!("/secrets/{secret_key}"),
            old: None,
            new: Some(format!("\"{}\"", mask::SENSITIVE)),
        }];
        ctx.audited(intent, async {
            a.put_secret(client, scope, &secret_key, &value)
                .await
                .map_err(|source| {
                    ActionError::Secret(secrets::SecretError::Put {
                        key: secret_key.clone(),
                        source: Box::new(source),
                    })
                })
        })
        .await?;
    }
    Ok(())
}

async fn set_permissions(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
    id: &str,
    perms: &[PermissionEntry],
) -> Result<(), ActionError> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = kind_adapter(key)?;
    let mut intent = ctx.event(&app.name, key, AuditAction::SetPermissions);
    intent.databricks_id = Some(id.to_string());
    intent.changes = action
        .permission_changes
        .iter()
        .map(ChangeSummary::from_permission)
        .collect();
    ctx.audited(intent, async {
        a.write_permissions(client, id, perms)
            .await
            .map_err(api("write permissions"))
    })
    .await?;
    let recorded = app
        .normalized
        .get(key)
        .map(|r| r.permissions.clone())
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        if let Some(mut m) = inv.get(key).cloned() {
            m.permissions = recorded;
            inv.upsert(key.clone(), m);
        }
    })
}

async fn update(
    ctx: &Ctx,
    app_index: usize,
    client: &Client,
    action: &PlannedAction,
) -> Result<(), ActionError> {
    let app = &ctx.apps[app_index];
    let key = &action.key;
    let a = kind_adapter(key)?;
    let id = action.id.clone().ok_or_else(|| ActionError::NoId {
        key: key.clone(),
        action: "update",
    })?;
    let (spec, perms) = ctx.resolved(app, key)?;
    let adopting = action.action == ActionKind::Adopt;
    let (secret_changes, changes): (Vec<_>, Vec<_>) = action
        .changes
        .iter()
        .cloned()
        .partition(|c| a.holds_secrets() && c.path.starts_with("/secrets/"));
    // Adopting a kind that carries ownership tags writes them, even when
    // nothing else differs.
    if !changes.is_empty() || (adopting && a.carries_tags()) {
        let kind = if adopting {
            AuditAction::Adopt
        } else if changes.iter().any(|c| c.drift) {
            AuditAction::Heal
        } else {
            AuditAction::Update
        };
        let mut intent = ctx.event(&app.name, key, kind);
        intent.databricks_id = Some(id.clone());
        intent.changes = changes.iter().map(ChangeSummary::from_field).collect();
        intent.reason = action.reason.clone();
        let desired = Desired {
            key,
            app: &app.name,
            spec: &spec,
        };
        ctx.audited(intent, async {
            a.update(client, &id, desired).await.map_err(api("update"))
        })
        .await?;
    }
    let normalized = app
        .normalized
        .get(key)
        .map(|r| r.spec.clone())
        .unwrap_or_default();
    ctx.save(app_index, |inv| {
        let previous = inv.get(key).cloned();
        let ownership = match (&previous, adopting) {
            (_, true) => Ownership::Adopted,
            (Some(p), false) => p.ownership,
            (None, false) => Ownership::Created,
        };
        inv.upsert(
            key.clone(),
            ManagedResource {
                id: id.clone(),
                spec: normalized,
                permissions: previous.map(|p| p.permissions).unwrap_or_default(),
                revision: ctx.opts.revision.clone(),
                ownership,
            },
        );
    })?;
    if !secret_changes.is_empty() {
        let missing: Vec<&str> = secret_changes
            .iter()
            .filter_map(|c| c.path.strip_prefix("/secrets/"))
            .collect();
        let values = read_secrets(ctx, app, key, Some(&missing))?;
        put_secrets(ctx, app, client, key, &id, values).await?;
    }
    if !action.permission_changes.is_empty() {
        set_permissions(ctx, app_index, client, action, &id, &perms).await?;
    }
    Ok(())
}
