//! Any text as a policy file: loaded or refused with diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharedbox_policy::{Source, load_sources};

fuzz_target!(|text: &str| {
    let _ = load_sources(vec![Source::new("policies/fuzz.yaml", text)]);
});
