//! Source → Render: from the config's `source:` (or a directory given
//! instead, such as a pull request's checkout) to a rendered app tree and
//! the Git revision it was read at. A Git source is fetched first (a remote
//! into its mirror) and, when `verify` is set, its commit's signature is
//! checked before anything is read from it.

use std::path::{Path, PathBuf};

use crate::config::{Config, GitSourceConfig, SourceConfig};
use crate::manifest::{Diagnostics, RenderOptions, Rendered, render};
use crate::policy::PolicySet;
use crate::source::{DirEntry, DirTree, EntryKind, SourceError, SourceTree};
use crate::source::{
    FetchError, Fetched, GitRemote, GitTree, OpenError, Revision, SignaturePolicy, Signer, Source,
    SourceSpec, VerifyError, verify_commit,
};

/// Why the desired state could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "{file}: no `source:` section; add `source: {{ dir: PATH }}` or `source: {{ git: {{ repo: PATH, revision: main }} }}`, or pass --source-dir"
    )]
    NoSource { file: String },
    #[error("source")]
    Open(#[from] OpenError),
    #[error("fetching the Git source")]
    Fetch(#[from] FetchError),
    #[error("revision {commit} refused: {reason}")]
    RevisionRefused {
        commit: String,
        #[source]
        reason: VerifyError,
    },
    #[error("the source is not a Git repository; there is no commit to render")]
    NotGit,
    #[error("the policies under policies/ cannot run ({} error{}):\n{diags}", diags.errors.len(), if diags.errors.len() == 1 { "" } else { "s" })]
    Policies { diags: Diagnostics },
    #[error("the manifests do not render ({} error{}):\n{diags}", diags.errors.len(), if diags.errors.len() == 1 { "" } else { "s" })]
    Render { diags: Diagnostics },
}

/// A rendered tree and where it came from.
#[derive(Debug)]
pub struct RenderedTree {
    pub rendered: Rendered,
    /// The guardrails under `policies/`, parsed.
    pub policies: PolicySet,
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
    /// True when trying again later may succeed (an unreachable server, a
    /// slow transfer).
    pub fn is_transient(&self) -> bool {
        matches!(self, RenderError::Fetch(e) if e.is_transient())
    }

    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RenderError::NoSource { .. } => "no_source",
            RenderError::Open(_) => "source_open",
            RenderError::Fetch(e) => e.metric_label(),
            RenderError::RevisionRefused { reason, .. } => reason.metric_label(),
            RenderError::NotGit => "not_git",
            RenderError::Render { .. } => "render",
            RenderError::Policies { .. } => "policies",
        }
    }
}

/// Opens the source and renders it. `source_dir` overrides the config's
/// source (a pull request's checkout); `config_file` names the file in
/// errors. A Git source is fetched (and its signature checked) first.
pub fn render_source(
    config: &Config,
    source_dir: Option<&Path>,
    config_file: &Path,
) -> Result<RenderedTree, RenderError> {
    let source_cfg = config.source.clone().unwrap_or_default();
    let dir = match (source_dir, &source_cfg.dir, &source_cfg.git) {
        (Some(dir), _, _) => PathBuf::from(dir),
        (None, Some(dir), _) => dir.clone(),
        (None, None, Some(git)) => {
            let remote = GitRemote::new(git, &config.state.dir)?;
            let fetched = fetch_verified(&remote, git)?;
            return render_commit(
                &source_cfg,
                &remote,
                &fetched.revision.commit,
                &git.revision,
            );
        }
        (None, None, None) => {
            return Err(RenderError::NoSource {
                file: config_file.display().to_string(),
            });
        }
    };
    let source = Source::open(&SourceSpec::Dir(dir))?;
    render_opened(&source, &source_cfg, None)
}

