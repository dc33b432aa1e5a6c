//! Rendering: from the root Application(s) down through every child app,
//! reading each app's source, expanding ApplicationSets, and building the
//! desired resources — then the checks that need the whole tree (unique
//! keys, references, reference cycles — see `graph`).
//!
//! With [`RenderOptions::isolate_apps`], an error found inside one app (its
//! Application document, its source files, its resources, its references,
//! its project rules) blocks only that app: it is returned in
//! [`Rendered::blocked`] with its diagnostics, and the other apps render.
//! Errors no single app owns stay fatal: the top-level files and root
//! Applications, app-tree cycles and repeated app names, an unknown
//! project, a resource key two apps declare.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::Kind;
use super::access_policy::{self, AccessPolicy};
use super::agent::AgentScope;
use super::app::{self, AppSource, AppSpec, IgnoreDifference, Project, SyncPolicy, WorkspaceDef};
use super::build::{self, AppScope, ScopeSecret};
use super::credentials::CredentialRotation;
use super::diag::{At, Diagnostic, Diagnostics, suggest};
use super::document::{self, Document};
use super::rbac::{self, BoundRight, Labels, Role, RoleBinding};
use super::resource::{DesiredResource, Origin, ResourceKey};
use super::vars::{self, Values};
use super::yaml::Limits;
use crate::source::tree::{self as source, DirTree, EntryKind, SourceTree};

/// Deepest app nesting: the root is depth 0.
pub const MAX_DEPTH: usize = 10;

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The file holding the root Application(s), relative to the manifest
    /// root. `None`: the Applications in the top-level files of the root.
    pub root_file: Option<String>,
    pub limits: Limits,
    /// Keep rendering the other apps when one app has errors, returning it
    /// in [`Rendered::blocked`] (plan and apply). Off: any error fails the
    /// whole render (validate).
    pub isolate_apps: bool,
}

/// An app held back by errors in its own manifests: nothing of it may be
/// planned or applied (and nothing of it pruned).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedApp {
    pub name: String,
    /// The app whose source declared this one; `None` for a root.
    pub parent: Option<String>,
    pub project: String,
    pub workspace: Option<String>,
    /// Its Application (or ApplicationSet) document.
    pub origin: Origin,
    /// The errors that block it, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// One app of the tree with everything it declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedApp {
    pub name: String,
    /// The app whose source declared this one; `None` for a root.
    pub parent: Option<String>,
    pub depth: usize,
    pub project: String,
    /// Destination workspace name; resources inherit it.
    pub workspace: Option<String>,
    pub source: AppSource,
    pub sync_policy: SyncPolicy,
    pub ignore_differences: Vec<IgnoreDifference>,
    pub adopt: bool,
    /// Variables in effect (inherited from the parent, overridden by the app).
    pub variables: Values,
    pub origin: Origin,
    /// The ApplicationSet that generated it.
    pub generated_by: Option<String>,
    /// Apps that must be synced, their last apply a success, before this one syncs.
    pub depends_on: Vec<String>,
    pub resources: Vec<DesiredResource>,
    pub secrets: Vec<ScopeSecret>,
    /// The AI-agent service principals it declares, with their approved data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentScope>,
    /// The credential rotations its service principals ask for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<CredentialRotation>,
    /// Each resource's labels, for role rules that select by label.
    #[serde(skip)]
    pub labels: BTreeMap<ResourceKey, Labels>,
}

/// A valid repository, rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    /// Apps in tree order: each parent before its children.
    pub apps: Vec<RenderedApp>,
    /// Apps with errors of their own (only with `isolate_apps`), in tree
    /// order; none of them is in `apps`.
    pub blocked: Vec<BlockedApp>,
    pub projects: Vec<Project>,
    pub workspaces: Vec<WorkspaceDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub role_bindings: Vec<RoleBinding>,
    /// The rights role bindings gave, for `mortar access` to name the binding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound: Vec<BoundRight>,
    /// Who may act on Mortar's API, when the repository says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_policy: Option<AccessPolicy>,
    pub warnings: Vec<Diagnostic>,
}

impl Rendered {
    /// Every resource of every app.
    pub fn resources(&self) -> impl Iterator<Item = &DesiredResource> {
        self.apps.iter().flat_map(|a| a.resources.iter())
    }

    pub fn app(&self, name: &str) -> Option<&RenderedApp> {
        self.apps.iter().find(|a| a.name == name)
    }

    pub fn blocked_app(&self, name: &str) -> Option<&BlockedApp> {
        self.blocked.iter().find(|a| a.name == name)
    }
}

/// Renders a manifest directory on disk. `root_file` is relative to `dir`,
/// or a path (absolute or from the working directory) to a file inside it.
pub fn render_dir(dir: &Path, root_file: Option<&Path>) -> Result<Rendered, Diagnostics> {
    let mut options = RenderOptions::default();
    if let Some(file) = root_file {
        // Relative to the manifest root; or, failing that, an existing path
        // (absolute or from the working directory) inside it.
        let from_cwd = !file.is_absolute() && !dir.join(file).exists() && file.exists();
        let relative = if file.is_absolute() || from_cwd {
            let base = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            let full = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
            match full.strip_prefix(&base) {
                Ok(rel) => rel.to_path_buf(),
                Err(_) => {
                    let mut diags = Diagnostics::default();
                    diags.error(
                        At::new(&file.display().to_string(), 0, 0, ""),
                        format!(
                            "the root file is outside the manifest root {}",
                            dir.display()
                        ),
                    );
                    return Err(diags);
                }
            }
        } else {
            file.to_path_buf()
        };
        options.root_file = Some(relative.to_string_lossy().replace('\\', "/"));
    }
    render(&DirTree::new(dir), &options)
}

