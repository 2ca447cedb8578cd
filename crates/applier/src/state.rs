//! Where runs are kept: journals, the "a saved plan applies once" check and the tenant lock.
//!
//! [`StateStore`] is the seam. [`LocalState`] keeps them under `stateDir` (`runs/<id>.jsonl`,
//! `locks/<tenant>.lock`), exactly as [`Journal::start`], [`RunLog::all`] and [`FileLock`] do;
//! the `sharedbox-state-azure` crate keeps them in an Azure Blob Storage container, so that
//! `runs`, `rollback` and the lock work from any machine.
//!
//! # Contract
//! - [`StateStore::create_journal`] gives a sink whose [`JournalSink::append`] returns only
//!   once the records are durable (fsynced; acknowledged by the service), and fails rather
//!   than loses a record: the run stops before the write the record announces.
//! - [`StateStore::acquire`] gives one holder per tenant; a lock that another machine can
//!   take away carries a [`crate::lock::LockCheck`] that the journal asks before each write.
//! - [`StateStore::all`] lists runs oldest first, like [`RunLog::all`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::journal::{JournalError, JournalSink, Record, RunLog};
use crate::lock::{FileLock, LockError, LockGuard, LockInfo, TenantLock};

/// A place for journals and locks.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Where runs are kept, for messages: `.sharedbox/runs`, or the container URL and prefix.
    fn runs_location(&self) -> String;

    /// Creates the (empty) journal of a new run; fails when one with this id exists.
    ///
    /// # Errors
    /// The store is unreachable or refused it.
    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError>;

    /// Reads the journal of run `run_id`.
    ///
    /// # Errors
    /// [`JournalError::NotFound`] when there is none; the store failed.
    fn find(&self, run_id: &str) -> Result<RunLog, JournalError>;

    /// Every journal, oldest run first ([`RunLog::sort_by_start`]).
    ///
    /// # Errors
    /// The store failed.
    fn all(&self) -> Result<Vec<RunLog>, JournalError>;

    /// The run that applied the saved plan `plan_id`, if one did (a saved plan applies once).
    ///
    /// # Errors
    /// The store failed.
    fn run_that_applied(&self, plan_id: &str) -> Result<Option<String>, JournalError> {
        Ok(self.all()?.iter().find_map(|log| match log.start() {
            Some(Record::Start {
                plan_id: Some(applied),
                run_id,
                ..
            }) if applied == plan_id => Some(run_id.clone()),
            _ => None,
        }))
    }

    /// Takes `tenant`'s lock, waiting up to `timeout` for its holder.
    ///
    /// # Errors
    /// [`LockError::Held`] with the holder; the store failed.
    fn acquire(
        &self,
        tenant: &str,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<LockGuard, LockError>;

    /// Who holds `tenant`'s lock, if anyone (`Some` with an unknown holder when it is held
    /// but its holder cannot be read).
    ///
    /// # Errors
    /// The store failed.
    fn holder(&self, tenant: &str) -> Result<Option<LockInfo>, LockError>;

    /// Breaks `tenant`'s lock, whoever holds it (`sharedbox unlock --force`), and returns the
    /// holder it had; `None` when it was free.
    ///
    /// # Errors
    /// The store failed.
    fn break_lock(&self, tenant: &str) -> Result<Option<LockInfo>, LockError>;
}

/// Runs and locks under a local (or mounted) `stateDir`.
#[derive(Debug, Clone)]
pub struct LocalState {
    dir: PathBuf,
}

