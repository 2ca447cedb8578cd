//! Adoption: the live state of shared mailboxes written as policy documents.
//!
//! The output is YAML text written field by field, so that the order of fields and list
//! entries is stable (entries sorted by address) and comments can say what could not be
//! exported: orphaned principals (deleted users, shown by Exchange as SIDs) cannot be named
//! in a policy and are left out, so the first plan revokes them; AutoMapping cannot be read
//! back from Exchange and is never written.

use std::fmt::Write;

use sharedbox_tenant::{ClientSwitch, Directory, LivePrincipal, Mailbox, OrganizationConfig};

/// A field group of a `SharedMailbox` document that `export` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExportField {
    /// `displayName`.
    DisplayName,
    /// `hiddenFromAddressLists`.
    HiddenFromAddressLists,
    /// `sentItems` (both copy flags).
    SentItems,
    /// `sendAs`.
    SendAs,
    /// `sendOnBehalf`.
    SendOnBehalf,
    /// `fullAccess`.
    FullAccess,
    /// `sentItemsReaders`.
    SentItemsReaders,
    /// `clients` (every switch and SMTP AUTH).
    Clients,
    /// `moderation`.
    Moderation,
}

impl ExportField {
    /// Every field, in document order.
    pub const ALL: [ExportField; 9] = [
        ExportField::DisplayName,
        ExportField::HiddenFromAddressLists,
        ExportField::SentItems,
        ExportField::SendAs,
        ExportField::SendOnBehalf,
        ExportField::FullAccess,
        ExportField::SentItemsReaders,
        ExportField::Clients,
        ExportField::Moderation,
    ];

    /// What `export` writes without `--fields` or `--all-fields`: who may send and read, and
    /// the sent-items copies, the heart of a shared mailbox.
    pub const DEFAULT: [ExportField; 5] = [
        ExportField::SentItems,
        ExportField::SendAs,
        ExportField::SendOnBehalf,
        ExportField::FullAccess,
        ExportField::SentItemsReaders,
    ];

    /// The policy field name.
    pub fn name(self) -> &'static str {
        match self {
            ExportField::DisplayName => "displayName",
            ExportField::HiddenFromAddressLists => "hiddenFromAddressLists",
            ExportField::SentItems => "sentItems",
            ExportField::SendAs => "sendAs",
            ExportField::SendOnBehalf => "sendOnBehalf",
            ExportField::FullAccess => "fullAccess",
            ExportField::SentItemsReaders => "sentItemsReaders",
            ExportField::Clients => "clients",
            ExportField::Moderation => "moderation",
        }
    }

    /// The field called `name`.
    pub fn parse(name: &str) -> Option<ExportField> {
        ExportField::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// One exported document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The file name, e.g. `support.yaml`.
    pub file_name: String,
    /// The YAML text.
    pub text: String,
    /// Orphaned entries that were left out.
    pub orphans_left_out: usize,
}

/// A principal entry of a live list: its address, or the raw string of an orphan.
enum Entry {
    Address(String),
    Orphan(String),
}

fn entries<'a>(
    directory: &Directory,
    raw: impl Iterator<Item = &'a str>,
) -> (Vec<String>, Vec<String>) {
    let mut addresses = Vec::new();
    let mut orphans = Vec::new();
    for r in raw {
        match entry(directory, r) {
            Some(Entry::Address(a)) => addresses.push(a),
            Some(Entry::Orphan(o)) => orphans.push(o),
            None => {}
        }
    }
    addresses.sort();
    addresses.dedup();
    orphans.sort();
    (addresses, orphans)
}

fn entry(directory: &Directory, raw: &str) -> Option<Entry> {
    match directory.resolve_live(raw) {
        LivePrincipal::BuiltIn => None,
        LivePrincipal::Recipient(r) => {
            Some(Entry::Address(r.primary_smtp_address.to_ascii_lowercase()))
        }
        // An ambiguous display name cannot be named safely either: treat it like an orphan.
        LivePrincipal::Orphaned | LivePrincipal::Ambiguous(_) => {
            Some(Entry::Orphan(raw.to_owned()))
        }
    }
}

