//! What an operation touches, observed in a snapshot: the basis of journals, rollback and
//! verification.
//!
//! [`observe`] reads the current value of exactly the property or grant an [`Operation`]
//! changes; [`expected`] says what that value is once the operation has run. Rollback of a
//! step compares the observation now with the step's before-image and expected value:
//! equal to expected -> write the before-image back ([`crate::undo()`]); equal to before ->
//! nothing to do; anything else -> conflict.

use serde::{Deserialize, Serialize};

use crate::catalog::Value;
use crate::directory::{Directory, LivePrincipal, PrincipalId};
use crate::model::{Mailbox, Snapshot};
use crate::operation::{Operation, Principal, PrincipalList};

/// The observed value of what one operation touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Observation {
    /// The mailbox the operation concerns does not exist.
    MailboxMissing,
    /// Whether the mailbox exists (create and remove).
    Exists(bool),
    /// Whether the principal holds the grant or is in the list.
    Member(bool),
    /// The folder role the principal holds on Sent Items (or, for the root visibility
    /// writes, on the mailbox root), if any.
    FolderAccess(Option<String>),
    /// The entry the principal holds on a well-known folder (`folders.<key>` writes): its
    /// role and delegate flags, if any.
    FolderEntry(Option<FolderEntry>),
    /// The mailbox root's permissions were not read ([`Mailbox::root_folder`]): what a root
    /// visibility write touches is not known.
    RootNotRead,
    /// A text property.
    Text(String),
    /// A switch (`None` = not reported, or "inherit" for SMTP AUTH).
    Switch(Option<bool>),
}

/// A folder entry as [`Observation::FolderEntry`] holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderEntry {
    /// The role (`Reviewer`, `Editor`, ...; rights joined with `,`).
    pub access: String,
    /// The delegate flags, canonical ([`crate::canonical_flags`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

impl FolderEntry {
    /// The entry of a live row.
    pub fn of(row: &crate::FolderPermission) -> FolderEntry {
        FolderEntry {
            access: row.access_rights.join(","),
            flags: crate::canonical_flags(&row.sharing_permission_flags),
        }
    }

    /// Whether two entries are the same: the role without case, the flags as sets.
    pub fn same(&self, other: &FolderEntry) -> bool {
        self.access.eq_ignore_ascii_case(&other.access)
            && crate::canonical_flags(&self.flags) == crate::canonical_flags(&other.flags)
    }
}

/// `Editor (delegate, private items)`, `Reviewer`.
impl std::fmt::Display for FolderEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::printable(&self.access, 80))?;
        if !self.flags.is_empty() {
            write!(f, " ({})", crate::shown_flags(&self.flags))?;
        }
        Ok(())
    }
}

/// As people read it: `granted`, `not granted`, `Reviewer`, `true`, `"Support"`, ...
impl std::fmt::Display for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Observation::MailboxMissing => f.write_str("mailbox missing"),
            Observation::Exists(e) => f.write_str(if *e { "exists" } else { "absent" }),
            Observation::Member(m) => f.write_str(if *m { "granted" } else { "not granted" }),
            Observation::FolderAccess(a) => f.write_str(a.as_deref().unwrap_or("no access")),
            Observation::FolderEntry(Some(e)) => write!(f, "{e}"),
            Observation::FolderEntry(None) => f.write_str("no access"),
            Observation::RootNotRead => f.write_str("root folder not read"),
            Observation::Text(t) => write!(f, "{t:?}"),
            Observation::Switch(s) => match s {
                Some(b) => write!(f, "{b}"),
                None => f.write_str("unset"),
            },
        }
    }
}

/// The current value of what `operation` touches in `snapshot`.
///
/// `snapshot` must hold the operation's mailbox in its scope.
pub fn observe(snapshot: &Snapshot, operation: &Operation) -> Observation {
    let mailbox = operation
        .mailbox()
        .and_then(|address| snapshot.mailbox(address));
    observe_in(snapshot, mailbox, operation)
}

