//! Any bytes as a saved plan (`plan --out`): read and checked exactly as `apply PLAN` does
//! before it reads the tenant (`sharedbox_planner::acceptance`), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(document) = sharedbox_planner::parse_plan_document(bytes) {
        let _ = document.accept(
            "0.1.0",
            "contoso.onmicrosoft.com",
            time::OffsetDateTime::now_utc(),
        );
        let _ = document.to_plan();
        let _ = document.check_against(&document.to_plan());
    }
});
