//! The source stage: where the manifests come from. A directory on disk, or
//! a Git repository read at a branch, tag or commit straight from its object
//! database (no checkout, bare repositories work). Both are exposed as a
//! [`SourceTree`] so rendering cannot tell them apart; a Git source also
//! yields the [`Revision`] it was read at, for the plan and the audit trail.
//! A remote repository is first fetched into a mirror ([`GitRemote`]); a
//! commit's signature can be checked against trusted keys ([`verify_commit`]).

mod git;
mod known_hosts;
mod remote;
mod revision;
mod verify;

use std::path::{Path, PathBuf};

pub use git::GitTree;
pub use remote::{FetchError, Fetched, GitRemote, display_url};
pub use revision::Revision;
pub use verify::{SignatureFormat, SignaturePolicy, Signer, VerifyError, verify_commit};

pub mod tree;

pub use tree::{DirEntry, DirTree, EntryKind, SourceError, SourceTree};

/// Where to read manifests from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory on disk, read as it is (e.g. a pull request's checkout).
    Dir(PathBuf),
    /// A local Git repository (bare or not) at a revision: a branch name,
    /// `refs/heads/…`, a tag (annotated tags are peeled), a full or
    /// abbreviated commit SHA, or `HEAD`.
    Git { repo: PathBuf, revision: String },
}

/// Why a source could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("source directory {path} does not exist")]
    DirNotFound { path: PathBuf },
    #[error("source {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("{path} is not a Git repository: {reason}")]
    NotARepository { path: PathBuf, reason: String },
    #[error("revision `{revision}` not found in repository {repo}")]
    UnknownRevision { repo: PathBuf, revision: String },
    #[error(
        "revision `{revision}` is ambiguous in repository {repo}: several objects start with it; use more characters of the SHA"
    )]
    AmbiguousRevision { repo: PathBuf, revision: String },
    #[error("revision `{revision}` in repository {repo} is not a valid revision: {reason}")]
    InvalidRevision {
        repo: PathBuf,
        revision: String,
        reason: String,
    },
    #[error("revision `{revision}` in repository {repo} names a {kind}, not a commit")]
    NotACommit {
        repo: PathBuf,
        revision: String,
        kind: String,
    },
    #[error("cannot read repository {repo}: {reason}")]
    Git { repo: PathBuf, reason: String },
}

impl OpenError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            OpenError::DirNotFound { .. } => "dir_not_found",
            OpenError::NotADirectory { .. } => "not_a_directory",
            OpenError::NotARepository { .. } => "not_a_repository",
            OpenError::UnknownRevision { .. } => "unknown_revision",
            OpenError::AmbiguousRevision { .. } => "ambiguous_revision",
            OpenError::InvalidRevision { .. } => "invalid_revision",
            OpenError::NotACommit { .. } => "not_a_commit",
            OpenError::Git { .. } => "git",
        }
    }
}

/// An opened source: a directory or a Git tree at one commit.
/// `Send + Sync`, so it can be shared with blocking tasks of async code.
#[derive(Debug)]
pub enum Source {
    Dir(DirTree),
    Git(GitTree),
}

impl Source {
    /// Opens `spec`, checking that the directory exists or resolving the
    /// revision to a commit.
    pub fn open(spec: &SourceSpec) -> Result<Source, OpenError> {
        match spec {
            SourceSpec::Dir(path) => open_dir(path).map(Source::Dir),
            SourceSpec::Git { repo, revision } => GitTree::open(repo, revision).map(Source::Git),
        }
    }

    /// The commit read, for a Git source; `None` for a directory.
    pub fn revision(&self) -> Option<&Revision> {
        match self {
            Source::Dir(_) => None,
            Source::Git(tree) => Some(tree.revision()),
        }
    }

    fn tree(&self) -> &dyn SourceTree {
        match self {
            Source::Dir(tree) => tree,
            Source::Git(tree) => tree,
        }
    }
}

fn open_dir(path: &Path) -> Result<DirTree, OpenError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(DirTree::new(path)),
        Ok(_) => Err(OpenError::NotADirectory {
            path: path.to_path_buf(),
        }),
        Err(_) => Err(OpenError::DirNotFound {
            path: path.to_path_buf(),
        }),
    }
}

impl SourceTree for Source {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        self.tree().entry(path)
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        self.tree().list(path)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        self.tree().read(path, limit)
    }

    fn describe(&self) -> String {
        self.tree().describe()
    }
}

/// A source is shared with blocking tasks and threads.
const _: fn() = || {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Source>();
};
