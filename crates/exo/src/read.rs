//! Reading a [`Snapshot`]: bulk reads where Exchange allows them, per-mailbox reads only
//! for the managed mailboxes, everything in `$batch` requests.
//!
//! Round 1 (one `$batch`): `Get-OrganizationConfig`, `Get-AcceptedDomain` (for lint
//! SBX202; a failure leaves the list empty and the lint skipped), `Get-Recipient` (the directory),
//! `Get-Mailbox -RecipientTypeDetails SharedMailbox`, and, for larger scopes,
//! `Get-CASMailbox` and `Get-RecipientPermission -AccessRights SendAs` in bulk. Only when a
//! mailbox in scope does not exist: `Get-Mailbox -SoftDeletedMailbox` (the addresses removed
//! mailboxes still hold, for the plan's check before a create; a failure leaves it empty).
//! Round 2 (per managed mailbox that exists): `Get-MailboxPermission` and
//! `Get-MailboxFolderStatistics -FolderScope SentItems` (plus `Get-CASMailbox` and
//! `Get-RecipientPermission` for small scopes). Round 3: `Get-MailboxFolderPermission`
//! on `<mailbox>:<FolderId>` of the folder whose `FolderType` is `SentItems`. Rounds 2
//! and 3 run per chunk of ten mailboxes, all chunks at once (bounded by the client's
//! concurrency), so a chunk's round 3 does not wait for the other chunks' round 2.
//!
//! Any failed read fails the whole read: a mailbox that could not be read is never
//! reported as absent.

use std::collections::HashMap;
use std::sync::LazyLock;

use futures::StreamExt as _;

use sharedbox_tenant::{
    CasMailbox, Definition, Directory, FolderPermission, Fresh, Kind, Mailbox, MailboxPermission,
    OrganizationConfig, OrganizationProperty, Property, ReadScope, Recipient, RecipientPermission,
    SentItemsFolder, Snapshot, SoftDeletedMailbox, Value,
};

use crate::client::{Client, Command, Output};
use crate::error::ExoError;
use crate::wire::Row;

/// Up to this many managed mailboxes, CAS settings and Send As rows are read per mailbox;
/// beyond it, in bulk for the whole tenant.
const PER_MAILBOX_LIMIT: usize = 40;

const RECIPIENT_FIELDS: &[&str] = &[
    "Identity",
    "Name",
    "DisplayName",
    "PrimarySmtpAddress",
    "ExternalDirectoryObjectId",
    "Guid",
    "RecipientTypeDetails",
    "EmailAddresses",
    "WindowsLiveID",
];

/// `Get-Mailbox` fields besides the catalogued properties.
const MAILBOX_IDENTITY: &[&str] = &[
    "Identity",
    "Name",
    "Alias",
    "PrimarySmtpAddress",
    "UserPrincipalName",
    "ExternalDirectoryObjectId",
    "Guid",
    "RecipientTypeDetails",
    "EmailAddresses",
    "Languages",
    "GrantSendOnBehalfTo",
    "ModeratedBy",
    "BypassModerationFromSendersOrMembers",
    "IsDirSynced",
];

/// `Get-CASMailbox` fields besides the catalogued properties.
const CAS_IDENTITY: &[&str] = &["Identity", "Name", "PrimarySmtpAddress", "Guid"];

/// The fields a read selects: `base`, then every catalogued property `cmdlet` reports.
fn fields(base: &'static [&'static str], cmdlet: &str) -> Vec<&'static str> {
    let catalogued = Property::of_cmdlet(cmdlet).map(|p| p.definition().parameter);
    let organization = OrganizationProperty::ALL
        .into_iter()
        .map(|p| p.definition())
        .filter(|d| d.read_cmdlet == cmdlet)
        .map(|d| d.parameter);
    base.iter()
        .copied()
        .chain(catalogued)
        .chain(organization)
        .collect()
}

static MAILBOX_FIELDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| fields(MAILBOX_IDENTITY, "Get-Mailbox"));
static CAS_FIELDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| fields(CAS_IDENTITY, "Get-CASMailbox"));
static ORGANIZATION_FIELDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| fields(&["Identity", "Name"], "Get-OrganizationConfig"));

