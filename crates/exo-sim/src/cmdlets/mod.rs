//! The cmdlets the simulator knows, and dispatch by name (case-insensitive, as PowerShell).

pub mod read;
pub mod render;
pub mod write;

use sharedbox_file::TenantFile;

use crate::config::SimConfig;
use crate::params::Params;
use crate::wire::{ExoError, Item};

/// Every cmdlet the simulator runs, with whether it writes.
pub const CMDLETS: &[(&str, bool)] = &[
    ("Get-Mailbox", false),
    ("Get-CASMailbox", false),
    ("Get-Recipient", false),
    ("Get-RecipientPermission", false),
    ("Get-MailboxPermission", false),
    ("Get-MailboxFolderStatistics", false),
    ("Get-MailboxStatistics", false),
    ("Get-MailboxFolderPermission", false),
    ("Get-OrganizationConfig", false),
    ("Get-TransportConfig", false),
    ("Get-User", false),
    ("Get-Group", false),
    ("Get-UnifiedGroupLinks", false),
    ("Get-ServicePrincipal", false),
    ("New-Mailbox", true),
    ("Remove-Mailbox", true),
    ("Set-Mailbox", true),
    ("Add-RecipientPermission", true),
    ("Remove-RecipientPermission", true),
    ("Add-MailboxPermission", true),
    ("Remove-MailboxPermission", true),
    ("Add-MailboxFolderPermission", true),
    ("Set-MailboxFolderPermission", true),
    ("Remove-MailboxFolderPermission", true),
    ("Set-CASMailbox", true),
    ("Set-OrganizationConfig", true),
    ("Set-TransportConfig", true),
    ("New-ServicePrincipal", true),
    ("Remove-ServicePrincipal", true),
    ("Get-AcceptedDomain", false),
    ("Get-MailboxAutoReplyConfiguration", false),
    ("Set-MailboxAutoReplyConfiguration", true),
];

/// Cmdlets that act on one mailbox and are routed by `X-AnchorMailbox`.
pub const MAILBOX_BOUND: &[&str] = &[
    "Set-Mailbox",
    "Remove-Mailbox",
    "Set-CASMailbox",
    "Get-MailboxPermission",
    "Add-MailboxPermission",
    "Remove-MailboxPermission",
    "Add-RecipientPermission",
    "Remove-RecipientPermission",
    "Get-MailboxFolderStatistics",
    "Get-MailboxStatistics",
    "Get-MailboxFolderPermission",
    "Add-MailboxFolderPermission",
    "Set-MailboxFolderPermission",
    "Remove-MailboxFolderPermission",
    "Get-MailboxAutoReplyConfiguration",
    "Set-MailboxAutoReplyConfiguration",
];

/// The canonical spelling of a known cmdlet and whether it writes.
pub fn lookup(name: &str) -> Option<(&'static str, bool)> {
    CMDLETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
}

/// What a cmdlet produced.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Output objects; `None` for cmdlets that emit nothing (`value` is then left out).
    pub value: Option<Vec<Item>>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Whether the tenant changed.
    pub changed: bool,
}

impl Output {
    /// The output of a read.
    pub fn items(items: Vec<Item>, warnings: Vec<String>) -> Output {
        Output {
            value: Some(items),
            warnings,
            changed: false,
        }
    }

    /// The output of a write.
    pub fn changed(value: Option<Vec<Item>>, warnings: Vec<String>, changed: bool) -> Output {
        Output {
            value,
            warnings,
            changed,
        }
    }
}

/// Runs `cmdlet` (canonical name) on `tenant`.
pub fn run(
    tenant: &mut TenantFile,
    config: &SimConfig,
    cmdlet: &str,
    params: &Params,
) -> Result<Output, ExoError> {
    use write::FolderAction;
    match cmdlet {
        "Get-Mailbox" => read::get_mailbox(tenant, params),
        "Get-CASMailbox" => read::get_cas_mailbox(tenant, params),
        "Get-Recipient" => read::get_recipient(tenant, params),
        "Get-RecipientPermission" => read::get_recipient_permission(tenant, config, params),
        "Get-MailboxPermission" => read::get_mailbox_permission(tenant, config, params),
        "Get-MailboxFolderStatistics" => read::get_folder_statistics(tenant, config, params),
        "Get-MailboxStatistics" => read::get_mailbox_statistics(tenant, params),
        "Get-MailboxFolderPermission" => read::get_folder_permission(tenant, config, params),
        "Get-OrganizationConfig" => read::get_organization_config(tenant, params),
        "Get-TransportConfig" => read::get_transport_config(tenant, params),
        "Get-User" => read::get_user(tenant, params),
        "Get-Group" => read::get_group(tenant, params),
        "Get-UnifiedGroupLinks" => read::get_unified_group_links(tenant, params),
        "Get-ServicePrincipal" => read::get_service_principal(tenant, params),
        "New-Mailbox" => write::new_mailbox(tenant, params),
        "Remove-Mailbox" => write::remove_mailbox(tenant, params),
        "Set-Mailbox" => write::set_mailbox(tenant, config, params),
        "Add-RecipientPermission" => write::add_recipient_permission(tenant, config, params),
        "Remove-RecipientPermission" => write::remove_recipient_permission(tenant, params),
        "Add-MailboxPermission" => write::add_mailbox_permission(tenant, config, params),
        "Remove-MailboxPermission" => write::remove_mailbox_permission(tenant, params),
        "Add-MailboxFolderPermission" => {
            write::folder_permission(tenant, config, params, FolderAction::Add)
        }
        "Set-MailboxFolderPermission" => {
            write::folder_permission(tenant, config, params, FolderAction::Set)
        }
        "Remove-MailboxFolderPermission" => {
            write::folder_permission(tenant, config, params, FolderAction::Remove)
        }
        "Set-CASMailbox" => write::set_cas_mailbox(tenant, params),
        "Set-OrganizationConfig" => {
            write::set_organization_settings(tenant, "Set-OrganizationConfig", params)
        }
        "Set-TransportConfig" => {
            write::set_organization_settings(tenant, "Set-TransportConfig", params)
        }
        "New-ServicePrincipal" => write::new_service_principal(tenant, params),
        "Remove-ServicePrincipal" => write::remove_service_principal(tenant, params),
        "Get-AcceptedDomain" => read::get_accepted_domain(tenant, params),
        "Get-MailboxAutoReplyConfiguration" => read::get_auto_reply(tenant, params),
        "Set-MailboxAutoReplyConfiguration" => write::set_auto_reply(tenant, params),
        other => Err(ExoError::unknown_cmdlet(other)),
    }
}
