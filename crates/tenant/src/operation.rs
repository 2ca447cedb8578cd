//! The write vocabulary: every change sharedbox can make to a tenant.
//!
//! Each [`Operation`] maps to exactly one Exchange cmdlet call and is idempotent in the
//! way Exchange is: granting a right that exists or removing one that does not is a
//! success. Only [`Operation::CreateMailbox`] is not idempotent (a second create fails).

use serde::{Deserialize, Serialize};

use crate::catalog::{OrganizationProperty, Property, Value};
use crate::directory::PrincipalId;
use crate::model::WellKnownFolder;

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
        /// What is shown to people and passed to Exchange: the primary SMTP address, else
        /// the UPN (a user without mail), else the object id (a service principal), else the
        /// Exchange Guid ([`crate::Recipient::identity`]).
        address: String,
        /// A service principal's application id: it is shown as `app:<appId>`, the way a
        /// policy names it, while Exchange is passed the object id (`address`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_id: Option<String>,
    },
    /// A live entry that resolves to nothing (an orphaned SID, a deleted user), addressed by
    /// the exact string Exchange returned.
    Orphaned {
        /// The raw string from the permission row.
        raw: String,
    },
    /// A live entry the directory could not resolve because it did not look up every kind
    /// of principal (see [`crate::LivePrincipal::Unresolved`]): it may exist, so a revoke is
    /// undone by granting the same string again.
    Unresolved {
        /// The raw string from the permission row.
        raw: String,
    },
}

impl Principal {
    /// How the principal is shown to people.
    pub fn label(&self) -> String {
        match self {
            // The address is the tenant's too: escaped like the raw strings.
            Principal::Recipient {
                app_id: Some(app_id),
                ..
            } => format!("app:{}", printable(app_id, 64)),
            Principal::Recipient { address, .. } => printable(address, 320),
            Principal::Orphaned { raw } => format!("{} (orphaned)", printable(raw, 200)),
            Principal::Unresolved { raw } => format!("{} (not looked up)", printable(raw, 200)),
        }
    }

    /// The string passed to Exchange as `-User`, `-Trustee` or in a multi-valued property.
    pub fn identity(&self) -> &str {
        match self {
            Principal::Recipient { address, .. } => address,
            Principal::Orphaned { raw } | Principal::Unresolved { raw } => raw,
        }
    }

    /// The one key principals are compared by: the canonical id of a recipient, the raw
    /// string (trimmed, without case) of an orphan. Two spellings of one recipient have the
    /// same key; a plan's diff and [`crate::target`] both use it.
    pub fn key(&self) -> String {
        match self {
            Principal::Recipient { id, .. } => id.0.clone(),
            Principal::Orphaned { raw } => format!("orphan:{}", raw.trim().to_ascii_lowercase()),
            Principal::Unresolved { raw } => {
                format!("unresolved:{}", raw.trim().to_ascii_lowercase())
            }
        }
    }

    /// Whether the principal resolves to nothing (it cannot be granted again).
    pub fn is_orphaned(&self) -> bool {
        matches!(self, Principal::Orphaned { .. })
    }
}

/// One catalogued mailbox property and the value to give it (`Set-Mailbox` or
/// `Set-CASMailbox`, as the catalogue says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MailboxSetting {
    /// Which property.
    pub property: Property,
    /// Its new value.
    pub value: Value,
}

impl MailboxSetting {
    /// The property's catalogue entry.
    pub fn definition(&self) -> &'static crate::catalog::MailboxDefinition {
        self.property.definition()
    }
}

/// Reads the current shape and the one journals and plans of format 1 wrote for client
/// settings (`{"switch": {"switch": "owa", "enabled": false}}`,
/// `{"smtp_client_authentication_disabled": null}`).
impl<'de> Deserialize<'de> for MailboxSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Switch {
            switch: Property,
            enabled: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Current {
                property: Property,
                value: Value,
            },
            Switch {
                switch: Switch,
            },
            SmtpAuth {
                smtp_client_authentication_disabled: Option<bool>,
            },
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Current { property, value } => MailboxSetting { property, value },
            Repr::Switch { switch } => MailboxSetting {
                property: switch.switch,
                value: Value::Flag(switch.enabled),
            },
            Repr::SmtpAuth {
                smtp_client_authentication_disabled,
            } => MailboxSetting {
                property: Property::SmtpClientAuthenticationDisabled,
                value: smtp_client_authentication_disabled.into(),
            },
        })
    }
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

