//! The Exchange Online backend: [`sharedbox_tenant::Tenant`] over the admin API
//! (`POST {base}/adminapi/beta/{tenant}/InvokeCommand` and `$batch`).
//!
//! - [`client`]: HTTP, paging, `$batch`, retries, adaptive concurrency, token refresh;
//! - [`wire`] and [`error`]: tolerant reading of the API's JSON and typed errors;
//! - [`read`]: the snapshot of a scope in three rounds of batched reads;
//! - [`write`]: one cmdlet call per [`Operation`];
//! - [`auth`] and [`cloud`]: tokens (azure_identity and friends) and the clouds;
//! - [`trace`]: the events `--trace` writes (requests, answers, retries, tokens).
//!
//! The wire format follows `docs/admin-api.md`; what could only be
//! checked against the simulator (`sharedbox-exo-sim`) is listed in `docs/exchange-online.md`.

pub mod auth;
pub mod client;
pub mod cloud;
pub mod doctor;
pub mod error;
pub mod limiter;
pub mod read;
pub mod trace;
pub mod wire;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sharedbox_tenant::{Operation, ReadScope, Snapshot, Tenant, TenantError, WellKnownFolder};

pub use client::{Client, ClientOptions, Command, Output, Retry, Stats};
pub use cloud::Cloud;
pub use error::ExoError;

/// The environment variable that replaces the cloud's base URL.
pub const ENDPOINT_VARIABLE: &str = "SHAREDBOX_EXO_ENDPOINT";

/// A tenant in Exchange Online.
#[derive(Debug)]
pub struct ExoTenant {
    client: Client,
    /// Folder identities (`<mailbox>:<FolderId>`) by [`read::folder_key`]: Sent Items by
    /// lower-cased address, the Inbox and Calendar by address and type.
    folders: Mutex<HashMap<String, String>>,
}

impl ExoTenant {
    /// A tenant at `base` (the cloud's base URL or an override), named by its GUID or
    /// initial domain.
    pub fn new(
        base: &str,
        tenant: &str,
        tokens: Arc<dyn auth::TokenSource>,
        options: ClientOptions,
    ) -> Result<ExoTenant, ExoError> {
        Ok(ExoTenant {
            client: Client::new(base, tenant, tokens, options)?,
            folders: Mutex::new(HashMap::new()),
        })
    }

