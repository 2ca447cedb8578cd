//! `sharedbox rollback RUN_ID` and `sharedbox runs [show RUN_ID]`.

use sharedbox_applier::{
    Actor, Journal, JournalError, Record, RunKind, RunLog, RunOutcome, UndoStatus,
};

use super::apply::undo_line;
use super::{confirm, lock, open_tenant, plural};
use crate::args::RollbackArgs;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure};

fn find(config: &RunConfig, run_id: &str) -> anyhow::Result<RunLog> {
    RunLog::find(&config.state_dir, run_id).map_err(|e| match e {
        JournalError::NotFound(_) => Failure::new(format!(
            "no run `{run_id}` in `{}`",
            config.state_dir.join("runs").display()
        ))
        .hint("`sharedbox runs` lists the journaled runs")
        .into(),
        other => anyhow::Error::from(other),
    })
}

/// `sharedbox rollback RUN_ID`.
pub async fn rollback(config: &RunConfig, args: &RollbackArgs) -> anyhow::Result<ExitStatus> {
    let log = find(config, &args.run_id)?;
    let Some(Record::Start {
        kind,
        tenant: run_tenant,
        ..
    }) = log.start()
    else {
        return Err(
            Failure::new(format!("run `{}` has no start record", args.run_id))
                .hint("the journal is damaged; inspect it by hand")
                .into(),
        );
    };
    if *kind == RunKind::Rollback {
        return Err(
            Failure::new(format!("run `{}` is itself a rollback", args.run_id))
                .hint("to redo the original changes, run `sharedbox apply`")
                .into(),
        );
    }
    let tenant = open_tenant(config)?;
    if *run_tenant != tenant.name() {
        return Err(Failure::new(format!(
            "run `{}` changed tenant `{run_tenant}`, but the configured tenant is `{}`",
            args.run_id,
            tenant.name()
        ))
        .hint("configure the tenant the run changed")
        .into());
    }
    let steps = log.steps();
    if log.damaged_lines > 0 {
        eprintln!(
            "warning: {} damaged line{} in the journal (a crash cut it short); every complete record is used",
            log.damaged_lines,
            plural(log.damaged_lines)
        );
    }
    outln!(
        "Run `{}` recorded {} write{} on `{run_tenant}`; rollback checks each, newest first:",
        args.run_id,
        steps.len(),
        plural(steps.len())
    );
    for step in steps.iter().rev() {
        let state = match step.ok {
            Some(true) => "applied",
            Some(false) => "failed",
            None => "outcome unknown (the run stopped)",
        };
        outln!(
            "  step {} {} {} {} ({state})",
            step.step,
            step.operation.cmdlet(),
            step.operation.mailbox().unwrap_or("tenant settings"),
            step.field
        );
    }
    if steps.is_empty() {
        outln!("Nothing to roll back.");
        return Ok(ExitStatus::Success);
    }
    if !args.auto_approve {
        confirm(
            &format!(
                "Do you want to undo run `{}` on `{run_tenant}`?",
                args.run_id
            ),
            "rollback",
        )?;
    }
    let rollback_id = sharedbox_applier::new_run_id();
    let _lock = lock(
        &config.state_dir,
        run_tenant,
        &rollback_id,
        "rollback",
        args.lock_timeout,
    )?;
    let mut journal = Journal::create(&config.state_dir, &rollback_id)?;
    journal.write(&Record::Start {
        run_id: rollback_id.clone(),
        kind: RunKind::Rollback,
        tenant: run_tenant.clone(),
        at: sharedbox_applier::now_rfc3339(),
        actor: Actor::current(),
        plan_id: None,
        rollback_of: Some(args.run_id.clone()),
        steps: steps.len(),
    })?;
    let report = sharedbox_applier::rollback_run(tenant.as_ref(), &log, &mut journal, |item| {
        eprintln!("  {}", undo_line(item))
    })
    .await?;
    if report.nothing_to_do() {
        outln!(
            "\nNothing to roll back: every change of run `{}` is already undone (rollback run `{rollback_id}`).",
            args.run_id
        );
        return Ok(ExitStatus::Success);
    }
    let count = |status| report.items.iter().filter(|i| i.status == status).count();
    outln!(
        "\nRollback of `{}` (run `{rollback_id}`): {} reverted, {} without change to undo, {} that cannot be undone, {} conflict(s), {} failed.",
        args.run_id,
        count(UndoStatus::Reverted),
        count(UndoStatus::Skipped),
        count(UndoStatus::Irreversible),
        count(UndoStatus::Conflict),
        count(UndoStatus::Failed)
    );
    for item in report
        .items
        .iter()
        .filter(|i| !matches!(i.status, UndoStatus::Reverted | UndoStatus::Skipped))
    {
        outln!("  {}", undo_line(item));
    }
    if report.is_incomplete() {
        eprintln!(
            "\nhint: conflicts are values someone changed after the run; they are left alone. Check them, then run `sharedbox plan`"
        );
        return Ok(ExitStatus::RollbackIncomplete);
    }
    Ok(ExitStatus::Success)
}

