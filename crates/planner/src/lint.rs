//! The tenant-aware lints (`SBX2xx`): rules that need the live tenant's directory, accepted
//! domains and grants, run by `plan` next to the offline ones. The catalog, the levels and
//! `explain` texts are in [`sharedbox_policy::lint`]. [`lint_plan`] runs both kinds.

use sharedbox_policy::lint::{LintCode, finding};
use sharedbox_policy::{Diagnostic, LintLevels, MailboxPolicy, PolicySet, PrincipalSet};
use sharedbox_tenant::directory::{LivePrincipal, PrincipalId};
use sharedbox_tenant::{OrganizationProperty, Property, Recipient, Snapshot, Value};

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
    // SBX104: a grant to a group reaches its members, nested groups included, when the
    // snapshot holds the membership (read when the offline lint had a finding to check).
    let membership = sharedbox_access::Membership::new(directory);
    let reaches = |holder: &str, sender: &str| {
        same(holder, sender)
            || matches!(
                (directory.resolve_policy(holder), directory.resolve_policy(sender)),
                (Some(group), Some(member))
                    if group.is_group()
                        && membership.reaches(&PrincipalId::of(group), &PrincipalId::of(member))
            )
    };
    let mut out = sharedbox_policy::lint_policies_with(policies, levels, &same, &reaches);
    // The organisation's SMTP AUTH as the plan leaves it: `TenantSettings` wins over the tenant.
    let organization = OrganizationProperty::SmtpClientAuthenticationDisabled;
    let organization_smtp_off = policies
        .tenant_settings
        .as_ref()
        .and_then(|t| t.settings.get(&organization))
        .map_or(
            snapshot.organization.smtp_client_authentication_disabled,
            |v| v.value.option(),
        );
    for mailbox in &policies.mailboxes {
        let mut found = Vec::new();
        auto_mapping(mailbox, snapshot, &mut found);
        accepted_domain(mailbox, snapshot, &mut found);
        principal_kinds(mailbox, snapshot, &mut found);
        smtp_auth_senders(mailbox, organization_smtp_off, snapshot, &mut found);
        group_auto_mapping(mailbox, snapshot, &mut found);
        across_environments(mailbox, snapshot, &mut found);
        sign_in_allowed(mailbox, snapshot, &mut found);
        licence_needed(mailbox, snapshot, &mut found);
        forwarding_outside(mailbox, snapshot, &mut found);
        auto_reply_without_message(mailbox, snapshot, &mut found);
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
    let permissions =
        in_list("sendAs", &policy.send_as)
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
            )
            .chain(policy.folders.iter().flat_map(|(folder, list)| {
                list.value.iter().map(|g| (folder.field(), &g.principal))
            }));
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
                RecipientKind::NotMailEnabled
                    if matches!(field, "fullAccess" | "sentItemsReaders")
                        && recipient.is_non_mail_security_group() =>
                {
                    out.push(
                        finding(
                            LintCode::Sbx203,
                            format!(
                                "`{}` in `{field}` of `{}` is a security group without mail ({}): Exchange accepts the grant, but its members get no access",
                                principal.value,
                                policy.address.value,
                                recipient.recipient_type_details
                            ),
                            &principal.origin,
                        )
                        .with_hint("use a mail-enabled security group with the same members; `sharedbox explain SBX203`"),
                    )
                }
                _ => {}
            }
    }
}

