//! Executing a plan against live workspaces. So far: the inventory, the
//! durable record of what Mortar manages per app, which apply updates after
//! every action and the planner reads as its last-applied side.

pub mod inventory;