impl PrincipalList {
    /// Whether the list is mastered in on-premises Active Directory for a synchronised
    /// (`IsDirSynced`) mailbox (`msExchModeratedByLink`, `msExchBypassModerationLink`), unless
    /// its Exchange attributes are cloud-managed (`IsExchangeCloudManaged`);
    /// `GrantSendOnBehalfTo` (`publicDelegates`) is written back by Entra Connect in hybrid.
    pub const fn mastered_on_premises(self, exchange_cloud_managed: bool) -> bool {
        !exchange_cloud_managed
            && matches!(
                self,
                PrincipalList::Moderators | PrincipalList::ModerationBypass
            )
    }
}

impl Operation {
    /// The `Set-Mailbox` parameter this write changes when it is mastered on premises for a
    /// synchronised mailbox ([`crate::Property::mastered_on_premises`],
    /// [`PrincipalList::mastered_on_premises`]; aliases, `EmailAddresses`, unless the
    /// Exchange attributes are cloud-managed), else `None`. Callers with a mailbox use
    /// [`crate::Mailbox::mastered_on_premises`].
    pub fn mastered_on_premises(&self, exchange_cloud_managed: bool) -> Option<&'static str> {
        match self {
            Operation::SetMailbox { setting, .. }
                if setting
                    .property
                    .mastered_on_premises(exchange_cloud_managed) =>
            {
                Some(setting.definition().parameter)
            }
            Operation::AddToList { list, .. } | Operation::RemoveFromList { list, .. }
                if list.mastered_on_premises(exchange_cloud_managed) =>
            {
                Some(match list {
                    PrincipalList::Moderators => "ModeratedBy",
                    _ => "BypassModerationFromSendersOrMembers",
                })
            }
            // `proxyAddresses` is an Exchange attribute synchronised from on-premises AD.
            Operation::AddAlias { .. } | Operation::RemoveAlias { .. }
                if !exchange_cloud_managed =>
            {
                Some("EmailAddresses")
            }
            _ => None,
        }
    }
}

