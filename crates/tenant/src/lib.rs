//! Live state of an Exchange Online tenant, as sharedbox sees it.
//!
//! This crate owns four things:
//! - the snapshot model ([`model`]): shared mailboxes with every managed property and
//!   grant, client switches, moderation, the Sent Items folder, organisation settings;
//! - the recipient directory ([`directory`]) that normalises principals to one identity;
//! - the property catalogue ([`catalog`]): every single-valued setting defined once;
//! - automatic replies ([`auto_reply`]): their model and how message HTML and times compare;
//! - the write vocabulary ([`Operation`]) and the write that undoes each one ([`undo()`]);
//! - the [`Tenant`] trait every backend implements, and its errors ([`TenantError`] with a
//!   [`TenantErrorKind`] that tells retryable from permanent failures);
//! - the [`Progress`] interface through which long reads and runs report their counts.
//!
//! Backends live elsewhere: the file backend in `sharedbox-file`, Exchange Online in
//! `sharedbox-exo`.

pub mod auto_reply;
pub mod catalog;
pub mod directory;
pub mod error;
pub mod model;
pub mod observe;
pub mod operation;
pub mod progress;
pub mod undo;

pub use auto_reply::AutoReply;
pub use catalog::{Definition, Fresh, Kind, OrganizationProperty, Property, Value, bare_address};
pub use directory::{Directory, LivePrincipal, PrincipalId, is_built_in};
pub use error::{TenantError, TenantErrorKind};
pub use model::{
    CAN_VIEW_PRIVATE_ITEMS, CasMailbox, DELEGATE, FOLDER_VISIBLE, FolderPermission, GroupKind,
    Mailbox, MailboxFolder, MailboxPermission, Members, OrganizationConfig, Recipient,
    RecipientPermission, SentItemsFolder, Snapshot, SoftDeletedMailbox, WellKnownFolder,
    canonical_flags, check_folder_entry, shown_flags,
};
pub use observe::{
    Observation, expected, fingerprint, fingerprint_organization, holds_no_grants, normalized,
    observe, observe_with_created, same_value, sha256, target,
};
pub use operation::{
    MailboxSetting, Operation, OrganizationSetting, Principal, PrincipalList, printable,
};
pub use progress::{NoProgress, Phase, Progress, summarised};
pub use undo::{NoUndo, UNKNOWN_AUTO_MAPPING_RESTORED, agrees, undo, with_recorded};

/// What to read: the managed mailboxes in full, the rest only by address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Primary SMTP addresses of the mailboxes to read in full.
    pub mailboxes: Vec<String>,
    /// User accounts (as policies name them) whose own client settings to read as well,
    /// into [`Recipient::smtp_client_authentication_disabled`]: the accounts that may log in
    /// to SMTP AUTH for a managed mailbox (lint SBX205). Names that are not user mailboxes
    /// are skipped.
    pub accounts: Vec<String>,
    /// Well-known folders besides Sent Items (which is always read) whose permissions to
    /// read: the Inbox and Calendar of the mailboxes whose policy manages them, or that a
    /// write touches ([`Mailbox::inbox`], [`Mailbox::calendar`]). Nothing else reads them.
    pub folders: Vec<FolderRead>,
    /// Mailboxes (of `mailboxes`) whose root folder permissions matter
    /// ([`Mailbox::root_folder`]): their policy manages `sentItemsReaders`, or a write touches
    /// their root. A backend that reads the root on request (Exchange Online) reads it for
    /// these only, and only where it is needed ([`RootRead`]).
    pub roots: Vec<RootRead>,
    /// Also read each managed mailbox's size (`Get-MailboxStatistics`, one request per
    /// mailbox) into [`Mailbox::total_item_size_bytes`]: `--with-sizes`, for lint SBX210.
    pub sizes: bool,
    /// Mailboxes (of `mailboxes`) whose automatic replies to read
    /// (`Get-MailboxAutoReplyConfiguration`, one request per mailbox) into
    /// [`Mailbox::auto_reply`]: their policy manages `autoReply`, or a write changes them. A
    /// backend that reads them on request (Exchange Online) reads no other mailbox's.
    pub auto_replies: Vec<String>,
    /// Read every shared mailbox of the tenant in full, not only `mailboxes` (the `access`
    /// report of a whole tenant, managed and unmanaged mailboxes alike).
    pub all_shared: bool,
    /// Also read group membership ([`Recipient::members`]: `Get-Group` with `Members` in one
    /// paged read, `Get-UnifiedGroupLinks` per Microsoft 365 group) and which user accounts
    /// are disabled, into the directory ([`Snapshot::groups_read`]).
    pub groups: bool,
}

