//! Who can do what, answered from Git: every ACL entry (`permissions:`,
//! including those role bindings add), every Unity Catalog grant and every
//! entitlement a principal holds, directly or through the groups it is a
//! member of; and who holds what on one object. With a plan of the live
//! workspaces beside it, where live access differs from Git. Pure: no I/O.

mod principal;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

pub use principal::Who;

use crate::manifest::Rendered;
use crate::manifest::agent::AgentScope;
use crate::model::{Kind, PermissionChange, Principal, ResourceKey};
use crate::plan::Plan;
use crate::plan::resolve::Known;

/// One right a principal holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Holding {
    pub workspace: String,
    /// `ACL`, `grant` or `entitlement`.
    pub source: &'static str,
    /// The object: an address, or `catalog analytics` for a grant.
    pub object: String,
    /// The level, privilege or entitlement.
    pub right: String,
    /// The principal named in Git when held through a group (`via
    /// data-engineers`); `None` when held directly.
    pub via: Option<String>,
    /// The role binding that gives it; `file` and `line` are then the
    /// binding's, else the manifest of the object that declares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    pub file: String,
    pub line: usize,
}

impl Holding {
    /// Credits the right to the role binding that gave it, if one did.
    fn credited(mut self, rendered: &Rendered, holds: impl Fn(&str) -> bool) -> Holding {
        if let Some(b) = rendered.bound.iter().find(|b| {
            b.workspace == self.workspace
                && b.source == self.source
                && b.object == self.object
                && b.right == self.right
                && (self.source == "entitlement" || holds(&b.grantee))
        }) {
            self.binding = Some(b.binding.clone());
            self.file = b.origin.file.clone();
            self.line = b.origin.line;
        }
        self
    }
}

/// Where live access differs from Git, from a plan's ACL changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveDifference {
    pub object: String,
    /// Held live, not in Git (`None`: not held live).
    pub live: Option<String>,
    /// In Git (`None`: Git gives nothing).
    pub git: Option<String>,
}

/// What `access of` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessReport {
    pub principal: String,
    /// `service principal`, `group`, or `user or other principal`.
    pub kind: &'static str,
    /// The groups it is a member of, per workspace (`dev/data-engineers`).
    pub member_of: Vec<String>,
    pub holdings: Vec<Holding>,
    /// For an AI agent: its approved data, per workspace.
    pub approved_data: Vec<(String, String)>,
    /// With `--live`: where the workspaces differ from Git.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Vec<LiveDifference>>,
}

/// Everything `name` holds in Git, in `workspace` or in every workspace.
pub fn of(rendered: &Rendered, name: &str, workspace: Option<&str>) -> AccessReport {
    let who = Who::find(rendered, name);
    let workspaces: BTreeSet<&str> = rendered
        .resources()
        .map(|r| r.key.workspace.as_str())
        .filter(|w| workspace.is_none_or(|x| x == *w))
        .collect();
    let mut holdings = Vec::new();
    let mut member_of = Vec::new();
    let mut approved_data = Vec::new();
    for ws in workspaces {
        // The principal itself, then each group it belongs to.
        let groups = who.groups_in(rendered, ws);
        member_of.extend(groups.iter().map(|g| format!("{ws}/{}", g.label())));
        let mut as_whom: Vec<(Who, Option<String>)> = vec![(who.clone(), None)];
        as_whom.extend(groups.into_iter().map(|g| {
            let label = g.label().to_string();
            (g, Some(label))
        }));
        for (holder, via) in &as_whom {
            collect(rendered, ws, holder, via.as_deref(), &mut holdings);
        }
        if let Some(agent) = agent_in(rendered, &who, ws) {
            approved_data.push((ws.to_string(), agent.describe()));
        }
    }
    holdings.sort();
    holdings.dedup();
    AccessReport {
        principal: name.to_string(),
        kind: who.describe(),
        member_of,
        holdings,
        approved_data,
        live: None,
    }
}

