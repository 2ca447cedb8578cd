//! Identity and principal resolution as Exchange does it: an `-Identity` or `-User` may be
//! an SMTP address (primary or proxy), a UPN, a Name, a GUID, an Entra object id, an alias,
//! a distinguished name or a display name. Strings are compared literally (case-insensitive,
//! never trimmed, never interpreted), so anything that is not one of those spellings
//! matches nothing.

use sharedbox_file::TenantFile;
use sharedbox_tenant::{Directory, LivePrincipal, Mailbox, Principal, Recipient};

use crate::wire::ExoError;

/// A mailbox as the read cmdlets show it: a shared mailbox of the tenant file with its full
/// state, or a user (room, equipment) mailbox from the directory with Exchange defaults.
#[derive(Debug, Clone)]
pub struct MailboxView {
    /// The state.
    pub mailbox: Mailbox,
    /// `RecipientTypeDetails`.
    pub details: String,
    /// Whether it is one of the tenant file's shared mailboxes (the only ones writes reach).
    pub shared: bool,
}

impl MailboxView {
    /// The distinguished name the simulator gives the mailbox.
    pub fn distinguished_name(&self, organization: &str) -> String {
        distinguished_name(&self.mailbox.name, organization)
    }
}

/// A mailbox of the tenant before it is turned into a [`MailboxView`] (lookups compare
/// these by reference and clone only what they return).
#[derive(Debug, Clone, Copy)]
enum Entry<'a> {
    Shared(&'a Mailbox),
    User(&'a Recipient),
}

impl<'a> Entry<'a> {
    fn view(self) -> MailboxView {
        match self {
            Entry::Shared(m) => MailboxView {
                mailbox: m.clone(),
                details: "SharedMailbox".to_owned(),
                shared: true,
            },
            Entry::User(r) => MailboxView {
                mailbox: user_mailbox(r),
                details: r.recipient_type_details.clone(),
                shared: false,
            },
        }
    }

    fn display_name(self) -> &'a str {
        match self {
            Entry::Shared(m) => &m.display_name,
            Entry::User(r) => &r.display_name,
        }
    }

    /// Whether `identity` is one of the unique keys of this mailbox.
    fn named_by(self, identity: &str, organization: &str) -> bool {
        let eq = |s: &str| !s.is_empty() && s.eq_ignore_ascii_case(identity);
        let (guid, name, alias, object_id, upn, primary, proxies) = match self {
            Entry::Shared(m) => (
                &m.guid,
                &m.name,
                m.alias.as_str(),
                &m.external_directory_object_id,
                &m.user_principal_name,
                &m.primary_smtp_address,
                &m.email_addresses,
            ),
            Entry::User(r) => (
                &r.guid,
                &r.name,
                r.primary_smtp_address.split('@').next().unwrap_or(""),
                &r.external_directory_object_id,
                &r.user_principal_name,
                &r.primary_smtp_address,
                &r.email_addresses,
            ),
        };
        let smtp = eq(primary)
            || proxies.iter().any(|p| {
                p.split_once(':')
                    .is_some_and(|(prefix, a)| prefix.eq_ignore_ascii_case("smtp") && eq(a))
            });
        let dn = identity
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("CN="))
            && eq(&distinguished_name(name, organization));
        eq(guid)
            || eq(name)
            || eq(alias)
            || object_id.as_deref().is_some_and(eq)
            || upn.as_deref().is_some_and(eq)
            || smtp
            || dn
    }
}

fn distinguished_name(name: &str, organization: &str) -> String {
    format!(
        "CN={name},OU={organization},OU=Microsoft Exchange Hosted Organizations,DC=SIMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"
    )
}

/// The shared mailboxes first, in file order, then the directory's user (room, equipment)
/// mailboxes.
fn entries(tenant: &TenantFile) -> impl Iterator<Item = Entry<'_>> {
    let shared = tenant.mailboxes.iter().map(Entry::Shared);
    let guids: std::collections::HashSet<&str> =
        tenant.mailboxes.iter().map(|m| m.guid.as_str()).collect();
    let users = tenant
        .recipients
        .iter()
        .filter(move |r| {
            r.recipient_type_details.ends_with("Mailbox")
                && r.recipient_type_details != "GroupMailbox"
                && !guids.contains(r.guid.as_str())
        })
        .map(Entry::User);
    shared.chain(users)
}

/// Which vectors (and how long) an index was built from.
type Stamp = (usize, usize, usize, usize);

/// Lower-cased key -> entry positions.
type KeyIndex = std::collections::HashMap<String, Vec<usize>>;

thread_local! {
    /// Keys of every mailbox entry -> entry positions (shared mailbox `i` is `i`, user
    /// mailbox recipient `j` is `usize::MAX - j`), for the tenant with this stamp.
    static INDEX: std::cell::RefCell<Option<(Stamp, KeyIndex)>> =
        const { std::cell::RefCell::new(None) };
}

