//! The `mortar` command line: thin wiring from flags to the library's stages.
//!
//! Exit codes follow the convention CI systems expect: 0 success (or nothing
//! to do), 1 an error or invalid input, 2 a usage error (or, for `plan`,
//! changes pending; for `status`, no status saved yet).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// GitOps for Databricks: manifests in Git, reconciled into workspaces.
#[derive(Debug, Parser)]
#[command(name = "mortar", version, about, propagate_version = true)]
struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "plain",
        env = "MORTAR_LOG_FORMAT"
    )]
    log_format: cmd::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a manifest repository and print its app tree.
    Validate(cmd::validate::Args),
    /// Serve a fake Databricks workspace on a local port.
    Emulator(cmd::emulator::Args),
    /// Check credentials against the configured workspaces.
    #[command(subcommand)]
    Auth(cmd::auth::Command),
    /// Show what apply would change.
    Plan(cmd::plan::Args),
    /// Change the workspaces to match Git.
    Apply(cmd::apply::Args),
    /// Try Mortar on two emulated workspaces and the example repository.
    Demo(cmd::demo::Args),
    /// Pin an app to an earlier revision (and pause its automated sync), or unpin it.
    Rollback(cmd::rollback::Args),
    /// Sync one app now, whatever its sync policy (through the running controller, if any).
    Sync(cmd::sync::Args),
    /// Run the controller: keep every workspace equal to Git.
    Run(cmd::run::Args),
    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(cmd::audit::Command),
    /// Who can do what: from Git, and with --live from the workspaces.
    #[command(subcommand)]
    Access(cmd::access::Command),
    /// Test the repository's guardrails (Rego policies under policies/).
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// Bring what exists into Mortar: an Asset Bundle or a live workspace as an app.
    #[command(subcommand)]
    Import(cmd::import::Command),
    /// Show each app's status as the controller last saved it.
    Status(cmd::status::Args),
    /// The apps of a running controller, through its API (--server URL).
    #[command(subcommand)]
    App(cmd::app::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Demo(_))
        && std::env::var_os(mortar::controller::demo::DEMO_SECRET_ENV).is_none()
    {
        // SAFETY: no other thread exists yet (the runtime starts below).
        // The example's secret scope reads this variable; the demo gives
        // it a placeholder value.
        unsafe {
            std::env::set_var(mortar::controller::demo::DEMO_SECRET_ENV, "demo-only-value");
        }
    }
    cmd::init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("mortar: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => cmd::validate::run(args).await,
            Command::Emulator(args) => cmd::emulator::run(args).await,
            Command::Auth(command) => cmd::auth::run(command).await,
            Command::Plan(args) => cmd::plan::run(args).await,
            Command::Apply(args) => cmd::apply::run(args).await,
            Command::Audit(command) => cmd::audit::run(command).await,
            Command::Run(args) => cmd::run::run(args).await,
            Command::Rollback(args) => cmd::rollback::run(args).await,
            Command::Sync(args) => cmd::sync::run(args).await,
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Status(args) => cmd::status::run(args).await,
            Command::App(command) => cmd::app::run(command).await,
            Command::Policy(command) => cmd::policy::run(command).await,
            Command::Access(command) => cmd::access::run(command).await,
            Command::Import(command) => cmd::import::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            // The error and its causes on one line; no error's text repeats
            // its cause's, so each is printed once.
            eprintln!("mortar: {err:#}");
            ExitCode::FAILURE
        }
    }
}
