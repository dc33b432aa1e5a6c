//! Fetching a Git source: a remote repository (https, ssh, `file://`) is
//! mirrored into a bare cache under the state directory and fetched with
//! git2, with the configured credential and, for ssh, the host key checked
//! against a `known_hosts` file; a local path is read in place. Each fetch
//! resolves the configured revision to one commit and reports whether the
//! branch moved by force since the previous fetch.
//!
//! Credentials are read from their files or variables at each fetch and
//! never appear in an error, a log line or `Debug` output.

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, ErrorClass, ErrorCode,
    FetchOptions, FetchPrune, Oid, RemoteCallbacks, Repository,
};
use sha2::{Digest, Sha256};

use super::OpenError;
use super::known_hosts::{HostCheck, KnownHosts, host_name, key_type_or_unknown};
use super::revision::{self, Revision};
use crate::config::{GitAuthConfig, GitSourceConfig, GitTransport, SecretRef, ValueRef};
use crate::databricks::auth::local_reason;
use crate::databricks::local_file::read_credential_file;

/// The refs a mirror keeps: every branch and tag, pruned as the remote's are.
const MIRROR_REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
/// Where the mirror remembers the commit each revision was last fetched at.
const LAST_FETCHED: &str = "refs/mortar/last";

/// Why a fetch failed. Never carries a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("source.git.{field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    #[error("cannot read the {what} for {url} ({reference}): {reason}")]
    Credential {
        url: String,
        what: &'static str,
        reference: String,
        reason: String,
    },
    #[error("the Git mirror {path} cannot be used: {reason}")]
    Cache { path: PathBuf, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("authentication to {url} failed: {reason}")]
    Auth { url: String, reason: String },
    #[error("fetching {url} took longer than {}s and was stopped", timeout.as_secs_f64())]
    Timeout { url: String, timeout: Duration },
    #[error(
        "ssh host {host} is not in the known_hosts file {known_hosts} (its {key_type} key is {fingerprint}); add the server's key to trust it"
    )]
    UnknownHost {
        host: String,
        key_type: String,
        fingerprint: String,
        known_hosts: PathBuf,
    },
    #[error(
        "ssh host {host} presented a {key_type} key {fingerprint} that does not match the known_hosts file {known_hosts}; refusing to connect (the host key changed, or someone is in the middle)"
    )]
    HostKeyMismatch {
        host: String,
        key_type: String,
        fingerprint: String,
        known_hosts: PathBuf,
    },
    #[error("revision `{revision}` does not exist in {url}")]
    RevisionNotFound { url: String, revision: String },
    #[error(
        "revision `{revision}` was deleted from {url} (last fetched at {previous}); restore it or point source.git.revision elsewhere"
    )]
    RevisionDeleted {
        url: String,
        revision: String,
        previous: String,
    },
    #[error("commit {commit} is not in {url} (not on any branch or tag)")]
    CommitNotFound { url: String, commit: String },
    #[error("{url}: {reason}")]
    Git { url: String, reason: String },
    #[error(transparent)]
    Open(#[from] OpenError),
}

impl FetchError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            FetchError::Config { .. } => "config",
            FetchError::Credential { .. } => "credential",
            FetchError::Cache { .. } => "cache",
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Auth { .. } => "auth",
            FetchError::Timeout { .. } => "timeout",
            FetchError::UnknownHost { .. } => "unknown_host",
            FetchError::HostKeyMismatch { .. } => "host_key_mismatch",
            FetchError::RevisionNotFound { .. } => "revision_not_found",
            FetchError::RevisionDeleted { .. } => "revision_deleted",
            FetchError::CommitNotFound { .. } => "commit_not_found",
            FetchError::Git { .. } => "git",
            FetchError::Open(e) => e.metric_label(),
        }
    }

    /// True when trying again later (with backoff) may succeed without a
    /// change of config: the network, the server or a slow transfer.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Unreachable { .. } | FetchError::Timeout { .. } | FetchError::Cache { .. }
        )
    }
}

/// The outcome of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The commit the configured revision names now.
    pub revision: Revision,
    /// The commit it named at the previous fetch, if any.
    pub previous: Option<String>,
    /// True when `previous` is not an ancestor of the new commit (a force-push).
    pub forced: bool,
}

impl Fetched {
    /// True when the revision moved since the previous fetch.
    pub fn changed(&self) -> bool {
        self.previous.as_deref() != Some(self.revision.commit.as_str())
    }
}

