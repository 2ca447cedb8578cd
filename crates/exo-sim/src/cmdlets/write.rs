//! The write cmdlets. Each maps its parameters to [`Operation`]s and applies them with
//! [`TenantFile::apply`], so the simulator changes the tenant exactly as the file backend
//! does; one cmdlet is all-or-nothing (the operations run on a copy that replaces the
//! tenant only when all succeeded).
//!
//! On top, the answers Exchange gives: "already present / not present" as success with a
//! warning, `Add-MailboxFolderPermission` on an existing entry and
//! `Set-/Remove-MailboxFolderPermission` on a missing one as errors (reference §5.2).

use sharedbox_file::TenantFile;
use sharedbox_tenant::observe::denotes;
use sharedbox_tenant::{
    Definition, Directory, Kind, Mailbox, Operation, OrganizationProperty, Principal,
    PrincipalList, Property, Recipient, TenantError, Value,
};

use super::read::{folder_rows, split_folder_identity};
use super::{Output, render};
use crate::config::SimConfig;
use crate::folders;
use crate::lookup::{self, MailboxView, Resolved};
use crate::params::{MultiValue, Params};
use crate::wire::{ExoError, Item};

/// Folder roles and rights `-AccessRights` accepts on a folder.
const FOLDER_RIGHTS: &[&str] = &[
    "Owner",
    "PublishingEditor",
    "Editor",
    "PublishingAuthor",
    "Author",
    "NonEditingAuthor",
    "Reviewer",
    "Contributor",
    "AvailabilityOnly",
    "LimitedDetails",
    "None",
    "ReadItems",
    "CreateItems",
    "EditOwnedItems",
    "DeleteOwnedItems",
    "EditAllItems",
    "DeleteAllItems",
    "CreateSubfolders",
    "FolderOwner",
    "FolderContact",
    "FolderVisible",
];

/// Applies `operations` (of one cmdlet: one mailbox, or the organisation) all or nothing:
/// on a failure the mailbox list and the organisation are put back as they were. Returns
/// whether the tenant changed.
fn apply(
    tenant: &mut TenantFile,
    operations: &[Operation],
    identity: &str,
) -> Result<bool, ExoError> {
    // What one cmdlet can change: the organisation, one mailbox, or the list's length
    // (New-/Remove-Mailbox). Keep copies of just those.
    let organization = tenant.organization.clone();
    let count = tenant.mailboxes.len();
    let touched: Option<(usize, Mailbox)> =
        operations
            .iter()
            .find_map(|op| op.mailbox())
            .and_then(|address| {
                tenant
                    .mailboxes
                    .iter()
                    .position(|m| m.has_address(address))
                    .map(|i| (i, tenant.mailboxes[i].clone()))
            });
    let mut failure = None;
    for operation in operations {
        if let Err(e) = tenant.apply(operation) {
            failure = Some(tenant_error(e, identity));
            break;
        }
    }
    let restored = |tenant: &mut TenantFile| {
        tenant.organization = organization.clone();
        tenant.mailboxes.truncate(count);
        if let Some((i, before)) = &touched {
            if tenant.mailboxes.len() < count {
                tenant.mailboxes.insert(*i, before.clone());
            } else {
                tenant.mailboxes[*i] = before.clone();
            }
        }
    };
    if let Some(error) = failure {
        restored(tenant);
        return Err(error);
    }
    let changed = tenant.organization != organization
        || tenant.mailboxes.len() != count
        || touched
            .as_ref()
            .is_some_and(|(i, before)| tenant.mailboxes.get(*i) != Some(before));
    Ok(changed)
}

/// How Exchange reports what the file backend refuses.
fn tenant_error(error: TenantError, identity: &str) -> ExoError {
    match error {
        TenantError::MailboxNotFound(_) => ExoError::object_not_found(identity),
        TenantError::MailboxExists(address) => ExoError::already_exists(&address),
        TenantError::PrincipalNotFound(who) => ExoError::user_not_found(&who),
        TenantError::Rejected { message, .. } => ExoError::invalid(
            "Microsoft.Exchange.Configuration.Tasks.RecipientTaskException",
            message,
        ),
        other => ExoError::internal(other.to_string()),
    }
}

fn no_settings_modified(name: &str) -> String {
    format!("The command completed successfully but no settings of '{name}' have been modified.")
}

/// A principal to grant to: it must be a recipient.
fn grantee(
    directory: &Directory,
    value: &str,
    not_found: fn(&str) -> ExoError,
) -> Result<Recipient, ExoError> {
    match lookup::resolve(directory, value) {
        Resolved::Recipient(r) => Ok(*r),
        Resolved::Ambiguous => Err(ExoError::ambiguous(value)),
        Resolved::BuiltIn | Resolved::NotFound => Err(not_found(value)),
    }
}

/// A principal to revoke from: a recipient, or the exact live entry (`existing`) for an
/// orphaned SID or a built-in; a SID-shaped value that matches no entry is taken as it is.
fn revokee(
    directory: &Directory,
    value: &str,
    existing: &[String],
    not_found: fn(&str) -> ExoError,
) -> Result<Principal, ExoError> {
    match lookup::resolve(directory, value) {
        Resolved::Recipient(r) => Ok(lookup::principal(&r)),
        Resolved::Ambiguous => Err(ExoError::ambiguous(value)),
        Resolved::BuiltIn | Resolved::NotFound => {
            let entry = existing.iter().find(|e| {
                e.eq_ignore_ascii_case(value)
                    || e.strip_prefix("NT:")
                        .is_some_and(|sid| sid.eq_ignore_ascii_case(value))
            });
            match entry {
                Some(entry) => Ok(Principal::Orphaned { raw: entry.clone() }),
                None if lookup::is_sid(value) => Ok(Principal::Orphaned {
                    raw: value.to_owned(),
                }),
                None => Err(not_found(value)),
            }
        }
    }
}

