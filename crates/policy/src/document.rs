//! The policy documents as written in YAML (`apiVersion: sharedbox/v1`).
//!
//! One struct, [`RawDocument`], holds the fields of every `kind`, so that a document is
//! parsed in one pass with the position of every value. Which fields a kind allows is
//! checked afterwards ([`allowed_fields`]); the JSON Schema is split per kind the same way.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Deserialize;
use sharedbox_tenant::{OrganizationProperty, Property, Value, WellKnownFolder};

/// A value together with its position in the YAML source.
#[derive(Debug, Clone)]
pub struct Sp<T>(pub serde_saphyr::Spanned<T>);

impl<T> Sp<T> {
    /// The value.
    pub fn value(&self) -> &T {
        &self.0.value
    }

    /// Where the value is in `source`.
    pub fn origin(&self, source: &std::sync::Arc<crate::Source>) -> crate::Origin {
        crate::Origin::from_location(source, &self.0.referenced)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_saphyr::Spanned::<T>::deserialize(deserializer).map(Sp)
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// The kind of a policy document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Kind {
    /// One shared mailbox, keyed by its primary SMTP address.
    SharedMailbox,
    /// Organisation-wide settings.
    TenantSettings,
    /// Values applied to every `SharedMailbox` that does not set them itself.
    Defaults,
    /// A named set of values that a `SharedMailbox` takes with `profile: NAME`; overrides
    /// a built-in profile of the same name.
    Profile,
}

impl Kind {
    /// The kind's name as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SharedMailbox => "SharedMailbox",
            Kind::TenantSettings => "TenantSettings",
            Kind::Defaults => "Defaults",
            Kind::Profile => "Profile",
        }
    }
}

