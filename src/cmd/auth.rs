//! `mortar auth check`: authenticates to each configured workspace and
//! prints the identity Mortar acts as there.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use mortar::config::Config;
use mortar::databricks::Client;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Authenticate to each workspace and print who Mortar acts as (SCIM `Me`).
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The controller config file (mortar.yaml). Without it, or when it
    /// names no workspace, the DATABRICKS_* environment variables are used.
    #[arg(long, env = "MORTAR_CONFIG")]
    config: Option<PathBuf>,
    /// Check only this workspace.
    #[arg(long)]
    workspace: Option<String>,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(args).await,
    }
}

/// `displayName (userName or applicationId)` from a SCIM `Me` answer.
fn identity(me: &Value) -> String {
    let s = |k: &str| me.get(k).and_then(Value::as_str);
    let display = s("displayName");
    let id = s("applicationId")
        .map(|a| format!("service principal {a}"))
        .or_else(|| s("userName").map(|u| format!("user {u}")));
    match (display, id) {
        (Some(d), Some(i)) if i.ends_with(d) => i,
        (Some(d), Some(i)) => format!("{d} ({i})"),
        (Some(d), None) => d.to_string(),
        (None, Some(i)) => i,
        (None, None) => "an unnamed identity".to_string(),
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let env = |name: &str| std::env::var(name).ok();
    mortar::cluster::read_config_secrets(&config).await?;
    let workspaces = config.workspaces_or_env(&env)?;
    let selected: Vec<_> = match &args.workspace {
        Some(name) => {
            let ws = workspaces.get(name).with_context(|| {
                let known: Vec<&str> = workspaces.keys().map(String::as_str).collect();
                format!(
                    "no workspace named `{name}` (configured: {})",
                    known.join(", ")
                )
            })?;
            vec![(name.clone(), ws.clone())]
        }
        None => workspaces.into_iter().collect(),
    };
    let mut failed = 0;
    for (name, ws) in &selected {
        let method = ws.auth.method();
        // A check should answer quickly: a few attempts, not a long backoff.
        let mut ws = ws.clone();
        ws.retry.max_attempts = ws.retry.max_attempts.min(3);
        let result = match Client::new(name, &ws) {
            Ok(client) => client.me().await,
            Err(err) => Err(err),
        };
        match result {
            Ok(me) => println!(
                "{name}: ok — {} acts as {} ({method})",
                ws.host,
                identity(&me)
            ),
            Err(err) => {
                failed += 1;
                println!("{name}: FAILED — {} ({method}): {err}", ws.host);
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "mortar: authentication failed for {failed} of {} workspace(s)",
            selected.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
