//! Planning a whole rendered app tree, without I/O: from the rendered apps
//! and a [`Snapshot`] of what was read (inventories, live objects, the
//! creates a crash left open, the keys of secret scopes) to one [`Prepared`]
//! plan. Recovery adoption, reference resolution, normalization, explicit
//! defaults, the per-app diff, missing secrets and the guard all happen
//! here, so the plan that leaves is final: no stage patches it afterwards.
//! An app the renderer blocked is planned as its errors alone: not
//! observed, not diffed, and never planned as deleted.

use std::collections::{BTreeMap, BTreeSet};

use super::agents;
use super::defaults;
use super::guard;
use super::resolve::{self, Known, Mode};
use crate::config::SecretsConfig;
use crate::databricks::{adapter, kinds};
use crate::manifest::{BlockedApp, Project, Rendered, RenderedApp, ScopeSecret, SecretSource};
use crate::model::{
    ActionKind, DesiredResource, FieldChange, Inventory, Kind, LiveState, ManagedResource,
    Ownership, ResourceKey,
};
use crate::plan::{
    AppInput, AppOptions, AppPlan, IgnoreRule, Plan, PlanError, Violation, plan_app,
};
use crate::policy::{PolicySet, RevisionFacts, Subject};

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
pub struct TreeOptions {
    /// Which apps.
    pub apps: AppFilter,
    /// Prune every app (`apply --prune`), whatever its sync policy says.
    pub prune: bool,
    /// Prune these apps, whatever their sync policy says.
    pub prune_apps: std::collections::BTreeSet<String>,
    /// The Git commit the tree was rendered from.
    pub revision: Option<String>,
    /// The commit's author (`Name <email>`), for guardrails.
    pub author: Option<String>,
    /// The repository's guardrails (`policies/`), evaluated on every plan.
    pub policies: PolicySet,
    /// Which secret sources each project may read.
    pub secrets: SecretsConfig,
}

/// Everything read before planning.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The inventories of the selected apps (healthy and blocked), by app.
    pub inventories: BTreeMap<String, Inventory>,
    /// The inventories of apps Git no longer declares.
    pub orphans: Vec<Inventory>,
    /// Live objects Mortar manages or that desired state names, normalized.
    pub live: LiveState,
    /// Service principals' application ids, by key.
    pub application_ids: BTreeMap<ResourceKey, String>,
    /// Keys no object was taken for although one may exist (each a
    /// conflict in the plan).
    pub unmatched: BTreeMap<ResourceKey, crate::model::Unmatched>,
    /// `(app, key)` of creates a crash left without a recorded end.
    pub dangling: BTreeSet<(String, String)>,
    /// The keys each observed secret scope with declared secrets holds.
    pub secret_keys: BTreeMap<ResourceKey, BTreeSet<String>>,
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
    /// The same, normalized by their kinds: what the planner compared and
    /// what the inventory records as last applied.
    pub normalized: BTreeMap<ResourceKey, DesiredResource>,
    pub inventory: Inventory,
    /// Crash recovery added entries to `inventory` (apply saves it).
    pub recovered: bool,
    pub secrets: Vec<ScopeSecret>,
    pub options: AppOptions,
}

/// A plan with everything needed to apply it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    pub apps: Vec<PreparedApp>,
    /// Ids and application ids known before applying.
    pub known: Known,
}

impl Prepared {
    /// Keeps only the apps whose plan `keep` accepts.
    pub fn keep_apps(&mut self, keep: impl Fn(&AppPlan) -> bool) {
        let (plans, apps): (Vec<AppPlan>, Vec<PreparedApp>) = std::mem::take(&mut self.plan.apps)
            .into_iter()
            .zip(std::mem::take(&mut self.apps))
            .filter(|(plan, _)| keep(plan))
            .unzip();
        self.apps = apps;
        self.plan = Plan::new(self.plan.revision.take(), plans);
    }
}

/// Why a tree cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("no app named `{app}` in the rendered tree (apps: {known})")]
    UnknownApp { app: String, known: String },
    #[error("app `{app}`")]
    Plan {
        app: String,
        #[source]
        source: PlanError,
    },
}

impl TreeError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            TreeError::UnknownApp { .. } => "unknown_app",
            TreeError::Plan { .. } => "plan",
        }
    }
}

/// The healthy and the blocked apps a filter selects.
pub type Selection<'a> = (Vec<&'a RenderedApp>, Vec<&'a BlockedApp>);

