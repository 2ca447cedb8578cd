//! The run journal: `stateDir/runs/<run-id>.jsonl`, append-only, one JSON record a line.
//!
//! # Guarantees
//! - The intent of a write, with the before-image of what it touches, is on disk (fsynced)
//!   before the write is sent; its outcome is fsynced right after.
//! - A journal cut short by a crash (a truncated last line without its newline) still reads:
//!   the cut-off line is skipped and reported, every complete record before it is kept.
//! - Any other damage (an unreadable line anywhere else, a missing or second `start` record, a
//!   record after `end`, an outcome without its intent, an inverse that writes another object
//!   than its step, an after-image that is not what the step writes, a file that is empty or not a journal)
//!   is reported with its line number in [`RunLog::problems`]; a rollback refuses such a journal.
//! - The `start` record carries [`FORMAT_VERSION`] and the backend kind; journals without a
//!   format version (written before format 1) are read but cannot be rolled back; formats 1
//!   and 2 are read and rolled back ([`reads_format`]).
//! - Journals are created with mode 0600: they name every principal that was changed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sharedbox_planner::{Action, PlanValue};
use sharedbox_tenant::{Observation, Operation, Principal, Value};

/// The journal format this version writes. Format 2 writes client settings as `set_mailbox`
/// with a catalogued property; format 1 wrote them as `set_client` and is read and rolled back
/// as well.
pub const FORMAT_VERSION: u32 = 2;

/// Whether this version reads and rolls back journals of format `version`.
pub fn reads_format(version: u32) -> bool {
    (1..=FORMAT_VERSION).contains(&version)
}

/// Whether a run applied a plan or rolled one back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// `sharedbox apply`.
    Apply,
    /// `sharedbox rollback RUN_ID`.
    Rollback,
}

/// Who started a run, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The OS user.
    pub user: String,
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The CI system and run, when in one.
    pub ci: Option<String>,
}

impl Actor {
    /// The actor of this process, from the environment.
    pub fn current() -> Actor {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let host = env("HOSTNAME")
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let ci = if env("GITHUB_ACTIONS").is_some() {
            Some(format!(
                "github-actions {} run {}",
                env("GITHUB_REPOSITORY").unwrap_or_default(),
                env("GITHUB_RUN_ID").unwrap_or_default()
            ))
        } else if env("TF_BUILD").is_some() {
            Some(format!(
                "azure-pipelines build {}",
                env("BUILD_BUILDID").unwrap_or_default()
            ))
        } else if env("GITLAB_CI").is_some() {
            Some(format!(
                "gitlab-ci job {}",
                env("CI_JOB_ID").unwrap_or_default()
            ))
        } else {
            env("CI").map(|_| "ci".to_owned())
        };
        Actor {
            user: env("USER")
                .or_else(|| env("USERNAME"))
                .unwrap_or_else(|| "unknown".to_owned()),
            host,
            pid: std::process::id(),
            ci,
        }
    }
}

/// How a step's undo went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UndoStatus {
    /// The step's change was reverted.
    Reverted,
    /// Nothing to undo: the value is as it was before the step.
    Skipped,
    /// The value is neither what the step set nor what was there before: someone else
    /// changed it; left alone.
    Conflict,
    /// The step cannot be undone (an orphaned grant, a deleted mailbox, a value that was not
    /// reported); left alone.
    Irreversible,
    /// The undo write failed.
    Failed,
}

/// As the rollback output says it: `reverted`, `nothing to undo`, `CONFLICT, left alone`, ...
impl std::fmt::Display for UndoStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UndoStatus::Reverted => "reverted",
            UndoStatus::Skipped => "nothing to undo",
            UndoStatus::Conflict => "CONFLICT, left alone",
            UndoStatus::Irreversible => "cannot be undone",
            UndoStatus::Failed => "UNDO FAILED",
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
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
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Record {
    /// The first record of a run.
    Start {
        /// The journal format ([`FORMAT_VERSION`]); `None` in journals written before format 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format_version: Option<u32>,
        /// The run id.
        run_id: String,
        /// Apply or rollback.
        kind: RunKind,
        /// The backend kind: `file` or `exchange-online` (`None` before format 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backend: Option<String>,
        /// The tenant.
        tenant: String,
        /// RFC 3339 time, with fractions of a second since format 1 (it orders runs).
        at: String,
        /// Who and where.
        actor: Actor,
        /// The saved plan applied, if one was.
        plan_id: Option<String>,
        /// The run rolled back, for rollback runs.
        rollback_of: Option<String>,
        /// Number of planned steps.
        steps: usize,
        /// The git commit of the policies the run applied, when it applied all of them from a
        /// commit (no `--target`, no uncommitted edits): the tenant matches that commit when
        /// the run succeeds. `apply --heal` judges drift against the newest such run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_commit: Option<String>,
        /// Whether the run was `apply --heal` (it applied drift only).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        heal: bool,
    },
    /// A write is about to be sent.
    Intent {
        /// 1-based step number.
        step: usize,
        /// The policy field.
        field: String,
        /// The write.
        operation: Operation,
        /// The write that undoes it, if any, as the plan had it. Rollback derives the undo from
        /// `operation` and `before` ([`sharedbox_tenant::undo()`]) and only checks it against
        /// this (a step whose `inverse` disagrees is a conflict); older sharedbox versions send
        /// it, so it is still written.
        inverse: Option<Operation>,
        /// What the write touches, before it: what rollback puts back.
        before: Observation,
        /// What it touches, after it.
        expected: Observation,
        /// The step as the plan showed it, for `runs show` and the rollback preview (written
        /// since sharedbox 0.1 with format 2; absent in older journals, where
        /// [`Shown::derive`] stands in). Never used to decide an undo.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shown: Option<Box<Shown>>,
    },
    /// The write's result.
    Outcome {
        /// The step.
        step: usize,
        /// Whether it succeeded.
        ok: bool,
        /// The error, when it failed.
        error: Option<String>,
    },
    /// An undo write is about to be sent (rollback runs; fsynced before the write, like
    /// [`Record::Intent`]). Its result follows as [`Record::Undo`].
    UndoIntent {
        /// The step being undone (its number in the run being rolled back).
        step: usize,
        /// The undo write.
        operation: Operation,
    },
    /// What became of the undo of a step: reverted (or failed) after its [`Record::UndoIntent`],
    /// or decided against without a write.
    Undo {
        /// The step being undone (its number in the run being rolled back).
        step: usize,
        /// What was decided.
        status: UndoStatus,
        /// The undo write, when one is sent.
        operation: Option<Operation>,
        /// Why, for skipped, conflicting, irreversible or failed undos.
        detail: Option<String>,
    },
    /// The run stopped before its next write because it no longer holds the tenant's lock (a
    /// lease broken by `sharedbox unlock --force`, or taken by another run). The completed steps
    /// are kept: undoing them would write without the lock. Like a crash, the run has no
    /// [`Record::End`]; `sharedbox rollback` undoes it once the lock can be taken again.
    Stopped {
        /// Why, lower case.
        reason: String,
        /// RFC 3339 time.
        at: String,
    },
    /// The last record of a finished run.
    End {
        /// How it ended.
        outcome: RunOutcome,
        /// RFC 3339 time.
        at: String,
    },
}

