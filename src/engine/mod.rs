//! The pipeline as one API, shared by the CLI, the controller, the
//! benchmarks and the tests:
//!
//! ```text
//! Engine::open(config)                     clients (token and identity caches), inventory store
//!   .fetch_source()       Source           fetch the Git source, verify its head (render.rs)
//!   .render(source)       Source → Render  a revision's app tree      (render.rs)
//!   .render_at(commit)                     the fetched repository at one commit
//!   .plan(&tree, &scope)  Observe → Diff   one plan for a set of apps  (apply::prepare, plan::)
//!                          → Guard
//!   .apply(planned, trigger, progress, cancel)
//!                          Apply → Audit    the executor, write-ahead audit, inventory (apply::)
//! ```
//!
//! Composition lives here and nowhere else: which audit sinks, which
//! identity each workspace acts as, how much concurrency, which secret
//! sources each project may read.

mod error;
pub mod render;
mod rotate;
mod scope;
mod sinks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::apply::inventory::InventoryStore;
use crate::apply::lock::{LockOptions, StateLock};
use crate::apply::{
    self, ApplyError, ApplyReport, ExecOptions, PrepareOptions, Prepared, Progress,
};
use crate::audit::{AuditSink, Trigger};
use crate::config::Config;
use crate::databricks::Client;
use crate::plan::Plan;
use crate::plan::tree::TreeOptions;
use crate::source::{Fetched, GitRemote, Revision};

pub use crate::error_chain::error_chain;
pub use error::EngineError;
pub use render::RenderedTree;
pub use scope::{AppFilter, Scope};

/// A plan with everything needed to apply it.
#[derive(Debug, Clone)]
pub struct Planned {
    prepared: Prepared,
    revision: Option<Revision>,
}

impl Planned {
    /// The plan itself: what a reviewer reads and what apply carries out.
    pub fn plan(&self) -> &Plan {
        &self.prepared.plan
    }

    /// Keeps only the apps `keep` accepts (by their plans).
    pub fn keep_apps(&mut self, keep: impl Fn(&crate::plan::AppPlan) -> bool) {
        self.prepared.keep_apps(keep);
    }

    /// The ids and application ids known when the plan was made.
    pub fn known(&self) -> &crate::plan::resolve::Known {
        &self.prepared.known
    }

    /// The commit the plan was made at.
    pub fn revision(&self) -> Option<&Revision> {
        self.revision.as_ref()
    }

    /// True when applying would call a workspace or change an inventory.
    pub fn has_work(&self) -> bool {
        self.plan().has_changes
            || self
                .plan()
                .apps
                .iter()
                .flat_map(|a| &a.actions)
                .any(|a| a.action.is_applied())
    }
}

/// The pipeline, opened on one controller config.
pub struct Engine {
    config: Config,
    config_file: PathBuf,
    clients: BTreeMap<String, Client>,
    /// The Git source and its mirror, when the source is a repository.
    git: Option<GitRemote>,
    store: InventoryStore,
    /// The state directory's writer lock, once taken; held until the engine
    /// is dropped (a CLI apply's run, the controller's life).
    state_lock: Mutex<Option<StateLock>>,
    /// The audit sinks, opened (and the log verified) once, on first use:
    /// a long-running controller does not read its whole log per apply.
    audit: Mutex<Option<Arc<dyn AuditSink>>>,
}

impl Engine {
    /// Reads and checks `mortar.yaml`, then opens the engine on it.
    pub fn open_file(config_file: &Path) -> Result<Engine, EngineError> {
        let config = Config::load(config_file)?;
        Engine::open(config, config_file)
    }

    /// Opens the engine: one client per workspace (the config's, or the one
    /// the `DATABRICKS_*` variables describe) and the inventory store.
    /// `config_file` names the config in messages.
    pub fn open(config: Config, config_file: &Path) -> Result<Engine, EngineError> {
        let workspaces = config.workspaces_or_env(&|k| std::env::var(k).ok())?;
        let clients =
            Client::for_workspaces(&workspaces).map_err(|e| EngineError::Client(Box::new(e)))?;
        let git = match config.source.as_ref().and_then(|s| s.git.as_ref()) {
            Some(git) => {
                Some(GitRemote::new(git, &config.state.dir).map_err(render::RenderError::from)?)
            }
            None => None,
        };
        Ok(Engine {
            git,
            store: InventoryStore::new(config.state.dir.clone()),
            config,
            config_file: config_file.to_path_buf(),
            clients,
            state_lock: Mutex::new(None),
            audit: Mutex::new(None),
        })
    }

