//! `sharedbox apply [PLANFILE]`.

use sharedbox_applier::{
    Actor, ApplyOptions, ApplyReport, Event, Journal, Record, RunKind, RunLog, RunOutcome,
    UndoItem, UndoStatus,
};
use sharedbox_planner::{Plan, PlanDocument};
use sharedbox_tenant::{ReadScope, Snapshot, Tenant};

use super::plan::{read_plan_file, short};
use super::{
    confirm, load_policies, lock, make_plan, open_tenant, plural, policy_scope, print_plan, read,
};
use crate::args::ApplyArgs;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure};

/// `sharedbox apply`.
pub async fn apply(config: &RunConfig, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let tenant = open_tenant(config)?;
    let run_id = sharedbox_applier::new_run_id();
    let options = ApplyOptions {
        allow_destroy: args.allow_destroy,
        max_removals: args.max_removals,
        rollback_on_failure: !args.no_rollback,
        verify_timeout: args.verify_timeout,
        ..ApplyOptions::default()
    };
    // Saved plans are checked before the lock is taken: a refusal never waits.
    let document = match &args.plan_file {
        Some(path) => Some(check_saved_plan(
            config,
            &read_plan_file(path)?,
            tenant.as_ref(),
        )?),
        None => None,
    };
    let policies = match document {
        Some(_) => None,
        None => Some(load_policies(config)?),
    };
    let _lock = lock(
        &config.state_dir,
        &tenant.name(),
        &run_id,
        "apply",
        args.lock_timeout,
    )?;
    let (plan, snapshot, plan_id) = match (document, &policies) {
        (Some(document), _) => {
            let scope = ReadScope {
                mailboxes: document.touched_mailboxes(),
            };
            let snapshot = read(tenant.as_ref(), &scope).await?;
            let stale = document.stale_objects(&snapshot);
            if !stale.is_empty() {
                for object in &stale {
                    eprintln!("  - {object}");
                }
                return Err(Failure::new(format!("the saved plan {} is stale: {} object{} changed since it was made", short(&document.plan_id), stale.len(), plural(stale.len())))
                    .hint("nothing was changed; make a new plan with `sharedbox plan --out FILE` and review it")
                    .into());
            }
            (document.to_plan(), snapshot, Some(document.plan_id))
        }
        (None, Some(policies)) => {
            let snapshot = read(tenant.as_ref(), &policy_scope(policies)).await?;
            (
                make_plan(policies, &snapshot, &args.targets)?,
                snapshot,
                None,
            )
        }
        (None, None) => unreachable!("policies are loaded when there is no plan file"),
    };
    print_plan(&plan);
    if plan.is_empty() {
        return Ok(ExitStatus::Success);
    }
    sharedbox_applier::check_guards(&plan, &options).map_err(|e| {
        Failure::new(format!("refusing to apply: {e}"))
            .hint(format!("nothing was changed; {}", e.hint()))
    })?;
    if !args.auto_approve && plan_id.is_none() {
        confirm(
            &format!("Do you want to perform these actions on `{}`?", plan.tenant),
            "apply",
        )?;
    }
    execute(
        config,
        tenant.as_ref(),
        &plan,
        &snapshot,
        &run_id,
        plan_id,
        &options,
    )
    .await
}

/// Refuses a saved plan that is expired, for another tenant, made by another version, or applied before.
fn check_saved_plan(
    config: &RunConfig,
    document: &PlanDocument,
    tenant: &dyn Tenant,
) -> anyhow::Result<PlanDocument> {
    let id = short(&document.plan_id);
    let hint = "nothing was changed; make a new plan with `sharedbox plan --out FILE`";
    if document.tool_version != env!("CARGO_PKG_VERSION") {
        return Err(Failure::new(format!(
            "plan {id} was made by sharedbox {}, this is {}",
            document.tool_version,
            env!("CARGO_PKG_VERSION")
        ))
        .hint(hint)
        .into());
    }
    let expires = time::OffsetDateTime::parse(
        &document.expires_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| {
        Failure::new(format!(
            "plan {id} has an invalid expiry `{}`",
            document.expires_at
        ))
        .hint(hint)
    })?;
    if time::OffsetDateTime::now_utc() > expires {
        return Err(
            Failure::new(format!("plan {id} expired at {}", document.expires_at))
                .hint(hint)
                .into(),
        );
    }
    if document.tenant != tenant.name() {
        return Err(Failure::new(format!(
            "plan {id} is for tenant `{}`, but the configured tenant is `{}`",
            document.tenant,
            tenant.name()
        ))
        .hint(hint)
        .into());
    }
    for log in RunLog::all(&config.state_dir)? {
        if let Some(Record::Start {
            plan_id: Some(applied),
            run_id,
            ..
        }) = log.start()
            && *applied == document.plan_id
        {
            return Err(Failure::new(format!("plan {id} was already applied in run `{run_id}`")).hint("a saved plan applies once; make a new plan with `sharedbox plan --out FILE`").into());
        }
    }
    Ok(document.clone())
}

