//! `sharedbox apply [PLANFILE]`.

use sharedbox_applier::{
    ApplyOptions, ApplyReport, ApplyResult, Event, Journal, LockGuard, RunKind, RunOutcome,
    RunStart, StateStore, UndoItem, UndoStatus,
};
use sharedbox_planner::{Plan, PlanDocument};
use sharedbox_policy::PolicySet;
use sharedbox_tenant::{ReadScope, Snapshot, Tenant};

use super::plan::{read_plan_file, short};
use super::{
    backend_kind, confirm, load_policies, lock, make_plan, open_tenant, plural, policy_scope,
    print_plan, read, state_store,
};
use crate::args::{ApplyArgs, Format};
use crate::config::RunConfig;
use crate::output::{
    ExitStatus, Failure, blank_line, detail, emit, hint, hint_of, json_lines, message, note,
    print_diagnostics, step_summary,
};

/// The options of a run, from the command line.
pub(super) fn apply_options(args: &ApplyArgs) -> ApplyOptions {
    ApplyOptions {
        allow_destroy: args.allow_destroy,
        max_removals: args.max_removals,
        rollback_on_failure: !args.no_rollback,
        verify_timeout: args.verify_timeout,
        poll_interval: args.verify_interval,
        ..ApplyOptions::default()
    }
}

/// `sharedbox apply` (and `apply --heal`, [`super::heal`]).
pub async fn apply(config: &RunConfig, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    if args.heal {
        return super::heal::heal(config, args).await;
    }
    let tenant = open_tenant(config)?;
    let store = state_store(config)?;
    let run_id = sharedbox_applier::new_run_id();
    let options = apply_options(args);
    // Saved plans are checked before the lock is taken: a refusal never waits.
    let document = match &args.plan_file {
        Some(path) => Some(check_saved_plan(
            store.as_ref(),
            &read_plan_file(path)?,
            tenant.as_ref(),
        )?),
        None => None,
    };
    // The policies are loaded for a saved plan too: every change it holds must follow from them.
    let policies = load_policies(config)?;
    let held = lock(
        store.as_ref(),
        &tenant.name(),
        &run_id,
        "apply",
        args.lock_timeout,
    )?;
    // Again under the lock: another runner may have applied the plan while this one waited.
    if let Some(document) = &document {
        check_saved_plan(store.as_ref(), document, tenant.as_ref())?;
    }
    // Whether the run applies every policy of the checkout: then its journal records the
    // commit, which `apply --heal` judges drift against.
    let mut whole = args.targets.is_empty();
    let (plan, snapshot, plan_id) = match document {
        Some(document) => {
            let snapshot = read(tenant.as_ref(), &saved_plan_scope(&document, &policies)).await?;
            let stale = document.stale_objects(&snapshot);
            if !stale.is_empty() {
                for object in &stale {
                    detail("error", &format!("  - {object}"));
                }
                return Err(Failure::new(format!("the saved plan {} is stale: {} object{} changed since it was made", short(&document.plan_id), stale.len(), plural(stale.len())))
                    .hint("nothing was changed; make a new plan with `sharedbox plan --out FILE` and review it")
                    .into());
            }
            let (fresh, complete) = check_derivation(config, &document, &policies, &snapshot)?;
            whole &= complete;
            (
                document.to_plan_against(&fresh),
                snapshot,
                Some(document.plan_id),
            )
        }
        None => {
            let snapshot = read(tenant.as_ref(), &policy_scope(&policies)).await?;
            (
                make_plan(
                    &policies,
                    &snapshot,
                    &args.targets,
                    Some(&config.lint_levels),
                    super::plan::base_policies(config, None).ok().map(|b| b.set),
                )?,
                snapshot,
                None,
            )
        }
    };
    match args.format {
        Format::Text => print_plan(&plan),
        Format::Markdown => out!(
            "{}",
            sharedbox_planner::render_markdown(&plan, &Default::default())
        ),
        Format::Json => {}
    }
    if plan.is_empty() {
        let markdown = result_markdown(None, &plan, &run_id);
        step_summary(&markdown);
        match args.format {
            Format::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&ApplyResult::new(
                    None,
                    &plan,
                    &run_id,
                    plan_id.as_deref()
                ))?
            ),
            Format::Markdown => out!("\n{markdown}"),
            Format::Text => {}
        }
        return Ok(ExitStatus::Success);
    }
    let policy_commit = whole
        .then(|| crate::git::clean_commit(super::plan::policy_dir(config)).ok())
        .flatten();
    sharedbox_applier::check_guards(&plan, &options).map_err(|e| {
        Failure::new(format!("refusing to apply: {e}")).hint(format!(
            "nothing was changed; {}",
            hint_of(&e).unwrap_or_default()
        ))
    })?;
    if !args.auto_approve && plan_id.is_none() {
        confirm(
            &format!("Do you want to perform these actions on `{}`?", plan.tenant),
            "apply",
            "apply",
        )?;
    }
    execute(
        config,
        (store.as_ref(), &held),
        tenant.as_ref(),
        &plan,
        snapshot,
        &options,
        RunIdentity {
            run_id: &run_id,
            plan_id,
            format: args.format,
            policy_commit,
            heal: None,
        },
    )
    .await
}