/// A step as the plan showed it: its action and its values before and after, rendered
/// with the plan's own renderer ([`sharedbox_planner::change_line`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    /// Add, update, remove or delete.
    pub action: Action,
    /// The value before, as the plan had it (none for an addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<PlanValue>,
    /// The value after (none for a revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<PlanValue>,
}

impl Shown {
    /// What the plan showed for `change`.
    pub fn of(change: &sharedbox_planner::Change) -> Shown {
        Shown {
            action: change.action,
            before: change.before.clone(),
            after: change.after.clone(),
        }
    }

    /// The plan's values rebuilt from a journaled write and its before-image, for journals
    /// written before [`Record::Intent`] kept them. What the write does not carry is left
    /// out: an `inherit` SMTP AUTH shows without the organisation's value, a revoked
    /// FullAccess grant without its autoMapping.
    pub fn derive(operation: &Operation, before: &Observation) -> Shown {
        use Operation::*;
        let grant = |principal: &Principal, auto_mapping: Option<bool>, access: Option<&str>| {
            PlanValue::Grant {
                principal: principal.clone(),
                auto_mapping,
                access: access.map(str::to_owned),
                flags: Vec::new(),
            }
        };
        let entry = |principal: &Principal, access: &str, flags: &[String]| PlanValue::Grant {
            principal: principal.clone(),
            auto_mapping: None,
            access: Some(access.to_owned()),
            flags: sharedbox_tenant::canonical_flags(flags),
        };
        let entry_before = match before {
            Observation::FolderEntry(Some(e)) => Some(e),
            _ => None,
        };
        let setting = |value: Value| PlanValue::Setting {
            value,
            organization: None,
        };
        let observed = match before {
            Observation::Text(t) => Some(setting(Value::Text(t.clone()))),
            Observation::Switch(Some(b)) => Some(setting(Value::Flag(*b))),
            Observation::Switch(None) => Some(setting(Value::Unset)),
            _ => None,
        };
        let access_before = match before {
            Observation::FolderAccess(access) => access.as_deref(),
            _ => None,
        };
        let (action, before, after) = match operation {
            CreateMailbox { display_name, .. } => (
                Action::Add,
                None,
                Some(setting(Value::Text(display_name.clone()))),
            ),
            CreateServicePrincipal { .. } => (
                Action::Add,
                None,
                Some(PlanValue::Presence { present: true }),
            ),
            RemoveMailbox { .. } => (
                Action::Delete,
                Some(PlanValue::Presence { present: true }),
                Some(PlanValue::Presence { present: false }),
            ),
            RemoveServicePrincipal { .. } => (
                Action::Remove,
                Some(PlanValue::Presence { present: true }),
                None,
            ),
            SetMailbox { setting: s, .. } => {
                (Action::Update, observed, Some(setting(s.value.clone())))
            }
            SetOrganization { setting: s } => {
                (Action::Update, observed, Some(setting(s.value.clone())))
            }
            AddToList { principal, .. } | GrantSendAs { principal, .. } => {
                (Action::Add, None, Some(grant(principal, None, None)))
            }
            AddAlias { address, .. } => (
                Action::Add,
                None,
                Some(PlanValue::Address {
                    address: address.clone(),
                }),
            ),
            RemoveAlias { address, .. } => (
                Action::Remove,
                Some(PlanValue::Address {
                    address: address.clone(),
                }),
                None,
            ),
            GrantFullAccess {
                principal,
                auto_mapping,
                ..
            } => (
                Action::Add,
                None,
                Some(grant(principal, Some(*auto_mapping), None)),
            ),
            AddSentItemsPermission {
                principal, access, ..
            } => (
                Action::Add,
                None,
                Some(grant(principal, None, Some(access))),
            ),
            SetSentItemsPermission {
                principal, access, ..
            } => (
                Action::Update,
                access_before.map(|a| grant(principal, None, Some(a))),
                Some(grant(principal, None, Some(access))),
            ),
            RemoveFromList { principal, .. }
            | RevokeSendAs { principal, .. }
            | RevokeFullAccess { principal, .. } => {
                (Action::Remove, Some(grant(principal, None, None)), None)
            }
            RemoveSentItemsPermission { principal, .. } => (
                Action::Remove,
                Some(grant(principal, None, access_before)),
                None,
            ),
            AddFolderPermission {
                principal,
                access,
                flags,
                ..
            } => (Action::Add, None, Some(entry(principal, access, flags))),
            SetFolderPermission {
                principal,
                access,
                flags,
                ..
            } => (
                Action::Update,
                entry_before.map(|e| entry(principal, &e.access, &e.flags)),
                Some(entry(principal, access, flags)),
            ),
            RemoveFolderPermission { principal, .. } => (
                Action::Remove,
                entry_before.map(|e| entry(principal, &e.access, &e.flags)),
                None,
            ),
            GrantRootVisibility { principal, .. } => (
                Action::Add,
                None,
                Some(grant(principal, None, Some("FolderVisible"))),
            ),
            RevokeRootVisibility { principal, .. } => (
                Action::Remove,
                Some(grant(principal, None, Some("FolderVisible"))),
                None,
            ),
        };
        Shown {
            action,
            before,
            after,
        }
    }

