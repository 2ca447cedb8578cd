//! `sharedbox rollback RUN_ID`: undo a finished or crashed run from its journal.
//!
//! # Guarantees
//! - Idempotent: a second rollback of the same run finds every step as it was before the run
//!   and changes nothing.
//! - A value someone changed after the run is left alone and reported as a conflict.
//! - The rollback is itself a journaled run (`kind: rollback`, `rollback_of: RUN_ID`).

use sharedbox_tenant::Tenant;

use crate::journal::{Journal, JournalError, Record, RunLog, RunOutcome, UndoStatus, now_rfc3339};
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
    let items = undo(tenant, &steps, journal, on_item).await?;
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
