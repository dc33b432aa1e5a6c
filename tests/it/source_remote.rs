//! Remote Git sources against real servers on loopback: smart HTTP with
//! basic auth (`git http-backend`), SSH (`sshd`) with a user key and a
//! `known_hosts` file, and `file://`; branches, tags, pinned commits,
//! force-pushes and deleted branches; and commits signed with real
//! `git commit -S` (SSH and OpenPGP keys) accepted or refused by the engine;
//! and `mortar plan` fetching a remote source before it plans.

use std::path::Path;
use std::time::Duration;

use super::git_servers::{GpgKey, HttpGitServer, Served, Signing, SshKey, SshServer};
use super::harness::{command, run};
use mortar::config::{
    AuthConfig, Config, GitAuthConfig, GitSourceConfig, GitVerifyConfig, SecretRef, SourceConfig,
    StateConfig, ValueRef, WorkspaceConfig,
};
use mortar::engine::{Engine, EngineError, render::RenderError};
use mortar::source::{FetchError, Fetched, GitRemote, VerifyError};

const PASSWORD: &str = "hunter2-s3cret-token";

fn file(n: u32) -> (&'static str, String) {
    ("notes.txt", format!("version {n}\n"))
}

/// Fetches on a blocking thread, as the daemon does.
async fn fetch(remote: &std::sync::Arc<GitRemote>) -> Result<Fetched, FetchError> {
    let remote = remote.clone();
    tokio::task::spawn_blocking(move || remote.fetch())
        .await
        .unwrap()
}

fn http_config(url: &str, revision: &str, password_file: &Path) -> GitSourceConfig {
    GitSourceConfig {
        auth: Some(GitAuthConfig {
            username: Some(ValueRef::Literal("bot".into())),
            password: Some(SecretRef::File(password_file.to_path_buf())),
            ..GitAuthConfig::default()
        }),
        ..GitSourceConfig::new(url, revision)
    }
}

