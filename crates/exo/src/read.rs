//! Reading a [`Snapshot`]: bulk reads where Exchange allows them, per-mailbox reads only
//! for the managed mailboxes, everything in `$batch` requests.
//!
//! Round 1 (one `$batch`): `Get-OrganizationConfig` and `Get-TransportConfig` (one read per
//! read cmdlet of the organisation catalogue), `Get-Recipient` (the directory),
//! `Get-Mailbox -RecipientTypeDetails SharedMailbox`, `Get-ServicePrincipal`, `Get-User`
//! and `Get-Group` (principals without mail), `Get-AcceptedDomain` (for lint SBX202; a
//! failure leaves the list empty and the lint skipped), and, for larger scopes,
//! `Get-CASMailbox` and `Get-RecipientPermission -AccessRights SendAs` in bulk. Only when a
//! mailbox in scope does not exist: `Get-Mailbox -SoftDeletedMailbox` (the addresses removed
//! mailboxes still hold, for the plan's check before a create; a failure leaves it empty).
//! Only for the scope's accounts that are user mailboxes: `Get-CASMailbox -Identity` (their
//! own SMTP AUTH, for lint SBX205). Only with `--with-sizes`: `Get-MailboxStatistics` per
//! managed mailbox in round 2 (the size, for lint SBX210). Only for the mailboxes of
//! [`ReadScope::auto_replies`] (their policy manages `autoReply`, or a write changes it):
//! `Get-MailboxAutoReplyConfiguration` in round 2; any other mailbox costs no request for it.
//! Round 2 (per managed mailbox that exists): `Get-MailboxPermission
//! -IncludeUnresolvedPermissions` and
//! `Get-MailboxFolderStatistics -FolderScope SentItems` (plus `-FolderScope Inbox` and
//! `Calendar` only where the scope asks for them, [`sharedbox_tenant::ReadScope::folders`];
//! plus `Get-CASMailbox` and `Get-RecipientPermission` for small scopes). Round 3:
//! `Get-MailboxFolderPermission` on `<mailbox>:<FolderId>` of the folder whose `FolderType`
//! is `SentItems` (and `Inbox`, `Calendar` where read), and on the
//! mailbox root `<mailbox>:\` where the scope asks for it unconditionally
//! ([`sharedbox_tenant::RootRead::always`]: a declared Sent Items reader needs
//! `FolderVisible` there). Round 4, only when needed: the root of a mailbox whose scope
//! asks for it when a folder read holds a reader, and where one does. Rounds 2
//! and 3 run per chunk of ten mailboxes, all chunks at once (bounded by the client's
//! concurrency), so a chunk's round 3 does not wait for the other chunks' round 2.
//!
//! With [`ReadScope::groups`] (the `access` report; `plan` when lint SBX104 has a sender to
//! check), `Get-Group` also selects `Members`, round 1 adds `Get-User -Filter "AccountDisabled
//! -eq $true"`, and after it `Get-UnifiedGroupLinks -LinkType Members` runs per Microsoft 365
//! group (ten to a `$batch`). With [`ReadScope::all_shared`], every shared mailbox of
//! `Get-Mailbox` is read in full, with the bulk CAS and Send As reads.
//!
//! Any failed read fails the whole read: a mailbox that could not be read is never
//! reported as absent.

use std::collections::HashMap;
use std::sync::LazyLock;

use futures::StreamExt as _;

use sharedbox_tenant::{
    CasMailbox, Definition, Directory, FolderPermission, Fresh, Kind, Mailbox, MailboxFolder,
    MailboxPermission, OrganizationConfig, OrganizationProperty, Phase, Progress, Property,
    ReadScope, Recipient, RecipientPermission, SentItemsFolder, Snapshot, SoftDeletedMailbox,
    Value, WellKnownFolder,
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

/// `Get-User` and `Get-Group` fields: principals without mail, which `Get-Recipient` does
/// not list but which can hold grants (their permission rows may name them by SID).
const USER_FIELDS: &[&str] = &[
    "Identity",
    "Name",
    "DisplayName",
    "ExternalDirectoryObjectId",
    "Guid",
    "RecipientTypeDetails",
    "UserPrincipalName",
    "WindowsEmailAddress",
    "SID",
];

/// `Get-ServicePrincipal` fields (`ObjectId` is also spelled `ServiceId`).
const SERVICE_PRINCIPAL_FIELDS: &[&str] = &[
    "Identity",
    "Name",
    "DisplayName",
    "AppId",
    "ObjectId",
    "ServiceId",
    "Guid",
];

/// `Get-Group` fields when group membership is read ([`ReadScope::groups`]): `Members`, the
/// direct members of every group but Microsoft 365 groups, in the same one paged read.
static GROUP_FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut fields = USER_FIELDS.to_vec();
    fields.push("Members");
    fields
});

/// `Get-UnifiedGroupLinks` fields: enough to resolve a member through the directory.
const LINK_FIELDS: &[&str] = &[
    "Identity",
    "Name",
    "ExternalDirectoryObjectId",
    "Guid",
    "PrimarySmtpAddress",
];

/// The filter of the disabled accounts read with group membership [GUESS: that
/// `AccountDisabled` is filterable; a refusal leaves only `DisabledUser` known as disabled].
const DISABLED_FILTER: &str = "AccountDisabled -eq $true";

/// `Get-User` of users without mail only; users with a mailbox come from `Get-Recipient`.
const NON_MAIL_USERS: &[&str] = &["User", "DisabledUser"];

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
    "IsExchangeCloudManaged",
    "LitigationHoldEnabled",
    "ArchiveGuid",
    "SKUAssigned",
];

/// `Get-CASMailbox` fields besides the catalogued properties.
const CAS_IDENTITY: &[&str] = &["Identity", "Name", "PrimarySmtpAddress", "Guid"];

/// `Get-MailboxAutoReplyConfiguration` fields besides the catalogued properties.
const AUTO_REPLY_IDENTITY: &[&str] = &["Identity", "MailboxOwnerId"];

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
static AUTO_REPLY_FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    fields(
        AUTO_REPLY_IDENTITY,
        sharedbox_tenant::catalog::AUTO_REPLY_GET,
    )
});
/// One read per cmdlet of the organisation catalogue (`Get-OrganizationConfig`,
/// `Get-TransportConfig`), each with the fields it reports.
static ORGANIZATION_READS: LazyLock<Vec<(&'static str, Vec<&'static str>)>> = LazyLock::new(|| {
    OrganizationProperty::read_cmdlets()
        .into_iter()
        .map(|cmdlet| (cmdlet, fields(&["Identity", "Name"], cmdlet)))
        .collect()
});

/// A catalogued property's value in a read cmdlet's output row.
fn read_value<T: Fresh>(row: &Row, definition: &Definition<T>) -> Value {
    let value = match definition.kind {
        Kind::Text | Kind::Choice(_) => row.text(definition.parameter).map(Value::Text),
        Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } | Kind::Tristate { .. } => {
            row.flag(definition.parameter).map(Value::Flag)
        }
        // Empty or absent: no forwarding, no scheduled time.
        Kind::Address | Kind::Time => Some(
            row.text(definition.parameter)
                .filter(|t| !t.is_empty())
                .map_or(Value::Unset, Value::Text),
        ),
        // The HTML as Exchange returns it; compared by its text form.
        Kind::Message => row.text(definition.parameter).map(Value::Text),
    };
    value.unwrap_or_else(|| definition.absent())
}

