//! `mortar import bundle PATH [--target NAME] [--out DIR] [--app NAME]`:
//! a Databricks Asset Bundle written as one Mortar app under a manifest
//! root, with a report of what could not be taken in (file and line);
//! `--strict` makes any of it an error. Existing files are never
//! overwritten.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mortar::import::bundle::{self, DiskFiles, Options};
use mortar::import::write::{self, Layout, OutputFile};
use mortar::manifest::diag::printable;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A Databricks Asset Bundle (`databricks.yml`) as one app: its
    /// resources' create bodies for a target, their permissions, and the
    /// notebooks and files they run.
    Bundle(BundleArgs),
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

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Bundle(args) => import_bundle(args),
    }
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
    // Nothing is overwritten: every target path must be new.
    for f in &files {
        let path = args.out.join(f.path());
        if path.exists() {
            anyhow::bail!(
                "{} exists already: nothing was written (choose another --app or --out)",
                path.display()
            );
        }
    }
    for f in &files {
        let path = args.out.join(f.path());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        match f {
            OutputFile::Text { text, .. } => std::fs::write(&path, text),
            OutputFile::Copy { from, .. } => std::fs::copy(args.path.join(from), &path).map(|_| ()),
        }
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
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
