//! The read cmdlets. Each returns every matching object; `$select` and paging are applied
//! by the server afterwards.
//!
//! As on the real service, an empty `Identity` on the permission and folder cmdlets means
//! "all" (reference §3.3), and `ResultSize` caps a listing (default 1000, `Unlimited` for
//! everything) with the service's "more results available" warning.

use sharedbox_file::TenantFile;
use sharedbox_tenant::{FolderPermission, Mailbox, Recipient};

use super::{Output, render};
use crate::config::SimConfig;
use crate::folders;
use crate::lookup::{self, MailboxView, Resolved};
use crate::params::Params;
use crate::wire::{ExoError, Item};

const MORE_RESULTS: &str = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.";

/// `ResultSize`: `None` = unlimited.
fn result_size(params: &Params) -> Result<Option<usize>, ExoError> {
    match params.string("ResultSize")? {
        None => Ok(Some(1000)),
        Some(s) if s.eq_ignore_ascii_case("Unlimited") => Ok(None),
        Some(s) => s.parse::<usize>().map(Some).map_err(|_| {
            ExoError::bad_parameter(
                "ResultSize",
                format!(
                    "Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"{s}\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\"."
                ),
            )
        }),
    }
}

/// Caps `items` at `ResultSize`, warning when objects were left out.
fn capped(items: Vec<Item>, params: &Params) -> Result<Output, ExoError> {
    let mut items = items;
    let mut warnings = Vec::new();
    if let Some(limit) = result_size(params)?
        && items.len() > limit
    {
        items.truncate(limit);
        warnings.push(MORE_RESULTS.to_owned());
    }
    Ok(Output::items(items, warnings))
}

/// `Identity`: `None` (absent) for "all" on the listing cmdlets.
fn identity(params: &Params) -> Result<Option<String>, ExoError> {
    params.string("Identity")
}

/// `RecipientTypeDetails` filter (a string or an array).
fn type_filter(params: &Params) -> Result<Option<Vec<String>>, ExoError> {
    params.strings("RecipientTypeDetails")
}

fn matches_types(filter: &Option<Vec<String>>, details: &str) -> bool {
    filter
        .as_ref()
        .is_none_or(|f| f.iter().any(|t| t.eq_ignore_ascii_case(details)))
}

/// The mailboxes a listing covers: one for a non-empty `Identity`, all for none/empty.
fn mailboxes_for(
    tenant: &TenantFile,
    identity: Option<&str>,
) -> Result<Vec<MailboxView>, ExoError> {
    match identity {
        Some(id) if !id.is_empty() => Ok(vec![lookup::find_mailbox(tenant, id)?]),
        _ => Ok(lookup::mailboxes(tenant)),
    }
}

/// Sorts by `SortBy` (`DisplayName`, `Name`, `PrimarySmtpAddress`).
fn sorted(mut items: Vec<Item>, params: &Params) -> Result<Vec<Item>, ExoError> {
    let Some(key) = params.string("SortBy")? else {
        return Ok(items);
    };
    let key = ["DisplayName", "Name", "PrimarySmtpAddress", "Alias"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(key.trim_start_matches('+')))
        .ok_or_else(|| {
            ExoError::bad_parameter(
                "SortBy",
                format!("The property '{key}' can't be used for sorting."),
            )
        })?;
    items.sort_by_key(|i| i.get_str(key).unwrap_or_default().to_lowercase());
    Ok(items)
}

/// `Get-Mailbox`.
pub fn get_mailbox(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "ResultSize",
        "RecipientTypeDetails",
        "IncludeGrantSendOnBehalfToWithDisplayNames",
        "Properties",
        "SortBy",
        "SoftDeletedMailbox",
    ])?;
    if params.bool("SoftDeletedMailbox")?.unwrap_or(false) {
        return soft_deleted_mailboxes(tenant, params);
    }
    let filter = type_filter(params)?;
    let with_names = params
        .bool("IncludeGrantSendOnBehalfToWithDisplayNames")?
        .unwrap_or(false);
    let views = mailboxes_for(tenant, identity(params)?.as_deref())?;
    // Exchange reports `ForwardingAddress` as the recipient's Name, not its address.
    let forwards = views.iter().any(|v| v.mailbox.forwarding_address.is_some());
    let directory = if with_names || forwards {
        tenant.directory()
    } else {
        Default::default()
    };
    let organization = &tenant.organization.name;
    let items = views
        .iter()
        .filter(|v| matches_types(&filter, &v.details))
        .map(|v| {
            let item = render::mailbox(v, organization, with_names.then_some(&directory));
            match v
                .mailbox
                .forwarding_address
                .as_deref()
                .and_then(|a| directory.resolve_policy(a))
            {
                Some(recipient) => item.with("ForwardingAddress", recipient.name.as_str()),
                None => item,
            }
        })
        .collect();
    capped(sorted(items, params)?, params)
}

