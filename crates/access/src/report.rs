//! The effective-access report: for each shared mailbox, every principal that holds a right
//! on it (FullAccess, Send As, Send on Behalf, a folder role) directly or through groups, with
//! the path and the risk flags, from one snapshot.
//!
//! Rights on folders are a folder name, its type and the access rights, so that folders other
//! than Sent Items slot in as the tenant model gains them.

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use serde::Serialize;
use sharedbox_tenant::{
    Directory, GroupKind, LivePrincipal, Mailbox, PrincipalId, Recipient, Snapshot,
};

use crate::membership::{Member, Membership};

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Only these shared mailboxes (any of their SMTP addresses); empty = every one read.
    pub mailboxes: Vec<String>,
    /// Only the rights of these principals (as a policy names them: address, UPN, object
    /// id, `app:<appId>`), directly or through groups: the reverse lookup; empty = everyone.
    pub principals: Vec<String>,
    /// A group reaching more than this many members is flagged [`Flag::LargeGroup`].
    pub large_group: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mailboxes: Vec::new(),
            principals: Vec::new(),
            large_group: 100,
        }
    }
}

/// Why a report could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum AccessError {
    /// `--mailbox` names no shared mailbox.
    #[error("`{0}` is not a shared mailbox of the tenant")]
    #[diagnostic(help(
        "name a shared mailbox by one of its SMTP addresses; user mailboxes are not reported"
    ))]
    UnknownMailbox(String),
    /// `--principal` names nobody.
    #[error("`{0}` is not a recipient, user, group or service principal of the tenant")]
    #[diagnostic(help(
        "name the principal by its SMTP address, UPN, Entra object id or `app:<appId>`"
    ))]
    UnknownPrincipal(String),
}

/// The version of the report's JSON form; raised when a field changes meaning or goes.
pub const ACCESS_FORMAT_VERSION: u32 = 1;

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    /// [`ACCESS_FORMAT_VERSION`].
    pub format_version: u32,
    /// The tenant read.
    pub tenant: String,
    /// Whether group members were read and expanded; without them only direct grants and the
    /// groups themselves are listed.
    pub groups_expanded: bool,
    /// The threshold of [`Flag::LargeGroup`].
    pub large_group_threshold: usize,
    /// The `--mailbox` filter as given (empty: every shared mailbox).
    pub mailbox_filter: Vec<String>,
    /// The `--principal` filter as given (empty: every principal).
    pub principal_filter: Vec<String>,
    /// Per shared mailbox, by primary address.
    pub mailboxes: Vec<MailboxAccess>,
    /// Counts.
    pub summary: Summary,
}

/// Counts of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Mailboxes reported.
    pub mailboxes: usize,
    /// Entries (principal, right, path) reported.
    pub entries: usize,
    /// Distinct principals holding a right.
    pub principals: usize,
    /// Entries and mailboxes per flag.
    pub flags: BTreeMap<Flag, usize>,
}

/// One shared mailbox and who can do what with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailboxAccess {
    /// Primary SMTP address.
    pub mailbox: String,
    /// Display name.
    pub display_name: String,
    /// Whether the mailbox's own account can sign in (`AccountDisabled` false).
    pub sign_in_allowed: bool,
    /// Flags of the mailbox itself ([`Flag::SignInAllowed`]).
    pub flags: Vec<Flag>,
    /// Each right of each principal, with its path.
    pub entries: Vec<AccessEntry>,
}

/// One right of one principal on one mailbox, by one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// Who.
    pub principal: PrincipalInfo,
    /// What.
    pub right: Right,
    /// Through which groups, outermost (the one granted) first; empty = granted directly.
    pub via: Vec<GroupStep>,
    /// Risks of this entry.
    pub flags: Vec<Flag>,
}

impl AccessEntry {
    /// The path in words: `direct`, or `via group A -> group B`.
    pub fn path(&self) -> String {
        if self.via.is_empty() {
            return "direct".to_owned();
        }
        let groups: Vec<&str> = self.via.iter().map(|g| g.name.as_str()).collect();
        format!("via {}", groups.join(" -> "))
    }
}

/// A group on the path of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupStep {
    /// Its address (or other identity when it has none).
    pub name: String,
    /// Its display name.
    pub display_name: String,
}

/// Who holds a right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalInfo {
    /// Its address, UPN or object id; for a deleted or unresolved principal, the name
    /// Exchange shows (a SID, a Name).
    pub name: String,
    /// Its display name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its canonical id (Entra object id, else Exchange Guid), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What it is.
    pub kind: PrincipalKind,
    /// For a group: what kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_kind: Option<GroupKind>,
    /// For an expanded group: how many members (not groups) it reaches, nested ones included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<usize>,
}

