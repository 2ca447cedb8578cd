//! Adoption: the live state of shared mailboxes written as policy documents.
//!
//! The output is YAML text written field by field, so that the order of fields and list
//! entries is stable (entries sorted by address) and comments can say what could not be
//! exported: orphaned principals (deleted users, shown by Exchange as SIDs) cannot be named
//! in a policy and are left out, so the first plan revokes them; AutoMapping cannot be read
//! back from Exchange and is never written.

use std::fmt::Write;

use sharedbox_tenant::{
    Directory, LivePrincipal, Mailbox, OrganizationConfig, OrganizationProperty, Property,
    WellKnownFolder,
};

/// A top-level key of a `SharedMailbox` document that `export` can write: a catalogued
/// property or group of properties (`displayName`, `sentItems`, `clients`, `moderation`) or a
/// principal list (`sendAs`, `sendOnBehalf`, `fullAccess`, `sentItemsReaders`, `folders`) or
/// the `aliases`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExportField(&'static str);

/// The principal lists, in document order (`folders`: the Inbox and Calendar entries; Sent
/// Items readers are exported as `sentItemsReaders`).
const LISTS: [&str; 5] = [
    "sendAs",
    "sendOnBehalf",
    "fullAccess",
    "sentItemsReaders",
    "folders",
];

impl ExportField {
    /// Every field, in document order: the catalogue's keys in catalogue order, with the
    /// principal lists after `sentItems`, the settings they go with.
    pub fn all() -> Vec<ExportField> {
        let mut all: Vec<ExportField> = Vec::new();
        for property in Property::ALL {
            let field = property.definition().field;
            let key = field.split_once('.').map_or(field, |(key, _)| key);
            if all.iter().any(|f| f.0 == key) {
                continue;
            }
            all.push(ExportField(key));
            if key == "signIn" {
                all.push(ExportField("aliases"));
            }
            if key == "sentItems" {
                all.extend(LISTS.map(ExportField));
            }
        }
        all
    }

    /// What `export` writes without `--fields` or `--all-fields`: who may send and read, and
    /// the sent-items copies, the heart of a shared mailbox.
    pub fn defaults() -> Vec<ExportField> {
        std::iter::once(ExportField("sentItems"))
            .chain(LISTS.map(ExportField))
            .collect()
    }

    /// The policy field name.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The field called `name`.
    pub fn parse(name: &str) -> Option<ExportField> {
        ExportField::all()
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
        LivePrincipal::Recipient(r) => Some(Entry::Address(match &r.app_id {
            Some(app) => format!(
                "{}{}",
                sharedbox_tenant::directory::APP_PREFIX,
                app.to_ascii_lowercase()
            ),
            None => r.identity(),
        })),
        // An ambiguous display name cannot be named safely either: treat it like an orphan.
        LivePrincipal::Orphaned | LivePrincipal::Unresolved | LivePrincipal::Ambiguous(_) => {
            Some(Entry::Orphan(raw.to_owned()))
        }
    }
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
            "{indent}# left out: `{}` is orphaned (a deleted principal); the next apply revokes it",
            // Exchange's raw string: a line break in it would end the comment and write
            // policy lines of the tenant's choosing into the exported file.
            sharedbox_tenant::printable(orphan, 200)
        );
    }
}