/// `Get-CASMailbox`.
pub fn get_cas_mailbox(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "ResultSize", "RecipientTypeDetails", "SortBy"])?;
    let filter = type_filter(params)?;
    let items = mailboxes_for(tenant, identity(params)?.as_deref())?
        .iter()
        .filter(|v| matches_types(&filter, &v.details))
        .map(render::cas_mailbox)
        .collect();
    capped(sorted(items, params)?, params)
}

/// `Get-MailboxAutoReplyConfiguration -Identity X`: the mailbox's automatic replies, messages
/// as the HTML stored, times as the admin API writes a `DateTime`.
pub fn get_auto_reply(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity"])?;
    let identity = params.required_string(sharedbox_tenant::catalog::AUTO_REPLY_GET, "Identity")?;
    let view = lookup::find_mailbox(tenant, &identity)?;
    Ok(Output::items(vec![render::auto_reply(&view)], Vec::new()))
}

/// `Get-MailboxStatistics -Identity X`: the mailbox's size as Exchange writes it,
/// `"1.5 GB (1,610,612,736 bytes)"` (from `totalItemSizeBytes` of the tenant file, else
/// empty).
pub fn get_mailbox_statistics(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity"])?;
    let identity = params.required_string("Get-MailboxStatistics", "Identity")?;
    let view = lookup::find_mailbox(tenant, &identity)?;
    let m = &view.mailbox;
    let bytes = m.total_item_size_bytes.unwrap_or(0);
    let item = Item::new()
        .with("Identity", m.name.as_str())
        .with("DisplayName", m.display_name.as_str())
        .with("TotalItemSize", render::item_size(bytes))
        .with("ItemCount", u64::from(bytes > 0) * (bytes / 50_000).max(1));
    Ok(Output::items(vec![item], Vec::new()))
}

