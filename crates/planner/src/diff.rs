//! The pure planning step: `(policy set, snapshot) -> Plan`.
//!
//! Rules (`docs/policy-format.md`, "Rules"):
//! - a field that is absent from the policy is never diffed;
//! - a list that is present is authoritative: live entries not listed are revoked;
//! - built-in and inherited entries (`NT AUTHORITY\SELF`, inherited ACEs, deny ACEs,
//!   folder `Default`/`Anonymous`) are never touched;
//! - both sides are compared as identities ([`PrincipalId`]), never as spellings;
//! - a live principal that resolves to nothing is orphaned and revoked when its list is managed;
//! - root visibility follows the folder reader (`sentItemsReaders`, `folders`;
//!   `MailboxPlanner::root_visibility`);
//! - `forwarding.to` is resolved here, where the directory is known
//!   ([`resolve_forwarding`]): the policy maps `to` to `ForwardingSmtpAddress` (any address)
//!   with `ForwardingAddress` cleared; an address the directory holds as a mail-enabled
//!   recipient becomes `ForwardingAddress` (its primary SMTP address) instead, with
//!   `ForwardingSmtpAddress` cleared, since Exchange lets `ForwardingAddress` win and only
//!   it survives a change of the recipient's addresses. Each of the three Exchange values
//!   keeps its one catalogue definition; only the choice between the two is made here.

use sharedbox_policy::{
    Diagnostic, Ensure, FolderGrant, Located, MailboxPolicy, PolicySet, PrincipalRef,
};
use sharedbox_tenant::{
    Definition, Directory, LivePrincipal, Mailbox, Operation, OrganizationProperty, Principal,
    PrincipalId, PrincipalList, Property, Snapshot, Value, WellKnownFolder,
};

use crate::plan::{Action, Change, MailboxAction, MailboxPlan, Plan, PlanValue, Wave};
use crate::reconcile::{
    Attribute, AutoMapping, Entries, FolderGrantAttribute, FolderRole, List, Update,
};

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Plan only these mailboxes (and no tenant settings). Empty = everything.
    pub targets: Vec<String>,
    /// The policies at the base revision (the one `plan` compares with to label drift). A
    /// FullAccess grant they list, whose autoMapping the tenant does not report (Exchange
    /// never does), is taken to have the autoMapping sharedbox granted it with (theirs, else
    /// `true`): a policy that changes it plans a revoke and re-grant instead of nothing.
    pub base: Option<std::sync::Arc<PolicySet>>,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the plan could not be made: {} error(s)", .0.len())]
pub struct PlanError(pub Vec<Diagnostic>);

/// Hybrid: the changes of a synchronised (`IsDirSynced`) mailbox to what on-premises Active
/// Directory masters, each an error at the policy's field (Exchange Online would refuse the
/// write half-way through an apply). Returns whether there was one.
fn on_premises(
    policy: &MailboxPolicy,
    live: &Mailbox,
    planned: &MailboxPlan,
    errors: &mut Vec<Diagnostic>,
) -> bool {
    let mut found = false;
    let mut reported: Vec<&str> = Vec::new();
    for change in &planned.changes {
        let Some(parameter) = live.mastered_on_premises(&change.operation) else {
            continue;
        };
        if reported.contains(&parameter) {
            continue;
        }
        reported.push(parameter);
        found = true;
        let origin = match &change.operation {
            Operation::SetMailbox { setting, .. } => {
                policy.setting(setting.property).map(|s| s.origin.clone())
            }
            Operation::AddAlias { .. } | Operation::RemoveAlias { .. } => {
                policy.aliases.as_ref().map(|l| l.origin.clone())
            }
            Operation::AddToList { list, .. } | Operation::RemoveFromList { list, .. } => {
                match list {
                    PrincipalList::Moderators => {
                        policy.moderators.as_ref().map(|l| l.origin.clone())
                    }
                    _ => policy.moderation_bypass.as_ref().map(|l| l.origin.clone()),
                }
            }
            _ => None,
        }
        .unwrap_or_else(|| policy.address.origin.clone());
        errors.push(
            Diagnostic::error(
                "plan::mastered-on-premises",
                format!(
                    "`{}` of `{}` is mastered on premises: the mailbox is synchronised from Active Directory (`IsDirSynced`), and Exchange Online refuses `{parameter}`",
                    change.field, policy.address.value
                ),
                Some(origin),
            )
            .with_label("mastered on premises")
            .with_hint("change it in on-premises Exchange (`Set-RemoteMailbox` or the on-premises admin center) and let it synchronise, or remove the field from this policy"),
        );
    }
    found
}

/// The `aliases` Exchange would refuse, each an error at the alias (never a failure half-way
/// through an apply): one outside the accepted domains (skipped, with a warning, when they
/// could not be read), and one that another recipient of the directory or a soft-deleted
/// mailbox already holds. Aliases two policies list are refused when the policies load.
fn check_aliases(
    policies: &PolicySet,
    snapshot: &Snapshot,
    targets: &[String],
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    let domains = &snapshot.organization.accepted_domains;
    let mut warned = false;
    for policy in policies.mailboxes.iter().filter(|p| p.is_targeted(targets)) {
        let Some(aliases) = &policy.aliases else {
            continue;
        };
        if policy.ensure == Ensure::Absent {
            continue;
        }
        let mailbox = &policy.address.value;
        let own = snapshot.mailbox(mailbox);
        for alias in &aliases.value {
            // Already on the mailbox: Exchange has accepted it, nothing is written.
            if own.is_some_and(|m| m.has_alias(&alias.value)) {
                continue;
            }
            let domain = alias.value.rsplit_once('@').map_or("", |(_, d)| d);
            if domains.is_empty() {
                if !warned {
                    warned = true;
                    warnings.push(
                        Diagnostic::warning(
                            "plan::alias-domains-not-read",
                            format!(
                                "the accepted domains of `{}` could not be read: the domains of `aliases` are not checked",
                                snapshot.tenant
                            ),
                            Some(alias.origin.clone()),
                        )
                        .with_hint("Exchange refuses an address outside the accepted domains during apply; grant the reading identity `Get-AcceptedDomain` (View-Only Configuration) to check it in the plan"),
                    );
                }
            } else if !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
                errors.push(
                    Diagnostic::error(
                        "plan::alias-domain-not-accepted",
                        format!(
                            "`{}` in `aliases` of `{mailbox}` is not in an accepted domain of `{}` ({})",
                            alias.value,
                            snapshot.tenant,
                            domains.join(", ")
                        ),
                        Some(alias.origin.clone()),
                    )
                    .with_label("domain not accepted")
                    .with_hint("check the address for a typo, or add and verify the domain in the Microsoft 365 admin center first"),
                );
                continue;
            }
            let holder = snapshot
                .directory
                .recipients()
                .iter()
                .filter(|r| !r.primary_smtp_address.eq_ignore_ascii_case(mailbox))
                .find(|r| r.smtp_addresses().contains(&alias.value))
                .map(|r| {
                    format!(
                        "the recipient `{}` ({})",
                        sharedbox_tenant::printable(&r.primary_smtp_address, 320),
                        sharedbox_tenant::printable(&r.recipient_type_details, 60)
                    )
                })
                .or_else(|| {
                    snapshot
                        .mailboxes
                        .iter()
                        .filter(|m| !m.primary_smtp_address.eq_ignore_ascii_case(mailbox))
                        .find(|m| m.has_address(&alias.value))
                        .map(|m| format!("the shared mailbox `{}`", m.primary_smtp_address))
                })
                .or_else(|| {
                    snapshot.soft_deleted_holding(&alias.value).map(|m| {
                        format!(
                            "the soft-deleted mailbox `{}`",
                            sharedbox_tenant::printable(&m.primary_smtp_address, 320)
                        )
                    })
                });
            if let Some(holder) = holder {
                errors.push(
                    Diagnostic::error(
                        "plan::alias-held-by-another-recipient",
                        format!(
                            "`{}` in `aliases` of `{mailbox}` is already an address of {holder}",
                            alias.value
                        ),
                        Some(alias.origin.clone()),
                    )
                    .with_label("address taken")
                    .with_hint("an address belongs to one recipient (Exchange refuses it with `ProxyAddressExistsException`); remove it from the other recipient first, or choose another alias; a soft-deleted mailbox keeps its addresses for 30 days unless purged"),
                );
            }
        }
    }
}

