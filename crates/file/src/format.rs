//! The file's format and the reference behaviour of writes: [`TenantFile`] (a snapshot of
//! the tenant as Exchange returns it, plus the [`Simulation`] knobs) and
//! [`TenantFile::apply`], one [`Operation`] applied the way Exchange would.

use std::path::Path;

use serde::{Deserialize, Serialize};

use sharedbox_tenant::observe::{FolderEntry, denotes};
use sharedbox_tenant::{
    Definition, Directory, FolderPermission, Mailbox, MailboxPermission, Operation,
    OrganizationConfig, Principal, PrincipalList, Property, ReadScope, Recipient,
    RecipientPermission, Snapshot, SoftDeletedMailbox, TenantError, TenantErrorKind, Value,
    WellKnownFolder, canonical_flags,
};

use crate::backend::FileError;

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
    /// Mailboxes removed within the last 30 days (`Get-Mailbox -SoftDeletedMailbox`), holding
    /// their addresses: `Remove-Mailbox` moves a mailbox here, `-PermanentlyDelete` purges it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub soft_deleted_mailboxes: Vec<SoftDeletedMailbox>,
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
    /// How the `failOnWrite` write fails (`invalid` when absent: a permanent refusal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_kind: Option<FailKind>,
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

/// How a simulated write failure presents itself, so that retry handling can be tried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailKind {
    /// Refused as invalid: permanent.
    #[default]
    Invalid,
    /// Refused for want of a permission: permanent.
    Forbidden,
    /// Throttled: worth a retry.
    Throttled,
    /// A passing failure: worth a retry.
    Transient,
}

