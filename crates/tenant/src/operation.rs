//! The write vocabulary: every change sharedbox can make to a tenant.
//!
//! Each [`Operation`] maps to exactly one Exchange cmdlet call and is idempotent in the
//! way Exchange is: granting a right that exists or removing one that does not is a
//! success. Only [`Operation::CreateMailbox`] is not idempotent (a second create fails).

use serde::{Deserialize, Serialize};

use crate::directory::PrincipalId;

/// `text` with control characters escaped and cut to `max` characters: tenant data and
/// journal content are printed to terminals and CI logs.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A principal as an operation addresses it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Principal {
    /// A recipient of the directory.
    Recipient {
        /// Canonical id (Entra object id or Exchange Guid).
        id: PrincipalId,
        /// Primary SMTP address: what is shown to people and passed to Exchange.
        address: String,
    },
    /// A live entry that resolves to nothing (an orphaned SID, a deleted user), addressed by
    /// the exact string Exchange returned.
    Orphaned {
        /// The raw string from the permission row.
        raw: String,
    },
}

impl Principal {
    /// How the principal is shown to people.
    pub fn label(&self) -> String {
        match self {
            Principal::Recipient { address, .. } => address.clone(),
            Principal::Orphaned { raw } => format!("{} (orphaned)", printable(raw, 200)),
        }
    }

    /// The string passed to Exchange as `-User`, `-Trustee` or in a multi-valued property.
    pub fn identity(&self) -> &str {
        match self {
            Principal::Recipient { address, .. } => address,
            Principal::Orphaned { raw } => raw,
        }
    }

    /// The one key principals are compared by: the canonical id of a recipient, the raw
    /// string (trimmed, without case) of an orphan. Two spellings of one recipient have the
    /// same key; a plan's diff and [`crate::target`] both use it.
    pub fn key(&self) -> String {
        match self {
            Principal::Recipient { id, .. } => id.0.clone(),
            Principal::Orphaned { raw } => format!("orphan:{}", raw.trim().to_ascii_lowercase()),
        }
    }

    /// Whether the principal resolves to nothing (it cannot be granted again).
    pub fn is_orphaned(&self) -> bool {
        matches!(self, Principal::Orphaned { .. })
    }
}

/// A single-valued `Set-Mailbox` property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "property", content = "value")]
pub enum MailboxSetting {
    /// `DisplayName`.
    DisplayName(String),
    /// `HiddenFromAddressListsEnabled`.
    HiddenFromAddressLists(bool),
    /// `MessageCopyForSentAsEnabled`.
    CopyForSendAs(bool),
    /// `MessageCopyForSendOnBehalfEnabled`.
    CopyForSendOnBehalf(bool),
    /// `ModerationEnabled`.
    ModerationEnabled(bool),
    /// `SendModerationNotifications`: `Always`, `Internal` or `Never`.
    ModerationNotifications(String),
}

/// A multi-valued `Set-Mailbox` property of principals, changed with `@{Add=...; Remove=...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalList {
    /// `GrantSendOnBehalfTo`.
    SendOnBehalf,
    /// `ModeratedBy`.
    Moderators,
    /// `BypassModerationFromSendersOrMembers`.
    ModerationBypass,
}

/// A client switch of `Set-CASMailbox`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ClientSwitch {
    /// `OWAEnabled`.
    Owa,
    /// `MAPIEnabled`: classic Outlook for Windows.
    Outlook,
    /// `OneWinNativeOutlookEnabled`: new Outlook for Windows.
    NewOutlook,
    /// `MacOutlookEnabled`.
    MacOutlook,
    /// `OutlookMobileEnabled`.
    Mobile,
    /// `ActiveSyncEnabled`.
    ActiveSync,
    /// `EwsEnabled`.
    Ews,
    /// `ImapEnabled`.
    Imap,
    /// `PopEnabled`.
    Pop,
}

impl ClientSwitch {
    /// Every switch, in the order policies list them.
    pub const ALL: [ClientSwitch; 9] = [
        ClientSwitch::Owa,
        ClientSwitch::Outlook,
        ClientSwitch::NewOutlook,
        ClientSwitch::MacOutlook,
        ClientSwitch::Mobile,
        ClientSwitch::ActiveSync,
        ClientSwitch::Ews,
        ClientSwitch::Imap,
        ClientSwitch::Pop,
    ];

