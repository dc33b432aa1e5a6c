//! What `plan` and `apply` share: the config and app flags, opening the
//! engine and rendering, and whether to color the output.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use mortar::engine::{AppFilter, Engine, RenderedTree, Scope};

/// The controller config and the apps to act on.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// The controller config file (workspaces, source, state, audit, secrets).
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    pub config: PathBuf,
    /// Only this app (repeat for several).
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
}

impl TargetArgs {
    /// The scope the flags select.
    pub fn scope(&self, prune: bool) -> Scope {
        Scope {
            apps: if self.apps.is_empty() {
                AppFilter::All
            } else {
                AppFilter::Named(self.apps.iter().cloned().collect())
            },
            prune,
            ..Scope::default()
        }
    }

    /// Opens the engine (reading the Kubernetes Secrets the config names,
    /// if any) and renders the source (or `source_dir`), printing the
    /// renderer's warnings.
    pub async fn open(&self, source_dir: Option<&Path>) -> anyhow::Result<(Engine, RenderedTree)> {
        let mut engine = Engine::open_file(&self.config)?;
        mortar::cluster::open_for(&mut engine, &tokio_util::sync::CancellationToken::new()).await?;
        let tree = engine.render(source_dir)?;
        for w in &tree.rendered.warnings {
            eprintln!("{w}");
        }
        Ok((engine, tree))
    }
}

/// Colors only on a terminal, and never with `NO_COLOR` set.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
