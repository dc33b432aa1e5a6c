//! The emulator's SCIM filter parser (`displayName eq "x" and …`), which
//! reads query strings from any client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mortar_emulator::scim_filter::parse_filter;

fuzz_target!(|text: &str| {
    let _ = parse_filter(text);
});
