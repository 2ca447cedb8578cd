//! The property catalogue: every single-valued setting sharedbox manages, defined once.
//!
//! A [`Property`] is a setting of a shared mailbox (`Set-Mailbox`, `Set-CASMailbox`), an
//! [`OrganizationProperty`] one of the organisation (`Set-OrganizationConfig`,
//! `Set-TransportConfig`). Each has one
//! [`Definition`]: its policy path, the cmdlet and parameter that write it and the read
//! cmdlet whose output field of the same name reports it, what kind of value it holds, and
//! its accessor in the tenant model. Everything else is derived from that definition:
//!
//! - the planner compares ([`Definition::same`]), shows ([`Definition::show`]) and inverts
//!   ([`Definition::inverse`]) values;
//! - observation, verification and rollback read the live value with [`Definition::get`];
//! - the file backend (and the simulator on top of it) validates ([`Definition::check`]) and
//!   writes with [`Definition::set`];
//! - `exo` writes `-<parameter> <value>` and reads the field `<parameter>` back;
//! - `export` writes the live value as policy.
//!
//! Adding a boolean mailbox property is one [`Property`] variant, one entry in
//! [`MAILBOX`], the field on [`crate::Mailbox`] and the policy field that sets it.

use serde::{Deserialize, Serialize};

use crate::model::{Mailbox, OrganizationConfig};

/// A value of a catalogued property, as Exchange takes and returns it.
///
/// In JSON (plans, journals, the admin API) it is a bool, a string or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Value {
    /// A `$true`/`$false` parameter.
    Flag(bool),
    /// A string parameter.
    Text(String),
    /// `$null`: not reported (client switches), or "follow the organisation" (SMTP AUTH).
    Unset,
}

impl Value {
    /// The flag, `false` for anything else.
    pub fn flag(&self) -> bool {
        matches!(self, Value::Flag(true))
    }

    /// The flag, `None` for [`Value::Unset`] (and text).
    pub fn option(&self) -> Option<bool> {
        match self {
            Value::Flag(b) => Some(*b),
            _ => None,
        }
    }

    /// The text, empty for anything else.
    pub fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            _ => String::new(),
        }
    }
}

/// The value as a cmdlet parameter or output field: a JSON bool, string or `null`.
impl From<&Value> for serde_json::Value {
    fn from(value: &Value) -> serde_json::Value {
        match value {
            Value::Flag(b) => serde_json::Value::Bool(*b),
            Value::Text(t) => serde_json::Value::String(t.clone()),
            Value::Unset => serde_json::Value::Null,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Flag(b)
    }
}

impl From<String> for Value {
    fn from(t: String) -> Value {
        Value::Text(t)
    }
}

impl From<&str> for Value {
    fn from(t: &str) -> Value {
        Value::Text(t.to_owned())
    }
}

impl From<Option<bool>> for Value {
    fn from(b: Option<bool>) -> Value {
        b.map_or(Value::Unset, Value::Flag)
    }
}

/// What kind of value a property holds: how it is compared, shown, read and inverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true`/`false`; Exchange always reports it (absent reads as `false`).
    Flag,
    /// `true`/`false` that Exchange sometimes leaves blank: unset is "not reported", never
    /// equal to a desired value, and has no value to restore.
    ReportedFlag,
    /// `true`, `false` or unset, shown as words (SMTP AUTH: `disabled`, `enabled`, `inherit`).
    Tristate {
        /// The word for `true`.
        when_true: &'static str,
        /// The word for `false`.
        when_false: &'static str,
        /// The word for unset.
        when_unset: &'static str,
    },
    /// `true`/`false` that Exchange always reports, shown and written in policies as words
    /// (sign-in: `blocked`, `allowed`).
    Switch {
        /// The word for `true`.
        when_true: &'static str,
        /// The word for `false`.
        when_false: &'static str,
    },
    /// Free text, compared exactly, shown quoted.
    Text,
    /// An email address or `$null` (a forwarding target): compared without case and without
    /// the `smtp:` prefix Exchange reports `ForwardingSmtpAddress` with, shown bare, `(none)`
    /// for `$null`.
    Address,
    /// One of a fixed set of words (the first is Exchange's default), compared without case
    /// and shown in lower case.
    Choice(&'static [&'static str]),
    /// A point in time (`StartTime`, `EndTime`): compared as an instant, written and shown in
    /// UTC ([`crate::auto_reply::canonical_time`]); `(not set)` when Exchange reports none.
    Time,
    /// An HTML message (`InternalMessage`, `ExternalMessage`): compared and exported by its
    /// text form, shown shortened ([`crate::auto_reply`]).
    Message,
}

/// One catalogued property of an object `T` (a [`Mailbox`] or the [`OrganizationConfig`]).
pub struct Definition<T: 'static> {
    /// The policy path, e.g. `sentItems.copyForSendAs`.
    pub field: &'static str,
    /// The cmdlet that writes it, e.g. `Set-Mailbox`.
    pub cmdlet: &'static str,
    /// The cmdlet whose output reports it, in the field named like [`Definition::parameter`].
    pub read_cmdlet: &'static str,
    /// The parameter (and output field), e.g. `MessageCopyForSentAsEnabled`.
    pub parameter: &'static str,
    /// What kind of value it holds.
    pub kind: Kind,
    /// The live value in the tenant model.
    pub get: fn(&T) -> Value,
    /// Sets the value in the tenant model (the value has passed [`Definition::check`]).
    pub set: fn(&mut T, Value),
}