    /// What undoing the step does, shown the same way: an addition becomes a removal and the
    /// other way round, before and after trade places.
    pub fn undone(&self) -> Shown {
        Shown {
            action: match self.action {
                Action::Add => Action::Remove,
                Action::Remove | Action::Delete => Action::Add,
                Action::Update => Action::Update,
            },
            before: self.after.clone(),
            after: self.before.clone(),
        }
    }

    /// The step (the write `operation` at `field`) on one line, as the plan showed it:
    /// `~ moderation.notifications = always -> internal`, `+ sendAs = anna@contoso.com`.
    pub fn line(&self, field: &str, operation: &Operation) -> String {
        sharedbox_planner::change_line(
            &sharedbox_planner::field_label(field, operation),
            self.action,
            self.before.as_ref(),
            self.after.as_ref(),
        )
    }
}

/// Errors of journal I/O.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal could not be written or read.
    #[error("journal `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No run with this id.
    #[error("no run `{0}` in the journal folder")]
    NotFound(String),
    /// A remote state store failed (unreachable, refused, or an unexpected answer).
    #[error("state store `{location}`: {message}")]
    Store {
        /// The blob or folder, e.g. `https://acct.blob.core.windows.net/state/runs/r1.jsonl`.
        location: String,
        /// What went wrong, lower case.
        message: String,
    },
    /// The run no longer holds the tenant's lock: nothing more is written to the tenant.
    #[error("the run lost the lock of tenant `{tenant}`: {reason}")]
    LockLost {
        /// The tenant.
        tenant: String,
        /// Why, e.g. `the lease was broken`.
        reason: String,
    },
}

/// Where a journal's records go: a local file (fsynced) or a remote store's append blob.
/// Implemented by [`crate::state::StateStore`]s.
pub trait JournalSink: Send + std::fmt::Debug {
    /// Appends whole records (`bytes` ends with a newline) durably: when this returns `Ok`,
    /// the records survive a crash of this process and of this machine.
    ///
    /// # Errors
    /// The records could not be stored; the caller must not send the write they announce.
    fn append(&mut self, bytes: &[u8]) -> Result<(), JournalError>;
    /// Where the journal is, for messages: a path or a blob URL without its query.
    fn location(&self) -> String;
    /// The local file, when the journal is one.
    fn path(&self) -> Option<&Path> {
        None
    }
}

/// A journal in a local file, appended and fsynced.
#[derive(Debug)]
struct FileSink {
    path: PathBuf,
    file: File,
}

