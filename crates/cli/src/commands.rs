//! The subcommands: `validate`, `plan`, `apply`.

use std::io::{BufRead, IsTerminal, Write};

use sharedbox_applier::{ApplyOptions, Step};
use sharedbox_planner::{Plan, PlanOptions, Style};
use sharedbox_policy::PolicySet;
use sharedbox_tenant::{ReadScope, Tenant, file::FileTenant};

use crate::args::{ApplyArgs, PlanArgs};
use crate::config::{RunConfig, TenantSpec};
use crate::output::{ExitStatus, Failure, print_diagnostics, progress, stdout_color};

/// Loads the policies, printing every diagnostic; fails when any is an error.
fn load_policies(config: &RunConfig) -> anyhow::Result<PolicySet> {
    match sharedbox_policy::load_dir(&config.policies) {
        Ok(set) => Ok(set),
        Err(diagnostics) => {
            print_diagnostics(&diagnostics.0);
            let errors = diagnostics.errors().count();
            Err(Failure::new(format!(
                "{errors} error{} in the policies under `{}`",
                if errors == 1 { "" } else { "s" },
                config.policies.display()
            ))
            .hint("fix the errors above; `sharedbox validate` checks policies without reading the tenant")
            .into())
        }
    }
}

/// Opens the configured tenant.
fn open_tenant(config: &RunConfig) -> anyhow::Result<Box<dyn Tenant>> {
    match config.tenant()? {
        TenantSpec::File(path) => {
            let tenant = FileTenant::open(path).map_err(|e| {
                let hint = e.hint().or_else(|| {
                    Some(
                        "check `tenant.path` in `sharedbox.yaml` or `--tenant file:PATH`"
                            .to_owned(),
                    )
                });
                Failure::new(e.to_string()).maybe_hint(hint)
            })?;
            Ok(Box::new(tenant))
        }
    }
}

/// `sharedbox validate`.
pub fn validate(config: &RunConfig) -> anyhow::Result<ExitStatus> {
    let set = load_policies(config)?;
    println!(
        "The policies are valid: {} shared mailbox{}, {} in {} file{}.",
        set.mailboxes.len(),
        if set.mailboxes.len() == 1 { "" } else { "es" },
        if set.tenant_settings.is_some() {
            "tenant settings"
        } else {
            "no tenant settings"
        },
        set.sources.len(),
        if set.sources.len() == 1 { "" } else { "s" },
    );
    Ok(ExitStatus::Success)
}

/// Reads the tenant and computes the plan, printing warnings.
async fn make_plan(
    tenant: &dyn Tenant,
    policies: &PolicySet,
    targets: &[String],
) -> anyhow::Result<Plan> {
    if !targets.is_empty() {
        eprintln!(
            "warning: targeting is in effect: only {} will be planned",
            targets.join(", ")
        );
        eprintln!(
            "  targeting is for exceptional cases such as recovering from mistakes, not for routine use\n"
        );
    }
    let scope = ReadScope {
        mailboxes: policies
            .mailboxes
            .iter()
            .map(|m| m.address.value.clone())
            .collect(),
    };
    progress(&format!(
        "reading tenant `{}` ({} managed mailboxes)...",
        tenant.name(),
        scope.mailboxes.len()
    ));
    let snapshot = tenant
        .read(&scope)
        .await
        .map_err(|e| Failure::new(format!("cannot read the tenant: {e}")).maybe_hint(e.hint()))?;
    let plan = sharedbox_planner::plan(
        policies,
        &snapshot,
        &PlanOptions {
            targets: targets.to_vec(),
        },
    );
    match plan {
        Ok(plan) => {
            print_diagnostics(&plan.warnings);
            Ok(plan)
        }
        Err(error) => {
            print_diagnostics(&error.0);
            Err(Failure::new(format!(
                "the plan could not be made: {} error{}",
                error.0.len(),
                if error.0.len() == 1 { "" } else { "s" }
            ))
            .hint("nothing was changed; fix the errors above and run `sharedbox plan` again")
            .into())
        }
    }
}

