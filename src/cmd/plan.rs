//! `mortar plan --config FILE [--app NAME]... [--source-dir DIR] [--output text|json]`:
//! what apply would change. Exit 0 nothing to do, 2 changes pending, 1 error
//! (including an app blocked by a violation; the other apps are still shown).

use std::path::PathBuf;
use std::process::ExitCode;

use mortar::plan::output::{self, TextOptions};

use super::Output;
use super::target::{TargetArgs, use_color};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Plan this directory (a pull request's checkout) instead of the
    /// config's source, against the live workspaces.
    #[arg(long, value_name = "DIR")]
    pub source_dir: Option<PathBuf>,
    /// Output format; JSON is documented in docs/plan-json.md.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (engine, tree) = args.target.open(args.source_dir.as_deref()).await?;
    let planned = engine.plan(&tree, &args.target.scope(false)).await?;
    let plan = planned.plan();
    match args.output {
        Output::Text => print!(
            "{}",
            output::text(
                plan,
                TextOptions {
                    color: use_color(),
                    show_unchanged: false
                }
            )
        ),
        Output::Json => println!("{}", output::json(plan)),
    }
    let blocked: Vec<&str> = plan
        .apps
        .iter()
        .filter(|a| a.is_blocked())
        .map(|a| a.app.as_str())
        .collect();
    if !blocked.is_empty() {
        eprintln!(
            "error: blocked, nothing of it would be applied: {} (see the `!` lines)",
            mortar::manifest::diag::printable(&blocked.join(", "))
        );
    }
    Ok(ExitCode::from(plan.exit_code()))
}
