//! Explicit defaults. Normalization drops fields set to their API default
//! on both sides, so a manifest saying `max_concurrent_runs: 1` and a job
//! changed by hand to 5 would compare as "Git says nothing, the server
//! set 5". Where Git sets a field normalization dropped and the live object
//! holds another value there, the field is put back on the desired side
//! (and on the last-applied side, which Mortar applied with that value), so
//! the change is planned — as drift when Git did not change it.

use serde_json::{Map, Value};

/// Restores explicitly set fields dropped by normalization where `live`
/// differs. `original` is the spec before normalization.
pub fn restore(original: &Value, desired: &mut Value, live: &Value, last: Option<&mut Value>) {
    let mut last = last;
    walk(original, desired, live, &mut last);
}

fn walk(original: &Value, desired: &mut Value, live: &Value, last: &mut Option<&mut Value>) {
    match (original, desired, live) {
        (Value::Object(o), Value::Object(d), Value::Object(l)) => {
            for (k, ov) in o {
                let Some(lv) = l.get(k) else { continue };
                match d.get_mut(k) {
                    Some(dv) => {
                        let mut sub = last
                            .as_deref_mut()
                            .and_then(|a| a.as_object_mut())
                            .and_then(|a| a.get_mut(k));
                        walk(ov, dv, lv, &mut sub);
                    }
                    None => {
                        if ov == lv || ov.is_null() {
                            continue;
                        }
                        // An object normalization dropped whole (every field
                        // a default): put back only the fields live differs
                        // in, not the defaults live agrees with.
                        let put = if let (Value::Object(_), Value::Object(_)) = (ov, lv) {
                            let mut sub = Value::Object(Map::new());
                            walk(ov, &mut sub, lv, &mut None);
                            if sub.as_object().is_some_and(Map::is_empty) {
                                continue;
                            }
                            sub
                        } else {
                            ov.clone()
                        };
                        if let Some(a) = last.as_deref_mut().and_then(|a| a.as_object_mut()) {
                            merge_missing(a.entry(k.clone()).or_insert(Value::Null), &put);
                        }
                        d.insert(k.clone(), put);
                    }
                }
            }
        }
        (Value::Array(o), Value::Array(d), Value::Array(l))
            if o.len() == d.len() && d.len() == l.len() =>
        {
            for (i, ((ov, dv), lv)) in o.iter().zip(d.iter_mut()).zip(l).enumerate() {
                let mut sub = last
                    .as_deref_mut()
                    .and_then(|a| a.as_array_mut())
                    .filter(|a| a.len() == o.len())
                    .and_then(|a| a.get_mut(i));
                walk(ov, dv, lv, &mut sub);
            }
        }
        _ => {}
    }
}

/// Adds to `target` what `from` has and it lacks (all of `from` when
/// `target` is not an object).
fn merge_missing(target: &mut Value, from: &Value) {
    match (target, from) {
        (Value::Object(t), Value::Object(f)) => {
            for (k, v) in f {
                match t.get_mut(k) {
                    Some(tv) => merge_missing(tv, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t @ Value::Null, f) => *t = f.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_explicit_default_changed_live_is_put_back_on_both_sides() {
        let original = json!({"name": "j", "max_concurrent_runs": 1, "timeout_seconds": 0});
        let mut desired = json!({"name": "j"});
        let live = json!({"name": "j", "max_concurrent_runs": 5});
        let mut last = json!({"name": "j"});
        restore(&original, &mut desired, &live, Some(&mut last));
        assert_eq!(desired, json!({"name": "j", "max_concurrent_runs": 1}));
        assert_eq!(last, json!({"name": "j", "max_concurrent_runs": 1}));
        let mut unchanged = json!({"name": "j"});
        restore(&original, &mut unchanged, &json!({"name": "j"}), None);
        assert_eq!(unchanged, json!({"name": "j"}));
    }

    #[test]
    fn an_object_of_defaults_puts_back_only_what_differs() {
        // The manifest spells out AWS defaults; the server added a zone and
        // someone changed the availability by hand.
        let original =
            json!({"aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}});
        let mut desired = json!({});
        let live =
            json!({"aws_attributes": {"availability": "ON_DEMAND", "zone_id": "us-east-1c"}});
        let mut last = json!({});
        restore(&original, &mut desired, &live, Some(&mut last));
        assert_eq!(
            desired,
            json!({"aws_attributes": {"availability": "SPOT_WITH_FALLBACK"}})
        );
        assert_eq!(last, desired);
        // Only the server's zone differs: nothing to put back.
        let mut desired = json!({});
        let live = json!({"aws_attributes": {"zone_id": "us-east-1c"}});
        restore(&original, &mut desired, &live, None);
        assert_eq!(desired, json!({}));
    }
}
