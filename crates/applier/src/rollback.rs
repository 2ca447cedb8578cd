//! `sharedbox rollback RUN_ID`: undo a finished or crashed run from its journal.
//!
//! # Guarantees
//! - Idempotent: a second rollback of the same run finds every step as it was before the run
//!   and changes nothing.
//! - A value someone changed after the run is left alone and reported as a conflict.
//! - The rollback is itself a journaled run (`kind: rollback`, `rollback_of: RUN_ID`).
//! - [`history`] reads the other journals: a run that a rollback restored (or that rolled
//!   itself back when it failed) is not rolled back again, and runs started later on the same
//!   tenant and backend that changed the same objects are named, so the caller can refuse.

use std::collections::HashSet;

use sharedbox_tenant::{Operation, Tenant, target};

use crate::journal::{
    Journal, JournalError, Record, RunKind, RunLog, RunOutcome, UndoStatus, now_rfc3339,
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