/// `sharedbox runs`.
pub fn runs(config: &RunConfig) -> anyhow::Result<ExitStatus> {
    let logs = RunLog::all(&config.state_dir)?;
    if logs.is_empty() {
        outln!("No runs in `{}`.", config.state_dir.join("runs").display());
        return Ok(ExitStatus::Success);
    }
    let rolled_back_by = |id: &str| {
        logs.iter().rev().find_map(|l| match l.start() {
            Some(Record::Start {
                rollback_of: Some(of),
                run_id,
                ..
            }) if of == id => Some(run_id.clone()),
            _ => None,
        })
    };
    outln!(
        "{:<24} {:<8} {:<20} {:<28} {:<26} {:<22} STEPS",
        "RUN",
        "KIND",
        "STARTED",
        "TENANT",
        "BY",
        "OUTCOME"
    );
    for log in &logs {
        let Some(Record::Start {
            run_id,
            kind,
            tenant,
            at,
            actor,
            rollback_of,
            ..
        }) = log.start()
        else {
            continue;
        };
        let steps = log.steps();
        let ok = steps.iter().filter(|s| s.ok == Some(true)).count();
        let failed = steps.iter().filter(|s| s.ok == Some(false)).count();
        let reverted = steps
            .iter()
            .filter(|s| s.undo == Some(UndoStatus::Reverted))
            .count();
        let outcome = match log.outcome() {
            Some(o) => outcome_label(o).to_owned(),
            None => "unfinished (crashed?)".to_owned(),
        };
        let outcome = match (rollback_of, rolled_back_by(run_id)) {
            (Some(of), _) => format!("{outcome} of {of}"),
            (None, Some(by)) => format!("{outcome}, rolled back by {by}"),
            (None, None) => outcome,
        };
        let by = match &actor.ci {
            Some(ci) => format!("{} ({ci})", actor.user),
            None => format!("{}@{}", actor.user, actor.host),
        };
        let kind = match kind {
            RunKind::Apply => "apply",
            RunKind::Rollback => "rollback",
        };
        outln!(
            "{run_id:<24} {kind:<8} {at:<20} {tenant:<28} {by:<26} {outcome:<22} {ok} ok, {failed} failed, {reverted} undone"
        );
    }
    Ok(ExitStatus::Success)
}

fn outcome_label(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::RolledBack => "failed, rolled back",
        RunOutcome::Failed => "failed, kept",
        RunOutcome::RollbackIncomplete => "ROLLBACK INCOMPLETE",
        RunOutcome::Restored => "restored",
    }
}

/// `sharedbox runs show RUN_ID`.
pub fn runs_show(config: &RunConfig, run_id: &str) -> anyhow::Result<ExitStatus> {
    let log = find(config, run_id)?;
    for record in &log.records {
        match record {
            Record::Start {
                kind,
                tenant,
                at,
                actor,
                plan_id,
                rollback_of,
                steps,
                ..
            } => {
                outln!(
                    "run {run_id}: {kind:?} of {steps} step{} on `{tenant}`, started {at} by {}@{} (pid {})",
                    plural(*steps),
                    actor.user,
                    actor.host,
                    actor.pid
                );
                if let Some(ci) = &actor.ci {
                    outln!("  from {ci}");
                }
                if let Some(plan_id) = plan_id {
                    outln!("  saved plan {}", super::plan::short(plan_id));
                }
                if let Some(of) = rollback_of {
                    outln!("  rolls back run {of}");
                }
            }
            Record::Intent {
                step,
                field,
                operation,
                before,
                expected,
                ..
            } => {
                outln!(
                    "  step {step}: {} {} {field}: {before:?} -> {expected:?}",
                    operation.cmdlet(),
                    operation.mailbox().unwrap_or("tenant settings")
                );
            }
            Record::Outcome { step, ok, error } => match error {
                Some(e) => outln!("  step {step}: {} ({e})", if *ok { "ok" } else { "FAILED" }),
                None => outln!("  step {step}: {}", if *ok { "ok" } else { "FAILED" }),
            },
            Record::UndoIntent { step, operation } => outln!(
                "  undo of step {step}: sending {} {}",
                operation.cmdlet(),
                operation.mailbox().unwrap_or("tenant settings")
            ),
            Record::Undo {
                step,
                status,
                operation,
                detail,
            } => {
                let write = operation
                    .as_ref()
                    .map(|o| format!(" with {}", o.cmdlet()))
                    .unwrap_or_default();
                let detail = detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                outln!("  undo of step {step}: {status:?}{write}{detail}");
            }
            Record::End { outcome, at } => outln!("ended {at}: {}", outcome_label(*outcome)),
        }
    }
    if log.outcome().is_none() {
        outln!(
            "the run has no end record: it crashed or is still running; `sharedbox rollback {run_id}` undoes what it did"
        );
    }
    if log.damaged_lines > 0 {
        outln!(
            "{} damaged line{} skipped",
            log.damaged_lines,
            plural(log.damaged_lines)
        );
    }
    Ok(ExitStatus::Success)
}
