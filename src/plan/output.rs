//! Plan renderers: readable text for people (optionally colored) and stable,
//! versioned JSON for CI bots (documented in docs/plan-json.md).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::model::{AppPlan, Plan, PlannedAction, Summary};
use crate::manifest::diag::printable;
use crate::model::Principal;
use crate::model::{ActionKind, FieldChange, PermissionChange};

/// How the text rendering looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Use ANSI colors.
    pub color: bool,
    /// List resources with nothing to do too.
    pub show_unchanged: bool,
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The longest value shown inline before it is cut.
const MAX_VALUE: usize = 160;

struct Painter(bool);

impl Painter {
    /// `text` (escaped: see [`printable`]) in `color`.
    fn paint(&self, color: &str, text: &str) -> String {
        let text = printable(text);
        if self.0 {
            format!("{color}{text}{RESET}")
        } else {
            text.into_owned()
        }
    }
}

/// The plan as text: per app, per resource, `+` create, `~` update (with the
/// changed fields old → new), `-` delete, `!` conflict or violation, `?`
/// guardrail warning.
pub fn text(plan: &Plan, options: TextOptions) -> String {
    let apps: Vec<&AppPlan> = plan.apps.iter().collect();
    render(plan.revision.as_deref(), &apps, &plan.summary, options)
}

/// One app's part of a plan, as [`text`] prints a plan of that app alone.
pub fn app_plan_text(revision: Option<&str>, app: &AppPlan, options: TextOptions) -> String {
    render(revision, &[app], &app.summary, options)
}

fn render(
    revision: Option<&str>,
    apps: &[&AppPlan],
    summary: &Summary,
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    if let Some(rev) = revision {
        let _ = writeln!(out, "Plan at revision {}", printable(rev));
        out.push('\n');
    }
    for app in apps {
        app_text(&mut out, app, options, &p);
    }
    let _ = writeln!(out, "Plan: {}.", summary_text(summary));
    if !summary.has_changes() {
        let _ = writeln!(out, "No changes: the workspaces match Git.");
    }
    out
}

fn app_text(out: &mut String, app: &AppPlan, options: TextOptions, p: &Painter) {
    let _ = writeln!(out, "app {}", printable(&app.app));
    for v in &app.violations {
        let target = v.key.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} violation of rule `{}`{}: {}",
            p.paint(BOLD_RED, "!"),
            printable(&v.rule),
            printable(&target),
            printable(&v.message)
        );
    }
    for w in &app.warnings {
        let target = w.key.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} warning of rule `{}`{}: {}",
            p.paint(YELLOW, "?"),
            printable(&w.rule),
            printable(&target),
            printable(&w.message)
        );
    }
    if app.is_blocked() {
        let _ = writeln!(
            out,
            "  {}",
            p.paint(
                BOLD_RED,
                "this app is blocked by the violations above: nothing will be applied"
            )
        );
    }
    for action in &app.actions {
        if action.action == ActionKind::NoOp && !options.show_unchanged {
            continue;
        }
        action_text(out, action, p);
    }
    let _ = writeln!(out, "  {}", p.paint(DIM, &summary_text(&app.summary)));
    out.push('\n');
}

fn action_text(out: &mut String, a: &PlannedAction, p: &Painter) {
    let (sign, color) = match a.action {
        ActionKind::Create => ("+", GREEN),
        ActionKind::Update => ("~", YELLOW),
        ActionKind::Adopt => ("~", YELLOW),
        ActionKind::Delete => ("-", RED),
        ActionKind::DeleteSkipped => ("-", DIM),
        ActionKind::Release | ActionKind::Forget => (" ", DIM),
        ActionKind::Conflict => ("!", BOLD_RED),
        ActionKind::NoOp => (" ", DIM),
    };
    let mut line = format!("{sign} {}", a.address);
    if let Some(id) = &a.id {
        let _ = write!(line, " (id {id})");
    }
    let label = match a.action {
        ActionKind::Create | ActionKind::Update | ActionKind::Delete => None,
        ActionKind::Adopt => Some("adopt"),
        ActionKind::DeleteSkipped => Some("prune disabled"),
        ActionKind::Release => Some("release"),
        ActionKind::Forget => Some("forget"),
        ActionKind::Conflict => Some("conflict"),
        ActionKind::NoOp => Some("unchanged"),
    };
    if let Some(label) = label {
        let _ = write!(line, " [{label}]");
    }
    if a.drift {
        line.push_str(" [drift]");
    }
    let _ = writeln!(out, "  {}", p.paint(color, &line));
    if let Some(reason) = &a.reason {
        let _ = writeln!(out, "      {}", p.paint(DIM, reason));
    }
    for c in &a.changes {
        match privileges_text(c, p) {
            Some(lines) => {
                for line in lines {
                    let _ = writeln!(out, "      {line}");
                }
            }
            None => {
                let _ = writeln!(out, "      {}", field_text(c, p));
            }
        }
    }
    for c in &a.permission_changes {
        let _ = writeln!(out, "      {}", permission_text(c, p));
    }
}

fn field_text(c: &FieldChange, p: &Painter) -> String {
    let drift = if c.drift { " (drift)" } else { "" };
    match (&c.old, &c.new) {
        (None, Some(new)) => p.paint(GREEN, &format!("+ {}: {}{drift}", c.path, value_text(new))),
        (Some(old), None) => p.paint(RED, &format!("- {}: {}{drift}", c.path, value_text(old))),
        (Some(old), Some(new)) => p.paint(
            YELLOW,
            &format!(
                "~ {}: {} → {}{drift}",
                c.path,
                value_text(old),
                value_text(new)
            ),
        ),
        (None, None) => format!("  {}", printable(&c.path)),
    }
}