/// Like [`observe`], with `created` (mailboxes made since `snapshot` was read) looked up
/// first, so that the snapshot need not be copied to add them.
pub fn observe_with_created(
    snapshot: &Snapshot,
    created: &[Mailbox],
    operation: &Operation,
) -> Observation {
    let mailbox = operation.mailbox().and_then(|address| {
        created
            .iter()
            .find(|m| m.has_address(address))
            .or_else(|| snapshot.mailbox(address))
    });
    observe_in(snapshot, mailbox, operation)
}

/// What `operation` touches, in the organisation of `snapshot` or in `mailbox` (the
/// operation's mailbox, `None` when it does not exist).
fn observe_in(
    snapshot: &Snapshot,
    mailbox: Option<&Mailbox>,
    operation: &Operation,
) -> Observation {
    let directory = &snapshot.directory;
    match (operation, mailbox) {
        (Operation::SetOrganization { setting }, _) => {
            Observation::of((setting.property.definition().get)(&snapshot.organization))
        }
        (Operation::CreateMailbox { .. } | Operation::RemoveMailbox { .. }, mailbox) => {
            Observation::Exists(mailbox.is_some())
        }
        (
            Operation::CreateServicePrincipal { app_id, .. }
            | Operation::RemoveServicePrincipal { app_id, .. },
            _,
        ) => Observation::Exists(
            directory
                .resolve_policy(&format!("{}{app_id}", crate::directory::APP_PREFIX))
                .is_some_and(|r| r.is_service_principal()),
        ),
        (_, None) => Observation::MailboxMissing,
        (Operation::SetMailbox { setting, .. }, Some(mailbox)) => {
            Observation::of((setting.definition().get)(mailbox))
        }
        (
            Operation::AddToList {
                list, principal, ..
            }
            | Operation::RemoveFromList {
                list, principal, ..
            },
            Some(mailbox),
        ) => {
            let entries = match list {
                PrincipalList::SendOnBehalf => &mailbox.grant_send_on_behalf_to,
                PrincipalList::Moderators => &mailbox.moderated_by,
                PrincipalList::ModerationBypass => {
                    &mailbox.bypass_moderation_from_senders_or_members
                }
            };
            Observation::Member(entries.iter().any(|e| denotes(directory, e, principal)))
        }
        (
            Operation::AddAlias { address, .. } | Operation::RemoveAlias { address, .. },
            Some(mailbox),
        ) => Observation::Member(mailbox.has_alias(address)),
        (
            Operation::GrantSendAs { principal, .. } | Operation::RevokeSendAs { principal, .. },
            Some(mailbox),
        ) => Observation::Member(
            mailbox
                .recipient_permissions
                .iter()
                .any(|row| row.is_send_as_grant() && denotes(directory, &row.trustee, principal)),
        ),
        (
            Operation::GrantFullAccess { principal, .. }
            | Operation::RevokeFullAccess { principal, .. },
            Some(mailbox),
        ) => Observation::Member(
            mailbox
                .mailbox_permissions
                .iter()
                .any(|row| row.is_full_access_grant() && denotes(directory, &row.user, principal)),
        ),
        (
            Operation::AddSentItemsPermission { principal, .. }
            | Operation::SetSentItemsPermission { principal, .. }
            | Operation::RemoveSentItemsPermission { principal, .. },
            Some(mailbox),
        ) => Observation::FolderAccess(
            mailbox
                .sent_items
                .permissions
                .iter()
                .find(|row| denotes(directory, &row.user, principal))
                .map(|row| row.access_rights.join(",")),
        ),
        // A folder that was not read is the folder of a new mailbox (a mailbox this run
        // created): the readers read every folder a write touches.
        (
            Operation::AddFolderPermission {
                folder, principal, ..
            }
            | Operation::SetFolderPermission {
                folder, principal, ..
            }
            | Operation::RemoveFolderPermission {
                folder, principal, ..
            },
            Some(mailbox),
        ) => Observation::FolderEntry(
            mailbox
                .folder(*folder)
                .into_iter()
                .flat_map(|f| &f.permissions)
                .find(|row| denotes(directory, &row.user, principal))
                .map(FolderEntry::of),
        ),
        (
            Operation::GrantRootVisibility { principal, .. }
            | Operation::RevokeRootVisibility { principal, .. },
            Some(mailbox),
        ) => match &mailbox.root_folder {
            Some(rows) => Observation::FolderAccess(
                rows.iter()
                    .find(|row| denotes(directory, &row.user, principal))
                    .map(|row| row.access_rights.join(",")),
            ),
            None => Observation::RootNotRead,
        },
    }
}

