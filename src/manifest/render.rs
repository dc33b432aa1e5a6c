//! Rendering: from the root Application(s) down through every child app,
//! reading each app's source, expanding ApplicationSets, and building the
//! desired resources — then the checks that need the whole tree (unique
//! keys, references, reference cycles — see `graph`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::Kind;
use super::app::{self, AppSource, AppSpec, IgnoreDifference, Project, SyncPolicy, WorkspaceDef};
use super::build::{self, AppScope, SecretRef};
use super::diag::{At, Diagnostic, Diagnostics, suggest};
use super::document::{self, Document};
use super::resource::{DesiredResource, Origin};
use super::source::{self, DirTree, EntryKind, SourceTree};
use super::vars::{self, Values};
use super::yaml::Limits;

/// Deepest app nesting: the root is depth 0.
pub const MAX_DEPTH: usize = 10;

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The file holding the root Application(s), relative to the manifest
    /// root. `None`: the Applications in the top-level files of the root.
    pub root_file: Option<String>,
    pub limits: Limits,
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
    pub resources: Vec<DesiredResource>,
    pub secrets: Vec<SecretRef>,
}

/// A valid repository, rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    /// Apps in tree order: each parent before its children.
    pub apps: Vec<RenderedApp>,
    pub projects: Vec<Project>,
    pub workspaces: Vec<WorkspaceDef>,
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
    };
    let result = r.run(options);
    let mut diags = r.diags;
    diags.finish();
    if diags.has_errors() {
        return Err(diags);
    }
    let mut rendered = result;
    rendered.warnings = diags.warnings;
    tracing::debug!(
        apps = rendered.apps.len(),
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
    pub(super) cache: HashMap<String, Vec<Document>>,
}

/// A reference and the index, in its app, of the resource that makes it.
pub(super) type IndexedRef = (usize, vars::Reference);