fn commit_files(served: &Served, message: &str, n: u32, signing: Signing<'_>) -> String {
    let (path, text) = file(n);
    served.commit(message, &[(path, &text)], signing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_fetches_branches_tags_pinned_commits_and_reports_force_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let first = commit_files(&served, "first", 1, Signing::None);
    served.git(&["tag", "-a", "v1", "-m", "release 1"]);
    served.push();
    let server = HttpGitServer::start(dir.path(), "bot", PASSWORD).await;
    let secret = dir.path().join("password");
    std::fs::write(&secret, format!("{PASSWORD}\n")).unwrap();
    let state = dir.path().join("state");

    // The default branch, through HEAD.
    let head = std::sync::Arc::new(
        GitRemote::new(
            &http_config(&server.url("platform"), "HEAD", &secret),
            &state,
        )
        .unwrap(),
    );
    let fetched = fetch(&head).await.unwrap();
    assert_eq!(fetched.revision.commit, first);
    assert_eq!(fetched.revision.requested, "HEAD");
    assert_eq!(fetched.previous, None);
    assert!(!fetched.forced);
    assert!(head.repository().starts_with(state.join("git")));
    assert_eq!(head.display_url(), server.url("platform"));

    // A new commit on main: a fast-forward.
    let main = std::sync::Arc::new(
        GitRemote::new(
            &http_config(&server.url("platform"), "main", &secret),
            &state,
        )
        .unwrap(),
    );
    assert_eq!(fetch(&main).await.unwrap().revision.commit, first);
    let second = commit_files(&served, "second", 2, Signing::None);
    served.push();
    let fetched = fetch(&main).await.unwrap();
    assert_eq!(fetched.revision.commit, second);
    assert_eq!(fetched.previous.as_deref(), Some(first.as_str()));
    assert!(!fetched.forced);
    assert!(fetched.changed());

    // History rewritten and force-pushed.
    served.git(&["reset", "-q", "--hard", &first]);
    let rewritten = commit_files(&served, "second, rewritten", 3, Signing::None);
    served.push();
    let fetched = fetch(&main).await.unwrap();
    assert_eq!(fetched.revision.commit, rewritten);
    assert_eq!(fetched.previous.as_deref(), Some(second.as_str()));
    assert!(fetched.forced, "a force-push is reported: {fetched:?}");
    // Nothing new: the same commit, not forced, not changed.
    let again = fetch(&main).await.unwrap();
    assert!(!again.forced && !again.changed());

    // An annotated tag peels to its commit.
    let tag = std::sync::Arc::new(
        GitRemote::new(&http_config(&server.url("platform"), "v1", &secret), &state).unwrap(),
    );
    assert_eq!(fetch(&tag).await.unwrap().revision.commit, first);

    // A pinned commit present in the mirror is served without the network:
    // it resolves even with the server gone.
    let pinned = std::sync::Arc::new(
        GitRemote::new(
            &http_config(&server.url("platform"), &second, &secret),
            &state,
        )
        .unwrap(),
    );
    drop(server);
    let fetched = fetch(&pinned).await.unwrap();
    assert_eq!(fetched.revision.commit, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_with_a_wrong_or_missing_password_is_an_auth_error_that_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    commit_files(&served, "first", 1, Signing::None);
    served.push();
    let server = HttpGitServer::start(dir.path(), "bot", PASSWORD).await;
    let state = dir.path().join("state");

    let wrong = dir.path().join("wrong");
    let wrong_password = "not-the-Right-0ne";
    std::fs::write(&wrong, wrong_password).unwrap();
    let remote = std::sync::Arc::new(
        GitRemote::new(
            &http_config(&server.url("platform"), "main", &wrong),
            &state,
        )
        .unwrap(),
    );
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::Auth { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(err.metric_label(), "auth");
    for shown in [err.to_string(), format!("{err:?}"), format!("{remote:?}")] {
        assert!(!shown.contains(wrong_password), "{shown}");
        assert!(!shown.contains("not-the"), "{shown}");
        assert!(!shown.contains(PASSWORD), "{shown}");
    }

    let anonymous = std::sync::Arc::new(
        GitRemote::new(
            &GitSourceConfig::new(server.url("platform"), "main"),
            &state,
        )
        .unwrap(),
    );
    let err = fetch(&anonymous).await.unwrap_err();
    assert!(matches!(err, FetchError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("auth"), "{err}");

    // A redirect to another host does not take the credential along
    // (`localhost` is another host than `127.0.0.1` for this purpose).
    let elsewhere = format!("http://localhost:{}", server.addr.port());
    let (redirecting, task) = super::git_servers::redirector(elsewhere.clone()).await;
    let secret = dir.path().join("right");
    std::fs::write(&secret, PASSWORD).unwrap();
    let config = http_config(
        &format!("http://{redirecting}/platform.git"),
        "main",
        &secret,
    );
    let remote = std::sync::Arc::new(GitRemote::new(&config, &state).unwrap());
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("another host"), "{err}");
    task.abort();
    // The same server under its configured name is fine.
    let direct = http_config(&format!("{elsewhere}/platform.git"), "main", &secret);
    let remote = std::sync::Arc::new(GitRemote::new(&direct, &state).unwrap());
    fetch(&remote).await.unwrap();

    // An unset variable is named, its value never.
    let from_env = GitSourceConfig {
        auth: Some(GitAuthConfig {
            username: Some(ValueRef::Literal("bot".into())),
            password: Some(SecretRef::Env("MORTAR_TEST_GIT_TOKEN_UNSET".into())),
            ..GitAuthConfig::default()
        }),
        ..GitSourceConfig::new(server.url("platform"), "main")
    };
    let remote = std::sync::Arc::new(GitRemote::new(&from_env, &state).unwrap());
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::Credential { .. }), "{err:?}");
    assert!(
        err.to_string().contains("MORTAR_TEST_GIT_TOKEN_UNSET"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_server_is_a_transient_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let remote = std::sync::Arc::new(
        GitRemote::new(
            &GitSourceConfig::new(format!("http://{closed}/x.git"), "main"),
            &state,
        )
        .unwrap(),
    );
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());

    // A server that accepts and never answers: stopped at the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let config = GitSourceConfig {
        timeout: "2s".into(),
        ..GitSourceConfig::new(format!("http://{addr}/x.git"), "main")
    };
    let remote = std::sync::Arc::new(GitRemote::new(&config, &state).unwrap());
    let started = std::time::Instant::now();
    let err = fetch(&remote).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Timeout { .. }),
        "{err:?} after {:?}",
        started.elapsed()
    );
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(30));

    // The same over ssh: a server that never sends its banner.
    let key = SshKey::generate(dir.path(), "key");
    let known = dir.path().join("known_hosts");
    std::fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", addr.port(), key.key_only()),
    )
    .unwrap();
    let config = GitSourceConfig {
        timeout: "2s".into(),
        auth: Some(GitAuthConfig {
            ssh_key: Some(key.private.clone()),
            known_hosts: Some(known),
            ..GitAuthConfig::default()
        }),
        ..GitSourceConfig::new(format!("ssh://git@{addr}/x.git"), "main")
    };
    let remote = std::sync::Arc::new(GitRemote::new(&config, &state).unwrap());
    let started = std::time::Instant::now();
    let err = fetch(&remote).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Timeout { .. } | FetchError::Unreachable { .. }
        ),
        "{err:?} after {:?}",
        started.elapsed()
    );
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(30));
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_fetches_with_a_key_and_refuses_unknown_or_changed_host_keys() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let first = commit_files(&served, "first", 1, Signing::None);
    served.push();
    let user_key = SshKey::generate(dir.path(), "deploy_key");
    let server = SshServer::start(dir.path(), &user_key);
    let state = dir.path().join("state");
    let ssh_config = |known_hosts: &Path| GitSourceConfig {
        auth: Some(GitAuthConfig {
            ssh_key: Some(user_key.private.clone()),
            known_hosts: Some(known_hosts.to_path_buf()),
            ..GitAuthConfig::default()
        }),
        ..GitSourceConfig::new(server.url(&served.bare), "main")
    };

    // Trusted through a hashed entry, as `ssh-keygen -H` writes them.
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, format!("{}\n", server.known_hosts_line())).unwrap();
    super::git_servers::run(
        "ssh-keygen",
        &["-q", "-H", "-f", known.to_str().unwrap()],
        dir.path(),
        &[],
    );
    assert!(std::fs::read_to_string(&known).unwrap().starts_with("|1|"));
    let remote = std::sync::Arc::new(GitRemote::new(&ssh_config(&known), &state).unwrap());
    let fetched = fetch(&remote).await.unwrap();
    assert_eq!(fetched.revision.commit, first);
    assert!(
        !remote.display_url().contains(&server.user),
        "{}",
        remote.display_url()
    );

    // No entry for the host: refused before any credential is sent.
    let empty = dir.path().join("known_hosts_other");
    let other = SshKey::generate(dir.path(), "other_host_key");
    std::fs::write(&empty, format!("git.example.com {}\n", other.key_only())).unwrap();
    let remote = std::sync::Arc::new(GitRemote::new(&ssh_config(&empty), &state).unwrap());
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::UnknownHost { .. }), "{err:?}");
    assert_eq!(err.metric_label(), "unknown_host");
    assert!(err.to_string().contains("SHA256:"), "{err}");

    // An entry for the host with another key: a mismatch.
    let changed = dir.path().join("known_hosts_changed");
    std::fs::write(
        &changed,
        format!("[127.0.0.1]:{} {}\n", server.port, other.key_only()),
    )
    .unwrap();
    let remote = std::sync::Arc::new(GitRemote::new(&ssh_config(&changed), &state).unwrap());
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::HostKeyMismatch { .. }), "{err:?}");
    assert!(!err.is_transient());

    // The right host but a key the server does not accept.
    let stranger = SshKey::generate(dir.path(), "stranger_key");
    let config = GitSourceConfig {
        auth: Some(GitAuthConfig {
            ssh_key: Some(stranger.private.clone()),
            known_hosts: Some(known.clone()),
            ..GitAuthConfig::default()
        }),
        ..GitSourceConfig::new(server.url(&served.bare), "main")
    };
    let remote = std::sync::Arc::new(GitRemote::new(&config, &state).unwrap());
    let err = fetch(&remote).await.unwrap_err();
    assert!(matches!(err, FetchError::Auth { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_branches_and_vanished_commits_are_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    commit_files(&served, "first", 1, Signing::None);
    served.git(&["checkout", "-q", "-b", "feature"]);
    let feature = commit_files(&served, "feature work", 2, Signing::None);
    served.push();
    let url = format!("file://{}", served.bare.display());
    let state = dir.path().join("state");

    let remote = std::sync::Arc::new(
        GitRemote::new(&GitSourceConfig::new(&url, "feature"), &state).unwrap(),
    );
    assert_eq!(fetch(&remote).await.unwrap().revision.commit, feature);
    served.delete_remote_branch("feature");
    let err = fetch(&remote).await.unwrap_err();
    match &err {
        FetchError::RevisionDeleted {
            revision, previous, ..
        } => {
            assert_eq!(revision, "feature");
            assert_eq!(previous, &feature);
        }
        other => panic!("expected a deleted branch, got {other:?}"),
    }
    assert_eq!(err.metric_label(), "revision_deleted");

    let never =
        std::sync::Arc::new(GitRemote::new(&GitSourceConfig::new(&url, "nope"), &state).unwrap());
    let err = fetch(&never).await.unwrap_err();
    assert!(
        matches!(err, FetchError::RevisionNotFound { .. }),
        "{err:?}"
    );

    let absent = "0123456789abcdef0123456789abcdef01234567";
    let pinned =
        std::sync::Arc::new(GitRemote::new(&GitSourceConfig::new(&url, absent), &state).unwrap());
    let err = fetch(&pinned).await.unwrap_err();
    assert!(matches!(err, FetchError::CommitNotFound { .. }), "{err:?}");
}

const TOP: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: app }\n  destination: { workspace: dev }\n";

fn job(name: &str) -> String {
    format!(
        "apiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: {name} }}\nspec:\n  name: {name}\n  tasks:\n    - task_key: t\n      notebook_task: {{ notebook_path: /Shared/x }}\n"
    )
}

fn engine_on(dir: &Path, git: GitSourceConfig) -> Engine {
    let token = dir.join("pat");
    std::fs::write(&token, "dapi-unused").unwrap();
    let config = Config {
        workspaces: std::collections::BTreeMap::from([(
            "dev".to_string(),
            WorkspaceConfig {
                host: "https://dev.example.com".into(),
                auth: AuthConfig::Pat {
                    token: SecretRef::File(token),
                },
                allow_insecure_http: false,
                limits: Default::default(),
                retry: Default::default(),
            },
        )]),
        source: Some(SourceConfig {
            git: Some(git),
            ..SourceConfig::default()
        }),
        state: StateConfig {
            dir: dir.join("state"),
        },
        ..Config::default()
    };
    Engine::open(config, &dir.join("mortar.yaml")).unwrap()
}

fn refused(err: EngineError) -> VerifyError {
    match err {
        EngineError::Render(RenderError::RevisionRefused { reason, .. }) => reason,
        other => panic!("expected a refused revision, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_commits_signed_by_trusted_keys_are_fetched_and_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let ana = SshKey::generate(dir.path(), "ana_signing");
    let mallory = SshKey::generate(dir.path(), "mallory_signing");
    let gpg = GpgKey::generate("Grace Hopper <grace@example.com>");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(
        &allowed,
        format!("ana@example.com namespaces=\"git\" {}\n", ana.key_only()),
    )
    .unwrap();
    let pgp_keys = dir.path().join("trusted.asc");
    std::fs::write(&pgp_keys, &gpg.armored).unwrap();

    let ssh_signed = served.commit(
        "ssh signed",
        &[("top.yaml", TOP), ("app/job.yaml", &job("first-job"))],
        Signing::Ssh(&ana),
    );
    served.push();
    let git = GitSourceConfig {
        verify: Some(GitVerifyConfig {
            ssh_allowed_signers: Some(allowed.clone()),
            openpgp_keys: Some(pgp_keys.clone()),
        }),
        ..GitSourceConfig::new(format!("file://{}", served.bare.display()), "main")
    };
    let engine = std::sync::Arc::new(engine_on(dir.path(), git));
    let fetch_source = |engine: &std::sync::Arc<Engine>| {
        let engine = engine.clone();
        async move {
            tokio::task::spawn_blocking(move || engine.fetch_source())
                .await
                .unwrap()
        }
    };

    // SSH-signed by a trusted key: accepted and rendered at that commit.
    let fetched = fetch_source(&engine).await.unwrap().expect("a git source");
    assert_eq!(fetched.revision.commit, ssh_signed);
    let tree = engine.render_at(&ssh_signed).unwrap();
    assert_eq!(tree.revision.as_ref().unwrap().commit, ssh_signed);
    assert_eq!(tree.revision.as_ref().unwrap().requested, "main");
    assert!(tree.described.starts_with("file://"), "{}", tree.described);
    let names: Vec<String> = tree
        .rendered
        .resources()
        .map(|r| r.key.name.clone())
        .collect();
    assert_eq!(names, ["first-job"]);

    // OpenPGP-signed by a trusted key: accepted.
    let pgp_signed = served.commit(
        "pgp signed",
        &[("app/job.yaml", &job("second-job"))],
        Signing::Gpg(&gpg),
    );
    served.push();
    let fetched = fetch_source(&engine).await.unwrap().unwrap();
    assert_eq!(fetched.revision.commit, pgp_signed);
    assert_eq!(fetched.previous.as_deref(), Some(ssh_signed.as_str()));
    let tree = engine.render(None).unwrap();
    assert_eq!(tree.revision.as_ref().unwrap().commit, pgp_signed);
    let policy = mortar::source::SignaturePolicy {
        ssh_allowed_signers: Some(allowed.clone()),
        openpgp_keys: Some(pgp_keys.clone()),
    };
    let signer = mortar::source::verify_commit(&served.bare, &pgp_signed, &policy).unwrap();
    assert_eq!(signer.format, mortar::source::SignatureFormat::OpenPgp);
    assert_eq!(signer.fingerprint, gpg.fingerprint);
    assert_eq!(signer.principal, "Grace Hopper <grace@example.com>");
    let signer = mortar::source::verify_commit(&served.bare, &ssh_signed, &policy).unwrap();
    assert_eq!(signer.format, mortar::source::SignatureFormat::Ssh);
    assert_eq!(signer.principal, "ana@example.com");

    // Unsigned: refused, and nothing is rendered from it.
    let unsigned = served.commit("unsigned", &[("app/job.yaml", &job("evil"))], Signing::None);
    served.push();
    let err = refused(fetch_source(&engine).await.unwrap_err());
    assert!(matches!(err, VerifyError::Unsigned { .. }), "{err:?}");
    assert_eq!(err.metric_label(), "unsigned");
    assert!(matches!(
        engine.render_at(&unsigned).map_err(refused),
        Err(VerifyError::Unsigned { .. })
    ));
    assert!(engine.render(None).is_err());

    // Signed, but by a key nobody trusts.
    let untrusted = served.commit(
        "signed by a stranger",
        &[("app/job.yaml", &job("evil-2"))],
        Signing::Ssh(&mallory),
    );
    served.push();
    let err = refused(fetch_source(&engine).await.unwrap_err());
    match &err {
        VerifyError::UntrustedKey {
            commit,
            fingerprint,
            ..
        } => {
            assert_eq!(commit, &untrusted);
            assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
        }
        other => panic!("expected an untrusted key, got {other:?}"),
    }

    // Rolling back to an earlier trusted commit still renders.
    let tree = engine.render_at(&ssh_signed).unwrap();
    assert_eq!(tree.revision.as_ref().unwrap().commit, ssh_signed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_signed_commit_has_a_bad_signature() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let ana = SshKey::generate(dir.path(), "ana_signing");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(&allowed, format!("ana@example.com {}\n", ana.key_only())).unwrap();
    let signed = commit_files(&served, "signed", 1, Signing::Ssh(&ana));
    // Rewrite the commit's message while keeping its signature.
    let raw = served.git(&["cat-file", "commit", &signed]);
    let tampered_text = raw.replace("signed", "tampered") + "\n";
    let tampered_file = dir.path().join("tampered");
    std::fs::write(&tampered_file, tampered_text).unwrap();
    let tampered = served.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        tampered_file.to_str().unwrap(),
    ]);
    let policy = mortar::source::SignaturePolicy {
        ssh_allowed_signers: Some(allowed),
        openpgp_keys: None,
    };
    let work = served.bare.parent().unwrap().join("platform-work");
    let ok = mortar::source::verify_commit(&work, &signed, &policy).unwrap();
    assert_eq!(ok.principal, "ana@example.com");
    let err = mortar::source::verify_commit(&work, &tampered, &policy).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err:?}");

    // A signature header that is not a signature at all.
    let mangled_text = raw
        .lines()
        .map(|l| {
            if l.starts_with(' ') && !l.contains("-----") {
                " bm90IGEgc2lnbmF0dXJl"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&tampered_file, mangled_text).unwrap();
    let mangled = served.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        tampered_file.to_str().unwrap(),
    ]);
    let err = mortar::source::verify_commit(&work, &mangled, &policy).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedSignature { .. }),
        "{err:?}"
    );
    assert_eq!(err.metric_label(), "malformed_signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mortar_plan_fetches_a_remote_source_over_http_before_planning() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let first = served.commit(
        "first",
        &[("top.yaml", TOP), ("app/job.yaml", &job("first-job"))],
        Signing::None,
    );
    served.push();
    let server = HttpGitServer::start(dir.path(), "bot", PASSWORD).await;
    let dev = super::databricks_support::emulator(Default::default()).await;
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("pat"), dev.token()).unwrap();
    std::fs::write(config_dir.join("git-token"), PASSWORD).unwrap();
    let write_config = |password_file: &str| {
        std::fs::write(
            config_dir.join("mortar.yaml"),
            format!(
                "source:\n  git:\n    repo: {}\n    revision: main\n    auth: {{ username: bot, password: {{ file: {password_file} }} }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n",
                server.url("platform"),
                dev.base_url()
            ),
        )
        .unwrap();
    };
    write_config("git-token");
    let plan = run(command(&config_dir, &["plan"], true)).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!("Plan at revision {first}")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ dev/Job/first-job"),
        "{}",
        plan.stdout
    );
    // The mirror lives under the state directory.
    assert!(config_dir.join("state/git").is_dir());

    // A new commit is fetched by the next run.
    let second = served.commit(
        "second",
        &[("app/job.yaml", &job("second-job"))],
        Signing::None,
    );
    served.push();
    let plan = run(command(&config_dir, &["plan"], true)).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!("Plan at revision {second}")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ dev/Job/second-job"),
        "{}",
        plan.stdout
    );

    // A refused credential stops the run, naming the URL and never the password.
    std::fs::write(config_dir.join("wrong-token"), "wrong-Pa55word-xyz").unwrap();
    write_config("wrong-token");
    let plan = run(command(&config_dir, &["plan"], true)).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("authentication"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains(&server.url("platform")),
        "{}",
        plan.stderr
    );
    for output in [&plan.stdout, &plan.stderr] {
        assert!(!output.contains("wrong-Pa55word"), "{output}");
        assert!(!output.contains(PASSWORD), "{output}");
    }
}

#[test]
fn ssh_signatures_of_each_common_key_type_verify() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::create(dir.path(), "platform");
    let allowed = dir.path().join("allowed_signers");
    let policy = mortar::source::SignaturePolicy {
        ssh_allowed_signers: Some(allowed.clone()),
        openpgp_keys: None,
    };
    for (name, args) in [
        ("rsa", &["-t", "rsa", "-b", "3072"][..]),
        ("p256", &["-t", "ecdsa", "-b", "256"][..]),
        ("p384", &["-t", "ecdsa", "-b", "384"][..]),
        ("p521", &["-t", "ecdsa", "-b", "521"][..]),
    ] {
        let key = SshKey::generate_typed(dir.path(), name, args);
        std::fs::write(&allowed, format!("{name}@example.com {}\n", key.key_only())).unwrap();
        let signed = commit_files(&served, name, 1, Signing::Ssh(&key));
        let work = served.bare.parent().unwrap().join("platform-work");
        let signer = mortar::source::verify_commit(&work, &signed, &policy)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer.principal, format!("{name}@example.com"));
    }
}
