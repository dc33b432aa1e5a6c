//! `mortar apply --config FILE [--app NAME] [--prune] [--auto-approve]`:
//! plans, shows the plan, asks for confirmation on a terminal, applies, and
//! prints progress and a summary.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use mortar::apply::{self, ExecOptions, Progress};
use mortar::audit::{AuditError, AuditEvent, AuditLog, AuditRecord, AuditSink, Fanout, Trigger};
use mortar::config::{AuditSinkConfig, Config};
use mortar::plan::ActionKind;
use mortar::plan::render::{self, TextOptions};

use super::session::{Session, use_color};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The controller config file (workspaces, source, state, audit).
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    pub config: PathBuf,
    /// Only this app.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
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

/// Each record also as one JSON line on stderr.
struct StderrSink;

impl AuditSink for StderrSink {
    fn name(&self) -> &str {
        "stderr"
    }
    fn record(&self, event: &AuditEvent) -> Result<Option<AuditRecord>, AuditError> {
        let line = serde_json::to_string(event).map_err(AuditError::Serialize)?;
        eprintln!("{line}");
        Ok(None)
    }
}

fn audit_sinks(config: &Config) -> anyhow::Result<Fanout> {
    let mut fan = Fanout::default();
    fan.push(Box::new(AuditLog::open(config.audit_file())?));
    for sink in &config.audit.sinks {
        match sink {
            AuditSinkConfig::File(path) => fan.push(Box::new(AuditLog::open(path)?)),
            AuditSinkConfig::Stderr => fan.push(Box::new(StderrSink)),
        }
    }
    Ok(fan)
}

fn cli_user() -> String {
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

fn identity(me: &serde_json::Value) -> Option<String> {
    let s = |k: &str| me.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match (s("applicationId"), s("userName"), s("displayName")) {
        (Some(app), _, Some(name)) => Some(format!("service principal {name} ({app})")),
        (Some(app), _, None) => Some(format!("service principal {app}")),
        (None, Some(user), _) => Some(user),
        (None, None, name) => name,
    }
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
    let session = Session::open(&args.config, None)?;
    let wait = args.lock_timeout.map(std::time::Duration::from_secs);
    let _lock = apply::lock::StateLock::acquire(
        &session.config.state.dir,
        &apply::lock::LockOptions { wait, holder: None },
    )?;
    let prepared = session.prepare(args.app.clone(), args.prune, true).await?;
    let plan = &prepared.plan;
    let pending = plan.apps.iter().flat_map(|a| &a.actions).any(|a| {
        a.action.changes_workspace() || matches!(a.action, ActionKind::Release | ActionKind::Forget)
    });
    print!(
        "{}",
        render::text(
            plan,
            TextOptions {
                color: use_color(),
                show_unchanged: false
            }
        )
    );
    if !pending && !plan.has_changes {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.auto_approve && !confirm()? {
        println!("Apply cancelled.");
        return Ok(ExitCode::FAILURE);
    }

    let mut acting_as = BTreeMap::new();
    let workspaces: std::collections::BTreeSet<&str> = plan
        .apps
        .iter()
        .flat_map(|a| &a.actions)
        .filter(|a| a.action.changes_workspace())
        .map(|a| a.key.workspace.as_str())
        .collect();
    // Read concurrently, and remembered by each client for the secret ACL
    // calls that need the identity again.
    let identities = futures::future::join_all(
        workspaces
            .into_iter()
            .filter_map(|ws| session.clients.get(ws).map(|c| (ws, c)))
            .map(|(ws, client)| async move { (ws, client.identity().await) }),
    )
    .await;
    for (ws, me) in identities {
        let me = me.with_context(|| format!("workspace {ws}: who am I (SCIM Me)"))?;
        if let Some(id) = identity(&me) {
            acting_as.insert(ws.to_string(), id);
        }
    }
    let concurrency = session
        .config
        .workspaces
        .iter()
        .map(|(n, w)| (n.clone(), w.limits.max_concurrency))
        .collect();
    let revision = session.loaded.revision.clone();
    let opts = ExecOptions {
        trigger: Trigger::Cli(cli_user()),
        revision: revision.as_ref().map(|r| r.commit.clone()),
        commit_author: revision.as_ref().map(|r| r.author.clone()),
        acting_as,
        concurrency,
        secrets_base: session
            .config_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let audit: Arc<dyn AuditSink> = Arc::new(audit_sinks(&session.config)?);
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
                "{} {key}: {} done{}",
                mark(action),
                action.as_str(),
                id.map(|i| format!(" (id {i})")).unwrap_or_default()
            ),
            Some(e) => eprintln!("! {key}: {} FAILED: {e}", action.as_str()),
        },
        Progress::Skipped { key, reason, .. } => eprintln!("  {key}: skipped ({reason})"),
    });
    let report = apply::execute(
        prepared,
        &session.clients,
        &session.store,
        audit,
        opts,
        progress,
    )
    .await;
    println!();
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for app in &report.apps {
        for (k, v) in &app.by_action {
            *totals.entry(k).or_default() += v;
        }
        match &app.failure {
            None => println!("app {}: ok, {} action(s)", app.app, app.done),
            Some(f) => println!(
                "app {}: STOPPED after {} action(s), {} not attempted: {f}",
                app.app, app.done, app.skipped
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
