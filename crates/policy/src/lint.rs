//! Lints: how shared mailboxes go wrong, caught in the policy before anything is applied.
//!
//! Every lint has a stable code (`SBX1xx` offline, `SBX2xx` tenant-aware), a default
//! severity that `sharedbox.yaml` can change per code ([`LintLevels`]), and an explanation
//! for `sharedbox explain CODE` ([`LINTS`]). This module owns the catalog and the offline
//! lints ([`lint_policies`]), which need nothing but the policy set; the tenant-aware ones
//! (`SBX2xx`) live in the planner, which sees the live tenant.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Severity};
use sharedbox_tenant::{Property, Value};

use crate::model::{MailboxPolicy, PolicySet, PrincipalRef};
use crate::source::{Located, Origin};

/// The stable code of a lint: `SBX1xx` offline, `SBX2xx` tenant-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LintCode {
    /// `SBX101` sent-copy-missing.
    Sbx101,
    /// `SBX102` sent-copy-without-senders.
    Sbx102,
    /// `SBX103` protocol-bypasses-sent-copy.
    Sbx103,
    /// `SBX104` sender-cannot-read-sent-items.
    Sbx104,
    /// `SBX105` send-on-behalf-duplicates.
    Sbx105,
    /// `SBX106`: moderation without moderators.
    Sbx106,
    /// `SBX107`: a moderator also in the bypass list.
    Sbx107,
    /// `SBX201`: an autoMapping change is a revoke and re-grant.
    Sbx201,
    /// `SBX202`: an address outside the accepted domains.
    Sbx202,
    /// `SBX203`: a sender that is not mail-enabled.
    Sbx203,
    /// `SBX204`: a group that cannot hold the permission.
    Sbx204,
    /// `SBX108`: new Outlook allowed while OWA is off (which also blocks new Outlook).
    Sbx108,
    /// `SBX109`: a mailbox hidden from the address lists with Send As / on Behalf senders.
    Sbx109,
    /// `SBX205`: a sender whose mailbox is on premises, with the server-side sent copy on.
    Sbx205,
}

impl LintCode {
    /// The code as written: `SBX101`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LintCode::Sbx101 => "SBX101",
            LintCode::Sbx102 => "SBX102",
            LintCode::Sbx103 => "SBX103",
            LintCode::Sbx104 => "SBX104",
            LintCode::Sbx105 => "SBX105",
            LintCode::Sbx106 => "SBX106",
            LintCode::Sbx107 => "SBX107",
            LintCode::Sbx201 => "SBX201",
            LintCode::Sbx202 => "SBX202",
            LintCode::Sbx203 => "SBX203",
            LintCode::Sbx204 => "SBX204",
            LintCode::Sbx108 => "SBX108",
            LintCode::Sbx109 => "SBX109",
            LintCode::Sbx205 => "SBX205",
        }
    }

    /// The lint of the catalog with this code (every code has one; a test checks it).
    pub fn lint(self) -> &'static Lint {
        LINTS.iter().find(|l| l.code == self).unwrap_or(&LINTS[0])
    }
}

impl std::fmt::Display for LintCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    /// The stable code, e.g. `SBX101`.
    pub code: LintCode,
    /// A short kebab-case name, e.g. `sent-copy-missing`.
    pub name: &'static str,
    /// The severity unless `sharedbox.yaml` says otherwise.
    pub default_severity: Severity,
    /// Whether the lint needs the live tenant (runs in `plan`, not in `validate`).
    pub tenant_aware: bool,
    /// One line: what it finds.
    pub summary: &'static str,
    /// Why it matters and how to fix it (Markdown-ish plain text, for `sharedbox explain`).
    pub explanation: &'static str,
}

