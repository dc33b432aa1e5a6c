//! Real Git servers on loopback for the remote-source tests: smart HTTP
//! (`git http-backend` run as CGI per request behind a small axum server
//! with basic auth) and SSH (Debian's `sshd` on its own port, with a host
//! key and a user key made by `ssh-keygen`). Plus a working repository
//! driven by the `git` CLI that commits (optionally signed with an SSH or
//! OpenPGP key) and pushes to the served bare repositories.
//!
//! A server that cannot start fails the test; nothing is skipped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use base64::Engine as _;

const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";
const SSHD: &str = "/usr/sbin/sshd";

/// Runs `program args` and returns its stdout; panics with its stderr on failure.
pub fn run(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A key pair made by `ssh-keygen` (ed25519, no passphrase).
pub struct SshKey {
    pub private: PathBuf,
    /// The `.pub` line: `ssh-ed25519 AAAA… comment`.
    pub public: String,
}

impl SshKey {
    pub fn generate(dir: &Path, name: &str) -> SshKey {
        SshKey::generate_typed(dir, name, &["-t", "ed25519"])
    }

    /// A key of the type `type_args` asks for (e.g. `["-t", "ecdsa", "-b", "521"]`).
    pub fn generate_typed(dir: &Path, name: &str, type_args: &[&str]) -> SshKey {
        let private = dir.join(name);
        let mut args = vec!["-q", "-N", "", "-C", name, "-f", private.to_str().unwrap()];
        args.extend_from_slice(type_args);
        run("ssh-keygen", &args, dir, &[]);
        let public = std::fs::read_to_string(private.with_extension("pub"))
            .unwrap()
            .trim()
            .to_string();
        SshKey { private, public }
    }

    /// `type base64` without the comment.
    pub fn key_only(&self) -> String {
        self.public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An OpenPGP key in its own `GNUPGHOME`, made by `gpg --quick-gen-key`.
pub struct GpgKey {
    pub home: tempfile::TempDir,
    pub fingerprint: String,
    /// The ASCII-armored public key.
    pub armored: String,
}

impl GpgKey {
    pub fn generate(user_id: &str) -> GpgKey {
        let home = tempfile::Builder::new().prefix("gpg").tempdir().unwrap();
        let env = [("GNUPGHOME", home.path().to_str().unwrap())];
        run(
            "gpg",
            &[
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                user_id,
                "default",
                "default",
                "never",
            ],
            home.path(),
            &env,
        );
        let listing = run(
            "gpg",
            &["--batch", "--with-colons", "--list-keys", user_id],
            home.path(),
            &env,
        );
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| !f.is_empty()))
            .expect("a fingerprint")
            .to_string();
        let armored = run(
            "gpg",
            &["--batch", "--armor", "--export", &fingerprint],
            home.path(),
            &env,
        );
        GpgKey {
            home,
            fingerprint,
            armored,
        }
    }
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .status();
    }
}