/// What kind of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalKind {
    /// A user (with or without a mailbox), a mail user, a guest.
    User,
    /// Another shared mailbox, room or equipment mailbox.
    Mailbox,
    /// A group of any kind.
    Group,
    /// A mail contact.
    Contact,
    /// An Exchange service principal (an application).
    ServicePrincipal,
    /// Resolves to nothing although everything was looked up: deleted (an orphaned SID).
    Deleted,
    /// Not resolved: the directory is incomplete, or the name is ambiguous.
    Unresolved,
}

/// A right on a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "right", rename_all = "camelCase")]
pub enum Right {
    /// `FullAccess` (`Get-MailboxPermission`): open the mailbox and read everything.
    FullAccess,
    /// `SendAs` (`Get-RecipientPermission`).
    SendAs,
    /// `GrantSendOnBehalfTo`.
    SendOnBehalf,
    /// A folder permission (`Get-MailboxFolderPermission`).
    #[serde(rename_all = "camelCase")]
    Folder {
        /// The folder's (localised) name, e.g. `Sent Items`.
        folder: String,
        /// The folder's type, whatever its language: `SentItems`, `Inbox`, `Calendar`, ...
        folder_type: String,
        /// The role or rights, e.g. `Reviewer`.
        access_rights: Vec<String>,
    },
}

impl Right {
    /// The right in words: `FullAccess`, `Send As`, `Send on Behalf`, `Sent Items: Reviewer`.
    pub fn describe(&self) -> String {
        match self {
            Right::FullAccess => "FullAccess".to_owned(),
            Right::SendAs => "Send As".to_owned(),
            Right::SendOnBehalf => "Send on Behalf".to_owned(),
            Right::Folder {
                folder,
                access_rights,
                ..
            } => format!("{folder}: {}", access_rights.join(", ")),
        }
    }

    /// The right's name alone (`folder` for every folder right).
    pub fn name(&self) -> &'static str {
        match self {
            Right::FullAccess => "fullAccess",
            Right::SendAs => "sendAs",
            Right::SendOnBehalf => "sendOnBehalf",
            Right::Folder { .. } => "folder",
        }
    }
}

/// A risk a reviewer should look at.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Flag {
    /// The principal's account is disabled, yet holds the right.
    DisabledAccount,
    /// The principal was deleted (an orphaned SID, a member that resolves to nothing).
    DeletedAccount,
    /// A guest user of another organisation.
    Guest,
    /// An address outside the tenant's accepted domains (a mail user or contact).
    External,
    /// A group reaching more members than the threshold.
    LargeGroup,
    /// An application, not a person.
    ServicePrincipal,
    /// A dynamic distribution group: its members are a filter, not listed.
    DynamicGroup,
    /// A group whose members were not read: who it reaches is not listed.
    MembershipIncomplete,
    /// A group that contains itself through nested groups: the expansion stops where a group
    /// comes round again (every member is still listed once).
    NestedCycle,
    /// A name that could not be resolved (an incomplete directory, an ambiguous name).
    Unresolved,
    /// The mailbox's own account can sign in (a password sign-in bypasses every grant).
    SignInAllowed,
}