/// A catalogued property's value in a read cmdlet's output row.
fn read_value<T: Fresh>(row: &Row, definition: &Definition<T>) -> Value {
    let value = match definition.kind {
        Kind::Text | Kind::Choice(_) => row.text(definition.parameter).map(Value::Text),
        Kind::Flag | Kind::ReportedFlag | Kind::Tristate { .. } => {
            row.flag(definition.parameter).map(Value::Flag)
        }
    };
    value.unwrap_or_else(|| definition.absent())
}

/// What a read found besides the snapshot: the Sent Items folder id of each mailbox read,
/// for later folder permission writes.
pub type FolderIds = HashMap<String, String>;

/// Reads the snapshot of `scope`.
pub async fn snapshot(
    client: &Client,
    scope: &ReadScope,
) -> Result<(Snapshot, FolderIds), ExoError> {
    let bulk = scope.mailboxes.len() > PER_MAILBOX_LIMIT;
    let mut first = vec![
        Command::read("Get-OrganizationConfig").select(&ORGANIZATION_FIELDS),
        Command::read("Get-AcceptedDomain").select(&["DomainName"]),
        Command::read("Get-Recipient")
            .param("ResultSize", "Unlimited")
            .select(RECIPIENT_FIELDS),
        Command::read("Get-Mailbox")
            .param("RecipientTypeDetails", "SharedMailbox")
            .param("ResultSize", "Unlimited")
            .select(&MAILBOX_FIELDS),
    ];
    if bulk {
        first.push(
            Command::read("Get-CASMailbox")
                .param("RecipientTypeDetails", "SharedMailbox")
                .param("ResultSize", "Unlimited")
                .select(&CAS_FIELDS),
        );
        first.push(
            Command::read("Get-RecipientPermission")
                .param("AccessRights", "SendAs")
                .param("ResultSize", "Unlimited"),
        );
    }
    let mut results = client.batch(&first).await.into_iter();
    let mut next = || results.next().unwrap_or_else(|| Ok(Output::default()));
    let mut organization = organization_of(next()?.rows.first());
    // Only lint SBX202 uses them, and it is skipped when there are none: a role without
    // `Get-AcceptedDomain` does not stop the read.
    if let Ok(domains) = next() {
        organization.accepted_domains = domains
            .rows
            .iter()
            .filter_map(|row| row.text("DomainName"))
            .collect();
    }
    // Each answer is turned into the model and dropped before the next is looked at: at
    // 10,000 mailboxes the raw rows are the largest thing this process holds.
    let mut directory = Directory::new(next()?.rows.iter().filter_map(recipient_of));
    let all: Vec<Mailbox> = next()?.rows.iter().filter_map(mailbox_of).collect();
    let bulk_rows = if bulk {
        let cas = index_rows(next()?.rows, cas_of);
        let send_as = group_rows(next()?.rows, recipient_permission_of);
        Some((cas, send_as))
    } else {
        None
    };
    for mailbox in &all {
        directory.insert(mailbox.recipient());
    }
    let all_shared_mailboxes = all.iter().map(|m| m.primary_smtp_address.clone()).collect();
    let wanted = scope.address_set();
    let mut managed: Vec<Mailbox> = all.into_iter().filter(|m| m.is_any_of(&wanted)).collect();
    // Only when a mailbox in scope does not exist (one a plan may create): the addresses
    // that soft-deleted mailboxes still hold.
    let soft_deleted = if managed.len() < scope.mailboxes.len() {
        soft_deleted_mailboxes(client).await
    } else {
        Vec::new()
    };

    // Rounds 2 and 3, pipelined: each chunk of ten mailboxes reads its folder permissions
    // as soon as its own folder statistics are in, while other chunks are still reading.
    // Only as many chunks run as can have requests in flight, so that requests are not
    // built long before they can be sent.
    let in_flight = client.max_concurrency().max(1) * 2;
    let bulk_rows = bulk_rows.as_ref();
    let chunks: Vec<_> = managed
        .chunks_mut(CHUNK)
        .map(|chunk| read_chunk(client, chunk, bulk_rows))
        .collect();
    let mut chunks = futures::stream::iter(chunks).buffer_unordered(in_flight);
    let mut folder_ids = FolderIds::new();
    while let Some(result) = chunks.next().await {
        folder_ids.extend(result?);
    }
    drop(chunks);

    Ok((
        Snapshot {
            tenant: client.tenant().to_owned(),
            organization,
            directory,
            mailboxes: managed,
            all_shared_mailboxes,
            index: Default::default(),
            soft_deleted,
        },
        folder_ids,
    ))
}