impl<T> std::fmt::Debug for Definition<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Definition")
            .field("field", &self.field)
            .field("parameter", &self.parameter)
            .finish_non_exhaustive()
    }
}

impl<T> Definition<T> {
    /// Whether `a` and `b` are the same value (choices compare without case, addresses
    /// without case and `smtp:` prefix).
    pub fn same(&self, a: &Value, b: &Value) -> bool {
        match (self.kind, a, b) {
            (Kind::Choice(_), Value::Text(a), Value::Text(b)) => a.eq_ignore_ascii_case(b),
            (Kind::Address, Value::Text(a), Value::Text(b)) => {
                bare_address(a).eq_ignore_ascii_case(bare_address(b))
            }
            (Kind::Time, Value::Text(a), Value::Text(b)) => crate::auto_reply::same_time(a, b),
            (Kind::Message, Value::Text(a), Value::Text(b)) => {
                crate::auto_reply::same_message(a, b)
            }
            // `$null` clears a message: the same as an empty one.
            (Kind::Message, Value::Text(t), Value::Unset)
            | (Kind::Message, Value::Unset, Value::Text(t)) => {
                crate::auto_reply::message_text(t).is_empty()
            }
            _ => a == b,
        }
    }

    /// The value as a plan shows it: `true`, `"Support"`, `never`, `inherit`, `(not reported)`.
    pub fn show(&self, value: &Value) -> String {
        match (self.kind, value) {
            (Kind::Tristate { when_true, .. }, Value::Flag(true)) => when_true.to_owned(),
            (Kind::Tristate { when_false, .. }, Value::Flag(false)) => when_false.to_owned(),
            (Kind::Tristate { when_unset, .. }, Value::Unset) => when_unset.to_owned(),
            (Kind::Switch { when_true, .. }, Value::Flag(true)) => when_true.to_owned(),
            (Kind::Switch { when_false, .. }, Value::Flag(false)) => when_false.to_owned(),
            (_, Value::Flag(b)) => b.to_string(),
            // A choice read from the tenant may be anything: escaped like other tenant text.
            (Kind::Choice(_), Value::Text(t)) => crate::printable(&t.to_lowercase(), 80),
            (Kind::Address, Value::Text(t)) => crate::printable(bare_address(t), 320),
            (Kind::Address, Value::Unset) => "(none)".to_owned(),
            (Kind::Time, Value::Text(t)) => {
                crate::auto_reply::canonical_time(t).unwrap_or_else(|| crate::printable(t, 80))
            }
            (Kind::Time, Value::Unset) => "(not set)".to_owned(),
            (Kind::Message, Value::Text(t)) => crate::auto_reply::show_message(t),
            (Kind::Message, Value::Unset) => "(empty)".to_owned(),
            (_, Value::Text(t)) => format!("{t:?}"),
            (_, Value::Unset) => "(not reported)".to_owned(),
        }
    }

    /// The value as a policy writes it: `true`, `"Support"`, `never`, `disabled`, `inherit`;
    /// `null` for a switch Exchange did not report (a policy cannot write that).
    pub fn policy_value(&self, value: &Value) -> serde_json::Value {
        match (self.kind, value) {
            (Kind::Tristate { .. } | Kind::Choice(_), _)
            | (Kind::Switch { .. }, Value::Flag(_)) => self.show(value).into(),
            (_, Value::Flag(b)) => (*b).into(),
            (Kind::Address, Value::Text(t)) => bare_address(t).into(),
            (Kind::Time, Value::Text(t)) => crate::auto_reply::canonical_time(t)
                .unwrap_or_else(|| t.clone())
                .into(),
            (Kind::Message, Value::Text(t)) => crate::auto_reply::message_text(t).into(),
            (Kind::Message, Value::Unset) => "".into(),
            (_, Value::Text(t)) => t.clone().into(),
            (_, Value::Unset) => serde_json::Value::Null,
        }
    }

    /// The value that undoes a change away from `before`; `None` when `before` is not a value
    /// that can be written back (a switch Exchange did not report).
    pub fn inverse(&self, before: &Value) -> Option<Value> {
        match (self.kind, before) {
            // A time Exchange did not report cannot be written back (`$null` is no time).
            (Kind::ReportedFlag | Kind::Time, Value::Unset) => None,
            _ => Some(before.clone()),
        }
    }

