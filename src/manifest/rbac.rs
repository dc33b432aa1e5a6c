//! Role mappings as code: `Role` (a named bundle of ACL levels on objects
//! chosen by kind and name or labels, Unity Catalog privileges on catalogs
//! and schemas, and entitlements) and `RoleBinding` (a role given to
//! groups, users or service principals in the workspaces it selects by
//! name or by `Workspace` label). Both live in the top-level files, like
//! Projects. Rendering turns each binding into the ACL entries, grants and
//! entitlements of the objects it reaches, so the planner diffs and applies
//! them like any other; two sources giving one principal different levels
//! on one object resolve to the higher, with a warning.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::Kind;
use super::app::glob;
use super::diag::{At, Diagnostics, Severity, suggest};
use super::fields::Fields;
use super::permissions::levels_for;
use super::render::{BlockedApp, Rendered};
use super::resource::{DesiredResource, Origin, PermissionEntry, Principal, ResourceKey};
use super::yaml::Node;
use crate::model::reference;

/// Labels of a manifest document.
pub type Labels = BTreeMap<String, String>;

/// ACL levels on the objects a rule selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AclRule {
    pub kinds: Vec<Kind>,
    /// Manifest names (`*` wildcard); empty: every name.
    pub names: Vec<String>,
    /// Labels the objects' manifests carry; empty: any.
    pub selector: Labels,
    pub level: String,
}

/// Unity Catalog privileges on named securables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRule {
    /// `catalog` or `schema`.
    pub securable: String,
    /// `catalog` or `catalog.schema` names.
    pub names: Vec<String>,
    pub privileges: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<AclRule>,
    pub grants: Vec<GrantRule>,
    pub entitlements: Vec<String>,
    pub origin: Origin,
}

/// Who a binding gives its role to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Subject {
    Group(String),
    User(String),
    /// By its manifest name, in each workspace the binding selects.
    ServicePrincipal(String),
}

