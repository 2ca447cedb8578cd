//! The live-state model: what a tenant looks like to sharedbox.
//!
//! The shapes follow what the Exchange Online cmdlets return (`Get-Mailbox`,
//! `Get-CASMailbox`, `Get-MailboxPermission`, `Get-RecipientPermission`,
//! `Get-MailboxFolderStatistics`, `Get-MailboxFolderPermission`,
//! `Get-OrganizationConfig`), so that every backend can fill them without
//! interpretation. Principals stay the raw strings Exchange returns (UPNs, Names,
//! GUIDs, display names, SIDs); the [`crate::Directory`] turns them into identities.
//!
//! The same types are the on-disk format of the file backend (`tenant.yaml`).

use serde::{Deserialize, Serialize};

/// Everything a plan needs to know about the tenant, read in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The tenant this snapshot was read from (e.g. `contoso.onmicrosoft.com`).
    pub tenant: String,
    /// Organisation-wide settings.
    pub organization: OrganizationConfig,
    /// Every recipient of the tenant, for principal resolution.
    pub directory: crate::Directory,
    /// The shared mailboxes that were asked for (and exist), with full state.
    pub mailboxes: Vec<Mailbox>,
    /// Primary SMTP addresses of every shared mailbox in the tenant, managed or not.
    pub all_shared_mailboxes: Vec<String>,
    /// A lookup cache of `mailboxes` by address, built on first use (see [`Snapshot::mailbox`]).
    pub index: MailboxIndex,
    /// Mailboxes removed within the last 30 days (`Get-Mailbox -SoftDeletedMailbox`): they
    /// keep their addresses, so `New-Mailbox` for one of them fails until they are purged.
    pub soft_deleted: Vec<SoftDeletedMailbox>,
    /// Whether group members ([`Recipient::members`]) and account states were read
    /// ([`crate::ReadScope::groups`]): without them, nothing can be said about who is in a group.
    pub groups_read: bool,
}

/// A soft-deleted mailbox (`Get-Mailbox -SoftDeletedMailbox`): `Remove-Mailbox` keeps a
/// mailbox recoverable for 30 days (`Undo-SoftDeletedMailbox`), and its addresses stay taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SoftDeletedMailbox {
    /// `PrimarySmtpAddress`.
    pub primary_smtp_address: String,
    /// `EmailAddresses` with prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<String>,
}

impl SoftDeletedMailbox {
    /// The soft-deleted form of `mailbox`, holding its addresses.
    pub fn of(mailbox: &Mailbox) -> SoftDeletedMailbox {
        SoftDeletedMailbox {
            primary_smtp_address: mailbox.primary_smtp_address.clone(),
            email_addresses: mailbox.email_addresses.clone(),
        }
    }

    /// Whether it holds `address` (its primary or an SMTP proxy address, without case).
    pub fn holds(&self, address: &str) -> bool {
        self.primary_smtp_address.eq_ignore_ascii_case(address)
            || self.email_addresses.iter().any(|a| {
                a.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("smtp:"))
                    && a[5..].eq_ignore_ascii_case(address)
            })
    }
}

impl Snapshot {
    /// The soft-deleted mailbox that holds `address`, if any.
    pub fn soft_deleted_holding(&self, address: &str) -> Option<&SoftDeletedMailbox> {
        self.soft_deleted.iter().find(|m| m.holds(address))
    }

    /// The shared mailbox whose primary SMTP address (or any SMTP proxy address) is `address`.
    ///
    /// Looks up a cache built on first use; a hit is checked against the mailbox, and a miss
    /// falls back to a scan, so the cache never gives a wrong answer after `mailboxes`
    /// changed.
    pub fn mailbox(&self, address: &str) -> Option<&Mailbox> {
        let index = self.index.0.get_or_init(|| {
            let mut index = std::collections::HashMap::new();
            for (i, m) in self.mailboxes.iter().enumerate() {
                index
                    .entry(m.primary_smtp_address.to_ascii_lowercase())
                    .or_insert(i);
                for proxy in &m.email_addresses {
                    if let Some((prefix, a)) = proxy.split_once(':')
                        && prefix.eq_ignore_ascii_case("smtp")
                    {
                        index.entry(a.to_ascii_lowercase()).or_insert(i);
                    }
                }
            }
            index
        });
        index
            .get(&address.to_ascii_lowercase())
            .and_then(|&i| self.mailboxes.get(i))
            .filter(|m| m.has_address(address))
            .or_else(|| self.mailboxes.iter().find(|m| m.has_address(address)))
    }
}

/// The address index of a [`Snapshot`]: a cache, equal to every other and not printed.
#[derive(Clone, Default)]
pub struct MailboxIndex(std::sync::OnceLock<std::collections::HashMap<String, usize>>);

impl PartialEq for MailboxIndex {
    fn eq(&self, _: &MailboxIndex) -> bool {
        true
    }
}

impl std::fmt::Debug for MailboxIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailboxIndex")
    }
}

/// `Get-OrganizationConfig` and `Get-TransportConfig`, the part sharedbox manages or needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationConfig {
    /// The organisation's name, its initial `onmicrosoft.com` domain.
    pub name: String,
    /// `SendFromAliasEnabled`: users may send from proxy addresses.
    #[serde(default)]
    pub send_from_alias_enabled: bool,
    /// `SmtpClientAuthenticationDisabled` (`Get-TransportConfig`): SMTP AUTH for every account
    /// whose own setting (`Set-CASMailbox`) is unset; `true` = off (Microsoft's default for
    /// newer organisations). Unset when it could not be read (the reading identity may lack
    /// the role for `Get-TransportConfig`): then nothing is judged by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_client_authentication_disabled: Option<bool>,
    /// The accepted domains of the tenant.
    #[serde(default)]
    pub accepted_domains: Vec<String>,
}

