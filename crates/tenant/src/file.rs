//! The file backend: a tenant snapshot in one YAML file that reads and writes like Exchange.
//!
//! It is the embedded default (the demo runs on it) and the reference behaviour for tests.
//! Every write re-reads the file, applies one [`Operation`] the way Exchange would, and
//! replaces the file atomically (temporary file, fsync, rename, fsync of the directory), so a
//! crash never leaves a half-written tenant and a change made by someone else between two
//! steps is seen.
//!
//! Principals are stored the way Exchange returns them: UPNs (or group Names) in permission
//! rows, Names in `GrantSendOnBehalfTo`/`ModeratedBy`, display names in folder permissions.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::model::{
    FolderPermission, Mailbox, MailboxPermission, OrganizationConfig, Recipient,
    RecipientPermission, Snapshot,
};
use crate::observe::denotes;
use crate::operation::{
    ClientSetting, MailboxSetting, Operation, OrganizationSetting, Principal, PrincipalList,
};
use crate::{ReadScope, Tenant, TenantError};

/// The on-disk format of a file tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantFile {
    /// `Get-OrganizationConfig`.
    pub organization: OrganizationConfig,
    /// Users, groups and other recipients that are not shared mailboxes.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// The shared mailboxes with their full state.
    #[serde(default)]
    pub mailboxes: Vec<Mailbox>,
    /// Faults to simulate (for tests and demonstrations of rollback); absent normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<Simulation>,
}

/// Faults the file backend simulates, so that failure handling can be tried without a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Simulation {
    /// Refuse the write with this 1-based number (counted over all writes to the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_write: Option<u32>,
    /// Wait this long before each write, like a slow tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_delay_ms: Option<u64>,
    /// Replication lag: after a write, this many reads still show the state from before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_lag_reads: Option<u32>,
    /// Writes received so far.
    #[serde(default)]
    pub writes: u32,
    /// Reads left that show `lagging_state` (kept by the backend).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lagging_reads_left: u32,
    /// What lagging reads show (kept by the backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lagging_state: Option<Box<TenantFile>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TenantFile {
    /// Parses a tenant file's text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<TenantFile, TenantError> {
        // The default budget (250,000 nodes) protects against hostile policy files; a
        // snapshot of a tenant with thousands of mailboxes has millions of nodes.
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_nodes: 100_000_000,
                max_events: 200_000_000,
            },
        };
        // The message names the line and column but quotes no excerpt of the file, and a
        // quoted value is cut short: the file may not be a tenant snapshot at all.
        serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let message = e.without_snippet().to_string();
            TenantError::InvalidFile {
                path: path.to_owned(),
                message: match message.char_indices().nth(300) {
                    Some((at, _)) => format!("{}…", &message[..at]),
                    None => message,
                },
            }
        })
    }

    /// The directory of every recipient and shared mailbox.
    pub fn directory(&self) -> Directory {
        Directory::new(
            self.recipients
                .iter()
                .cloned()
                .chain(self.mailboxes.iter().map(Mailbox::recipient)),
        )
    }

    /// The snapshot a read of `scope` returns.
    pub fn snapshot(&self, scope: &ReadScope) -> Snapshot {
        let wanted = scope.address_set();
        Snapshot {
            tenant: self.organization.name.clone(),
            organization: self.organization.clone(),
            directory: self.directory(),
            mailboxes: self
                .mailboxes
                .iter()
                .filter(|m| m.is_any_of(&wanted))
                .cloned()
                .collect(),
            all_shared_mailboxes: self
                .mailboxes
                .iter()
                .map(|m| m.primary_smtp_address.clone())
                .collect(),
            index: Default::default(),
        }
    }

    /// Applies one operation the way Exchange would; a refused operation changes nothing.
    pub fn apply(&mut self, operation: &Operation) -> Result<(), TenantError> {
        // Only operations that name a principal (or create) need the directory; building it
        // costs a pass over every recipient.
        let needs_directory = !matches!(
            operation,
            Operation::SetMailbox { .. }
                | Operation::SetClient { .. }
                | Operation::SetOrganization { .. }
                | Operation::RemoveMailbox { .. }
        );
        let directory = if needs_directory {
            self.directory()
        } else {
            Directory::default()
        };
        match operation {
            Operation::CreateMailbox {
                mailbox,
                display_name,
            } => {
                if directory.resolve_policy(mailbox).is_some() {
                    return Err(TenantError::MailboxExists(mailbox.clone()));
                }
                self.mailboxes
                    .push(new_shared_mailbox(mailbox, display_name));
                Ok(())
            }
            Operation::RemoveMailbox { mailbox } => {
                let index = self.index_of(mailbox)?;
                self.mailboxes.remove(index);
                Ok(())
            }
            Operation::SetOrganization { setting } => {
                match setting {
                    OrganizationSetting::SendFromAliasEnabled(value) => {
                        self.organization.send_from_alias_enabled = *value
                    }
                }
                Ok(())
            }
            other => {
                let address = other
                    .mailbox()
                    .expect("every other operation names a mailbox");
                let index = self.index_of(address)?;
                // On a copy, so that a refused operation leaves the mailbox as it was.
                let mut mailbox = self.mailboxes[index].clone();
                apply_to_mailbox(&mut mailbox, other, &directory)?;
                self.mailboxes[index] = mailbox;
                Ok(())
            }
        }
    }

    fn index_of(&self, address: &str) -> Result<usize, TenantError> {
        self.mailboxes
            .iter()
            .position(|m| m.has_address(address))
            .ok_or_else(|| TenantError::MailboxNotFound(address.to_owned()))
    }
}

