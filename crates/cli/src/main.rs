//! The `sharedbox` binary: parses arguments, resolves the configuration, runs one command,
//! and maps the outcome to the documented exit codes (0 ok, 1 error, 2 changes, 3 apply
//! failed with rollback incomplete, 4 `apply --heal` refused changes that are not drift).

// First: its `out!`/`outln!` macros (stdout that survives a closed pipe) are used by all.
#[macro_use]
mod output;
mod args;
mod commands;
mod config;
mod fleet;
mod git;
mod progress;
mod trace;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command, Format, RunsAction, SchemaDocument};
use crate::config::{ConfigError, RunConfig};
use crate::output::{ExitStatus, print_diagnostics, print_error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return output::usage_error(&error),
    };
    output::init(cli.json_lines);
    output::install_diagnostic_renderer();
    let trace = match &cli.trace {
        Some(path) => {
            let args: Vec<String> = std::env::args().collect();
            match trace::start(path, cli.trace_redact, &trace::command_line(&args)) {
                Ok(trace) => Some(trace),
                Err(error) => {
                    print_error(&error);
                    return ExitStatus::Failure.into();
                }
            }
        }
        None => None,
    };
    let status = run_on_runtime(cli);
    if let Some(trace) = trace {
        trace.finish(status.code());
    }
    status.into()
}

/// Runs the command on a tokio runtime; errors are printed here.
fn run_on_runtime(cli: Cli) -> ExitStatus {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            print_error(&anyhow::anyhow!("cannot start the async runtime: {e}"));
            return ExitStatus::Failure;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(status) => status,
        Err(error) => {
            print_error(&error);
            ExitStatus::Failure
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Schema { document } => {
            out!(
                "{}",
                match document {
                    SchemaDocument::Policy => sharedbox_policy::schema_json(),
                    SchemaDocument::Plan => sharedbox_planner::plan_schema_json(),
                    SchemaDocument::Drift => sharedbox_planner::drift_schema_json(),
                    SchemaDocument::Apply => sharedbox_applier::apply_result_schema_json(),
                    SchemaDocument::Access => sharedbox_access::schema_json(),
                }
            );
            return Ok(ExitStatus::Success);
        }
        Command::Show { plan_file, format } => return commands::show(plan_file, *format),
        Command::Explain { code } => return commands::explain(code.as_deref()),
        Command::Profiles { name } => return commands::profiles(name.as_deref()),
        _ => {}
    }
    let config = match resolve(&cli).await {
        Ok(Resolved::One(config)) => *config,
        Ok(Resolved::Done(result)) => return result,
        Err(ConfigError::Located(diagnostic)) => {
            let diagnostics = [*diagnostic];
            print_diagnostics(&diagnostics);
            // `validate --format json` answers with its document whatever is wrong: a
            // mistake in `sharedbox.yaml` is located there like one in a policy.
            if let Command::Validate(args) = &cli.command
                && args.format == Format::Json
            {
                commands::print_validate_document(0, 0, &diagnostics)?;
                return Ok(ExitStatus::Failure);
            }
            anyhow::bail!("the configuration is invalid");
        }
        Err(ConfigError::Failure(f)) => return Err(f.into()),
    };
    match cli.command {
        Command::Validate(args) => commands::validate(&config, &args),
        Command::Plan(args) => commands::plan(&config, &args).await,
        Command::Apply(args) => commands::apply(&config, &args).await,
        Command::Rollback(args) => commands::rollback(&config, &args).await,
        Command::Drift(args) => commands::drift(&config, &args).await,
        Command::Export(args) => commands::export(&config, &args).await,
        Command::Access(args) => commands::access(&config, &args).await,
        Command::Doctor => commands::doctor(&config).await,
        Command::Runs { action: None } => commands::runs(&config),
        Command::Unlock { name, force } => commands::unlock(&config, &name, force),
        Command::Runs {
            action: Some(RunsAction::Show { run_id }),
        } => commands::runs_show(&config, &run_id),
        Command::Schema { .. }
        | Command::Show { .. }
        | Command::Explain { .. }
        | Command::Profiles { .. }
        | Command::Tenants(_) => unreachable!("handled above"),
    }
}

/// What the configuration resolves to.
enum Resolved {
    /// One tenant (a project of one, or one tenant of a fleet): run the command.
    One(Box<RunConfig>),
    /// The command ran already (`tenants`, or several tenants of a fleet), with this outcome.
    Done(anyhow::Result<ExitStatus>),
}

/// Resolves `sharedbox.yaml`: a project of one tenant as always; in a fleet, the tenant
/// `--tenants` names, or every tenant `--tenants` names, each in a process of its own.
async fn resolve(cli: &Cli) -> Result<Resolved, ConfigError> {
    let loaded = config::read(cli.config.as_deref())?;
    let fleet = match loaded.as_ref().filter(|l| l.fleet().is_some()) {
        Some(loaded) => Some(fleet::Fleet::open(
            loaded,
            cli.policies.as_deref(),
            cli.tenant.as_deref(),
        )?),
        None => None,
    };
    let Some(fleet) = fleet else {
        if matches!(cli.command, Command::Tenants(_)) || !cli.tenants.is_empty() {
            return Err(output::Failure::new(
                "`tenants` and `--tenants` work in a fleet, and this project has one tenant",
            )
            .hint("a fleet's `sharedbox.yaml` has a `fleet:` block and a folder per tenant (docs/fleet.md); here, leave `--tenants` out")
            .into());
        }
        return Ok(Resolved::One(Box::new(config::resolve_loaded(
            loaded,
            cli.policies.as_deref(),
            cli.tenant.as_deref(),
        )?)));
    };
    if let Command::Tenants(args) = &cli.command {
        return Ok(Resolved::Done(commands::tenants(&fleet, args)));
    }
    // A process a fleet run started for one tenant.
    if let Some(member) = std::env::var_os(fleet::MEMBER_VARIABLE) {
        let member = member.to_string_lossy();
        let name = fleet.select(&[member.into_owned()])?;
        return Ok(Resolved::One(Box::new(fleet.tenant_config(&name[0])?)));
    }
    let names = fleet.select(&cli.tenants)?;
    match names.as_slice() {
        [one] => Ok(Resolved::One(Box::new(fleet.tenant_config(one)?))),
        _ => Ok(Resolved::Done(commands::fan_out(&fleet, &names, cli).await)),
    }
}
