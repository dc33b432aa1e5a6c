//! `mortar demo [--listen ADDR] [--metrics-listen ADDR] [--drift-interval D]
//! [--dir DIR] [--exit-after-sync]`: the controller on two emulated
//! workspaces and the example repository, with nothing to set up.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mortar::controller::demo::{Demo, DemoOptions};
use mortar::controller::{Daemon, DaemonOptions};
use mortar::model::ControllerStatus;
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the daemon serves its API and webhooks.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where it serves metrics and health.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub metrics_listen: String,
    /// How often each app is compared with its workspace.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub drift_interval: Duration,
    /// Put the repository, config and state here (a new directory);
    /// by default a fresh one under the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Exit after the first sync: 0 when every app is Synced and Healthy.
    #[arg(long)]
    pub exit_after_sync: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    mortar::config::parse_duration(text)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = match &args.dir {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                anyhow::bail!("{} is not empty; give a new directory", dir.display());
            }
            dir.clone()
        }
        None => std::env::temp_dir().join(format!(
            "mortar-demo-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_second()
        )),
    };
    let options = DemoOptions {
        dir,
        listen: args.listen.clone(),
        metrics_listen: args.metrics_listen.clone(),
        drift_interval: args.drift_interval,
        poll_interval: Duration::from_secs(3),
    };
    let demo = Demo::set_up(&options).await?;
    println!("Mortar demo");
    println!("  workspace dev   {}", demo.dev.base_url());
    println!("  workspace prod  {}", demo.prod.base_url());
    println!("  repository      {}", demo.repository.display());
    println!("  config          {}", demo.config_file.display());
    println!("Syncing the example repository…");
    let daemon = Daemon::open(&demo.config_file).context("cannot start the controller")?;
    let mut handle = daemon.handle();
    let cancel = CancellationToken::new();
    tokio::spawn(super::run::signals(cancel.clone()));
    let run = daemon.run(
        DaemonOptions {
            once: args.exit_after_sync,
            poll_interval: Some(options.poll_interval),
        },
        cancel.clone(),
    );
    let report = async {
        if handle.passes.wait_for(|n| *n >= 1).await.is_err() {
            return;
        }
        let status = handle.status.borrow().clone();
        print!("{}", summary(&status));
        if !args.exit_after_sync {
            let job = nightly_job(&demo).await;
            let (api, metrics) = match *handle.bound.borrow() {
                Some(a) => (a.api.to_string(), a.metrics.to_string()),
                None => (options.listen.clone(), options.metrics_listen.clone()),
            };
            print!(
                "{}",
                demo.next_steps(&options, &api, &metrics, job.as_deref())
            );
        }
    };
    let (synced, ()) = tokio::join!(run, report);
    let synced = synced?;
    Ok(if synced || !args.exit_after_sync {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One line per app after the first sync.
fn summary(status: &ControllerStatus) -> String {
    let mut out = String::new();
    for app in &status.apps {
        let indent = "  ".repeat(app.depth + 1);
        let counts = app
            .last_sync
            .as_ref()
            .map(|r| {
                format!(
                    "  {} created, {} updated, {} deleted",
                    r.counts.created, r.counts.updated, r.counts.deleted
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{indent}{:<24} {:<10} {:<11}{counts}\n",
            app.name,
            app.sync.label(),
            app.health.label()
        ));
        for c in &app.conditions {
            out.push_str(&format!("{indent}  {:?}: {}\n", c.kind, c.message));
        }
    }
    out
}

/// The id of the example's nightly job in dev, for the drift example.
async fn nightly_job(demo: &Demo) -> Option<String> {
    let url = format!(
        "{}/api/2.2/jobs/list?name=nightly-etl-dev&limit=25",
        demo.dev.base_url()
    );
    let list: serde_json::Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(demo.dev.token())
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    list["jobs"][0]["job_id"].as_i64().map(|id| id.to_string())
}
