//! `mortar sync --config FILE --app NAME`: sync one app now, whatever its
//! sync policy says (a manual app's changes, or a retry without waiting).
//! With a controller running, the request is handed to it and it syncs the
//! app within seconds; with none, the app is planned and applied here.

use std::path::PathBuf;
use std::process::ExitCode;

use mortar::audit::Trigger;
use mortar::controller::requests::{AppRequest, Ask, RequestStore};
use mortar::engine::{Engine, EngineError, Scope};
use mortar::manifest::diag::printable;

use super::apply::{cli_user, show_and_carry_out};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The controller config file.
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    pub config: PathBuf,
    /// The app to sync.
    #[arg(long, value_name = "NAME")]
    pub app: String,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = Engine::open_file(&args.config)?;
    match engine.lock_state(None) {
        Ok(()) => {}
        Err(EngineError::Lock(_)) => {
            RequestStore::new(&engine.config().state.dir).submit(&AppRequest {
                app: args.app.clone(),
                ask: Ask::Sync,
                prune: false,
                by: Trigger::Cli(cli_user()),
                at: jiff::Timestamp::now(),
            })?;
            println!(
                "Asked the running controller to sync {}; it does within seconds (`mortar status --app {}` shows the result).",
                printable(&args.app),
                printable(&args.app)
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(other) => return Err(other.into()),
    }
    let tree = engine.render(None)?;
    for w in &tree.rendered.warnings {
        eprintln!("{w}");
    }
    if tree.rendered.app(&args.app).is_none() {
        anyhow::bail!(
            "app `{}` is not in the source (or its manifests do not render: `mortar validate` says why)",
            printable(&args.app)
        );
    }
    let planned = engine
        .plan_to_apply(&tree, &Scope::app(args.app.clone()))
        .await?;
    show_and_carry_out(&engine, planned).await
}