impl Flag {
    /// The flag as JSON and CSV write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::DisabledAccount => "disabledAccount",
            Flag::DeletedAccount => "deletedAccount",
            Flag::Guest => "guest",
            Flag::External => "external",
            Flag::LargeGroup => "largeGroup",
            Flag::ServicePrincipal => "servicePrincipal",
            Flag::DynamicGroup => "dynamicGroup",
            Flag::MembershipIncomplete => "membershipIncomplete",
            Flag::NestedCycle => "nestedCycle",
            Flag::Unresolved => "unresolved",
            Flag::SignInAllowed => "signInAllowed",
        }
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds the report of `snapshot` (read with every mailbox of `options` in full and, for
/// group expansion, with [`sharedbox_tenant::ReadScope::groups`]).
pub fn build(snapshot: &Snapshot, options: &Options) -> Result<AccessReport, AccessError> {
    let directory = &snapshot.directory;
    let membership = Membership::new(directory);
    let mut mailboxes: Vec<&Mailbox> = if options.mailboxes.is_empty() {
        snapshot.mailboxes.iter().collect()
    } else {
        let mut chosen: Vec<&Mailbox> = Vec::new();
        for address in &options.mailboxes {
            let found = snapshot
                .mailbox(address.trim())
                .ok_or_else(|| AccessError::UnknownMailbox(address.clone()))?;
            if !chosen.iter().any(|m| std::ptr::eq(*m, found)) {
                chosen.push(found);
            }
        }
        chosen
    };
    mailboxes.sort_by_key(|m| m.primary_smtp_address.to_ascii_lowercase());
    let wanted: Option<HashSet<PrincipalId>> = if options.principals.is_empty() {
        None
    } else {
        let mut ids = HashSet::new();
        for name in &options.principals {
            let found = directory
                .resolve_policy(name)
                .ok_or_else(|| AccessError::UnknownPrincipal(name.clone()))?;
            ids.insert(PrincipalId::of(found));
        }
        Some(ids)
    };
    let context = Context {
        snapshot,
        membership: &membership,
        large_group: options.large_group,
    };
    let mut report = AccessReport {
        format_version: ACCESS_FORMAT_VERSION,
        tenant: snapshot.tenant.clone(),
        groups_expanded: snapshot.groups_read,
        large_group_threshold: options.large_group,
        mailbox_filter: options.mailboxes.clone(),
        principal_filter: options.principals.clone(),
        mailboxes: Vec::with_capacity(mailboxes.len()),
        summary: Summary::default(),
    };
    let mut principals: HashSet<String> = HashSet::new();
    for mailbox in mailboxes {
        let mut access = context.mailbox(mailbox);
        if let Some(wanted) = &wanted {
            access.entries.retain(|e| {
                e.principal
                    .id
                    .as_ref()
                    .is_some_and(|id| wanted.contains(&PrincipalId(id.clone())))
            });
            if access.entries.is_empty() {
                continue;
            }
        }
        for flag in &access.flags {
            *report.summary.flags.entry(*flag).or_default() += 1;
        }
        for entry in &access.entries {
            for flag in &entry.flags {
                *report.summary.flags.entry(*flag).or_default() += 1;
            }
            principals.insert(
                entry
                    .principal
                    .id
                    .clone()
                    .unwrap_or_else(|| entry.principal.name.clone()),
            );
        }
        report.summary.entries += access.entries.len();
        report.mailboxes.push(access);
    }
    report.summary.mailboxes = report.mailboxes.len();
    report.summary.principals = principals.len();
    Ok(report)
}

struct Context<'a> {
    snapshot: &'a Snapshot,
    membership: &'a Membership<'a>,
    large_group: usize,
}

