//! What the integration tests share: running the real `mortar` binary as a
//! user does (no colour, no inherited config, a known user) and what it
//! printed.

use std::path::Path;
use std::process::Stdio;

/// How one run of `mortar` ended.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Out {
    fn from(out: std::process::Output) -> Out {
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `mortar ARGS` in `dir`, with `--config dir/mortar.yaml` after the
/// arguments when `with_config`; output captured, killed if dropped.
pub fn command(dir: &Path, args: &[&str], with_config: bool) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"));
    cmd.current_dir(dir).args(args);
    if with_config {
        cmd.arg("--config").arg(dir.join("mortar.yaml"));
    }
    cmd.env_remove("MORTAR_CONFIG")
        .env("MORTAR_USER", "ci-bot")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Runs `cmd` to its end.
pub async fn run(mut cmd: tokio::process::Command) -> Out {
    cmd.output().await.expect("mortar runs").into()
}

/// `mortar ARGS` from the current directory, outside a runtime.
pub fn run_blocking(args: &[&str]) -> Out {
    std::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .args(args)
        .env_remove("MORTAR_CONFIG")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .expect("mortar runs")
        .into()
}

/// An error and its causes on one line, as the CLI prints them.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The repository's top directory (the example manifests, fixtures, scripts).
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Writes `(relative path, text)` files under `root`, making directories.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (file, text) in files {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The engine on a config naming one workspace, `dev`, reached at `host`
/// with the PAT `token` (kept in `dir/pat`), the manifests in `dir/repo` and
/// the state in `dir/state`.
pub fn engine(
    dir: &Path,
    host: &str,
    token: &str,
    limits: mortar::config::LimitsConfig,
    retry: mortar::config::RetryConfig,
) -> mortar::engine::Engine {
    use mortar::config::{
        AuthConfig, Config, SecretRef, SourceConfig, StateConfig, WorkspaceConfig,
    };
    let token_file = dir.join("pat");
    std::fs::write(&token_file, token).unwrap();
    let ws = WorkspaceConfig {
        host: host.to_string(),
        auth: AuthConfig::Pat {
            token: SecretRef::File(token_file),
        },
        allow_insecure_http: false,
        limits,
        retry,
    };
    let config = Config {
        workspaces: std::collections::BTreeMap::from([("dev".to_string(), ws)]),
        source: Some(SourceConfig {
            dir: Some(dir.join("repo")),
            ..SourceConfig::default()
        }),
        state: StateConfig {
            dir: dir.join("state"),
        },
        ..Config::default()
    };
    mortar::engine::Engine::open(config, &dir.join("mortar.yaml")).unwrap()
}