impl JournalSink for FileSink {
    fn append(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        let file = &mut self.file;
        blocking(|| {
            file.write_all(bytes)?;
            file.sync_data()
        })
        .map_err(|source| JournalError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

/// An open journal, written record by record.
#[derive(Debug)]
pub struct Journal {
    sink: Box<dyn JournalSink>,
    /// The lock the run holds, checked before each record that announces a write.
    lock: Option<crate::lock::LockCheck>,
}

/// What the first record of a new run says (the rest is filled in: the journal format,
/// the time with fractions of a second, who and where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// The run id.
    pub run_id: String,
    /// Apply or rollback.
    pub kind: RunKind,
    /// The backend kind: `file` or `exchange-online`.
    pub backend: String,
    /// The tenant.
    pub tenant: String,
    /// The saved plan applied, if one is.
    pub plan_id: Option<String>,
    /// The run a rollback undoes.
    pub rollback_of: Option<String>,
    /// Number of planned steps.
    pub steps: usize,
    /// The commit of the policies applied, when the run applies all of them from a commit.
    pub policy_commit: Option<String>,
    /// Whether the run is `apply --heal`.
    pub heal: bool,
}

impl Journal {
    /// Creates the journal of a new run and writes (fsyncs) its `start` record: the one way a
    /// run's journal begins, for applies and rollbacks alike.
    ///
    /// # Errors
    /// The journal could not be created or written.
    pub fn start(state_dir: &Path, run: RunStart) -> Result<Journal, JournalError> {
        let journal = Journal::create(state_dir, &run.run_id)?;
        journal.begin(run)
    }

    /// Creates the journal of a new run in `store` and writes its `start` record, for a run
    /// that holds `lock`: before each record that announces a write the journal checks that
    /// the run still holds it ([`crate::lock::LockGuard::check`]), and stops the run with
    /// [`JournalError::LockLost`] (and a [`Record::Stopped`]) when it does not.
    ///
    /// # Errors
    /// The journal could not be created or written.
    pub fn start_in(
        store: &dyn crate::state::StateStore,
        lock: &crate::lock::LockGuard,
        run: RunStart,
    ) -> Result<Journal, JournalError> {
        let journal = Journal {
            sink: store.create_journal(&run.run_id)?,
            lock: lock.check(),
        };
        journal.begin(run)
    }

    /// A journal writing to `sink` (a store's own journal), without a lock check.
    pub fn with_sink(sink: Box<dyn JournalSink>) -> Journal {
        Journal { sink, lock: None }
    }

    fn begin(mut self, run: RunStart) -> Result<Journal, JournalError> {
        self.write(&Record::Start {
            format_version: Some(FORMAT_VERSION),
            run_id: run.run_id,
            kind: run.kind,
            backend: Some(run.backend),
            tenant: run.tenant,
            at: now_rfc3339_precise(),
            actor: Actor::current(),
            plan_id: run.plan_id,
            rollback_of: run.rollback_of,
            steps: run.steps,
            policy_commit: run.policy_commit,
            heal: run.heal,
        })?;
        Ok(self)
    }

    /// Creates `runs/<run_id>.jsonl` under `state_dir`.
    pub fn create(state_dir: &Path, run_id: &str) -> Result<Journal, JournalError> {
        Ok(Journal::with_sink(Journal::create_sink(state_dir, run_id)?))
    }

    /// Creates `runs/<run_id>.jsonl` under `state_dir`, mode 0600, as a sink.
    pub(crate) fn create_sink(
        state_dir: &Path,
        run_id: &str,
    ) -> Result<Box<dyn JournalSink>, JournalError> {
        let dir = state_dir.join("runs");
        let path = dir.join(format!("{run_id}.jsonl"));
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut options = OpenOptions::new();
        options.create_new(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io)?;
        Ok(Box::new(FileSink { path, file }))
    }

    /// Opens an existing journal to append to it (the rollback of a crashed run).
    pub fn append_to(path: &Path) -> Result<Journal, JournalError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| JournalError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Journal::with_sink(Box::new(FileSink {
            path: path.to_owned(),
            file,
        })))
    }

    /// The journal's path, for a journal in a local file.
    pub fn path(&self) -> Option<&Path> {
        self.sink.path()
    }

    /// Where the journal is: its path, or its blob's URL.
    pub fn location(&self) -> String {
        self.sink.location()
    }

    /// Appends one record and fsyncs it.
    pub fn write(&mut self, record: &Record) -> Result<(), JournalError> {
        self.write_all(std::slice::from_ref(record))
    }

    /// Appends records with one write and one fsync (a round of steps sent together).
    pub fn write_all(&mut self, records: &[Record]) -> Result<(), JournalError> {
        let mut text = String::new();
        for record in records {
            text.push_str(&serde_json::to_string(record).expect("journal records serialise"));
            text.push('\n');
        }
        // A record that announces a write is stored only while the run holds its lock: a
        // run whose lease was broken stops here, before the write, and says so.
        let announces = records
            .iter()
            .any(|r| matches!(r, Record::Intent { .. } | Record::UndoIntent { .. }));
        if announces && let Some(check) = &self.lock {
            let held = blocking(|| check.check());
            if let Err(lost) = held {
                let stopped = Record::Stopped {
                    reason: format!("{lost}; the completed steps were kept"),
                    at: now_rfc3339(),
                };
                let mut line = serde_json::to_string(&stopped).expect("journal records serialise");
                line.push('\n');
                // Best effort: the store answered the lock check, so it likely takes this too.
                let _ = self.sink.append(line.as_bytes());
                return Err(lost);
            }
        }
        self.sink.append(text.as_bytes())
    }
}

/// Runs blocking IO (a journal's write and fsync) so that it does not stall an async worker.
///
/// On a multi-threaded tokio runtime this is [`tokio::task::block_in_place`]: the worker
/// hands its other tasks to the rest of the pool while it waits for the disk. Not
/// `spawn_blocking`: the record must be on disk before the next tenant write is sent, and the
/// journal's file stays borrowed in place. Outside a runtime, or on a current-thread runtime
/// (where there is no other worker to hand tasks to), it simply runs `work`.
pub(crate) fn blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Something wrong with a journal, at a line where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong, lower case.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A journal as read back.
#[derive(Debug, Clone, Default)]
pub struct RunLog {
    /// The run id (the file name).
    pub run_id: String,
    /// Every complete record, in order.
    pub records: Vec<Record>,
    /// The 1-based line of each record in [`RunLog::records`].
    pub lines: Vec<usize>,
    /// Lines that could not be read (including a cut-off last line).
    pub damaged_lines: usize,
    /// The line a crash cut short: the last one, without its newline, unreadable. Expected
    /// after a crash, and not a problem.
    pub cut_off: Option<usize>,
    /// Damage: unreadable lines other than a cut-off last one, and records out of place.
    /// A rollback refuses a journal with problems.
    pub problems: Vec<Problem>,
}