fn stamp(tenant: &TenantFile) -> Stamp {
    (
        tenant.mailboxes.as_ptr() as usize,
        tenant.mailboxes.len(),
        tenant.recipients.as_ptr() as usize,
        tenant.recipients.len(),
    )
}

/// The first entry named by `identity`, through a per-thread index of the unique keys.
/// A cache: every hit is checked with [`Entry::named_by`] and a miss falls back to a scan,
/// so a stale index (after an in-place change) costs time, never correctness.
fn indexed<'a>(tenant: &'a TenantFile, identity: &str) -> Option<Entry<'a>> {
    let organization = &tenant.organization.name;
    let candidates = INDEX.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(s, _)| *s != stamp(tenant)) {
            let mut index = KeyIndex::default();
            let mut add = |key: &str, position: usize| {
                if !key.is_empty() {
                    index
                        .entry(key.to_ascii_lowercase())
                        .or_default()
                        .push(position);
                }
            };
            let keys = |guid: &str,
                        name: &str,
                        object_id: Option<&str>,
                        upn: Option<&str>,
                        primary: &str,
                        proxies: &[String]| {
                let mut keys = vec![guid.to_owned(), name.to_owned(), primary.to_owned()];
                keys.extend(object_id.map(str::to_owned));
                keys.extend(upn.map(str::to_owned));
                keys.extend(
                    proxies
                        .iter()
                        .filter_map(|p| p.split_once(':').map(|(_, a)| a.to_owned())),
                );
                keys
            };
            for (i, m) in tenant.mailboxes.iter().enumerate() {
                let mut all = keys(
                    &m.guid,
                    &m.name,
                    m.external_directory_object_id.as_deref(),
                    m.user_principal_name.as_deref(),
                    &m.primary_smtp_address,
                    &m.email_addresses,
                );
                all.push(m.alias.clone());
                for key in all {
                    add(&key, i);
                }
            }
            for (j, r) in tenant.recipients.iter().enumerate() {
                let mut all = keys(
                    &r.guid,
                    &r.name,
                    r.external_directory_object_id.as_deref(),
                    r.user_principal_name.as_deref(),
                    &r.primary_smtp_address,
                    &r.email_addresses,
                );
                all.push(
                    r.primary_smtp_address
                        .split('@')
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                );
                for key in all {
                    add(&key, usize::MAX - j);
                }
            }
            *cell = Some((stamp(tenant), index));
        }
        cell.as_ref()
            .and_then(|(_, index)| index.get(&identity.to_ascii_lowercase()).cloned())
            .unwrap_or_default()
    });
    let shared_guids = || -> std::collections::HashSet<&str> {
        tenant.mailboxes.iter().map(|m| m.guid.as_str()).collect()
    };
    let mut shared: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&p| p < tenant.mailboxes.len())
        .collect();
    shared.sort_unstable();
    for i in shared {
        let entry = Entry::Shared(&tenant.mailboxes[i]);
        if entry.named_by(identity, organization) {
            return Some(entry);
        }
    }
    let mut users: Vec<usize> = candidates
        .iter()
        .filter(|&&p| p >= tenant.mailboxes.len())
        .map(|&p| usize::MAX - p)
        .filter(|&j| j < tenant.recipients.len())
        .collect();
    users.sort_unstable();
    if users.is_empty() {
        return None;
    }
    let guids = shared_guids();
    users
        .into_iter()
        .map(|j| &tenant.recipients[j])
        .find(|r| {
            r.recipient_type_details.ends_with("Mailbox")
                && r.recipient_type_details != "GroupMailbox"
                && !guids.contains(r.guid.as_str())
                && Entry::User(r).named_by(identity, organization)
        })
        .map(Entry::User)
}

/// Every mailbox of the tenant: the shared ones first, in file order, then the mailboxes
/// of the directory's users (`*Mailbox` recipient types).
pub fn mailboxes(tenant: &TenantFile) -> Vec<MailboxView> {
    entries(tenant).map(Entry::view).collect()
}

/// The mailbox state Exchange gives a user mailbox the tenant file does not describe.
fn user_mailbox(recipient: &Recipient) -> Mailbox {
    let mut mailbox = Mailbox::new_shared(&recipient.primary_smtp_address, &recipient.display_name);
    mailbox.external_directory_object_id = recipient.external_directory_object_id.clone();
    mailbox.guid = recipient.guid.clone();
    mailbox.name = recipient.name.clone();
    mailbox.user_principal_name = recipient.user_principal_name.clone();
    if !recipient.email_addresses.is_empty() {
        mailbox.email_addresses = recipient.email_addresses.clone();
    }
    mailbox.recipient_permissions.clear();
    mailbox.cas_mailbox.smtp_client_authentication_disabled =
        recipient.smtp_client_authentication_disabled;
    mailbox.sent_items.folder_id = crate::folders::synthetic_id(&recipient.guid, "SentItems");
    mailbox
}