/// What a saved plan's run reads: the mailboxes it touches (for the stale check) and every
/// managed mailbox (to re-derive the plan from the policies).
fn saved_plan_scope(document: &PlanDocument, policies: &PolicySet) -> ReadScope {
    let operations = || {
        document
            .mailboxes
            .iter()
            .flat_map(|m| &m.changes)
            .map(|c| &c.operation)
    };
    let policy = policy_scope(policies)
        .with_roots_of(operations())
        .with_auto_replies_of(operations());
    let ReadScope {
        mut mailboxes,
        accounts,
        roots,
        folders,
        auto_replies,
        groups,
        ..
    } = policy;
    mailboxes.extend(document.touched_mailboxes());
    mailboxes.extend(
        document
            .mailboxes
            .iter()
            .flat_map(|m| &m.changes)
            .filter_map(|c| c.operation.mailbox().map(str::to_owned)),
    );
    let mut seen = std::collections::HashSet::new();
    mailboxes.retain(|m| seen.insert(m.to_ascii_lowercase()));
    ReadScope {
        mailboxes,
        accounts,
        folders,
        roots,
        sizes: false,
        auto_replies,
        all_shared: false,
        groups,
    }
}

/// Refuses a saved plan with any change the policies (as loaded from the configuration) do
/// not call for on the live tenant now; notes the changes they call for that it lacks.
/// Returns that fresh plan, and whether the saved plan holds all of it.
fn check_derivation(
    config: &RunConfig,
    document: &PlanDocument,
    policies: &PolicySet,
    snapshot: &Snapshot,
) -> anyhow::Result<(Plan, bool)> {
    let id = short(&document.plan_id);
    // The policies at the base the plan was made against told the autoMapping of grants
    // Exchange does not report; without them a re-grant the plan holds would not follow (and
    // is refused below), anything else does not depend on them.
    let base = document.base_commit.as_deref().and_then(|commit| {
        super::plan::policies_at_commit(config, commit)
            .map_err(|reason| {
                note(&format!(
                    "the policies at the saved plan's base commit `{}` cannot be read ({reason}); autoMapping changes it holds cannot be re-derived",
                    short(commit)
                ))
            })
            .ok()
    });
    let fresh = sharedbox_planner::plan(
        policies,
        snapshot,
        &sharedbox_planner::PlanOptions {
            targets: document.targets.clone(),
            base,
        },
    )
    .map_err(|error| {
        print_diagnostics(&error.0);
        Failure::new(format!(
            "refusing saved plan {id}: the policies under `{}` give no plan for the tenant now ({} error{})",
            config.policies.display(),
            error.0.len(),
            plural(error.0.len())
        ))
        .hint("nothing was changed; fix the errors above, then make a new plan with `sharedbox plan --out FILE`")
    })?;
    let derivation = document.check_against(&fresh);
    if !derivation.unfounded.is_empty() {
        for change in &derivation.unfounded {
            detail(
                "error",
                &format!(
                    "  - `{}` on `{}` ({}): `{}`",
                    change.operation.cmdlet(),
                    change.operation.mailbox().unwrap_or("tenant settings"),
                    change.field,
                    serde_json::to_string(&change.operation).unwrap_or_default()
                ),
            );
        }
        let n = derivation.unfounded.len();
        return Err(Failure::new(format!(
            "refusing saved plan {id}: {n} operation{} in it {} not follow from the policies under `{}` and the live tenant",
            plural(n),
            if n == 1 { "does" } else { "do" },
            config.policies.display()
        ))
        .hint("nothing was changed; a saved plan applies only operations the policies of this checkout call for; make a new plan with `sharedbox plan --out FILE` and review it")
        .into());
    }
    if derivation.not_in_saved > 0 {
        note(&format!(
            "the policies now call for {} more change{} than the saved plan {id} holds (drift since it was made); {} not applied, `sharedbox plan` shows {}",
            derivation.not_in_saved,
            plural(derivation.not_in_saved),
            if derivation.not_in_saved == 1 {
                "it is"
            } else {
                "they are"
            },
            if derivation.not_in_saved == 1 {
                "it"
            } else {
                "them"
            },
        ));
    }
    Ok((fresh, derivation.not_in_saved == 0))
}

