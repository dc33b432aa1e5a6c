//! Explicit defaults. Normalization drops fields set to their API default
//! on both sides, so a manifest saying `max_concurrent_runs: 1` and a job
//! changed by hand to 5 would compare as "Git says nothing, the server
//! set 5". Where Git sets a field normalization dropped and the live object
//! holds another value there, the field is put back on the desired side
//! (and on the last-applied side, which Mortar applied with that value), so
//! the change is planned — as drift when Git did not change it.

use serde_json::Value;

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
                        d.insert(k.clone(), ov.clone());
                        if let Some(a) = last.as_deref_mut().and_then(|a| a.as_object_mut())
                            && !a.contains_key(k)
                        {
                            a.insert(k.clone(), ov.clone());
                        }
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
}