impl Subject {
    fn describe(&self) -> String {
        match self {
            Subject::Group(n) => format!("group {n}"),
            Subject::User(n) => format!("user {n}"),
            Subject::ServicePrincipal(n) => format!("service principal {n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleBinding {
    pub name: String,
    pub role: String,
    pub subjects: Vec<Subject>,
    /// Workspace name patterns (`*` wildcard).
    pub workspaces: Vec<String>,
    /// Labels of `Workspace` documents.
    pub workspace_selector: Labels,
    pub origin: Origin,
}

/// One right a role binding gave: an ACL level, a Unity Catalog privilege
/// or an entitlement the object did not hold from its own manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundRight {
    pub workspace: String,
    /// `ACL`, `grant` or `entitlement`, as `mortar access` names them.
    pub source: &'static str,
    /// The resource key, or the securable (`schema analytics.curated`).
    pub object: String,
    pub right: String,
    /// Who holds it, as a Grants principal: a group or user name, or the
    /// reference to a service principal's application id.
    pub grantee: String,
    pub binding: String,
    /// The binding's document.
    pub origin: Origin,
}

impl BoundRight {
    /// Whether `other` is the same right's slot: one principal on one object.
    fn same_slot(&self, other: &BoundRight) -> bool {
        (&self.workspace, self.source, &self.object, &self.grantee)
            == (
                &other.workspace,
                other.source,
                &other.object,
                &other.grantee,
            )
    }

    /// What `binding` gives `grantee` in `ws`; the right itself is filled
    /// in by [`BoundRight::of`].
    fn template(ws: &str, binding: &RoleBinding, grantee: &str) -> BoundRight {
        BoundRight {
            workspace: ws.to_string(),
            source: "",
            object: String::new(),
            right: String::new(),
            grantee: grantee.to_string(),
            binding: binding.name.clone(),
            origin: binding.origin.clone(),
        }
    }

    /// This binding's `right` on `object`, from `source`.
    fn of(&self, source: &'static str, object: String, right: &str) -> BoundRight {
        BoundRight {
            source,
            object,
            right: right.to_string(),
            ..self.clone()
        }
    }
}

fn labels(diags: &mut Diagnostics, file: &str, node: &Node, path: &str) -> Labels {
    let mut out = Labels::new();
    match node.as_map() {
        Some(entries) => {
            for e in entries {
                match e.value.as_str() {
                    Some(v) => {
                        out.insert(e.key.clone(), v.to_string());
                    }
                    None => diags.error(
                        At::new(
                            file,
                            e.value.line,
                            e.value.column,
                            &format!("{path}.{}", e.key),
                        ),
                        "a label value is a string",
                    ),
                }
            }
        }
        None => diags.error(
            At::new(file, node.line, node.column, path),
            "expected a mapping of label names to values",
        ),
    }
    out
}

/// Reads a `Role` spec.
pub fn read_role(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &Node,
    origin: Origin,
) -> Option<Role> {
    let f = Fields::open(
        diags,
        file,
        spec,
        "spec",
        &["description", "permissions", "grants", "entitlements"],
    )?;
    let mut permissions = Vec::new();
    for (i, item) in f
        .entry("permissions")
        .and_then(|e| e.value.as_seq())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("spec.permissions[{i}]");
        let Some(r) = Fields::open(
            diags,
            file,
            item,
            &path,
            &["kinds", "names", "selector", "level"],
        ) else {
            continue;
        };
        let kinds: Vec<Kind> = r
            .strings(diags, "kinds")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, node)| match k.parse::<Kind>() {
                Ok(kind) if levels_for(kind).is_some() => Some(kind),
                _ => {
                    diags.error(
                        At::new(file, node.line, node.column, &format!("{path}.kinds")),
                        format!("`{k}` is not a kind with an access control list"),
                    );
                    None
                }
            })
            .collect();
        let Some(level) = r.string(diags, "level", true) else {
            continue;
        };
        if kinds.is_empty() {
            let (line, column) = r.at("kinds");
            diags.error(
                At::new(file, line, column, &format!("{path}.kinds")),
                "list the kinds the level applies to",
            );
            continue;
        }
        let (line, column) = r.at("level");
        if level == "IS_OWNER" {
            diags.error(
                At::new(file, line, column, &format!("{path}.level")),
                "IS_OWNER belongs to one principal per object: set it in the object's own permissions:",
            );
            continue;
        }
        if let Some(kind) = kinds
            .iter()
            .find(|k| !levels_for(**k).unwrap_or(&[]).contains(&level.as_str()))
        {
            diags.error(
                At::new(file, line, column, &format!("{path}.level")),
                format!(
                    "{kind} has no level `{level}` (levels: {})",
                    levels_for(*kind).unwrap_or(&[]).join(", ")
                ),
            );
            continue;
        }
        let names = r
            .strings(diags, "names")
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>();
        let selector = r
            .entry("selector")
            .map(|e| labels(diags, file, &e.value, &format!("{path}.selector")))
            .unwrap_or_default();
        if names.is_empty() && selector.is_empty() {
            diags.error(
                At::new(file, item.line, item.column, &path),
                "choose the objects: `names` (manifest names, `*` wildcard) or `selector` (labels)",
            );
            continue;
        }
        permissions.push(AclRule {
            kinds,
            names,
            selector,
            level,
        });
    }
    let mut grants = Vec::new();
    for (i, item) in f
        .entry("grants")
        .and_then(|e| e.value.as_seq())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("spec.grants[{i}]");
        let Some(g) = Fields::open(
            diags,
            file,
            item,
            &path,
            &["securable", "names", "privileges"],
        ) else {
            continue;
        };
        let Some(securable) = g.string(diags, "securable", true) else {
            continue;
        };
        let securable = securable.to_ascii_lowercase();
        if securable != "catalog" && securable != "schema" {
            let (line, column) = g.at("securable");
            diags.error(
                At::new(file, line, column, &format!("{path}.securable")),
                "expected catalog or schema",
            );
            continue;
        }
        grants.push(GrantRule {
            securable,
            names: g
                .strings(diags, "names")
                .unwrap_or_default()
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            privileges: g
                .strings(diags, "privileges")
                .unwrap_or_default()
                .into_iter()
                .map(|(p, _)| p.to_ascii_uppercase())
                .collect(),
        });
    }
    Some(Role {
        name: name.to_string(),
        description: f.string(diags, "description", false),
        permissions,
        grants,
        entitlements: f
            .strings(diags, "entitlements")
            .unwrap_or_default()
            .into_iter()
            .map(|(e, _)| e)
            .collect(),
        origin,
    })
}