/// A recipient as `Get-Recipient` returns it: a user, a group, a contact or a mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Recipient {
    /// `ExternalDirectoryObjectId`: the Entra object id; absent for Exchange-only objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_directory_object_id: Option<String>,
    /// `Guid`: the Exchange object GUID.
    pub guid: String,
    /// `Name`: for objects created since about 2022 the Entra object id, older ones an alias-like name.
    pub name: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `PrimarySmtpAddress`.
    pub primary_smtp_address: String,
    /// `UserPrincipalName`, for users and mailboxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// `EmailAddresses`: proxy addresses with prefixes (`SMTP:` primary, `smtp:` secondary, `SIP:`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<String>,
    /// The on-premises or cloud security identifier, as permission rows show it when unresolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `RecipientTypeDetails`, e.g. `UserMailbox`, `SharedMailbox`, `MailUniversalSecurityGroup`;
    /// `User` or `UniversalSecurityGroup` for an object without mail (from `Get-User`,
    /// `Get-Group`), `ServicePrincipal` for an Exchange service principal.
    pub recipient_type_details: String,
    /// The account's own `SmtpClientAuthenticationDisabled` (`Get-CASMailbox`) where the
    /// backend knows it (the file backend and the simulator); unset = follows the
    /// organisation. Exchange Online reads do not fill it (`Get-Recipient` does not report it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_client_authentication_disabled: Option<bool>,
    /// `AppId` of a service principal (`Get-ServicePrincipal`); its `ObjectId` is the
    /// `externalDirectoryObjectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The direct members of a group as Exchange names them (`Members` of `Get-Group`, or
    /// `Get-UnifiedGroupLinks -LinkType Members` for a Microsoft 365 group): Names (often
    /// GUIDs), addresses, or the stale SID of a member since deleted. `None` when they were not
    /// read (only the `access` report and lint SBX104 ask for them), and always for a dynamic
    /// distribution group, whose members a filter computes when mail is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Members>,
    /// `AccountDisabled` of the user account (`Get-User`): `Some(true)` when it cannot sign in;
    /// `None` when not read. A `DisabledUser` is disabled whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_disabled: Option<bool>,
}

/// The direct members of a group ([`Recipient::members`]), shared rather than copied: the
/// simulator and the file backend build a directory for many requests, and a tenant's group
/// memberships (hundreds of thousands of names) are the largest part of it. In YAML and JSON a
/// list of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members(std::sync::Arc<[String]>);

impl std::ops::Deref for Members {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for Members {
    fn from(members: Vec<String>) -> Members {
        Members(members.into())
    }
}

impl Serialize for Members {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.as_ref().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Members::from)
    }
}

/// What kind of group a recipient is, by its `RecipientTypeDetails`: what the `access`
/// report names, and whether its members are expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupKind {
    /// A distribution group (`MailUniversalDistributionGroup`, `MailNonUniversalGroup`, a room
    /// list): delivers mail, cannot hold permissions.
    Distribution,
    /// A mail-enabled security group (`MailUniversalSecurityGroup`).
    MailEnabledSecurity,
    /// A security group without mail (`UniversalSecurityGroup`, ...; a role group).
    Security,
    /// A Microsoft 365 group (`GroupMailbox`).
    Microsoft365,
    /// A dynamic distribution group (`DynamicDistributionGroup`): its members are a filter,
    /// evaluated when mail is delivered; listed as such, never expanded or guessed.
    Dynamic,
}

impl GroupKind {
    /// The words a report uses for it: `distribution group`, `mail-enabled security group`, ...
    pub fn describe(self) -> &'static str {
        match self {
            GroupKind::Distribution => "distribution group",
            GroupKind::MailEnabledSecurity => "mail-enabled security group",
            GroupKind::Security => "security group",
            GroupKind::Microsoft365 => "Microsoft 365 group",
            GroupKind::Dynamic => "dynamic distribution group",
        }
    }
}

/// The `RecipientTypeDetails` sharedbox gives a service principal (Exchange spells it
/// `ServicePrinciple`; both are accepted by [`Recipient::is_service_principal`]).
pub const SERVICE_PRINCIPAL: &str = "ServicePrincipal";

impl Recipient {
    /// Whether this is an Exchange service principal (`Get-ServicePrincipal`).
    pub fn is_service_principal(&self) -> bool {
        self.app_id.is_some()
            || self
                .recipient_type_details
                .eq_ignore_ascii_case(SERVICE_PRINCIPAL)
            || self
                .recipient_type_details
                .eq_ignore_ascii_case("ServicePrinciple")
    }

    /// Whether this is the service principal registration with `app_id` or `object_id`
    /// (either names it; compared without case).
    pub fn is_registration_of(&self, app_id: &str, object_id: &str) -> bool {
        self.is_service_principal()
            && (self
                .app_id
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
                || self
                    .external_directory_object_id
                    .as_deref()
                    .is_some_and(|o| o.eq_ignore_ascii_case(object_id)))
    }

    /// Whether this object has mail (a mailbox, mail user, contact or mail-enabled group):
    /// `Get-Recipient` lists it. Users, security groups and service principals without mail
    /// only come from `Get-User`, `Get-Group` and `Get-ServicePrincipal`.
    pub fn is_mail_enabled(&self) -> bool {
        !self.is_service_principal()
            && !self.primary_smtp_address.is_empty()
            && !matches!(
                self.recipient_type_details.as_str(),
                "User"
                    | "DisabledUser"
                    | "LinkedUser"
                    | "SecurityGroup"
                    | "UniversalSecurityGroup"
                    | "GlobalSecurityGroup"
                    | "NonUniversalGroup"
            )
    }

    /// Whether this is a security group without mail (`Get-Group`): Exchange accepts it in a
    /// mailbox permission, but it does not work there (`Add-MailboxPermission` doc).
    pub fn is_non_mail_security_group(&self) -> bool {
        self.is_group() && !self.is_mail_enabled() && self.is_security_principal()
    }

    /// Whether `Set-Mailbox -ModeratedBy` takes this recipient: a mailbox, mail user or mail
    /// contact (Set-Mailbox doc), not a group, a user without mail or a service principal.
    pub fn can_moderate(&self) -> bool {
        self.is_mail_enabled() && !self.is_group()
    }

