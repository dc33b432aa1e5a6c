//! Reading a manifest repository: a small trait over "a tree of files", a
//! directory implementation, and path rules that keep every read inside the
//! manifest root (no `..`, no absolute paths, no symlinks pointing outside).
//!
//! Paths are repository-relative, `/`-separated strings with no leading `/`;
//! the empty string is the root. The same shape fits a Git tree at a commit
//! (entries with a mode; a symlink is a blob holding its target).

use std::path::{Path, PathBuf};

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link and the target text it holds.
    Symlink(String),
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("`{0}` does not exist")]
    NotFound(String),
    #[error("`{0}` is not a directory")]
    NotADirectory(String),
    #[error("`{0}` is not a file")]
    NotAFile(String),
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit for a manifest file")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("`{path}` leaves the manifest root: {reason}")]
    Escapes { path: String, reason: String },
    #[error("`{path}` is not UTF-8 text")]
    NotUtf8 { path: String },
    #[error("cannot read `{path}`: {reason}")]
    Io { path: String, reason: String },
}

impl SourceError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            SourceError::NotFound(..) => "not_found",
            SourceError::NotADirectory(..) => "not_a_directory",
            SourceError::NotAFile(..) => "not_a_file",
            SourceError::TooLarge { .. } => "too_large",
            SourceError::Escapes { .. } => "escapes",
            SourceError::NotUtf8 { .. } => "not_utf8",
            SourceError::Io { .. } => "io",
        }
    }
}

/// A read-only tree of files: a directory on disk, or a Git tree at a commit.
/// Implementations do not follow symlinks themselves; [`resolve`] does, so
/// the rules are the same for every implementation.
pub trait SourceTree {
    /// What `path` is, without following a final symlink; `None` if absent.
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError>;
    /// The entries of directory `path`, sorted by name.
    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError>;
    /// The bytes of file `path`, refusing files larger than `limit` before reading them.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError>;
    /// A label for messages (a directory path, or a repository and commit).
    fn describe(&self) -> String;
}

/// A directory on disk.
#[derive(Debug, Clone)]
pub struct DirTree {
    root: PathBuf,
}

impl DirTree {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirTree { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: &str) -> PathBuf {
        let mut full = self.root.clone();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            full.push(part);
        }
        full
    }
}

fn io_error(path: &str, err: &std::io::Error) -> SourceError {
    if err.kind() == std::io::ErrorKind::NotFound {
        SourceError::NotFound(path.to_string())
    } else {
        SourceError::Io {
            path: path.to_string(),
            reason: err.to_string(),
        }
    }
}

fn kind_of(full: &Path, path: &str) -> Result<EntryKind, SourceError> {
    let meta = std::fs::symlink_metadata(full).map_err(|e| io_error(path, &e))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(full).map_err(|e| io_error(path, &e))?;
        Ok(EntryKind::Symlink(target.to_string_lossy().into_owned()))
    } else if meta.is_dir() {
        Ok(EntryKind::Dir)
    } else {
        Ok(EntryKind::File)
    }
}

