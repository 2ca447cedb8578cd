//! The validated policy set: what the planner consumes.
//!
//! Profiles and `Defaults` are already merged in: each field holds the mailbox's own value,
//! else its profile's, else the default's, with the origin of whichever was used (a built-in
//! profile's values point at the mailbox's `profile:` line). A list replaces, never merges.

use std::sync::Arc;

pub use crate::document::{Ensure, FolderAccess, Notifications, SmtpAuth};
use crate::source::{Located, Source};

/// A principal as a policy names it (SMTP address, UPN or Entra object id), with its position.
pub type PrincipalRef = Located<String>;

/// An authoritative list of principals: who is not listed is revoked.
pub type PrincipalSet = Located<Vec<PrincipalRef>>;

/// Every policy of the folder, validated.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// The shared mailboxes, ordered by address.
    pub mailboxes: Vec<MailboxPolicy>,
    /// Organisation-wide settings, when a `TenantSettings` document exists.
    pub tenant_settings: Option<TenantSettings>,
    /// Every file that was read, in path order.
    pub sources: Vec<Arc<Source>>,
}

impl PolicySet {
    /// The policy of the mailbox `address` (case-insensitive).
    pub fn mailbox(&self, address: &str) -> Option<&MailboxPolicy> {
        self.mailboxes
            .iter()
            .find(|m| m.address.eq_ignore_ascii_case(address))
    }

    /// Whether the set manages nothing at all.
    pub fn is_empty(&self) -> bool {
        self.mailboxes.is_empty() && self.tenant_settings.is_none()
    }

    /// The set as `--target`s narrow it: only the mailboxes they select, no tenant settings
    /// (a targeted plan leaves those alone); the whole set when there are no targets.
    pub fn targeted(&self, targets: &[String]) -> std::borrow::Cow<'_, PolicySet> {
        if targets.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        std::borrow::Cow::Owned(PolicySet {
            mailboxes: self
                .mailboxes
                .iter()
                .filter(|m| m.is_targeted(targets))
                .cloned()
                .collect(),
            tenant_settings: None,
            sources: self.sources.clone(),
        })
    }
}

impl MailboxPolicy {
    /// Whether `--target`s select this mailbox (no targets select every mailbox).
    pub fn is_targeted(&self, targets: &[String]) -> bool {
        targets.is_empty()
            || targets
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&self.address))
    }
}

/// `TenantSettings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSettings {
    /// `SendFromAliasEnabled`.
    pub send_from_alias_enabled: Option<Located<bool>>,
}

/// The desired state of one shared mailbox. `None` = not managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxPolicy {
    /// Primary SMTP address, lower-cased.
    pub address: Located<String>,
    /// The profile the mailbox takes (`profile:`), when it names one.
    pub profile: Option<Located<String>>,
    /// `displayName`.
    pub display_name: Option<Located<String>>,
    /// `hiddenFromAddressLists`.
    pub hidden_from_address_lists: Option<Located<bool>>,
    /// `sentItems.copyForSendAs`.
    pub copy_for_send_as: Option<Located<bool>>,
    /// `sentItems.copyForSendOnBehalf`.
    pub copy_for_send_on_behalf: Option<Located<bool>>,
    /// `sendAs`.
    pub send_as: Option<PrincipalSet>,
    /// `sendOnBehalf`.
    pub send_on_behalf: Option<PrincipalSet>,
    /// `fullAccess`.
    pub full_access: Option<Located<Vec<FullAccessGrant>>>,
    /// `sentItemsReaders`.
    pub sent_items_readers: Option<Located<Vec<ReaderGrant>>>,
    /// `clients`: the switches that are set, in policy order.
    pub clients: Vec<(Client, Located<bool>)>,
    /// `clients.smtpAuth`.
    pub smtp_auth: Option<Located<SmtpAuth>>,
    /// `moderation.enabled`.
    pub moderation_enabled: Option<Located<bool>>,
    /// `moderation.moderators`.
    pub moderators: Option<PrincipalSet>,
    /// `moderation.bypass`.
    pub moderation_bypass: Option<PrincipalSet>,
    /// `moderation.notifications`.
    pub moderation_notifications: Option<Located<Notifications>>,
    /// `lifecycle.preventDestroy`.
    pub prevent_destroy: bool,
    /// `lifecycle.ensure`, `present` unless set.
    pub ensure: Ensure,
    /// Lint levels of this mailbox (its own, its profile's, the defaults'), by lint code.
    pub lints: Vec<(crate::lint::LintCode, Located<crate::lint::Level>)>,
}

/// One FullAccess grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullAccessGrant {
    /// The user or group.
    pub principal: PrincipalRef,
    /// AutoMapping at grant time; `None` = Exchange's default.
    pub auto_mapping: Option<Located<bool>>,
}

/// One Sent Items reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderGrant {
    /// The user or group.
    pub principal: PrincipalRef,
    /// The folder role.
    pub access: Located<FolderAccess>,
}

/// A client switch under `clients:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// `owa`.
    Owa,
    /// `outlook`.
    Outlook,
    /// `newOutlook`.
    NewOutlook,
    /// `macOutlook`.
    MacOutlook,
    /// `mobile`.
    Mobile,
    /// `activeSync`.
    ActiveSync,
    /// `ews`.
    Ews,
    /// `imap`.
    Imap,
    /// `pop`.
    Pop,
}
