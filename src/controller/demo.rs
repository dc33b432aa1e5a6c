//! `mortar demo`: the whole controller on an embedded default, for a
//! newcomer with no Databricks and no config. Two emulated workspaces
//! (`dev`, `prod`) run in this process; the example repository (built into
//! the binary) is committed into a fresh local Git repository; a
//! `mortar.yaml` is written beside it; and the daemon keeps both
//! workspaces equal to that repository until stopped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mortar_emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// The example repository, `manifests/`, as shipped.
pub const EXAMPLE: &[(&str, &[u8])] = &[
    ("access.yaml", include_bytes!("../../manifests/access.yaml")),
    (
        "apps/data-engineering.yaml",
        include_bytes!("../../manifests/apps/data-engineering.yaml"),
    ),
    (
        "apps/identity.yaml",
        include_bytes!("../../manifests/apps/identity.yaml"),
    ),
    (
        "apps/unity-catalog.yaml",
        include_bytes!("../../manifests/apps/unity-catalog.yaml"),
    ),
    (
        "data-engineering/compute.yaml",
        include_bytes!("../../manifests/data-engineering/compute.yaml"),
    ),
    (
        "data-engineering/config/settings.json",
        include_bytes!("../../manifests/data-engineering/config/settings.json"),
    ),
    (
        "data-engineering/jobs.yaml",
        include_bytes!("../../manifests/data-engineering/jobs.yaml"),
    ),
    (
        "data-engineering/notebooks.yaml",
        include_bytes!("../../manifests/data-engineering/notebooks.yaml"),
    ),
    (
        "data-engineering/notebooks/ingest.py",
        include_bytes!("../../manifests/data-engineering/notebooks/ingest.py"),
    ),
    (
        "data-engineering/notebooks/transform.sql",
        include_bytes!("../../manifests/data-engineering/notebooks/transform.sql"),
    ),
    (
        "data-engineering/runner.yaml",
        include_bytes!("../../manifests/data-engineering/runner.yaml"),
    ),
    (
        "data-engineering/secrets.yaml",
        include_bytes!("../../manifests/data-engineering/secrets.yaml"),
    ),
    (
        "data-engineering/sql/refresh_reporting.sql",
        include_bytes!("../../manifests/data-engineering/sql/refresh_reporting.sql"),
    ),
    (
        "data-engineering/warehouse.yaml",
        include_bytes!("../../manifests/data-engineering/warehouse.yaml"),
    ),
    (
        "identity/groups.yaml",
        include_bytes!("../../manifests/identity/groups.yaml"),
    ),
    (
        "identity/service-principals.yaml",
        include_bytes!("../../manifests/identity/service-principals.yaml"),
    ),
    (
        "identity/workspace-conf.yaml",
        include_bytes!("../../manifests/identity/workspace-conf.yaml"),
    ),
    (
        "policies/compute/autotermination.rego",
        include_bytes!("../../manifests/policies/compute/autotermination.rego"),
    ),
    (
        "policies/compute/autotermination_test.rego",
        include_bytes!("../../manifests/policies/compute/autotermination_test.rego"),
    ),
    (
        "policies/grants/broad_privileges.rego",
        include_bytes!("../../manifests/policies/grants/broad_privileges.rego"),
    ),
    (
        "policies/grants/broad_privileges_test.rego",
        include_bytes!("../../manifests/policies/grants/broad_privileges_test.rego"),
    ),
    (
        "policies/jobs/ownership.rego",
        include_bytes!("../../manifests/policies/jobs/ownership.rego"),
    ),
    (
        "policies/jobs/ownership_test.rego",
        include_bytes!("../../manifests/policies/jobs/ownership_test.rego"),
    ),
    (
        "policies/tags/required.rego",
        include_bytes!("../../manifests/policies/tags/required.rego"),
    ),
    (
        "policies/tags/required_test.rego",
        include_bytes!("../../manifests/policies/tags/required_test.rego"),
    ),
    (
        "policies/warehouses/size.rego",
        include_bytes!("../../manifests/policies/warehouses/size.rego"),
    ),
    (
        "policies/warehouses/size_test.rego",
        include_bytes!("../../manifests/policies/warehouses/size_test.rego"),
    ),
    (
        "policies/workspaces/production.rego",
        include_bytes!("../../manifests/policies/workspaces/production.rego"),
    ),
    (
        "policies/workspaces/production_test.rego",
        include_bytes!("../../manifests/policies/workspaces/production_test.rego"),
    ),
    (
        "projects.yaml",
        include_bytes!("../../manifests/projects.yaml"),
    ),
    ("roles.yaml", include_bytes!("../../manifests/roles.yaml")),
    ("root.yaml", include_bytes!("../../manifests/root.yaml")),
    (
        "unity-catalog/agents.yaml",
        include_bytes!("../../manifests/unity-catalog/agents.yaml"),
    ),
    (
        "unity-catalog/catalog.yaml",
        include_bytes!("../../manifests/unity-catalog/catalog.yaml"),
    ),
    (
        "unity-catalog/grants.yaml",
        include_bytes!("../../manifests/unity-catalog/grants.yaml"),
    ),
    (
        "workspaces.yaml",
        include_bytes!("../../manifests/workspaces.yaml"),
    ),
];