/// One catalogued organisation property and the value to give it (`Set-OrganizationConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrganizationSetting {
    /// Which property.
    #[serde(rename = "setting")]
    pub property: OrganizationProperty,
    /// Its new value.
    pub value: Value,
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
    /// `Remove-Mailbox` (Exchange soft-deletes it for 30 days, with its addresses). sharedbox
    /// never purges (`-PermanentlyDelete`): mail may have reached a mailbox it created. A
    /// `permanently` key that journals of the development versions wrote is ignored.
    RemoveMailbox {
        /// Primary SMTP address.
        mailbox: String,
    },
    /// `Set-Mailbox` or `Set-CASMailbox` with one catalogued property (format 1 wrote the
    /// client settings as `set_client`).
    #[serde(alias = "set_client")]
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
    /// `Set-Mailbox -EmailAddresses @{Add="smtp:<address>"}`: a secondary SMTP address
    /// (an alias). The lower-case `smtp:` prefix makes it secondary; the primary address is
    /// never written this way.
    AddAlias {
        /// Primary SMTP address.
        mailbox: String,
        /// The alias, without prefix.
        address: String,
    },
    /// `Set-Mailbox -EmailAddresses @{Remove="smtp:<address>"}`: removes a secondary SMTP
    /// address.
    RemoveAlias {
        /// Primary SMTP address.
        mailbox: String,
        /// The alias, without prefix.
        address: String,
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
    /// `Add-MailboxFolderPermission` on a well-known folder (`folders.<key>`), found by its
    /// type; on the calendar with `-SharingPermissionFlags` when `flags` has any.
    AddFolderPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// Which folder.
        folder: WellKnownFolder,
        /// The user or group.
        principal: Principal,
        /// The folder role, e.g. `Reviewer`, `Editor`.
        access: String,
        /// `Delegate`, `CanViewPrivateItems` (calendar only, with `Editor`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
    },
    /// `Set-MailboxFolderPermission` on a well-known folder; on the calendar always with
    /// `-SharingPermissionFlags` (`None` when `flags` is empty), since Exchange keeps the
    /// flags a `Set-` does not name.
    SetFolderPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// Which folder.
        folder: WellKnownFolder,
        /// The user or group.
        principal: Principal,
        /// The new folder role.
        access: String,
        /// The new delegate flags.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
    },
    /// `Remove-MailboxFolderPermission` on a well-known folder.
    RemoveFolderPermission {
        /// Primary SMTP address.
        mailbox: String,
        /// Which folder.
        folder: WellKnownFolder,
        /// The user or group.
        principal: Principal,
    },
    /// `Add-MailboxFolderPermission -AccessRights FolderVisible` on the mailbox root
    /// (`<mailbox>:\`), so that a Sent Items reader without FullAccess can browse to the
    /// folder in Outlook. An existing root entry of the principal (any role) is left as it is.
    GrantRootVisibility {
        /// Primary SMTP address.
        mailbox: String,
        /// The Sent Items reader.
        principal: Principal,
    },
    /// `Remove-MailboxFolderPermission` on the mailbox root (`<mailbox>:\`): takes away the
    /// `FolderVisible` entry sharedbox granted a Sent Items reader.
    RevokeRootVisibility {
        /// Primary SMTP address.
        mailbox: String,
        /// The former Sent Items reader.
        principal: Principal,
    },
    /// `Set-OrganizationConfig` with one setting.
    SetOrganization {
        /// The setting and its new value.
        setting: OrganizationSetting,
    },
    /// `New-ServicePrincipal -AppId -ObjectId -DisplayName`: registers an Entra app's service
    /// principal in Exchange so that it can hold FullAccess or Send As. Exchange does not
    /// check the ids against Entra.
    CreateServicePrincipal {
        /// The application (client) id.
        app_id: String,
        /// The enterprise application's (service principal's) object id.
        object_id: String,
        /// The display name.
        display_name: String,
    },
    /// `Remove-ServicePrincipal -Identity <objectId>`: only to undo a registration the run
    /// made.
    RemoveServicePrincipal {
        /// The application (client) id.
        app_id: String,
        /// The object id (the identity passed to Exchange).
        object_id: String,
    },
}

impl Operation {
    /// Sets one catalogued property of `mailbox`.
    pub fn set(
        mailbox: impl Into<String>,
        property: Property,
        value: impl Into<Value>,
    ) -> Operation {
        Operation::SetMailbox {
            mailbox: mailbox.into(),
            setting: MailboxSetting {
                property,
                value: value.into(),
            },
        }
    }

    /// Sets one catalogued property of the organisation.
    pub fn set_organization(property: OrganizationProperty, value: impl Into<Value>) -> Operation {
        Operation::SetOrganization {
            setting: OrganizationSetting {
                property,
                value: value.into(),
            },
        }
    }

    /// Whether the write sets an automatic-reply parameter ([`Property::is_auto_reply`]):
    /// a mailbox's are sent together, as one `Set-MailboxAutoReplyConfiguration`
    /// ([`crate::Tenant::execute_all`]).
    pub fn is_auto_reply(&self) -> bool {
        matches!(self, Operation::SetMailbox { setting, .. } if setting.property.is_auto_reply())
    }

    /// Whether the write grants or revokes `FolderVisible` on the mailbox root (a write to
    /// another folder than the `sentItemsReaders` list it belongs to).
    pub fn touches_root(&self) -> bool {
        matches!(
            self,
            Operation::GrantRootVisibility { .. } | Operation::RevokeRootVisibility { .. }
        )
    }

    /// The well-known folder whose permissions the write changes: Sent Items for the
    /// `sentItemsReaders` writes, the named folder for the `folders` writes, `None` for any
    /// other write (the root visibility writes included).
    pub fn folder(&self) -> Option<WellKnownFolder> {
        match self {
            Operation::AddSentItemsPermission { .. }
            | Operation::SetSentItemsPermission { .. }
            | Operation::RemoveSentItemsPermission { .. } => Some(WellKnownFolder::SentItems),
            Operation::AddFolderPermission { folder, .. }
            | Operation::SetFolderPermission { folder, .. }
            | Operation::RemoveFolderPermission { folder, .. } => Some(*folder),
            _ => None,
        }
    }