/// Refuses a saved plan that is expired, for another tenant, made by another version, or applied before.
fn check_saved_plan(
    store: &dyn StateStore,
    document: &PlanDocument,
    tenant: &dyn Tenant,
) -> anyhow::Result<PlanDocument> {
    let id = short(&document.plan_id);
    document
        .accept(
            env!("CARGO_PKG_VERSION"),
            &tenant.name(),
            time::OffsetDateTime::now_utc(),
        )
        .map_err(|refusal| Failure::new(refusal.to_string()).hint(refusal.hint()))?;
    if let Some(run_id) = store.run_that_applied(&document.plan_id)? {
        return Err(
            Failure::new(format!("plan {id} was already applied in run `{run_id}`"))
                .hint("a saved plan applies once; make a new plan with `sharedbox plan --out FILE`")
                .into(),
        );
    }
    Ok(document.clone())
}

/// Which run this is and how to report it.
pub(super) struct RunIdentity<'a> {
    pub run_id: &'a str,
    /// The saved plan applied, if any.
    pub plan_id: Option<String>,
    pub format: Format,
    /// The commit of the policies, when the run applies all of them from a clean checkout.
    pub policy_commit: Option<String>,
    /// For `apply --heal`: what the plan was judged against (reported instead of the apply
    /// result).
    pub heal: Option<&'a super::heal::Judgement>,
}

