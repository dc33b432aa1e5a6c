//! Which apps one plan covers.

use std::collections::BTreeSet;

pub use crate::apply::AppFilter;

/// The apps to plan (and apply) and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub apps: AppFilter,
    /// Prune every app in scope, whatever its sync policy says.
    pub prune: bool,
    /// Prune these apps this time, whatever their sync policy says (a
    /// sync request asking for it).
    pub prune_apps: BTreeSet<String>,
    /// Keep only apps whose plan shows drift (changes made outside Mortar).
    pub drift_only: bool,
}

impl Scope {
    /// One app by name.
    pub fn app(name: impl Into<String>) -> Scope {
        Scope {
            apps: AppFilter::Named(BTreeSet::from([name.into()])),
            ..Scope::default()
        }
    }
}