    /// The mailbox this operation changes, if it changes one.
    pub fn mailbox(&self) -> Option<&str> {
        use Operation::*;
        match self {
            CreateMailbox { mailbox, .. }
            | RemoveMailbox { mailbox, .. }
            | SetMailbox { mailbox, .. }
            | AddToList { mailbox, .. }
            | RemoveFromList { mailbox, .. }
            | AddAlias { mailbox, .. }
            | RemoveAlias { mailbox, .. }
            | GrantSendAs { mailbox, .. }
            | RevokeSendAs { mailbox, .. }
            | GrantFullAccess { mailbox, .. }
            | RevokeFullAccess { mailbox, .. }
            | AddSentItemsPermission { mailbox, .. }
            | SetSentItemsPermission { mailbox, .. }
            | RemoveSentItemsPermission { mailbox, .. }
            | AddFolderPermission { mailbox, .. }
            | SetFolderPermission { mailbox, .. }
            | RemoveFolderPermission { mailbox, .. }
            | GrantRootVisibility { mailbox, .. }
            | RevokeRootVisibility { mailbox, .. } => Some(mailbox),
            SetOrganization { .. }
            | CreateServicePrincipal { .. }
            | RemoveServicePrincipal { .. } => None,
        }
    }

    /// The Exchange cmdlet this operation runs.
    pub fn cmdlet(&self) -> &'static str {
        use Operation::*;
        match self {
            CreateMailbox { .. } => "New-Mailbox",
            RemoveMailbox { .. } => "Remove-Mailbox",
            SetMailbox { setting, .. } => setting.definition().cmdlet,
            AddToList { .. } | RemoveFromList { .. } | AddAlias { .. } | RemoveAlias { .. } => {
                "Set-Mailbox"
            }
            GrantSendAs { .. } => "Add-RecipientPermission",
            RevokeSendAs { .. } => "Remove-RecipientPermission",
            GrantFullAccess { .. } => "Add-MailboxPermission",
            RevokeFullAccess { .. } => "Remove-MailboxPermission",
            AddSentItemsPermission { .. } | AddFolderPermission { .. } => {
                "Add-MailboxFolderPermission"
            }
            SetSentItemsPermission { .. } | SetFolderPermission { .. } => {
                "Set-MailboxFolderPermission"
            }
            RemoveSentItemsPermission { .. }
            | RemoveFolderPermission { .. }
            | RevokeRootVisibility { .. } => "Remove-MailboxFolderPermission",
            GrantRootVisibility { .. } => "Add-MailboxFolderPermission",
            SetOrganization { setting } => setting.property.definition().cmdlet,
            CreateServicePrincipal { .. } => "New-ServicePrincipal",
            RemoveServicePrincipal { .. } => "Remove-ServicePrincipal",
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
            | Operation::RemoveSentItemsPermission { principal, .. }
            | Operation::AddFolderPermission { principal, .. }
            | Operation::SetFolderPermission { principal, .. }
            | Operation::RemoveFolderPermission { principal, .. }
            | Operation::GrantRootVisibility { principal, .. }
            | Operation::RevokeRootVisibility { principal, .. } => Some(principal),
            Operation::CreateMailbox { .. }
            | Operation::RemoveMailbox { .. }
            | Operation::SetMailbox { .. }
            | Operation::AddAlias { .. }
            | Operation::RemoveAlias { .. }
            | Operation::SetOrganization { .. }
            | Operation::CreateServicePrincipal { .. }
            | Operation::RemoveServicePrincipal { .. } => None,
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
        let recipient = Principal::Recipient {
            id: PrincipalId("0a1b".into()),
            address: "anna\u{1b}[2J@contoso.com".into(),
            app_id: None,
        };
        assert_eq!(recipient.label(), "anna\\u{1b}[2J@contoso.com");
        assert_eq!(recipient.identity(), "anna\u{1b}[2J@contoso.com");
    }