/// A mailbox to create whose address a soft-deleted mailbox still holds: `New-Mailbox` would
/// fail during apply, so the plan fails first, at the policy's `mailbox:` line.
fn soft_deleted_conflict(
    policy: &MailboxPolicy,
    held: &sharedbox_tenant::SoftDeletedMailbox,
) -> Diagnostic {
    let address = &held.primary_smtp_address;
    Diagnostic::error(
        "plan::address-held-by-soft-deleted-mailbox",
        format!(
            "`{}` cannot be created: the soft-deleted mailbox `{address}` still holds the address",
            policy.address.value
        ),
        Some(policy.address.origin.clone()),
    )
    .with_label("held by a soft-deleted mailbox")
    .with_hint(format!(
        "Exchange keeps a removed mailbox and its addresses for 30 days; restore it (`Undo-SoftDeletedMailbox -SoftDeletedObject {address}`, then sharedbox manages it again), purge it (`Remove-Mailbox -Identity {address} -PermanentlyDelete`), or choose another address"
    ))
}

/// Computes the plan that makes `snapshot` match `policies`.
///
/// # Errors
/// Every policy principal that the tenant does not know (with its file:line:column), every
/// live principal that cannot be told apart from another, unknown `--target`s, and every
/// policy whose `mailbox:` is an alias, another kind of recipient, or a mailbox another
/// policy already manages ([`crate::resolve`]).
pub fn plan(
    policies: &PolicySet,
    snapshot: &Snapshot,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let mut errors = Vec::new();
    for target in &options.targets {
        if policies.mailbox(target).is_none() {
            errors.push(
                Diagnostic::error(
                    "plan::unknown-target",
                    format!("`--target {target}` names no managed mailbox"),
                    None,
                )
                .with_hint("a target is the `mailbox` address of a SharedMailbox policy"),
            );
        }
    }
    crate::resolve::check_mailbox_addresses(policies, snapshot, &mut errors);
    let mut plan_warnings = Vec::new();
    check_aliases(
        policies,
        snapshot,
        &options.targets,
        &mut errors,
        &mut plan_warnings,
    );
    let mut plan = Plan {
        tenant: snapshot.tenant.clone(),
        ..Plan::default()
    };
    plan.warnings.append(&mut plan_warnings);
    if policies.mailboxes.is_empty() && policies.tenant_settings.is_none() {
        plan.warnings.push(
            Diagnostic::warning("plan::empty-policy-set", "no policies found: nothing is managed and nothing will be changed", None)
                .with_hint("an empty policy set never revokes anything; add SharedMailbox documents to manage mailboxes"),
        );
    }
    // Service principal registrations a `TenantSettings` document declares but Exchange does
    // not have yet: planned against a directory that holds them, created first if needed.
    let missing = missing_registrations(policies, &snapshot.directory);
    let augmented;
    let directory = if missing.is_empty() {
        &snapshot.directory
    } else {
        let mut with = snapshot.directory.clone();
        for registration in &missing {
            with.insert_if_absent(registration_recipient(registration));
        }
        augmented = with;
        &augmented
    };
    for registration in &missing {
        let needed = policies
            .mailboxes
            .iter()
            .filter(|p| p.is_targeted(&options.targets))
            .any(|p| names_registration(p, directory, registration));
        if needed {
            plan.organization.push(create_registration(registration));
        }
    }
    for policy in &policies.mailboxes {
        if !policy.is_targeted(&options.targets) {
            continue;
        }
        if policy.ensure == Ensure::Present
            && snapshot.mailbox(&policy.address.value).is_none()
            && let Some(held) = snapshot.soft_deleted_holding(&policy.address.value)
        {
            errors.push(soft_deleted_conflict(policy, held));
            continue;
        }
        let mut planner = MailboxPlanner {
            directory,
            base: options.base.as_deref(),
            errors: &mut errors,
            warnings: &mut plan.warnings,
        };
        let live = snapshot.mailbox(&policy.address);
        match planner.plan_mailbox(policy, live) {
            Some(m) if live.is_some_and(|l| on_premises(policy, l, &m, &mut errors)) => {}
            Some(m) if !m.changes.is_empty() => plan.mailboxes.push(m),
            _ => plan.unchanged.push(policy.address.value.clone()),
        }
    }
    if options.targets.is_empty()
        && let Some(settings) = &policies.tenant_settings
    {
        for (property, desired) in &settings.settings {
            let definition = property.definition();
            let live = (definition.get)(&snapshot.organization);
            if let Some(change) = setting_change(definition, &live, &desired.value, |value| {
                Operation::set_organization(*property, value)
            }) {
                plan.organization.push(change);
            }
        }
    }
    show_inherited_smtp_auth(&mut plan, snapshot);
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(PlanError(errors))
    }
}

/// A root visibility entry as a plan value: `anna@contoso.com: FolderVisible`.
fn root_value(principal: &Principal) -> PlanValue {
    PlanValue::Grant {
        principal: principal.clone(),
        auto_mapping: None,
        access: Some(sharedbox_tenant::FOLDER_VISIBLE.to_owned()),
        flags: Vec::new(),
    }
}

/// Whether the write revokes a folder reader's entry (`sentItemsReaders` or `folders`).
fn is_folder_revoke(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::RemoveSentItemsPermission { .. } | Operation::RemoveFolderPermission { .. }
    )
}

/// The localised name of a well-known folder of `live`, its English name when it was not
/// read (a mailbox being created).
fn folder_name(live: &Mailbox, folder: WellKnownFolder) -> String {
    live.folder(folder)
        .map_or_else(|| folder.english_name().to_owned(), |f| f.name.clone())
}

/// Appends `note` to a change's note.
fn add_note(change: &mut Change, note: &str) {
    change.note = Some(match change.note.take() {
        Some(existing) => format!("{existing}; {note}"),
        None => note.to_owned(),
    });
}

/// The declared registrations Exchange does not have (by app id or object id).
fn missing_registrations<'p>(
    policies: &'p PolicySet,
    directory: &Directory,
) -> Vec<&'p sharedbox_policy::ServicePrincipalRegistration> {
    policies
        .tenant_settings
        .iter()
        .flat_map(|t| &t.service_principals)
        .filter(|r| {
            directory
                .resolve_policy(&format!(
                    "{}{}",
                    sharedbox_tenant::directory::APP_PREFIX,
                    r.app_id.value
                ))
                .is_none()
                && directory.resolve_policy(&r.object_id.value).is_none()
        })
        .collect()
}

/// The directory entry a registration will be once `New-ServicePrincipal` ran.
fn registration_recipient(
    registration: &sharedbox_policy::ServicePrincipalRegistration,
) -> sharedbox_tenant::Recipient {
    sharedbox_tenant::Recipient {
        external_directory_object_id: Some(registration.object_id.value.clone()),
        guid: registration.object_id.value.clone(),
        name: registration.object_id.value.clone(),
        display_name: registration.display_name.clone(),
        recipient_type_details: sharedbox_tenant::model::SERVICE_PRINCIPAL.to_owned(),
        app_id: Some(registration.app_id.value.clone()),
        ..sharedbox_tenant::Recipient::default()
    }
}

/// Whether `policy` grants FullAccess or Send As to the registration's service principal.
fn names_registration(
    policy: &MailboxPolicy,
    directory: &Directory,
    registration: &sharedbox_policy::ServicePrincipalRegistration,
) -> bool {
    let is_it = |principal: &PrincipalRef| {
        directory
            .resolve_policy(&principal.value)
            .is_some_and(|r| r.app_id.as_deref() == Some(registration.app_id.value.as_str()))
    };
    policy
        .full_access
        .iter()
        .flat_map(|l| &l.value)
        .any(|g| is_it(&g.principal))
        || policy.send_as.iter().flat_map(|l| &l.value).any(is_it)
}

/// `New-ServicePrincipal` for a registration, undone by `Remove-ServicePrincipal`.
fn create_registration(registration: &sharedbox_policy::ServicePrincipalRegistration) -> Change {
    Change {
        field: format!(
            "servicePrincipals.{}{}",
            sharedbox_tenant::directory::APP_PREFIX,
            registration.app_id.value
        ),
        action: Action::Add,
        wave: Wave::Create,
        operation: Operation::CreateServicePrincipal {
            app_id: registration.app_id.value.clone(),
            object_id: registration.object_id.value.clone(),
            display_name: registration.display_name.clone(),
        },
        before: None,
        after: Some(PlanValue::Presence { present: true }),
        inverse: Some(Operation::RemoveServicePrincipal {
            app_id: registration.app_id.value.clone(),
            object_id: registration.object_id.value.clone(),
        }),
        note: Some(format!(
            "registers the service principal of app `{}` (object id `{}`) in Exchange",
            registration.app_id.value, registration.object_id.value
        )),
        cause: None,
    }
}

