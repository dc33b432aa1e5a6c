//! The planning pipeline for a rendered app tree: inventories, live state,
//! application ids, one plan per app, the guard. An app the renderer
//! blocked is planned as its errors alone: not observed, not diffed, and
//! never planned as deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::ApplyError;
use super::defaults;
use super::guard;
use super::inventory::{Inventory, InventoryStore};
use super::recovery;
use super::resolve::{self, Known, Mode};
use crate::config::SecretsConfig;
use crate::databricks::{Client, adapter};
use crate::manifest::{
    BlockedApp, DesiredResource, Kind, Project, Rendered, RenderedApp, ResourceKey, SecretRef,
    SecretSource,
};
use crate::observe::{self, Observed, Stats, Wants};
use crate::plan::{
    ActionKind, AppInput, AppOptions, AppPlan, FieldChange, IgnoreRule, ManagedResource, Ownership,
    Plan, Violation, plan_app,
};

/// A filter over the rendered apps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AppFilter {
    /// Every app, and the apps Git no longer declares (their inventories).
    #[default]
    All,
    /// These apps by name; an unknown name is an error.
    Named(BTreeSet<String>),
    /// The apps whose sync policy is automated.
    Automated,
}

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// Which apps.
    pub apps: AppFilter,
    /// Prune every app (`apply --prune`), whatever its sync policy says.
    pub prune: bool,
    /// The Git commit the tree was rendered from.
    pub revision: Option<String>,
    /// The audit log, read for creates a crash left without an outcome.
    pub audit_file: Option<PathBuf>,
    /// Save inventories completed by crash recovery (apply does; plan only
    /// uses them in memory).
    pub save_recovered: bool,
    /// Which secret sources each project may read.
    pub secrets: SecretsConfig,
}

/// One app, ready to apply.
#[derive(Debug, Clone)]
pub struct PreparedApp {
    pub name: String,
    /// The app's project ("" for an app Git no longer declares).
    pub project: String,
    /// Desired resources as rendered (what create and update calls send,
    /// once their references resolve).
    pub desired: BTreeMap<ResourceKey, DesiredResource>,
    /// The same, normalized by their adapters: what the planner compared
    /// and what the inventory records as last applied.
    pub normalized: BTreeMap<ResourceKey, DesiredResource>,
    pub inventory: Inventory,
    pub secrets: Vec<SecretRef>,
    pub options: AppOptions,
}

/// A plan with everything needed to apply it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    pub apps: Vec<PreparedApp>,
    pub observed: Observed,
    /// Ids and application ids known before applying.
    pub known: Known,
}

fn project_of(rendered: &Rendered, project: &str) -> Project {
    rendered
        .projects
        .iter()
        .find(|p| p.name == project)
        .cloned()
        .unwrap_or_else(|| Project::permissive(project))
}

/// A blocked app's plan: no actions, one violation per error.
fn blocked_plan(app: &BlockedApp) -> AppPlan {
    let mut plan = AppPlan {
        app: app.name.clone(),
        actions: Vec::new(),
        violations: Vec::new(),
        summary: Default::default(),
    };
    plan.add_violations(app.diagnostics.iter().map(|d| Violation {
        rule: d.rule.unwrap_or("manifest").to_string(),
        key: None,
        message: d.to_string(),
    }));
    plan
}