fn mailbox_of<'a>(tenant: &'a TenantFile, view: &MailboxView) -> Option<&'a Mailbox> {
    tenant
        .mailboxes
        .iter()
        .find(|m| m.guid == view.mailbox.guid)
}

fn is_valid_smtp(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && address.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\'
                )
        })
}

/// `New-Mailbox -Shared -Name -DisplayName -PrimarySmtpAddress [-Alias]`.
pub fn new_mailbox(tenant: &mut TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Shared",
        "Name",
        "DisplayName",
        "PrimarySmtpAddress",
        "Alias",
    ])?;
    if params.bool("Shared")? != Some(true) {
        return Err(ExoError::unsupported(
            "New-Mailbox creates shared mailboxes only; pass \"Shared\": true",
        ));
    }
    let name = params.required_string("New-Mailbox", "Name")?;
    let display_name = params
        .string("DisplayName")?
        .unwrap_or_else(|| name.clone());
    let address = match params.string("PrimarySmtpAddress")? {
        Some(address) => address,
        None => {
            let alias = params.string("Alias")?.unwrap_or_else(|| name.clone());
            let domain = tenant
                .organization
                .accepted_domains
                .iter()
                .find(|d| !d.ends_with(".onmicrosoft.com"))
                .cloned()
                .unwrap_or_else(|| tenant.organization.name.clone());
            format!("{alias}@{domain}")
        }
    };
    if !is_valid_smtp(&address) {
        return Err(ExoError::bad_parameter(
            "PrimarySmtpAddress",
            format!(
                "Cannot process argument transformation on parameter 'PrimarySmtpAddress'. Cannot convert value \"{address}\" to type \"Microsoft.Exchange.Data.SmtpAddress\". Error: \"The email address \"{address}\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.\""
            ),
        ));
    }
    // A soft-deleted mailbox keeps its addresses for 30 days.
    if tenant
        .soft_deleted_mailboxes
        .iter()
        .any(|m| m.holds(&address))
    {
        return Err(ExoError::already_exists(&address));
    }
    let operation = Operation::CreateMailbox {
        mailbox: address.clone(),
        display_name,
    };
    apply(tenant, &[operation], &address)?;
    let view = lookup::find_shared(tenant, &address)?;
    let item = render::mailbox(&view, &tenant.organization.name, None);
    Ok(Output::changed(Some(vec![item]), Vec::new(), true))
}

/// `Remove-Mailbox -Identity X` (soft-deletes: the mailbox and its addresses are kept for
/// 30 days), or `Remove-Mailbox -Identity X -PermanentlyDelete` (purges a soft-deleted
/// mailbox; an active one is refused, as the cmdlet reference says the switch works only on
/// soft-deleted mailboxes).
pub fn remove_mailbox(tenant: &mut TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Permanent", "PermanentlyDelete"])?;
    let identity = params.required_string("Remove-Mailbox", "Identity")?;
    if params.bool("PermanentlyDelete")?.unwrap_or(false) {
        let Some(index) = tenant
            .soft_deleted_mailboxes
            .iter()
            .position(|m| m.holds(&identity))
        else {
            return Err(ExoError::object_not_found(&identity));
        };
        tenant.soft_deleted_mailboxes.remove(index);
        return Ok(Output::changed(None, Vec::new(), true));
    }
    let view = lookup::find_shared(tenant, &identity)?;
    let operation = Operation::RemoveMailbox {
        mailbox: view.mailbox.primary_smtp_address.clone(),
    };
    let changed = apply(tenant, &[operation], &identity)?;
    Ok(Output::changed(None, Vec::new(), changed))
}

/// The value a catalogued property's parameter was given, if it was given.
fn param_value<T>(
    params: &Params,
    cmdlet: &str,
    definition: &Definition<T>,
) -> Result<Option<Value>, ExoError> {
    let name = definition.parameter;
    if !params.has(name) {
        return Ok(None);
    }
    Ok(Some(match definition.kind {
        Kind::Text | Kind::Choice(_) => Value::Text(params.required_string(cmdlet, name)?),
        Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } => params.bool(name)?.into(),
        Kind::Tristate { .. } => params.nullable_bool(name)?.flatten().into(),
        // `$null` (or an empty string) clears a forwarding address.
        Kind::Address => params
            .string(name)?
            .filter(|s| !s.is_empty())
            .map_or(Value::Unset, Value::Text),
        // A `DateTime` parameter: the binder refuses what is not a time.
        Kind::Time => {
            let text = params.required_string(cmdlet, name)?;
            if sharedbox_tenant::auto_reply::parse_time(&text).is_none() {
                return Err(ExoError::invalid(
                    "Microsoft.Exchange.Configuration.Tasks.TaskArgumentException",
                    format!(
                        "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{text}\" to type \"System.DateTime\"."
                    ),
                ));
            }
            Value::Text(text)
        }
        // `$null` clears a message.
        Kind::Message => Value::Text(params.string(name)?.unwrap_or_default()),
    }))
}

