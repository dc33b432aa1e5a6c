//! The daemon, `mortar run`: keeps every workspace equal to Git.
//!
//! ```text
//! triggers (poll, webhook, drift timers, retries, requests)
//!   → tracker.rs   what is due, what dependsOn holds, what a plan means   (pure)
//!   → runner.rs    fetch, render, plan, apply through the engine           (I/O)
//!   → status, audit, metrics, notifications
//! ```
//!
//! Decisions are pure functions over plain data (`policy`, `pacing`,
//! `tracker`); `runner` is the thin shell that performs them.

mod commands;
pub mod daemon;
pub mod demo;
mod handover;
mod memory;
pub mod notify;
pub mod pacing;
pub mod pins;
pub mod policy;
pub mod requests;
pub mod rotations;
pub mod runner;
pub mod status_store;
pub mod tracker;

pub use daemon::{Addresses, Daemon, DaemonError, DaemonHandle, DaemonOptions};
pub use policy::Cause;
pub use runner::Nudge;
pub use tracker::{AppView, Tracker};