/// A new shared mailbox with the identifiers Exchange would give it.
fn new_shared_mailbox(address: &str, display_name: &str) -> Mailbox {
    let object_id = stable_guid(&format!("object:{address}"));
    let mut mailbox = Mailbox::new_shared(address, display_name);
    mailbox.external_directory_object_id = Some(object_id.clone());
    mailbox.guid = stable_guid(&format!("guid:{address}"));
    mailbox.name = object_id;
    mailbox.sent_items.folder_id = format!(
        "LgAAAA{}",
        stable_guid(&format!("folder:{address}")).replace('-', "")
    );
    mailbox
}

/// A GUID-shaped string derived from `seed`, so that files stay reproducible.
fn stable_guid(seed: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut parts = [0u64; 2];
    for (i, part) in parts.iter_mut().enumerate() {
        let mut hasher = std::hash::DefaultHasher::new();
        (i, seed).hash(&mut hasher);
        *part = hasher.finish();
    }
    let hex = format!("{:016x}{:016x}", parts[0], parts[1]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn resolve<'a>(
    directory: &'a Directory,
    principal: &Principal,
) -> Result<Option<&'a Recipient>, TenantError> {
    match principal {
        Principal::Recipient { id, address } => directory
            .get(id)
            .map(Some)
            .ok_or_else(|| TenantError::PrincipalNotFound(address.clone())),
        Principal::Orphaned { .. } => Ok(None),
    }
}

fn require_security_principal(recipient: &Recipient, right: &str) -> Result<(), TenantError> {
    if recipient.is_security_principal() {
        return Ok(());
    }
    Err(TenantError::Rejected {
        message: format!(
            "`{}` is a {} and cannot hold {right}",
            recipient.primary_smtp_address, recipient.recipient_type_details
        ),
        hint: Some("use a user or a mail-enabled security group".to_owned()),
    })
}

/// How Exchange writes a principal into a permission row: UPN for users, Name otherwise.
fn acl_form(recipient: &Recipient) -> String {
    recipient
        .user_principal_name
        .clone()
        .unwrap_or_else(|| recipient.name.clone())
}

