//! The validated policy set: what the planner consumes.
//!
//! Profiles and `Defaults` are already merged in: each field holds the mailbox's own value,
//! else its profile's, else the default's, with the origin of whichever was used (a built-in
//! profile's values point at the mailbox's `profile:` line). A list replaces, never merges.

use std::collections::BTreeMap;
use std::sync::Arc;

use sharedbox_tenant::{OrganizationProperty, Property, Value, WellKnownFolder};

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
    /// What planning these policies reads: every managed mailbox in full, the Inbox and
    /// Calendar where `folders` manages them, the root folders that folder readers need, and the accounts that may log in to SMTP AUTH for one
    /// of them (lint SBX205 needs their own setting).
    pub fn read_scope(&self) -> sharedbox_tenant::ReadScope {
        let mut accounts: Vec<String> = Vec::new();
        for policy in &self.mailboxes {
            for account in policy.smtp_auth_candidates() {
                if !accounts.iter().any(|a| a.eq_ignore_ascii_case(account)) {
                    accounts.push(account.to_owned());
                }
            }
        }
        // The root folder where the policy manages folder readers (`sentItemsReaders` or
        // `folders`): always when it declares one (root visibility follows the reader), else
        // only to revoke one.
        let roots = self
            .mailboxes
            .iter()
            .filter_map(|m| {
                let mut lists = m
                    .sent_items_readers
                    .iter()
                    .map(|l| l.value.is_empty())
                    .chain(m.folders.values().map(|l| l.value.is_empty()))
                    .peekable();
                lists.peek()?;
                let always = lists.any(|empty| !empty);
                Some(sharedbox_tenant::RootRead {
                    mailbox: m.address.value.clone(),
                    always,
                })
            })
            .collect();
        // The Inbox and Calendar only where a policy manages them.
        let folders = self
            .mailboxes
            .iter()
            .flat_map(|m| {
                m.folders
                    .keys()
                    .filter(|f| **f != WellKnownFolder::SentItems)
                    .map(|f| sharedbox_tenant::FolderRead {
                        mailbox: m.address.value.clone(),
                        folder: *f,
                    })
            })
            .collect();
        sharedbox_tenant::ReadScope {
            mailboxes: self
                .mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
            accounts,
            folders,
            roots,
            sizes: false,
            // Automatic replies only where a policy manages them: one request per mailbox.
            auto_replies: self
                .mailboxes
                .iter()
                .filter(|m| m.settings.keys().any(|p| p.is_auto_reply()))
                .map(|m| m.address.value.clone())
                .collect(),
            all_shared: false,
            groups: self.senders_may_read_through_groups(),
        }
    }

    /// Whether the offline lint SBX104 finds a sender who can read neither the mailbox nor
    /// its Sent Items: only then may group membership (a sender in a listed group) matter to
    /// a plan, and only then does its read ask for it.
    fn senders_may_read_through_groups(&self) -> bool {
        crate::lint::lint_policies(self, &crate::LintLevels::default())
            .iter()
            .any(|d| d.code == crate::lint::LintCode::Sbx104.as_str())
    }

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
    /// The value the policy gives `property`, if it manages it.
    pub fn setting(&self, property: Property) -> Option<&Located<Value>> {
        self.settings.get(&property)
    }

    /// Where the policy sets `property` to `true`, if it does.
    pub fn enables(&self, property: Property) -> Option<&Located<Value>> {
        self.setting(property)
            .filter(|v| v.value == Value::Flag(true))
    }

    /// The Send As principals of a mailbox that this policy opens to IMAP: a system that
    /// reads it over IMAP and sends as it logs in to SMTP AUTH as one of them (lint SBX205
    /// narrows them to user accounts that also have Full Access).
    pub fn smtp_auth_candidates(&self) -> impl Iterator<Item = &str> {
        self.enables(Property::Imap)
            .and(self.send_as.as_ref())
            .into_iter()
            .flat_map(|list| &list.value)
            .map(|p| p.value.as_str())
    }

    /// Whether `--target`s select this mailbox (no targets select every mailbox).
    pub fn is_targeted(&self, targets: &[String]) -> bool {
        targets.is_empty()
            || targets
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&self.address))
    }
}

/// `TenantSettings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantSettings {
    /// The organisation properties it sets, each with its value and where it was written.
    pub settings: BTreeMap<OrganizationProperty, Located<Value>>,
    /// The service principal registrations policies need (`servicePrincipals:`).
    pub service_principals: Vec<ServicePrincipalRegistration>,
}

/// A service principal registration a `TenantSettings` document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipalRegistration {
    /// The application (client) id, lower-cased, where it was written.
    pub app_id: Located<String>,
    /// The enterprise application's object id, lower-cased.
    pub object_id: Located<String>,
    /// The display name (the app id when not given).
    pub display_name: String,
}

/// The desired state of one shared mailbox. `None` = not managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxPolicy {
    /// Primary SMTP address, lower-cased.
    pub address: Located<String>,
    /// The profile the mailbox takes (`profile:`), when it names one.
    pub profile: Option<Located<String>>,
    /// The catalogued properties it manages (`displayName`, `sentItems.*`, `clients.*`,
    /// `moderation.enabled`, ...), each with its value as Exchange takes it and where it was
    /// written; a property that is absent is not managed.
    pub settings: BTreeMap<Property, Located<Value>>,
    /// `aliases`: the secondary SMTP addresses, trimmed and lower-cased, each where it was
    /// written; `None` = not managed.
    pub aliases: Option<Located<Vec<Located<String>>>>,
    /// `sendAs`.
    pub send_as: Option<PrincipalSet>,
    /// `sendOnBehalf`.
    pub send_on_behalf: Option<PrincipalSet>,
    /// `fullAccess`.
    pub full_access: Option<Located<Vec<FullAccessGrant>>>,
    /// `sentItemsReaders`.
    pub sent_items_readers: Option<Located<Vec<ReaderGrant>>>,
    /// `folders.<key>`: the entries of each managed well-known folder; a folder that is not
    /// a key is not managed. Never holds Sent Items together with `sent_items_readers`.
    pub folders: BTreeMap<WellKnownFolder, Located<Vec<FolderGrant>>>,
    /// `moderation.moderators`.
    pub moderators: Option<PrincipalSet>,
    /// `moderation.bypass`.
    pub moderation_bypass: Option<PrincipalSet>,
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

/// One entry of a managed folder (`folders.<key>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderGrant {
    /// The user or group.
    pub principal: PrincipalRef,
    /// The folder role.
    pub access: Located<FolderAccess>,
    /// The delegate flags as Exchange spells them (`Delegate`, `CanViewPrivateItems`),
    /// canonical; empty unless the policy sets them (calendar only).
    pub flags: Vec<String>,
}

/// One Sent Items reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderGrant {
    /// The user or group.
    pub principal: PrincipalRef,
    /// The folder role.
    pub access: Located<FolderAccess>,
}
