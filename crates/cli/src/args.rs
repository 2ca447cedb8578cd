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
    /// The tenant, instead of the configuration's `tenant`: `file:PATH` or `exo:TENANT`
    /// (a tenant GUID or initial domain, e.g. `exo:contoso.onmicrosoft.com`).
    #[arg(long, global = true, value_name = "BACKEND:TENANT")]
    pub tenant: Option<String>,
    /// In a fleet (a `sharedbox.yaml` with `fleet:`): the tenants to work on, `all` or
    /// names (`--tenants contoso fabrikam` or `--tenants contoso,fabrikam`); several run
    /// concurrently, each with its own connection, throttling and lock.
    #[arg(long, global = true, num_args = 1.., value_delimiter = ',', value_name = "all|NAME")]
    pub tenants: Vec<String>,
    /// Diagnostics, progress and apply steps on stderr as JSON lines (one event per line,
    /// with `type`, `level`, `message` and `timestamp`), for long runs in pipelines.
    #[arg(long, global = true)]
    pub json_lines: bool,
    /// Write every admin API request and answer (cmdlet, parameters, status, timing,
    /// retries, throttling, token events; never a token or secret) to FILE as JSON lines,
    /// created with mode 0600. For Exchange Online tenants.
    #[arg(long, global = true, value_name = "FILE", env = "SHAREDBOX_LOG")]
    pub trace: Option<PathBuf>,
    /// In the `--trace` file, replace addresses, names and the tenant by stable pseudonyms
    /// (`user-3@domain-1`) and leave out Exchange's error texts, so the file can be shared.
    #[arg(long, global = true, env = "SHAREDBOX_LOG_REDACT")]
    pub trace_redact: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the policies offline: syntax, schema, semantic rules and lints.
    Validate(ValidateArgs),
    /// Read the live tenant and print what `apply` would change.
    Plan(PlanArgs),
    /// Print a saved plan.
    Show {
        /// The plan file written by `plan --out`.
        plan_file: PathBuf,
        /// The output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Make the tenant match the policies (plan, confirm, apply), or apply a saved plan.
    Apply(ApplyArgs),
    /// Undo a journaled run (finished, failed or crashed).
    Rollback(RollbackArgs),
    /// List journaled runs, or show one.
    Runs {
        /// `show RUN_ID` prints the steps of one run.
        #[command(subcommand)]
        action: Option<RunsAction>,
    },
    /// Show who holds a tenant's lock; with `--force`, break it (a runner that died).
    Unlock {
        /// The tenant whose lock to show or break, as `apply` names it
        /// (`contoso.onmicrosoft.com`; the file backend: its `tenant` name).
        #[arg(value_name = "TENANT")]
        name: String,
        /// Break the lock, whoever holds it. Only when its holder is known to be gone: a run
        /// still going stops before its next write.
        #[arg(long)]
        force: bool,
    },
    /// Read-only: is the tenant in the desired state? Lists what differs and what is unmanaged.
    Drift(DriftArgs),
    /// Write the live tenant's shared mailboxes as policy files, to adopt an existing tenant.
    Export(ExportArgs),
    /// Read-only: who can open, send as, send on behalf of and read the Sent Items of which
    /// shared mailbox (managed or not), directly or through groups, with risk flags.
    Access(AccessArgs),
    /// Print a JSON Schema (draft-07): of policy documents, or of the plan, drift or apply document.
    Schema {
        /// Which document.
        #[arg(value_enum, default_value_t)]
        document: SchemaDocument,
    },
    /// Explain a lint: what it finds, why it matters, how to fix it. Without CODE, list every
    /// lint with its default level.
    Explain {
        /// A lint code (`SBX101`) or name (`sent-copy-missing`).
        code: Option<String>,
    },
    /// List the built-in profiles, or print one as YAML (copy it into the policies as a
    /// `kind: Profile` document to adapt it).
    Profiles {
        /// A profile name (`team-mailbox`, `contact-center`, `crm-graph`).
        name: Option<String>,
    },
    /// Check the connection to Exchange Online: token, roles, and one harmless read per
    /// cmdlet family; tells whether the identity can plan (read) and apply (write).
    Doctor,
    /// In a fleet: list the tenants, or those a change touches, e.g. as a CI matrix.
    Tenants(TenantsArgs),
}

/// Arguments of `tenants`.
#[derive(Debug, Args)]
pub struct TenantsArgs {
    /// Only the tenants that the changes since `--base` touch (a change in the fleet's
    /// `sharedbox.yaml` or baseline touches every tenant).
    #[arg(long)]
    pub changed: bool,
    /// The revision to compare with [default: the merge base with the default branch].
    #[arg(long, value_name = "REV", requires = "changed")]
    pub base: Option<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: TenantsFormat,
}

/// Output formats of `tenants`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TenantsFormat {
    /// One name per line.
    #[default]
    Text,
    /// `{"tenants": [{"name": …, "folder": …}]}`.
    Json,
    /// `{"include": [{"tenant": …}]}`, for `strategy.matrix` in GitHub Actions.
    GithubMatrix,
    /// `{"<name>": {"tenant": …}}`, for `strategy.matrix` in Azure Pipelines.
    AzureMatrix,
}

/// Output formats of `validate`, `plan`, `show`, `apply` and `drift`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// The versioned document (schemas under `docs/schemas/`).
    Json,
    /// For a pull-request comment, an issue or a job summary.
    Markdown,
}