/// Every lint sharedbox knows, ordered by code.
pub const LINTS: &[Lint] = &[
    Lint {
        code: LintCode::Sbx101,
        name: "sent-copy-missing",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "people may send as (or on behalf of) the mailbox, but the matching sent-items copy is off or not managed",
        explanation: "\
Why: by default, mail that a user sends as (or on behalf of) a shared mailbox is saved only in
the *sender's own* Sent Items. Colleagues who work from the shared mailbox never see the reply
and lose the thread. Exchange fixes this server-side with `MessageCopyForSentAsEnabled` and
`MessageCopyForSendOnBehalfEnabled`; the two are independent, so a mailbox used both ways needs
both. A flag that the policy leaves out is not managed: the mailbox keeps whatever it has today,
which for a new mailbox is off.

Fix: set the flag that matches the senders the policy grants, in the mailbox or (for every
mailbox at once) in a `Defaults` document:

    sentItems:
      copyForSendAs: true          # for `sendAs`
      copyForSendOnBehalf: true    # for `sendOnBehalf`

The sender's personal copy stays; the shared copy is added (two places, on purpose).",
    },
    Lint {
        code: LintCode::Sbx102,
        name: "sent-copy-without-senders",
        default_severity: Severity::Info,
        tenant_aware: false,
        summary: "a sent-items copy flag is on, but the policy grants nobody that way of sending",
        explanation: "\
Why: `copyForSendAs` only acts on mail sent *as* the mailbox, `copyForSendOnBehalf` only on mail
sent *on behalf of* it. With `sendAs: []` (or `sendOnBehalf: []`) nobody can send that way, so
the flag has no effect. That is harmless (and a `Defaults` document switching both on for every
mailbox is a good standard), but it may also mean the senders were put in the other list.

Fix: nothing, if this is your standard. Otherwise grant the senders in the list that matches how
they send (`sendAs` = recipients see only the shared address; `sendOnBehalf` = \"user on behalf
of shared\"), or lower this lint to `off` in `sharedbox.yaml`:

    lints:
      SBX102: off",
    },
    Lint {
        code: LintCode::Sbx103,
        name: "protocol-bypasses-sent-copy",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "IMAP, POP or SMTP AUTH is allowed on a mailbox that relies on server-side sent copies",
        explanation: "\
Why: the server-side copy flags only work for mail that Exchange itself sends for a client:
Outlook (classic, new, Mac, mobile) and Outlook on the web. An IMAP or POP client, or a device or
application submitting over SMTP AUTH, sends on its own; nothing lands in the shared Sent Items,
and the team loses the thread again, silently.

Fix: if people work in the mailbox with Outlook or OWA, switch the protocols off:

    clients: {imap: false, pop: false, smtpAuth: disabled}

If a system really needs IMAP/SMTP (a contact center, a scanner), make it store its sent mail
itself (IMAP APPEND to the Sent Items folder) and keep this warning, or set the lint to `info`
for the project. The built-in profile `contact-center` documents that setup.",
    },
    Lint {
        code: LintCode::Sbx104,
        name: "sender-cannot-read-sent-items",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "a sender can neither open the mailbox (FullAccess) nor read its Sent Items",
        explanation: "\
Why: the shared Sent Items only help people who can see them. A user who may send as (or on
behalf of) the mailbox, but has neither FullAccess on it nor a folder permission on its Sent
Items, sends replies that nobody in their own view can follow up: they do not see their
colleagues' copies and cannot check their own.

Fix: add the sender (or a mail-enabled security group they belong to) to `fullAccess`, or give
them read access to the Sent Items only:

    sentItemsReaders:
      - principal: alice@contoso.com
        access: Reviewer

sharedbox compares the addresses as written; it does not know group membership. If the sender
is a member of a group listed in `fullAccess` or `sentItemsReaders`, this warning is a false
alarm: name the group in `sendAs` too, or lower the lint in `sharedbox.yaml`.",
    },
    Lint {
        code: LintCode::Sbx105,
        name: "send-on-behalf-duplicates",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "Send on Behalf with the server-side copy and classic Outlook allowed: duplicates if Outlook also copies",
        explanation: "\
Why: classic Outlook for Windows can copy mail sent on behalf of a shared mailbox into the
shared Sent Items itself: with the option \"Save sent items in the other person's folder\", the
registry value `DelegateSentItemsStyle=1`, or a rule that moves sent mail. Together with
`MessageCopyForSendOnBehalfEnabled` every such mail then appears twice in the shared Sent Items.
New Outlook, Outlook on the web and Outlook mobile only use the server flag. sharedbox cannot
see or change client registries.

Fix: one source of truth, server-side (the seeds' recommendation). Keep
`copyForSendOnBehalf: true` and switch the client-side copy off on every PC, e.g. by Group
Policy / Intune: `HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook\\Preferences`,
`DelegateSentItemsStyle = 0`, and remove \"move after sending\" rules. Or forbid classic Outlook
on the mailbox (`clients: {outlook: false}`) where the team uses new Outlook or OWA. Once the
client side is fixed tenant-wide, lower this lint to `off` in `sharedbox.yaml`.",
    },
    Lint {
        code: LintCode::Sbx106,
        name: "moderation-without-moderators",
        default_severity: Severity::Error,
        tenant_aware: false,
        summary: "moderation is enabled with no moderators",
        explanation: "\
Why: a moderated mailbox holds every incoming message until a moderator approves it. Exchange
needs at least one moderator (`ModeratedBy`); without one, `Set-Mailbox -ModerationEnabled $true`
is refused, and messages that are held anyway expire unanswered: Exchange processes expired
requests on a cycle, so they are returned within days (between two and nine).

Fix: list the moderators, or switch moderation off:

    moderation:
      enabled: true
      moderators: [lead@contoso.com]",
    },
    Lint {
        code: LintCode::Sbx107,
        name: "moderator-in-bypass",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "a moderator is also listed as a sender who bypasses moderation",
        explanation: "\
Why: `BypassModerationFromSendersOrMembers` lets senders skip approval. A moderator listed there
is usually a copy-paste slip: the two lists mean different things (who approves, whose mail needs
no approval), and reviewers misread the policy. Moderators' own messages need no approval anyway.

Fix: remove the moderator from `moderation.bypass`.",
    },
    Lint {
        code: LintCode::Sbx201,
        name: "auto-mapping-regrant",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "autoMapping changes on an existing FullAccess grant: applied as revoke + re-grant, and not verifiable",
        explanation: "\
Why: Exchange applies AutoMapping (Outlook opening the mailbox automatically) only when FullAccess
is granted, and never reports it back. To change it, sharedbox revokes the grant and grants it
again: for a moment the user has no access, Outlook may need a restart, and afterwards nobody can
check the result, because `Get-MailboxPermission` does not show AutoMapping. Where the live value
is unknown (Exchange Online), `plan` compares with the policy at the git base revision (what
sharedbox granted) and plans the revoke and re-grant there; this lint fires only where the
backend knows the live value.

Fix: change autoMapping deliberately: apply the plan outside working hours, or remove the grant
in one change and add it back with the new `autoMapping` in the next. To make a user's Outlook
drop an auto-mapped mailbox without losing access, revoke and re-grant with `autoMapping: false`.",
    },
    Lint {
        code: LintCode::Sbx202,
        name: "address-outside-accepted-domains",
        default_severity: Severity::Error,
        tenant_aware: true,
        summary: "a mailbox address is not in one of the tenant's accepted domains",
        explanation: "\
Why: Exchange Online creates and routes mail only for its accepted domains
(`Get-AcceptedDomain`). A shared mailbox whose primary address is in another domain cannot be
created (`New-Mailbox` fails during apply, after other changes were made) and cannot receive
mail. Usually this is a typo (`contoso.de` instead of `contoso.com`) or a domain not yet added
to the tenant.

Fix: correct the address, or add and verify the domain in the Microsoft 365 admin center first.
The check is skipped when the tenant's accepted domains cannot be read.",
    },
    Lint {
        code: LintCode::Sbx203,
        name: "send-as-trustee-not-mail-enabled",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a Send As or Send on Behalf principal has no mailbox and is not mail-enabled",
        explanation: "\
Why: only mail-enabled recipients can send mail: user and shared mailboxes, mail users, and
mail-enabled security groups (whose members send). A Send As grant to an account without a
mailbox or a security group that is not mail-enabled is accepted by Exchange but nobody can
use it; `GrantSendOnBehalfTo` refuses such principals outright.

Fix: grant a user who has a mailbox, or use a mail-enabled security group
(`New-DistributionGroup -Type Security`); a security group created in Entra cannot be
mail-enabled afterwards.",
    },
    Lint {
        code: LintCode::Sbx204,
        name: "group-not-security-enabled",
        default_severity: Severity::Error,
        tenant_aware: true,
        summary: "a group that is not a mail-enabled security group is used for a permission",
        explanation: "\
Why: mailbox, Send As and folder permissions are granted to security principals. Distribution
groups, dynamic distribution groups and Microsoft 365 groups are not: Exchange refuses
`Add-MailboxPermission`, `Add-RecipientPermission` and `Add-MailboxFolderPermission` for them
(or the permission silently has no effect for the members), so apply would fail half-way.

Fix: use a mail-enabled security group (`New-DistributionGroup -Type Security`). A distribution
group or Microsoft 365 group cannot be turned into one in place: create a mail-enabled security
group with the same members and name it in the policy.",
    },
    Lint {
        code: LintCode::Sbx108,
        name: "new-outlook-without-owa",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "new Outlook is allowed but OWA is off, which also blocks new Outlook",
        explanation: "\
Why: new Outlook for Windows is built on Outlook on the web. `Set-CASMailbox -OWAEnabled $false`
also disables access from new Outlook (Set-CASMailbox reference, `OWAEnabled`), whatever
`OneWinNativeOutlookEnabled` says. A policy with `clients.newOutlook: true` and `clients.owa:
false` promises an access that does not exist, and the users of new Outlook lose the mailbox.

Fix: allow OWA (`clients.owa: true`) where new Outlook is meant to work, or set
`clients.newOutlook: false` to say what actually happens. For a shared mailbox in new Outlook,
the OWA mailbox policy of the mailbox must allow it too.",
    },
    Lint {
        code: LintCode::Sbx109,
        name: "hidden-mailbox-with-senders",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "the mailbox is hidden from the address lists but people may send as or on behalf of it",
        explanation: "\
Why: classic Outlook for Windows picks the From address from the address book. A shared mailbox
hidden from the address lists (`HiddenFromAddressListsEnabled`) cannot be chosen there, and
Send As or Send on Behalf from Outlook desktop fails (\"you do not have the permission to send
the message on behalf of the specified user\") although the permission is in place
(microsoft-365-docs issue 8732). OWA and new Outlook are less affected, but the users of classic
Outlook are not told why.

Fix: show the mailbox in the address lists (`hiddenFromAddressLists: false`) when people send
from it, or take the senders away if it should stay hidden. Cached-mode clients see the change
after the offline address book is updated (up to a day).",
    },
    Lint {
        code: LintCode::Sbx205,
        name: "sent-copy-across-environments",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a sender's mailbox is on premises (hybrid) while the shared mailbox relies on the server-side sent copy",
        explanation: "\
Why: `MessageCopyForSentAsEnabled` and `MessageCopyForSendOnBehalfEnabled` work only when the
sender and the shared mailbox are in the same environment. A user whose mailbox is still in
on-premises Exchange (a `MailUser` in Exchange Online) who sends as or on behalf of a shared
mailbox in Exchange Online gets no copy in the shared Sent Items (Learn: \"sent mail is not
saved\" for hybrid deployments).

Fix: move the sender's mailbox to Exchange Online, or let the sender's Outlook keep the copy
(`DelegateSentItemsStyle`), and tell the team where those messages are. Lower this lint to
`info` for a mailbox where this is accepted.",
    },
];

/// The lint with `code` (`SBX101`) or `name` (`sent-copy-missing`), case-insensitive.
pub fn find(code_or_name: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| {
        l.code.as_str().eq_ignore_ascii_case(code_or_name)
            || l.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// What `sharedbox.yaml` sets for one lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Off,
    /// Reported with this severity.
    Severity(Severity),
}

impl From<crate::document::LintLevel> for Level {
    fn from(level: crate::document::LintLevel) -> Level {
        use crate::document::LintLevel as L;
        match level {
            L::Error => Level::Severity(Severity::Error),
            L::Warning => Level::Severity(Severity::Warning),
            L::Info => Level::Severity(Severity::Info),
            L::Off => Level::Off,
        }
    }
}

/// A `lints:` map (of `sharedbox.yaml` or of a policy document) checked: each key a lint code
/// or name, no lint set twice; problems are pushed to `diagnostics` at their position.
pub fn levels_of(
    map: &std::collections::BTreeMap<String, crate::document::Sp<crate::document::LintLevel>>,
    source: &std::sync::Arc<crate::Source>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(LintCode, Located<Level>)> {
    let mut levels: Vec<(LintCode, Located<Level>)> = Vec::new();
    for (code, level) in map {
        let at = level.origin(source);
        match find(code) {
            Some(lint) if levels.iter().any(|(c, _)| *c == lint.code) => diagnostics.push(
                Diagnostic::error(
                    "policy::duplicate-lint",
                    format!("`lints` sets `{}` twice (by code and by name)", lint.code),
                    Some(at),
                )
                .with_label("second level")
                .with_hint("keep one entry"),
            ),
            Some(lint) => levels.push((lint.code, Located::new((*level.value()).into(), at))),
            None => diagnostics.push(
                Diagnostic::error(
                    "policy::unknown-lint",
                    format!("`lints` names an unknown lint `{code}`"),
                    Some(at),
                )
                .with_label("unknown lint")
                .with_hint("`sharedbox explain` lists every lint code and name"),
            ),
        }
    }
    levels
}

/// Per-code levels from `sharedbox.yaml` (`lints: {SBX105: off, SBX104: error}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintLevels(HashMap<LintCode, Level>);

impl LintLevels {
    /// Sets the level of `lint`.
    pub fn set(&mut self, lint: &'static Lint, level: Level) {
        self.0.insert(lint.code, level);
    }

    /// The level of the lint with `code` (its default when not configured).
    pub fn level(&self, code: &str) -> Option<Level> {
        let lint = find(code)?;
        Some(
            self.0
                .get(&lint.code)
                .copied()
                .unwrap_or(Level::Severity(lint.default_severity)),
        )
    }

    /// These levels with `overrides` (a mailbox's own `lints:`) taking precedence.
    pub fn with_overrides(&self, overrides: &[(LintCode, Located<Level>)]) -> LintLevels {
        let mut levels = self.clone();
        for (code, level) in overrides {
            levels.0.insert(*code, level.value);
        }
        levels
    }

    /// The findings with their configured severity; those set to `off` are dropped.
    /// Diagnostics that are not lints pass unchanged.
    pub fn apply(&self, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
        findings
            .into_iter()
            .filter_map(|mut d| match self.level(d.code) {
                None => Some(d),
                Some(Level::Off) => None,
                Some(Level::Severity(severity)) => {
                    d.severity = severity;
                    Some(d)
                }
            })
            .collect()
    }
}

/// A finding of the lint `code` at `origin`, with its default severity.
pub fn finding(code: LintCode, message: impl Into<String>, origin: &Origin) -> Diagnostic {
    let lint = code.lint();
    Diagnostic {
        severity: lint.default_severity,
        ..Diagnostic::error(code.as_str(), message, Some(origin.clone()))
    }
    .with_label(lint.name)
}

/// The offline lints (`SBX1xx`) of every mailbox, in mailbox order, at the levels of
/// `levels` (from `sharedbox.yaml`) overridden by each mailbox's own `lints:`.
/// Principals are compared as written (case-insensitive); `plan` compares identities
/// through [`lint_policies_with`].
pub fn lint_policies(set: &PolicySet, levels: &LintLevels) -> Vec<Diagnostic> {
    lint_policies_with(set, levels, &|a: &str, b: &str| a.eq_ignore_ascii_case(b))
}

/// [`lint_policies`] with `same` deciding whether two principal spellings (SMTP address,
/// UPN, object id) name the same recipient.
pub fn lint_policies_with(
    set: &PolicySet,
    levels: &LintLevels,
    same: &dyn Fn(&str, &str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for mailbox in &set.mailboxes {
        let mut found = Vec::new();
        sent_copies(mailbox, &mut found);
        protocols(mailbox, &mut found);
        senders_can_read(mailbox, same, &mut found);
        send_on_behalf_duplicates(mailbox, &mut found);
        moderation(mailbox, same, &mut found);
        clients_and_visibility(mailbox, &mut found);
        out.extend(levels.with_overrides(&mailbox.lints).apply(found));
    }
    out
}

/// How a sender reaches the shared mailbox, for the copy-flag lints.
struct SendMode<'a> {
    list_field: &'static str,
    flag_field: &'static str,
    verb: &'static str,
    senders: Option<&'a Located<Vec<PrincipalRef>>>,
    flag: Option<&'a Located<Value>>,
}

fn send_modes(m: &MailboxPolicy) -> [SendMode<'_>; 2] {
    [
        SendMode {
            list_field: "sendAs",
            flag_field: "copyForSendAs",
            verb: "send as",
            senders: m.send_as.as_ref(),
            flag: m.setting(Property::CopyForSendAs),
        },
        SendMode {
            list_field: "sendOnBehalf",
            flag_field: "copyForSendOnBehalf",
            verb: "send on behalf of",
            senders: m.send_on_behalf.as_ref(),
            flag: m.setting(Property::CopyForSendOnBehalf),
        },
    ]
}

/// SBX101 and SBX102.
fn sent_copies(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let address = &m.address.value;
    for mode in send_modes(m) {
        let senders = mode.senders.map_or(0, |s| s.value.len());
        match (mode.senders, mode.flag) {
            (Some(list), flag) if senders > 0 && flag.is_none_or(|f| !f.value.flag()) => {
                let (state, at) = match flag {
                    Some(f) => ("is off", &f.origin),
                    None => ("is not managed", &list.origin),
                };
                out.push(
                    finding(
                        LintCode::Sbx101,
                        format!(
                            "{senders} {} may {} `{address}`, but `sentItems.{}` {state}: what they send is not copied to the shared Sent Items",
                            if senders == 1 { "principal" } else { "principals" },
                            mode.verb,
                            mode.flag_field,
                        ),
                        at,
                    )
                    .with_hint(format!(
                        "set `sentItems.{}: true` here or in a `Defaults` document; `sharedbox explain SBX101`",
                        mode.flag_field
                    )),
                );
            }
            // Only a flag the mailbox itself sets: a `Defaults` or profile that switches both
            // copies on for every mailbox is the recommended standard, not a slip.
            (Some(list), Some(flag))
                if senders == 0 && flag.value.flag() && set_by_mailbox(m, flag) =>
            {
                out.push(
                    finding(
                        LintCode::Sbx102,
                        format!(
                            "`sentItems.{}` is on for `{address}`, but `{}` is empty: nobody can {} it, so the flag has no effect",
                            mode.flag_field, mode.list_field, mode.verb
                        ),
                        &flag.origin,
                    )
                    .with_hint(format!(
                        "harmless as a standard; check that the senders are not meant for `{}` (list at {})",
                        mode.list_field, list.origin
                    )),
                );
            }
            _ => {}
        }
    }
}

/// Whether `value` is written in the mailbox's own document: in its file, and not a built-in
/// profile's value (those point at the `profile:` line).
fn set_by_mailbox<T>(m: &MailboxPolicy, value: &Located<T>) -> bool {
    std::sync::Arc::ptr_eq(&value.origin.source, &m.address.origin.source)
        && m.profile
            .as_ref()
            .is_none_or(|p| p.origin.offset != value.origin.offset)
}

/// Whether the mailbox relies on the server-side copies: a copy flag is on.
fn relies_on_copies(m: &MailboxPolicy) -> Option<&Located<Value>> {
    m.enables(Property::CopyForSendAs)
        .or_else(|| m.enables(Property::CopyForSendOnBehalf))
}

/// SBX103.
fn protocols(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let Some(flag) = relies_on_copies(m) else {
        return;
    };
    let mut allowed: Vec<(&str, &Origin)> = [(Property::Imap, "IMAP"), (Property::Pop, "POP")]
        .into_iter()
        .filter_map(|(p, name)| m.enables(p).map(|v| (name, &v.origin)))
        .collect();
    if let Some(smtp) = m.setting(Property::SmtpClientAuthenticationDisabled)
        && smtp.value == Value::Flag(false)
    {
        allowed.push(("SMTP AUTH", &smtp.origin));
    }
    for (protocol, at) in allowed {
        out.push(
            finding(
                LintCode::Sbx103,
                format!(
                    "{protocol} is allowed on `{}`, which relies on server-side sent copies: mail sent through {protocol} is not copied to the shared Sent Items",
                    m.address.value
                ),
                at,
            )
            .with_hint(format!(
                "switch {protocol} off where people use Outlook or OWA, or make the {protocol} client store its sent mail itself (copy flag at {}); `sharedbox explain SBX103`",
                flag.origin
            )),
        );
    }
}

/// SBX104: only when `fullAccess` is managed (otherwise who can read is unknown offline).
fn senders_can_read(
    m: &MailboxPolicy,
    same: &dyn Fn(&str, &str) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(full_access) = &m.full_access else {
        return;
    };
    let can_read = |p: &str| {
        full_access
            .value
            .iter()
            .any(|g| same(&g.principal.value, p))
            || m.sent_items_readers
                .as_ref()
                .is_some_and(|r| r.value.iter().any(|g| same(&g.principal.value, p)))
    };
    let mut reported: Vec<&str> = Vec::new();
    for mode in send_modes(m) {
        for sender in mode.senders.map(|s| s.value.as_slice()).unwrap_or_default() {
            if can_read(&sender.value) || reported.iter().any(|r| same(r, &sender.value)) {
                continue;
            }
            reported.push(&sender.value);
            out.push(
                finding(
                    LintCode::Sbx104,
                    format!(
                        "`{}` may {} `{}` but can neither open it (`fullAccess`) nor read its Sent Items (`sentItemsReaders`)",
                        sender.value, mode.verb, m.address.value
                    ),
                    &sender.origin,
                )
                .with_hint(format!(
                    "add `{}` (or a group they are in) to `fullAccess` (at {}) or `sentItemsReaders`; a false alarm if they are a member of a listed group",
                    sender.value, full_access.origin
                )),
            );
        }
    }
}

/// SBX105.
fn send_on_behalf_duplicates(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let Some(flag) = m.enables(Property::CopyForSendOnBehalf) else {
        return;
    };
    if m.send_on_behalf.as_ref().is_none_or(|s| s.value.is_empty()) {
        return;
    }
    let outlook = m.setting(Property::Outlook);
    if outlook.is_some_and(|v| v.value == Value::Flag(false)) {
        return;
    }
    out.push(
        finding(
            LintCode::Sbx105,
            format!(
                "`{}` copies mail sent on its behalf server-side and {} classic Outlook: if Outlook also copies (`DelegateSentItemsStyle`, the Outlook option, a move rule), every such mail appears twice",
                m.address.value,
                if outlook.is_some() { "allows" } else { "does not restrict" }
            ),
            &flag.origin,
        )
        .with_hint("keep the server flag and set `DelegateSentItemsStyle = 0` on the clients (Group Policy/Intune), or set `clients.outlook: false`; `sharedbox explain SBX105`"),
    );
}

/// SBX106 and SBX107.
fn moderation(m: &MailboxPolicy, same: &dyn Fn(&str, &str) -> bool, out: &mut Vec<Diagnostic>) {
    if let Some(enabled) = m.enables(Property::ModerationEnabled)
        && m.moderators.as_ref().is_none_or(|l| l.value.is_empty())
    {
        let at = m.moderators.as_ref().map_or(&enabled.origin, |l| &l.origin);
        out.push(
            finding(
                LintCode::Sbx106,
                format!(
                    "moderation of `{}` is enabled with no moderators",
                    m.address.value
                ),
                at,
            )
            .with_hint("Exchange needs at least one moderator for a moderated mailbox; list them under `moderation.moderators`"),
        );
    }
    let (Some(moderators), Some(bypass)) = (&m.moderators, &m.moderation_bypass) else {
        return;
    };
    for entry in &bypass.value {
        if let Some(moderator) = moderators
            .value
            .iter()
            .find(|p| same(&p.value, &entry.value))
        {
            out.push(
                finding(
                    LintCode::Sbx107,
                    format!(
                        "`{}` moderates `{}` and is also listed in `moderation.bypass`",
                        entry.value, m.address.value
                    ),
                    &entry.origin,
                )
                .with_hint(format!(
                    "remove it from `moderation.bypass`: moderators need no approval (moderator entry at {})",
                    moderator.origin
                )),
            );
        }
    }
}

/// SBX108 and SBX109.
fn clients_and_visibility(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let address = &m.address.value;
    if let (Some(new_outlook), Some(owa)) =
        (m.enables(Property::NewOutlook), m.setting(Property::Owa))
        && owa.value == Value::Flag(false)
    {
        out.push(
            finding(
                LintCode::Sbx108,
                format!(
                    "`clients.newOutlook` is on for `{address}`, but `clients.owa` is off, which also blocks new Outlook"
                ),
                &owa.origin,
            )
            .with_hint(format!(
                "allow OWA here, or set `clients.newOutlook: false` (at {}); `sharedbox explain SBX108`",
                new_outlook.origin
            )),
        );
    }
    let Some(hidden) = m.enables(Property::HiddenFromAddressLists) else {
        return;
    };
    let senders: usize = [&m.send_as, &m.send_on_behalf]
        .into_iter()
        .flatten()
        .map(|l| l.value.len())
        .sum();
    if senders > 0 {
        out.push(
            finding(
                LintCode::Sbx109,
                format!(
                    "`{address}` is hidden from the address lists, but {senders} {} may send as or on behalf of it: sending from Outlook desktop fails for a hidden mailbox",
                    if senders == 1 { "principal" } else { "principals" }
                ),
                &hidden.origin,
            )
            .with_hint("set `hiddenFromAddressLists: false` when people send from the mailbox; `sharedbox explain SBX109`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_catalog_entry_found_by_its_code_and_name() {
        let codes = [
            LintCode::Sbx101,
            LintCode::Sbx102,
            LintCode::Sbx103,
            LintCode::Sbx104,
            LintCode::Sbx105,
            LintCode::Sbx106,
            LintCode::Sbx107,
            LintCode::Sbx201,
            LintCode::Sbx202,
            LintCode::Sbx203,
            LintCode::Sbx204,
            LintCode::Sbx108,
            LintCode::Sbx109,
            LintCode::Sbx205,
        ];
        assert_eq!(LINTS.len(), codes.len());
        for code in codes {
            let entries: Vec<_> = LINTS.iter().filter(|l| l.code == code).collect();
            assert_eq!(entries.len(), 1, "{code}");
            assert_eq!(code.lint().code, code);
            assert_eq!(find(code.as_str()).map(|l| l.code), Some(code));
            assert_eq!(
                find(&code.as_str().to_lowercase()).map(|l| l.code),
                Some(code)
            );
            assert_eq!(find(entries[0].name).map(|l| l.code), Some(code));
            assert_eq!(
                code.as_str().starts_with("SBX2"),
                entries[0].tenant_aware,
                "{code}"
            );
        }
    }
}