    /// The string passed to Exchange as `-User`, `-Trustee` or in a list: the primary SMTP
    /// address, else the UPN, else the Entra object id (a service principal's `ObjectId`),
    /// else the Exchange Guid.
    pub fn identity(&self) -> String {
        let identity = if !self.primary_smtp_address.is_empty() {
            &self.primary_smtp_address
        } else if let Some(upn) = &self.user_principal_name {
            upn
        } else if let Some(id) = &self.external_directory_object_id {
            id
        } else {
            &self.guid
        };
        identity.to_ascii_lowercase()
    }

    /// The operation principal of this recipient.
    pub fn principal(&self) -> crate::Principal {
        crate::Principal::Recipient {
            id: crate::PrincipalId::of(self),
            address: self.identity(),
            app_id: self.app_id.as_ref().map(|a| a.to_ascii_lowercase()),
        }
    }

    /// Whether this recipient is a group of any kind.
    pub fn is_group(&self) -> bool {
        self.recipient_type_details.contains("Group")
    }

    /// The kind of group this is, `None` for anything that is not a group.
    pub fn group_kind(&self) -> Option<GroupKind> {
        if !self.is_group() {
            return None;
        }
        let details = self.recipient_type_details.as_str();
        Some(match details {
            "DynamicDistributionGroup" => GroupKind::Dynamic,
            "GroupMailbox" => GroupKind::Microsoft365,
            "MailUniversalSecurityGroup" => GroupKind::MailEnabledSecurity,
            "UniversalSecurityGroup"
            | "SecurityGroup"
            | "GlobalSecurityGroup"
            | "NonUniversalGroup"
            | "RoleGroup" => GroupKind::Security,
            _ => GroupKind::Distribution,
        })
    }

    /// Whether the account is known to be disabled: a `DisabledUser`, or `AccountDisabled`.
    pub fn is_disabled(&self) -> bool {
        self.account_disabled == Some(true)
            || self
                .recipient_type_details
                .eq_ignore_ascii_case("DisabledUser")
    }

    /// Whether this is a guest (`GuestMailUser`, or a UPN of the `#EXT#` form Entra gives
    /// invited users).
    pub fn is_guest(&self) -> bool {
        self.recipient_type_details
            .eq_ignore_ascii_case("GuestMailUser")
            || self
                .user_principal_name
                .as_deref()
                .is_some_and(|u| u.to_ascii_uppercase().contains("#EXT#"))
    }

    /// Whether Exchange can use this recipient in a permission ACE (a user, a mailbox or a
    /// mail-enabled security group; distribution groups and Microsoft 365 groups cannot hold rights).
    pub fn is_security_principal(&self) -> bool {
        !self.is_group()
            || matches!(
                self.recipient_type_details.as_str(),
                "MailUniversalSecurityGroup"
                    | "UniversalSecurityGroup"
                    | "SecurityGroup"
                    | "GlobalSecurityGroup"
            )
    }

    /// Every SMTP address of this recipient, primary first, lower-cased.
    pub fn smtp_addresses(&self) -> Vec<String> {
        let mut all = vec![self.primary_smtp_address.to_ascii_lowercase()];
        all.retain(|a| !a.is_empty());
        for proxy in &self.email_addresses {
            if let Some((prefix, address)) = proxy.split_once(':')
                && prefix.eq_ignore_ascii_case("smtp")
            {
                let address = address.to_ascii_lowercase();
                if !all.contains(&address) {
                    all.push(address);
                }
            }
        }
        all
    }
}

/// A shared mailbox with every property sharedbox manages (`Get-Mailbox` and friends).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mailbox {
    /// `ExternalDirectoryObjectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_directory_object_id: Option<String>,
    /// `Guid`.
    pub guid: String,
    /// `Name`.
    pub name: String,
    /// `Alias`.
    pub alias: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `PrimarySmtpAddress`.
    pub primary_smtp_address: String,
    /// `UserPrincipalName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// `EmailAddresses` with prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<String>,
    /// The mailbox language (`Get-MailboxRegionalConfiguration`), which localises folder names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// `HiddenFromAddressListsEnabled`.
    #[serde(default)]
    pub hidden_from_address_lists_enabled: bool,
    /// `AccountDisabled`: the mailbox's own account cannot sign in (CIS Microsoft 365
    /// Foundations 1.2.2 asks for it on shared mailboxes; a new shared mailbox's account can).
    #[serde(default)]
    pub account_disabled: bool,
    /// `MessageCopyForSentAsEnabled`.
    #[serde(default)]
    pub message_copy_for_sent_as_enabled: bool,
    /// `MessageCopyForSendOnBehalfEnabled`.
    #[serde(default)]
    pub message_copy_for_send_on_behalf_enabled: bool,
    /// `MessageCopyForSMTPClientSubmissionEnabled`: mail submitted over SMTP AUTH is saved in
    /// the Sent Items of the account that authenticated (Exchange's default: on).
    #[serde(default = "yes")]
    pub message_copy_for_smtp_client_submission_enabled: bool,
    /// `GrantSendOnBehalfTo`: recipient Names (often GUIDs).
    #[serde(default)]
    pub grant_send_on_behalf_to: Vec<String>,
    /// `ModerationEnabled`.
    #[serde(default)]
    pub moderation_enabled: bool,
    /// `ModeratedBy`: recipient Names.
    #[serde(default)]
    pub moderated_by: Vec<String>,
    /// `BypassModerationFromSendersOrMembers`: recipient Names.
    #[serde(default)]
    pub bypass_moderation_from_senders_or_members: Vec<String>,
    /// `SendModerationNotifications`: `Always`, `Internal` or `Never`.
    #[serde(default = "default_notifications")]
    pub send_moderation_notifications: String,
    /// `ForwardingAddress`: the recipient of the organisation mail is forwarded to, as its
    /// primary SMTP address (Exchange reports the recipient's Name; the readers resolve it
    /// through the directory). Wins over `ForwardingSmtpAddress` when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_address: Option<String>,
    /// `ForwardingSmtpAddress`: any address mail is forwarded to, without Exchange's `smtp:`
    /// prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_smtp_address: Option<String>,
    /// `DeliverToMailboxAndForward`: keep a copy in the mailbox when forwarding.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deliver_to_mailbox_and_forward: bool,
    /// `Get-MailboxAutoReplyConfiguration`, when it was read: Exchange Online reads it only
    /// for mailboxes whose policy manages `autoReply` ([`crate::ReadScope::auto_replies`]);
    /// `None` otherwise, and then nothing is planned for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_reply: Option<crate::AutoReply>,
    /// `Get-MailboxPermission` rows.
    #[serde(default)]
    pub mailbox_permissions: Vec<MailboxPermission>,
    /// `Get-RecipientPermission` rows.
    #[serde(default)]
    pub recipient_permissions: Vec<RecipientPermission>,
    /// The Sent Items folder (`Get-MailboxFolderStatistics -FolderScope SentItems`) and its permissions.
    #[serde(default)]
    pub sent_items: SentItemsFolder,
    /// The Inbox (`-FolderScope Inbox`) and its permissions; `None` when it was not read
    /// (Exchange Online reads it only where a policy manages `folders.inbox`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<MailboxFolder>,
    /// The Calendar (`-FolderScope Calendar`) and its permissions, delegate flags included;
    /// `None` when it was not read (only where a policy manages `folders.calendar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<MailboxFolder>,
    /// `Get-MailboxFolderPermission` rows of the mailbox root ("Top of Information Store",
    /// `<mailbox>:\\`), `Default` and `Anonymous` included; `None` when the root was not read
    /// (Exchange Online reads it only where a `sentItemsReaders` list needs it): then nothing
    /// is planned for it. A Sent Items reader without FullAccess needs `FolderVisible` here to
    /// browse to the folder in Outlook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_folder: Option<Vec<FolderPermission>>,
    /// `Get-CASMailbox`.
    #[serde(default)]
    pub cas_mailbox: CasMailbox,
    /// `IsDirSynced`: the object is synchronised from on-premises Active Directory (hybrid);
    /// the attributes it masters there cannot be changed in Exchange Online
    /// ([`crate::Property::mastered_on_premises`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_dir_synced: bool,
    /// `IsExchangeCloudManaged`: the Exchange attributes of a synchronised mailbox are
    /// managed in Exchange Online (the source of authority moved to the cloud); its identity
    /// attributes (the display name) still come from on-premises AD.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_exchange_cloud_managed: bool,
    /// `LitigationHoldEnabled`: read only, for the licence guard (lint SBX210).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub litigation_hold_enabled: bool,
    /// Whether the mailbox has an archive (`ArchiveGuid` is not all zeros): read only, for
    /// the licence guard (lint SBX210).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archive_enabled: bool,
    /// `SKUAssigned`: whether a licence is assigned to the mailbox's account, when Exchange
    /// reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_assigned: Option<bool>,
    /// `TotalItemSize` of `Get-MailboxStatistics` in bytes, when sizes were read
    /// (`--with-sizes`): read only, for the licence guard (lint SBX210).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_item_size_bytes: Option<u64>,
}