/// `Get-Recipient`: the whole directory.
pub fn get_recipient(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "ResultSize",
        "RecipientTypeDetails",
        "RecipientType",
        "SortBy",
    ])?;
    let filter = type_filter(params)?;
    let type_only = params.strings("RecipientType")?;
    let shared: std::collections::HashMap<&str, &Mailbox> = tenant
        .mailboxes
        .iter()
        .map(|m| (m.guid.as_str(), m))
        .collect();
    let hidden_of = |r: &Recipient| {
        shared
            .get(r.guid.as_str())
            .is_some_and(|m| m.hidden_from_address_lists_enabled)
    };
    let alias_of = |r: &Recipient| {
        shared
            .get(r.guid.as_str())
            .map(|m| m.alias.clone())
            .unwrap_or_else(|| {
                r.primary_smtp_address
                    .split('@')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
    };
    let directory = tenant.directory();
    let recipients: Vec<&Recipient> = match identity(params)?.as_deref() {
        Some(id) if !id.is_empty() => match lookup::resolve(&directory, id) {
            Resolved::Recipient(r) => directory
                .recipients()
                .iter()
                .filter(|d| d.guid == r.guid)
                .collect(),
            Resolved::Ambiguous => return Err(ExoError::ambiguous(id)),
            _ => return Err(ExoError::object_not_found(id)),
        },
        _ => directory.recipients().iter().collect(),
    };
    // Get-Recipient lists mail-enabled objects only (its doc): users and security groups
    // without mail come from Get-User / Get-Group, service principals from
    // Get-ServicePrincipal.
    let items = recipients
        .into_iter()
        .filter(|r| r.is_mail_enabled())
        .filter(|r| matches_types(&filter, &r.recipient_type_details))
        .filter(|r| {
            type_only.as_ref().is_none_or(|t| {
                t.iter().any(|t| {
                    t.eq_ignore_ascii_case(render::recipient_type(&r.recipient_type_details))
                })
            })
        })
        .map(|r| render::recipient(r, &alias_of(r), hidden_of(r)))
        .collect();
    capped(sorted(items, params)?, params)
}

/// A `-User`/`-Trustee` filter of a permission read: rows of the recipient it names,
/// else (a built-in or unknown name) rows spelled exactly like it; no filter keeps every row.
struct PrincipalFilter {
    raw: Option<String>,
    wanted: Option<Resolved>,
    directory: sharedbox_tenant::Directory,
}

impl PrincipalFilter {
    fn new(tenant: &TenantFile, raw: Option<String>) -> PrincipalFilter {
        // The directory costs a pass over every recipient: only built when filtering.
        let directory = match raw {
            Some(_) => tenant.directory(),
            None => Default::default(),
        };
        let wanted = raw.as_deref().map(|r| lookup::resolve(&directory, r));
        PrincipalFilter {
            raw,
            wanted,
            directory,
        }
    }

    fn admits(&self, entry: &str) -> bool {
        match (&self.wanted, self.raw.as_deref()) {
            (Some(Resolved::Recipient(r)), _) => {
                matches!(lookup::resolve(&self.directory, entry), Resolved::Recipient(e) if e == *r)
            }
            (Some(_), Some(raw)) => entry.eq_ignore_ascii_case(raw),
            _ => true,
        }
    }
}

/// `Get-MailboxPermission -Identity X [-User U] [-IncludeUnresolvedPermissions]`: the entry of
/// an account SID that resolves to nothing is listed only with the switch.
pub fn get_mailbox_permission(
    tenant: &TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "User",
        "ResultSize",
        "IncludeUnresolvedPermissions",
        "IncludeSoftDeletedUserPermissions",
    ])?;
    let identity = params.required_string("Get-MailboxPermission", "Identity")?;
    let user = params.string("User")?;
    let unresolved = params
        .bool("IncludeUnresolvedPermissions")?
        .unwrap_or(false);
    let filter = PrincipalFilter::new(tenant, user);
    // The directory costs a pass over every recipient: built only when a row names a SID,
    // not on every call (one call per managed mailbox in a plan).
    let mut directory = None;
    let mut items = Vec::new();
    for view in mailboxes_for(tenant, Some(&identity))? {
        for row in render::mailbox_permission_rows(&view, config.quirks) {
            // An account's SID that resolves to nothing is listed only on request.
            let orphaned = lookup::is_sid(&row.user)
                && lookup::resolve(
                    directory.get_or_insert_with(|| tenant.directory()),
                    &row.user,
                ) == Resolved::NotFound;
            if orphaned && !unresolved {
                continue;
            }
            if filter.admits(&row.user) {
                items.push(render::mailbox_permission(&view, &row, config.quirks));
            }
        }
    }
    Ok(Output::items(items, Vec::new()))
}

/// `Get-RecipientPermission [-Identity X] [-Trustee T] [-AccessRights SendAs]`: without
/// `Identity`, the rows of every mailbox, each naming its mailbox in `Identity`.
pub fn get_recipient_permission(
    tenant: &TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Trustee", "AccessRights", "ResultSize"])?;
    let trustee = params.string("Trustee")?;
    let rights = params.strings("AccessRights")?;
    let filter = PrincipalFilter::new(tenant, trustee);
    let mut items = Vec::new();
    for view in mailboxes_for(tenant, identity(params)?.as_deref())? {
        for row in &view.mailbox.recipient_permissions {
            let trustee_ok = filter.admits(&row.trustee);
            let rights_ok = rights.as_ref().is_none_or(|wanted| {
                wanted
                    .iter()
                    .all(|w| row.access_rights.iter().any(|r| r.eq_ignore_ascii_case(w)))
            });
            if trustee_ok && rights_ok {
                items.push(render::recipient_permission(&view, row, config.quirks));
            }
        }
    }
    capped(items, params)
}

