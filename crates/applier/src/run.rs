//! Applying a plan: guards, waves, journal, automatic rollback, verification.

use std::collections::HashMap;
use std::time::Duration;

use sharedbox_planner::{Change, Plan};
use sharedbox_tenant::{
    Mailbox, NoUndo, Observation, Operation, ReadScope, Snapshot, Tenant, TenantError, agrees,
    expected, holds_no_grants, observe, observe_with_created, printable, same_value, summarised,
    target, with_recorded,
};

use crate::journal::{
    Journal, JournalError, JournaledStep, Record, RunOutcome, Shown, UndoStatus, now_rfc3339,
};
use crate::retry::{self, Retry};

/// Limits and switches of one apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Allow `Remove-Mailbox` for mailboxes with `ensure: absent`.
    pub allow_destroy: bool,
    /// Refuse a plan with more revocations than this.
    pub max_removals: usize,
    /// Undo the completed steps when a step fails.
    pub rollback_on_failure: bool,
    /// How long to wait for new mailboxes to become readable.
    pub create_timeout: Duration,
    /// How long to re-read changed objects until they show the change.
    pub verify_timeout: Duration,
    /// How often to poll while waiting or verifying.
    pub poll_interval: Duration,
    /// How throttled or transient failures are tried again (permanent ones never are).
    pub retry: Retry,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            allow_destroy: false,
            max_removals: 25,
            rollback_on_failure: true,
            create_timeout: Duration::from_secs(300),
            verify_timeout: Duration::from_secs(180),
            poll_interval: Duration::from_secs(2),
            retry: Retry::default(),
        }
    }
}

/// Something that happened during a run, for progress output.
#[derive(Debug)]
pub enum Event<'a> {
    /// A step is about to be sent: its intent is journaled, its outcome not yet known.
    Started {
        /// 1-based position.
        step: usize,
        /// Number of steps.
        total: usize,
        /// The change.
        change: &'a Change,
    },
    /// The step succeeded. Every step of a round is [`Event::Started`] before the round is
    /// sent, so the outcomes name their step.
    Succeeded {
        /// 1-based position.
        step: usize,
        /// Number of steps.
        total: usize,
        /// The change.
        change: &'a Change,
    },
    /// The step failed; the run stops after its round.
    Failed {
        /// 1-based position.
        step: usize,
        /// Number of steps.
        total: usize,
        /// The change.
        change: &'a Change,
        /// Why.
        error: &'a TenantError,
    },
    /// Waiting for new mailboxes to become readable.
    WaitingForMailboxes {
        /// Their addresses.
        mailboxes: &'a [String],
    },
    /// The completed steps are being undone.
    RollingBack,
    /// One undo decision.
    Undone(&'a UndoItem),
    /// Re-reading the tenant to verify.
    Verifying,
}

/// Why an apply did not start or could not keep its record.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan deletes mailboxes and `allow_destroy` is off.
    #[error("the plan deletes {} mailbox(es) ({}) and `--allow-destroy` was not given", .0.len(), summarised(.0))]
    DestroyNotAllowed(Vec<String>),
    /// The plan takes away more than `max_removals` grants (revocations, and the grants on
    /// mailboxes it deletes).
    #[error(
        "the plan takes away {count} grants (revocations and grants on deleted mailboxes), more than the limit of {limit}"
    )]
    TooManyRemovals {
        /// Revocations in the plan.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The journal could not be written: the run stopped before the next write.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl miette::Diagnostic for ApplyError {
    /// A hint for the user.
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            ApplyError::DestroyNotAllowed(_) => "review the deletions; pass `--allow-destroy` to delete mailboxes with `ensure: absent`".to_owned(),
            ApplyError::TooManyRemovals { count, .. } => format!("review the revocations; pass `--max-removals {count}` if they are intended"),
            ApplyError::Journal(_) => "sharedbox stops when it cannot record a write; check the state folder, then `sharedbox runs` and `sharedbox rollback`".to_owned(),
        }))
    }
}

