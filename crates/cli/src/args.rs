//! Command-line arguments as clap parses them (the "low" arguments); [`crate::config`]
//! resolves them with `sharedbox.yaml` into a [`crate::config::RunConfig`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Manage Exchange Online shared mailboxes the GitOps way: policies in git, `plan` shows the
/// difference to the live tenant, `apply` makes the tenant match.
#[derive(Debug, Parser)]
#[command(name = "sharedbox", version, propagate_version = true)]
pub struct Cli {
    /// The configuration file [default: `sharedbox.yaml` in the current directory].
    #[arg(long, global = true, value_name = "FILE", env = "SHAREDBOX_CONFIG")]
    pub config: Option<PathBuf>,
    /// The policy folder, instead of the configuration's `policies`.
    #[arg(long, global = true, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// The tenant, instead of the configuration's `tenant`: `file:PATH`.
    #[arg(long, global = true, value_name = "BACKEND:TENANT")]
    pub tenant: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the policies offline: syntax, schema and semantic rules.
    Validate,
    /// Read the live tenant and print what `apply` would change.
    Plan(PlanArgs),
    /// Plan, confirm, and make the tenant match the policies.
    Apply(ApplyArgs),
    /// Print the JSON Schema (draft-07) of policy documents.
    Schema,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan only this mailbox (repeatable). Not for routine use.
    #[arg(long = "target", value_name = "MAILBOX")]
    pub targets: Vec<String>,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Refuse plans that revoke more than this many grants.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub max_removals: usize,
    /// Allow deleting mailboxes whose policy says `ensure: absent`.
    #[arg(long)]
    pub allow_destroy: bool,
    /// Apply only this mailbox (repeatable). Not for routine use.
    #[arg(long = "target", value_name = "MAILBOX")]
    pub targets: Vec<String>,
}
