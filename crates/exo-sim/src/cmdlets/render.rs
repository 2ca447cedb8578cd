//! Output objects of the read cmdlets, shaped as reference §4.4 describes, with the
//! annotation keys of §4.2 and, when [`crate::SimConfig::quirks`] is on, the encodings a
//! tolerant client must accept.

use serde_json::{Value, json};
use sharedbox_tenant::{
    Directory, FolderPermission, LivePrincipal, Mailbox, MailboxPermission, OrganizationConfig,
    OrganizationProperty, Property, Recipient, RecipientPermission,
};

use crate::folders::{Folder, fnv};
use crate::lookup::MailboxView;
use crate::wire::Item;

/// `WhenCreated`/`WhenChanged` of every object (the model keeps no timestamps).
pub(crate) const TIMESTAMP: &str = "2024-04-10T08:56:22.0000000+00:00";
const NO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// A bool as the row's encoding shows it: a JSON bool, `"True"`/`"False"`, or
/// `{"IsPresent": bool}`, chosen by a hash of `key` so the same row always looks the same.
pub fn flag(value: bool, key: &str, quirks: bool) -> Value {
    if !quirks {
        return Value::Bool(value);
    }
    match fnv(key) % 3 {
        0 => Value::Bool(value),
        1 => Value::String(if value { "True" } else { "False" }.to_owned()),
        _ => json!({"IsPresent": value}),
    }
}

/// A GUID derived from `seed`, for ids the model does not keep.
pub fn derived_guid(seed: &str) -> String {
    let a = fnv(seed);
    let b = fnv(&format!("{seed}#"));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn email_addresses(primary: &str, proxies: &[String]) -> Vec<String> {
    if proxies.is_empty() {
        vec![format!("SMTP:{primary}")]
    } else {
        proxies.to_vec()
    }
}

/// `RecipientType` for a `RecipientTypeDetails`.
pub fn recipient_type(details: &str) -> &'static str {
    match details {
        d if d.ends_with("Mailbox") && d != "GroupMailbox" => "UserMailbox",
        "MailUniversalSecurityGroup" => "MailUniversalSecurityGroup",
        "MailUniversalDistributionGroup" | "GroupMailbox" | "RoomList" => {
            "MailUniversalDistributionGroup"
        }
        "MailContact" => "MailContact",
        d if d.contains("MailUser") => "MailUser",
        _ => "User",
    }
}

/// One `Get-Mailbox` object. With `display_names`, also `GrantSendOnBehalfToWithDisplayNames`.
pub fn mailbox(view: &MailboxView, organization: &str, display_names: Option<&Directory>) -> Item {
    let m = &view.mailbox;
    let shared = view.details == "SharedMailbox";
    let (send, send_receive, warning) = if shared {
        (
            "49.75 GB (53,418,655,744 bytes)",
            "50 GB (53,687,091,200 bytes)",
            "49 GB (52,613,349,376 bytes)",
        )
    } else {
        (
            "99 GB (106,300,440,576 bytes)",
            "100 GB (107,374,182,400 bytes)",
            "98 GB (105,226,698,752 bytes)",
        )
    };
    let languages: Vec<&str> = m.language.iter().map(String::as_str).collect();
    let mut item = Item::new()
        .with("Identity", m.name.as_str())
        .with("Id", m.name.as_str())
        .with("Name", m.name.as_str())
        .with("Alias", m.alias.as_str())
        .with("PrimarySmtpAddress", m.primary_smtp_address.as_str())
        .with(
            "UserPrincipalName",
            m.user_principal_name.clone().unwrap_or_default(),
        )
        .with(
            "ExternalDirectoryObjectId",
            m.external_directory_object_id.clone().unwrap_or_default(),
        )
        .guid("Guid", &m.guid)
        .guid("ExchangeObjectId", &m.guid)
        .guid(
            "ExchangeGuid",
            &derived_guid(&format!("exchange:{}", m.guid)),
        )
        .guid(
            "ArchiveGuid",
            &if m.archive_enabled {
                derived_guid(&format!("archive:{}", m.guid))
            } else {
                NO_GUID.to_owned()
            },
        )
        .with("RecipientType", "UserMailbox")
        .with("RecipientTypeDetails", view.details.as_str())
        .strings("GrantSendOnBehalfTo", &m.grant_send_on_behalf_to);
    if let Some(directory) = display_names {
        let names: Vec<String> = m
            .grant_send_on_behalf_to
            .iter()
            .map(|e| match directory.resolve_live(e) {
                LivePrincipal::Recipient(r) => r.display_name.clone(),
                _ => e.clone(),
            })
            .collect();
        item = item.strings("GrantSendOnBehalfToWithDisplayNames", &names);
    }
    item = catalogued(item, m, "Get-Mailbox");
    item.strings("ModeratedBy", &m.moderated_by)
        .strings(
            "BypassModerationFromSendersOrMembers",
            &m.bypass_moderation_from_senders_or_members,
        )
        .strings(
            "EmailAddresses",
            &email_addresses(&m.primary_smtp_address, &m.email_addresses),
        )
        .strings("Languages", &languages)
        .with("DistinguishedName", view.distinguished_name(organization))
        .with("ProhibitSendQuota", send)
        .with("ProhibitSendReceiveQuota", send_receive)
        .with("IssueWarningQuota", warning)
        .with("LitigationHoldEnabled", m.litigation_hold_enabled)
        .with(
            "SKUAssigned",
            m.sku_assigned
                .map_or(serde_json::Value::Null, serde_json::Value::Bool),
        )
        .with("RetentionHoldEnabled", false)
        .with("IsInactiveMailbox", false)
        .with("IsDirSynced", m.is_dir_synced)
        .with("IsExchangeCloudManaged", m.is_exchange_cloud_managed)
        .date("WhenCreated", TIMESTAMP)
        .date("WhenChanged", TIMESTAMP)
}