/// A sharedbox policy document: a `SharedMailbox`, `TenantSettings`, `Defaults` or `Profile`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDocument {
    /// Always `sharedbox/v1`.
    pub api_version: Sp<String>,
    /// `SharedMailbox`, `TenantSettings`, `Defaults` or `Profile`.
    pub kind: Sp<Kind>,
    /// Primary SMTP address of the shared mailbox; the key that identifies it.
    #[serde(default)]
    pub mailbox: Option<Sp<String>>,
    /// `Profile` only: the name mailboxes use to take it (`profile: NAME`).
    #[serde(default)]
    pub name: Option<Sp<String>>,
    /// `Profile` only: what the profile is for, shown by `sharedbox profiles`.
    #[serde(default)]
    pub description: Option<Sp<String>>,
    /// The profile this mailbox takes its values from where it sets none itself (a `Profile`
    /// document of the policies, or a built-in one: `team-mailbox`, `contact-center`,
    /// `crm-graph`). Precedence: the mailbox's own value, then the profile's, then `Defaults`.
    #[serde(default)]
    pub profile: Option<Sp<String>>,
    /// Display name; managed when present, and used when the mailbox is created.
    #[serde(default)]
    pub display_name: Option<Sp<String>>,
    /// Hide the mailbox from the address lists (`HiddenFromAddressListsEnabled`).
    #[serde(default)]
    pub hidden_from_address_lists: Option<Sp<bool>>,
    /// Whether the mailbox's own account can sign in (`Set-Mailbox -AccountDisabled`):
    /// `blocked` (the baseline: people use their own accounts with Full Access or Send As)
    /// or `allowed`.
    #[serde(default)]
    pub sign_in: Option<Sp<SignIn>>,
    /// The mailbox's secondary SMTP addresses (`smtp:` proxies in `EmailAddresses`, written
    /// with `Set-Mailbox -EmailAddresses @{Add=...; Remove=...}`), e.g. the addresses a CRM
    /// sends from. Authoritative when present: live secondary SMTP addresses not listed are
    /// removed; `[]` removes all. The primary address (`mailbox`), X500, SIP and other
    /// non-SMTP addresses are never touched. `SharedMailbox` documents only.
    #[serde(default)]
    pub aliases: Option<Sp<Vec<Sp<String>>>>,
    /// Server-side copies of sent mail in the shared mailbox's own Sent Items.
    #[serde(default)]
    pub sent_items: Option<Sp<SentItems>>,
    /// Who may send as the mailbox (`Add-RecipientPermission -AccessRights SendAs`):
    /// SMTP address, UPN, Entra object id, or `app:<appId>` for an app's service principal
    /// (SMTP AUTH app-only). Authoritative when present: trustees not listed are revoked;
    /// `[]` revokes all.
    #[serde(default)]
    pub send_as: Option<Sp<Vec<Sp<String>>>>,
    /// Who may send on behalf of the mailbox (`GrantSendOnBehalfTo`). Authoritative when present.
    #[serde(default)]
    pub send_on_behalf: Option<Sp<Vec<Sp<String>>>>,
    /// Who may open the whole mailbox (`Add-MailboxPermission -AccessRights FullAccess`).
    /// Authoritative when present.
    #[serde(default)]
    pub full_access: Option<Sp<Vec<FullAccessEntry>>>,
    /// Who may read the (localised) Sent Items folder without full access
    /// (`Add-MailboxFolderPermission`). Authoritative when present.
    #[serde(default)]
    pub sent_items_readers: Option<Sp<Vec<ReaderEntry>>>,
    /// Permissions on the well-known folders, found by type whatever their localised name
    /// (`Add-/Set-/Remove-MailboxFolderPermission`): `sentItems`, `inbox`, `calendar`, each a
    /// list of `{principal, access}`; calendar entries may add the delegate flags
    /// `delegate` and `canViewPrivateItems` (`-SharingPermissionFlags`, with `access:
    /// Editor`). Each folder listed is authoritative; a folder not listed is not managed.
    /// `folders.sentItems` and `sentItemsReaders` cannot both manage one mailbox.
    #[serde(default)]
    pub folders: Option<Sp<Folders>>,
    /// Which clients and protocols may open the mailbox (`Set-CASMailbox`).
    #[serde(default)]
    pub clients: Option<Sp<Clients>>,
    /// Approval of incoming mail before delivery.
    #[serde(default)]
    pub moderation: Option<Sp<Moderation>>,
    /// Where incoming mail is forwarded: `{to: ADDRESS, keepCopy: true|false}` or `none`.
    /// `to` that names a recipient of the organisation becomes `ForwardingAddress`, any
    /// other address `ForwardingSmtpAddress`; `keepCopy` is `DeliverToMailboxAndForward`.
    #[serde(default)]
    pub forwarding: Option<Sp<Forwarding>>,
    /// Automatic replies (`Set-MailboxAutoReplyConfiguration`): `{state, start, end,
    /// internal, external, externalAudience}`; a key left out is not managed.
    #[serde(default)]
    pub auto_reply: Option<Sp<AutoReply>>,
    /// Creation and deletion rules.
    #[serde(default)]
    pub lifecycle: Option<Sp<Lifecycle>>,
    /// Lint levels for this mailbox (or every mailbox taking this profile or these defaults):
    /// `{SBX103: info}`; the most specific document wins, then `sharedbox.yaml`.
    #[serde(default)]
    pub lints: Option<Sp<std::collections::BTreeMap<String, Sp<LintLevel>>>>,
    /// `TenantSettings` only: let users send from proxy (alias) addresses (`SendFromAliasEnabled`).
    #[serde(default)]
    pub send_from_alias_enabled: Option<Sp<bool>>,
    /// `TenantSettings` only: switch SMTP AUTH off (`true`) or on (`false`) for every account
    /// whose own `clients.smtpAuth` is `inherit` (`Set-TransportConfig
    /// -SmtpClientAuthenticationDisabled`).
    #[serde(default)]
    pub smtp_client_authentication_disabled: Option<Sp<bool>>,
    /// `TenantSettings` only: Exchange registrations of Entra apps' service principals that
    /// policies name as `app:<appId>`; a missing one is created (`New-ServicePrincipal`)
    /// before any grant. Not authoritative: registrations not listed are left alone.
    #[serde(default)]
    pub service_principals: Option<Sp<Vec<ServicePrincipalEntry>>>,
}

/// One Exchange service principal registration (`New-ServicePrincipal`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicePrincipalEntry {
    /// The application (client) id: App registrations > Application (client) ID.
    pub app_id: Sp<String>,
    /// The object id of the enterprise application (the service principal), not of the app
    /// registration: Enterprise applications > Object ID. Exchange does not check it.
    pub object_id: Sp<String>,
    /// The display name Exchange shows.
    #[serde(default)]
    pub display_name: Option<Sp<String>>,
}

/// Where a setting was written in its YAML source.
pub type Position<'a> = &'a serde_saphyr::Location;

