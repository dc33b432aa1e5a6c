//! `mortar validate PATH [--root FILE] [--output text|json]`: renders the
//! manifest repository at PATH, runs its guardrails (`policies/`) over
//! every app, and prints its app tree, or every error.
//!
//! Exit codes: 0 valid, 1 invalid (every error printed), 2 usage error
//! (bad flags, or PATH is not a directory).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Output;
use mortar::engine::render;
use mortar::manifest::diag::printable;
use mortar::manifest::{self, Diagnostic, Diagnostics, Rendered};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest root: a directory whose top-level files hold the root
    /// Application(s), Projects and Workspaces. Source paths are relative to it.
    pub path: PathBuf,
    /// The file holding the root Application(s): relative to PATH, or a
    /// path from the working directory to a file inside PATH.
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.path.is_dir() {
        eprintln!(
            "mortar validate: `{}` is not a directory (give the manifest root)",
            printable(&args.path.display().to_string())
        );
        return Ok(ExitCode::from(2));
    }
    let result = render::validate_dir(&args.path, args.root.as_deref())
        .map(|mut rendered| {
            rebase(&mut rendered.warnings, &args.path);
            rendered
        })
        .map_err(|mut diags| {
            rebase(&mut diags.errors, &args.path);
            rebase(&mut diags.warnings, &args.path);
            diags
        });
    match args.output {
        Output::Text => match &result {
            Ok(rendered) => {
                print!("{}", tree_text(rendered));
                for w in &rendered.warnings {
                    eprintln!("{w}");
                }
                eprintln!("valid: {}", summary(rendered));
            }
            Err(diags) => {
                for w in &diags.warnings {
                    eprintln!("{w}");
                }
                for e in &diags.errors {
                    eprintln!("{e}");
                }
                eprintln!(
                    "invalid: {} error{}",
                    diags.errors.len(),
                    if diags.errors.len() == 1 { "" } else { "s" }
                );
            }
        },
        Output::Json => println!("{}", serde_json::to_string_pretty(&json_report(&result))?),
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Diagnostics name files relative to the manifest root; print them relative
/// to where the user ran the command, so `file:line` opens in an editor.
fn rebase(diagnostics: &mut [Diagnostic], root: &Path) {
    if root == Path::new(".") {
        return;
    }
    for d in diagnostics {
        d.file = root.join(&d.file).to_string_lossy().into_owned();
    }
}

fn summary(rendered: &Rendered) -> String {
    let resources = rendered.resources().count();
    format!(
        "{} app{}, {} resource{}, {} warning{}",
        rendered.apps.len(),
        plural(rendered.apps.len()),
        resources,
        plural(resources),
        rendered.warnings.len(),
        plural(rendered.warnings.len()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn counts(app: &manifest::RenderedApp) -> String {
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &app.resources {
        *by_kind.entry(r.key.kind.as_str()).or_default() += 1;
    }
    by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tree: root → apps → workspace → count per kind. Names are printed
/// through [`printable`], like every diagnostic.
pub fn tree_text(rendered: &Rendered) -> String {
    let mut out = String::new();
    for root in rendered.apps.iter().filter(|a| a.parent.is_none()) {
        write_app(&mut out, rendered, root, "", None);
    }
    out
}

fn write_app(
    out: &mut String,
    rendered: &Rendered,
    app: &manifest::RenderedApp,
    indent: &str,
    last: Option<bool>,
) {
    let (branch, child_indent) = match last {
        None => (String::new(), String::new()),
        Some(true) => (format!("{indent}└── "), format!("{indent}    ")),
        Some(false) => (format!("{indent}├── "), format!("{indent}│   ")),
    };
    let path = if app.source.path.is_empty() {
        "."
    } else {
        &app.source.path
    };
    let mut line = format!(
        "{branch}{} [project {}, source {path}",
        app.name, app.project
    );
    if let Some(set) = &app.generated_by {
        let _ = write!(line, ", from ApplicationSet {set}");
    }
    line.push(']');
    let _ = writeln!(out, "{}", printable(&line));
    let children: Vec<&manifest::RenderedApp> = rendered
        .apps
        .iter()
        .filter(|a| a.parent.as_deref() == Some(app.name.as_str()))
        .collect();
    let has_resources = !app.resources.is_empty();
    if has_resources {
        let is_last = children.is_empty();
        let (b, _) = if is_last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let ws = app.workspace.as_deref().unwrap_or("(no workspace)");
        let _ = writeln!(
            out,
            "{child_indent}{b}workspace {}: {}",
            printable(ws),
            printable(&counts(app))
        );
    }
    for (i, child) in children.iter().enumerate() {
        write_app(
            out,
            rendered,
            child,
            &child_indent,
            Some(i + 1 == children.len()),
        );
    }
}

fn json_report(result: &Result<Rendered, Diagnostics>) -> serde_json::Value {
    match result {
        Ok(rendered) => serde_json::json!({
            "valid": true,
            "apps": rendered.apps.iter().map(|a| {
                let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
                for r in &a.resources {
                    *by_kind.entry(r.key.kind.as_str()).or_default() += 1;
                }
                serde_json::json!({
                    "name": a.name,
                    "parent": a.parent,
                    "project": a.project,
                    "workspace": a.workspace,
                    "source": a.source.path,
                    "generatedBy": a.generated_by,
                    "resources": by_kind,
                    "keys": a.resources.iter().map(|r| r.key.to_string()).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
            "errors": [],
            "warnings": rendered.warnings,
        }),
        Err(diags) => serde_json::json!({
            "valid": false,
            "apps": [],
            "errors": diags.errors,
            "warnings": diags.warnings,
        }),
    }
}
