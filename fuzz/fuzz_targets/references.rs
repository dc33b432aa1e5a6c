//! The `${…}` reference and variable syntax inside manifest strings:
//! splitting, finding references, resolving them both ways, and the
//! manifest's own passes over a string (`${var.…}` substitution, `{{…}}`
//! templates of generated apps, reference sites).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mortar::manifest::diag::Diagnostics;
use mortar::manifest::vars::{self, Values};
use mortar::manifest::yaml::{Node, Value};
use mortar::model::reference::{self, Mode};

fuzz_target!(|text: &str| {
    let _ = reference::segments(text);
    let _ = reference::is_whole(text);
    let _ = reference::in_str(text);
    for mode in [Mode::Partial, Mode::Final] {
        let _ = reference::resolve_str(text, mode, &|r| Some(format!("id-{}", r.name)));
        let _ = reference::resolve_str(text, mode, &|_| None);
    }
    let value = serde_json::json!({ "a": [text, { "b": text }] });
    let _ = reference::in_value(&value);

    let node = Node {
        value: Value::String(text.to_string()),
        line: 1,
        column: 1,
    };
    let values: Values = [
        ("env".to_string(), serde_json::json!("dev")),
        ("workers".to_string(), serde_json::json!(4)),
        ("on".to_string(), serde_json::json!(true)),
    ]
    .into();
    let mut diags = Diagnostics::default();
    let _ = vars::substitute(&mut diags, "fuzz.yaml", &node, "spec.name", &values);
    let _ = vars::template(&mut diags, "fuzz.yaml", &node, "spec.name", &values);
    let mut sites = Vec::new();
    vars::references(&mut diags, "fuzz.yaml", &node, "spec.name", &mut sites);
});