impl RawDocument {
    /// Every catalogued mailbox property the document sets, with its value as Exchange takes
    /// it and where it was written: the one place that maps policy fields to the catalogue.
    pub fn settings(&self) -> Vec<(Property, Value, Position<'_>)> {
        fn push<'a>(
            out: &mut Vec<(Property, Value, Position<'a>)>,
            property: Property,
            value: &'a Option<Sp<bool>>,
        ) {
            if let Some(v) = value {
                out.push((property, Value::Flag(*v.value()), &v.0.referenced));
            }
        }
        let mut out = Vec::new();
        let mut flag = |property, value| push(&mut out, property, value);
        flag(
            Property::HiddenFromAddressLists,
            &self.hidden_from_address_lists,
        );
        if let Some(sign_in) = &self.sign_in {
            let blocked = *sign_in.value() == SignIn::Blocked;
            out.push((
                Property::SignIn,
                Value::Flag(blocked),
                &sign_in.0.referenced,
            ));
        }
        let mut flag = |property, value| push(&mut out, property, value);
        if let Some(sent) = &self.sent_items {
            flag(Property::CopyForSendAs, &sent.value().copy_for_send_as);
            flag(
                Property::CopyForSendOnBehalf,
                &sent.value().copy_for_send_on_behalf,
            );
            flag(
                Property::CopyForSmtpSubmission,
                &sent.value().copy_for_smtp_submission,
            );
        }
        if let Some(moderation) = &self.moderation {
            flag(Property::ModerationEnabled, &moderation.value().enabled);
        }
        if let Some(clients) = &self.clients {
            let c = clients.value();
            flag(Property::Owa, &c.owa);
            flag(Property::Outlook, &c.outlook);
            flag(Property::NewOutlook, &c.new_outlook);
            flag(Property::MacOutlook, &c.mac_outlook);
            flag(Property::Mobile, &c.mobile);
            flag(Property::ActiveSync, &c.active_sync);
            flag(Property::Ews, &c.ews);
            flag(Property::Imap, &c.imap);
            flag(Property::Pop, &c.pop);
        }
        if let Some(name) = &self.display_name {
            out.push((
                Property::DisplayName,
                Value::Text(name.value().clone()),
                &name.0.referenced,
            ));
        }
        if let Some(n) = self
            .moderation
            .as_ref()
            .and_then(|m| m.value().notifications.as_ref())
        {
            out.push((
                Property::ModerationNotifications,
                Value::Text(n.value().as_exchange().to_owned()),
                &n.0.referenced,
            ));
        }
        if let Some(smtp) = self
            .clients
            .as_ref()
            .and_then(|c| c.value().smtp_auth.as_ref())
        {
            let value = match smtp.value() {
                SmtpAuth::Enabled => Value::Flag(false),
                SmtpAuth::Disabled => Value::Flag(true),
                SmtpAuth::Inherit => Value::Unset,
            };
            out.push((
                Property::SmtpClientAuthenticationDisabled,
                value,
                &smtp.0.referenced,
            ));
        }
        if let Some(forwarding) = &self.forwarding {
            let at = &forwarding.0.referenced;
            match forwarding.value() {
                // `to` is written as an SMTP forward; the planner, which knows the
                // directory, moves it to `ForwardingAddress` when it names a recipient.
                Forwarding::To(f) => {
                    out.push((
                        Property::ForwardingAddress,
                        Value::Unset,
                        &f.to.0.referenced,
                    ));
                    out.push((
                        Property::ForwardingSmtpAddress,
                        Value::Text(f.to.value().trim().to_owned()),
                        &f.to.0.referenced,
                    ));
                    if let Some(keep) = &f.keep_copy {
                        out.push((
                            Property::ForwardingKeepCopy,
                            Value::Flag(*keep.value()),
                            &keep.0.referenced,
                        ));
                    }
                }
                Forwarding::None => {
                    out.push((Property::ForwardingAddress, Value::Unset, at));
                    out.push((Property::ForwardingSmtpAddress, Value::Unset, at));
                    out.push((Property::ForwardingKeepCopy, Value::Flag(false), at));
                }
            }
        }
        if let Some(auto_reply) = &self.auto_reply {
            let a = auto_reply.value();
            if let Some(state) = &a.state {
                out.push((
                    Property::AutoReplyState,
                    Value::Text(state.value().as_exchange().to_owned()),
                    &state.0.referenced,
                ));
            }
            // Times in UTC when they read as times (the loader refuses any other).
            for (property, time) in [
                (Property::AutoReplyStart, &a.start),
                (Property::AutoReplyEnd, &a.end),
            ] {
                if let Some(time) = time {
                    let text = time.value().trim();
                    out.push((
                        property,
                        Value::Text(
                            sharedbox_tenant::auto_reply::canonical_time(text)
                                .unwrap_or_else(|| text.to_owned()),
                        ),
                        &time.0.referenced,
                    ));
                }
            }
            // Messages as the HTML written to Exchange: text escaped, line breaks `<br>`.
            for (property, message) in [
                (Property::AutoReplyInternal, &a.internal),
                (Property::AutoReplyExternal, &a.external),
            ] {
                if let Some(message) = message {
                    out.push((
                        property,
                        Value::Text(sharedbox_tenant::auto_reply::message_html(
                            message.value().trim(),
                        )),
                        &message.0.referenced,
                    ));
                }
            }
            if let Some(audience) = &a.external_audience {
                out.push((
                    Property::AutoReplyExternalAudience,
                    Value::Text(audience.value().as_exchange().to_owned()),
                    &audience.0.referenced,
                ));
            }
        }
        out
    }