fn apply_to_mailbox(
    mailbox: &mut Mailbox,
    operation: &Operation,
    directory: &Directory,
) -> Result<(), TenantError> {
    match operation {
        Operation::SetMailbox { setting, .. } => {
            match setting {
                MailboxSetting::DisplayName(v) => mailbox.display_name = v.clone(),
                MailboxSetting::HiddenFromAddressLists(v) => {
                    mailbox.hidden_from_address_lists_enabled = *v
                }
                MailboxSetting::CopyForSendAs(v) => mailbox.message_copy_for_sent_as_enabled = *v,
                MailboxSetting::CopyForSendOnBehalf(v) => {
                    mailbox.message_copy_for_send_on_behalf_enabled = *v
                }
                MailboxSetting::ModerationEnabled(v) => {
                    if *v && mailbox.moderated_by.is_empty() {
                        return Err(no_moderator(mailbox));
                    }
                    mailbox.moderation_enabled = *v
                }
                MailboxSetting::ModerationNotifications(v) => {
                    if !["Always", "Internal", "Never"].contains(&v.as_str()) {
                        return Err(TenantError::Rejected {
                            message: format!(
                                "`{v}` is not a valid value for `SendModerationNotifications`"
                            ),
                            hint: Some("use `Always`, `Internal` or `Never`".to_owned()),
                        });
                    }
                    mailbox.send_moderation_notifications = v.clone()
                }
            }
            Ok(())
        }
        Operation::AddToList {
            list, principal, ..
        } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            let entries = list_mut(mailbox, *list);
            if !entries.iter().any(|e| denotes(directory, e, principal)) {
                entries.push(recipient.name.clone());
            }
            Ok(())
        }
        Operation::RemoveFromList {
            list, principal, ..
        } => {
            list_mut(mailbox, *list).retain(|e| !denotes(directory, e, principal));
            if *list == PrincipalList::Moderators
                && mailbox.moderation_enabled
                && mailbox.moderated_by.is_empty()
            {
                return Err(no_moderator(mailbox));
            }
            Ok(())
        }
        Operation::GrantSendAs { principal, .. } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "Send As")?;
            let exists = mailbox.recipient_permissions.iter().any(|row| {
                !row.is_inherited
                    && row.access_control_type == "Allow"
                    && has_right(&row.access_rights, "SendAs")
                    && denotes(directory, &row.trustee, principal)
            });
            if !exists {
                mailbox.recipient_permissions.push(RecipientPermission {
                    trustee: acl_form(recipient),
                    access_rights: vec!["SendAs".to_owned()],
                    is_inherited: false,
                    access_control_type: "Allow".to_owned(),
                });
            }
            Ok(())
        }
        Operation::RevokeSendAs { principal, .. } => {
            for row in &mut mailbox.recipient_permissions {
                if !row.is_inherited
                    && row.access_control_type == "Allow"
                    && denotes(directory, &row.trustee, principal)
                {
                    row.access_rights
                        .retain(|r| !r.eq_ignore_ascii_case("SendAs"));
                }
            }
            mailbox
                .recipient_permissions
                .retain(|row| !row.access_rights.is_empty());
            Ok(())
        }
        Operation::GrantFullAccess {
            principal,
            auto_mapping,
            ..
        } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "Full Access")?;
            let existing = mailbox.mailbox_permissions.iter_mut().find(|row| {
                !row.is_inherited && !row.deny && denotes(directory, &row.user, principal)
            });
            match existing {
                Some(row) if has_right(&row.access_rights, "FullAccess") => {}
                Some(row) => {
                    row.access_rights.insert(0, "FullAccess".to_owned());
                    row.auto_mapping = Some(*auto_mapping);
                }
                None => mailbox.mailbox_permissions.push(MailboxPermission {
                    user: acl_form(recipient),
                    access_rights: vec!["FullAccess".to_owned()],
                    is_inherited: false,
                    deny: false,
                    auto_mapping: Some(*auto_mapping),
                }),
            }
            Ok(())
        }
        Operation::RevokeFullAccess { principal, .. } => {
            for row in &mut mailbox.mailbox_permissions {
                if !row.is_inherited && !row.deny && denotes(directory, &row.user, principal) {
                    row.access_rights
                        .retain(|r| !r.eq_ignore_ascii_case("FullAccess"));
                }
            }
            mailbox
                .mailbox_permissions
                .retain(|row| !row.access_rights.is_empty());
            Ok(())
        }
        Operation::AddSentItemsPermission {
            principal, access, ..
        } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "folder permissions")?;
            let folder = &mut mailbox.sent_items;
            match folder
                .permissions
                .iter()
                .find(|row| denotes(directory, &row.user, principal))
            {
                Some(row)
                    if row.access_rights.len() == 1
                        && row.access_rights[0].eq_ignore_ascii_case(access) =>
                {
                    Ok(())
                }
                Some(_) => Err(TenantError::Rejected {
                    message: format!(
                        "an existing permission entry was found for user `{}` on folder `{}`",
                        recipient.display_name, folder.name
                    ),
                    hint: Some("use `Set-MailboxFolderPermission` to change it".to_owned()),
                }),
                None => {
                    folder.permissions.push(FolderPermission {
                        user: recipient.display_name.clone(),
                        access_rights: vec![access.clone()],
                    });
                    Ok(())
                }
            }
        }
        Operation::SetSentItemsPermission {
            principal, access, ..
        } => {
            let folder = &mut mailbox.sent_items;
            let name = folder.name.clone();
            let row = folder
                .permissions
                .iter_mut()
                .find(|row| denotes(directory, &row.user, principal))
                .ok_or_else(|| TenantError::Rejected {
                    message: format!(
                        "there is no existing permission entry for `{}` on folder `{name}`",
                        principal.label()
                    ),
                    hint: Some("use `Add-MailboxFolderPermission` to add one".to_owned()),
                })?;
            row.access_rights = vec![access.clone()];
            Ok(())
        }
        Operation::RemoveSentItemsPermission { principal, .. } => {
            mailbox
                .sent_items
                .permissions
                .retain(|row| !denotes(directory, &row.user, principal));
            Ok(())
        }
        Operation::SetClient { setting, .. } => {
            match setting {
                ClientSetting::Switch { switch, enabled } => {
                    *mailbox.cas_mailbox.get_mut(*switch) = Some(*enabled)
                }
                ClientSetting::SmtpClientAuthenticationDisabled(v) => {
                    mailbox.cas_mailbox.smtp_client_authentication_disabled = *v
                }
            }
            Ok(())
        }
        Operation::CreateMailbox { .. }
        | Operation::RemoveMailbox { .. }
        | Operation::SetOrganization { .. } => {
            unreachable!("handled by TenantFile::apply")
        }
    }
}