/// The parameters a setter cmdlet takes: `Identity`, its catalogued properties and `extra`.
fn setter_parameters(cmdlet: &str, extra: &[&'static str]) -> Vec<&'static str> {
    let mut allowed = vec!["Identity"];
    allowed.extend(Property::of_cmdlet(cmdlet).map(|p| p.definition().parameter));
    allowed.extend(
        OrganizationProperty::ALL
            .into_iter()
            .map(|p| p.definition())
            .filter(|d| d.cmdlet == cmdlet)
            .map(|d| d.parameter),
    );
    allowed.extend_from_slice(extra);
    allowed
}

/// One `Set-Mailbox`/`Set-CASMailbox` operation per catalogued property among `params`.
fn mailbox_settings(
    params: &Params,
    cmdlet: &str,
    address: &str,
) -> Result<Vec<Operation>, ExoError> {
    let mut operations = Vec::new();
    for property in Property::of_cmdlet(cmdlet) {
        if let Some(value) = param_value(params, cmdlet, property.definition())? {
            operations.push(Operation::set(address, property, value));
        }
    }
    Ok(operations)
}

const LISTS: [(&str, PrincipalList); 3] = [
    ("GrantSendOnBehalfTo", PrincipalList::SendOnBehalf),
    ("ModeratedBy", PrincipalList::Moderators),
    (
        "BypassModerationFromSendersOrMembers",
        PrincipalList::ModerationBypass,
    ),
];

fn list_of(mailbox: &Mailbox, list: PrincipalList) -> &[String] {
    match list {
        PrincipalList::SendOnBehalf => &mailbox.grant_send_on_behalf_to,
        PrincipalList::Moderators => &mailbox.moderated_by,
        PrincipalList::ModerationBypass => &mailbox.bypass_moderation_from_senders_or_members,
    }
}

/// `Set-Mailbox -Identity X` with single-valued properties and the multi-valued ones in
/// the plain (replace) or hashtable (add/remove) form.
pub fn set_mailbox(
    tenant: &mut TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&setter_parameters(
        "Set-Mailbox",
        &[
            "GrantSendOnBehalfTo",
            "ModeratedBy",
            "BypassModerationFromSendersOrMembers",
            "EmailAddresses",
        ],
    ))?;
    let identity = params.required_string("Set-Mailbox", "Identity")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let address = view.mailbox.primary_smtp_address.clone();
    let (alias_adds, alias_removes) = email_addresses(tenant, config, params, &view.mailbox)?;
    // Only the principal lists need the directory (a pass over every recipient).
    let directory = if LISTS.iter().any(|(name, _)| params.has(name)) {
        tenant.directory()
    } else {
        Directory::default()
    };
    let settings = mailbox_settings(params, "Set-Mailbox", &address)?;
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    for (name, list) in LISTS {
        let Some(change) = params.multi_value(name, config.require_hashtable_type)? else {
            continue;
        };
        let current = list_of(&view.mailbox, list);
        let (add, remove) = match change {
            MultiValue::Modify { add, remove } => {
                let remove = remove
                    .iter()
                    .map(|v| revokee(&directory, v, current, ExoError::recipient_not_found))
                    .collect::<Result<Vec<_>, _>>()?;
                (add, remove)
            }
            MultiValue::Replace(values) => {
                let wanted = values
                    .iter()
                    .map(|v| grantee(&directory, v, ExoError::recipient_not_found))
                    .collect::<Result<Vec<_>, _>>()?;
                let remove = current
                    .iter()
                    .filter(|e| {
                        !wanted
                            .iter()
                            .any(|r| denotes(&directory, e, &lookup::principal(r)))
                    })
                    .map(|e| match lookup::resolve(&directory, e) {
                        Resolved::Recipient(r) => lookup::principal(&r),
                        _ => Principal::Orphaned { raw: e.clone() },
                    })
                    .collect();
                (values, remove)
            }
        };
        for value in add {
            let recipient = grantee(&directory, &value, ExoError::recipient_not_found)?;
            adds.push(Operation::AddToList {
                mailbox: address.clone(),
                list,
                principal: lookup::principal(&recipient),
            });
        }
        removes.extend(
            remove
                .into_iter()
                .map(|principal| Operation::RemoveFromList {
                    mailbox: address.clone(),
                    list,
                    principal,
                }),
        );
    }
    // Additions first (a moderator before moderation is enabled), removals last (moderation
    // disabled before its last moderator goes).
    let operations: Vec<Operation> = alias_adds
        .into_iter()
        .chain(adds)
        .chain(settings)
        .chain(removes)
        .chain(alias_removes)
        .collect();
    let changed = apply(tenant, &operations, &identity)?;
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(&view.mailbox.name)]
    };
    Ok(Output::changed(None, warnings, changed))
}

