//! Synthetic tenants for benchmarks and load tests: N shared mailboxes with realistic
//! grants, and the policies that describe them, with a chosen fraction of drift.
//!
//! Per mailbox: 3 FullAccess, 2 Send As, 1 Send on Behalf and 1 Sent Items reader, drawn
//! from a pool of users (deterministic per seed), the senders among the FullAccess holders
//! as in a team mailbox; a share of the mailboxes in German (their
//! Sent Items folder is `Gesendete Elemente`); some with an orphaned FullAccess SID. The
//! policies match the tenant except on drifted mailboxes, where the tenant has
//! `MessageCopyForSentAsEnabled` off while the policy wants it on: exactly one change per
//! drifted mailbox. Orphans add one revocation each.
//!
//! With `groups`, the tenant also holds that many groups (mostly mail-enabled security
//! groups, some distribution, security and Microsoft 365 groups; one in ten nests an earlier
//! group) of 1 to `group_size` users each, and every mailbox grants FullAccess to one
//! mail-enabled security group, which its policy lists too (without `autoMapping`, as lint
//! SBX206 asks): the tenant of the `access` benchmark. Without groups the tenant is what it
//! was before groups existed, choice for choice.

use std::fmt::Write as _;

use sharedbox_file::TenantFile;
use sharedbox_tenant::{
    FolderPermission, Mailbox, MailboxPermission, OrganizationConfig, Recipient,
    RecipientPermission,
};

/// The domain of synthetic tenants.
pub const DOMAIN: &str = "bench.example";

/// What to generate.
#[derive(Debug, Clone)]
pub struct SyntheticOptions {
    /// Shared mailboxes.
    pub mailboxes: usize,
    /// Fraction (0..=1) of mailboxes whose tenant state differs from the policy.
    pub drift: f64,
    /// Fraction of mailboxes with an orphaned FullAccess entry (a deleted user's SID).
    pub orphans: f64,
    /// Fraction of mailboxes whose language is German.
    pub german: f64,
    /// Seed of the choices.
    pub seed: u64,
    /// Groups (0: none).
    pub groups: usize,
    /// The most members a group has.
    pub group_size: usize,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        SyntheticOptions {
            mailboxes: 1000,
            drift: 0.1,
            orphans: 0.02,
            german: 0.2,
            seed: 1,
            groups: 0,
            group_size: 500,
        }
    }
}

/// A generated tenant and its policies.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The tenant (for the simulator or the file backend).
    pub tenant: TenantFile,
    /// Policy files: (file name, YAML text), one per mailbox.
    pub policies: Vec<(String, String)>,
    /// Mailboxes generated with drift.
    pub drifted: usize,
    /// Mailboxes generated with an orphan.
    pub orphaned: usize,
}

impl Synthetic {
    /// Writes the policies into `dir` (created if needed).
    pub fn write_policies(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, text) in &self.policies {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }

