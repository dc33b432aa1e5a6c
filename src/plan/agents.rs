//! The agents' guard: no grant reaches outside an AI agent's approved data
//! (`manifest::agent`). A `Grants` resource that gives an agent more — a
//! securable outside its data, or a privilege it may not hold — blocks its
//! app with a message of its own; a grant made by hand behind Mortar's
//! back is revoked by the Grants update (Grants are authoritative), and
//! that update carries a reason of its own for the audit trail.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::agent::{AgentScope, Refusal};
use crate::manifest::diag::At;
use crate::manifest::rbac::securable_name;
use crate::manifest::{Diagnostics, Rendered, RenderedApp};
use crate::model::{Kind, LiveState, ResourceKey, reference};
use crate::plan::{ActionKind, AppPlan, Violation};

/// The violations rule name, and the reason a revoking update carries.
pub const RULE: &str = "agent-data";

/// Every agent of the tree, by its service principal's key.
pub fn agents_of(rendered: &Rendered) -> BTreeMap<&ResourceKey, &AgentScope> {
    rendered
        .apps
        .iter()
        .flat_map(|a| &a.agents)
        .map(|a| (&a.key, a))
        .collect()
}

/// One grant to an agent that reaches outside its approved data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overreach {
    pub agent: ResourceKey,
    pub securable: String,
    pub full_name: String,
    pub privilege: String,
    pub refusal: Refusal,
}

impl Overreach {
    fn describe(&self, scope: &AgentScope) -> String {
        match self.refusal {
            Refusal::Data => format!(
                "{} on {} `{}` to agent `{}`, outside its approved data ({})",
                self.privilege,
                self.securable,
                self.full_name,
                self.agent.name,
                scope.describe()
            ),
            Refusal::Privilege => format!(
                "{} on {} `{}` to agent `{}`, which may hold only {}",
                self.privilege,
                self.securable,
                self.full_name,
                self.agent.name,
                scope.privileges.join(", ")
            ),
        }
    }
}

/// The violations of `app`'s desired grants against every agent's
/// approved data. `application_ids` are the agents' application ids known
/// so far (a grant may name one literally).
pub fn check(
    rendered: &Rendered,
    app: &RenderedApp,
    application_ids: &BTreeMap<ResourceKey, String>,
) -> Vec<Violation> {
    let agents = agents_of(rendered);
    if agents.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for grants in app.resources.iter().filter(|r| r.key.kind == Kind::Grants) {
        let ws = &grants.key.workspace;
        let (Some(securable), Some(full_name)) = (
            grants.spec.get("securable_type").and_then(Value::as_str),
            grants.spec.get("full_name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let full_name = securable_name(rendered, ws, full_name);
        for (principal, privileges) in assignments(&grants.spec) {
            let Some(agent) = agent_named(&agents, ws, principal, application_ids) else {
                continue;
            };
            for privilege in privileges {
                if let Some(refusal) = agent.refuses(securable, &full_name, privilege) {
                    let overreach = Overreach {
                        agent: agent.key.clone(),
                        securable: securable.to_ascii_lowercase(),
                        full_name: full_name.clone(),
                        privilege: privilege.to_ascii_uppercase(),
                        refusal,
                    };
                    out.push(Violation {
                        rule: RULE.into(),
                        key: Some(grants.key.clone()),
                        message: format!(
                            "{}:{}: {} grants {}; agents reach only the data listed under approved_data ({}:{})",
                            grants.origin.file,
                            grants.origin.line,
                            grants.key,
                            overreach.describe(agent),
                            agent.origin.file,
                            agent.origin.line
                        ),
                    });
                }
            }
        }
    }
    out
}

/// `validate`'s view: each grant to an agent outside its approved data, as
/// an error at the Grants resource.
pub fn validate(rendered: &Rendered) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let none = BTreeMap::new();
    for app in &rendered.apps {
        for v in check(rendered, app, &none) {
            let Some(grants) = v
                .key
                .as_ref()
                .and_then(|k| app.resources.iter().find(|r| &r.key == k))
            else {
                continue;
            };
            let message = v
                .message
                .split_once(": ")
                .map_or(v.message.as_str(), |(_, rest)| rest);
            diags.error(
                At::new(
                    &grants.origin.file,
                    grants.origin.line,
                    grants.origin.column,
                    "",
                ),
                message,
            );
        }
    }
    diags
}

/// Marks the Grants updates of `plan` that take away what an agent holds
/// live outside its approved data: their reason names each revocation.
pub fn mark_revocations(
    plan: &mut AppPlan,
    rendered: &Rendered,
    live: &LiveState,
    application_ids: &BTreeMap<ResourceKey, String>,
) {
    let agents = agents_of(rendered);
    if agents.is_empty() {
        return;
    }
    for action in plan
        .actions
        .iter_mut()
        .filter(|a| a.key.kind == Kind::Grants && a.action == ActionKind::Update)
    {
        let Some(object) = live.get(&action.key) else {
            continue;
        };
        let spec = &object.spec;
        let (Some(securable), Some(full_name)) = (
            spec.get("securable_type").and_then(Value::as_str),
            spec.get("full_name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let mut revoked = Vec::new();
        for (principal, privileges) in assignments(spec) {
            let Some(agent) =
                agent_named(&agents, &action.key.workspace, principal, application_ids)
            else {
                continue;
            };
            for privilege in privileges {
                if let Some(refusal) = agent.refuses(securable, full_name, privilege) {
                    revoked.push(
                        Overreach {
                            agent: agent.key.clone(),
                            securable: securable.to_ascii_lowercase(),
                            full_name: full_name.to_string(),
                            privilege: privilege.to_ascii_uppercase(),
                            refusal,
                        }
                        .describe(agent),
                    );
                }
            }
        }
        if !revoked.is_empty() {
            action.reason = Some(format!("{RULE}: revokes {}", revoked.join("; ")));
        }
    }
}

/// `(principal, privileges)` of a Grants spec.
fn assignments(spec: &Value) -> Vec<(&str, Vec<&str>)> {
    spec.get("privilege_assignments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let principal = a.get("principal")?.as_str()?;
            let privileges = a
                .get("privileges")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            Some((principal, privileges))
        })
        .collect()
}

/// The agent a grant's principal names: by reference to its application
/// id, or by the application id itself.
fn agent_named<'a>(
    agents: &BTreeMap<&ResourceKey, &'a AgentScope>,
    workspace: &str,
    principal: &str,
    application_ids: &BTreeMap<ResourceKey, String>,
) -> Option<&'a AgentScope> {
    if reference::is_whole(principal) {
        let r = reference::in_str(principal).into_iter().next()?;
        if r.kind != Kind::ServicePrincipal {
            return None;
        }
        return agents.get(&r.key_in(workspace)).copied();
    }
    agents
        .iter()
        .find(|(key, _)| {
            key.workspace == workspace
                && application_ids.get(**key).is_some_and(|id| id == principal)
        })
        .map(|(_, a)| *a)
}