    /// Takes the state directory's writer lock unless this engine holds it
    /// already: one writer per state directory, across processes. `wait`
    /// bounds how long to wait for another holder; `None` refuses at once,
    /// naming the holder.
    pub fn lock_state(&self, wait: Option<Duration>) -> Result<(), EngineError> {
        let mut held = self
            .state_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none() {
            *held = Some(StateLock::acquire(
                &self.config.state.dir,
                &LockOptions { wait, holder: None },
            )?);
        }
        Ok(())
    }

    /// Keeps the apps' inventories (and the markers of creates in flight)
    /// in `shared` instead of files under the state directory.
    pub fn share_state(&mut self, shared: Arc<dyn crate::apply::inventory::SharedState>) {
        self.store = InventoryStore::shared(shared);
    }

    /// The request counters of every workspace client, for metrics.
    pub fn request_stats(&self) -> Vec<Arc<crate::databricks::stats::RequestStats>> {
        self.clients.values().map(Client::request_stats).collect()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What workspace `workspace` holds, as the manifests of one app that
    /// adopts it (`mortar import workspace`). Objects other apps own, by
    /// ownership tag or by the inventories in the state directory, are
    /// left out.
    pub async fn import_workspace(
        &self,
        workspace: &str,
        options: &crate::import::workspace::Options,
    ) -> Result<crate::import::workspace::WorkspaceImport, EngineError> {
        let client = self
            .clients
            .get(workspace)
            .ok_or_else(|| EngineError::UnknownWorkspace {
                workspace: workspace.to_string(),
                configured: self.clients.keys().cloned().collect::<Vec<_>>().join(", "),
            })?;
        let mut inventories = Vec::new();
        for app in self.store.apps().map_err(ApplyError::from)? {
            inventories.push(self.store.load(&app).map_err(ApplyError::from)?);
        }
        let owners = crate::import::workspace::Owners::from_inventories(workspace, &inventories);
        crate::import::workspace::read::gather(client, &owners, options)
            .await
            .map_err(|e| EngineError::Import(Box::new(e)))
    }

    /// Renders the config's source, or `source_dir` instead of it. A Git
    /// source is fetched first (blocking) and its head verified when the
    /// config asks for signed commits.
    pub fn render(&self, source_dir: Option<&Path>) -> Result<RenderedTree, EngineError> {
        if source_dir.is_none()
            && let (Some(remote), Some(source)) = (&self.git, &self.config.source)
        {
            let git = source.git.as_ref().ok_or(render::RenderError::NotGit)?;
            let fetched = render::fetch_verified(remote, git)?;
            return Ok(render::render_commit(
                source,
                remote,
                &fetched.revision.commit,
                &git.revision,
            )?);
        }
        Ok(render::render_source(
            &self.config,
            source_dir,
            &self.config_file,
        )?)
    }

    /// Fetches the Git source (blocking: call through `spawn_blocking`) and,
    /// when `verify` is set, checks the signature of the commit it now
    /// names; a refused commit is a `RevisionRefused` error carrying the
    /// reason. `None` for a directory source.
    pub fn fetch_source(&self) -> Result<Option<Fetched>, EngineError> {
        let (Some(remote), Some(git)) = (
            &self.git,
            self.config.source.as_ref().and_then(|s| s.git.as_ref()),
        ) else {
            return Ok(None);
        };
        Ok(Some(render::fetch_verified(remote, git)?))
    }

    /// Renders the fetched Git source at `commit` (the daemon after a fetch,
    /// or a rollback to an earlier commit). Blocking; the commit's signature
    /// is checked when the config asks for signed commits.
    pub fn render_at(&self, commit: &str) -> Result<RenderedTree, EngineError> {
        let (Some(remote), Some(source)) = (&self.git, &self.config.source) else {
            return Err(render::RenderError::NotGit.into());
        };
        let requested = source
            .git
            .as_ref()
            .filter(|g| {
                remote
                    .fetch_head()
                    .is_some_and(|head| head == commit && g.revision != commit)
            })
            .map_or(commit, |g| g.revision.as_str());
        Ok(render::render_commit(source, remote, commit, requested)?)
    }

    /// The Git source's remote and mirror, when the source is a repository.
    pub fn git_remote(&self) -> Option<&GitRemote> {
        self.git.as_ref()
    }

    /// Plans the apps of `tree` that `scope` selects against the live
    /// workspaces. Crash recovery completes inventories in memory only;
    /// [`Engine::apply`] saves them.
    pub async fn plan(&self, tree: &RenderedTree, scope: &Scope) -> Result<Planned, EngineError> {
        self.prepare(tree, scope, false).await
    }

    /// Plans for applying: as [`Engine::plan`], and saves the inventories
    /// that crash recovery completed.
    pub async fn plan_to_apply(
        &self,
        tree: &RenderedTree,
        scope: &Scope,
    ) -> Result<Planned, EngineError> {
        self.prepare(tree, scope, true).await
    }

    async fn prepare(
        &self,
        tree: &RenderedTree,
        scope: &Scope,
        save_recovered: bool,
    ) -> Result<Planned, EngineError> {
        if save_recovered {
            self.lock_state(None)?;
        }
        let options = PrepareOptions {
            tree: TreeOptions {
                apps: scope.apps.clone(),
                prune: scope.prune,
                prune_apps: scope.prune_apps.clone(),
                revision: tree.revision.as_ref().map(|r| r.commit.clone()),
                author: tree.revision.as_ref().map(|r| r.author.clone()),
                policies: tree.policies.clone(),
                secrets: self.config.secrets.clone(),
            },
            audit_file: Some(self.config.audit_file()),
            save_recovered,
        };
        let mut prepared =
            apply::prepare(&tree.rendered, &self.clients, &self.store, &options).await?;
        if scope.drift_only {
            prepared.keep_apps(|plan| plan.actions.iter().any(|a| a.drift));
        }
        Ok(Planned {
            prepared,
            revision: tree.revision.clone(),
        })
    }

    /// Applies `planned`: each call audited before and after, the inventory
    /// saved after each action. When `cancel` fires, no further action
    /// starts; the calls in flight finish and their outcomes are recorded.
    pub async fn apply(
        &self,
        planned: Planned,
        trigger: Trigger,
        progress: Arc<dyn Fn(Progress) + Send + Sync>,
        cancel: CancellationToken,
    ) -> Result<ApplyReport, EngineError> {
        self.lock_state(None)?;
        let audit = self.audit_sinks()?;
        let workspaces: BTreeSet<&str> = planned
            .plan()
            .apps
            .iter()
            .flat_map(|a| &a.actions)
            .filter(|a| a.action.changes_workspace())
            .map(|a| a.key.workspace.as_str())
            .collect();
        let acting_as = self.identities(workspaces).await?;
        let opts = ExecOptions {
            trigger,
            revision: planned.revision.as_ref().map(|r| r.commit.clone()),
            commit_author: planned.revision.as_ref().map(|r| r.author.clone()),
            acting_as,
            concurrency: self
                .config
                .workspaces
                .iter()
                .map(|(n, w)| (n.clone(), w.limits.max_concurrency))
                .collect(),
            secrets: self.config.secrets.clone(),
            credentials: self.config.controller_credentials(),
            sync_id: Some(format!(
                "{}-{:08x}",
                jiff::Timestamp::now().as_millisecond(),
                rand::random::<u32>()
            )),
        };
        Ok(apply::execute(
            planned.prepared,
            &self.clients,
            &self.store,
            audit,
            opts,
            progress,
            cancel,
        )
        .await)
    }

    /// The audit sinks, opened on first use (under the state lock, which
    /// the caller holds: no other writer appends meanwhile).
    fn audit_sinks(&self) -> Result<Arc<dyn AuditSink>, EngineError> {
        let mut held = self
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sinks) = held.as_ref() {
            return Ok(sinks.clone());
        }
        let sinks: Arc<dyn AuditSink> = Arc::new(sinks::open(&self.config)?);
        *held = Some(sinks.clone());
        Ok(sinks)
    }