/// `-EmailAddresses @{Add=...; Remove=...}` as alias operations: each value is a proxy
/// address with its prefix; lower-case `smtp:` is a secondary address (the one form sharedbox
/// writes). Exchange refuses an address outside the accepted domains and one another
/// recipient (a soft-deleted mailbox included) holds (`ProxyAddressExistsException`). The
/// replace form and other prefixes are not modelled.
fn email_addresses(
    tenant: &TenantFile,
    config: &SimConfig,
    params: &Params,
    mailbox: &Mailbox,
) -> Result<(Vec<Operation>, Vec<Operation>), ExoError> {
    let Some(change) = params.multi_value("EmailAddresses", config.require_hashtable_type)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let MultiValue::Modify { add, remove } = change else {
        return Err(ExoError::unsupported(
            "Set-Mailbox -EmailAddresses: the simulator models the hashtable form (@{Add=...; Remove=...}) only",
        ));
    };
    let secondary = |value: &str| -> Result<String, ExoError> {
        match value.split_once(':') {
            Some(("smtp", address)) => Ok(address.to_owned()),
            _ => Err(ExoError::unsupported(format!(
                "Set-Mailbox -EmailAddresses {value}: the simulator models secondary SMTP addresses (`smtp:`) only"
            ))),
        }
    };
    let primary = &mailbox.primary_smtp_address;
    let directory = tenant.directory();
    let mut adds = Vec::new();
    for value in &add {
        let alias = secondary(value)?;
        if !is_valid_smtp(&alias) {
            return Err(ExoError::bad_parameter(
                "EmailAddresses",
                format!(
                    "Cannot process argument transformation on parameter 'EmailAddresses'. The email address \"{alias}\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com."
                ),
            ));
        }
        let domain = alias.rsplit_once('@').map_or("", |(_, d)| d);
        let domains = &tenant.organization.accepted_domains;
        if !domains.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err(ExoError::invalid(
                "Microsoft.Exchange.Data.DataValidationException",
                format!(
                    "The SMTP address has an invalid domain \"{domain}\": \"smtp:{alias}\" isn't in an accepted domain for your organization."
                ),
            ));
        }
        let taken = directory
            .recipients()
            .iter()
            .filter(|r| !r.primary_smtp_address.eq_ignore_ascii_case(primary))
            .any(|r| r.smtp_addresses().contains(&alias.to_ascii_lowercase()))
            || tenant
                .soft_deleted_mailboxes
                .iter()
                .any(|m| m.holds(&alias));
        if taken {
            return Err(ExoError::already_exists(&alias));
        }
        adds.push(Operation::AddAlias {
            mailbox: primary.clone(),
            address: alias,
        });
    }
    let mut removes = Vec::new();
    for value in &remove {
        removes.push(Operation::RemoveAlias {
            mailbox: primary.clone(),
            address: secondary(value)?,
        });
    }
    Ok((adds, removes))
}

/// `-AccessRights` of the permission cmdlets: every value must be `right`.
fn require_rights(params: &Params, cmdlet: &str, right: &str) -> Result<(), ExoError> {
    let Some(rights) = params.strings("AccessRights")? else {
        return Err(ExoError::missing_parameter(cmdlet, "AccessRights"));
    };
    if rights.is_empty() {
        return Err(ExoError::missing_parameter(cmdlet, "AccessRights"));
    }
    for value in &rights {
        if !value.eq_ignore_ascii_case(right) {
            return Err(ExoError::unsupported(format!(
                "{cmdlet} -AccessRights {value}: the simulator models {right} only"
            )));
        }
    }
    Ok(())
}

/// `Add-RecipientPermission -Identity X -Trustee T -AccessRights SendAs`.
pub fn add_recipient_permission(
    tenant: &mut TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Trustee", "AccessRights"])?;
    let identity = params.required_string("Add-RecipientPermission", "Identity")?;
    let trustee = params.required_string("Add-RecipientPermission", "Trustee")?;
    require_rights(params, "Add-RecipientPermission", "SendAs")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let recipient = grantee(&tenant.directory(), &trustee, ExoError::user_not_found)?;
    let before = view.mailbox.recipient_permissions.clone();
    let operation = Operation::GrantSendAs {
        mailbox: view.mailbox.primary_smtp_address.clone(),
        principal: lookup::principal(&recipient),
    };
    let changed = apply(tenant, &[operation], &identity)?;
    if !changed {
        let warning = format!(
            "The appropriate access control entry is already present on object \"{}\" for account \"{trustee}\".",
            view.mailbox.name
        );
        return Ok(Output::changed(None, vec![warning], false));
    }
    let after = mailbox_of(tenant, &view)
        .map(|m| m.recipient_permissions.clone())
        .unwrap_or_default();
    let items = after
        .iter()
        .filter(|row| !before.contains(row))
        .map(|row| render::recipient_permission(&view, row, config.quirks))
        .collect();
    Ok(Output::changed(Some(items), Vec::new(), true))
}

/// `Remove-RecipientPermission -Identity X -Trustee T -AccessRights SendAs`.
pub fn remove_recipient_permission(
    tenant: &mut TenantFile,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Trustee", "AccessRights"])?;
    let identity = params.required_string("Remove-RecipientPermission", "Identity")?;
    let trustee = params.required_string("Remove-RecipientPermission", "Trustee")?;
    require_rights(params, "Remove-RecipientPermission", "SendAs")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let grant = Grant {
        existing: view
            .mailbox
            .recipient_permissions
            .iter()
            .map(|r| r.trustee.clone())
            .collect(),
        mailbox: view.mailbox.primary_smtp_address.clone(),
        absent: format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{trustee}\" because the ACE isn't present.",
            view.mailbox.name
        ),
    };
    revoke(tenant, &identity, &trustee, grant, |mailbox, principal| {
        Operation::RevokeSendAs { mailbox, principal }
    })
}

