//! `sharedbox rollback RUN_ID` and `sharedbox runs [show RUN_ID]`.

use sharedbox_applier::rollback::{problem_list, quoted};
use sharedbox_applier::{
    Decision, FORMAT_VERSION, Journal, JournalError, Record, RollbackRefusal, RunKind, RunLog,
    RunOutcome, RunStart, StateStore, UndoStatus, printable,
};

use super::apply::{undo_event, undo_line};
use super::{backend_kind, confirm, lock, open_tenant, plural, state_store};
use crate::args::RollbackArgs;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure, blank_line, hint, print_error, warning};

fn find(store: &dyn StateStore, run_id: &str) -> anyhow::Result<RunLog> {
    store.find(run_id).map_err(|e| match e {
        JournalError::NotFound(_) => {
            Failure::new(format!("no run `{run_id}` in `{}`", store.runs_location()))
                .hint("`sharedbox runs` lists the journaled runs")
                .into()
        }
        other => anyhow::Error::from(other),
    })
}

/// `sharedbox rollback RUN_ID`.
pub async fn rollback(config: &RunConfig, args: &RollbackArgs) -> anyhow::Result<ExitStatus> {
    let store = state_store(config)?;
    let store = store.as_ref();
    let log = find(store, &args.run_id)?;
    let run = &args.run_id;
    let refused = |refusal: RollbackRefusal| -> anyhow::Result<ExitStatus> {
        if refusal.needs_a_human() {
            print_error(&Failure::of(&refusal).into());
            Ok(ExitStatus::RollbackIncomplete)
        } else {
            Err(Failure::of(&refusal).into())
        }
    };
    if let Err(refusal) = sharedbox_applier::check_journal(&log, backend_kind(config)?) {
        return refused(refusal);
    }
    let tenant = open_tenant(config)?;
    if let Err(refusal) = sharedbox_applier::check_tenant(&log, &tenant.name()) {
        return refused(refusal);
    }
    let run_tenant = tenant.name();
    let rollback_id = sharedbox_applier::new_run_id();
    // The lock is held from the look at the other journals to the last undo: no run can
    // start in between.
    let held = lock(
        store,
        &run_tenant,
        &rollback_id,
        "rollback",
        args.lock_timeout,
    )?;
    let all = store.all()?;
    let history = sharedbox_applier::history(&log, &all);
    for file in &history.unchecked {
        warning(&format!(
            "`{}.jsonl` in the runs folder is not a readable journal; it was not checked for later changes",
            printable(file, 60)
        ));
    }
    match sharedbox_applier::decide(run, &history, args.force) {
        Err(refusal) => return refused(refusal),
        Ok(Decision::AlreadyRolledBack { by, later }) => {
            if by == *run {
                outln!(
                    "Nothing to roll back: run `{run}` failed and was already rolled back automatically."
                );
            } else {
                outln!(
                    "Nothing to roll back: run `{run}` was already rolled back in run `{}`.",
                    printable(&by, 60)
                );
            }
            if !later.is_empty() {
                outln!(
                    "Later runs changed the same objects: {}; to undo them, roll them back, newest first.",
                    quoted(&later)
                );
            }
            return Ok(ExitStatus::Success);
        }
        Ok(Decision::Proceed { forced_over }) if !forced_over.is_empty() => {
            warning(&format!(
                "`--force`: rolling back `{run}` although later run{} {} changed objects it changed",
                plural(forced_over.len()),
                quoted(&forced_over)
            ));
        }
        Ok(Decision::Proceed { .. }) => {}
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
    let mut irreversible = Vec::new();
    for step in steps.iter().rev() {
        let state = match step.ok {
            Some(true) => "applied",
            Some(false) => "failed",
            None => "outcome unknown (the run stopped)",
        };
        let place = printable(step.operation.mailbox().unwrap_or("tenant settings"), 120);
        let line = printable(&step.shown().line(&step.field, &step.operation), 240);
        let mark = match sharedbox_applier::cannot_undo(step, &steps) {
            Some(reason) => {
                irreversible.push(format!("step {} `{place}`: {line}: {reason}", step.step));
                "  # cannot be undone"
            }
            None => "",
        };
        outln!("  step {} {place}: {line} ({state}){mark}", step.step);
    }
    if !irreversible.is_empty() {
        outln!(
            "{} cannot be undone by `sharedbox rollback`:",
            match irreversible.len() {
                1 => "1 step".to_owned(),
                n => format!("{n} steps"),
            }
        );
        for line in &irreversible {
            outln!("  - {line}");
        }
    }
    if steps.is_empty() {
        outln!("Nothing to roll back.");
        return Ok(ExitStatus::Success);
    }
    if !args.auto_approve {
        confirm(
            &format!("Do you want to undo run `{run}` on `{run_tenant}`?"),
            "rollback",
            &format!("rollback {}", printable(run, 60)),
        )?;
    }
    let mut journal = Journal::start_in(
        store,
        &held,
        RunStart {
            run_id: rollback_id.clone(),
            kind: RunKind::Rollback,
            backend: backend_kind(config)?.to_owned(),
            tenant: run_tenant.clone(),
            plan_id: None,
            rollback_of: Some(run.clone()),
            steps: steps.len(),
            policy_commit: None,
            heal: false,
        },
    )?;
    let mut counter = crate::progress::RunCounter::rollback(steps.len());
    let report = sharedbox_applier::rollback_run(tenant.as_ref(), &log, &mut journal, |item| {
        counter.undoing();
        undo_event(item);
        counter.undone();
    })
    .await;
    counter.end();
    let report = report?;
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
    let store = state_store(config)?;
    let logs = store.all()?;
    if logs.is_empty() {
        outln!("No runs in `{}`.", store.runs_location());
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
    // Each column as wide as its widest cell; tenant and user cut with `…` past 40
    // characters, the outcome past 64 (it names a run id whole), so a long one cannot push
    // the others off the line. Run ids are never cut: `runs show` and `rollback` take them.
    let fit = |text: &str, cap: usize| printable(text, cap - 1);
    let mut rows: Vec<[String; 7]> =
        vec![["RUN", "KIND", "STARTED", "TENANT", "BY", "OUTCOME", "STEPS"].map(str::to_owned)];
    let mut damaged_ids = Vec::new();
    for log in &logs {
        let Some(Record::Start {
            format_version,
            kind,
            tenant,
            at,
            actor,
            rollback_of,
            heal,
            ..
        }) = log.start()
        else {
            damaged_ids.push(printable(&log.run_id, 60));
            rows.push([
                printable(&log.run_id, 60),
                "?".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                format!("DAMAGED, not a readable journal: {}", problem_list(log)),
                String::new(),
            ]);
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
            damaged_ids.push(run_id.clone());
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
                    // `apply --heal`: an apply of drift only.
                    if *heal { "heal" } else { "apply" },
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
        rows.push([
            run_id,
            kind.to_owned(),
            short_time(at),
            fit(tenant, 40),
            fit(&by, 40),
            fit(&outcome, 64),
            counts,
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            rows.iter()
                // A damaged journal's problem list is the end of its line, never a column.
                .filter(|r| !(c == 5 && r[1] == "?"))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 6 || (c == 5 && row[1] == "?") {
                line.push_str(cell);
                break;
            }
            line.push_str(cell);
            line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
        }
        outln!("{}", line.trim_end());
    }
    if !damaged_ids.is_empty() {
        blank_line();
        warning(&format!(
            "{} damaged journal{} in `{}`: {}",
            damaged_ids.len(),
            plural(damaged_ids.len()),
            store.runs_location(),
            quoted(&damaged_ids)
        ));
        blank_line();
        hint(&format!(
            "`sharedbox runs show {}` says what is wrong; `sharedbox rollback` refuses a damaged journal",
            damaged_ids[0]
        ));
    }
    Ok(ExitStatus::Success)
}

fn kind_label(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Apply => "apply",
        RunKind::Rollback => "rollback",
    }
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
    let store = state_store(config)?;
    let store = store.as_ref();
    let log = find(store, run_id)?;
    if log.start().is_none() {
        return Err(Failure::new(format!(
            "`{run_id}.jsonl` is not a readable journal: {}",
            problem_list(&log)
        ))
        .hint(format!(
            "it was not written by sharedbox, or was damaged; `sharedbox rollback` refuses it. Move it out of `{}` once inspected",
            store.runs_location()
        ))
        .into());
    }
    let text = |t: &str| printable(t, 120);
    let mailbox = |o: &sharedbox_tenant::Operation| text(o.mailbox().unwrap_or("tenant settings"));
    let who = |o: &sharedbox_tenant::Operation| {
        o.principal()
            .map(|p| format!(" {}", text(&p.label())))
            .unwrap_or_default()
    };
    // A rollback's undos are shown as the reverse of the steps of the run it rolled back.
    let undone: Vec<sharedbox_applier::JournaledStep> = match log.start() {
        Some(Record::Start {
            rollback_of: Some(of),
            ..
        }) => store.find(of).map(|l| l.steps()).unwrap_or_default(),
        _ => Vec::new(),
    };
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
                    "run {run_id}: {} of {steps} step{} on `{}`{backend}, started {} by {}@{} (pid {})",
                    kind_label(*kind),
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
                    Some(v) if sharedbox_applier::reads_format(*v) => {}
                    Some(v) => {
                        outln!(
                            "  journal format {v}: this sharedbox reads formats 1 to {FORMAT_VERSION}"
                        )
                    }
                    None => outln!(
                        "  journal format 0 (written before format 1): readable, but `sharedbox rollback` refuses it"
                    ),
                }
            }
            Record::Intent {
                step,
                field,
                operation,
                before,
                shown,
                ..
            } => {
                // As the plan showed the change; journals written before the plan's values
                // were kept derive them from the write and its before-image.
                let shown = shown
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| sharedbox_applier::Shown::derive(operation, before));
                outln!(
                    "  step {step}: {}: {}",
                    mailbox(operation),
                    printable(&shown.line(field, operation), 240)
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
            Record::UndoIntent { step, operation } => {
                match undone.iter().find(|s| s.step == *step) {
                    Some(original) => outln!(
                        "  undo of step {step}: {}: {}",
                        mailbox(operation),
                        printable(
                            &original
                                .shown()
                                .undone()
                                .line(&original.field, &original.operation),
                            240
                        )
                    ),
                    // The run rolled back is no longer in the runs folder.
                    None => outln!(
                        "  undo of step {step}: sending {} {}{}",
                        operation.cmdlet(),
                        mailbox(operation),
                        who(operation)
                    ),
                }
            }
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
                outln!("  undo of step {step}: {status}{write}{detail}");
            }
            Record::End { outcome, at } => {
                outln!("ended {}: {}", text(at), outcome_label(*outcome));
            }
            Record::Stopped { reason, at } => {
                outln!("stopped {}: {}", text(at), printable(reason, 400));
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