/// Renders the app tree of `tree`. Returns every error found, not just the first.
pub fn render(tree: &dyn SourceTree, options: &RenderOptions) -> Result<Rendered, Diagnostics> {
    let mut r = Renderer {
        tree,
        limits: options.limits,
        diags: Diagnostics::default(),
        cache: HashMap::new(),
        isolate: options.isolate_apps,
        slots: Vec::new(),
        owners: HashMap::new(),
    };
    let mut rendered = r.run(options);
    let Renderer {
        mut diags,
        slots,
        owners,
        ..
    } = r;
    if options.isolate_apps && diags.has_errors() {
        let mut per_slot: Vec<Vec<Diagnostic>> = vec![Vec::new(); slots.len()];
        let mut fatal = false;
        for (i, d) in diags.errors.iter().enumerate() {
            match owners.get(&i) {
                Some(Some(slot)) => per_slot[*slot].push(d.clone()),
                _ => fatal = true,
            }
        }
        if !fatal {
            for (mut blocked, mut errors) in slots.into_iter().zip(per_slot) {
                if errors.is_empty() {
                    continue;
                }
                errors.sort();
                errors.dedup();
                blocked.diagnostics = errors;
                rendered.blocked.push(blocked);
            }
            rendered
                .apps
                .retain(|a| !rendered.blocked.iter().any(|b| b.name == a.name));
            diags.errors.clear();
        }
    }
    if !diags.has_errors() {
        let (roles, bindings) = (rendered.roles.clone(), rendered.role_bindings.clone());
        rbac::apply(&mut rendered, &roles, &bindings, &mut diags);
    }
    diags.finish();
    if diags.has_errors() {
        return Err(diags);
    }
    rendered.warnings = diags.warnings;
    tracing::debug!(
        apps = rendered.apps.len(),
        blocked = rendered.blocked.len(),
        resources = rendered.resources().count(),
        warnings = rendered.warnings.len(),
        "rendered the app tree"
    );
    Ok(rendered)
}

pub(super) struct Renderer<'t> {
    pub(super) tree: &'t dyn SourceTree,
    pub(super) limits: Limits,
    pub(super) diags: Diagnostics,
    /// Each file's documents and the findings reading it gave, so a second
    /// app reading the same file gets the same findings.
    pub(super) cache: HashMap<String, (Vec<Document>, Diagnostics)>,
    /// `RenderOptions::isolate_apps`.
    pub(super) isolate: bool,
    /// Every app read past the tree checks, in tree order (diagnostics empty).
    pub(super) slots: Vec<BlockedApp>,
    /// Error index → the slot of the app it belongs to; `None` marks an
    /// error raised while reading an app that no app owns. Errors missing
    /// here are fatal too.
    pub(super) owners: HashMap<usize, Option<usize>>,
}

/// A reference and the index, in its app, of the resource that makes it.
pub(super) type IndexedRef = (usize, vars::ReferenceSite);

/// An app waiting to be read.
struct Pending {
    spec: AppSpec,
    parent: Option<String>,
    depth: usize,
    inherited: Values,
    /// Names and source paths of the ancestors, root first.
    ancestors: Vec<(String, String)>,
}

/// Reads a top-level document's spec: diagnostics, file, name, spec, origin.
type ReadTopLevel<T> = fn(&mut Diagnostics, &str, &str, &super::yaml::Node, Origin) -> Option<T>;

/// What one app's source declares.
#[derive(Default)]
struct AppContents {
    resources: Vec<DesiredResource>,
    secrets: Vec<ScopeSecret>,
    agents: Vec<AgentScope>,
    rotations: Vec<CredentialRotation>,
    labels: BTreeMap<ResourceKey, Labels>,
    references: Vec<IndexedRef>,
    children: Vec<Pending>,
}

/// Where a field of an app's spec was written (its document's start if unknown).
pub(super) fn spot(spec: &AppSpec, key: &str) -> (usize, usize) {
    spec.spots
        .get(key)
        .copied()
        .unwrap_or((spec.origin.line, spec.origin.column))
}