/// Reads a `RoleBinding` spec.
pub fn read_binding(
    diags: &mut Diagnostics,
    file: &str,
    name: &str,
    spec: &Node,
    origin: Origin,
) -> Option<RoleBinding> {
    let f = Fields::open(
        diags,
        file,
        spec,
        "spec",
        &["role", "subjects", "workspaces", "workspaceSelector"],
    )?;
    let role = f.string(diags, "role", true)?;
    let mut subjects = Vec::new();
    for (i, item) in f
        .entry("subjects")
        .and_then(|e| e.value.as_seq())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("spec.subjects[{i}]");
        let Some(s) = Fields::open(
            diags,
            file,
            item,
            &path,
            &["group", "user", "servicePrincipal"],
        ) else {
            continue;
        };
        let found: Vec<Subject> = [
            s.string(diags, "group", false).map(Subject::Group),
            s.string(diags, "user", false).map(Subject::User),
            s.string(diags, "servicePrincipal", false)
                .map(Subject::ServicePrincipal),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[Subject; 1]>::try_from(found) {
            Ok([subject]) => subjects.push(subject),
            Err(_) => diags.error(
                At::new(file, item.line, item.column, &path),
                "give exactly one of `group`, `user`, `servicePrincipal`",
            ),
        }
    }
    if subjects.is_empty() {
        let (line, column) = f.at("subjects");
        diags.error(
            At::new(file, line, column, "spec.subjects"),
            "a binding needs at least one subject",
        );
        return None;
    }
    let workspaces: Vec<String> = f
        .strings(diags, "workspaces")
        .unwrap_or_default()
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    let workspace_selector = f
        .entry("workspaceSelector")
        .map(|e| labels(diags, file, &e.value, "spec.workspaceSelector"))
        .unwrap_or_default();
    if workspaces.is_empty() == workspace_selector.is_empty() {
        diags.error(
            At::new(file, origin.line, origin.column, "spec"),
            "choose the workspaces: exactly one of `workspaces` (names, `*` wildcard) and `workspaceSelector` (Workspace labels)",
        );
        return None;
    }
    Some(RoleBinding {
        name: name.to_string(),
        role,
        subjects,
        workspaces,
        workspace_selector,
        origin,
    })
}

/// A securable's full name, following a reference to a Catalog or Schema
/// the tree declares (its name is known before it exists).
pub fn securable_name(rendered: &Rendered, workspace: &str, full_name: &str) -> String {
    if !reference::is_whole(full_name) {
        return full_name.to_string();
    }
    let Some(r) = reference::in_str(full_name).into_iter().next() else {
        return full_name.to_string();
    };
    let key = r.key_in(workspace);
    let Some(target) = rendered.resources().find(|d| d.key == key) else {
        return full_name.to_string();
    };
    let field = |name: &str| {
        target
            .spec
            .get(name)
            .and_then(Value::as_str)
            .map(|v| securable_name(rendered, workspace, v))
    };
    match key.kind {
        Kind::Catalog => field("name").unwrap_or_else(|| full_name.to_string()),
        Kind::Schema => match (field("catalog_name"), field("name")) {
            (Some(c), Some(n)) => format!("{c}.{n}"),
            _ => full_name.to_string(),
        },
        _ => full_name.to_string(),
    }
}

