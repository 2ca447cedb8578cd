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
    /// `SBX103` smtp-submission-sent-copy.
    Sbx103,
    /// `SBX104` sender-cannot-read-sent-items.
    Sbx104,
    /// `SBX105` delegate-sent-items-duplicates.
    Sbx105,
    /// `SBX106`: moderation without moderators.
    Sbx106,
    /// `SBX107`: a moderator also in the bypass list.
    Sbx107,
    /// `SBX201`: an autoMapping change is a revoke and re-grant.
    Sbx201,
    /// `SBX202`: an address outside the accepted domains.
    Sbx202,
    /// `SBX203`: a security group without mail in a mailbox or folder permission.
    Sbx203,
    /// `SBX204`: a group that cannot hold the permission.
    Sbx204,
    /// `SBX205`: an account that submits over SMTP AUTH for the mailbox has it switched off.
    Sbx205,
    /// `SBX206`: `autoMapping: true` on a FullAccess grant to a group.
    Sbx206,
    /// `SBX108`: new Outlook allowed while OWA is off (which also blocks new Outlook).
    Sbx108,
    /// `SBX109`: a mailbox hidden from the address lists with Send As / on Behalf senders.
    Sbx109,
    /// `SBX207`: a sender whose mailbox is on premises, with the server-side sent copy on.
    Sbx207,
    /// `SBX208`: a shared mailbox whose own account can sign in.
    Sbx208,
    /// `SBX209`: forwarding to an address outside the organisation's accepted domains.
    Sbx209,
    /// `SBX210`: a shared mailbox that needs a licence it does not have.
    Sbx210,
    /// `SBX211`: automatic replies switched on without the message they send.
    Sbx211,
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
            LintCode::Sbx205 => "SBX205",
            LintCode::Sbx206 => "SBX206",
            LintCode::Sbx108 => "SBX108",
            LintCode::Sbx109 => "SBX109",
            LintCode::Sbx207 => "SBX207",
            LintCode::Sbx208 => "SBX208",
            LintCode::Sbx209 => "SBX209",
            LintCode::Sbx210 => "SBX210",
            LintCode::Sbx211 => "SBX211",
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
        name: "smtp-submission-sent-copy",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "SMTP AUTH as the mailbox: Exchange's own sent copy and an IMAP client's copy make two, or none is made",
        explanation: "\
Why: IMAP and POP only read mail; they do not send. A client or system that works in the
mailbox over IMAP sends over SMTP AUTH (smtp.office365.com, port 587). When it logs in *as the
shared mailbox* (app-only OAuth, or the mailbox's own account), Exchange saves what it submits
in the mailbox's Sent Items as long as `MessageCopyForSMTPClientSubmissionEnabled` is on
(`sentItems.copyForSmtpSubmission`, on by default). Most IMAP clients also append their own copy
to the Sent Items over IMAP: every message is then there twice. With the flag off and no client
append, nothing is there at all.

An account that logs in for the mailbox and sends *as* it (a service account with `sendAs`)
is not this case: `copyForSmtpSubmission` acts on the account that authenticates, and Send As
is governed by `copyForSendAs`.

Fix: one copy, in one place. Keep Exchange's copy and switch the client's own \"save sent mail\"
(IMAP append) off, or, where the client must append, switch Exchange's copy off:

    sentItems:
      copyForSmtpSubmission: false   # the IMAP client appends its sent mail itself

A mailbox that is not meant to send over SMTP AUTH: `clients: {smtpAuth: disabled}`.",
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
        name: "delegate-sent-items-duplicates",
        default_severity: Severity::Warning,
        tenant_aware: false,
        summary: "Send As or Send on Behalf with the server-side copy and classic Outlook allowed: duplicates if Outlook also copies",
        explanation: "\
Why: classic Outlook for Windows can save mail sent as or on behalf of a shared mailbox in the
shared Sent Items itself: with the option \"Save sent items in the other person's folder\", the
registry value `DelegateSentItemsStyle=1`, or a rule that moves sent mail. Together with the
server flag every such mail then appears twice in the shared Sent Items (and none in the
sender's own). Microsoft's table for `DelegateSentItemsStyle=1` shows this for Send As
(`MessageCopyForSentAsEnabled`) as well as for Send on Behalf
(`MessageCopyForSendOnBehalfEnabled`). New Outlook, Outlook on the web and Outlook mobile only
use the server flags. sharedbox cannot see or change client registries.

Fix: one source of truth, server-side. Keep `copyForSendAs: true`
and `copyForSendOnBehalf: true` and switch the client-side copy off on every PC, e.g. by Group
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
        name: "security-group-without-mail",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a security group without mail holds FullAccess or reads Sent Items: accepted, but it does not work",
        explanation: "\
Why: Exchange lets you pick a security group that is not mail-enabled for a mailbox permission,
but such groups \"are selectable, but they don't work\" (Add-MailboxPermission doc): the members
get no access. The same holds for folder permissions on Sent Items. The grant is applied and
reported as done, and nobody notices until a member tries to open the mailbox.

Fix: use a mail-enabled security group (`New-DistributionGroup -Type Security`) with the same
members; a security group created in Entra cannot be mail-enabled afterwards.",
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
        code: LintCode::Sbx205,
        name: "smtp-auth-off-for-sender",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "the account that submits over SMTP AUTH for the mailbox has SMTP AUTH switched off",
        explanation: "\
Why: `SmtpClientAuthenticationDisabled` applies to the account that *authenticates*, not to the
mailbox named in From. A system that reads a shared mailbox over IMAP (a contact center, a
ticket system) sends over SMTP AUTH, either logging in as a service account that has Send As
and Full Access on the mailbox, or as the mailbox itself (app-only OAuth). Enabling
`clients.smtpAuth` on the shared mailbox does nothing for the service account: its own
setting counts, and where that is unset (`inherit`), the organisation's
(`Set-TransportConfig -SmtpClientAuthenticationDisabled`, off by default in newer tenants).
Exchange then refuses the login (`535 5.7.139 Authentication unsuccessful`, SMTP AUTH disabled
for the mailbox or the tenant) and the system cannot send.

sharedbox takes the sending account to be each principal with both `sendAs` and `fullAccess`
on a mailbox read over IMAP, or the mailbox itself when there is none. The account's own
setting is read with the tenant (on Exchange Online `Get-CASMailbox -Identity` of that user
mailbox); an account that is not a user mailbox is taken to follow the organisation.

Fix: enable SMTP AUTH for that account only (sharedbox manages shared mailboxes, not user
accounts):

    Set-CASMailbox -Identity svc-ccaas@contoso.com -SmtpClientAuthenticationDisabled $false

For the mailbox itself: `clients: {smtpAuth: enabled}`. Enabling it for the whole organisation
(`smtpClientAuthenticationDisabled: false` in `TenantSettings`) also works but opens SMTP AUTH
for every account that follows it. If the system sends through Microsoft Graph or EWS instead,
this is a false alarm: set the lint to `off` in that mailbox's `lints:`.",
    },
    Lint {
        code: LintCode::Sbx206,
        name: "auto-mapping-on-group",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "`autoMapping: true` on a FullAccess grant to a group has no effect",
        explanation: "\
Why: AutoMapping makes Outlook open the mailbox by itself through Autodiscover, which does not
enumerate security groups (Add-MailboxPermission doc): the members of a group with FullAccess
never get the mailbox mapped, whatever `autoMapping` says. The policy promises something
Exchange does not do.

Fix: leave `autoMapping` out (or set it to `false`) on group grants and have members add the
mailbox in Outlook; grant the people who need it mapped individually.",
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
        code: LintCode::Sbx207,
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
    Lint {
        code: LintCode::Sbx208,
        name: "shared-mailbox-sign-in-allowed",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a shared mailbox's own account can sign in (CIS Microsoft 365 Foundations 1.2.2)",
        explanation: "\
Why: every shared mailbox has a user account of its own, created with a password nobody knows
and able to sign in. An admin who resets that password, or an attacker who obtains it, signs
in as the mailbox itself: mail is then read and sent without a personal identity in the audit
log, often without multi-factor authentication. The CIS Microsoft 365 Foundations Benchmark
(control 1.2.2, level 1) and CIPP's standard \"DisableSharedMailbox\" therefore block sign-in
for shared mailboxes. People keep their access through their own accounts (Full Access, Send
As, Send on Behalf); app-only OAuth (a service principal with Full Access) is not affected.

sharedbox judges the value the plan leaves: the policy's `signIn` when it sets one, else the
mailbox's live `AccountDisabled` (a mailbox still to be created can sign in).

Fix: set `signIn: blocked` in the mailbox, its profile or `Defaults` (the built-in profiles
do). A system that really signs in as the mailbox (a CRM that stores the mailbox's own
password) needs `signIn: allowed`; lower this lint to `info` for that mailbox and protect the
account with Conditional Access. For a mailbox synchronised from on-premises AD, disable the
account there.",
    },
    Lint {
        code: LintCode::Sbx209,
        name: "forwarding-outside-organisation",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a shared mailbox forwards its mail outside the organisation's accepted domains",
        explanation: "\
Why: forwarding (`forwarding.to`, Exchange's `ForwardingSmtpAddress` or a mail contact as
`ForwardingAddress`) sends every message the shared mailbox receives to another address. Two
things go wrong when that address is outside the organisation's accepted domains:

- delivery: Exchange Online's outbound spam filter policy controls automatic external
  forwarding (`AutoForwardingMode`). Its default, `Automatic`, now means `Off`: forwarded
  messages are blocked and the sender of the original message gets a non-delivery report
  (`5.7.520 Access denied, Your organization does not allow external forwarding`). The
  forward looks configured and nothing arrives.
- exposure: forwarding outside is a common exfiltration path (a compromised account or an
  attacker who sets a forward keeps reading the mailbox's mail), so security baselines (CISA
  SCuBA MS.EXO.1.1, Microsoft Defender's alerts) flag it and auditors ask for every one.

sharedbox judges the address the policy forwards to (a recipient of the directory by its
primary SMTP address, e.g. a mail contact's outside address) against
`Get-AcceptedDomain`; the lint is skipped when the accepted domains could not be read.

Fix: forward to a recipient inside the organisation (a mailbox or a group whose members
include the outside partner as a mail contact), or, when the external forward is intended,
allow it for this mailbox only: an outbound spam filter policy with `AutoForwardingMode On`
scoped to the mailbox (`New-HostedOutboundSpamFilterPolicy` and
`New-HostedOutboundSpamFilterRule -From <mailbox>`), and lower this lint to `info` for the
mailbox (`lints: {SBX209: info}`) so the decision is written down.",
    },
    Lint {
        code: LintCode::Sbx210,
        name: "shared-mailbox-needs-licence",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "a shared mailbox with litigation hold, an archive or over 50 GB, without a licence",
        explanation: "\
Why: a shared mailbox needs no licence only within limits. Microsoft's terms (\"About shared
mailboxes\"): without a licence it holds at most 50 GB, and more needs an Exchange Online
Plan 2 licence; litigation hold needs Plan 2 (or Plan 1 with Exchange Online Archiving); an
archive mailbox is likewise a licensed feature. A mailbox that uses one of these without a
licence is out of compliance, and a full one stops receiving mail.

sharedbox reads `LitigationHoldEnabled`, the archive (`ArchiveGuid`) and whether a licence is
assigned (`SKUAssigned`) with every plan; the size only with `plan --with-sizes` (one
`Get-MailboxStatistics` per mailbox). It reports a mailbox that needs a licence and has none;
it never assigns one (licences are managed in Entra, not in Exchange).

Fix: assign an Exchange Online Plan 2 licence (or Plan 1 with Exchange Online Archiving for
hold and archive) to the mailbox's account, or remove the hold, the archive or old mail.",
    },
    Lint {
        code: LintCode::Sbx211,
        name: "auto-reply-without-message",
        default_severity: Severity::Warning,
        tenant_aware: true,
        summary: "automatic replies switched on without the message they send",
        explanation: "\
Why: `autoReply.state: enabled` or `scheduled` sends the internal message to senders inside
the organisation and, unless `externalAudience` is `none`, the external message to senders
outside. Microsoft's documentation of `Set-MailboxAutoReplyConfiguration` says both states need
an internal message, and an external one when the audience is `known` or `all`. With an empty
message the mailbox answers with an empty mail, or not at all, while everyone believes the
reply is in place.

sharedbox judges each message as the policy sets it, or, where the policy leaves it out, as
Exchange reports it (read for the mailboxes whose policy manages `autoReply`).

Fix: write the message (`autoReply.internal`, `autoReply.external`), set `externalAudience:
none` when nobody outside should get a reply, or switch the replies off (`state: disabled`).",
    },
];

/// The lint with `code` (`SBX101`) or `name` (`sent-copy-missing`), case-insensitive.
pub fn find(code_or_name: &str) -> Option<&'static Lint> {
    let code_or_name = FORMER_NAMES
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(code_or_name))
        .map_or(code_or_name, |(_, code)| code);
    LINTS.iter().find(|l| {
        l.code.as_str().eq_ignore_ascii_case(code_or_name)
            || l.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Names a lint had before its rule was rewritten, still accepted in `lints:` maps and by
/// `explain`, with the code they name now.
const FORMER_NAMES: &[(&str, &str)] = &[
    ("protocol-bypasses-sent-copy", "SBX103"),
    ("send-on-behalf-duplicates", "SBX105"),
];

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
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    lint_policies_with(set, levels, &same, &same)
}

/// [`lint_policies`] with `same` deciding whether two principal spellings (SMTP address,
/// UPN, object id) name the same recipient, and `reaches(holder, sender)` whether a grant to
/// `holder` gives `sender` its rights: the same recipient, or a group `sender` is a member of,
/// directly or through nested groups (SBX104 with the tenant's group membership).
pub fn lint_policies_with(
    set: &PolicySet,
    levels: &LintLevels,
    same: &dyn Fn(&str, &str) -> bool,
    reaches: &dyn Fn(&str, &str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for mailbox in &set.mailboxes {
        let mut found = Vec::new();
        sent_copies(mailbox, &mut found);
        protocols(mailbox, &mut found);
        senders_can_read(mailbox, same, reaches, &mut found);
        delegate_duplicates(mailbox, &mut found);
        moderation(mailbox, same, &mut found);
        clients_and_visibility(mailbox, &mut found);
        out.extend(levels.with_overrides(&mailbox.lints).apply(found));
    }
    out
}

/// How a sender reaches the shared mailbox, for the copy-flag lints.
struct SendMode<'a> {
    list_field: &'static str,
    /// The copy flag's policy path, from the catalogue (`sentItems.copyForSendAs`).
    flag_field: &'static str,
    verb: &'static str,
    /// How mail is sent "... it" (`as`, `on behalf of`).
    way: &'static str,
    senders: Option<&'a Located<Vec<PrincipalRef>>>,
    flag: Option<&'a Located<Value>>,
}

fn send_modes(m: &MailboxPolicy) -> [SendMode<'_>; 2] {
    [
        SendMode {
            list_field: "sendAs",
            flag_field: Property::CopyForSendAs.definition().field,
            verb: "send as",
            way: "as",
            senders: m.send_as.as_ref(),
            flag: m.setting(Property::CopyForSendAs),
        },
        SendMode {
            list_field: "sendOnBehalf",
            flag_field: Property::CopyForSendOnBehalf.definition().field,
            verb: "send on behalf of",
            way: "on behalf of",
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
                            "{senders} {} may {} `{address}`, but `{}` {state}: what they send is not copied to the shared Sent Items",
                            if senders == 1 { "principal" } else { "principals" },
                            mode.verb,
                            mode.flag_field,
                        ),
                        at,
                    )
                    .with_hint(format!(
                        "set `{}: true` here or in a `Defaults` document; `sharedbox explain SBX101`",
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
                            "`{}` is on for `{address}`, but `{}` is empty: nobody can {} it, so the flag has no effect",
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

/// SBX103: SMTP AUTH as the mailbox itself (`clients.smtpAuth: enabled`). Exchange copies
/// what it submits to the Sent Items unless `copyForSmtpSubmission` is off (on when not
/// managed: Exchange's default); an IMAP client that also appends makes two copies, and with
/// the flag off and IMAP off nothing saves a copy.
fn protocols(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let Some(smtp) = m
        .setting(Property::SmtpClientAuthenticationDisabled)
        .filter(|v| v.value == Value::Flag(false))
    else {
        return;
    };
    let address = &m.address.value;
    let copy = m.setting(Property::CopyForSmtpSubmission);
    let copies = copy.is_none_or(|c| c.value.flag());
    let imap = m.setting(Property::Imap);
    match (copies, imap) {
        (true, Some(imap)) if imap.value.flag() => out.push(
            finding(
                LintCode::Sbx103,
                format!(
                    "`{address}` allows SMTP AUTH and IMAP: Exchange saves what is submitted over SMTP AUTH as the mailbox in its Sent Items (`sentItems.copyForSmtpSubmission` {}), so a client that also appends its sent mail over IMAP makes two copies",
                    if copy.is_some() { "is on" } else { "is not managed: Exchange's default is on" }
                ),
                &imap.origin,
            )
            .with_hint(format!(
                "switch the client's own copy (IMAP append) off, or set `sentItems.copyForSmtpSubmission: false` if the client must append (SMTP AUTH at {}); `sharedbox explain SBX103`",
                smtp.origin
            )),
        ),
        (false, Some(imap)) if imap.value == Value::Flag(false) => {
            let at = copy.map_or(&smtp.origin, |c| &c.origin);
            out.push(
                finding(
                    LintCode::Sbx103,
                    format!(
                        "`{address}` allows SMTP AUTH with `sentItems.copyForSmtpSubmission: false` and IMAP off: what is submitted over SMTP AUTH as the mailbox is saved in no Sent Items"
                    ),
                    at,
                )
                .with_hint("set `sentItems.copyForSmtpSubmission: true` (Exchange's default) so that Exchange keeps the copy; `sharedbox explain SBX103`"),
            );
        }
        _ => {}
    }
}

/// SBX104: only when `fullAccess` is managed (otherwise who can read is unknown offline).
fn senders_can_read(
    m: &MailboxPolicy,
    same: &dyn Fn(&str, &str) -> bool,
    reaches: &dyn Fn(&str, &str) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(full_access) = &m.full_access else {
        return;
    };
    let can_read = |p: &str| {
        full_access
            .value
            .iter()
            .any(|g| reaches(&g.principal.value, p))
            || m.sent_items_readers
                .as_ref()
                .is_some_and(|r| r.value.iter().any(|g| reaches(&g.principal.value, p)))
            || m.folders
                .get(&sharedbox_tenant::WellKnownFolder::SentItems)
                .is_some_and(|r| r.value.iter().any(|g| reaches(&g.principal.value, p)))
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

/// SBX105: the ways of sending (Send As, Send on Behalf) that have senders and their server
/// copy on, while classic Outlook is not forbidden; one finding per mailbox, at the first flag.
fn delegate_duplicates(m: &MailboxPolicy, out: &mut Vec<Diagnostic>) {
    let outlook = m.setting(Property::Outlook);
    if outlook.is_some_and(|v| v.value == Value::Flag(false)) {
        return;
    }
    let copied: Vec<(SendMode<'_>, &Located<Value>)> = send_modes(m)
        .into_iter()
        .filter(|mode| mode.senders.is_some_and(|s| !s.value.is_empty()))
        .filter_map(|mode| mode.flag.filter(|f| f.value.flag()).map(|f| (mode, f)))
        .collect();
    let Some((_, at)) = copied.first() else {
        return;
    };
    let ways = copied
        .iter()
        .map(|(mode, _)| mode.way)
        .collect::<Vec<_>>()
        .join(" and ");
    let flags = copied
        .iter()
        .map(|(mode, _)| format!("`{}`", mode.flag_field))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(
        finding(
            LintCode::Sbx105,
            format!(
                "`{}` copies mail sent {ways} it server-side ({flags}) and {} classic Outlook: if Outlook also copies (`DelegateSentItemsStyle=1`, the Outlook option, a move rule), every such mail appears twice in the shared Sent Items",
                m.address.value,
                if outlook.is_some() { "allows" } else { "does not restrict" }
            ),
            &at.origin,
        )
        .with_hint("keep the server flags and set `DelegateSentItemsStyle = 0` on the clients (Group Policy/Intune), or set `clients.outlook: false`; `sharedbox explain SBX105`"),
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
            LintCode::Sbx205,
            LintCode::Sbx206,
            LintCode::Sbx108,
            LintCode::Sbx109,
            LintCode::Sbx207,
            LintCode::Sbx208,
            LintCode::Sbx209,
            LintCode::Sbx210,
            LintCode::Sbx211,
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
            assert!(
                FORMER_NAMES.iter().all(|(old, _)| *old != entries[0].name),
                "{code}"
            );
            assert_eq!(
                code.as_str().starts_with("SBX2"),
                entries[0].tenant_aware,
                "{code}"
            );
        }
        for (old, code) in FORMER_NAMES {
            assert_eq!(find(old).map(|l| l.code.as_str()), Some(*code));
        }
    }
}
