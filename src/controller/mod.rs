//! The daemon: triggers, sync policies, the drift loop, status and notifications.

pub mod notify;
pub mod status_store;