/// A configured Git source and its local mirror.
pub struct GitRemote {
    url: String,
    transport: GitTransport,
    revision: String,
    timeout: Duration,
    auth: GitAuthConfig,
    /// The mirror (or, for a local path, the repository itself).
    repository: PathBuf,
    /// For a local path: the commit seen at the previous fetch.
    last_local: Mutex<Option<String>>,
}

impl fmt::Debug for GitRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRemote")
            .field("url", &self.display_url())
            .field("revision", &self.revision)
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

/// What the callbacks of one fetch observed, for telling failures apart.
#[derive(Default)]
struct Observed {
    timed_out: Cell<bool>,
    auth_failed: Cell<Option<&'static str>>,
    credential: std::cell::RefCell<Option<FetchError>>,
    host: std::cell::RefCell<Option<FetchError>>,
}

impl GitRemote {
    /// Prepares fetching `config`'s repository; the mirror lives under
    /// `<state_dir>/git/` and is created at the first fetch.
    pub fn new(config: &GitSourceConfig, state_dir: &Path) -> Result<GitRemote, FetchError> {
        let transport = GitTransport::of(&config.repo).map_err(|message| FetchError::Config {
            field: "repo",
            message,
        })?;
        let timeout = crate::config::parse_duration(&config.timeout).map_err(|message| {
            FetchError::Config {
                field: "timeout",
                message,
            }
        })?;
        let repository = if transport == GitTransport::Local {
            PathBuf::from(&config.repo)
        } else {
            let hash = Sha256::digest(config.repo.as_bytes());
            state_dir.join("git").join(&hex::encode(hash)[..16])
        };
        Ok(GitRemote {
            url: config.repo.clone(),
            transport,
            revision: config.revision.clone(),
            timeout,
            auth: config.auth.clone().unwrap_or_default(),
            repository,
            last_local: Mutex::new(None),
        })
    }

    /// The local repository to open with `GitTree::open(path, commit)`.
    pub fn repository(&self) -> &Path {
        &self.repository
    }

    /// The revision fetched (as configured).
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The commit the revision named at the last fetch, if any.
    pub fn fetch_head(&self) -> Option<String> {
        if self.transport == GitTransport::Local {
            return self
                .last_local
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
        }
        let repo = Repository::open_bare(&self.repository).ok()?;
        self.last_fetched(&repo)
    }

    /// The URL with any userinfo removed, for status and logs.
    pub fn display_url(&self) -> String {
        display_url(&self.url)
    }

    /// Blocking (call through `spawn_blocking`). Fetches the configured
    /// revision; a full commit SHA is fetched only if absent. Bounded by the
    /// configured timeout.
    pub fn fetch(&self) -> Result<Fetched, FetchError> {
        if self.transport == GitTransport::Local {
            return self.read_local();
        }
        let repo = self.open_mirror()?;
        let previous = self.last_fetched(&repo);
        let pinned = is_full_sha(&self.revision)
            .then(|| Oid::from_str(&self.revision).ok())
            .flatten();
        let present = pinned.is_some_and(|oid| repo.find_commit(oid).is_ok());
        if !present {
            self.fetch_into(&repo)?;
        }
        let (_, resolved) = match revision::resolve(&repo, &self.repository, &self.revision) {
            Ok(found) => found,
            Err(OpenError::UnknownRevision { .. }) => {
                return Err(self.missing(previous));
            }
            Err(other) => return Err(other.into()),
        };
        let forced = is_forced(&repo, previous.as_deref(), &resolved.commit);
        self.remember(&repo, &resolved.commit)?;
        tracing::debug!(
            url = %self.display_url(),
            revision = %self.revision,
            commit = %resolved.commit,
            fetched = !present,
            forced,
            "git source fetched"
        );
        Ok(Fetched {
            revision: resolved,
            previous,
            forced,
        })
    }

    /// Why the revision is not in the mirror after a fetch.
    fn missing(&self, previous: Option<String>) -> FetchError {
        let url = self.display_url();
        if is_full_sha(&self.revision) {
            FetchError::CommitNotFound {
                url,
                commit: self.revision.clone(),
            }
        } else if let Some(previous) = previous {
            FetchError::RevisionDeleted {
                url,
                revision: self.revision.clone(),
                previous,
            }
        } else {
            FetchError::RevisionNotFound {
                url,
                revision: self.revision.clone(),
            }
        }
    }

