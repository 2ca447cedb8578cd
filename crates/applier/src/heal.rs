//! `sharedbox apply --heal`: the scheduled self-heal. It re-applies the policies of the
//! checkout only when every change is drift, that is when the tenant moved away from policies
//! that were already applied.
//!
//! "Already applied" is read from the journals, not from git: each successful apply of every
//! policy from a clean commit records that commit ([`crate::RunStart::policy_commit`]). The
//! newest such run that was not rolled back is the state the tenant was last brought to
//! ([`applied_state`]); a change the policies at that commit call for as well is drift, any
//! other is a policy change not yet applied (a merge whose apply job failed, did not run yet,
//! or is still waiting for approval), which a heal never applies ([`check_drift_only`]).
//!
//! Git history alone cannot tell this on the default branch: the commit before the last policy
//! change calls an older merge that was never applied "drift", and calls drift of the newest
//! applied change a "policy change".

use std::collections::HashSet;

use sharedbox_planner::{Cause, Plan};

use crate::journal::{Record, RunKind, RunLog, RunOutcome};

/// The newest successful apply that recorded the policy commit it brought the tenant to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRevision {
    /// The run.
    pub run_id: String,
    /// The commit of the policies it applied.
    pub commit: String,
    /// When it started (RFC 3339).
    pub at: String,
}

/// A run that left the tenant in a state nobody planned: it did not finish (a crash), kept a
/// part of its changes (`--no-rollback`), or could not undo everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsettled {
    /// The run.
    pub run_id: String,
    /// How it ended; `None` when it did not.
    pub outcome: Option<RunOutcome>,
}

impl std::fmt::Display for Unsettled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.outcome {
            None => "did not finish",
            Some(RunOutcome::Failed) => "failed and kept its changes",
            Some(RunOutcome::RollbackIncomplete) => "could not undo everything",
            Some(_) => "ended",
        };
        write!(f, "run `{}` {state}", self.run_id)
    }
}

/// What the journals of one tenant say about the state it was last brought to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedState {
    /// The newest successful, not rolled back apply with a policy commit.
    pub last: Option<AppliedRevision>,
    /// Runs after it (or at all, without one) that left the tenant unsettled, oldest first.
    pub unsettled: Vec<Unsettled>,
}

/// Reads the applied state of `tenant` from its runs (`logs` oldest first, as
/// [`RunLog::all`] gives them; runs of other tenants are skipped).
///
/// An apply counts when it succeeded, recorded its policy commit and no rollback run undid
/// it (whatever that rollback's outcome: a partial undo moved the tenant away too). Runs
/// without a commit (`--target`, uncommitted policy edits, older versions) do not count:
/// what they applied is judged against the commit before them, so a heal reverts changes no
/// commit holds. After the counted run, any run that did not finish, kept its changes after a
/// failure or could not undo everything is unsettled, unless a later rollback restored it.
pub fn applied_state(logs: &[RunLog], tenant: &str) -> AppliedState {
    struct Run<'a> {
        run_id: &'a str,
        kind: RunKind,
        outcome: Option<RunOutcome>,
        commit: Option<&'a str>,
        at: &'a str,
    }
    let mut runs = Vec::new();
    // Runs that some rollback touched, and those a rollback restored completely.
    let mut undone: HashSet<&str> = HashSet::new();
    let mut restored: HashSet<&str> = HashSet::new();
    for log in logs {
        let Some(Record::Start {
            run_id,
            kind,
            tenant: of,
            at,
            rollback_of,
            policy_commit,
            ..
        }) = log.start()
        else {
            continue;
        };
        if of != tenant {
            continue;
        }
        let outcome = log.outcome();
        if let Some(target) = rollback_of {
            undone.insert(target);
            if outcome == Some(RunOutcome::Restored) {
                restored.insert(target);
            }
        }
        // A crashed run rolled back in place: its own journal ends `restored`.
        if outcome == Some(RunOutcome::Restored) && *kind == RunKind::Apply {
            undone.insert(run_id);
            restored.insert(run_id);
        }
        runs.push(Run {
            run_id,
            kind: *kind,
            outcome,
            commit: policy_commit.as_deref(),
            at,
        });
    }
    let last = runs.iter().rposition(|run| {
        run.kind == RunKind::Apply
            && run.outcome == Some(RunOutcome::Succeeded)
            && run.commit.is_some()
            && !undone.contains(run.run_id)
    });
    let unsettled = runs[last.map_or(0, |at| at + 1)..]
        .iter()
        .filter(|run| {
            matches!(
                run.outcome,
                None | Some(RunOutcome::Failed | RunOutcome::RollbackIncomplete)
            ) && !restored.contains(run.run_id)
        })
        .map(|run| Unsettled {
            run_id: run.run_id.to_owned(),
            outcome: run.outcome,
        })
        .collect();
    AppliedState {
        last: last.map(|at| AppliedRevision {
            run_id: runs[at].run_id.to_owned(),
            commit: runs[at].commit.unwrap_or_default().to_owned(),
            at: runs[at].at.to_owned(),
        }),
        unsettled,
    }
}

