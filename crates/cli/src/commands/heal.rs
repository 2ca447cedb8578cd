//! `sharedbox apply --heal`: the scheduled self-heal, a mode of `apply`.
//!
//! It plans the checkout's committed policies like `apply`, under the same tenant lock, and
//! applies through the same path (guards, `--max-removals`, journal, rollback, verification),
//! but only when every change is drift: a change the policies of the last successful apply
//! (the commit its journal records, [`sharedbox_applier::applied_state`]) call for as well.
//! Anything else (a merged policy change the merge pipeline has not applied, a mailbox to
//! create) refuses the whole run with exit code 4; so does a state no journal describes.

use std::sync::Arc;

use sharedbox_applier::{
    AppliedRevision, ApplyReport, ApplyResult, HealRefusal, HealResult, RunOutcome,
};
use sharedbox_planner::{Cause, Plan};
use sharedbox_policy::PolicySet;
use sharedbox_tenant::ReadScope;

use super::apply::{RunIdentity, apply_options, execute};
use super::plan::{policy_dir, short};
use super::{
    confirm, load_policies, lock, make_plan, open_tenant, plural, print_plan, read, state_store,
};
use crate::args::{ApplyArgs, Format};
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure, detail, hint_of, print_error, step_summary};

/// What a heal judged its plan against: the commit it heals to and the last applied state.
pub(super) struct Judgement {
    /// The checkout's `HEAD` (its policy folder clean).
    pub commit: String,
    /// The last successful apply that recorded its policy commit, if any.
    pub applied: Option<AppliedRevision>,
}

/// `sharedbox apply --heal`.
pub async fn heal(config: &RunConfig, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let tenant = open_tenant(config)?;
    let store = state_store(config)?;
    let run_id = sharedbox_applier::new_run_id();
    let options = apply_options(args);
    let policies = load_policies(config)?;
    let commit = crate::git::clean_commit(policy_dir(config)).map_err(|reason| {
        Failure::new(format!("cannot heal: {reason}")).hint(
            "a heal applies committed policies only: run it in a clean checkout of the default branch",
        )
    })?;
    let held = lock(
        store.as_ref(),
        &tenant.name(),
        &run_id,
        "heal",
        args.lock_timeout,
    )?;
    // Read under the lock: no other apply of this tenant adds a run meanwhile.
    let logs = store.all().map_err(|e| {
        Failure::new(format!("cannot read the runs of `{}`: {e}", tenant.name()))
            .hint("a heal needs the journals to know what was applied; check `stateDir` (or the remote state) in `sharedbox.yaml`")
    })?;
    let state = sharedbox_applier::applied_state(&logs, &tenant.name());
    drop(logs);
    let applied = match &state.last {
        Some(last) => Some((last, applied_policies(config, last)?)),
        None => None,
    };
    let scope = match &applied {
        Some((_, set)) => union(policies.read_scope(), set.read_scope()),
        None => policies.read_scope(),
    };
    let snapshot = read(tenant.as_ref(), &scope).await?;
    // autoMapping of grants Exchange does not report: as the last apply left it.
    let auto_mapping_base = match &applied {
        Some((_, set)) => Some(set.clone()),
        None => super::plan::base_policies(config, None).ok().map(|b| b.set),
    };
    let mut plan = make_plan(
        &policies,
        &snapshot,
        &[],
        Some(&config.lint_levels),
        auto_mapping_base,
    )?;
    let judgement = Judgement {
        commit,
        applied: state.last.clone(),
    };
    let refusal = if plan.is_empty() {
        None
    } else if !state.unsettled.is_empty() {
        Some(HealRefusal::Unsettled(state.unsettled))
    } else if let Some((last, set)) = &applied {
        let base = sharedbox_planner::plan(
            set,
            &snapshot,
            &sharedbox_planner::PlanOptions {
                targets: Vec::new(),
                base: Some(set.clone()),
            },
        )
        .map_err(|error| {
            Failure::new(format!(
                "cannot heal: the policies of the last apply (commit `{}`) give no plan for the tenant now ({} error{})",
                short(&last.commit),
                error.0.len(),
                plural(error.0.len())
            ))
            .hint("nothing was changed; apply the policies with `sharedbox apply`, then the heal judges drift against them")
        })?;
        plan.label_causes(
            &base,
            &format!("commit {} of run {}", short(&last.commit), last.run_id),
        );
        sharedbox_applier::check_drift_only(&plan, last).err()
    } else {
        Some(HealRefusal::NoAppliedRevision {
            tenant: plan.tenant.clone(),
        })
    };
    drop(policies);
    if args.format == Format::Text {
        print_plan(&plan);
    }
    if plan.is_empty() {
        report(&judgement, None, &plan, &run_id, args.format, None)?;
        return Ok(ExitStatus::Success);
    }
    if let Some(refusal) = refusal {
        for change in plan
            .ordered_changes()
            .into_iter()
            .filter(|c| c.cause != Some(Cause::Drift))
        {
            detail(
                "error",
                &format!(
                    "  - {} {} {}{}",
                    change.operation.mailbox().unwrap_or("tenant settings"),
                    change.field,
                    change
                        .shown_after()
                        .or(change.shown_before())
                        .unwrap_or_default(),
                    cause_note(change.cause)
                ),
            );
        }
        let message = format!("refusing to heal: {refusal}");
        report(
            &judgement,
            None,
            &plan,
            &run_id,
            args.format,
            Some(&message),
        )?;
        print_error(&Failure::new(message).maybe_hint(hint_of(&refusal)).into());
        return Ok(ExitStatus::HealRefused);
    }
    sharedbox_applier::check_guards(&plan, &options).map_err(|e| {
        Failure::new(format!("refusing to heal: {e}")).hint(format!(
            "nothing was changed; {}",
            hint_of(&e).unwrap_or_default()
        ))
    })?;
    if !args.auto_approve {
        confirm(
            &format!("Do you want to heal the drift on `{}`?", plan.tenant),
            "heal",
            "apply --heal",
        )?;
    }
    let policy_commit = Some(judgement.commit.clone());
    execute(
        config,
        (store.as_ref(), &held),
        tenant.as_ref(),
        &plan,
        snapshot,
        &options,
        RunIdentity {
            run_id: &run_id,
            plan_id: None,
            format: args.format,
            policy_commit,
            heal: Some(&judgement),
        },
    )
    .await
}

