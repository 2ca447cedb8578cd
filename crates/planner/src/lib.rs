//! Planning: `(policy set, snapshot) -> Plan`, pure and without I/O, and its rendering.
//!
//! - [`diff`]: the planning rules (absent = unmanaged, list = authoritative, identities not
//!   spellings, built-ins never touched, orphans revoked);
//! - [`plan`]: the plan, its waves, counts and inverses;
//! - [`document`]: the saved plan (`plan --out`);
//! - [`render`]: the terraform-style text rendering.

pub mod diff;
pub mod document;
pub mod plan;
pub mod render;

pub use diff::{PlanError, PlanOptions, plan};
pub use document::{FORMAT_VERSION, PlanDocument, policy_digest};
pub use plan::{Action, Change, ListDiff, MailboxAction, MailboxPlan, Plan, Summary, Wave};
pub use render::{Style, render_text, summary_line};
