//! `sharedbox rollback RUN_ID`: undo a finished or crashed run from its journal.
//!
//! # Guarantees
//! - Idempotent: a second rollback of the same run finds every step as it was before the run
//!   and changes nothing.
//! - A value someone changed after the run is left alone and reported as a conflict.
//! - What is written back is each step's journaled before-image, derived
//!   ([`sharedbox_tenant::undo()`]); a step whose journaled `inverse` disagrees with that
//!   write is a conflict, left alone (a journal is outside input).
//! - The rollback is itself a journaled run (`kind: rollback`, `rollback_of: RUN_ID`).
//! - [`history`] reads the other journals: a run that a rollback restored (or that rolled
//!   itself back when it failed) is not rolled back again, and runs started later on the same
//!   tenant and backend that changed the same objects are named, so the caller can refuse.

use std::collections::HashSet;

use sharedbox_tenant::{Operation, Tenant, target};

use crate::journal::{
    FORMAT_VERSION, Journal, JournalError, JournaledStep, Record, RunKind, RunLog, RunOutcome,
    UndoStatus, now_rfc3339, printable, reads_format,
};
use crate::retry::Retry;
use crate::run::{UndoItem, undo};

/// What a rollback did.
#[derive(Debug)]
pub struct RollbackReport {
    /// Every undo decision, newest step first.
    pub items: Vec<UndoItem>,
    /// How the rollback run ended.
    pub outcome: RunOutcome,
}

impl RollbackReport {
    /// Whether there was nothing to undo.
    pub fn nothing_to_do(&self) -> bool {
        self.items.iter().all(|i| i.status == UndoStatus::Skipped)
    }

    /// Whether something could not be put back (conflicts or failed undos).
    pub fn is_incomplete(&self) -> bool {
        self.outcome == RunOutcome::RollbackIncomplete
    }
}

/// Why `sharedbox rollback` cannot undo `step`, one of `steps` (the run's journaled steps),
/// for the preview before it asks: a deleted mailbox, a revoked grant of an orphaned
/// principal, a value Exchange did not report ([`sharedbox_tenant::NoUndo`]). `None` for a
/// step it can undo, one that failed (it wrote nothing), and a setting of a mailbox the run
/// created (undone by removing that mailbox).
pub fn cannot_undo(step: &JournaledStep, steps: &[JournaledStep]) -> Option<String> {
    if step.ok == Some(false) {
        return None;
    }
    match sharedbox_tenant::undo(&step.operation, &step.before) {
        Ok(_) => None,
        Err(sharedbox_tenant::NoUndo::MailboxMissing)
            if step.operation.mailbox().is_some_and(|m| {
                steps.iter().any(|s| {
                    matches!(&s.operation, Operation::CreateMailbox { mailbox, .. } if mailbox.eq_ignore_ascii_case(m))
                })
            }) =>
        {
            None
        }
        Err(reason) => Some(reason.to_string()),
    }
}

/// Rolls back the run `log`, journaling into `journal` (whose `Start` the caller wrote).
///
/// # Errors
/// The journal could not be written.
pub async fn rollback_run(
    tenant: &dyn Tenant,
    log: &RunLog,
    journal: &mut Journal,
    on_item: impl FnMut(&UndoItem),
) -> Result<RollbackReport, JournalError> {
    let steps = log.steps();
    let items = undo(tenant, &steps, journal, &Retry::default(), on_item).await?;
    let outcome = if items
        .iter()
        .any(|i| matches!(i.status, UndoStatus::Conflict | UndoStatus::Failed))
    {
        RunOutcome::RollbackIncomplete
    } else {
        RunOutcome::Restored
    };
    journal.write(&Record::End {
        outcome,
        at: now_rfc3339(),
    })?;
    Ok(RollbackReport { items, outcome })
}

