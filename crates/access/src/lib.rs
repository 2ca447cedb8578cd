//! Who has access to which shared mailbox: group membership expanded transitively
//! ([`membership`]) and the effective-access report built from one tenant snapshot
//! ([`report`]), for `sharedbox access` and for the lints that depend on membership (SBX104).
//!
//! Pure: no I/O. The snapshot (read by a backend with [`sharedbox_tenant::ReadScope::groups`])
//! carries every group's direct members in its directory; this crate follows them.
//! It is its own crate rather than part of the planner because the report involves no
//! policies: the planner depends on it (SBX104), not the other way round.

pub mod membership;
pub mod report;

pub use membership::{Expansion, Member, Membership};
pub use report::{
    ACCESS_FORMAT_VERSION, AccessEntry, AccessError, AccessReport, Flag, GroupStep, MailboxAccess,
    Options, PrincipalInfo, PrincipalKind, Right, Summary, build,
};

/// The JSON Schema (draft-07) of the report (`access --format json`), pretty-printed with a
/// trailing newline.
pub fn schema_json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<AccessReport>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}