fn no_moderator(mailbox: &Mailbox) -> TenantError {
    TenantError::Rejected {
        message: format!(
            "moderation of `{}` needs at least one moderator in `ModeratedBy`",
            mailbox.primary_smtp_address
        ),
        hint: Some(
            "add a moderator before enabling moderation, or disable moderation first".to_owned(),
        ),
    }
}

fn has_right(rights: &[String], right: &str) -> bool {
    rights.iter().any(|r| r.eq_ignore_ascii_case(right))
}

fn list_mut(mailbox: &mut Mailbox, list: PrincipalList) -> &mut Vec<String> {
    match list {
        PrincipalList::SendOnBehalf => &mut mailbox.grant_send_on_behalf_to,
        PrincipalList::Moderators => &mut mailbox.moderated_by,
        PrincipalList::ModerationBypass => &mut mailbox.bypass_moderation_from_senders_or_members,
    }
}

/// A tenant kept in one YAML file.
#[derive(Debug)]
pub struct FileTenant {
    path: PathBuf,
    write_lock: tokio::sync::Mutex<()>,
}

impl FileTenant {
    /// Opens the tenant file at `path`, checking that it exists and parses.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileTenant, TenantError> {
        let tenant = FileTenant {
            path: path.into(),
            write_lock: tokio::sync::Mutex::new(()),
        };
        tenant.load()?;
        Ok(tenant)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and parses the file.
    pub fn load(&self) -> Result<TenantFile, TenantError> {
        let text = std::fs::read_to_string(&self.path).map_err(|source| TenantError::Io {
            path: self.path.clone(),
            source,
        })?;
        TenantFile::parse(&text, &self.path)
    }