/// What the other journals say about rolling back a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The rollback run that restored the run, or the run's own id when it failed and rolled
    /// itself back.
    pub rolled_back_in: Option<String>,
    /// Runs on the same tenant and backend, started after the run (or at a time that cannot
    /// be told apart from it), that changed an object the run changed, oldest first.
    pub later: Vec<String>,
    /// Files in the runs folder that could not be checked (no readable `start` record).
    pub unchecked: Vec<String>,
}

/// Whether `a` and `b` are the start records of runs on the same tenant and backend. A
/// journal without a backend (before format 1) may be of either.
fn same_tenant(a: &Record, b: &Record) -> bool {
    match (a, b) {
        (
            Record::Start {
                tenant: ta,
                backend: ba,
                ..
            },
            Record::Start {
                tenant: tb,
                backend: bb,
                ..
            },
        ) => {
            ta.eq_ignore_ascii_case(tb)
                && match (ba, bb) {
                    (Some(ba), Some(bb)) => ba == bb,
                    _ => true,
                }
        }
        _ => false,
    }
}

/// The objects a run changed, to compare with other runs: the keys of [`target`], the
/// mailboxes written to, and the mailboxes created or removed (which touch everything on
/// them).
#[derive(Debug, Default)]
struct Touched {
    targets: HashSet<String>,
    mailboxes: HashSet<String>,
    whole_mailboxes: HashSet<String>,
}

impl Touched {
    fn add(&mut self, operation: &Operation) {
        self.targets.insert(target(operation));
        if let Some(mailbox) = operation.mailbox() {
            let mailbox = mailbox.to_ascii_lowercase();
            if matches!(
                operation,
                Operation::CreateMailbox { .. } | Operation::RemoveMailbox { .. }
            ) {
                self.whole_mailboxes.insert(mailbox.clone());
            }
            self.mailboxes.insert(mailbox);
        }
    }

    fn overlaps(&self, other: &Touched) -> bool {
        !self.targets.is_disjoint(&other.targets)
            || !self.whole_mailboxes.is_disjoint(&other.mailboxes)
            || !other.whole_mailboxes.is_disjoint(&self.mailboxes)
    }
}

/// What a run may have changed and left changed: the writes of an apply that did not fail and
/// were not undone by its own rollback (with `every_step`: every write it journaled, what a
/// rollback of it looks at), the undo writes of a rollback.
fn touched_by(log: &RunLog, every_step: bool) -> Touched {
    let mut touched = Touched::default();
    match log.start() {
        Some(Record::Start {
            kind: RunKind::Rollback,
            ..
        }) => {
            for record in &log.records {
                if let Record::UndoIntent { operation, .. }
                | Record::Undo {
                    operation: Some(operation),
                    ..
                } = record
                {
                    touched.add(operation);
                }
            }
        }
        _ => {
            for step in log.steps() {
                if every_step || (step.ok != Some(false) && step.undo != Some(UndoStatus::Reverted))
                {
                    touched.add(&step.operation);
                }
            }
        }
    }
    touched
}

/// What the journals in `all` say about rolling back `log` (which may be among them).
pub fn history(log: &RunLog, all: &[RunLog]) -> History {
    let mut history = History::default();
    let Some(start) = log.start() else {
        return history;
    };
    if log.outcome() == Some(RunOutcome::RolledBack) {
        history.rolled_back_in = Some(log.run_id.clone());
    }
    let started = log.started();
    let mine = touched_by(log, true);
    let mut later: Vec<(Option<time::OffsetDateTime>, String)> = Vec::new();
    for other in all {
        if other.run_id == log.run_id {
            continue;
        }
        let Some(other_start) = other.start() else {
            history.unchecked.push(other.run_id.clone());
            continue;
        };
        if !same_tenant(start, other_start) {
            continue;
        }
        if let Record::Start {
            rollback_of: Some(of),
            ..
        } = other_start
            && *of == log.run_id
        {
            // A rollback of this run undid its changes: not a later change of them.
            if other.outcome() == Some(RunOutcome::Restored) && history.rolled_back_in.is_none() {
                history.rolled_back_in = Some(other.run_id.clone());
            }
            continue;
        }
        let other_started = other.started();
        let is_later = match (started, other_started) {
            (Some(a), Some(b)) => b >= a,
            // A time that cannot be read cannot be ordered: counted as later.
            _ => true,
        };
        if is_later && touched_by(other, false).overlaps(&mine) {
            later.push((other_started, other.run_id.clone()));
        }
    }
    later.sort();
    history.later = later.into_iter().map(|(_, id)| id).collect();
    history
}