    fn read_local(&self) -> Result<Fetched, FetchError> {
        let repo = revision::open_repository(&self.repository)?;
        let (_, resolved) = revision::resolve(&repo, &self.repository, &self.revision)?;
        let mut last = self
            .last_local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = last.replace(resolved.commit.clone());
        let forced = is_forced(&repo, previous.as_deref(), &resolved.commit);
        Ok(Fetched {
            revision: resolved,
            previous,
            forced,
        })
    }

    fn cache_error(&self, reason: impl fmt::Display) -> FetchError {
        FetchError::Cache {
            path: self.repository.clone(),
            reason: reason.to_string(),
        }
    }

    fn open_mirror(&self) -> Result<Repository, FetchError> {
        if self.repository.join("HEAD").exists() {
            return Repository::open_bare(&self.repository)
                .map_err(|e| self.cache_error(e.message()));
        }
        std::fs::create_dir_all(&self.repository).map_err(|e| self.cache_error(e))?;
        let repo =
            Repository::init_bare(&self.repository).map_err(|e| self.cache_error(e.message()))?;
        Ok(repo)
    }

    fn last_ref(&self) -> String {
        let hash = Sha256::digest(self.revision.as_bytes());
        format!("{LAST_FETCHED}/{}", &hex::encode(hash)[..16])
    }

    fn last_fetched(&self, repo: &Repository) -> Option<String> {
        repo.refname_to_id(&self.last_ref())
            .ok()
            .map(|oid| oid.to_string())
    }

    fn remember(&self, repo: &Repository, commit: &str) -> Result<(), FetchError> {
        let oid = Oid::from_str(commit).map_err(|e| self.cache_error(e.message()))?;
        repo.reference(&self.last_ref(), oid, true, "fetched")
            .map_err(|e| self.cache_error(e.message()))?;
        Ok(())
    }