/// `Get-MailboxFolderStatistics -Identity X [-FolderScope S]`.
pub fn get_folder_statistics(
    tenant: &TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "FolderScope", "IncludeOldestAndNewestItems"])?;
    let identity = params.required_string("Get-MailboxFolderStatistics", "Identity")?;
    let scope = params
        .string("FolderScope")?
        .unwrap_or_else(|| "All".to_owned());
    let mut items = Vec::new();
    for view in mailboxes_for(tenant, Some(&identity))? {
        let all = folders::folders(&view, config.quirks);
        for folder in folders::in_scope(all, &scope) {
            items.push(render::folder_statistics(&view, &folder));
        }
    }
    Ok(Output::items(items, Vec::new()))
}

/// A folder identity split into mailbox and folder part: `mbx:\path`, `mbx:FolderId`, or
/// `mbx` alone (the root folder).
pub fn split_folder_identity(identity: &str) -> (&str, &str) {
    match identity.split_once(':') {
        Some((mailbox, folder)) => (mailbox, folder),
        None => (identity, "\\"),
    }
}

/// The permissions of a folder: the model's for Sent Items, the Inbox and Calendar where it
/// holds them, and the root (`Default` and `Anonymous` with `None` when the tenant file
/// holds no root rows), defaults for the others.
pub fn folder_rows(view: &MailboxView, folder: &folders::Folder) -> Vec<FolderPermission> {
    if let Some(kept) = folder.well_known.and_then(|f| view.mailbox.folder(f)) {
        kept.permissions.clone()
    } else if folder.is_root() {
        view.mailbox
            .root_folder
            .clone()
            .unwrap_or_else(FolderPermission::built_in_rows)
    } else {
        render::default_folder_permissions(folder)
    }
}

/// `Get-MailboxFolderPermission -Identity "mbx:\path" | "mbx:FolderId" [-User U]`.
pub fn get_folder_permission(
    tenant: &TenantFile,
    config: &SimConfig,
    params: &Params,
) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "User", "GroupMailbox"])?;
    let Some(identity) = params.string("Identity")? else {
        return Err(ExoError::missing_parameter(
            "Get-MailboxFolderPermission",
            "Identity",
        ));
    };
    let user = params.string("User")?;
    let mut targets = Vec::new();
    if identity.is_empty() {
        // An empty identity means every mailbox (reference §3.3): their Sent Items folders.
        for view in lookup::mailboxes(tenant) {
            let all = folders::folders(&view, config.quirks);
            if let Some(f) = all.iter().find(|f| f.is_sent_items) {
                let id = format!("{}:\\{}", view.mailbox.primary_smtp_address, &f.path[1..]);
                targets.push((id, view.clone(), f.clone()));
            }
        }
    } else {
        let (mailbox, spec) = split_folder_identity(&identity);
        let view = lookup::find_mailbox(tenant, mailbox)?;
        let all = folders::folders(&view, config.quirks);
        let folder = folders::find(&all, spec)
            .cloned()
            .ok_or_else(|| ExoError::object_not_found(&identity))?;
        targets.push((identity.clone(), view, folder));
    }
    let filter = PrincipalFilter::new(tenant, user);
    let mut items = Vec::new();
    for (id, view, folder) in targets {
        for row in folder_rows(&view, &folder) {
            if filter.admits(&row.user) {
                items.push(render::folder_permission(&id, &folder, &row, config.quirks));
            }
        }
    }
    if let Some(user) = filter.raw.as_deref()
        && items.is_empty()
    {
        return Err(ExoError {
            status: 404,
            code: "NotFound",
            ..ExoError::invalid(
                "Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException",
                format!("There is no existing permission entry found for user: {user}."),
            )
        });
    }
    Ok(Output::items(items, Vec::new()))
}

/// `Get-TransportConfig`.
pub fn get_transport_config(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity"])?;
    Ok(Output::items(
        vec![render::transport_config(&tenant.organization)],
        Vec::new(),
    ))
}

/// `Get-OrganizationConfig`.
pub fn get_organization_config(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity"])?;
    Ok(Output::items(
        vec![render::organization(&tenant.organization)],
        Vec::new(),
    ))
}

