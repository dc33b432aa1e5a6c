//! `dependsOn` between apps: every name must be an app of the tree, and the
//! edges must not form a cycle. An app in error here is blocked (with
//! `isolate_apps`) like any other app with errors of its own.

use std::collections::{BTreeMap, BTreeSet};

use super::diag::At;
use super::render::{RenderedApp, Renderer};

impl Renderer<'_> {
    pub(super) fn check_app_dependencies(&mut self, apps: &[RenderedApp]) {
        let known: BTreeSet<&str> = self.slots.iter().map(|s| s.name.as_str()).collect();
        let mut problems: Vec<(&RenderedApp, String)> = Vec::new();
        for app in apps {
            for dep in &app.depends_on {
                if !known.contains(dep.as_str()) {
                    problems.push((
                        app,
                        format!("`{dep}` is not an app of this tree; `dependsOn` names apps by `metadata.name`"),
                    ));
                }
            }
        }
        let edges: BTreeMap<&str, Vec<&str>> = apps
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.depends_on.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        for cycle in cycles(&edges) {
            let shown = cycle
                .iter()
                .chain(cycle.first())
                .copied()
                .collect::<Vec<_>>()
                .join(" → ");
            for name in &cycle {
                if let Some(app) = apps.iter().find(|a| a.name == *name) {
                    problems.push((app, format!("dependency cycle: {shown}")));
                }
            }
        }
        for (app, message) in problems {
            let from = self.diags.errors.len();
            self.diags.error(
                At::new(
                    &app.origin.file,
                    app.origin.line,
                    app.origin.column,
                    "spec.dependsOn",
                ),
                message,
            );
            if let Some(slot) = self.slot_of(&app.name) {
                self.claim(from, slot);
            }
        }
    }
}

/// Each cycle of `edges` once, as the names along it (starting from its
/// smallest name, so the report is stable).
pub fn cycles<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
        found: &mut BTreeSet<Vec<&'a str>>,
    ) {
        marks.insert(node, Mark::Open);
        stack.push(node);
        for &next in edges.get(node).into_iter().flatten() {
            match marks.get(next) {
                Some(Mark::Open) => {
                    if let Some(start) = stack.iter().position(|n| *n == next) {
                        let mut cycle = stack[start..].to_vec();
                        if let Some(min) = (0..cycle.len()).min_by_key(|&i| cycle[i]) {
                            cycle.rotate_left(min);
                        }
                        found.insert(cycle);
                    }
                }
                Some(Mark::Done) => {}
                None => {
                    if edges.contains_key(next) {
                        visit(next, edges, marks, stack, found);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(node, Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = BTreeSet::new();
    for &node in edges.keys() {
        if !marks.contains_key(node) {
            visit(node, edges, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RenderOptions;
    use crate::manifest::render::render;
    use crate::source::DirTree;

    #[test]
    fn cycles_are_found_once_each() {
        let edges = BTreeMap::from([
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec!["a"]),
            ("e", vec!["e2"]),
            ("e2", vec!["e"]),
        ]);
        assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"], vec!["e", "e2"]]);
        assert!(cycles(&BTreeMap::from([("a", vec!["b"]), ("b", vec![])])).is_empty());
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        dir
    }

    const ROOT: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n";

    fn app(name: &str, deps: &str) -> String {
        format!(
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: {name} }}\nspec:\n  source: {{ path: {name} }}\n  destination: {{ workspace: dev }}\n  dependsOn: {deps}\n---\n"
        )
    }

    #[test]
    fn depends_on_is_read_and_checked() {
        let apps = [
            app("base", "[]"),
            app("team", "[base]"),
            app("x", "[y]"),
            app("y", "[x]"),
            app("lost", "[nowhere]"),
        ]
        .concat();
        let mut files = vec![("root.yaml", ROOT), ("apps/apps.yaml", apps.as_str())];
        let group = "apiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: { name: g }\nspec: { displayName: g }\n";
        let paths = [
            "base/g.yaml",
            "team/g.yaml",
            "x/g.yaml",
            "y/g.yaml",
            "lost/g.yaml",
        ];
        let groups: Vec<String> = (0..paths.len())
            .map(|i| {
                group
                    .replace("name: g", &format!("name: g{i}"))
                    .replace("displayName: g", &format!("displayName: g{i}"))
            })
            .collect();
        for (path, text) in paths.iter().zip(&groups) {
            files.push((path, text));
        }
        let dir = tree(&files);
        let options = RenderOptions {
            isolate_apps: true,
            ..Default::default()
        };
        let rendered = render(&DirTree::new(dir.path()), &options).unwrap();
        assert_eq!(rendered.app("team").unwrap().depends_on, vec!["base"]);
        let blocked: BTreeMap<&str, String> = rendered
            .blocked
            .iter()
            .map(|b| (b.name.as_str(), b.diagnostics[0].to_string()))
            .collect();
        assert_eq!(
            blocked.keys().copied().collect::<Vec<_>>(),
            vec!["lost", "x", "y"]
        );
        assert!(
            blocked["x"].contains("dependency cycle: x → y → x")
                && blocked["x"].contains("spec.dependsOn"),
            "{}",
            blocked["x"]
        );
        assert!(
            blocked["lost"].contains("`nowhere` is not an app of this tree"),
            "{}",
            blocked["lost"]
        );
        // Without isolation the whole render fails on them.
        let err = render(&DirTree::new(dir.path()), &RenderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("dependency cycle"), "{err}");
    }
}
