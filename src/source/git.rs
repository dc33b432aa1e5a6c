//! A Git tree at one commit, read straight from the object database: no
//! working tree, so bare repositories work and uncommitted edits are never
//! seen. Symlinks (mode 120000) are reported with their target like on disk;
//! submodules (gitlinks, mode 160000) show as directories whose content is
//! refused with a clear message, since it lives in another repository.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use git2::{Oid, Repository, TreeEntry};

use super::OpenError;
use super::revision::{self, Revision};
use super::tree::{DirEntry, EntryKind, SourceError, SourceTree, join};

const MODE_TREE: i32 = 0o040000;
const MODE_LINK: i32 = 0o120000;
const MODE_GITLINK: i32 = 0o160000;

/// The tree of one commit of a local repository. The repository handle is
/// opened once and kept behind a mutex (`git2::Repository` is `Send` but not
/// `Sync`), so a `GitTree` can be shared across threads and async tasks.
pub struct GitTree {
    repo: Mutex<Repository>,
    path: PathBuf,
    tree: Oid,
    revision: Revision,
    /// How messages name the repository (its URL for a mirror).
    label: Option<String>,
}

/// What a path names in the tree.
#[derive(Clone, Copy)]
enum Node {
    Tree(Oid),
    Blob(Oid),
    Link(Oid),
    Submodule(Oid),
}

impl Node {
    fn of(entry: &TreeEntry<'_>) -> Node {
        match entry.filemode() {
            MODE_TREE => Node::Tree(entry.id()),
            MODE_LINK => Node::Link(entry.id()),
            MODE_GITLINK => Node::Submodule(entry.id()),
            _ => Node::Blob(entry.id()),
        }
    }
}

impl GitTree {
    /// Opens the repository at `repo` (not searching parent directories) and
    /// resolves `revision` to a commit.
    pub fn open(repo: &Path, revision: &str) -> Result<GitTree, OpenError> {
        let handle = revision::open_repository(repo)?;
        let (tree, revision) = revision::resolve(&handle, repo, revision)?;
        Ok(GitTree {
            repo: Mutex::new(handle),
            path: repo.to_path_buf(),
            tree,
            revision,
            label: None,
        })
    }

    /// Names the tree as `label` at `requested` in messages and in its
    /// [`Revision`] (a mirror opened at a fetched commit is described by the
    /// remote's URL and the branch or tag asked for).
    pub fn labelled(mut self, label: String, requested: &str) -> GitTree {
        self.label = Some(label);
        self.revision.requested = requested.to_string();
        self
    }

    /// The commit this tree belongs to.
    pub fn revision(&self) -> &Revision {
        &self.revision
    }

    /// The repository's path, as given to [`GitTree::open`].
    pub fn repository(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Repository> {
        // A panic while holding the lock leaves the read-only handle usable.
        self.repo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Walks `path` from the root tree; `None` if some component is absent.
    fn node(&self, repo: &Repository, path: &str) -> Result<Option<Node>, SourceError> {
        let mut current = Node::Tree(self.tree);
        let mut walked = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let tree = match current {
                Node::Tree(id) => repo.find_tree(id).map_err(|e| git_io(path, &e))?,
                Node::Submodule(id) => return Err(submodule(&walked, id)),
                Node::Blob(_) | Node::Link(_) => return Err(SourceError::NotADirectory(walked)),
            };
            match tree.get_name(part) {
                Some(entry) => current = Node::of(&entry),
                None => return Ok(None),
            }
            walked = join(&walked, part);
        }
        Ok(Some(current))
    }

    fn link_target(&self, repo: &Repository, id: Oid, path: &str) -> Result<String, SourceError> {
        let blob = repo.find_blob(id).map_err(|e| git_io(path, &e))?;
        Ok(String::from_utf8_lossy(blob.content()).into_owned())
    }

    fn kind(&self, repo: &Repository, node: Node, path: &str) -> Result<EntryKind, SourceError> {
        Ok(match node {
            // A submodule looks like a directory, as in a checkout; listing it says why it is empty.
            Node::Tree(_) | Node::Submodule(_) => EntryKind::Dir,
            Node::Blob(_) => EntryKind::File,
            Node::Link(id) => EntryKind::Symlink(self.link_target(repo, id, path)?),
        })
    }
}

fn git_io(path: &str, err: &git2::Error) -> SourceError {
    SourceError::Io {
        path: path.to_string(),
        reason: err.message().to_string(),
    }
}

fn submodule(path: &str, id: Oid) -> SourceError {
    SourceError::Io {
        path: path.to_string(),
        reason: format!(
            "it is a Git submodule (commit {id}); its files live in another repository and are not read"
        ),
    }
}

impl SourceTree for GitTree {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        let repo = self.lock();
        match self.node(&repo, path)? {
            Some(node) => self.kind(&repo, node, path).map(Some),
            None => Ok(None),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        let repo = self.lock();
        let id = match self.node(&repo, path)? {
            Some(Node::Tree(id)) => id,
            Some(Node::Submodule(id)) => return Err(submodule(path, id)),
            Some(Node::Blob(_) | Node::Link(_)) => {
                return Err(SourceError::NotADirectory(path.to_string()));
            }
            None => return Err(SourceError::NotFound(path.to_string())),
        };
        let tree = repo.find_tree(id).map_err(|e| git_io(path, &e))?;
        let mut out = Vec::with_capacity(tree.len());
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let child = join(path, &name);
            out.push(DirEntry {
                kind: self.kind(&repo, Node::of(&entry), &child)?,
                name,
            });
        }
        // Git orders a directory `a` as if it were `a/`; callers expect plain name order.
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let repo = self.lock();
        let id = match self.node(&repo, path)? {
            Some(Node::Blob(id)) => id,
            Some(_) => return Err(SourceError::NotAFile(path.to_string())),
            None => return Err(SourceError::NotFound(path.to_string())),
        };
        let odb = repo.odb().map_err(|e| git_io(path, &e))?;
        let (size, _) = odb.read_header(id).map_err(|e| git_io(path, &e))?;
        let size = size as u64;
        if size > limit {
            return Err(SourceError::TooLarge {
                path: path.to_string(),
                size,
                limit,
            });
        }
        let blob = repo.find_blob(id).map_err(|e| git_io(path, &e))?;
        Ok(blob.content().to_vec())
    }

    fn describe(&self) -> String {
        format!(
            "{} at {} ({})",
            self.label
                .clone()
                .unwrap_or_else(|| self.path.display().to_string()),
            self.revision.requested,
            self.revision.short()
        )
    }
}

impl fmt::Debug for GitTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitTree")
            .field("repository", &self.path)
            .field("revision", &self.revision)
            .finish()
    }
}