/// `item` with every catalogued property `cmdlet` reports.
fn catalogued(mut item: Item, mailbox: &Mailbox, cmdlet: &str) -> Item {
    for property in Property::of_cmdlet(cmdlet) {
        let definition = property.definition();
        let value = match (property, (definition.get)(mailbox)) {
            // Exchange reports the forwarding address with its prefix: `smtp:x@y`.
            (Property::ForwardingSmtpAddress, sharedbox_tenant::Value::Text(t)) => {
                sharedbox_tenant::Value::Text(format!("smtp:{t}"))
            }
            (_, value) => value,
        };
        item = item.with(definition.parameter, &value);
    }
    item
}

/// One `Get-CASMailbox` object.
pub fn cas_mailbox(view: &MailboxView) -> Item {
    let m = &view.mailbox;
    let item = Item::new()
        .with("Identity", m.name.as_str())
        .with("Name", m.name.as_str())
        .with("PrimarySmtpAddress", m.primary_smtp_address.as_str())
        .with(
            "ExternalDirectoryObjectId",
            m.external_directory_object_id.clone().unwrap_or_default(),
        )
        .guid("Guid", &m.guid)
        .with("UniversalOutlookEnabled", true);
    catalogued(item, m, "Get-CASMailbox").with("DisplayName", m.display_name.as_str())
}

/// A `Get-MailboxAutoReplyConfiguration` row: a mailbox never configured shows Exchange's
/// defaults; `StartTime`/`EndTime` as `yyyy-MM-ddTHH:mm:ss.fffffffZ` with their
/// `@data.type`.
pub fn auto_reply(view: &MailboxView) -> Item {
    let m = &view.mailbox;
    let mut mailbox = m.clone();
    mailbox.auto_reply.get_or_insert_with(Default::default);
    let mut item = Item::new()
        .with("Identity", m.name.as_str())
        .with("MailboxOwnerId", m.name.as_str());
    for property in Property::of_cmdlet(sharedbox_tenant::catalog::AUTO_REPLY_GET) {
        let definition = property.definition();
        let value = match (definition.kind, (definition.get)(&mailbox)) {
            (sharedbox_tenant::Kind::Time, sharedbox_tenant::Value::Text(t)) => {
                item = item.with(
                    &format!("{}@data.type", definition.parameter),
                    "System.DateTime",
                );
                let utc = sharedbox_tenant::auto_reply::canonical_time(&t).unwrap_or(t);
                sharedbox_tenant::Value::Text(utc.replace('Z', ".0000000Z"))
            }
            (_, value) => value,
        };
        item = item.with(definition.parameter, &value);
    }
    item
}

/// Inherited rows every EXO mailbox shows besides its own (quirks only).
fn synthetic_inherited() -> Vec<MailboxPermission> {
    let row = |user: &str, right: &str, deny: bool| MailboxPermission {
        user: user.to_owned(),
        access_rights: vec![right.to_owned()],
        is_inherited: true,
        deny,
        auto_mapping: None,
    };
    vec![
        row("SIMPR01A001\\Administrator", "FullAccess", true),
        row("SIMPR01A001\\Domain Admins", "FullAccess", true),
        row("SIMPR01A001\\Organization Management", "FullAccess", true),
        row("NT AUTHORITY\\SYSTEM", "FullAccess", false),
        row("NT AUTHORITY\\NETWORK SERVICE", "ReadPermission", false),
    ]
}

