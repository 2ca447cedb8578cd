//! Planning: `(policy set, snapshot) -> Plan`, pure and without I/O, and its rendering.
//!
//! - [`diff`]: the planning rules (absent = unmanaged, list = authoritative, identities not
//!   spellings, built-ins never touched, orphans revoked);
//! - [`plan`]: the plan, its waves, counts and inverses;
//! - `reconcile`: the one reconcile of a principal list (grant, update, revoke);
//! - [`document`]: the saved plan (`plan --out`);
//! - [`acceptance`]: whether a saved plan may be applied (format, digest, version, times, tenant);
//! - [`drift`]: the drift report (`drift`);
//! - [`export`]: live state written as policy documents (adoption);
//! - [`lint`]: the tenant-aware lints (`SBX2xx`);
//! - [`resolve`]: which live mailbox each policy names (aliases and other recipients refused);
//! - [`render`]: the terraform-style text rendering;
//! - [`markdown`]: the pull-request comment, size-capped.

pub mod acceptance;
pub mod diff;
pub mod document;
pub mod drift;
pub mod export;
pub mod lint;
pub mod markdown;
pub mod plan;
mod reconcile;
pub mod render;
pub mod resolve;

pub use acceptance::{MAX_CLOCK_SKEW, PLAN_LIFETIME, Refusal, parse_plan_document};
pub use diff::{PlanError, PlanOptions, plan};
pub use document::{FORMAT_VERSION, Finding, PlanDocument, policy_digest};
pub use drift::{DriftReport, drift_report};
pub use lint::lint_plan;
pub use markdown::{COMMENT_LIMIT, MarkdownOptions, render_markdown};
pub use plan::{
    Action, Baseline, Cause, CauseCounts, Change, ListDiff, MailboxAction, MailboxPlan, Plan,
    PlanValue, Summary, Wave,
};
pub use render::{Style, baseline_line, change_line, field_label, render_text, summary_line};

/// The JSON Schema (draft-07) of the plan document (`plan --format json`, `plan --out`).
pub fn plan_schema_json() -> String {
    schema_json::<PlanDocument>()
}

/// The JSON Schema (draft-07) of the drift document (`drift --format json`).
pub fn drift_schema_json() -> String {
    schema_json::<DriftReport>()
}

/// The JSON Schema (draft-07) of `T`, pretty-printed with a trailing newline.
pub fn schema_json<T: schemars::JsonSchema>() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}
