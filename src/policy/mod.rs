//! Guardrails as code: policies in Rego, OPA's policy language, kept under
//! `policies/` in the manifest repository and evaluated in-process (the
//! `regorus` interpreter) on every plan before apply, and by `validate`.
//! A `Project` lists the packages its apps must pass (`spec.policies`).
//!
//! ```text
//! library   policies/**.rego → PolicySet (parsed once per revision)
//! input     app + project + resources + actions + revision → input document
//! evaluate  PolicySet × input → deny / warn findings, or an error
//! ```
//!
//! A `deny` blocks the app like a project violation (its siblings go on);
//! a `warn` is shown; a policy that does not parse or fails to evaluate is
//! an error, never a pass. No I/O here but reading the source tree.

mod evaluate;
mod input;
mod library;
mod testing;

pub use evaluate::{Finding, Findings, PolicyError, evaluate};
pub use input::{RevisionFacts, Subject};
pub use library::{POLICY_DIR, PolicyFile, PolicySet, TEST_SUFFIX};
pub use testing::{TestOutcome, run_tests};

use crate::manifest::diag::At;
use crate::manifest::{Diagnostics, Project, Rendered, RenderedApp};

impl Finding {
    /// The finding as a reader wants it: the resource's file and line
    /// first when it names one, and the policy last.
    pub fn text(&self, app: &RenderedApp) -> String {
        let resource = self
            .key
            .as_ref()
            .and_then(|k| app.resources.iter().find(|r| &r.key == k));
        match resource {
            Some(r) => format!(
                "{}:{}: {}: {} (policy {})",
                r.origin.file, r.origin.line, r.key, self.message, self.package
            ),
            None => format!(
                "{}:{}: app {}: {} (policy {})",
                app.origin.file, app.origin.line, app.name, self.message, self.package
            ),
        }
    }
}

/// The project `app` names, or the implicit permissive one.
fn project_of<'a>(rendered: &'a Rendered, name: &str, implicit: &'a Project) -> &'a Project {
    rendered
        .projects
        .iter()
        .find(|p| p.name == name)
        .unwrap_or(implicit)
}

/// `validate`'s view: every app's guardrails over its declared resources
/// (no plan, so no actions). A deny is an error at the resource it names;
/// a warn a warning; a policy that fails, an error at the project's
/// reference to it.
pub fn validate(set: &PolicySet, rendered: &Rendered) -> Diagnostics {
    let mut diags = set.check_projects(&rendered.projects);
    if diags.has_errors() {
        return diags;
    }
    for app in &rendered.apps {
        let implicit = Project::permissive(&app.project);
        let project = project_of(rendered, &app.project, &implicit);
        let subject = Subject {
            app,
            project,
            actions: None,
            revision: None,
        };
        match evaluate(set, &subject) {
            Ok(findings) => {
                for (finding, error) in findings
                    .deny
                    .iter()
                    .map(|f| (f, true))
                    .chain(findings.warn.iter().map(|f| (f, false)))
                {
                    let origin = finding
                        .key
                        .as_ref()
                        .and_then(|k| app.resources.iter().find(|r| &r.key == k))
                        .map_or(&app.origin, |r| &r.origin);
                    let at = At::new(&origin.file, origin.line, origin.column, "");
                    let message = match &finding.key {
                        Some(key) => {
                            format!("{key}: {} (policy {})", finding.message, finding.package)
                        }
                        None => format!(
                            "app {}: {} (policy {})",
                            app.name, finding.message, finding.package
                        ),
                    };
                    if error {
                        diags.error(at, message);
                    } else {
                        diags.warn(at, message);
                    }
                }
            }
            Err(e) => {
                let reference = project
                    .policies
                    .iter()
                    .position(|p| matches!(&e, PolicyError::Evaluate { package, .. } | PolicyError::Shape { package, .. } | PolicyError::Missing { package } if *package == p.package));
                let (line, column, field) = match reference {
                    Some(i) => (
                        project.policies[i].line,
                        project.policies[i].column,
                        format!("spec.policies[{i}]"),
                    ),
                    None => (project.origin.line, project.origin.column, String::new()),
                };
                diags.error(
                    At::new(&project.origin.file, line, column, &field),
                    format!("app {}: {e}", app.name),
                );
            }
        }
    }
    diags.finish();
    diags
}
