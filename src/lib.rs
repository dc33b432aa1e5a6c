//! Mortar: a GitOps controller for Databricks.
//!
//! Data flows one way through the modules below, each owning one stage:
//! `manifest` (load and render the app tree) → `databricks` (observe live
//! state, one adapter per kind) → `plan` (normalize, diff, order) → `apply`
//! (execute, inventory, write-ahead `audit`). The fake Databricks workspace
//! behind `mortar emulator` and the tests is a separate crate in this
//! workspace, `mortar_emulator`, which shares no code with the client.

pub mod apply;
pub mod audit;
pub mod config;
pub mod databricks;
pub mod engine;
pub mod manifest;
pub mod model;
pub mod observe;
pub mod plan;
pub mod source;