/// `Get-User [-RecipientTypeDetails ...] [-Filter "AccountDisabled -eq $true"]`: every user
/// object, with or without mail (never a group, contact or service principal), with its UPN,
/// SID and `AccountDisabled`. The only `-Filter` the simulator evaluates is one on
/// `AccountDisabled` (true or false); any other is refused as the service refuses a filter it
/// cannot parse.
pub fn get_user(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    let disabled = match params.string("Filter")? {
        None => None,
        Some(filter) => Some(disabled_filter(&filter)?),
    };
    let mut output = directory_objects(tenant, params, "User", |r| {
        !r.is_group() && !r.is_service_principal() && r.recipient_type_details != "MailContact"
    })?;
    if let (Some(wanted), Some(items)) = (disabled, output.value.as_mut()) {
        items.retain(|i| {
            i.get("AccountDisabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
                == wanted
        });
    }
    Ok(output)
}

/// The value a `-Filter` on `AccountDisabled` asks for: `AccountDisabled -eq $true` (or
/// `'True'`, `-ne $false`, ...).
fn disabled_filter(filter: &str) -> Result<bool, ExoError> {
    let words: Vec<String> = filter
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c| matches!(c, '\'' | '"' | '(' | ')'))
                .to_ascii_lowercase()
        })
        .collect();
    let refuse = || {
        ExoError::bad_parameter(
            "Filter",
            format!(
                "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. For a description of the filter parameter syntax see the command help. \"{filter}\"\""
            ),
        )
    };
    match words.as_slice() {
        [property, op, value] if property == "accountdisabled" => {
            let value = match value.trim_start_matches('$') {
                "true" => true,
                "false" => false,
                _ => return Err(refuse()),
            };
            match op.as_str() {
                "-eq" => Ok(value),
                "-ne" => Ok(!value),
                _ => Err(refuse()),
            }
        }
        _ => Err(refuse()),
    }
}

/// `Get-Group [-RecipientTypeDetails ...]`: every group, with or without mail, with its
/// `Members` (each member's Name, as Exchange lists them; a member the tenant no longer holds
/// keeps the name the file gives it, like a stale SID). Not Microsoft 365 groups
/// (`Get-UnifiedGroupLinks`) nor dynamic distribution groups, as on the service.
pub fn get_group(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    directory_objects(tenant, params, "Group", |r| {
        r.is_group()
            && r.recipient_type_details != "GroupMailbox"
            && r.recipient_type_details != "DynamicDistributionGroup"
    })
}

/// `Get-UnifiedGroupLinks -Identity G -LinkType Members`: the members of a Microsoft 365 group.
pub fn get_unified_group_links(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "LinkType", "ResultSize"])?;
    let identity = params.required_string("Get-UnifiedGroupLinks", "Identity")?;
    let link_type = params.required_string("Get-UnifiedGroupLinks", "LinkType")?;
    let directory = tenant.directory();
    let group = directory
        .recipients()
        .iter()
        .filter(|r| r.recipient_type_details == "GroupMailbox")
        .find(|r| {
            identity_matches(params, r)
                || r.smtp_addresses().contains(&identity.to_ascii_lowercase())
        })
        .ok_or_else(|| ExoError::object_not_found(&identity))?;
    let names: Vec<String> = match link_type.to_ascii_lowercase().as_str() {
        "members" => group.members.as_deref().unwrap_or_default().to_vec(),
        "owners" | "subscribers" | "aggregators" | "eventsubscribers" => Vec::new(),
        _ => {
            return Err(ExoError::bad_parameter(
                "LinkType",
                format!(
                    "Cannot bind parameter 'LinkType'. Cannot convert value \"{link_type}\" to type \"Microsoft.Exchange.Management.RecipientTasks.LinkType\"."
                ),
            ));
        }
    };
    let items = names
        .iter()
        .map(|name| match directory.resolve_live(name) {
            sharedbox_tenant::LivePrincipal::Recipient(r) => render::directory_object(r, "User")
                .with("PrimarySmtpAddress", r.primary_smtp_address.as_str()),
            _ => Item::new()
                .with("Identity", name.as_str())
                .with("Name", name.as_str()),
        })
        .collect();
    capped(items, params)
}