/// One undo decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoItem {
    /// The step undone.
    pub step: usize,
    /// The policy field.
    pub field: String,
    /// The step's write.
    pub operation: Operation,
    /// What was decided.
    pub status: UndoStatus,
    /// Why, where it needs saying.
    pub detail: Option<String>,
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Changes seen in the tenant.
    pub verified: usize,
    /// Changes applied but not visible yet when the time was up, with what is seen now.
    pub not_visible: Vec<(String, Operation, Observation)>,
}

/// What an apply did.
#[derive(Debug)]
pub struct ApplyReport {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// Steps that succeeded.
    pub applied: usize,
    /// The step that failed: its number, field, write and error.
    pub failed: Option<(usize, String, Operation, String)>,
    /// Steps that did not run.
    pub not_run: usize,
    /// Undo decisions of the automatic rollback, newest step first.
    pub undo: Vec<UndoItem>,
    /// The verification after a successful run.
    pub verification: Option<VerifyReport>,
}

/// Checks the guards that must hold before anything is written.
///
/// # Errors
/// [`ApplyError::DestroyNotAllowed`] and [`ApplyError::TooManyRemovals`].
pub fn check_guards(plan: &Plan, options: &ApplyOptions) -> Result<(), ApplyError> {
    let deletes: Vec<String> = plan
        .ordered_changes()
        .iter()
        .filter_map(|c| match &c.operation {
            Operation::RemoveMailbox { mailbox, .. } => Some(mailbox.clone()),
            _ => None,
        })
        .collect();
    if !deletes.is_empty() && !options.allow_destroy {
        return Err(ApplyError::DestroyNotAllowed(deletes));
    }
    let count = plan.revocations();
    if count > options.max_removals {
        return Err(ApplyError::TooManyRemovals {
            count,
            limit: options.max_removals,
        });
    }
    Ok(())
}

/// The mailboxes a set of operations touches, with the root folder of each whose root a
/// write touches ([`ReadScope::with_roots_of`]) and the automatic replies of each whose
/// automatic replies a write changes ([`ReadScope::with_auto_replies_of`]).
pub(crate) fn scope_of<'a>(operations: impl Iterator<Item = &'a Operation> + Clone) -> ReadScope {
    let mut mailboxes: Vec<String> = operations
        .clone()
        .filter_map(|o| o.mailbox().map(str::to_owned))
        .collect();
    mailboxes.sort();
    mailboxes.dedup();
    ReadScope::of(mailboxes)
        .with_roots_of(operations.clone())
        .with_auto_replies_of(operations)
}