/// The securable a Grants spec manages, as `mortar access` names it:
/// `catalog analytics`, `schema analytics.curated`.
pub fn securable_of(rendered: &Rendered, workspace: &str, spec: &Value) -> Option<String> {
    let kind = spec.get("securable_type")?.as_str()?.to_ascii_lowercase();
    let full_name = spec.get("full_name")?.as_str()?;
    Some(format!(
        "{kind} {}",
        securable_name(rendered, workspace, full_name)
    ))
}

/// Where each ACL entry a binding merged came from, for the warning when
/// another source gives the same principal a different level.
type Given = BTreeMap<(ResourceKey, Principal), (String, String)>;

/// Applies every binding to `rendered`: ACL entries, grants and
/// entitlements join the objects they reach.
pub fn apply(
    rendered: &mut Rendered,
    roles: &[Role],
    bindings: &[RoleBinding],
    diags: &mut Diagnostics,
) {
    hold_apps_a_blocked_subject_reaches(rendered, roles, bindings);
    let mut given: Given = BTreeMap::new();
    let mut bound = Vec::new();
    for binding in bindings {
        let at = At::new(
            &binding.origin.file,
            binding.origin.line,
            binding.origin.column,
            "spec.role",
        );
        let Some(role) = roles.iter().find(|r| r.name == binding.role) else {
            let hint = suggest(&binding.role, roles.iter().map(|r| r.name.as_str()))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            diags.error(
                at,
                format!(
                    "role binding `{}` names role `{}`, which is not declared{hint}",
                    binding.name, binding.role
                ),
            );
            continue;
        };
        let workspaces = selected_workspaces(rendered, binding);
        if workspaces.is_empty() {
            diags.warn(
                At::new(
                    &binding.origin.file,
                    binding.origin.line,
                    binding.origin.column,
                    "spec",
                ),
                format!(
                    "role binding `{}` selects no declared workspace",
                    binding.name
                ),
            );
        }
        for ws in &workspaces {
            for subject in &binding.subjects {
                let Some((principal, grantee)) = principal_in(rendered, ws, subject) else {
                    if has_blocked_apps(rendered, ws) {
                        // Declared, perhaps, by a blocked app: the apps the
                        // binding reaches here are held back with it.
                        continue;
                    }
                    diags.error(
                        At::new(
                            &binding.origin.file,
                            binding.origin.line,
                            binding.origin.column,
                            "spec.subjects",
                        ),
                        format!(
                            "role binding `{}`: {} is not declared in workspace {ws}",
                            binding.name,
                            subject.describe()
                        ),
                    );
                    continue;
                };
                let gives = BoundRight::template(ws, binding, &grantee);
                let mut merge = Merge {
                    rendered: &mut *rendered,
                    ws,
                    role,
                    binding,
                    diags: &mut *diags,
                    bound: &mut bound,
                    gives: &gives,
                };
                merge.acls(&principal, &mut given);
                merge.grants(&grantee);
                merge.entitlements(subject);
            }
        }
    }
    rendered.bound = bound;
}

/// One binding's role merged into one workspace, recording what it gave.
struct Merge<'a> {
    rendered: &'a mut Rendered,
    ws: &'a str,
    role: &'a Role,
    binding: &'a RoleBinding,
    diags: &'a mut Diagnostics,
    bound: &'a mut Vec<BoundRight>,
    /// What this binding gives, with the right left blank.
    gives: &'a BoundRight,
}

impl AclRule {
    /// Whether the rule selects the object `key`, whose manifest carries `labels`.
    fn reaches(&self, key: &ResourceKey, labels: Option<&Labels>) -> bool {
        self.kinds.contains(&key.kind)
            && (self.names.is_empty() || self.names.iter().any(|n| glob(n, &key.name)))
            && self
                .selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    }
}