/// The documents `schema` describes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaDocument {
    /// Policy files (`policies/sharedbox.schema.json`).
    #[default]
    Policy,
    /// `plan --format json` and saved plans (`docs/schemas/plan.schema.json`).
    Plan,
    /// `drift --format json` (`docs/schemas/drift.schema.json`).
    Drift,
    /// `apply --format json` (`docs/schemas/apply.schema.json`).
    Apply,
    /// `access --format json` (`docs/schemas/access.schema.json`).
    Access,
}

/// Arguments of `access`.
#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Only this shared mailbox (repeatable) [default: every shared mailbox of the tenant].
    #[arg(long = "mailbox", value_name = "ADDR")]
    pub mailboxes: Vec<String>,
    /// Only what this principal can do, directly or through groups (repeatable): the
    /// reverse lookup for offboarding. An address, UPN, Entra object id or `app:<appId>`.
    #[arg(long = "principal", value_name = "ADDR")]
    pub principals: Vec<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: AccessFormat,
    /// Flag groups that reach more than N members (nested groups included).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub large_group: usize,
}

/// Output formats of `access`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessFormat {
    /// For people.
    #[default]
    Text,
    /// The versioned document (`docs/schemas/access.schema.json`).
    Json,
    /// For an issue, a wiki page or a job summary.
    Markdown,
    /// One row per mailbox, principal, right and path, for a spreadsheet.
    Csv,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Exit 0 when in the desired state, 2 on drift, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the files [default: the configured policy folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Export only this shared mailbox (repeatable) [default: every shared mailbox].
    #[arg(long = "mailbox", value_name = "ADDRESS")]
    pub mailboxes: Vec<String>,
    /// Export every field, also display name, address-list visibility, sign-in, aliases, clients and moderation.
    #[arg(long, conflicts_with = "fields")]
    pub all_fields: bool,
    /// Export these fields (comma-separated) [default: sentItems,sendAs,sendOnBehalf,fullAccess,sentItemsReaders].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fields: Vec<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// `runs` subcommands.
#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// Print every step of one run and what happened to it.
    Show {
        /// The run id, as `sharedbox runs` lists it.
        run_id: String,
    },
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The output format (`markdown` is a size-capped pull-request comment).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also save the plan to this file, for `apply FILE` (valid for 24 hours).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan only this mailbox (repeatable). Not for routine use.
    #[arg(long = "target", value_name = "MAILBOX")]
    pub targets: Vec<String>,
    /// Tell drift from policy changes by comparing with the policies at this git revision
    /// [default: the merge base with the default branch, in a git checkout].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Also read each managed mailbox's size (`Get-MailboxStatistics`, one more request per
    /// mailbox), so that lint SBX210 reports a mailbox over the 50 GB an unlicensed shared
    /// mailbox may hold.
    #[arg(long)]
    pub with_sizes: bool,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The output format of the result (`json`: the result document only on stdout).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// A plan saved by `plan --out`: applied exactly, if it is still valid.
    pub plan_file: Option<PathBuf>,
    /// Scheduled self-heal: apply only when every change is drift from the policies the last
    /// successful apply recorded (its journal); a policy change not applied yet refuses the
    /// whole run (exit 4). For a scheduled job on the default branch.
    #[arg(long, conflicts_with_all = ["plan_file", "targets", "allow_destroy"])]
    pub heal: bool,
    /// Apply without asking for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Keep the completed steps when a step fails, instead of undoing them.
    #[arg(long)]
    pub no_rollback: bool,
    /// Refuse plans that revoke more than this many grants.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub max_removals: usize,
    /// Allow deleting mailboxes whose policy says `ensure: absent`.
    #[arg(long)]
    pub allow_destroy: bool,
    /// Apply only this mailbox (repeatable). Not for routine use.
    #[arg(long = "target", value_name = "MAILBOX")]
    pub targets: Vec<String>,
    /// How long to wait for another apply or rollback of the tenant to finish (e.g. `30s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// How long to re-read changed objects until Exchange shows the changes.
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration)]
    pub verify_timeout: std::time::Duration,
    /// How often to re-read while verifying, and while waiting for new mailboxes to show
    /// (e.g. `500ms`, `2s`).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_interval)]
    pub verify_interval: std::time::Duration,
}

/// Arguments of `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run to undo, as `sharedbox runs` lists it.
    pub run_id: String,
    /// Roll back without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How long to wait for another apply or rollback of the tenant to finish.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Roll back even though later runs changed objects this run changed. Each step is still
    /// checked: a value a later run changed is a conflict, left alone and reported.
    #[arg(long)]
    pub force: bool,
}

/// `90`, `90s`, `5m`, `1h`, `500ms` -> a duration.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; use e.g. `30s`, `5m` or `1h`"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit; use `ms`, `s`, `m` or `h`"
            ));
        }
    };
    let millis = value
        .checked_mul(millis_per_unit)
        .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    Ok(std::time::Duration::from_millis(millis))
}

/// A duration between two polls: like [`parse_duration`], and not zero.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = parse_duration(text)?;
    if interval.is_zero() {
        return Err(format!(
            "`{text}` would re-read without a pause; use e.g. `500ms` or `2s`"
        ));
    }
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_take_a_unit_and_never_overflow() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("2d").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").unwrap_err().contains("not a duration"));
        assert!(
            parse_duration("18446744073709551615h")
                .unwrap_err()
                .contains("too long")
        );
        assert!(parse_interval("0s").is_err());
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
    }
}