/// `Get-User` and `Get-Group`: the directory objects of one kind (`kind`, the objects
/// `keep` takes), filtered by `RecipientTypeDetails` and `Identity`, sorted and capped.
fn directory_objects(
    tenant: &TenantFile,
    params: &Params,
    kind: &str,
    keep: fn(&Recipient) -> bool,
) -> Result<Output, ExoError> {
    params.check_allowed(&[
        "Identity",
        "ResultSize",
        "RecipientTypeDetails",
        "SortBy",
        "Filter",
    ])?;
    let filter = type_filter(params)?;
    let directory = tenant.directory();
    let items = directory
        .recipients()
        .iter()
        .filter(|r| keep(r))
        .filter(|r| matches_types(&filter, &r.recipient_type_details))
        .filter(|r| identity_matches(params, r))
        .map(|r| {
            let item = render::directory_object(r, kind);
            if r.is_group() {
                item.with("Members", member_names(&directory, r))
            } else {
                item.with("AccountDisabled", r.is_disabled())
            }
        })
        .collect();
    capped(sorted(items, params)?, params)
}

/// `Get-ServicePrincipal [-Identity X]`: the Exchange service principals.
pub fn get_service_principal(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "Organization"])?;
    let directory = tenant.directory();
    let items = directory
        .recipients()
        .iter()
        .filter(|r| r.is_service_principal())
        .filter(|r| identity_matches(params, r))
        .map(render::service_principal)
        .collect();
    Ok(Output::items(items, Vec::new()))
}

/// `Get-AcceptedDomain`: one row per accepted domain of the tenant (`DomainName`, `Name`,
/// `DomainType`, `Default`, `InitialDomain`); the first is the default domain, the
/// organisation's `onmicrosoft.com` name the initial one.
pub fn get_accepted_domain(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    params.check_allowed(&["Identity", "ResultSize"])?;
    let organization = &tenant.organization;
    let wanted = params.string("Identity")?;
    let items = organization
        .accepted_domains
        .iter()
        .enumerate()
        .filter(|(_, d)| wanted.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(d)))
        .map(|(i, domain)| {
            Item::new()
                .with("Identity", domain.as_str())
                .with("Name", domain.as_str())
                .with("DomainName", domain.as_str())
                .with("DomainType", "Authoritative")
                .with("Default", i == 0)
                .with(
                    "InitialDomain",
                    domain.eq_ignore_ascii_case(&organization.name),
                )
        })
        .collect();
    Ok(Output::items(items, Vec::new()))
}

/// Whether `Identity` (absent or empty: all) names `recipient` by any of its keys.
fn identity_matches(params: &Params, recipient: &Recipient) -> bool {
    let Ok(Some(id)) = identity(params) else {
        return true;
    };
    if id.is_empty() {
        return true;
    }
    let id = id.to_ascii_lowercase();
    [
        Some(&recipient.guid),
        Some(&recipient.name),
        Some(&recipient.display_name),
        recipient.external_directory_object_id.as_ref(),
        recipient.user_principal_name.as_ref(),
        recipient.app_id.as_ref(),
    ]
    .into_iter()
    .flatten()
    .any(|k| k.to_ascii_lowercase() == id)
}

/// `Get-Mailbox -SoftDeletedMailbox`: the mailboxes removed within the last 30 days, with
/// the addresses they still hold (`PrimarySmtpAddress`, `EmailAddresses`, `WhenSoftDeleted`).
fn soft_deleted_mailboxes(tenant: &TenantFile, params: &Params) -> Result<Output, ExoError> {
    let wanted = identity(params)?;
    let items = tenant
        .soft_deleted_mailboxes
        .iter()
        .filter(|m| wanted.as_deref().is_none_or(|w| m.holds(w)))
        .map(|m| {
            Item::new()
                .with("Identity", m.primary_smtp_address.as_str())
                .with("PrimarySmtpAddress", m.primary_smtp_address.as_str())
                .with("EmailAddresses", m.email_addresses.clone())
                .with("RecipientTypeDetails", "SharedMailbox")
                .with("IsSoftDeletedByRemove", true)
                .date("WhenSoftDeleted", render::TIMESTAMP)
        })
        .collect();
    capped(items, params)
}

/// A group's `Members` as Exchange lists them: each member's Name; a name the directory does
/// not resolve (a deleted member) as the file gives it.
fn member_names(directory: &sharedbox_tenant::Directory, group: &Recipient) -> Vec<String> {
    group
        .members
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|m| match directory.resolve_live(m) {
            sharedbox_tenant::LivePrincipal::Recipient(r) => r.name.clone(),
            _ => m.clone(),
        })
        .collect()
}