struct MailboxPlanner<'a> {
    directory: &'a Directory,
    base: Option<&'a PolicySet>,
    errors: &'a mut Vec<Diagnostic>,
    warnings: &'a mut Vec<Diagnostic>,
}

impl MailboxPlanner<'_> {
    /// Plans one mailbox; `None` when it is not to exist and does not.
    fn plan_mailbox(
        &mut self,
        policy: &MailboxPolicy,
        live: Option<&Mailbox>,
    ) -> Option<MailboxPlan> {
        let address = policy.address.value.clone();
        let mut out = MailboxPlan {
            address: address.clone(),
            action: MailboxAction::Update,
            changes: Vec::new(),
            lists: Vec::new(),
            lost_grants: 0,
        };
        let created;
        let live = match (policy.ensure, live) {
            (Ensure::Absent, None) => return None,
            (Ensure::Absent, Some(live)) => {
                out.action = MailboxAction::Delete;
                out.lost_grants = live.grant_count();
                out.changes.push(Change {
                    field: "lifecycle.ensure".into(),
                    action: Action::Delete,
                    wave: Wave::Revocations,
                    operation: Operation::RemoveMailbox { mailbox: address.clone() },
                    before: Some(PlanValue::Presence { present: true }),
                    after: Some(PlanValue::Presence { present: false }),
                    inverse: None,
                    note: Some("Exchange keeps a deleted mailbox soft-deleted for 30 days, with its addresses: sharedbox does not recreate it on rollback; to use an address again within the 30 days, restore it (`Undo-SoftDeletedMailbox`) or purge it (`Remove-Mailbox -PermanentlyDelete`)".into()),
                    cause: None,
                });
                return Some(out);
            }
            (Ensure::Present, Some(live)) => live,
            (Ensure::Present, None) => {
                let display_name = policy
                    .setting(Property::DisplayName)
                    .map(|d| d.value.text())
                    .unwrap_or_else(|| address.split('@').next().unwrap_or(&address).to_owned());
                out.action = MailboxAction::Create;
                out.changes.push(Change {
                    field: "displayName".into(),
                    action: Action::Add,
                    wave: Wave::Create,
                    operation: Operation::CreateMailbox {
                        mailbox: address.clone(),
                        display_name: display_name.clone(),
                    },
                    before: None,
                    after: Some(PlanValue::Setting {
                        value: Value::Text(display_name.clone()),
                        organization: None,
                    }),
                    inverse: Some(Operation::RemoveMailbox {
                        mailbox: address.clone(),
                    }),
                    note: None,
                    cause: None,
                });
                created = Mailbox::new_shared(&address, &display_name);
                &created
            }
        };

        let resolved = resolve_forwarding(policy, self.directory);
        let policy = resolved.as_ref();
        // Settings in catalogue order, grouped as the policy writes them: moderators and
        // bypass senders are added before moderation is switched on (Exchange refuses a
        // moderated mailbox without moderators) and removed last (in the revocation wave).
        let group = |p: &Property| p.definition().field.split('.').next().unwrap_or("");
        settings(policy, live, &mut out, |p| {
            !matches!(group(p), "moderation" | "clients")
        });
        aliases(policy, live, &mut out);
        self.moderation_lists(policy, live, &mut out);
        settings(policy, live, &mut out, |p| group(p) == "moderation");
        if let Some(desired) = &policy.send_as {
            let grant = |p: &Principal, (): &()| Operation::GrantSendAs {
                mailbox: address.clone(),
                principal: p.clone(),
            };
            let revoke = |p: &Principal| Operation::RevokeSendAs {
                mailbox: address.clone(),
                principal: p.clone(),
            };
            let list = List {
                field: "sendAs",
                qualifier: None,
                add_wave: Wave::Grants,
                grant: &grant,
                revoke: &revoke,
                update: Update::Never,
            };
            self.reconcile(
                policy,
                &list,
                live.send_as_grants().map(|r| (r.trustee.as_str(), ())),
                desired.value.iter().map(|p| (p, ())),
                &mut out,
            );
        }
        if let Some(desired) = &policy.send_on_behalf {
            let rows: Vec<&str> = live.send_on_behalf_grants().collect();
            self.list_member(
                policy,
                "sendOnBehalf",
                PrincipalList::SendOnBehalf,
                desired,
                &rows,
                &mut out,
                Wave::Grants,
            );
        }
        self.full_access(policy, live, &mut out);
        self.folder_lists(policy, live, &mut out);
        settings(policy, live, &mut out, |p| group(p) == "clients");
        Some(out)
    }

    fn moderation_lists(&mut self, policy: &MailboxPolicy, live: &Mailbox, out: &mut MailboxPlan) {
        if let Some(desired) = &policy.moderators {
            let rows: Vec<&str> = live.moderated_by.iter().map(String::as_str).collect();
            self.list_member(
                policy,
                "moderation.moderators",
                PrincipalList::Moderators,
                desired,
                &rows,
                out,
                Wave::Properties,
            );
        }
        if let Some(desired) = &policy.moderation_bypass {
            let rows: Vec<&str> = live
                .bypass_moderation_from_senders_or_members
                .iter()
                .map(String::as_str)
                .collect();
            self.list_member(
                policy,
                "moderation.bypass",
                PrincipalList::ModerationBypass,
                desired,
                &rows,
                out,
                Wave::Properties,
            );
        }
    }

    fn full_access(&mut self, policy: &MailboxPolicy, live: &Mailbox, out: &mut MailboxPlan) {
        let Some(desired) = &policy.full_access else {
            return;
        };
        let mailbox = &policy.address.value;
        let grant = |p: &Principal, auto: &AutoMapping| Operation::GrantFullAccess {
            mailbox: mailbox.clone(),
            principal: p.clone(),
            auto_mapping: auto.for_grant(),
        };
        let revoke = |p: &Principal| Operation::RevokeFullAccess {
            mailbox: mailbox.clone(),
            principal: p.clone(),
        };
        let list = List {
            field: "fullAccess",
            qualifier: None,
            add_wave: Wave::Grants,
            grant: &grant,
            revoke: &revoke,
            update: Update::Regrant(
                "autoMapping can only be set when access is granted: revoked and granted again",
            ),
        };
        let granted = self.granted_auto_mapping(mailbox);
        self.reconcile(
            policy,
            &list,
            live.full_access_grants().map(|row| {
                let auto =
                    row.auto_mapping
                        .or_else(|| match self.directory.resolve_live(&row.user) {
                            LivePrincipal::Recipient(r) => {
                                granted.get(&PrincipalId::of(r)).copied()
                            }
                            _ => None,
                        });
                (row.user.as_str(), AutoMapping(auto))
            }),
            desired.value.iter().map(|g| {
                let auto = g.auto_mapping.as_ref().map(|a| a.value);
                (&g.principal, AutoMapping(auto))
            }),
            out,
        );
    }

    /// The autoMapping of each FullAccess grant the base policies list for `mailbox`, by
    /// principal: the value sharedbox granted with (the written one, else `true`, the value
    /// it passes when a policy does not say).
    fn granted_auto_mapping(&self, mailbox: &str) -> std::collections::HashMap<PrincipalId, bool> {
        let Some(grants) = self
            .base
            .and_then(|base| base.mailbox(mailbox))
            .and_then(|policy| policy.full_access.as_ref())
        else {
            return Default::default();
        };
        grants
            .value
            .iter()
            .filter_map(|g| {
                let recipient = self.directory.resolve_policy(&g.principal.value)?;
                let auto = g.auto_mapping.as_ref().map(|a| a.value);
                Some((PrincipalId::of(recipient), AutoMapping(auto).for_grant()))
            })
            .collect()
    }

    /// The folder lists: `sentItemsReaders`, then each managed `folders.<key>`, then the
    /// root visibility their readers need.
    fn folder_lists(&mut self, policy: &MailboxPolicy, live: &Mailbox, out: &mut MailboxPlan) {
        let first = out.changes.len();
        self.sent_items_readers(policy, live, out);
        for (folder, desired) in &policy.folders {
            self.folder_list(policy, live, *folder, desired, out);
        }
        self.root_visibility(policy, live, first, out);
    }

    fn sent_items_readers(
        &mut self,
        policy: &MailboxPolicy,
        live: &Mailbox,
        out: &mut MailboxPlan,
    ) {
        let Some(desired) = &policy.sent_items_readers else {
            return;
        };
        let mailbox = &policy.address.value;
        let add = |p: &Principal, role: &FolderRole| Operation::AddSentItemsPermission {
            mailbox: mailbox.clone(),
            principal: p.clone(),
            access: role.0.clone(),
        };
        let set = |p: &Principal, role: &FolderRole| Operation::SetSentItemsPermission {
            mailbox: mailbox.clone(),
            principal: p.clone(),
            access: role.0.clone(),
        };
        let remove = |p: &Principal| Operation::RemoveSentItemsPermission {
            mailbox: mailbox.clone(),
            principal: p.clone(),
        };
        let list = List {
            field: "sentItemsReaders",
            qualifier: Some(live.sent_items.name.clone()),
            add_wave: Wave::Grants,
            grant: &add,
            revoke: &remove,
            update: Update::Set(&set),
        };
        self.reconcile(
            policy,
            &list,
            live.sent_items_grants()
                .map(|row| (row.user.as_str(), FolderRole(row.access_rights.join(",")))),
            desired
                .value
                .iter()
                .map(|r| (&r.principal, FolderRole(r.access.value.as_str().to_owned()))),
            out,
        );
    }

    /// One `folders.<key>` list: the entries of the folder found by type (a folder that
    /// was not read is one of a mailbox being created: only built-in rows).
    fn folder_list(
        &mut self,
        policy: &MailboxPolicy,
        live: &Mailbox,
        folder: WellKnownFolder,
        desired: &Located<Vec<FolderGrant>>,
        out: &mut MailboxPlan,
    ) {
        let mailbox = &policy.address.value;
        let add = |p: &Principal, entry: &FolderGrantAttribute| Operation::AddFolderPermission {
            mailbox: mailbox.clone(),
            folder,
            principal: p.clone(),
            access: entry.access.clone(),
            flags: sharedbox_tenant::canonical_flags(&entry.flags),
        };
        let set = |p: &Principal, entry: &FolderGrantAttribute| Operation::SetFolderPermission {
            mailbox: mailbox.clone(),
            folder,
            principal: p.clone(),
            access: entry.access.clone(),
            flags: sharedbox_tenant::canonical_flags(&entry.flags),
        };
        let remove = |p: &Principal| Operation::RemoveFolderPermission {
            mailbox: mailbox.clone(),
            folder,
            principal: p.clone(),
        };
        let list = List {
            field: folder.field(),
            qualifier: Some(folder_name(live, folder)),
            add_wave: Wave::Grants,
            grant: &add,
            revoke: &remove,
            update: Update::Set(&set),
        };
        self.reconcile(
            policy,
            &list,
            live.folder_grants(folder).map(|row| {
                (
                    row.user.as_str(),
                    FolderGrantAttribute {
                        access: row.access_rights.join(","),
                        flags: sharedbox_tenant::canonical_flags(&row.sharing_permission_flags),
                    },
                )
            }),
            desired.value.iter().map(|g| {
                (
                    &g.principal,
                    FolderGrantAttribute {
                        access: g.access.value.as_str().to_owned(),
                        flags: g.flags.clone(),
                    },
                )
            }),
            out,
        );
    }

    /// Root visibility follows the reader (`docs/policy-format.md`, `sentItemsReaders` and
    /// `folders`): a reader without FullAccess browses to a folder in Outlook only with
    /// `FolderVisible` on the mailbox root. Every reader of a managed folder list's end state
    /// without a root entry is granted it (once, under the first list that names it); a
    /// reader the lists revoke (the changes from `first` on) who reads no managed folder
    /// afterwards loses its root entry only when it is exactly `FolderVisible` and the base
    /// revision listed the reader on some folder of the mailbox (sharedbox added it);
    /// otherwise the revoke's note says why the entry stays. Nothing is planned on a root that
    /// was not read.
    fn root_visibility(
        &mut self,
        policy: &MailboxPolicy,
        live: &Mailbox,
        first: usize,
        out: &mut MailboxPlan,
    ) {
        // Every reader of the lists' end state, with the list and folder it reads.
        let mut readers: Vec<(&'static str, String, &PrincipalRef)> = Vec::new();
        if let Some(list) = &policy.sent_items_readers {
            let name = sharedbox_tenant::printable(&live.sent_items.name, 100);
            readers.extend(
                list.value
                    .iter()
                    .map(|r| ("sentItemsReaders", name.clone(), &r.principal)),
            );
        }
        for (folder, list) in &policy.folders {
            let name = sharedbox_tenant::printable(&folder_name(live, *folder), 100);
            readers.extend(
                list.value
                    .iter()
                    .map(|g| (folder.field(), name.clone(), &g.principal)),
            );
        }
        let managed = policy.sent_items_readers.is_some() || !policy.folders.is_empty();
        if !managed {
            return;
        }
        if live.root_folder.is_none() {
            for change in &mut out.changes[first..] {
                if is_folder_revoke(&change.operation) {
                    add_note(
                        change,
                        "the mailbox root was not read: its entries are left as they are",
                    );
                }
            }
            return;
        }
        let mailbox = &policy.address.value;
        let directory = self.directory;
        let entry = |principal: &Principal| {
            live.root_entry(|user| sharedbox_tenant::observe::denotes(directory, user, principal))
        };
        let mut grants = Vec::new();
        let mut wanted = std::collections::HashSet::new();
        for (field, folder, reader) in &readers {
            let Some(recipient) = directory.resolve_policy(&reader.value) else {
                continue;
            };
            let principal = recipient.principal();
            if !wanted.insert(principal.key()) || entry(&principal).is_some() {
                continue;
            }
            grants.push(Change {
                field: (*field).into(),
                action: Action::Add,
                wave: Wave::Grants,
                operation: Operation::GrantRootVisibility {
                    mailbox: mailbox.clone(),
                    principal: principal.clone(),
                },
                before: None,
                after: Some(root_value(&principal)),
                inverse: Some(Operation::RevokeRootVisibility {
                    mailbox: mailbox.clone(),
                    principal: principal.clone(),
                }),
                note: Some(format!(
                    "`FolderVisible` on the mailbox root, so `{}` can open `{folder}`",
                    principal.label()
                )),
                cause: None,
            });
        }
        let listed = self.base_readers(mailbox);
        let mut revokes = Vec::new();
        let mut revoked = std::collections::HashSet::new();
        for change in &mut out.changes[first..] {
            if !is_folder_revoke(&change.operation) {
                continue;
            }
            let Some(principal) = change.operation.principal().cloned() else {
                continue;
            };
            // Still a reader of another managed folder, or already taken back.
            if wanted.contains(&principal.key()) || revoked.contains(&principal.key()) {
                continue;
            }
            let Some(row) = entry(&principal) else {
                continue;
            };
            let folder = change
                .operation
                .folder()
                .map(|f| sharedbox_tenant::printable(&folder_name(live, f), 100))
                .unwrap_or_default();
            let role = sharedbox_tenant::printable(&row.access_rights.join(","), 80);
            let kept = if !row.is_only_folder_visible() {
                Some("it is not the `FolderVisible` sharedbox grants".to_owned())
            } else if principal.is_orphaned() {
                // The folder list revokes an orphan; so does the root. No base policy can
                // name a principal that no longer exists.
                None
            } else {
                match &listed {
                    None => Some(
                        "there is no base revision to tell whether the policy added it".to_owned(),
                    ),
                    Some(keys) if !keys.contains(&principal.key()) => Some(format!(
                        "the policy at the base revision did not list `{}` as a reader, so sharedbox did not add it",
                        principal.label()
                    )),
                    Some(_) => None,
                }
            };
            if let Some(reason) = kept {
                add_note(
                    change,
                    &format!(
                        "root visibility kept: the `{role}` entry on the mailbox root stays, because {reason}"
                    ),
                );
                continue;
            }
            revoked.insert(principal.key());
            let orphaned = principal.is_orphaned();
            let shown_folder = if change.operation.folder() == Some(WellKnownFolder::SentItems) {
                "Sent Items".to_owned()
            } else {
                folder.clone()
            };
            revokes.push(Change {
                field: change.field.clone(),
                action: Action::Remove,
                wave: Wave::Revocations,
                operation: Operation::RevokeRootVisibility {
                    mailbox: mailbox.clone(),
                    principal: principal.clone(),
                },
                before: Some(root_value(&principal)),
                after: None,
                inverse: (!orphaned).then(|| Operation::GrantRootVisibility {
                    mailbox: mailbox.clone(),
                    principal: principal.clone(),
                }),
                note: Some(if orphaned {
                    format!("`FolderVisible` on the mailbox root, taken back with the orphaned reader's `{shown_folder}` entry; it cannot be granted again")
                } else {
                    format!(
                        "`FolderVisible` on the mailbox root, granted for `{folder}` and taken back with it"
                    )
                }),
                cause: None,
            });
        }
        out.changes.extend(grants);
        out.changes.extend(revokes);
    }

    /// The keys of the readers the base revision lists for `mailbox` on any folder
    /// (`sentItemsReaders` and every `folders.<key>`; empty when its policy manages none);
    /// `None` without a base revision.
    fn base_readers(&self, mailbox: &str) -> Option<std::collections::HashSet<String>> {
        let base = self.base?;
        let Some(policy) = base.mailbox(mailbox) else {
            return Some(Default::default());
        };
        let principals = policy
            .sent_items_readers
            .iter()
            .flat_map(|readers| readers.value.iter().map(|r| &r.principal))
            .chain(
                policy
                    .folders
                    .values()
                    .flat_map(|list| list.value.iter().map(|g| &g.principal)),
            );
        Some(
            principals
                .filter_map(|p| self.directory.resolve_policy(&p.value))
                .map(|r| r.principal().key())
                .collect(),
        )
    }

    /// A multi-valued `Set-Mailbox` property (`GrantSendOnBehalfTo`, `ModeratedBy`, ...).
    #[allow(clippy::too_many_arguments)]
    fn list_member(
        &mut self,
        policy: &MailboxPolicy,
        field: &'static str,
        list: PrincipalList,
        desired: &Located<Vec<PrincipalRef>>,
        rows: &[&str],
        out: &mut MailboxPlan,
        add_wave: Wave,
    ) {
        let mailbox = &policy.address.value;
        let add = |p: &Principal, (): &()| Operation::AddToList {
            mailbox: mailbox.clone(),
            list,
            principal: p.clone(),
        };
        let remove = |p: &Principal| Operation::RemoveFromList {
            mailbox: mailbox.clone(),
            list,
            principal: p.clone(),
        };
        let list = List {
            field,
            qualifier: None,
            add_wave,
            grant: &add,
            revoke: &remove,
            update: Update::Never,
        };
        self.reconcile(
            policy,
            &list,
            rows.iter().map(|row| (*row, ())),
            desired.value.iter().map(|p| (p, ())),
            out,
        );
    }

    /// Resolves both sides of a principal list and plans what makes the live side what the
    /// policy lists ([`List::reconcile`]). Built-in live entries are skipped; a live entry
    /// that names the same recipient as an earlier one is one entry with it (the later
    /// attribute wins); a policy entry that does is warned about (the later wins).
    fn reconcile<'r, A: Attribute>(
        &mut self,
        policy: &MailboxPolicy,
        list: &List<'_, A>,
        live_rows: impl IntoIterator<Item = (&'r str, A)>,
        wanted_rows: impl IntoIterator<Item = (&'r PrincipalRef, A)>,
        out: &mut MailboxPlan,
    ) {
        let mut live = Entries::new();
        for (raw, attribute) in live_rows {
            if let Some(p) = self.live_principal(policy, list.field, raw) {
                live.insert(p.key(), (p, attribute));
            }
        }
        let mut wanted = Entries::new();
        for (principal, attribute) in wanted_rows {
            if let Some(p) = self.policy_principal(policy, list.field, principal)
                && wanted.insert(p.key(), (p, attribute)).is_some()
            {
                self.same_recipient_twice(list.field, principal);
            }
        }
        let reconciled = list.reconcile(&live, &wanted);
        out.changes.extend(reconciled.changes);
        out.lists.extend(reconciled.list);
    }

    /// Warns that two spellings in one list name the same recipient (the later entry wins).
    fn same_recipient_twice(&mut self, field: &str, principal: &PrincipalRef) {
        self.warnings.push(
            Diagnostic::warning(
                "plan::same-recipient-twice",
                format!(
                    "`{}` names a recipient that `{field}` already lists under another address",
                    principal.value
                ),
                Some(principal.origin.clone()),
            )
            .with_label("same recipient")
            .with_hint("list each user or group once; the later entry wins"),
        );
    }

    /// Resolves a principal named in a policy; an unknown one is an error at its position.
    /// Also checks, before anything is written, that the recipient is of a kind the field
    /// takes: a moderator is a mailbox, mail user or mail contact (Set-Mailbox doc); a
    /// service principal holds only FullAccess and Send As.
    fn policy_principal(
        &mut self,
        policy: &MailboxPolicy,
        field: &str,
        principal: &PrincipalRef,
    ) -> Option<Principal> {
        match self.directory.resolve_policy(&principal.value) {
            Some(recipient) if field == "moderation.moderators" && !recipient.can_moderate() => {
                self.errors.push(
                    Diagnostic::error(
                        "plan::moderator-kind",
                        format!(
                            "`{}` in `moderation.moderators` of `{}` is a {} ({}): Exchange takes only mailboxes, mail users and mail contacts as moderators",
                            principal.value,
                            policy.address.value,
                            kind_word(recipient),
                            recipient.recipient_type_details
                        ),
                        Some(principal.origin.clone()),
                    )
                    .with_label("not a mailbox, mail user or mail contact")
                    .with_hint("name the people who approve as moderators (a group cannot moderate: list its members)"),
                );
                None
            }
            Some(recipient)
                if recipient.is_service_principal()
                    && !matches!(field, "fullAccess" | "sendAs") =>
            {
                self.errors.push(
                    Diagnostic::error(
                        "plan::service-principal-field",
                        format!(
                            "`{}` in `{field}` of `{}` is a service principal: it can hold only `fullAccess` and `sendAs`",
                            principal.value, policy.address.value
                        ),
                        Some(principal.origin.clone()),
                    )
                    .with_label("service principal")
                    .with_hint("grant an app `fullAccess` (IMAP/POP) or `sendAs` (SMTP); other lists take recipients with mail"),
                );
                None
            }
            Some(recipient) => Some(recipient.principal()),
            None => {
                self.errors.push(
                    Diagnostic::error("plan::unknown-principal", format!("`{}` is not a recipient of the tenant", principal.value), Some(principal.origin.clone()))
                        .with_label(format!("unknown principal for `{}`", policy.address.value))
                        .with_hint("no user, group or mailbox has this SMTP address, UPN or object id; check the spelling, or whether it was deleted"),
                );
                None
            }
        }
    }

    /// Resolves a principal as Exchange returned it; built-ins are skipped.
    fn live_principal(
        &mut self,
        policy: &MailboxPolicy,
        field: &str,
        raw: &str,
    ) -> Option<Principal> {
        match self.directory.resolve_live(raw) {
            LivePrincipal::BuiltIn => None,
            LivePrincipal::Recipient(r) => Some(r.principal()),
            LivePrincipal::Orphaned => Some(Principal::Orphaned {
                raw: raw.to_owned(),
            }),
            LivePrincipal::Unresolved => Some(Principal::Unresolved {
                raw: raw.to_owned(),
            }),
            LivePrincipal::Ambiguous(candidates) => {
                let names: Vec<String> = candidates
                    .iter()
                    .map(|r| format!("`{}`", r.primary_smtp_address))
                    .collect();
                self.errors.push(
                    Diagnostic::error(
                        "plan::ambiguous-principal",
                        format!("`{field}` of `{}` has an entry `{raw}` that matches {}", policy.address.value, names.join(" and ")),
                        Some(policy.address.origin.clone()),
                    )
                    .with_label("cannot plan this mailbox")
                    .with_hint("Exchange shows this entry by display name, which several recipients share; give them distinct display names"),
                );
                None
            }
        }
    }
}

/// Annotates every `inherit` of `clients.smtpAuth` with the organisation's setting it
/// follows: before with the live one, after with the one the plan leaves (a planned
/// `TenantSettings` change of it included), so that the plan shows `inherit (disabled by the
/// organisation)` and nobody reads `inherit` as "allowed". Not when the organisation's
/// setting could not be read.
fn show_inherited_smtp_auth(plan: &mut Plan, snapshot: &Snapshot) {
    let organization = OrganizationProperty::SmtpClientAuthenticationDisabled;
    let live = (organization.definition().get)(&snapshot.organization);
    let planned = plan
        .organization
        .iter()
        .find_map(|c| match &c.operation {
            Operation::SetOrganization { setting } if setting.property == organization => {
                Some(setting.value.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| live.clone());
    let field = Property::SmtpClientAuthenticationDisabled
        .definition()
        .field;
    for change in plan
        .mailboxes
        .iter_mut()
        .flat_map(|m| m.changes.iter_mut())
        .filter(|c| c.field == field)
    {
        for (value, effective) in [(&mut change.before, &live), (&mut change.after, &planned)] {
            if *effective == Value::Unset {
                continue;
            }
            if let Some(PlanValue::Setting {
                value: Value::Unset,
                organization,
            }) = value
            {
                *organization = Some(effective.clone());
            }
        }
    }
}

/// The `aliases` of `policy` against the live secondary SMTP addresses, compared without
/// case: one `@{Add=...}` per missing alias (with the settings) and one `@{Remove=...}` per
/// live alias not listed (with the revocations, so it counts against `--max-removals`:
/// mail to a removed address bounces). The primary and non-SMTP proxies are never touched.
fn aliases(policy: &MailboxPolicy, live: &Mailbox, out: &mut MailboxPlan) {
    let Some(desired) = &policy.aliases else {
        return;
    };
    let mailbox = &policy.address.value;
    let current: Vec<&str> = live.aliases().collect();
    let field = "aliases";
    let address = |a: &str| PlanValue::Address {
        address: a.to_owned(),
    };
    let mut changes = Vec::new();
    let mut after: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for alias in &desired.value {
        if !seen.insert(alias.value.as_str()) {
            continue;
        }
        if let Some(kept) = current
            .iter()
            .find(|a| a.eq_ignore_ascii_case(&alias.value))
        {
            after.push(sharedbox_tenant::printable(kept, 320));
            continue;
        }
        after.push(sharedbox_tenant::printable(&alias.value, 320));
        changes.push(Change {
            field: field.into(),
            action: Action::Add,
            wave: Wave::Properties,
            operation: Operation::AddAlias {
                mailbox: mailbox.clone(),
                address: alias.value.clone(),
            },
            before: None,
            after: Some(address(&alias.value)),
            inverse: Some(Operation::RemoveAlias {
                mailbox: mailbox.clone(),
                address: alias.value.clone(),
            }),
            note: None,
            cause: None,
        });
    }
    for live_alias in &current {
        if desired
            .value
            .iter()
            .any(|a| a.value.eq_ignore_ascii_case(live_alias))
        {
            continue;
        }
        changes.push(Change {
            field: field.into(),
            action: Action::Remove,
            wave: Wave::Revocations,
            operation: Operation::RemoveAlias {
                mailbox: mailbox.clone(),
                address: (*live_alias).to_owned(),
            },
            before: Some(address(live_alias)),
            after: None,
            inverse: Some(Operation::AddAlias {
                mailbox: mailbox.clone(),
                address: (*live_alias).to_owned(),
            }),
            note: None,
            cause: None,
        });
    }
    if changes.is_empty() {
        return;
    }
    let mut before: Vec<String> = current
        .iter()
        .map(|a| sharedbox_tenant::printable(a, 320))
        .collect();
    before.sort_by_key(|a| a.to_ascii_lowercase());
    after.sort_by_key(|a| a.to_ascii_lowercase());
    out.changes.extend(changes);
    out.lists.push(crate::plan::ListDiff {
        field: field.into(),
        qualifier: None,
        before,
        after,
    });
}

/// `policy` with `forwarding.to` resolved against `directory`: a mail-enabled recipient of
/// the organisation is forwarded to with `ForwardingAddress` (its primary SMTP address) and
/// `ForwardingSmtpAddress` cleared; any other address stays `ForwardingSmtpAddress`, as the
/// policy maps it. Borrowed when the policy does not forward.
pub fn resolve_forwarding<'a>(
    policy: &'a MailboxPolicy,
    directory: &Directory,
) -> std::borrow::Cow<'a, MailboxPolicy> {
    let Some(to) = policy
        .setting(Property::ForwardingSmtpAddress)
        .filter(|to| matches!(to.value, Value::Text(_)))
    else {
        return std::borrow::Cow::Borrowed(policy);
    };
    let Some(recipient) = directory
        .resolve_policy(&to.value.text())
        .filter(|r| r.is_mail_enabled() && !r.primary_smtp_address.is_empty())
    else {
        return std::borrow::Cow::Borrowed(policy);
    };
    let mut resolved = policy.clone();
    let origin = to.origin.clone();
    resolved.settings.insert(
        Property::ForwardingAddress,
        Located::new(
            Value::Text(recipient.primary_smtp_address.to_ascii_lowercase()),
            origin.clone(),
        ),
    );
    resolved.settings.insert(
        Property::ForwardingSmtpAddress,
        Located::new(Value::Unset, origin),
    );
    std::borrow::Cow::Owned(resolved)
}

/// The changes for the catalogued settings of `policy` that `include` selects, in catalogue
/// order; the mailbox's display name only when it exists (a new one is created with it).
fn settings(
    policy: &MailboxPolicy,
    live: &Mailbox,
    out: &mut MailboxPlan,
    include: impl Fn(&Property) -> bool,
) {
    for (property, desired) in policy.settings.iter().filter(|(p, _)| include(p)) {
        if *property == Property::DisplayName && out.action == MailboxAction::Create {
            continue;
        }
        let definition = property.definition();
        let current = (definition.get)(live);
        if let Some(change) = setting_change(definition, &current, &desired.value, |value| {
            Operation::set(&policy.address.value, *property, value)
        }) {
            out.changes.push(change);
        }
    }
}

/// The change that takes a catalogued property from `live` to `desired`, if they differ,
/// with the inverse that writes `live` back (none when `live` cannot be written).
fn setting_change<T>(
    definition: &Definition<T>,
    live: &Value,
    desired: &Value,
    set: impl Fn(Value) -> Operation,
) -> Option<Change> {
    if definition.same(live, desired) {
        return None;
    }
    Some(Change {
        field: definition.field.into(),
        action: Action::Update,
        wave: Wave::Properties,
        operation: set(desired.clone()),
        before: Some(PlanValue::Setting {
            value: live.clone(),
            organization: None,
        }),
        after: Some(PlanValue::Setting {
            value: desired.clone(),
            organization: None,
        }),
        inverse: definition.inverse(live).map(&set),
        note: None,
        cause: None,
    })
}

/// How a recipient's kind is named in messages.
fn kind_word(recipient: &sharedbox_tenant::Recipient) -> &'static str {
    if recipient.is_service_principal() {
        "service principal"
    } else if recipient.is_group() {
        "group"
    } else if !recipient.is_mail_enabled() {
        "user without mail"
    } else {
        "recipient"
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

    const POLICIES: &str = "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@fabrikam.com
displayName: Support Team
hiddenFromAddressLists: true
sentItems: {copyForSendAs: true, copyForSendOnBehalf: true}
sendAs: [clara@fabrikam.com]
sendOnBehalf: [david@fabrikam.com]
fullAccess: [{principal: helpdesk@fabrikam.com, autoMapping: false}]
sentItemsReaders: [{principal: clara@fabrikam.com, access: Editor}, {principal: ben@fabrikam.com, access: Reviewer}]
clients: {owa: false, imap: false, pop: false, smtpAuth: enabled}
moderation: {enabled: true, moderators: [david@fabrikam.com], bypass: [anna@fabrikam.com], notifications: never}
---
apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: buchhaltung@fabrikam.com
sendAs: []
fullAccess: []
sentItemsReaders: []
---
apiVersion: sharedbox/v1
kind: TenantSettings
sendFromAliasEnabled: true
";

    fn setup() -> (TenantFile, PolicySet, Snapshot) {
        let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        let policies =
            sharedbox_policy::load_sources(vec![Source::new("p.yaml", POLICIES)]).unwrap();
        let scope = ReadScope::of(
            policies
                .mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
        );
        let snapshot = file.snapshot(&scope);
        (file, policies, snapshot)
    }

    #[test]
    fn waves_put_revocations_last_and_moderators_before_moderation() {
        let (_, policies, snapshot) = setup();
        let plan = plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
        let ordered = plan.ordered_changes();
        let waves: Vec<Wave> = ordered.iter().map(|c| c.wave).collect();
        let mut sorted = waves.clone();
        sorted.sort();
        assert_eq!(waves, sorted, "changes run wave by wave");
        let last_grant = ordered.iter().rposition(|c| !c.is_revocation()).unwrap();
        let first_revocation = ordered.iter().position(|c| c.is_revocation()).unwrap();
        assert!(
            last_grant < first_revocation,
            "every revocation comes after every grant"
        );
        let moderator = ordered
            .iter()
            .position(|c| c.field == "moderation.moderators")
            .unwrap();
        let enable = ordered
            .iter()
            .position(|c| c.field == "moderation.enabled")
            .unwrap();
        assert!(moderator < enable);
    }

    #[test]
    fn inverses_in_reverse_order_restore_the_tenant_exactly() {
        let (original, policies, snapshot) = setup();
        let plan = plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
        let mut file = original.clone();
        let mut undo = Vec::new();
        for change in plan.ordered_changes() {
            file.apply(&change.operation).unwrap();
            undo.push(change);
        }
        // The plan reaches the desired state.
        let scope = ReadScope::of(
            policies
                .mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
        );
        assert!(plan_is_empty(&policies, &file.snapshot(&scope)));
        // Undo everything that can be undone (orphans cannot be re-granted: they resolve to nothing).
        for change in undo.iter().rev() {
            if let Some(inverse) = &change.inverse {
                file.apply(inverse).unwrap();
            }
        }
        let restored = file.snapshot(&scope);
        let expected = original.snapshot(&scope);
        for address in ["support@fabrikam.com", "buchhaltung@fabrikam.com"] {
            let mut want = expected.mailbox(address).unwrap().clone();
            let got = restored.mailbox(address).unwrap().clone();
            // The orphaned SID rows were revoked for good; everything else is back.
            want.mailbox_permissions
                .retain(|p| !p.user.starts_with("S-1-5-21"));
            want.sent_items
                .permissions
                .retain(|p| !p.user.starts_with("NT:"));
            if let Some(rows) = &mut want.root_folder {
                rows.retain(|p| !p.user.starts_with("NT:"));
            }
            assert_eq!(
                sharedbox_tenant::normalized(&got),
                sharedbox_tenant::normalized(&want),
                "{address} restored"
            );
        }
        assert_eq!(restored.organization, expected.organization);
    }

    fn plan_is_empty(policies: &PolicySet, snapshot: &Snapshot) -> bool {
        plan(policies, snapshot, &PlanOptions::default())
            .unwrap()
            .is_empty()
    }

    #[test]
    fn an_unreported_client_switch_is_set_explicitly() {
        let (_, policies, mut snapshot) = setup();
        snapshot.mailboxes[0].cas_mailbox.owa_enabled = None;
        let plan = plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
        let owa = plan
            .mailboxes
            .iter()
            .flat_map(|m| &m.changes)
            .find(|c| c.field == "clients.owa")
            .unwrap();
        assert_eq!(owa.shown_before().as_deref(), Some("(not reported)"));
        assert_eq!(owa.inverse, None, "no known value to restore");
    }

    #[test]
    fn an_ambiguous_live_entry_fails_only_with_a_clear_error() {
        let (mut file, policies, _) = setup();
        let mut twin = file.recipients[2].clone();
        twin.external_directory_object_id = Some("99999999-0000-4000-8000-000000000003".into());
        twin.guid = "99999999-0000-4000-8000-000000000004".into();
        twin.name = "clara2".into();
        twin.primary_smtp_address = "clara.diaz@fabrikam.com".into();
        twin.user_principal_name = None;
        file.recipients.push(twin);
        let scope = ReadScope::of(vec!["support@fabrikam.com".into()]);
        let err = plan(&policies, &file.snapshot(&scope), &PlanOptions::default()).unwrap_err();
        assert!(
            err.0.iter().any(
                |d| d.code == "plan::ambiguous-principal" && d.message.contains("`Clara Diaz`")
            ),
            "{err:?}"
        );
    }
}

#[cfg(test)]
mod forwarding_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;
    use sharedbox_tenant::ReadScope;

    use super::*;
    use crate::render::change_line;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");
    const SUPPORT: &str = "support@fabrikam.com";

    fn tenant(live: impl FnOnce(&mut Mailbox)) -> TenantFile {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        live(
            file.mailboxes
                .iter_mut()
                .find(|m| m.primary_smtp_address == SUPPORT)
                .unwrap(),
        );
        file
    }

    fn policies(forwarding: &str) -> PolicySet {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {SUPPORT}\nforwarding: {forwarding}\n"
        );
        sharedbox_policy::load_sources(vec![Source::new("p.yaml", &text)]).unwrap()
    }

    fn snapshot(file: &TenantFile) -> Snapshot {
        file.snapshot(&ReadScope::of(vec![SUPPORT.to_owned()]))
    }

    /// The plan's forwarding lines, as the text plan prints them.
    fn lines(file: &TenantFile, policies: &PolicySet) -> Vec<String> {
        let plan = plan(policies, &snapshot(file), &PlanOptions::default()).unwrap();
        plan.mailboxes
            .iter()
            .flat_map(|m| &m.changes)
            .filter(|c| c.field.starts_with("forwarding."))
            .map(|c| change_line(&c.field, c.action, c.before.as_ref(), c.after.as_ref()))
            .collect()
    }

    /// Applies the plan; asserts that planning again finds nothing, and that the inverses
    /// restore the mailbox.
    fn apply_and_roll_back(mut file: TenantFile, policies: &PolicySet) -> Mailbox {
        let original = file.clone();
        let plan = plan(policies, &snapshot(&file), &PlanOptions::default()).unwrap();
        for change in plan.ordered_changes() {
            file.apply(&change.operation).unwrap();
        }
        let applied = snapshot(&file).mailbox(SUPPORT).unwrap().clone();
        assert!(lines(&file, policies).is_empty(), "a second plan is empty");
        for change in plan.ordered_changes().iter().rev() {
            file.apply(change.inverse.as_ref().unwrap()).unwrap();
        }
        assert_eq!(
            snapshot(&file).mailbox(SUPPORT),
            snapshot(&original).mailbox(SUPPORT),
            "rolled back"
        );
        applied
    }

    #[test]
    fn an_outside_address_is_forwarded_to_with_forwarding_smtp_address() {
        let policies = policies("{to: partner@fabrikam-partner.example, keepCopy: true}");
        let file = tenant(|_| {});
        assert_eq!(
            lines(&file, &policies),
            [
                "~ forwarding.to = (none) -> partner@fabrikam-partner.example",
                "~ forwarding.keepCopy = false -> true",
            ]
        );
        let applied = apply_and_roll_back(file, &policies);
        assert_eq!(applied.forwarding_address, None);
        assert_eq!(
            applied.forwarding_smtp_address.as_deref(),
            Some("partner@fabrikam-partner.example")
        );
        assert!(applied.deliver_to_mailbox_and_forward);
    }

    #[test]
    fn a_recipient_is_forwarded_to_with_forwarding_address_and_the_smtp_forward_cleared() {
        // A proxy address of Anna's, in another case: the recipient, by its primary address.
        let policies = policies("{to: Anna.Berg@fabrikam.com, keepCopy: false}");
        let file = tenant(|m| m.forwarding_smtp_address = Some("old@elsewhere.example".into()));
        assert_eq!(
            lines(&file, &policies),
            [
                "~ forwarding.toRecipient = (none) -> anna@fabrikam.com",
                "~ forwarding.to = old@elsewhere.example -> (none)",
            ]
        );
        let applied = apply_and_roll_back(file, &policies);
        assert_eq!(
            applied.forwarding_address.as_deref(),
            Some("anna@fabrikam.com")
        );
        assert_eq!(applied.forwarding_smtp_address, None);
        assert!(!applied.deliver_to_mailbox_and_forward);
    }

    #[test]
    fn keep_copy_alone_changes_only_deliver_to_mailbox_and_forward() {
        let policies = policies("{to: anna@fabrikam.com, keepCopy: true}");
        let file = tenant(|m| m.forwarding_address = Some("anna@fabrikam.com".into()));
        assert_eq!(
            lines(&file, &policies),
            ["~ forwarding.keepCopy = false -> true"]
        );
        apply_and_roll_back(file, &policies);
    }

    #[test]
    fn none_clears_both_addresses_and_the_copy_flag() {
        let policies = policies("none");
        let file = tenant(|m| {
            m.forwarding_address = Some("anna@fabrikam.com".into());
            m.forwarding_smtp_address = Some("partner@fabrikam-partner.example".into());
            m.deliver_to_mailbox_and_forward = true;
        });
        assert_eq!(
            lines(&file, &policies),
            [
                "~ forwarding.toRecipient = anna@fabrikam.com -> (none)",
                "~ forwarding.to = partner@fabrikam-partner.example -> (none)",
                "~ forwarding.keepCopy = true -> false",
            ]
        );
        let applied = apply_and_roll_back(file, &policies);
        assert_eq!(
            (
                applied.forwarding_address,
                applied.forwarding_smtp_address,
                applied.deliver_to_mailbox_and_forward
            ),
            (None, None, false)
        );
    }

    #[test]
    fn forwarding_of_a_synced_mailbox_is_an_error_unless_exchange_is_managed_in_the_cloud() {
        let policies = policies("{to: partner@fabrikam-partner.example, keepCopy: true}");
        let synced = tenant(|m| m.is_dir_synced = true);
        let err = plan(&policies, &snapshot(&synced), &PlanOptions::default()).unwrap_err();
        assert!(
            err.0.iter().any(|d| d.code == "plan::mastered-on-premises"
                && d.origin.as_ref().is_some_and(|o| o.line == 4)),
            "{err:?}"
        );
        let cloud = tenant(|m| {
            m.is_dir_synced = true;
            m.is_exchange_cloud_managed = true;
        });
        assert_eq!(lines(&cloud, &policies).len(), 2);
    }

    #[test]
    fn forwarding_as_the_policy_says_plans_nothing() {
        let file = tenant(|m| {
            m.forwarding_smtp_address = Some("partner@fabrikam-partner.example".into());
            m.deliver_to_mailbox_and_forward = true;
        });
        // The case of the address is no difference.
        assert!(
            lines(
                &file,
                &policies("{to: PARTNER@fabrikam-partner.example, keepCopy: true}")
            )
            .is_empty()
        );
        assert!(lines(&tenant(|_| {}), &policies("none")).is_empty());
        // Absent: unmanaged, whatever the mailbox forwards to.
        let unmanaged = sharedbox_policy::load_sources(vec![Source::new(
            "p.yaml",
            format!("apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {SUPPORT}\n"),
        )])
        .unwrap();
        assert!(lines(&file, &unmanaged).is_empty());
    }
}