/// What [`observe`] returns once `operation` has run.
pub fn expected(operation: &Operation) -> Observation {
    match operation {
        Operation::CreateMailbox { .. } | Operation::CreateServicePrincipal { .. } => {
            Observation::Exists(true)
        }
        Operation::RemoveMailbox { .. } | Operation::RemoveServicePrincipal { .. } => {
            Observation::Exists(false)
        }
        Operation::SetOrganization { setting } => Observation::of(setting.value.clone()),
        Operation::SetMailbox { setting, .. } => Observation::of(setting.value.clone()),
        Operation::AddToList { .. }
        | Operation::AddAlias { .. }
        | Operation::GrantSendAs { .. }
        | Operation::GrantFullAccess { .. } => Observation::Member(true),
        Operation::RemoveFromList { .. }
        | Operation::RemoveAlias { .. }
        | Operation::RevokeSendAs { .. }
        | Operation::RevokeFullAccess { .. } => Observation::Member(false),
        Operation::AddSentItemsPermission { access, .. }
        | Operation::SetSentItemsPermission { access, .. } => {
            Observation::FolderAccess(Some(access.clone()))
        }
        Operation::RemoveSentItemsPermission { .. } | Operation::RevokeRootVisibility { .. } => {
            Observation::FolderAccess(None)
        }
        Operation::AddFolderPermission { access, flags, .. }
        | Operation::SetFolderPermission { access, flags, .. } => {
            Observation::FolderEntry(Some(FolderEntry {
                access: access.clone(),
                flags: crate::canonical_flags(flags),
            }))
        }
        Operation::RemoveFolderPermission { .. } => Observation::FolderEntry(None),
        Operation::GrantRootVisibility { .. } => {
            Observation::FolderAccess(Some(crate::model::FOLDER_VISIBLE.to_owned()))
        }
    }
}

impl Observation {
    /// The observation of a catalogued property's value: a switch or a text.
    pub fn of(value: Value) -> Observation {
        match value {
            Value::Flag(b) => Observation::Switch(Some(b)),
            Value::Unset => Observation::Switch(None),
            Value::Text(t) => Observation::Text(t),
        }
    }

    /// Whether two observations are the same value (folder roles and text compare without
    /// case; [`same_value`] compares a setting's text as its catalogue says).
    pub fn matches(&self, other: &Observation) -> bool {
        match (self, other) {
            (Observation::FolderAccess(Some(a)), Observation::FolderAccess(Some(b)))
            | (Observation::Text(a), Observation::Text(b)) => a.eq_ignore_ascii_case(b),
            (Observation::FolderEntry(Some(a)), Observation::FolderEntry(Some(b))) => a.same(b),
            _ => self == other,
        }
    }
}

/// Whether `a` and `b` are the same value of what `operation` touches: a catalogued setting
/// as its catalogue compares ([`crate::Definition::same`]: free text exactly, choices without
/// case), anything else as [`Observation::matches`] does. A display name whose case changed is
/// another value.
pub fn same_value(operation: &Operation, a: &Observation, b: &Observation) -> bool {
    let value = |o: &Observation| match o {
        Observation::Switch(b) => Some(Value::from(*b)),
        Observation::Text(t) => Some(Value::Text(t.clone())),
        _ => None,
    };
    let compare = |same: &dyn Fn(&Value, &Value) -> bool| match (value(a), value(b)) {
        (Some(x), Some(y)) => same(&x, &y),
        _ => a == b,
    };
    match operation {
        Operation::SetMailbox { setting, .. } => compare(&|x, y| setting.definition().same(x, y)),
        Operation::SetOrganization { setting } => {
            compare(&|x, y| setting.property.definition().same(x, y))
        }
        _ => a.matches(b),
    }
}

