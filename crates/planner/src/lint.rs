//! The tenant-aware lints (`SBX2xx`): rules that need the live tenant's directory, accepted
//! domains and grants, run by `plan` next to the offline ones. The catalog, the levels and
//! `explain` texts are in [`sharedbox_policy::lint`]. [`lint_plan`] runs both kinds.

use sharedbox_policy::lint::{LintCode, finding};
use sharedbox_policy::{Diagnostic, LintLevels, MailboxPolicy, PolicySet, PrincipalSet};
use sharedbox_tenant::directory::{LivePrincipal, PrincipalId};
use sharedbox_tenant::{Recipient, Snapshot};

/// Every lint for `plan`: the offline ones with principals compared as identities (an SMTP
/// address and a UPN of the same user are one sender), then the tenant-aware ones, at the
/// levels of `levels` (from `sharedbox.yaml`) overridden by each mailbox's own `lints:`.
pub fn lint_plan(
    policies: &PolicySet,
    snapshot: &Snapshot,
    levels: &LintLevels,
) -> Vec<Diagnostic> {
    let directory = &snapshot.directory;
    let same = |a: &str, b: &str| {
        a.eq_ignore_ascii_case(b)
            || matches!(
                (directory.resolve_policy(a), directory.resolve_policy(b)),
                (Some(x), Some(y)) if PrincipalId::of(x) == PrincipalId::of(y)
            )
    };
    let mut out = sharedbox_policy::lint_policies_with(policies, levels, &same);
    for mailbox in &policies.mailboxes {
        let mut found = Vec::new();
        auto_mapping(mailbox, snapshot, &mut found);
        accepted_domain(mailbox, snapshot, &mut found);
        principal_kinds(mailbox, snapshot, &mut found);
        across_environments(mailbox, snapshot, &mut found);
        out.extend(levels.with_overrides(&mailbox.lints).apply(found));
    }
    out
}

/// SBX201: a FullAccess grant that exists with a known, different AutoMapping.
fn auto_mapping(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let (Some(grants), Some(live)) = (&policy.full_access, snapshot.mailbox(&policy.address))
    else {
        return;
    };
    for grant in &grants.value {
        let Some(wanted) = &grant.auto_mapping else {
            continue;
        };
        let Some(recipient) = snapshot.directory.resolve_policy(&grant.principal) else {
            continue;
        };
        let id = PrincipalId::of(recipient);
        let current = live.full_access_grants().find_map(|row| {
            match snapshot.directory.resolve_live(&row.user) {
                LivePrincipal::Recipient(r) if PrincipalId::of(r) == id => row.auto_mapping,
                _ => None,
            }
        });
        if let Some(current) = current.filter(|c| *c != wanted.value) {
            out.push(
                finding(
                    LintCode::Sbx201,
                    format!(
                        "autoMapping of `{}` on `{}` changes from {current} to {}: applied as revoke and re-grant, and Exchange cannot report it back for verification",
                        grant.principal.value, policy.address.value, wanted.value
                    ),
                    &wanted.origin,
                )
                .with_hint("the user briefly loses access and Outlook may need a restart; apply outside working hours, or keep the current value; `sharedbox explain SBX201`"),
            );
        }
    }
}

/// SBX202: a mailbox to be created (or managed) outside the accepted domains. Skipped when
/// the backend could not read the accepted domains.
fn accepted_domain(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let domains = &snapshot.organization.accepted_domains;
    if domains.is_empty() {
        return;
    }
    let address = &policy.address.value;
    let Some((_, domain)) = address.rsplit_once('@') else {
        return;
    };
    if domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return;
    }
    let exists = snapshot.mailbox(address).is_some();
    out.push(
        finding(
            LintCode::Sbx202,
            format!(
                "`{address}` is not in an accepted domain of `{}` ({}){}",
                snapshot.tenant,
                domains.join(", "),
                if exists {
                    ""
                } else {
                    ": Exchange cannot create it"
                }
            ),
            &policy.address.origin,
        )
        .with_hint("check the address for a typo, or add and verify the domain in the Microsoft 365 admin center first"),
    );
}

/// What kind of recipient a principal is, for SBX203 and SBX204.
enum RecipientKind {
    /// Can send and hold permissions (mailboxes, mail users, mail-enabled security groups).
    MailEnabled,
    /// A security principal without mail (an account without mailbox, a plain security group).
    NotMailEnabled,
    /// A group that is not a security principal (distribution, dynamic, Microsoft 365).
    NonSecurityGroup,
}