/// The apps `filter` selects.
pub fn select<'a>(rendered: &'a Rendered, filter: &AppFilter) -> Result<Selection<'a>, TreeError> {
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
                        return Err(TreeError::UnknownApp {
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

/// Whether apps Git no longer declares are planned (from their
/// inventories): only for the whole tree, and not while an app that may
/// declare apps is blocked (the apps it declares are unknown then).
pub fn plans_orphans(rendered: &Rendered, filter: &AppFilter) -> bool {
    let children_unknown = rendered.blocked.iter().any(|b| {
        let project = project_of(rendered, &b.project);
        project.allows_kind(Kind::Application) || project.allows_kind(Kind::ApplicationSet)
    });
    *filter == AppFilter::All && !children_unknown
}

/// Plans the selected apps of `rendered` against `snapshot`.
pub fn plan_all(
    rendered: &Rendered,
    snapshot: &Snapshot,
    options: &TreeOptions,
) -> Result<Prepared, TreeError> {
    let (selected, blocked) = select(rendered, &options.apps)?;
    let mut known = Known {
        ids: BTreeMap::new(),
        application_ids: snapshot.application_ids.clone(),
    };
    for inv in snapshot.inventories.values().chain(&snapshot.orphans) {
        known.ids.extend(inv.ids());
    }
    known.add_live(&snapshot.live);

    let mut plans = Vec::new();
    let mut apps = Vec::new();
    for app in selected {
        let inventory = snapshot
            .inventories
            .get(&app.name)
            .cloned()
            .unwrap_or_else(|| Inventory::new(&app.name));
        if app.resources.is_empty() && inventory.resources.is_empty() {
            continue;
        }
        let (plan, prepared) = plan_one(rendered, app, inventory, snapshot, &known, options)?;
        plans.push(plan);
        apps.push(prepared);
    }
    // Blocked apps: their errors only. Their inventory is kept as it is
    // and nothing of them is observed or applied.
    for app in blocked {
        plans.push(blocked_plan(app));
        apps.push(PreparedApp {
            name: app.name.clone(),
            project: app.project.clone(),
            desired: BTreeMap::new(),
            normalized: BTreeMap::new(),
            inventory: snapshot
                .inventories
                .get(&app.name)
                .cloned()
                .unwrap_or_else(|| Inventory::new(&app.name)),
            recovered: false,
            secrets: Vec::new(),
            options: AppOptions::default(),
        });
    }
    for inventory in &snapshot.orphans {
        // Only `--prune` deletes what they created; without it the plan
        // shows what would go.
        let app_options = AppOptions {
            prune: options.prune,
            adopt: false,
        };
        let input = AppInput {
            app: &inventory.app,
            desired: &[],
            live: &snapshot.live,
            last_applied: &inventory.resources,
            ignore: &[],
            options: app_options,
            ids: &known.ids,
            unmatched: &snapshot.unmatched,
        };
        let plan = plan_app(&input).map_err(|source| TreeError::Plan {
            app: inventory.app.clone(),
            source,
        })?;
        plans.push(plan);
        apps.push(PreparedApp {
            name: inventory.app.clone(),
            project: String::new(),
            desired: BTreeMap::new(),
            normalized: BTreeMap::new(),
            inventory: inventory.clone(),
            recovered: false,
            secrets: Vec::new(),
            options: app_options,
        });
    }
    Ok(Prepared {
        plan: Plan::new(options.revision.clone(), plans),
        apps,
        known,
    })
}

/// One healthy app's plan.
fn plan_one(
    rendered: &Rendered,
    app: &RenderedApp,
    mut inventory: Inventory,
    snapshot: &Snapshot,
    known: &Known,
    options: &TreeOptions,
) -> Result<(AppPlan, PreparedApp), TreeError> {
    let mut desired = BTreeMap::new();
    let mut normalized = BTreeMap::new();
    for r in &app.resources {
        // The planner compares with every id known so far filled in, so
        // lists the API sorts by id (group members) sort alike; escapes
        // stay, so what is compared can be resolved again.
        let (spec, _) = resolve::resolve_spec(r, known, Mode::Partial);
        let (permissions, _) =
            resolve::resolve_permissions(&r.permissions, &r.key.workspace, known, true);
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
    let recovered = recover(app, &normalized, snapshot, &mut inventory, options);

    let prune = options.prune
        || options.prune_apps.contains(&app.name)
        || app.sync_policy.automated.as_ref().is_some_and(|a| a.prune);
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
        let (Some(live), Some(original)) = (snapshot.live.get(key), desired.get(key)) else {
            continue;
        };
        let (full, _) = resolve::resolve_spec(original, known, Mode::Partial);
        let last = last_applied.get_mut(key).map(|m| &mut m.spec);
        defaults::restore(&full, &mut norm.spec, &live.spec, last);
    }
    let norm_list: Vec<DesiredResource> = normalized.values().cloned().collect();
    let mut ids = known.ids.clone();
    ids.extend(inventory.ids());
    let input = AppInput {
        app: &app.name,
        desired: &norm_list,
        live: &snapshot.live,
        last_applied: &last_applied,
        ignore: &ignore,
        options: app_options,
        ids: &ids,
        unmatched: &snapshot.unmatched,
    };
    let mut plan = plan_app(&input).map_err(|source| TreeError::Plan {
        app: app.name.clone(),
        source,
    })?;
    add_secrets(&mut plan, app, snapshot, &inventory);
    let project = project_of(rendered, &app.project);
    let mut violations = guard::check(&plan, &project);
    violations.extend(guard::check_secrets(
        &app.secrets,
        &app.project,
        options.secrets.projects.get(&app.project),
    ));
    let revision = options.revision.as_ref().map(|commit| RevisionFacts {
        commit: commit.clone(),
        author: options.author.clone(),
    });
    let subject = Subject {
        app,
        project: &project,
        actions: Some(&plan.actions),
        revision: revision.as_ref(),
    };
    let (denied, warnings) = guard::check_policies(&options.policies, &subject);
    violations.extend(denied);
    violations.extend(agents::check(rendered, app, &known.application_ids));
    agents::mark_revocations(&mut plan, rendered, &snapshot.live, &known.application_ids);
    plan.warnings = warnings;
    plan.add_violations(violations);
    let prepared = PreparedApp {
        name: app.name.clone(),
        project: app.project.clone(),
        desired,
        normalized,
        inventory,
        recovered,
        secrets: app.secrets.clone(),
        options: app_options,
    };
    Ok((plan, prepared))
}

/// Takes back objects a crash left out of the inventory: tagged as the
/// app's, or untagged with a create the audit trail left open; and takes
/// over workspace settings, which always exist. Returns whether any was.
fn recover(
    app: &RenderedApp,
    normalized: &BTreeMap<ResourceKey, DesiredResource>,
    snapshot: &Snapshot,
    inventory: &mut Inventory,
    options: &TreeOptions,
) -> bool {
    let mut recovered = false;
    for (key, norm) in normalized {
        let Some(live) = snapshot.live.get(key) else {
            continue;
        };
        let tagged_ours = live.managed_by.as_deref() == Some(app.name.as_str());
        let untagged_dangling = live.managed_by.is_none()
            && snapshot
                .dangling
                .contains(&(app.name.clone(), key.to_string()));
        let settings = kinds::spec(key.kind).is_some_and(|k| k.adopt_always());
        if inventory.get(key).is_some() || !(tagged_ours || untagged_dangling || settings) {
            continue;
        }
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
    recovered
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
        warnings: Vec::new(),
        summary: Default::default(),
    };
    plan.add_violations(app.diagnostics.iter().map(|d| Violation {
        rule: d.rule.unwrap_or("manifest").to_string(),
        key: None,
        message: d.to_string(),
    }));
    plan
}

/// Objects inside a folder the app declares wait for it: creating them
/// would otherwise create the folder first.
fn nest_in_directories(resources: &mut BTreeMap<ResourceKey, DesiredResource>) {
    let path_of = |r: &DesiredResource| kinds::spec(r.key.kind)?.workspace_path(&r.spec);
    let folders: Vec<(ResourceKey, String)> = resources
        .values()
        .filter(|r| kinds::spec(r.key.kind).is_some_and(|k| k.is_folder()))
        .filter_map(|r| Some((r.key.clone(), path_of(r)?)))
        .collect();
    for r in resources.values_mut() {
        let Some(path) = path_of(r) else { continue };
        for (key, folder) in &folders {
            if *key != r.key
                && path.starts_with(&format!("{folder}/"))
                && !r.depends_on.contains(key)
            {
                r.depends_on.push(key.clone());
            }
        }
    }
}

/// The secrets a scope will be given, as changes `/secrets/<key>` naming
/// their source (never their value): every secret of a scope being
/// created, and those missing from a live scope (deleted by hand, or a
/// crash between creating the scope and putting them).
fn add_secrets(plan: &mut AppPlan, app: &RenderedApp, snapshot: &Snapshot, inventory: &Inventory) {
    let mut touched = false;
    for action in plan
        .actions
        .iter_mut()
        .filter(|a| kinds::spec(a.key.kind).is_some_and(|k| k.holds_secrets()))
    {
        let wanted = app.secrets.iter().filter(|s| s.scope == action.key);
        match action.action {
            ActionKind::Create => {
                action
                    .changes
                    .extend(wanted.map(|s| secret_change(s, false)));
                touched = true;
            }
            ActionKind::NoOp | ActionKind::Update | ActionKind::Adopt => {
                let Some(have) = snapshot.secret_keys.get(&action.key) else {
                    continue;
                };
                let drift = inventory.get(&action.key).is_some();
                for s in wanted.filter(|s| !have.contains(&s.key)) {
                    action.changes.push(secret_change(s, drift));
                    if action.action == ActionKind::NoOp {
                        action.action = ActionKind::Update;
                    }
                    action.drift |= drift;
                    touched = true;
                }
            }
            _ => {}
        }
    }
    if touched {
        plan.resummarize();
    }
}

/// The change that puts one secret: its key and where its value is read
/// from, never the value.
fn secret_change(secret: &ScopeSecret, drift: bool) -> FieldChange {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretAllowance;
    use crate::manifest::render_dir;
    use crate::model::LiveObject;
    use serde_json::{Value, json};

    const TOP: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n";
    const APPS: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n  syncPolicy: { automated: { prune: true } }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: other }\nspec:\n  source: { path: other }\n  destination: { workspace: dev }\n";
    const TEAM: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: analysts }\nspec: { displayName: analysts }\n---\napiVersion: mortar.dev/v1alpha1\nkind: SecretScope\nmetadata: { name: etl }\nspec: { scope: etl }\nsecrets:\n  - { key: db, fromEnv: TEAM_DB }\n  - { key: api, fromFile: api-token }\n";
    const OTHER: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: others }\nspec: { displayName: others }\n";

    /// A rendered tree of two apps in `dev`: `team` (automated: a group and
    /// a secret scope with two secrets) and `other` (a group).
    fn rendered() -> Rendered {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [
            ("top.yaml", TOP),
            ("apps/apps.yaml", APPS),
            ("team/resources.yaml", TEAM),
            ("other/resources.yaml", OTHER),
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        render_dir(dir.path(), None).unwrap()
    }

    fn key(kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "dev".into(),
            kind,
            name: name.into(),
        }
    }

    fn live(id: &str, spec: Value, managed_by: Option<&str>) -> LiveObject {
        LiveObject {
            id: id.into(),
            spec,
            permissions: Vec::new(),
            managed_by: managed_by.map(str::to_string),
        }
    }

    fn managed(id: &str, spec: Value) -> ManagedResource {
        ManagedResource {
            id: id.into(),
            spec,
            permissions: Vec::new(),
            revision: None,
            ownership: Ownership::Created,
        }
    }

    /// Options that let `team` read its two secrets.
    fn options() -> TreeOptions {
        let mut options = TreeOptions::default();
        options.secrets.projects.insert(
            "default".into(),
            SecretAllowance {
                env: vec!["TEAM_DB".into()],
                dir: Some("/etc/mortar/team".into()),
            },
        );
        options
    }

    fn app<'a>(prepared: &'a Prepared, name: &str) -> &'a AppPlan {
        prepared.plan.apps.iter().find(|a| a.app == name).unwrap()
    }

    fn action<'a>(plan: &'a AppPlan, key: &ResourceKey) -> &'a crate::plan::PlannedAction {
        plan.actions.iter().find(|a| &a.key == key).unwrap()
    }

    #[test]
    fn a_new_scope_lists_each_secret_with_its_source() {
        let prepared = plan_all(&rendered(), &Snapshot::default(), &options()).unwrap();
        let scope = action(app(&prepared, "team"), &key(Kind::SecretScope, "etl"));
        assert_eq!(scope.action, ActionKind::Create);
        let secrets: Vec<(&str, &Value)> = scope
            .changes
            .iter()
            .filter(|c| c.path.starts_with("/secrets/"))
            .map(|c| (c.path.as_str(), c.new.as_ref().unwrap()))
            .collect();
        assert_eq!(
            secrets,
            [
                ("/secrets/db", &json!("(sensitive, from env TEAM_DB)")),
                ("/secrets/api", &json!("(sensitive, from file api-token)")),
            ]
        );
        assert!(app(&prepared, "team").violations.is_empty());
    }

    #[test]
    fn a_secret_missing_from_a_live_scope_is_put_back_as_drift() {
        let scope = key(Kind::SecretScope, "etl");
        let mut snapshot = Snapshot::default();
        let spec = json!({"scope": "etl"});
        snapshot
            .live
            .insert(scope.clone(), live("etl", spec.clone(), None));
        let mut inventory = Inventory::new("team");
        inventory.upsert(scope.clone(), managed("etl", spec));
        snapshot.inventories.insert("team".into(), inventory);
        snapshot
            .secret_keys
            .insert(scope.clone(), BTreeSet::from(["db".to_string()]));
        let prepared = plan_all(&rendered(), &snapshot, &options()).unwrap();
        let a = action(app(&prepared, "team"), &scope);
        assert_eq!(a.action, ActionKind::Update);
        assert!(a.drift);
        let paths: Vec<&str> = a.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/secrets/api"]);
    }

    #[test]
    fn secrets_the_project_may_not_read_block_the_app() {
        let prepared =
            plan_all(&rendered(), &Snapshot::default(), &TreeOptions::default()).unwrap();
        let team = app(&prepared, "team");
        assert!(team.is_blocked());
        assert_eq!(team.violations.len(), 2);
        assert!(team.violations.iter().all(|v| v.rule == "secret-sources"));
        assert!(!app(&prepared, "other").is_blocked());
    }

    #[test]
    fn objects_a_crash_left_out_of_the_inventory_are_taken_back_not_conflicts() {
        let group = key(Kind::Group, "analysts");
        let spec = json!({"displayName": "analysts"});
        let mut snapshot = Snapshot::default();
        snapshot.live.insert(group.clone(), live("g1", spec, None));
        // Untagged and nothing in the audit trail: someone else's group.
        let prepared = plan_all(&rendered(), &snapshot, &options()).unwrap();
        assert_eq!(
            action(app(&prepared, "team"), &group).action,
            ActionKind::Conflict
        );
        // A create whose end the audit trail never recorded: it is ours.
        snapshot.dangling.insert(("team".into(), group.to_string()));
        let prepared = plan_all(&rendered(), &snapshot, &options()).unwrap();
        assert_eq!(
            action(app(&prepared, "team"), &group).action,
            ActionKind::NoOp
        );
        let team = prepared.apps.iter().find(|a| a.name == "team").unwrap();
        assert!(team.recovered);
        assert_eq!(team.inventory.get(&group).unwrap().id, "g1");
    }

    #[test]
    fn scopes_select_apps_by_name_or_sync_policy() {
        let rendered = rendered();
        let names = |prepared: &Prepared| -> Vec<String> {
            prepared.plan.apps.iter().map(|a| a.app.clone()).collect()
        };
        let mut options = options();
        options.apps = AppFilter::Automated;
        let prepared = plan_all(&rendered, &Snapshot::default(), &options).unwrap();
        assert_eq!(names(&prepared), ["team"]);
        options.apps = AppFilter::Named(BTreeSet::from(["other".to_string()]));
        let prepared = plan_all(&rendered, &Snapshot::default(), &options).unwrap();
        assert_eq!(names(&prepared), ["other"]);
        options.apps = AppFilter::Named(BTreeSet::from(["nope".to_string()]));
        let err = plan_all(&rendered, &Snapshot::default(), &options).unwrap_err();
        assert!(err.to_string().contains("no app named `nope`"), "{err}");
    }

    #[test]
    fn an_app_gone_from_git_is_deleted_only_with_prune() {
        let job = key(Kind::Job, "old");
        let mut inventory = Inventory::new("retired");
        inventory.upsert(job.clone(), managed("7", json!({"name": "old"})));
        let snapshot = Snapshot {
            orphans: vec![inventory],
            live: BTreeMap::from([(job.clone(), live("7", json!({"name": "old"}), None))]),
            ..Snapshot::default()
        };
        let mut options = options();
        let prepared = plan_all(&rendered(), &snapshot, &options).unwrap();
        assert_eq!(
            action(app(&prepared, "retired"), &job).action,
            ActionKind::DeleteSkipped
        );
        options.prune = true;
        let prepared = plan_all(&rendered(), &snapshot, &options).unwrap();
        assert_eq!(
            action(app(&prepared, "retired"), &job).action,
            ActionKind::Delete
        );
    }
}
