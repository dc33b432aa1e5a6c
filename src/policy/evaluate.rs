//! Evaluating a project's guardrails on one app: each listed package's
//! `deny` and `warn` rules, with the app's input document and the
//! project's parameters for that package. A rule yields a set of messages:
//! strings, or `{ "key": ADDRESS, "message": TEXT }` objects that name the
//! resource (`input.resources[_].address`) the finding is about.

use serde_json::Value;

use super::input::Subject;
use super::library::{PolicySet, located};
use crate::model::ResourceKey;

/// One message of a `deny` or `warn` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The package whose rule produced it.
    pub package: String,
    /// The resource it is about, when the message names one of the app's.
    pub key: Option<ResourceKey>,
    pub message: String,
}

/// What an app's guardrails say: `deny` blocks the app, `warn` is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub deny: Vec<Finding>,
    pub warn: Vec<Finding>,
}

/// Why a guardrail gave no answer. Never a pass: the app is blocked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy `{package}` fails to evaluate{}: {message}", at(file, *line))]
    Evaluate {
        package: String,
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "policy `{package}`: `{rule}` yielded {found}; a rule gives strings or {{\"key\": ADDRESS, \"message\": TEXT}} objects"
    )]
    Shape {
        package: String,
        rule: &'static str,
        found: String,
    },
    #[error("policy `{package}` is not loaded")]
    Missing { package: String },
}

fn at(file: &str, line: usize) -> String {
    match (file.is_empty(), line) {
        (true, _) => String::new(),
        (false, 0) => format!(" ({file})"),
        (false, n) => format!(" ({file}:{n})"),
    }
}

impl PolicyError {
    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            PolicyError::Evaluate { .. } => "policy_evaluate",
            PolicyError::Shape { .. } => "policy_shape",
            PolicyError::Missing { .. } => "policy_missing",
        }
    }
}

/// Evaluates the guardrails `subject`'s project lists. Stops at the first
/// policy that gives no answer.
pub fn evaluate(set: &PolicySet, subject: &Subject<'_>) -> Result<Findings, PolicyError> {
    let mut findings = Findings::default();
    if subject.project.policies.is_empty() {
        return Ok(findings);
    }
    let mut document = subject.document();
    let keys: Vec<ResourceKey> = subject
        .app
        .resources
        .iter()
        .map(|r| r.key.clone())
        .collect();
    for policy in &subject.project.policies {
        let missing = || PolicyError::Missing {
            package: policy.package.clone(),
        };
        if !set.packages().contains(policy.package.as_str()) {
            return Err(missing());
        }
        let mut engine = set.engine().ok_or_else(missing)?;
        document["parameters"] = policy.parameters.clone();
        let input = serde_json::from_value::<regorus::Value>(document.clone()).map_err(|e| {
            PolicyError::Evaluate {
                package: policy.package.clone(),
                file: String::new(),
                line: 0,
                message: e.to_string(),
            }
        })?;
        engine.set_input(input);
        for (rule, out) in [("deny", &mut findings.deny), ("warn", &mut findings.warn)] {
            let messages = eval_rule(&mut engine, set, &policy.package, rule)?;
            out.extend(messages.into_iter().map(|(key, message)| Finding {
                package: policy.package.clone(),
                key: key.and_then(|k| keys.iter().find(|r| r.to_string() == k).cloned()),
                message,
            }));
        }
    }
    Ok(findings)
}

/// The messages of `data.<package>.<rule>`: none when the rule is
/// undefined; `(address, message)` pairs otherwise.
fn eval_rule(
    engine: &mut regorus::Engine,
    set: &PolicySet,
    package: &str,
    rule: &'static str,
) -> Result<Vec<(Option<String>, String)>, PolicyError> {
    let results = engine
        .eval_query(format!("data.{package}.{rule}"), false)
        .map_err(|e| {
            let text = e.to_string();
            let file = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("-->"))
                .and_then(|at| at.trim().rsplitn(3, ':').nth(2))
                .map(str::to_string)
                .or_else(|| {
                    set.files()
                        .iter()
                        .find(|f| f.package == package)
                        .map(|f| f.path.clone())
                })
                .unwrap_or_default();
            let (line, _, message) = located(&text, &file);
            PolicyError::Evaluate {
                package: package.to_string(),
                file,
                line,
                message,
            }
        })?;
    let mut out = Vec::new();
    for result in results.result {
        for expression in result.expressions {
            let value = serde_json::to_value(&expression.value).unwrap_or(Value::Null);
            let items = match value {
                Value::Array(items) => items,
                other => {
                    return Err(PolicyError::Shape {
                        package: package.to_string(),
                        rule,
                        found: describe(&other),
                    });
                }
            };
            for item in items {
                out.push(message(&item).ok_or_else(|| PolicyError::Shape {
                    package: package.to_string(),
                    rule,
                    found: format!("an element {}", describe(&item)),
                })?);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A message as a rule may give it: a string, or an object with `message`
/// (or `msg`) and an optional `key` (or `resource`) naming an address.
fn message(item: &Value) -> Option<(Option<String>, String)> {
    match item {
        Value::String(s) => Some((None, s.clone())),
        Value::Object(m) => {
            let text = m.get("message").or_else(|| m.get("msg"))?.as_str()?;
            let key = match m.get("key").or_else(|| m.get("resource")) {
                None | Some(Value::Null) => None,
                Some(Value::String(k)) => Some(k.clone()),
                Some(_) => return None,
            };
            Some((key, text.to_string()))
        }
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    let mut text = v.to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    format!("{kind} ({text})")
}