impl Context<'_> {
    fn mailbox(&self, mailbox: &Mailbox) -> MailboxAccess {
        let mut grants: Vec<(Right, &str)> = Vec::new();
        grants.extend(
            mailbox
                .full_access_grants()
                .map(|r| (Right::FullAccess, r.user.as_str())),
        );
        grants.extend(
            mailbox
                .send_as_grants()
                .map(|r| (Right::SendAs, r.trustee.as_str())),
        );
        grants.extend(
            mailbox
                .send_on_behalf_grants()
                .map(|p| (Right::SendOnBehalf, p)),
        );
        grants.extend(
            mailbox
                .sent_items_grants()
                .filter(|row| {
                    !row.access_rights.is_empty()
                        && !row
                            .access_rights
                            .iter()
                            .all(|r| r.eq_ignore_ascii_case("None"))
                })
                .map(|row| {
                    (
                        Right::Folder {
                            folder: mailbox.sent_items.name.clone(),
                            folder_type: "SentItems".to_owned(),
                            access_rights: row.access_rights.clone(),
                        },
                        row.user.as_str(),
                    )
                }),
        );
        let mut entries = Vec::new();
        let mut seen: HashSet<(String, String, String)> = HashSet::new();
        for (right, raw) in grants {
            for entry in self.entries(&right, raw) {
                let key = (
                    entry
                        .principal
                        .id
                        .clone()
                        .unwrap_or_else(|| entry.principal.name.clone()),
                    right.describe(),
                    entry.path(),
                );
                if seen.insert(key) {
                    entries.push(entry);
                }
            }
        }
        let sign_in_allowed = !mailbox.account_disabled;
        MailboxAccess {
            mailbox: mailbox.primary_smtp_address.to_ascii_lowercase(),
            display_name: mailbox.display_name.clone(),
            sign_in_allowed,
            flags: if sign_in_allowed {
                vec![Flag::SignInAllowed]
            } else {
                Vec::new()
            },
            entries,
        }
    }

    /// The entries one grant row gives: the holder, and when it is a group, every member it
    /// reaches.
    fn entries(&self, right: &Right, raw: &str) -> Vec<AccessEntry> {
        let directory = self.membership.directory();
        match directory.resolve_live(raw) {
            LivePrincipal::BuiltIn => Vec::new(),
            LivePrincipal::Orphaned => vec![AccessEntry {
                principal: unknown(raw, PrincipalKind::Deleted),
                right: right.clone(),
                via: Vec::new(),
                flags: vec![Flag::DeletedAccount],
            }],
            LivePrincipal::Unresolved | LivePrincipal::Ambiguous(_) => vec![AccessEntry {
                principal: unknown(raw, PrincipalKind::Unresolved),
                right: right.clone(),
                via: Vec::new(),
                flags: vec![Flag::Unresolved],
            }],
            LivePrincipal::Recipient(holder) => {
                let mut out = vec![AccessEntry {
                    principal: self.info(holder),
                    right: right.clone(),
                    via: Vec::new(),
                    flags: self.flags(holder),
                }];
                if holder.is_group() {
                    let expansion = self.membership.expand(&PrincipalId::of(holder));
                    for (member, path) in &expansion.members {
                        let via = steps(directory, path);
                        out.push(match member {
                            Member::Recipient(id) => {
                                let Some(r) = directory.get(id) else { continue };
                                AccessEntry {
                                    principal: self.info(r),
                                    right: right.clone(),
                                    via,
                                    flags: self.flags(r),
                                }
                            }
                            Member::Deleted(name) => AccessEntry {
                                principal: unknown(name, PrincipalKind::Deleted),
                                right: right.clone(),
                                via,
                                flags: vec![Flag::DeletedAccount],
                            },
                            Member::Unresolved(name) => AccessEntry {
                                principal: unknown(name, PrincipalKind::Unresolved),
                                right: right.clone(),
                                via,
                                flags: vec![Flag::Unresolved],
                            },
                        });
                    }
                }
                out
            }
        }
    }

    fn info(&self, r: &Recipient) -> PrincipalInfo {
        let group_kind = r.group_kind();
        let kind = if r.is_service_principal() {
            PrincipalKind::ServicePrincipal
        } else if group_kind.is_some() {
            PrincipalKind::Group
        } else if r.recipient_type_details.eq_ignore_ascii_case("MailContact") {
            PrincipalKind::Contact
        } else if r.recipient_type_details.ends_with("Mailbox")
            && !r.recipient_type_details.eq_ignore_ascii_case("UserMailbox")
        {
            PrincipalKind::Mailbox
        } else {
            PrincipalKind::User
        };
        let members = (group_kind.is_some() && Membership::expandable(r)).then(|| {
            self.membership
                .expand(&PrincipalId::of(r))
                .people(self.membership.directory())
        });
        PrincipalInfo {
            // A service principal as a policy names it.
            name: match &r.app_id {
                Some(app) => format!("{}{app}", sharedbox_tenant::directory::APP_PREFIX),
                None => r.identity(),
            },
            display_name: Some(r.display_name.clone()).filter(|d| !d.is_empty()),
            id: Some(PrincipalId::of(r).0),
            kind,
            group_kind,
            members,
        }
    }

    fn flags(&self, r: &Recipient) -> Vec<Flag> {
        let mut flags = Vec::new();
        if r.is_disabled() {
            flags.push(Flag::DisabledAccount);
        }
        if r.is_guest() {
            flags.push(Flag::Guest);
        } else if self.is_external(r) {
            flags.push(Flag::External);
        }
        if r.is_service_principal() {
            flags.push(Flag::ServicePrincipal);
        }
        match r.group_kind() {
            Some(GroupKind::Dynamic) => flags.push(Flag::DynamicGroup),
            Some(_) if !Membership::expandable(r) => flags.push(Flag::MembershipIncomplete),
            Some(_) => {
                let expansion = self.membership.expand(&PrincipalId::of(r));
                if expansion.people(self.membership.directory()) > self.large_group {
                    flags.push(Flag::LargeGroup);
                }
                if expansion.cyclic {
                    flags.push(Flag::NestedCycle);
                }
            }
            None => {}
        }
        flags
    }

    /// A mail user or contact whose address is outside the accepted domains (unknown when
    /// the accepted domains were not read: then nothing is flagged).
    fn is_external(&self, r: &Recipient) -> bool {
        let domains = &self.snapshot.organization.accepted_domains;
        let outside_kind = matches!(
            r.recipient_type_details.as_str(),
            "MailUser" | "MailContact" | "GuestMailUser"
        );
        outside_kind
            && !domains.is_empty()
            && r.primary_smtp_address
                .rsplit_once('@')
                .is_some_and(|(_, d)| !domains.iter().any(|a| a.eq_ignore_ascii_case(d)))
    }
}