/// Plans `rendered` against the workspaces behind `clients`.
pub async fn prepare(
    rendered: &Rendered,
    clients: &BTreeMap<String, Client>,
    store: &InventoryStore,
    options: &PrepareOptions,
    stats: &Stats,
) -> Result<Prepared, ApplyError> {
    let (selected, blocked) = select(rendered, &options.apps)?;
    let mut inventories = BTreeMap::new();
    let mut wants = Wants::default();
    let mut inventory_ids = Known::default();
    for app in &selected {
        let inventory = store.load(&app.name)?;
        inventory_ids.ids.extend(inventory.ids());
        inventories.insert(app.name.clone(), inventory);
    }
    // Names can hold references (a schema's catalog): fill in what the
    // inventories know, then look again for what only live ids resolve.
    let mut unresolved_names = Vec::new();
    for app in &selected {
        let resources = with_names_resolved(&app.resources, &inventory_ids);
        for r in &resources {
            if adapter(r.key.kind)
                .and_then(|a| a.name_of(&r.spec))
                .is_some_and(|n| n.contains("${"))
            {
                unresolved_names.push((app.name.clone(), r.clone()));
            }
        }
        wants.add_desired(&app.name, &resources);
        if let Some(inv) = inventories.get(&app.name) {
            wants.add_inventory(&app.name, &inv.resources);
        }
    }
    // Apps Git no longer declares at all, whose inventory is still there.
    // A blocked app is still declared; and while one that may declare apps
    // is blocked, the apps it declares are unknown, so none is taken for gone.
    let mut orphans = Vec::new();
    let children_unknown = rendered.blocked.iter().any(|b| {
        let project = project_of(rendered, &b.project);
        project.allows_kind(Kind::Application) || project.allows_kind(Kind::ApplicationSet)
    });
    if children_unknown {
        tracing::warn!(
            "an app that declares apps is blocked: apps missing from Git are not planned for removal"
        );
    }
    if options.apps == AppFilter::All && !children_unknown {
        for name in inventory_names(store) {
            if rendered.app(&name).is_none() && rendered.blocked_app(&name).is_none() {
                let inventory = store.load(&name)?;
                inventory_ids.ids.extend(inventory.ids());
                wants.add_inventory(&name, &inventory.resources);
                orphans.push(inventory);
            }
        }
    }
    let mut observed = observe::observe(clients, &wants, stats).await?;
    if !unresolved_names.is_empty() {
        let mut known_now = inventory_ids.clone();
        for (key, live) in &observed.live {
            known_now
                .ids
                .entry(key.clone())
                .or_insert_with(|| live.id.clone());
        }
        let mut again = Wants::default();
        for (app, r) in &unresolved_names {
            if observed.live.contains_key(&r.key) {
                continue;
            }
            let resolved = with_names_resolved(std::slice::from_ref(r), &known_now);
            again.add_desired(app, &resolved);
        }
        if !again.by_workspace.is_empty() {
            let more = observe::observe(clients, &again, stats).await?;
            for (key, live) in more.live {
                observed.live.entry(key.clone()).or_insert(live);
            }
            observed.application_ids.extend(more.application_ids);
        }
    }

    // Only a verified log is read: a trail that does not verify stops the
    // plan rather than being trusted (or ignored) for recovery.
    let dangling = match &options.audit_file {
        Some(file) => recovery::dangling_creates(file)?,
        None => Default::default(),
    };

    let mut known = Known {
        ids: BTreeMap::new(),
        application_ids: observed.application_ids.clone(),
    };
    for inv in inventories.values() {
        known.ids.extend(inv.ids());
    }
    for (key, live) in &observed.live {
        known
            .ids
            .entry(key.clone())
            .or_insert_with(|| live.id.clone());
    }

    let mut apps = Vec::new();
    let mut plans = Vec::new();
    for app in selected {
        let mut inventory = inventories
            .remove(&app.name)
            .unwrap_or_else(|| Inventory::new(&app.name));
        let mut desired = BTreeMap::new();
        let mut normalized = BTreeMap::new();
        for r in &app.resources {
            let ws = &r.key.workspace;
            // The planner compares with every id known so far filled in,
            // so lists the API sorts by id (group members) sort alike;
            // escapes stay, so what is compared can be resolved again.
            let (spec, _) = resolve::resolve_spec(r, &known, Mode::Partial);
            let (permissions, _) = resolve::resolve_permissions(&r.permissions, ws, &known, true);
            let mut norm = DesiredResource {
                spec,
                permissions,
                ..r.clone()
            };
            if let Some(a) = adapter(r.key.kind) {
                norm.spec = a.normalize_spec(&norm.spec);
            }
            desired.insert(r.key.clone(), r.clone());
            normalized.insert(r.key.clone(), norm);
        }
        nest_in_directories(&mut normalized);
        // Creates interrupted by a crash: take the object back.
        let mut recovered = false;
        for (key, norm) in &normalized {
            let Some(live) = observed.live.get(key) else {
                continue;
            };
            let tagged_ours = live.managed_by.as_deref() == Some(app.name.as_str());
            let untagged_dangling = live.managed_by.is_none()
                && dangling.contains(&(app.name.clone(), key.to_string()));
            // Workspace settings always exist: there is nothing to create or
            // to own, so Mortar takes them over as adopted.
            let settings = key.kind == Kind::WorkspaceConf;
            if inventory.get(key).is_none() && (tagged_ours || untagged_dangling || settings) {
                if settings {
                    tracing::debug!(app = %app.name, key = %key, "taking over workspace settings");
                } else {
                    tracing::info!(app = %app.name, key = %key, id = %live.id, "recovering an object created by an interrupted apply");
                }
                inventory.upsert(
                    key.clone(),
                    ManagedResource {
                        id: live.id.clone(),
                        spec: norm.spec.clone(),
                        permissions: Vec::new(),
                        revision: options.revision.clone(),
                        ownership: if settings {
                            Ownership::Adopted
                        } else {
                            Ownership::Created
                        },
                    },
                );
                recovered = true;
            }
        }
        if recovered && options.save_recovered {
            store.save(&inventory)?;
        }
        let prune = options.prune || app.sync_policy.automated.as_ref().is_some_and(|a| a.prune);
        let app_options = AppOptions {
            prune,
            adopt: app.adopt,
        };
        let ignore: Vec<IgnoreRule> = app
            .ignore_differences
            .iter()
            .map(|d| IgnoreRule {
                kind: Some(d.kind),
                name: d.name.clone(),
                json_pointers: d.json_pointers.clone(),
            })
            .collect();
        // Explicit defaults changed live (see `defaults`).
        let mut last_applied = inventory.resources.clone();
        for (key, norm) in normalized.iter_mut() {
            let (Some(live), Some(original)) = (observed.live.get(key), desired.get(key)) else {
                continue;
            };
            let (full, _) = resolve::resolve_spec(original, &known, Mode::Partial);
            let last = last_applied.get_mut(key).map(|m| &mut m.spec);
            defaults::restore(&full, &mut norm.spec, &live.spec, last);
        }
        let norm_list: Vec<DesiredResource> = normalized.values().cloned().collect();
        let mut ids = known.ids.clone();
        ids.extend(inventory.ids());
        let input = AppInput {
            app: &app.name,
            desired: &norm_list,
            live: &observed.live,
            last_applied: &last_applied,
            ignore: &ignore,
            options: app_options,
            ids: &ids,
        };
        let mut plan = plan_app(&input).map_err(|source| ApplyError::Plan {
            app: app.name.clone(),
            source,
        })?;
        missing_secrets(&mut plan, app, &observed, clients, &inventory).await?;
        list_created_secrets(&mut plan, app);
        let mut violations = guard::check(&plan, &project_of(rendered, &app.project));
        violations.extend(guard::check_secrets(
            &app.secrets,
            &app.project,
            options.secrets.projects.get(&app.project),
        ));
        if !violations.is_empty() {
            plan.add_violations(violations);
        }
        if app.resources.is_empty() && inventory.resources.is_empty() {
            continue;
        }
        plans.push(plan);
        apps.push(PreparedApp {
            name: app.name.clone(),
            project: app.project.clone(),
            desired,
            normalized,
            inventory,
            secrets: app.secrets.clone(),
            options: app_options,
        });
    }
    // Blocked apps: their errors only. Their inventory is kept as it is
    // (loaded, never changed) and nothing of them is observed or applied.
    for app in blocked {
        plans.push(blocked_plan(app));
        apps.push(PreparedApp {
            name: app.name.clone(),
            project: app.project.clone(),
            desired: BTreeMap::new(),
            normalized: BTreeMap::new(),
            inventory: store.load(&app.name)?,
            secrets: Vec::new(),
            options: AppOptions::default(),
        });
    }
    for inventory in orphans {
        // Only `--prune` deletes what they created; without it the plan
        // shows what would go.
        let app_options = AppOptions {
            prune: options.prune,
            adopt: false,
        };
        let input = AppInput {
            app: &inventory.app,
            desired: &[],
            live: &observed.live,
            last_applied: &inventory.resources,
            ignore: &[],
            options: app_options,
            ids: &known.ids,
        };
        let plan = plan_app(&input).map_err(|source| ApplyError::Plan {
            app: inventory.app.clone(),
            source,
        })?;
        plans.push(plan);
        apps.push(PreparedApp {
            name: inventory.app.clone(),
            project: String::new(),
            desired: BTreeMap::new(),
            normalized: BTreeMap::new(),
            inventory,
            secrets: Vec::new(),
            options: app_options,
        });
    }
    Ok(Prepared {
        plan: Plan::new(options.revision.clone(), plans),
        apps,
        observed,
        known,
    })
}