    /// Records the drift a plan found, one `observed` record per drifted
    /// object naming the fields changed outside Mortar.
    pub fn record_drift(
        &self,
        plan: &crate::plan::AppPlan,
        revision: Option<&Revision>,
    ) -> Result<usize, EngineError> {
        use crate::audit::{AuditAction, AuditEvent, ChangeSummary};
        let drifted: Vec<_> = plan
            .actions
            .iter()
            .filter(|a| a.drift && a.action.changes_workspace())
            .collect();
        if drifted.is_empty() {
            return Ok(0);
        }
        self.lock_state(None)?;
        let audit = self.audit_sinks()?;
        for action in &drifted {
            let mut event = AuditEvent::observed(
                &plan.app,
                &action.key,
                AuditAction::DriftDetected,
                Trigger::Sync("drift".to_string()),
            );
            event.databricks_id = action.id.clone();
            event.revision = revision.map(|r| r.commit.clone());
            event.commit_author = revision.map(|r| r.author.clone());
            event.changes = action
                .changes
                .iter()
                .filter(|c| c.drift)
                .map(ChangeSummary::from_field)
                .chain(
                    action
                        .permission_changes
                        .iter()
                        .filter(|c| c.drift)
                        .map(ChangeSummary::from_permission),
                )
                .collect();
            audit.record(&event).map_err(EngineError::from)?;
        }
        Ok(drifted.len())
    }

