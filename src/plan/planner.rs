//! From desired, live and last-applied state to one app's ordered plan:
//! ownership (create, update, adopt, conflict), pruning, field and
//! permission diffs, masking and dependency order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::PlanError;
use super::diff::{self, DiffContext, RawChange};
use super::model::{AppOptions, AppPlan, IgnoreRule, PlannedAction, Summary};
use super::order;
use super::pointer::Pattern;
use crate::model::DesiredResource;
use crate::model::mask;
use crate::model::reference;
use crate::model::{
    ActionKind, FieldChange, LastApplied, LiveObject, LiveState, ManagedResource, Ownership,
    PermissionChange, Unmatched,
};
use crate::model::{Kind, PermissionEntry, ResourceKey};

/// Everything the planner needs for one app. Borrowed, so callers keep
/// ownership of their (possibly large) maps.
#[derive(Debug, Clone, Copy)]
pub struct AppInput<'a> {
    pub app: &'a str,
    /// The app's resources as rendered from Git.
    pub desired: &'a [DesiredResource],
    /// Live objects for the desired keys and the inventory's keys.
    pub live: &'a LiveState,
    /// The app's inventory.
    pub last_applied: &'a LastApplied,
    pub ignore: &'a [IgnoreRule],
    pub options: AppOptions,
    /// Ids known from elsewhere (other apps, earlier applies), by key; the
    /// inventory's and live ids are added automatically.
    pub ids: &'a BTreeMap<ResourceKey, String>,
    /// Keys observing took no object for although one may exist, and why.
    pub unmatched: &'a BTreeMap<ResourceKey, Unmatched>,
}

/// Compiled ignore rules.
struct Ignores(Vec<(Option<Kind>, Option<String>, Vec<Pattern>)>);

impl Ignores {
    fn compile(app: &str, rules: &[IgnoreRule]) -> Result<Ignores, PlanError> {
        let mut out = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            let mut patterns = Vec::with_capacity(rule.json_pointers.len());
            for pointer in &rule.json_pointers {
                let pattern = Pattern::parse(pointer).map_err(|err| PlanError::IgnoreRule {
                    app: app.to_string(),
                    index,
                    pointer: pointer.clone(),
                    reason: err.to_string(),
                })?;
                patterns.push(pattern);
            }
            out.push((rule.kind, rule.name.clone(), patterns));
        }
        Ok(Ignores(out))
    }

    fn for_key(&self, key: &ResourceKey) -> Vec<Pattern> {
        self.0
            .iter()
            .filter(|(kind, name, _)| {
                kind.is_none_or(|k| k == key.kind) && name.as_ref().is_none_or(|n| *n == key.name)
            })
            .flat_map(|(_, _, p)| p.iter().cloned())
            .collect()
    }
}

/// Plans one app.
pub fn plan_app(input: &AppInput<'_>) -> Result<AppPlan, PlanError> {
    let ignores = Ignores::compile(input.app, input.ignore)?;
    let mut desired: BTreeMap<&ResourceKey, &DesiredResource> = BTreeMap::new();
    for resource in input.desired {
        if desired.insert(&resource.key, resource).is_some() {
            return Err(PlanError::DuplicateKey {
                key: resource.key.clone(),
            });
        }
    }
    let ids = known_ids(input);

    let mut forward: BTreeMap<ResourceKey, PlannedAction> = BTreeMap::new();
    let mut edges: BTreeMap<ResourceKey, BTreeSet<ResourceKey>> = BTreeMap::new();
    for (key, resource) in &desired {
        let action = plan_desired(input, resource, &ids, &ignores.for_key(key));
        edges.insert((*key).clone(), desired_deps(resource));
        forward.insert((*key).clone(), action);
    }

    let mut backward: BTreeMap<ResourceKey, PlannedAction> = BTreeMap::new();
    let mut back_edges: BTreeMap<ResourceKey, BTreeSet<ResourceKey>> = BTreeMap::new();
    for (key, managed) in input.last_applied {
        if desired.contains_key(key) {
            continue;
        }
        let action = plan_undeclared(input, key, managed);
        back_edges.insert(
            key.clone(),
            spec_deps(key, &managed.spec, &managed.permissions),
        );
        backward.insert(key.clone(), action);
    }

    // Objects tagged as this app's that neither Git nor the inventory
    // know: created by Mortar, inventory lost; prune candidates.
    for (key, live) in input.live {
        if live.managed_by.as_deref() != Some(input.app)
            || desired.contains_key(key)
            || input.last_applied.contains_key(key)
        {
            continue;
        }
        let mut a = if input.options.prune {
            action(ActionKind::Delete, key, Some(live.id.clone()))
        } else {
            action(ActionKind::DeleteSkipped, key, Some(live.id.clone()))
        };
        a.reason = Some(if input.options.prune {
            "no longer in Git; tagged as created by this app (not in the inventory)".to_string()
        } else {
            format!(
                "no longer in Git; tagged as created by this app (not in the inventory); \
                 would delete, but prune is disabled for app `{}`",
                input.app
            )
        });
        back_edges.insert(key.clone(), spec_deps(key, &live.spec, &live.permissions));
        backward.insert(key.clone(), a);
    }

    let mut actions = Vec::with_capacity(forward.len() + backward.len());
    for key in order::topological(&edges)? {
        if let Some(mut action) = forward.remove(&key) {
            action.after = in_plan(&edges, &key);
            actions.push(action);
        }
    }
    let delete_order = order::topological(&back_edges)?;
    let mut dependents: BTreeMap<&ResourceKey, BTreeSet<ResourceKey>> = BTreeMap::new();
    for (key, deps) in &back_edges {
        for dep in deps.iter().filter(|d| back_edges.contains_key(*d)) {
            dependents.entry(dep).or_default().insert(key.clone());
        }
    }
    for key in delete_order.iter().rev() {
        if let Some(mut action) = backward.remove(key) {
            action.after = dependents
                .get(key)
                .map(|d| d.iter().cloned().collect())
                .unwrap_or_default();
            actions.push(action);
        }
    }

    let mut plan = AppPlan {
        app: input.app.to_string(),
        actions,
        violations: Vec::new(),
        warnings: Vec::new(),
        summary: Summary::default(),
    };
    plan.resummarize();
    Ok(plan)
}