    /// Every catalogued organisation property a `TenantSettings` document sets.
    pub fn organization_settings(&self) -> Vec<(OrganizationProperty, Value, Position<'_>)> {
        let mut out = Vec::new();
        if let Some(v) = &self.send_from_alias_enabled {
            out.push((
                OrganizationProperty::SendFromAliasEnabled,
                Value::Flag(*v.value()),
                &v.0.referenced,
            ));
        }
        if let Some(v) = &self.smtp_client_authentication_disabled {
            out.push((
                OrganizationProperty::SmtpClientAuthenticationDisabled,
                Value::Flag(*v.value()),
                &v.0.referenced,
            ));
        }
        out
    }
}

/// The level of a lint: its severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    /// Fails `validate` and `plan`.
    Error,
    /// Reported; fails nothing.
    Warning,
    /// Reported as a note.
    Info,
    /// Not reported.
    Off,
}

/// Server-side sent-items copy flags.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SentItems {
    /// Copy mail sent **as** the mailbox into its Sent Items (`MessageCopyForSentAsEnabled`).
    #[serde(default)]
    pub copy_for_send_as: Option<Sp<bool>>,
    /// Copy mail sent **on behalf of** the mailbox into its Sent Items
    /// (`MessageCopyForSendOnBehalfEnabled`).
    #[serde(default)]
    pub copy_for_send_on_behalf: Option<Sp<bool>>,
    /// Save mail submitted over SMTP AUTH in the Sent Items of the account that authenticated
    /// (`MessageCopyForSMTPClientSubmissionEnabled`; Exchange's default is on).
    #[serde(default)]
    pub copy_for_smtp_submission: Option<Sp<bool>>,
}

/// One FullAccess grant.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FullAccessEntry {
    /// A user or mail-enabled security group (SMTP address, UPN or Entra object id), or an
    /// app's service principal as `app:<appId>` (app-only IMAP/POP).
    pub principal: Sp<String>,
    /// Whether Outlook opens the mailbox automatically. Exchange applies it only when the
    /// grant is made and never reports it back; absent = Exchange's default (`true`).
    #[serde(default)]
    pub auto_mapping: Option<Sp<bool>>,
}

/// One reader of the Sent Items folder.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReaderEntry {
    /// A user or mail-enabled security group: SMTP address, UPN or Entra object id.
    pub principal: Sp<String>,
    /// The folder role.
    pub access: Sp<FolderAccess>,
}

/// `folders`: the entries of each managed well-known folder.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Folders {
    /// Sent Items (the folder `sentItemsReaders` manages; use one or the other).
    #[serde(default)]
    pub sent_items: Option<Sp<Vec<FolderGrantEntry>>>,
    /// The Inbox.
    #[serde(default)]
    pub inbox: Option<Sp<Vec<FolderGrantEntry>>>,
    /// The Calendar: the only folder that takes `delegate` and `canViewPrivateItems`.
    #[serde(default)]
    pub calendar: Option<Sp<Vec<FolderGrantEntry>>>,
}

impl Folders {
    /// The list of each folder the document writes, in [`WellKnownFolder::ALL`] order.
    pub fn lists(&self) -> Vec<(WellKnownFolder, &Sp<Vec<FolderGrantEntry>>)> {
        [
            (WellKnownFolder::SentItems, &self.sent_items),
            (WellKnownFolder::Inbox, &self.inbox),
            (WellKnownFolder::Calendar, &self.calendar),
        ]
        .into_iter()
        .filter_map(|(folder, list)| list.as_ref().map(|l| (folder, l)))
        .collect()
    }
}