impl GrantRule {
    /// Whether `r` is the Grants resource managing the securable `name`.
    fn manages(&self, rendered: &Rendered, r: &DesiredResource, name: &str) -> bool {
        r.key.kind == Kind::Grants
            && r.spec
                .get("securable_type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(&self.securable))
            && r.spec
                .get("full_name")
                .and_then(Value::as_str)
                .is_some_and(|f| {
                    securable_name(rendered, &r.key.workspace, f).eq_ignore_ascii_case(name)
                })
    }
}

/// The workspaces a binding selects, by name pattern or by label.
fn selected_workspaces(rendered: &Rendered, binding: &RoleBinding) -> Vec<String> {
    rendered
        .workspaces
        .iter()
        .filter(|w| {
            if binding.workspace_selector.is_empty() {
                binding.workspaces.iter().any(|p| glob(p, &w.name))
            } else {
                binding
                    .workspace_selector
                    .iter()
                    .all(|(k, v)| w.labels.get(k) == Some(v))
            }
        })
        .map(|w| w.name.clone())
        .collect()
}

/// The blocked apps that may hold objects of `ws` (an app whose
/// destination is unknown may hold any).
fn blocked_apps_in<'a>(rendered: &'a Rendered, ws: &str) -> impl Iterator<Item = &'a BlockedApp> {
    rendered
        .blocked
        .iter()
        .filter(move |b| b.workspace.as_deref().is_none_or(|w| w == ws))
}

fn has_blocked_apps(rendered: &Rendered, ws: &str) -> bool {
    blocked_apps_in(rendered, ws).next().is_some()
}

/// A binding whose service principal is not among what renders in a
/// workspace where apps are blocked cannot be applied there: the principal
/// may be declared by one of them. The apps whose objects the binding's
/// role reaches in that workspace are held back too, as a broken child
/// holds back its parent, so nothing the binding gives is revoked while
/// the blocked app is fixed.
fn hold_apps_a_blocked_subject_reaches(
    rendered: &mut Rendered,
    roles: &[Role],
    bindings: &[RoleBinding],
) {
    let mut held: Vec<BlockedApp> = Vec::new();
    for binding in bindings {
        let Some(role) = roles.iter().find(|r| r.name == binding.role) else {
            continue;
        };
        for ws in selected_workspaces(rendered, binding) {
            if !has_blocked_apps(rendered, &ws) {
                continue;
            }
            let Some(subject) = binding.subjects.iter().find(|s| {
                matches!(s, Subject::ServicePrincipal(_))
                    && principal_in(rendered, &ws, s).is_none()
            }) else {
                continue;
            };
            let blocked: Vec<&str> = blocked_apps_in(rendered, &ws)
                .map(|b| b.name.as_str())
                .collect();
            for app in &rendered.apps {
                let reached = app.resources.iter().any(|r| {
                    r.key.workspace == ws
                        && (role
                            .permissions
                            .iter()
                            .any(|rule| rule.reaches(&r.key, app.labels.get(&r.key)))
                            || role.grants.iter().any(|rule| {
                                rule.names.iter().any(|n| rule.manages(rendered, r, n))
                            }))
                });
                if !reached || held.iter().any(|h| h.name == app.name) {
                    continue;
                }
                let message = format!(
                    "role binding `{}` gives {} rights on this app's objects in {ws}, but it is not declared by any app that renders there; blocked: {}. This app waits until they render",
                    binding.name,
                    subject.describe(),
                    blocked.join(", ")
                );
                held.push(BlockedApp {
                    name: app.name.clone(),
                    parent: app.parent.clone(),
                    project: app.project.clone(),
                    workspace: app.workspace.clone(),
                    origin: app.origin.clone(),
                    diagnostics: vec![
                        At::new(
                            &binding.origin.file,
                            binding.origin.line,
                            binding.origin.column,
                            "spec.subjects",
                        )
                        .diagnostic(Severity::Error, message),
                    ],
                });
            }
        }
    }
    rendered
        .apps
        .retain(|a| !held.iter().any(|h| h.name == a.name));
    rendered.blocked.extend(held);
}