/// A well-known folder of a mailbox whose permissions a read needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRead {
    /// Primary SMTP address.
    pub mailbox: String,
    /// The folder (Inbox or Calendar; Sent Items is always read).
    pub folder: WellKnownFolder,
}

/// A mailbox whose root folder permissions a read needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRead {
    /// Primary SMTP address.
    pub mailbox: String,
    /// Read the root whatever the Sent Items folder holds (the policy declares a reader, or
    /// a write touches the root); otherwise only when Sent Items has an entry besides
    /// `Default` and `Anonymous` (a reader to revoke).
    pub always: bool,
}

impl ReadScope {
    /// A scope of `mailboxes` that reads no root folder and no account.
    pub fn of(mailboxes: Vec<String>) -> ReadScope {
        ReadScope {
            mailboxes,
            ..ReadScope::default()
        }
    }

    /// Adds an unconditional root read for every mailbox whose root one of `operations`
    /// touches ([`Operation::GrantRootVisibility`], [`Operation::RevokeRootVisibility`]), and
    /// a read of every Inbox and Calendar one of them writes ([`Operation::folder`]): what
    /// they touch is observed there.
    pub fn with_roots_of<'a>(
        mut self,
        operations: impl IntoIterator<Item = &'a Operation>,
    ) -> ReadScope {
        for operation in operations {
            // A mailbox listed twice is read once: the reader indexes the roots by address.
            if let Operation::GrantRootVisibility { mailbox, .. }
            | Operation::RevokeRootVisibility { mailbox, .. } = operation
            {
                self.roots.push(RootRead {
                    mailbox: mailbox.clone(),
                    always: true,
                });
            }
            if let (Some(folder), Some(mailbox)) = (operation.folder(), operation.mailbox())
                && folder != WellKnownFolder::SentItems
                && !self
                    .folders
                    .iter()
                    .any(|r| r.folder == folder && r.mailbox.eq_ignore_ascii_case(mailbox))
            {
                self.folders.push(FolderRead {
                    mailbox: mailbox.to_owned(),
                    folder,
                });
            }
        }
        self
    }

    /// Adds an automatic-reply read for every mailbox one of `operations` writes automatic
    /// replies of ([`Property::is_auto_reply`]): what they write is observed there.
    pub fn with_auto_replies_of<'a>(
        mut self,
        operations: impl IntoIterator<Item = &'a Operation>,
    ) -> ReadScope {
        for operation in operations {
            if let Operation::SetMailbox { mailbox, setting } = operation
                && setting.property.is_auto_reply()
                && !self
                    .auto_replies
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(mailbox))
            {
                self.auto_replies.push(mailbox.clone());
            }
        }
        self
    }

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

    /// [`Tenant::read`], reporting its progress to `progress` ([`Phase::Read`], counted in
    /// mailboxes read in full). Backends whose reads are quick (the file backend) keep this
    /// default, which reports nothing.
    async fn read_with_progress(
        &self,
        scope: &ReadScope,
        progress: &dyn Progress,
    ) -> Result<Snapshot, TenantError> {
        let _ = progress;
        self.read(scope).await
    }

    /// Executes one operation.
    async fn execute(&self, operation: &Operation) -> Result<(), TenantError>;

    /// Executes operations that touch different mailboxes, in any order and as concurrently
    /// as the backend can (Exchange Online: `$batch`); one result per operation, in order.
    /// Every operation is attempted, whatever the others' results. The exception: several
    /// automatic-reply settings of one mailbox ([`Operation::is_auto_reply`]) may be among
    /// them, and a backend may send them as one call (Exchange Online does: one
    /// `Set-MailboxAutoReplyConfiguration` with every parameter) whose result each shares.
    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        let mut results = Vec::with_capacity(operations.len());
        for operation in operations {
            results.push(self.execute(operation).await);
        }
        results
    }
}
