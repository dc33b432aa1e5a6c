//! An import as files of a manifest repository: the child `Application`
//! (`apps/<app>.yaml`, adopting what exists), one manifest per resource
//! (`<app>/<kind>-<key>.yaml`), and the notebooks and files the resources
//! run, copied under `<app>/files/` with a `Notebook` or `WorkspaceFile`
//! manifest each (`<app>/notebook-<file>.yaml`). An import of a live
//! workspace is laid out alike, each manifest naming the object it adopts
//! (`mortar.dev/adopt-id`). Pure: the same import gives the same files,
//! byte for byte; writing them is the caller's.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::bundle::Imported;
use super::workspace::WorkspaceImport;
use crate::model::ADOPT_ID_ANNOTATION;

/// Where an import goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The app's name.
    pub app: String,
    /// The Mortar workspace (a `Workspace` document's name) it lands in.
    pub workspace: String,
    pub project: String,
}

/// One file to write, relative to the manifest root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFile {
    Text {
        path: String,
        text: String,
    },
    /// A bundle file copied as it is (`from` is relative to the bundle).
    Copy {
        path: String,
        from: String,
    },
    /// A workspace object's content, as exported.
    Bytes {
        path: String,
        bytes: Vec<u8>,
    },
}

impl OutputFile {
    pub fn path(&self) -> &str {
        match self {
            OutputFile::Text { path, .. }
            | OutputFile::Copy { path, .. }
            | OutputFile::Bytes { path, .. } => path,
        }
    }
}

/// Why the files of an import could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {message}")]
pub struct WriteError {
    pub path: String,
    pub message: String,
}

fn yaml(path: &str, header: &str, doc: &Value) -> Result<OutputFile, WriteError> {
    let body = serde_saphyr::to_string(doc).map_err(|e| WriteError {
        path: path.to_string(),
        message: format!("as YAML: {e}"),
    })?;
    Ok(OutputFile::Text {
        path: path.to_string(),
        text: format!("{header}{body}"),
    })
}

fn document(kind: &str, name: &str) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), json!("mortar.dev/v1alpha1"));
    doc.insert("kind".into(), json!(kind));
    doc.insert("metadata".into(), json!({"name": name}));
    doc
}

/// Where a notebook's or file's content goes in the repository (and what
/// its manifest's `source:` says).
fn files_path(app: &str, relative: &str) -> String {
    format!("{app}/files/{relative}")
}

/// The child `Application` (`apps/<app>.yaml`), adopting what exists.
fn application(
    layout: &Layout,
    variables: &BTreeMap<String, String>,
    header: &str,
) -> Result<OutputFile, WriteError> {
    let app = &layout.app;
    let mut application = document("Application", app);
    let mut spec = Map::new();
    spec.insert("project".into(), json!(layout.project));
    spec.insert("source".into(), json!({"path": app}));
    spec.insert("destination".into(), json!({"workspace": layout.workspace}));
    // What exists is taken over, not created again.
    spec.insert("adopt".into(), json!(true));
    if !variables.is_empty() {
        spec.insert("variables".into(), json!(variables));
    }
    application.insert("spec".into(), Value::Object(spec));
    yaml(
        &format!("apps/{app}.yaml"),
        header,
        &Value::Object(application),
    )
}

/// The files of a live workspace's import laid out by `layout`.
pub fn workspace_files(
    imported: &WorkspaceImport,
    layout: &Layout,
) -> Result<Vec<OutputFile>, WriteError> {
    let app = &layout.app;
    let origin = format!("# Imported from workspace `{}`", imported.workspace);
    let mut out = vec![application(
        layout,
        &Default::default(),
        &format!(
            "{origin}. It adopts the objects its manifests name by id; once it\n# syncs, Mortar manages them.\n"
        ),
    )?];
    for r in &imported.resources {
        let mut doc = document(r.kind.as_str(), &r.key);
        if let Some(id) = &r.adopt_id
            && let Some(Value::Object(meta)) = doc.get_mut("metadata")
        {
            meta.insert("annotations".into(), json!({ ADOPT_ID_ANNOTATION: id }));
        }
        if let Some(f) = &r.file {
            doc.insert("source".into(), json!(files_path(app, &f.relative)));
        }
        doc.insert("spec".into(), r.spec.clone());
        doc.extend(r.extra.clone());
        let path = format!(
            "{app}/{}-{}.yaml",
            r.kind.as_str().to_ascii_lowercase(),
            r.key
        );
        let mut file = yaml(&path, &format!("{origin}.\n"), &Value::Object(doc))?;
        if !r.secret_keys.is_empty()
            && let OutputFile::Text { text, .. } = &mut file
        {
            text.push_str(&secrets_to_fill(&r.secret_keys));
        }
        out.push(file);
        if let Some(f) = &r.file {
            out.push(OutputFile::Bytes {
                path: files_path(app, &f.relative),
                bytes: f.bytes.clone(),
            });
        }
    }
    sorted_and_distinct(out)
}

