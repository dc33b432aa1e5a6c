//! The audit log reader and `audit verify`: arbitrary bytes as a log, with
//! a head that is missing, unreadable, or taken from the input's first line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mortar::audit::head::{Head, HeadState};
use mortar::audit::show::{self, ShowFilter};
use mortar::audit::verify;

fuzz_target!(|data: &[u8]| {
    let (first, log) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let head = match serde_json::from_slice::<Head>(first) {
        Ok(head) => HeadState::Present(head),
        Err(_) if first.is_empty() => HeadState::Missing,
        Err(e) => HeadState::Unreadable(e.to_string()),
    };
    let _ = verify::check(log, &head, None);
    let records = show::parse_lenient(log);
    if let Some(last) = records.last() {
        let _ = verify::check(log, &head, Some(&last.hash));
    }
    let _ = show::history(&records, &ShowFilter::default());
    let _ = show::merged_history(
        &[
            ("a".to_string(), records.clone()),
            ("b".to_string(), records),
        ],
        &ShowFilter::default(),
    );
});