impl FailKind {
    /// The tenant error kind it simulates.
    pub fn kind(self) -> TenantErrorKind {
        match self {
            FailKind::Invalid => TenantErrorKind::Invalid,
            FailKind::Forbidden => TenantErrorKind::Forbidden,
            FailKind::Throttled => TenantErrorKind::Throttled,
            FailKind::Transient => TenantErrorKind::Transient,
        }
    }
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
            TenantError::backend(
                TenantErrorKind::Invalid,
                FileError::Invalid {
                    path: path.to_owned(),
                    message: match message.char_indices().nth(300) {
                        Some((at, _)) => format!("{}…", &message[..at]),
                        None => message,
                    },
                },
            )
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
                .filter(|m| scope.all_shared || m.is_any_of(&wanted))
                .map(|m| {
                    let mut m = m.clone();
                    // A file of an older format holds no root rows: the root a new
                    // mailbox has.
                    m.root_folder
                        .get_or_insert_with(FolderPermission::built_in_rows);
                    // Every folder of the file is read: one it does not hold has only the
                    // built-in rows, as in a new mailbox.
                    for folder in [WellKnownFolder::Inbox, WellKnownFolder::Calendar] {
                        m.folder_mut(folder);
                    }
                    // A mailbox the file gives no automatic replies has Exchange's defaults.
                    m.auto_reply.get_or_insert_with(Default::default);
                    m
                })
                .collect(),
            all_shared_mailboxes: self
                .mailboxes
                .iter()
                .map(|m| m.primary_smtp_address.clone())
                .collect(),
            index: Default::default(),
            soft_deleted: self.soft_deleted_mailboxes.clone(),
            // The file holds every group's members: they are always "read".
            groups_read: true,
        }
    }

    /// Applies one operation the way Exchange would; a refused operation changes nothing.
    pub fn apply(&mut self, operation: &Operation) -> Result<(), TenantError> {
        // Only operations that name a principal (or create, or forward to a recipient) need
        // the directory; building it
        // costs a pass over every recipient.
        let needs_directory = !matches!(
            operation,
            Operation::SetMailbox { setting, .. } if setting.property != Property::ForwardingAddress
        ) && !matches!(
            operation,
            Operation::SetOrganization { .. } | Operation::RemoveMailbox { .. }
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
                if let Some(held) = self
                    .soft_deleted_mailboxes
                    .iter()
                    .find(|m| m.holds(mailbox))
                {
                    return Err(TenantError::Rejected {
                        message: format!(
                            "the address `{mailbox}` is still held by the soft-deleted mailbox `{}`",
                            held.primary_smtp_address
                        ),
                        hint: Some(soft_deleted_hint(&held.primary_smtp_address)),
                    });
                }
                self.mailboxes
                    .push(new_shared_mailbox(mailbox, display_name));
                Ok(())
            }
            Operation::RemoveMailbox { mailbox } => {
                let index = self.index_of(mailbox)?;
                let removed = self.mailboxes.remove(index);
                // Exchange keeps it soft-deleted for 30 days, with its addresses.
                self.soft_deleted_mailboxes
                    .push(SoftDeletedMailbox::of(&removed));
                Ok(())
            }
            Operation::SetOrganization { setting } => {
                let definition = setting.property.definition();
                let value = checked(definition, &setting.value)?;
                (definition.set)(&mut self.organization, value);
                Ok(())
            }
            Operation::CreateServicePrincipal {
                app_id,
                object_id,
                display_name,
            } => {
                let taken = self
                    .recipients
                    .iter()
                    .any(|r| r.is_registration_of(app_id, object_id));
                if taken {
                    return Err(TenantError::Rejected {
                        message: format!(
                            "a service principal with AppId `{app_id}` or ObjectId `{object_id}` already exists"
                        ),
                        hint: None,
                    });
                }
                self.recipients.push(Recipient {
                    external_directory_object_id: Some(object_id.to_ascii_lowercase()),
                    guid: stable_guid(&format!("sp|{object_id}")),
                    name: object_id.to_ascii_lowercase(),
                    display_name: display_name.clone(),
                    recipient_type_details: sharedbox_tenant::model::SERVICE_PRINCIPAL.to_owned(),
                    app_id: Some(app_id.to_ascii_lowercase()),
                    ..Recipient::default()
                });
                Ok(())
            }
            Operation::RemoveServicePrincipal { app_id, object_id } => {
                self.recipients
                    .retain(|r| !r.is_registration_of(app_id, object_id));
                Ok(())
            }
            other => {
                let index = self.index_of(other.mailbox().unwrap_or_default())?;
                // Hybrid: what on-premises AD masters is refused in the cloud.
                if let Some(parameter) = self.mailboxes[index].mastered_on_premises(other) {
                    let address = &self.mailboxes[index].primary_smtp_address;
                    return Err(TenantError::Rejected {
                        message: format!(
                            "The operation on mailbox \"{address}\" failed because it's out of the current user's write scope. The action '{}', '{parameter}', can't be performed on the object '{address}' because the object is being synchronized from your on-premises organization. This action should be performed on the object in your on-premises organization.",
                            other.cmdlet()
                        ),
                        hint: Some("change it in on-premises Exchange; sharedbox plans refuse it for a synchronised mailbox".to_owned()),
                    });
                }
                if let Operation::AddAlias { address, .. } = other {
                    self.check_new_alias(index, address, &directory)?;
                }
                // On a copy, so that a refused operation leaves the mailbox as it was.
                let mut mailbox = self.mailboxes[index].clone();
                apply_to_mailbox(&mut mailbox, other, &directory)?;
                self.mailboxes[index] = mailbox;
                Ok(())
            }
        }
    }

    /// What Exchange checks before it adds a secondary address to the mailbox at `index`:
    /// the address is valid, in an accepted domain, and held by no other recipient
    /// (soft-deleted mailboxes included).
    fn check_new_alias(
        &self,
        index: usize,
        address: &str,
        directory: &Directory,
    ) -> Result<(), TenantError> {
        let mailbox = &self.mailboxes[index];
        let Some((_, domain)) = address
            .rsplit_once('@')
            .filter(|(l, d)| !l.is_empty() && d.contains('.'))
        else {
            return Err(TenantError::Rejected {
                message: format!("the email address \"{address}\" isn't correct"),
                hint: Some("an alias is `name@domain`".to_owned()),
            });
        };
        let domains = &self.organization.accepted_domains;
        if !domains.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err(TenantError::Rejected {
                message: format!(
                    "The domain \"{domain}\" of the address \"smtp:{address}\" isn't an accepted domain of your organization"
                ),
                hint: Some(
                    "add and verify the domain first, or choose an address in an accepted domain"
                        .to_owned(),
                ),
            });
        }
        let holder = directory
            .recipients()
            .iter()
            .filter(|r| {
                !r.primary_smtp_address
                    .eq_ignore_ascii_case(&mailbox.primary_smtp_address)
            })
            .find(|r| r.smtp_addresses().contains(&address.to_ascii_lowercase()))
            .map(|r| r.primary_smtp_address.clone())
            .or_else(|| {
                self.soft_deleted_mailboxes
                    .iter()
                    .find(|m| m.holds(address))
                    .map(|m| m.primary_smtp_address.clone())
            });
        match holder {
            Some(holder) => Err(TenantError::Rejected {
                message: format!(
                    "The proxy address \"SMTP:{address}\" is already being used by the proxy addresses or LegacyExchangeDN of \"{holder}\". Please choose another proxy address."
                ),
                hint: Some(
                    "an address belongs to one recipient; remove it from the other one first"
                        .to_owned(),
                ),
            }),
            None => Ok(()),
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
/// What to do about a soft-deleted mailbox that holds an address.
pub fn soft_deleted_hint(address: &str) -> String {
    format!(
        "restore it with `Undo-SoftDeletedMailbox -SoftDeletedObject {address}`, purge it with `Remove-Mailbox -Identity {address} -PermanentlyDelete`, or choose another address; Exchange frees it by itself 30 days after the removal"
    )
}

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
        Principal::Recipient { id, address, .. } => directory
            .get(id)
            .map(Some)
            .ok_or_else(|| TenantError::PrincipalNotFound(address.clone())),
        Principal::Orphaned { .. } => Ok(None),
        Principal::Unresolved { raw } => match directory.resolve_live(raw) {
            sharedbox_tenant::LivePrincipal::Recipient(r) => Ok(Some(r)),
            _ => Ok(None),
        },
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
/// A service principal is written by its object id, as `-User` names it (how Exchange shows
/// it is not documented; clients resolve every spelling).
fn acl_form(recipient: &Recipient) -> String {
    if recipient.is_service_principal()
        && let Some(id) = &recipient.external_directory_object_id
    {
        return id.clone();
    }
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
            let value = checked(setting.definition(), &setting.value)?;
            if setting.property == Property::ModerationEnabled
                && value.flag()
                && mailbox.moderated_by.is_empty()
            {
                return Err(no_moderator(mailbox));
            }
            let value = match (setting.property, value) {
                // `ForwardingAddress` takes a recipient of the organisation; the mailbox
                // holds it as its primary SMTP address.
                (Property::ForwardingAddress, Value::Text(identity)) => {
                    let recipient = directory
                        .resolve_policy(&identity)
                        .filter(|r| r.is_mail_enabled())
                        .ok_or_else(|| TenantError::Rejected {
                            message: format!(
                                "`{}` is not a mail-enabled recipient of the organisation: `ForwardingAddress` takes a mailbox, mail user, mail contact or group",
                                sharedbox_tenant::printable(&identity, 200)
                            ),
                            hint: Some(
                                "forward to an outside address with `ForwardingSmtpAddress`"
                                    .to_owned(),
                            ),
                        })?;
                    Value::Text(recipient.primary_smtp_address.to_ascii_lowercase())
                }
                (_, value) => value,
            };
            (setting.definition().set)(mailbox, value);
            Ok(())
        }
        Operation::AddToList {
            list, principal, ..
        } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            if *list == PrincipalList::Moderators && !recipient.can_moderate() {
                return Err(TenantError::Rejected {
                    message: format!(
                        "`{}` is a {}: `ModeratedBy` takes only mailboxes, mail users and mail contacts",
                        principal.identity(),
                        recipient.recipient_type_details
                    ),
                    hint: Some("name a mailbox, mail user or mail contact as moderator".to_owned()),
                });
            }
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
        Operation::AddAlias { address, .. } => {
            if !mailbox.has_address(address) {
                mailbox.email_addresses.push(format!("smtp:{address}"));
            }
            Ok(())
        }
        Operation::RemoveAlias { address, .. } => {
            // The lower-case `smtp:` prefix only: the primary (`SMTP:`) stays.
            mailbox.email_addresses.retain(|proxy| {
                !proxy
                    .split_once(':')
                    .is_some_and(|(prefix, a)| prefix == "smtp" && a.eq_ignore_ascii_case(address))
            });
            Ok(())
        }
        Operation::GrantSendAs { principal, .. } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "Send As")?;
            let exists = mailbox
                .recipient_permissions
                .iter()
                .any(|row| row.is_send_as_grant() && denotes(directory, &row.trustee, principal));
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
                if row.is_explicit_allow() && denotes(directory, &row.trustee, principal) {
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
            let existing = mailbox
                .mailbox_permissions
                .iter_mut()
                .find(|row| row.is_explicit_allow() && denotes(directory, &row.user, principal));
            match existing {
                Some(row) if row.is_full_access_grant() => {}
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
                if row.is_explicit_allow() && denotes(directory, &row.user, principal) {
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
                        sharing_permission_flags: Vec::new(),
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
        Operation::AddFolderPermission {
            folder,
            principal,
            access,
            flags,
            ..
        } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "folder permissions")?;
            check_folder_entry(*folder, access, flags)?;
            let wanted = FolderEntry {
                access: access.clone(),
                flags: flags.clone(),
            };
            let folder = mailbox.folder_mut(*folder);
            match folder
                .permissions
                .iter()
                .find(|row| denotes(directory, &row.user, principal))
            {
                Some(row) if FolderEntry::of(row).same(&wanted) => Ok(()),
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
                        sharing_permission_flags: canonical_flags(flags),
                    });
                    Ok(())
                }
            }
        }
        Operation::SetFolderPermission {
            folder,
            principal,
            access,
            flags,
            ..
        } => {
            check_folder_entry(*folder, access, flags)?;
            let folder = mailbox.folder_mut(*folder);
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
            row.sharing_permission_flags = canonical_flags(flags);
            Ok(())
        }
        Operation::RemoveFolderPermission {
            folder, principal, ..
        } => {
            mailbox
                .folder_mut(*folder)
                .permissions
                .retain(|row| !denotes(directory, &row.user, principal));
            Ok(())
        }
        // An entry the principal holds already (any role) is left as it is: the root is
        // not sharedbox's beyond the `FolderVisible` it grants.
        Operation::GrantRootVisibility { principal, .. } => {
            let recipient = resolve(directory, principal)?
                .ok_or_else(|| TenantError::PrincipalNotFound(principal.label()))?;
            require_security_principal(recipient, "folder permissions")?;
            let rows = mailbox
                .root_folder
                .get_or_insert_with(FolderPermission::built_in_rows);
            if !rows
                .iter()
                .any(|row| denotes(directory, &row.user, principal))
            {
                rows.push(FolderPermission {
                    user: recipient.display_name.clone(),
                    access_rights: vec![sharedbox_tenant::FOLDER_VISIBLE.to_owned()],
                    sharing_permission_flags: Vec::new(),
                });
            }
            Ok(())
        }
        Operation::RevokeRootVisibility { principal, .. } => {
            mailbox
                .root_folder
                .get_or_insert_with(FolderPermission::built_in_rows)
                .retain(|row| !denotes(directory, &row.user, principal));
            Ok(())
        }
        // The mailbox exists: Exchange refuses to create it again.
        Operation::CreateMailbox { .. } => Err(TenantError::MailboxExists(
            mailbox.primary_smtp_address.clone(),
        )),
        Operation::RemoveMailbox { .. }
        | Operation::SetOrganization { .. }
        | Operation::CreateServicePrincipal { .. }
        | Operation::RemoveServicePrincipal { .. } => Err(TenantError::Rejected {
            message: format!("`{}` is not a write inside one mailbox", operation.cmdlet()),
            hint: None,
        }),
    }
}