impl SourceTree for DirTree {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        match kind_of(&self.full(path), path) {
            Ok(kind) => Ok(Some(kind)),
            Err(SourceError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        let full = self.full(path);
        let reader = std::fs::read_dir(&full).map_err(|e| io_error(path, &e))?;
        let mut out = Vec::new();
        for item in reader {
            let item = item.map_err(|e| io_error(path, &e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let child = join(path, &name);
            out.push(DirEntry {
                kind: kind_of(&item.path(), &child)?,
                name,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let full = self.full(path);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| io_error(path, &e))?;
        if !meta.is_file() {
            return Err(SourceError::NotAFile(path.to_string()));
        }
        if meta.len() > limit {
            return Err(SourceError::TooLarge {
                path: path.to_string(),
                size: meta.len(),
                limit,
            });
        }
        std::fs::read(&full).map_err(|e| io_error(path, &e))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// `dir/name`, or `name` at the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The parent directory of `path` (`""` for top-level entries).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Checks a path written in a manifest: relative, no `..`, and normalised
/// (`./a//b/` becomes `a/b`; `.` is the root).
pub fn clean(path: &str) -> Result<String, String> {
    if path.starts_with('/') || path.starts_with('\\') || has_drive(path) {
        return Err(
            "absolute paths are not allowed; paths are relative to the manifest root".into(),
        );
    }
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err("`..` is not allowed; paths stay inside the manifest root".into()),
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic()
}

/// Follows symlinks in every component of `path`, refusing any that points
/// outside the root. Returns the resolved path and what it is (`None` if absent).
pub fn resolve(
    tree: &dyn SourceTree,
    path: &str,
) -> Result<(String, Option<EntryKind>), SourceError> {
    let mut pending: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .rev()
        .collect();
    let mut current: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        current.push(part);
        let here = current.join("/");
        match tree.entry(&here)? {
            None => return Ok((here_with_rest(&current, &pending), None)),
            Some(EntryKind::Symlink(target)) => {
                hops += 1;
                if hops > 32 {
                    return Err(SourceError::Escapes {
                        path: path.to_string(),
                        reason: "too many levels of symbolic links".into(),
                    });
                }
                if target.starts_with('/') || has_drive(&target) {
                    return Err(SourceError::Escapes {
                        path: path.to_string(),
                        reason: format!("symlink `{here}` points to absolute path `{target}`"),
                    });
                }
                current.pop();
                let mut next = current.clone();
                for piece in target.split('/').filter(|p| !p.is_empty() && *p != ".") {
                    if piece == ".." {
                        if next.pop().is_none() {
                            return Err(SourceError::Escapes {
                                path: path.to_string(),
                                reason: format!("symlink `{here}` points outside to `{target}`"),
                            });
                        }
                    } else {
                        next.push(piece.to_string());
                    }
                }
                // Re-walk the target's components so symlinks inside it are checked too.
                for piece in next.into_iter().rev() {
                    pending.push(piece);
                }
                current.clear();
            }
            Some(EntryKind::Dir) if !pending.is_empty() => {}
            Some(EntryKind::File) if !pending.is_empty() => {
                return Err(SourceError::NotADirectory(here));
            }
            Some(kind) => return Ok((here, Some(kind))),
        }
    }
    let here = current.join("/");
    Ok((here, Some(EntryKind::Dir)))
}

fn here_with_rest(current: &[String], pending: &[String]) -> String {
    let mut all: Vec<&str> = current.iter().map(String::as_str).collect();
    all.extend(pending.iter().rev().map(String::as_str));
    all.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_refuses_escapes_and_normalises() {
        assert_eq!(clean("./a//b/").unwrap(), "a/b");
        assert_eq!(clean(".").unwrap(), "");
        assert!(clean("../x").is_err());
        assert!(clean("a/../../x").is_err());
        assert!(clean("/etc").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_are_followed_and_outside_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::write(root.join("real/a.yaml"), "x: 1").unwrap();
        std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
        std::os::unix::fs::symlink("../..", root.join("real/up")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        let tree = DirTree::new(&root);
        let (path, kind) = resolve(&tree, "alias/a.yaml").unwrap();
        assert_eq!(path, "real/a.yaml");
        assert_eq!(kind, Some(EntryKind::File));
        assert!(matches!(
            resolve(&tree, "real/up"),
            Err(SourceError::Escapes { .. })
        ));
        assert!(matches!(
            resolve(&tree, "abs/passwd"),
            Err(SourceError::Escapes { .. })
        ));
        assert_eq!(resolve(&tree, "missing/x").unwrap().1, None);
        assert_eq!(resolve(&tree, "").unwrap().1, Some(EntryKind::Dir));
    }

    #[test]
    fn read_refuses_large_files_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.yaml"), vec![b'a'; 2048]).unwrap();
        let tree = DirTree::new(dir.path());
        assert!(matches!(
            tree.read("big.yaml", 1024),
            Err(SourceError::TooLarge { size: 2048, .. })
        ));
    }
}