/// `Add-MailboxPermission -Identity X -User U -AccessRights FullAccess [-AutoMapping b]`.
/// An existing grant answers 200 with the existing row and no warning.
pub fn add_mailbox_permission(
    tenant: &mut TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "User",
        "AccessRights",
        "AutoMapping",
        "InheritanceType",
        "Deny",
    ])?;
    let identity = params.required_string("Add-MailboxPermission", "Identity")?;
    let user = params.required_string("Add-MailboxPermission", "User")?;
    require_rights(params, "Add-MailboxPermission", "FullAccess")?;
    if params.bool("Deny")? == Some(true) {
        return Err(ExoError::unsupported(
            "Add-MailboxPermission -Deny is not modelled",
        ));
    }
    if let Some(inheritance) = params.string("InheritanceType")?
        && !inheritance.eq_ignore_ascii_case("All")
    {
        return Err(ExoError::unsupported(format!(
            "Add-MailboxPermission -InheritanceType {inheritance}: the simulator models All only"
        )));
    }
    let auto_mapping = params.bool("AutoMapping")?.unwrap_or(true);
    let view = lookup::find_shared(tenant, &identity)?;
    let directory = tenant.directory();
    let recipient = grantee(&directory, &user, ExoError::user_not_found)?;
    let principal = lookup::principal(&recipient);
    let operation = Operation::GrantFullAccess {
        mailbox: view.mailbox.primary_smtp_address.clone(),
        principal: principal.clone(),
        auto_mapping,
    };
    let changed = apply(tenant, &[operation], &identity)?;
    let rows = mailbox_of(tenant, &view)
        .map(|m| m.mailbox_permissions.clone())
        .unwrap_or_default();
    let items = rows
        .iter()
        .filter(|row| row.is_explicit_allow() && denotes(&directory, &row.user, &principal))
        .map(|row| render::mailbox_permission(&view, row, config.quirks))
        .collect();
    Ok(Output::changed(Some(items), Vec::new(), changed))
}

/// `Remove-MailboxPermission -Identity X -User U -AccessRights FullAccess`.
pub fn remove_mailbox_permission(
    tenant: &mut TenantFile,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "User",
        "AccessRights",
        "InheritanceType",
        "Deny",
    ])?;
    let identity = params.required_string("Remove-MailboxPermission", "Identity")?;
    let user = params.required_string("Remove-MailboxPermission", "User")?;
    require_rights(params, "Remove-MailboxPermission", "FullAccess")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let grant = Grant {
        existing: view
            .mailbox
            .mailbox_permissions
            .iter()
            .map(|r| r.user.clone())
            .collect(),
        mailbox: view.mailbox.primary_smtp_address.clone(),
        absent: format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{user}\" because the ACE doesn't exist on the object.",
            view.distinguished_name(&tenant.organization.name)
        ),
    };
    revoke(tenant, &identity, &user, grant, |mailbox, principal| {
        Operation::RevokeFullAccess { mailbox, principal }
    })
}

/// A permission list of one shared mailbox, as a `Remove-*Permission` cmdlet sees it.
struct Grant {
    /// The raw principal strings on the list.
    existing: Vec<String>,
    /// The mailbox's primary address.
    mailbox: String,
    /// Exchange's warning when the entry is not there.
    absent: String,
}

/// Revokes `who` from `grant`: the write `operation` makes, or Exchange's "not present"
/// warning (a success) when there was nothing to remove.
fn revoke(
    tenant: &mut TenantFile,
    identity: &str,
    who: &str,
    grant: Grant,
    operation: impl FnOnce(String, Principal) -> Operation,
) -> Result<Output, ExoError> {
    let principal = revokee(
        &tenant.directory(),
        who,
        &grant.existing,
        ExoError::user_not_found,
    )?;
    let changed = apply(tenant, &[operation(grant.mailbox, principal)], identity)?;
    let warnings = if changed {
        Vec::new()
    } else {
        vec![grant.absent]
    };
    Ok(Output::changed(None, warnings, changed))
}

/// Which folder-permission cmdlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderAction {
    /// `Add-MailboxFolderPermission`.
    Add,
    /// `Set-MailboxFolderPermission`.
    Set,
    /// `Remove-MailboxFolderPermission`.
    Remove,
}

impl FolderAction {
    fn cmdlet(self) -> &'static str {
        match self {
            FolderAction::Add => "Add-MailboxFolderPermission",
            FolderAction::Set => "Set-MailboxFolderPermission",
            FolderAction::Remove => "Remove-MailboxFolderPermission",
        }
    }
}

/// The single folder role of `-AccessRights`, in Exchange's spelling.
fn folder_role(params: &Params, cmdlet: &str) -> Result<String, ExoError> {
    let rights = params
        .strings("AccessRights")?
        .ok_or_else(|| ExoError::missing_parameter(cmdlet, "AccessRights"))?;
    let [value] = rights.as_slice() else {
        return Err(ExoError::unsupported(format!(
            "{cmdlet}: the simulator models a single folder role, not {rights:?}"
        )));
    };
    FOLDER_RIGHTS
        .iter()
        .find(|r| r.eq_ignore_ascii_case(value))
        .map(|r| (*r).to_owned())
        .ok_or_else(|| {
            ExoError::bad_parameter(
                "AccessRights",
                format!(
                    "Cannot process argument transformation on parameter 'AccessRights'. Cannot convert value \"{value}\" to type \"Microsoft.Exchange.Management.StoreTasks.MailboxFolderAccessRight\"."
                ),
            )
        })
}