    /// `value` as Exchange accepts it for this property (a choice in its canonical spelling),
    /// or why Exchange would refuse it.
    ///
    /// # Errors
    /// A value of the wrong kind, a choice that is not one of the words, `$null` for a flag.
    pub fn check(&self, value: &Value) -> Result<Value, String> {
        match (self.kind, value) {
            (Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. }, Value::Flag(_))
            | (Kind::Tristate { .. }, Value::Flag(_) | Value::Unset)
            | (Kind::Address, Value::Unset)
            | (Kind::Text | Kind::Message, Value::Text(_)) => Ok(value.clone()),
            (Kind::Message, Value::Unset) => Ok(Value::Text(String::new())),
            (Kind::Time, Value::Text(t)) => crate::auto_reply::canonical_time(t)
                .map(Value::Text)
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a time for `{}`: write RFC 3339 with an offset, e.g. `2026-12-24T09:00:00+01:00`",
                        crate::printable(t, 80),
                        self.parameter
                    )
                }),
            (Kind::Address, Value::Text(t)) => {
                let bare = bare_address(t.trim()).trim();
                match bare.split_once('@') {
                    Some((local, domain))
                        if !local.is_empty()
                            && domain.contains('.')
                            && !bare.chars().any(|c| c.is_whitespace() || c.is_control()) =>
                    {
                        Ok(Value::Text(bare.to_owned()))
                    }
                    _ => Err(format!(
                        "`{}` is not an email address for `{}`",
                        crate::printable(t, 80),
                        self.parameter
                    )),
                }
            }
            (Kind::Choice(words), Value::Text(t)) => words
                .iter()
                .find(|w| w.eq_ignore_ascii_case(t))
                .map(|w| Value::Text((*w).to_owned()))
                .ok_or_else(|| {
                    format!(
                        "`{t}` is not a valid value for `{}`: use {}",
                        self.parameter,
                        words
                            .iter()
                            .map(|w| format!("`{w}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            (_, other) => Err(format!(
                "`{}` does not take the value `{}`",
                self.parameter,
                crate::printable(&format!("{other:?}"), 80)
            )),
        }
    }
}

/// `address` without the `smtp:` prefix (any case) Exchange reports `ForwardingSmtpAddress`
/// with.
pub fn bare_address(address: &str) -> &str {
    match address.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("smtp") => rest,
        _ => address,
    }
}

/// What an object is like when Exchange makes it: what a property reads as when a read cmdlet
/// leaves its field out.
pub trait Fresh {
    /// The object as Exchange creates it.
    fn fresh() -> Self;
}

impl Fresh for Mailbox {
    fn fresh() -> Mailbox {
        Mailbox::new_shared("", "")
    }
}

impl Fresh for OrganizationConfig {
    fn fresh() -> OrganizationConfig {
        OrganizationConfig::default()
    }
}

impl<T: Fresh> Definition<T> {
    /// What the property reads as when the read cmdlet leaves its field out: Exchange's default
    /// for a new object, or unset for a switch Exchange may leave blank.
    pub fn absent(&self) -> Value {
        match self.kind {
            Kind::ReportedFlag | Kind::Tristate { .. } => Value::Unset,
            Kind::Flag
            | Kind::Switch { .. }
            | Kind::Text
            | Kind::Choice(_)
            | Kind::Address
            | Kind::Time
            | Kind::Message => (self.get)(&T::fresh()),
        }
    }
}

/// A single-valued property of a shared mailbox.
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
pub enum Property {
    /// `DisplayName`.
    DisplayName,
    /// `HiddenFromAddressListsEnabled`.
    HiddenFromAddressLists,
    /// `AccountDisabled`: whether the mailbox's own account can sign in.
    SignIn,
    /// `MessageCopyForSentAsEnabled`.
    CopyForSendAs,
    /// `MessageCopyForSendOnBehalfEnabled`.
    CopyForSendOnBehalf,
    /// `MessageCopyForSMTPClientSubmissionEnabled`.
    CopyForSmtpSubmission,
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
    /// `SmtpClientAuthenticationDisabled`.
    SmtpClientAuthenticationDisabled,
    /// `ModerationEnabled`.
    ModerationEnabled,
    /// `SendModerationNotifications`.
    ModerationNotifications,
    /// `ForwardingAddress`: forward to a recipient of the organisation (policy `forwarding.to`
    /// when it names one).
    ForwardingAddress,
    /// `ForwardingSmtpAddress`: forward to any SMTP address (policy `forwarding.to` when it
    /// names no recipient of the organisation).
    ForwardingSmtpAddress,
    /// `DeliverToMailboxAndForward`: keep a copy in the mailbox when forwarding.
    ForwardingKeepCopy,
    /// `AutoReplyState` (`Set-MailboxAutoReplyConfiguration`): `Disabled`, `Enabled`,
    /// `Scheduled`.
    AutoReplyState,
    /// `StartTime`: when scheduled automatic replies start.
    AutoReplyStart,
    /// `EndTime`: when scheduled automatic replies end.
    AutoReplyEnd,
    /// `InternalMessage`: the reply to senders inside the organisation (HTML).
    AutoReplyInternal,
    /// `ExternalMessage`: the reply to senders outside (HTML).
    AutoReplyExternal,
    /// `ExternalAudience`: `None`, `Known` (the mailbox's contacts) or `All`.
    AutoReplyExternalAudience,
}

/// A mailbox [`Definition`].
pub type MailboxDefinition = Definition<Mailbox>;