    /// Fetches every branch and tag into the mirror, pruning deleted ones,
    /// and points the mirror's HEAD at the remote's default branch.
    fn fetch_into(&self, repo: &Repository) -> Result<(), FetchError> {
        set_server_timeouts(self.timeout);
        let deadline = Instant::now() + self.timeout;
        let observed = Observed::default();
        let known_hosts = match (&self.transport, &self.auth.known_hosts) {
            (GitTransport::Ssh, Some(path)) => {
                Some(KnownHosts::read(path).map_err(|reason| FetchError::Config {
                    field: "auth.known_hosts",
                    message: format!("{}: {reason}", path.display()),
                })?)
            }
            _ => None,
        };
        let port = ssh_port(&self.url);
        let configured_host = url_host(&self.url);
        let mut callbacks = RemoteCallbacks::new();
        let mut attempts = 0u32;
        callbacks.credentials(|url, user_from_url, allowed| {
            if Instant::now() > deadline {
                observed.timed_out.set(true);
                return Err(git2::Error::from_str("timed out"));
            }
            // After a redirect the credential would go to another server.
            if self.transport != GitTransport::Ssh && url_host(url) != configured_host {
                observed.auth_failed.set(Some(
                    "the server redirected to another host; the credential is only sent to the configured one",
                ));
                return Err(git2::Error::from_str("redirected to another host"));
            }
            let user = user_from_url.unwrap_or("git");
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(user);
            }
            attempts += 1;
            if attempts > 1 {
                observed
                    .auth_failed
                    .set(Some("the server refused the credential"));
                return Err(git2::Error::from_str("the server refused the credential"));
            }
            if allowed.contains(CredentialType::SSH_KEY)
                && let Some(key) = &self.auth.ssh_key
            {
                return Cred::ssh_key(user, None, key, None);
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
                && let (Some(username), Some(password)) = (&self.auth.username, &self.auth.password)
            {
                let pair = self
                    .read_value(username, "username")
                    .and_then(|u| Ok((u, self.read_secret(password, "password")?)));
                return match pair {
                    Ok((u, p)) => Cred::userpass_plaintext(&u, &p),
                    Err(e) => {
                        *observed.credential.borrow_mut() = Some(e);
                        Err(git2::Error::from_str("the credential cannot be read"))
                    }
                };
            }
            observed.auth_failed.set(Some(
                "the server asks for a credential and source.git.auth gives none",
            ));
            Err(git2::Error::from_str("no credential configured"))
        });
        callbacks.certificate_check(|cert, host| {
            let Some(hostkey) = cert.as_hostkey() else {
                // A TLS certificate: libgit2 and the system's trust store decide.
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            let Some(known) = &known_hosts else {
                return Err(git2::Error::from_str("no known_hosts file configured"));
            };
            let Some(raw) = hostkey.hostkey() else {
                return Err(git2::Error::from_str("the server sent no host key"));
            };
            match known.check(host, port, raw) {
                HostCheck::Trusted => Ok(CertificateCheckStatus::CertificateOk),
                refused => {
                    *observed.host.borrow_mut() =
                        Some(host_refused(refused, host, port, known.path()));
                    Err(git2::Error::from_str("host key refused"))
                }
            }
        });
        callbacks.transfer_progress(|_| {
            let within = Instant::now() <= deadline;
            if !within {
                observed.timed_out.set(true);
            }
            within
        });
        callbacks.sideband_progress(|_| {
            let within = Instant::now() <= deadline;
            if !within {
                observed.timed_out.set(true);
            }
            within
        });
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(callbacks)
            .prune(FetchPrune::On)
            .download_tags(AutotagOption::None)
            .update_fetchhead(false);
        let mut remote = repo
            .remote_anonymous(&self.url)
            .map_err(|e| self.git_error(&e, &observed, deadline))?;
        let result = remote.fetch(&MIRROR_REFSPECS, Some(&mut options), None);
        drop(options);
        result.map_err(|e| self.git_error(&e, &observed, deadline))?;
        // Anonymous remotes do not prune by themselves: drop the branches
        // and tags the remote no longer has.
        let advertised: std::collections::HashSet<String> = remote
            .list()
            .map(|heads| heads.iter().map(|h| h.name().to_string()).collect())
            .unwrap_or_default();
        if !advertised.is_empty() {
            prune(repo, &advertised).map_err(|e| self.cache_error(e.message()))?;
        }
        if let Ok(branch) = remote.default_branch()
            && let Ok(name) = branch.as_str()
        {
            repo.set_head(name)
                .map_err(|e| self.cache_error(e.message()))?;
        }
        Ok(())
    }

    fn read_value(&self, value: &ValueRef, what: &'static str) -> Result<String, FetchError> {
        match value {
            ValueRef::Literal(v) => Ok(v.clone()),
            ValueRef::Ref(r) => self.read_secret(r, what),
        }
    }

    fn read_secret(&self, reference: &SecretRef, what: &'static str) -> Result<String, FetchError> {
        let err = |reason: String| FetchError::Credential {
            url: self.display_url(),
            what,
            reference: reference.to_string(),
            reason,
        };
        let value = match reference {
            SecretRef::File(path) => {
                read_credential_file(path).map_err(|e| err(local_reason(&e)))?
            }
            SecretRef::Env(name) => std::env::var(name).map_err(|_| err("not set".into()))?,
            SecretRef::Secret(key) => {
                crate::config::lookup_secret(key).map_err(|e| err(e.to_string()))?
            }
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(err("it is empty".into()));
        }
        Ok(value.to_string())
    }

    /// Classifies a libgit2 failure using what the callbacks saw.
    fn git_error(&self, err: &git2::Error, observed: &Observed, deadline: Instant) -> FetchError {
        let url = self.display_url();
        if let Some(e) = observed.credential.borrow_mut().take() {
            return e;
        }
        if let Some(e) = observed.host.borrow_mut().take() {
            return e;
        }
        if observed.timed_out.get() || Instant::now() > deadline {
            return FetchError::Timeout {
                url,
                timeout: self.timeout,
            };
        }
        if let Some(reason) = observed.auth_failed.get() {
            return FetchError::Auth {
                url,
                reason: reason.to_string(),
            };
        }
        let reason = err.message().to_string();
        match (err.code(), err.class()) {
            (ErrorCode::Auth, _) => FetchError::Auth { url, reason },
            (ErrorCode::Certificate, _) => FetchError::Unreachable { url, reason },
            (_, ErrorClass::Net | ErrorClass::Http | ErrorClass::Ssh | ErrorClass::Os) => {
                FetchError::Unreachable { url, reason }
            }
            (_, ErrorClass::Ssl) => FetchError::Unreachable { url, reason },
            _ => FetchError::Git { url, reason },
        }
    }
}

/// A remote is shared with blocking tasks and threads.
const _: fn() = || {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<GitRemote>();
};

/// Deletes the mirror's branches and tags that the remote did not advertise.
fn prune(
    repo: &Repository,
    advertised: &std::collections::HashSet<String>,
) -> Result<(), git2::Error> {
    let mut stale = Vec::new();
    for reference in repo.references()? {
        let reference = reference?;
        if let Ok(name) = reference.name()
            && (name.starts_with("refs/heads/") || name.starts_with("refs/tags/"))
            && !advertised.contains(name)
        {
            stale.push(name.to_string());
        }
    }
    for name in stale {
        repo.find_reference(&name)?.delete()?;
    }
    Ok(())
}

/// True when `previous` is set and not an ancestor of (or equal to) `commit`.
fn is_forced(repo: &Repository, previous: Option<&str>, commit: &str) -> bool {
    let Some(previous) = previous else {
        return false;
    };
    if previous == commit {
        return false;
    }
    match (Oid::from_str(previous), Oid::from_str(commit)) {
        (Ok(old), Ok(new)) => !repo.graph_descendant_of(new, old).unwrap_or(false),
        _ => true,
    }
}

fn is_full_sha(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// libgit2's connect and read timeouts are process-wide: each fetch sets
/// them to its own timeout, so a silent server cannot hold a fetch past it
/// (the progress callbacks only run while data arrives). With several
/// sources fetching at once, the last one set applies to all.
fn set_server_timeouts(timeout: Duration) {
    static CURRENT: Mutex<i32> = Mutex::new(0);
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let mut current = CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *current == ms {
        return;
    }
    *current = ms;
    // SAFETY: these write two integers libgit2 reads when it opens a
    // connection; the mutex keeps writers from racing one another.
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
        let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
    }
}

/// The host and port of an http(s) URL, to keep credentials on the configured server.
fn url_host(url: &str) -> Option<(String, Option<u16>)> {
    let parsed = url::Url::parse(url).ok()?;
    Some((
        parsed.host_str()?.to_ascii_lowercase(),
        parsed.port_or_known_default(),
    ))
}

/// The ssh port `url` names (22 by default, and for scp-style locations).
fn ssh_port(url: &str) -> u16 {
    if url.contains("://") {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.port())
            .unwrap_or(22)
    } else {
        22
    }
}

