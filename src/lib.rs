//! Mortar: a GitOps controller for Databricks.
//!
//! Data flows one way, one module per stage, all of them speaking the
//! vocabulary in [`model`]:
//!
//! ```text
//! source (a directory or a Git revision)
//!   → manifest  load under a budget, build the app tree, validate   (pure)
//!   → observe   live state through databricks::kinds adapters        (I/O)
//!   → plan      resolve, normalize, diff, order, guard → Plan        (pure: plan::tree::plan_all)
//!   → apply     execute a Plan: write-ahead audit, inventory         (I/O)
//! ```
//!
//! [`engine`] composes the stages into one API (`Engine::open` → `render`
//! → `plan(scope)` → `apply(planned, trigger, progress, cancel)`) for the
//! CLI, the benchmarks and the tests; `config` reads `mortar.yaml`;
//! `databricks` is the REST client (auth, retries, rate limits, one file per
//! kind); `audit` is the hash-chained trail. The fake Databricks workspace
//! behind `mortar emulator` and the tests is a separate crate in this
//! workspace, `mortar_emulator`, which shares no code with the client.

pub mod access;
pub mod apply;
pub mod audit;
pub mod authz;
pub mod cluster;
pub mod config;
pub mod controller;
pub mod databricks;
pub mod durable;
pub mod engine;
pub mod error_chain;
pub mod import;
pub mod manifest;
pub mod model;
pub mod observe;
pub mod outbound;
pub mod plan;
pub mod policy;
pub mod remote;
pub mod rotation;
pub mod server;
pub mod source;