/// How a commit is signed.
pub enum Signing<'a> {
    None,
    Ssh(&'a SshKey),
    Gpg(&'a GpgKey),
}

/// A bare repository `root/<name>.git` served to the tests, and a working
/// clone that commits and pushes to it.
pub struct Served {
    pub bare: PathBuf,
    work: PathBuf,
    home: PathBuf,
}

impl Served {
    pub fn create(root: &Path, name: &str) -> Served {
        let bare = root.join(format!("{name}.git"));
        let work = root.join(format!("{name}-work"));
        let home = root.join(format!("{name}-home"));
        std::fs::create_dir_all(&home).unwrap();
        run(
            "git",
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
            root,
            &[],
        );
        run(
            "git",
            &["init", "-q", "-b", "main", work.to_str().unwrap()],
            root,
            &[],
        );
        Served { bare, work, home }
    }

    pub fn git(&self, args: &[&str]) -> String {
        let home = self.home.to_str().unwrap();
        run(
            "git",
            args,
            &self.work,
            &[
                ("HOME", home),
                ("GIT_AUTHOR_NAME", "Ada Lovelace"),
                ("GIT_AUTHOR_EMAIL", "ada@example.com"),
                ("GIT_COMMITTER_NAME", "Ada Lovelace"),
                ("GIT_COMMITTER_EMAIL", "ada@example.com"),
            ],
        )
    }

    /// Writes `files`, commits them on the current branch (signed as asked)
    /// and returns the new commit's SHA.
    pub fn commit(&self, message: &str, files: &[(&str, &str)], signing: Signing<'_>) -> String {
        for (path, text) in files {
            let full = self.work.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        self.git(&["add", "-A"]);
        let mut args: Vec<String> = Vec::new();
        let mut env: Vec<(String, String)> = Vec::new();
        match signing {
            Signing::None => {}
            Signing::Ssh(key) => {
                args.extend(
                    [
                        "-c",
                        "gpg.format=ssh",
                        "-c",
                        &format!("user.signingkey={}", key.private.display()),
                    ]
                    .map(String::from),
                );
            }
            Signing::Gpg(key) => {
                args.extend(
                    ["-c", &format!("user.signingkey={}", key.fingerprint)].map(String::from),
                );
                env.push((
                    "GNUPGHOME".into(),
                    key.home.path().to_str().unwrap().to_string(),
                ));
            }
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", message].map(String::from));
        if !matches!(signing, Signing::None) {
            args.push("-S".into());
        }
        let home = self.home.to_str().unwrap().to_string();
        let mut all_env = vec![
            ("HOME".to_string(), home),
            ("GIT_AUTHOR_NAME".into(), "Ada Lovelace".into()),
            ("GIT_AUTHOR_EMAIL".into(), "ada@example.com".into()),
            ("GIT_COMMITTER_NAME".into(), "Ada Lovelace".into()),
            ("GIT_COMMITTER_EMAIL".into(), "ada@example.com".into()),
        ];
        all_env.extend(env);
        let env_refs: Vec<(&str, &str)> = all_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run("git", &arg_refs, &self.work, &env_refs);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Pushes every branch and tag of the working clone (by force).
    pub fn push(&self) {
        let bare = self.bare.to_str().unwrap();
        self.git(&["push", "-q", "--force", bare, "--all"]);
        self.git(&["push", "-q", "--force", bare, "--tags"]);
    }

    /// Deletes `branch` from the served repository.
    pub fn delete_remote_branch(&self, branch: &str) {
        let bare = self.bare.to_str().unwrap();
        self.git(&["push", "-q", bare, "--delete", branch]);
    }
}

/// Smart HTTP: `git http-backend` behind basic auth.
pub struct HttpGitServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct HttpState {
    root: PathBuf,
    authorization: String,
}

impl HttpGitServer {
    /// Serves the bare repositories under `root` to `user`:`password`.
    pub async fn start(root: &Path, user: &str, password: &str) -> HttpGitServer {
        assert!(
            Path::new(HTTP_BACKEND).exists(),
            "{HTTP_BACKEND} is missing (Debian's git package ships it)"
        );
        let state = HttpState {
            root: root.to_path_buf(),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        };
        let app = axum::Router::new().fallback(cgi).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpGitServer { addr, task }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}.git", self.addr)
    }
}

/// A server that redirects every request to the same path on `target`.
pub async fn redirector(target: String) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let target = target.clone();
        async move {
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Response::builder()
                .status(StatusCode::FOUND)
                .header("Location", format!("{target}{path}"))
                .body(Body::empty())
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}

impl Drop for HttpGitServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn cgi(
    State(state): State<HttpState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given != state.authorization {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("WWW-Authenticate", "Basic realm=\"git\"")
            .body(Body::from("authentication required"))
            .unwrap();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut child = tokio::process::Command::new(HTTP_BACKEND)
        .env_clear()
        .env("GIT_PROJECT_ROOT", &state.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or_default())
        .env("REQUEST_METHOD", method.as_str())
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("HTTP_GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", "git")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("git http-backend starts");
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await.expect("http-backend runs");
    let _ = writer.await;
    let raw = out.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, len)) = split else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::from("http-backend sent no headers"))
            .unwrap();
    };
    let mut response = Response::builder();
    let mut status = StatusCode::OK;
    for line in String::from_utf8_lossy(&raw[..at]).lines() {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("status") {
                status = value
                    .split_whitespace()
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            } else {
                response = response.header(name.trim(), value);
            }
        }
    }
    response
        .status(status)
        .body(Body::from(raw[at + len..].to_vec()))
        .unwrap()
}

/// `sshd` on a loopback port, accepting `user_key` for the current user.
pub struct SshServer {
    pub port: u16,
    pub host_key: SshKey,
    pub user: String,
    child: std::process::Child,
}

impl SshServer {
    pub fn start(dir: &Path, user_key: &SshKey) -> SshServer {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install Debian's openssh-server (scripts/test does)"
        );
        // sshd insists on its privilege-separation directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let host_key = SshKey::generate(dir, "ssh_host_ed25519_key");
        let authorized = dir.join("authorized_keys");
        std::fs::write(&authorized, format!("{}\n", user_key.public)).unwrap();
        let user = run("id", &["-un"], dir, &[]);
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\n\
                 AuthorizedKeysFile {}\nStrictModes no\nPubkeyAuthentication yes\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nAllowUsers {user}\nLogLevel ERROR\n",
                host_key.private.display(),
                authorized.display(),
            ),
        )
        .unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sshd starts");
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("sshd exited ({status}) before listening: {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not listen on port {port} within 10s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SshServer {
            port,
            host_key,
            user,
            child,
        }
    }

    /// The `ssh://` URL of a bare repository at `path`.
    pub fn url(&self, path: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            path.display()
        )
    }

    /// A known_hosts line trusting this server's host key.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key.key_only())
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
