//! AI-agent identities as manifests declare them: a `ServicePrincipal`
//! labelled `mortar.dev/agent: "true"` lists the Unity Catalog data it may
//! reach (`approved_data:` beside `spec`) and the privileges it may hold
//! there — read-only unless it says otherwise. The plan refuses any grant
//! reaching outside (see `plan::agents`).
//!
//! ```yaml
//! kind: ServicePrincipal
//! metadata:
//!   name: support-bot
//!   labels: { mortar.dev/agent: "true" }
//! spec: { displayName: support-bot }
//! approved_data:
//!   catalogs: [support]              # every schema and table in it
//!   schemas: [analytics.curated]     # catalog.schema
//!   tables: [sales.public.orders]    # catalog.schema.table (also volumes, functions)
//!   privileges: [SELECT]             # optional; read-only by default
//! ```

use serde::Serialize;

use super::diag::{At, Diagnostics};
use super::fields::Fields;
use super::resource::{Origin, ResourceKey};
use super::yaml::Node;

/// The label that makes a service principal an agent.
pub const AGENT_LABEL: &str = "mortar.dev/agent";

/// The key beside `spec` that lists an agent's data.
pub const APPROVED_DATA: &str = "approved_data";

/// What an agent may hold when it does not say: reading, never writing or
/// managing.
pub const READ_ONLY: &[&str] = &[
    "BROWSE",
    "USE_CATALOG",
    "USE_SCHEMA",
    "SELECT",
    "READ_VOLUME",
];

/// One agent's approved data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentScope {
    /// The service principal.
    pub key: ResourceKey,
    /// Whole catalogs.
    pub catalogs: Vec<String>,
    /// `catalog.schema`.
    pub schemas: Vec<String>,
    /// `catalog.schema.name`: tables, views, volumes, functions.
    pub tables: Vec<String>,
    /// The privileges it may hold on that data (upper case).
    pub privileges: Vec<String>,
    pub origin: Origin,
}

/// True when the document's labels mark an agent.
pub fn is_agent(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get(AGENT_LABEL).is_some_and(|v| v == "true")
}

/// Reads `approved_data` (variables already substituted). `None` with an
/// error when it is malformed.
pub fn read(
    diags: &mut Diagnostics,
    file: &str,
    node: &Node,
    key: &ResourceKey,
    origin: &Origin,
) -> Option<AgentScope> {
    let f = Fields::open(
        diags,
        file,
        node,
        APPROVED_DATA,
        &["catalogs", "schemas", "tables", "privileges"],
    )?;
    let mut list = |name: &str, parts: usize| -> Vec<String> {
        let mut out = Vec::new();
        for (i, (text, item)) in f
            .strings(diags, name)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let pieces: Vec<&str> = text.split('.').collect();
            if pieces.len() != parts || pieces.iter().any(|p| p.trim().is_empty()) {
                let shape = ["catalog", "catalog.schema", "catalog.schema.table"][parts - 1];
                diags.error(
                    At::new(
                        file,
                        item.line,
                        item.column,
                        &format!("{APPROVED_DATA}.{name}[{i}]"),
                    ),
                    format!("`{text}` is not a {shape} name"),
                );
                continue;
            }
            out.push(text.to_ascii_lowercase());
        }
        out
    };
    let catalogs = list("catalogs", 1);
    let schemas = list("schemas", 2);
    let tables = list("tables", 3);
    let privileges = match f.strings(diags, "privileges") {
        Some(items) => items
            .into_iter()
            .map(|(p, _)| p.to_ascii_uppercase().replace(' ', "_"))
            .collect(),
        None => READ_ONLY.iter().map(|p| p.to_string()).collect(),
    };
    Some(AgentScope {
        key: key.clone(),
        catalogs,
        schemas,
        tables,
        privileges,
        origin: origin.clone(),
    })
}