    /// The admin API client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn cached_folder(&self, mailbox: &str, folder: WellKnownFolder) -> Option<String> {
        self.folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&read::folder_key(mailbox, folder))
            .cloned()
    }

    /// The identity of the well-known folder `folder` of `mailbox` (found by its type, so
    /// localised names work), read when not known yet.
    async fn folder_identity(
        &self,
        mailbox: &str,
        folder: WellKnownFolder,
    ) -> Result<String, ExoError> {
        if let Some(identity) = self.cached_folder(mailbox, folder) {
            return Ok(identity);
        }
        let output = self
            .client
            .invoke(
                &Command::read("Get-MailboxFolderStatistics")
                    .param("Identity", mailbox)
                    .param("FolderScope", folder.folder_type())
                    .anchored(mailbox),
            )
            .await?;
        let row = read::folder_row(&output, mailbox, folder)?;
        let identity = read::folder_identity(mailbox, &row.text_or_empty("FolderId"), row);
        self.folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(read::folder_key(mailbox, folder), identity.clone());
        Ok(identity)
    }

    /// Whether the shared mailbox exists now (after an answer was lost).
    async fn exists(&self, mailbox: &str) -> Result<bool, ExoError> {
        let read = Command::read("Get-Mailbox")
            .param("Identity", mailbox)
            .select(&["Identity", "PrimarySmtpAddress"]);
        match self.client.invoke(&read).await {
            Ok(output) => Ok(!output.rows.is_empty()),
            Err(ExoError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn create(&self, operation: &Operation, mailbox: &str) -> Result<(), TenantError> {
        /// Calls after the first whose answer was lost (each after looking whether the
        /// mailbox exists).
        const AGAIN: u32 = 2;
        let call = write::command(operation, None);
        match self.client.invoke(&call).await {
            Ok(_) => Ok(()),
            Err(ExoError::AlreadyExists { .. }) => Err(TenantError::MailboxExists(mailbox.into())),
            Err(ExoError::Transient {
                maybe_applied: true,
                ..
            }) => {
                let mut again = 0;
                loop {
                    again += 1;
                    // The answer was lost: look before creating again.
                    if self
                        .exists(mailbox)
                        .await
                        .map_err(ExoError::into_tenant_error)?
                    {
                        return Ok(());
                    }
                    match self.client.invoke(&call).await {
                        Ok(_) => return Ok(()),
                        // Created by an earlier call, not yet visible to the read.
                        Err(ExoError::AlreadyExists { .. }) => return Ok(()),
                        Err(ExoError::Transient {
                            maybe_applied: true,
                            ..
                        }) if again < AGAIN => {}
                        Err(e) => return Err(to_tenant_error(e, operation)),
                    }
                }
            }
            Err(e) => Err(to_tenant_error(e, operation)),
        }
    }

    async fn remove(&self, operation: &Operation, mailbox: &str) -> Result<(), TenantError> {
        let call = write::command(operation, None);
        match self.client.invoke(&call).await {
            Ok(_) => Ok(()),
            Err(ExoError::Transient {
                maybe_applied: true,
                ..
            }) => {
                if !self
                    .exists(mailbox)
                    .await
                    .map_err(ExoError::into_tenant_error)?
                {
                    return Ok(());
                }
                self.client
                    .invoke(&call)
                    .await
                    .map(|_| ())
                    .map_err(|e| to_tenant_error(e, operation))
            }
            Err(e) => Err(to_tenant_error(e, operation)),
        }
    }

    async fn folder_write(&self, operation: &Operation, mailbox: &str) -> Result<(), TenantError> {
        let which = operation.folder().unwrap_or(WellKnownFolder::SentItems);
        let folder = self
            .folder_identity(mailbox, which)
            .await
            .map_err(|e| to_tenant_error(e, operation))?;
        let first = write::command(operation, Some(&folder));
        let fallback = match operation {
            Operation::AddSentItemsPermission {
                mailbox,
                principal,
                access,
            } => Some(Operation::SetSentItemsPermission {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
                access: access.clone(),
            }),
            Operation::SetSentItemsPermission {
                mailbox,
                principal,
                access,
            } => Some(Operation::AddSentItemsPermission {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
                access: access.clone(),
            }),
            Operation::AddFolderPermission {
                mailbox,
                folder,
                principal,
                access,
                flags,
            } => Some(Operation::SetFolderPermission {
                mailbox: mailbox.clone(),
                folder: *folder,
                principal: principal.clone(),
                access: access.clone(),
                flags: flags.clone(),
            }),
            Operation::SetFolderPermission {
                mailbox,
                folder,
                principal,
                access,
                flags,
            } => Some(Operation::AddFolderPermission {
                mailbox: mailbox.clone(),
                folder: *folder,
                principal: principal.clone(),
                access: access.clone(),
                flags: flags.clone(),
            }),
            _ => None,
        };
        match self.client.invoke(&first).await {
            Ok(_) => Ok(()),
            // Remove of an entry that is not there: already done.
            Err(ExoError::EntryMissing { .. })
                if matches!(
                    operation,
                    Operation::RemoveSentItemsPermission { .. }
                        | Operation::RemoveFolderPermission { .. }
                ) =>
            {
                Ok(())
            }
            // Add of an entry that exists -> Set; Set of a missing one -> Add.
            Err(ExoError::EntryExists { .. } | ExoError::EntryMissing { .. })
                if fallback.is_some() =>
            {
                let second = fallback
                    .as_ref()
                    .map(|op| write::command(op, Some(&folder)));
                match second {
                    Some(second) => self
                        .client
                        .invoke(&second)
                        .await
                        .map(|_| ())
                        .map_err(|e| to_tenant_error(e, operation)),
                    None => Ok(()),
                }
            }
            Err(e) => Err(to_tenant_error(e, operation)),
        }
    }
}

impl ExoTenant {
    /// A root visibility write (`<mailbox>:\`): an existing entry on a grant is left as it
    /// is (it is the principal's, not sharedbox's) and a missing one on a revoke is already
    /// gone; both are success.
    async fn root_write(&self, operation: &Operation) -> Result<(), TenantError> {
        match self.client.invoke(&write::command(operation, None)).await {
            Ok(_) => Ok(()),
            Err(e) if root_answer_is_success(&e, operation) => Ok(()),
            Err(e) => Err(to_tenant_error(e, operation)),
        }
    }
}

/// Whether `error` answering a root visibility write means it is done: an existing entry on
/// a grant, a missing one on a revoke.
fn root_answer_is_success(error: &ExoError, operation: &Operation) -> bool {
    matches!(
        (error, operation),
        (
            ExoError::EntryExists { .. },
            Operation::GrantRootVisibility { .. }
        ) | (
            ExoError::EntryMissing { .. },
            Operation::RevokeRootVisibility { .. }
        )
    )
}

/// Maps an admin API error onto the trait's errors, telling a missing mailbox from a
/// missing principal.
fn to_tenant_error(error: ExoError, operation: &Operation) -> TenantError {
    if let ExoError::NotFound { message, .. } = &error {
        let principal = principal_of(operation);
        if let Some(p) = principal
            && message
                .to_ascii_lowercase()
                .contains(&p.to_ascii_lowercase())
        {
            return TenantError::PrincipalNotFound(p.to_owned());
        }
        if let Some(mailbox) = operation.mailbox() {
            return TenantError::MailboxNotFound(mailbox.to_owned());
        }
    }
    error.into_tenant_error()
}

fn principal_of(operation: &Operation) -> Option<&str> {
    use Operation::*;
    match operation {
        AddToList { principal, .. }
        | RemoveFromList { principal, .. }
        | GrantSendAs { principal, .. }
        | RevokeSendAs { principal, .. }
        | GrantFullAccess { principal, .. }
        | RevokeFullAccess { principal, .. }
        | AddSentItemsPermission { principal, .. }
        | SetSentItemsPermission { principal, .. }
        | RemoveSentItemsPermission { principal, .. }
        | AddFolderPermission { principal, .. }
        | SetFolderPermission { principal, .. }
        | RemoveFolderPermission { principal, .. }
        | GrantRootVisibility { principal, .. }
        | RevokeRootVisibility { principal, .. } => Some(principal.identity()),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Tenant for ExoTenant {
    fn name(&self) -> String {
        self.client.tenant().to_owned()
    }

    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError> {
        self.read_with_progress(scope, &sharedbox_tenant::NoProgress)
            .await
    }

    async fn read_with_progress(
        &self,
        scope: &ReadScope,
        progress: &dyn sharedbox_tenant::Progress,
    ) -> Result<Snapshot, TenantError> {
        let read = read::snapshot(&self.client, scope, progress).await;
        progress.finish();
        let (snapshot, folders) = read.map_err(ExoError::into_tenant_error)?;
        self.folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(folders);
        Ok(snapshot)
    }

    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        // Batched: everything but New-/Remove-Mailbox (never retried blindly) and folder
        // permissions of mailboxes whose Sent Items folder is not known yet.
        let mut batched = Vec::new();
        let mut single = Vec::new();
        let mut commands = Vec::new();
        // The automatic-reply settings of one mailbox go out as one
        // `Set-MailboxAutoReplyConfiguration` with every changed parameter (the first
        // operation's call); the others share its answer. Exchange checks the schedule
        // (`StartTime` before `EndTime`) of the call as a whole.
        let shared = auto_reply_calls(operations);
        for (i, operation) in operations.iter().enumerate() {
            if shared[i].is_some_and(|first| first != i) {
                continue;
            }
            let command = match operation {
                Operation::SetMailbox { .. } if shared[i].is_some() => Some(
                    operations
                        .iter()
                        .zip(&shared)
                        .skip(i + 1)
                        .filter(|(_, first)| **first == Some(i))
                        .fold(
                            write::command(operation, None),
                            |command, (other, _)| match other {
                                Operation::SetMailbox { setting, .. } => {
                                    command.param(setting.definition().parameter, &setting.value)
                                }
                                _ => command,
                            },
                        ),
                ),
                Operation::CreateMailbox { .. } | Operation::RemoveMailbox { .. } => None,
                Operation::AddSentItemsPermission { mailbox, .. }
                | Operation::SetSentItemsPermission { mailbox, .. }
                | Operation::RemoveSentItemsPermission { mailbox, .. }
                | Operation::AddFolderPermission { mailbox, .. }
                | Operation::SetFolderPermission { mailbox, .. }
                | Operation::RemoveFolderPermission { mailbox, .. } => self
                    .cached_folder(
                        mailbox,
                        operation.folder().unwrap_or(WellKnownFolder::SentItems),
                    )
                    .map(|folder| write::command(operation, Some(&folder))),
                other => Some(write::command(other, None)),
            };
            match command {
                Some(command) => {
                    batched.push(i);
                    commands.push(command);
                }
                None => single.push(i),
            }
        }
        let singles =
            futures::future::join_all(single.iter().map(|&i| self.execute(&operations[i])));
        let (answers, singles) = futures::join!(self.client.batch(&commands), singles);
        let mut results: Vec<Option<Result<(), TenantError>>> =
            (0..operations.len()).map(|_| None).collect();
        for (&i, result) in single.iter().zip(singles) {
            results[i] = Some(result);
        }
        for (&i, answer) in batched.iter().zip(answers) {
            let operation = &operations[i];
            results[i] = Some(match answer {
                Ok(_) => Ok(()),
                Err(e) if root_answer_is_success(&e, operation) => Ok(()),
                // Folder entries that exist or are missing: the one-by-one path knows what to do.
                Err(ExoError::EntryExists { .. } | ExoError::EntryMissing { .. }) => {
                    self.execute(operation).await
                }
                Err(e) => Err(to_tenant_error(e, operation)),
            });
        }
        for (i, first) in shared.iter().enumerate() {
            if let Some(first) = *first
                && first != i
            {
                results[i] = results[first].clone();
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(TenantError::Rejected {
                        message: "no result".to_owned(),
                        hint: None,
                    })
                })
            })
            .collect()
    }

    /// One operation. An automatic-reply setting goes out alone; [`Tenant::execute_all`]
    /// sends a mailbox's together.
    async fn execute(&self, operation: &Operation) -> Result<(), TenantError> {
        match operation {
            Operation::CreateMailbox { mailbox, .. } => self.create(operation, mailbox).await,
            Operation::RemoveMailbox { mailbox } => self.remove(operation, mailbox).await,
            Operation::AddSentItemsPermission { mailbox, .. }
            | Operation::SetSentItemsPermission { mailbox, .. }
            | Operation::RemoveSentItemsPermission { mailbox, .. }
            | Operation::AddFolderPermission { mailbox, .. }
            | Operation::SetFolderPermission { mailbox, .. }
            | Operation::RemoveFolderPermission { mailbox, .. } => {
                self.folder_write(operation, mailbox).await
            }
            Operation::GrantRootVisibility { .. } | Operation::RevokeRootVisibility { .. } => {
                self.root_write(operation).await
            }
            other => self
                .client
                .invoke(&write::command(other, None))
                .await
                .map(|_| ())
                .map_err(|e| to_tenant_error(e, other)),
        }
    }
}

/// For each of `operations`, the index of the operation whose
/// `Set-MailboxAutoReplyConfiguration` call carries it: the first automatic-reply setting of
/// the same mailbox; `None` for any other operation.
fn auto_reply_calls(operations: &[Operation]) -> Vec<Option<usize>> {
    let mut first: HashMap<String, usize> = HashMap::new();
    operations
        .iter()
        .enumerate()
        .map(|(i, operation)| match operation {
            Operation::SetMailbox { mailbox, setting } if setting.property.is_auto_reply() => {
                Some(*first.entry(mailbox.to_ascii_lowercase()).or_insert(i))
            }
            _ => None,
        })
        .collect()
}