/// At most this many characters of a parse error are kept.
const MAX_REASON: usize = 120;

pub use sharedbox_tenant::printable;

impl RunLog {
    /// The run that applied the saved plan `plan_id`, if one did (a saved plan applies once).
    ///
    /// # Errors
    /// The runs folder could not be read.
    pub fn run_that_applied(
        state_dir: &Path,
        plan_id: &str,
    ) -> Result<Option<String>, JournalError> {
        Ok(RunLog::all(state_dir)?
            .iter()
            .find_map(|log| match log.start() {
                Some(Record::Start {
                    plan_id: Some(applied),
                    run_id,
                    ..
                }) if applied == plan_id => Some(run_id.clone()),
                _ => None,
            }))
    }
}

/// The largest journal read (a journal of an apply to 50,000 mailboxes is about 100 MiB);
/// a larger file in the runs folder is listed as damaged, not read into memory.
pub const MAX_JOURNAL_BYTES: u64 = 1024 * 1024 * 1024;

impl RunLog {
    /// Reads `path`, skipping damaged lines. A file that cannot be read, or is not a regular
    /// file, gives a log with that problem rather than an error.
    pub fn read(path: &Path) -> Result<RunLog, JournalError> {
        let run_id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let unreadable = |message: String| RunLog {
            run_id: run_id.clone(),
            problems: vec![Problem {
                line: None,
                message,
            }],
            ..RunLog::default()
        };
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Ok(unreadable("not a regular file".to_owned()));
            }
            Ok(meta) if meta.len() > MAX_JOURNAL_BYTES => {
                return Ok(unreadable(format!(
                    "larger than {} MiB: not read",
                    MAX_JOURNAL_BYTES / (1024 * 1024)
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Io {
                    path: path.to_owned(),
                    source: e,
                });
            }
            Err(e) => return Ok(unreadable(format!("cannot be read: {e}"))),
        }
        match std::fs::read(path) {
            Ok(bytes) => Ok(RunLog::parse(run_id, &bytes)),
            Err(e) => Ok(unreadable(format!("cannot be read: {e}"))),
        }
    }