/// `Get-Mailbox -SoftDeletedMailbox`: mailboxes removed within 30 days, with the addresses
/// they still hold. Only the plan's check before a create uses them: a failure leaves the
/// list empty (and `New-Mailbox` then fails at apply, as before).
async fn soft_deleted_mailboxes(client: &Client) -> Vec<SoftDeletedMailbox> {
    let command = Command::read("Get-Mailbox")
        .param("SoftDeletedMailbox", true)
        .param("ResultSize", "Unlimited")
        .select(&["PrimarySmtpAddress", "EmailAddresses"]);
    let Some(Ok(out)) = client
        .batch(std::slice::from_ref(&command))
        .await
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    out.rows
        .iter()
        .filter_map(|row| {
            Some(SoftDeletedMailbox {
                primary_smtp_address: row.text("PrimarySmtpAddress")?,
                email_addresses: row.strings("EmailAddresses", false),
            })
        })
        .collect()
}

/// Managed mailboxes read together in rounds 2 and 3 (3 `$batch` requests per chunk).
const CHUNK: usize = 10;

/// Client access settings and Send As rows read in bulk, by the keys a mailbox may be
/// named by.
type BulkRows = (Keyed<CasMailbox>, HashMap<String, Vec<RecipientPermission>>);

/// Values each reachable by several keys (name, GUID, address), stored once.
struct Keyed<T> {
    values: Vec<T>,
    index: HashMap<String, usize>,
}

/// Rounds 2 and 3 for one chunk of managed mailboxes: permissions, Sent Items folder and
/// (for small scopes) client settings and Send As rows, then the folder's permissions.
async fn read_chunk(
    client: &Client,
    chunk: &mut [Mailbox],
    bulk: Option<&BulkRows>,
) -> Result<FolderIds, ExoError> {
    let mut second = Vec::with_capacity(chunk.len() * 4);
    for m in chunk.iter() {
        let address = m.primary_smtp_address.as_str();
        second.push(
            Command::read("Get-MailboxPermission")
                .param("Identity", address)
                .anchored(address),
        );
        second.push(
            Command::read("Get-MailboxFolderStatistics")
                .param("Identity", address)
                .param("FolderScope", "SentItems")
                .select(&["Identity", "Name", "FolderPath", "FolderType", "FolderId"])
                .anchored(address),
        );
        if bulk.is_none() {
            second.push(
                Command::read("Get-CASMailbox")
                    .param("Identity", address)
                    .select(&CAS_FIELDS),
            );
            second.push(
                Command::read("Get-RecipientPermission")
                    .param("Identity", address)
                    .param("AccessRights", "SendAs")
                    .anchored(address),
            );
        }
    }
    let mut second = client.batch(&second).await.into_iter();
    let mut folder_ids = FolderIds::new();
    let mut third = Vec::with_capacity(chunk.len());
    for m in chunk.iter_mut() {
        let permissions = next_of(&mut second)?;
        let folders = next_of(&mut second)?;
        m.mailbox_permissions = permissions.rows.iter().map(mailbox_permission_of).collect();
        let sent = sent_items_row(&folders, &m.primary_smtp_address)?;
        let folder_id = sent.text_or_empty("FolderId");
        m.sent_items = SentItemsFolder {
            name: sent.text_or_empty("Name"),
            folder_id: folder_id.clone(),
            permissions: Vec::new(),
        };
        let folder = folder_identity(&m.primary_smtp_address, &folder_id, sent);
        folder_ids.insert(m.primary_smtp_address.to_ascii_lowercase(), folder.clone());
        third.push(
            Command::read("Get-MailboxFolderPermission")
                .param("Identity", folder)
                .anchored(&m.primary_smtp_address),
        );
        let (cas, send_as) = match bulk {
            Some((cas, send_as)) => (find_row(cas, m).cloned(), rows_of(send_as, m)),
            None => {
                let cas = next_of(&mut second)?;
                let send_as = next_of(&mut second)?;
                (
                    cas.rows.first().map(cas_of),
                    send_as.rows.iter().map(recipient_permission_of).collect(),
                )
            }
        };
        m.cas_mailbox = cas.ok_or_else(|| ExoError::Rejected {
            cmdlet: "Get-CASMailbox".to_owned(),
            status: 200,
            exception: String::new(),
            message: format!(
                "no client access settings came back for mailbox `{}`",
                m.primary_smtp_address
            ),
        })?;
        m.recipient_permissions = send_as;
    }
    let mut third = client.batch(&third).await.into_iter();
    for m in chunk.iter_mut() {
        let rows = next_of(&mut third)?;
        m.sent_items.permissions = rows.rows.iter().map(folder_permission_of).collect();
    }
    Ok(folder_ids)
}

