//! Any bytes as a run journal: every line a record or counted as damaged, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharedbox_applier::journal::RunLog;

fuzz_target!(|bytes: &[u8]| {
    let log = RunLog::parse("fuzz".to_owned(), bytes);
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(log.records.len() + log.damaged_lines, lines);
});
