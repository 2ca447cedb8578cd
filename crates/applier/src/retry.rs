//! What the applier does with a failed tenant call: try a throttled or transient failure
//! again after a pause, report every other failure at once.
//!
//! Backends retry on their own first (the Exchange Online client honours `Retry-After`);
//! this is the second, slower line: a step that is still throttled when the backend gives up
//! is sent again a few times before the run fails and rolls back. `New-Mailbox` and
//! `Remove-Mailbox` are never sent again here (a lost answer may hide a success; the backend
//! re-reads before repeating them), and a permanent failure (not found, forbidden, invalid,
//! conflict, ...) is never retried.

use std::time::Duration;

use sharedbox_tenant::{Operation, ReadScope, Snapshot, Tenant, TenantError, TenantErrorKind};

/// How often, and after what pause, retryable failures are tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts after the first; 0 turns retrying off.
    pub retries: u32,
    /// The pause before the first retry; it doubles for each further one.
    pub delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 2,
            delay: Duration::from_secs(2),
        }
    }
}

impl Retry {
    /// No retries.
    pub fn never() -> Retry {
        Retry {
            retries: 0,
            delay: Duration::ZERO,
        }
    }

    fn pause(&self, attempt: u32) -> Duration {
        self.delay.saturating_mul(1 << attempt.min(16))
    }
}

/// Whether `operation` may be sent again after a retryable failure: every write but the
/// non-idempotent `New-Mailbox` and `Remove-Mailbox`.
pub fn may_resend(operation: &Operation) -> bool {
    !matches!(
        operation,
        Operation::CreateMailbox { .. }
            | Operation::RemoveMailbox { .. }
            | Operation::CreateServicePrincipal { .. }
    )
}

/// Whether polling (the wait for new mailboxes, verification) should go on after a failed
/// read: a retryable failure passes, and so may "not found", which is how replication delay
/// looks right after `New-Mailbox`; forbidden, invalid and the rest will not change.
pub fn may_pass_while_polling(error: &TenantError) -> bool {
    error.is_retryable() || error.kind() == TenantErrorKind::NotFound
}

/// [`Tenant::execute_all`], then the steps that failed retryably (and may be resent) again,
/// up to `retry.retries` times; one result per operation, in order.
pub async fn execute_all(
    tenant: &dyn Tenant,
    operations: &[Operation],
    retry: &Retry,
) -> Vec<Result<(), TenantError>> {
    let mut results = tenant.execute_all(operations).await;
    for attempt in 0..retry.retries {
        let again: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(i, r)| matches!(r, Err(e) if e.is_retryable()) && may_resend(&operations[*i]))
            .map(|(i, _)| i)
            .collect();
        if again.is_empty() {
            break;
        }
        tokio::time::sleep(retry.pause(attempt)).await;
        let resent: Vec<Operation> = again.iter().map(|&i| operations[i].clone()).collect();
        for (i, result) in again.into_iter().zip(tenant.execute_all(&resent).await) {
            results[i] = result;
        }
    }
    results
}

/// [`Tenant::read`], tried again while it fails retryably.
pub async fn read(
    tenant: &dyn Tenant,
    scope: &ReadScope,
    retry: &Retry,
) -> Result<Snapshot, TenantError> {
    let mut attempt = 0;
    loop {
        match tenant.read(scope).await {
            Err(e) if e.is_retryable() && attempt < retry.retries => {
                tokio::time::sleep(retry.pause(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_goes_on_through_replication_delay_but_not_through_a_refusal() {
        let not_found = TenantError::MailboxNotFound("neu@contoso.com".into());
        assert!(!not_found.is_retryable(), "a write is not resent");
        assert!(may_pass_while_polling(&not_found), "a read is polled again");
        let refused = TenantError::Rejected {
            message: "no".into(),
            hint: None,
        };
        assert!(!may_pass_while_polling(&refused));
        assert!(may_resend(&Operation::SetOrganization {
            setting: sharedbox_tenant::OrganizationSetting {
                property: sharedbox_tenant::OrganizationProperty::SendFromAliasEnabled,
                value: true.into()
            },
        }));
        assert!(!may_resend(&Operation::RemoveMailbox {
            mailbox: "neu@contoso.com".into()
        }));
        assert_eq!(Retry::default().pause(1), Duration::from_secs(4));
    }
}