/// Why a heal applies nothing.
#[derive(Debug, thiserror::Error)]
pub enum HealRefusal {
    /// No journal records the policy commit the tenant was brought to.
    #[error(
        "no successful apply of `{tenant}` records the policy commit it applied, so drift cannot be told from a policy change not yet applied"
    )]
    NoAppliedRevision {
        /// The tenant.
        tenant: String,
    },
    /// A run after the last counted apply left the tenant in a state no commit describes.
    #[error("{}", unsettled_message(.0))]
    Unsettled(Vec<Unsettled>),
    /// The plan holds changes that are not drift.
    #[error(
        "{not_drift} of the plan's {total} changes {} not drift: the policies call for {} the last apply (run `{}`, commit `{}`) did not make",
        if *.not_drift == 1 { "is" } else { "are" },
        if *.not_drift == 1 { "a change" } else { "changes" },
        .applied.run_id,
        short(&.applied.commit)
    )]
    NotDrift {
        /// Changes that are not drift (policy changes and settings of new mailboxes).
        not_drift: usize,
        /// Every change of the plan.
        total: usize,
        /// The state judged against.
        applied: AppliedRevision,
    },
}

fn unsettled_message(runs: &[Unsettled]) -> String {
    let list: Vec<String> = runs.iter().map(ToString::to_string).collect();
    format!(
        "{}, so the tenant is in a state no commit describes",
        list.join(", ")
    )
}

/// The first 12 characters of a commit.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

impl miette::Diagnostic for HealRefusal {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            HealRefusal::NoAppliedRevision { .. } => "nothing was changed; apply the policies once with `sharedbox apply` from a clean checkout of the default branch (the merge pipeline does), with the state the heal job reads (a shared `stateDir` or remote state)".to_owned(),
            HealRefusal::Unsettled(runs) => format!(
                "nothing was changed; `sharedbox runs show {}` shows what it did; roll it back with `sharedbox rollback`, or apply the policies with `sharedbox apply`",
                runs.last().map_or("RUN_ID", |r| r.run_id.as_str())
            ),
            HealRefusal::NotDrift { .. } => "nothing was changed; a merged policy change is applied by the merge pipeline (`sharedbox apply`), where it is reviewed and approved; a heal applies drift only".to_owned(),
        }))
    }
}

