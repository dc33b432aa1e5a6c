//! Small building blocks for `normalize`: keep the user-settable fields,
//! drop server defaults and empty values, sort set-like arrays, remove the
//! ownership tags.

use serde_json::{Map, Value};

use super::{APP_TAG, KEY_TAG};

/// The object's fields, or an empty map for anything else.
pub fn fields(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The object's fields named in `keys` (copying only those).
pub fn fields_in(v: &Value, keys: &[&str]) -> Map<String, Value> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The object with only `keys` and no empty values: the whole canonical
/// form of kinds without server defaults.
pub fn kept(v: &Value, keys: &[&str]) -> Value {
    let mut map = fields_in(v, keys);
    drop_empty(&mut map);
    Value::Object(map)
}

/// Removes `key` when it holds `default`.
pub fn drop_default(map: &mut Map<String, Value>, key: &str, default: Value) {
    if map.get(key) == Some(&default) {
        map.remove(key);
    }
}

/// Sets `key` to `default` when it is absent (or null): for objects whose
/// presence matters, the default is spelled out on both sides rather than
/// dropped, so the object never normalizes to nothing.
pub fn fill_default(map: &mut Map<String, Value>, key: &str, default: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), default);
    }
}

/// Removes a cloud `zone_id` only when it asks the server to choose
/// (`auto`): the zone read back is then the server's pick, not the user's.
/// A pinned zone stays and is compared.
pub fn drop_auto_zone(attributes: &mut Map<String, Value>) {
    if attributes
        .get("zone_id")
        .and_then(Value::as_str)
        .is_some_and(|z| z.eq_ignore_ascii_case("auto"))
    {
        attributes.remove("zone_id");
    }
}

/// True for null, `""`, `[]` and `{}`.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Removes every field holding an empty value.
pub fn drop_empty(map: &mut Map<String, Value>) {
    map.retain(|_, v| !is_empty(v));
}

/// Removes the ownership tags from the tag map at `field`, and the map
/// itself when nothing else is left.
pub fn strip_ownership(map: &mut Map<String, Value>, field: &str) {
    if let Some(tags) = map.get_mut(field).and_then(Value::as_object_mut) {
        tags.remove(APP_TAG);
        tags.remove(KEY_TAG);
    }
    if map.get(field).is_some_and(is_empty) {
        map.remove(field);
    }
}

/// Sorts an array of objects by the string at `key` (missing keys first).
pub fn sort_by_field(arr: &mut [Value], key: &str) {
    arr.sort_by(|a, b| {
        let ka = a.get(key).map(sort_key).unwrap_or_default();
        let kb = b.get(key).map(sort_key).unwrap_or_default();
        ka.cmp(&kb)
    });
}

/// Sorts the array at `field` (if any) by `key` within each element.
pub fn sort_field_by(map: &mut Map<String, Value>, field: &str, key: &str) {
    if let Some(arr) = map.get_mut(field).and_then(Value::as_array_mut) {
        sort_by_field(arr, key);
    }
}

fn sort_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a JSON document held in a string and writes it back compactly,
/// so formatting differences do not count.
pub fn canonical_json_string(v: &Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(parsed) => Value::String(parsed.to_string()),
            Err(_) => v.clone(),
        },
        Value::Object(_) | Value::Array(_) => Value::String(v.to_string()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers_do_what_they_say() {
        let mut m = fields(
            &json!({"a": 1, "b": "", "c": {}, "tags": {"mortar.dev/app": "x", "mortar.dev/key": "k"}, "d": 0}),
        );
        strip_ownership(&mut m, "tags");
        assert!(!m.contains_key("tags"));
        drop_empty(&mut m);
        drop_default(&mut m, "d", json!(0));
        assert_eq!(Value::Object(m), json!({"a": 1}));
        let mut arr = vec![json!({"k": "b"}), json!({"k": "a"})];
        sort_by_field(&mut arr, "k");
        assert_eq!(arr, vec![json!({"k": "a"}), json!({"k": "b"})]);
        assert_eq!(
            canonical_json_string(&json!("{ \"x\" : 1 }")),
            json!("{\"x\":1}")
        );
    }
}