impl LocalState {
    /// The state under `dir`.
    pub fn new(dir: &Path) -> LocalState {
        LocalState {
            dir: dir.to_owned(),
        }
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl StateStore for LocalState {
    fn runs_location(&self) -> String {
        self.dir.join("runs").display().to_string()
    }

    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError> {
        crate::journal::Journal::create_sink(&self.dir, run_id)
    }

    fn find(&self, run_id: &str) -> Result<RunLog, JournalError> {
        RunLog::find(&self.dir, run_id)
    }

    fn all(&self) -> Result<Vec<RunLog>, JournalError> {
        RunLog::all(&self.dir)
    }

    fn acquire(
        &self,
        tenant: &str,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        FileLock::new(&self.dir).acquire(tenant, info, timeout)
    }

    fn holder(&self, tenant: &str) -> Result<Option<LockInfo>, LockError> {
        let lock = FileLock::new(&self.dir);
        Ok(lock.holder(tenant).or_else(|| {
            lock.is_held(tenant)
                .then(|| LockInfo::unknown(crate::journal::now_rfc3339()))
        }))
    }

    fn break_lock(&self, tenant: &str) -> Result<Option<LockInfo>, LockError> {
        let holder = self.holder(tenant)?;
        if holder.is_some() {
            FileLock::new(&self.dir).remove(tenant)?;
        }
        Ok(holder)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::journal::{Journal, RunKind, RunStart, now_rfc3339};
    use crate::lock::LockCheck;

    fn start(run_id: &str) -> RunStart {
        RunStart {
            run_id: run_id.to_owned(),
            kind: RunKind::Apply,
            backend: "file".to_owned(),
            tenant: "contoso".to_owned(),
            plan_id: Some("plan-1".to_owned()),
            rollback_of: None,
            steps: 2,
            policy_commit: None,
            heal: false,
        }
    }

    fn undo_intent() -> Record {
        Record::UndoIntent {
            step: 1,
            operation: sharedbox_tenant::Operation::RemoveMailbox {
                mailbox: "info@contoso.com".to_owned(),
            },
        }
    }

    #[test]
    fn a_lost_lock_stops_the_journal_before_the_next_announced_write_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalState::new(dir.path());
        let held = Arc::new(AtomicBool::new(true));
        let flag = held.clone();
        let check = LockCheck::new("contoso", move || {
            if flag.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("its lease was broken".to_owned())
            }
        });
        let guard = LockGuard::new(|| {}, Some(check));
        let mut journal = Journal::start_in(&store, &guard, start("r1")).unwrap();
        journal.write(&undo_intent()).unwrap();
        held.store(false, Ordering::SeqCst);
        // Results of writes already sent are still recorded: they are not writes.
        journal
            .write(&Record::Undo {
                step: 1,
                status: crate::journal::UndoStatus::Reverted,
                operation: None,
                detail: None,
            })
            .unwrap();
        let err = journal.write(&undo_intent()).unwrap_err();
        assert!(
            matches!(&err, JournalError::LockLost { tenant, reason } if tenant == "contoso" && reason.contains("broken")),
            "{err}"
        );
        let log = store.find("r1").unwrap();
        let intents = log
            .records
            .iter()
            .filter(|r| matches!(r, Record::UndoIntent { .. }))
            .count();
        assert_eq!(intents, 1, "the refused record is not written");
        assert!(
            matches!(log.records.last(), Some(Record::Stopped { reason, .. }) if reason.contains("the run lost the lock of tenant `contoso`")),
            "{:?}",
            log.records.last()
        );
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        assert_eq!(log.outcome(), None, "like a crash: rollback undoes it");
    }

    #[test]
    fn the_local_store_is_the_state_directory_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalState::new(dir.path());
        let guard = store
            .acquire(
                "contoso",
                &LockInfo {
                    run_id: "r1".into(),
                    operation: "apply".into(),
                    actor: crate::journal::Actor::current(),
                    since: now_rfc3339(),
                },
                Duration::ZERO,
            )
            .unwrap();
        assert!(guard.check().is_none(), "a lock file cannot be taken away");
        assert_eq!(store.holder("contoso").unwrap().unwrap().run_id, "r1");
        let mut journal = Journal::start_in(&store, &guard, start("r1")).unwrap();
        journal.write(&undo_intent()).unwrap();
        assert_eq!(
            journal.path(),
            Some(dir.path().join("runs/r1.jsonl").as_path())
        );
        assert_eq!(store.all().unwrap().len(), 1);
        assert_eq!(
            store.run_that_applied("plan-1").unwrap(),
            Some("r1".to_owned())
        );
        assert_eq!(store.run_that_applied("plan-2").unwrap(), None);
        assert_eq!(store.break_lock("contoso").unwrap().unwrap().run_id, "r1");
        assert!(store.holder("contoso").unwrap().is_none());
        assert!(store.break_lock("contoso").unwrap().is_none());
    }
}
