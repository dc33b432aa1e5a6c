//! `mortar access of PRINCIPAL` and `mortar access who-can --workspace W
//! OBJECT`: who can do what, answered from Git (ACLs, Unity Catalog
//! grants, entitlements, group membership, an agent's approved data) and,
//! with `--live`, where the workspaces differ from it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use mortar::access::{self, AccessReport, Holding, LiveDifference};
use mortar::engine::{AppFilter, Scope};
use mortar::manifest::diag::printable;

use super::Output;
use super::target::TargetArgs;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Everything a principal holds: a service principal by its manifest
    /// name, a group, or a user.
    Of {
        principal: String,
        /// Only this workspace.
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Who holds what on one object: `Kind/name` (e.g. `Job/nightly-etl`),
    /// or `catalog NAME` / `schema CATALOG.NAME` for grants.
    WhoCan {
        #[arg(long, value_name = "NAME")]
        workspace: String,
        object: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, clap::Args)]
pub struct Common {
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    config: PathBuf,
    /// Read this directory instead of the config's source.
    #[arg(long, value_name = "DIR")]
    source_dir: Option<PathBuf>,
    /// Also read the workspaces and show where they differ from Git.
    #[arg(long)]
    live: bool,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (Command::Of { common, .. } | Command::WhoCan { common, .. }) = &command;
    let target = TargetArgs {
        config: common.config.clone(),
        apps: Vec::new(),
    };
    let (engine, tree) = target.open(common.source_dir.as_deref()).await?;
    let planned = if common.live {
        let scope = Scope {
            apps: AppFilter::All,
            prune: false,
            drift_only: false,
        };
        Some(engine.plan(&tree, &scope).await?)
    } else {
        None
    };
    match &command {
        Command::Of {
            principal,
            workspace,
            common,
        } => {
            let mut report = access::of(&tree.rendered, principal, workspace.as_deref());
            if let Some(planned) = &planned {
                access::live_differences(
                    &mut report,
                    &tree.rendered,
                    planned.plan(),
                    planned.known(),
                );
            }
            match common.output {
                Output::Text => print!("{}", report_text(&report)),
                Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
        }
        Command::WhoCan {
            workspace,
            object,
            common,
        } => {
            let holdings = access::who_can(&tree.rendered, workspace, object);
            let live = planned
                .as_ref()
                .map(|p| access::object_differences(p.plan(), workspace, object));
            match common.output {
                Output::Text => {
                    let mut out = String::new();
                    let _ = writeln!(out, "{} in {workspace}", printable(object));
                    holdings_text(&mut out, &holdings);
                    if let Some(live) = &live {
                        live_text(&mut out, live);
                    }
                    print!("{out}");
                }
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "workspace": workspace,
                        "object": object,
                        "holdings": holdings,
                        "live": live,
                    }))?
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_text(report: &AccessReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", printable(&report.principal), report.kind);
    if !report.member_of.is_empty() {
        let _ = writeln!(
            out,
            "  member of: {}",
            printable(&report.member_of.join(", "))
        );
    }
    for (ws, data) in &report.approved_data {
        let _ = writeln!(out, "  agent, approved data in {ws}: {}", printable(data));
    }
    if report.holdings.is_empty() {
        let _ = writeln!(out, "  holds nothing in Git");
    }
    holdings_text(&mut out, &report.holdings);
    if let Some(live) = &report.live {
        live_text(&mut out, live);
    }
    out
}

fn holdings_text(out: &mut String, holdings: &[Holding]) {
    let mut workspace = None;
    for h in holdings {
        if workspace != Some(&h.workspace) {
            let _ = writeln!(out, "  {}", h.workspace);
            workspace = Some(&h.workspace);
        }
        let via = match (&h.via, &h.binding) {
            (Some(g), Some(b)) => format!(" (via group {g}, role binding {b})"),
            (Some(g), None) => format!(" (via group {g})"),
            (None, Some(b)) => format!(" (role binding {b})"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "    {:<11} {:<22} {:<44}{via}  {}:{}",
            h.source,
            printable(&h.right),
            printable(&h.object),
            printable(&h.file),
            h.line
        );
    }
}

fn live_text(out: &mut String, live: &[LiveDifference]) {
    if live.is_empty() {
        let _ = writeln!(out, "  live: the workspaces match Git");
        return;
    }
    let _ = writeln!(out, "  live: differs from Git");
    for d in live {
        let _ = writeln!(
            out,
            "    {}: live {}, Git {}",
            printable(&d.object),
            d.live.as_deref().unwrap_or("nothing"),
            d.git.as_deref().unwrap_or("nothing")
        );
    }
}