/// Ids for reference resolution: the caller's, then the inventory's, then
/// live objects'.
fn known_ids(input: &AppInput<'_>) -> BTreeMap<ResourceKey, String> {
    let mut ids = input.ids.clone();
    for (key, managed) in input.last_applied {
        ids.entry(key.clone()).or_insert_with(|| managed.id.clone());
    }
    for (key, live) in input.live {
        ids.entry(key.clone()).or_insert_with(|| live.id.clone());
    }
    ids
}

fn in_plan(
    edges: &BTreeMap<ResourceKey, BTreeSet<ResourceKey>>,
    key: &ResourceKey,
) -> Vec<ResourceKey> {
    edges
        .get(key)
        .map(|deps| {
            deps.iter()
                .filter(|d| edges.contains_key(*d))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn desired_deps(resource: &DesiredResource) -> BTreeSet<ResourceKey> {
    let mut deps = spec_deps(&resource.key, &resource.spec, &resource.permissions);
    deps.extend(resource.depends_on.iter().cloned());
    deps.remove(&resource.key);
    deps
}

/// Dependencies visible in a spec: its references, and the groups and
/// service principals its ACL names (same workspace).
fn spec_deps(
    key: &ResourceKey,
    spec: &Value,
    permissions: &[PermissionEntry],
) -> BTreeSet<ResourceKey> {
    let mut deps: BTreeSet<ResourceKey> = reference::in_value(spec)
        .into_iter()
        .map(|r| r.key_in(&key.workspace))
        .collect();
    deps.extend(
        permissions
            .iter()
            .filter_map(|entry| entry.principal.key_in(&key.workspace)),
    );
    deps.remove(key);
    deps
}

fn action(kind: ActionKind, key: &ResourceKey, id: Option<String>) -> PlannedAction {
    PlannedAction {
        action: kind,
        key: key.clone(),
        address: key.to_string(),
        id,
        changes: Vec::new(),
        permission_changes: Vec::new(),
        drift: false,
        reason: None,
        after: Vec::new(),
    }
}

fn plan_desired(
    input: &AppInput<'_>,
    resource: &DesiredResource,
    ids: &BTreeMap<ResourceKey, String>,
    ignore: &[Pattern],
) -> PlannedAction {
    let key = &resource.key;
    let managed = input.last_applied.get(key);
    if let Some(why) = input.unmatched.get(key) {
        let mut a = action(ActionKind::Conflict, key, None);
        a.reason = Some(unmatched_reason(key, &resource.spec, why));
        return a;
    }
    let Some(live) = input.live.get(key) else {
        let mut a = action(ActionKind::Create, key, None);
        a.changes = create_preview(&resource.spec);
        a.permission_changes = diff::diff_permissions(&resource.permissions, &[], None);
        if managed.is_some() {
            a.drift = true;
            a.reason = Some("deleted outside Mortar; it will be recreated".to_string());
        }
        return a;
    };
    let id = Some(live.id.clone());
    let tagged_ours = live.managed_by.as_deref() == Some(input.app);
    if let Some(other) = live.managed_by.as_deref().filter(|o| *o != input.app) {
        let mut a = action(ActionKind::Conflict, key, id);
        a.reason = Some(format!(
            "the live object (id {}) is tagged as managed by app `{other}`",
            live.id
        ));
        return a;
    }
    let last = match managed {
        Some(m) if m.id == live.id => Some(m),
        Some(m) if !tagged_ours => {
            let mut a = action(ActionKind::Conflict, key, id);
            a.reason = Some(format!(
                "the inventory records id {} but the live object with this name has id {}",
                m.id, live.id
            ));
            return a;
        }
        _ => None,
    };
    if last.is_none() && !tagged_ours && managed.is_none() && !input.options.adopt {
        let mut a = action(ActionKind::Conflict, key, id);
        a.reason = Some(format!(
            "a {} named `{}` already exists (id {}) and Mortar does not manage it; \
             set `adopt: true` on app `{}` to take it over",
            key.kind, key.name, live.id, input.app
        ));
        return a;
    }
    let adopting = last.is_none() && !tagged_ours && managed.is_none();
    let ctx = DiffContext {
        workspace: &key.workspace,
        ids,
        ignore,
    };
    let (changes, permission_changes) = diff_object(resource, live, last, &ctx);
    let kind = if adopting {
        ActionKind::Adopt
    } else if changes.is_empty() && permission_changes.is_empty() {
        ActionKind::NoOp
    } else {
        ActionKind::Update
    };
    let mut a = action(kind, key, id);
    a.drift = !adopting
        && (changes.iter().any(|c| c.drift) || permission_changes.iter().any(|c| c.drift));
    a.changes = changes;
    a.permission_changes = permission_changes;
    if adopting {
        a.reason = Some("pre-existing object adopted (`adopt: true`)".to_string());
    }
    a
}

/// Why no object was taken for `key`, and what to do about it.
fn unmatched_reason(key: &ResourceKey, spec: &Value, why: &Unmatched) -> String {
    let annotation = crate::model::ADOPT_ID_ANNOTATION;
    match why {
        Unmatched::SharedName { ids } => format!(
            "{} objects of kind {} are named `{}` (ids {}) and Mortar manages none of them: \
             name the one to adopt with the annotation `{annotation}: <id>`, or rename the others",
            ids.len(),
            key.kind,
            crate::databricks::kinds::spec(key.kind)
                .and_then(|k| k.name_of(spec))
                .unwrap_or_else(|| key.name.clone()),
            ids.join(", "),
        ),
        Unmatched::AdoptIdTaken { id, by } => format!(
            "`{annotation}: {id}` names the object {by} has: one object is adopted by one manifest"
        ),
        Unmatched::AdoptIdTwice { id, other } => format!(
            "`{annotation}: {id}` is named by {other} too: one object is adopted by one manifest"
        ),
        Unmatched::AdoptIdGone { id } => format!(
            "`{annotation}: {id}` names no {} in workspace `{}`: correct the id, or remove the annotation to create it",
            key.kind, key.workspace
        ),
    }
}

fn diff_object(
    resource: &DesiredResource,
    live: &LiveObject,
    last: Option<&ManagedResource>,
    ctx: &DiffContext<'_>,
) -> (Vec<FieldChange>, Vec<PermissionChange>) {
    let raw = diff::diff_spec(&resource.spec, &live.spec, last.map(|m| &m.spec), ctx);
    let perms = diff::diff_permissions(
        &resource.permissions,
        &live.permissions,
        last.map(|m| m.permissions.as_slice()),
    );
    (raw.iter().map(masked).collect(), perms)
}

/// A raw change as shown to people: values masked when the path or the
/// value looks sensitive.
pub fn masked(change: &RawChange) -> FieldChange {
    let sensitive = mask::is_sensitive_path(&change.path);
    let show = |v: &Option<Value>| v.as_ref().map(|v| mask::mask_at(sensitive, v));
    let old = show(&change.old);
    let new = show(&change.new);
    let hidden = old != change.old || new != change.new;
    FieldChange {
        path: change.pointer(),
        old,
        new,
        drift: change.drift,
        sensitive: hidden,
    }
}

/// The top-level fields of a new object, as additions.
fn create_preview(spec: &Value) -> Vec<FieldChange> {
    let Some(map) = spec.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            masked(&RawChange {
                path: vec![k.clone()],
                old: None,
                new: Some(v.clone()),
                drift: false,
            })
        })
        .collect()
}

fn plan_undeclared(
    input: &AppInput<'_>,
    key: &ResourceKey,
    managed: &ManagedResource,
) -> PlannedAction {
    let live = input.live.get(key).filter(|l| l.id == managed.id);
    let Some(live) = live else {
        let mut a = action(ActionKind::Forget, key, Some(managed.id.clone()));
        a.reason = Some("no longer in Git and already gone live".to_string());
        return a;
    };
    let id = Some(live.id.clone());
    match managed.ownership {
        Ownership::Adopted => {
            let mut a = action(ActionKind::Release, key, id);
            a.reason = Some(
                "no longer in Git; adopted rather than created by Mortar, so it is left in place"
                    .to_string(),
            );
            a
        }
        Ownership::Created if input.options.prune => action(ActionKind::Delete, key, id),
        Ownership::Created => {
            let mut a = action(ActionKind::DeleteSkipped, key, id);
            a.reason = Some(format!(
                "no longer in Git; would delete, but prune is disabled for app `{}`",
                input.app
            ));
            a
        }
    }
}
