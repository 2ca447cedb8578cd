//! Executes a [`Plan`] through a [`Tenant`]: guards first, then the changes wave by wave.
//!
//! # Guarantees
//! - Nothing is written when a guard refuses the plan (deletes without `allow_destroy`, more
//!   revocations than `max_removals`).
//! - Waves run in order (create, properties, grants, revocations); a wave starts only when
//!   every step of the earlier waves succeeded, so a failure never leaves access revoked
//!   while the replacement grant is missing.
//! - After the create wave, the new mailboxes are polled until they are readable.
//! - The first failed step stops the run; the report says what was applied, what failed
//!   and what did not run.
//!
//! # Caveats
//! Steps run one after another. Journaling and rollback of a failed run build on the
//! [`Step`] events this module emits.

use std::time::Duration;

use sharedbox_planner::{Change, Plan, Wave};
use sharedbox_tenant::{Operation, ReadScope, Tenant, TenantError};

/// Limits and switches of one apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Allow `Remove-Mailbox` for mailboxes with `ensure: absent`.
    pub allow_destroy: bool,
    /// Refuse a plan with more revocations than this.
    pub max_removals: usize,
    /// How long to wait for a new mailbox to become readable.
    pub create_timeout: Duration,
    /// How often to poll while waiting.
    pub poll_interval: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            allow_destroy: false,
            max_removals: 25,
            create_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// Something that happened during an apply, for progress output.
#[derive(Debug)]
pub enum Step<'a> {
    /// A step is about to run.
    Started {
        /// 1-based position.
        index: usize,
        /// Number of steps.
        total: usize,
        /// The change.
        change: &'a Change,
    },
    /// A step succeeded.
    Succeeded {
        /// The change.
        change: &'a Change,
    },
    /// A step failed; the run stops.
    Failed {
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
}

/// Why an apply did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan deletes mailboxes and `allow_destroy` is off.
    #[error("the plan deletes {} mailbox(es) ({}) and `--allow-destroy` was not given", .0.len(), .0.join(", "))]
    DestroyNotAllowed(Vec<String>),
    /// The plan revokes more than `max_removals` grants.
    #[error("the plan revokes {count} grants, more than the limit of {limit}")]
    TooManyRemovals {
        /// Revocations in the plan.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// New mailboxes did not become readable in time.
    #[error("new mailbox(es) {} were not readable after {timeout:?}", .mailboxes.join(", "))]
    CreateTimeout {
        /// The mailboxes.
        mailboxes: Vec<String>,
        /// How long we waited.
        timeout: Duration,
    },
}

impl ApplyError {
    /// A hint for the user.
    pub fn hint(&self) -> String {
        match self {
            ApplyError::DestroyNotAllowed(_) => "review the deletions; pass `--allow-destroy` to delete mailboxes with `ensure: absent`".to_owned(),
            ApplyError::TooManyRemovals { count, .. } => format!("review the revocations; pass `--max-removals {count}` if they are intended"),
            ApplyError::CreateTimeout { .. } => "Exchange may still be provisioning them; run `sharedbox apply` again later".to_owned(),
        }
    }
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct ApplyReport<'a> {
    /// The steps that succeeded, in order.
    pub applied: Vec<&'a Change>,
    /// The step that failed, if one did.
    pub failed: Option<(&'a Change, TenantError)>,
    /// The steps that did not run because an earlier one failed.
    pub not_run: Vec<&'a Change>,
    /// A wait that did not finish (the remaining steps did not run).
    pub stopped: Option<ApplyError>,
}

impl ApplyReport<'_> {
    /// Whether every step succeeded.
    pub fn is_success(&self) -> bool {
        self.failed.is_none() && self.stopped.is_none()
    }
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
            Operation::RemoveMailbox { mailbox } => Some(mailbox.clone()),
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

/// Applies `plan` to `tenant`, reporting each step to `on_step`.
///
/// # Errors
/// A guard refused the plan; nothing was written.
pub async fn apply<'p>(
    tenant: &dyn Tenant,
    plan: &'p Plan,
    options: &ApplyOptions,
    mut on_step: impl FnMut(Step<'_>),
) -> Result<ApplyReport<'p>, ApplyError> {
    check_guards(plan, options)?;
    let changes = plan.ordered_changes();
    let total = changes.len();
    let mut report = ApplyReport::default();
    let mut created: Vec<String> = Vec::new();
    let mut iter = changes.into_iter().enumerate().peekable();
    while let Some((i, change)) = iter.next() {
        on_step(Step::Started {
            index: i + 1,
            total,
            change,
        });
        match tenant.execute(&change.operation).await {
            Ok(()) => {
                on_step(Step::Succeeded { change });
                report.applied.push(change);
                if let Operation::CreateMailbox { mailbox, .. } = &change.operation {
                    created.push(mailbox.clone());
                }
            }
            Err(error) => {
                on_step(Step::Failed {
                    change,
                    error: &error,
                });
                report.failed = Some((change, error));
                report.not_run = iter.map(|(_, c)| c).collect();
                return Ok(report);
            }
        }
        let wave_ends = iter
            .peek()
            .is_none_or(|(_, next)| next.wave != Wave::Create);
        if change.wave == Wave::Create && wave_ends && !created.is_empty() {
            on_step(Step::WaitingForMailboxes {
                mailboxes: &created,
            });
            if let Err(e) = wait_until_readable(tenant, &created, options).await {
                report.not_run = iter.map(|(_, c)| c).collect();
                report.stopped = Some(e);
                return Ok(report);
            }
            created.clear();
        }
    }
    Ok(report)
}

/// Polls until every mailbox in `mailboxes` can be read.
async fn wait_until_readable(
    tenant: &dyn Tenant,
    mailboxes: &[String],
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    let scope = ReadScope {
        mailboxes: mailboxes.to_vec(),
    };
    let deadline = tokio::time::Instant::now() + options.create_timeout;
    loop {
        if let Ok(snapshot) = tenant.read(&scope).await
            && mailboxes.iter().all(|m| snapshot.mailbox(m).is_some())
        {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApplyError::CreateTimeout {
                mailboxes: mailboxes.to_vec(),
                timeout: options.create_timeout,
            });
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}
