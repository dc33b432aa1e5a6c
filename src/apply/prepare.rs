//! Gathering what planning reads — inventories, live objects, the creates
//! a crash left open, the keys of live secret scopes — and handing it to the
//! pure planner ([`crate::plan::tree::plan_all`]). The only I/O of
//! planning lives here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::ApplyError;
use super::inventory::InventoryStore;
use super::recovery;
use crate::databricks::{Client, adapter, kinds};
use crate::manifest::{DesiredResource, Rendered};
use crate::observe::{self, Wants};
use crate::plan::resolve::{self, Known, Mode};
use crate::plan::tree::{self, Snapshot, TreeOptions};

pub use crate::plan::tree::{AppFilter, Prepared, PreparedApp};

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// Which apps, how, at which revision.
    pub tree: TreeOptions,
    /// The audit log, read for creates a crash left without an outcome.
    pub audit_file: Option<PathBuf>,
    /// Save inventories completed by crash recovery (apply does; plan only
    /// uses them in memory).
    pub save_recovered: bool,
}

/// Plans `rendered` against the workspaces behind `clients`: gathers a
/// snapshot, plans it, saves what crash recovery completed if asked to.
pub async fn prepare(
    rendered: &Rendered,
    clients: &BTreeMap<String, Client>,
    store: &InventoryStore,
    options: &PrepareOptions,
) -> Result<Prepared, ApplyError> {
    let snapshot = gather(rendered, clients, store, options).await?;
    let prepared = tree::plan_all(rendered, &snapshot, &options.tree)?;
    if options.save_recovered {
        for app in prepared.apps.iter().filter(|a| a.recovered) {
            store.save(&app.inventory)?;
        }
    }
    Ok(prepared)
}