/// The mailbox `identity` names (exact keys first, then a unique display name).
pub fn find_mailbox(tenant: &TenantFile, identity: &str) -> Result<MailboxView, ExoError> {
    let organization = &tenant.organization.name;
    if let Some(found) = indexed(tenant, identity) {
        return Ok(found.view());
    }
    if let Some(found) = entries(tenant).find(|e| e.named_by(identity, organization)) {
        return Ok(found.view());
    }
    let wanted = identity.to_lowercase();
    let mut by_display = entries(tenant).filter(|e| e.display_name().to_lowercase() == wanted);
    match (by_display.next(), by_display.next()) {
        (Some(one), None) => Ok(one.view()),
        (None, _) => Err(ExoError::object_not_found(identity)),
        (Some(_), Some(_)) => Err(ExoError::ambiguous(identity)),
    }
}

/// A shared mailbox of the tenant file by `identity`, for writes: its primary SMTP address.
/// A user mailbox is refused (the tenant file does not hold its state).
pub fn find_shared(tenant: &TenantFile, identity: &str) -> Result<MailboxView, ExoError> {
    let view = find_mailbox(tenant, identity)?;
    if !view.shared {
        return Err(ExoError::unsupported(format!(
            "`{identity}` is a {}; the simulator changes shared mailboxes only",
            view.details
        )));
    }
    Ok(view)
}

/// What a `-User`/`-Trustee`/list value resolved to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// A recipient of the directory.
    Recipient(Box<Recipient>),
    /// `Default`, `Anonymous`, `NT AUTHORITY\...`.
    BuiltIn,
    /// Nothing.
    NotFound,
    /// Several recipients share this display name or alias.
    Ambiguous,
}

/// Resolves a principal string through the directory.
pub fn resolve(directory: &Directory, value: &str) -> Resolved {
    if value.is_empty() || value.trim() != value {
        return Resolved::NotFound;
    }
    match directory.resolve_live(value) {
        LivePrincipal::BuiltIn => Resolved::BuiltIn,
        LivePrincipal::Recipient(r) => Resolved::Recipient(Box::new(r.clone())),
        LivePrincipal::Ambiguous(_) => Resolved::Ambiguous,
        LivePrincipal::Orphaned | LivePrincipal::Unresolved => {
            let by_alias: Vec<&Recipient> = directory
                .recipients()
                .iter()
                .filter(|r| {
                    r.primary_smtp_address
                        .split('@')
                        .next()
                        .is_some_and(|alias| alias.eq_ignore_ascii_case(value))
                })
                .collect();
            match by_alias.as_slice() {
                [one] => Resolved::Recipient(Box::new((*one).clone())),
                [] => Resolved::NotFound,
                _ => Resolved::Ambiguous,
            }
        }
    }
}

/// The operation principal of a recipient.
pub fn principal(recipient: &Recipient) -> Principal {
    recipient.principal()
}

/// Whether a string is shaped like a security identifier (`S-1-...`, or `NT:S-1-...`).
pub fn is_sid(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    upper
        .strip_prefix("NT:")
        .unwrap_or(&upper)
        .starts_with("S-1-")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/tenant.yaml");

    fn tenant() -> TenantFile {
        TenantFile::parse(FIXTURE, std::path::Path::new("t.yaml")).unwrap()
    }

    #[test]
    fn every_exchange_spelling_finds_the_mailbox() {
        let t = tenant();
        for id in [
            "support@fabrikam.com",
            "SUPPORT@fabrikam.com",
            "5b000000-0000-4000-8000-000000000001",
            "6c000000-0000-4000-8000-000000000001",
            "support",
            "Support",
        ] {
            assert_eq!(
                find_mailbox(&t, id).unwrap().mailbox.primary_smtp_address,
                "support@fabrikam.com",
                "{id}"
            );
        }
        assert!(find_mailbox(&t, "anna@fabrikam.com").is_ok_and(|v| !v.shared));
        for hostile in [
            "support@fabrikam.com' -or 1 -eq 1",
            "support@fabrikam.com\n",
            " support@fabrikam.com",
            "$(Get-Mailbox)",
            "*",
            "",
        ] {
            assert_eq!(
                find_mailbox(&t, hostile).unwrap_err().status,
                404,
                "{hostile:?}"
            );
            assert_eq!(
                resolve(&t.directory(), hostile),
                Resolved::NotFound,
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn principals_resolve_like_exchange() {
        let d = tenant().directory();
        let name = |v: &str| match resolve(&d, v) {
            Resolved::Recipient(r) => r.primary_smtp_address,
            other => format!("{other:?}"),
        };
        assert_eq!(
            name("anna.berg@fabrikam.onmicrosoft.com"),
            "anna@fabrikam.com"
        );
        assert_eq!(name("Ben Krause"), "ben@fabrikam.com");
        assert_eq!(name("bkrause"), "ben@fabrikam.com");
        assert_eq!(name("clara"), "clara@fabrikam.com");
        assert_eq!(name("Default"), "BuiltIn");
        assert!(is_sid("NT:S-1-5-21-1"));
    }
}