type Selection<'a> = (Vec<&'a RenderedApp>, Vec<&'a BlockedApp>);

/// The healthy and the blocked apps `filter` selects.
fn select<'a>(rendered: &'a Rendered, filter: &AppFilter) -> Result<Selection<'a>, ApplyError> {
    match filter {
        AppFilter::All => Ok((
            rendered.apps.iter().collect(),
            rendered.blocked.iter().collect(),
        )),
        AppFilter::Automated => Ok((
            rendered
                .apps
                .iter()
                .filter(|a| a.sync_policy.automated.is_some())
                .collect(),
            Vec::new(),
        )),
        AppFilter::Named(names) => {
            let mut out: Selection<'a> = (Vec::new(), Vec::new());
            for name in names {
                match (rendered.app(name), rendered.blocked_app(name)) {
                    (Some(app), _) => out.0.push(app),
                    (None, Some(app)) => out.1.push(app),
                    (None, None) => {
                        return Err(ApplyError::UnknownApp {
                            app: name.clone(),
                            known: rendered
                                .apps
                                .iter()
                                .map(|a| a.name.as_str())
                                .chain(rendered.blocked.iter().map(|a| a.name.as_str()))
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
            Ok(out)
        }
    }
}

impl Prepared {
    /// Keeps only the apps whose plan `keep` accepts.
    pub fn keep_apps(&mut self, keep: impl Fn(&AppPlan) -> bool) {
        let kept: Vec<bool> = self.plan.apps.iter().map(&keep).collect();
        let mut flags = kept.iter();
        self.apps.retain(|_| flags.next().copied().unwrap_or(false));
        let apps = std::mem::take(&mut self.plan.apps)
            .into_iter()
            .zip(&kept)
            .filter_map(|(a, k)| k.then_some(a))
            .collect();
        self.plan = Plan::new(self.plan.revision.take(), apps);
    }
}

/// The resources with every reference whose id is known filled in (for
/// finding objects by name; the specs applied are resolved later).
fn with_names_resolved(resources: &[DesiredResource], known: &Known) -> Vec<DesiredResource> {
    resources
        .iter()
        .map(|r| {
            let (spec, _) = resolve::resolve_spec(r, known, Mode::Final);
            DesiredResource { spec, ..r.clone() }
        })
        .collect()
}

/// A workspace object's path without the `/Workspace` prefix.
fn object_path(r: &DesiredResource) -> Option<String> {
    let p = r.spec.get("path")?.as_str()?;
    let p = p
        .strip_prefix("/Workspace")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(p);
    Some(p.trim_end_matches('/').to_string())
}

/// Notebooks, files and directories inside a Directory the app declares
/// wait for it: creating them would otherwise create the folder first.
fn nest_in_directories(resources: &mut BTreeMap<ResourceKey, DesiredResource>) {
    let dirs: Vec<(ResourceKey, String)> = resources
        .values()
        .filter(|r| r.key.kind == Kind::Directory)
        .filter_map(|r| Some((r.key.clone(), object_path(r)?)))
        .collect();
    for r in resources.values_mut() {
        if !matches!(
            r.key.kind,
            Kind::Directory | Kind::Notebook | Kind::WorkspaceFile
        ) {
            continue;
        }
        let Some(path) = object_path(r) else { continue };
        for (key, dir) in &dirs {
            if *key != r.key && path.starts_with(&format!("{dir}/")) && !r.depends_on.contains(key)
            {
                r.depends_on.push(key.clone());
            }
        }
    }
}

/// A scope that exists but lacks some of its declared secrets (deleted by
/// hand, or a crash between creating the scope and putting them) gets one
/// change per missing key: `/secrets/<key>`, value `(sensitive)`.
async fn missing_secrets(
    plan: &mut crate::plan::AppPlan,
    app: &RenderedApp,
    observed: &Observed,
    clients: &BTreeMap<String, Client>,
    inventory: &Inventory,
) -> Result<(), ApplyError> {
    let mut touched = false;
    for action in plan.actions.iter_mut() {
        if action.key.kind != Kind::SecretScope
            || !matches!(
                action.action,
                ActionKind::NoOp | ActionKind::Update | ActionKind::Adopt
            )
        {
            continue;
        }
        let wanted: Vec<&SecretRef> = app
            .secrets
            .iter()
            .filter(|s| s.scope == action.key)
            .collect();
        let (Some(live), Some(client)) = (
            observed.live.get(&action.key),
            clients.get(&action.key.workspace),
        ) else {
            continue;
        };
        if wanted.is_empty() {
            continue;
        }
        let Some(a) = adapter(action.key.kind) else {
            continue;
        };
        let have = a.secret_keys(client, &live.id).await.map_err(|source| {
            ApplyError::from(crate::observe::ObserveError::Read {
                key: action.key.clone(),
                what: "secret keys",
                source,
            })
        })?;
        let drift = inventory.get(&action.key).is_some();
        for s in wanted.iter().filter(|s| !have.contains(&s.key)) {
            action.changes.push(secret_change(s, drift));
            if action.action == ActionKind::NoOp {
                action.action = ActionKind::Update;
            }
            action.drift |= drift;
            touched = true;
        }
    }
    if touched {
        plan.resummarize();
    }
    Ok(())
}

/// The change that puts one secret: its key and where its value is read
/// from, never the value.
fn secret_change(secret: &SecretRef, drift: bool) -> FieldChange {
    let from = match &secret.source {
        SecretSource::FromEnv(name) => format!("env {name}"),
        SecretSource::FromFile(path) => format!("file {path}"),
    };
    FieldChange {
        path: format!("/secrets/{}", secret.key),
        old: None,
        new: Some(serde_json::Value::String(format!(
            "(sensitive, from {from})"
        ))),
        drift,
        sensitive: true,
    }
}

/// A scope being created lists every secret it will be given, so a
/// reviewer sees each key and its source.
fn list_created_secrets(plan: &mut AppPlan, app: &RenderedApp) {
    for action in plan
        .actions
        .iter_mut()
        .filter(|a| a.key.kind == Kind::SecretScope && a.action == ActionKind::Create)
    {
        action.changes.extend(
            app.secrets
                .iter()
                .filter(|s| s.scope == action.key)
                .map(|s| secret_change(s, false)),
        );
    }
}

/// The apps with an inventory file in the store.
fn inventory_names(store: &InventoryStore) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(store.dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".json")?.to_string();
            store.path_for(&name).ok().map(|_| name)
        })
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}