/// What a read found besides the snapshot: the identity of each folder read (by
/// [`folder_key`]), for later folder permission writes.
pub type FolderIds = HashMap<String, String>;

/// Reads the snapshot of `scope`, reporting to `progress` ([`Phase::Read`]) one unit per
/// mailbox in scope: the ones that do not exist once round 1 is in, the others as their
/// chunk of rounds 2 and 3 completes. The caller finishes `progress`.
pub async fn snapshot(
    client: &Client,
    scope: &ReadScope,
    progress: &dyn Progress,
) -> Result<(Snapshot, FolderIds), ExoError> {
    let total = scope.mailboxes.len();
    // Reading every shared mailbox: how many is known once round 1 is in.
    if !scope.all_shared {
        progress.start(Phase::Read, total as u64);
    }
    let bulk = scope.all_shared || scope.mailboxes.len() > PER_MAILBOX_LIMIT;
    let mut first: Vec<(Read, Command)> = ORGANIZATION_READS
        .iter()
        .enumerate()
        .map(|(i, (cmdlet, fields))| (Read::Organization(i), Command::read(cmdlet).select(fields)))
        .collect();
    first.extend([
        (
            Read::Recipients,
            Command::read("Get-Recipient")
                .param("ResultSize", "Unlimited")
                .select(RECIPIENT_FIELDS),
        ),
        (
            Read::SharedMailboxes,
            Command::read("Get-Mailbox")
                .param("RecipientTypeDetails", "SharedMailbox")
                .param("ResultSize", "Unlimited")
                .select(&MAILBOX_FIELDS),
        ),
    ]);
    if bulk {
        first.push((
            Read::Cas,
            Command::read("Get-CASMailbox")
                .param("RecipientTypeDetails", "SharedMailbox")
                .param("ResultSize", "Unlimited")
                .select(&CAS_FIELDS),
        ));
        first.push((
            Read::SendAs,
            Command::read("Get-RecipientPermission")
                .param("AccessRights", "SendAs")
                .param("ResultSize", "Unlimited"),
        ));
    }
    // Principals without mail: a read the identity may not be allowed (a role without
    // `Get-ServicePrincipal`) leaves the directory incomplete, so that what it does not
    // resolve is "not looked up", never "orphaned".
    first.push((
        Read::ServicePrincipals,
        Command::read("Get-ServicePrincipal").select(SERVICE_PRINCIPAL_FIELDS),
    ));
    first.push((
        Read::NonMail,
        Command::read("Get-User")
            .param("RecipientTypeDetails", serde_json::json!(NON_MAIL_USERS))
            .param("ResultSize", "Unlimited")
            .select(USER_FIELDS),
    ));
    first.push((
        Read::NonMail,
        Command::read("Get-Group")
            .param("ResultSize", "Unlimited")
            .select(if scope.groups {
                &GROUP_FIELDS
            } else {
                USER_FIELDS
            }),
    ));
    if scope.groups {
        // Users whose account is disabled: the `access` report flags their grants. Optional:
        // a refusal leaves only the `DisabledUser` type as the sign.
        first.push((
            Read::Disabled,
            Command::read("Get-User")
                .param("Filter", DISABLED_FILTER)
                .param("ResultSize", "Unlimited")
                .select(USER_FIELDS),
        ));
    }
    // Only lint SBX202 uses the accepted domains, and it is skipped when there are none: a
    // role without `Get-AcceptedDomain` does not stop the read.
    first.push((
        Read::AcceptedDomains,
        Command::read("Get-AcceptedDomain").select(&["DomainName"]),
    ));
    let (reads, first): (Vec<Read>, Vec<Command>) = first.into_iter().unzip();
    // Each page is turned into the model as it arrives and dropped: raw rows of a whole
    // tenant would be the largest thing this process holds. Only the managed mailboxes are
    // kept in full; of the others, the directory entry and the address.
    let wanted = scope.address_set();
    let round1 = std::sync::Mutex::new(Round1 {
        managed: Vec::with_capacity(scope.mailboxes.len()),
        all: scope.all_shared,
        groups: scope.groups,
        ..Round1::default()
    });
    let sink = |command: usize, rows: Vec<Row>| {
        let mut round1 = round1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        round1.take(reads[command], rows, &wanted);
    };
    let results = client.batch_streamed(&first, &sink).await;
    let mut incomplete = false;
    for (read, result) in reads.iter().zip(results) {
        match (read, result) {
            // Only the `access` report's flag uses it; see [`DISABLED_FILTER`].
            (Read::Disabled, Err(ExoError::Forbidden { .. } | ExoError::BadParameter { .. })) => {}
            // Only lint SBX202 uses the accepted domains: a role without the cmdlet skips it.
            // Like every other read, a transient or server error fails the read.
            (
                Read::AcceptedDomains,
                Err(ExoError::Forbidden { .. } | ExoError::BadParameter { .. }),
            ) => {}
            // The transport settings only inform (`inherit` shown with its effect, SBX205);
            // an identity without the role for them reads them as not reported.
            (Read::Organization(i), Err(ExoError::Forbidden { .. }))
                if ORGANIZATION_READS[*i].0 != "Get-OrganizationConfig" => {}
            (
                Read::ServicePrincipals | Read::NonMail,
                Err(ExoError::Forbidden { .. } | ExoError::BadParameter { .. }),
            ) => incomplete = true,
            (_, other) => {
                other?;
            }
        }
    }
    let Round1 {
        organization,
        mut directory,
        mut managed,
        shared,
        all_shared_mailboxes,
        cas,
        send_as,
        principals,
        accepted_domains,
        disabled,
        ..
    } = round1
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut organization = organization_of(
        &ORGANIZATION_READS
            .iter()
            .map(|(cmdlet, _)| *cmdlet)
            .zip(organization)
            .collect::<Vec<_>>(),
    );
    organization.accepted_domains = accepted_domains;
    for mailbox in shared {
        directory.insert(match mailbox {
            SharedMailbox::Managed(i) => managed[i].recipient(),
            SharedMailbox::Other(recipient) => *recipient,
        });
    }
    for mut principal in principals {
        // A mail-enabled group is in the directory from `Get-Recipient` already; its
        // members come from `Get-Group`.
        if let Some(members) = principal.members.take() {
            let id = sharedbox_tenant::PrincipalId::of(&principal);
            if directory.get(&id).is_some() {
                directory.set_members(&id, members);
                continue;
            }
            principal.members = Some(members);
        }
        directory.insert_if_absent(principal);
    }
    for user in &disabled {
        directory.set_account_disabled(user, true);
    }
    drop(disabled);
    if incomplete {
        directory.mark_incomplete();
    }
    let groups_read = scope.groups && !incomplete;
    if scope.groups {
        unified_group_members(client, &mut directory).await?;
    }
    if scope.all_shared {
        progress.start(Phase::Read, managed.len() as u64);
    }
    account_smtp_auth(client, &mut directory, &scope.accounts).await?;
    forwarding_addresses(&mut managed, &directory);
    directory.shrink_to_fit();
    managed.shrink_to_fit();
    // Round 1 found which mailboxes exist; the others (and addresses of one mailbox named
    // twice) need no more reading. The rest are counted as their chunks complete.
    progress.advance(total.saturating_sub(managed.len()) as u64);
    // The bulk rows go to their mailboxes now, so that the tenant-wide maps are gone
    // before rounds 2 and 3 read the rest.
    let mut from_bulk: Vec<FromBulk> = if bulk {
        let mut send_as = send_as;
        managed
            .iter()
            .map(|m| (find_row(&cas, m).cloned(), take_rows(&mut send_as, m)))
            .collect()
    } else {
        Vec::new()
    };
    drop(cas);
    // Only when a mailbox in scope does not exist (one a plan may create): the addresses
    // that soft-deleted mailboxes still hold.
    let soft_deleted = if some_missing(&managed, &wanted) {
        soft_deleted_mailboxes(client).await?
    } else {
        Vec::new()
    };
    drop(wanted);

    // Rounds 2 and 3, pipelined: each chunk of ten mailboxes reads its folder permissions
    // as soon as its own folder statistics are in, while other chunks are still reading.
    // Only as many chunks run as can have requests in flight, so that requests are not
    // built long before they can be sent.
    let in_flight = client.max_concurrency().max(1) * 2;
    let chunk_scope = ChunkScope::of(scope);
    let chunks = Chunks {
        client,
        scope: &chunk_scope,
        mailboxes: managed.chunks_mut(CHUNK),
        bulk: bulk.then(|| from_bulk.chunks_mut(CHUNK)),
    };
    let mut chunks = futures::stream::iter(chunks).buffer_unordered(in_flight);
    let mut folder_ids = FolderIds::new();
    while let Some(result) = chunks.next().await {
        let (read, ids) = result?;
        progress.advance(read as u64);
        folder_ids.extend(ids);
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
            groups_read,
        },
        folder_ids,
    ))
}

