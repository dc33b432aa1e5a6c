//! `--filter` for `mortar import workspace`: conditions on a live object,
//! all of which must hold. Each is one of
//!
//! - `name=GLOB` / `name!=GLOB`: the object's name (a job's `name`, a
//!   group's `displayName`, a schema's `catalog.schema`, a notebook's path);
//! - `app=NAME`: owned by that Mortar app (by ownership tag or inventory);
//!   `app=` (empty): owned by no app;
//! - `tag.KEY=GLOB`: a tag of a kind that has them (jobs' `tags`,
//!   clusters' and pools' `custom_tags`, warehouses' custom tags).
//!
//! `*` matches any run of characters and `?` one. Conditions are separated
//! by commas or given as repeated `--filter`s.

use std::collections::BTreeMap;

use crate::config::glob_match;

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Name { glob: String, negated: bool },
    App(Option<String>),
    Tag { key: String, glob: String },
}

/// Conditions that must all hold (none: everything passes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter(Vec<Condition>);

/// Why a `--filter` expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--filter `{text}`: {reason} (expected name=GLOB, name!=GLOB, app=NAME or tag.KEY=GLOB, separated by commas)"
)]
pub struct FilterError {
    pub text: String,
    pub reason: &'static str,
}

/// What a condition is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub name: &'a str,
    /// The owning app, if any.
    pub app: Option<&'a str>,
    /// Its tags, as its kind keeps them.
    pub tags: &'a BTreeMap<String, String>,
}

impl Filter {
    /// Parses every `--filter` given.
    pub fn parse(expressions: &[String]) -> Result<Filter, FilterError> {
        let mut out = Vec::new();
        for expression in expressions {
            for text in expression.split(',').map(str::trim) {
                if text.is_empty() {
                    continue;
                }
                out.push(Condition::parse(text)?);
            }
        }
        Ok(Filter(out))
    }

    /// True when every condition holds for `subject`.
    pub fn admits(&self, subject: &Subject<'_>) -> bool {
        self.0.iter().all(|c| c.holds(subject))
    }

    /// The apps `app=NAME` conditions name.
    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|c| match c {
            Condition::App(Some(a)) => Some(a.as_str()),
            _ => None,
        })
    }

    /// Only the conditions on ownership (`app=`): what applies to objects
    /// found through others (the grants on a catalog the filter chose).
    pub fn ownership_only(&self) -> Filter {
        Filter(
            self.0
                .iter()
                .filter(|c| matches!(c, Condition::App(_)))
                .cloned()
                .collect(),
        )
    }
}

impl Condition {
    fn parse(text: &str) -> Result<Condition, FilterError> {
        let refuse = |reason| FilterError {
            text: text.to_string(),
            reason,
        };
        if let Some(glob) = text.strip_prefix("name!=") {
            return Ok(Condition::Name {
                glob: glob.to_string(),
                negated: true,
            });
        }
        let (field, value) = text.split_once('=').ok_or_else(|| refuse("no `=`"))?;
        match field.trim() {
            "name" => Ok(Condition::Name {
                glob: value.to_string(),
                negated: false,
            }),
            "app" => Ok(Condition::App(
                Some(value.trim().to_string()).filter(|a| !a.is_empty()),
            )),
            other => match other.strip_prefix("tag.") {
                Some(key) if !key.is_empty() => Ok(Condition::Tag {
                    key: key.to_string(),
                    glob: value.to_string(),
                }),
                _ => Err(refuse("unknown field")),
            },
        }
    }

    fn holds(&self, s: &Subject<'_>) -> bool {
        match self {
            Condition::Name { glob, negated } => glob_match(glob, s.name) != *negated,
            Condition::App(app) => s.app == app.as_deref(),
            Condition::Tag { key, glob } => s.tags.get(key).is_some_and(|v| glob_match(glob, v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(
        name: &'a str,
        app: Option<&'a str>,
        tags: &'a BTreeMap<String, String>,
    ) -> Subject<'a> {
        Subject { name, app, tags }
    }

    #[test]
    fn conditions_all_hold_across_commas_and_repeats() {
        let raw = BTreeMap::from([("team".to_string(), "data-eng".to_string())]);
        let none = BTreeMap::new();
        let f = Filter::parse(&["name=etl-*, tag.team=data-*".into(), "app=".into()]).unwrap();
        assert!(f.admits(&subject("etl-nightly", None, &raw)));
        assert!(!f.admits(&subject("etl-nightly", Some("a"), &raw)));
        assert!(!f.admits(&subject("bi-daily", None, &raw)));
        assert!(!f.admits(&subject("etl-x", None, &none)));
        let not = Filter::parse(&["name!=tmp-*".into()]).unwrap();
        assert!(!not.admits(&subject("tmp-1", None, &raw)));
        assert!(Filter::default().admits(&subject("x", Some("a"), &raw)));
        let app = Filter::parse(&["name=x*,app=team".into()]).unwrap();
        assert_eq!(app.apps().collect::<Vec<_>>(), vec!["team"]);
        let owned = app.ownership_only();
        assert!(owned.admits(&subject("catalog/y", Some("team"), &none)));
        assert!(!owned.admits(&subject("catalog/y", None, &none)));
    }

    #[test]
    fn a_malformed_condition_is_refused_by_name() {
        let err = Filter::parse(&["owner~x".into()]).unwrap_err();
        assert_eq!(err.text, "owner~x");
        assert!(err.to_string().contains("expected name=GLOB"));
        assert!(Filter::parse(&["color=red".into()]).is_err());
        assert!(Filter::parse(&["tag.=x".into()]).is_err());
    }
}