    /// Reads a journal's bytes: every line that is a record, and a count of those that are
    /// not (a crash cuts the last one short; anything else is damage, listed in
    /// [`RunLog::problems`] with what else is out of place). Never fails.
    pub fn parse(run_id: String, bytes: &[u8]) -> RunLog {
        let mut log = RunLog {
            run_id,
            ..RunLog::default()
        };
        let segments: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let last = segments.len().saturating_sub(1);
        for (i, line) in segments.iter().enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(line) {
                Ok(record) => {
                    log.records.push(record);
                    log.lines.push(i + 1);
                }
                Err(e) => {
                    log.damaged_lines += 1;
                    // The segment after the last newline is a line the writer never finished.
                    if i == last {
                        log.cut_off = Some(i + 1);
                    } else {
                        log.problems.push(Problem {
                            line: Some(i + 1),
                            message: format!(
                                "not a journal record ({})",
                                printable(&e.to_string(), MAX_REASON)
                            ),
                        });
                    }
                }
            }
        }
        log.check_structure();
        log
    }

    /// Adds the problems of records out of place.
    fn check_structure(&mut self) {
        let mut problems = Vec::new();
        let mut at = |line: usize, message: String| {
            problems.push(Problem {
                line: Some(line),
                message,
            })
        };
        if self.records.is_empty() && self.damaged_lines == 0 {
            self.problems.push(Problem {
                line: None,
                message: "the file is empty".to_owned(),
            });
            return;
        }
        let mut kind = None;
        let mut intents: Vec<usize> = Vec::new();
        let mut ended = false;
        for (n, (record, &line)) in self.records.iter().zip(&self.lines).enumerate() {
            if ended {
                at(line, "a record after the `end` record".to_owned());
            }
            match record {
                Record::Start {
                    run_id,
                    kind: k,
                    format_version,
                    backend,
                    ..
                } => {
                    if n > 0 {
                        at(line, "a second `start` record".to_owned());
                        continue;
                    }
                    if line != 1 {
                        at(line, "the `start` record is not the first line".to_owned());
                    }
                    if *run_id != self.run_id {
                        at(
                            line,
                            format!(
                                "the `start` record names run `{}`, but the file is `{}.jsonl`",
                                printable(run_id, 60),
                                printable(&self.run_id, 60)
                            ),
                        );
                    }
                    if format_version.is_some() && backend.is_none() {
                        at(line, "the `start` record has no `backend`".to_owned());
                    }
                    kind = Some(*k);
                }
                _ if n == 0 => {
                    at(
                        line,
                        "the first record is not a `start` record: not a sharedbox journal"
                            .to_owned(),
                    );
                    return self.problems.extend(problems);
                }
                Record::Intent {
                    step,
                    operation,
                    inverse,
                    expected,
                    ..
                } => {
                    // The after-image follows from the write; rollback compares with it.
                    if *expected != sharedbox_tenant::expected(operation) {
                        at(
                            line,
                            format!(
                                "the `expected` value of step {step} is not what its `operation` writes"
                            ),
                        );
                    }
                    // Older sharedbox versions send the inverse: it must write what the step
                    // wrote, nothing else (a forged inverse could delete any mailbox). This
                    // version derives its undo and only checks it against the inverse.
                    if let Some(inverse) = inverse
                        && sharedbox_tenant::target(inverse) != sharedbox_tenant::target(operation)
                    {
                        at(
                            line,
                            format!(
                                "the `inverse` of step {step} (`{}`) does not write what the step wrote (`{}`)",
                                inverse.cmdlet(),
                                operation.cmdlet()
                            ),
                        );
                    }
                    if kind == Some(RunKind::Rollback) {
                        at(line, "an `intent` in the journal of a rollback".to_owned());
                    } else if intents.contains(step) {
                        at(line, format!("a second `intent` of step {step}"));
                    }
                    intents.push(*step);
                }
                Record::Outcome { step, .. } => {
                    if !intents.contains(step) {
                        at(
                            line,
                            format!("the `outcome` of step {step}, which has no `intent`"),
                        );
                    }
                }
                Record::End { .. } | Record::Stopped { .. } => ended = true,
                Record::UndoIntent { .. } | Record::Undo { .. } => {}
            }
        }
        if self.records.is_empty() {
            // Only damaged lines: the first of them is already a problem, unless the only
            // line was cut off.
            if self.problems.is_empty() {
                self.problems.push(Problem {
                    line: self.cut_off,
                    message: "no complete record: not a sharedbox journal".to_owned(),
                });
            }
        }
        self.problems.extend(problems);
        self.problems.sort_by_key(|p| p.line);
    }

    /// The journal format of the start record; `None` before format 1 or without a start.
    pub fn format_version(&self) -> Option<u32> {
        match self.start() {
            Some(Record::Start { format_version, .. }) => *format_version,
            _ => None,
        }
    }

    /// Reads the run `run_id` from `state_dir`.
    pub fn find(state_dir: &Path, run_id: &str) -> Result<RunLog, JournalError> {
        if !RunLog::is_run_id(run_id) {
            return Err(JournalError::NotFound(run_id.to_owned()));
        }
        let path = run_path(state_dir, run_id);
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(JournalError::NotFound(run_id.to_owned()));
        }
        RunLog::read(&path)
    }

    /// Every `.jsonl` file under `state_dir/runs`, oldest run first (by start time). Files
    /// that are not journals are included, with their problems, last.
    pub fn all(state_dir: &Path) -> Result<Vec<RunLog>, JournalError> {
        let dir = state_dir.join("runs");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(JournalError::Io { path: dir, source }),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        paths.sort();
        let mut logs = paths
            .iter()
            .map(|p| RunLog::read(p))
            .collect::<Result<Vec<_>, _>>()?;
        RunLog::sort_by_start(&mut logs);
        Ok(logs)
    }

    /// Puts runs in the order they started (to the nanosecond since journal format 1; run ids
    /// of one second do not sort by time), journals without a readable start last.
    pub fn sort_by_start(logs: &mut [RunLog]) {
        logs.sort_by_cached_key(|log| (log.started().is_none(), log.started()));
    }

    /// Whether `run_id` can name a journal: not empty, no path separator, no leading dot.
    pub fn is_run_id(run_id: &str) -> bool {
        !(run_id.is_empty() || run_id.contains(['/', '\\']) || run_id.starts_with('.'))
    }

    /// The start record.
    pub fn start(&self) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| matches!(r, Record::Start { .. }))
    }

    /// The outcome, `None` for a run that did not finish (crashed or still running).
    pub fn outcome(&self) -> Option<RunOutcome> {
        self.records.iter().rev().find_map(|r| match r {
            Record::End { outcome, .. } => Some(*outcome),
            _ => None,
        })
    }

    /// The steps with an intent, with whether their write succeeded (`None`: unknown, the
    /// run stopped between intent and outcome).
    pub fn steps(&self) -> Vec<JournaledStep> {
        let mut steps: Vec<JournaledStep> = Vec::new();
        for record in &self.records {
            match record {
                Record::Intent {
                    step,
                    field,
                    operation,
                    inverse,
                    before,
                    expected,
                    shown,
                } => steps.push(JournaledStep {
                    step: *step,
                    field: field.clone(),
                    operation: operation.clone(),
                    inverse: inverse.clone(),
                    before: before.clone(),
                    expected: expected.clone(),
                    shown: shown.as_deref().cloned(),
                    ok: None,
                    error: None,
                    undo: None,
                }),
                Record::Outcome { step, ok, error } => {
                    if let Some(s) = steps.iter_mut().rev().find(|s| s.step == *step) {
                        s.ok = Some(*ok);
                        s.error = error.clone();
                    }
                }
                Record::Undo { step, status, .. } => {
                    if let Some(s) = steps.iter_mut().rev().find(|s| s.step == *step) {
                        s.undo = Some(*status);
                    }
                }
                Record::Start { .. }
                | Record::End { .. }
                | Record::Stopped { .. }
                | Record::UndoIntent { .. } => {}
            }
        }
        steps
    }
}

