//! Bringing what already exists into Mortar. [`bundle`] reads a
//! Databricks Asset Bundle and gives, for one of its targets, the create
//! bodies `databricks bundle deploy` would send, as Mortar resources, with
//! everything it could not take in listed by file and line.

pub mod bundle;
pub mod write;