/// An app waiting to be read.
struct Pending {
    spec: AppSpec,
    parent: Option<String>,
    depth: usize,
    inherited: Values,
    /// Names and source paths of the ancestors, root first.
    ancestors: Vec<(String, String)>,
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

impl Renderer<'_> {
    fn docs(&mut self, path: &str) -> Vec<Document> {
        if let Some(docs) = self.cache.get(path) {
            return docs.clone();
        }
        let docs = document::read_file(&mut self.diags, self.tree, path, &self.limits);
        self.cache.insert(path.to_string(), docs.clone());
        docs
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
                projects: Vec::new(),
                workspaces: Vec::new(),
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
        let mut root_docs: Vec<Document> = Vec::new();
        for file in &global_files {
            let is_root_file = root_file.as_deref() == Some(file.as_str());
            for doc in self.docs(file) {
                match doc.kind {
                    Kind::Project => self.add_project(&doc, &mut projects),
                    Kind::Workspace => self.add_workspace(&doc, &mut workspaces),
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
        Rendered {
            apps,
            projects,
            workspaces,
            warnings: Vec::new(),
        }
    }

    fn add_project(&mut self, doc: &Document, projects: &mut Vec<Project>) {
        if let Some(first) = projects.iter().find(|p| p.name == doc.name) {
            let message = format!(
                "project `{}` is already declared at {}:{}",
                doc.name, first.origin.file, first.origin.line
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
            && let Some(p) = app::read_project(
                &mut self.diags,
                &doc.file,
                &doc.name,
                spec,
                doc.origin.clone(),
            )
        {
            projects.push(p);
        }
    }

    fn add_workspace(&mut self, doc: &Document, workspaces: &mut Vec<WorkspaceDef>) {
        if let Some(first) = workspaces.iter().find(|w| w.name == doc.name) {
            let message = format!(
                "workspace `{}` is already declared at {}:{}",
                doc.name, first.origin.file, first.origin.line
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
            && let Some(w) = app::read_workspace(
                &mut self.diags,
                &doc.file,
                &doc.name,
                spec,
                doc.origin.clone(),
            )
        {
            workspaces.push(w);
        }
    }

    fn read_app(
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
        let file = spec.origin.file.clone();
        let spot = |key: &str| {
            spec.spots
                .get(key)
                .copied()
                .unwrap_or((spec.origin.line, spec.origin.column))
        };
        let field = |key: &str| {
            if spec.generated_by.is_some() {
                format!("spec.template.spec.{key}")
            } else {
                format!("spec.{key}")
            }
        };

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
                At::new(&file, spec.origin.line, spec.origin.column, "metadata.name"),
                message,
            );
            return None;
        }
        app_origins.insert(spec.name.clone(), spec.origin.clone());

        if depth > MAX_DEPTH {
            self.diags.error(
                At::new(&file, spec.origin.line, spec.origin.column, ""),
                format!(
                    "app `{}` is nested {depth} levels deep; the limit is {MAX_DEPTH}",
                    spec.name
                ),
            );
            return None;
        }

        // The project.
        let project = match projects.iter().find(|p| p.name == spec.project) {
            Some(p) => p.clone(),
            None if spec.project == "default" => Project::permissive("default"),
            None => {
                let (line, column) = spot("project");
                let hint = suggest(&spec.project, projects.iter().map(|p| p.name.as_str()))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                self.diags.error(
                    At::new(&file, line, column, &field("project")),
                    format!("unknown project `{}`{hint}", spec.project),
                );
                // Keep reading the app so its other errors are reported too.
                Project::permissive(&spec.project)
            }
        };

        // The destination.
        if let Some(ws) = &spec.workspace {
            let (line, column) = spot("destination.workspace");
            let at_field = field("destination.workspace");
            if !workspaces.iter().any(|w| &w.name == ws) {
                let hint = suggest(ws, workspaces.iter().map(|w| w.name.as_str()))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                self.diags.error(At::new(&file, line, column, &at_field), format!("unknown workspace `{ws}`{hint}; declare it with a Workspace manifest at the top of the manifest root"));
            } else if !project.allows_destination(ws) {
                self.diags.error(
                    At::new(&file, line, column, &at_field),
                    format!(
                        "project `{}` does not allow destination workspace `{ws}` (allowed: {})",
                        project.name,
                        project.destinations.join(", ")
                    ),
                );
            }
        }

        // The source path.
        let (sp_line, sp_column) = spot("source.path");
        let sp_field = field("source.path");
        let shown = if spec.source.path.is_empty() {
            ".".to_string()
        } else {
            spec.source.path.clone()
        };
        if !project.allows_path(&spec.source.path) {
            self.diags.error(
                At::new(&file, sp_line, sp_column, &sp_field),
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
            self.diags.error(
                At::new(&file, sp_line, sp_column, &sp_field),
                format!(
                    "cycle: source path `{shown}` is already rendered by `{ancestor}` ({})",
                    chain.join(" → ")
                ),
            );
            return None;
        }
        let files = match source::resolve(self.tree, &spec.source.path) {
            Err(err) => {
                self.diags.error(
                    At::new(&file, sp_line, sp_column, &sp_field),
                    err.to_string(),
                );
                return None;
            }
            Ok((_, None)) => {
                self.diags.error(
                    At::new(&file, sp_line, sp_column, &sp_field),
                    format!("source path `{shown}` does not exist"),
                );
                return None;
            }
            Ok((resolved, Some(EntryKind::File))) => vec![resolved],
            Ok((resolved, Some(_))) => {
                if !project.allows_path(&resolved) {
                    self.diags.error(
                        At::new(&file, sp_line, sp_column, &sp_field),
                        format!(
                            "`{shown}` resolves to `{resolved}`, which project `{}` does not allow",
                            project.name
                        ),
                    );
                }
                self.yaml_files(
                    &resolved,
                    spec.source.recurse,
                    (&file, sp_line, sp_column, &sp_field),
                )
            }
        };

        let mut variables = inherited;
        variables.extend(spec.variables.clone());

        let mut resources = Vec::new();
        let mut secrets = Vec::new();
        let mut references = Vec::new();
        let mut children = Vec::new();
        let mut child_ancestors = ancestors.clone();
        child_ancestors.push((spec.name.clone(), spec.source.path.clone()));
        for path in files {
            for doc in self.docs(&path) {
                match doc.kind {
                    Kind::Application | Kind::ApplicationSet => {
                        if !project.allows_kind(doc.kind) {
                            self.diags.error(
                                At::new(&doc.file, doc.kind_at.0, doc.kind_at.1, "kind"),
                                format!("project `{}` does not allow kind {} (app `{}` cannot declare child apps)", project.name, doc.kind, spec.name),
                            );
                            continue;
                        }
                        for child in self.expand(&doc) {
                            children.push(Pending {
                                spec: child,
                                parent: Some(spec.name.clone()),
                                depth: depth + 1,
                                inherited: variables.clone(),
                                ancestors: child_ancestors.clone(),
                            });
                        }
                    }
                    Kind::Project | Kind::Workspace => {
                        self.diags.error(
                            At::new(&doc.file, doc.kind_at.0, doc.kind_at.1, "kind"),
                            format!("a {} is declared in the top-level files of the manifest root, not in an app's source", doc.kind),
                        );
                    }
                    _ => {
                        let scope = AppScope {
                            name: &spec.name,
                            workspace: spec.workspace.as_deref(),
                            project: &project,
                            variables: &variables,
                        };
                        if let Some(built) = build::build(&mut self.diags, self.tree, &scope, &doc)
                        {
                            references
                                .extend(built.references.into_iter().map(|r| (resources.len(), r)));
                            resources.push(built.resource);
                            secrets.extend(built.secrets);
                        }
                    }
                }
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
                resources,
                secrets,
            },
            children,
            references,
        ))
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
    use crate::manifest::source::{DirEntry, SourceError};

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
    fn reference_cycles_are_reported() {
        let err = render_mem(
            job("a", "${resources.clusters.c.id}")
                + &cluster("c", "  custom_tags: { job: \"${resources.jobs.a.id}\" }\n"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("reference cycle: "), "{err}");
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