    /// Writes one event of the controller's own (a request to its API, a
    /// denial) to the audit trail.
    pub fn record_event(&self, event: &crate::audit::AuditEvent) -> Result<(), EngineError> {
        self.lock_state(None)?;
        self.audit_sinks()?.record(event)?;
        Ok(())
    }

    /// Records that the source's head `commit` was refused, one `observed`
    /// record per root app, with the reason as its outcome.
    pub fn record_refused(&self, commit: &str, reason: &str) -> Result<(), EngineError> {
        use crate::audit::{AuditAction, AuditEvent, Outcome};
        use crate::model::{Kind, ResourceKey};
        self.lock_state(None)?;
        let audit = self.audit_sinks()?;
        let key = ResourceKey {
            workspace: String::new(),
            kind: Kind::Application,
            name: "source".into(),
        };
        let mut event =
            AuditEvent::observed("", &key, AuditAction::RevisionRefused, Trigger::Controller);
        event.key = "source".into();
        event.revision = Some(commit.to_string());
        event.outcome = Some(Outcome::error(reason));
        audit.record(&event)?;
        Ok(())
    }

    /// The identity Mortar acts as in each workspace, read concurrently
    /// (and remembered by each client for the calls that need it again).
    async fn identities(
        &self,
        workspaces: BTreeSet<&str>,
    ) -> Result<BTreeMap<String, String>, EngineError> {
        let read = futures::future::join_all(
            workspaces
                .into_iter()
                .filter_map(|ws| self.clients.get(ws).map(|c| (ws, c)))
                .map(|(ws, client)| async move { (ws, client.identity().await) }),
        )
        .await;
        let mut out = BTreeMap::new();
        for (ws, me) in read {
            let me = me.map_err(|source| EngineError::Identity {
                workspace: ws.to_string(),
                source: Box::new(source),
            })?;
            if let Some(id) = describe_identity(&me) {
                out.insert(ws.to_string(), id);
            }
        }
        Ok(out)
    }
}

/// How an audit record names the identity behind a SCIM `Me` answer.
fn describe_identity(me: &serde_json::Value) -> Option<String> {
    let s = |k: &str| me.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match (s("applicationId"), s("userName"), s("displayName")) {
        (Some(app), _, Some(name)) => Some(format!("service principal {name} ({app})")),
        (Some(app), _, None) => Some(format!("service principal {app}")),
        (None, Some(user), _) => Some(user),
        (None, None, name) => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_name_service_principals_and_users() {
        let sp = serde_json::json!({"applicationId": "6f1c", "displayName": "ci-deployer"});
        assert_eq!(
            describe_identity(&sp).as_deref(),
            Some("service principal ci-deployer (6f1c)")
        );
        let user = serde_json::json!({"userName": "ana@example.com", "displayName": "Ana"});
        assert_eq!(describe_identity(&user).as_deref(), Some("ana@example.com"));
    }
}