/// How the undo decisions journaled by a run came out (a rollback run, or the automatic
/// rollback of a failed apply).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UndoCounts {
    /// Steps reverted.
    pub reverted: usize,
    /// Steps with nothing to undo.
    pub skipped: usize,
    /// Steps left alone: changed by someone else since.
    pub conflicts: usize,
    /// Steps that cannot be undone.
    pub irreversible: usize,
    /// Undo writes that failed.
    pub failed: usize,
    /// Undo writes announced without a recorded result (the run stopped).
    pub unknown: usize,
}

impl RunLog {
    /// Counts the undo decisions of this run.
    pub fn undo_counts(&self) -> UndoCounts {
        let mut counts = UndoCounts::default();
        let mut pending: Vec<usize> = Vec::new();
        for record in &self.records {
            match record {
                Record::UndoIntent { step, .. } => pending.push(*step),
                Record::Undo { step, status, .. } => {
                    if let Some(at) = pending.iter().position(|s| s == step) {
                        pending.swap_remove(at);
                    }
                    match status {
                        UndoStatus::Reverted => counts.reverted += 1,
                        UndoStatus::Skipped => counts.skipped += 1,
                        UndoStatus::Conflict => counts.conflicts += 1,
                        UndoStatus::Irreversible => counts.irreversible += 1,
                        UndoStatus::Failed => counts.failed += 1,
                    }
                }
                _ => {}
            }
        }
        counts.unknown = pending.len();
        counts
    }

    /// The start time of the run, when its start record has a readable one.
    pub fn started(&self) -> Option<time::OffsetDateTime> {
        match self.start() {
            Some(Record::Start { at, .. }) => {
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
            }
            _ => None,
        }
    }
}

/// A step as the journal records it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournaledStep {
    /// 1-based step number.
    pub step: usize,
    /// The policy field.
    pub field: String,
    /// The write.
    pub operation: Operation,
    /// Its undo as journaled: a cross-check of the undo derived from `operation` and
    /// `before`, and the source of a FullAccess re-grant's `autoMapping`.
    pub inverse: Option<Operation>,
    /// Before-image: what rollback puts back.
    pub before: Observation,
    /// Expected after-image.
    pub expected: Observation,
    /// The step as the plan showed it, when the journal kept it ([`JournaledStep::shown`]
    /// falls back to deriving it).
    pub shown: Option<Shown>,
    /// `Some(true)` succeeded, `Some(false)` failed, `None` unknown (crash).
    pub ok: Option<bool>,
    /// The error of a failed write.
    pub error: Option<String>,
    /// The last undo decision recorded for it.
    pub undo: Option<UndoStatus>,
}

impl JournaledStep {
    /// The step as the plan showed it: as journaled, else derived from the write and its
    /// before-image ([`Shown::derive`]).
    pub fn shown(&self) -> Shown {
        self.shown
            .clone()
            .unwrap_or_else(|| Shown::derive(&self.operation, &self.before))
    }
}