macro_rules! flag {
    ($field:literal, $cmdlet:literal, $read:literal, $parameter:literal, $kind:expr, $($path:ident).+) => {
        Definition {
            field: $field,
            cmdlet: $cmdlet,
            read_cmdlet: $read,
            parameter: $parameter,
            kind: $kind,
            get: |m| m.$($path).+.into(),
            set: |m, v| m.$($path).+ = v.flag(),
        }
    };
}

/// An automatic-reply property: `get` and `set` on [`crate::AutoReply`]; unset while the
/// configuration was not read.
macro_rules! auto_reply {
    ($field:literal, $parameter:literal, $kind:expr, $get:expr, $set:expr) => {
        Definition {
            field: $field,
            cmdlet: AUTO_REPLY_SET,
            read_cmdlet: AUTO_REPLY_GET,
            parameter: $parameter,
            kind: $kind,
            get: |m| {
                let get: fn(&crate::AutoReply) -> Value = $get;
                m.auto_reply.as_ref().map_or(Value::Unset, get)
            },
            set: |m, v| {
                let set: fn(&mut crate::AutoReply, Value) = $set;
                set(m.auto_reply.get_or_insert_with(Default::default), v);
            },
        }
    };
}

/// The cmdlet that writes automatic replies.
pub const AUTO_REPLY_SET: &str = "Set-MailboxAutoReplyConfiguration";
/// The cmdlet that reads automatic replies, one mailbox at a time.
pub const AUTO_REPLY_GET: &str = "Get-MailboxAutoReplyConfiguration";

macro_rules! client {
    ($field:literal, $parameter:literal, $($path:ident).+) => {
        Definition {
            field: $field,
            cmdlet: "Set-CASMailbox",
            read_cmdlet: "Get-CASMailbox",
            parameter: $parameter,
            kind: Kind::ReportedFlag,
            get: |m| m.$($path).+.into(),
            set: |m, v| m.$($path).+ = v.option(),
        }
    };
}

