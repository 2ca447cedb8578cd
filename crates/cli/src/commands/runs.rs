//! `sharedbox rollback RUN_ID` and `sharedbox runs [show RUN_ID]`.

use sharedbox_applier::{
    Actor, FORMAT_VERSION, Journal, JournalError, Record, RunKind, RunLog, RunOutcome, UndoStatus,
    printable,
};

use super::apply::{undo_event, undo_line};
use super::{backend_kind, confirm, lock, open_tenant, plural};
use crate::args::RollbackArgs;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure, blank_line, hint, print_error, warning};

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

/// Prints why a journal cannot be used for a rollback, and exits 3: nothing was written.
fn refuse_damaged(message: String, hint: String) -> anyhow::Result<ExitStatus> {
    print_error(&Failure::new(message).hint(hint).into());
    Ok(ExitStatus::RollbackIncomplete)
}

/// The problems of a journal in one line, at most five of them.
fn problem_list(log: &RunLog) -> String {
    let mut text = log
        .problems
        .iter()
        .take(5)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if log.problems.len() > 5 {
        text.push_str(&format!("; and {} more", log.problems.len() - 5));
    }
    text
}

/// `sharedbox rollback RUN_ID`.
pub async fn rollback(config: &RunConfig, args: &RollbackArgs) -> anyhow::Result<ExitStatus> {
    let log = find(config, &args.run_id)?;
    let run = &args.run_id;
    if !log.problems.is_empty() {
        return refuse_damaged(
            format!(
                "the journal of run `{run}` is damaged: {}",
                problem_list(&log)
            ),
            format!(
                "nothing was written: a damaged journal cannot be trusted to undo a run. `sharedbox runs show {run}` shows what can be read; undo its steps by hand, or restore the journal from a backup"
            ),
        );
    }
    let Some(Record::Start {
        format_version,
        kind,
        backend,
        tenant: run_tenant,
        ..
    }) = log.start()
    else {
        return refuse_damaged(
            format!("the journal of run `{run}` has no `start` record"),
            format!("nothing was written; inspect it with `sharedbox runs show {run}`"),
        );
    };
    match format_version {
        Some(FORMAT_VERSION) => {}
        None => {
            return refuse_damaged(
                format!(
                    "the journal of run `{run}` has no `format_version`: it was written before journal format {FORMAT_VERSION} and does not record its backend"
                ),
                format!(
                    "nothing was written; undo it with the sharedbox version that wrote it, or by hand (`sharedbox runs show {run}` lists its steps)"
                ),
            );
        }
        Some(other) => {
            return refuse_damaged(
                format!(
                    "the journal of run `{run}` has format version {other}; this sharedbox reads version {FORMAT_VERSION}"
                ),
                "nothing was written; roll it back with the sharedbox version that wrote it"
                    .to_owned(),
            );
        }
    }
    if *kind == RunKind::Rollback {
        return Err(Failure::new(format!("run `{run}` is itself a rollback"))
            .hint("to redo the original changes, run `sharedbox apply`")
            .into());
    }
    let here = backend_kind(config)?;
    let backend = backend.as_deref().unwrap_or_default();
    if backend != here {
        return Err(Failure::new(format!(
            "run `{run}` changed a tenant of the `{}` backend, but the configured tenant is of the `{here}` backend",
            printable(backend, 40)
        ))
        .hint("nothing was written; configure the backend and tenant the run changed (`tenant` in `sharedbox.yaml`, or `--tenant`)")
        .into());
    }
    let tenant = open_tenant(config)?;
    if *run_tenant != tenant.name() {
        return Err(Failure::new(format!(
            "run `{run}` changed tenant `{}`, but the configured tenant is `{}`",
            printable(run_tenant, 80),
            tenant.name()
        ))
        .hint("nothing was written; configure the tenant the run changed (`tenant` in `sharedbox.yaml`, or `--tenant`)")
        .into());
    }
    let rollback_id = sharedbox_applier::new_run_id();
    // The lock is held from the look at the other journals to the last undo: no run can
    // start in between.
    let _lock = lock(
        &config.state_dir,
        run_tenant,
        &rollback_id,
        "rollback",
        args.lock_timeout,
    )?;
    let all = RunLog::all(&config.state_dir)?;
    let history = sharedbox_applier::history(&log, &all);
    for file in &history.unchecked {
        warning(&format!(
            "`{}.jsonl` in the runs folder is not a readable journal; it was not checked for later changes",
            printable(file, 60)
        ));
    }
    let later = history
        .later
        .iter()
        .map(|id| format!("`{}`", printable(id, 60)))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(by) = &history.rolled_back_in {
        if by == run {
            outln!(
                "Nothing to roll back: run `{run}` failed and was already rolled back automatically."
            );
        } else {
            outln!(
                "Nothing to roll back: run `{run}` was already rolled back in run `{}`.",
                printable(by, 60)
            );
        }
        if !history.later.is_empty() {
            outln!(
                "Later runs changed the same objects: {later}; to undo them, roll them back, newest first."
            );
        }
        return Ok(ExitStatus::Success);
    }
    if !history.later.is_empty() {
        if !args.force {
            return Err(Failure::new(format!(
                "run `{run}` was followed by run{} {later} that changed objects it changed",
                plural(history.later.len())
            ))
            .hint(format!("nothing was written: rolling back `{run}` now would undo what they set too. Roll them back first, newest first, or pass `--force` to roll back `{run}` anyway (a value still as `{run}` set it is reverted; any other is left alone as a conflict)"))
            .into());
        }
        warning(&format!(
            "`--force`: rolling back `{run}` although later run{} {later} changed objects it changed",
            plural(history.later.len())
        ));
    }
    let steps = log.steps();
    if let Some(line) = log.cut_off {
        warning(&format!(
            "the last line of the journal (line {line}) was cut off by a crash; every complete record is used"
        ));
    }
    outln!(
        "Run `{run}` recorded {} write{} on `{run_tenant}`; rollback checks each, newest first:",
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
            printable(step.operation.mailbox().unwrap_or("tenant settings"), 120),
            printable(&step.field, 60)
        );
    }
    if steps.is_empty() {
        outln!("Nothing to roll back.");
        return Ok(ExitStatus::Success);
    }
    if !args.auto_approve {
        confirm(
            &format!("Do you want to undo run `{run}` on `{run_tenant}`?"),
            "rollback",
        )?;
    }
    let mut journal = Journal::create(&config.state_dir, &rollback_id)?;
    journal.write(&Record::Start {
        format_version: Some(FORMAT_VERSION),
        run_id: rollback_id.clone(),
        kind: RunKind::Rollback,
        backend: Some(here.to_owned()),
        tenant: run_tenant.clone(),
        at: sharedbox_applier::now_rfc3339_precise(),
        actor: Actor::current(),
        plan_id: None,
        rollback_of: Some(run.clone()),
        steps: steps.len(),
    })?;
    let report =
        sharedbox_applier::rollback_run(tenant.as_ref(), &log, &mut journal, undo_event).await?;
    if report.nothing_to_do() {
        outln!(
            "\nNothing to roll back: every change of run `{run}` is already undone (rollback run `{rollback_id}`)."
        );
        return Ok(ExitStatus::Success);
    }
    let count = |status| report.items.iter().filter(|i| i.status == status).count();
    outln!(
        "\nRollback of `{run}` (run `{rollback_id}`): {} reverted, {} without change to undo, {} that cannot be undone, {} conflict(s), {} failed.",
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
        blank_line();
        hint(
            "conflicts are values someone changed after the run; they are left alone. Check them, then run `sharedbox plan`",
        );
        return Ok(ExitStatus::RollbackIncomplete);
    }
    Ok(ExitStatus::Success)
}