fn yes() -> bool {
    true
}

fn default_notifications() -> String {
    "Always".to_owned()
}

impl Mailbox {
    /// A shared mailbox as `New-Mailbox -Shared` creates it: Exchange defaults everywhere,
    /// the built-in `NT AUTHORITY\SELF` rows, an English Sent Items folder. Identifiers
    /// (`guid`, `name`, object id) are left for the backend to fill.
    pub fn new_shared(address: &str, display_name: &str) -> Mailbox {
        Mailbox {
            alias: address.split('@').next().unwrap_or(address).to_owned(),
            display_name: display_name.to_owned(),
            primary_smtp_address: address.to_owned(),
            user_principal_name: Some(address.to_owned()),
            email_addresses: vec![format!("SMTP:{address}")],
            send_moderation_notifications: default_notifications(),
            message_copy_for_smtp_client_submission_enabled: true,
            mailbox_permissions: vec![MailboxPermission {
                user: "NT AUTHORITY\\SELF".to_owned(),
                access_rights: vec!["FullAccess".to_owned(), "ReadPermission".to_owned()],
                ..MailboxPermission::default()
            }],
            recipient_permissions: vec![RecipientPermission {
                trustee: "NT AUTHORITY\\SELF".to_owned(),
                access_rights: vec!["SendAs".to_owned()],
                is_inherited: false,
                access_control_type: default_allow(),
            }],
            root_folder: Some(FolderPermission::built_in_rows()),
            auto_reply: Some(crate::AutoReply::default()),
            ..Mailbox::default()
        }
    }

    /// Whether any SMTP address of this mailbox is in `addresses` (lower-cased).
    pub fn is_any_of(&self, addresses: &std::collections::HashSet<String>) -> bool {
        addresses.contains(&self.primary_smtp_address.to_ascii_lowercase())
            || self.email_addresses.iter().any(|proxy| {
                proxy.split_once(':').is_some_and(|(prefix, a)| {
                    prefix.eq_ignore_ascii_case("smtp")
                        && addresses.contains(&a.to_ascii_lowercase())
                })
            })
    }

    /// Whether `address` is the primary or a secondary SMTP address of this mailbox.
    pub fn has_address(&self, address: &str) -> bool {
        self.primary_smtp_address.eq_ignore_ascii_case(address)
            || self.email_addresses.iter().any(|proxy| {
                proxy.split_once(':').is_some_and(|(prefix, a)| {
                    prefix.eq_ignore_ascii_case("smtp") && a.eq_ignore_ascii_case(address)
                })
            })
    }

    /// The mailbox as a recipient of the directory.
    pub fn recipient(&self) -> Recipient {
        Recipient {
            external_directory_object_id: self.external_directory_object_id.clone(),
            guid: self.guid.clone(),
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            primary_smtp_address: self.primary_smtp_address.clone(),
            user_principal_name: self.user_principal_name.clone(),
            email_addresses: self.email_addresses.clone(),
            sid: None,
            recipient_type_details: "SharedMailbox".to_owned(),
            smtp_client_authentication_disabled: self
                .cas_mailbox
                .smtp_client_authentication_disabled,
            app_id: None,
            members: None,
            account_disabled: Some(self.account_disabled),
        }
    }
}