fn next_of(
    results: &mut impl Iterator<Item = Result<Output, ExoError>>,
) -> Result<Output, ExoError> {
    results.next().unwrap_or_else(|| Ok(Output::default()))
}

/// The `SentItems` row of a `Get-MailboxFolderStatistics -FolderScope SentItems` answer (found
/// by `FolderType`, so localised names like `Gesendete Elemente` work).
pub fn sent_items_row<'a>(output: &'a Output, mailbox: &str) -> Result<&'a Row, ExoError> {
    output
        .rows
        .iter()
        .find(|r| {
            r.text("FolderType")
                .is_some_and(|t| t.eq_ignore_ascii_case("SentItems"))
        })
        .ok_or_else(|| ExoError::Rejected {
            cmdlet: "Get-MailboxFolderStatistics".to_owned(),
            status: 200,
            exception: String::new(),
            message: format!("mailbox `{mailbox}` shows no folder of type `SentItems`"),
        })
}

/// `<mailbox>:<FolderId>`, else `<mailbox>:\<localised path>`.
pub fn folder_identity(mailbox: &str, folder_id: &str, row: &Row) -> String {
    if !folder_id.is_empty() {
        return format!("{mailbox}:{folder_id}");
    }
    let path = row
        .text("FolderPath")
        .or_else(|| row.text("Name"))
        .unwrap_or_else(|| "Sent Items".to_owned());
    format!(
        "{mailbox}:\\{}",
        path.trim_start_matches('/').replace('/', "\\")
    )
}

/// The keys a row of `Get-CASMailbox` / `Get-RecipientPermission` may name its mailbox by.
fn keys_of(m: &Mailbox) -> Vec<String> {
    let mut keys = vec![
        m.name.to_ascii_lowercase(),
        m.guid.to_ascii_lowercase(),
        m.primary_smtp_address.to_ascii_lowercase(),
    ];
    keys.extend(
        m.external_directory_object_id
            .as_deref()
            .map(str::to_ascii_lowercase),
    );
    keys.retain(|k| !k.is_empty());
    keys
}

fn index_rows<T>(rows: Vec<Row>, convert: fn(&Row) -> T) -> Keyed<T> {
    let mut keyed = Keyed {
        values: Vec::with_capacity(rows.len()),
        index: HashMap::with_capacity(rows.len() * 3),
    };
    for row in rows {
        let at = keyed.values.len();
        for key in ["Identity", "Name", "Guid", "PrimarySmtpAddress"] {
            if let Some(value) = row.text(key) {
                keyed.index.entry(value.to_ascii_lowercase()).or_insert(at);
            }
        }
        keyed.values.push(convert(&row));
    }
    keyed
}

fn find_row<'a, T>(keyed: &'a Keyed<T>, m: &Mailbox) -> Option<&'a T> {
    keys_of(m)
        .iter()
        .find_map(|k| keyed.index.get(k))
        .map(|&at| &keyed.values[at])
}

fn group_rows<T>(rows: Vec<Row>, convert: fn(&Row) -> T) -> HashMap<String, Vec<T>> {
    let mut groups: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        let key = row.text_or_empty("Identity").to_ascii_lowercase();
        groups.entry(key).or_default().push(convert(&row));
    }
    groups
}