/// A start time as `runs` shows it: to the second.
fn short_time(at: &str) -> String {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| {
            t.to_offset(time::UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| printable(at, 30))
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
    let mut damaged = 0;
    for log in &logs {
        let Some(Record::Start {
            format_version,
            kind,
            tenant,
            at,
            actor,
            rollback_of,
            ..
        }) = log.start()
        else {
            damaged += 1;
            outln!(
                "{:<24} {:<8} DAMAGED, not a readable journal: {}",
                printable(&log.run_id, 60),
                "?",
                problem_list(log)
            );
            continue;
        };
        let run_id = printable(&log.run_id, 60);
        let outcome = match log.outcome() {
            Some(o) => outcome_label(o).to_owned(),
            None => "unfinished (crashed?)".to_owned(),
        };
        let mut outcome = match (rollback_of, rolled_back_by(&log.run_id)) {
            (Some(of), _) => format!("{outcome} of {}", printable(of, 60)),
            (None, Some(by)) => format!("{outcome}, rolled back by {}", printable(&by, 60)),
            (None, None) => outcome,
        };
        if let Some(problem) = log.problems.first() {
            damaged += 1;
            outcome.push_str(&format!(", DAMAGED ({problem})"));
        } else if format_version.is_none() {
            outcome.push_str(", journal format 0");
        }
        let by = match &actor.ci {
            Some(ci) => format!("{} ({})", printable(&actor.user, 40), printable(ci, 60)),
            None => format!(
                "{}@{}",
                printable(&actor.user, 40),
                printable(&actor.host, 60)
            ),
        };
        let (kind, counts) = match kind {
            RunKind::Apply => {
                let steps = log.steps();
                let ok = steps.iter().filter(|s| s.ok == Some(true)).count();
                let failed = steps.iter().filter(|s| s.ok == Some(false)).count();
                let reverted = steps
                    .iter()
                    .filter(|s| s.undo == Some(UndoStatus::Reverted))
                    .count();
                (
                    "apply",
                    format!("{ok} ok, {failed} failed, {reverted} undone"),
                )
            }
            RunKind::Rollback => {
                let c = log.undo_counts();
                let mut text = format!(
                    "{} undone, {} unchanged, {} left alone, {} failed",
                    c.reverted,
                    c.skipped,
                    c.conflicts + c.irreversible,
                    c.failed
                );
                if c.unknown > 0 {
                    text.push_str(&format!(", {} unknown", c.unknown));
                }
                ("rollback", text)
            }
        };
        outln!(
            "{run_id:<24} {kind:<8} {:<20} {:<28} {by:<26} {outcome:<22} {counts}",
            short_time(at),
            printable(tenant, 80)
        );
    }
    if damaged > 0 {
        blank_line();
        warning(&format!(
            "{damaged} damaged journal{} in `{}`",
            plural(damaged),
            config.state_dir.join("runs").display()
        ));
        blank_line();
        hint(
            "`sharedbox runs show RUN_ID` says what is wrong; `sharedbox rollback` refuses a damaged journal",
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
    if log.start().is_none() {
        return Err(Failure::new(format!(
            "`{run_id}.jsonl` is not a readable journal: {}",
            problem_list(&log)
        ))
        .hint(format!(
            "it was not written by sharedbox, or was damaged; `sharedbox rollback` refuses it. Move it out of `{}` once inspected",
            config.state_dir.join("runs").display()
        ))
        .into());
    }
    let text = |t: &str| printable(t, 120);
    let mailbox = |o: &sharedbox_tenant::Operation| text(o.mailbox().unwrap_or("tenant settings"));
    for record in &log.records {
        match record {
            Record::Start {
                format_version,
                kind,
                backend,
                tenant,
                at,
                actor,
                plan_id,
                rollback_of,
                steps,
                ..
            } => {
                let backend = backend
                    .as_deref()
                    .map(|b| format!(" ({} backend)", text(b)))
                    .unwrap_or_default();
                outln!(
                    "run {run_id}: {kind:?} of {steps} step{} on `{}`{backend}, started {} by {}@{} (pid {})",
                    plural(*steps),
                    text(tenant),
                    text(at),
                    text(&actor.user),
                    text(&actor.host),
                    actor.pid
                );
                if let Some(ci) = &actor.ci {
                    outln!("  from {}", text(ci));
                }
                if let Some(plan_id) = plan_id {
                    outln!("  saved plan {}", text(super::plan::short(plan_id)));
                }
                if let Some(of) = rollback_of {
                    outln!("  rolls back run {}", text(of));
                }
                match format_version {
                    Some(FORMAT_VERSION) => {}
                    Some(v) => {
                        outln!("  journal format {v}: this sharedbox reads format {FORMAT_VERSION}")
                    }
                    None => outln!(
                        "  journal format 0 (written before format {FORMAT_VERSION}): readable, but `sharedbox rollback` refuses it"
                    ),
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
                    "  step {step}: {} {} {}: {} -> {}",
                    operation.cmdlet(),
                    mailbox(operation),
                    text(field),
                    text(&format!("{before:?}")),
                    text(&format!("{expected:?}"))
                );
            }
            Record::Outcome { step, ok, error } => match error {
                Some(e) => outln!(
                    "  step {step}: {} ({})",
                    if *ok { "ok" } else { "FAILED" },
                    text(e)
                ),
                None => outln!("  step {step}: {}", if *ok { "ok" } else { "FAILED" }),
            },
            Record::UndoIntent { step, operation } => outln!(
                "  undo of step {step}: sending {} {}",
                operation.cmdlet(),
                mailbox(operation)
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
                    .map(|d| format!(" ({})", text(d)))
                    .unwrap_or_default();
                outln!("  undo of step {step}: {status:?}{write}{detail}");
            }
            Record::End { outcome, at } => {
                outln!("ended {}: {}", text(at), outcome_label(*outcome));
            }
        }
    }
    if log.outcome().is_none() {
        outln!(
            "the run has no end record: it crashed or is still running; `sharedbox rollback {run_id}` undoes what it did"
        );
    }
    if let Some(line) = log.cut_off {
        outln!("line {line}, the last, was cut off (a crash): skipped");
    }
    if !log.problems.is_empty() {
        outln!(
            "DAMAGED: {} problem{}; `sharedbox rollback` refuses this journal:",
            log.problems.len(),
            plural(log.problems.len())
        );
        for problem in &log.problems {
            outln!("  {problem}");
        }
    }
    Ok(ExitStatus::Success)
}