/// One `Get-MailboxPermission` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MailboxPermission {
    /// `User`: a UPN, a group Name, `NT AUTHORITY\SELF`, or a SID when orphaned.
    pub user: String,
    /// `AccessRights`, e.g. `FullAccess`, `ReadPermission`.
    pub access_rights: Vec<String>,
    /// `IsInherited`.
    #[serde(default)]
    pub is_inherited: bool,
    /// `Deny`.
    #[serde(default)]
    pub deny: bool,
    /// AutoMapping as granted. Exchange never returns it (write-once); only the file backend knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_mapping: Option<bool>,
}

/// One `Get-RecipientPermission` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecipientPermission {
    /// `Trustee`: a UPN, a group Name, `NT AUTHORITY\SELF`, or a SID when orphaned.
    pub trustee: String,
    /// `AccessRights`, e.g. `SendAs`.
    pub access_rights: Vec<String>,
    /// `IsInherited`.
    #[serde(default)]
    pub is_inherited: bool,
    /// `AccessControlType`: `Allow` or `Deny`.
    #[serde(default = "default_allow")]
    pub access_control_type: String,
}

impl MailboxPermission {
    /// Whether this row is explicit and allows: not inherited, not a deny. Only such a row is
    /// sharedbox's to grant into or revoke from.
    pub fn is_explicit_allow(&self) -> bool {
        !self.is_inherited && !self.deny
    }

    /// Whether this row is an explicit FullAccess grant: explicit, allowing, with the right.
    /// The row half of the one rule for "is this a live FullAccess grant" (the principal half:
    /// not built in, [`crate::is_built_in`]; both together: [`Mailbox::full_access_grants`]).
    pub fn is_full_access_grant(&self) -> bool {
        self.is_explicit_allow() && has_right(&self.access_rights, "FullAccess")
    }
}

impl RecipientPermission {
    /// Whether this row is explicit and allows: not inherited, `Allow`. Only such a row is
    /// sharedbox's to grant into or revoke from.
    pub fn is_explicit_allow(&self) -> bool {
        !self.is_inherited && self.access_control_type.eq_ignore_ascii_case("Allow")
    }

    /// Whether this row is an explicit Send As grant: explicit, `Allow`, with the right. The
    /// row half of the one rule for "is this a live Send As grant" (both halves:
    /// [`Mailbox::send_as_grants`]).
    pub fn is_send_as_grant(&self) -> bool {
        self.is_explicit_allow() && has_right(&self.access_rights, "SendAs")
    }
}

/// The one rule for "is this a live grant": what planning compares with a policy, what a
/// deletion takes away (`--max-removals`) and what keeps a created mailbox from being
/// removed again on rollback. A grant is an explicit, allowing row with the right (see
/// [`MailboxPermission::is_full_access_grant`], [`RecipientPermission::is_send_as_grant`]) of
/// a principal that is not built in ([`crate::is_built_in`]: `NT AUTHORITY\SELF`, `Default`,
/// `Anonymous`, ...). Every Sent Items folder entry and Send on Behalf delegate of a
/// principal that is not built in is one.
impl Mailbox {
    /// The live FullAccess grants.
    pub fn full_access_grants(&self) -> impl Iterator<Item = &MailboxPermission> {
        self.mailbox_permissions
            .iter()
            .filter(|row| row.is_full_access_grant() && !crate::is_built_in(&row.user))
    }

    /// The `Set-Mailbox` parameter `operation` changes that on-premises AD masters for this
    /// mailbox, if any: only a synchronised mailbox (`IsDirSynced`) has such attributes, and
    /// one whose Exchange attributes are cloud-managed only its identity attributes.
    pub fn mastered_on_premises(&self, operation: &crate::Operation) -> Option<&'static str> {
        if !self.is_dir_synced {
            return None;
        }
        operation.mastered_on_premises(self.is_exchange_cloud_managed)
    }

    /// The live Send As grants.
    pub fn send_as_grants(&self) -> impl Iterator<Item = &RecipientPermission> {
        self.recipient_permissions
            .iter()
            .filter(|row| row.is_send_as_grant() && !crate::is_built_in(&row.trustee))
    }

    /// The live Sent Items folder entries (`Default` and `Anonymous` left out).
    pub fn sent_items_grants(&self) -> impl Iterator<Item = &FolderPermission> {
        self.folder_grants(WellKnownFolder::SentItems)
    }

    /// The well-known folder `folder`, `None` when it was not read (Sent Items always is).
    pub fn folder(&self, folder: WellKnownFolder) -> Option<&MailboxFolder> {
        match folder {
            WellKnownFolder::SentItems => Some(&self.sent_items),
            WellKnownFolder::Inbox => self.inbox.as_ref(),
            WellKnownFolder::Calendar => self.calendar.as_ref(),
        }
    }

    /// The well-known folder `folder` to write into: one that was not read is the folder a
    /// new mailbox has (its built-in rows only).
    pub fn folder_mut(&mut self, folder: WellKnownFolder) -> &mut MailboxFolder {
        match folder {
            WellKnownFolder::SentItems => &mut self.sent_items,
            WellKnownFolder::Inbox => self
                .inbox
                .get_or_insert_with(|| MailboxFolder::new(WellKnownFolder::Inbox)),
            WellKnownFolder::Calendar => self
                .calendar
                .get_or_insert_with(|| MailboxFolder::new(WellKnownFolder::Calendar)),
        }
    }

    /// The live entries of the well-known folder `folder` (`Default` and `Anonymous` left
    /// out); none when it was not read.
    pub fn folder_grants(
        &self,
        folder: WellKnownFolder,
    ) -> impl Iterator<Item = &FolderPermission> {
        self.folder(folder)
            .into_iter()
            .flat_map(|f| &f.permissions)
            .filter(|row| !crate::is_built_in(&row.user))
    }

    /// The root folder entry of the principal `entry` denotes: `None` when it has none, or
    /// when the root was not read ([`Mailbox::root_folder`]).
    pub fn root_entry(&self, mut denotes: impl FnMut(&str) -> bool) -> Option<&FolderPermission> {
        self.root_folder
            .as_deref()?
            .iter()
            .find(|row| !crate::is_built_in(&row.user) && denotes(&row.user))
    }

    /// The secondary SMTP addresses (`smtp:` proxies, lower-case prefix) without their
    /// prefix, in the order Exchange lists them: what a policy's `aliases` manages. The
    /// primary (`SMTP:`) and every other proxy type (X500, SIP, SPO, ...) are left out, and
    /// so is an `smtp:` entry that repeats the primary address.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.email_addresses.iter().filter_map(|proxy| {
            let (prefix, address) = proxy.split_once(':')?;
            (prefix == "smtp" && !address.eq_ignore_ascii_case(&self.primary_smtp_address))
                .then_some(address)
        })
    }

    /// Whether `address` is a secondary SMTP address of this mailbox (without case).
    pub fn has_alias(&self, address: &str) -> bool {
        self.aliases().any(|a| a.eq_ignore_ascii_case(address))
    }

    /// The live Send on Behalf delegates.
    pub fn send_on_behalf_grants(&self) -> impl Iterator<Item = &str> {
        self.grant_send_on_behalf_to
            .iter()
            .map(String::as_str)
            .filter(|entry| !crate::is_built_in(entry))
    }

    /// How many live grants the mailbox holds: what its deletion takes away.
    pub fn grant_count(&self) -> usize {
        self.full_access_grants().count()
            + self.send_as_grants().count()
            + WellKnownFolder::ALL
                .into_iter()
                .map(|f| self.folder_grants(f).count())
                .sum::<usize>()
            + self.send_on_behalf_grants().count()
    }
}