#[cfg(test)]
mod auto_reply_tests {
    use std::path::Path;

    use sharedbox_file::TenantFile;
    use sharedbox_policy::Source;
    use sharedbox_tenant::{AutoReply, ReadScope};

    use super::*;
    use crate::render::change_line;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");
    const SUPPORT: &str = "support@fabrikam.com";

    fn tenant(live: impl FnOnce(&mut AutoReply)) -> TenantFile {
        let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
        let mailbox = file
            .mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == SUPPORT)
            .unwrap();
        live(mailbox.auto_reply.get_or_insert_with(Default::default));
        file
    }

    fn policies(auto_reply: &str) -> PolicySet {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {SUPPORT}\nautoReply:\n{auto_reply}"
        );
        sharedbox_policy::load_sources(vec![Source::new("p.yaml", &text)]).unwrap()
    }

    fn snapshot(file: &TenantFile) -> Snapshot {
        file.snapshot(&ReadScope::of(vec![SUPPORT.to_owned()]))
    }

    fn changes(file: &TenantFile, policies: &PolicySet) -> Vec<Change> {
        let plan = plan(policies, &snapshot(file), &PlanOptions::default()).unwrap();
        plan.mailboxes
            .into_iter()
            .flat_map(|m| m.changes)
            .filter(|c| c.field.starts_with("autoReply."))
            .collect()
    }

    /// The plan's autoReply lines, as the text plan prints them.
    fn lines(file: &TenantFile, policies: &PolicySet) -> Vec<String> {
        changes(file, policies)
            .iter()
            .map(|c| change_line(&c.field, c.action, c.before.as_ref(), c.after.as_ref()))
            .collect()
    }

    const HOLIDAYS: &str = "  state: scheduled
  start: 2026-12-24T09:00:00+01:00
  end: 2027-01-02T08:00:00+01:00
  internal: |
    Closed over the holidays.
    Urgent: call the hotline & write to <it@fabrikam.com>.
  externalAudience: known