/// Fetches the Git source and, when `verify` is set, checks the signature
/// of the commit it now names. Blocking.
pub fn fetch_verified(remote: &GitRemote, git: &GitSourceConfig) -> Result<Fetched, RenderError> {
    let fetched = remote.fetch()?;
    check_signature(remote, git, &fetched.revision.commit)?;
    Ok(fetched)
}

/// Checks `commit`'s signature when the source asks for it; `None` when it does not.
pub fn check_signature(
    remote: &GitRemote,
    git: &GitSourceConfig,
    commit: &str,
) -> Result<Option<Signer>, RenderError> {
    let Some(verify) = &git.verify else {
        return Ok(None);
    };
    verify_commit(remote.repository(), commit, &SignaturePolicy::from(verify))
        .map(Some)
        .map_err(|reason| RenderError::RevisionRefused {
            commit: commit.to_string(),
            reason,
        })
}

/// Renders the fetched repository at `commit` (checking its signature when
/// the source asks for it); `requested` is the revision recorded as asked
/// for (the configured branch, or the commit itself for a rollback).
pub fn render_commit(
    source_cfg: &SourceConfig,
    remote: &GitRemote,
    commit: &str,
    requested: &str,
) -> Result<RenderedTree, RenderError> {
    let git = source_cfg.git.as_ref().ok_or(RenderError::NotGit)?;
    check_signature(remote, git, commit)?;
    let tree =
        GitTree::open(remote.repository(), commit)?.labelled(remote.display_url(), requested);
    let sub = git.path.clone().filter(|p| !p.trim_matches('/').is_empty());
    render_opened(&Source::Git(tree), source_cfg, sub)
}

/// `validate`'s pipeline over a directory: renders it (any error fails the
/// whole render, nothing is isolated) and runs every app's guardrails over
/// what it declares. Guardrail warnings join the render's.
pub fn validate_dir(dir: &Path, root_file: Option<&Path>) -> Result<Rendered, Diagnostics> {
    let mut rendered = crate::manifest::render_dir(dir, root_file)?;
    let fail = |mut diags: Diagnostics, rendered: Rendered| {
        diags.warnings.extend(rendered.warnings);
        diags.finish();
        Err(diags)
    };
    let policies = match PolicySet::load(&DirTree::new(dir)) {
        Ok(policies) => policies,
        Err(diags) => return fail(diags, rendered),
    };
    let mut diags = crate::policy::validate(&policies, &rendered);
    let agents = crate::plan::agents::validate(&rendered);
    diags.errors.extend(agents.errors);
    diags.finish();
    if diags.has_errors() {
        return fail(diags, rendered);
    }
    rendered.warnings.extend(diags.warnings);
    Ok(rendered)
}

/// The repository's guardrails, every Project's references to them checked.
pub fn load_policies(tree: &dyn SourceTree, rendered: &Rendered) -> Result<PolicySet, RenderError> {
    let policies = PolicySet::load(tree).map_err(|diags| RenderError::Policies { diags })?;
    let diags = policies.check_projects(&rendered.projects);
    if diags.has_errors() {
        return Err(RenderError::Policies { diags });
    }
    Ok(policies)
}

fn render_opened(
    source: &Source,
    source_cfg: &SourceConfig,
    sub: Option<String>,
) -> Result<RenderedTree, RenderError> {
    // An app with errors of its own is blocked (planned as such, applied
    // not at all) while the others go on.
    let options = RenderOptions {
        root_file: source_cfg.root.clone(),
        isolate_apps: true,
        ..Default::default()
    };
    let sub = sub.map(|prefix| SubTree {
        inner: source,
        prefix: prefix.trim_matches('/').to_string(),
    });
    let tree: &dyn SourceTree = match &sub {
        Some(sub) => sub,
        None => source,
    };
    let rendered = render(tree, &options).map_err(|diags| RenderError::Render { diags })?;
    let policies = load_policies(tree, &rendered)?;
    Ok(RenderedTree {
        rendered,
        policies,
        revision: source.revision().cloned(),
        described: source.describe(),
    })
}