/// The ACL principal and the Grants principal a subject stands for in `ws`.
fn principal_in(rendered: &Rendered, ws: &str, subject: &Subject) -> Option<(Principal, String)> {
    match subject {
        Subject::Group(n) => Some((Principal::GroupName(n.clone()), n.clone())),
        Subject::User(n) => Some((Principal::UserName(n.clone()), n.clone())),
        Subject::ServicePrincipal(n) => rendered
            .resources()
            .any(|r| {
                r.key.workspace == ws && r.key.kind == Kind::ServicePrincipal && r.key.name == *n
            })
            .then(|| {
                let reference = format!("${{resources.service_principals.{n}.application_id}}");
                (
                    Principal::ServicePrincipalName(reference.clone()),
                    reference,
                )
            }),
    }
}

/// The rank of a level among its kind's; IS_OWNER above every other.
fn rank(kind: Kind, level: &str) -> usize {
    if level == "IS_OWNER" {
        return usize::MAX;
    }
    levels_for(kind)
        .and_then(|levels| {
            levels
                .iter()
                .filter(|l| **l != "IS_OWNER")
                .position(|l| *l == level)
        })
        .unwrap_or(0)
}

impl Merge<'_> {
    fn acls(&mut self, principal: &Principal, given: &mut Given) {
        let Merge {
            rendered,
            ws,
            role,
            binding,
            diags,
            bound,
            gives,
        } = self;
        let ws: &str = ws;
        let source = format!("role binding `{}`", binding.name);
        for app in rendered.apps.iter_mut() {
            for r in app.resources.iter_mut().filter(|r| r.key.workspace == ws) {
                let labels = app.labels.get(&r.key);
                for rule in role
                    .permissions
                    .iter()
                    .filter(|rule| rule.reaches(&r.key, labels))
                {
                    let slot = (r.key.clone(), principal.clone());
                    match r.permissions.iter_mut().find(|e| e.principal == *principal) {
                        None => {
                            r.permissions.push(PermissionEntry {
                                principal: principal.clone(),
                                permission_level: rule.level.clone(),
                            });
                            given.insert(slot, (rule.level.clone(), source.clone()));
                            bound.push(gives.of("ACL", r.key.to_string(), &rule.level));
                        }
                        Some(entry) if entry.permission_level == rule.level => {}
                        Some(entry) => {
                            let (other, from) = given.get(&slot).cloned().unwrap_or_else(|| {
                                (
                                    entry.permission_level.clone(),
                                    format!("{}:{}", r.origin.file, r.origin.line),
                                )
                            });
                            let higher = if rank(r.key.kind, &rule.level)
                                > rank(r.key.kind, &entry.permission_level)
                            {
                                rule.level.clone()
                            } else {
                                entry.permission_level.clone()
                            };
                            diags.warn(
                                At::new(&binding.origin.file, binding.origin.line, binding.origin.column, "spec.role"),
                                format!(
                                    "{} gets {} on {} from {source} and {other} from {from}; the higher, {higher}, applies",
                                    who(principal),
                                    rule.level,
                                    r.key,
                                ),
                            );
                            if higher == rule.level {
                                // This binding's level wins: it is what gives it now.
                                entry.permission_level = higher.clone();
                                given.insert(slot, (higher, source.clone()));
                                let given_here = gives.of("ACL", r.key.to_string(), &rule.level);
                                bound.retain(|b| !b.same_slot(&given_here));
                                bound.push(given_here);
                            }
                        }
                    }
                }
            }
        }
    }

    fn grants(&mut self, grantee: &str) {
        let Merge {
            rendered,
            ws,
            role,
            binding,
            diags,
            bound,
            gives,
        } = self;
        let ws: &str = ws;
        for rule in &role.grants {
            for name in &rule.names {
                let target = rendered.apps.iter().enumerate().find_map(|(a, app)| {
                    app.resources
                        .iter()
                        .position(|r| r.key.workspace == ws && rule.manages(rendered, r, name))
                        .map(|i| (a, i))
                });
                let Some((a, i)) = target else {
                    if has_blocked_apps(rendered, ws) {
                        // Managed, perhaps, by a blocked app, which plans nothing.
                        continue;
                    }
                    diags.error(
                        At::new(&role.origin.file, role.origin.line, role.origin.column, "spec.grants"),
                        format!(
                            "role `{}` (bound by `{}`) grants on {} `{name}` in {ws}, but no Grants resource manages it there; declare one, Mortar grants only on securables it manages",
                            role.name, binding.name, rule.securable
                        ),
                    );
                    continue;
                };
                let object = securable_of(rendered, ws, &rendered.apps[a].resources[i].spec)
                    .unwrap_or_else(|| format!("{} {name}", rule.securable.to_ascii_lowercase()));
                let spec = &mut rendered.apps[a].resources[i].spec;
                let Some(assignments) = spec
                    .get_mut("privilege_assignments")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                match assignments
                    .iter_mut()
                    .find(|x| x.get("principal").and_then(Value::as_str) == Some(grantee))
                {
                    Some(existing) => {
                        if let Some(privileges) =
                            existing.get_mut("privileges").and_then(Value::as_array_mut)
                        {
                            for p in &rule.privileges {
                                if !privileges.iter().any(|x| x.as_str() == Some(p)) {
                                    privileges.push(json!(p));
                                    bound.push(gives.of("grant", object.clone(), p));
                                }
                            }
                        }
                    }
                    None => {
                        assignments
                            .push(json!({"principal": grantee, "privileges": rule.privileges}));
                        for p in &rule.privileges {
                            bound.push(gives.of("grant", object.clone(), p));
                        }
                    }
                }
            }
        }
    }

    fn entitlements(&mut self, subject: &Subject) {
        let Merge {
            rendered,
            ws,
            role,
            binding,
            diags,
            bound,
            gives,
        } = self;
        let ws: &str = ws;
        if role.entitlements.is_empty() {
            return;
        }
        let target = rendered
            .apps
            .iter_mut()
            .flat_map(|a| a.resources.iter_mut())
            .find(|r| {
                r.key.workspace == ws
                    && match subject {
                        Subject::Group(n) => {
                            r.key.kind == Kind::Group
                                && (r.key.name == *n
                                    || r.spec.get("displayName").and_then(Value::as_str) == Some(n))
                        }
                        Subject::ServicePrincipal(n) => {
                            r.key.kind == Kind::ServicePrincipal && r.key.name == *n
                        }
                        Subject::User(_) => false,
                    }
            });
        let Some(r) = target else {
            diags.error(
                At::new(&binding.origin.file, binding.origin.line, binding.origin.column, "spec.subjects"),
                format!(
                    "role `{}` carries entitlements, which Mortar sets only on groups and service principals it declares; {} in {ws} is not one",
                    role.name,
                    subject.describe()
                ),
            );
            return;
        };
        let Some(spec) = r.spec.as_object_mut() else {
            return;
        };
        let list = spec.entry("entitlements").or_insert_with(|| json!([]));
        if let Some(items) = list.as_array_mut() {
            for e in &role.entitlements {
                if !items
                    .iter()
                    .any(|x| x.get("value").and_then(Value::as_str) == Some(e))
                {
                    items.push(json!({ "value": e }));
                    bound.push(gives.of("entitlement", r.key.to_string(), e));
                }
            }
        }
    }
}

fn who(p: &Principal) -> String {
    match p {
        Principal::UserName(n) => format!("user {n}"),
        Principal::GroupName(n) => format!("group {n}"),
        Principal::ServicePrincipalName(s) => {
            let name = reference::in_str(s)
                .into_iter()
                .next()
                .map(|r| r.name)
                .unwrap_or_else(|| s.clone());
            format!("service principal {name}")
        }
    }
}
