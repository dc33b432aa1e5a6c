//! The manifest model: the kinds a platform team writes, loading them from a
//! tree, rendering the app-of-apps tree, variables, references and validation.

pub mod diag;
pub use crate::model::{kind, resource};
pub mod schema;
pub mod yaml;

pub use crate::model::{DesiredResource, Kind, Origin, PermissionEntry, Principal, ResourceKey};
pub use crate::source::{DirTree, SourceError, SourceTree};
pub use diag::{Diagnostic, Diagnostics, Severity};

pub mod access_policy;
pub mod agent;
pub mod app;
mod appset;
pub mod build;
pub mod credentials;
mod depends;
pub mod document;
mod fields;
mod graph;
pub mod numeric;
pub mod permissions;
pub mod rbac;
pub mod render;
pub mod vars;

pub use app::{
    AppSource, Automated, IgnoreDifference, PolicyRef, Project, Retry, SyncPolicy, WorkspaceDef,
};
pub use build::{ScopeSecret, SecretSource};
pub use render::{BlockedApp, RenderOptions, Rendered, RenderedApp, render, render_dir};
pub use yaml::Limits;
