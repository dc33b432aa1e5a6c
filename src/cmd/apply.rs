//! `mortar apply --config FILE [--app NAME] [--prune] [--auto-approve]`:
//! plans, shows the plan, asks for confirmation on a terminal, applies, and
//! prints progress and a summary.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use mortar::apply::Progress;
use mortar::audit::Trigger;
use mortar::engine::{Engine, Planned};
use mortar::manifest::diag::printable;
use mortar::plan::ActionKind;
use mortar::plan::output::{self, TextOptions};
use tokio_util::sync::CancellationToken;

use super::target::{TargetArgs, use_color};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Delete objects Mortar created that Git no longer declares, whatever
    /// the apps' sync policies say.
    #[arg(long)]
    pub prune: bool,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Wait up to this many seconds for another Mortar process writing the
    /// same state directory to finish, instead of refusing at once.
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

pub fn cli_user() -> String {
    ["MORTAR_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".to_string())
}

/// The name of the account running Mortar, from its uid and `/etc/passwd`,
/// for shells and containers that set no `USER`.
fn account_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid {uid}")))
}

fn confirm() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to apply without confirmation: stdin is not a terminal; pass --auto-approve to apply unattended"
        );
    }
    print!("\nApply these changes? Only `yes` is accepted: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

fn mark(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Create => "+",
        ActionKind::Update | ActionKind::Adopt => "~",
        ActionKind::Delete => "-",
        _ => " ",
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (engine, tree) = args.target.open(None).await?;
    engine.lock_state(args.lock_timeout.map(std::time::Duration::from_secs))?;
    let planned = engine
        .plan_to_apply(&tree, &args.target.scope(args.prune))
        .await?;
    print_plan(&planned);
    if !planned.has_work() {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.auto_approve && !confirm()? {
        println!("Apply cancelled.");
        return Ok(ExitCode::FAILURE);
    }
    carry_out(&engine, planned).await
}

/// Prints a plan for the person about to apply it.
pub fn print_plan(planned: &Planned) {
    print!(
        "{}",
        output::text(
            planned.plan(),
            TextOptions {
                color: use_color(),
                show_unchanged: false
            }
        )
    );
}

/// Prints a plan and applies it at once (the person asked for exactly
/// this: a rollback, a sync).
pub async fn show_and_carry_out(engine: &Engine, planned: Planned) -> anyhow::Result<ExitCode> {
    print_plan(&planned);
    if !planned.has_work() {
        return Ok(ExitCode::SUCCESS);
    }
    carry_out(engine, planned).await
}

/// Applies a plan the user has seen, printing each action as it ends and a
/// summary; exit 0 when every app went through.
pub async fn carry_out(engine: &Engine, planned: Planned) -> anyhow::Result<ExitCode> {
    // Ctrl-C: no further action starts; the calls in flight finish and
    // their outcomes are recorded.
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: finishing the calls in flight, starting no more");
            on_signal.cancel();
        }
    });
    let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(|p: Progress| match p {
        Progress::Started { .. } => {}
        Progress::Finished {
            action,
            key,
            id,
            error,
            ..
        } => match error {
            None => eprintln!(
                "{} {}: {} done{}",
                mark(action),
                printable(&key.to_string()),
                action.as_str(),
                id.map(|i| format!(" (id {i})")).unwrap_or_default()
            ),
            Some(e) => eprintln!(
                "! {}: {} FAILED: {}",
                printable(&key.to_string()),
                action.as_str(),
                printable(&e.to_string())
            ),
        },
        Progress::Skipped { key, reason, .. } => eprintln!(
            "  {}: skipped ({})",
            printable(&key.to_string()),
            printable(&reason.to_string())
        ),
    });
    let report = engine
        .apply(planned, Trigger::Cli(cli_user()), progress, cancel)
        .await?;
    println!();
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for app in &report.apps {
        for (k, v) in &app.by_action {
            *totals.entry(k).or_default() += v;
        }
        match &app.failure {
            None => println!("app {}: ok, {} action(s)", printable(&app.app), app.done),
            Some(f) => println!(
                "app {}: STOPPED after {} action(s), {} not attempted: {}",
                printable(&app.app),
                app.done,
                app.skipped,
                printable(&f.to_string())
            ),
        }
    }
    let counts = [
        ("create", "created"),
        ("update", "updated"),
        ("adopt", "adopted"),
        ("delete", "deleted"),
        ("release", "released"),
        ("forget", "forgotten"),
    ]
    .iter()
    .map(|(k, done)| format!("{} {done}", totals.get(k).copied().unwrap_or(0)))
    .collect::<Vec<_>>()
    .join(", ");
    if report.success() {
        println!("Apply complete: {counts}.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("Apply incomplete: {counts}; see the stopped apps above.");
        Ok(ExitCode::FAILURE)
    }
}
