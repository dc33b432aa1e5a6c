//! The emulated workspace's data: the plain records every endpoint family
//! stores, the [`Workspace`] that holds them (the state file's format) and its
//! secondary indexes. No HTTP and no handlers: every other module builds on
//! this one, and it imports none of them.

pub mod acl;
pub mod cluster;
pub mod identity;
pub mod job;
pub mod object;
pub mod principal;
pub mod secret;
pub mod sp_secret;
pub mod token;
pub mod tree;
pub mod warehouse;
pub mod workspace;

pub use acl::Ace;
pub use cluster::Cluster;
pub use job::Job;
pub use object::WsObject;
pub use principal::{Grant, PrincipalKind};
pub use secret::{Scope, Secret, SecretValue};
pub use sp_secret::{ClientSecretError, SpSecret};
pub use token::PatRecord;
pub use warehouse::Warehouse;
pub use workspace::{Index, Workspace};