/// Whether the live string `entry` denotes `principal`.
pub fn denotes(directory: &Directory, entry: &str, principal: &Principal) -> bool {
    match principal {
        Principal::Recipient { id, .. } => {
            matches!(directory.resolve_live(entry), LivePrincipal::Recipient(r) if PrincipalId::of(r) == *id)
        }
        Principal::Orphaned { raw } => entry.trim().eq_ignore_ascii_case(raw.trim()),
        Principal::Unresolved { raw } => {
            entry.trim().eq_ignore_ascii_case(raw.trim())
                || matches!(
                    (directory.resolve_live(entry), directory.resolve_live(raw)),
                    (LivePrincipal::Recipient(a), LivePrincipal::Recipient(b)) if PrincipalId::of(a) == PrincipalId::of(b)
                )
        }
    }
}

/// A mailbox with every list in a canonical order and write-once data (autoMapping) dropped:
/// two reads of the same state are equal, whatever order Exchange returned the rows in.
pub fn normalized(mailbox: &Mailbox) -> Mailbox {
    let mut m = mailbox.clone();
    m.email_addresses.sort();
    m.grant_send_on_behalf_to.sort();
    m.moderated_by.sort();
    m.bypass_moderation_from_senders_or_members.sort();
    m.mailbox_permissions
        .iter_mut()
        .for_each(|p| p.auto_mapping = None);
    m.mailbox_permissions
        .sort_by(|a, b| (&a.user, &a.access_rights).cmp(&(&b.user, &b.access_rights)));
    m.recipient_permissions
        .sort_by(|a, b| (&a.trustee, &a.access_rights).cmp(&(&b.trustee, &b.access_rights)));
    m.sent_items.permissions.sort_by(|a, b| a.user.cmp(&b.user));
    for folder in [&mut m.inbox, &mut m.calendar].into_iter().flatten() {
        folder.permissions.sort_by(|a, b| a.user.cmp(&b.user));
    }
    if let Some(rows) = &mut m.root_folder {
        rows.sort_by(|a, b| a.user.cmp(&b.user));
    }
    m
}

/// A fingerprint of a mailbox's managed state (of its [`normalized`] form): `absent` when the
/// mailbox does not exist.
pub fn fingerprint(mailbox: Option<&Mailbox>) -> String {
    match mailbox {
        Some(mailbox) => sha256(format!("{:?}", normalized(mailbox)).as_bytes()),
        None => "absent".to_owned(),
    }
}

