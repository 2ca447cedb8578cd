//! Executes plans through a [`sharedbox_tenant::Tenant`], and undoes them.
//!
//! - [`run`]: guards, waves, the journal, automatic rollback of a failed run, verification;
//! - [`rollback`]: `sharedbox rollback RUN_ID`, idempotent and conflict-aware;
//! - [`journal`]: the append-only, fsynced record of every write and its undo;
//! - [`lock`]: one apply or rollback per tenant at a time;
//! - [`heal`]: `apply --heal`: the state the tenant was last brought to, and whether a plan
//!   is drift only;
//! - [`state`]: where journals and locks are kept (`stateDir`, or a remote store);
//! - [`result`]: the typed result document of `apply --format json`;
//! - [`retry`]: throttled and transient failures are tried again, permanent ones reported
//!   at once ([`sharedbox_tenant::TenantErrorKind`]).
//!
//! # Guarantees
//! - Nothing is written when a guard refuses the plan.
//! - Every write is journaled with its before-image before it is sent, and its outcome right
//!   after; a crash leaves a journal that `rollback` can use.
//! - A failed run undoes its completed steps in reverse order (unless told not to); what
//!   could not be undone is listed, never hidden.
//! - An undo writes the step's journaled before-image back: the write is derived from the
//!   step's operation and before-image ([`sharedbox_tenant::undo()`]), never taken from the
//!   journal or the plan. Their recorded `inverse` is a cross-check: a step whose `inverse` is
//!   another write is a conflict, and nothing is written for it.

pub mod heal;
pub mod journal;
pub mod lock;
pub mod result;
pub mod retry;
pub mod rollback;
pub mod run;
pub mod state;

pub use heal::{
    AppliedRevision, AppliedState, HealRefusal, Unsettled, applied_state, check_drift_only,
};
pub use journal::{
    Actor, FORMAT_VERSION, Journal, JournalError, JournalSink, JournaledStep, Problem, Record,
    RunKind, RunLog, RunOutcome, RunStart, Shown, UndoCounts, UndoStatus, new_run_id, now_rfc3339,
    now_rfc3339_precise, printable, reads_format,
};
pub use lock::{FileLock, LockCheck, LockError, LockGuard, LockInfo, TenantLock};
pub use result::{ApplyOutcome, ApplyResult, HealChange, HealResult};
pub use retry::Retry;
pub use rollback::{
    Decision, History, RollbackRefusal, RollbackReport, cannot_undo, check_journal, check_tenant,
    decide, history, rollback_run,
};
pub use run::{
    ApplyError, ApplyOptions, ApplyReport, Event, UndoItem, VerifyReport, apply, check_guards,
};
pub use state::{LocalState, StateStore};

/// The JSON Schema (draft-07) of the apply result document (`apply --format json`).
pub fn apply_result_schema_json() -> String {
    sharedbox_planner::schema_json::<ApplyResult>()
}