/// One entry of a managed folder.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FolderGrantEntry {
    /// A user or mail-enabled security group: SMTP address, UPN or Entra object id.
    pub principal: Sp<String>,
    /// The folder role.
    pub access: Sp<FolderAccess>,
    /// Calendar only, with `access: Editor`: make the principal a calendar delegate, who
    /// receives the mailbox's meeting requests and responses (`-SharingPermissionFlags
    /// Delegate`). Absent = `false`.
    #[serde(default)]
    pub delegate: Option<Sp<bool>>,
    /// Calendar only, with `delegate: true`: the delegate sees private items
    /// (`-SharingPermissionFlags CanViewPrivateItems`). Absent = `false`.
    #[serde(default)]
    pub can_view_private_items: Option<Sp<bool>>,
}

/// A folder permission role that Exchange knows for mail folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum FolderAccess {
    /// Every right, including changing permissions.
    Owner,
    /// Create, read, edit and delete all items; create subfolders.
    PublishingEditor,
    /// Create, read, edit and delete all items.
    Editor,
    /// Create and read items, edit and delete own items; create subfolders.
    PublishingAuthor,
    /// Create and read items, edit and delete own items.
    Author,
    /// Create and read items, delete own items.
    NonEditingAuthor,
    /// Read items.
    Reviewer,
    /// Create items.
    Contributor,
}

impl FolderAccess {
    /// The role as Exchange spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            FolderAccess::Owner => "Owner",
            FolderAccess::PublishingEditor => "PublishingEditor",
            FolderAccess::Editor => "Editor",
            FolderAccess::PublishingAuthor => "PublishingAuthor",
            FolderAccess::Author => "Author",
            FolderAccess::NonEditingAuthor => "NonEditingAuthor",
            FolderAccess::Reviewer => "Reviewer",
            FolderAccess::Contributor => "Contributor",
        }
    }
}

/// Client switches (`Set-CASMailbox`). Absent switches are not managed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Clients {
    /// Outlook on the web (`OWAEnabled`).
    #[serde(default)]
    pub owa: Option<Sp<bool>>,
    /// Classic Outlook for Windows over MAPI (`MAPIEnabled`).
    #[serde(default)]
    pub outlook: Option<Sp<bool>>,
    /// New Outlook for Windows (`OneWinNativeOutlookEnabled`).
    #[serde(default)]
    pub new_outlook: Option<Sp<bool>>,
    /// Outlook for Mac (`MacOutlookEnabled`).
    #[serde(default)]
    pub mac_outlook: Option<Sp<bool>>,
    /// Outlook for iOS and Android (`OutlookMobileEnabled`).
    #[serde(default)]
    pub mobile: Option<Sp<bool>>,
    /// Exchange ActiveSync, the native phone mail apps (`ActiveSyncEnabled`).
    #[serde(default)]
    pub active_sync: Option<Sp<bool>>,
    /// Exchange Web Services, used by many third-party apps (`EwsEnabled`).
    #[serde(default)]
    pub ews: Option<Sp<bool>>,
    /// IMAP (`ImapEnabled`). IMAP clients make no server-side sent copy.
    #[serde(default)]
    pub imap: Option<Sp<bool>>,
    /// POP (`PopEnabled`).
    #[serde(default)]
    pub pop: Option<Sp<bool>>,
    /// Authenticated SMTP submission (`SmtpClientAuthenticationDisabled`): `enabled`,
    /// `disabled`, or `inherit` to follow the tenant-wide setting.
    #[serde(default)]
    pub smtp_auth: Option<Sp<SmtpAuth>>,
}

/// Whether a shared mailbox's own account can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignIn {
    /// `AccountDisabled: true`.
    Blocked,
    /// `AccountDisabled: false`.
    Allowed,
}

/// Tri-state SMTP AUTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpAuth {
    /// `SmtpClientAuthenticationDisabled: false`.
    Enabled,
    /// `SmtpClientAuthenticationDisabled: true`.
    Disabled,
    /// `SmtpClientAuthenticationDisabled: null`: the tenant's transport setting applies.
    Inherit,
}