/// `Add-/Set-/Remove-MailboxFolderPermission -Identity "mbx:\path" | "mbx:FolderId" -User U
/// [-AccessRights Role] [-SharingPermissionFlags Flags]`. The Sent Items folder, the Inbox,
/// the Calendar and the root keep permissions in the model. Delegate flags are refused as
/// Exchange refuses them (`Add-MailboxFolderPermission` doc: calendar folders only, only
/// with `Editor`, `CanViewPrivateItems` only with `Delegate`); a `Set-` that does not name
/// them keeps the entry's flags.
pub fn folder_permission(
    tenant: &mut TenantFile,
    config: &SimConfig,
    params: &Params,
    action: FolderAction,
) -> Result<Output, ExoError> {
    let cmdlet = action.cmdlet();
    let mut allowed = vec!["Identity", "User"];
    if action != FolderAction::Remove {
        allowed.extend([
            "AccessRights",
            "SharingPermissionFlags",
            "SendNotificationToUser",
        ]);
    }
    params.check_allowed(&allowed)?;
    let identity = params.required_string(cmdlet, "Identity")?;
    let user = params.required_string(cmdlet, "User")?;
    let access = match action {
        FolderAction::Remove => None,
        _ => Some(folder_role(params, cmdlet)?),
    };
    let (mailbox, spec) = split_folder_identity(&identity);
    let view = lookup::find_mailbox(tenant, mailbox)?;
    let all = folders::folders(&view, config.quirks);
    let folder = folders::find(&all, spec)
        .cloned()
        .ok_or_else(|| ExoError::object_not_found(&identity))?;
    if !(folder.well_known.is_some() || folder.is_root()) || !view.shared {
        return Err(ExoError::unsupported(format!(
            "{cmdlet} on `{identity}`: the simulator keeps permissions of the Sent Items, Inbox and Calendar folders and the root of shared mailboxes only"
        )));
    }
    let flags = match action {
        FolderAction::Remove => None,
        _ => params
            .strings("SharingPermissionFlags")?
            .map(|f| sharedbox_tenant::canonical_flags(&f)),
    };
    let directory = tenant.directory();
    let rows = folder_rows(&view, &folder);
    let existing: Vec<String> = rows.iter().map(|r| r.user.clone()).collect();
    let (principal, shown) = match (action, lookup::resolve(&directory, &user)) {
        (_, Resolved::Recipient(r)) => (lookup::principal(&r), r.display_name.clone()),
        (FolderAction::Add, Resolved::NotFound) => return Err(ExoError::user_not_found(&user)),
        _ => {
            let principal = revokee(&directory, &user, &existing, ExoError::user_not_found)?;
            (principal, user.clone())
        }
    };
    let present = rows
        .iter()
        .any(|row| denotes(&directory, &row.user, &principal));
    let address = view.mailbox.primary_smtp_address.clone();
    if folder.is_root() {
        return root_permission(
            tenant,
            config,
            RootWrite {
                action,
                access,
                identity: &identity,
                folder: &folder,
                principal: &principal,
                shown: &shown,
                present,
            },
        );
    }
    let well_known = folder
        .well_known
        .unwrap_or(sharedbox_tenant::WellKnownFolder::SentItems);
    // A `Set-` without `-SharingPermissionFlags` keeps the flags the entry has.
    let flags = flags.unwrap_or_else(|| {
        rows.iter()
            .find(|row| denotes(&directory, &row.user, &principal))
            .map(|row| row.sharing_permission_flags.clone())
            .unwrap_or_default()
    });
    if let Some(access) = &access
        && let Err(why) = sharedbox_tenant::check_folder_entry(well_known, access, &flags)
    {
        return Err(ExoError::invalid(
            "Microsoft.Exchange.Management.StoreTasks.InvalidSharingPermissionFlagsException",
            format!("The SharingPermissionFlags can't be applied: {why}."),
        ));
    }
    let operation = match (action, access) {
        (FolderAction::Add, _) if present => {
            return Err(ExoError::invalid(
                "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException",
                format!("An existing permission entry was found for user: {shown}."),
            ));
        }
        (FolderAction::Set | FolderAction::Remove, _) if !present => {
            return Err(ExoError {
                status: 404,
                code: "NotFound",
                ..ExoError::invalid(
                    "Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException",
                    format!("There is no existing permission entry found for user: {shown}."),
                )
            });
        }
        (FolderAction::Add, Some(access)) if folder.is_sent_items => {
            Operation::AddSentItemsPermission {
                mailbox: address,
                principal: principal.clone(),
                access,
            }
        }
        (FolderAction::Set, Some(access)) if folder.is_sent_items => {
            Operation::SetSentItemsPermission {
                mailbox: address,
                principal: principal.clone(),
                access,
            }
        }
        (FolderAction::Remove, _) if folder.is_sent_items => Operation::RemoveSentItemsPermission {
            mailbox: address,
            principal: principal.clone(),
        },
        (FolderAction::Add, Some(access)) => Operation::AddFolderPermission {
            mailbox: address,
            folder: well_known,
            principal: principal.clone(),
            access,
            flags,
        },
        (FolderAction::Set, Some(access)) => Operation::SetFolderPermission {
            mailbox: address,
            folder: well_known,
            principal: principal.clone(),
            access,
            flags,
        },
        _ => Operation::RemoveFolderPermission {
            mailbox: address,
            folder: well_known,
            principal: principal.clone(),
        },
    };
    // The first write to an Inbox or Calendar the tenant file does not hold keeps the
    // folder as it was shown (localised name, id, default rows), not a new English one.
    if let Some(well_known) = folder.well_known
        && let Some(m) = tenant
            .mailboxes
            .iter_mut()
            .find(|m| m.has_address(&view.mailbox.primary_smtp_address))
        && m.folder(well_known).is_none()
    {
        *m.folder_mut(well_known) = sharedbox_tenant::MailboxFolder {
            name: folder.name.clone(),
            folder_id: folder.folder_id.clone(),
            permissions: rows.clone(),
        };
    }
    let changed = apply(tenant, &[operation], &identity)?;
    if action == FolderAction::Remove {
        return Ok(Output::changed(None, Vec::new(), changed));
    }
    let after = lookup::find_shared(tenant, mailbox)?;
    let items: Vec<Item> = folder_rows(&after, &folder)
        .iter()
        .filter(|row| denotes(&directory, &row.user, &principal))
        .map(|row| render::folder_permission(&identity, &folder, row, config.quirks))
        .collect();
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(&identity)]
    };
    Ok(Output::changed(Some(items), warnings, changed))
}