";

    #[test]
    fn a_schedule_is_planned_readably_with_times_in_utc_and_the_message_shortened() {
        let file = tenant(|_| {});
        let policies = policies(HOLIDAYS);
        assert_eq!(
            lines(&file, &policies),
            [
                "~ autoReply.state = disabled -> scheduled",
                "~ autoReply.start = (not set) -> 2026-12-24T08:00:00Z",
                "~ autoReply.end = (not set) -> 2027-01-02T07:00:00Z",
                "~ autoReply.internal = (empty) -> \"Closed over the holidays.…\" (2 lines, 80 characters)",
                "~ autoReply.externalAudience = all -> known",
            ]
        );
        // The plan's data holds the whole message, as written to Exchange.
        let internal = changes(&file, &policies)
            .into_iter()
            .find(|c| c.field == "autoReply.internal")
            .unwrap();
        assert_eq!(
            internal.after,
            Some(PlanValue::Setting {
                value: Value::Text(
                    "Closed over the holidays.<br>Urgent: call the hotline &amp; write to &lt;it@fabrikam.com&gt;."
                        .into()
                ),
                organization: None,
            })
        );
    }

    #[test]
    fn applied_replanned_empty_and_rolled_back() {
        let mut file = tenant(|_| {});
        let original = file.clone();
        let policies = policies(HOLIDAYS);
        let plan = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap();
        for change in plan.ordered_changes() {
            file.apply(&change.operation).unwrap();
        }
        let applied = snapshot(&file).mailbox(SUPPORT).unwrap().auto_reply.clone();
        let applied = applied.unwrap();
        assert_eq!(applied.state, "Scheduled");
        assert_eq!(applied.start_time.as_deref(), Some("2026-12-24T08:00:00Z"));
        assert_eq!(applied.external_audience, "Known");
        assert!(lines(&file, &policies).is_empty(), "a second plan is empty");
        for change in plan.ordered_changes().iter().rev() {
            if let Some(inverse) = &change.inverse {
                file.apply(inverse).unwrap();
            }
        }
        // Times that were not set cannot be written back as "not set" (`$null` is no
        // time); they stay, inert while the state is `Disabled`.
        let restored = snapshot(&file)
            .mailbox(SUPPORT)
            .unwrap()
            .auto_reply
            .clone()
            .unwrap();
        assert_eq!(restored.state, "Disabled");
        assert_eq!(restored.internal_message, "");
        assert_eq!(restored.external_audience, "All");
        assert!(
            plan.ordered_changes()
                .iter()
                .filter(|c| c.inverse.is_none())
                .all(|c| c.field == "autoReply.start" || c.field == "autoReply.end")
        );
        let _ = original;
    }

    #[test]
    fn exchanges_html_and_another_offset_of_the_same_instant_are_no_change() {
        // What Exchange returns for the policy's text: wrapped, CRLF, `'` as an entity.
        let file = tenant(|a| {
            a.state = "Scheduled".into();
            a.start_time = Some("2026-12-24T08:00:00.0000000Z".into());
            a.end_time = Some("2027-01-02T07:00:00.0000000Z".into());
            a.internal_message = "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\nClosed over the holidays.<br>Urgent: call the hotline &amp; write to &lt;it@fabrikam.com&gt;.\r\n</body>\r\n</html>\r\n".into();
            a.external_audience = "Known".into();
        });
        assert!(lines(&file, &policies(HOLIDAYS)).is_empty());
        // A different text is a change, shown as text.
        let changed = HOLIDAYS.replace("Closed over", "Open during");
        assert_eq!(
            lines(&file, &policies(&changed)),
            [
                "~ autoReply.internal = \"Closed over the holidays.…\" (2 lines, 80 characters) -> \"Open during the holidays.…\" (2 lines, 80 characters)"
            ]
        );
        // A different end is a change.
        let later = HOLIDAYS.replace("2027-01-02T08:00:00+01:00", "2027-01-03T08:00:00+01:00");
        assert_eq!(
            lines(&file, &policies(&later)),
            ["~ autoReply.end = 2027-01-02T07:00:00Z -> 2027-01-03T07:00:00Z"]
        );
    }

    #[test]
    fn keys_left_out_are_left_alone() {
        let file = tenant(|a| {
            a.state = "Enabled".into();
            a.internal_message = "<html><body>Set by hand</body></html>".into();
        });
        assert_eq!(
            lines(&file, &policies("  state: disabled\n")),
            ["~ autoReply.state = enabled -> disabled"]
        );
        assert!(lines(&file, &policies("  externalAudience: all\n")).is_empty());
    }
}