impl AgentScope {
    /// The approved data, for messages: `catalogs: a; schemas: b.c`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("catalogs", &self.catalogs),
            ("schemas", &self.schemas),
            ("tables", &self.tables),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| format!("{n}: {}", v.join(", ")))
        .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join("; ")
        }
    }

    /// Why holding `privilege` on the securable `securable_type`
    /// `full_name` reaches outside the approved data; `None` when it does
    /// not.
    pub fn refuses(
        &self,
        securable_type: &str,
        full_name: &str,
        privilege: &str,
    ) -> Option<Refusal> {
        let privilege = privilege.to_ascii_uppercase();
        if !self.privileges.contains(&privilege) {
            return Some(Refusal::Privilege);
        }
        let name = full_name.to_ascii_lowercase();
        let parts: Vec<&str> = name.split('.').collect();
        let covered_catalog = |c: &str| self.catalogs.iter().any(|x| x == c);
        let covered_schema = |c: &str, s: &str| {
            covered_catalog(c) || self.schemas.iter().any(|x| *x == format!("{c}.{s}"))
        };
        let inside = match (
            securable_type.to_ascii_lowercase().as_str(),
            parts.as_slice(),
        ) {
            ("catalog", [c]) => {
                covered_catalog(c)
                    // Reaching an approved schema or table needs its catalog.
                    || (matches!(privilege.as_str(), "USE_CATALOG" | "BROWSE")
                        && self
                            .schemas
                            .iter()
                            .chain(&self.tables)
                            .any(|x| x.split('.').next() == Some(*c)))
            }
            ("schema", [c, s]) => {
                covered_schema(c, s)
                    || (matches!(privilege.as_str(), "USE_SCHEMA" | "BROWSE")
                        && self
                            .tables
                            .iter()
                            .any(|t| t.starts_with(&format!("{c}.{s}."))))
            }
            ("table" | "view" | "volume" | "function", [c, s, t]) => {
                covered_schema(c, s) || self.tables.iter().any(|x| *x == format!("{c}.{s}.{t}"))
            }
            // Metastores, external locations, credentials, connections:
            // never an agent's.
            _ => false,
        };
        (!inside).then_some(Refusal::Data)
    }
}

/// How a grant reaches outside an agent's approved data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A privilege the agent may not hold anywhere.
    Privilege,
    /// A securable outside its approved data.
    Data,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn agent() -> AgentScope {
        AgentScope {
            key: ResourceKey {
                workspace: "prod".into(),
                kind: Kind::ServicePrincipal,
                name: "support-bot".into(),
            },
            catalogs: vec!["support".into()],
            schemas: vec!["analytics.curated".into()],
            tables: vec!["sales.public.orders".into()],
            privileges: READ_ONLY.iter().map(|p| p.to_string()).collect(),
            origin: Origin {
                file: "identity/agents.yaml".into(),
                line: 2,
                column: 1,
            },
        }
    }

    #[test]
    fn an_agent_reads_only_its_approved_data() {
        let a = agent();
        let cases = [
            ("catalog", "support", "SELECT", None),
            ("catalog", "Support", "USE_CATALOG", None),
            ("schema", "support.tickets", "SELECT", None),
            ("table", "support.tickets.open", "SELECT", None),
            ("catalog", "finance", "SELECT", Some(Refusal::Data)),
            // The catalog of an approved schema: only to reach it.
            ("catalog", "analytics", "USE_CATALOG", None),
            ("catalog", "analytics", "SELECT", Some(Refusal::Data)),
            ("schema", "analytics.curated", "SELECT", None),
            ("schema", "analytics.raw", "SELECT", Some(Refusal::Data)),
            ("table", "analytics.curated.daily", "SELECT", None),
            // The schema of an approved table: only to reach it.
            ("schema", "sales.public", "USE_SCHEMA", None),
            ("schema", "sales.public", "SELECT", Some(Refusal::Data)),
            ("table", "sales.public.orders", "SELECT", None),
            (
                "table",
                "sales.public.customers",
                "SELECT",
                Some(Refusal::Data),
            ),
            // Read-only: no writing, even on approved data.
            (
                "table",
                "sales.public.orders",
                "MODIFY",
                Some(Refusal::Privilege),
            ),
            (
                "catalog",
                "support",
                "ALL_PRIVILEGES",
                Some(Refusal::Privilege),
            ),
            (
                "external_location",
                "landing",
                "READ_FILES",
                Some(Refusal::Privilege),
            ),
        ];
        for (t, name, privilege, want) in cases {
            assert_eq!(
                a.refuses(t, name, privilege),
                want,
                "{privilege} on {t} {name}"
            );
        }
        assert_eq!(
            a.describe(),
            "catalogs: support; schemas: analytics.curated; tables: sales.public.orders"
        );
    }
}