/// SBX206: `autoMapping: true` on a FullAccess grant to a group (Autodiscover does not
/// enumerate security groups, Add-MailboxPermission doc).
fn group_auto_mapping(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let Some(grants) = &policy.full_access else {
        return;
    };
    for grant in &grants.value {
        let Some(auto_mapping) = grant.auto_mapping.as_ref().filter(|a| a.value) else {
            continue;
        };
        let Some(recipient) = snapshot.directory.resolve_policy(&grant.principal) else {
            continue;
        };
        if recipient.is_group() {
            out.push(
                finding(
                    LintCode::Sbx206,
                    format!(
                        "`autoMapping: true` on the FullAccess grant of `{}` to group `{}` has no effect: Outlook never maps a mailbox through a group",
                        policy.address.value, grant.principal.value
                    ),
                    &auto_mapping.origin,
                )
                .with_hint("leave `autoMapping` out on group grants, or grant the people who need the mailbox mapped individually; `sharedbox explain SBX206`"),
            );
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

/// Whether SMTP AUTH is off for an account: its own setting (`Some(true)` off, `Some(false)`
/// on), else the organisation's (not judged when that could not be read). The words say why,
/// for the message.
fn smtp_auth_off(own: Option<bool>, organization_off: Option<bool>) -> Option<&'static str> {
    match (own, organization_off) {
        (Some(true), _) => Some("switched off for the account itself"),
        (None, Some(true)) => {
            Some("it follows the organisation's `SmtpClientAuthenticationDisabled: true`")
        }
        _ => None,
    }
}

/// SBX205: a mailbox read over IMAP sends over SMTP AUTH, as each service account that has
/// both `sendAs` and `fullAccess` on it, or as itself when there is none; SMTP AUTH must be
/// on for the account that logs in.
fn smtp_auth_senders(
    policy: &MailboxPolicy,
    organization_off: Option<bool>,
    snapshot: &Snapshot,
    out: &mut Vec<Diagnostic>,
) {
    let Some(imap) = policy.enables(Property::Imap) else {
        return;
    };
    let address = &policy.address.value;
    let directory = &snapshot.directory;
    let full_access: Vec<PrincipalId> = policy
        .full_access
        .iter()
        .flat_map(|g| &g.value)
        .filter_map(|g| directory.resolve_policy(&g.principal))
        .map(PrincipalId::of)
        .collect();
    let accounts: Vec<(&sharedbox_policy::Located<String>, &Recipient)> = policy
        .send_as
        .iter()
        .flat_map(|l| &l.value)
        .filter_map(|p| directory.resolve_policy(p).map(|r| (p, r)))
        .filter(|(_, r)| !r.is_group() && full_access.contains(&PrincipalId::of(r)))
        .collect();
    if accounts.is_empty() {
        // The mailbox logs in itself. A policy that says `disabled` means it does not send
        // over SMTP AUTH; only an `inherit` that the organisation turns off is a slip.
        let own = match policy.setting(Property::SmtpClientAuthenticationDisabled) {
            Some(v) if v.value == Value::Flag(true) => return,
            Some(v) => v.value.option(),
            None => snapshot
                .mailbox(address)
                .and_then(|m| m.cas_mailbox.smtp_client_authentication_disabled),
        };
        if let Some(why) = smtp_auth_off(own, organization_off) {
            out.push(
                finding(
                    LintCode::Sbx205,
                    format!(
                        "`{address}` is read over IMAP and no account sends as it with Full Access, so a system sending for it logs in as the mailbox: SMTP AUTH is off for the mailbox ({why})"
                    ),
                    &imap.origin,
                )
                .with_hint("set `clients.smtpAuth: enabled` if the system sends over SMTP AUTH as the mailbox, or `disabled` if it does not send over SMTP; `sharedbox explain SBX205`"),
            );
        }
        return;
    }
    for (principal, recipient) in accounts {
        let own = snapshot
            .mailbox(&recipient.primary_smtp_address)
            .map_or(recipient.smtp_client_authentication_disabled, |m| {
                m.cas_mailbox.smtp_client_authentication_disabled
            });
        if let Some(why) = smtp_auth_off(own, organization_off) {
            out.push(
                finding(
                    LintCode::Sbx205,
                    format!(
                        "`{}` reads `{address}` over IMAP and sends as it, so it logs in to SMTP AUTH itself, but SMTP AUTH is off for it ({why}): the mailbox's own `clients.smtpAuth` does not apply to the account that authenticates",
                        principal.value
                    ),
                    &principal.origin,
                )
                .with_hint(format!(
                    "enable SMTP AUTH for that account only: `Set-CASMailbox -Identity {} -SmtpClientAuthenticationDisabled $false` (sharedbox does not manage user accounts); `sharedbox explain SBX205`",
                    recipient.primary_smtp_address
                )),
            );
        }
    }
}

/// SBX208: the mailbox's own account can sign in once the plan is applied: the policy's
/// `signIn`, else the live `AccountDisabled` (a mailbox still to be created can sign in).
fn sign_in_allowed(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    if policy.ensure == sharedbox_policy::Ensure::Absent {
        return;
    }
    let address = &policy.address.value;
    let (blocked, origin, why) = match policy.setting(Property::SignIn) {
        Some(set) => (
            set.value.flag(),
            &set.origin,
            "the policy says `signIn: allowed`",
        ),
        None => match snapshot.mailbox(address) {
            Some(live) => (
                live.account_disabled,
                &policy.address.origin,
                "its account is enabled (`AccountDisabled: False`) and the policy does not manage `signIn`",
            ),
            None => (
                false,
                &policy.address.origin,
                "a new shared mailbox's account can sign in and the policy does not set `signIn`",
            ),
        },
    };
    if blocked {
        return;
    }
    out.push(
        finding(
            LintCode::Sbx208,
            format!(
                "`{address}` can be signed in to with its own account: {why}; the CIS Microsoft 365 Foundations Benchmark (1.2.2) asks for sign-in to shared mailboxes to be blocked"
            ),
            origin,
        )
        .with_hint("set `signIn: blocked` in the mailbox, its profile or `Defaults`; people keep their access through Full Access and Send As; `sharedbox explain SBX208`"),
    );
}

/// The most an unlicensed shared mailbox may hold: 50 GB.
const UNLICENSED_LIMIT_BYTES: u64 = 50 * (1 << 30);

/// SBX210: a live shared mailbox uses what only a licence allows (litigation hold, an
/// archive, more than 50 GB) and Exchange reports no licence assigned (`SKUAssigned`).
fn licence_needed(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let Some(live) = snapshot.mailbox(&policy.address) else {
        return;
    };
    if live.sku_assigned == Some(true) {
        return;
    }
    let mut needs = Vec::new();
    if live.litigation_hold_enabled {
        needs.push("litigation hold".to_owned());
    }
    if live.archive_enabled {
        needs.push("an archive".to_owned());
    }
    if let Some(bytes) = live
        .total_item_size_bytes
        .filter(|b| *b > UNLICENSED_LIMIT_BYTES)
    {
        needs.push(format!(
            "{:.1} GB of mail (over 50 GB)",
            bytes as f64 / (1u64 << 30) as f64
        ));
    }
    if needs.is_empty() {
        return;
    }
    let assigned = match live.sku_assigned {
        Some(false) => "no licence is assigned (`SKUAssigned: False`)",
        _ => "Exchange does not report a licence (`SKUAssigned`)",
    };
    out.push(
        finding(
            LintCode::Sbx210,
            format!(
                "`{}` has {}, which a shared mailbox may only have with an Exchange Online Plan 2 licence (or Plan 1 with Exchange Online Archiving for hold and archive), and {assigned}",
                policy.address.value,
                needs.join(" and ")
            ),
            &policy.address.origin,
        )
        .with_hint("assign the licence to the mailbox's account in the Microsoft 365 admin center (sharedbox never assigns licences); `sharedbox explain SBX210`"),
    );
}

/// SBX209: the policy forwards to an address outside the organisation's accepted domains
/// (by the recipient's primary SMTP address when the directory holds it: a mail contact's
/// is outside). Skipped when the accepted domains are not known.
fn forwarding_outside(policy: &MailboxPolicy, snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let domains = &snapshot.organization.accepted_domains;
    if domains.is_empty() || policy.ensure == sharedbox_policy::Ensure::Absent {
        return;
    }
    // `forwarding.to` as the policy maps it (the planner moves a recipient to
    // `ForwardingAddress` later).
    let Some(to) = policy
        .setting(Property::ForwardingSmtpAddress)
        .filter(|to| matches!(to.value, Value::Text(_)))
    else {
        return;
    };
    let written = to.value.text();
    let target = snapshot
        .directory
        .resolve_policy(&written)
        .filter(|r| !r.primary_smtp_address.is_empty())
        .map_or_else(|| written.clone(), |r| r.primary_smtp_address.clone());
    let Some((_, domain)) = target.rsplit_once('@') else {
        return;
    };
    if domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return;
    }
    let via = if target.eq_ignore_ascii_case(&written) {
        String::new()
    } else {
        format!(" (`{written}` is `{target}`)")
    };
    out.push(
        finding(
            LintCode::Sbx209,
            format!(
                "`{}` forwards its mail to `{target}`{via}, outside the accepted domains of `{}` ({}): the outbound spam filter policy blocks automatic external forwarding by default (`AutoForwardingMode`), and forwarding outside is a common exfiltration path",
                policy.address.value,
                snapshot.tenant,
                domains.join(", ")
            ),
            &to.origin,
        )
        .with_hint("forward to a recipient inside the organisation, or allow external forwarding for this mailbox only (an outbound spam filter policy with `AutoForwardingMode On` scoped to it) and lower this lint to `info` for it; `sharedbox explain SBX209`"),
    );
}

/// SBX211: the policy switches automatic replies on (`enabled`, `scheduled`) while the
/// internal message, or the external one for an audience other than `none`, is empty: as the
/// policy sets it, else as Exchange reports it. At the `state` line.
fn auto_reply_without_message(
    policy: &MailboxPolicy,
    snapshot: &Snapshot,
    out: &mut Vec<Diagnostic>,
) {
    let Some(state) = policy.setting(Property::AutoReplyState) else {
        return;
    };
    if policy.ensure == sharedbox_policy::Ensure::Absent
        || !matches!(&state.value, Value::Text(s) if !s.eq_ignore_ascii_case("Disabled"))
    {
        return;
    }
    let live = snapshot.mailbox(&policy.address.value);
    // The value the mailbox will have: the policy's, else the live one when it was read.
    let effective = |property: Property| -> Option<Value> {
        policy
            .setting(property)
            .map(|v| v.value.clone())
            .or_else(|| {
                live.filter(|m| m.auto_reply.is_some())
                    .map(|m| (property.definition().get)(m))
            })
    };
    let empty = |property: Property| {
        effective(property)
            .is_some_and(|v| sharedbox_tenant::auto_reply::message_text(&v.text()).is_empty())
    };
    let external_heard = effective(Property::AutoReplyExternalAudience)
        .is_none_or(|a| !a.text().eq_ignore_ascii_case("None"));
    let mut missing = Vec::new();
    if empty(Property::AutoReplyInternal) {
        missing.push("`internal`");
    }
    if external_heard && empty(Property::AutoReplyExternal) {
        missing.push("`external`");
    }
    if missing.is_empty() {
        return;
    }
    out.push(
        finding(
            LintCode::Sbx211,
            format!(
                "`{}` switches automatic replies on (`{}`) with no {} message: senders get an empty reply, or none",
                policy.address.value,
                state.value.text().to_lowercase(),
                missing.join(" and no ")
            ),
            &state.origin,
        )
        .with_hint("write the message under `autoReply`, set `externalAudience: none` when nobody outside should get one, or `state: disabled`; `sharedbox explain SBX211`"),
    );
}

/// SBX207: a Send As / on Behalf sender whose mailbox is on premises (a `MailUser` or
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
                    LintCode::Sbx207,
                    format!(
                        "`{}` in `{field}` of `{}` has its mailbox on premises ({details}): `sentItems.{flag_field}` does not copy mail sent across environments",
                        principal.value, policy.address.value
                    ),
                    &principal.origin,
                )
                .with_hint(format!(
                    "move the mailbox to Exchange Online, or let the sender's Outlook keep the copy (flag at {}); `sharedbox explain SBX207`",
                    flag.origin
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;
    use sharedbox_tenant::ReadScope;

    use super::*;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    /// SBX205 findings as `(line, message)` for `policies` on the fixture tenant, with the
    /// organisation's SMTP AUTH and Anna's own setting as given.
    fn smtp(policies: &str, organization_off: bool, anna: Option<bool>) -> Vec<(u32, String)> {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        file.organization.smtp_client_authentication_disabled = Some(organization_off);
        file.recipients
            .iter_mut()
            .find(|r| r.primary_smtp_address == "anna@fabrikam.com")
            .unwrap()
            .smtp_client_authentication_disabled = anna;
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", policies)]).unwrap();
        let scope = ReadScope::of(
            set.mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
        );
        lint_plan(&set, &file.snapshot(&scope), &LintLevels::default())
            .into_iter()
            .filter(|d| d.code == "SBX205")
            .map(|d| (d.origin.map_or(0, |o| o.line), d.message))
            .collect()
    }

    const ACCOUNT: &str = "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@fabrikam.com
sendAs: [anna@fabrikam.com, clara@fabrikam.com]
fullAccess: [{principal: anna@fabrikam.com}]
clients: {imap: true, smtpAuth: enabled}
";

    #[test]
    fn the_account_that_logs_in_is_judged_not_the_mailbox() {
        // Anna has Send As and Full Access on a mailbox read over IMAP: she logs in. Clara
        // only sends as it (Outlook); the mailbox's own `enabled` does not help Anna.
        let found = smtp(ACCOUNT, true, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 4);
        assert!(found[0].1.starts_with("`anna@fabrikam.com` reads"));
        assert!(found[0].1.contains("follows the organisation"));
        // Her own setting wins over the organisation, either way.
        assert!(smtp(ACCOUNT, true, Some(false)).is_empty());
        let own = smtp(ACCOUNT, false, Some(true));
        assert!(
            own[0].1.contains("switched off for the account itself"),
            "{own:?}"
        );
        assert!(smtp(ACCOUNT, false, None).is_empty());
        // A `TenantSettings` document that enables it for the organisation counts as planned.
        let enabling = format!(
            "{ACCOUNT}---\napiVersion: sharedbox/v1\nkind: TenantSettings\nsmtpClientAuthenticationDisabled: false\n"
        );
        assert!(smtp(&enabling, true, None).is_empty());
    }

    #[test]
    fn without_a_service_account_the_mailbox_itself_logs_in() {
        let mailbox = |smtp_auth: &str| {
            format!(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nsendAs: [clara@fabrikam.com]\nclients: {{imap: true{smtp_auth}}}\n"
            )
        };
        let found = smtp(&mailbox(""), true, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("logs in as the mailbox"));
        assert!(smtp(&mailbox(""), false, None).is_empty());
        assert!(smtp(&mailbox(", smtpAuth: enabled"), true, None).is_empty());
        // `disabled` says the mailbox does not send over SMTP AUTH: no finding.
        assert!(smtp(&mailbox(", smtpAuth: disabled"), true, None).is_empty());
        // Not read over IMAP: nothing suggests an SMTP client.
        assert!(
            smtp(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nclients: {imap: false}\n",
                true,
                None
            )
            .is_empty()
        );
    }
}

#[cfg(test)]
mod sign_in_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;

    use super::*;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    /// SBX208 findings as `(line, message)` for one policy document, with the live
    /// `AccountDisabled` of support@ as given.
    fn sign_in(policy: &str, live_disabled: bool) -> Vec<(u32, String)> {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        for mailbox in &mut file.mailboxes {
            mailbox.account_disabled = true;
        }
        file.mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .unwrap()
            .account_disabled = live_disabled;
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", policy)]).unwrap();
        lint_plan(
            &set,
            &file.snapshot(&set.read_scope()),
            &LintLevels::default(),
        )
        .into_iter()
        .filter(|d| d.code == "SBX208")
        .map(|d| (d.origin.map_or(0, |o| o.line), d.message))
        .collect()
    }

    const HEAD: &str =
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";

    #[test]
    fn the_sign_in_the_plan_leaves_is_judged() {
        // Unmanaged: the live account decides.
        let found = sign_in(HEAD, false);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 3, "at the mailbox line");
        assert!(found[0].1.contains("AccountDisabled: False"), "{found:?}");
        assert!(found[0].1.contains("1.2.2"), "{found:?}");
        assert!(sign_in(HEAD, true).is_empty());
        // Managed: the policy's value wins over the live one, either way.
        assert!(sign_in(&format!("{HEAD}signIn: blocked\n"), false).is_empty());
        let allowed = sign_in(&format!("{HEAD}signIn: allowed\n"), true);
        assert_eq!(allowed.len(), 1, "{allowed:?}");
        assert_eq!(allowed[0].0, 4, "at the `signIn` line");
        assert!(allowed[0].1.contains("`signIn: allowed`"), "{allowed:?}");
        // Through `Defaults`, like any other setting.
        let defaults =
            format!("{HEAD}---\napiVersion: sharedbox/v1\nkind: Defaults\nsignIn: blocked\n");
        assert!(sign_in(&defaults, false).is_empty());
    }

    #[test]
    fn a_mailbox_still_to_be_created_can_sign_in_and_a_deleted_one_is_not_judged() {
        let new = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: neu@fabrikam.com\n";
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", new)]).unwrap();
        let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        let found: Vec<_> = lint_plan(
            &set,
            &file.snapshot(&set.read_scope()),
            &LintLevels::default(),
        )
        .into_iter()
        .filter(|d| d.code == "SBX208")
        .collect();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("new shared mailbox"),
            "{}",
            found[0].message
        );
        let gone = format!("{HEAD}lifecycle: {{ensure: absent}}\n");
        assert!(sign_in(&gone, false).is_empty());
    }
}