    /// The `Set-CASMailbox` parameter.
    pub fn parameter(self) -> &'static str {
        match self {
            ClientSwitch::Owa => "OWAEnabled",
            ClientSwitch::Outlook => "MAPIEnabled",
            ClientSwitch::NewOutlook => "OneWinNativeOutlookEnabled",
            ClientSwitch::MacOutlook => "MacOutlookEnabled",
            ClientSwitch::Mobile => "OutlookMobileEnabled",
            ClientSwitch::ActiveSync => "ActiveSyncEnabled",
            ClientSwitch::Ews => "EwsEnabled",
            ClientSwitch::Imap => "ImapEnabled",
            ClientSwitch::Pop => "PopEnabled",
        }
    }

    /// The policy field name under `clients:`.
    pub fn policy_field(self) -> &'static str {
        match self {
            ClientSwitch::Owa => "owa",
            ClientSwitch::Outlook => "outlook",
            ClientSwitch::NewOutlook => "newOutlook",
            ClientSwitch::MacOutlook => "macOutlook",
            ClientSwitch::Mobile => "mobile",
            ClientSwitch::ActiveSync => "activeSync",
            ClientSwitch::Ews => "ews",
            ClientSwitch::Imap => "imap",
            ClientSwitch::Pop => "pop",
        }
    }
}

/// A `Set-CASMailbox` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientSetting {
    /// One client switch on or off.
    Switch {
        /// Which switch.
        switch: ClientSwitch,
        /// On or off.
        enabled: bool,
    },
    /// `SmtpClientAuthenticationDisabled`: `Some(true)` disabled, `Some(false)` enabled,
    /// `None` follows the tenant setting.
    SmtpClientAuthenticationDisabled(Option<bool>),
}

/// An organisation-wide setting (`Set-OrganizationConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "setting", content = "value")]
pub enum OrganizationSetting {
    /// `SendFromAliasEnabled`.
    SendFromAliasEnabled(bool),
}

/// One change to a tenant: one cmdlet call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Operation {
    /// `New-Mailbox -Shared`. Not idempotent: fails when the mailbox exists.
    CreateMailbox {
        /// Primary SMTP address of the new mailbox.
        mailbox: String,
        /// Display name (and Name) of the new mailbox.
        display_name: String,
    },
    /// `Remove-Mailbox` (Exchange soft-deletes it for 30 days).
    RemoveMailbox {
        /// Primary SMTP address.
        mailbox: String,
    },
    /// `Set-Mailbox` with one single-valued property.
    SetMailbox {
        /// Primary SMTP address.
        mailbox: String,
        /// The property and its new value.
        setting: MailboxSetting,
    },
    /// `Set-Mailbox -<list> @{Add=principal}`.
    AddToList {
        /// Primary SMTP address.
        mailbox: String,
        /// Which property.
        list: PrincipalList,
        /// Who to add.
        principal: Principal,
    },
    /// `Set-Mailbox -<list> @{Remove=principal}`.
    RemoveFromList {
        /// Primary SMTP address.
        mailbox: String,
        /// Which property.
        list: PrincipalList,
        /// Who to remove.
        principal: Principal,
    },
    /// `Add-RecipientPermission -AccessRights SendAs`.
    GrantSendAs {
        /// Primary SMTP address.
        mailbox: String,
        /// The trustee.
        principal: Principal,
    },
    /// `Remove-RecipientPermission -AccessRights SendAs`.
    RevokeSendAs {
        /// Primary SMTP address.
        mailbox: String,
        /// The trustee.
        principal: Principal,
    },
    /// `Add-MailboxPermission -AccessRights FullAccess -AutoMapping`.
    GrantFullAccess {
        /// Primary SMTP address.
        mailbox: String,
        /// The user or group.
        principal: Principal,
        /// Whether Outlook opens the mailbox automatically (write-once).
        auto_mapping: bool,
    },
    /// `Remove-MailboxPermission -AccessRights FullAccess`.
    RevokeFullAccess {
        /// Primary SMTP address.
        mailbox: String,
        /// The user or group.
        principal: Principal,
    },
    /// `Add-MailboxFolderPermission` on the mailbox's Sent Items folder.
    AddSentItemsPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// The user or group.
        principal: Principal,
        /// The folder role, e.g. `Reviewer`.
        access: String,
    },
    /// `Set-MailboxFolderPermission` on the Sent Items folder.
    SetSentItemsPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// The user or group.
        principal: Principal,
        /// The new folder role.
        access: String,
    },
    /// `Remove-MailboxFolderPermission` on the Sent Items folder.
    RemoveSentItemsPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// The user or group.
        principal: Principal,
    },
    /// `Set-CASMailbox` with one setting.
    SetClient {
        /// Primary SMTP address.
        mailbox: String,
        /// The setting and its new value.
        setting: ClientSetting,
    },
    /// `Set-OrganizationConfig` with one setting.
    SetOrganization {
        /// The setting and its new value.
        setting: OrganizationSetting,
    },
}