/// Runs the plan with a journal, and reports.
async fn execute(
    config: &RunConfig,
    tenant: &dyn Tenant,
    plan: &Plan,
    snapshot: &Snapshot,
    run_id: &str,
    plan_id: Option<String>,
    options: &ApplyOptions,
) -> anyhow::Result<ExitStatus> {
    let mut journal = Journal::create(&config.state_dir, run_id)?;
    let total = plan.ordered_changes().len();
    journal.write(&Record::Start {
        run_id: run_id.to_owned(),
        kind: RunKind::Apply,
        tenant: plan.tenant.clone(),
        at: sharedbox_applier::now_rfc3339(),
        actor: Actor::current(),
        plan_id,
        rollback_of: None,
        steps: total,
    })?;
    eprintln!(
        "\napplying {total} change{} (run `{run_id}`, journal `{}`)",
        plural(total),
        journal.path().display()
    );
    let report =
        sharedbox_applier::apply(tenant, plan, snapshot, &mut journal, options, progress_line)
            .await
            .map_err(|e| Failure::new(e.to_string()).hint(e.hint()))?;
    Ok(print_report(&report, plan, run_id))
}

fn progress_line(event: Event<'_>) {
    match event {
        Event::Started {
            step,
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
                "  [{step}/{total}] {} {target} {} {value} ... ",
                change.operation.cmdlet(),
                change.field
            );
        }
        Event::Succeeded => eprintln!("ok"),
        Event::Failed { error } => eprintln!("FAILED: {error}"),
        Event::WaitingForMailboxes { mailboxes } => {
            eprintln!("  waiting until {} can be read ...", mailboxes.join(", "))
        }
        Event::RollingBack => eprintln!("\nrolling back the completed steps, newest first:"),
        Event::Undone(item) => eprintln!("  {}", undo_line(item)),
        Event::Verifying => eprintln!("  verifying: re-reading the changed mailboxes ..."),
    }
}

/// One undo decision as a line.
pub fn undo_line(item: &UndoItem) -> String {
    let what = format!(
        "step {} {} {} {}",
        item.step,
        item.operation.cmdlet(),
        item.operation.mailbox().unwrap_or("tenant settings"),
        item.field
    );
    let status = match item.status {
        UndoStatus::Reverted => "reverted",
        UndoStatus::Skipped => "nothing to undo",
        UndoStatus::Conflict => "CONFLICT, left alone",
        UndoStatus::Irreversible => "cannot be undone",
        UndoStatus::Failed => "UNDO FAILED",
    };
    match &item.detail {
        Some(detail) => format!("{what}: {status} ({detail})"),
        None => format!("{what}: {status}"),
    }
}

fn print_report(report: &ApplyReport, plan: &Plan, run_id: &str) -> ExitStatus {
    if report.outcome == RunOutcome::Succeeded {
        println!(
            "\nApply complete: {} change{} applied to `{}` (run `{run_id}`).",
            report.applied,
            plural(report.applied),
            plan.tenant
        );
        if let Some(verification) = &report.verification {
            if verification.not_visible.is_empty() {
                eprintln!(
                    "verified: the tenant shows all {} change{}",
                    verification.verified,
                    plural(verification.verified)
                );
            } else {
                eprintln!(
                    "applied, not yet visible: {} of {} change{} do not show yet (Exchange can take up to 60 minutes):",
                    verification.not_visible.len(),
                    verification.verified + verification.not_visible.len(),
                    plural(verification.verified + verification.not_visible.len())
                );
                for (field, operation, _) in &verification.not_visible {
                    eprintln!(
                        "  - {} {} {field}",
                        operation.cmdlet(),
                        operation.mailbox().unwrap_or("tenant settings")
                    );
                }
                eprintln!(
                    "hint: run `sharedbox plan` later; it is empty once Exchange shows every change"
                );
            }
        }
        return ExitStatus::Success;
    }
    let (step, field, operation, error) = report
        .failed
        .clone()
        .expect("a run that did not succeed has a failed step");
    println!(
        "\nApply failed at step {step}: {} {} ({field}): {error}",
        operation.cmdlet(),
        operation.mailbox().unwrap_or("tenant settings")
    );
    let count = |status| report.undo.iter().filter(|u| u.status == status).count();
    match report.outcome {
        RunOutcome::RolledBack => {
            println!(
                "Rolled back: {} reverted, {} without change to undo, {} that cannot be undone. The tenant is as it was before the run.",
                count(UndoStatus::Reverted),
                count(UndoStatus::Skipped),
                count(UndoStatus::Irreversible)
            );
            for item in report
                .undo
                .iter()
                .filter(|u| u.status == UndoStatus::Irreversible)
            {
                println!("  {}", undo_line(item));
            }
            eprintln!(
                "\nhint: fix the cause, then run `sharedbox apply` again; `sharedbox runs show {run_id}` shows every step"
            );
            ExitStatus::Failure
        }
        RunOutcome::Failed => {
            println!(
                "Kept {} applied change{} (`--no-rollback`); {} not run.",
                report.applied,
                plural(report.applied),
                report.not_run
            );
            eprintln!(
                "\nhint: `sharedbox rollback {run_id}` undoes the applied changes; `sharedbox plan` shows what is left"
            );
            ExitStatus::Failure
        }
        _ => {
            println!(
                "ROLLBACK INCOMPLETE: {} conflict(s), {} failed undo(s). A human must look:",
                count(UndoStatus::Conflict),
                count(UndoStatus::Failed)
            );
            for item in report
                .undo
                .iter()
                .filter(|u| matches!(u.status, UndoStatus::Conflict | UndoStatus::Failed))
            {
                println!("  {}", undo_line(item));
            }
            eprintln!(
                "\nhint: `sharedbox runs show {run_id}` shows every step; `sharedbox rollback {run_id}` retries the undo"
            );
            ExitStatus::RollbackIncomplete
        }
    }
}
