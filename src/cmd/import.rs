//! `mortar import bundle PATH [--target NAME] [--out DIR] [--app NAME]`:
//! a Databricks Asset Bundle written as one Mortar app under a manifest
//! root, with a report of what could not be taken in (file and line);
//! `--strict` makes any of it an error.
//!
//! `mortar import workspace --config FILE --workspace NAME [--kinds LIST]
//! [--filter EXPR] [--path FOLDER] [--out DIR] [--app NAME]`: what a live
//! workspace holds, as one app adopting it.
//!
//! Existing files are never overwritten.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mortar::engine::Engine;
use mortar::import::bundle::{self, DiskFiles, Options};
use mortar::import::workspace::{self as live, Filter};
use mortar::import::write::{self, Layout, OutputFile};
use mortar::manifest::diag::printable;
use mortar::model::Kind;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A Databricks Asset Bundle (`databricks.yml`) as one app: its
    /// resources' create bodies for a target, their permissions, and the
    /// notebooks and files they run.
    Bundle(BundleArgs),
    /// A live workspace as one app: every object of the kinds asked for
    /// that no other Mortar app owns, with its ACL, adopted by id.
    Workspace(WorkspaceArgs),
}

#[derive(Debug, clap::Args)]
pub struct WorkspaceArgs {
    /// The controller config naming the workspace and its credentials.
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    pub config: PathBuf,
    /// The workspace to read (a name under the config's `workspaces:`);
    /// the app's destination.
    #[arg(long, value_name = "NAME")]
    pub workspace: String,
    /// The kinds to import, by kind or plural (`Job,clusters,Grants`);
    /// default: every kind.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Conditions on the objects: name=GLOB, name!=GLOB, app=NAME (app=
    /// for objects no app owns), tag.KEY=GLOB; commas or repeats combine.
    #[arg(long, value_name = "EXPR")]
    pub filter: Vec<String>,
    /// A workspace folder whose notebooks, files and directories are
    /// imported (repeatable; none: no workspace objects).
    #[arg(long = "path", value_name = "FOLDER")]
    pub paths: Vec<String>,
    /// The manifest root the app is written into.
    #[arg(long, value_name = "DIR", default_value = "manifests")]
    pub out: PathBuf,
    /// The app's name (default: `<workspace>-imported`). Objects this app
    /// owns already are imported too.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// The app's project.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub project: String,
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    /// The bundle's directory (holding databricks.yml).
    pub path: PathBuf,
    /// The target to import (default: the bundle's default target).
    #[arg(long, short = 't', value_name = "NAME")]
    pub target: Option<String>,
    /// A bundle variable's value, as `databricks bundle deploy --var`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The identity that deploys the bundle (its user name), for the
    /// workspace paths and development mode's name prefix.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The manifest root the app is written into.
    #[arg(long, value_name = "DIR", default_value = "manifests")]
    pub out: PathBuf,
    /// The app's name (default: `<bundle>-<target>`).
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// The Mortar workspace it lands in (default: the target's name).
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,
    /// The app's project.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub project: String,
    /// Fail when anything cannot be taken in.
    #[arg(long)]
    pub strict: bool,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Bundle(args) => import_bundle(args),
        Command::Workspace(args) => import_workspace(args).await,
    }
}

/// `--kinds`: kinds by name or plural, in any case (`Job`, `jobs`, `job`).
fn parse_kinds(list: &[String]) -> anyhow::Result<Option<BTreeSet<Kind>>> {
    if list.is_empty() {
        return Ok(None);
    }
    let databricks: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| k.is_databricks())
        .collect();
    let mut out = BTreeSet::new();
    for word in list.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        let kind = databricks
            .iter()
            .find(|k| k.as_str().to_ascii_lowercase() == lower || k.plural() == lower)
            .with_context(|| {
                let known: Vec<&str> = databricks.iter().map(|k| k.as_str()).collect();
                format!(
                    "--kinds: `{}` is not a Databricks kind (kinds: {})",
                    printable(word),
                    known.join(", ")
                )
            })?;
        out.insert(*kind);
    }
    anyhow::ensure!(!out.is_empty(), "--kinds names no kind");
    Ok(Some(out))
}