/// Writes `folders` with the Inbox and Calendar that were read and hold entries (an empty
/// folder stays unmanaged; Sent Items goes to `sentItemsReaders`); nothing when there are
/// none. Returns the orphans left out.
fn write_folders(out: &mut String, directory: &Directory, mailbox: &Mailbox) -> usize {
    let mut orphans_left_out = 0;
    let mut text = String::new();
    for folder in [WellKnownFolder::Inbox, WellKnownFolder::Calendar] {
        let Some(live) = mailbox.folder(folder) else {
            continue;
        };
        let mut grants: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut orphans = Vec::new();
        for row in mailbox.folder_grants(folder) {
            match entry(directory, &row.user) {
                Some(Entry::Address(a)) => grants.push((
                    a,
                    row.access_rights.join(","),
                    sharedbox_tenant::canonical_flags(&row.sharing_permission_flags),
                )),
                Some(Entry::Orphan(o)) => orphans.push(o),
                None => {}
            }
        }
        orphans_left_out += orphans.len();
        if grants.is_empty() && orphans.is_empty() {
            continue;
        }
        grants.sort();
        let _ = writeln!(
            text,
            "  # the folder is \"{}\" in this mailbox",
            // Tenant data in a comment: a line break must not end it.
            sharedbox_tenant::printable(&live.name, 200).replace('"', "'")
        );
        if grants.is_empty() {
            let _ = writeln!(text, "  {}: []", folder.key());
        } else {
            let _ = writeln!(text, "  {}:", folder.key());
        }
        for (a, access, flags) in &grants {
            let _ = writeln!(
                text,
                "    - principal: {}\n      access: {}",
                scalar(a),
                scalar(access)
            );
            if flags.iter().any(|f| f == sharedbox_tenant::DELEGATE) {
                let _ = writeln!(text, "      delegate: true");
            }
            if flags
                .iter()
                .any(|f| f == sharedbox_tenant::CAN_VIEW_PRIVATE_ITEMS)
            {
                let _ = writeln!(text, "      canViewPrivateItems: true");
            }
        }
        list_comment(&mut text, &orphans, "    ");
    }
    if !text.is_empty() {
        let _ = writeln!(out, "folders:");
        out.push_str(&text);
    }
    orphans_left_out
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
    for field in ExportField::all()
        .into_iter()
        .filter(|f| fields.contains(f))
    {
        write_settings(&mut out, field.name(), mailbox);
        match field.name() {
            "aliases" => {
                let mut aliases: Vec<String> =
                    mailbox.aliases().map(str::to_ascii_lowercase).collect();
                aliases.sort();
                aliases.dedup();
                if aliases.is_empty() {
                    let _ = writeln!(out, "aliases: []");
                } else {
                    let _ = writeln!(out, "aliases:");
                    for a in &aliases {
                        let _ = writeln!(out, "  - {}", scalar(a));
                    }
                }
            }
            "sendAs" => {
                let rows = mailbox.send_as_grants().map(|r| r.trustee.as_str());
                orphans_left_out += write_list(&mut out, "sendAs", "", directory, rows);
            }
            "sendOnBehalf" => {
                orphans_left_out += write_list(
                    &mut out,
                    "sendOnBehalf",
                    "",
                    directory,
                    mailbox.send_on_behalf_grants(),
                );
            }
            "fullAccess" => {
                let rows = mailbox.full_access_grants().map(|r| r.user.as_str());
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
            "sentItemsReaders" => {
                let mut readers: Vec<(String, String)> = Vec::new();
                let mut orphans = Vec::new();
                for row in mailbox.sent_items_grants() {
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
                    // Tenant data in a comment: a line break must not end it.
                    sharedbox_tenant::printable(&mailbox.sent_items.name, 200).replace('"', "'")
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
            "folders" => orphans_left_out += write_folders(&mut out, directory, mailbox),
            "moderation" => {
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
            }
            "forwarding" => write_forwarding(&mut out, mailbox),
            "autoReply" => write_auto_reply(&mut out, mailbox),
            // The catalogued settings, written above.
            _ => {}
        }
    }
    ExportedFile {
        file_name: format!("{}.yaml", file_stem(&address)),
        text: out,
        orphans_left_out,
    }
}

/// Writes the catalogued settings at policy key `key`: `key: value` for a property of its
/// own, `key:` and one `  name: value` line per property of a group (`sentItems`, `clients`,
/// `moderation`). A value Exchange did not report is written as a comment.
fn write_settings(out: &mut String, key: &str, mailbox: &Mailbox) {
    if key == "forwarding" || key == "autoReply" {
        // One policy field over several properties: [`write_forwarding`],
        // [`write_auto_reply`].
        return;
    }
    let mut grouped = false;
    for property in Property::ALL {
        let definition = property.definition();
        let value = (definition.get)(mailbox);
        let yaml = match definition.policy_value(&value) {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(scalar(&text)),
            other => Some(other.to_string()),
        };
        let name = match definition.field.split_once('.') {
            None if definition.field == key => {
                let _ = writeln!(out, "{key}: {}", yaml.unwrap_or_else(|| "null".into()));
                continue;
            }
            Some((group, name)) if group == key => name,
            _ => continue,
        };
        if !grouped {
            let _ = writeln!(out, "{key}:");
            grouped = true;
        }
        match yaml {
            Some(yaml) => {
                let _ = writeln!(out, "  {name}: {yaml}");
            }
            None => {
                let _ = writeln!(out, "  # {name}: not reported by Exchange, left unmanaged");
            }
        }
    }
}

/// Writes `forwarding`: `{to, keepCopy}` with `ForwardingAddress` (which wins in Exchange)
/// else `ForwardingSmtpAddress` as `to`, or `none`. `DeliverToMailboxAndForward` without a
/// target does nothing in Exchange and `none` would change it, so it is left unmanaged.
fn write_forwarding(out: &mut String, mailbox: &Mailbox) {
    let to = mailbox
        .forwarding_address
        .as_deref()
        .or(mailbox.forwarding_smtp_address.as_deref());
    let keep_copy = mailbox.deliver_to_mailbox_and_forward;
    match to {
        Some(to) => {
            if mailbox.forwarding_address.is_some()
                && let Some(smtp) = &mailbox.forwarding_smtp_address
            {
                let _ = writeln!(
                    out,
                    "# ForwardingSmtpAddress {} is also set; ForwardingAddress wins, and a plan clears it",
                    sharedbox_tenant::printable(smtp, 200)
                );
            }
            let _ = writeln!(
                out,
                "forwarding:\n  to: {}\n  keepCopy: {keep_copy}",
                scalar(sharedbox_tenant::bare_address(to))
            );
        }
        None if keep_copy => {
            let _ = writeln!(
                out,
                "# forwarding: DeliverToMailboxAndForward is on without a forwarding address; left unmanaged"
            );
        }
        None => {
            let _ = writeln!(out, "forwarding: none");
        }
    }
}

/// Writes `autoReply` with every key: the state and audience as words, the messages as their
/// text form (quoted; the HTML Exchange holds is not kept), `start` and `end` in UTC and only
/// with `scheduled` (a policy takes them only then). A schedule Exchange reported without
/// its times leaves the state unmanaged, with a comment.
fn write_auto_reply(out: &mut String, mailbox: &Mailbox) {
    let Some(auto_reply) = &mailbox.auto_reply else {
        let _ = writeln!(
            out,
            "# autoReply: the automatic replies were not read; left unmanaged"
        );
        return;
    };
    let definition = |p: Property| p.definition();
    let word = |p: Property| {
        let value = (definition(p).get)(mailbox);
        definition(p).policy_value(&value)
    };
    let text = |p: Property| {
        let value = (definition(p).get)(mailbox);
        match definition(p).policy_value(&value) {
            serde_json::Value::String(s) => s,
            _ => String::new(),
        }
    };
    let times = (
        auto_reply
            .start_time
            .as_deref()
            .and_then(sharedbox_tenant::auto_reply::canonical_time),
        auto_reply
            .end_time
            .as_deref()
            .and_then(sharedbox_tenant::auto_reply::canonical_time),
    );
    let _ = writeln!(out, "autoReply:");
    let state = word(Property::AutoReplyState);
    match (state.as_str(), &times) {
        (Some("scheduled"), (Some(start), Some(end))) if start < end => {
            let _ = writeln!(
                out,
                "  state: scheduled
  start: {start:?}
  end: {end:?}"
            );
        }
        (Some("scheduled"), _) => {
            let _ = writeln!(
                out,
                "  # state: scheduled, without a start before its end that Exchange reported; left unmanaged"
            );
        }
        (Some(state), _) => {
            let _ = writeln!(out, "  state: {}", scalar(state));
        }
        (None, _) => {}
    }
    for (key, property) in [
        ("internal", Property::AutoReplyInternal),
        ("external", Property::AutoReplyExternal),
    ] {
        let text = text(property);
        // Several lines as a literal block, where every character is plain text; anything
        // else as a JSON string (a YAML double-quoted scalar: control characters and odd
        // line breaks stay escaped, so tenant text cannot write policy lines).
        let plain = text.contains('\n')
            && !text.chars().any(|c| {
                (c.is_control() && c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
            });
        if plain {
            let _ = writeln!(out, "  {key}: |");
            for line in text.lines() {
                if line.is_empty() {
                    let _ = writeln!(out);
                } else {
                    let _ = writeln!(out, "    {line}");
                }
            }
        } else {
            let _ = writeln!(
                out,
                "  {key}: {}",
                serde_json::to_string(&text).expect("strings serialise")
            );
        }
    }
    if let Some(audience) = word(Property::AutoReplyExternalAudience).as_str() {
        let _ = writeln!(out, "  externalAudience: {}", scalar(audience));
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
    let mut text = format!(
        "# yaml-language-server: $schema=sharedbox.schema.json\n# exported by sharedbox from the live tenant `{}`\napiVersion: sharedbox/v1\nkind: TenantSettings\n",
        organization.name.replace('\n', " "),
    );
    for property in OrganizationProperty::ALL {
        let definition = property.definition();
        let value = definition.policy_value(&(definition.get)(organization));
        let _ = writeln!(text, "{}: {value}", definition.field);
    }
    ExportedFile {
        file_name: "tenant.yaml".to_owned(),
        text,
        orphans_left_out: 0,
    }
}

/// The longest file stem `export` writes (before `-2`... and `.yaml`).
const MAX_STEM: usize = 64;

/// Stems Windows cannot use as a file name, whatever the extension.
const RESERVED_STEMS: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The file stem for a mailbox address, from its local part: only `[a-z0-9._-]`, lower-case,
/// no leading dot or dash, no trailing dot, at most 64 characters, never a reserved Windows
/// device name and never empty. The address comes from the tenant: it never chooses a path.
pub fn file_stem(address: &str) -> String {
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
    let mapped: String = local
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut stem: String = mapped
        .trim_start_matches(['.', '-'])
        .chars()
        .take(MAX_STEM)
        .collect();
    while stem.ends_with('.') {
        stem.pop();
    }
    if stem.is_empty() {
        stem = "mailbox".to_owned();
    }
    let device = stem.split('.').next().unwrap_or_default();
    if RESERVED_STEMS.contains(&device) {
        stem.insert_str(0, "mailbox-");
    }
    stem
}

/// A file name for every address in `addresses`, distinct from each other and from
/// `tenant.yaml`, and the same for the same set of addresses whatever their order: the
/// first address (in sorted order) of a stem gets `stem.yaml`, later ones `stem-2.yaml`,
/// `stem-3.yaml`, ... (skipping names already taken). Addresses that differ only in case
/// are one mailbox and get one name.
pub fn file_names(addresses: &[String]) -> std::collections::BTreeMap<String, String> {
    let mut sorted: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    sorted.sort();
    sorted.dedup();
    let mut taken = std::collections::HashSet::from(["tenant.yaml".to_owned()]);
    let stems: Vec<String> = sorted.iter().map(|a| file_stem(a)).collect();
    // Names that need no suffix are claimed first, so a mailbox whose stem is `info-2`
    // keeps `info-2.yaml` whichever address sorts first.
    let mut names = std::collections::BTreeMap::new();
    let mut later = Vec::new();
    for (address, stem) in sorted.iter().zip(&stems) {
        let name = format!("{stem}.yaml");
        if taken.insert(name.clone()) {
            names.insert(address.clone(), name);
        } else {
            later.push((address, stem));
        }
    }
    for (address, stem) in later {
        let name = (2..)
            .map(|n| format!("{stem}-{n}.yaml"))
            .find(|name| !taken.contains(name))
            .expect("some suffix is free");
        taken.insert(name.clone());
        names.insert(address.clone(), name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_follow_the_catalogue_with_the_principal_lists_after_sent_items() {
        let names: Vec<&str> = ExportField::all()
            .into_iter()
            .map(ExportField::name)
            .collect();
        assert_eq!(
            names,
            [
                "displayName",
                "hiddenFromAddressLists",
                "signIn",
                "aliases",
                "sentItems",
                "sendAs",
                "sendOnBehalf",
                "fullAccess",
                "sentItemsReaders",
                "folders",
                "clients",
                "moderation",
                "forwarding",
                "autoReply"
            ]
        );
        assert_eq!(ExportField::parse(" SENDAS "), Some(ExportField("sendAs")));
        assert_eq!(
            ExportField::parse("copyForSendAs"),
            None,
            "a key, not a nested field"
        );
        assert!(
            ExportField::defaults()
                .iter()
                .all(|f| names.contains(&f.name()))
        );
    }

    #[test]
    fn an_orphan_with_a_line_break_stays_inside_its_comment() {
        let mut mailbox = Mailbox::new_shared("support@contoso.com", "Support");
        let hostile = "S-1-5-21-9\nsendAs: [mallory@evil.example]\r\u{1b}[2K";
        mailbox
            .recipient_permissions
            .push(sharedbox_tenant::model::RecipientPermission {
                trustee: hostile.to_owned(),
                access_rights: vec!["SendAs".into()],
                is_inherited: false,
                access_control_type: "Allow".into(),
            });
        let exported = export_mailbox(
            &mailbox,
            &Directory::new(Vec::new()),
            &[ExportField::parse("sendAs").unwrap()],
        );
        assert_eq!(exported.orphans_left_out, 1);
        for line in exported.text.lines().filter(|l| l.contains("mallory")) {
            assert!(line.trim_start().starts_with('#'), "{line:?}");
        }
        assert!(!exported.text.contains('\r') && !exported.text.contains('\u{1b}'));
    }

    #[test]
    fn auto_reply_messages_are_written_as_text_that_loads_back_and_hostile_text_stays_quoted() {
        let export = |internal: &str, external: &str| {
            let mut mailbox = Mailbox::new_shared("support@contoso.com", "Support");
            let a = mailbox.auto_reply.as_mut().unwrap();
            a.state = "Enabled".into();
            a.internal_message = internal.to_owned();
            a.external_message = external.to_owned();
            export_mailbox(
                &mailbox,
                &Directory::new(Vec::new()),
                &[ExportField::parse("autoReply").unwrap()],
            )
            .text
        };
        let text = export(
            "<html><body><p>Closed &amp; away.</p><p># not a comment: really</p><br><p>Bye</p></body></html>",
            "<html><body>line one\u{1b}[2K<br>autoReply: {state: disabled}</body></html>",
        );
        assert!(
            text.contains(
                "  internal: |\n    Closed & away.\n    # not a comment: really\n\n    Bye\n"
            ),
            "{text}"
        );
        // A control character: one JSON-quoted line, never a policy line of the tenant's.
        assert!(
            text.contains("  external: \"line one\\u001b[2K\\nautoReply: {state: disabled}\"\n"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
        // What was written loads back as the same messages.
        let set = sharedbox_policy::load_sources(vec![sharedbox_policy::Source::new(
            "support.yaml",
            &text,
        )])
        .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        let policy = &set.mailboxes[0];
        let internal = policy.setting(Property::AutoReplyInternal).unwrap();
        assert_eq!(
            sharedbox_tenant::auto_reply::message_text(&internal.value.text()),
            "Closed & away.\n# not a comment: really\n\nBye"
        );
        assert_eq!(
            policy.setting(Property::AutoReplyState).unwrap().value,
            sharedbox_tenant::Value::Text("Enabled".into())
        );
    }

    #[test]
    fn a_folder_name_with_a_line_break_stays_inside_its_comment() {
        let mut mailbox = Mailbox::new_shared("support@contoso.com", "Support");
        mailbox.sent_items.name =
            "Sent\nsentItemsReaders: [{principal: mallory@evil.example, access: Owner}]".into();
        let exported = export_mailbox(
            &mailbox,
            &Directory::new(Vec::new()),
            &[ExportField::parse("sentItemsReaders").unwrap()],
        );
        for line in exported.text.lines().filter(|l| l.contains("mallory")) {
            assert!(line.trim_start().starts_with('#'), "{line:?}");
        }
    }

    #[test]
    fn hostile_addresses_become_plain_file_names() {
        for (address, stem) in [
            ("../../x@contoso.com", "x"),
            ("/tmp/x@contoso.com", "tmp-x"),
            ("..\\..\\x@contoso.com", "x"),
            (".hidden@contoso.com", "hidden"),
            ("..@contoso.com", "mailbox"),
            ("@contoso.com", "mailbox"),
            ("CON@contoso.com", "mailbox-con"),
            ("nul.txt@contoso.com", "mailbox-nul.txt"),
            ("Info@Contoso.com", "info"),
            ("a b\u{0}c\u{e9}@contoso.com", "a-b-c-"),
            ("trailing.@contoso.com", "trailing"),
        ] {
            assert_eq!(file_stem(address), stem, "{address}");
        }
        assert_eq!(file_stem(&"a".repeat(500)).len(), MAX_STEM);
    }

    #[test]
    fn colliding_stems_get_deterministic_suffixes() {
        let addresses: Vec<String> = [
            "info@fabrikam.de",
            "Info@fabrikam.com",
            "info-2@fabrikam.com",
            "tenant@fabrikam.com",
            "INFO@FABRIKAM.COM",
        ]
        .map(str::to_owned)
        .to_vec();
        let names = file_names(&addresses);
        let mut reversed = addresses.clone();
        reversed.reverse();
        assert_eq!(file_names(&reversed), names);
        assert_eq!(names.len(), 4);
        assert_eq!(names["info@fabrikam.com"], "info.yaml");
        assert_eq!(names["info-2@fabrikam.com"], "info-2.yaml");
        assert_eq!(names["info@fabrikam.de"], "info-3.yaml");
        assert_eq!(names["tenant@fabrikam.com"], "tenant-2.yaml");
    }
}