/// The `Get-MailboxPermission` rows of a mailbox, the synthetic inherited ones included.
pub fn mailbox_permission_rows(view: &MailboxView, quirks: bool) -> Vec<MailboxPermission> {
    let mut rows = view.mailbox.mailbox_permissions.clone();
    if quirks {
        rows.extend(synthetic_inherited());
    }
    rows
}

/// One `Get-MailboxPermission` row.
pub fn mailbox_permission(view: &MailboxView, row: &MailboxPermission, quirks: bool) -> Item {
    let key = format!("{}|{}", view.mailbox.guid, row.user);
    Item::new()
        .with("Identity", view.mailbox.name.as_str())
        .with("User", row.user.as_str())
        .strings("AccessRights", &row.access_rights)
        .with(
            "IsInherited",
            flag(row.is_inherited, &format!("{key}|i"), quirks),
        )
        .with("Deny", flag(row.deny, &format!("{key}|d"), quirks))
        .with("InheritanceType", "All")
        .with("IsValid", true)
        .with("ObjectState", "Unchanged")
}

/// One `Get-RecipientPermission` row.
pub fn recipient_permission(view: &MailboxView, row: &RecipientPermission, quirks: bool) -> Item {
    let key = format!("{}|{}|r", view.mailbox.guid, row.trustee);
    Item::new()
        .with("Identity", view.mailbox.name.as_str())
        .with("Trustee", row.trustee.as_str())
        .with("AccessControlType", row.access_control_type.as_str())
        .strings("AccessRights", &row.access_rights)
        .with("IsInherited", flag(row.is_inherited, &key, quirks))
        .with("InheritanceType", "None")
}

/// One `Get-Recipient` object.
pub fn recipient(r: &Recipient, alias: &str, hidden: bool) -> Item {
    Item::new()
        .with("Identity", r.name.as_str())
        .with("Id", r.name.as_str())
        .with("Name", r.name.as_str())
        .with("Alias", alias)
        .with("DisplayName", r.display_name.as_str())
        .with("PrimarySmtpAddress", r.primary_smtp_address.as_str())
        .with(
            "ExternalDirectoryObjectId",
            r.external_directory_object_id.clone().unwrap_or_default(),
        )
        .guid("Guid", &r.guid)
        .with("RecipientType", recipient_type(&r.recipient_type_details))
        .with("RecipientTypeDetails", r.recipient_type_details.as_str())
        .strings(
            "EmailAddresses",
            &email_addresses(&r.primary_smtp_address, &r.email_addresses),
        )
        .with(
            "WindowsLiveID",
            r.user_principal_name
                .clone()
                .map_or(Value::Null, Value::String),
        )
        .with("HiddenFromAddressListsEnabled", hidden)
        .with("IsDirSynced", false)
}

/// One `Get-User` or `Get-Group` object (`kind`: `User` or `Group`, the `RecipientType` of
/// an object without mail).
pub fn directory_object(r: &Recipient, kind: &str) -> Item {
    let recipient_type = if r.is_mail_enabled() {
        recipient_type(&r.recipient_type_details)
    } else {
        kind
    };
    Item::new()
        .with("Identity", r.name.as_str())
        .with("Id", r.name.as_str())
        .with("Name", r.name.as_str())
        .with("DisplayName", r.display_name.as_str())
        .with(
            "ExternalDirectoryObjectId",
            r.external_directory_object_id.clone().unwrap_or_default(),
        )
        .guid("Guid", &r.guid)
        .with("RecipientType", recipient_type)
        .with("RecipientTypeDetails", r.recipient_type_details.as_str())
        .with(
            "UserPrincipalName",
            r.user_principal_name
                .clone()
                .map_or(Value::Null, Value::String),
        )
        .with("WindowsEmailAddress", r.primary_smtp_address.as_str())
        .with("SID", r.sid.clone().map_or(Value::Null, Value::String))
}

/// One `Get-ServicePrincipal` object: `RecipientTypeDetails` spelled `ServicePrinciple`, as
/// the real service does (michev.info post 4027).
pub fn service_principal(r: &Recipient) -> Item {
    let object_id = r.external_directory_object_id.clone().unwrap_or_default();
    Item::new()
        .with("Identity", object_id.as_str())
        .with("Name", object_id.as_str())
        .with("DisplayName", r.display_name.as_str())
        .with("AppId", r.app_id.clone().unwrap_or_default())
        .with("ObjectId", object_id.as_str())
        .with("ServiceId", object_id.as_str())
        .guid("Guid", &r.guid)
        .with("RecipientType", "User")
        .with("RecipientTypeDetails", "ServicePrinciple")
}