/// `repo` without userinfo: `https://host/x`, `ssh://host:2222/x`, `host:path`.
pub fn display_url(repo: &str) -> String {
    if repo.contains("://") {
        return match url::Url::parse(repo) {
            Ok(mut url) => {
                let _ = url.set_password(None);
                let _ = url.set_username("");
                url.to_string()
            }
            Err(_) => repo.to_string(),
        };
    }
    match GitTransport::of(repo) {
        Ok(GitTransport::Ssh) => match repo.split_once(':') {
            Some((host, path)) => {
                let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
                format!("{host}:{path}")
            }
            None => repo.to_string(),
        },
        _ => repo.to_string(),
    }
}

/// The error for a host key `known_hosts` does not trust.
fn host_refused(check: HostCheck, host: &str, port: u16, known_hosts: &Path) -> FetchError {
    let host = host_name(host, port);
    let known_hosts = known_hosts.to_path_buf();
    match check {
        HostCheck::Unknown {
            key_type,
            fingerprint,
        } => FetchError::UnknownHost {
            host,
            key_type: key_type_or_unknown(&key_type),
            fingerprint,
            known_hosts,
        },
        HostCheck::Trusted => FetchError::UnknownHost {
            host,
            key_type: "unknown".into(),
            fingerprint: String::new(),
            known_hosts,
        },
        HostCheck::Mismatch {
            key_type,
            fingerprint,
        } => FetchError::HostKeyMismatch {
            host,
            key_type,
            fingerprint,
            known_hosts,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_urls_drop_userinfo() {
        assert_eq!(
            display_url("https://bot:tok@git.example/org/r.git"),
            "https://git.example/org/r.git"
        );
        assert_eq!(
            display_url("ssh://git@git.example:2222/org/r.git"),
            "ssh://git.example:2222/org/r.git"
        );
        assert_eq!(
            display_url("git@git.example:org/r.git"),
            "git.example:org/r.git"
        );
        assert_eq!(display_url("/srv/repo.git"), "/srv/repo.git");
        assert_eq!(ssh_port("ssh://git@h:2222/x"), 2222);
        assert_eq!(ssh_port("git@h:x"), 22);
    }

    #[test]
    fn errors_have_bounded_labels_and_know_what_is_worth_retrying() {
        let unreachable = FetchError::Unreachable {
            url: "u".into(),
            reason: "r".into(),
        };
        assert!(unreachable.is_transient());
        assert_eq!(unreachable.metric_label(), "unreachable");
        let auth = FetchError::Auth {
            url: "u".into(),
            reason: "r".into(),
        };
        assert!(!auth.is_transient());
    }
}
