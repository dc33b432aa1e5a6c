//! The manifest model: the kinds a platform team writes, loading them from a
//! tree, rendering the app-of-apps tree, variables, references and validation.

pub mod kind;
pub mod resource;

pub use kind::Kind;
pub use resource::{PermissionEntry, Principal, ResourceKey};