#[cfg(test)]
mod licence_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;

    use super::*;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");
    const POLICY: &str =
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";

    /// SBX210 messages with support@'s hold, archive, size and licence as given.
    fn licence(hold: bool, archive: bool, bytes: Option<u64>, sku: Option<bool>) -> Vec<String> {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        let support = file
            .mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .unwrap();
        support.litigation_hold_enabled = hold;
        support.archive_enabled = archive;
        support.total_item_size_bytes = bytes;
        support.sku_assigned = sku;
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", POLICY)]).unwrap();
        lint_plan(
            &set,
            &file.snapshot(&set.read_scope()),
            &LintLevels::default(),
        )
        .into_iter()
        .filter(|d| d.code == "SBX210")
        .map(|d| d.message)
        .collect()
    }

    #[test]
    fn hold_archive_and_size_without_a_licence_are_reported_and_nothing_else() {
        assert!(licence(false, false, None, None).is_empty());
        assert!(licence(false, false, Some(49 << 30), Some(false)).is_empty());
        let hold = licence(true, false, None, Some(false));
        assert_eq!(hold.len(), 1);
        assert!(hold[0].contains("has litigation hold,"), "{hold:?}");
        assert!(hold[0].contains("SKUAssigned: False"), "{hold:?}");
        let all = licence(true, true, Some(51 << 30), None);
        assert!(
            all[0].contains("litigation hold and an archive and 51.0 GB of mail (over 50 GB)"),
            "{all:?}"
        );
        // A licence is assigned: Exchange enforces its plan's limits itself.
        assert!(licence(true, true, Some(51 << 30), Some(true)).is_empty());
    }
}