/// The value the example's `fromEnv` secret reads in the demo.
pub const DEMO_SECRET_ENV: &str = "ETL_WAREHOUSE_DB_PASSWORD";

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the emulated workspace `{workspace}`")]
    Emulator {
        workspace: &'static str,
        #[source]
        source: mortar_emulator::EmulatorError,
    },
    #[error("cannot make the demo repository: {0}")]
    Git(String),
}

impl DemoError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            DemoError::Write { .. } => "write",
            DemoError::Emulator { .. } => "emulator",
            DemoError::Git(_) => "git",
        }
    }
}

/// How the demo is laid out.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The directory for the repository, config and state.
    pub dir: PathBuf,
    /// The daemon's API and webhooks.
    pub listen: String,
    /// Metrics and health.
    pub metrics_listen: String,
    pub drift_interval: Duration,
    pub poll_interval: Duration,
}

/// A demo set up and ready for the daemon.
pub struct Demo {
    pub dev: RunningEmulator,
    pub prod: RunningEmulator,
    pub dir: PathBuf,
    pub config_file: PathBuf,
    pub repository: PathBuf,
}

impl Demo {
    /// Starts the workspaces and writes the repository and the config.
    pub async fn set_up(options: &DemoOptions) -> Result<Demo, DemoError> {
        let start = |workspace: &'static str| async move {
            Emulator::start(EmulatorConfig {
                transition_delay: Duration::from_millis(50),
                ..EmulatorConfig::default()
            })
            .await
            .map_err(|source| DemoError::Emulator { workspace, source })
        };
        let dev = start("dev").await?;
        let prod = start("prod").await?;
        let dir = options.dir.clone();
        let repository = dir.join("repo");
        write_repository(&repository)?;
        let secrets = dir.join("secrets");
        write(&secrets.join("partner-api-token"), b"demo-partner-token")?;
        write_private(&dir.join("dev.token"), dev.token().as_bytes())?;
        write_private(&dir.join("prod.token"), prod.token().as_bytes())?;
        let config_file = dir.join("mortar.yaml");
        write(&config_file, config_text(options, &dev, &prod).as_bytes())?;
        Ok(Demo {
            dev,
            prod,
            dir,
            config_file,
            repository,
        })
    }

    /// What to try once the first sync is done.
    /// `api` and `metrics` are where the daemon really listens.
    pub fn next_steps(
        &self,
        options: &DemoOptions,
        api: &str,
        metrics: &str,
        nightly_job: Option<&str>,
    ) -> String {
        let mut out = String::new();
        let config = self.config_file.display();
        let repo = self.repository.display();
        let _ = writeln!(
            out,
            "Open http://{api}/ for the app tree, each app's diff, history and audit trail.\nThere is no sign-in: the demo listens on loopback only, and everyone on this host acts as admin."
        );
        let _ = writeln!(out, "Try:");
        let _ = writeln!(
            out,
            "  # change a job in Git; the daemon applies the commit within seconds\n  cd {repo} && sed -i 's/max_concurrent_runs: 1/max_concurrent_runs: 2/' data-engineering/jobs.yaml && git commit -qam 'Allow two runs' && cd -"
        );
        if let Some(id) = nightly_job {
            let _ = writeln!(
                out,
                "  # change it by hand in dev; the next drift check ({}) puts it back\n  curl -s -H 'Authorization: Bearer {}' -d '{{\"job_id\": {id}, \"new_settings\": {{\"max_concurrent_runs\": 7}}}}' {}/api/2.2/jobs/update",
                crate::config::show_duration(options.drift_interval),
                self.dev.token(),
                self.dev.base_url()
            );
        }
        let _ = writeln!(
            out,
            "  curl -s http://{api}/api/v1/apps        # every app's status"
        );
        let _ = writeln!(out, "  curl -s http://{metrics}/metrics | grep ^mortar_");
        let _ = writeln!(out, "  mortar status --config {config}");
        let (every, overlap) = DEMO_ROTATION;
        let _ = writeln!(
            out,
            "  # who changed what; pipeline-runner's OAuth secret in scope etl-dev is replaced every {every}\n  # and the old one revoked {overlap} later (rotate_create, rotate_deliver, rotate_revoke: ids, never values)\n  mortar audit show {}",
            self.dir.join("state/audit.jsonl").display()
        );
        let _ = writeln!(out, "Stop with Ctrl-C.");
        out
    }
}