/// `sharedbox plan`.
pub async fn plan(config: &RunConfig, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let policies = load_policies(config)?;
    let tenant = open_tenant(config)?;
    let plan = make_plan(tenant.as_ref(), &policies, &args.targets).await?;
    print!(
        "{}",
        sharedbox_planner::render_text(
            &plan,
            Style {
                color: stdout_color()
            }
        )
    );
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// `sharedbox apply`.
pub async fn apply(config: &RunConfig, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let policies = load_policies(config)?;
    let tenant = open_tenant(config)?;
    let plan = make_plan(tenant.as_ref(), &policies, &args.targets).await?;
    print!(
        "{}",
        sharedbox_planner::render_text(
            &plan,
            Style {
                color: stdout_color()
            }
        )
    );
    if plan.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let options = ApplyOptions {
        allow_destroy: args.allow_destroy,
        max_removals: args.max_removals,
        ..ApplyOptions::default()
    };
    sharedbox_applier::check_guards(&plan, &options).map_err(|e| {
        let hint = e.hint();
        Failure::new(format!("refusing to apply: {e}")).hint(format!("nothing was changed; {hint}"))
    })?;
    if !args.auto_approve {
        confirm(&plan)?;
    }
    let report = sharedbox_applier::apply(tenant.as_ref(), &plan, &options, |step| match step {
        Step::Started {
            index,
            total,
            change,
        } => {
            let target = change.operation.mailbox().unwrap_or("tenant settings");
            let value = change
                .after
                .as_deref()
                .or(change.before.as_deref())
                .unwrap_or("");
            eprint!(
                "  [{index}/{total}] {} {target} {} {value} ... ",
                change.operation.cmdlet(),
                change.field
            );
        }
        Step::Succeeded { .. } => eprintln!("ok"),
        Step::Failed { error, .. } => eprintln!("FAILED: {error}"),
        Step::WaitingForMailboxes { mailboxes } => {
            eprintln!("  waiting until {} can be read ...", mailboxes.join(", "))
        }
    })
    .await?;
    if report.is_success() {
        println!(
            "\nApply complete: {} change{} applied to `{}`.",
            report.applied.len(),
            if report.applied.len() == 1 { "" } else { "s" },
            plan.tenant
        );
        verify(tenant.as_ref(), &policies, &args.targets).await;
        return Ok(ExitStatus::Success);
    }
    println!(
        "\nApply stopped: {} of {} changes applied, {} not run.",
        report.applied.len(),
        report.applied.len() + report.not_run.len() + usize::from(report.failed.is_some()),
        report.not_run.len()
    );
    for change in &report.applied {
        println!(
            "  applied: {} {} {}",
            change.operation.cmdlet(),
            change.operation.mailbox().unwrap_or("tenant settings"),
            change.field
        );
    }
    let (message, hint) = match (&report.failed, &report.stopped) {
        (Some((change, error)), _) => (
            format!(
                "{} on {} ({}) failed: {error}",
                change.operation.cmdlet(),
                change.operation.mailbox().unwrap_or("tenant settings"),
                change.field
            ),
            error.hint(),
        ),
        (None, Some(stopped)) => (stopped.to_string(), Some(stopped.hint())),
        (None, None) => unreachable!("an unsuccessful report has a failure or a stop"),
    };
    Err(Failure::new(message)
        .maybe_hint(Some(format!(
            "{}the changes listed as applied remain in the tenant; run `sharedbox plan` to see what is left",
            hint.map(|h| format!("{h}; ")).unwrap_or_default()
        )))
        .into())
}

/// Asks for confirmation on a terminal; refuses when there is none.
fn confirm(plan: &Plan) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new("refusing to apply without confirmation: standard input is not a terminal")
            .hint("review the plan, then run `sharedbox apply --auto-approve` in pipelines and scheduled jobs")
            .into());
    }
    eprint!(
        "\nDo you want to perform these actions on `{}`?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
        plan.tenant
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        return Err(Failure::new("apply cancelled")
            .hint("nothing was changed")
            .into());
    }
    Ok(())
}

/// Re-reads the tenant after an apply and says what is not visible yet.
async fn verify(tenant: &dyn Tenant, policies: &PolicySet, targets: &[String]) {
    let scope = ReadScope {
        mailboxes: policies
            .mailboxes
            .iter()
            .map(|m| m.address.value.clone())
            .collect(),
    };
    let Ok(snapshot) = tenant.read(&scope).await else {
        eprintln!("warning: the tenant could not be re-read to verify the apply");
        return;
    };
    match sharedbox_planner::plan(
        policies,
        &snapshot,
        &PlanOptions {
            targets: targets.to_vec(),
        },
    ) {
        Ok(remaining) if remaining.is_empty() => {
            eprintln!("verified: the tenant matches the policies")
        }
        Ok(remaining) => eprintln!(
            "warning: applied, not yet visible: {} change(s) still differ after re-reading the tenant\n  Exchange can take up to 60 minutes to show changes; run `sharedbox plan` later",
            remaining.ordered_changes().len()
        ),
        Err(_) => eprintln!("warning: the tenant could not be re-planned to verify the apply"),
    }
}