/// The members of every Microsoft 365 group (`Get-UnifiedGroupLinks -LinkType Members`, ten
/// groups per `$batch`): `Get-Group` does not list them [the Get-Group doc names mail-enabled
/// security groups, distribution groups, role groups and room lists]. A group Exchange does
/// not find has no members; one the identity may not read keeps them unknown; any other
/// failure fails the read, as every read does.
async fn unified_group_members(client: &Client, directory: &mut Directory) -> Result<(), ExoError> {
    let groups: Vec<(sharedbox_tenant::PrincipalId, String)> = directory
        .recipients()
        .iter()
        .filter(|r| r.group_kind() == Some(sharedbox_tenant::GroupKind::Microsoft365))
        .map(|r| (sharedbox_tenant::PrincipalId::of(r), r.identity()))
        .collect();
    if groups.is_empty() {
        return Ok(());
    }
    let commands: Vec<Command> = groups
        .iter()
        .map(|(_, identity)| {
            Command::read("Get-UnifiedGroupLinks")
                .param("Identity", identity.as_str())
                .param("LinkType", "Members")
                .param("ResultSize", "Unlimited")
                .select(LINK_FIELDS)
        })
        .collect();
    for ((id, _), result) in groups.iter().zip(client.batch(&commands).await) {
        let members = match result {
            Ok(out) => out.rows.iter().filter_map(link_of).collect(),
            Err(ExoError::NotFound { .. }) => Vec::new(),
            // A role without the cmdlet: the group's members stay unknown (the report flags
            // it `membershipIncomplete`), never "none".
            Err(ExoError::Forbidden { .. }) => continue,
            Err(e) => return Err(e),
        };
        directory.set_members(id, members);
    }
    Ok(())
}

/// A member row of `Get-UnifiedGroupLinks`, by the most stable name it carries.
fn link_of(row: &Row) -> Option<String> {
    [
        "ExternalDirectoryObjectId",
        "Guid",
        "PrimarySmtpAddress",
        "Name",
        "Identity",
    ]
    .into_iter()
    .find_map(|key| non_empty(row.text(key)))
}

/// `ForwardingAddress` as the tenant model holds it: Exchange reports the recipient's Name
/// (often a GUID), the model its primary SMTP address, so that a plan compares it with the
/// policy's `forwarding.to`. A Name the directory does not resolve stays as reported (the
/// plan then shows it and rewrites it).
fn forwarding_addresses(managed: &mut [Mailbox], directory: &Directory) {
    for mailbox in managed {
        if let Some(name) = &mailbox.forwarding_address
            && let sharedbox_tenant::LivePrincipal::Recipient(r) = directory.resolve_live(name)
            && !r.primary_smtp_address.is_empty()
        {
            mailbox.forwarding_address = Some(r.primary_smtp_address.to_ascii_lowercase());
        }
    }
}

/// Whether an address in `wanted` (lower-cased) is held by none of `managed`: a mailbox in
/// scope that does not exist. Counting would not do: two addresses in scope may name one
/// mailbox.
fn some_missing(managed: &[Mailbox], wanted: &std::collections::HashSet<String>) -> bool {
    let held: std::collections::HashSet<String> = managed
        .iter()
        .flat_map(|m| {
            let proxies = m.email_addresses.iter().filter_map(|proxy| {
                proxy
                    .split_once(':')
                    .filter(|(prefix, _)| prefix.eq_ignore_ascii_case("smtp"))
                    .map(|(_, a)| a.to_ascii_lowercase())
            });
            std::iter::once(m.primary_smtp_address.to_ascii_lowercase()).chain(proxies)
        })
        .collect();
    wanted.iter().any(|a| !held.contains(a))
}

/// What round 1 has read so far, each page converted as it arrives.
#[derive(Default)]
struct Round1 {
    /// The first row of each organisation read (`Get-OrganizationConfig`,
    /// `Get-TransportConfig`), in [`ORGANIZATION_READS`] order.
    organization: Vec<Option<Row>>,
    /// `Get-Recipient`.
    directory: Directory,
    /// The shared mailboxes in scope, in the order read.
    managed: Vec<Mailbox>,
    /// The primary addresses (lower-cased) of [`Round1::managed`].
    managed_seen: std::collections::HashSet<String>,
    /// Every shared mailbox in the order read, for the directory once `Get-Recipient` is in.
    shared: Vec<SharedMailbox>,
    /// The primary address of every shared mailbox.
    all_shared_mailboxes: Vec<String>,
    /// `Get-CASMailbox` in bulk.
    cas: Keyed<CasMailbox>,
    /// `Get-RecipientPermission -AccessRights SendAs` in bulk, by `Identity`.
    send_as: HashMap<String, Vec<RecipientPermission>>,
    /// Principals without mail, added to the directory once `Get-Recipient` is in.
    principals: Vec<Recipient>,
    /// `Get-AcceptedDomain`: the domain names.
    accepted_domains: Vec<String>,
    /// Read every shared mailbox in full ([`ReadScope::all_shared`]).
    all: bool,
    /// Group membership is read ([`ReadScope::groups`]).
    groups: bool,
    /// The users whose account is disabled.
    disabled: Vec<sharedbox_tenant::PrincipalId>,
}

/// A shared mailbox as the directory gets it: from the managed mailbox, or on its own.
enum SharedMailbox {
    Managed(usize),
    Other(Box<Recipient>),
}