fn kind_of(recipient: &Recipient) -> RecipientKind {
    match recipient.recipient_type_details.as_str() {
        "MailUniversalDistributionGroup"
        | "DynamicDistributionGroup"
        | "GroupMailbox"
        | "RoomList"
        | "MailNonUniversalGroup" => RecipientKind::NonSecurityGroup,
        "User" | "DisabledUser" | "SecurityGroup" | "UniversalSecurityGroup" | "LinkedUser" => {
            RecipientKind::NotMailEnabled
        }
        _ if recipient.primary_smtp_address.is_empty() => RecipientKind::NotMailEnabled,
        _ => RecipientKind::MailEnabled,
    }
}

/// SBX203 (senders must be mail-enabled) and SBX204 (permission groups must be
/// security-enabled).
fn principal_kinds<'a>(policy: &'a MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let in_list = |field: &'static str, list: &'a Option<PrincipalSet>| {
        list.iter().flat_map(|l| &l.value).map(move |p| (field, p))
    };
    let permissions = in_list("sendAs", &policy.send_as)
        .chain(in_list("sendOnBehalf", &policy.send_on_behalf))
        .chain(
            policy
                .full_access
                .iter()
                .flat_map(|g| &g.value)
                .map(|g| ("fullAccess", &g.principal)),
        )
        .chain(
            policy
                .sent_items_readers
                .iter()
                .flat_map(|g| &g.value)
                .map(|g| ("sentItemsReaders", &g.principal)),
        );
    for (field, principal) in permissions {
        let Some(recipient) = snapshot.directory.resolve_policy(principal) else {
            continue;
        };
        match kind_of(recipient) {
                RecipientKind::NonSecurityGroup => out.push(
                    finding(
                        LintCode::Sbx204,
                        format!(
                            "`{}` in `{field}` of `{}` is a {} ({}), not a mail-enabled security group: Exchange does not grant permissions to it",
                            principal.value,
                            policy.address.value,
                            group_word(&recipient.recipient_type_details),
                            recipient.recipient_type_details
                        ),
                        &principal.origin,
                    )
                    .with_hint("use a mail-enabled security group with the same members; `sharedbox explain SBX204`"),
                ),
                RecipientKind::NotMailEnabled if matches!(field, "sendAs" | "sendOnBehalf") => {
                    out.push(
                        finding(
                            LintCode::Sbx203,
                            format!(
                                "`{}` in `{field}` of `{}` is not mail-enabled ({}): it cannot send mail",
                                principal.value,
                                policy.address.value,
                                recipient.recipient_type_details
                            ),
                            &principal.origin,
                        )
                        .with_hint("grant a user with a mailbox or a mail-enabled security group; `sharedbox explain SBX203`"),
                    )
                }
                _ => {}
            }
    }
}

fn group_word(details: &str) -> &'static str {
    match details {
        "GroupMailbox" => "Microsoft 365 group",
        "DynamicDistributionGroup" => "dynamic distribution group",
        _ => "distribution group",
    }
}

/// SBX205: a Send As / on Behalf sender whose mailbox is on premises (a `MailUser` or
/// `RemoteUserMailbox` in Exchange Online), where the matching server-side copy is on.
fn across_environments(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    use sharedbox_tenant::Property;
    let modes = [
        (
            "sendAs",
            "copyForSendAs",
            &policy.send_as,
            Property::CopyForSendAs,
        ),
        (
            "sendOnBehalf",
            "copyForSendOnBehalf",
            &policy.send_on_behalf,
            Property::CopyForSendOnBehalf,
        ),
    ];
    for (field, flag_field, list, property) in modes {
        let Some(flag) = policy.enables(property) else {
            continue;
        };
        for principal in list.iter().flat_map(|l| &l.value) {
            let Some(recipient) = snapshot.directory.resolve_policy(principal) else {
                continue;
            };
            let details = &recipient.recipient_type_details;
            if !(details.eq_ignore_ascii_case("MailUser")
                || details.eq_ignore_ascii_case("RemoteUserMailbox"))
            {
                continue;
            }
            out.push(
                finding(
                    LintCode::Sbx205,
                    format!(
                        "`{}` in `{field}` of `{}` has its mailbox on premises ({details}): `sentItems.{flag_field}` does not copy mail sent across environments",
                        principal.value, policy.address.value
                    ),
                    &principal.origin,
                )
                .with_hint(format!(
                    "move the mailbox to Exchange Online, or let the sender's Outlook keep the copy (flag at {}); `sharedbox explain SBX205`",
                    flag.origin
                )),
            );
        }
    }
}