/// The mailbox catalogue, in [`Property`] order: the order plans list the settings in within
/// their policy key, and `export` writes the keys in.
pub static MAILBOX: [MailboxDefinition; 27] = [
    Definition {
        field: "displayName",
        cmdlet: "Set-Mailbox",
        read_cmdlet: "Get-Mailbox",
        parameter: "DisplayName",
        kind: Kind::Text,
        get: |m| Value::Text(m.display_name.clone()),
        set: |m, v| m.display_name = v.text(),
    },
    flag!(
        "hiddenFromAddressLists",
        "Set-Mailbox",
        "Get-Mailbox",
        "HiddenFromAddressListsEnabled",
        Kind::Flag,
        hidden_from_address_lists_enabled
    ),
    flag!(
        "signIn",
        "Set-Mailbox",
        "Get-Mailbox",
        "AccountDisabled",
        Kind::Switch {
            when_true: "blocked",
            when_false: "allowed",
        },
        account_disabled
    ),
    flag!(
        "sentItems.copyForSendAs",
        "Set-Mailbox",
        "Get-Mailbox",
        "MessageCopyForSentAsEnabled",
        Kind::Flag,
        message_copy_for_sent_as_enabled
    ),
    flag!(
        "sentItems.copyForSendOnBehalf",
        "Set-Mailbox",
        "Get-Mailbox",
        "MessageCopyForSendOnBehalfEnabled",
        Kind::Flag,
        message_copy_for_send_on_behalf_enabled
    ),
    flag!(
        "sentItems.copyForSmtpSubmission",
        "Set-Mailbox",
        "Get-Mailbox",
        "MessageCopyForSMTPClientSubmissionEnabled",
        Kind::Flag,
        message_copy_for_smtp_client_submission_enabled
    ),
    client!("clients.owa", "OWAEnabled", cas_mailbox.owa_enabled),
    client!("clients.outlook", "MAPIEnabled", cas_mailbox.mapi_enabled),
    client!(
        "clients.newOutlook",
        "OneWinNativeOutlookEnabled",
        cas_mailbox.one_win_native_outlook_enabled
    ),
    client!(
        "clients.macOutlook",
        "MacOutlookEnabled",
        cas_mailbox.mac_outlook_enabled
    ),
    client!(
        "clients.mobile",
        "OutlookMobileEnabled",
        cas_mailbox.outlook_mobile_enabled
    ),
    client!(
        "clients.activeSync",
        "ActiveSyncEnabled",
        cas_mailbox.active_sync_enabled
    ),
    client!("clients.ews", "EwsEnabled", cas_mailbox.ews_enabled),
    client!("clients.imap", "ImapEnabled", cas_mailbox.imap_enabled),
    client!("clients.pop", "PopEnabled", cas_mailbox.pop_enabled),
    Definition {
        field: "clients.smtpAuth",
        cmdlet: "Set-CASMailbox",
        read_cmdlet: "Get-CASMailbox",
        parameter: "SmtpClientAuthenticationDisabled",
        kind: Kind::Tristate {
            when_true: "disabled",
            when_false: "enabled",
            when_unset: "inherit",
        },
        get: |m| m.cas_mailbox.smtp_client_authentication_disabled.into(),
        set: |m, v| m.cas_mailbox.smtp_client_authentication_disabled = v.option(),
    },
    flag!(
        "moderation.enabled",
        "Set-Mailbox",
        "Get-Mailbox",
        "ModerationEnabled",
        Kind::Flag,
        moderation_enabled
    ),
    Definition {
        field: "moderation.notifications",
        cmdlet: "Set-Mailbox",
        read_cmdlet: "Get-Mailbox",
        parameter: "SendModerationNotifications",
        kind: Kind::Choice(&["Always", "Internal", "Never"]),
        get: |m| Value::Text(m.send_moderation_notifications.clone()),
        set: |m, v| m.send_moderation_notifications = v.text(),
    },
    // Forwarding: one policy field, `forwarding: {to, keepCopy}` or `forwarding: none`, over
    // three Exchange properties. `to` is a recipient of the organisation
    // (`ForwardingAddress`, which wins when both are set) or any address
    // (`ForwardingSmtpAddress`); which one is known only with the directory, so the policy
    // maps `to` to `ForwardingSmtpAddress` and the planner moves it to `ForwardingAddress`
    // when the directory holds the address. Each property keeps its own definition.
    Definition {
        field: "forwarding.toRecipient",
        cmdlet: "Set-Mailbox",
        read_cmdlet: "Get-Mailbox",
        parameter: "ForwardingAddress",
        kind: Kind::Address,
        get: |m| {
            m.forwarding_address
                .clone()
                .map_or(Value::Unset, Value::Text)
        },
        set: |m, v| m.forwarding_address = Some(v.text()).filter(|t| !t.is_empty()),
    },
    Definition {
        field: "forwarding.to",
        cmdlet: "Set-Mailbox",
        read_cmdlet: "Get-Mailbox",
        parameter: "ForwardingSmtpAddress",
        kind: Kind::Address,
        get: |m| {
            m.forwarding_smtp_address
                .clone()
                .map_or(Value::Unset, Value::Text)
        },
        set: |m, v| {
            m.forwarding_smtp_address =
                Some(bare_address(&v.text()).to_owned()).filter(|t| !t.is_empty());
        },
    },
    flag!(
        "forwarding.keepCopy",
        "Set-Mailbox",
        "Get-Mailbox",
        "DeliverToMailboxAndForward",
        Kind::Flag,
        deliver_to_mailbox_and_forward
    ),
    // Automatic replies: one policy field, `autoReply`, over the six parameters of
    // `Set-MailboxAutoReplyConfiguration`, read per mailbox with
    // `Get-MailboxAutoReplyConfiguration` only where a policy manages it
    // ([`crate::ReadScope::auto_replies`]). Unread, each reads as unset; a write fills in the
    // rest of the configuration with what a new mailbox has.
    auto_reply!(
        "autoReply.state",
        "AutoReplyState",
        Kind::Choice(&["Disabled", "Enabled", "Scheduled"]),
        |a| Value::Text(a.state.clone()),
        |a, v| a.state = v.text()
    ),
    auto_reply!(
        "autoReply.start",
        "StartTime",
        Kind::Time,
        |a| a.start_time.clone().map_or(Value::Unset, Value::Text),
        |a, v| a.start_time = Some(v.text()).filter(|t| !t.is_empty())
    ),
    auto_reply!(
        "autoReply.end",
        "EndTime",
        Kind::Time,
        |a| a.end_time.clone().map_or(Value::Unset, Value::Text),
        |a, v| a.end_time = Some(v.text()).filter(|t| !t.is_empty())
    ),
    auto_reply!(
        "autoReply.internal",
        "InternalMessage",
        Kind::Message,
        |a| Value::Text(a.internal_message.clone()),
        |a, v| a.internal_message = v.text()
    ),
    auto_reply!(
        "autoReply.external",
        "ExternalMessage",
        Kind::Message,
        |a| Value::Text(a.external_message.clone()),
        |a, v| a.external_message = v.text()
    ),
    auto_reply!(
        "autoReply.externalAudience",
        "ExternalAudience",
        Kind::Choice(&["All", "Known", "None"]),
        |a| Value::Text(a.external_audience.clone()),
        |a, v| a.external_audience = v.text()
    ),
];

impl Property {
    /// Whether the property is mastered in on-premises Active Directory for a mailbox that is
    /// synchronised from there (`IsDirSynced`, hybrid): Entra Connect synchronises the
    /// attribute (`displayName`, `accountEnabled`, `msExchHideFromAddressLists`,
    /// `msExchEnableModeration`, `msExchModerationFlags`, `altRecipient`,
    /// `msExchGenericForwardingAddress`, `deliverAndRedirect`), so `Set-Mailbox` refuses to change
    /// it in Exchange Online. With `exchange_cloud_managed` (`IsExchangeCloudManaged`) the
    /// Exchange attributes are managed in the cloud; the identity attributes (display name,
    /// whether the account is enabled) stay on premises.
    /// Client access settings (`Set-CASMailbox`) and the sent-copy flags are cloud settings,
    /// and so are automatic replies: `Set-MailboxAutoReplyConfiguration` writes the
    /// mailbox's own configuration (kept in the mailbox, not in a directory attribute
    /// Entra Connect synchronises), so a synchronised mailbox takes it in Exchange Online.
    pub const fn mastered_on_premises(self, exchange_cloud_managed: bool) -> bool {
        match self {
            Property::DisplayName | Property::SignIn => true,
            Property::HiddenFromAddressLists
            | Property::ModerationEnabled
            | Property::ModerationNotifications
            | Property::ForwardingAddress
            | Property::ForwardingSmtpAddress
            | Property::ForwardingKeepCopy => !exchange_cloud_managed,
            _ => false,
        }
    }