/// Moderation: messages to the mailbox wait for a moderator's approval.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Moderation {
    /// `ModerationEnabled`.
    #[serde(default)]
    pub enabled: Option<Sp<bool>>,
    /// Who approves (`ModeratedBy`). Authoritative when present.
    #[serde(default)]
    pub moderators: Option<Sp<Vec<Sp<String>>>>,
    /// Whose mail skips moderation (`BypassModerationFromSendersOrMembers`). Authoritative when present.
    #[serde(default)]
    pub bypass: Option<Sp<Vec<Sp<String>>>>,
    /// Who is told when a message is rejected (`SendModerationNotifications`).
    #[serde(default)]
    pub notifications: Option<Sp<Notifications>>,
}

/// `SendModerationNotifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Notifications {
    /// Every sender.
    Always,
    /// Senders inside the organisation.
    Internal,
    /// Nobody.
    Never,
}

impl Notifications {
    /// The value as Exchange spells it.
    pub fn as_exchange(self) -> &'static str {
        match self {
            Notifications::Always => "Always",
            Notifications::Internal => "Internal",
            Notifications::Never => "Never",
        }
    }
}

/// Creation and deletion rules.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lifecycle {
    /// Fail any plan that would delete this mailbox.
    #[serde(default)]
    pub prevent_destroy: Option<Sp<bool>>,
    /// `present` (default) creates the mailbox when missing; `absent` deletes it, and only
    /// with `--allow-destroy`.
    #[serde(default)]
    pub ensure: Option<Sp<Ensure>>,
}

/// Whether the mailbox should exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Ensure {
    /// The mailbox exists (created when missing).
    Present,
    /// The mailbox is deleted.
    Absent,
}

/// `autoReply`: automatic replies. Every key is optional; a key left out is not managed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoReply {
    /// `AutoReplyState`: `disabled`, `enabled` (until switched off) or `scheduled` (between
    /// `start` and `end`, which it needs).
    #[serde(default)]
    pub state: Option<Sp<AutoReplyState>>,
    /// `StartTime`, with `state: scheduled` only: RFC 3339 with an offset or `Z`, e.g.
    /// `2026-12-24T09:00:00+01:00`; written to Exchange in UTC.
    #[serde(default)]
    pub start: Option<Sp<String>>,
    /// `EndTime`, with `state: scheduled` only, after `start`.
    #[serde(default)]
    pub end: Option<Sp<String>>,
    /// `InternalMessage`: the reply to senders inside the organisation, as plain text (line
    /// breaks kept; `&`, `<`, `>` and `"` are text, escaped in the HTML Exchange stores).
    #[serde(default)]
    pub internal: Option<Sp<String>>,
    /// `ExternalMessage`: the reply to senders outside the organisation, as plain text.
    #[serde(default)]
    pub external: Option<Sp<String>>,
    /// `ExternalAudience`: which outside senders get `external`: `none`, `known` (the
    /// mailbox's contacts) or `all` (Exchange's default).
    #[serde(default)]
    pub external_audience: Option<Sp<ExternalAudience>>,
}

/// `AutoReplyState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AutoReplyState {
    /// No automatic replies (Exchange's default).
    Disabled,
    /// Automatic replies until switched off.
    Enabled,
    /// Automatic replies between `start` and `end`.
    Scheduled,
}

impl AutoReplyState {
    /// The value as Exchange spells it.
    pub fn as_exchange(self) -> &'static str {
        match self {
            AutoReplyState::Disabled => "Disabled",
            AutoReplyState::Enabled => "Enabled",
            AutoReplyState::Scheduled => "Scheduled",
        }
    }
}

/// `ExternalAudience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExternalAudience {
    /// No outside sender.
    None,
    /// Outside senders in the mailbox's contacts.
    Known,
    /// Every outside sender (Exchange's default).
    All,
}

impl ExternalAudience {
    /// The value as Exchange spells it.
    pub fn as_exchange(self) -> &'static str {
        match self {
            ExternalAudience::None => "None",
            ExternalAudience::Known => "Known",
            ExternalAudience::All => "All",
        }
    }
}

/// `forwarding`: `none`, or where to forward and whether to keep a copy.
#[derive(Debug, Clone)]
pub enum Forwarding {
    /// `none`: no forwarding (`ForwardingAddress` and `ForwardingSmtpAddress` `$null`,
    /// `DeliverToMailboxAndForward` `$false`).
    None,
    /// `{to, keepCopy}`.
    To(ForwardTo),
}

