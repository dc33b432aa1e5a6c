//! The workspace object tree: parent paths, storing objects and creating
//! directories with their missing parents.

use super::object::WsObject;
use super::workspace::Workspace;

/// Why a tree operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A path on the way names a file or notebook, not a directory.
    #[error("Node named '{path}' already exists")]
    NodeExists { path: String },
}

impl TreeError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            TreeError::NodeExists { .. } => "node_exists",
        }
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The parent directory of an absolute path (`None` for `/`).
pub fn parent_of(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    let (parent, _) = path.rsplit_once('/')?;
    Some(if parent.is_empty() {
        "/".to_owned()
    } else {
        parent.to_owned()
    })
}

impl Workspace {
    /// Stores a new object at `path` and returns its id.
    pub fn insert_object(
        &mut self,
        path: &str,
        object_type: &str,
        language: Option<String>,
        content: String,
        size: usize,
    ) -> i64 {
        let now = now_ms();
        let id = i64::try_from(self.next_id()).unwrap_or(i64::MAX) + 2_000_000_000_000;
        self.objects.insert(
            path.to_owned(),
            WsObject {
                object_id: id,
                object_type: object_type.to_owned(),
                language,
                created_at: now,
                modified_at: now,
                content,
                size,
            },
        );
        self.index.object_paths.insert(id, path.to_owned());
        id
    }

    /// Creates `path` and its missing parents as directories.
    pub fn mkdirs(&mut self, path: &str) -> Result<(), TreeError> {
        let mut missing_dirs = Vec::new();
        let mut current = Some(path.to_owned());
        while let Some(p) = current {
            match self.objects.get(&p) {
                Some(o) if o.is_dir() => break,
                Some(_) => {
                    return Err(TreeError::NodeExists { path: p });
                }
                None => {
                    current = parent_of(&p);
                    missing_dirs.push(p);
                }
            }
        }
        for dir in missing_dirs.into_iter().rev() {
            self.insert_object(&dir, "DIRECTORY", None, String::new(), 0);
        }
        Ok(())
    }
}
