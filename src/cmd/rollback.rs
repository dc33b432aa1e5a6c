//! `mortar rollback --config FILE --app NAME --to REVISION` and
//! `mortar rollback --config FILE --app NAME --clear`: pin one app to an
//! earlier commit (or remove the pin). A pin pauses the app's automated
//! sync until it is removed. With no controller running, the rollback is
//! applied here and now; with one running, the controller applies it
//! within seconds. Either way every change is audited with the revision.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mortar::controller::pins::{Pin, PinStore};
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
    /// The app to roll back.
    #[arg(long, value_name = "NAME")]
    pub app: String,
    /// The commit (or branch, or tag) to roll back to.
    #[arg(
        long,
        value_name = "REVISION",
        required_unless_present = "clear",
        conflicts_with = "clear"
    )]
    pub to: Option<String>,
    /// Remove the app's pin: automated sync resumes at the newest revision.
    #[arg(long)]
    pub clear: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = Engine::open_file(&args.config)?;
    let pins = PinStore::new(&engine.config().state.dir);
    let app = args.app.as_str();
    let Some(to) = args.to.as_deref() else {
        return match pins.set(app, None)? {
            Some(old) => {
                println!(
                    "Unpinned {} (it was at {}); automated sync resumes at the newest revision.",
                    printable(app),
                    short(&old.commit)
                );
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("mortar: app `{}` is not pinned", printable(app));
                Ok(ExitCode::FAILURE)
            }
        };
    };
    let tree = engine
        .render_at(to)
        .with_context(|| format!("cannot read revision `{to}`"))?;
    let commit = tree
        .revision
        .as_ref()
        .map(|r| r.commit.clone())
        .context("the source has no revisions to roll back to")?;
    if tree.rendered.app(app).is_none() {
        match tree.rendered.blocked_app(app) {
            Some(blocked) => anyhow::bail!(
                "app `{app}` does not render at {}: {}",
                short(&commit),
                blocked
                    .diagnostics
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
            None => anyhow::bail!("app `{app}` is not in revision {}", short(&commit)),
        }
    }
    pins.set(
        app,
        Some(Pin {
            commit: commit.clone(),
            by: cli_user(),
            at: jiff::Timestamp::now(),
        }),
    )?;
    match engine.lock_state(None) {
        Ok(()) => {}
        Err(EngineError::Lock(_)) => {
            println!(
                "Pinned {} to {}. The running controller rolls it back within seconds and pauses its automated sync; `mortar rollback --app {} --clear` resumes it.",
                printable(app),
                short(&commit),
                printable(app)
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(other) => return Err(other.into()),
    }
    println!(
        "Pinned {} to {}; applying that revision's manifests:",
        printable(app),
        short(&commit)
    );
    let planned = engine.plan_to_apply(&tree, &Scope::app(app)).await?;
    show_and_carry_out(&engine, planned).await
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