/// Whether `rights` holds `right`; Exchange compares access rights case-insensitively.
fn has_right(rights: &[String], right: &str) -> bool {
    rights.iter().any(|r| r.eq_ignore_ascii_case(right))
}

fn default_allow() -> String {
    "Allow".to_owned()
}

/// A well-known folder whose permissions a policy manages (`folders.<key>`), found by its
/// `FolderType` (`Get-MailboxFolderStatistics -FolderScope <type>`), never by its localised
/// name.
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
pub enum WellKnownFolder {
    /// Sent Items (`sentItems`).
    SentItems,
    /// The Inbox (`inbox`).
    Inbox,
    /// The Calendar (`calendar`): the only folder with delegate flags.
    Calendar,
}

impl WellKnownFolder {
    /// Every managed folder, in the order plans and exports list them.
    pub const ALL: [WellKnownFolder; 3] = [
        WellKnownFolder::SentItems,
        WellKnownFolder::Inbox,
        WellKnownFolder::Calendar,
    ];

    /// The `FolderType` (and `-FolderScope`) Exchange reports it with, never localised.
    pub const fn folder_type(self) -> &'static str {
        match self {
            WellKnownFolder::SentItems => "SentItems",
            WellKnownFolder::Inbox => "Inbox",
            WellKnownFolder::Calendar => "Calendar",
        }
    }

    /// The key under `folders:` in a policy.
    pub const fn key(self) -> &'static str {
        match self {
            WellKnownFolder::SentItems => "sentItems",
            WellKnownFolder::Inbox => "inbox",
            WellKnownFolder::Calendar => "calendar",
        }
    }

    /// The policy field of its entries, as plans show it (`folders.calendar`).
    pub const fn field(self) -> &'static str {
        match self {
            WellKnownFolder::SentItems => "folders.sentItems",
            WellKnownFolder::Inbox => "folders.inbox",
            WellKnownFolder::Calendar => "folders.calendar",
        }
    }

    /// The English name a new mailbox's folder has (a mailbox in another language has
    /// another; only reads tell).
    pub const fn english_name(self) -> &'static str {
        match self {
            WellKnownFolder::SentItems => "Sent Items",
            WellKnownFolder::Inbox => "Inbox",
            WellKnownFolder::Calendar => "Calendar",
        }
    }

    /// The folder of `FolderType` `folder_type` (without case).
    pub fn of_type(folder_type: &str) -> Option<WellKnownFolder> {
        WellKnownFolder::ALL
            .into_iter()
            .find(|f| f.folder_type().eq_ignore_ascii_case(folder_type))
    }

    /// Whether the folder takes a role only calendars know (`AvailabilityOnly`,
    /// `LimitedDetails`) and `-SharingPermissionFlags`.
    pub const fn is_calendar(self) -> bool {
        matches!(self, WellKnownFolder::Calendar)
    }
}

/// `-SharingPermissionFlags Delegate`: the user is a calendar delegate (receives meeting
/// requests and responses).
pub const DELEGATE: &str = "Delegate";

/// `-SharingPermissionFlags CanViewPrivateItems`: the delegate sees private items.
pub const CAN_VIEW_PRIVATE_ITEMS: &str = "CanViewPrivateItems";

/// The delegate flags of a folder entry in canonical form: the known flags in Exchange's
/// spelling and order (`Delegate`, `CanViewPrivateItems`), each once, `None` and empty
/// parts dropped; an unknown flag is kept as written (and then never equals a wanted one).
/// Takes list items or Exchange's comma-separated text (`Delegate, CanViewPrivateItems`).
pub fn canonical_flags<S: AsRef<str>>(flags: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in flags.iter().flat_map(|f| f.as_ref().split(',')) {
        let part = part.trim();
        if part.is_empty() || part.eq_ignore_ascii_case("None") {
            continue;
        }
        let known = [DELEGATE, CAN_VIEW_PRIVATE_ITEMS]
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(part));
        let flag = known.map_or_else(|| part.to_owned(), str::to_owned);
        if !out.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
            out.push(flag);
        }
    }
    out.sort_by_key(|f| match f.as_str() {
        DELEGATE => 0,
        CAN_VIEW_PRIVATE_ITEMS => 1,
        _ => 2,
    });
    out
}