/// ` (policy change not applied yet)` and the like, for a change that is not drift.
fn cause_note(cause: Option<Cause>) -> &'static str {
    match cause {
        Some(Cause::Drift) => " (drift)",
        Some(Cause::PolicyChange) => " (policy change not applied yet)",
        Some(Cause::New) => " (a mailbox to create)",
        None => "",
    }
}

/// The policies at the commit the last apply recorded.
fn applied_policies(config: &RunConfig, last: &AppliedRevision) -> anyhow::Result<Arc<PolicySet>> {
    crate::git::policy_set_at(&config.policies, config.baseline.as_deref(), &last.commit)
        .map(Arc::new)
        .map_err(|reason| {
            Failure::new(format!(
                "cannot heal: the policies of the last apply (run `{}`, commit `{}`) cannot be read: {reason}",
                last.run_id,
                short(&last.commit)
            ))
            .hint("nothing was changed; the heal judges drift against that commit: fetch the whole history (`fetch-depth: 0` in `actions/checkout`, `GIT_DEPTH: 0` in GitLab, `fetchDepth: 0` in Azure Pipelines)")
            .into()
        })
}

/// Both scopes: what the policies of the checkout and of the last apply manage.
fn union(mut scope: ReadScope, other: ReadScope) -> ReadScope {
    for mailbox in other.mailboxes {
        if !scope
            .mailboxes
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&mailbox))
        {
            scope.mailboxes.push(mailbox);
        }
    }
    for account in other.accounts {
        if !scope
            .accounts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&account))
        {
            scope.accounts.push(account);
        }
    }
    scope.roots.extend(other.roots);
    scope
}