fn config_text(options: &DemoOptions, dev: &RunningEmulator, prod: &RunningEmulator) -> String {
    let poll = crate::config::show_duration(options.poll_interval);
    let drift = crate::config::show_duration(options.drift_interval);
    format!(
        "# Written by `mortar demo`: two emulated workspaces and a local repository.
source:
  git: {{ repo: repo, revision: main, interval: {poll} }}
workspaces:
  dev:
    host: {dev}
    auth: {{ method: pat, token: {{ file: dev.token }} }}
  prod:
    host: {prod}
    auth: {{ method: pat, token: {{ file: prod.token }} }}
secrets:
  projects:
    data-engineering: {{ env: [{DEMO_SECRET_ENV}], dir: secrets }}
controller:
  drift_interval: {drift}
server:
  listen: {listen}
  metrics_listen: {metrics}
",
        dev = dev.base_url(),
        prod = prod.base_url(),
        listen = options.listen,
        metrics = options.metrics_listen,
    )
}

/// Commits the example repository into a fresh repository at `path`.
fn write_repository(path: &Path) -> Result<(), DemoError> {
    let git = |e: git2::Error| DemoError::Git(e.message().to_string());
    for (file, bytes) in EXAMPLE {
        write(&path.join(file), &for_the_demo(file, bytes))?;
    }
    let mut init = git2::RepositoryInitOptions::new();
    init.initial_head("main");
    let repo = git2::Repository::init_opts(path, &init).map_err(git)?;
    let mut index = repo.index().map_err(git)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(git)?;
    index.write().map_err(git)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(git)?)
        .map_err(git)?;
    let who = git2::Signature::now("Mortar Demo", "demo@mortar.invalid").map_err(git)?;
    repo.commit(
        Some("HEAD"),
        &who,
        &who,
        "The example repository",
        &tree,
        &[],
    )
    .map_err(git)?;
    Ok(())
}

/// How often the demo rotates the example's credential, and the overlap:
/// minutes instead of the example's 30 days, so a rotation is seen.
pub const DEMO_ROTATION: (&str, &str) = ("2m", "30s");

/// An example file as the demo commits it: the credential rotation of
/// `data-engineering/runner.yaml` runs on [`DEMO_ROTATION`].
fn for_the_demo(file: &str, bytes: &[u8]) -> Vec<u8> {
    if file != "data-engineering/runner.yaml" {
        return bytes.to_vec();
    }
    let (every, overlap) = DEMO_ROTATION;
    String::from_utf8_lossy(bytes)
        .replace("rotate_every: 30d", &format!("rotate_every: {every}"))
        .replace("overlap: 1d", &format!("overlap: {overlap}"))
        .into_bytes()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    let err = |source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}

/// Writes a credential readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    file.write_all(bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded copy is the example repository, file for file.
    #[test]
    fn the_embedded_example_is_the_manifests_directory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    on_disk.push((rel, std::fs::read(&path).unwrap()));
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<(String, Vec<u8>)> = EXAMPLE
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .collect();
        assert_eq!(
            embedded.iter().map(|e| &e.0).collect::<Vec<_>>(),
            on_disk.iter().map(|e| &e.0).collect::<Vec<_>>(),
            "add new example files to EXAMPLE in src/controller/demo.rs"
        );
        assert!(
            embedded == on_disk,
            "an embedded example file differs from manifests/"
        );
    }

    /// The demo's repository rotates the example's credential in minutes.
    #[test]
    fn the_demo_rotates_the_runner_credential_in_minutes() {
        let (file, bytes) = EXAMPLE
            .iter()
            .find(|(f, _)| *f == "data-engineering/runner.yaml")
            .unwrap();
        let text = String::from_utf8(for_the_demo(file, bytes)).unwrap();
        assert!(text.contains("rotate_every: 2m"), "{text}");
        assert!(text.contains("overlap: 30s"), "{text}");
        assert!(!text.contains("30d"), "{text}");
    }
}