/// Applies `plan` to `tenant`, journaling into `journal` (whose `Start` record the caller
/// wrote). `snapshot` is the state the plan was made from (it gives the before-images); it
/// is dropped once the last round is sent, before verification reads the tenant again.
///
/// # Guarantees
/// See the crate documentation. The journal gets an `End` record unless journaling fails.
///
/// # Errors
/// A guard refused the plan (nothing written), or the journal could not be written (the run
/// stopped before the next write).
pub async fn apply(
    tenant: &dyn Tenant,
    plan: &Plan,
    snapshot: Snapshot,
    journal: &mut Journal,
    options: &ApplyOptions,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<ApplyReport, ApplyError> {
    check_guards(plan, options)?;
    let changes = plan.ordered_changes();
    let total = changes.len();
    let mut report = ApplyReport {
        outcome: RunOutcome::Succeeded,
        applied: 0,
        failed: None,
        not_run: 0,
        undo: Vec::new(),
        verification: None,
    };
    let mut now: HashMap<String, Observation> = HashMap::new();
    let mut done: Vec<JournaledStep> = Vec::new();
    // Before-images of steps on a mailbox this run creates are taken from the mailbox as
    // `New-Mailbox` makes it, not from the plan's snapshot (where it does not exist). The
    // snapshot itself is not copied: at 10,000 mailboxes a copy is the size of the plan.
    let mut made: Vec<Mailbox> = Vec::new();
    let mut executed = 0;
    for wave in waves(&changes) {
        let mut created: Vec<String> = Vec::new();
        for round in rounds(&changes, wave) {
            let mut intents = Vec::with_capacity(round.len());
            let mut steps = Vec::with_capacity(round.len());
            for &i in &round {
                let change = changes[i];
                let before = now
                    .get(&target(&change.operation))
                    .cloned()
                    .unwrap_or_else(|| observe_with_created(&snapshot, &made, &change.operation));
                let after = expected(&change.operation);
                intents.push(Record::Intent {
                    step: i + 1,
                    field: change.field.clone(),
                    operation: change.operation.clone(),
                    inverse: change.inverse.clone(),
                    before: before.clone(),
                    expected: after.clone(),
                    shown: Some(Box::new(Shown::of(change))),
                });
                steps.push(JournaledStep {
                    step: i + 1,
                    field: change.field.clone(),
                    operation: change.operation.clone(),
                    inverse: change.inverse.clone(),
                    before,
                    expected: after,
                    shown: Some(Shown::of(change)),
                    ok: None,
                    error: None,
                    undo: None,
                });
            }
            journal.write_all(&intents)?;
            for &i in &round {
                on_event(Event::Started {
                    step: i + 1,
                    total,
                    change: changes[i],
                });
            }
            let operations: Vec<Operation> = round
                .iter()
                .map(|&i| changes[i].operation.clone())
                .collect();
            let results = retry::execute_all(tenant, &operations, &options.retry).await;
            executed += round.len();
            let outcomes: Vec<Record> = steps
                .iter()
                .zip(&results)
                .map(|(s, result)| Record::Outcome {
                    step: s.step,
                    ok: result.is_ok(),
                    error: result.as_ref().err().map(ToString::to_string),
                })
                .collect();
            journal.write_all(&outcomes)?;
            let mut failure = None;
            for ((&i, mut journaled), result) in round.iter().zip(steps).zip(results) {
                let change = changes[i];
                journaled.ok = Some(result.is_ok());
                match result {
                    Ok(()) => {
                        on_event(Event::Succeeded {
                            step: i + 1,
                            total,
                            change,
                        });
                        report.applied += 1;
                        now.insert(target(&change.operation), journaled.expected.clone());
                        if let Operation::CreateMailbox {
                            mailbox,
                            display_name,
                        } = &change.operation
                        {
                            created.push(mailbox.clone());
                            made.push(Mailbox::new_shared(mailbox, display_name));
                        }
                    }
                    Err(error) => {
                        on_event(Event::Failed {
                            step: i + 1,
                            total,
                            change,
                            error: &error,
                        });
                        failure.get_or_insert((
                            i + 1,
                            change.field.clone(),
                            change.operation.clone(),
                            error.to_string(),
                        ));
                    }
                }
                done.push(journaled);
            }
            if let Some(failed) = failure {
                report.failed = Some(failed);
                report.not_run = total - executed;
                finish_failed(tenant, journal, options, &mut report, &done, &mut on_event).await?;
                return Ok(report);
            }
        }
        if !created.is_empty() {
            on_event(Event::WaitingForMailboxes {
                mailboxes: &created,
            });
            let readable = wait_until_readable(tenant, &created, options).await;
            if !matches!(readable, Ok(true)) {
                let error = match readable {
                    Err(e) => format!(
                        "new mailbox(es) {} could not be read: {e}",
                        summarised(&created)
                    ),
                    Ok(_) => format!(
                        "new mailbox(es) {} were not readable after {:?}",
                        summarised(&created),
                        options.create_timeout
                    ),
                };
                let last = done
                    .last()
                    .map(|s| (s.step, s.field.clone(), s.operation.clone()));
                if let Some((step, field, operation)) = last {
                    report.failed = Some((step, field, operation, error));
                }
                report.not_run = total - executed;
                finish_failed(tenant, journal, options, &mut report, &done, &mut on_event).await?;
                return Ok(report);
            }
        }
    }
    drop(snapshot);
    on_event(Event::Verifying);
    report.verification = Some(verify(tenant, &done, options).await);
    journal.write(&Record::End {
        outcome: RunOutcome::Succeeded,
        at: now_rfc3339(),
    })?;
    Ok(report)
}

/// The most steps sent to the tenant together.
const ROUND: usize = 500;

/// The index ranges of `changes` (ordered by wave) that share a wave.
fn waves(changes: &[&Change]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        match out.last_mut() {
            Some(last) if changes[last.start].wave == change.wave => last.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Splits one wave into rounds that may run together: at most one step per mailbox (so
/// the steps on one mailbox keep their order), except that a mailbox's consecutive
/// automatic-reply settings go together (one `Set-MailboxAutoReplyConfiguration`,
/// [`Tenant::execute_all`]), and at most [`ROUND`] steps. Each round lists its steps in
/// plan order.
fn rounds(changes: &[&Change], wave: std::ops::Range<usize>) -> Vec<Vec<usize>> {
    let mut queues: Vec<std::collections::VecDeque<usize>> = Vec::new();
    let mut queue_of: HashMap<String, usize> = HashMap::new();
    for i in wave {
        let key = changes[i]
            .operation
            .mailbox()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let q = *queue_of.entry(key).or_insert_with(|| {
            queues.push(Default::default());
            queues.len() - 1
        });
        queues[q].push_back(i);
    }
    let mut rounds = Vec::new();
    loop {
        let mut round = Vec::new();
        for queue in &mut queues {
            if round.len() == ROUND {
                break;
            }
            if let Some(i) = queue.pop_front() {
                round.push(i);
                if changes[i].operation.is_auto_reply() {
                    while let Some(&next) = queue.front() {
                        if !changes[next].operation.is_auto_reply() {
                            break;
                        }
                        round.push(next);
                        queue.pop_front();
                    }
                }
            }
        }
        if round.is_empty() {
            return rounds;
        }
        round.sort_unstable();
        rounds.push(round);
    }
}

async fn finish_failed(
    tenant: &dyn Tenant,
    journal: &mut Journal,
    options: &ApplyOptions,
    report: &mut ApplyReport,
    done: &[JournaledStep],
    on_event: &mut impl FnMut(Event<'_>),
) -> Result<(), ApplyError> {
    report.outcome = if options.rollback_on_failure {
        on_event(Event::RollingBack);
        report.undo = undo(tenant, done, journal, &options.retry, |item| {
            on_event(Event::Undone(item))
        })
        .await?;
        if report
            .undo
            .iter()
            .any(|u| matches!(u.status, UndoStatus::Conflict | UndoStatus::Failed))
        {
            RunOutcome::RollbackIncomplete
        } else {
            RunOutcome::RolledBack
        }
    } else {
        RunOutcome::Failed
    };
    journal.write(&Record::End {
        outcome: report.outcome,
        at: now_rfc3339(),
    })?;
    Ok(())
}

/// Undoes `steps` newest first, journaling each decision.
///
/// Per step: the value now equals what the step set -> write it back to the journaled
/// before-image ([`undo_write`]); equals what was there before -> skip; anything else ->
/// conflict, left alone. A created mailbox is removed only when it holds no grants any more;
/// steps whose before-image cannot be written back are reported as irreversible.
/// Reads and inverses that fail retryably are tried again as `retry` says.
pub(crate) async fn undo(
    tenant: &dyn Tenant,
    steps: &[JournaledStep],
    journal: &mut Journal,
    retry: &Retry,
    mut on_item: impl FnMut(&UndoItem),
) -> Result<Vec<UndoItem>, JournalError> {
    let scope = scope_of(steps.iter().map(|s| &s.operation));
    let mut items = Vec::new();
    let snapshot = match retry::read(tenant, &scope, retry).await {
        Ok(s) => s,
        Err(e) => {
            for s in steps.iter().rev() {
                let item = UndoItem {
                    step: s.step,
                    field: s.field.clone(),
                    operation: s.operation.clone(),
                    status: UndoStatus::Failed,
                    detail: Some(format!("the tenant could not be read: {e}")),
                };
                journal.write(&Record::Undo {
                    step: s.step,
                    status: item.status,
                    operation: None,
                    detail: item.detail.clone(),
                })?;
                on_item(&item);
                items.push(item);
            }
            return Ok(items);
        }
    };
    let created_in_run: Vec<&str> = steps
        .iter()
        .filter_map(|s| match &s.operation {
            Operation::CreateMailbox { mailbox, .. } => Some(mailbox.as_str()),
            _ => None,
        })
        .collect();
    // One queue per mailbox, newest step first. A round takes the next step of every
    // mailbox and executes its writes together (`execute_all`: `$batch`ed on Exchange
    // Online, one file write on the file backend); a mailbox's steps stay in reverse order,
    // and each decision sees the outcome of the mailbox's earlier undos.
    let mut queues: Vec<std::collections::VecDeque<&JournaledStep>> = Vec::new();
    let mut queue_of: HashMap<String, usize> = HashMap::new();
    for s in steps.iter().rev() {
        let group = s
            .operation
            .mailbox()
            .map_or_else(|| "organization".to_owned(), str::to_ascii_lowercase);
        let at = *queue_of.entry(group).or_insert_with(|| {
            queues.push(std::collections::VecDeque::new());
            queues.len() - 1
        });
        queues[at].push_back(s);
    }
    let mut now: HashMap<String, Observation> = HashMap::new();
    loop {
        // A mailbox's consecutive automatic-reply steps are undone together (one
        // `Set-MailboxAutoReplyConfiguration` with every before-image).
        let mut round: Vec<&JournaledStep> = Vec::new();
        for queue in &mut queues {
            let Some(s) = queue.pop_front() else { continue };
            round.push(s);
            if s.operation.is_auto_reply() {
                while queue.front().is_some_and(|n| n.operation.is_auto_reply()) {
                    round.extend(queue.pop_front());
                }
            }
        }
        if round.is_empty() {
            break;
        }
        let mut decided = Vec::with_capacity(round.len());
        let mut writes = Vec::new();
        for s in round {
            let current = now
                .get(&target(&s.operation))
                .cloned()
                .unwrap_or_else(|| observe(&snapshot, &s.operation));
            let created_here = s
                .operation
                .mailbox()
                .is_some_and(|m| created_in_run.iter().any(|c| c.eq_ignore_ascii_case(m)));
            let decision = if current == Observation::Exists(false)
                && matches!(s.operation, Operation::CreateMailbox { .. })
                && s.ok == Some(true)
            {
                // Created for sure, but not readable: Exchange may not show a new mailbox for
                // a while. Calling that "as before" would report a tenant restored while the
                // mailbox appears later; a human must look, or run the rollback again.
                Some((
                    UndoStatus::Failed,
                    Some("the mailbox this run created is not readable (not yet replicated, or deleted since); run the rollback again later to remove it".to_owned()),
                ))
            } else if current == Observation::MailboxMissing && created_here {
                Some((
                    UndoStatus::Skipped,
                    Some("the mailbox this run created is gone".to_owned()),
                ))
            } else if same_value(&s.operation, &current, &s.expected)
                && !same_value(&s.operation, &current, &s.before)
            {
                match undo_write(s) {
                    Err((status, reason)) => Some((status, Some(reason))),
                    Ok(write) => match blocks_mailbox_removal(tenant, &write).await {
                        Some(reason) => Some((UndoStatus::Conflict, Some(reason))),
                        None => {
                            writes.push(write);
                            None
                        }
                    },
                }
            } else if same_value(&s.operation, &current, &s.before) {
                Some((UndoStatus::Skipped, None))
            } else {
                Some((
                    UndoStatus::Conflict,
                    Some(format!(
                        "changed by someone else since: now {}, the run set {}",
                        current, s.expected
                    )),
                ))
            };
            decided.push((s, decision));
        }
        let undo_intents: Vec<Record> = decided
            .iter()
            .filter(|(_, decision)| decision.is_none())
            .zip(&writes)
            .map(|((s, _), write)| Record::UndoIntent {
                step: s.step,
                operation: write.clone(),
            })
            .collect();
        journal.write_all(&undo_intents)?;
        let mut results = Vec::with_capacity(writes.len());
        for chunk in writes.chunks(ROUND) {
            results.extend(retry::execute_all(tenant, chunk, retry).await);
        }
        let mut results = results.into_iter();
        let mut sent = writes.into_iter();
        for (s, decision) in decided {
            let (status, detail, write) = match decision {
                Some((status, detail)) => (status, detail, None),
                None => {
                    let write = sent.next();
                    match results.next() {
                        Some(Ok(())) => (UndoStatus::Reverted, None, write),
                        Some(Err(e)) => (UndoStatus::Failed, Some(e.to_string()), write),
                        None => (
                            UndoStatus::Failed,
                            Some("the backend returned no result for this write".to_owned()),
                            write,
                        ),
                    }
                }
            };
            if status == UndoStatus::Reverted {
                now.insert(target(&s.operation), s.before.clone());
            }
            journal.write(&Record::Undo {
                step: s.step,
                status,
                operation: write,
                detail: detail.clone(),
            })?;
            let item = UndoItem {
                step: s.step,
                field: s.field.clone(),
                operation: s.operation.clone(),
                status,
                detail,
            };
            on_item(&item);
            items.push(item);
        }
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.step));
    Ok(items)
}

/// Why a `RemoveMailbox` that undoes a create must not run: the mailbox holds grants.
async fn blocks_mailbox_removal(tenant: &dyn Tenant, write: &Operation) -> Option<String> {
    let Operation::RemoveMailbox { mailbox, .. } = write else {
        return None;
    };
    let scope = ReadScope::of(vec![mailbox.clone()]);
    match tenant.read(&scope).await {
        Ok(snapshot) => match snapshot.mailbox(mailbox) {
            Some(m) if !holds_no_grants(m) => Some(
                "the mailbox this run created holds grants now; it is left in place".to_owned(),
            ),
            _ => None,
        },
        Err(e) => Some(format!(
            "the mailbox could not be read before removing it: {e}"
        )),
    }
}

/// The write that undoes step `s`, or the decision not to write and why.
///
/// The write is derived from the step's operation and its journaled before-image
/// ([`sharedbox_tenant::undo()`]), never taken from the journal's `inverse`: a journal is
/// outside input and may be stale or forged. The `inverse` (which journals keep writing for
/// older sharedbox versions) is a cross-check: when it is not the derived write, the step is a
/// conflict and nothing is written. It supplies one thing, the `autoMapping` of a FullAccess
/// re-grant, which no before-image holds (Exchange never reports it).
fn undo_write(s: &JournaledStep) -> Result<Operation, (UndoStatus, String)> {
    match sharedbox_tenant::undo(&s.operation, &s.before) {
        Ok(Some(write)) if agrees(Some(&write), s.inverse.as_ref()) => {
            Ok(with_recorded(write, s.inverse.as_ref()))
        }
        Ok(Some(write)) => Err((
            UndoStatus::Conflict,
            format!(
                "the journal's `inverse` of this step ({}) is not the write that puts back the value before it ({}): nothing was written, the journal is not trusted for this step",
                s.inverse.as_ref().map_or_else(|| "none".to_owned(), shown),
                shown(&write)
            ),
        )),
        // The value before is the value now: nothing to put back. (Not reached: the caller
        // skips a step whose value is as before.)
        Ok(None) => Err((
            UndoStatus::Skipped,
            "the value before the step is what it wrote".to_owned(),
        )),
        Err(reason @ NoUndo::Invalid { .. }) => Err((
            UndoStatus::Conflict,
            format!("{reason}: nothing was written, the journal is not trusted for this step"),
        )),
        Err(reason) => Err((UndoStatus::Irreversible, reason.to_string())),
    }
}

/// A write as a conflict message names it: its cmdlet and what it writes, printable (it may
/// come from a forged journal).
fn shown(operation: &Operation) -> String {
    let what = match operation {
        Operation::SetMailbox { setting, .. } => format!(
            "-{} {}",
            setting.definition().parameter,
            serde_json::Value::from(&setting.value)
        ),
        Operation::SetOrganization { setting } => format!(
            "-{} {}",
            setting.property.definition().parameter,
            serde_json::Value::from(&setting.value)
        ),
        Operation::AddSentItemsPermission {
            principal, access, ..
        }
        | Operation::SetSentItemsPermission {
            principal, access, ..
        } => format!("{} {access}", principal.label()),
        Operation::GrantRootVisibility { principal, .. } => {
            format!("{} FolderVisible on the mailbox root", principal.label())
        }
        Operation::RevokeRootVisibility { principal, .. } => {
            format!("{} on the mailbox root", principal.label())
        }
        Operation::AddToList {
            list, principal, ..
        }
        | Operation::RemoveFromList {
            list, principal, ..
        } => format!("{list:?} {}", principal.label()),
        Operation::AddAlias { address, .. } => {
            format!("-EmailAddresses @{{Add=\"smtp:{address}\"}}")
        }
        Operation::RemoveAlias { address, .. } => {
            format!("-EmailAddresses @{{Remove=\"smtp:{address}\"}}")
        }
        other => other.principal().map(|p| p.label()).unwrap_or_default(),
    };
    let text = format!(
        "`{} {}` on {}",
        operation.cmdlet(),
        what,
        operation.mailbox().unwrap_or("the organisation")
    );
    printable(&text, 200)
}

/// Polls until every mailbox in `mailboxes` can be read (`Ok(true)`) or the time is up
/// (`Ok(false)`). A read that fails permanently (forbidden, invalid, ...; not "not found",
/// which replication delay may cause) ends the wait at once: polling cannot change its
/// answer.
async fn wait_until_readable(
    tenant: &dyn Tenant,
    mailboxes: &[String],
    options: &ApplyOptions,
) -> Result<bool, TenantError> {
    let scope = ReadScope::of(mailboxes.to_vec());
    let deadline = tokio::time::Instant::now() + options.create_timeout;
    loop {
        match tenant.read(&scope).await {
            Ok(snapshot) if mailboxes.iter().all(|m| snapshot.mailbox(m).is_some()) => {
                return Ok(true);
            }
            Err(e) if !retry::may_pass_while_polling(&e) => return Err(e),
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}

/// Re-reads the touched objects until every change shows, or the time is up, or a read
/// fails permanently.
async fn verify(
    tenant: &dyn Tenant,
    steps: &[JournaledStep],
    options: &ApplyOptions,
) -> VerifyReport {
    // Only the last step on each target decides what the tenant should show.
    let mut last: Vec<&JournaledStep> = Vec::new();
    for s in steps.iter().rev() {
        if !last
            .iter()
            .any(|l| target(&l.operation) == target(&s.operation))
        {
            last.push(s);
        }
    }
    let scope = scope_of(steps.iter().map(|s| &s.operation));
    let deadline = tokio::time::Instant::now() + options.verify_timeout;
    loop {
        let mut report = VerifyReport::default();
        let mut permanent = false;
        match tenant.read(&scope).await {
            Ok(snapshot) => {
                for s in &last {
                    let seen = observe(&snapshot, &s.operation);
                    if same_value(&s.operation, &seen, &s.expected) {
                        report.verified += 1;
                    } else {
                        report
                            .not_visible
                            .push((s.field.clone(), s.operation.clone(), seen));
                    }
                }
            }
            Err(e) => {
                permanent = !retry::may_pass_while_polling(&e);
                report.not_visible = last
                    .iter()
                    .map(|s| {
                        (
                            s.field.clone(),
                            s.operation.clone(),
                            Observation::MailboxMissing,
                        )
                    })
                    .collect()
            }
        }
        if report.not_visible.is_empty() || permanent || tokio::time::Instant::now() >= deadline {
            return report;
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}

#[cfg(test)]
mod tests;
