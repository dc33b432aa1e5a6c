//! The `${…}` reference and variable syntax inside manifest strings:
//! splitting, finding references, and resolving them both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
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
});
