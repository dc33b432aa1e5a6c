//! Bringing what already exists into Mortar. [`bundle`] reads a
//! Databricks Asset Bundle and gives, for one of its targets, the create
//! bodies `databricks bundle deploy` would send, as Mortar resources, with
//! everything it could not take in listed by file and line. [`workspace`]
//! reads a live workspace and gives its objects as manifests that adopt
//! them. [`write`] lays either out as files of a manifest repository.

pub mod bundle;
pub mod workspace;
pub mod write;
