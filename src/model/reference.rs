//! `${resources.<plural>.<name>.<attribute>}` references between resources,
//! and their only parser.
//!
//! A rendered spec keeps references as text until apply knows the ids they
//! stand for, and keeps the escape `$${` (a literal `${`) as long as the
//! spec is Mortar's own (plans, the inventory), so a literal can never be
//! mistaken for a reference. [`resolve_value`] replaces the references whose
//! ids are known; [`Mode::Final`] also removes the escapes, for what is sent
//! to a workspace or compared with it. A string that is exactly one
//! reference in a numeric field becomes a number.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Kind, ResourceKey};

const OPEN: &str = "${";
const ESCAPE: &str = "$${";
const PREFIX: &str = "resources.";

/// What a reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    /// The Databricks id (job id, cluster id, SCIM id, …).
    Id,
    /// A service principal's application id.
    ApplicationId,
}

impl Attribute {
    fn parse(text: &str) -> Option<Attribute> {
        match text {
            "id" => Some(Attribute::Id),
            "application_id" => Some(Attribute::ApplicationId),
            _ => None,
        }
    }
}

/// One reference: the resource (in the referencing resource's workspace)
/// and which of its ids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    pub kind: Kind,
    pub name: String,
    pub attribute: Attribute,
}

impl Reference {
    /// The key the reference names, in the referencing resource's workspace.
    pub fn key_in(&self, workspace: &str) -> ResourceKey {
        ResourceKey {
            workspace: workspace.to_string(),
            kind: self.kind,
            name: self.name.clone(),
        }
    }
}

/// The words of a reference as written, before they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub plural: &'a str,
    pub name: &'a str,
    pub attribute: &'a str,
}

impl Parts<'_> {
    /// The reference, when the kind is a Databricks kind and the attribute
    /// is one it has.
    pub fn typed(&self) -> Option<Reference> {
        let kind = Kind::from_plural(self.plural).filter(|k| k.is_databricks())?;
        let attribute = Attribute::parse(self.attribute)?;
        if attribute == Attribute::ApplicationId && kind != Kind::ServicePrincipal {
            return None;
        }
        Some(Reference {
            kind,
            name: self.name.to_string(),
            attribute,
        })
    }
}

/// A piece of a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Literal text.
    Text(&'a str),
    /// `$${`: a literal `${`.
    Escape,
    /// `${resources.…}`: `raw` is the whole placeholder as written; `parts`
    /// is `None` when it does not have the `<plural>.<name>.<attribute>` shape.
    Reference {
        raw: &'a str,
        parts: Option<Parts<'a>>,
    },
}

