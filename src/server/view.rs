//! What the controller publishes for the API and the web view beyond the
//! status: from each render, the access policy and each app's resources
//! ([`TreeView`]); from each plan, each app's pending changes as text
//! ([`PlanView`]). Plain data, shared by `Arc` through watch channels.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::manifest::access_policy::AccessPolicy;

/// One resource an app declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRow {
    pub workspace: String,
    pub kind: String,
    pub name: String,
    /// `file:line` of its manifest.
    pub origin: String,
}

/// The revision last rendered, as the server needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeView {
    /// Who may act through the API; none: nobody (with sign-in on).
    pub policy: Option<AccessPolicy>,
    /// Each app's resources, in manifest order.
    pub resources: BTreeMap<String, Vec<ResourceRow>>,
}

/// One app's last plan: what a sync would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    pub at: Timestamp,
    /// Changes that would reach the workspace.
    pub changes: usize,
    /// The plan as `mortar plan` prints it (secrets masked).
    pub text: String,
}

/// The last plan of each app.
pub type Plans = BTreeMap<String, PlanView>;

impl TreeView {
    /// The view of a rendered tree.
    pub fn of(rendered: &crate::manifest::render::Rendered) -> TreeView {
        let resources = rendered
            .apps
            .iter()
            .map(|app| {
                let rows = app
                    .resources
                    .iter()
                    .map(|r| ResourceRow {
                        workspace: r.key.workspace.clone(),
                        kind: r.key.kind.to_string(),
                        name: r.key.name.clone(),
                        origin: format!("{}:{}", r.origin.file, r.origin.line),
                    })
                    .collect();
                (app.name.clone(), rows)
            })
            .collect();
        TreeView {
            policy: rendered.access_policy.clone(),
            resources,
        }
    }
}