/// Refuses a plan with any change that is not [`Cause::Drift`] (a policy change, a setting of
/// a mailbox to create, or a change whose cause was not judged). The plan's causes must have
/// been labelled against the policies at `applied.commit`.
///
/// # Errors
/// [`HealRefusal::NotDrift`] with the counts.
pub fn check_drift_only(plan: &Plan, applied: &AppliedRevision) -> Result<(), HealRefusal> {
    let changes = plan.ordered_changes();
    let not_drift = changes
        .iter()
        .filter(|c| c.cause != Some(Cause::Drift))
        .count();
    if not_drift == 0 {
        return Ok(());
    }
    Err(HealRefusal::NotDrift {
        not_drift,
        total: changes.len(),
        applied: applied.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Actor;

    fn log(
        run_id: &str,
        kind: RunKind,
        commit: Option<&str>,
        rollback_of: Option<&str>,
        end: Option<RunOutcome>,
    ) -> RunLog {
        let mut text = serde_json::to_string(&Record::Start {
            format_version: Some(crate::FORMAT_VERSION),
            run_id: run_id.to_owned(),
            kind,
            backend: Some("file".to_owned()),
            tenant: "fabrikam".to_owned(),
            at: "2026-11-30T00:00:01Z".to_owned(),
            actor: Actor::current(),
            plan_id: None,
            rollback_of: rollback_of.map(str::to_owned),
            steps: 0,
            policy_commit: commit.map(str::to_owned),
            heal: false,
        })
        .unwrap();
        text.push('\n');
        if let Some(outcome) = end {
            text.push_str(
                &serde_json::to_string(&Record::End {
                    outcome,
                    at: "2026-11-30T00:00:09Z".to_owned(),
                })
                .unwrap(),
            );
            text.push('\n');
        }
        RunLog::parse(run_id.to_owned(), text.as_bytes())
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn the_newest_successful_apply_with_a_commit_counts() {
        let logs = [
            log(
                "r1",
                RunKind::Apply,
                Some(A),
                None,
                Some(RunOutcome::Succeeded),
            ),
            log(
                "r2",
                RunKind::Apply,
                Some(B),
                None,
                Some(RunOutcome::Succeeded),
            ),
            // Targeted or from uncommitted edits: no commit, does not count.
            log(
                "r3",
                RunKind::Apply,
                None,
                None,
                Some(RunOutcome::Succeeded),
            ),
            // A failed run that rolled itself back leaves the tenant as it was.
            log(
                "r4",
                RunKind::Apply,
                Some(A),
                None,
                Some(RunOutcome::RolledBack),
            ),
        ];
        let state = applied_state(&logs, "fabrikam");
        assert_eq!(state.last.as_ref().map(|l| l.run_id.as_str()), Some("r2"));
        assert_eq!(state.last.unwrap().commit, B);
        assert!(state.unsettled.is_empty());
        assert_eq!(applied_state(&logs, "contoso"), AppliedState::default());
    }

    #[test]
    fn a_rolled_back_apply_does_not_count() {
        let logs = [
            log(
                "r1",
                RunKind::Apply,
                Some(A),
                None,
                Some(RunOutcome::Succeeded),
            ),
            log(
                "r2",
                RunKind::Apply,
                Some(B),
                None,
                Some(RunOutcome::Succeeded),
            ),
            log(
                "r3",
                RunKind::Rollback,
                None,
                Some("r2"),
                Some(RunOutcome::Restored),
            ),
        ];
        let state = applied_state(&logs, "fabrikam");
        assert_eq!(state.last.unwrap().run_id, "r1");
        assert!(state.unsettled.is_empty());
    }

    #[test]
    fn runs_after_it_that_did_not_settle_are_listed() {
        let logs = [
            log(
                "r1",
                RunKind::Apply,
                Some(A),
                None,
                Some(RunOutcome::Succeeded),
            ),
            log("r2", RunKind::Apply, Some(B), None, None),
            log(
                "r3",
                RunKind::Apply,
                Some(B),
                None,
                Some(RunOutcome::Failed),
            ),
            log(
                "r4",
                RunKind::Rollback,
                None,
                Some("r3"),
                Some(RunOutcome::Restored),
            ),
            log(
                "r5",
                RunKind::Apply,
                Some(B),
                None,
                Some(RunOutcome::RollbackIncomplete),
            ),
        ];
        let state = applied_state(&logs, "fabrikam");
        assert_eq!(state.last.unwrap().run_id, "r1");
        let unsettled: Vec<&str> = state.unsettled.iter().map(|u| u.run_id.as_str()).collect();
        assert_eq!(unsettled, ["r2", "r5"]);
        assert_eq!(
            HealRefusal::Unsettled(state.unsettled).to_string(),
            "run `r2` did not finish, run `r5` could not undo everything, so the tenant is in a state no commit describes"
        );
    }
}