/// What a command of round 1 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// The organisation read at this index of [`ORGANIZATION_READS`].
    Organization(usize),
    /// `Get-Recipient`.
    Recipients,
    /// `Get-Mailbox -RecipientTypeDetails SharedMailbox`.
    SharedMailboxes,
    /// `Get-CASMailbox` in bulk.
    Cas,
    /// `Get-RecipientPermission -AccessRights SendAs` in bulk.
    SendAs,
    /// `Get-ServicePrincipal`.
    ServicePrincipals,
    /// `Get-User` or `Get-Group` (principals without mail).
    NonMail,
    /// `Get-AcceptedDomain`.
    AcceptedDomains,
    /// `Get-User -Filter "AccountDisabled -eq $true"`.
    Disabled,
}

impl Round1 {
    /// Converts a page of a round-1 command that reads `read`.
    fn take(&mut self, read: Read, rows: Vec<Row>, wanted: &std::collections::HashSet<String>) {
        match read {
            Read::Organization(i) => {
                if self.organization.len() <= i {
                    self.organization.resize(i + 1, None);
                }
                if self.organization[i].is_none() {
                    self.organization[i] = rows.into_iter().next();
                }
            }
            Read::Recipients => {
                for recipient in rows.iter().filter_map(recipient_of) {
                    self.directory.insert(recipient);
                }
            }
            Read::SharedMailboxes => {
                for mailbox in rows.iter().filter_map(mailbox_of) {
                    self.all_shared_mailboxes
                        .push(mailbox.primary_smtp_address.clone());
                    if self.all || mailbox.is_any_of(wanted) {
                        // The same mailbox in two rows (or on two pages) is read once.
                        if !self
                            .managed_seen
                            .insert(mailbox.primary_smtp_address.to_ascii_lowercase())
                        {
                            continue;
                        }
                        self.shared.push(SharedMailbox::Managed(self.managed.len()));
                        self.managed.push(mailbox);
                    } else {
                        self.shared
                            .push(SharedMailbox::Other(Box::new(mailbox.recipient())));
                    }
                }
            }
            Read::Cas => {
                for row in rows {
                    self.cas.push(&row, cas_of);
                }
            }
            Read::SendAs => {
                for row in rows {
                    let key = row.text_or_empty("Identity").to_ascii_lowercase();
                    self.send_as
                        .entry(key)
                        .or_default()
                        .push(recipient_permission_of(&row));
                }
            }
            Read::ServicePrincipals => self
                .principals
                .extend(rows.iter().filter_map(service_principal_of)),
            Read::NonMail => {
                let groups = self.groups;
                self.principals.extend(rows.iter().filter_map(|row| {
                    let mut principal = non_mail_of(row)?;
                    if groups && principal.is_group() {
                        principal.members = Some(row.strings("Members", false).into());
                    }
                    Some(principal)
                }))
            }
            Read::Disabled => self.disabled.extend(
                rows.iter()
                    .filter(|row| row.flag("AccountDisabled") != Some(false))
                    .filter_map(non_mail_of)
                    .map(|r| sharedbox_tenant::PrincipalId::of(&r)),
            ),
            Read::AcceptedDomains => {
                for domain in rows.iter().filter_map(accepted_domain_of) {
                    if !self
                        .accepted_domains
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(&domain))
                    {
                        self.accepted_domains.push(domain);
                    }
                }
            }
        }
    }
}

/// `Get-Mailbox -SoftDeletedMailbox`: mailboxes removed within 30 days, with the addresses
/// they still hold. Only the plan's check before a create uses them: a role that may not read
/// them leaves the list empty (and `New-Mailbox` then fails at apply); any other failure
/// fails the read, as every read does.
async fn soft_deleted_mailboxes(client: &Client) -> Result<Vec<SoftDeletedMailbox>, ExoError> {
    let command = Command::read("Get-Mailbox")
        .param("SoftDeletedMailbox", true)
        .param("ResultSize", "Unlimited")
        .select(&["PrimarySmtpAddress", "EmailAddresses"]);
    match client
        .batch(std::slice::from_ref(&command))
        .await
        .into_iter()
        .next()
    {
        Some(Ok(out)) => Ok(out.rows.iter().filter_map(soft_deleted_of).collect()),
        // A role without the switch: the check before a create is skipped, as before it
        // existed (`New-Mailbox` then fails at apply, and the run rolls back).
        Some(Err(ExoError::Forbidden { .. } | ExoError::BadParameter { .. })) | None => {
            Ok(Vec::new())
        }
        // Throttled, unreachable, a server error: the read fails, never "nothing is held".
        Some(Err(e)) => Err(e),
    }
}

