//! The manifest loader under its YAML budget: the input is one file of a
//! one-app tree (bytes → documents → build → render), with a fixed root
//! file naming the app, as a repository someone else controls would hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mortar::manifest::render::{RenderOptions, render};
use mortar::manifest::yaml::{Limits, parse_documents};
use mortar::source::tree::{DirEntry, EntryKind, SourceError, SourceTree};

const ROOT: &str = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n";

/// `root.yaml` and `team/fuzz.yaml`, in memory.
struct Tree<'a> {
    input: &'a [u8],
}

impl SourceTree for Tree<'_> {
    fn entry(&self, path: &str) -> Result<Option<EntryKind>, SourceError> {
        Ok(match path {
            "" | "team" => Some(EntryKind::Dir),
            "root.yaml" | "team/fuzz.yaml" => Some(EntryKind::File),
            _ => None,
        })
    }
    fn list(&self, path: &str) -> Result<Vec<DirEntry>, SourceError> {
        let entry = |name: &str, kind| DirEntry {
            name: name.to_string(),
            kind,
        };
        Ok(match path {
            "" => vec![
                entry("root.yaml", EntryKind::File),
                entry("team", EntryKind::Dir),
            ],
            "team" => vec![entry("fuzz.yaml", EntryKind::File)],
            _ => Vec::new(),
        })
    }
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let bytes = match path {
            "root.yaml" => ROOT.as_bytes(),
            _ => self.input,
        };
        if bytes.len() as u64 > limit {
            return Err(SourceError::TooLarge {
                path: path.to_string(),
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes.to_vec())
    }
    fn describe(&self) -> String {
        "fuzz".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_documents(text, &limits);
    }
    for isolate_apps in [false, true] {
        let options = RenderOptions {
            root_file: Some("root.yaml".into()),
            limits,
            isolate_apps,
        };
        let _ = render(&Tree { input: data }, &options);
    }
});
