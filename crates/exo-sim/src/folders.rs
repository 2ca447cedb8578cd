//! Mailbox folders as `Get-MailboxFolderStatistics` shows them: names and paths localised
//! by the mailbox language, `FolderType` always English, a user subfolder under Sent Items
//! (so a client must pick `FolderType == "SentItems"`), and folder identities
//! `mbx:\<localised path>` or `mbx:<FolderId>`.
//!
//! The Sent Items folder (its name, id and permissions), the Inbox and Calendar where the
//! tenant model holds them (sharedbox's `folders`), and the root's permissions have state in
//! the tenant model; the other folders are synthesised, read-only, with default permissions.

use crate::lookup::MailboxView;

/// One folder of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// `FolderType`: `Root`, `Inbox`, `SentItems`, ..., `User Created`.
    pub folder_type: &'static str,
    /// `Name`, localised.
    pub name: String,
    /// `FolderPath`, localised, starting with `/` (`/Sent Items/Archive 2023`).
    pub path: String,
    /// `FolderId`.
    pub folder_id: String,
    /// Whether this is the folder the tenant model keeps (Sent Items).
    pub is_sent_items: bool,
    /// The well-known folder whose permissions the tenant model keeps (Sent Items, Inbox,
    /// Calendar), if it is one.
    pub well_known: Option<sharedbox_tenant::WellKnownFolder>,
    /// Whether this folder is inside the Sent Items folder.
    pub under_sent_items: bool,
}

impl Folder {
    /// Whether this is the mailbox root ("Top of Information Store", `mbx:\`), whose
    /// permissions the tenant model keeps too ([`sharedbox_tenant::Mailbox::root_folder`]).
    pub fn is_root(&self) -> bool {
        self.folder_type == "Root"
    }

    /// The path relative to the mailbox as `mbx:\path` names it (`/` for the root).
    fn identity_path(&self) -> &str {
        if self.folder_type == "Root" {
            "/"
        } else {
            &self.path
        }
    }

    /// `Identity`: `<mailbox Name>\<path with backslashes>`.
    pub fn identity(&self, mailbox_name: &str) -> String {
        let path = self
            .identity_path()
            .trim_start_matches('/')
            .replace('/', "\\");
        if self.folder_type == "Root" {
            format!("{mailbox_name}\\{}", self.name)
        } else {
            format!("{mailbox_name}\\{path}")
        }
    }

    /// Items in the folder (deterministic).
    pub fn items(&self) -> i64 {
        (fnv(&self.folder_id) % 500) as i64
    }

    /// `FolderSize` as Exchange prints a ByteQuantifiedSize.
    pub fn size(&self) -> String {
        let bytes = self.items() as u64 * 20_480 + 1_024;
        format!(
            "{:.3} MB ({} bytes)",
            bytes as f64 / 1_048_576.0,
            thousands(bytes)
        )
    }
}

/// Localised names, in the order en, de, fr, es, nl.
const NAMES: &[(&str, [&str; 5])] = &[
    (
        "Root",
        [
            "Top of Information Store",
            "Oberste Ebene des Informationsspeichers",
            "Partie supérieure de la banque d'informations",
            "Parte superior del almacén de información",
            "Bovenkant van gegevensarchief",
        ],
    ),
    (
        "Inbox",
        [
            "Inbox",
            "Posteingang",
            "Boîte de réception",
            "Bandeja de entrada",
            "Postvak IN",
        ],
    ),
    (
        "SentItems",
        [
            "Sent Items",
            "Gesendete Elemente",
            "Éléments envoyés",
            "Elementos enviados",
            "Verzonden items",
        ],
    ),
    (
        "DeletedItems",
        [
            "Deleted Items",
            "Gelöschte Elemente",
            "Éléments supprimés",
            "Elementos eliminados",
            "Verwijderde items",
        ],
    ),
    (
        "Drafts",
        [
            "Drafts",
            "Entwürfe",
            "Brouillons",
            "Borradores",
            "Concepten",
        ],
    ),
    (
        "Calendar",
        ["Calendar", "Kalender", "Calendrier", "Calendario", "Agenda"],
    ),
    (
        "Contacts",
        [
            "Contacts",
            "Kontakte",
            "Contacts",
            "Contactos",
            "Contactpersonen",
        ],
    ),
];

const ARCHIVE: [&str; 5] = [
    "Archive 2023",
    "Archiv 2023",
    "Archives 2023",
    "Archivo 2023",
    "Archief 2023",
];

fn language_index(language: Option<&str>) -> usize {
    let code = language
        .unwrap_or("en")
        .split(['-', '_'])
        .next()
        .unwrap_or("en")
        .to_ascii_lowercase();
    match code.as_str() {
        "de" => 1,
        "fr" => 2,
        "es" => 3,
        "nl" => 4,
        _ => 0,
    }
}

