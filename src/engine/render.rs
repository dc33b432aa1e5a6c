//! Source → Render: from the config's `source:` (or a directory given
//! instead, such as a pull request's checkout) to a rendered app tree and
//! the Git revision it was read at.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::manifest::{Diagnostics, RenderOptions, Rendered, render};
use crate::source::{DirEntry, EntryKind, SourceError, SourceTree};
use crate::source::{OpenError, Revision, Source, SourceSpec};

/// Why the desired state could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "{file}: no `source:` section; add `source: {{ dir: PATH }}` or `source: {{ git: {{ repo: PATH, revision: main }} }}`, or pass --source-dir"
    )]
    NoSource { file: String },
    #[error("source")]
    Open(#[from] OpenError),
    #[error("the manifests do not render ({} error{}):\n{diags}", diags.errors.len(), if diags.errors.len() == 1 { "" } else { "s" })]
    Render { diags: Diagnostics },
}

/// A rendered tree and where it came from.
#[derive(Debug)]
pub struct RenderedTree {
    pub rendered: Rendered,
    pub revision: Option<Revision>,
    /// A description of the source, for messages.
    pub described: String,
}

/// A tree rooted at a sub-directory of another.
struct SubTree<'a> {
    inner: &'a dyn SourceTree,
    prefix: String,
}

impl SubTree<'_> {
    fn path(&self, p: &str) -> String {
        if p.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{p}", self.prefix)
        }
    }
}

impl SourceTree for SubTree<'_> {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        self.inner.entry(&self.path(path))
    }
    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        self.inner.list(&self.path(path))
    }
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        self.inner.read(&self.path(path), limit)
    }
    fn describe(&self) -> String {
        format!("{} (path {})", self.inner.describe(), self.prefix)
    }
}

impl RenderError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RenderError::NoSource { .. } => "no_source",
            RenderError::Open(_) => "source_open",
            RenderError::Render { .. } => "render",
        }
    }
}

/// Opens the source and renders it. `source_dir` overrides the config's
/// source (a pull request's checkout); `config_file` names the file in errors.
pub fn render_source(
    config: &Config,
    source_dir: Option<&Path>,
    config_file: &Path,
) -> Result<RenderedTree, RenderError> {
    let source_cfg = config.source.clone().unwrap_or_default();
    let (spec, sub): (SourceSpec, Option<String>) =
        match (source_dir, &source_cfg.dir, &source_cfg.git) {
            (Some(dir), _, _) => (SourceSpec::Dir(PathBuf::from(dir)), None),
            (None, Some(dir), _) => (SourceSpec::Dir(dir.clone()), None),
            (None, None, Some(git)) => (
                SourceSpec::Git {
                    repo: git.repo.clone(),
                    revision: git.revision.clone(),
                },
                git.path.clone().filter(|p| !p.trim_matches('/').is_empty()),
            ),
            (None, None, None) => {
                return Err(RenderError::NoSource {
                    file: config_file.display().to_string(),
                });
            }
        };
    let source = Source::open(&spec)?;
    // An app with errors of its own is blocked (planned as such, applied
    // not at all) while the others go on.
    let options = RenderOptions {
        root_file: source_cfg.root.clone(),
        isolate_apps: true,
        ..Default::default()
    };
    let rendered = match &sub {
        Some(prefix) => render(
            &SubTree {
                inner: &source,
                prefix: prefix.trim_matches('/').to_string(),
            },
            &options,
        ),
        None => render(&source, &options),
    }
    .map_err(|diags| RenderError::Render { diags })?;
    Ok(RenderedTree {
        rendered,
        revision: source.revision().cloned(),
        described: source.describe(),
    })
}
