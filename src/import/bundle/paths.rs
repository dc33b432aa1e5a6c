//! A bundle's local paths as `bundle deploy` rewrites them: a path in a
//! task is relative to the YAML file that defines the job; it becomes
//! `<file_path>/<path from the bundle root>`, a notebook without its
//! extension. Absolute workspace and volume paths and URLs are left alone.
//! Each rewritten path is recorded, for the file to come along.

use serde_json::Value;

/// One local file a resource uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalFile {
    /// From the bundle root, with `/`.
    pub relative: String,
    /// Where it lands in the workspace.
    pub workspace_path: String,
    pub notebook: bool,
}

/// Why a path could not be taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProblem {
    pub path: String,
    pub message: String,
}

/// What the translation needs to know of the bundle's files.
pub trait Files {
    /// Whether the file at `relative` (from the bundle root) exists, and
    /// whether it is a notebook (its header or Jupyter format).
    fn kind(&self, relative: &str) -> Option<bool>;
}

/// Whether `path` is left as written (absolute, a URL, a variable).
fn kept(path: &str) -> bool {
    path.starts_with('/') || path.contains("://") || path.contains(":/") || path.starts_with("${")
}

/// `dir/../x` from the bundle root → `x`; `None` outside the root.
fn join(dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn strip_notebook_extension(path: &str) -> &str {
    for ext in [".py", ".sql", ".scala", ".r", ".R", ".ipynb"] {
        if let Some(stem) = path.strip_suffix(ext) {
            return stem;
        }
    }
    path
}

/// The task fields that hold local paths, and whether each is a notebook.
const TASK_PATHS: [(&[&str], bool); 3] = [
    (&["notebook_task", "notebook_path"], true),
    (&["spark_python_task", "python_file"], false),
    (&["sql_task", "file", "path"], false),
];

/// Each task of `job`, or the task inside its `for_each_task`.
fn tasks_mut(job: &mut Value) -> Vec<&mut Value> {
    let Some(Value::Array(tasks)) = job.get_mut("tasks") else {
        return Vec::new();
    };
    tasks
        .iter_mut()
        .map(|task| {
            let nested = task
                .get("for_each_task")
                .and_then(|f| f.get("task"))
                .is_some();
            if nested {
                &mut task["for_each_task"]["task"]
            } else {
                task
            }
        })
        .collect()
}

/// Makes the local paths in a job's tasks relative to the bundle root
/// instead of `dir`, the directory of the file that writes them (as the
/// CLI does before a target's overrides are merged in). A path leaving
/// the root is left as written, to be reported.
pub fn from_root(job: &mut Value, dir: &str) {
    for task in tasks_mut(job) {
        for (pointer, _) in TASK_PATHS {
            let Some(Value::String(path)) =
                pointer.iter().try_fold(&mut *task, |v, k| v.get_mut(*k))
            else {
                continue;
            };
            if !kept(path)
                && let Some(rooted) = join(dir, path)
            {
                *path = rooted;
            }
        }
    }
}

/// Rewrites the local paths (relative to the bundle root) of one job's
/// tasks and their `for_each_task` tasks to where they land.
pub fn job(
    job: &mut Value,
    file_path: &str,
    files: &dyn Files,
    used: &mut Vec<LocalFile>,
    problems: &mut Vec<PathProblem>,
) {
    for task in tasks_mut(job) {
        rewrite_task(task, file_path, files, used, problems);
    }
}

fn rewrite_task(
    task: &mut Value,
    file_path: &str,
    files: &dyn Files,
    used: &mut Vec<LocalFile>,
    problems: &mut Vec<PathProblem>,
) {
    for (pointer, notebook) in TASK_PATHS {
        let Some(Value::String(path)) = pointer.iter().try_fold(&mut *task, |v, k| v.get_mut(*k))
        else {
            continue;
        };
        if kept(path) {
            continue;
        }
        let Some(relative) = join("", path) else {
            problems.push(PathProblem {
                path: path.clone(),
                message: "is outside the bundle".into(),
            });
            continue;
        };
        match files.kind(&relative) {
            None => problems.push(PathProblem {
                path: path.clone(),
                message: format!("`{relative}` does not exist in the bundle"),
            }),
            Some(is_notebook) if is_notebook != notebook => problems.push(PathProblem {
                path: path.clone(),
                message: if notebook {
                    format!("`{relative}` is not a notebook")
                } else {
                    format!("`{relative}` is a notebook, where a file is expected")
                },
            }),
            Some(_) => {
                let target = if notebook {
                    strip_notebook_extension(&relative)
                } else {
                    relative.as_str()
                };
                let workspace_path = format!("{file_path}/{target}");
                used.push(LocalFile {
                    relative: relative.clone(),
                    workspace_path: workspace_path.clone(),
                    notebook,
                });
                *path = workspace_path;
            }
        }
    }
}

/// Whether file content is a Databricks notebook: a source file with the
/// notebook header, or Jupyter JSON.
pub fn is_notebook(relative: &str, content: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&content[..content.len().min(4096)]);
    let first = text.lines().next().unwrap_or_default().trim();
    match relative.rsplit('.').next() {
        Some("py") | Some("r") | Some("R") => first == "# Databricks notebook source",
        Some("scala") => first == "// Databricks notebook source",
        Some("sql") => first == "-- Databricks notebook source",
        Some("ipynb") => serde_json::from_slice::<Value>(content)
            .is_ok_and(|v| v.get("cells").is_some() && v.get("nbformat").is_some()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Two;
    impl Files for Two {
        fn kind(&self, relative: &str) -> Option<bool> {
            match relative {
                "src/ingest.py" => Some(true),
                "src/transform.py" => Some(false),
                _ => None,
            }
        }
    }

    #[test]
    fn paths_are_taken_from_the_defining_file_to_the_workspace() {
        let mut body = json!({"tasks": [
            {"task_key": "a", "notebook_task": {"notebook_path": "../src/ingest.py"}},
            {"task_key": "b", "spark_python_task": {"python_file": "../src/transform.py"}},
            {"task_key": "c", "for_each_task": {"task": {"notebook_task": {"notebook_path": "../src/ingest.py"}}}},
            {"task_key": "d", "notebook_task": {"notebook_path": "/Workspace/Shared/x"}},
            {"task_key": "e", "notebook_task": {"notebook_path": "../src/missing.py"}},
            {"task_key": "f", "notebook_task": {"notebook_path": "../src/transform.py"}},
        ]});
        let (mut used, mut problems) = (Vec::new(), Vec::new());
        from_root(&mut body, "resources");
        job(&mut body, "/W/files", &Two, &mut used, &mut problems);
        let tasks = body["tasks"].as_array().unwrap();
        assert_eq!(
            tasks[0]["notebook_task"]["notebook_path"],
            "/W/files/src/ingest"
        );
        assert_eq!(
            tasks[1]["spark_python_task"]["python_file"],
            "/W/files/src/transform.py"
        );
        assert_eq!(
            tasks[2]["for_each_task"]["task"]["notebook_task"]["notebook_path"],
            "/W/files/src/ingest"
        );
        assert_eq!(
            tasks[3]["notebook_task"]["notebook_path"],
            "/Workspace/Shared/x"
        );
        assert_eq!(used.len(), 3);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].message.contains("is not a notebook"));
    }

    #[test]
    fn notebooks_are_told_by_their_header() {
        assert!(is_notebook(
            "a.py",
            b"# Databricks notebook source\nprint(1)\n"
        ));
        assert!(!is_notebook("a.py", b"print(1)\n"));
        assert!(is_notebook(
            "a.sql",
            b"-- Databricks notebook source\nSELECT 1"
        ));
        assert!(is_notebook(
            "a.ipynb",
            br#"{"cells": [], "nbformat": 4, "metadata": {}}"#
        ));
    }
}