fn unknown(name: &str, kind: PrincipalKind) -> PrincipalInfo {
    PrincipalInfo {
        name: name.trim().to_owned(),
        display_name: None,
        id: None,
        kind,
        group_kind: None,
        members: None,
    }
}

fn steps(directory: &Directory, path: &Rc<[PrincipalId]>) -> Vec<GroupStep> {
    path.iter()
        .map(|id| match directory.get(id) {
            Some(r) => GroupStep {
                name: r.identity(),
                display_name: r.display_name.clone(),
            },
            None => GroupStep {
                name: id.0.clone(),
                display_name: String::new(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharedbox_tenant::{MailboxPermission, OrganizationConfig};

    fn recipient(name: &str, details: &str, address: &str) -> Recipient {
        Recipient {
            guid: format!("guid-{name}"),
            name: name.to_owned(),
            display_name: name.to_owned(),
            primary_smtp_address: address.to_owned(),
            recipient_type_details: details.to_owned(),
            ..Recipient::default()
        }
    }

    fn snapshot(accepted: &[&str]) -> Snapshot {
        let mut mailbox = Mailbox::new_shared("box@contoso.com", "Box");
        mailbox.guid = "guid-box".into();
        mailbox.name = "box".into();
        mailbox.account_disabled = true;
        for user in ["contact", "team"] {
            mailbox.mailbox_permissions.push(MailboxPermission {
                user: user.into(),
                access_rights: vec!["FullAccess".into()],
                ..MailboxPermission::default()
            });
        }
        let mut team = recipient("team", "MailUniversalSecurityGroup", "team@contoso.com");
        team.members = Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()].into());
        Snapshot {
            tenant: "contoso.onmicrosoft.com".into(),
            organization: OrganizationConfig {
                accepted_domains: accepted.iter().map(|d| (*d).to_owned()).collect(),
                ..OrganizationConfig::default()
            },
            directory: Directory::new([
                recipient("contact", "MailContact", "someone@elsewhere.example"),
                recipient("a", "UserMailbox", "a@contoso.com"),
                recipient("b", "UserMailbox", "b@contoso.com"),
                recipient("c", "UserMailbox", "c@contoso.com"),
                team,
                mailbox.recipient(),
            ]),
            mailboxes: vec![mailbox],
            groups_read: true,
            ..Snapshot::default()
        }
    }

    fn flags_of(report: &AccessReport, who: &str) -> Vec<Flag> {
        report.mailboxes[0]
            .entries
            .iter()
            .find(|e| e.principal.name == who && e.via.is_empty())
            .unwrap()
            .flags
            .clone()
    }

    #[test]
    fn external_needs_the_accepted_domains_and_large_groups_the_threshold() {
        let known = build(
            &snapshot(&["contoso.com"]),
            &Options {
                large_group: 2,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            flags_of(&known, "someone@elsewhere.example"),
            [Flag::External]
        );
        assert_eq!(flags_of(&known, "team@contoso.com"), [Flag::LargeGroup]);
        assert!(
            known.mailboxes[0].flags.is_empty(),
            "its account is disabled"
        );
        assert_eq!(
            known.summary.entries, 5,
            "contact, team and its three members"
        );
        let unknown = build(&snapshot(&[]), &Options::default()).unwrap();
        assert!(
            flags_of(&unknown, "someone@elsewhere.example").is_empty(),
            "not judged without domains"
        );
        assert!(
            flags_of(&unknown, "team@contoso.com").is_empty(),
            "3 is not above 100"
        );
    }

    #[test]
    fn filters_name_existing_mailboxes_and_principals_or_fail() {
        let s = snapshot(&[]);
        let only_b = build(
            &s,
            &Options {
                principals: vec!["B@contoso.com".into()],
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(only_b.summary.entries, 1);
        assert_eq!(
            only_b.mailboxes[0].entries[0].path(),
            "via team@contoso.com"
        );
        assert_eq!(
            build(
                &s,
                &Options {
                    mailboxes: vec!["a@contoso.com".into()],
                    ..Options::default()
                }
            ),
            Err(AccessError::UnknownMailbox("a@contoso.com".into())),
            "a user mailbox is not a shared one"
        );
        assert_eq!(
            build(
                &s,
                &Options {
                    principals: vec!["x@contoso.com".into()],
                    ..Options::default()
                }
            ),
            Err(AccessError::UnknownPrincipal("x@contoso.com".into()))
        );
    }
}
