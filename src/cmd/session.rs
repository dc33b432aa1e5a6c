//! The session `plan` and `apply` share: the controller config, a client
//! per workspace, the inventory store and the desired state rendered from
//! the source.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use mortar::apply::inventory::InventoryStore;
use mortar::apply::load::{self, Loaded};
use mortar::apply::{self, PrepareOptions, Prepared};
use mortar::config::Config;
use mortar::databricks::Client;
use mortar::observe::Stats;

/// Config, clients, inventory store and rendered desired state.
pub struct Session {
    pub config: Config,
    pub clients: BTreeMap<String, Client>,
    pub store: InventoryStore,
    pub loaded: Loaded,
}

impl Session {
    pub fn open(config_file: &Path, source_dir: Option<&Path>) -> anyhow::Result<Session> {
        let config = Config::load(config_file)?;
        let workspaces = config.workspaces_or_env(&|k| std::env::var(k).ok())?;
        let clients = Client::for_workspaces(&workspaces)?;
        let loaded = load::load(&config, source_dir, config_file)?;
        for w in &loaded.rendered.warnings {
            eprintln!("{w}");
        }
        Ok(Session {
            store: InventoryStore::new(config.state.dir.clone()),
            config,
            clients,
            loaded,
        })
    }

    pub async fn prepare(
        &self,
        app: Option<String>,
        prune: bool,
        save: bool,
    ) -> anyhow::Result<Prepared> {
        let options = PrepareOptions {
            app,
            prune,
            revision: self.loaded.revision.as_ref().map(|r| r.commit.clone()),
            audit_file: Some(self.config.audit_file()),
            save_recovered: save,
            secrets: self.config.secrets.clone(),
        };
        let stats = Stats::default();
        Ok(apply::prepare(
            &self.loaded.rendered,
            &self.clients,
            &self.store,
            &options,
            &stats,
        )
        .await?)
    }
}

/// Colors only on a terminal, and never with `NO_COLOR` set.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
