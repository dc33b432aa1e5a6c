//! The Databricks REST client: authentication (PAT, OAuth M2M, OIDC
//! federation), retries with backoff, rate limits, pagination, typed errors,
//! and one adapter per resource kind in [`kinds`].
//!
//! Build a [`Client`] per workspace from [`crate::config::WorkspaceConfig`]
//! with [`Client::new`], then drive objects through
//! [`kinds::adapter`]`(kind)`.

pub mod auth;
pub mod body;
pub mod client;
pub mod error;
pub mod kinds;
pub mod local_file;
pub mod pagination;
pub mod rate_limit;
pub mod redact;
pub mod retry;
pub mod secret;
pub mod stats;

pub use auth::AuthError;
pub use client::{Call, Client};
pub use error::{ApiError, Error};
pub use kinds::{Acl, Desired, KindAdapter, ListedObject, OwnershipTags, adapter};
pub use secret::Secret;