    /// `n` distinct indices below `len`.
    fn pick(&mut self, n: usize, len: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n.min(len) {
            let i = (self.next() % len as u64) as usize;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

fn guid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

fn user(n: usize) -> Recipient {
    let id = guid(0x5e1, n);
    Recipient {
        external_directory_object_id: Some(id.clone()),
        guid: guid(0x5e2, n),
        name: id,
        display_name: format!("User {n:05}"),
        primary_smtp_address: format!("user{n:05}@{DOMAIN}"),
        user_principal_name: Some(format!("user{n:05}@{DOMAIN}")),
        email_addresses: Vec::new(),
        sid: None,
        recipient_type_details: "UserMailbox".to_owned(),
        smtp_client_authentication_disabled: None,
        app_id: None,
        members: None,
        account_disabled: None,
    }
}

/// The `RecipientTypeDetails` of the `n`th synthetic group: every fourth of the first
/// twenty is another kind than a mail-enabled security group.
fn group_kind(n: usize) -> &'static str {
    match n % 20 {
        3 => "MailUniversalDistributionGroup",
        7 => "UniversalSecurityGroup",
        11 => "GroupMailbox",
        _ => "MailUniversalSecurityGroup",
    }
}

/// The groups of a synthetic tenant, with their members drawn from `users`.
fn groups(options: &SyntheticOptions, users: &[Recipient], rng: &mut Rng) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::with_capacity(options.groups);
    for n in 0..options.groups {
        let id = guid(0x6e1, n);
        let details = group_kind(n);
        let size = 1 + (rng.next() as usize) % options.group_size.max(1);
        // Distinct members, found through a set: `Rng::pick` compares each new index
        // with every earlier one, too slow for 2,000 groups of 500.
        let size = size.min(users.len());
        let mut chosen = std::collections::HashSet::with_capacity(size);
        let mut members: Vec<String> = Vec::with_capacity(size + 1);
        while members.len() < size {
            let i = (rng.next() % users.len() as u64) as usize;
            if chosen.insert(i) {
                members.push(users[i].name.clone());
            }
        }
        if n > 0 && rng.chance(0.1) {
            let nested = (rng.next() as usize) % n;
            if group_kind(nested) != "GroupMailbox" {
                members.push(out[nested].name.clone());
            }
        }
        let mail = details != "UniversalSecurityGroup";
        out.push(Recipient {
            external_directory_object_id: Some(id.clone()),
            guid: guid(0x6e2, n),
            name: id,
            display_name: format!("Group {n:05}"),
            primary_smtp_address: if mail {
                format!("group{n:05}@{DOMAIN}")
            } else {
                String::new()
            },
            recipient_type_details: details.to_owned(),
            members: Some(members.into()),
            ..Recipient::default()
        });
    }
    out
}

/// Generates a tenant and its policies.
pub fn generate(options: &SyntheticOptions) -> Synthetic {
    let mut rng = Rng(options.seed.max(1) ^ 0x9E37_79B9_7F4A_7C15);
    let users: Vec<Recipient> = (0..(options.mailboxes / 2).max(100)).map(user).collect();
    let mut mailboxes = Vec::with_capacity(options.mailboxes);
    let mut policies = Vec::with_capacity(options.mailboxes);
    let (mut drifted, mut orphaned) = (0, 0);
    // Drawn from a generator of their own, so that the mailboxes are the same with or
    // without groups.
    let groups = groups(
        options,
        &users,
        &mut Rng(options.seed.max(1) ^ 0x6A09_E667_F3BC_C908),
    );
    let grantable: Vec<&Recipient> = groups
        .iter()
        .filter(|g| g.recipient_type_details == "MailUniversalSecurityGroup")
        .collect();
    for n in 0..options.mailboxes {
        let address = format!("shared{n:05}@{DOMAIN}");
        let mut m = Mailbox::new_shared(&address, &format!("Shared {n:05}"));
        let id = guid(0x5a1, n);
        m.external_directory_object_id = Some(id.clone());
        m.guid = guid(0x5a2, n);
        m.name = id;
        m.sent_items.folder_id = format!("LgAAAAB{n:08}AAAB");
        if rng.chance(options.german) {
            m.language = Some("de-DE".to_owned());
            m.sent_items.name = "Gesendete Elemente".to_owned();
        } else {
            m.language = Some("en-US".to_owned());
        }
        let picked = rng.pick(4, users.len());
        let who = |k: usize| &users[picked[k]];
        let is_drifted = rng.chance(options.drift);
        drifted += usize::from(is_drifted);
        m.message_copy_for_sent_as_enabled = !is_drifted;
        m.message_copy_for_send_on_behalf_enabled = true;
        for k in 0..3 {
            m.mailbox_permissions.push(MailboxPermission {
                user: who(k).primary_smtp_address.clone(),
                access_rights: vec!["FullAccess".to_owned()],
                ..MailboxPermission::default()
            });
        }
        if rng.chance(options.orphans) {
            orphaned += 1;
            m.mailbox_permissions.push(MailboxPermission {
                user: format!("S-1-5-21-3623811015-3361044348-30300820-{}", 50_000 + n),
                access_rights: vec!["FullAccess".to_owned()],
                ..MailboxPermission::default()
            });
        }
        for k in 0..2 {
            m.recipient_permissions.push(RecipientPermission {
                trustee: who(k).primary_smtp_address.clone(),
                access_rights: vec!["SendAs".to_owned()],
                is_inherited: false,
                access_control_type: "Allow".to_owned(),
            });
        }
        m.grant_send_on_behalf_to.push(who(2).name.clone());
        m.sent_items.permissions.push(FolderPermission {
            user: who(3).display_name.clone(),
            access_rights: vec!["Reviewer".to_owned()],
            sharing_permission_flags: Vec::new(),
        });
        // The reader sees the folder: `FolderVisible` on the root, as sharedbox grants it.
        let mut root = FolderPermission::built_in_rows();
        root.push(FolderPermission {
            user: who(3).display_name.clone(),
            access_rights: vec!["FolderVisible".to_owned()],
            sharing_permission_flags: Vec::new(),
        });
        m.root_folder = Some(root);
        let mut yaml = String::new();
        let _ = write!(
            yaml,
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {address}\nsentItems:\n  copyForSendAs: true\n  copyForSendOnBehalf: true\nsendAs: [{}, {}]\nsendOnBehalf: [{}]\nfullAccess:\n",
            who(0).primary_smtp_address,
            who(1).primary_smtp_address,
            who(2).primary_smtp_address,
        );
        for k in 0..3 {
            let _ = writeln!(
                yaml,
                "  - principal: {}\n    autoMapping: true",
                who(k).primary_smtp_address
            );
        }
        if !grantable.is_empty() {
            let group = grantable[n % grantable.len()];
            m.mailbox_permissions.push(MailboxPermission {
                user: group.name.clone(),
                access_rights: vec!["FullAccess".to_owned()],
                ..MailboxPermission::default()
            });
            let _ = writeln!(yaml, "  - principal: {}", group.primary_smtp_address);
        }
        let _ = write!(
            yaml,
            "sentItemsReaders:\n  - principal: {}\n    access: Reviewer\n",
            who(3).primary_smtp_address
        );
        policies.push((format!("shared{n:05}.yaml"), yaml));
        mailboxes.push(m);
    }
    Synthetic {
        tenant: TenantFile {
            organization: OrganizationConfig {
                name: "bench.onmicrosoft.com".to_owned(),
                send_from_alias_enabled: false,
                accepted_domains: vec![DOMAIN.to_owned(), "bench.onmicrosoft.com".to_owned()],
                ..OrganizationConfig::default()
            },
            recipients: users.into_iter().chain(groups).collect(),
            mailboxes,
            soft_deleted_mailboxes: Vec::new(),
            simulation: None,
        },
        policies,
        drifted,
        orphaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_follow_the_options() {
        let s = generate(&SyntheticOptions {
            mailboxes: 2000,
            drift: 0.1,
            orphans: 0.05,
            german: 0.2,
            seed: 3,
            ..SyntheticOptions::default()
        });
        assert_eq!(s.tenant.mailboxes.len(), 2000);
        assert_eq!(s.policies.len(), 2000);
        assert!((150..250).contains(&s.drifted), "{}", s.drifted);
        assert!((60..140).contains(&s.orphaned), "{}", s.orphaned);
        let german = s
            .tenant
            .mailboxes
            .iter()
            .filter(|m| m.sent_items.name == "Gesendete Elemente")
            .count();
        assert!((300..500).contains(&german), "{german}");
        let m = &s.tenant.mailboxes[7];
        assert_eq!(
            m.mailbox_permissions
                .iter()
                .filter(|p| !p.user.starts_with("NT ") && !p.user.starts_with("S-1"))
                .count(),
            3
        );
        let again = generate(&SyntheticOptions {
            mailboxes: 2000,
            drift: 0.1,
            orphans: 0.05,
            german: 0.2,
            seed: 3,
            ..SyntheticOptions::default()
        });
        assert_eq!(again.tenant, s.tenant, "deterministic per seed");
    }
}