fn has(rights: &[String], right: &str) -> bool {
    rights.iter().any(|r| r.eq_ignore_ascii_case(right))
}

/// A YAML scalar: plain when safe, double-quoted otherwise.
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-+".contains(c))
        && !["true", "false", "yes", "no", "on", "off", "null", "~"]
            .contains(&text.to_ascii_lowercase().as_str())
        && !text.starts_with(['-', '.'])
        && text.parse::<f64>().is_err();
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("strings serialise")
    }
}

fn list_comment(out: &mut String, orphans: &[String], indent: &str) {
    for orphan in orphans {
        let _ = writeln!(
            out,
            "{indent}# left out: `{orphan}` is orphaned (a deleted principal); the next apply revokes it"
        );
    }
}

/// Writes one shared mailbox as a `SharedMailbox` document with `fields`.
pub fn export_mailbox(
    mailbox: &Mailbox,
    directory: &Directory,
    fields: &[ExportField],
) -> ExportedFile {
    let address = mailbox.primary_smtp_address.to_ascii_lowercase();
    let mut out = String::new();
    let mut orphans_left_out = 0;
    let _ = writeln!(out, "# yaml-language-server: $schema=sharedbox.schema.json");
    let _ = writeln!(out, "# exported by sharedbox from the live tenant");
    let _ = writeln!(
        out,
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {}",
        scalar(&address)
    );
    for field in ExportField::ALL.into_iter().filter(|f| fields.contains(f)) {
        match field {
            ExportField::DisplayName => {
                let _ = writeln!(out, "displayName: {}", scalar(&mailbox.display_name));
            }
            ExportField::HiddenFromAddressLists => {
                let _ = writeln!(
                    out,
                    "hiddenFromAddressLists: {}",
                    mailbox.hidden_from_address_lists_enabled
                );
            }
            ExportField::SentItems => {
                let _ = writeln!(
                    out,
                    "sentItems:\n  copyForSendAs: {}\n  copyForSendOnBehalf: {}",
                    mailbox.message_copy_for_sent_as_enabled,
                    mailbox.message_copy_for_send_on_behalf_enabled
                );
            }
            ExportField::SendAs => {
                let rows = mailbox
                    .recipient_permissions
                    .iter()
                    .filter(|r| {
                        !r.is_inherited
                            && r.access_control_type.eq_ignore_ascii_case("Allow")
                            && has(&r.access_rights, "SendAs")
                    })
                    .map(|r| r.trustee.as_str());
                orphans_left_out += write_list(&mut out, "sendAs", "", directory, rows);
            }
            ExportField::SendOnBehalf => {
                orphans_left_out += write_list(
                    &mut out,
                    "sendOnBehalf",
                    "",
                    directory,
                    mailbox.grant_send_on_behalf_to.iter().map(String::as_str),
                );
            }
            ExportField::FullAccess => {
                let rows = mailbox
                    .mailbox_permissions
                    .iter()
                    .filter(|r| !r.is_inherited && !r.deny && has(&r.access_rights, "FullAccess"))
                    .map(|r| r.user.as_str());
                let (addresses, orphans) = entries(directory, rows);
                orphans_left_out += orphans.len();
                let _ = writeln!(
                    out,
                    "# autoMapping is not exported: Exchange applies it when access is granted and never reports it back"
                );
                if addresses.is_empty() {
                    let _ = writeln!(out, "fullAccess: []");
                } else {
                    let _ = writeln!(out, "fullAccess:");
                    for a in &addresses {
                        let _ = writeln!(out, "  - principal: {}", scalar(a));
                    }
                }
                list_comment(&mut out, &orphans, "  ");
            }
            ExportField::SentItemsReaders => {
                let mut readers: Vec<(String, String)> = Vec::new();
                let mut orphans = Vec::new();
                for row in &mailbox.sent_items.permissions {
                    match entry(directory, &row.user) {
                        Some(Entry::Address(a)) => readers.push((a, row.access_rights.join(","))),
                        Some(Entry::Orphan(o)) => orphans.push(o),
                        None => {}
                    }
                }
                readers.sort();
                orphans_left_out += orphans.len();
                let _ = writeln!(
                    out,
                    "# the folder is \"{}\" in this mailbox",
                    mailbox.sent_items.name.replace('"', "'")
                );
                if readers.is_empty() {
                    let _ = writeln!(out, "sentItemsReaders: []");
                } else {
                    let _ = writeln!(out, "sentItemsReaders:");
                    for (a, access) in &readers {
                        let _ = writeln!(
                            out,
                            "  - principal: {}\n    access: {}",
                            scalar(a),
                            scalar(access)
                        );
                    }
                }
                list_comment(&mut out, &orphans, "  ");
            }
            ExportField::Clients => {
                let _ = writeln!(out, "clients:");
                for switch in ClientSwitch::ALL {
                    match mailbox.cas_mailbox.get(switch) {
                        Some(v) => {
                            let _ = writeln!(out, "  {}: {v}", switch.policy_field());
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "  # {}: not reported by Exchange, left unmanaged",
                                switch.policy_field()
                            );
                        }
                    }
                }
                let smtp = match mailbox.cas_mailbox.smtp_client_authentication_disabled {
                    Some(true) => "disabled",
                    Some(false) => "enabled",
                    None => "inherit",
                };
                let _ = writeln!(out, "  smtpAuth: {smtp}");
            }
            ExportField::Moderation => {
                let _ = writeln!(
                    out,
                    "moderation:\n  enabled: {}",
                    mailbox.moderation_enabled
                );
                orphans_left_out += write_list(
                    &mut out,
                    "moderators",
                    "  ",
                    directory,
                    mailbox.moderated_by.iter().map(String::as_str),
                );
                orphans_left_out += write_list(
                    &mut out,
                    "bypass",
                    "  ",
                    directory,
                    mailbox
                        .bypass_moderation_from_senders_or_members
                        .iter()
                        .map(String::as_str),
                );
                let _ = writeln!(
                    out,
                    "  notifications: {}",
                    mailbox.send_moderation_notifications.to_ascii_lowercase()
                );
            }
        }
    }
    let local = address.split('@').next().unwrap_or(&address);
    ExportedFile {
        file_name: format!("{local}.yaml"),
        text: out,
        orphans_left_out,
    }
}