/// Splits `s` into text, escapes and references. `${…}` placeholders that
/// are not `resources.` references stay text.
pub fn segments(s: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        if rest[..start].ends_with('$') {
            if start > 1 {
                out.push(Segment::Text(&rest[..start - 1]));
            }
            out.push(Segment::Escape);
            rest = &rest[start + OPEN.len()..];
            continue;
        }
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim();
        let raw = &rest[start..start + OPEN.len() + end + 1];
        if start > 0 {
            out.push(Segment::Text(&rest[..start]));
        }
        match inner.strip_prefix(PREFIX) {
            Some(body) => out.push(Segment::Reference {
                raw,
                parts: parts(body),
            }),
            None => out.push(Segment::Text(raw)),
        }
        rest = &rest[start + raw.len()..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

/// `<plural>.<name>.<attribute>`; the name may hold dots.
fn parts(body: &str) -> Option<Parts<'_>> {
    let (plural, rest) = body.split_once('.')?;
    let (name, attribute) = rest.rsplit_once('.')?;
    [plural, name, attribute]
        .iter()
        .all(|p| !p.is_empty())
        .then_some(Parts {
            plural,
            name,
            attribute,
        })
}

/// True when `s` is exactly one well-formed reference, nothing around it
/// (it then takes the type its field needs once resolved).
pub fn is_whole(s: &str) -> bool {
    matches!(
        segments(s).as_slice(),
        [Segment::Reference { parts: Some(_), .. }]
    )
}

/// The well-formed references in one string.
pub fn in_str(s: &str) -> Vec<Reference> {
    if !s.contains(OPEN) {
        return Vec::new();
    }
    segments(s)
        .into_iter()
        .filter_map(|seg| match seg {
            Segment::Reference { parts: Some(p), .. } => p.typed(),
            _ => None,
        })
        .collect()
}

/// Every well-formed reference anywhere in a value, sorted, each once.
pub fn in_value(value: &Value) -> Vec<Reference> {
    fn walk(value: &Value, out: &mut BTreeSet<Reference>) {
        match value {
            Value::String(s) => out.extend(in_str(s)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, &mut out);
    out.into_iter().collect()
}

/// How far to take a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace known references, keep escapes: the text can be resolved
    /// again (what plans and the inventory hold).
    Partial,
    /// Also remove the escapes once no reference is left: the text as a
    /// workspace sees it.
    Final,
}

/// A string with its references resolved as far as the ids allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The known references replaced. Escapes are removed only in
    /// [`Mode::Final`] with no reference left; otherwise they and the
    /// unresolved references are kept as written.
    pub text: String,
    /// Some reference is still unresolved.
    pub unresolved: bool,
}

/// Resolves the references in `s` with `lookup`.
pub fn resolve_str(s: &str, mode: Mode, lookup: &dyn Fn(&Reference) -> Option<String>) -> Resolved {
    if !s.contains(OPEN) {
        return Resolved {
            text: s.to_string(),
            unresolved: false,
        };
    }
    let segs = segments(s);
    let values: Vec<Option<String>> = segs
        .iter()
        .map(|seg| match seg {
            Segment::Reference { parts: Some(p), .. } => p.typed().and_then(|r| lookup(&r)),
            _ => None,
        })
        .collect();
    let unresolved = segs
        .iter()
        .zip(&values)
        .any(|(seg, v)| matches!(seg, Segment::Reference { .. }) && v.is_none());
    let mut text = String::with_capacity(s.len());
    for (seg, value) in segs.iter().zip(values) {
        match (seg, value) {
            (Segment::Text(t), _) => text.push_str(t),
            (Segment::Escape, _) => text.push_str(if mode == Mode::Final && !unresolved {
                OPEN
            } else {
                ESCAPE
            }),
            (Segment::Reference { .. }, Some(v)) => text.push_str(&v),
            (Segment::Reference { raw, .. }, None) => text.push_str(raw),
        }
    }
    Resolved { text, unresolved }
}

/// Resolves references throughout `value`. `numeric` lists the JSON
/// pointers whose value is exactly one reference in a numeric field: a
/// resolved id that is a number goes there as a number. Returns the value
/// and whether any reference is left.
pub fn resolve_value(
    value: &Value,
    numeric: &[String],
    mode: Mode,
    lookup: &dyn Fn(&Reference) -> Option<String>,
) -> (Value, bool) {
    let mut left = false;
    let mut walk = Walk {
        pointer: String::new(),
        numeric,
        mode,
        lookup,
        left: &mut left,
    };
    let out = walk.value(value);
    (out, left)
}

struct Walk<'a> {
    pointer: String,
    numeric: &'a [String],
    mode: Mode,
    lookup: &'a dyn Fn(&Reference) -> Option<String>,
    left: &'a mut bool,
}