/// A fingerprint of the organisation settings.
pub fn fingerprint_organization(organization: &crate::model::OrganizationConfig) -> String {
    sha256(format!("{organization:?}").as_bytes())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut out = String::from("sha256:");
    for byte in sha2::Sha256::digest(bytes) {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A key for what an operation touches: two operations with the same key change the same
/// property or grant (e.g. a revoke and a re-grant of one principal's FullAccess).
pub fn target(operation: &Operation) -> String {
    let mailbox = operation.mailbox().unwrap_or("").to_ascii_lowercase();
    match operation {
        Operation::CreateMailbox { .. } | Operation::RemoveMailbox { .. } => {
            format!("{mailbox}|exists")
        }
        Operation::SetOrganization { setting } => {
            format!("organization|{}", setting.property.definition().field)
        }
        Operation::CreateServicePrincipal { app_id, .. }
        | Operation::RemoveServicePrincipal { app_id, .. } => {
            format!("servicePrincipal|{}", app_id.to_ascii_lowercase())
        }
        Operation::SetMailbox { setting, .. } => {
            format!("{mailbox}|{}", setting.definition().field)
        }
        Operation::AddToList {
            list, principal, ..
        }
        | Operation::RemoveFromList {
            list, principal, ..
        } => {
            format!("{mailbox}|{list:?}|{}", principal.key())
        }
        Operation::AddAlias { address, .. } | Operation::RemoveAlias { address, .. } => {
            format!("{mailbox}|aliases|{}", address.to_ascii_lowercase())
        }
        Operation::GrantSendAs { principal, .. } | Operation::RevokeSendAs { principal, .. } => {
            format!("{mailbox}|sendAs|{}", principal.key())
        }
        Operation::GrantFullAccess { principal, .. }
        | Operation::RevokeFullAccess { principal, .. } => {
            format!("{mailbox}|fullAccess|{}", principal.key())
        }
        Operation::AddSentItemsPermission { principal, .. }
        | Operation::SetSentItemsPermission { principal, .. }
        | Operation::RemoveSentItemsPermission { principal, .. } => {
            format!("{mailbox}|sentItems|{}", principal.key())
        }
        // Sent Items is one target whichever field writes it.
        Operation::AddFolderPermission {
            folder, principal, ..
        }
        | Operation::SetFolderPermission {
            folder, principal, ..
        }
        | Operation::RemoveFolderPermission {
            folder, principal, ..
        } => format!("{mailbox}|{}|{}", folder.key(), principal.key()),
        Operation::GrantRootVisibility { principal, .. }
        | Operation::RevokeRootVisibility { principal, .. } => {
            format!("{mailbox}|root|{}", principal.key())
        }
    }
}

/// Whether a mailbox holds no grants besides the built-in ones: the condition for undoing
/// its creation. The same rule as planning and `--max-removals` ([`Mailbox::grant_count`]):
/// an inherited row, a deny row or a row without FullAccess or Send As is not a grant.
pub fn holds_no_grants(mailbox: &Mailbox) -> bool {
    mailbox.grant_count() == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Property;

    #[test]
    fn settings_compare_as_the_catalogue_says_and_folder_roles_without_case() {
        let text = |t: &str| Observation::Text(t.into());
        let name = Operation::set("a@contoso.com", Property::DisplayName, "Support");
        assert!(!same_value(&name, &text("support"), &text("Support")));
        assert!(same_value(&name, &text("Support"), &text("Support")));
        let notify = Operation::set("a@contoso.com", Property::ModerationNotifications, "Never");
        assert!(same_value(&notify, &text("never"), &text("Never")));
        let owa = Operation::set("a@contoso.com", Property::Owa, false);
        assert!(!same_value(
            &owa,
            &Observation::Switch(None),
            &Observation::Switch(Some(false))
        ));
        assert!(!same_value(
            &owa,
            &Observation::MailboxMissing,
            &Observation::Switch(Some(false))
        ));
        let role = |r: &str| Observation::FolderAccess(Some(r.into()));
        let remove = Operation::RemoveSentItemsPermission {
            mailbox: "a@contoso.com".into(),
            principal: Principal::Orphaned { raw: "S-1".into() },
        };
        assert!(same_value(&remove, &role("reviewer"), &role("Reviewer")));
    }

    #[test]
    fn a_root_visibility_write_observes_the_root_and_an_unread_root_is_not_taken_for_empty() {
        let mut snapshot = Snapshot::default();
        let mut mailbox = Mailbox::new_shared("a@contoso.com", "A");
        mailbox
            .root_folder
            .as_mut()
            .unwrap()
            .push(crate::FolderPermission {
                user: "S-1-5-21-9".into(),
                access_rights: vec!["FolderVisible".into()],
                ..crate::FolderPermission::default()
            });
        snapshot.mailboxes.push(mailbox);
        let grant = Operation::GrantRootVisibility {
            mailbox: "a@contoso.com".into(),
            principal: Principal::Orphaned {
                raw: "S-1-5-21-9".into(),
            },
        };
        assert_eq!(
            observe(&snapshot, &grant),
            Observation::FolderAccess(Some("FolderVisible".into()))
        );
        assert!(observe(&snapshot, &grant).matches(&expected(&grant)));
        snapshot.mailboxes[0].root_folder = None;
        snapshot.index = Default::default();
        assert_eq!(observe(&snapshot, &grant), Observation::RootNotRead);
        assert!(!observe(&snapshot, &grant).matches(&expected(&grant)));
        assert_ne!(
            target(&grant),
            target(&Operation::RemoveSentItemsPermission {
                mailbox: "a@contoso.com".into(),
                principal: Principal::Orphaned {
                    raw: "S-1-5-21-9".into()
                },
            }),
            "the root is another target than Sent Items"
        );
    }
}