/// `forwarding: {to, keepCopy}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardTo {
    /// The address mail is forwarded to: a recipient of the organisation (SMTP address or
    /// UPN; `ForwardingAddress`) or any SMTP address (`ForwardingSmtpAddress`).
    pub to: Sp<String>,
    /// Keep a copy in the shared mailbox too (`DeliverToMailboxAndForward`); absent = not
    /// managed (Exchange's default is `false`: mail is only forwarded).
    #[serde(default)]
    pub keep_copy: Option<Sp<bool>>,
}

/// The word `none`.
#[derive(JsonSchema)]
#[allow(dead_code)]
enum NoForwarding {
    /// No forwarding.
    #[serde(rename = "none")]
    None,
}

/// Where incoming mail is forwarded: `none`, or `{to, keepCopy}`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ForwardingSchema {
    /// `none`: no forwarding.
    None(NoForwarding),
    /// Forward to `to`.
    To(ForwardTo),
}

impl JsonSchema for Forwarding {
    fn schema_name() -> Cow<'static, str> {
        "Forwarding".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ForwardingSchema::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Forwarding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Forwarding;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`none` or a mapping with `to` and `keepCopy`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Forwarding, E> {
                if v == "none" {
                    Ok(Forwarding::None)
                } else {
                    Err(E::unknown_variant(v, &["none"]))
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Forwarding, A::Error> {
                ForwardTo::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Forwarding::To)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The top-level fields each kind allows besides `apiVersion` and `kind`.
pub fn allowed_fields(kind: Kind) -> &'static [&'static str] {
    const MAILBOX_FIELDS: &[&str] = &[
        "mailbox",
        "profile",
        "displayName",
        "hiddenFromAddressLists",
        "signIn",
        "aliases",
        "sentItems",
        "sendAs",
        "sendOnBehalf",
        "fullAccess",
        "sentItemsReaders",
        "folders",
        "clients",
        "moderation",
        "forwarding",
        "autoReply",
        "lifecycle",
        "lints",
    ];
    /// What many mailboxes share: a mailbox's fields after `mailbox`, `profile` and
    /// `displayName`, without the per-mailbox ones (`aliases`: addresses belong to one
    /// mailbox).
    static DEFAULTS_FIELDS: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| {
            MAILBOX_FIELDS[3..]
                .iter()
                .copied()
                .filter(|f| *f != "aliases")
                .collect()
        });
    /// A profile: its `name`, the shared fields, its `description`.
    static PROFILE_FIELDS: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| {
            std::iter::once("name")
                .chain(DEFAULTS_FIELDS.iter().copied())
                .chain(std::iter::once("description"))
                .collect()
        });
    match kind {
        Kind::SharedMailbox => MAILBOX_FIELDS,
        Kind::Defaults => DEFAULTS_FIELDS.as_slice(),
        Kind::Profile => PROFILE_FIELDS.as_slice(),
        Kind::TenantSettings => &[
            "sendFromAliasEnabled",
            "smtpClientAuthenticationDisabled",
            "servicePrincipals",
        ],
    }
}

/// The JSON Schema (draft-07) of a policy document, one branch per kind.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let union = generator.into_root_schema_for::<RawDocument>();
    let mut union = serde_json::to_value(union).expect("a schema serialises");
    let properties = union["properties"].take();
    let definitions = union["definitions"].take();
    let branches: Vec<serde_json::Value> = [
        Kind::SharedMailbox,
        Kind::TenantSettings,
        Kind::Defaults,
        Kind::Profile,
    ]
    .into_iter()
    .map(|kind| {
        let mut props = serde_json::Map::new();
        props.insert(
            "apiVersion".into(),
            serde_json::json!({"const": "sharedbox/v1", "description": "Always `sharedbox/v1`."}),
        );
        props.insert("kind".into(), serde_json::json!({"const": kind.as_str()}));
        for field in allowed_fields(kind) {
            props.insert((*field).to_owned(), properties[*field].clone());
        }
        let mut required = vec!["apiVersion", "kind"];
        match kind {
            Kind::SharedMailbox => required.push("mailbox"),
            Kind::Profile => required.push("name"),
            Kind::TenantSettings | Kind::Defaults => {}
        }
        serde_json::json!({
            "title": kind.as_str(),
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        })
    })
    .collect();
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://sharedbox.dev/schemas/v1/policy.schema.json",
        "title": "sharedbox policy document",
        "description": "A sharedbox/v1 policy document: SharedMailbox, TenantSettings, Defaults or Profile.",
        "oneOf": branches,
        "definitions": definitions,
    })
}