/// Runs the plan with a journal, and reports.
pub(super) async fn execute(
    config: &RunConfig,
    (store, held): (&dyn StateStore, &LockGuard),
    tenant: &dyn Tenant,
    plan: &Plan,
    snapshot: Snapshot,
    options: &ApplyOptions,
    run: RunIdentity<'_>,
) -> anyhow::Result<ExitStatus> {
    let RunIdentity {
        run_id,
        plan_id,
        format,
        policy_commit,
        heal,
    } = run;
    let total = plan.ordered_changes().len();
    let mut journal = Journal::start_in(
        store,
        held,
        RunStart {
            run_id: run_id.to_owned(),
            kind: RunKind::Apply,
            backend: backend_kind(config)?.to_owned(),
            tenant: plan.tenant.clone(),
            plan_id: plan_id.clone(),
            rollback_of: None,
            steps: total,
            policy_commit,
            heal: heal.is_some(),
        },
    )?;
    note(&format!(
        "\napplying {total} change{} (run `{run_id}`, journal `{}`)",
        plural(total),
        journal.location()
    ));
    let mut counter = crate::progress::RunCounter::default();
    let report = sharedbox_applier::apply(tenant, plan, snapshot, &mut journal, options, |event| {
        // A step's line first, then the count it completes.
        let count = counter.on(&event);
        progress_line(event);
        counter.count(count);
    })
    .await;
    counter.end();
    let report = report
            .map_err(|e| match e {
                // The library's hint cannot name the run: this one does.
                sharedbox_applier::ApplyError::Journal(sharedbox_applier::JournalError::LockLost { .. }) => Failure::new(e.to_string()).hint(format!(
                    "someone broke the lock (`sharedbox unlock --force`) or another run took it; the completed steps were kept: see `sharedbox runs show {run_id}`, then `sharedbox rollback {run_id}` or apply again once the lock is free"
                )),
                sharedbox_applier::ApplyError::Journal(sharedbox_applier::JournalError::Store { .. }) => Failure::new(e.to_string()).hint(format!(
                    "sharedbox stops when it cannot record a write; check the state store (`state` in `sharedbox.yaml`) and the network, then `sharedbox runs show {run_id}` and `sharedbox rollback {run_id}`"
                )),
                sharedbox_applier::ApplyError::Journal(_) => Failure::new(e.to_string()).hint(format!(
                    "sharedbox stops when it cannot record a write; check the state folder, then `sharedbox runs show {run_id}` and `sharedbox rollback {run_id}`"
                )),
                e => Failure::of(&e),
            })?;
    if let Some(judgement) = heal {
        if format == Format::Text {
            print_report(&report, plan, run_id);
        }
        super::heal::report(judgement, Some(&report), plan, run_id, format, None)?;
        return Ok(exit_status(&report));
    }
    let markdown = result_markdown(Some(&report), plan, run_id);
    step_summary(&markdown);
    match format {
        Format::Text => print_report(&report, plan, run_id),
        Format::Markdown => out!("\n{markdown}"),
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&ApplyResult::new(
                Some(&report),
                plan,
                run_id,
                plan_id.as_deref()
            ))?
        ),
    }
    Ok(exit_status(&report))
}

/// Narrates a run on stderr: one line per step once its outcome is known (a step is
/// started before its round is sent, and ends after), or JSON lines.
fn progress_line(event: Event<'_>) {
    if json_lines() {
        return progress_event(event);
    }
    let step_line = |step: usize, total: usize, change: &sharedbox_planner::Change| {
        let target = change.operation.mailbox().unwrap_or("tenant settings");
        let value = change
            .shown_after()
            .or_else(|| change.shown_before())
            .unwrap_or_default();
        format!(
            "  [{step}/{total}] {} {target} {} {value} ... ",
            change.operation.cmdlet(),
            change.field
        )
    };
    match event {
        Event::Started { .. } => {}
        Event::Succeeded {
            step,
            total,
            change,
        } => detail("info", &format!("{}ok", step_line(step, total, change))),
        Event::Failed {
            step,
            total,
            change,
            error,
        } => detail(
            "error",
            &format!("{}FAILED: {error}", step_line(step, total, change)),
        ),
        Event::WaitingForMailboxes { mailboxes } => detail(
            "info",
            &format!(
                "  waiting until {} can be read ...",
                sharedbox_tenant::summarised(mailboxes)
            ),
        ),
        Event::RollingBack => {
            blank_line();
            note("rolling back the completed steps, newest first:");
        }
        Event::Undone(item) => undo_event(item),
        Event::Verifying => detail("info", "  verifying: re-reading the changed mailboxes ..."),
    }
}

