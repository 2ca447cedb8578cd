//! Any bytes as a saved plan (`plan --out`): parsed and checked as `apply PLAN` does, never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharedbox_planner::PlanDocument;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<PlanDocument>(bytes) {
        let _ = document.digest() == document.plan_id;
        let _ = document.to_plan();
    }
});
