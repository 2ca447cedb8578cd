//! The result document of `apply --format json` (format 1): what a run did, typed, with a
//! JSON Schema (`sharedbox schema apply`, `docs/schemas/apply.schema.json`).

use serde::Serialize;
use sharedbox_planner::{Cause, Plan, Summary};
use sharedbox_tenant::Operation;

use crate::journal::{RunOutcome, UndoStatus};
use crate::run::ApplyReport;

/// The version of the result document.
pub const RESULT_FORMAT_VERSION: u32 = 1;

/// What `sharedbox apply --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ApplyResult {
    /// The document's format, `1`.
    pub format_version: u32,
    /// The run's id (its journal is `stateDir/runs/<run_id>.jsonl`); `null` when nothing ran.
    pub run_id: Option<String>,
    /// The tenant.
    pub tenant: String,
    /// The saved plan applied, if one was.
    pub plan_id: Option<String>,
    /// How the run ended.
    pub outcome: ApplyOutcome,
    /// The plan's counts.
    pub summary: Summary,
    /// Steps that succeeded.
    pub applied: usize,
    /// Steps that did not run.
    pub not_run: usize,
    /// The step that failed, if one did.
    pub failed_step: Option<FailedStep>,
    /// The undo decisions of the automatic rollback, newest step first.
    pub undo: Vec<UndoStep>,
    /// The verification after a successful run.
    pub verification: Option<Verification>,
    /// For `apply --heal` only: what was judged drift, against which applied state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<HealResult>,
}

/// What `apply --heal` judged: every change of the plan with its cause, against the policy
/// commit the last successful apply recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HealResult {
    /// The commit of the policies healed to (the checkout's `HEAD`).
    pub commit: String,
    /// The run whose policy commit the changes were judged against; `null` when no journal
    /// records one.
    pub applied_run_id: Option<String>,
    /// The policy commit of that run: a change its policies call for as well is drift.
    pub applied_commit: Option<String>,
    /// Every change of the plan, in execution order, with its cause. With outcome
    /// `succeeded` these are the changes healed (all drift).
    pub changes: Vec<HealChange>,
    /// Why nothing was applied, with outcome `refused`.
    pub refusal: Option<String>,
}

/// One change of a heal's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HealChange {
    /// The step.
    #[serde(flatten)]
    pub step: Step,
    /// `drift`, `policy_change` (not applied yet) or `new` (a mailbox to create); `null` when
    /// not judged.
    pub cause: Option<Cause>,
    /// The value before, as the plan shows it.
    pub before: Option<String>,
    /// The value after, as the plan shows it.
    pub after: Option<String>,
}

impl HealResult {
    /// The heal of `plan` (its causes labelled) to `commit`, judged against `applied`.
    pub fn new(
        plan: &Plan,
        commit: &str,
        applied: Option<&crate::heal::AppliedRevision>,
        refusal: Option<String>,
    ) -> HealResult {
        HealResult {
            commit: commit.to_owned(),
            applied_run_id: applied.map(|a| a.run_id.clone()),
            applied_commit: applied.map(|a| a.commit.clone()),
            changes: plan
                .ordered_changes()
                .into_iter()
                .map(|change| HealChange {
                    step: Step::of(&change.operation, &change.field),
                    cause: change.cause,
                    before: change.shown_before(),
                    after: change.shown_after(),
                })
                .collect(),
            refusal,
        }
    }
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The plan was empty: nothing ran.
    NothingToDo,
    /// Every step succeeded.
    Succeeded,
    /// A step failed and every completed step was undone.
    RolledBack,
    /// A step failed and the completed steps were kept (`--no-rollback`).
    Failed,
    /// A step failed and the rollback could not undo everything: a human must look.
    RollbackIncomplete,
    /// A rollback run that undid what it could and found no conflicts.
    Restored,
    /// `apply --heal` only: the plan held changes that are not drift (or drift could not be
    /// told); nothing ran.
    Refused,
}

impl From<RunOutcome> for ApplyOutcome {
    fn from(outcome: RunOutcome) -> ApplyOutcome {
        match outcome {
            RunOutcome::Succeeded => ApplyOutcome::Succeeded,
            RunOutcome::RolledBack => ApplyOutcome::RolledBack,
            RunOutcome::Failed => ApplyOutcome::Failed,
            RunOutcome::RollbackIncomplete => ApplyOutcome::RollbackIncomplete,
            RunOutcome::Restored => ApplyOutcome::Restored,
        }
    }
}

/// A step: the cmdlet, the mailbox it writes (`null` for tenant settings) and the policy field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Step {
    /// The Exchange cmdlet, e.g. `Add-MailboxPermission`.
    pub cmdlet: String,
    /// The mailbox.
    pub mailbox: Option<String>,
    /// The policy field, e.g. `fullAccess`.
    pub field: String,
}

impl Step {
    fn of(operation: &Operation, field: &str) -> Step {
        Step {
            cmdlet: operation.cmdlet().to_owned(),
            mailbox: operation.mailbox().map(str::to_owned),
            field: field.to_owned(),
        }
    }
}

/// The step that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FailedStep {
    /// The step.
    #[serde(flatten)]
    pub step: Step,
    /// Its 1-based number in the run.
    #[serde(rename = "step")]
    pub number: usize,
    /// The error.
    pub error: String,
}

/// One undo decision of the automatic rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UndoStep {
    /// The step undone.
    #[serde(flatten)]
    pub step: Step,
    /// Its 1-based number in the run.
    #[serde(rename = "step")]
    pub number: usize,
    /// What was decided.
    pub status: UndoStatus,
    /// Why, where it needs saying.
    pub detail: Option<String>,
}

/// What the verification after a successful run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Verification {
    /// Changes seen in the tenant.
    pub verified: usize,
    /// Changes applied but not visible yet when the time was up.
    pub not_visible: Vec<Step>,
}

impl ApplyResult {
    /// The result of running `plan` as `run_id` (applying the saved plan `plan_id`, if any);
    /// `report` is `None` when the plan was empty and nothing ran.
    pub fn new(
        report: Option<&ApplyReport>,
        plan: &Plan,
        run_id: &str,
        plan_id: Option<&str>,
    ) -> ApplyResult {
        let mut result = ApplyResult {
            format_version: RESULT_FORMAT_VERSION,
            run_id: None,
            tenant: plan.tenant.clone(),
            plan_id: plan_id.map(str::to_owned),
            outcome: ApplyOutcome::NothingToDo,
            summary: plan.summary(),
            applied: 0,
            not_run: 0,
            failed_step: None,
            undo: Vec::new(),
            verification: None,
            heal: None,
        };
        let Some(report) = report else {
            return result;
        };
        result.run_id = Some(run_id.to_owned());
        result.outcome = report.outcome.into();
        result.applied = report.applied;
        result.not_run = report.not_run;
        result.failed_step = report
            .failed
            .as_ref()
            .map(|(number, field, operation, error)| FailedStep {
                step: Step::of(operation, field),
                number: *number,
                error: error.clone(),
            });
        result.undo = report
            .undo
            .iter()
            .map(|item| UndoStep {
                step: Step::of(&item.operation, &item.field),
                number: item.step,
                status: item.status,
                detail: item.detail.clone(),
            })
            .collect();
        result.verification = report.verification.as_ref().map(|v| Verification {
            verified: v.verified,
            not_visible: v
                .not_visible
                .iter()
                .map(|(field, operation, _)| Step::of(operation, field))
                .collect(),
        });
        result
    }
}