#[cfg(test)]
mod forwarding_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;

    use super::*;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    /// SBX209 findings as `(line, message)` for `forwarding` of support@, with the fixture's
    /// accepted domains (or none, when `known` is false).
    fn forwarding(forwarding: &str, known: bool) -> Vec<(u32, String)> {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        if !known {
            file.organization.accepted_domains.clear();
        }
        let policy = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nforwarding: {forwarding}\n"
        );
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", &policy)]).unwrap();
        lint_plan(
            &set,
            &file.snapshot(&set.read_scope()),
            &LintLevels::default(),
        )
        .into_iter()
        .filter(|d| d.code == "SBX209")
        .map(|d| (d.origin.map_or(0, |o| o.line), d.message))
        .collect()
    }

    #[test]
    fn forwarding_outside_the_accepted_domains_is_found() {
        let found = forwarding(
            "{to: partner@contoso-partner.example, keepCopy: true}",
            true,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 4, "at the `forwarding` line");
        assert!(
            found[0].1.contains("`partner@contoso-partner.example`"),
            "{found:?}"
        );
        assert!(found[0].1.contains("AutoForwardingMode"), "{found:?}");
        // The accepted domains compare without case.
        assert!(forwarding("{to: Partner@FABRIKAM.com}", true).is_empty());
    }

    #[test]
    fn forwarding_inside_none_or_unknown_domains_is_not_found() {
        assert!(forwarding("{to: anna@fabrikam.com, keepCopy: false}", true).is_empty());
        assert!(forwarding("none", true).is_empty());
        assert!(
            forwarding("{to: partner@contoso-partner.example}", false).is_empty(),
            "skipped when the accepted domains are not known"
        );
    }
}