/// Reads everything planning needs.
pub async fn gather(
    rendered: &Rendered,
    clients: &BTreeMap<String, Client>,
    store: &InventoryStore,
    options: &PrepareOptions,
) -> Result<Snapshot, ApplyError> {
    let options_tree = &options.tree;
    let (selected, blocked) = tree::select(rendered, &options_tree.apps)?;
    let mut inventories = BTreeMap::new();
    let mut wants = Wants::default();
    let mut inventory_ids = Known::default();
    // Creates marked in flight where the state is shared: the replica that
    // sent one may have died before it learnt the outcome.
    let mut marked = BTreeSet::new();
    for app in &selected {
        let (inventory, in_flight) = store.load_with_markers(&app.name)?;
        marked.extend(
            in_flight
                .iter()
                .map(|key| (app.name.clone(), key.to_string())),
        );
        inventory_ids.ids.extend(inventory.ids());
        inventories.insert(app.name.clone(), inventory);
    }
    // Objects of apps outside the selection that it refers to (a grant to
    // a service principal another app declares): their ids come from that
    // app's inventory and the workspace, as when every app is planned.
    for (owner, resources) in referred_elsewhere(rendered, &selected) {
        let keys: BTreeSet<_> = resources.iter().map(|r| r.key.clone()).collect();
        let mut inventory = store.load(&owner)?;
        inventory.resources.retain(|key, _| keys.contains(key));
        for managed in inventory.resources.values_mut() {
            managed.permissions.clear();
        }
        inventory_ids.ids.extend(inventory.ids());
        wants.add_desired(&owner, &resources);
        wants.add_inventory(&owner, &inventory.resources);
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
    let with_orphans = tree::plans_orphans(rendered, &options_tree.apps);
    if options_tree.apps == AppFilter::All && !with_orphans {
        tracing::warn!(
            "an app that declares apps is blocked: apps missing from Git are not planned for removal"
        );
    }
    if with_orphans {
        for name in store.apps()? {
            if rendered.app(&name).is_none() && rendered.blocked_app(&name).is_none() {
                let inventory = store.load(&name)?;
                inventory_ids.ids.extend(inventory.ids());
                wants.add_inventory(&name, &inventory.resources);
                orphans.push(inventory);
            }
        }
    }
    let mut observed = observe::observe(clients, &wants).await?;
    if !unresolved_names.is_empty() {
        let mut known_now = inventory_ids.clone();
        known_now.add_live(&observed.live);
        let mut again = Wants::default();
        for (app, r) in &unresolved_names {
            if observed.live.contains_key(&r.key) {
                continue;
            }
            let resolved = with_names_resolved(std::slice::from_ref(r), &known_now);
            again.add_desired(app, &resolved);
        }
        if !again.by_workspace.is_empty() {
            let more = observe::observe(clients, &again).await?;
            for (key, live) in more.live {
                observed.live.entry(key.clone()).or_insert(live);
            }
            observed.application_ids.extend(more.application_ids);
            observed.unmatched.extend(more.unmatched);
        }
    }
    // Only a verified log is read: a trail that does not verify stops the
    // plan rather than being trusted (or ignored) for recovery.
    let mut dangling = match &options.audit_file {
        Some(file) => recovery::dangling_creates(file)?,
        None => Default::default(),
    };
    dangling.extend(marked);
    for app in &blocked {
        inventories.insert(app.name.clone(), store.load(&app.name)?);
    }
    let secret_keys = scope_keys(&selected, &observed.live, clients).await?;
    Ok(Snapshot {
        inventories,
        orphans,
        live: observed.live,
        application_ids: observed.application_ids,
        unmatched: observed.unmatched,
        dangling,
        secret_keys,
    })
}

/// The resources of unselected apps that selected resources refer to (by
/// `${resources.…}` or as an ACL's principal), by app, without their ACLs
/// (only their ids are needed).
fn referred_elsewhere(
    rendered: &Rendered,
    selected: &[&crate::manifest::RenderedApp],
) -> BTreeMap<String, Vec<crate::manifest::DesiredResource>> {
    let chosen: BTreeSet<&str> = selected.iter().map(|a| a.name.as_str()).collect();
    let mut keys = BTreeSet::new();
    for r in selected.iter().flat_map(|a| a.resources.iter()) {
        let workspace = &r.key.workspace;
        keys.extend(
            crate::model::reference::in_value(&r.spec)
                .iter()
                .map(|x| x.key_in(workspace)),
        );
        keys.extend(
            r.permissions
                .iter()
                .filter_map(|p| p.principal.key_in(workspace)),
        );
    }
    let mut out: BTreeMap<String, Vec<crate::manifest::DesiredResource>> = BTreeMap::new();
    for app in rendered
        .apps
        .iter()
        .filter(|a| !chosen.contains(a.name.as_str()))
    {
        for r in app.resources.iter().filter(|r| keys.contains(&r.key)) {
            let mut bare = r.clone();
            bare.permissions.clear();
            out.entry(app.name.clone()).or_default().push(bare);
        }
    }
    out
}

/// The keys of each live secret scope whose app declares secrets for it
/// (values are never read).
async fn scope_keys(
    selected: &[&crate::manifest::RenderedApp],
    live: &crate::plan::LiveState,
    clients: &BTreeMap<String, Client>,
) -> Result<BTreeMap<crate::model::ResourceKey, BTreeSet<String>>, ApplyError> {
    let scopes: BTreeSet<&crate::model::ResourceKey> = selected
        .iter()
        .flat_map(|a| &a.secrets)
        .map(|s| &s.scope)
        .filter(|k| kinds::spec(k.kind).is_some_and(|s| s.holds_secrets()))
        .collect();
    let mut out = BTreeMap::new();
    for key in scopes {
        let (Some(object), Some(client)) = (live.get(key), clients.get(&key.workspace)) else {
            continue;
        };
        let Some(a) = adapter(key.kind) else { continue };
        let keys = a.secret_keys(client, &object.id).await.map_err(|source| {
            ApplyError::from(crate::observe::ObserveError::Read {
                key: key.clone(),
                what: "secret keys",
                source,
            })
        })?;
        out.insert(key.clone(), keys);
    }
    Ok(out)
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