/// The own SMTP AUTH setting of those `accounts` that are user mailboxes
/// (`Get-CASMailbox -Identity`, batched), written into their directory entries: lint SBX205
/// checks the account that logs in, not the shared mailbox. An account Exchange does not
/// find keeps "not reported"; like every other read, any other failure fails the read.
async fn account_smtp_auth(
    client: &Client,
    directory: &mut Directory,
    accounts: &[String],
) -> Result<(), ExoError> {
    let mut users: Vec<Recipient> = Vec::new();
    for account in accounts {
        if let Some(r) = directory.resolve_policy(account)
            && r.recipient_type_details.eq_ignore_ascii_case("UserMailbox")
            && !users.iter().any(|u| u.guid == r.guid)
        {
            users.push(r.clone());
        }
    }
    if users.is_empty() {
        return Ok(());
    }
    let commands: Vec<Command> = users
        .iter()
        .map(|u| {
            Command::read("Get-CASMailbox")
                .param("Identity", u.primary_smtp_address.as_str())
                .select(&CAS_FIELDS)
        })
        .collect();
    for (mut user, result) in users.into_iter().zip(client.batch(&commands).await) {
        match result {
            Ok(out) => {
                if let Some(row) = out.rows.first() {
                    user.smtp_client_authentication_disabled =
                        cas_of(row).smtp_client_authentication_disabled;
                    directory.insert(user);
                }
            }
            Err(ExoError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A row of `Get-Mailbox -SoftDeletedMailbox`; one without a primary address is left out.
fn soft_deleted_of(row: &Row) -> Option<SoftDeletedMailbox> {
    Some(SoftDeletedMailbox {
        primary_smtp_address: row.text("PrimarySmtpAddress")?,
        email_addresses: row.strings("EmailAddresses", false),
    })
}

/// The `DomainName` of a `Get-AcceptedDomain` row, when it can be a DNS name (at most 253
/// characters, no control character, space or `@`). Anything else is left out rather than
/// compared with policy addresses or printed in lint SBX202's message.
fn accepted_domain_of(row: &Row) -> Option<String> {
    let domain = row.text("DomainName")?;
    let plausible = domain.chars().count() <= 253
        && !domain
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '@');
    plausible.then_some(domain)
}

/// Managed mailboxes read together in rounds 2 and 3 (3 `$batch` requests per chunk).
const CHUNK: usize = 10;

/// A managed mailbox's client access settings and Send As rows from the bulk reads.
type FromBulk = (Option<CasMailbox>, Vec<RecipientPermission>);

/// Values each reachable by several keys (name, GUID, address), stored once.
struct Keyed<T> {
    values: Vec<T>,
    index: HashMap<String, usize>,
}

/// The reads of rounds 2 and 3, one chunk of mailboxes after the other, each made only when
/// it is started (a chunk's future is a few KB; all of them up front would be tens of MB).
/// What rounds 2 to 4 need of the scope, with the root reads indexed by address: looking
/// them up in `ReadScope::roots` for every mailbox would cost the square of the scope.
struct ChunkScope {
    sizes: bool,
    /// Lower-cased addresses whose automatic replies to read.
    auto_replies: std::collections::HashSet<String>,
    /// Lower-cased address -> read the root whatever Sent Items holds.
    roots: HashMap<String, bool>,
    /// Lower-cased address -> the Inbox and Calendar to read besides Sent Items.
    folders: HashMap<String, Vec<WellKnownFolder>>,
}

impl ChunkScope {
    fn of(scope: &ReadScope) -> ChunkScope {
        let mut roots: HashMap<String, bool> = HashMap::with_capacity(scope.roots.len());
        for root in &scope.roots {
            let always = roots
                .entry(root.mailbox.trim().to_ascii_lowercase())
                .or_insert(false);
            *always |= root.always;
        }
        let mut folders: HashMap<String, Vec<WellKnownFolder>> = HashMap::new();
        for read in &scope.folders {
            if read.folder == WellKnownFolder::SentItems {
                continue;
            }
            let list = folders
                .entry(read.mailbox.trim().to_ascii_lowercase())
                .or_default();
            if !list.contains(&read.folder) {
                list.push(read.folder);
            }
        }
        for list in folders.values_mut() {
            list.sort();
        }
        ChunkScope {
            sizes: scope.sizes,
            roots,
            folders,
            auto_replies: scope
                .auto_replies
                .iter()
                .map(|a| a.trim().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether the automatic replies of `m` are to be read, by any of its SMTP addresses.
    fn auto_reply(&self, m: &Mailbox) -> bool {
        !self.auto_replies.is_empty() && smtp_addresses(m).any(|a| self.auto_replies.contains(&a))
    }

    /// The folders besides Sent Items to read for `m`, by any of its SMTP addresses.
    fn folders_of(&self, m: &Mailbox) -> Vec<WellKnownFolder> {
        if self.folders.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<WellKnownFolder> = smtp_addresses(m)
            .filter_map(|a| self.folders.get(&a))
            .flatten()
            .copied()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// How the root of `m` is to be read, by any of its SMTP addresses: `None` when it is
    /// not, `Some(always)` otherwise ([`sharedbox_tenant::RootRead::always`]).
    fn root_read(&self, m: &Mailbox) -> Option<bool> {
        smtp_addresses(m)
            .filter_map(|a| self.roots.get(&a).copied())
            .reduce(|a, b| a || b)
    }
}

/// The primary and secondary SMTP addresses of `m`, trimmed and lower-cased.
fn smtp_addresses(m: &Mailbox) -> impl Iterator<Item = String> + '_ {
    let proxies = m.email_addresses.iter().filter_map(|proxy| {
        proxy
            .split_once(':')
            .filter(|(prefix, _)| prefix.eq_ignore_ascii_case("smtp"))
            .map(|(_, address)| address)
    });
    std::iter::once(m.primary_smtp_address.as_str())
        .chain(proxies)
        .map(|a| a.trim().to_ascii_lowercase())
}

/// Whether a folder read for `m` holds an entry besides `Default` and `Anonymous` (a reader
/// whose root entry may be sharedbox's to take back).
fn has_folder_grants(m: &Mailbox) -> bool {
    WellKnownFolder::ALL
        .into_iter()
        .any(|f| m.folder_grants(f).next().is_some())
}

struct Chunks<'a> {
    client: &'a Client,
    scope: &'a ChunkScope,
    mailboxes: std::slice::ChunksMut<'a, Mailbox>,
    bulk: Option<std::slice::ChunksMut<'a, FromBulk>>,
}

impl<'a> Iterator for Chunks<'a> {
    /// The number of mailboxes read, and their folder ids.
    type Item = futures::future::BoxFuture<'a, Result<(usize, FolderIds), ExoError>>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = self.mailboxes.next()?;
        let bulk = self.bulk.as_mut().and_then(Iterator::next);
        let (client, scope, read) = (self.client, self.scope, chunk.len());
        Some(Box::pin(async move {
            read_chunk(client, scope, chunk, bulk)
                .await
                .map(|ids| (read, ids))
        }))
    }
}

/// Rounds 2 and 3 for one chunk of managed mailboxes: permissions, Sent Items folder and
/// (for small scopes) client settings and Send As rows, then the folder's permissions.
async fn read_chunk(
    client: &Client,
    scope: &ChunkScope,
    chunk: &mut [Mailbox],
    mut bulk: Option<&mut [FromBulk]>,
) -> Result<FolderIds, ExoError> {
    let mut second = Vec::with_capacity(chunk.len() * 4);
    for m in chunk.iter() {
        let address = m.primary_smtp_address.as_str();
        second.push(
            // Without the switch Exchange leaves out the entries of accounts that no longer
            // resolve: an authoritative list would never see (nor clean up) them. The entries
            // of soft-deleted users stay out (`-IncludeSoftDeletedUserPermissions` is not
            // passed): they act only if the user is restored, and drift shows them then.
            Command::read("Get-MailboxPermission")
                .param("Identity", address)
                .param("IncludeUnresolvedPermissions", true)
                .anchored(address),
        );
        second.push(
            Command::read("Get-MailboxFolderStatistics")
                .param("Identity", address)
                .param("FolderScope", "SentItems")
                .select(&["Identity", "Name", "FolderPath", "FolderType", "FolderId"])
                .anchored(address),
        );
        // The Inbox and Calendar only where a policy manages them (or a write touches them).
        for folder in scope.folders_of(m) {
            second.push(
                Command::read("Get-MailboxFolderStatistics")
                    .param("Identity", address)
                    .param("FolderScope", folder.folder_type())
                    .select(&["Identity", "Name", "FolderPath", "FolderType", "FolderId"])
                    .anchored(address),
            );
        }
        if scope.sizes {
            second.push(
                Command::read("Get-MailboxStatistics")
                    .param("Identity", address)
                    .select(&["Identity", "TotalItemSize"])
                    .anchored(address),
            );
        }
        // Only where a policy manages `autoReply` (or a write changes it).
        if scope.auto_reply(m) {
            second.push(
                Command::read(sharedbox_tenant::catalog::AUTO_REPLY_GET)
                    .param("Identity", address)
                    .select(&AUTO_REPLY_FIELDS)
                    .anchored(address),
            );
        }
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
    for (at, m) in chunk.iter_mut().enumerate() {
        let permissions = next_of(&mut second)?;
        let folders = next_of(&mut second)?;
        let extra = scope.folders_of(m);
        let mut extra_folders = Vec::with_capacity(extra.len());
        for folder in &extra {
            extra_folders.push((*folder, next_of(&mut second)?));
        }
        if scope.sizes {
            let statistics = next_of(&mut second)?;
            m.total_item_size_bytes = statistics.rows.first().and_then(total_item_size);
        }
        if scope.auto_reply(m) {
            let output = next_of(&mut second)?;
            let row = output.rows.first().ok_or_else(|| ExoError::Rejected {
                cmdlet: sharedbox_tenant::catalog::AUTO_REPLY_GET.to_owned(),
                status: 200,
                exception: String::new(),
                message: format!(
                    "no automatic-reply configuration came back for mailbox `{}`",
                    m.primary_smtp_address
                ),
            })?;
            auto_reply_of(m, row);
        }
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
        if scope.root_read(m) == Some(true) {
            third.push(root_read(m));
        }
        for (folder, statistics) in &extra_folders {
            let row = folder_row(statistics, &m.primary_smtp_address, *folder)?;
            let folder_id = row.text_or_empty("FolderId");
            *m.folder_mut(*folder) = MailboxFolder {
                name: row.text_or_empty("Name"),
                folder_id: folder_id.clone(),
                permissions: Vec::new(),
            };
            let identity = folder_identity(&m.primary_smtp_address, &folder_id, row);
            folder_ids.insert(
                folder_key(&m.primary_smtp_address, *folder),
                identity.clone(),
            );
            third.push(
                Command::read("Get-MailboxFolderPermission")
                    .param("Identity", identity)
                    .anchored(&m.primary_smtp_address),
            );
        }
        let (cas, send_as) = match bulk.as_deref_mut() {
            Some(bulk) => std::mem::take(&mut bulk[at]),
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
    let mut fourth = Vec::new();
    for m in chunk.iter_mut() {
        let rows = next_of(&mut third)?;
        m.sent_items.permissions = rows.rows.iter().map(folder_permission_of).collect();
        let root = match scope.root_read(m) {
            Some(true) => Some(next_of(&mut third)?),
            _ => None,
        };
        for folder in scope.folders_of(m) {
            let rows = next_of(&mut third)?;
            m.folder_mut(folder).permissions = rows.rows.iter().map(folder_permission_of).collect();
        }
        match (scope.root_read(m), root) {
            (Some(true), Some(rows)) => {
                m.root_folder = Some(rows.rows.iter().map(folder_permission_of).collect());
            }
            // A reader to revoke: its root entry may be sharedbox's to take back.
            (Some(false), _) if has_folder_grants(m) => fourth.push(root_read(m)),
            _ => {}
        }
    }
    if !fourth.is_empty() {
        let mut fourth = client.batch(&fourth).await.into_iter();
        for m in chunk.iter_mut() {
            if scope.root_read(m) == Some(false) && has_folder_grants(m) {
                let rows = next_of(&mut fourth)?;
                m.root_folder = Some(rows.rows.iter().map(folder_permission_of).collect());
            }
        }
    }
    Ok(folder_ids)
}

/// The automatic replies of `m` from a `Get-MailboxAutoReplyConfiguration` row: each
/// catalogued parameter as its kind reads it (messages as the HTML Exchange returns).
fn auto_reply_of(m: &mut Mailbox, row: &Row) {
    m.auto_reply = Some(sharedbox_tenant::AutoReply::default());
    for property in Property::ALL.into_iter().filter(|p| p.is_auto_reply()) {
        let definition = property.definition();
        (definition.set)(m, read_value(row, definition));
    }
}

/// `Get-MailboxFolderPermission` on the root of `m` (`<mailbox>:\`).
fn root_read(m: &Mailbox) -> Command {
    Command::read("Get-MailboxFolderPermission")
        .param(
            "Identity",
            crate::write::root_identity(&m.primary_smtp_address),
        )
        .anchored(&m.primary_smtp_address)
}

fn next_of(
    results: &mut impl Iterator<Item = Result<Output, ExoError>>,
) -> Result<Output, ExoError> {
    results.next().unwrap_or_else(|| Ok(Output::default()))
}

/// The `SentItems` row of a `Get-MailboxFolderStatistics -FolderScope SentItems` answer (found
/// by `FolderType`, so localised names like `Gesendete Elemente` work).
pub fn sent_items_row<'a>(output: &'a Output, mailbox: &str) -> Result<&'a Row, ExoError> {
    folder_row(output, mailbox, WellKnownFolder::SentItems)
}

/// The row of `folder` in a `Get-MailboxFolderStatistics -FolderScope <type>` answer, found
/// by `FolderType` (always English), never by the localised name: the scope also lists the
/// folder's subfolders, and a user folder may carry the English name.
pub fn folder_row<'a>(
    output: &'a Output,
    mailbox: &str,
    folder: WellKnownFolder,
) -> Result<&'a Row, ExoError> {
    output
        .rows
        .iter()
        .find(|r| {
            r.text("FolderType")
                .is_some_and(|t| t.eq_ignore_ascii_case(folder.folder_type()))
        })
        .ok_or_else(|| ExoError::Rejected {
            cmdlet: "Get-MailboxFolderStatistics".to_owned(),
            status: 200,
            exception: String::new(),
            message: format!(
                "mailbox `{mailbox}` shows no folder of type `{}`",
                folder.folder_type()
            ),
        })
}

/// The key of a folder identity in [`FolderIds`]: the lower-cased address for Sent Items,
/// `<address>|<FolderType>` for the others.
pub fn folder_key(mailbox: &str, folder: WellKnownFolder) -> String {
    let address = mailbox.to_ascii_lowercase();
    match folder {
        WellKnownFolder::SentItems => address,
        other => format!("{address}|{}", other.folder_type()),
    }
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

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed {
            values: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Keyed<T> {
    /// Adds the value of `row`, found by its identity, name, GUID and address (the first
    /// row of a key wins).
    fn push(&mut self, row: &Row, convert: fn(&Row) -> T) {
        let at = self.values.len();
        for key in ["Identity", "Name", "Guid", "PrimarySmtpAddress"] {
            if let Some(value) = row.text(key) {
                self.index.entry(value.to_ascii_lowercase()).or_insert(at);
            }
        }
        self.values.push(convert(row));
    }
}

fn find_row<'a, T>(keyed: &'a Keyed<T>, m: &Mailbox) -> Option<&'a T> {
    keys_of(m)
        .iter()
        .find_map(|k| keyed.index.get(k))
        .map(|&at| &keyed.values[at])
}

/// Takes the rows of `m` (found by the first of its keys that has rows) out of `groups`.
fn take_rows<T>(groups: &mut HashMap<String, Vec<T>>, m: &Mailbox) -> Vec<T> {
    keys_of(m)
        .iter()
        .find_map(|k| groups.remove(k))
        .unwrap_or_default()
}

/// The organisation from the first row of each organisation read (`Get-OrganizationConfig`
/// names it); each property from the row of its own read cmdlet.
fn organization_of(rows: &[(&str, Option<Row>)]) -> OrganizationConfig {
    let mut organization = OrganizationConfig::default();
    for (cmdlet, row) in rows {
        let Some(row) = row else {
            continue;
        };
        if *cmdlet == "Get-OrganizationConfig" {
            organization.name = row
                .text("Name")
                .or_else(|| row.text("Identity"))
                .unwrap_or_default();
        }
        for property in OrganizationProperty::of_cmdlet(cmdlet) {
            let definition = property.definition();
            if definition.read_cmdlet == *cmdlet {
                (definition.set)(&mut organization, read_value(row, definition));
            }
        }
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
        // Not in `Get-Recipient`: read for the accounts that need it (`account_smtp_auth`).
        smtp_client_authentication_disabled: None,
        app_id: None,
        members: None,
        account_disabled: None,
    })
}

/// A row of `Get-User` or `Get-Group`; a row with mail is left to `Get-Recipient`.
fn non_mail_of(row: &Row) -> Option<Recipient> {
    let guid = row
        .text("Guid")
        .or_else(|| row.text("ExternalDirectoryObjectId"))?;
    Some(Recipient {
        external_directory_object_id: non_empty(row.text("ExternalDirectoryObjectId")),
        name: row.text("Name").unwrap_or_else(|| guid.clone()),
        guid,
        display_name: row.text_or_empty("DisplayName"),
        primary_smtp_address: String::new(),
        user_principal_name: non_empty(row.text("UserPrincipalName")),
        email_addresses: Vec::new(),
        sid: non_empty(row.text("SID").or_else(|| row.text("Sid"))),
        recipient_type_details: row.text_or_empty("RecipientTypeDetails"),
        app_id: None,
        smtp_client_authentication_disabled: None,
        members: None,
        account_disabled: None,
    })
}

/// A row of `Get-ServicePrincipal`: `AppId`, `ObjectId` (or `ServiceId`), `DisplayName`.
fn service_principal_of(row: &Row) -> Option<Recipient> {
    let app_id = non_empty(row.text("AppId"))?;
    let object_id = non_empty(row.text("ObjectId")).or_else(|| non_empty(row.text("ServiceId")));
    let guid = non_empty(row.text("Guid"))
        .or_else(|| object_id.clone())
        .or_else(|| row.text("Identity"))
        .unwrap_or_else(|| app_id.clone());
    Some(Recipient {
        name: row
            .text("Name")
            .or_else(|| row.text("Identity"))
            .unwrap_or_else(|| guid.clone()),
        external_directory_object_id: object_id,
        guid,
        display_name: row.text_or_empty("DisplayName"),
        primary_smtp_address: String::new(),
        user_principal_name: None,
        email_addresses: Vec::new(),
        sid: None,
        recipient_type_details: sharedbox_tenant::model::SERVICE_PRINCIPAL.to_owned(),
        app_id: Some(app_id.to_ascii_lowercase()),
        smtp_client_authentication_disabled: None,
        members: None,
        account_disabled: None,
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
        // Read in round 3 or 4 where the scope asks for it; otherwise not read.
        root_folder: None,
        cas_mailbox: CasMailbox::default(),
        is_dir_synced: row.flag("IsDirSynced").unwrap_or(false),
        is_exchange_cloud_managed: row.flag("IsExchangeCloudManaged").unwrap_or(false),
        litigation_hold_enabled: row.flag("LitigationHoldEnabled").unwrap_or(false),
        archive_enabled: row
            .text("ArchiveGuid")
            .is_some_and(|g| is_non_zero_guid(&g)),
        sku_assigned: row.flag("SKUAssigned"),
        ..Mailbox::default()
    };
    for property in Property::of_cmdlet("Get-Mailbox") {
        let definition = property.definition();
        (definition.set)(&mut mailbox, read_value(row, definition));
    }
    Some(mailbox)
}

/// Whether `text` is a GUID (`8-4-4-4-12` hex digits) other than all zeros: an archive's
/// `ArchiveGuid`. Anything else means no archive, never a guess.
fn is_non_zero_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.trim().split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
        && groups.iter().any(|g| g.chars().any(|c| c != '0'))
}

/// `TotalItemSize` of a `Get-MailboxStatistics` row in bytes. Exchange writes it as
/// `"1.234 GB (1,325,139,123 bytes)"`; a bare number is taken as bytes; anything else is not
/// reported.
fn total_item_size(row: &Row) -> Option<u64> {
    let text = row.text("TotalItemSize")?;
    let digits = |s: &str| -> Option<u64> {
        let kept: String = s.chars().filter(|c| *c != ',').collect();
        (!kept.is_empty() && kept.chars().all(|c| c.is_ascii_digit()))
            .then(|| kept.parse().ok())
            .flatten()
    };
    match text.rsplit_once('(') {
        Some((_, tail)) => digits(
            tail.trim_end_matches(')')
                .trim()
                .trim_end_matches("bytes")
                .trim(),
        ),
        None => digits(text.trim()),
    }
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
        sharing_permission_flags: sharedbox_tenant::canonical_flags(
            &row.strings("SharingPermissionFlags", true),
        ),
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

#[cfg(test)]
mod tests {
    //! Hostile tenant answers at the parsers of round 1: wrong JSON types, control
    //! characters, huge values, lookalike addresses, duplicates and nulls give a tolerant
    //! outcome (a row left out, a value not reported), never a panic or a wrong match.

    use serde_json::{Value, json};
    use sharedbox_tenant::Snapshot;

    use super::*;

    fn row(value: Value) -> Row {
        Row::from_value(&value)
    }

    /// Round 1 fed pages as `Client::batch_streamed` would, without bulk reads.
    fn round1(pages: &[(Read, Vec<Value>)]) -> Round1 {
        let mut round1 = Round1::default();
        let wanted = std::collections::HashSet::new();
        for (read, rows) in pages {
            let rows = rows.iter().cloned().map(Row::from_owned).collect();
            round1.take(*read, rows, &wanted);
        }
        round1
    }

    #[test]
    fn service_principal_rows_of_the_wrong_type_are_left_out_or_read_as_text() {
        // An object where the AppId string belongs: no app id, no principal.
        assert!(service_principal_of(&row(json!({"AppId": {"x": 1}}))).is_none());
        assert!(service_principal_of(&row(json!({"AppId": null, "ObjectId": "o"}))).is_none());
        assert!(service_principal_of(&row(json!({"AppId": ""}))).is_none());
        assert!(service_principal_of(&row(json!("not an object"))).is_none());
        assert!(service_principal_of(&row(json!([1, 2]))).is_none());
        // A number is read as its text; lists where strings belong are ignored.
        let sp = service_principal_of(&row(json!({
            "AppId": 42, "ObjectId": ["a", "b"], "DisplayName": {"n": 1}
        })))
        .expect("an app id");
        assert_eq!(sp.app_id.as_deref(), Some("42"));
        assert_eq!(sp.external_directory_object_id, None);
        assert_eq!(sp.display_name, "");
    }

    #[test]
    fn control_characters_and_huge_names_do_not_break_the_directory() {
        let huge = "A".repeat(2_000_000);
        let hostile = "evil\u{1b}[2J\u{7}\r\nname";
        let round1 = round1(&[
            (
                Read::ServicePrincipals,
                vec![
                    json!({"AppId": "11111111-1111-1111-1111-111111111111",
                           "ObjectId": "22222222-2222-2222-2222-222222222222",
                           "DisplayName": hostile}),
                    // The same registration twice: one principal.
                    json!({"AppId": "11111111-1111-1111-1111-111111111111",
                           "ObjectId": "22222222-2222-2222-2222-222222222222",
                           "DisplayName": hostile}),
                    json!({"AppId": huge, "DisplayName": huge}),
                ],
            ),
            (
                Read::NonMail,
                vec![
                    json!({"Guid": "g1", "Name": hostile, "UserPrincipalName": "u@contoso.com",
                           "SID": 7}),
                    json!({"Guid": null, "ExternalDirectoryObjectId": null, "Name": "no id"}),
                    json!(null),
                    json!({"Guid": {"a": 1}}),
                ],
            ),
        ]);
        let mut directory = Directory::default();
        for principal in round1.principals {
            directory.insert_if_absent(principal);
        }
        let sp = directory
            .resolve_policy("app:11111111-1111-1111-1111-111111111111")
            .expect("the service principal");
        assert_eq!(sp.display_name, hostile);
        // A lookalike app id (Cyrillic 'а' for 'a' is not hex, so: one digit off) does not
        // resolve to it.
        assert!(
            directory
                .resolve_policy("app:11111111-1111-1111-1111-111111111112")
                .is_none()
        );
        let user = directory
            .resolve_policy("u@contoso.com")
            .expect("the user without mail");
        assert_eq!(user.sid.as_deref(), Some("7"));
        assert!(directory.resolve_policy("no id").is_none());
    }

    #[test]
    fn hostile_accepted_domains_are_left_out_and_lookalikes_do_not_match() {
        let round1 = round1(&[(
            Read::AcceptedDomains,
            vec![
                json!({"DomainName": "contoso.com"}),
                json!({"DomainName": "CONTOSO.com"}),
                json!({"DomainName": "evil\u{1b}[31m.com"}),
                json!({"DomainName": "a b.com"}),
                json!({"DomainName": "x@contoso.com"}),
                json!({"DomainName": "d".repeat(300)}),
                json!({"DomainName": null}),
                json!({"DomainName": {"Domain": "fabrikam.com"}}),
                json!({"DomainName": 12}),
                // Cyrillic 'о' (U+043E): kept, as Exchange said it, but never equal to
                // the Latin spelling.
                json!({"DomainName": "c\u{43e}ntoso.net"}),
            ],
        )]);
        assert_eq!(
            round1.accepted_domains,
            ["contoso.com", "12", "c\u{43e}ntoso.net"]
        );
        assert!(
            !round1
                .accepted_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case("contoso.net"))
        );
    }

    #[test]
    fn a_lookalike_soft_deleted_address_does_not_hold_the_declared_one() {
        let rows = [
            json!({"PrimarySmtpAddress": "supp\u{43e}rt@contoso.com",
                   "EmailAddresses": ["SMTP:supp\u{43e}rt@contoso.com", "smtp:sales@c\u{43e}ntoso.com",
                                      "sm\u{e9}p:support@contoso.com", "\u{1b}[2J", 5, null]}),
            json!({"PrimarySmtpAddress": null, "EmailAddresses": ["SMTP:support@contoso.com"]}),
            json!({"PrimarySmtpAddress": ["support@contoso.com"]}),
            json!({"PrimarySmtpAddress": "x".repeat(1_000_000), "EmailAddresses": {"a": 1}}),
        ];
        let soft_deleted: Vec<_> = rows
            .iter()
            .filter_map(|r| soft_deleted_of(&row(r.clone())))
            .collect();
        assert_eq!(soft_deleted.len(), 2);
        let snapshot = Snapshot {
            soft_deleted,
            ..Snapshot::default()
        };
        for declared in ["support@contoso.com", "sales@contoso.com", "sm"] {
            assert!(
                snapshot.soft_deleted_holding(declared).is_none(),
                "{declared}"
            );
        }
        assert!(
            snapshot
                .soft_deleted_holding("SUPP\u{43e}RT@contoso.com")
                .is_some()
        );
    }

    #[test]
    fn a_mailbox_listed_twice_is_managed_once_and_does_not_hide_a_missing_one() {
        let support = json!({"PrimarySmtpAddress": "support@contoso.com",
                             "EmailAddresses": ["SMTP:support@contoso.com", "smtp:help@contoso.com"]});
        let mut round1 = Round1::default();
        let wanted: std::collections::HashSet<String> = ["support@contoso.com", "new@contoso.com"]
            .map(str::to_owned)
            .into();
        for _ in 0..2 {
            round1.take(
                Read::SharedMailboxes,
                vec![Row::from_value(&support), Row::from_value(&support)],
                &wanted,
            );
        }
        assert_eq!(round1.managed.len(), 1);
        // Two rows of one mailbox, as many as the addresses in scope: still one missing.
        assert!(some_missing(&round1.managed, &wanted));
        // Two addresses of one mailbox in scope: none missing.
        let wanted = [
            "support@contoso.com",
            "HELP@contoso.com".to_ascii_lowercase().as_str(),
        ]
        .map(str::to_owned)
        .into();
        assert!(!some_missing(&round1.managed, &wanted));
    }

    #[test]
    fn sizes_are_read_from_exchanges_text_and_anything_else_is_not_reported() {
        let size = |v: Value| total_item_size(&row(json!({ "TotalItemSize": v })));
        assert_eq!(
            size(json!("1.5 GB (1,610,612,736 bytes)")),
            Some(1_610_612_736)
        );
        assert_eq!(size(json!("0 B (0 bytes)")), Some(0));
        assert_eq!(size(json!("123456")), Some(123_456));
        for hostile in [
            json!("1.5 GB"),
            json!("(x bytes)"),
            json!(true),
            json!("9".repeat(40)),
        ] {
            assert_eq!(size(hostile.clone()), None, "{hostile}");
        }
    }

    #[test]
    fn an_archive_guid_is_an_archive_only_when_it_is_a_guid_other_than_zero() {
        let archive = |guid: Value| {
            mailbox_of(&row(json!({
                "PrimarySmtpAddress": "support@contoso.com",
                "ArchiveGuid": guid,
            })))
            .expect("a mailbox")
            .archive_enabled
        };
        assert!(archive(json!("8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968")));
        for none in [
            json!("00000000-0000-0000-0000-000000000000"),
            json!(""),
            json!("not a guid at all: zzz"),
            json!("1".repeat(100_000)),
            json!("\u{1b}[2J"),
        ] {
            assert!(!archive(none.clone()), "{none}");
        }
    }

    #[test]
    fn is_dir_synced_and_transport_settings_of_the_wrong_type_are_not_reported() {
        for hostile in [
            json!("yes"),
            json!({"a": 1}),
            json!([true]),
            json!(null),
            json!(2.5),
        ] {
            let mailbox = mailbox_of(&row(json!({
                "PrimarySmtpAddress": "support@contoso.com",
                "IsDirSynced": hostile.clone(),
            })))
            .expect("a mailbox");
            assert!(!mailbox.is_dir_synced, "{hostile}");
            // The same for the licence guard's and the hybrid rule's reads: a value of the
            // wrong type is "not reported", never a hold, an archive or a licence.
            let guarded = mailbox_of(&row(json!({
                "PrimarySmtpAddress": "support@contoso.com",
                "IsExchangeCloudManaged": hostile.clone(),
                "LitigationHoldEnabled": hostile.clone(),
                "ArchiveGuid": hostile.clone(),
                "SKUAssigned": hostile.clone(),
            })))
            .expect("a mailbox");
            assert!(!guarded.is_exchange_cloud_managed, "{hostile}");
            assert!(!guarded.litigation_hold_enabled, "{hostile}");
            assert!(!guarded.archive_enabled, "{hostile}");
            assert_eq!(guarded.sku_assigned, None, "{hostile}");
            let organization = organization_of(&[(
                "Get-TransportConfig",
                Some(row(json!({"SmtpClientAuthenticationDisabled": hostile}))),
            )]);
            assert_eq!(
                organization,
                organization_of(&[("Get-TransportConfig", None)])
            );
        }
    }
}