/// A field of an app's spec as the user wrote it (in an ApplicationSet, its template).
fn field(spec: &AppSpec, key: &str) -> String {
    if spec.generated_by.is_some() {
        format!("spec.template.spec.{key}")
    } else {
        format!("spec.{key}")
    }
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

impl Renderer<'_> {
    fn docs(&mut self, path: &str) -> Vec<Document> {
        if let Some((docs, found)) = self.cache.get(path) {
            // Repeats collapse in `Diagnostics::finish`.
            self.diags.errors.extend(found.errors.iter().cloned());
            self.diags.warnings.extend(found.warnings.iter().cloned());
            return docs.clone();
        }
        let mut found = Diagnostics::default();
        let docs = document::read_file(&mut found, self.tree, path, &self.limits);
        self.diags.errors.extend(found.errors.iter().cloned());
        self.diags.warnings.extend(found.warnings.iter().cloned());
        self.cache.insert(path.to_string(), (docs.clone(), found));
        docs
    }

    /// Gives the errors raised since index `from` that no one owns yet to
    /// the app in `slot`.
    pub(super) fn claim(&mut self, from: usize, slot: usize) {
        for i in from..self.diags.errors.len() {
            self.owners.entry(i).or_insert(Some(slot));
        }
    }

    /// Marks the errors raised since index `from` as fatal for the run.
    fn keep_fatal(&mut self, from: usize) {
        for i in from..self.diags.errors.len() {
            self.owners.insert(i, None);
        }
    }

    /// The slot of an app read past the tree checks.
    pub(super) fn slot_of(&self, app: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == app)
    }

    fn top_level_files(&mut self) -> Vec<String> {
        match self.tree.list("") {
            Ok(entries) => entries
                .into_iter()
                .filter(|e| is_yaml(&e.name) && !matches!(e.kind, EntryKind::Dir))
                .map(|e| e.name)
                .collect(),
            Err(err) => {
                self.diags
                    .error(At::new(&self.tree.describe(), 0, 0, ""), err.to_string());
                Vec::new()
            }
        }
    }

    fn run(&mut self, options: &RenderOptions) -> Rendered {
        let top_files = self.top_level_files();
        let root_file = match &options.root_file {
            Some(raw) => match source::clean(raw) {
                Ok(p) => match source::resolve(self.tree, &p) {
                    Ok((resolved, Some(EntryKind::File))) => Some(resolved),
                    Ok((_, None)) => {
                        self.diags
                            .error(At::new(raw, 0, 0, ""), "the root file does not exist");
                        None
                    }
                    Ok(_) => {
                        self.diags
                            .error(At::new(raw, 0, 0, ""), "the root file is not a file");
                        None
                    }
                    Err(err) => {
                        self.diags.error(At::new(raw, 0, 0, ""), err.to_string());
                        None
                    }
                },
                Err(reason) => {
                    self.diags.error(At::new(raw, 0, 0, ""), reason);
                    None
                }
            },
            None => None,
        };
        if options.root_file.is_some() && root_file.is_none() {
            return Rendered {
                apps: Vec::new(),
                blocked: Vec::new(),
                projects: Vec::new(),
                workspaces: Vec::new(),
                roles: Vec::new(),
                role_bindings: Vec::new(),
                bound: Vec::new(),
                access_policy: None,
                warnings: Vec::new(),
            };
        }

        // Projects and Workspaces: the top-level files (and the root file).
        let mut global_files = top_files.clone();
        if let Some(root) = &root_file
            && !global_files.contains(root)
        {
            global_files.push(root.clone());
        }
        let mut projects: Vec<Project> = Vec::new();
        let mut workspaces: Vec<WorkspaceDef> = Vec::new();
        let mut roles: Vec<Role> = Vec::new();
        let mut role_bindings: Vec<RoleBinding> = Vec::new();
        let mut root_docs: Vec<Document> = Vec::new();
        let mut policy_docs: Vec<Document> = Vec::new();
        for file in &global_files {
            let is_root_file = root_file.as_deref() == Some(file.as_str());
            for doc in self.docs(file) {
                match doc.kind {
                    Kind::Project => self.add_top_level(
                        &doc,
                        &mut projects,
                        |p| (p.name.as_str(), &p.origin),
                        app::read_project,
                    ),
                    Kind::Workspace => {
                        self.add_top_level(
                            &doc,
                            &mut workspaces,
                            |w| (w.name.as_str(), &w.origin),
                            app::read_workspace,
                        );
                        if let Some(w) = workspaces.iter_mut().find(|w| w.origin == doc.origin) {
                            w.labels = doc.labels.clone();
                        }
                    }
                    Kind::Role => self.add_top_level(
                        &doc,
                        &mut roles,
                        |r| (r.name.as_str(), &r.origin),
                        rbac::read_role,
                    ),
                    Kind::RoleBinding => self.add_top_level(
                        &doc,
                        &mut role_bindings,
                        |b| (b.name.as_str(), &b.origin),
                        rbac::read_binding,
                    ),
                    Kind::AccessPolicy => policy_docs.push(doc),
                    Kind::Application | Kind::ApplicationSet => {
                        if root_file.is_none() || is_root_file {
                            root_docs.push(doc);
                        }
                    }
                    kind => {
                        if root_file.is_none() || is_root_file {
                            self.diags.error(
                                At::new(&doc.file, doc.kind_at.0, doc.kind_at.1, "kind"),
                                format!("a {kind} belongs in an app's source path, not at the top of the manifest root"),
                            );
                        }
                    }
                }
            }
        }
        let access_policy = self.read_access_policy(&policy_docs, &projects);
        if root_docs.is_empty() && !self.diags.has_errors() {
            let at = root_file.clone().unwrap_or_else(|| self.tree.describe());
            self.diags.error(
                At::new(&at, 0, 0, ""),
                "no root Application found: put one in a top-level .yaml file of the manifest root, or pass --root FILE",
            );
        }

        let mut queue: std::collections::VecDeque<Pending> = std::collections::VecDeque::new();
        for doc in &root_docs {
            for spec in self.expand(doc) {
                queue.push_back(Pending {
                    spec,
                    parent: None,
                    depth: 0,
                    inherited: Values::new(),
                    ancestors: Vec::new(),
                });
            }
        }

        let mut apps: Vec<RenderedApp> = Vec::new();
        let mut app_origins: HashMap<String, Origin> = HashMap::new();
        let mut refs: Vec<Vec<IndexedRef>> = Vec::new();
        while let Some(pending) = queue.pop_front() {
            if let Some((app, children, app_refs)) =
                self.read_app(pending, &projects, &workspaces, &mut app_origins)
            {
                queue.extend(children);
                apps.push(app);
                refs.push(app_refs);
            }
        }
        self.check_keys(&apps);
        self.check_references(&mut apps, &refs);
        self.check_app_dependencies(&apps);
        Rendered {
            apps,
            blocked: Vec::new(),
            projects,
            workspaces,
            roles,
            role_bindings,
            bound: Vec::new(),
            access_policy,
            warnings: Vec::new(),
        }
    }

    /// Reads the repository's one `AccessPolicy`; a second is an error.
    fn read_access_policy(
        &mut self,
        docs: &[Document],
        projects: &[Project],
    ) -> Option<AccessPolicy> {
        let (first, others) = docs.split_first()?;
        for doc in others {
            self.diags.error(
                At::new(&doc.file, doc.origin.line, doc.origin.column, "kind"),
                format!(
                    "an AccessPolicy is already declared at {}:{}; a repository has one",
                    first.file, first.origin.line
                ),
            );
        }
        let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
        access_policy::read(
            &mut self.diags,
            &first.file,
            &first.name,
            first.spec()?,
            first.origin.clone(),
            &names,
        )
    }

    /// Adds a top-level document (a Project or a Workspace) read by `read`,
    /// unless one of that name is declared already.
    fn add_top_level<T>(
        &mut self,
        doc: &Document,
        declared: &mut Vec<T>,
        origin_of: impl Fn(&T) -> (&str, &Origin),
        read: ReadTopLevel<T>,
    ) {
        if let Some((_, first)) = declared
            .iter()
            .map(&origin_of)
            .find(|(name, _)| *name == doc.name)
        {
            let message = format!(
                "{} `{}` is already declared at {}:{}",
                doc.kind.as_str().to_lowercase(),
                doc.name,
                first.file,
                first.line
            );
            self.diags.error(
                At::new(
                    &doc.file,
                    doc.origin.line,
                    doc.origin.column,
                    "metadata.name",
                ),
                message,
            );
            return;
        }
        if let Some(spec) = doc.spec()
            && let Some(item) = read(
                &mut self.diags,
                &doc.file,
                &doc.name,
                spec,
                doc.origin.clone(),
            )
        {
            declared.push(item);
        }
    }

    /// Reads one app; the errors found after the tree checks are the app's own.
    fn read_app(
        &mut self,
        pending: Pending,
        projects: &[Project],
        workspaces: &[WorkspaceDef],
        app_origins: &mut HashMap<String, Origin>,
    ) -> Option<(RenderedApp, Vec<Pending>, Vec<IndexedRef>)> {
        let from = self.diags.errors.len();
        let slots = self.slots.len();
        let read = self.read_app_inner(pending, projects, workspaces, app_origins);
        if self.slots.len() > slots {
            self.claim(from, slots);
        }
        read
    }

    fn read_app_inner(
        &mut self,
        pending: Pending,
        projects: &[Project],
        workspaces: &[WorkspaceDef],
        app_origins: &mut HashMap<String, Origin>,
    ) -> Option<(RenderedApp, Vec<Pending>, Vec<IndexedRef>)> {
        let Pending {
            spec,
            parent,
            depth,
            inherited,
            ancestors,
        } = pending;
        let _span = tracing::debug_span!("render_app", app = %spec.name, workspace = ?spec.workspace, path = %spec.source.path).entered();
        self.claim_name(&spec, &ancestors, depth, app_origins)?;
        self.slots.push(BlockedApp {
            name: spec.name.clone(),
            parent: parent.clone(),
            project: spec.project.clone(),
            workspace: spec.workspace.clone(),
            origin: spec.origin.clone(),
            diagnostics: Vec::new(),
        });
        let project = self.project_of(&spec, projects);
        self.check_destination(&spec, &project, workspaces);
        let files = self.source_files(&spec, &project, &ancestors)?;

        let mut variables = inherited;
        variables.extend(spec.variables.clone());
        let mut child_ancestors = ancestors;
        child_ancestors.push((spec.name.clone(), spec.source.path.clone()));
        let mut read = AppContents::default();
        for path in files {
            for doc in self.docs(&path) {
                self.read_document(
                    &doc,
                    &spec,
                    &project,
                    &variables,
                    (depth, &child_ancestors),
                    &mut read,
                );
            }
        }
        Some((
            RenderedApp {
                name: spec.name.clone(),
                parent,
                depth,
                project: spec.project.clone(),
                workspace: spec.workspace.clone(),
                source: spec.source.clone(),
                sync_policy: spec.sync_policy.clone(),
                ignore_differences: spec.ignore_differences.clone(),
                adopt: spec.adopt,
                variables,
                origin: spec.origin.clone(),
                generated_by: spec.generated_by.clone(),
                depends_on: spec.depends_on.clone(),
                resources: read.resources,
                secrets: read.secrets,
                agents: read.agents,
                rotations: read.rotations,
                labels: read.labels,
            },
            read.children,
            read.references,
        ))
    }

    /// Records the app's name; `None` (with an error) when the name is
    /// taken, renders itself again, or nests too deep.
    fn claim_name(
        &mut self,
        spec: &AppSpec,
        ancestors: &[(String, String)],
        depth: usize,
        app_origins: &mut HashMap<String, Origin>,
    ) -> Option<()> {
        let file = &spec.origin.file;
        if let Some(first) = app_origins.get(&spec.name) {
            let message = if ancestors.iter().any(|(n, _)| *n == spec.name) {
                let chain: Vec<&str> = ancestors.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "cycle: app `{}` renders itself again ({} → {})",
                    spec.name,
                    chain.join(" → "),
                    spec.name
                )
            } else {
                format!(
                    "application `{}` is already declared at {}:{}",
                    spec.name, first.file, first.line
                )
            };
            self.diags.error(
                At::new(file, spec.origin.line, spec.origin.column, "metadata.name"),
                message,
            );
            return None;
        }
        app_origins.insert(spec.name.clone(), spec.origin.clone());
        if depth > MAX_DEPTH {
            self.diags.error(
                At::new(file, spec.origin.line, spec.origin.column, ""),
                format!(
                    "app `{}` is nested {depth} levels deep; the limit is {MAX_DEPTH}",
                    spec.name
                ),
            );
            return None;
        }
        Some(())
    }

    /// The app's project; an unknown one is an error that stays fatal, and
    /// the app is read on under a permissive stand-in so its other errors
    /// are reported too.
    fn project_of(&mut self, spec: &AppSpec, projects: &[Project]) -> Project {
        if let Some(p) = projects.iter().find(|p| p.name == spec.project) {
            return p.clone();
        }
        if spec.project == "default" {
            return Project::permissive("default");
        }
        let (line, column) = spot(spec, "project");
        let hint = suggest(&spec.project, projects.iter().map(|p| p.name.as_str()))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        let from = self.diags.errors.len();
        self.diags.error(
            At::new(&spec.origin.file, line, column, &field(spec, "project")),
            format!("unknown project `{}`{hint}", spec.project),
        );
        self.keep_fatal(from);
        Project::permissive(&spec.project)
    }

    /// The destination must be a declared workspace the project allows.
    fn check_destination(
        &mut self,
        spec: &AppSpec,
        project: &Project,
        workspaces: &[WorkspaceDef],
    ) {
        let Some(ws) = &spec.workspace else { return };
        let (line, column) = spot(spec, "destination.workspace");
        let at_field = field(spec, "destination.workspace");
        let at = At::new(&spec.origin.file, line, column, &at_field);
        if !workspaces.iter().any(|w| &w.name == ws) {
            let hint = suggest(ws, workspaces.iter().map(|w| w.name.as_str()))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            self.diags.error(at, format!("unknown workspace `{ws}`{hint}; declare it with a Workspace manifest at the top of the manifest root"));
        } else if !project.allows_destination(ws) {
            self.diags.violation(
                at,
                "destinations",
                format!(
                    "project `{}` does not allow destination workspace `{ws}` (allowed: {})",
                    project.name,
                    project.destinations.join(", ")
                ),
            );
        }
    }

    /// The YAML files of the app's source path, which the project must
    /// allow and no ancestor may render already.
    fn source_files(
        &mut self,
        spec: &AppSpec,
        project: &Project,
        ancestors: &[(String, String)],
    ) -> Option<Vec<String>> {
        let file = &spec.origin.file;
        let (sp_line, sp_column) = spot(spec, "source.path");
        let sp_field = field(spec, "source.path");
        let shown = if spec.source.path.is_empty() {
            ".".to_string()
        } else {
            spec.source.path.clone()
        };
        if !project.allows_path(&spec.source.path) {
            self.diags.violation(
                At::new(file, sp_line, sp_column, &sp_field),
                "sourcePaths",
                format!(
                    "project `{}` does not allow source path `{shown}` (allowed: {})",
                    project.name,
                    project.source_paths.join(", ")
                ),
            );
        }
        if let Some((ancestor, _)) = ancestors.iter().find(|(_, p)| *p == spec.source.path) {
            let mut chain: Vec<&str> = ancestors.iter().map(|(n, _)| n.as_str()).collect();
            chain.push(&spec.name);
            let from = self.diags.errors.len();
            self.diags.error(
                At::new(file, sp_line, sp_column, &sp_field),
                format!(
                    "cycle: source path `{shown}` is already rendered by `{ancestor}` ({})",
                    chain.join(" → ")
                ),
            );
            self.keep_fatal(from);
            return None;
        }
        match source::resolve(self.tree, &spec.source.path) {
            Err(err) => {
                self.diags.error(
                    At::new(file, sp_line, sp_column, &sp_field),
                    err.to_string(),
                );
                None
            }
            Ok((_, None)) => {
                self.diags.error(
                    At::new(file, sp_line, sp_column, &sp_field),
                    format!("source path `{shown}` does not exist"),
                );
                None
            }
            Ok((resolved, Some(EntryKind::File))) => Some(vec![resolved]),
            Ok((resolved, Some(_))) => {
                if !project.allows_path(&resolved) {
                    self.diags.violation(
                        At::new(file, sp_line, sp_column, &sp_field),
                        "sourcePaths",
                        format!(
                            "`{shown}` resolves to `{resolved}`, which project `{}` does not allow",
                            project.name
                        ),
                    );
                }
                Some(self.yaml_files(
                    &resolved,
                    spec.source.recurse,
                    (file, sp_line, sp_column, &sp_field),
                ))
            }
        }
    }

    /// One document of the app's source: a child app (or generator), or a
    /// resource of the app.
    fn read_document(
        &mut self,
        doc: &Document,
        spec: &AppSpec,
        project: &Project,
        variables: &Values,
        (depth, child_ancestors): (usize, &[(String, String)]),
        read: &mut AppContents,
    ) {
        match doc.kind {
            Kind::Application | Kind::ApplicationSet => {
                if !project.allows_kind(doc.kind) {
                    self.diags.violation(
                        At::new(&doc.file, doc.kind_at.0, doc.kind_at.1, "kind"),
                        "kinds",
                        format!("project `{}` does not allow kind {} (app `{}` cannot declare child apps)", project.name, doc.kind, spec.name),
                    );
                    return;
                }
                let from = self.diags.errors.len();
                let expanded = self.expand(doc);
                if self.isolate && self.diags.errors.len() > from {
                    // A child declared with errors is not rendered: this
                    // app, which declares it, is blocked instead.
                    return;
                }
                read.children
                    .extend(expanded.into_iter().map(|child| Pending {
                        spec: child,
                        parent: Some(spec.name.clone()),
                        depth: depth + 1,
                        inherited: variables.clone(),
                        ancestors: child_ancestors.to_vec(),
                    }));
            }
            Kind::Project
            | Kind::Workspace
            | Kind::Role
            | Kind::RoleBinding
            | Kind::AccessPolicy => {
                self.diags.error(
                    At::new(&doc.file, doc.kind_at.0, doc.kind_at.1, "kind"),
                    format!("{} {} is declared in the top-level files of the manifest root, not in an app's source", if doc.kind.as_str().starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" }, doc.kind),
                );
            }
            _ => {
                let scope = AppScope {
                    name: &spec.name,
                    workspace: spec.workspace.as_deref(),
                    project,
                    variables,
                };
                if let Some(built) = build::build(&mut self.diags, self.tree, &scope, doc) {
                    let index = read.resources.len();
                    read.references
                        .extend(built.references.into_iter().map(|r| (index, r)));
                    read.labels.insert(built.resource.key.clone(), built.labels);
                    read.resources.push(built.resource);
                    read.secrets.extend(built.secrets);
                    read.agents.extend(built.agent);
                    read.rotations.extend(built.rotation);
                }
            }
        }
    }

    /// The YAML files of a directory, sorted; subdirectories only when `recurse`.
    fn yaml_files(
        &mut self,
        dir: &str,
        recurse: bool,
        at: (&str, usize, usize, &str),
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_string()];
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(current) = stack.pop() {
            if !seen.insert(current.clone()) {
                continue;
            }
            let entries = match self.tree.list(&current) {
                Ok(e) => e,
                Err(err) => {
                    self.diags
                        .error(At::new(at.0, at.1, at.2, at.3), err.to_string());
                    continue;
                }
            };
            let mut subdirs = Vec::new();
            for entry in entries {
                let path = source::join(&current, &entry.name);
                let kind = match &entry.kind {
                    EntryKind::Symlink(_) => match source::resolve(self.tree, &path) {
                        Ok((resolved, Some(kind))) => Some((resolved, kind)),
                        Ok((_, None)) => None,
                        Err(err) => {
                            if is_yaml(&entry.name) || recurse {
                                self.diags.error(At::new(&path, 0, 0, ""), err.to_string());
                            }
                            None
                        }
                    },
                    kind => Some((path.clone(), kind.clone())),
                };
                match kind {
                    Some((resolved, EntryKind::File)) if is_yaml(&entry.name) => out.push(resolved),
                    Some((resolved, EntryKind::Dir)) if recurse => subdirs.push(resolved),
                    _ => {}
                }
            }
            subdirs.reverse();
            stack.extend(subdirs);
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::tree::{DirEntry, SourceError};

    /// Files in memory, for rendering without a disk.
    struct Mem(Vec<(&'static str, String)>);

    impl SourceTree for Mem {
        fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
            if path.is_empty()
                || self
                    .0
                    .iter()
                    .any(|(p, _)| p.starts_with(&format!("{path}/")))
            {
                return Ok(Some(EntryKind::Dir));
            }
            Ok(self
                .0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|_| EntryKind::File))
        }
        fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}/")
            };
            let mut out: Vec<DirEntry> = self
                .0
                .iter()
                .filter_map(|(p, _)| p.strip_prefix(&prefix))
                .filter(|rest| !rest.contains('/'))
                .map(|name| DirEntry {
                    name: name.to_string(),
                    kind: EntryKind::File,
                })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        }
        fn read(&self, path: &str, _limit: u64) -> Result<Vec<u8>, SourceError> {
            self.0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.clone().into_bytes())
                .ok_or_else(|| SourceError::NotFound(path.into()))
        }
        fn describe(&self) -> String {
            "memory".into()
        }
    }

    const TOP: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n  variables: { env: dev, workers: 2 }\n";
    const CHILD: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n  variables: { workers: 8 }\n";

    fn job(name: &str, cluster_ref: &str) -> String {
        format!(
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Job\nmetadata: {{ name: {name} }}\nspec:\n  name: {name}-${{var.env}}\n  tasks:\n    - task_key: t\n      existing_cluster_id: \"{cluster_ref}\"\n      notebook_task: {{ notebook_path: /x }}\n"
        )
    }

    fn cluster(name: &str, extra: &str) -> String {
        format!(
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Cluster\nmetadata: {{ name: {name} }}\nspec:\n  spark_version: 15.4.x-scala2.12\n  num_workers: ${{var.workers}}\n{extra}"
        )
    }

    fn render_mem(team: String) -> Result<Rendered, Diagnostics> {
        let tree = Mem(vec![
            ("top.yaml", TOP.to_string()),
            ("apps/team.yaml", CHILD.to_string()),
            ("team/resources.yaml", team),
        ]);
        render(&tree, &RenderOptions::default())
    }

    #[test]
    fn children_inherit_and_override_variables_and_references_become_edges() {
        let rendered =
            render_mem(job("etl", "${resources.clusters.shared.id}") + &cluster("shared", ""))
                .unwrap();
        let team = rendered.app("team").unwrap();
        assert_eq!(team.parent.as_deref(), Some("root"));
        assert_eq!(team.depth, 1);
        let etl = &team.resources[0];
        assert_eq!(etl.spec["name"], "etl-dev");
        assert_eq!(etl.depends_on.len(), 1);
        assert_eq!(etl.depends_on[0].to_string(), "dev/Cluster/shared");
        assert_eq!(team.resources[1].spec["num_workers"], 8);
    }

    #[test]
    fn an_app_at_another_revision_or_repository_is_refused_not_ignored() {
        let pinned = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team, targetRevision: v1, repoURL: https://git.example.com/other.git }\n  destination: { workspace: dev }\n";
        let tree = Mem(vec![
            ("top.yaml", TOP.to_string()),
            ("apps/team.yaml", pinned.to_string()),
            ("team/resources.yaml", cluster("shared", "")),
        ]);
        let err = render(&tree, &RenderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("apps/team.yaml:5:")
                && err.contains("spec.source.targetRevision: not supported yet"),
            "{err}"
        );
        assert!(
            err.contains("spec.source.repoURL: not supported yet"),
            "{err}"
        );
    }

    #[test]
    fn reference_cycles_are_reported() {
        let err = render_mem(
            job("a", "${resources.clusters.c.id}")
                + &cluster("c", "  custom_tags: { job: \"${resources.jobs.a.id}\" }\n"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("reference cycle: "), "{err}");
    }

    /// A root declaring two team apps: `a` (project `team-a`: Jobs in dev,
    /// source `a`) and `b` (project default), with the given extra files.
    fn two_teams(extra: Vec<(&'static str, String)>) -> Mem {
        let top = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: prod }\nspec: { host: https://prod.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Project\nmetadata: { name: team-a }\nspec:\n  destinations: [{ workspace: dev }]\n  sourcePaths: [a]\n  kinds: [Job]\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n  variables: { env: dev, workers: 2 }\n";
        let app = |name: &str, project: &str, ws: &str| {
            format!(
                "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: {name} }}\nspec:\n  project: {project}\n  source: {{ path: {name} }}\n  destination: {{ workspace: {ws} }}\n"
            )
        };
        let mut files = vec![
            ("top.yaml", top.to_string()),
            ("apps/a.yaml", app("a", "team-a", "dev")),
            ("apps/b.yaml", app("b", "default", "dev")),
            ("a/jobs.yaml", job("a-etl", "1")),
            ("b/jobs.yaml", job("b-etl", "2")),
        ];
        for (path, text) in extra {
            match files.iter_mut().find(|(p, _)| *p == path) {
                Some(slot) => slot.1 = text,
                None => files.push((path, text)),
            }
        }
        Mem(files)
    }

    fn isolated(tree: &Mem) -> Result<Rendered, Diagnostics> {
        render(
            tree,
            &RenderOptions {
                isolate_apps: true,
                ..Default::default()
            },
        )
    }

    fn names(rendered: &Rendered) -> (Vec<&str>, Vec<&str>) {
        (
            rendered.apps.iter().map(|a| a.name.as_str()).collect(),
            rendered.blocked.iter().map(|a| a.name.as_str()).collect(),
        )
    }

    #[test]
    fn a_project_violation_blocks_only_its_app() {
        let tree = two_teams(vec![(
            "a/grants.yaml",
            "apiVersion: mortar.dev/v1alpha1\nkind: Catalog\nmetadata: { name: sneaky }\nspec: { name: sneaky }\n".into(),
        )]);
        // validate: the whole render fails.
        let err = render(&tree, &RenderOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("does not allow kind Catalog"),
            "{err}"
        );

        let rendered = isolated(&tree).unwrap();
        assert_eq!(names(&rendered), (vec!["root", "b"], vec!["a"]));
        assert_eq!(rendered.resources().count(), 1, "only b's job");
        let a = &rendered.blocked[0];
        assert_eq!(a.parent.as_deref(), Some("root"));
        assert_eq!(a.project, "team-a");
        assert_eq!(a.workspace.as_deref(), Some("dev"));
        assert_eq!(a.diagnostics.len(), 1, "{:?}", a.diagnostics);
        let d = &a.diagnostics[0];
        assert_eq!(d.rule, Some("kinds"));
        assert_eq!(
            (d.file.as_str(), d.line, d.field.as_str()),
            ("a/grants.yaml", 2, "kind")
        );
        assert!(
            d.message
                .contains("project `team-a` does not allow kind Catalog"),
            "{d}"
        );
    }

    #[test]
    fn destination_and_source_path_violations_block_the_app() {
        let tree = two_teams(vec![(
            "apps/a.yaml",
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: a }\nspec:\n  project: team-a\n  source: { path: b }\n  destination: { workspace: prod }\n".into(),
        )]);
        let rendered = isolated(&tree).unwrap();
        assert_eq!(names(&rendered), (vec!["root", "b"], vec!["a"]));
        let mut rules: Vec<_> = rendered.blocked[0]
            .diagnostics
            .iter()
            .map(|d| (d.rule, d.line))
            .collect();
        rules.dedup();
        assert_eq!(rules, [(Some("sourcePaths"), 6), (Some("destinations"), 7)]);
    }

    #[test]
    fn errors_inside_an_app_block_that_app() {
        // Invalid YAML in a file two apps read: both are blocked.
        let tree = Mem(vec![
            ("top.yaml", TOP.to_string()),
            (
                "apps/team.yaml",
                CHILD.to_string()
                    + "---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: twin }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n",
            ),
            ("team/resources.yaml", "kind: [unclosed\n".to_string()),
        ]);
        let rendered = isolated(&tree).unwrap();
        assert_eq!(names(&rendered), (vec!["root"], vec!["team", "twin"]));
        for b in &rendered.blocked {
            assert_eq!(b.diagnostics[0].file, "team/resources.yaml");
            assert_eq!(b.diagnostics[0].rule, None);
        }
        // validate still reports the error once.
        let err = render(&tree, &RenderOptions::default()).unwrap_err();
        assert_eq!(err.errors.len(), 1, "{err}");

        // A resource key declared twice by one app; a reference to nothing.
        let dup = job("x", "1") + &job("x", "2");
        let tree = two_teams(vec![
            ("a/jobs.yaml", dup),
            ("b/jobs.yaml", job("y", "${resources.clusters.none.id}")),
        ]);
        let rendered = isolated(&tree).unwrap();
        assert_eq!(names(&rendered), (vec!["root"], vec!["a", "b"]));
        assert!(
            rendered.blocked[0].diagnostics[0]
                .message
                .contains("already declared by this app")
        );
        assert!(
            rendered.blocked[1].diagnostics[0]
                .message
                .contains("no Cluster named `none`")
        );

        // A missing source path.
        let tree = two_teams(vec![(
            "apps/b.yaml",
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: b }\nspec:\n  source: { path: nowhere }\n  destination: { workspace: dev }\n".into(),
        )]);
        let rendered = isolated(&tree).unwrap();
        assert_eq!(names(&rendered), (vec!["root", "a"], vec!["b"]));
    }

    #[test]
    fn a_broken_child_application_blocks_the_app_declaring_it() {
        let tree = two_teams(vec![(
            "apps/b.yaml",
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: b }\nspec:\n  source: { path: b }\n  destination: { workspace: dev }\n  adopt: maybe\n".into(),
        )]);
        let rendered = isolated(&tree).unwrap();
        // `b` is not rendered half-read: `root`, which declares it, is blocked.
        assert_eq!(names(&rendered), (vec!["a"], vec!["root"]));
        assert_eq!(rendered.blocked[0].diagnostics[0].file, "apps/b.yaml");
    }

    #[test]
    fn errors_no_single_app_owns_stay_fatal() {
        let app = |name: &str, project: &str, path: &str| {
            format!(
                "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: {name} }}\nspec:\n  project: {project}\n  source: {{ path: {path} }}\n  destination: {{ workspace: dev }}\n"
            )
        };
        let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
            (
                "unknown project",
                vec![("apps/b.yaml", app("b", "nobody", "b"))],
            ),
            (
                "already declared by app",
                vec![("b/jobs.yaml", job("a-etl", "2"))],
            ),
            (
                "cycle: source path",
                vec![("b/apps.yaml", app("c", "default", "apps"))],
            ),
            (
                "is already declared at",
                vec![("b/apps.yaml", app("a", "default", "a"))],
            ),
            ("invalid YAML", vec![("top.yaml", "kind: [\n".into())]),
        ];
        for (needle, extra) in cases {
            let err = isolated(&two_teams(extra)).unwrap_err();
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn missing_root_is_explained() {
        let tree = Mem(vec![("readme.yaml", "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://x }\n".into())]);
        let err = render(&tree, &RenderOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("no root Application found"),
            "{err}"
        );
    }
}