/// The journal path of `run_id`.
pub fn run_path(state_dir: &Path, run_id: &str) -> PathBuf {
    state_dir.join("runs").join(format!("{run_id}.jsonl"))
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Now, as RFC 3339 UTC with nanoseconds: the start time of a run, which orders runs.
pub fn now_rfc3339_precise() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A new run id: UTC time and a random suffix, sortable by time.
pub fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = now.format(&format).unwrap_or_default();
    let entropy = u64::from(now.nanosecond()) ^ (u64::from(std::process::id()) << 32);
    format!("{stamp}-{:06x}", entropy % 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_larger_than_the_bound_is_listed_as_damaged_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = run_path(dir.path(), "huge");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Sparse: no disk is used, but the size is past the bound.
        File::create(&path)
            .unwrap()
            .set_len(MAX_JOURNAL_BYTES + 1)
            .unwrap();
        let log = RunLog::read(&path).unwrap();
        assert!(log.records.is_empty());
        assert!(
            log.problems
                .iter()
                .any(|p| p.message.contains("larger than")),
            "{:?}",
            log.problems
        );
    }

    #[test]
    fn a_truncated_last_line_is_skipped_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::create(dir.path(), "r1").unwrap();
        journal
            .write(&Record::Outcome {
                step: 1,
                ok: true,
                error: None,
            })
            .unwrap();
        journal
            .write(&Record::End {
                outcome: RunOutcome::Succeeded,
                at: now_rfc3339(),
            })
            .unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(journal.path().unwrap())
            .unwrap();
        file.write_all(b"{\"type\":\"outcome\",\"st").unwrap();
        let log = RunLog::find(dir.path(), "r1").unwrap();
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.damaged_lines, 1);
        assert_eq!(log.outcome(), Some(RunOutcome::Succeeded));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(journal.path().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            RunLog::find(dir.path(), "../r1"),
            Err(JournalError::NotFound(_))
        ));
    }

    #[test]
    fn run_ids_sort_by_time() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261122T114400Z-".len() + 6, "{id}");
        assert!(id.starts_with("20"), "{id}");
    }

    fn start_line(run_id: &str) -> String {
        serde_json::to_string(&Record::Start {
            format_version: Some(FORMAT_VERSION),
            run_id: run_id.to_owned(),
            kind: RunKind::Apply,
            backend: Some("file".to_owned()),
            tenant: "contoso".to_owned(),
            at: now_rfc3339_precise(),
            actor: Actor::current(),
            plan_id: None,
            rollback_of: None,
            steps: 1,
            policy_commit: None,
            heal: false,
        })
        .unwrap()
    }

    fn end_line() -> String {
        serde_json::to_string(&Record::End {
            outcome: RunOutcome::Succeeded,
            at: now_rfc3339(),
        })
        .unwrap()
    }

    fn problem_lines(log: &RunLog) -> Vec<Option<usize>> {
        log.problems.iter().map(|p| p.line).collect()
    }

    #[test]
    fn only_a_cut_off_last_line_is_not_damage() {
        let start = start_line("r1");
        let end = end_line();
        let cut = &end[..end.len() / 2];
        // Cut off: the last line, without its newline.
        let log = RunLog::parse("r1".into(), format!("{start}\n{cut}").as_bytes());
        assert_eq!((log.cut_off, log.problems.clone()), (Some(2), vec![]));
        // The same line with its newline was written whole: damage.
        let log = RunLog::parse("r1".into(), format!("{start}\n{cut}\n").as_bytes());
        assert_eq!(log.cut_off, None);
        assert_eq!(problem_lines(&log), vec![Some(2)]);
        // A damaged line in the middle is damage, whatever follows.
        let log = RunLog::parse("r1".into(), format!("{start}\n{cut}\n{end}\n").as_bytes());
        assert_eq!(problem_lines(&log), vec![Some(2)]);
        assert!(
            log.problems[0]
                .to_string()
                .starts_with("line 2: not a journal record"),
            "{}",
            log.problems[0]
        );
        let log = RunLog::parse("r1".into(), format!("{start}\n{end}\n").as_bytes());
        assert_eq!(log.problems, vec![]);
        assert_eq!(log.format_version(), Some(FORMAT_VERSION));
        assert!(log.started().is_some());
    }

    #[test]
    fn records_out_of_place_are_damage() {
        let start = start_line("r1");
        let end = end_line();
        let outcome = r#"{"type":"outcome","step":1,"ok":true,"error":null}"#;
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "the file is empty"),
            ("\n  \n".to_owned(), "the file is empty"),
            ("{\"hello\":1}\n".to_owned(), "line 1: not a journal record"),
            (
                format!("{end}\n"),
                "line 1: the first record is not a `start` record",
            ),
            (
                format!("{start}\n{start}\n"),
                "line 2: a second `start` record",
            ),
            (
                format!("{start}\n{end}\n{end}\n"),
                "line 3: a record after the `end` record",
            ),
            (
                format!("{start}\n{outcome}\n"),
                "line 2: the `outcome` of step 1, which has no `intent`",
            ),
            (
                start_line("r2") + "\n",
                "line 1: the `start` record names run `r2`, but the file is `r1.jsonl`",
            ),
            (
                start.replace(",\"backend\":\"file\"", "") + "\n",
                "line 1: the `start` record has no `backend`",
            ),
        ];
        for (text, expected) in cases {
            let log = RunLog::parse("r1".into(), text.as_bytes());
            assert!(
                log.problems
                    .iter()
                    .any(|p| p.to_string().starts_with(expected)),
                "{text:?}: {:?}",
                log.problems
            );
        }
        // Journals written before format 1 read without damage; they have no version.
        let old = start
            .replace(",\"backend\":\"file\"", "")
            .replace(&format!("\"format_version\":{FORMAT_VERSION},"), "");
        let log = RunLog::parse("r1".into(), format!("{old}\n{end}\n").as_bytes());
        assert_eq!((log.problems.clone(), log.format_version()), (vec![], None));
    }

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(printable("a\u{1b}[2Jb", 20), "a\\u{1b}[2Jb");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    mod damaged {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// A journal damaged in any way (a crash, a disk error, an edit) is read without
            /// panicking: every line is a record or counted as damaged.
            #[test]
            fn any_bytes_read_as_records_and_damaged_lines(
                lines in proptest::collection::vec(
                    prop_oneof![
                        proptest::collection::vec(any::<u8>(), 0..80),
                        "\\{\"(seq|kind|op|run_id)\":[0-9a-z\\[\\]{}\",:]{0,40}"
                            .prop_map(String::into_bytes),
                    ],
                    0..20,
                )
            ) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("run.jsonl");
                std::fs::write(&path, lines.join(&b'\n')).unwrap();
                let log = RunLog::read(&path).unwrap();
                let non_blank = lines
                    .iter()
                    .flat_map(|l| l.split(|b| *b == b'\n'))
                    .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                    .count();
                prop_assert_eq!(log.records.len() + log.damaged_lines, non_blank);
                // Damage is on a line of the file; only the last line can be cut off, and
                // only when the file does not end with a newline.
                let text = lines.join(&b'\n');
                let count = text.split(|b| *b == b'\n').count();
                for problem in &log.problems {
                    prop_assert!(problem.line.is_none_or(|l| (1..=count).contains(&l)));
                }
                if let Some(line) = log.cut_off {
                    prop_assert_eq!(line, count);
                    prop_assert!(text.last() != Some(&b'\n'));
                }
                prop_assert_eq!(
                    log.damaged_lines,
                    usize::from(log.cut_off.is_some())
                        + log.problems.iter().filter(|p| p.message.starts_with("not a journal record")).count()
                );
            }
        }
    }
}