    /// Replaces the file atomically with `contents`.
    pub fn save(&self, contents: &TenantFile) -> Result<(), TenantError> {
        let text = serde_saphyr::to_string(contents).map_err(|e| TenantError::InvalidFile {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        write_atomically(&self.path, text.as_bytes()).map_err(|source| TenantError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// The same failure for every operation of a round that could not be loaded or saved.
fn every_failed(operations: &[Operation], error: &TenantError) -> Vec<Result<(), TenantError>> {
    operations
        .iter()
        .map(|_| {
            Err(TenantError::Rejected {
                message: error.to_string(),
                hint: error.hint(),
            })
        })
        .collect()
}

/// Writes `bytes` to `path` so that readers see the old or the new contents, never a mix:
/// a temporary file in the same directory, fsync, rename over `path`, fsync of the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = std::fs::File::open(dir) {
            dir.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[async_trait::async_trait]
impl Tenant for FileTenant {
    fn name(&self) -> String {
        match self.load() {
            Ok(file) if !file.organization.name.is_empty() => file.organization.name,
            _ => self.path.display().to_string(),
        }
    }

    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError> {
        let _guard = self.write_lock.lock().await;
        let mut contents = self.load()?;
        let Some(simulation) = contents
            .simulation
            .as_mut()
            .filter(|s| s.lagging_reads_left > 0)
        else {
            return Ok(contents.snapshot(scope));
        };
        simulation.lagging_reads_left -= 1;
        let old = if simulation.lagging_reads_left == 0 {
            simulation.lagging_state.take()
        } else {
            simulation.lagging_state.clone()
        };
        let shown = old.map(|old| old.snapshot(scope));
        self.save(&contents)?;
        Ok(shown.unwrap_or_else(|| contents.snapshot(scope)))
    }

    async fn execute(&self, operation: &Operation) -> Result<(), TenantError> {
        let _guard = self.write_lock.lock().await;
        let mut contents = self.load()?;
        if let Some(simulation) = &mut contents.simulation {
            if let Some(ms) = simulation.write_delay_ms {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            simulation.writes += 1;
            if simulation.fail_on_write == Some(simulation.writes) {
                let number = simulation.writes;
                self.save(&contents)?;
                return Err(TenantError::Rejected {
                    message: format!(
                        "simulated failure of write {number} (`simulation.failOnWrite` in the tenant file)"
                    ),
                    hint: None,
                });
            }
        }
        let before = contents.clone();
        contents.apply(operation)?;
        if let Some(simulation) = &mut contents.simulation
            && let Some(lag) = simulation.visibility_lag_reads.filter(|l| *l > 0)
        {
            if simulation.lagging_state.is_none() {
                let mut old = before;
                old.simulation = None;
                simulation.lagging_state = Some(Box::new(old));
            }
            simulation.lagging_reads_left = lag;
        }
        self.save(&contents)
    }

    /// One load and one atomic save for the whole round (a 200-mailbox file is parsed and
    /// written once, not once per step). With `simulation` faults configured, every write is
    /// executed on its own, so that `failOnWrite` and lag count single writes.
    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        let _guard = self.write_lock.lock().await;
        let loaded = match self.load() {
            Ok(contents) if contents.simulation.is_none() => contents,
            Ok(_) => {
                drop(_guard);
                let mut results = Vec::with_capacity(operations.len());
                for operation in operations {
                    results.push(self.execute(operation).await);
                }
                return results;
            }
            Err(e) => return every_failed(operations, &e),
        };
        let mut contents = loaded;
        // `apply` changes nothing when it refuses an operation.
        let results: Vec<Result<(), TenantError>> =
            operations.iter().map(|o| contents.apply(o)).collect();
        if results.iter().any(Result::is_ok)
            && let Err(e) = self.save(&contents)
        {
            // Nothing of the round reached the file.
            return every_failed(operations, &e);
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrincipalId;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    fn fixture() -> TenantFile {
        TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap()
    }

    fn principal(file: &TenantFile, address: &str) -> Principal {
        let recipient = file.directory().resolve_policy(address).cloned().unwrap();
        Principal::Recipient {
            id: PrincipalId::of(&recipient),
            address: address.to_owned(),
        }
    }

    #[test]
    fn creating_an_existing_mailbox_fails_and_a_new_one_gets_exchange_defaults() {
        let mut file = fixture();
        let err = file
            .apply(&Operation::CreateMailbox {
                mailbox: "support@fabrikam.com".into(),
                display_name: "x".into(),
            })
            .unwrap_err();
        assert!(matches!(err, TenantError::MailboxExists(_)));
        let err = file
            .apply(&Operation::CreateMailbox {
                mailbox: "anna.berg@fabrikam.com".into(),
                display_name: "x".into(),
            })
            .unwrap_err();
        assert!(
            matches!(err, TenantError::MailboxExists(_)),
            "a user's proxy address is taken too"
        );
        file.apply(&Operation::CreateMailbox {
            mailbox: "neu@fabrikam.com".into(),
            display_name: "Neu".into(),
        })
        .unwrap();
        let created = file.mailboxes.last().unwrap();
        assert_eq!(created.primary_smtp_address, "neu@fabrikam.com");
        assert_eq!(
            created.name,
            created.external_directory_object_id.clone().unwrap(),
            "new objects are named by their object id"
        );
        assert_eq!(created.mailbox_permissions[0].user, "NT AUTHORITY\\SELF");
        assert_eq!(created.sent_items.name, "Sent Items");
        assert!(!created.message_copy_for_sent_as_enabled);
        assert_eq!(created.cas_mailbox.imap_enabled, Some(true));
    }

    #[test]
    fn grants_are_idempotent_and_stored_in_exchange_form() {
        let mut file = fixture();
        let clara = principal(&file, "clara@fabrikam.com");
        let grant = Operation::GrantSendAs {
            mailbox: "support@fabrikam.com".into(),
            principal: clara.clone(),
        };
        file.apply(&grant).unwrap();
        file.apply(&grant).unwrap();
        let rows: Vec<_> = file.mailboxes[0]
            .recipient_permissions
            .iter()
            .filter(|r| r.trustee == "clara@fabrikam.com")
            .collect();
        assert_eq!(rows.len(), 1, "granting twice leaves one row");
        let revoke = Operation::RevokeSendAs {
            mailbox: "support@fabrikam.com".into(),
            principal: clara.clone(),
        };
        file.apply(&revoke).unwrap();
        file.apply(&revoke).unwrap();
        assert!(
            !file.mailboxes[0]
                .recipient_permissions
                .iter()
                .any(|r| r.trustee == "clara@fabrikam.com")
        );

        let add = Operation::AddToList {
            mailbox: "support@fabrikam.com".into(),
            list: PrincipalList::SendOnBehalf,
            principal: clara,
        };
        file.apply(&add).unwrap();
        file.apply(&add).unwrap();
        assert_eq!(
            file.mailboxes[0].grant_send_on_behalf_to,
            ["bkrause", "0a1b2c3d-0000-4000-8000-000000000003"],
            "Names, once"
        );
    }

    #[test]
    fn exchange_refusals_are_reproduced() {
        let mut file = fixture();
        let all_staff = principal(&file, "all-staff@fabrikam.com");
        let err = file
            .apply(&Operation::GrantFullAccess {
                mailbox: "support@fabrikam.com".into(),
                principal: all_staff,
                auto_mapping: true,
            })
            .unwrap_err();
        assert!(
            matches!(err, TenantError::Rejected { .. }),
            "a distribution group cannot hold Full Access"
        );
        let err = file
            .apply(&Operation::SetMailbox {
                mailbox: "support@fabrikam.com".into(),
                setting: MailboxSetting::ModerationEnabled(true),
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("needs at least one moderator"),
            "{err}"
        );
        let err = file
            .apply(&Operation::SetMailbox {
                mailbox: "nobody@fabrikam.com".into(),
                setting: MailboxSetting::CopyForSendAs(true),
            })
            .unwrap_err();
        assert!(matches!(err, TenantError::MailboxNotFound(_)));
        let ghost = Principal::Recipient {
            id: PrincipalId("00000000-0000-0000-0000-000000000000".into()),
            address: "ghost@fabrikam.com".into(),
        };
        let err = file
            .apply(&Operation::GrantSendAs {
                mailbox: "support@fabrikam.com".into(),
                principal: ghost,
            })
            .unwrap_err();
        assert!(matches!(err, TenantError::PrincipalNotFound(_)));
        let clara = principal(&file, "clara@fabrikam.com");
        let err = file
            .apply(&Operation::AddSentItemsPermission {
                mailbox: "support@fabrikam.com".into(),
                principal: clara,
                access: "Editor".into(),
            })
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("an existing permission entry was found"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn writes_are_atomic_and_see_changes_made_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.yaml");
        std::fs::write(&path, FIXTURE).unwrap();
        let tenant = FileTenant::open(&path).unwrap();
        tenant
            .execute(&Operation::SetMailbox {
                mailbox: "support@fabrikam.com".into(),
                setting: MailboxSetting::CopyForSendAs(true),
            })
            .await
            .unwrap();
        // Someone edits the file between two steps; the next write keeps their change.
        let mut edited = tenant.load().unwrap();
        edited.mailboxes[1].hidden_from_address_lists_enabled = true;
        tenant.save(&edited).unwrap();
        tenant
            .execute(&Operation::SetOrganization {
                setting: OrganizationSetting::SendFromAliasEnabled(true),
            })
            .await
            .unwrap();
        let file = tenant.load().unwrap();
        assert!(file.mailboxes[0].message_copy_for_sent_as_enabled);
        assert!(file.mailboxes[1].hidden_from_address_lists_enabled);
        assert!(file.organization.send_from_alias_enabled);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files are left behind");
        // A failed write leaves the file as it was.
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(
            tenant
                .execute(&Operation::RemoveMailbox {
                    mailbox: "nobody@fabrikam.com".into()
                })
                .await
                .is_err()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn an_invalid_tenant_file_names_the_problem() {
        let err = TenantFile::parse(
            "organization:\n  name: x\nmailboxes:\n  - guid: 1\n    nmae: y\n",
            Path::new("t.yaml"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("t.yaml") && text.contains("nmae"), "{text}");
    }
}