/// One checked write of a root folder permission.
struct RootWrite<'a> {
    action: FolderAction,
    access: Option<String>,
    identity: &'a str,
    folder: &'a folders::Folder,
    principal: &'a Principal,
    shown: &'a str,
    present: bool,
}

/// `Add-/Set-/Remove-MailboxFolderPermission` on the mailbox root (`mbx:\`), with the same
/// answers as on Sent Items: an `Add-` of an existing entry and a `Set-`/`Remove-` of a
/// missing one are refused. `FolderVisible` added and any entry removed go through the root
/// visibility operations (the file backend's reference behaviour); another role is written
/// to the root rows as it is, so that tests can give a principal more than sharedbox does.
fn root_permission(
    tenant: &mut TenantFile,
    config: &SimConfig,
    write: RootWrite<'_>,
) -> Result<Output, ExoError> {
    let RootWrite {
        action,
        access,
        identity,
        folder,
        principal,
        shown,
        present,
    } = write;
    let (mailbox, _) = split_folder_identity(identity);
    match action {
        FolderAction::Add if present => {
            return Err(ExoError::invalid(
                "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException",
                format!("An existing permission entry was found for user: {shown}."),
            ));
        }
        FolderAction::Set | FolderAction::Remove if !present => {
            return Err(ExoError {
                status: 404,
                code: "NotFound",
                ..ExoError::invalid(
                    "Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException",
                    format!("There is no existing permission entry found for user: {shown}."),
                )
            });
        }
        _ => {}
    }
    let view = lookup::find_shared(tenant, mailbox)?;
    let address = view.mailbox.primary_smtp_address.clone();
    let directory = tenant.directory();
    let changed = match (action, access) {
        (FolderAction::Remove, _) => apply(
            tenant,
            &[Operation::RevokeRootVisibility {
                mailbox: address.clone(),
                principal: principal.clone(),
            }],
            identity,
        )?,
        (FolderAction::Add, Some(access))
            if access.eq_ignore_ascii_case(sharedbox_tenant::FOLDER_VISIBLE) =>
        {
            apply(
                tenant,
                &[Operation::GrantRootVisibility {
                    mailbox: address.clone(),
                    principal: principal.clone(),
                }],
                identity,
            )?
        }
        (_, access) => {
            let access = access.unwrap_or_default();
            let Some(m) = tenant
                .mailboxes
                .iter_mut()
                .find(|m| m.has_address(&address))
            else {
                return Err(ExoError::object_not_found(identity));
            };
            let rows = m
                .root_folder
                .get_or_insert_with(sharedbox_tenant::FolderPermission::built_in_rows);
            match rows
                .iter_mut()
                .find(|row| denotes(&directory, &row.user, principal))
            {
                Some(row) => {
                    let changed = row.access_rights != [access.clone()];
                    row.access_rights = vec![access];
                    changed
                }
                None => {
                    rows.push(sharedbox_tenant::FolderPermission {
                        user: shown.to_owned(),
                        access_rights: vec![access],
                        sharing_permission_flags: Vec::new(),
                    });
                    true
                }
            }
        }
    };
    if action == FolderAction::Remove {
        return Ok(Output::changed(None, Vec::new(), changed));
    }
    let after = lookup::find_shared(tenant, mailbox)?;
    let items: Vec<Item> = folder_rows(&after, folder)
        .iter()
        .filter(|row| denotes(&directory, &row.user, principal))
        .map(|row| render::folder_permission(identity, folder, row, config.quirks))
        .collect();
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(identity)]
    };
    Ok(Output::changed(Some(items), warnings, changed))
}

/// `Set-CASMailbox -Identity X` with client switches and `SmtpClientAuthenticationDisabled`.
pub fn set_cas_mailbox(tenant: &mut TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&setter_parameters("Set-CASMailbox", &[]))?;
    let identity = params.required_string("Set-CASMailbox", "Identity")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let operations =
        mailbox_settings(params, "Set-CASMailbox", &view.mailbox.primary_smtp_address)?;
    let changed = apply(tenant, &operations, &identity)?;
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(&view.mailbox.name)]
    };
    Ok(Output::changed(None, warnings, changed))
}