/// The flags as a plan shows them after the role: `delegate`, `private items`.
pub fn shown_flags<S: AsRef<str>>(flags: &[S]) -> String {
    canonical_flags(flags)
        .iter()
        .map(|f| match f.as_str() {
            DELEGATE => "delegate".to_owned(),
            CAN_VIEW_PRIVATE_ITEMS => "private items".to_owned(),
            other => crate::printable(other, 40),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why Exchange refuses the entry `access` with `flags` on `folder`, if it does
/// (`Add-MailboxFolderPermission` doc, `-SharingPermissionFlags`: calendar folders only,
/// only with `-AccessRights Editor`; `CanViewPrivateItems` only together with `Delegate`).
///
/// # Errors
/// The rule the entry breaks, in words.
pub fn check_folder_entry<S: AsRef<str>>(
    folder: WellKnownFolder,
    access: &str,
    flags: &[S],
) -> Result<(), String> {
    let flags = canonical_flags(flags);
    if flags.is_empty() {
        return Ok(());
    }
    if !folder.is_calendar() {
        return Err(format!(
            "delegate flags (`-SharingPermissionFlags`) apply to the calendar only, not to `{}`",
            folder.key()
        ));
    }
    if let Some(unknown) = flags
        .iter()
        .find(|f| *f != DELEGATE && *f != CAN_VIEW_PRIVATE_ITEMS)
    {
        return Err(format!(
            "`{}` is not a sharing permission flag: use `Delegate` or `CanViewPrivateItems`",
            crate::printable(unknown, 40)
        ));
    }
    if !access.eq_ignore_ascii_case("Editor") {
        return Err(format!(
            "delegate flags need the role `Editor` on the calendar, not `{}`",
            crate::printable(access, 40)
        ));
    }
    if !flags.iter().any(|f| f == DELEGATE) {
        return Err("`CanViewPrivateItems` is given only together with `Delegate`".to_owned());
    }
    Ok(())
}

/// A well-known folder of a mailbox, found by its `FolderType`: its localised name, id and
/// permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MailboxFolder {
    /// The localised folder name (`Sent Items`, `Gesendete Elemente`, `Posteingang`, ...).
    pub name: String,
    /// `FolderId`, usable as `mailbox:FolderId`.
    #[serde(default)]
    pub folder_id: String,
    /// `Get-MailboxFolderPermission` rows, `Default` and `Anonymous` included.
    #[serde(default)]
    pub permissions: Vec<FolderPermission>,
}

/// The Sent Items folder of a mailbox (the name from when it was the only folder managed).
pub type SentItemsFolder = MailboxFolder;

impl MailboxFolder {
    /// `folder` as a new English mailbox has it: no id, the built-in rows only (on the
    /// calendar `Default` holds `AvailabilityOnly`: free/busy for everyone).
    pub fn new(folder: WellKnownFolder) -> MailboxFolder {
        let mut permissions = FolderPermission::built_in_rows();
        if folder.is_calendar() {
            permissions[0].access_rights = vec!["AvailabilityOnly".to_owned()];
        }
        MailboxFolder {
            name: folder.english_name().to_owned(),
            folder_id: String::new(),
            permissions,
        }
    }
}

impl Default for MailboxFolder {
    /// The Sent Items folder of a new English mailbox.
    fn default() -> Self {
        MailboxFolder::new(WellKnownFolder::SentItems)
    }
}

/// One `Get-MailboxFolderPermission` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FolderPermission {
    /// `User`: the display name, `Default`, `Anonymous`, or `NT:S-1-5-...` when orphaned.
    pub user: String,
    /// `AccessRights`: a role such as `Reviewer`, or individual rights.
    pub access_rights: Vec<String>,
    /// `SharingPermissionFlags` of a calendar entry (`Delegate`, `CanViewPrivateItems`),
    /// canonical ([`canonical_flags`]); empty for `None` and on other folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sharing_permission_flags: Vec<String>,
}

/// The one right sharedbox grants on a mailbox root, for Sent Items readers.
pub const FOLDER_VISIBLE: &str = "FolderVisible";

impl FolderPermission {
    /// The rows Exchange gives a new folder: `Default` and `Anonymous` with `None`.
    pub fn built_in_rows() -> Vec<FolderPermission> {
        ["Default", "Anonymous"]
            .into_iter()
            .map(|user| FolderPermission {
                user: user.to_owned(),
                access_rights: vec!["None".to_owned()],
                sharing_permission_flags: Vec::new(),
            })
            .collect()
    }

    /// Whether the row holds exactly `FolderVisible` (what sharedbox grants on the root),
    /// compared without case.
    pub fn is_only_folder_visible(&self) -> bool {
        matches!(self.access_rights.as_slice(), [r] if r.eq_ignore_ascii_case(FOLDER_VISIBLE))
    }
}

/// `Get-CASMailbox`: which clients and protocols may open the mailbox.
///
/// Every switch is optional because Exchange sometimes returns blanks; `None` means
/// "not reported" and never equals a desired value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CasMailbox {
    /// `OWAEnabled`.
    #[serde(rename = "owaEnabled", default = "on")]
    pub owa_enabled: Option<bool>,
    /// `MAPIEnabled` (classic Outlook for Windows).
    #[serde(rename = "mapiEnabled", default = "on")]
    pub mapi_enabled: Option<bool>,
    /// `OneWinNativeOutlookEnabled` (new Outlook for Windows).
    #[serde(default = "on")]
    pub one_win_native_outlook_enabled: Option<bool>,
    /// `MacOutlookEnabled`.
    #[serde(default = "on")]
    pub mac_outlook_enabled: Option<bool>,
    /// `OutlookMobileEnabled`.
    #[serde(default = "on")]
    pub outlook_mobile_enabled: Option<bool>,
    /// `ActiveSyncEnabled`.
    #[serde(default = "on")]
    pub active_sync_enabled: Option<bool>,
    /// `EwsEnabled`.
    #[serde(default = "on")]
    pub ews_enabled: Option<bool>,
    /// `ImapEnabled`.
    #[serde(default = "on")]
    pub imap_enabled: Option<bool>,
    /// `PopEnabled`.
    #[serde(default = "on")]
    pub pop_enabled: Option<bool>,
    /// `SmtpClientAuthenticationDisabled`: `None` follows the tenant setting.
    #[serde(default)]
    pub smtp_client_authentication_disabled: Option<bool>,
}

fn on() -> Option<bool> {
    Some(true)
}