    /// Every property, in catalogue order.
    pub const ALL: [Property; 27] = [
        Property::DisplayName,
        Property::HiddenFromAddressLists,
        Property::SignIn,
        Property::CopyForSendAs,
        Property::CopyForSendOnBehalf,
        Property::CopyForSmtpSubmission,
        Property::Owa,
        Property::Outlook,
        Property::NewOutlook,
        Property::MacOutlook,
        Property::Mobile,
        Property::ActiveSync,
        Property::Ews,
        Property::Imap,
        Property::Pop,
        Property::SmtpClientAuthenticationDisabled,
        Property::ModerationEnabled,
        Property::ModerationNotifications,
        Property::ForwardingAddress,
        Property::ForwardingSmtpAddress,
        Property::ForwardingKeepCopy,
        Property::AutoReplyState,
        Property::AutoReplyStart,
        Property::AutoReplyEnd,
        Property::AutoReplyInternal,
        Property::AutoReplyExternal,
        Property::AutoReplyExternalAudience,
    ];

    /// Whether the property is one of `autoReply` (`Set-MailboxAutoReplyConfiguration`):
    /// read per mailbox only where a policy manages it, written in one call per mailbox.
    pub fn is_auto_reply(self) -> bool {
        self.definition().cmdlet == AUTO_REPLY_SET
    }

    /// The property's definition.
    pub fn definition(self) -> &'static MailboxDefinition {
        &MAILBOX[self as usize]
    }

    /// The properties a cmdlet writes (`Set-Mailbox`) or reports (`Get-CASMailbox`).
    pub fn of_cmdlet(cmdlet: &str) -> impl Iterator<Item = Property> + '_ {
        Property::ALL.into_iter().filter(move |p| {
            let d = p.definition();
            d.cmdlet.eq_ignore_ascii_case(cmdlet) || d.read_cmdlet.eq_ignore_ascii_case(cmdlet)
        })
    }

    /// The property at policy path `field`.
    pub fn at(field: &str) -> Option<Property> {
        Property::ALL
            .into_iter()
            .find(|p| p.definition().field == field)
    }
}

/// A setting of the organisation.
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
pub enum OrganizationProperty {
    /// `SendFromAliasEnabled`.
    SendFromAliasEnabled,
    /// `SmtpClientAuthenticationDisabled` of `Set-TransportConfig`: SMTP AUTH for every
    /// account whose own `Set-CASMailbox` setting is unset (`inherit`).
    SmtpClientAuthenticationDisabled,
}

/// The organisation catalogue, in [`OrganizationProperty`] order.
pub static ORGANIZATION: [Definition<OrganizationConfig>; 2] = [
    flag!(
        "sendFromAliasEnabled",
        "Set-OrganizationConfig",
        "Get-OrganizationConfig",
        "SendFromAliasEnabled",
        Kind::Flag,
        send_from_alias_enabled
    ),
    // A reported flag: unset when `Get-TransportConfig` could not be read.
    Definition {
        field: "smtpClientAuthenticationDisabled",
        cmdlet: "Set-TransportConfig",
        read_cmdlet: "Get-TransportConfig",
        parameter: "SmtpClientAuthenticationDisabled",
        kind: Kind::ReportedFlag,
        get: |o| o.smtp_client_authentication_disabled.into(),
        set: |o, v| o.smtp_client_authentication_disabled = v.option(),
    },
];

impl OrganizationProperty {
    /// Every organisation property, in catalogue order.
    pub const ALL: [OrganizationProperty; 2] = [
        OrganizationProperty::SendFromAliasEnabled,
        OrganizationProperty::SmtpClientAuthenticationDisabled,
    ];