/// Why a journaled run is not rolled back. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackRefusal {
    /// The journal has damaged lines or records out of place.
    #[error("the journal of run `{run}` is damaged: {problems}")]
    Damaged {
        /// The run.
        run: String,
        /// Its problems in one line.
        problems: String,
    },
    /// No `start` record.
    #[error("the journal of run `{run}` has no `start` record")]
    NoStart {
        /// The run.
        run: String,
    },
    /// Written before journal format 1 (it does not record its backend).
    #[error(
        "the journal of run `{run}` has no `format_version`: it was written before journal format 1 and does not record its backend"
    )]
    NoFormatVersion {
        /// The run.
        run: String,
    },
    /// Another journal format.
    #[error(
        "the journal of run `{run}` has format version {found}; this sharedbox reads versions 1 to {FORMAT_VERSION}"
    )]
    FormatVersion {
        /// The run.
        run: String,
        /// The version found.
        found: u32,
    },
    /// The run is a rollback itself.
    #[error("run `{run}` is itself a rollback")]
    IsRollback {
        /// The run.
        run: String,
    },
    /// The run changed a tenant of another backend.
    #[error(
        "run `{run}` changed a tenant of the `{backend}` backend, but the configured tenant is of the `{here}` backend"
    )]
    OtherBackend {
        /// The run.
        run: String,
        /// The journal's backend (printable).
        backend: String,
        /// The configured one.
        here: String,
    },
    /// The run changed another tenant.
    #[error("run `{run}` changed tenant `{tenant}`, but the configured tenant is `{here}`")]
    OtherTenant {
        /// The run.
        run: String,
        /// The journal's tenant (printable).
        tenant: String,
        /// The configured one.
        here: String,
    },
    /// Later runs changed objects the run changed (and `--force` was not given).
    #[error("run `{run}` was followed by run{} {} that changed objects it changed", if later.len() == 1 { "" } else { "s" }, quoted(later))]
    LaterRuns {
        /// The run.
        run: String,
        /// The later runs, oldest first.
        later: Vec<String>,
    },
}

impl RollbackRefusal {
    /// Whether a human must look (exit 3: the journal cannot be trusted), rather than a
    /// refusal that configuration or `--force` resolves (exit 1).
    pub fn needs_a_human(&self) -> bool {
        matches!(
            self,
            RollbackRefusal::Damaged { .. }
                | RollbackRefusal::NoStart { .. }
                | RollbackRefusal::NoFormatVersion { .. }
                | RollbackRefusal::FormatVersion { .. }
        )
    }
}

impl miette::Diagnostic for RollbackRefusal {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            RollbackRefusal::Damaged { run, .. } => format!(
                "nothing was written: a damaged journal cannot be trusted to undo a run. `sharedbox runs show {run}` shows what can be read; undo its steps by hand, or restore the journal from a backup"
            ),
            RollbackRefusal::NoStart { run } => {
                format!("nothing was written; inspect it with `sharedbox runs show {run}`")
            }
            RollbackRefusal::NoFormatVersion { run } => format!(
                "nothing was written; undo it with the sharedbox version that wrote it, or by hand (`sharedbox runs show {run}` lists its steps)"
            ),
            RollbackRefusal::FormatVersion { .. } => {
                "nothing was written; roll it back with the sharedbox version that wrote it".to_owned()
            }
            RollbackRefusal::IsRollback { .. } => {
                "to redo the original changes, run `sharedbox apply`".to_owned()
            }
            RollbackRefusal::OtherBackend { .. } => "nothing was written; configure the backend and tenant the run changed (`tenant` in `sharedbox.yaml`, or `--tenant`)".to_owned(),
            RollbackRefusal::OtherTenant { .. } => "nothing was written; configure the tenant the run changed (`tenant` in `sharedbox.yaml`, or `--tenant`)".to_owned(),
            RollbackRefusal::LaterRuns { run, later } => format!(
                "nothing was written: rolling back `{run}` now would undo what they set too. Roll them back first, newest first (`sharedbox rollback {}`), or run `sharedbox rollback {run} --force` to roll back `{run}` anyway (a value still as `{run}` set it is reverted; any other is left alone as a conflict)",
                later.last().map_or_else(String::new, |id| printable(id, 60))
            ),
        }))
    }
}

