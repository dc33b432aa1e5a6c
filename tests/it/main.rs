//! Integration tests, one binary: real HTTP against the emulator, real git
//! repositories, a real OIDC provider. One module per area.

mod access;
mod audit;
mod audit_ship;
mod chart;
mod cluster;
mod cluster_state;
mod daemon;
mod daemon_kill;
mod daemon_signed;
mod daemon_support;
mod databricks;
mod databricks_auth;
mod databricks_support;
mod drift;
mod emulator;
mod engine;
mod git_servers;
mod guardrails;
mod harness;
mod hostile;
mod image;
mod kinds;
mod kube_apiserver;
mod kube_support;
mod manifest;
mod notify;
mod plan_apply;
mod references;
mod secret_sweep;
mod server;
mod source;
mod source_remote;
mod state_dir;
mod status;
