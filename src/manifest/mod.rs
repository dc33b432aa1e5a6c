//! The manifest model: the kinds a platform team writes, loading them from a
//! tree, rendering the app-of-apps tree, variables, references and validation.

pub mod diag;
pub mod kind;
pub mod resource;
pub mod schema;
pub mod source;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use kind::Kind;
pub use resource::{PermissionEntry, Principal, ResourceKey};
pub use source::{DirTree, SourceError, SourceTree};

pub mod app;
mod appset;
pub mod build;
pub mod document;
mod fields;
mod graph;
pub mod permissions;
pub mod render;
pub mod vars;

pub use app::{AppSource, Automated, IgnoreDifference, Project, Retry, SyncPolicy, WorkspaceDef};
pub use build::{SecretRef, SecretSource};
pub use render::{BlockedApp, RenderOptions, Rendered, RenderedApp, render, render_dir};
pub use resource::{DesiredResource, Origin};
pub use yaml::Limits;