/// The files in path order, refusing two for one path (a notebook `/a`
/// exported as `a.py` beside a file `/a.py`): nothing is written then.
fn sorted_and_distinct(mut files: Vec<OutputFile>) -> Result<Vec<OutputFile>, WriteError> {
    files.sort_by(|a, b| a.path().cmp(b.path()));
    if let Some(pair) = files.windows(2).find(|w| w[0].path() == w[1].path()) {
        return Err(WriteError {
            path: pair[0].path().to_string(),
            message: "two imported objects would be written to this one file; import them in separate runs (--path, --filter)".into(),
        });
    }
    Ok(files)
}

/// A secret scope's keys, listed for the user to say where the controller
/// reads each value (values are never read from a workspace).
fn secrets_to_fill(keys: &[String]) -> String {
    let mut text = String::from(
        "# The scope holds these secrets; their values were not read. Uncomment\n\
         # and give each a source (fromEnv or fromFile) for Mortar to put it\n\
         # again should it go missing:\n# secrets:\n",
    );
    for key in keys {
        text.push_str(&format!("#   - key: {key}\n#     fromEnv: \n"));
    }
    text
}

/// The files of `imported` laid out by `layout`.
pub fn files(imported: &Imported, layout: &Layout) -> Result<Vec<OutputFile>, WriteError> {
    let app = &layout.app;
    let origin = format!(
        "# Imported from bundle `{}`, target `{}`",
        imported.bundle, imported.target
    );
    let mut out = Vec::new();

    out.push(application(
        layout,
        &imported.variables,
        &format!(
            "{origin}. It adopts the objects the bundle deployed; once it syncs,\n# Mortar manages them.\n"
        ),
    )?);

    for r in &imported.resources {
        let mut doc = document(r.kind.as_str(), &r.key);
        doc.insert("spec".into(), r.spec.clone());
        if !r.permissions.is_empty() {
            doc.insert("permissions".into(), Value::Array(r.permissions.clone()));
        }
        let path = format!(
            "{app}/{}-{}.yaml",
            r.kind.as_str().to_ascii_lowercase(),
            r.key
        );
        out.push(yaml(
            &path,
            &format!("{origin}: {}:{}.\n", r.place.file, r.place.line),
            &Value::Object(doc),
        )?);
    }

    for f in &imported.files {
        let copy = files_path(app, &f.relative);
        out.push(OutputFile::Copy {
            path: copy.clone(),
            from: f.relative.clone(),
        });
        let name = f
            .relative
            .trim_end_matches(['/'])
            .replace(['/', '.'], "-")
            .to_ascii_lowercase();
        let kind = if f.notebook {
            "Notebook"
        } else {
            "WorkspaceFile"
        };
        let mut doc = document(kind, &name);
        doc.insert("source".into(), json!(copy));
        doc.insert(
            "spec".into(),
            json!({"path": f.workspace_path, "overwrite": true}),
        );
        out.push(yaml(
            &format!("{app}/{}-{name}.yaml", kind.to_ascii_lowercase()),
            &format!("{origin}: {} as the bundle syncs it.\n", f.relative),
            &Value::Object(doc),
        )?);
    }
    sorted_and_distinct(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::workspace::{ExportedFile, ImportedResource};
    use crate::model::Kind;

    fn exported(kind: Kind, key: &str, relative: &str) -> ImportedResource {
        ImportedResource {
            kind,
            key: key.into(),
            spec: json!({"path": format!("/{key}")}),
            extra: Map::new(),
            adopt_id: Some(format!("/{key}")),
            secret_keys: Vec::new(),
            file: Some(ExportedFile {
                relative: relative.into(),
                bytes: b"x\n".to_vec(),
            }),
        }
    }

    #[test]
    fn two_objects_for_one_file_are_refused_not_overwritten() {
        let layout = Layout {
            app: "team".into(),
            workspace: "dev".into(),
            project: "default".into(),
        };
        let mut imported = WorkspaceImport {
            workspace: "dev".into(),
            resources: vec![exported(Kind::Notebook, "a", "a.py")],
            ..WorkspaceImport::default()
        };
        let files = workspace_files(&imported, &layout).unwrap();
        let paths: Vec<&str> = files.iter().map(OutputFile::path).collect();
        assert_eq!(
            paths,
            vec!["apps/team.yaml", "team/files/a.py", "team/notebook-a.yaml"]
        );
        imported
            .resources
            .push(exported(Kind::WorkspaceFile, "a-py", "a.py"));
        let err = workspace_files(&imported, &layout).unwrap_err();
        assert_eq!(err.path, "team/files/a.py");
        assert!(err.to_string().contains("two imported objects"), "{err}");
    }
}
