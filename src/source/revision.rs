//! Resolving a `targetRevision` to one commit: branch names, `refs/heads/…`,
//! tags (annotated ones peeled to their commit), full or abbreviated SHAs and
//! `HEAD`, with the commit's author for the audit trail.

use std::path::Path;

use git2::{ErrorCode, ObjectType, Oid, Repository, Signature};
use serde::{Deserialize, Serialize};

use super::OpenError;

/// The commit a source was read at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The revision as asked for (`main`, `v1.2`, an SHA, `HEAD`).
    pub requested: String,
    /// The full commit SHA.
    pub commit: String,
    /// `Name <email>`.
    pub author: String,
    /// `Name <email>`.
    pub committer: String,
    /// The first line of the commit message.
    pub summary: String,
    /// When the commit was made (the committer's time).
    pub time: jiff::Timestamp,
}

impl Revision {
    /// The first 12 characters of the commit SHA.
    pub fn short(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }
}

/// Opens the repository at exactly `path` (a working tree or a bare
/// repository); parent directories are not searched.
pub(super) fn open_repository(path: &Path) -> Result<Repository, OpenError> {
    Repository::open(path).map_err(|err| OpenError::NotARepository {
        path: path.to_path_buf(),
        reason: if path.exists() {
            err.message().to_string()
        } else {
            "the path does not exist".to_string()
        },
    })
}

/// Resolves `revision` in `repo` (found at `path`) to a commit; returns the
/// commit's root tree id and its description.
pub(super) fn resolve(
    repo: &Repository,
    path: &Path,
    revision: &str,
) -> Result<(Oid, Revision), OpenError> {
    let bad = |reason: &str| OpenError::InvalidRevision {
        repo: path.to_path_buf(),
        revision: revision.to_string(),
        reason: reason.to_string(),
    };
    if revision.trim().is_empty() {
        return Err(bad("the revision is empty"));
    }
    let object = repo
        .revparse_single(revision)
        .map_err(|err| match err.code() {
            ErrorCode::NotFound => OpenError::UnknownRevision {
                repo: path.to_path_buf(),
                revision: revision.to_string(),
            },
            ErrorCode::Ambiguous => OpenError::AmbiguousRevision {
                repo: path.to_path_buf(),
                revision: revision.to_string(),
            },
            ErrorCode::InvalidSpec => bad(err.message()),
            _ => git_error(path, &err),
        })?;
    let commit = object.peel_to_commit().map_err(|_| OpenError::NotACommit {
        repo: path.to_path_buf(),
        revision: revision.to_string(),
        kind: kind_name(object.kind()),
    })?;
    let time =
        jiff::Timestamp::from_second(commit.time().seconds()).map_err(|err| OpenError::Git {
            repo: path.to_path_buf(),
            reason: format!("commit {} has an invalid time: {err}", commit.id()),
        })?;
    let described = Revision {
        requested: revision.to_string(),
        commit: commit.id().to_string(),
        author: person(&commit.author()),
        committer: person(&commit.committer()),
        summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
        time,
    };
    Ok((commit.tree_id(), described))
}

pub(super) fn git_error(path: &Path, err: &git2::Error) -> OpenError {
    OpenError::Git {
        repo: path.to_path_buf(),
        reason: err.message().to_string(),
    }
}

fn person(sig: &Signature<'_>) -> String {
    format!(
        "{} <{}>",
        String::from_utf8_lossy(sig.name_bytes()),
        String::from_utf8_lossy(sig.email_bytes())
    )
}

fn kind_name(kind: Option<ObjectType>) -> String {
    match kind {
        Some(ObjectType::Tree) => "tree",
        Some(ObjectType::Blob) => "blob (a file)",
        Some(ObjectType::Tag) => "tag",
        Some(ObjectType::Commit) => "commit",
        _ => "object of unknown type",
    }
    .to_string()
}