/// Prints the heal's result in `format` and appends the Markdown to the job summary.
/// `report` is the run's, when one ran; `refusal` says why none did.
pub(super) fn report(
    judgement: &Judgement,
    report: Option<&ApplyReport>,
    plan: &Plan,
    run_id: &str,
    format: Format,
    refusal: Option<&str>,
) -> anyhow::Result<()> {
    let markdown = markdown(judgement, report, plan, run_id, refusal);
    step_summary(&markdown);
    match format {
        Format::Markdown => out!("{markdown}"),
        Format::Json => {
            let mut result = ApplyResult::new(report, plan, run_id, None);
            if refusal.is_some() {
                result.outcome = sharedbox_applier::ApplyOutcome::Refused;
            }
            result.heal = Some(HealResult::new(
                plan,
                &judgement.commit,
                judgement.applied.as_ref(),
                refusal.map(str::to_owned),
            ));
            outln!("{}", serde_json::to_string_pretty(&result)?);
        }
        Format::Text => {
            if report.is_none() && refusal.is_none() {
                outln!(
                    "\nNothing to heal: the tenant `{}` matches the policies of commit `{}`.",
                    plan.tenant,
                    short(&judgement.commit)
                );
            }
            if let Some(report) = report.filter(|r| r.outcome == RunOutcome::Succeeded) {
                outln!(
                    "Healed {} drifted change{} on `{}` (run `{run_id}`): the tenant is back at the policies of commit `{}`.",
                    report.applied,
                    plural(report.applied),
                    plan.tenant,
                    short(&judgement.commit)
                );
            }
        }
    }
    Ok(())
}

/// The job summary: what was healed (or why nothing was), one row per change.
fn markdown(
    judgement: &Judgement,
    report: Option<&ApplyReport>,
    plan: &Plan,
    run_id: &str,
    refusal: Option<&str>,
) -> String {
    let commit = short(&judgement.commit);
    let mut out = match report {
        Some(_) => format!(
            "### sharedbox heal on `{}` (run `{run_id}`)\n\n",
            plan.tenant
        ),
        None => format!("### sharedbox heal on `{}`\n\n", plan.tenant),
    };
    let against = judgement.applied.as_ref().map(|a| {
        format!(
            "drift from the policies of commit `{}`, applied in run `{}`",
            short(&a.commit),
            a.run_id
        )
    });
    match (report, refusal) {
        (_, Some(refusal)) => {
            out.push_str(&format!(
                "**Heal refused; nothing was changed.** {}\n",
                refusal.replace('<', "&lt;")
            ));
        }
        (None, None) => {
            out.push_str(&format!(
                "**Nothing to heal.** The tenant matches the policies of commit `{commit}`.\n"
            ));
            return out;
        }
        (Some(report), None) if report.outcome == RunOutcome::Succeeded => {
            out.push_str(&format!(
                "**Healed {} drifted change{}** back to the policies of commit `{commit}`",
                report.applied,
                plural(report.applied)
            ));
            if let Some(against) = &against {
                out.push_str(&format!(" ({against})"));
            }
            out.push_str(".\n");
        }
        (Some(report), None) => {
            out.push_str(&format!(
                "**Heal failed** (outcome `{}`); `sharedbox runs show {run_id}` shows every step.\n",
                serde_json::to_value(report.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
    }
    out.push_str("\n| mailbox | field | was | policy | cause |\n|---|---|---|---|---|\n");
    for change in plan.ordered_changes() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(change.operation.mailbox().unwrap_or("tenant settings")),
            cell(&change.field),
            change
                .shown_before()
                .as_deref()
                .map_or("—".to_owned(), cell),
            change.shown_after().as_deref().map_or("—".to_owned(), cell),
            match change.cause {
                Some(Cause::Drift) => "drift",
                Some(Cause::PolicyChange) => "**policy change not applied yet**",
                Some(Cause::New) => "**mailbox to create**",
                None => "not judged",
            }
        ));
    }
    out
}

/// Text from the tenant or the policies as a code span in a Markdown table cell: one line,
/// no backtick to end the span early, `|` escaped for the table. Inside a code span a
/// mention, link or HTML tag in a display name stays text.
fn cell(text: &str) -> String {
    format!(
        "`{}`",
        sharedbox_tenant::printable(text, 200)
            .replace('`', "'")
            .replace('|', "\\|")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn tenant_text_stays_inside_its_table_cell() {
        // A pipe would split the row, a backtick end the code span, a line break the table.
        assert_eq!(super::cell("a|b`c\nd @org/team"), "`a\\|b'c\\nd @org/team`");
    }
}