/// An apply event as a JSON line.
fn progress_event(event: Event<'_>) {
    let none = serde_json::json!({});
    match event {
        Event::Started {
            step,
            total,
            change,
        } => {
            let target = change.operation.mailbox().unwrap_or("tenant settings");
            emit(
                "step_started",
                "info",
                &format!("{} {target} {}", change.operation.cmdlet(), change.field),
                serde_json::json!({
                    "step": step,
                    "total": total,
                    "cmdlet": change.operation.cmdlet(),
                    "mailbox": change.operation.mailbox(),
                    "field": change.field,
                    "before": change.shown_before(),
                    "after": change.shown_after(),
                }),
            );
        }
        Event::Succeeded { step, .. } => emit(
            "step_succeeded",
            "info",
            "ok",
            serde_json::json!({ "step": step }),
        ),
        Event::Failed { step, error, .. } => emit(
            "step_failed",
            "error",
            &error.to_string(),
            serde_json::json!({ "step": step }),
        ),
        Event::WaitingForMailboxes { mailboxes } => emit(
            "waiting",
            "info",
            &format!(
                "waiting until {} can be read",
                sharedbox_tenant::summarised(mailboxes)
            ),
            serde_json::json!({ "mailboxes": mailboxes }),
        ),
        Event::RollingBack => emit(
            "rollback_started",
            "warning",
            "rolling back the completed steps, newest first",
            none,
        ),
        Event::Undone(item) => undo_event(item),
        Event::Verifying => emit(
            "verifying",
            "info",
            "re-reading the changed mailboxes",
            none,
        ),
    }
}

/// One undo decision on stderr: `  {undo_line}`, or a `step_undone` event (level `error` for a
/// conflict or a failed undo).
pub fn undo_event(item: &UndoItem) {
    message(
        "step_undone",
        if matches!(item.status, UndoStatus::Conflict | UndoStatus::Failed) {
            "error"
        } else {
            "info"
        },
        &format!("  {}", undo_line(item)),
        serde_json::json!({ "step": item.step, "status": item.status }),
    );
}

/// One undo decision as a line.
pub fn undo_line(item: &UndoItem) -> String {
    let what = format!(
        "step {} {} {} {}{}",
        item.step,
        item.operation.cmdlet(),
        item.operation.mailbox().unwrap_or("tenant settings"),
        item.field,
        item.operation
            .principal()
            .map(|p| format!(" {}", p.label()))
            .unwrap_or_default()
    );
    let status = item.status;
    match &item.detail {
        Some(detail) => format!("{what}: {status} ({detail})"),
        None => format!("{what}: {status}"),
    }
}