#[cfg(test)]
mod auto_reply_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;

    use super::*;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    /// SBX211 findings as `(line, message)` for `autoReply` of support@, whose live
    /// internal message is `live_internal`.
    fn auto_reply(auto_reply: &str, live_internal: &str) -> Vec<(u32, String)> {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        let support = file
            .mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .unwrap();
        support
            .auto_reply
            .get_or_insert_with(Default::default)
            .internal_message = live_internal.to_owned();
        let policy = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nautoReply:\n{auto_reply}"
        );
        let set = sharedbox_policy::load_sources(vec![Source::new("p.yaml", &policy)]).unwrap();
        lint_plan(
            &set,
            &file.snapshot(&set.read_scope()),
            &LintLevels::default(),
        )
        .into_iter()
        .filter(|d| d.code == "SBX211")
        .map(|d| (d.origin.map_or(0, |o| o.line), d.message))
        .collect()
    }

    #[test]
    fn replies_switched_on_without_a_message_are_found_at_the_state() {
        let found = auto_reply("  state: enabled\n  external: We are closed.\n", "");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 5, "at the `state` line");
        assert!(found[0].1.contains("no `internal` message"), "{found:?}");
        // An empty external message counts while outside senders get one.
        let found = auto_reply(
            "  state: enabled\n  internal: Closed.\n  external: \"\"\n",
            "",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("no `external` message"), "{found:?}");
        // HTML without text is empty too.
        let found = auto_reply(
            "  state: enabled\n  externalAudience: none\n",
            "<html><body> <br> </body></html>",
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn replies_with_their_messages_off_or_to_nobody_outside_are_not_found() {
        // The live message counts where the policy leaves it out.
        assert!(
            auto_reply(
                "  state: enabled\n  externalAudience: none\n",
                "<html><body>Closed.</body></html>"
            )
            .is_empty()
        );
        assert!(
            auto_reply(
                "  state: enabled\n  internal: Closed.\n  external: Closed.\n",
                ""
            )
            .is_empty()
        );
        assert!(auto_reply("  state: disabled\n", "").is_empty());
        assert!(auto_reply("  internal: \"\"\n", "").is_empty());
    }
}
