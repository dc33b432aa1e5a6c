//! `mortar policy test [PATH]`: runs the unit tests of a manifest
//! repository's guardrails — every `test_*` rule of its
//! `policies/**/*_test.rego` files — and prints each result.
//!
//! Exit codes: 0 every test passed, 1 a test failed or a policy does not
//! parse, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use mortar::manifest::DirTree;
use mortar::manifest::diag::printable;
use mortar::policy::{self, POLICY_DIR, PolicySet};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the policies' own tests (`test_*` rules in `*_test.rego` files).
    Test {
        /// The manifest root whose `policies/` directory is tested.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Test { path } = command;
    if !path.is_dir() {
        eprintln!(
            "mortar policy test: `{}` is not a directory (give the manifest root)",
            printable(&path.display().to_string())
        );
        return Ok(ExitCode::from(2));
    }
    let set = match PolicySet::load(&DirTree::new(&path)) {
        Ok(set) => set,
        Err(diags) => {
            for mut e in diags.errors {
                e.file = path.join(&e.file).to_string_lossy().into_owned();
                eprintln!("{e}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcomes = policy::run_tests(&set);
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    for o in &outcomes {
        let at = format!("{}:{}", o.file, o.line);
        match &o.failure {
            None => println!("ok    {} ({})", printable(&o.name), printable(&at)),
            Some(why) => println!(
                "FAIL  {} ({}): {}",
                printable(&o.name),
                printable(&at),
                printable(why)
            ),
        }
    }
    if outcomes.is_empty() {
        eprintln!("no tests: no `test_*` rule in any {POLICY_DIR}/**/*_test.rego file");
    } else {
        eprintln!("{} passed, {failed} failed", outcomes.len() - failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