fn print_report(report: &ApplyReport, plan: &Plan, run_id: &str) {
    if report.outcome == RunOutcome::Succeeded {
        outln!(
            "\nApply complete: {} change{} applied to `{}` (run `{run_id}`).",
            report.applied,
            plural(report.applied),
            plan.tenant
        );
        if let Some(verification) = &report.verification {
            if verification.not_visible.is_empty() {
                message(
                    "verified",
                    "info",
                    &format!(
                        "verified: the tenant shows all {} change{}",
                        verification.verified,
                        plural(verification.verified)
                    ),
                    serde_json::json!({ "verified": verification.verified }),
                );
            } else {
                message(
                    "not_visible",
                    "warning",
                    &format!(
                        "applied, not yet visible: {} of {} change{} do not show yet (Exchange can take up to 60 minutes):",
                        verification.not_visible.len(),
                        verification.verified + verification.not_visible.len(),
                        plural(verification.verified + verification.not_visible.len())
                    ),
                    serde_json::json!({
                        "verified": verification.verified,
                        "not_visible": verification.not_visible.len(),
                    }),
                );
                for (field, operation, _) in &verification.not_visible {
                    detail(
                        "warning",
                        &format!(
                            "  - {} {} {field}",
                            operation.cmdlet(),
                            operation.mailbox().unwrap_or("tenant settings")
                        ),
                    );
                }
                hint("run `sharedbox plan` later; it is empty once Exchange shows every change");
            }
        }
        return;
    }
    let (step, field, operation, error) = report
        .failed
        .clone()
        .expect("a run that did not succeed has a failed step");
    outln!(
        "\nApply failed at step {step}: {} {} ({field}): {error}",
        operation.cmdlet(),
        operation.mailbox().unwrap_or("tenant settings")
    );
    let count = |status| report.undo.iter().filter(|u| u.status == status).count();
    match report.outcome {
        RunOutcome::RolledBack => {
            outln!(
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
                outln!("  {}", undo_line(item));
            }
            blank_line();
            hint(&format!(
                "fix the cause, then run `sharedbox apply` again; `sharedbox runs show {run_id}` shows every step"
            ));
        }
        RunOutcome::Failed => {
            outln!(
                "Kept {} applied change{} (`--no-rollback`); {} not run.",
                report.applied,
                plural(report.applied),
                report.not_run
            );
            blank_line();
            hint(&format!(
                "`sharedbox rollback {run_id}` undoes the applied changes; `sharedbox plan` shows what is left"
            ));
        }
        _ => {
            outln!(
                "ROLLBACK INCOMPLETE: {} conflict(s), {} failed undo(s). A human must look:",
                count(UndoStatus::Conflict),
                count(UndoStatus::Failed)
            );
            for item in report
                .undo
                .iter()
                .filter(|u| matches!(u.status, UndoStatus::Conflict | UndoStatus::Failed))
            {
                outln!("  {}", undo_line(item));
            }
            blank_line();
            hint(&format!(
                "`sharedbox runs show {run_id}` shows every step; `sharedbox rollback {run_id}` retries the undo"
            ));
        }
    }
}

/// The exit status of a finished run.
fn exit_status(report: &ApplyReport) -> ExitStatus {
    match report.outcome {
        RunOutcome::Succeeded | RunOutcome::Restored => ExitStatus::Success,
        RunOutcome::RolledBack | RunOutcome::Failed => ExitStatus::Failure,
        RunOutcome::RollbackIncomplete => ExitStatus::RollbackIncomplete,
    }
}

/// The result for a job summary.
fn result_markdown(report: Option<&ApplyReport>, plan: &Plan, run_id: &str) -> String {
    let Some(report) = report else {
        return format!(
            "### sharedbox apply on `{}`\n\n**No changes.** Nothing was applied.\n",
            plan.tenant
        );
    };
    let mut out = format!(
        "### sharedbox apply on `{}` (run `{run_id}`)\n\n",
        plan.tenant
    );
    match report.outcome {
        RunOutcome::Succeeded | RunOutcome::Restored => {
            out.push_str(&format!(
                "**Applied {} change{}.**",
                report.applied,
                plural(report.applied)
            ));
            if let Some(v) = report
                .verification
                .as_ref()
                .filter(|v| !v.not_visible.is_empty())
            {
                out.push_str(&format!(
                    " {} do not show in Exchange yet (it can take up to 60 minutes).",
                    v.not_visible.len()
                ));
            }
            out.push('\n');
        }
        outcome => {
            if let Some((step, field, operation, error)) = &report.failed {
                out.push_str(&format!(
                    "**Apply failed** at step {step}: `{}` `{}` ({field}): {error}\n\n",
                    operation.cmdlet(),
                    operation.mailbox().unwrap_or("tenant settings")
                ));
            }
            out.push_str(match outcome {
                RunOutcome::RolledBack => "Rolled back: the tenant is as it was before the run.\n",
                RunOutcome::Failed => "The applied changes were kept (`--no-rollback`).\n",
                _ => "> [!CAUTION]\n> **ROLLBACK INCOMPLETE**: a human must look.\n",
            });
            for item in report
                .undo
                .iter()
                .filter(|u| u.status != UndoStatus::Reverted)
            {
                out.push_str(&format!("- {}\n", undo_line(item)));
            }
            out.push_str(&format!(
                "\n`sharedbox runs show {run_id}` shows every step.\n"
            ));
        }
    }
    out
}