impl Walk<'_> {
    fn value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(s) => self.string(s),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.nested(&i.to_string(), item))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, item)| {
                        let escaped = k.replace('~', "~0").replace('/', "~1");
                        (k.clone(), self.nested(&escaped, item))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn nested(&mut self, segment: &str, value: &Value) -> Value {
        let len = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(segment);
        let out = self.value(value);
        self.pointer.truncate(len);
        out
    }

    fn string(&mut self, s: &str) -> Value {
        let r = resolve_str(s, self.mode, self.lookup);
        *self.left |= r.unresolved;
        if !r.unresolved
            && r.text != s
            && self.numeric.contains(&self.pointer)
            && let Ok(n) = r.text.parse::<i64>()
        {
            return Value::from(n);
        }
        Value::String(r.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ids() -> BTreeMap<(Kind, &'static str, Attribute), &'static str> {
        BTreeMap::from([
            ((Kind::Cluster, "etl", Attribute::Id), "0101-abc"),
            ((Kind::Job, "nightly", Attribute::Id), "1000000000064"),
            (
                (Kind::ServicePrincipal, "bot", Attribute::ApplicationId),
                "6f1c",
            ),
        ])
    }

    fn lookup(r: &Reference) -> Option<String> {
        ids()
            .iter()
            .find(|((k, n, a), _)| *k == r.kind && *n == r.name && *a == r.attribute)
            .map(|(_, v)| v.to_string())
    }

    #[test]
    fn finds_references_with_dotted_names_and_ignores_other_placeholders() {
        let refs = in_str("${resources.clusters.etl.v2.id}/${var.x}/${resources.nope.a.id}");
        assert_eq!(
            refs,
            vec![Reference {
                kind: Kind::Cluster,
                name: "etl.v2".into(),
                attribute: Attribute::Id,
            }]
        );
        assert!(in_str("plain").is_empty());
        assert!(in_str("${resources.clusters.x}").is_empty());
        assert!(in_str("${resources.jobs.x.application_id}").is_empty());
        assert_eq!(in_str("${ resources.jobs.x.id }").len(), 1);
    }

    #[test]
    fn an_escaped_placeholder_is_never_a_reference() {
        assert!(in_str("$${resources.clusters.nope.id}").is_empty());
        let r = resolve_str("$${resources.clusters.nope.id}", Mode::Final, &lookup);
        assert_eq!(r.text, "${resources.clusters.nope.id}");
        assert!(!r.unresolved);
        // Mixed with a reference whose id is not known yet, the escape is
        // kept so the text can be resolved again.
        let s = "$${x}-${resources.jobs.later.id}";
        let r = resolve_str(s, Mode::Final, &lookup);
        assert_eq!(r.text, s);
        assert!(r.unresolved);
        assert_eq!(
            resolve_str("$${x}-${resources.clusters.etl.id}", Mode::Final, &lookup).text,
            "${x}-0101-abc"
        );
        // Plans and the inventory keep the escape, so the text can be
        // resolved again without reading the literal as a reference.
        let partial = resolve_str("$${x}-${resources.clusters.etl.id}", Mode::Partial, &lookup);
        assert_eq!(partial.text, "$${x}-0101-abc");
        assert!(in_str(&partial.text).is_empty());
    }

    #[test]
    fn resolves_ids_and_application_ids() {
        let s = "${resources.clusters.etl.id}/${resources.service_principals.bot.application_id}";
        assert_eq!(
            resolve_str(s, Mode::Final, &lookup),
            Resolved {
                text: "0101-abc/6f1c".into(),
                unresolved: false
            }
        );
        let r = resolve_str("x-${resources.jobs.x.id}", Mode::Final, &lookup);
        assert_eq!(r.text, "x-${resources.jobs.x.id}");
        assert!(r.unresolved);
    }

    #[test]
    fn a_whole_reference_in_a_numeric_field_becomes_a_number() {
        let spec = serde_json::json!({
            "tasks": [{"run_job_task": {"job_id": "${resources.jobs.nightly.id}"}}],
            "description": "${resources.jobs.nightly.id}",
        });
        let numeric = vec!["/tasks/0/run_job_task/job_id".to_string()];
        let (out, left) = resolve_value(&spec, &numeric, Mode::Final, &lookup);
        assert!(!left);
        assert_eq!(
            out["tasks"][0]["run_job_task"]["job_id"],
            serde_json::json!(1000000000064_i64)
        );
        assert_eq!(out["description"], "1000000000064");
    }
}
