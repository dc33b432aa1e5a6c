//! `mortar access of PRINCIPAL` and `mortar access who-can --workspace W
//! OBJECT`: who can do what, answered from Git (ACLs, Unity Catalog
//! grants, entitlements, group membership, an agent's approved data) and,
//! with `--live`, where the workspaces differ from it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use mortar::access::{self, AccessReport, Holding, LiveDifference};
use mortar::authz::{self, Caller, Decision, Via};
use mortar::engine::{AppFilter, Engine, RenderedTree, Scope};
use mortar::manifest::Rendered;
use mortar::manifest::access_policy::Action;
use mortar::manifest::diag::{printable, suggest};

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
    /// May a person or bot take ACTION on APP through Mortar's API, by the
    /// repository's AccessPolicy? Exit 0 yes, 1 no (for reviewing the
    /// policy itself).
    CanI {
        /// The caller's subject (the IdP's `sub`).
        #[arg(long = "as", value_name = "SUBJECT")]
        subject: String,
        /// The caller's groups, comma-separated.
        #[arg(long, value_name = "G1,G2", value_delimiter = ',')]
        groups: Vec<String>,
        /// get, sync, refresh, rollback, pause or override.
        #[arg(value_parser = parse_action)]
        action: Action,
        app: String,
        #[command(flatten)]
        source: SourceArgs,
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
}

fn parse_action(name: &str) -> Result<Action, String> {
    Action::parse(name).ok_or_else(|| {
        format!("unknown action `{name}`: one of get, sync, refresh, rollback, pause, override")
    })
}

/// Where the manifests are read: the config's source, or a checkout.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    config: PathBuf,
    /// Read this directory (a pull request's checkout) instead of the config's source.
    #[arg(long, value_name = "DIR")]
    source_dir: Option<PathBuf>,
}

impl SourceArgs {
    async fn open(&self) -> anyhow::Result<(Engine, RenderedTree)> {
        let target = TargetArgs {
            config: self.config.clone(),
            apps: Vec::new(),
        };
        target.open(self.source_dir.as_deref()).await
    }
}

#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    source: SourceArgs,
    /// Also read the workspaces and show where they differ from Git.
    #[arg(long)]
    live: bool,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let common = match &command {
        Command::Of { common, .. } | Command::WhoCan { common, .. } => common,
        Command::CanI {
            subject,
            groups,
            action,
            app,
            source,
            output,
        } => {
            let (_, tree) = source.open().await?;
            let caller = Caller {
                subject: subject.clone(),
                groups: groups.clone(),
            };
            return can_i(&tree.rendered, &caller, *action, app, *output);
        }
    };
    let (engine, tree) = common.source.open().await?;
    let planned = if common.live {
        let scope = Scope {
            apps: AppFilter::All,
            ..Scope::default()
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
        Command::CanI { .. } => unreachable!("answered above"),
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

/// Answers `can-i` from the rendered tree's AccessPolicy.
fn can_i(
    rendered: &Rendered,
    caller: &Caller,
    action: Action,
    app: &str,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let apps = rendered
        .apps
        .iter()
        .map(|a| (a.name.as_str(), a.project.as_str()))
        .chain(
            rendered
                .blocked
                .iter()
                .map(|b| (b.name.as_str(), b.project.as_str())),
        );
    let Some((_, project)) = apps.clone().find(|(name, _)| *name == app) else {
        let hint = suggest(app, apps.map(|(name, _)| name))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        anyhow::bail!("no app `{}` in the tree{hint}", printable(app));
    };
    let decision = authz::decide(
        rendered.access_policy.as_ref(),
        caller,
        action,
        app,
        project,
    );
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "allowed": decision.allowed(),
                "subject": caller.subject,
                "groups": caller.groups,
                "action": action,
                "app": app,
                "project": project,
                "answer": decision,
            }))?
        ),
        Output::Text => println!("{}", can_i_text(&decision, caller, action, app, project)),
    }
    Ok(if decision.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn can_i_text(
    decision: &Decision,
    caller: &Caller,
    action: Action,
    app: &str,
    project: &str,
) -> String {
    let (app, subject) = (printable(app), printable(&caller.subject));
    match decision {
        Decision::Allowed { role, via, origin } => {
            let via = match via {
                Via::Subject(s) => format!("bound to subject {}", printable(s)),
                Via::Group(g) => format!("bound to group {}", printable(g)),
                Via::Default => "the default role".to_string(),
            };
            format!(
                "yes: {subject} may {action} {app} (project {project}): role {role}, {via} at {}:{}",
                origin.file, origin.line
            )
        }
        Decision::Denied { roles } if roles.is_empty() => format!(
            "no: no binding names {subject} or its groups, and the policy has no default role"
        ),
        Decision::Denied { roles } => format!(
            "no: {subject} holds {}; none of them allows {action} on {app} (project {project})",
            roles.join(", ")
        ),
        Decision::NoPolicy => {
            "no: the repository has no AccessPolicy, so nobody may act through the API".to_string()
        }
    }
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