/// A changed list of `{principal, privileges}` (a Grants resource's
/// `privilege_assignments`) as one line per principal whose privileges
/// change, instead of two long arrays; `None` for any other change.
fn privileges_text(c: &FieldChange, p: &Painter) -> Option<Vec<String>> {
    fn by_principal(v: &Value) -> Option<BTreeMap<&str, String>> {
        v.as_array()?
            .iter()
            .map(|e| {
                let mut privileges: Vec<&str> = e
                    .get("privileges")?
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                privileges.sort_unstable();
                Some((e.get("principal")?.as_str()?, privileges.join(", ")))
            })
            .collect()
    }
    let old = by_principal(c.old.as_ref()?)?;
    let new = by_principal(c.new.as_ref()?)?;
    let drift = if c.drift { " (drift)" } else { "" };
    let mut lines = vec![p.paint(YELLOW, &format!("~ {}:{drift}", c.path))];
    let principals: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    for principal in principals {
        let line = match (old.get(principal), new.get(principal)) {
            (None, Some(n)) => p.paint(GREEN, &format!("    + {principal}: {n}")),
            (Some(o), None) => p.paint(RED, &format!("    - {principal}: {o}")),
            (Some(o), Some(n)) if o != n => {
                p.paint(YELLOW, &format!("    ~ {principal}: {o} → {n}"))
            }
            _ => continue,
        };
        lines.push(line);
    }
    Some(lines)
}

fn permission_text(c: &PermissionChange, p: &Painter) -> String {
    let who = match &c.principal {
        Principal::UserName(n) => format!("user {n}"),
        Principal::GroupName(n) => format!("group {n}"),
        Principal::ServicePrincipalName(n) => format!("service principal {n}"),
    };
    let drift = if c.drift { " (drift)" } else { "" };
    match (&c.old, &c.new) {
        (None, Some(new)) => p.paint(GREEN, &format!("+ permission {who}: {new}{drift}")),
        (Some(old), None) => p.paint(RED, &format!("- permission {who}: {old}{drift}")),
        (Some(old), Some(new)) => {
            p.paint(YELLOW, &format!("~ permission {who}: {old} → {new}{drift}"))
        }
        (None, None) => format!("  permission {}", printable(&who)),
    }
}

/// A value in one line, cut when long.
fn value_text(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= MAX_VALUE {
        return s;
    }
    let cut: String = s.chars().take(MAX_VALUE).collect();
    format!("{cut}… ({} chars)", s.chars().count())
}

/// `2 to create, 1 to update, …` listing only non-zero counts.
pub fn summary_text(s: &Summary) -> String {
    let parts: Vec<String> = [
        (s.create, "to create"),
        (s.update, "to update"),
        (s.adopt, "to adopt"),
        (s.delete, "to delete"),
        (s.delete_skipped, "to delete but prune is disabled"),
        (s.release, "to release"),
        (s.forget, "to forget"),
        (s.conflict, "in conflict"),
        (
            s.violations,
            if s.violations == 1 {
                "rule violation"
            } else {
                "rule violations"
            },
        ),
        (s.no_op, "unchanged"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let mut text = if parts.is_empty() {
        "nothing to do".to_string()
    } else {
        parts.join(", ")
    };
    if s.drift > 0 {
        let _ = write!(text, " ({} healing drift)", s.drift);
    }
    text
}

/// The plan as pretty JSON (`format_version` 1).
pub fn json(plan: &Plan) -> String {
    // A plan holds only strings, numbers, booleans and JSON values: it
    // always serializes.
    serde_json::to_string_pretty(plan).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(old: Value, new: Value) -> FieldChange {
        FieldChange {
            path: "/privilege_assignments".into(),
            old: Some(old),
            new: Some(new),
            drift: false,
            sensitive: false,
        }
    }

    #[test]
    fn grants_show_one_line_per_principal_whose_privileges_change() {
        let c = change(
            json!([
                {"principal": "analysts", "privileges": ["USE_CATALOG", "BROWSE"]},
                {"principal": "data-engineers", "privileges": ["SELECT"]},
                {"principal": "interns", "privileges": ["SELECT"]},
            ]),
            json!([
                {"principal": "analysts", "privileges": ["BROWSE", "USE_CATALOG"]},
                {"principal": "data-engineers", "privileges": ["MODIFY", "SELECT"]},
                {"principal": "7d8c2b1a-0000-4000-8000-000000000001", "privileges": ["USE_CATALOG"]},
            ]),
        );
        let lines = privileges_text(&c, &Painter(false)).expect("a privilege list");
        assert_eq!(
            lines,
            [
                "~ /privilege_assignments:",
                "    + 7d8c2b1a-0000-4000-8000-000000000001: USE_CATALOG",
                "    ~ data-engineers: SELECT → MODIFY, SELECT",
                "    - interns: SELECT",
            ]
        );
    }

    #[test]
    fn other_lists_keep_the_one_line_form() {
        let c = change(json!([1, 2]), json!([1, 2, 3]));
        assert!(privileges_text(&c, &Painter(false)).is_none());
        let c = change(json!([{"principal": "a"}]), json!([]));
        assert!(privileges_text(&c, &Painter(false)).is_none());
    }
}