/// Writes `name: [..]` of principals (as a block list), commenting orphans; returns how many were left out.
fn write_list<'a>(
    out: &mut String,
    name: &str,
    indent: &str,
    directory: &Directory,
    raw: impl Iterator<Item = &'a str>,
) -> usize {
    let (addresses, orphans) = entries(directory, raw);
    if addresses.is_empty() {
        let _ = writeln!(out, "{indent}{name}: []");
    } else {
        let _ = writeln!(out, "{indent}{name}:");
        for a in &addresses {
            let _ = writeln!(out, "{indent}  - {}", scalar(a));
        }
    }
    list_comment(out, &orphans, &format!("{indent}  "));
    orphans.len()
}

/// Writes the organisation settings as a `TenantSettings` document.
pub fn export_tenant_settings(organization: &OrganizationConfig) -> ExportedFile {
    let text = format!(
        "# yaml-language-server: $schema=sharedbox.schema.json\n# exported by sharedbox from the live tenant `{}`\napiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: {}\n",
        organization.name.replace('\n', " "),
        organization.send_from_alias_enabled
    );
    ExportedFile {
        file_name: "tenant.yaml".to_owned(),
        text,
        orphans_left_out: 0,
    }
}

/// Gives mailboxes that share a local part distinct file names (`info.yaml`,
/// `info@fabrikam.de.yaml`), so no export overwrites another.
pub fn disambiguate(files: &mut [(String, ExportedFile)]) {
    let mut seen = std::collections::HashMap::new();
    for (_, file) in files.iter() {
        *seen.entry(file.file_name.clone()).or_insert(0) += 1;
    }
    let mut first = std::collections::HashSet::new();
    for (address, file) in files.iter_mut() {
        if seen[&file.file_name] > 1 && !first.insert(file.file_name.clone()) {
            file.file_name = format!("{address}.yaml");
        }
    }
}