/// What a field takes, read from the JSON Schema: for messages that say what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `true` or `false`.
    Flag,
    /// Text.
    Text,
    /// One of a few names.
    OneOf(Vec<String>),
    /// A list of items of a shape.
    List(Box<Shape>),
    /// A mapping with these fields (none listed: any names, like `lints`).
    Mapping(Vec<String>),
}

impl Shape {
    /// The shape in words: `` `true` or `false` ``, `text`, `a list of text`, ….
    pub fn describe(&self) -> String {
        match self {
            Shape::Flag => "`true` or `false`".to_owned(),
            Shape::Text => "text".to_owned(),
            Shape::OneOf(values) => format!("one of {}", backticked(values)),
            Shape::List(item) => match item.as_ref() {
                Shape::Mapping(_) => "a list of mappings".to_owned(),
                Shape::List(_) => "a list of lists".to_owned(),
                other => format!("a list of {}", other.describe()),
            },
            Shape::Mapping(_) => "a mapping".to_owned(),
        }
    }
}

/// `` `a`, `b`, `c` ``.
pub fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|i| format!("`{}`", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The shape of a policy field by its name (at any depth, in any kind), from the JSON Schema;
/// `None` for a name the schema does not know, or one that two places give different shapes.
pub fn field_shape(name: &str) -> Option<&'static Shape> {
    static SHAPES: std::sync::OnceLock<std::collections::HashMap<String, Option<Shape>>> =
        std::sync::OnceLock::new();
    SHAPES
        .get_or_init(|| {
            let schema = json_schema();
            let definitions = &schema["definitions"];
            let mut shapes: std::collections::HashMap<String, Option<Shape>> =
                std::collections::HashMap::new();
            // A top-level field keeps its shape where a nested field has its name
            // (`sentItems` and `folders.sentItems`): the parser's expected type tells the two
            // apart when a message uses the shape.
            let mut top_level: std::collections::HashSet<String> = Default::default();
            let mut add = |properties: &serde_json::Value, top: bool| {
                for (field, node) in properties.as_object().into_iter().flatten() {
                    if top {
                        top_level.insert(field.clone());
                    } else if top_level.contains(field) {
                        continue;
                    }
                    let shape = shape_of(node, definitions, 0);
                    let entry = shapes.entry(field.clone()).or_insert_with(|| shape.clone());
                    if *entry != shape {
                        *entry = None;
                    }
                }
            };
            for branch in schema["oneOf"].as_array().into_iter().flatten() {
                let mut properties = branch["properties"].clone();
                if let Some(p) = properties.as_object_mut() {
                    // `kind` is one constant per branch; its shape is the `Kind` enum.
                    p.remove("kind");
                    p.remove("apiVersion");
                }
                add(&properties, true);
            }
            for definition in definitions.as_object().into_iter().flatten() {
                add(&definition.1["properties"], false);
            }
            shapes.insert(
                "kind".to_owned(),
                shape_of(&definitions["Kind"], definitions, 0),
            );
            shapes.insert("apiVersion".to_owned(), Some(Shape::Text));
            shapes
        })
        .get(name)
        .and_then(Option::as_ref)
}

/// The shape of one schema node (`$ref`s followed, `null` branches dropped).
fn shape_of(node: &serde_json::Value, definitions: &serde_json::Value, depth: u8) -> Option<Shape> {
    if depth > 8 {
        return None;
    }
    if let Some(reference) = node["$ref"].as_str() {
        let name = reference.rsplit('/').next()?;
        return shape_of(&definitions[name], definitions, depth + 1);
    }
    for combinator in ["anyOf", "allOf"] {
        if let Some(branches) = node[combinator].as_array() {
            return branches
                .iter()
                .filter(|b| b["type"] != "null")
                .find_map(|b| shape_of(b, definitions, depth + 1));
        }
    }
    if let Some(branches) = node["oneOf"].as_array() {
        let values: Option<Vec<String>> = branches
            .iter()
            .map(|b| b["const"].as_str().map(str::to_owned))
            .collect();
        return values.map(Shape::OneOf);
    }
    let types: Vec<&str> = match &node["type"] {
        serde_json::Value::String(t) => vec![t.as_str()],
        serde_json::Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    match types.iter().find(|t| **t != "null").copied()? {
        "boolean" => Some(Shape::Flag),
        "string" => Some(Shape::Text),
        "array" => Some(Shape::List(Box::new(shape_of(
            &node["items"],
            definitions,
            depth + 1,
        )?))),
        "object" => Some(Shape::Mapping(
            node["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
        )),
        _ => None,
    }
}