    /// The property's definition.
    pub fn definition(self) -> &'static Definition<OrganizationConfig> {
        &ORGANIZATION[self as usize]
    }

    /// The read cmdlets of the organisation catalogue, each once, in catalogue order
    /// (`Get-OrganizationConfig`, `Get-TransportConfig`).
    pub fn read_cmdlets() -> Vec<&'static str> {
        let mut cmdlets: Vec<&'static str> = Vec::new();
        for p in OrganizationProperty::ALL {
            let cmdlet = p.definition().read_cmdlet;
            if !cmdlets.contains(&cmdlet) {
                cmdlets.push(cmdlet);
            }
        }
        cmdlets
    }

    /// The properties a cmdlet writes (`Set-TransportConfig`) or reports
    /// (`Get-OrganizationConfig`).
    pub fn of_cmdlet(cmdlet: &str) -> impl Iterator<Item = OrganizationProperty> + '_ {
        OrganizationProperty::ALL.into_iter().filter(move |p| {
            let d = p.definition();
            d.cmdlet.eq_ignore_ascii_case(cmdlet) || d.read_cmdlet.eq_ignore_ascii_case(cmdlet)
        })
    }

    /// The property at policy path `field`.
    pub fn at(field: &str) -> Option<OrganizationProperty> {
        OrganizationProperty::ALL
            .into_iter()
            .find(|p| p.definition().field == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_in_enum_order_and_every_name_is_unique() {
        for (i, p) in Property::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i, "{p:?}");
            assert_eq!(Property::at(p.definition().field), Some(p));
        }
        let mut parameters: Vec<&str> = MAILBOX.iter().map(|d| d.parameter).collect();
        parameters.sort_unstable();
        parameters.dedup();
        assert_eq!(parameters.len(), MAILBOX.len());
        for (i, p) in OrganizationProperty::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i, "{p:?}");
            assert_eq!(OrganizationProperty::at(p.definition().field), Some(p));
        }
        assert_eq!(
            OrganizationProperty::read_cmdlets(),
            ["Get-OrganizationConfig", "Get-TransportConfig"]
        );
    }

    #[test]
    fn values_are_compared_shown_checked_and_inverted_by_kind() {
        let notifications = Property::ModerationNotifications.definition();
        assert!(notifications.same(&Value::Text("never".into()), &Value::Text("Never".into())));
        assert_eq!(notifications.show(&Value::Text("Never".into())), "never");
        assert_eq!(
            notifications.show(&Value::Text("Never\u{1b}[2J".into())),
            "never\\u{1b}[2j",
            "tenant text never reaches a terminal raw"
        );
        assert_eq!(
            notifications.check(&Value::Text("internal".into())),
            Ok(Value::Text("Internal".into()))
        );
        assert!(
            notifications
                .check(&Value::Text("sometimes".into()))
                .is_err()
        );
        let name = Property::DisplayName.definition();
        assert!(!name.same(
            &Value::Text("support".into()),
            &Value::Text("Support".into())
        ));
        assert_eq!(name.show(&Value::Text("Support".into())), "\"Support\"");
        let owa = Property::Owa.definition();
        assert_eq!(owa.show(&Value::Unset), "(not reported)");
        assert_eq!(owa.inverse(&Value::Unset), None);
        assert!(
            owa.check(&Value::Unset).is_err(),
            "a switch is set on or off"
        );
        let smtp = Property::SmtpClientAuthenticationDisabled.definition();
        assert_eq!(smtp.show(&Value::Flag(true)), "disabled");
        assert_eq!(smtp.show(&Value::Flag(false)), "enabled");
        assert_eq!(smtp.show(&Value::Unset), "inherit");
        assert_eq!(smtp.inverse(&Value::Unset), Some(Value::Unset));
        assert_eq!(smtp.check(&Value::Unset), Ok(Value::Unset));
        assert!(
            Property::CopyForSendAs
                .definition()
                .check(&Value::Text("yes".into()))
                .is_err()
        );
        // As a policy writes them.
        assert_eq!(smtp.policy_value(&Value::Flag(true)), "disabled");
        assert_eq!(
            notifications.policy_value(&Value::Text("Never".into())),
            "never"
        );
        assert_eq!(name.policy_value(&Value::Text("Support".into())), "Support");
        assert_eq!(owa.policy_value(&Value::Flag(false)), false);
        assert_eq!(owa.policy_value(&Value::Unset), serde_json::Value::Null);
        let sign_in = Property::SignIn.definition();
        assert_eq!(sign_in.show(&Value::Flag(true)), "blocked");
        assert_eq!(sign_in.policy_value(&Value::Flag(false)), "allowed");
        assert!(
            sign_in.check(&Value::Unset).is_err(),
            "a switch is never null"
        );
    }

    #[test]
    fn forwarding_addresses_compare_without_case_and_prefix_and_clear_with_null() {
        let smtp = Property::ForwardingSmtpAddress.definition();
        let to = |t: &str| Value::Text(t.to_owned());
        assert!(smtp.same(
            &to("smtp:Partner@Fabrikam.com"),
            &to("partner@fabrikam.com")
        ));
        assert!(!smtp.same(&to("partner@fabrikam.com"), &Value::Unset));
        assert_eq!(
            smtp.show(&to("SMTP:partner@fabrikam.com")),
            "partner@fabrikam.com"
        );
        assert_eq!(smtp.show(&Value::Unset), "(none)");
        assert_eq!(
            smtp.policy_value(&to("smtp:partner@fabrikam.com")),
            "partner@fabrikam.com"
        );
        assert_eq!(smtp.check(&Value::Unset), Ok(Value::Unset));
        assert_eq!(
            smtp.check(&to(" smtp:partner@fabrikam.com ")),
            Ok(to("partner@fabrikam.com"))
        );
        for bad in [
            "partner",
            "@fabrikam.com",
            "a b@fabrikam.com",
            "partner@localhost",
        ] {
            assert!(smtp.check(&to(bad)).is_err(), "{bad}");
        }
        assert!(smtp.check(&Value::Flag(true)).is_err());
        assert_eq!(smtp.inverse(&Value::Unset), Some(Value::Unset));
        let mut mailbox = Mailbox::new_shared("a@contoso.com", "A");
        (smtp.set)(&mut mailbox, to("smtp:partner@fabrikam.com"));
        assert_eq!(
            mailbox.forwarding_smtp_address.as_deref(),
            Some("partner@fabrikam.com")
        );
        (smtp.set)(&mut mailbox, Value::Unset);
        assert_eq!(mailbox.forwarding_smtp_address, None);
        assert_eq!(
            smtp.absent(),
            Value::Unset,
            "a new mailbox forwards nowhere"
        );
        // Hybrid: mastered on premises unless the Exchange attributes moved to the cloud.
        for p in [
            Property::ForwardingAddress,
            Property::ForwardingSmtpAddress,
            Property::ForwardingKeepCopy,
        ] {
            assert!(p.mastered_on_premises(false), "{p:?}");
            assert!(!p.mastered_on_premises(true), "{p:?}");
        }
    }

    #[test]
    fn auto_reply_values_compare_by_text_form_and_instant() {
        let internal = Property::AutoReplyInternal.definition();
        let text = |t: &str| Value::Text(t.to_owned());
        let from_policy = text(&crate::auto_reply::message_html("Closed & away\nBack soon"));
        let from_exchange = text(
            "<html>\r\n<head></head>\r\n<body>\r\nClosed &amp; away<br>\r\nBack soon\r\n</body>\r\n</html>",
        );
        assert!(internal.same(&from_exchange, &from_policy));
        assert!(!internal.same(&from_exchange, &text("Closed")));
        assert!(internal.same(&Value::Unset, &text("<html><body></body></html>")));
        assert_eq!(
            internal.show(&from_exchange),
            "\"Closed & away…\" (2 lines, 23 characters)"
        );
        assert_eq!(
            internal.policy_value(&from_exchange),
            "Closed & away\nBack soon"
        );
        assert_eq!(internal.check(&Value::Unset), Ok(text("")));
        let start = Property::AutoReplyStart.definition();
        assert!(start.same(
            &text("2026-12-24T08:00:00.0000000Z"),
            &text("2026-12-24T09:00:00+01:00")
        ));
        assert_eq!(
            start.show(&text("2026-12-24T09:00:00+01:00")),
            "2026-12-24T08:00:00Z"
        );
        assert_eq!(start.show(&Value::Unset), "(not set)");
        assert_eq!(
            start.check(&text("2026-12-24T09:00:00+01:00")),
            Ok(text("2026-12-24T08:00:00Z"))
        );
        assert!(start.check(&text("24.12.2026")).is_err());
        assert_eq!(start.inverse(&Value::Unset), None);
        let state = Property::AutoReplyState.definition();
        assert_eq!(state.show(&text("Scheduled")), "scheduled");
        assert_eq!(
            state.absent(),
            text("Disabled"),
            "a new mailbox replies nothing"
        );
        assert_eq!(
            Property::AutoReplyExternalAudience.definition().absent(),
            text("All")
        );
        // Unread configuration reads as unset, never as a value to compare with.
        assert_eq!((state.get)(&Mailbox::default()), Value::Unset);
        // Mailbox-level settings: never mastered on premises.
        for p in Property::ALL.into_iter().filter(|p| p.is_auto_reply()) {
            assert!(!p.mastered_on_premises(false), "{p:?}");
        }
        assert_eq!(
            Property::ALL
                .into_iter()
                .filter(|p| p.is_auto_reply())
                .count(),
            6
        );
    }

    #[test]
    fn every_property_reads_back_what_it_sets() {
        for p in Property::ALL {
            let d = p.definition();
            let value = match d.kind {
                Kind::Text => Value::Text("Team Inbox".into()),
                Kind::Address => Value::Text("partner@fabrikam.com".into()),
                Kind::Time => Value::Text("2026-12-24T08:00:00Z".into()),
                Kind::Message => Value::Text("Closed &amp; away".into()),
                Kind::Choice(words) => Value::Text(words[words.len() - 1].to_owned()),
                Kind::Tristate { .. } => Value::Unset,
                Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } => {
                    Value::Flag(!(d.get)(&Mailbox::default()).flag())
                }
            };
            let mut mailbox = Mailbox::new_shared("a@contoso.com", "A");
            (d.set)(&mut mailbox, value.clone());
            assert_eq!((d.get)(&mailbox), value, "{p:?}");
        }
    }

    #[test]
    fn values_are_plain_json() {
        let json = |v: &Value| serde_json::to_string(v).unwrap();
        assert_eq!(json(&Value::Flag(true)), "true");
        assert_eq!(json(&Value::Text("Never".into())), "\"Never\"");
        assert_eq!(json(&Value::Unset), "null");
        for v in [Value::Flag(false), Value::Text("x".into()), Value::Unset] {
            assert_eq!(serde_json::from_str::<Value>(&json(&v)).unwrap(), v);
        }
    }
}