    #[test]
    fn settings_read_back_as_written_and_as_format_1_wrote_client_settings() {
        let set = |property, value| Operation::SetMailbox {
            mailbox: "a@contoso.com".into(),
            setting: MailboxSetting { property, value },
        };
        for operation in [
            set(Property::CopyForSendAs, Value::Flag(true)),
            set(Property::Owa, Value::Flag(false)),
            set(Property::SmtpClientAuthenticationDisabled, Value::Unset),
            set(
                Property::ModerationNotifications,
                Value::Text("Never".into()),
            ),
        ] {
            let json = serde_json::to_string(&operation).unwrap();
            assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), operation);
        }
        let old = |json: &str| serde_json::from_str::<Operation>(json).unwrap();
        assert_eq!(
            old(
                r#"{"op":"set_mailbox","mailbox":"a@contoso.com","setting":{"property":"copy_for_send_as","value":true}}"#
            ),
            set(Property::CopyForSendAs, Value::Flag(true))
        );
        assert_eq!(
            old(
                r#"{"op":"set_client","mailbox":"a@contoso.com","setting":{"switch":{"switch":"new_outlook","enabled":false}}}"#
            ),
            set(Property::NewOutlook, Value::Flag(false))
        );
        assert_eq!(
            old(
                r#"{"op":"set_client","mailbox":"a@contoso.com","setting":{"smtp_client_authentication_disabled":null}}"#
            ),
            set(Property::SmtpClientAuthenticationDisabled, Value::Unset)
        );
        assert_eq!(
            old(
                r#"{"op":"set_organization","setting":{"setting":"send_from_alias_enabled","value":false}}"#
            ),
            Operation::SetOrganization {
                setting: OrganizationSetting {
                    property: OrganizationProperty::SendFromAliasEnabled,
                    value: Value::Flag(false)
                }
            }
        );
        assert_eq!(
            set(Property::Imap, Value::Flag(false)).cmdlet(),
            "Set-CASMailbox"
        );
    }

    #[test]
    fn an_alias_write_is_undone_by_the_opposite_write_and_observes_only_smtp_proxies() {
        use crate::observe::{Observation, expected, observe};
        let add = Operation::AddAlias {
            mailbox: "a@contoso.com".into(),
            address: "Sales@contoso.com".into(),
        };
        let remove = Operation::RemoveAlias {
            mailbox: "a@contoso.com".into(),
            address: "Sales@contoso.com".into(),
        };
        assert_eq!(
            crate::undo(&add, &Observation::Member(false)),
            Ok(Some(remove.clone()))
        );
        assert_eq!(crate::undo(&add, &Observation::Member(true)), Ok(None));
        assert_eq!(
            crate::undo(&remove, &Observation::Member(true)),
            Ok(Some(add.clone()))
        );
        assert_eq!(crate::target(&add), crate::target(&remove));

        let mut snapshot = crate::Snapshot::default();
        let mut mailbox = crate::Mailbox::new_shared("a@contoso.com", "A");
        mailbox.email_addresses = vec![
            "SMTP:a@contoso.com".into(),
            "smtp:sales@contoso.com".into(),
            "X500:/o=ExchangeLabs/cn=a".into(),
            "SIP:b@contoso.com".into(),
        ];
        snapshot.mailboxes.push(mailbox.clone());
        assert_eq!(
            observe(&snapshot, &add),
            expected(&add),
            "case does not matter"
        );
        let sip = Operation::AddAlias {
            mailbox: "a@contoso.com".into(),
            address: "b@contoso.com".into(),
        };
        assert_eq!(observe(&snapshot, &sip), Observation::Member(false));
        assert_eq!(mailbox.aliases().collect::<Vec<_>>(), ["sales@contoso.com"]);

        assert_eq!(add.mastered_on_premises(false), Some("EmailAddresses"));
        assert_eq!(remove.mastered_on_premises(true), None);
        assert_eq!(add.cmdlet(), "Set-Mailbox");
    }

    #[test]
    fn a_principal_key_is_its_identity_not_its_spelling() {
        let anna = |address: &str| Principal::Recipient {
            id: crate::PrincipalId("0a1b".into()),
            address: address.into(),
            app_id: None,
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
