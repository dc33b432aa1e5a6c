//! `mortar run --config FILE [--once]`: the controller daemon. The first
//! SIGTERM or Ctrl-C stops new work and lets calls in flight finish (their
//! outcomes recorded) within `controller.shutdown_grace`; a second exits at
//! once. Inventories are written whole or not at all, so neither way leaves
//! one half-written.

use std::path::PathBuf;
use std::process::ExitCode;

use mortar::controller::{Daemon, DaemonOptions};
use tokio_util::sync::CancellationToken;

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
    /// Reconcile every app once, then exit: 0 when all are Synced and
    /// Healthy, 1 otherwise.
    #[arg(long)]
    pub once: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let daemon = Daemon::open(&args.config)?;
    let grace = daemon.shutdown_grace();
    let cancel = CancellationToken::new();
    tokio::spawn(signals(cancel.clone()));
    let work = daemon.run(
        DaemonOptions {
            once: args.once,
            ..DaemonOptions::default()
        },
        cancel.clone(),
    );
    tokio::pin!(work);
    let synced = tokio::select! {
        result = &mut work => result?,
        _ = async { cancel.cancelled().await; tokio::time::sleep(grace).await } => {
            eprintln!("mortar: shutdown did not finish within {}; exiting", mortar::config::show_duration(grace));
            return Ok(ExitCode::FAILURE);
        }
    };
    Ok(if synced || !args.once {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The first signal cancels; the second exits at once.
pub async fn signals(cancel: CancellationToken) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    let next = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    next.await;
    tracing::info!("shutting down: no new work; calls in flight finish");
    cancel.cancel();
    let again = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    again.await;
    eprintln!("mortar: second signal, exiting now");
    std::process::exit(130);
}
