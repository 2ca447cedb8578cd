//! The `sharedbox` binary: parses arguments, resolves the configuration, runs one command,
//! and maps the outcome to the documented exit codes (0 ok, 1 error, 2 changes, 3 apply
//! failed with rollback incomplete).

// First: its `out!`/`outln!` macros (stdout that survives a closed pipe) are used by all.
#[macro_use]
mod output;
mod args;
mod commands;
mod config;
mod git;
mod progress;
mod trace;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command, Format, RunsAction, SchemaDocument};
use crate::config::ConfigError;
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
    let config = match config::resolve(
        cli.config.as_deref(),
        cli.policies.as_deref(),
        cli.tenant.as_deref(),
    ) {
        Ok(c) => c,
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
        Command::Runs {
            action: Some(RunsAction::Show { run_id }),
        } => commands::runs_show(&config, &run_id),
        Command::Schema { .. }
        | Command::Show { .. }
        | Command::Explain { .. }
        | Command::Profiles { .. } => unreachable!("handled above"),
    }
}