async fn import_workspace(args: WorkspaceArgs) -> anyhow::Result<ExitCode> {
    let app = args
        .app
        .clone()
        .unwrap_or_else(|| format!("{}-imported", args.workspace));
    let options = live::Options {
        app: app.clone(),
        kinds: parse_kinds(&args.kinds)?,
        filter: Filter::parse(&args.filter)?,
        paths: args.paths.clone(),
    };
    options.check()?;
    let mut engine = Engine::open_file(&args.config)?;
    // Inventories kept in a cluster are read from there.
    mortar::cluster::open_for(&mut engine, &tokio_util::sync::CancellationToken::new()).await?;
    let imported = engine.import_workspace(&args.workspace, &options).await?;
    for s in &imported.skipped {
        eprintln!(
            "skipped: {} `{}`: managed by app `{}`",
            s.kind,
            printable(&s.name),
            printable(&s.app)
        );
    }
    for u in &imported.unmapped {
        eprintln!("warning: not imported: {}", printable(u));
    }
    let layout = Layout {
        app: app.clone(),
        workspace: args.workspace.clone(),
        project: args.project.clone(),
    };
    let files = write::workspace_files(&imported, &layout)?;
    write_all(&files, &args.out, None)?;
    println!(
        "Imported {} object(s) of workspace `{}` as app `{}` in {}: {} ({} managed by other apps, {} passed over: made by Databricks or filtered out).",
        imported.resources.len(),
        printable(&args.workspace),
        printable(&app),
        args.out.display(),
        args.out.join(format!("apps/{app}.yaml")).display(),
        imported.skipped.len(),
        imported.passed_over,
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `files` under `out`, refusing before writing anything when one
/// exists. `Copy` files come from `copy_from`.
fn write_all(files: &[OutputFile], out: &Path, copy_from: Option<&Path>) -> anyhow::Result<()> {
    for f in files {
        let path = out.join(f.path());
        if path.exists() {
            anyhow::bail!(
                "{} exists already: nothing was written (choose another --app or --out)",
                path.display()
            );
        }
    }
    for f in files {
        let path = out.join(f.path());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        match f {
            OutputFile::Text { text, .. } => std::fs::write(&path, text),
            OutputFile::Bytes { bytes, .. } => std::fs::write(&path, bytes),
            OutputFile::Copy { from, .. } => {
                let base = copy_from.unwrap_or(Path::new("."));
                std::fs::copy(base.join(from), &path).map(|_| ())
            }
        }
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn import_bundle(args: BundleArgs) -> anyhow::Result<ExitCode> {
    let mut vars = BTreeMap::new();
    for v in &args.vars {
        let (name, value) = v
            .split_once('=')
            .with_context(|| format!("--var {v}: expected NAME=VALUE"))?;
        vars.insert(name.to_string(), value.to_string());
    }
    let env_vars = std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix("BUNDLE_VAR_").map(|n| (n.to_string(), v)))
        .collect();
    let loaded = bundle::load(&args.path)?;
    let options = Options {
        target: args.target.clone(),
        vars,
        env_vars,
        user: args.user.clone(),
    };
    let imported = bundle::convert(&loaded, &options, &DiskFiles(&args.path))?;
    for u in &imported.unmapped {
        eprintln!(
            "{}: {}:{}: not imported: {}",
            if args.strict { "error" } else { "warning" },
            printable(&args.path.join(&u.place.file).display().to_string()),
            u.place.line,
            printable(&u.what)
        );
    }
    if args.strict && !imported.unmapped.is_empty() {
        eprintln!(
            "mortar: {} thing(s) cannot be imported (--strict): nothing was written",
            imported.unmapped.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let layout = Layout {
        app: args
            .app
            .clone()
            .unwrap_or_else(|| format!("{}-{}", imported.bundle, imported.target)),
        workspace: args
            .workspace
            .clone()
            .unwrap_or_else(|| imported.target.clone()),
        project: args.project.clone(),
    };
    let files = write::files(&imported, &layout)?;
    write_all(&files, &args.out, Some(&args.path))?;
    println!(
        "Imported {} resource(s) and {} file(s) of bundle `{}` (target `{}`) as app `{}` in {}: {} ({} not imported, listed above).",
        imported.resources.len(),
        imported.files.len(),
        printable(&imported.bundle),
        printable(&imported.target),
        printable(&layout.app),
        args.out.display(),
        args.out.join(format!("apps/{}.yaml", layout.app)).display(),
        imported.unmapped.len()
    );
    Ok(ExitCode::SUCCESS)
}