/// One `Get-MailboxFolderStatistics` object.
pub fn folder_statistics(view: &MailboxView, folder: &Folder) -> Item {
    Item::new()
        .with("Identity", folder.identity(&view.mailbox.name))
        .with("Name", folder.name.as_str())
        .with("FolderPath", folder.path.as_str())
        .with("FolderType", folder.folder_type)
        .with("FolderId", folder.folder_id.as_str())
        .int32("ItemsInFolder", folder.items())
        .with("FolderSize", folder.size())
        .date("CreationTime", TIMESTAMP)
}

/// One `Get-MailboxFolderPermission` row. `identity` echoes the identity as requested;
/// `AccessRights` is an array, or a comma string on some rows with quirks.
pub fn folder_permission(
    identity: &str,
    folder: &Folder,
    row: &FolderPermission,
    quirks: bool,
) -> Item {
    let comma = quirks && fnv(&format!("{}|{}", folder.folder_id, row.user)) % 2 == 1;
    let item = Item::new()
        .with("Identity", identity)
        .with("FolderName", folder.name.as_str())
        .with("User", row.user.as_str());
    let item = if comma {
        item.with("AccessRights", row.access_rights.join(", "))
    } else {
        item.strings("AccessRights", &row.access_rights)
    };
    // `Delegate, CanViewPrivateItems` as Exchange prints a flags enum; `null` without flags.
    let flags = if row.sharing_permission_flags.is_empty() {
        Value::Null
    } else {
        Value::String(row.sharing_permission_flags.join(", "))
    };
    item.with("SharingPermissionFlags", flags)
        .with("IsValid", true)
}

/// The permissions of a folder the model does not keep: the defaults.
pub fn default_folder_permissions(folder: &Folder) -> Vec<FolderPermission> {
    let default = if folder.folder_type == "Calendar" {
        "AvailabilityOnly"
    } else {
        "None"
    };
    vec![
        FolderPermission {
            user: "Default".to_owned(),
            access_rights: vec![default.to_owned()],
            sharing_permission_flags: Vec::new(),
        },
        FolderPermission {
            user: "Anonymous".to_owned(),
            access_rights: vec!["None".to_owned()],
            sharing_permission_flags: Vec::new(),
        },
    ]
}

/// The `Get-OrganizationConfig` object.
pub fn organization(config: &OrganizationConfig) -> Item {
    let mut item = Item::new()
        .with("Identity", config.name.as_str())
        .with("Id", config.name.as_str())
        .with("Name", config.name.as_str())
        .with("DisplayName", config.name.as_str())
        .guid("Guid", &derived_guid(&format!("org:{}", config.name)))
        .with("AutoExpandingArchiveEnabled", false)
        .with("IsDehydrated", false)
        .with("OAuth2ClientProfileEnabled", true)
        .date("WhenChanged", TIMESTAMP);
    for property in OrganizationProperty::of_cmdlet("Get-OrganizationConfig") {
        let definition = property.definition();
        item = item.with(definition.parameter, &(definition.get)(config));
    }
    item
}

/// The `Get-TransportConfig` object: the tenant-wide SMTP AUTH switch (the other transport
/// settings are not modelled).
pub fn transport_config(config: &OrganizationConfig) -> Item {
    let mut item = Item::new()
        .with("Identity", config.name.as_str())
        .with("Name", config.name.as_str())
        .date("WhenChanged", TIMESTAMP);
    for property in OrganizationProperty::of_cmdlet("Get-TransportConfig") {
        let definition = property.definition();
        item = item.with(definition.parameter, &(definition.get)(config));
    }
    item
}

/// A size as Exchange writes it: `"1.5 GB (1,610,612,736 bytes)"`.
pub fn item_size(bytes: u64) -> String {
    let units = [("GB", 1u64 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    let short = units.iter().find(|(_, size)| bytes >= *size).map_or_else(
        || format!("{bytes} B"),
        |(unit, size)| format!("{:.1} {unit}", bytes as f64 / *size as f64),
    );
    let mut grouped = String::new();
    for (i, c) in bytes.to_string().chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let grouped: String = grouped.chars().rev().collect();
    format!("{short} ({grouped} bytes)")
}
