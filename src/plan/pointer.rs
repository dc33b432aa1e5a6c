//! RFC 6901 JSON pointers: building them while walking a document, parsing
//! them from ignore rules, matching ignore patterns, and setting or removing
//! the value a pointer names.

use serde_json::Value;

use super::PlanError;

/// Appends one escaped segment to a pointer.
pub fn push(path: &str, segment: &str) -> String {
    let mut out = String::with_capacity(path.len() + segment.len() + 1);
    out.push_str(path);
    out.push('/');
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Splits a pointer into unescaped segments; `""` is the whole document.
pub fn parse(pointer: &str) -> Result<Vec<String>, PlanError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PlanError::InvalidPointer {
            pointer: pointer.to_string(),
            reason: "a JSON pointer starts with `/`".to_string(),
        });
    };
    rest.split('/').map(|raw| unescape(pointer, raw)).collect()
}

fn unescape(pointer: &str, raw: &str) -> Result<String, PlanError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => {
                return Err(PlanError::InvalidPointer {
                    pointer: pointer.to_string(),
                    reason: "`~` must be followed by `0` or `1`".to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// A parsed ignore pattern: segments where `*` matches any one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Option<String>>);

impl Pattern {
    /// Parses an ignore pointer; a segment that is exactly `*` matches any
    /// one segment (no Databricks body has a key named `*`).
    pub fn parse(pointer: &str) -> Result<Pattern, PlanError> {
        let segments = parse(pointer)?;
        Ok(Pattern(
            segments
                .into_iter()
                .map(|s| if s == "*" { None } else { Some(s) })
                .collect(),
        ))
    }

    /// True when `path` is at or below this pattern.
    pub fn covers(&self, path: &[String]) -> bool {
        self.0.len() <= path.len()
            && self
                .0
                .iter()
                .zip(path)
                .all(|(p, s)| p.as_ref().is_none_or(|p| p == s))
    }
}

/// Returns `doc` with the value at `segments` replaced by `new`; missing
/// parent objects are created. A segment that indexes past an array's end
/// appends.
pub fn set(doc: &mut Value, segments: &[String], new: Value) {
    let Some((last, parents)) = segments.split_last() else {
        *doc = new;
        return;
    };
    let mut cur = doc;
    for seg in parents {
        cur = match cur {
            Value::Array(items) => match seg.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                _ => return,
            },
            other => {
                if !other.is_object() {
                    *other = Value::Object(serde_json::Map::new());
                }
                match other {
                    Value::Object(map) => map
                        .entry(seg.clone())
                        .or_insert_with(|| Value::Object(serde_json::Map::new())),
                    _ => return,
                }
            }
        };
    }
    match cur {
        Value::Array(items) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < items.len() {
                    items[i] = new;
                } else {
                    items.push(new);
                }
            }
        }
        Value::Object(map) => {
            map.insert(last.clone(), new);
        }
        other => {
            let mut map = serde_json::Map::new();
            map.insert(last.clone(), new);
            *other = Value::Object(map);
        }
    }
}

/// Removes the value at `segments` from `doc`, if present.
pub fn remove(doc: &mut Value, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        *doc = Value::Null;
        return;
    };
    let mut cur = doc;
    for seg in parents {
        cur = match cur {
            Value::Array(items) => match seg.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                _ => return,
            },
            Value::Object(map) => match map.get_mut(seg) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    match cur {
        Value::Array(items) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        Value::Object(map) => {
            map.shift_remove(last);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_round_trip() {
        let p = push(&push("", "a/b"), "c~d");
        assert_eq!(p, "/a~1b/c~0d");
        assert_eq!(
            parse(&p).unwrap(),
            vec!["a/b".to_string(), "c~d".to_string()]
        );
    }

    #[test]
    fn rejects_malformed_pointers() {
        assert!(matches!(
            parse("a/b"),
            Err(PlanError::InvalidPointer { .. })
        ));
        assert!(matches!(
            parse("/a~2"),
            Err(PlanError::InvalidPointer { .. })
        ));
    }

    #[test]
    fn wildcard_patterns_cover_paths_below() {
        let p = Pattern::parse("/tasks/*/new_cluster").unwrap();
        let path = |s: &str| parse(s).unwrap();
        assert!(p.covers(&path("/tasks/3/new_cluster/num_workers")));
        assert!(p.covers(&path("/tasks/0/new_cluster")));
        assert!(!p.covers(&path("/tasks/0/notebook_task")));
    }

    #[test]
    fn set_and_remove_reach_nested_values() {
        let mut doc = json!({"a": {"b": [1, {"c": 2}]}});
        set(&mut doc, &parse("/a/b/1/c").unwrap(), json!(3));
        set(&mut doc, &parse("/x/y").unwrap(), json!("new"));
        remove(&mut doc, &parse("/a/b/0").unwrap());
        assert_eq!(doc, json!({"a": {"b": [{"c": 3}]}, "x": {"y": "new"}}));
    }
}
