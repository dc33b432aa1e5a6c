//! The `mortar.yaml` loader: parse, resolve paths, validate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mortar::config::Config;

fuzz_target!(|text: &str| {
    let _ = Config::parse(text, std::path::Path::new("/etc/mortar/mortar.yaml"));
});