/// Who holds what on one object (`Kind/name` or `workspace/Kind/name`,
/// or `catalog NAME` / `schema CATALOG.NAME` for grants) in `workspace`.
pub fn who_can(rendered: &Rendered, workspace: &str, object: &str) -> Vec<Holding> {
    let mut out = Vec::new();
    let wanted = object.trim_start_matches(&format!("{workspace}/"));
    for r in rendered
        .resources()
        .filter(|r| r.key.workspace == workspace)
    {
        let address = format!("{}/{}", r.key.kind, r.key.name);
        if address == wanted {
            for entry in &r.permissions {
                let holding = Holding {
                    workspace: workspace.to_string(),
                    source: "ACL",
                    object: r.key.to_string(),
                    right: entry.permission_level.clone(),
                    via: None,
                    binding: None,
                    file: r.origin.file.clone(),
                    line: r.origin.line,
                }
                .credited(rendered, |g| written_as(&entry.principal) == g);
                out.push(Holding {
                    object: Who::display(&entry.principal),
                    ..holding
                });
            }
        }
        if r.key.kind == Kind::Grants
            && let Some((securable, assignments)) = grants_of(rendered, &r.key, &r.spec)
            && (securable == wanted || securable.split_once(' ').is_some_and(|(_, n)| n == wanted))
        {
            for (principal, privileges) in assignments {
                for p in privileges {
                    let holding = Holding {
                        workspace: workspace.to_string(),
                        source: "grant",
                        object: securable.clone(),
                        right: p,
                        via: None,
                        binding: None,
                        file: r.origin.file.clone(),
                        line: r.origin.line,
                    }
                    .credited(rendered, |g| g == principal);
                    out.push(Holding {
                        object: Who::display_grantee(&principal),
                        ..holding
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// Where the live workspaces differ from Git for `report`'s principal:
/// the ACL changes a plan of every app would make for it.
pub fn live_differences(
    report: &mut AccessReport,
    rendered: &Rendered,
    plan: &Plan,
    known: &Known,
) {
    let who = Who::find(rendered, &report.principal);
    let mut out = Vec::new();
    for action in plan.apps.iter().flat_map(|a| &a.actions) {
        let ws = &action.key.workspace;
        let groups = who.groups_in(rendered, ws);
        for change in &action.permission_changes {
            let holder = who.is(&change.principal, ws, known)
                || groups.iter().any(|g| g.is(&change.principal, ws, known));
            if holder {
                out.push(difference(&action.key, change));
            }
        }
    }
    report.live = Some(out);
}

/// Where the live ACL of one object (`Kind/name` in `workspace`) differs
/// from Git, from a plan of every app.
pub fn object_differences(plan: &Plan, workspace: &str, object: &str) -> Vec<LiveDifference> {
    let wanted = object.trim_start_matches(&format!("{workspace}/"));
    plan.apps
        .iter()
        .flat_map(|a| &a.actions)
        .filter(|a| {
            a.key.workspace == workspace && format!("{}/{}", a.key.kind, a.key.name) == wanted
        })
        .flat_map(|a| a.permission_changes.iter().map(|c| difference(&a.key, c)))
        .collect()
}

fn difference(key: &ResourceKey, change: &PermissionChange) -> LiveDifference {
    LiveDifference {
        object: format!("{key} ({})", Who::display(&change.principal)),
        live: change.old.clone(),
        git: change.new.clone(),
    }
}

/// The ACL entries, grants and entitlements `holder` has in `ws`.
fn collect(rendered: &Rendered, ws: &str, holder: &Who, via: Option<&str>, out: &mut Vec<Holding>) {
    for r in rendered.resources().filter(|r| r.key.workspace == ws) {
        let holding = |source: &'static str, object: String, right: String| {
            Holding {
                workspace: ws.to_string(),
                source,
                object,
                right,
                via: via.map(str::to_string),
                binding: None,
                file: r.origin.file.clone(),
                line: r.origin.line,
            }
            .credited(rendered, |g| holder.is_grantee(g))
        };
        for entry in r
            .permissions
            .iter()
            .filter(|e| holder.is_written(&e.principal))
        {
            out.push(holding(
                "ACL",
                r.key.to_string(),
                entry.permission_level.clone(),
            ));
        }
        if r.key.kind == Kind::Grants
            && let Some((securable, assignments)) = grants_of(rendered, &r.key, &r.spec)
        {
            for (principal, privileges) in assignments {
                if holder.is_grantee(&principal) {
                    for p in privileges {
                        out.push(holding("grant", securable.clone(), p));
                    }
                }
            }
        }
        if holder.is_resource(&r.key)
            && let Some(entitlements) = r.spec.get("entitlements").and_then(Value::as_array)
        {
            for e in entitlements.iter().filter_map(|e| e.get("value")?.as_str()) {
                out.push(holding("entitlement", r.key.to_string(), e.to_string()));
            }
        }
    }
}

/// One principal's privileges in a Grants spec.
type Assignment = (String, Vec<String>);

/// `(catalog analytics, [(principal, privileges)])` of a Grants spec.
fn grants_of(
    rendered: &Rendered,
    key: &ResourceKey,
    spec: &Value,
) -> Option<(String, Vec<Assignment>)> {
    let securable = crate::manifest::rbac::securable_of(rendered, &key.workspace, spec)?;
    let assignments = spec
        .get("privilege_assignments")?
        .as_array()?
        .iter()
        .filter_map(|a| {
            Some((
                a.get("principal")?.as_str()?.to_string(),
                a.get("privileges")?
                    .as_array()?
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
            ))
        })
        .collect();
    Some((securable, assignments))
}

/// An ACL principal as a Grants principal writes it.
fn written_as(p: &Principal) -> &str {
    match p {
        Principal::UserName(n) | Principal::GroupName(n) | Principal::ServicePrincipalName(n) => n,
    }
}

fn agent_in<'a>(rendered: &'a Rendered, who: &Who, ws: &str) -> Option<&'a AgentScope> {
    let Who::ServicePrincipal(name) = who else {
        return None;
    };
    rendered
        .apps
        .iter()
        .flat_map(|a| &a.agents)
        .find(|a| a.key.workspace == ws && &a.key.name == name)
}
