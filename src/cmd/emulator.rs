//! `mortar emulator`: serves a fake Databricks workspace until Ctrl-C or
//! SIGTERM. The first lines on stdout are machine-readable
//! (`base_url=…`, one `token=…` per accepted admin token, `ready`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mortar_emulator::{Emulator, EmulatorConfig, Secret};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// A token accepted for the workspace administrator (repeatable; a
    /// default token is accepted when none is given).
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// YAML file with OAuth clients, federation policies and users.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep state in this file across restarts.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Latency added to every API response, in milliseconds.
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,
    /// Turn on per-endpoint rate limits; RPS applies to endpoints without a
    /// published limit.
    #[arg(long, value_name = "RPS")]
    rate_limit: Option<f64>,
    /// Probability (0..1) of an injected fault per API request.
    #[arg(long, value_name = "P")]
    fault_rate: Option<f64>,
    /// Seed for fault injection.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = EmulatorConfig {
        listen: args.listen,
        ..EmulatorConfig::default()
    };
    if let Some(path) = &args.config {
        config.load_file(path)?;
    }
    config
        .tokens
        .extend(args.tokens.into_iter().map(Secret::new));
    if let Some(ms) = args.latency_ms {
        config.latency = Duration::from_millis(ms);
    }
    if args.rate_limit.is_some() {
        config.rate_limit = args.rate_limit;
    }
    if let Some(rate) = args.fault_rate {
        config.fault_rate = rate;
    }
    if args.seed.is_some() {
        config.seed = args.seed;
    }
    if args.state.is_some() {
        config.state_file = args.state;
    }
    let emulator = Emulator::start(config)
        .await
        .context("cannot start the emulator")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "base_url={}", emulator.base_url())?;
        for token in emulator.tokens() {
            writeln!(out, "token={token}")?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    tracing::info!(base_url = emulator.base_url(), "emulator serving");
    let faults = emulator.faults();
    if faults.fault_rate > 0.0 {
        tracing::info!(
            fault_rate = faults.fault_rate,
            seed = faults.seed,
            "fault injection on; rerun with --seed to repeat the sequence"
        );
    }
    wait_for_signal().await?;
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")
}