impl Default for CasMailbox {
    /// What Exchange gives a new mailbox: every client allowed, SMTP AUTH from the tenant setting.
    fn default() -> Self {
        CasMailbox {
            owa_enabled: on(),
            mapi_enabled: on(),
            one_win_native_outlook_enabled: on(),
            mac_outlook_enabled: on(),
            outlook_mobile_enabled: on(),
            active_sync_enabled: on(),
            ews_enabled: on(),
            imap_enabled: on(),
            pop_enabled: on(),
            smtp_client_authentication_disabled: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_grant_is_explicit_allowed_and_compared_without_case() {
        let full = |rights: &[&str], is_inherited, deny| MailboxPermission {
            user: "anna@contoso.com".into(),
            access_rights: rights.iter().map(|r| (*r).to_owned()).collect(),
            is_inherited,
            deny,
            auto_mapping: None,
        };
        assert!(full(&["ReadPermission", "fullaccess"], false, false).is_full_access_grant());
        assert!(!full(&["FullAccess"], true, false).is_full_access_grant());
        assert!(!full(&["FullAccess"], false, true).is_full_access_grant());
        assert!(!full(&["ReadPermission"], false, false).is_full_access_grant());
        let send_as = |rights: &[&str], is_inherited, access: &str| RecipientPermission {
            trustee: "anna@contoso.com".into(),
            access_rights: rights.iter().map(|r| (*r).to_owned()).collect(),
            is_inherited,
            access_control_type: access.into(),
        };
        assert!(send_as(&["sendas"], false, "allow").is_send_as_grant());
        assert!(!send_as(&["SendAs"], true, "Allow").is_send_as_grant());
        assert!(!send_as(&["SendAs"], false, "Deny").is_send_as_grant());
        assert!(!send_as(&["ReadPermission"], false, "Allow").is_send_as_grant());
    }

    #[test]
    fn a_mailbox_counts_only_live_grants_of_principals_that_are_not_built_in() {
        let mut mailbox = Mailbox::new_shared("support@contoso.com", "Support");
        assert_eq!(
            mailbox.grant_count(),
            0,
            "SELF, Default and Anonymous are built in"
        );
        let row = |user: &str, rights: &[&str], is_inherited, deny| MailboxPermission {
            user: user.into(),
            access_rights: rights.iter().map(|r| (*r).to_owned()).collect(),
            is_inherited,
            deny,
            auto_mapping: None,
        };
        mailbox.mailbox_permissions.extend([
            row("anna@contoso.com", &["FullAccess"], false, false),
            row("ben@contoso.com", &["FullAccess"], true, false),
            row("clara@contoso.com", &["FullAccess"], false, true),
            row("david@contoso.com", &["ReadPermission"], false, false),
            row(" nt authority\\system", &["FullAccess"], false, false),
        ]);
        mailbox.recipient_permissions.push(RecipientPermission {
            trustee: "ben@contoso.com".into(),
            access_rights: vec!["SendAs".into()],
            is_inherited: false,
            access_control_type: "Deny".into(),
        });
        mailbox.grant_send_on_behalf_to.push("ben".into());
        mailbox.sent_items.permissions.push(FolderPermission {
            user: "Clara Diaz".into(),
            access_rights: vec!["Reviewer".into()],
            ..FolderPermission::default()
        });
        let full: Vec<&str> = mailbox
            .full_access_grants()
            .map(|r| r.user.as_str())
            .collect();
        assert_eq!(full, ["anna@contoso.com"]);
        assert_eq!(
            mailbox.send_as_grants().count(),
            0,
            "a deny row is no grant"
        );
        assert_eq!(
            mailbox.grant_count(),
            3,
            "anna, ben on behalf, clara's folder role"
        );
        assert!(!crate::holds_no_grants(&mailbox));
        mailbox.grant_send_on_behalf_to.clear();
        mailbox.sent_items = SentItemsFolder::default();
        assert!(
            !crate::holds_no_grants(&mailbox),
            "anna still holds FullAccess"
        );
        mailbox
            .mailbox_permissions
            .retain(|r| r.user != "anna@contoso.com");
        assert!(
            crate::holds_no_grants(&mailbox),
            "inherited, deny and ReadPermission-only rows are no grants"
        );
    }

    #[test]
    fn delegate_flags_are_canonical_and_checked_as_exchange_checks_them() {
        assert_eq!(
            canonical_flags(&["canviewprivateitems, DELEGATE", "None", " delegate "]),
            ["Delegate", "CanViewPrivateItems"]
        );
        assert!(canonical_flags(&["None"]).is_empty());
        assert_eq!(
            shown_flags(&["Delegate", "CanViewPrivateItems"]),
            "delegate, private items"
        );
        let calendar = WellKnownFolder::Calendar;
        assert_eq!(
            check_folder_entry(calendar, "editor", &["Delegate"]),
            Ok(())
        );
        assert_eq!(
            check_folder_entry::<&str>(WellKnownFolder::Inbox, "Owner", &[]),
            Ok(())
        );
        for (folder, access, flags, why) in [
            (
                WellKnownFolder::Inbox,
                "Editor",
                &["Delegate"][..],
                "calendar only",
            ),
            (
                calendar,
                "Reviewer",
                &["Delegate"][..],
                "need the role `Editor`",
            ),
            (
                calendar,
                "Editor",
                &["CanViewPrivateItems"][..],
                "only together with `Delegate`",
            ),
            (
                calendar,
                "Editor",
                &["Delegate", "Boss"][..],
                "not a sharing permission flag",
            ),
        ] {
            let error = check_folder_entry(folder, access, flags).unwrap_err();
            assert!(error.contains(why), "{error}");
        }
        // Folders are found by type, never by name; one not read has only built-in rows.
        assert_eq!(WellKnownFolder::of_type("calendar"), Some(calendar));
        let mut mailbox = Mailbox::new_shared("a@contoso.com", "A");
        assert!(mailbox.folder(calendar).is_none());
        assert_eq!(mailbox.folder_grants(calendar).count(), 0);
        mailbox
            .folder_mut(calendar)
            .permissions
            .push(FolderPermission {
                user: "Ben".into(),
                access_rights: vec!["Editor".into()],
                sharing_permission_flags: vec!["Delegate".into()],
            });
        assert_eq!(mailbox.folder(calendar).unwrap().name, "Calendar");
        assert_eq!(mailbox.grant_count(), 1, "a calendar delegate is a grant");
    }
}
