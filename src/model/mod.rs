//! The shared vocabulary every stage speaks: kinds, resource keys,
//! principals and ACL entries, desired resources as rendered, live and
//! last-applied objects, planned changes, the one parser of
//! `${resources.…}` references, and what counts as sensitive.
//!
//! Plain data and pure functions only. Every other module depends on this
//! one, and this one on none of them.

pub mod change;
pub mod inventory;
pub mod kind;
pub mod live;
pub mod mask;
pub mod reference;
pub mod resource;
pub mod status;

pub use change::{ActionKind, FieldChange, PermissionChange};
pub use inventory::Inventory;
pub use kind::Kind;
pub use live::{LastApplied, LiveObject, LiveState, ManagedResource, Ownership, Unmatched};
pub use reference::{Attribute, Reference};
pub use resource::{
    ADOPT_ID_ANNOTATION, DesiredResource, Origin, PermissionEntry, Principal, ResourceKey,
};
pub use status::{AppStatus, ControllerStatus, Health, SyncStatus};
