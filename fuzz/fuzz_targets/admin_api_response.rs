//! Any bytes as an admin API answer: read as a page of rows or as an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharedbox_exo::wire::{parse_error, parse_page};

fuzz_target!(|bytes: &[u8]| {
    let page = parse_page(bytes);
    for row in &page.rows {
        let _ = (row.text("Name"), row.flag("IsInherited"), row.strings("AccessRights", true));
    }
    let _ = parse_error(bytes);
});
