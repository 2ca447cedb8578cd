//! Live state of an Exchange Online tenant, as sharedbox sees it.
//!
//! This crate owns four things:
//! - the snapshot model ([`model`]): shared mailboxes with every managed property and
//!   grant, client switches, moderation, the Sent Items folder, organisation settings;
//! - the recipient directory ([`directory`]) that normalises principals to one identity;
//! - the write vocabulary ([`Operation`]);
//! - the [`Tenant`] trait every backend implements, and the embedded [`file`] backend.

pub mod directory;
pub mod file;
pub mod model;
pub mod observe;
pub mod operation;

pub use directory::{Directory, LivePrincipal, PrincipalId, is_built_in};
pub use model::{
    CasMailbox, FolderPermission, Mailbox, MailboxPermission, OrganizationConfig, Recipient,
    RecipientPermission, SentItemsFolder, Snapshot,
};
pub use observe::{
    Observation, expected, fingerprint, fingerprint_organization, holds_no_grants, normalized,
    observe, sha256, target,
};
pub use operation::{
    ClientSetting, ClientSwitch, MailboxSetting, Operation, OrganizationSetting, Principal,
    PrincipalList,
};

/// What to read: the managed mailboxes in full, the rest only by address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Primary SMTP addresses of the mailboxes to read in full.
    pub mailboxes: Vec<String>,
}

impl ReadScope {
    /// The scope's addresses, lower-cased, for [`Mailbox::is_any_of`].
    pub fn address_set(&self) -> std::collections::HashSet<String> {
        self.mailboxes
            .iter()
            .map(|a| a.trim().to_ascii_lowercase())
            .collect()
    }
}

/// A tenant that can be read and written: the file backend, Exchange Online, the simulator.
///
/// # Guarantees
/// - [`Tenant::read`] either returns a complete snapshot of the scope or fails; a mailbox
///   that could not be read is never reported as absent.
/// - [`Tenant::execute`] runs exactly one cmdlet-sized change. Granting an existing right and
///   removing a missing one succeed; creating an existing mailbox fails with
///   [`TenantError::MailboxExists`].
#[async_trait::async_trait]
pub trait Tenant: Send + Sync {
    /// A short name of the tenant for messages and journals, e.g. `contoso.onmicrosoft.com`.
    fn name(&self) -> String;

    /// Reads the organisation settings, the recipient directory, the addresses of all shared
    /// mailboxes, and the full state of the shared mailboxes in `scope` that exist.
    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError>;

    /// Executes one operation.
    async fn execute(&self, operation: &Operation) -> Result<(), TenantError>;

    /// Executes operations that touch different mailboxes, in any order and as concurrently
    /// as the backend can (Exchange Online: `$batch`); one result per operation, in order.
    /// Every operation is attempted, whatever the others' results.
    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        let mut results = Vec::with_capacity(operations.len());
        for operation in operations {
            results.push(self.execute(operation).await);
        }
        results
    }
}

/// Why a tenant read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The mailbox does not exist.
    #[error("mailbox `{0}` does not exist")]
    MailboxNotFound(String),
    /// `New-Mailbox` for an address that is already taken.
    #[error("a recipient with address `{0}` already exists")]
    MailboxExists(String),
    /// A principal that the tenant does not know.
    #[error("`{0}` is not a recipient of the tenant")]
    PrincipalNotFound(String),
    /// Exchange refused the change as invalid.
    #[error("{message}")]
    Rejected {
        /// What Exchange said.
        message: String,
        /// What the user can do about it.
        hint: Option<String>,
    },
    /// The tenant file could not be read or written.
    #[error("cannot access tenant file `{path}`: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The tenant file is not a valid tenant snapshot.
    #[error("tenant file `{path}` is invalid: {message}")]
    InvalidFile {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl TenantError {
    /// A hint for the user, where one helps.
    pub fn hint(&self) -> Option<String> {
        match self {
            TenantError::MailboxNotFound(_) => Some(
                "the mailbox may have been deleted since the plan was made; run `sharedbox plan` again"
                    .to_owned(),
            ),
            TenantError::MailboxExists(_) => Some(
                "another recipient (a user, group or soft-deleted mailbox) holds this address".to_owned(),
            ),
            TenantError::PrincipalNotFound(_) => {
                Some("check the spelling, or whether the user or group was deleted".to_owned())
            }
            TenantError::Rejected { hint, .. } => hint.clone(),
            TenantError::Io { .. } => None,
            TenantError::InvalidFile { .. } => Some(
                "the tenant file is the file backend's state; fix it or restore it from git".to_owned(),
            ),
        }
    }
}