impl Operation {
    /// The mailbox this operation changes, if it changes one.
    pub fn mailbox(&self) -> Option<&str> {
        use Operation::*;
        match self {
            CreateMailbox { mailbox, .. }
            | RemoveMailbox { mailbox }
            | SetMailbox { mailbox, .. }
            | AddToList { mailbox, .. }
            | RemoveFromList { mailbox, .. }
            | GrantSendAs { mailbox, .. }
            | RevokeSendAs { mailbox, .. }
            | GrantFullAccess { mailbox, .. }
            | RevokeFullAccess { mailbox, .. }
            | AddSentItemsPermission { mailbox, .. }
            | SetSentItemsPermission { mailbox, .. }
            | RemoveSentItemsPermission { mailbox, .. }
            | SetClient { mailbox, .. } => Some(mailbox),
            SetOrganization { .. } => None,
        }
    }

    /// The Exchange cmdlet this operation runs.
    pub fn cmdlet(&self) -> &'static str {
        use Operation::*;
        match self {
            CreateMailbox { .. } => "New-Mailbox",
            RemoveMailbox { .. } => "Remove-Mailbox",
            SetMailbox { .. } | AddToList { .. } | RemoveFromList { .. } => "Set-Mailbox",
            GrantSendAs { .. } => "Add-RecipientPermission",
            RevokeSendAs { .. } => "Remove-RecipientPermission",
            GrantFullAccess { .. } => "Add-MailboxPermission",
            RevokeFullAccess { .. } => "Remove-MailboxPermission",
            AddSentItemsPermission { .. } => "Add-MailboxFolderPermission",
            SetSentItemsPermission { .. } => "Set-MailboxFolderPermission",
            RemoveSentItemsPermission { .. } => "Remove-MailboxFolderPermission",
            SetClient { .. } => "Set-CASMailbox",
            SetOrganization { .. } => "Set-OrganizationConfig",
        }
    }

    /// The principal the write grants to or takes from, if it is a grant.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Operation::AddToList { principal, .. }
            | Operation::RemoveFromList { principal, .. }
            | Operation::GrantSendAs { principal, .. }
            | Operation::RevokeSendAs { principal, .. }
            | Operation::GrantFullAccess { principal, .. }
            | Operation::RevokeFullAccess { principal, .. }
            | Operation::AddSentItemsPermission { principal, .. }
            | Operation::SetSentItemsPermission { principal, .. }
            | Operation::RemoveSentItemsPermission { principal, .. } => Some(principal),
            Operation::CreateMailbox { .. }
            | Operation::RemoveMailbox { .. }
            | Operation::SetMailbox { .. }
            | Operation::SetClient { .. }
            | Operation::SetOrganization { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orphaned_principal_is_shown_with_control_characters_escaped() {
        let orphan = Principal::Orphaned {
            raw: "S-1-5-21-1\u{1b}[2J\u{7}".into(),
        };
        assert_eq!(orphan.label(), "S-1-5-21-1\\u{1b}[2J\\u{7} (orphaned)");
        assert_eq!(
            orphan.identity(),
            "S-1-5-21-1\u{1b}[2J\u{7}",
            "sent to Exchange as it is"
        );
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn a_principal_key_is_its_identity_not_its_spelling() {
        let anna = |address: &str| Principal::Recipient {
            id: crate::PrincipalId("0a1b".into()),
            address: address.into(),
        };
        assert_eq!(
            anna("anna@contoso.com").key(),
            anna("anna.berg@contoso.com").key()
        );
        let orphan = |raw: &str| Principal::Orphaned { raw: raw.into() };
        assert_eq!(orphan(" S-1-5-21-9 ").key(), orphan("s-1-5-21-9").key());
        assert_ne!(orphan("0a1b").key(), anna("anna@contoso.com").key());
        assert!(orphan("S-1-5-21-9").is_orphaned());
        assert!(!anna("anna@contoso.com").is_orphaned());
    }
}