/// `Set-MailboxAutoReplyConfiguration -Identity X` with any of its catalogued parameters, in
/// one call. As Exchange does, a message is stored as HTML: text without an `<html>` element
/// is wrapped in `<html><head>..</head><body>..</body></html>` with CRLF line ends, and
/// [`exchange_html`] re-encodes some entities. A `Scheduled` state whose `EndTime` is not
/// after its `StartTime` is refused [GUESS: the wording of Exchange's error].
pub fn set_auto_reply(tenant: &mut TenantFile, params: &Params) -> Result<Output, ExoError> {
    let cmdlet = sharedbox_tenant::catalog::AUTO_REPLY_SET;
    params.check_allowed(&setter_parameters(cmdlet, &[]))?;
    let identity = params.required_string(cmdlet, "Identity")?;
    let view = lookup::find_shared(tenant, &identity)?;
    let mut operations = mailbox_settings(params, cmdlet, &view.mailbox.primary_smtp_address)?;
    for operation in &mut operations {
        if let Operation::SetMailbox { setting, .. } = operation
            && setting.definition().kind == Kind::Message
        {
            setting.value = Value::Text(exchange_html(&setting.value.text()));
        }
    }
    // The schedule as the call leaves it.
    let mut after = view.mailbox.clone();
    after.auto_reply.get_or_insert_with(Default::default);
    for operation in &operations {
        if let Operation::SetMailbox { setting, .. } = operation {
            (setting.definition().set)(&mut after, setting.value.clone());
        }
    }
    if let Some(a) = &after.auto_reply
        && a.state.eq_ignore_ascii_case("Scheduled")
    {
        let time = |t: &Option<String>| {
            t.as_deref()
                .and_then(sharedbox_tenant::auto_reply::parse_time)
        };
        if let (Some(start), Some(end)) = (time(&a.start_time), time(&a.end_time))
            && end <= start
        {
            return Err(ExoError::invalid(
                "Microsoft.Exchange.Data.DataValidationException",
                "The end time must be later than the start time.",
            ));
        }
    }
    let changed = apply(tenant, &operations, &identity)?;
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(&view.mailbox.name)]
    };
    Ok(Output::changed(None, warnings, changed))
}

/// A message as Exchange stores it: HTML as it is; text wrapped in an HTML document, with
/// `&quot;` written as `"` and `'` as `&#39;` (Exchange re-serialises the HTML, so what comes
/// back is not what was sent) [GUESS: the exact re-serialisation]. Empty stays empty.
pub fn exchange_html(message: &str) -> String {
    if message.trim().is_empty() {
        return String::new();
    }
    if message
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("<html")
    {
        return message.to_owned();
    }
    let body = message.replace("&quot;", "\"").replace('\'', "&#39;");
    format!(
        "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n{body}\r\n</body>\r\n</html>\r\n"
    )
}

/// `Set-OrganizationConfig -SendFromAliasEnabled b`, `Set-TransportConfig
/// -SmtpClientAuthenticationDisabled b`: the organisation properties `cmdlet` writes.
pub fn set_organization_settings(
    tenant: &mut TenantFile,
    cmdlet: &str,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&setter_parameters(cmdlet, &[]))?;
    let mut operations = Vec::new();
    for property in OrganizationProperty::ALL {
        let definition = property.definition();
        if definition.cmdlet != cmdlet {
            continue;
        }
        if let Some(value) = param_value(params, cmdlet, definition)? {
            operations.push(Operation::set_organization(property, value));
        }
    }
    let name = tenant.organization.name.clone();
    let changed = apply(tenant, &operations, &name)?;
    let warnings = if changed {
        Vec::new()
    } else {
        vec![no_settings_modified(&name)]
    };
    Ok(Output::changed(None, warnings, changed))
}

/// `New-ServicePrincipal -AppId -ObjectId (or -ServiceId) [-DisplayName]`: registers a
/// service principal. Exchange does not check the ids against Entra (michev.info post 4027).
pub fn new_service_principal(tenant: &mut TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "AppId",
        "ObjectId",
        "ServiceId",
        "DisplayName",
        "Organization",
    ])?;
    let app_id = params.required_string("New-ServicePrincipal", "AppId")?;
    let object_id = match params.string("ObjectId")? {
        Some(id) => id,
        None => params.required_string("New-ServicePrincipal", "ServiceId")?,
    };
    let display_name = params.string("DisplayName")?.unwrap_or_default();
    let before = tenant.recipients.len();
    let operation = Operation::CreateServicePrincipal {
        app_id: app_id.clone(),
        object_id,
        display_name,
    };
    tenant
        .apply(&operation)
        .map_err(|e| tenant_error(e, &app_id))?;
    let created = tenant.recipients.last().map(render::service_principal);
    Ok(Output::changed(
        created.map(|c| vec![c]),
        Vec::new(),
        tenant.recipients.len() != before,
    ))
}

/// `Remove-ServicePrincipal -Identity <object id, app id or display name>`.
pub fn remove_service_principal(
    tenant: &mut TenantFile,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Organization"])?;
    let identity = params.required_string("Remove-ServicePrincipal", "Identity")?;
    let found = tenant
        .recipients
        .iter()
        .find(|r| {
            r.is_service_principal()
                && [
                    r.external_directory_object_id.as_deref(),
                    r.app_id.as_deref(),
                    Some(r.display_name.as_str()),
                    Some(r.guid.as_str()),
                ]
                .into_iter()
                .flatten()
                .any(|k| k.eq_ignore_ascii_case(&identity))
        })
        .map(|r| {
            (
                r.app_id.clone().unwrap_or_default(),
                r.external_directory_object_id.clone().unwrap_or_default(),
            )
        });
    let Some((app_id, object_id)) = found else {
        return Err(ExoError::object_not_found(&identity));
    };
    tenant
        .apply(&Operation::RemoveServicePrincipal { app_id, object_id })
        .map_err(|e| tenant_error(e, &identity))?;
    Ok(Output::changed(None, Vec::new(), true))
}
