//! SCIM list filters (`attr op "value"` joined by `and`/`or`, evaluated left
//! to right, attribute names case-insensitive) and attribute projection
//! (`attributes`, `excludedAttributes`).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::errors::ApiError;

/// One comparison of a SCIM filter.
#[derive(Debug)]
struct Condition {
    attr: String,
    op: String,
    value: String,
}

/// A filter: conditions joined left to right with `and`/`or`.
#[derive(Debug)]
pub struct Filter {
    first: Condition,
    rest: Vec<(bool, Condition)>,
}

pub fn tokenize(input: &str) -> Result<Vec<String>, ApiError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::from("\"");
            loop {
                match chars.next() {
                    Some('\\') => {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    Some('"') => break,
                    Some(ch) => s.push(ch),
                    None => {
                        return Err(ApiError::scim(
                            StatusCode::BAD_REQUEST,
                            format!("Invalid filter '{input}': unterminated string"),
                        ));
                    }
                }
            }
            tokens.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

pub fn parse_filter(input: &str) -> Result<Filter, ApiError> {
    let bad = || ApiError::scim(StatusCode::BAD_REQUEST, format!("Invalid filter '{input}'"));
    let tokens = tokenize(input)?;
    let mut iter = tokens.into_iter();
    let condition = |iter: &mut std::vec::IntoIter<String>| -> Result<Condition, ApiError> {
        let attr = iter.next().ok_or_else(bad)?;
        let op = iter.next().ok_or_else(bad)?.to_lowercase();
        if !["eq", "ne", "co", "sw", "ew"].contains(&op.as_str()) {
            return Err(bad());
        }
        let raw = iter.next().ok_or_else(bad)?;
        let value = raw.strip_prefix('"').map_or(raw.clone(), str::to_owned);
        Ok(Condition { attr, op, value })
    };
    let first = condition(&mut iter)?;
    let mut rest = Vec::new();
    while let Some(joiner) = iter.next() {
        let and = match joiner.to_lowercase().as_str() {
            "and" => true,
            "or" => false,
            _ => return Err(bad()),
        };
        rest.push((and, condition(&mut iter)?));
    }
    Ok(Filter { first, rest })
}

fn lookup_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

pub fn values_at(resource: &Value, attr: &str) -> Vec<String> {
    let mut current = vec![resource];
    for part in attr.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Array(items) => {
                    for item in items {
                        if let Some(x) = lookup_ci(item, part) {
                            next.push(x);
                        }
                    }
                }
                other => {
                    if let Some(x) = lookup_ci(other, part) {
                        next.push(x);
                    }
                }
            }
        }
        current = next;
    }
    let mut out = Vec::new();
    for v in current {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        Value::Object(_) => {
                            if let Some(s) = item.get("value").and_then(Value::as_str) {
                                out.push(s.to_owned());
                            }
                        }
                        other => out.push(other.to_string()),
                    }
                }
            }
            Value::Null => {}
            other => out.push(other.to_string()),
        }
    }
    out
}

fn holds(condition: &Condition, resource: &Value) -> bool {
    let want = condition.value.to_lowercase();
    let values = values_at(resource, &condition.attr);
    let test = |v: &String| {
        let v = v.to_lowercase();
        match condition.op.as_str() {
            "eq" => v == want,
            "co" => v.contains(&want),
            "sw" => v.starts_with(&want),
            "ew" => v.ends_with(&want),
            _ => false,
        }
    };
    if condition.op == "ne" {
        !values.iter().any(|v| v.to_lowercase() == want)
    } else {
        values.iter().any(test)
    }
}

pub fn matches(filter: &Filter, resource: &Value) -> bool {
    let mut result = holds(&filter.first, resource);
    for (and, condition) in &filter.rest {
        result = if *and {
            result && holds(condition, resource)
        } else {
            result || holds(condition, resource)
        };
    }
    result
}

pub fn project(resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let Value::Object(map) = resource else {
        return resource;
    };
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty())
            .collect()
    };
    let mut out = Map::new();
    for (key, value) in map {
        let lower = key.to_lowercase();
        if let Some(attrs) = attributes {
            let wanted = split(attrs);
            if !wanted.is_empty()
                && !wanted
                    .iter()
                    .any(|w| w == &lower || w.starts_with(&format!("{lower}.")))
                && lower != "id"
                && lower != "schemas"
            {
                continue;
            }
        }
        if let Some(excl) = excluded
            && split(excl).contains(&lower)
        {
            continue;
        }
        out.insert(key, value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_combine_left_to_right_and_ignore_attribute_case() {
        let alice = json!({"userName": "alice@example.com", "displayName": "Alice", "active": true,
                           "emails": [{"value": "a@corp.example"}]});
        let f = parse_filter(r#"username sw "alice" and displayName eq "ALICE""#).expect("parses");
        assert!(matches(&f, &alice));
        let f = parse_filter(r#"userName eq "bob" or emails.value co "corp""#).expect("parses");
        assert!(matches(&f, &alice));
        let f = parse_filter(r#"displayName ne "Alice""#).expect("parses");
        assert!(!matches(&f, &alice));
        assert!(parse_filter(r#"displayName like "x""#).is_err());
        assert!(parse_filter(r#"displayName eq "open"#).is_err());
    }
}
