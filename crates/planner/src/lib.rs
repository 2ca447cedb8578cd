//! Planning: `(policy set, snapshot) -> Plan`, pure and without I/O, and its rendering.
//!
//! - [`diff`]: the planning rules (absent = unmanaged, list = authoritative, identities not
//!   spellings, built-ins never touched, orphans revoked);
//! - [`plan`]: the plan, its waves, counts and inverses;
//! - [`document`]: the saved plan (`plan --out`);
//! - [`drift`]: the drift report (`drift`);
//! - [`export`]: live state written as policy documents (adoption);
//! - [`render`]: the terraform-style text rendering.

pub mod diff;
pub mod document;
pub mod drift;
pub mod export;
pub mod plan;
pub mod render;

pub use diff::{PlanError, PlanOptions, plan};
pub use document::{FORMAT_VERSION, PlanDocument, policy_digest};
pub use drift::{DriftReport, drift_report};
pub use plan::{
    Action, Baseline, Cause, Change, ListDiff, MailboxAction, MailboxPlan, Plan, Summary, Wave,
};
pub use render::{Style, render_text, summary_line};