/// Every folder of `view`, in the order Exchange lists them.
pub fn folders(view: &MailboxView, quirks: bool) -> Vec<Folder> {
    let m = &view.mailbox;
    let lang = language_index(m.language.as_deref());
    let mut all = Vec::new();
    for (folder_type, names) in NAMES {
        let is_sent = *folder_type == "SentItems";
        let well_known = sharedbox_tenant::WellKnownFolder::of_type(folder_type);
        let kept = well_known.and_then(|f| m.folder(f));
        let name = match kept {
            Some(f) if !f.name.is_empty() => f.name.clone(),
            _ => names[lang].to_owned(),
        };
        let folder_id = match kept {
            Some(f) if !f.folder_id.is_empty() => f.folder_id.clone(),
            _ => synthetic_id(&m.guid, folder_type),
        };
        let path = format!("/{name}");
        all.push(Folder {
            folder_type,
            name: name.clone(),
            path: path.clone(),
            folder_id,
            is_sent_items: is_sent,
            well_known,
            under_sent_items: false,
        });
        if is_sent {
            all.push(Folder {
                folder_type: "User Created",
                name: ARCHIVE[lang].to_owned(),
                path: format!("{path}/{}", ARCHIVE[lang]),
                folder_id: synthetic_id(&m.guid, "SentItemsArchive"),
                is_sent_items: false,
                well_known: None,
                under_sent_items: true,
            });
        }
    }
    if quirks && lang != 0 {
        // A migrated mailbox often keeps an English-named user folder: `mbx:\Sent Items`
        // then names the wrong folder.
        all.push(Folder {
            folder_type: "User Created",
            name: "Sent Items".to_owned(),
            path: "/Sent Items".to_owned(),
            folder_id: synthetic_id(&m.guid, "MigratedSentItems"),
            is_sent_items: false,
            well_known: None,
            under_sent_items: false,
        });
    }
    all
}

/// The folders `Get-MailboxFolderStatistics -FolderScope scope` returns: the scope's folder
/// and its subfolders (`All`: every folder).
pub fn in_scope(all: Vec<Folder>, scope: &str) -> Vec<Folder> {
    if scope.eq_ignore_ascii_case("All") {
        return all;
    }
    let Some(root) = all
        .iter()
        .find(|f| f.folder_type.eq_ignore_ascii_case(scope))
        .map(|f| f.path.clone())
    else {
        return Vec::new();
    };
    let prefix = format!("{root}/");
    all.into_iter()
        .filter(|f| f.path == root || f.path.starts_with(&prefix))
        .collect()
}

/// The folder `spec` (the part of a folder identity after `mbx:`) names: `\<path>` with
/// backslashes, or a `FolderId`.
pub fn find<'a>(all: &'a [Folder], spec: &str) -> Option<&'a Folder> {
    match spec.strip_prefix('\\') {
        Some(path) => {
            let wanted = format!("/{}", path.replace('\\', "/"));
            let trimmed = wanted.trim_end_matches('/');
            let wanted = if trimmed.is_empty() { "/" } else { trimmed };
            all.iter()
                .find(|f| f.identity_path().eq_ignore_ascii_case(wanted))
        }
        None => all.iter().find(|f| f.folder_id == spec),
    }
}

/// A folder id shaped like Exchange's, stable for a mailbox and folder type.
pub fn synthetic_id(mailbox_guid: &str, folder_type: &str) -> String {
    format!(
        "LgAAAA{:016X}{:016X}AAAB",
        fnv(&format!("{mailbox_guid}/{folder_type}")),
        fnv(&format!("{folder_type}/{mailbox_guid}"))
    )
}

/// FNV-1a, stable across builds (unlike `DefaultHasher`).
pub fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharedbox_tenant::Mailbox;

    fn view(language: Option<&str>, sent: &str) -> MailboxView {
        let mut mailbox = Mailbox::new_shared("x@y.com", "X");
        mailbox.guid = "g".into();
        mailbox.language = language.map(str::to_owned);
        mailbox.sent_items.name = sent.into();
        mailbox.sent_items.folder_id = "LgAAAAsent".into();
        MailboxView {
            mailbox,
            details: "SharedMailbox".into(),
            shared: true,
        }
    }

    #[test]
    fn german_mailboxes_have_german_folders_and_an_english_trap() {
        let all = folders(&view(Some("de-DE"), "Gesendete Elemente"), true);
        let sent = in_scope(all.clone(), "SentItems");
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].path, "/Gesendete Elemente");
        assert_eq!(sent[1].path, "/Gesendete Elemente/Archiv 2023");
        assert_eq!(
            find(&all, "\\Gesendete Elemente").unwrap().folder_id,
            "LgAAAAsent"
        );
        assert_eq!(find(&all, "LgAAAAsent").unwrap().folder_type, "SentItems");
        assert_eq!(
            find(&all, "\\Sent Items").unwrap().folder_type,
            "User Created"
        );
        assert_eq!(find(&all, "\\Kalender").unwrap().folder_type, "Calendar");
        assert_eq!(find(&all, "\\").unwrap().folder_type, "Root");
        assert!(find(&all, "\\Nope").is_none());
        assert_eq!(
            sent[0].identity("buchhaltung"),
            "buchhaltung\\Gesendete Elemente"
        );
    }

    #[test]
    fn sizes_read_like_exchange() {
        assert_eq!(thousands(1_258_291), "1,258,291");
        assert!(
            folders(&view(None, "Sent Items"), true)[2]
                .size()
                .ends_with(" bytes)")
        );
    }
}