fn rows_of<T: Clone>(groups: &HashMap<String, Vec<T>>, m: &Mailbox) -> Vec<T> {
    keys_of(m)
        .iter()
        .find_map(|k| groups.get(k))
        .cloned()
        .unwrap_or_default()
}

fn organization_of(row: Option<&Row>) -> OrganizationConfig {
    let Some(row) = row else {
        return OrganizationConfig::default();
    };
    let mut organization = OrganizationConfig {
        name: row
            .text("Name")
            .or_else(|| row.text("Identity"))
            .unwrap_or_default(),
        ..OrganizationConfig::default()
    };
    for property in OrganizationProperty::ALL {
        let definition = property.definition();
        (definition.set)(&mut organization, read_value(row, definition));
    }
    organization
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty() && v != "00000000-0000-0000-0000-000000000000")
}

fn recipient_of(row: &Row) -> Option<Recipient> {
    let guid = row.text("Guid")?;
    Some(Recipient {
        external_directory_object_id: non_empty(row.text("ExternalDirectoryObjectId")),
        name: row.text("Name").unwrap_or_else(|| guid.clone()),
        guid,
        display_name: row.text_or_empty("DisplayName"),
        primary_smtp_address: row.text_or_empty("PrimarySmtpAddress"),
        user_principal_name: non_empty(
            row.text("UserPrincipalName")
                .or_else(|| row.text("WindowsLiveID")),
        ),
        email_addresses: row.strings("EmailAddresses", false),
        sid: None,
        recipient_type_details: row.text_or_empty("RecipientTypeDetails"),
    })
}

fn mailbox_of(row: &Row) -> Option<Mailbox> {
    let address = row.text("PrimarySmtpAddress")?;
    let mut mailbox = Mailbox {
        external_directory_object_id: non_empty(row.text("ExternalDirectoryObjectId")),
        guid: row
            .text("Guid")
            .or_else(|| row.text("ExchangeObjectId"))
            .unwrap_or_default(),
        name: row.text_or_empty("Name"),
        alias: row.text_or_empty("Alias"),
        user_principal_name: non_empty(row.text("UserPrincipalName")),
        email_addresses: row.strings("EmailAddresses", false),
        language: row.strings("Languages", false).into_iter().next(),
        grant_send_on_behalf_to: row.strings("GrantSendOnBehalfTo", false),
        moderated_by: row.strings("ModeratedBy", false),
        bypass_moderation_from_senders_or_members: row
            .strings("BypassModerationFromSendersOrMembers", false),
        primary_smtp_address: address,
        mailbox_permissions: Vec::new(),
        recipient_permissions: Vec::new(),
        sent_items: SentItemsFolder::default(),
        cas_mailbox: CasMailbox::default(),
        is_dir_synced: row.flag("IsDirSynced").unwrap_or(false),
        ..Mailbox::default()
    };
    for property in Property::of_cmdlet("Get-Mailbox") {
        let definition = property.definition();
        (definition.set)(&mut mailbox, read_value(row, definition));
    }
    Some(mailbox)
}

fn mailbox_permission_of(row: &Row) -> MailboxPermission {
    MailboxPermission {
        user: row.text_or_empty("User"),
        access_rights: row.strings("AccessRights", true),
        is_inherited: row.flag("IsInherited").unwrap_or(false),
        deny: row.flag("Deny").unwrap_or(false),
        auto_mapping: None,
    }
}

fn recipient_permission_of(row: &Row) -> RecipientPermission {
    RecipientPermission {
        trustee: row.text_or_empty("Trustee"),
        access_rights: row.strings("AccessRights", true),
        is_inherited: row.flag("IsInherited").unwrap_or(false),
        access_control_type: row
            .text("AccessControlType")
            .unwrap_or_else(|| "Allow".to_owned()),
    }
}

fn folder_permission_of(row: &Row) -> FolderPermission {
    FolderPermission {
        user: row.text_or_empty("User"),
        access_rights: row.strings("AccessRights", true),
    }
}

fn cas_of(row: &Row) -> CasMailbox {
    let mut mailbox = Mailbox::default();
    for property in Property::of_cmdlet("Get-CASMailbox") {
        let definition = property.definition();
        (definition.set)(&mut mailbox, read_value(row, definition));
    }
    mailbox.cas_mailbox
}