/// Exchange's refusal of a folder entry with delegate flags it does not take
/// ([`sharedbox_tenant::check_folder_entry`]).
fn check_folder_entry(
    folder: WellKnownFolder,
    access: &str,
    flags: &[String],
) -> Result<(), TenantError> {
    sharedbox_tenant::check_folder_entry(folder, access, flags).map_err(|message| {
        TenantError::Rejected {
            message,
            hint: Some(
                "give delegate flags on the calendar only, with `-AccessRights Editor`, and `CanViewPrivateItems` only with `Delegate`"
                    .to_owned(),
            ),
        }
    })
}

/// `value` as Exchange would store it for `definition`, or Exchange's refusal.
fn checked<T>(definition: &Definition<T>, value: &Value) -> Result<Value, TenantError> {
    definition
        .check(value)
        .map_err(|message| TenantError::Rejected {
            message,
            hint: None,
        })
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

fn list_mut(mailbox: &mut Mailbox, list: PrincipalList) -> &mut Vec<String> {
    match list {
        PrincipalList::SendOnBehalf => &mut mailbox.grant_send_on_behalf_to,
        PrincipalList::Moderators => &mut mailbox.moderated_by,
        PrincipalList::ModerationBypass => &mut mailbox.bypass_moderation_from_senders_or_members,
    }
}