/// Run ids as the messages list them: `` `a`, `b` ``.
pub fn quoted(runs: &[String]) -> String {
    runs.iter()
        .map(|id| format!("`{}`", printable(id, 60)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problems of a journal in one line, at most five of them.
pub fn problem_list(log: &RunLog) -> String {
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

/// Whether the journal of `log` can be rolled back against a tenant of the `backend` backend
/// (`file`, `exchange-online`), before the tenant is opened: intact, of the current format,
/// an apply, of the same backend.
///
/// # Errors
/// The first [`RollbackRefusal`] that applies.
pub fn check_journal(log: &RunLog, backend: &str) -> Result<(), RollbackRefusal> {
    let run = log.run_id.clone();
    if !log.problems.is_empty() {
        return Err(RollbackRefusal::Damaged {
            problems: problem_list(log),
            run,
        });
    }
    let Some(Record::Start {
        format_version,
        kind,
        backend: journaled,
        ..
    }) = log.start()
    else {
        return Err(RollbackRefusal::NoStart { run });
    };
    match format_version {
        Some(version) if reads_format(*version) => {}
        None => return Err(RollbackRefusal::NoFormatVersion { run }),
        Some(found) => {
            return Err(RollbackRefusal::FormatVersion { run, found: *found });
        }
    }
    if *kind == RunKind::Rollback {
        return Err(RollbackRefusal::IsRollback { run });
    }
    let journaled = journaled.as_deref().unwrap_or_default();
    if journaled != backend {
        return Err(RollbackRefusal::OtherBackend {
            run,
            backend: printable(journaled, 40),
            here: backend.to_owned(),
        });
    }
    Ok(())
}

/// Whether the run of `log` changed `tenant` (the configured tenant's name).
///
/// # Errors
/// [`RollbackRefusal::OtherTenant`] or, without a start record, [`RollbackRefusal::NoStart`].
pub fn check_tenant(log: &RunLog, tenant: &str) -> Result<(), RollbackRefusal> {
    match log.start() {
        Some(Record::Start {
            tenant: journaled, ..
        }) if journaled == tenant => Ok(()),
        Some(Record::Start {
            tenant: journaled, ..
        }) => Err(RollbackRefusal::OtherTenant {
            run: log.run_id.clone(),
            tenant: printable(journaled, 80),
            here: tenant.to_owned(),
        }),
        _ => Err(RollbackRefusal::NoStart {
            run: log.run_id.clone(),
        }),
    }
}

/// What to do with a run, from the other journals (read with the tenant's lock held).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It was rolled back already (by the run `by`, or by itself when it failed): write
    /// nothing. `later` are runs that changed the same objects since.
    AlreadyRolledBack {
        /// The rollback run, or the run's own id.
        by: String,
        /// Later runs on the same objects.
        later: Vec<String>,
    },
    /// Roll it back; `forced_over` are later runs on the same objects that `--force`
    /// overrode (empty without them).
    Proceed {
        /// Later runs on the same objects, overridden.
        forced_over: Vec<String>,
    },
}

/// Decides, from `history`, whether to roll back: not twice, and not over later runs on the
/// same objects unless `force`.
///
/// # Errors
/// [`RollbackRefusal::LaterRuns`].
pub fn decide(run: &str, history: &History, force: bool) -> Result<Decision, RollbackRefusal> {
    if let Some(by) = &history.rolled_back_in {
        return Ok(Decision::AlreadyRolledBack {
            by: by.clone(),
            later: history.later.clone(),
        });
    }
    if !history.later.is_empty() && !force {
        return Err(RollbackRefusal::LaterRuns {
            run: run.to_owned(),
            later: history.later.clone(),
        });
    }
    Ok(Decision::Proceed {
        forced_over: history.later.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Actor;

    fn journal(kind: RunKind, format_version: Option<u32>, backend: Option<&str>) -> RunLog {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::create(dir.path(), "run-a").unwrap();
        journal
            .write(&Record::Start {
                format_version,
                run_id: "run-a".into(),
                kind,
                backend: backend.map(str::to_owned),
                tenant: "contoso.onmicrosoft.com".into(),
                at: now_rfc3339(),
                actor: Actor::current(),
                plan_id: None,
                rollback_of: None,
                steps: 0,
                policy_commit: None,
                heal: false,
            })
            .unwrap();
        RunLog::find(dir.path(), "run-a").unwrap()
    }

    #[test]
    fn a_journal_is_rolled_back_only_when_intact_current_an_apply_and_of_this_tenant() {
        let good = journal(RunKind::Apply, Some(FORMAT_VERSION), Some("file"));
        assert_eq!(check_journal(&good, "file"), Ok(()));
        let format_1 = journal(RunKind::Apply, Some(1), Some("file"));
        assert_eq!(
            check_journal(&format_1, "file"),
            Ok(()),
            "format 1 (client settings as `set_client`) is still rolled back"
        );
        assert_eq!(check_tenant(&good, "contoso.onmicrosoft.com"), Ok(()));
        let other_backend = check_journal(&good, "exchange-online").unwrap_err();
        assert!(matches!(
            other_backend,
            RollbackRefusal::OtherBackend { .. }
        ));
        assert!(!other_backend.needs_a_human());
        assert!(matches!(
            check_tenant(&good, "fabrikam.onmicrosoft.com"),
            Err(RollbackRefusal::OtherTenant { .. })
        ));
        let old = journal(RunKind::Apply, None, None);
        let refusal = check_journal(&old, "file").unwrap_err();
        assert!(matches!(refusal, RollbackRefusal::NoFormatVersion { .. }));
        assert!(refusal.needs_a_human());
        assert!(matches!(
            check_journal(&journal(RunKind::Apply, Some(9), Some("file")), "file"),
            Err(RollbackRefusal::FormatVersion { found: 9, .. })
        ));
        assert!(matches!(
            check_journal(
                &journal(RunKind::Rollback, Some(FORMAT_VERSION), Some("file")),
                "file"
            ),
            Err(RollbackRefusal::IsRollback { .. })
        ));
        let damaged = RunLog::parse("run-b".into(), b"not json\n{}\n");
        let refusal = check_journal(&damaged, "file").unwrap_err();
        assert!(matches!(refusal, RollbackRefusal::Damaged { .. }) && refusal.needs_a_human());
    }

    #[test]
    fn a_run_is_not_rolled_back_twice_nor_over_later_runs_unless_forced() {
        let done = History {
            rolled_back_in: Some("run-r".into()),
            later: vec!["run-b".into()],
            unchecked: Vec::new(),
        };
        assert_eq!(
            decide("run-a", &done, true),
            Ok(Decision::AlreadyRolledBack {
                by: "run-r".into(),
                later: vec!["run-b".into()]
            })
        );
        let followed = History {
            later: vec!["run-b".into(), "run-c".into()],
            ..History::default()
        };
        let refusal = decide("run-a", &followed, false).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "run `run-a` was followed by runs `run-b`, `run-c` that changed objects it changed"
        );
        assert_eq!(
            decide("run-a", &followed, true),
            Ok(Decision::Proceed {
                forced_over: vec!["run-b".into(), "run-c".into()]
            })
        );
        assert_eq!(
            decide("run-a", &History::default(), false),
            Ok(Decision::Proceed {
                forced_over: Vec::new()
            })
        );
    }
}
