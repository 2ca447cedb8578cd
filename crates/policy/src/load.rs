//! Loading a policy folder: read every `*.yaml`/`*.yml` (any case, not hidden) recursively,
//! parse strictly, check the rules that span documents and files, merge `Defaults`, and
//! return a [`PolicySet`] or every diagnostic found (not only the first).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sharedbox_tenant::{Property, Value, WellKnownFolder};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::document::{self, Ensure, Kind, RawDocument, Sp};
use crate::model::*;
use crate::parse_error::{Schema, parse_error, shorten};
use crate::source::{Located, Origin, Source};

/// Reads and validates every policy file under `dir`.
///
/// # Errors
/// Every problem found, each with file, line and column where it has one.
pub fn load_dir(dir: &Path) -> Result<PolicySet, Diagnostics> {
    load_sources(read_dir_sources(dir)?)
}

/// Reads and validates one tenant's policy folder `dir` of a fleet on top of the fleet's
/// shared `baseline` folder ([`load_layered`]).
///
/// # Errors
/// Every problem found in either folder, each located.
pub fn load_dir_with_baseline(baseline: &Path, dir: &Path) -> Result<PolicySet, Diagnostics> {
    let shared = read_dir_sources(baseline);
    let own = read_dir_sources(dir);
    match (shared, own) {
        (Ok(shared), Ok(own)) => load_layered(shared, own),
        (Err(mut a), Err(b)) => {
            a.0.extend(b.0);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The policy files under `dir`, read (bounded, inside `dir`), in path order.
///
/// # Errors
/// The folder cannot be listed, or files cannot be read: every such problem.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<Arc<Source>>, Diagnostics> {
    let mut files = Vec::new();
    collect_files(dir, &mut files, &mut Vec::new()).map_err(|e| {
        Diagnostics(vec![
            Diagnostic::error(
                "policy::io",
                format!("cannot read policy folder `{}`: {e}", dir.display()),
                None,
            )
            .with_hint("check the `policies` path in `sharedbox.yaml`"),
        ])
    })?;
    files.sort();
    // The folder exists (it was just listed); resolve it once for every file's check.
    let root = crate::files::Root::new(dir).map_err(|e| {
        Diagnostics(vec![
            Diagnostic::error("policy::io", e.to_string(), None)
                .with_hint("check the `policies` path in `sharedbox.yaml`"),
        ])
    })?;
    let mut sources = Vec::with_capacity(files.len());
    let mut diagnostics = Vec::new();
    for path in files {
        match read_bounded(&path, &root) {
            Ok(text) => sources.push(Source::new(path, text)),
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    Ok(sources)
}

/// The largest policy file read (a file of 10,000 mailbox documents is about 4 MiB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a policy file: a regular file inside `root` (links resolved) of at most
/// [`MAX_FILE_BYTES`], refused before it is opened otherwise ([`crate::files`]).
fn read_bounded(path: &Path, root: &crate::files::Root) -> Result<String, Box<Diagnostic>> {
    root.read(path, MAX_FILE_BYTES).map_err(|error| {
        use crate::files::FileError;
        let code = match &error {
            FileError::TooLarge { .. } => "policy::too-large",
            FileError::Outside { .. } | FileError::NotRegular { .. } => "policy::not-a-file",
            FileError::NotUtf8 { .. } | FileError::Io { .. } => "policy::io",
        };
        let hint = match &error {
            FileError::Outside { root, .. } => format!(
                "policy files must be inside the policy folder `{}`; a symbolic link may only point to a file in it",
                root.display()
            ),
            other => miette::Diagnostic::help(other)
                .map(|h| h.to_string())
                .unwrap_or_default(),
        };
        Box::new(Diagnostic::error(code, error.to_string(), None).with_hint(hint))
    })
}

/// Whether a file name is a policy file's: ends in `.yaml` or `.yml`, in any case
/// (`Info.YAML` is read: a user who named it so meant a policy), and is not hidden.
pub fn is_policy_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.') && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
}

/// Whether a file that is not read looks as if it was meant as a policy, or is a copy of
/// one: a hidden `.x.yaml`, a backup `x.yaml~`, `x.yaml.bak`, `x.yml.orig`, an editor's
/// swap file. Such files are named in a note ([`ignored_files`]); others (`README.md`,
/// the schema) are skipped silently.
fn looks_like_policy(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains(".yaml") || lower.contains(".yml")
}

/// Every policy file under `dir` ([`is_policy_file_name`]) and every symbolic link to a
/// folder (refused when read: links to folders are not followed); into `ignored`, the files
/// skipped that look like policies ([`looks_like_policy`]). Hidden folders are not entered.
fn collect_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    ignored: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if !name.starts_with('.') {
                collect_files(&path, out, ignored)?;
            }
        } else if name.starts_with('.') {
            if looks_like_policy(&name) {
                ignored.push(path);
            }
        } else if is_policy_file_name(&name) || (file_type.is_symlink() && path.is_dir()) {
            out.push(path);
        } else if looks_like_policy(&name) {
            ignored.push(path);
        }
    }
    Ok(())
}

/// The files under the policy folder `dir` that are not read but look as if they were meant
/// as policies: hidden (`.draft.yaml`), backups (`x.yaml~`, `x.yaml.bak`) and the like,
/// sorted; empty when the folder cannot be listed (loading reports that).
pub fn ignored_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    if collect_files(dir, &mut files, &mut ignored).is_err() {
        return Vec::new();
    }
    ignored.sort();
    ignored
}

/// Parses and validates policy sources (already read from disk or built in memory).
///
/// # Errors
/// Every problem found.
pub fn load_sources(sources: Vec<Arc<Source>>) -> Result<PolicySet, Diagnostics> {
    load_layered(Vec::new(), sources)
}

/// Parses and validates one tenant's policy sources of a fleet on top of the fleet's shared
/// `baseline` sources.
///
/// The baseline holds what every tenant shares: `Defaults` and `Profile` documents (a
/// `SharedMailbox` or `TenantSettings` document there is an error: those belong to one
/// tenant). The tenant's own `Defaults` is laid over the baseline's field by field (a field
/// the tenant sets wins, the others are inherited); the tenant's `Profile` of a baseline
/// profile's name replaces it, as a policy profile replaces a built-in one. With no
/// baseline sources this is [`load_sources`].
///
/// # Errors
/// Every problem found.
pub fn load_layered(
    baseline: Vec<Arc<Source>>,
    sources: Vec<Arc<Source>>,
) -> Result<PolicySet, Diagnostics> {
    let mut diagnostics = Vec::new();
    let mut builder = Builder::default();
    for (name, text) in BUILTIN_PROFILES {
        let source = Source::new(format!("(built-in profile {name})"), *text);
        for doc in parse_source(&source).expect("built-in profiles parse") {
            builder.add_builtin_profile(&source, &doc);
        }
    }
    // Each file's documents are added as soon as it is parsed and then dropped (the parsed
    // documents of every file at once were most of the memory of a large load); the
    // findings keep their order: every parse error first, then what adding found.
    let mut found = Vec::new();
    let tiers = [(true, &baseline), (false, &sources)];
    for (in_baseline, tier) in tiers {
        builder.in_baseline = in_baseline;
        for source in tier {
            match parse_source(source) {
                Ok(docs) => {
                    for doc in &docs {
                        builder.add(source, doc, &mut found);
                    }
                }
                Err(d) => diagnostics.push(*d),
            }
        }
    }
    diagnostics.append(&mut found);
    let mut all = baseline;
    all.extend(sources);
    let set = builder.finish(all, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.sort_by_key(|d| !d.is_error());
        return Err(Diagnostics(diagnostics));
    }
    Ok(set)
}

/// The built-in profiles: name and YAML text (`kind: Profile` documents).
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    (
        "team-mailbox",
        include_str!("../profiles/team-mailbox.yaml"),
    ),
    (
        "contact-center",
        include_str!("../profiles/contact-center.yaml"),
    ),
    ("crm-graph", include_str!("../profiles/crm-graph.yaml")),
];

/// Limits of one policy file's YAML, so that a hostile pull request cannot exhaust memory
/// or stack: alias bombs, deep nesting and huge lists are refused with a located error.
/// The node limit allows a file of 10,000 mailbox documents, not a list of a million.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_nodes: 500_000,
            max_events: 1_500_000,
            max_depth: 32,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 20_000,
        },
    }
}

/// Parses one YAML document strictly (unknown fields, duplicate keys and YAML 1.1 booleans
/// rejected) into `T`, with a located diagnostic on error. Used for `sharedbox.yaml` too.
///
/// # Errors
/// The first parse error, at its file:line:column.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    source: &Arc<Source>,
) -> Result<T, Box<Diagnostic>> {
    serde_saphyr::from_str_with_options::<T>(&source.text, parse_options())
        .map_err(|e| Box::new(parse_error(source, &e, Schema::Other)))
}

/// Parses every document of one file.
fn parse_source(source: &Arc<Source>) -> Result<Vec<RawDocument>, Box<Diagnostic>> {
    serde_saphyr::from_multiple_with_options::<RawDocument>(&source.text, parse_options())
        .map_err(|e| Box::new(parse_error(source, &e, Schema::Policy)))
}

fn origin<T>(source: &Arc<Source>, sp: &Sp<T>) -> Origin {
    sp.origin(source)
}

fn located<T: Clone>(source: &Arc<Source>, sp: &Sp<T>) -> Located<T> {
    Located::new(sp.value().clone(), origin(source, sp))
}

/// A document's catalogued settings by property, each located in `source`.
fn located_settings<P: Ord>(
    source: &Arc<Source>,
    settings: Vec<(P, Value, document::Position<'_>)>,
) -> BTreeMap<P, Located<Value>> {
    settings
        .into_iter()
        .map(|(property, value, at)| {
            (
                property,
                Located::new(value, Origin::from_location(source, at)),
            )
        })
        .collect()
}

/// The mailbox-shaped fields of a `SharedMailbox` or `Defaults` document, located.
#[derive(Debug, Clone, Default)]
struct Layer {
    settings: BTreeMap<Property, Located<Value>>,
    aliases: Option<Located<Vec<Located<String>>>>,
    send_as: Option<PrincipalSet>,
    send_on_behalf: Option<PrincipalSet>,
    full_access: Option<Located<Vec<FullAccessGrant>>>,
    sent_items_readers: Option<Located<Vec<ReaderGrant>>>,
    folders: BTreeMap<WellKnownFolder, Located<Vec<FolderGrant>>>,
    moderators: Option<PrincipalSet>,
    moderation_bypass: Option<PrincipalSet>,
    prevent_destroy: Option<Located<bool>>,
    ensure: Option<Located<Ensure>>,
    lints: Vec<(crate::lint::LintCode, Located<crate::lint::Level>)>,
}

impl Layer {
    fn from_document(
        source: &Arc<Source>,
        doc: &RawDocument,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Layer {
        let principals = |sp: &Sp<Vec<Sp<String>>>,
                          apps: bool,
                          diagnostics: &mut Vec<Diagnostic>|
         -> PrincipalSet {
            let list: Vec<PrincipalRef> = sp.value().iter().map(|p| located(source, p)).collect();
            check_principals(list.iter(), apps, diagnostics);
            Located::new(list, origin(source, sp))
        };
        let mut layer = Layer {
            settings: located_settings(source, doc.settings()),
            ..Layer::default()
        };
        layer.aliases = doc.aliases.as_ref().map(|list| {
            let aliases: Vec<Located<String>> = list
                .value()
                .iter()
                .map(|a| located(source, a).map(|a| a.trim().to_ascii_lowercase()))
                .collect();
            check_aliases(&aliases, diagnostics);
            Located::new(aliases, origin(source, list))
        });
        layer.send_as = doc
            .send_as
            .as_ref()
            .map(|v| principals(v, true, diagnostics));
        layer.send_on_behalf = doc
            .send_on_behalf
            .as_ref()
            .map(|v| principals(v, false, diagnostics));
        if let Some(full) = &doc.full_access {
            let grants: Vec<FullAccessGrant> = full
                .value()
                .iter()
                .map(|g| FullAccessGrant {
                    principal: located(source, &g.principal),
                    auto_mapping: g.auto_mapping.as_ref().map(|v| located(source, v)),
                })
                .collect();
            check_principals(grants.iter().map(|g| &g.principal), true, diagnostics);
            layer.full_access = Some(Located::new(grants, origin(source, full)));
        }
        if let Some(readers) = &doc.sent_items_readers {
            let grants: Vec<ReaderGrant> = readers
                .value()
                .iter()
                .map(|g| ReaderGrant {
                    principal: located(source, &g.principal),
                    access: located(source, &g.access),
                })
                .collect();
            check_principals(grants.iter().map(|g| &g.principal), false, diagnostics);
            layer.sent_items_readers = Some(Located::new(grants, origin(source, readers)));
        }
        if let Some(folders) = &doc.folders {
            for (folder, list) in folders.value().lists() {
                let grants = folder_grants(source, folder, list.value(), diagnostics);
                check_principals(grants.iter().map(|g| &g.principal), false, diagnostics);
                layer
                    .folders
                    .insert(folder, Located::new(grants, origin(source, list)));
            }
        }
        if let Some(moderation) = &doc.moderation {
            let m = moderation.value();
            layer.moderators = m
                .moderators
                .as_ref()
                .map(|v| principals(v, false, diagnostics));
            layer.moderation_bypass = m.bypass.as_ref().map(|v| principals(v, false, diagnostics));
        }
        if let Some(forwarding) = &doc.forwarding
            && let document::Forwarding::To(f) = forwarding.value()
            && let Err(why) = Property::ForwardingSmtpAddress
                .definition()
                .check(&Value::Text(f.to.value().clone()))
        {
            diagnostics.push(
                Diagnostic::error(
                    "policy::invalid-forwarding-address",
                    format!("`forwarding.to`: {why}"),
                    Some(origin(source, &f.to)),
                )
                .with_label("not an email address")
                .with_hint("write the address mail is forwarded to, e.g. `partner@fabrikam.com`; `forwarding: none` switches forwarding off"),
            );
        }
        if let Some(auto_reply) = &doc.auto_reply {
            check_auto_reply(source, auto_reply.value(), diagnostics);
        }
        if let Some(lints) = &doc.lints {
            layer.lints = crate::lint::levels_of(lints.value(), source, diagnostics);
        }
        if let Some(lifecycle) = &doc.lifecycle {
            let l = lifecycle.value();
            layer.prevent_destroy = l.prevent_destroy.as_ref().map(|v| located(source, v));
            layer.ensure = l.ensure.as_ref().map(|v| located(source, v));
        }
        layer
    }

    /// This layer with every value pointing at `to` (a built-in profile's values point at
    /// the `profile:` line that took them, which the user can see and change).
    fn relocated(mut self, to: &Origin) -> Layer {
        fn at<T>(value: &mut Option<Located<T>>, to: &Origin) {
            if let Some(v) = value {
                v.origin = to.clone();
            }
        }
        fn list(value: &mut Option<PrincipalSet>, to: &Origin) {
            if let Some(l) = value {
                l.origin = to.clone();
                l.value.iter_mut().for_each(|p| p.origin = to.clone());
            }
        }
        self.settings
            .values_mut()
            .for_each(|v| v.origin = to.clone());
        list(&mut self.send_as, to);
        list(&mut self.send_on_behalf, to);
        if let Some(full) = &mut self.full_access {
            full.origin = to.clone();
            for grant in &mut full.value {
                grant.principal.origin = to.clone();
                at(&mut grant.auto_mapping, to);
            }
        }
        if let Some(readers) = &mut self.sent_items_readers {
            readers.origin = to.clone();
            for grant in &mut readers.value {
                grant.principal.origin = to.clone();
                grant.access.origin = to.clone();
            }
        }
        for list in self.folders.values_mut() {
            list.origin = to.clone();
            for grant in &mut list.value {
                grant.principal.origin = to.clone();
                grant.access.origin = to.clone();
            }
        }
        list(&mut self.moderators, to);
        list(&mut self.moderation_bypass, to);
        at(&mut self.prevent_destroy, to);
        self.lints
            .iter_mut()
            .for_each(|(_, v)| v.origin = to.clone());
        self
    }

    /// This layer with the gaps filled from `defaults` (field by field; lists replace).
    fn over(self, defaults: &Layer) -> Layer {
        fn pick<T: Clone>(own: Option<T>, default: &Option<T>) -> Option<T> {
            own.or_else(|| default.clone())
        }
        let mut settings = defaults.settings.clone();
        settings.extend(self.settings);
        // Folder by folder: a folder the layer lists replaces the default's list of it.
        let mut folders = defaults.folders.clone();
        folders.extend(self.folders);
        let mut lints = self.lints.clone();
        for (code, level) in &defaults.lints {
            if !lints.iter().any(|(c, _)| c == code) {
                lints.push((*code, level.clone()));
            }
        }
        Layer {
            settings,
            // Per mailbox: `Defaults` and profiles cannot set it.
            aliases: self.aliases,
            send_as: pick(self.send_as, &defaults.send_as),
            send_on_behalf: pick(self.send_on_behalf, &defaults.send_on_behalf),
            full_access: pick(self.full_access, &defaults.full_access),
            sent_items_readers: pick(self.sent_items_readers, &defaults.sent_items_readers),
            folders,
            moderators: pick(self.moderators, &defaults.moderators),
            moderation_bypass: pick(self.moderation_bypass, &defaults.moderation_bypass),
            prevent_destroy: pick(self.prevent_destroy, &defaults.prevent_destroy),
            ensure: self.ensure,
            lints,
        }
    }
}

/// Checks principal syntax and duplicates within one list; `apps`: whether the list takes
/// a service principal (`app:<appId>`; `fullAccess` and `sendAs` only).
fn check_principals<'a>(
    list: impl Iterator<Item = &'a PrincipalRef>,
    apps: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut seen: Vec<&PrincipalRef> = Vec::new();
    for principal in list {
        if let Some(app) = app_id(principal) {
            if !is_guid(app) {
                diagnostics.push(
                    Diagnostic::error("policy::invalid-principal", format!("`{}` is not `app:` followed by an application (client) id", shown(&principal.value)), Some(principal.origin.clone()))
                        .with_label("malformed service principal")
                        .with_hint("write `app:<appId>` with the app's client id (a GUID), as shown under App registrations in Entra"),
                );
                continue;
            }
            if !apps {
                diagnostics.push(
                    Diagnostic::error("policy::service-principal-field", format!("`{}` names a service principal, which holds only `fullAccess` and `sendAs`", shown(&principal.value)), Some(principal.origin.clone()))
                        .with_label("service principal in this list")
                        .with_hint("grant an app `fullAccess` (IMAP/POP) or `sendAs` (SMTP); other lists take recipients with mail"),
                );
                continue;
            }
        } else if !is_address(principal) && !is_guid(principal) {
            diagnostics.push(
                Diagnostic::error("policy::invalid-principal", format!("`{}` is not an email address, UPN or object id", shown(&principal.value)), Some(principal.origin.clone()))
                    .with_label("malformed principal")
                    .with_hint("name users and groups by SMTP address (`alice@contoso.com`), UPN, or Entra object id (a GUID); a service principal as `app:<appId>`"),
            );
            continue;
        }
        if let Some(first) = seen
            .iter()
            .find(|p| p.value.eq_ignore_ascii_case(&principal.value))
        {
            diagnostics.push(
                Diagnostic::error(
                    "policy::duplicate-principal",
                    format!("`{}` is listed twice", principal.value),
                    Some(principal.origin.clone()),
                )
                .with_label("second entry")
                .with_hint(format!(
                    "remove one of the entries; the first is at {}",
                    first.origin
                )),
            );
        }
        seen.push(principal);
    }
}

/// Checks the syntax of a mailbox's `aliases` and duplicates within the list.
fn check_aliases(aliases: &[Located<String>], diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: Vec<&Located<String>> = Vec::new();
    for alias in aliases {
        if !is_address(&alias.value) {
            diagnostics.push(
                Diagnostic::error(
                    "policy::invalid-alias",
                    format!("`{}` is not an email address", shown(&alias.value)),
                    Some(alias.origin.clone()),
                )
                .with_label("malformed alias")
                .with_hint("an alias is a secondary SMTP address without prefix, e.g. `expose@contoso.com`"),
            );
            continue;
        }
        if let Some(first) = seen.iter().find(|a| a.value == alias.value) {
            diagnostics.push(
                Diagnostic::error(
                    "policy::duplicate-alias",
                    format!("`{}` is listed twice", alias.value),
                    Some(alias.origin.clone()),
                )
                .with_label("second entry")
                .with_hint(format!(
                    "remove one of the entries; the first is at {}",
                    first.origin
                )),
            );
            continue;
        }
        seen.push(alias);
    }
}

/// Every alias that is its own mailbox's primary address, another managed mailbox's
/// address, or listed by two mailboxes: an address belongs to one recipient, so Exchange
/// would refuse the second write half-way through an apply.
fn check_alias_owners(mailboxes: &[MailboxPolicy], diagnostics: &mut Vec<Diagnostic>) {
    let mut owners: std::collections::HashMap<&str, (&str, &Origin)> = mailboxes
        .iter()
        .map(|m| {
            (
                m.address.value.as_str(),
                (m.address.value.as_str(), &m.address.origin),
            )
        })
        .collect();
    for policy in mailboxes {
        let Some(aliases) = &policy.aliases else {
            continue;
        };
        for alias in &aliases.value {
            if alias.value == policy.address.value {
                diagnostics.push(
                    Diagnostic::error(
                        "policy::alias-is-primary",
                        format!(
                            "`{}` is the primary address of the mailbox, not an alias",
                            alias.value
                        ),
                        Some(alias.origin.clone()),
                    )
                    .with_label("primary address")
                    .with_hint("the primary address is the `mailbox:` key and is never changed by `aliases`; remove it from the list"),
                );
                continue;
            }
            match owners.get(alias.value.as_str()) {
                Some((owner, at)) if *owner != policy.address.value => diagnostics.push(
                    Diagnostic::error(
                        "policy::alias-taken",
                        format!(
                            "`{}` in `aliases` of `{}` is already an address of `{owner}`",
                            alias.value, policy.address.value
                        ),
                        Some(alias.origin.clone()),
                    )
                    .with_label("address of another mailbox")
                    .with_hint(format!(
                        "an address belongs to one recipient; remove it here or from `{owner}` (at {at})"
                    )),
                ),
                Some(_) => {}
                None => {
                    owners.insert(&alias.value, (&policy.address.value, &alias.origin));
                }
            }
        }
    }
}

/// The longest service principal `displayName`, in characters (Entra's limit).
const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// What is wrong with a service principal's `displayName`, if anything: Exchange shows it
/// and sharedbox prints it in plans, so it is one line of printable text.
fn display_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("is empty".to_owned())
    } else if name.chars().any(char::is_control) {
        Some(format!("`{}` holds a control character", shown(name)))
    } else if name.chars().nth(MAX_DISPLAY_NAME_CHARS).is_some() {
        Some(format!(
            "is longer than {MAX_DISPLAY_NAME_CHARS} characters"
        ))
    } else {
        None
    }
}

/// Outside text as a message quotes it: cut short (`Diagnostic::error` escapes control
/// characters in every message, `redact::printable`).
fn shown(text: &str) -> String {
    shorten(text, 80)
}

/// The application id of a principal written `app:<appId>` (prefix case-insensitive).
pub fn app_id(s: &str) -> Option<&str> {
    let prefix = s.get(..4)?;
    prefix.eq_ignore_ascii_case("app:").then(|| s[4..].trim())
}

/// Whether `s` looks like an email address: one `@`, a local part, and a dotted domain.
pub fn is_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            // No `*`: Exchange reads it as a wildcard in `-Identity`.
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    // RFC 1035 lengths: a domain name of at most 253 characters, labels of at most 63.
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// Whether `s` is a GUID (`8-4-4-4-12` hexadecimal digits).
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A profile a mailbox can take: from a `Profile` document, or built in.
struct ProfileDef {
    origin: Origin,
    layer: Layer,
    builtin: bool,
    /// From a fleet's shared baseline: a tenant's profile of the same name replaces it.
    from_baseline: bool,
}

#[derive(Default)]
struct Builder {
    mailboxes: Vec<(Located<String>, Layer, Option<Located<String>>)>,
    first_mailbox: HashMap<String, Origin>,
    defaults: Option<(Origin, Layer)>,
    /// The `Defaults` of a fleet's shared baseline; the tenant's own is laid over it.
    baseline_defaults: Option<(Origin, Layer)>,
    /// Whether the documents added now are a fleet's shared baseline.
    in_baseline: bool,
    profiles: HashMap<String, ProfileDef>,
    tenant: Option<(Origin, TenantSettings)>,
}

/// Whether `name` is a usable profile name: lower-case letters, digits and `-`.
fn is_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Refuses `lifecycle.ensure` in a document that applies to many mailboxes.
fn refuse_ensure(layer: &Layer, kind: Kind, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(ensure) = &layer.ensure {
        diagnostics.push(
            Diagnostic::error(
                "policy::field-not-allowed",
                format!("`lifecycle.ensure` is not allowed in `{}`", kind.as_str()),
                Some(ensure.origin.clone()),
            )
            .with_label("not allowed here")
            .with_hint("whether a mailbox should exist is decided per mailbox"),
        );
    }
}

impl Builder {
    /// Adds a built-in profile (a policy `Profile` document of the same name replaces it).
    fn add_builtin_profile(&mut self, source: &Arc<Source>, doc: &RawDocument) {
        let name = doc.name.as_ref().expect("built-in profiles are named");
        self.profiles.insert(
            name.value().clone(),
            ProfileDef {
                origin: origin(source, name),
                layer: Layer::from_document(source, doc, &mut Vec::new()),
                builtin: true,
                from_baseline: false,
            },
        );
    }

    fn add(&mut self, source: &Arc<Source>, doc: &RawDocument, diagnostics: &mut Vec<Diagnostic>) {
        let kind = *doc.kind.value();
        let kind_origin = origin(source, &doc.kind);
        if doc.api_version.value() != "sharedbox/v1" {
            diagnostics.push(
                Diagnostic::error(
                    "policy::api-version",
                    format!("unsupported `apiVersion` `{}`", doc.api_version.value()),
                    Some(origin(source, &doc.api_version)),
                )
                .with_label("unsupported")
                .with_hint("this version of sharedbox reads `apiVersion: sharedbox/v1`"),
            );
            return;
        }
        for (field, present) in present_fields(source, doc) {
            if !document::allowed_fields(kind).contains(&field) {
                diagnostics.push(
                    Diagnostic::error("policy::field-not-allowed", format!("`{field}` is not allowed in a `{}` document", kind.as_str()), Some(present))
                        .with_label("not allowed here")
                        .with_hint(match (kind, field) {
                            (Kind::Defaults | Kind::Profile, "mailbox" | "displayName") => "defaults and profiles apply to many mailboxes; set this in the mailbox's own document".to_owned(),
                            (Kind::Defaults, "profile") => "a `Defaults` document cannot take a profile; set `profile:` in each mailbox that should take it".to_owned(),
                            (Kind::Profile, "profile") => "a profile cannot take another profile; copy the values you need".to_owned(),
                            (_, "sendFromAliasEnabled" | "smtpClientAuthenticationDisabled") => format!("`{field}` belongs in a `TenantSettings` document"),
                            _ => format!("a `{}` document allows: {}", kind.as_str(), document::allowed_fields(kind).iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")),
                        }),
                );
            }
        }
        if self.in_baseline && matches!(kind, Kind::SharedMailbox | Kind::TenantSettings) {
            diagnostics.push(
                Diagnostic::error(
                    "policy::not-in-baseline",
                    format!(
                        "a `{}` document in the fleet's shared baseline",
                        kind.as_str()
                    ),
                    Some(kind_origin),
                )
                .with_label("belongs to one tenant")
                .with_hint("the baseline holds what every tenant shares (`Defaults`, `Profile`); move this document into the policy folder of its tenant (`tenants/<name>/policies/`)"),
            );
            return;
        }
        match kind {
            Kind::SharedMailbox => {
                let Some(address) = &doc.mailbox else {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::missing-field",
                            "a `SharedMailbox` document needs `mailbox`",
                            Some(kind_origin),
                        )
                        .with_label("in this document")
                        .with_hint("add `mailbox: <primary SMTP address>`"),
                    );
                    return;
                };
                let address = located(source, address).map(|a| a.trim().to_ascii_lowercase());
                if !is_address(&address) {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::invalid-address",
                            format!("`{}` is not an email address", address.value),
                            Some(address.origin.clone()),
                        )
                        .with_label("malformed address")
                        .with_hint(
                            "`mailbox` is the primary SMTP address, e.g. `support@contoso.com`",
                        ),
                    );
                    return;
                }
                if let Some(first) = self.first_mailbox.get(&address.value) {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::duplicate-mailbox",
                            format!("mailbox `{}` is declared twice", address.value),
                            Some(address.origin.clone()),
                        )
                        .with_label("second declaration")
                        .with_hint(format!(
                            "the first declaration is at {first}; keep one document per mailbox"
                        )),
                    );
                    return;
                }
                self.first_mailbox
                    .insert(address.value.clone(), address.origin.clone());
                let layer = Layer::from_document(source, doc, diagnostics);
                let profile = doc
                    .profile
                    .as_ref()
                    .map(|p| located(source, p).map(|n| n.trim().to_owned()));
                self.mailboxes.push((address, layer, profile));
            }
            Kind::Defaults => {
                let in_baseline = self.in_baseline;
                let slot = if in_baseline {
                    &self.baseline_defaults
                } else {
                    &self.defaults
                };
                if let Some((first, _)) = slot {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::duplicate-defaults",
                            "a second `Defaults` document",
                            Some(kind_origin),
                        )
                        .with_label("second `Defaults`")
                        .with_hint(format!("the first is at {first}; merge them into one")),
                    );
                    return;
                }
                let layer = Layer::from_document(source, doc, diagnostics);
                refuse_ensure(&layer, kind, diagnostics);
                refuse_forwarding_target(source, doc, diagnostics);
                refuse_auto_reply_messages(source, doc, diagnostics);
                if in_baseline {
                    self.baseline_defaults = Some((kind_origin, layer));
                } else {
                    self.defaults = Some((kind_origin, layer));
                }
            }
            Kind::Profile => {
                let Some(name) = &doc.name else {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::missing-field",
                            "a `Profile` document needs `name`",
                            Some(kind_origin),
                        )
                        .with_label("in this document")
                        .with_hint("add `name: <profile name>`; mailboxes take it with `profile: <profile name>`"),
                    );
                    return;
                };
                let name = located(source, name);
                if !is_profile_name(&name.value) {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::invalid-profile-name",
                            format!("`{}` is not a valid profile name", name.value),
                            Some(name.origin.clone()),
                        )
                        .with_label("invalid name")
                        .with_hint("use lower-case letters, digits and `-`, e.g. `team-mailbox`"),
                    );
                    return;
                }
                // A tenant's profile replaces the baseline's of the same name; within one
                // tier a name is defined once.
                if let Some(first) = self
                    .profiles
                    .get(&name.value)
                    .filter(|p| !p.builtin && p.from_baseline == self.in_baseline)
                {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::duplicate-profile",
                            format!("profile `{}` is defined twice", name.value),
                            Some(name.origin.clone()),
                        )
                        .with_label("second definition")
                        .with_hint(format!("the first is at {}; keep one", first.origin)),
                    );
                    return;
                }
                let layer = Layer::from_document(source, doc, diagnostics);
                refuse_ensure(&layer, kind, diagnostics);
                self.profiles.insert(
                    name.value,
                    ProfileDef {
                        origin: name.origin,
                        layer,
                        builtin: false,
                        from_baseline: self.in_baseline,
                    },
                );
            }
            Kind::TenantSettings => {
                if let Some((first, _)) = &self.tenant {
                    diagnostics.push(
                        Diagnostic::error(
                            "policy::duplicate-tenant-settings",
                            "a second `TenantSettings` document",
                            Some(kind_origin),
                        )
                        .with_label("second `TenantSettings`")
                        .with_hint(format!("the first is at {first}; merge them into one")),
                    );
                    return;
                }
                let mut service_principals = Vec::new();
                for entry in doc.service_principals.iter().flat_map(|l| l.value()) {
                    let app_id =
                        located(source, &entry.app_id).map(|a| a.trim().to_ascii_lowercase());
                    let object_id =
                        located(source, &entry.object_id).map(|a| a.trim().to_ascii_lowercase());
                    let mut valid = true;
                    for (what, id) in [("appId", &app_id), ("objectId", &object_id)] {
                        if !is_guid(&id.value) {
                            valid = false;
                            diagnostics.push(
                                Diagnostic::error(
                                    "policy::invalid-service-principal",
                                    format!("`{what}` `{}` is not a GUID", shown(&id.value)),
                                    Some(id.origin.clone()),
                                )
                                .with_label("not a GUID")
                                .with_hint("copy the id from Entra: the app's Application (client) ID, the enterprise application's Object ID"),
                            );
                        }
                    }
                    if valid && app_id.value == object_id.value {
                        valid = false;
                        diagnostics.push(
                            Diagnostic::error(
                                "policy::invalid-service-principal",
                                "`appId` and `objectId` are the same id",
                                Some(object_id.origin.clone()),
                            )
                            .with_label("same as `appId`")
                            .with_hint("`objectId` is the enterprise application's Object ID (Enterprise applications), not the client id; the two are easy to mix up"),
                        );
                    }
                    if let Some(name) = &entry.display_name
                        && let Some(problem) = display_name_problem(name.value())
                    {
                        valid = false;
                        diagnostics.push(
                            Diagnostic::error(
                                "policy::invalid-service-principal",
                                format!("`displayName` {problem}"),
                                Some(origin(source, name)),
                            )
                            .with_label("not a display name")
                            .with_hint(format!("write the name Exchange shows for the app: one line of at most {MAX_DISPLAY_NAME_CHARS} printable characters, or leave `displayName` out to show the app id")),
                        );
                    }
                    if valid
                        && let Some(first) = service_principals.iter().find(
                            |r: &&crate::model::ServicePrincipalRegistration| {
                                r.app_id.value == app_id.value
                                    || r.object_id.value == object_id.value
                            },
                        )
                    {
                        valid = false;
                        let (what, at, first_at) = if first.app_id.value == app_id.value {
                            ("appId", &app_id.origin, &first.app_id.origin)
                        } else {
                            ("objectId", &object_id.origin, &first.object_id.origin)
                        };
                        diagnostics.push(
                            Diagnostic::error(
                                "policy::duplicate-service-principal",
                                format!("a second registration with the `{what}` of the one at {first_at}"),
                                Some(at.clone()),
                            )
                            .with_label("registered twice")
                            .with_hint("ids compare without case or surrounding spaces; keep one entry per app (one app, one enterprise application)"),
                        );
                    }
                    if valid {
                        let display_name = entry
                            .display_name
                            .as_ref()
                            .map(|d| d.value().clone())
                            .unwrap_or_else(|| app_id.value.clone());
                        service_principals.push(crate::model::ServicePrincipalRegistration {
                            app_id,
                            object_id,
                            display_name,
                        });
                    }
                }
                let settings = TenantSettings {
                    settings: located_settings(source, doc.organization_settings()),
                    service_principals,
                };
                self.tenant = Some((kind_origin, settings));
            }
        }
    }

    fn finish(self, sources: Vec<Arc<Source>>, diagnostics: &mut Vec<Diagnostic>) -> PolicySet {
        let defaults = match (self.defaults, self.baseline_defaults) {
            (Some((_, own)), Some((_, shared))) => own.over(&shared),
            (Some((_, layer)), None) | (None, Some((_, layer))) => layer,
            (None, None) => Layer::default(),
        };
        let profiles = self.profiles;
        let mut mailboxes: Vec<MailboxPolicy> = self
            .mailboxes
            .into_iter()
            .map(|(address, layer, profile)| {
                let layer = match &profile {
                    None => layer,
                    Some(name) => match profiles.get(&name.value) {
                        Some(def) if def.builtin => {
                            layer.over(&def.layer.clone().relocated(&name.origin))
                        }
                        Some(def) => layer.over(&def.layer),
                        None => {
                            let mut known: Vec<&str> =
                                profiles.keys().map(String::as_str).collect();
                            known.sort_unstable();
                            diagnostics.push(
                                Diagnostic::error(
                                    "policy::unknown-profile",
                                    format!("there is no profile `{}`", name.value),
                                    Some(name.origin.clone()),
                                )
                                .with_label("unknown profile")
                                .with_hint(format!(
                                    "known profiles: {}; define your own with a `kind: Profile` document (`sharedbox profiles` shows the built-in ones)",
                                    known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                                )),
                            );
                            layer
                        }
                    },
                };
                let l = layer.over(&defaults);
                let policy = MailboxPolicy {
                    address,
                    profile,
                    settings: l.settings,
                    aliases: l.aliases,
                    send_as: l.send_as,
                    send_on_behalf: l.send_on_behalf,
                    full_access: l.full_access,
                    sent_items_readers: l.sent_items_readers,
                    folders: l.folders,
                    moderators: l.moderators,
                    moderation_bypass: l.moderation_bypass,
                    prevent_destroy: l.prevent_destroy.as_ref().is_some_and(|p| p.value),
                    ensure: l.ensure.as_ref().map_or(Ensure::Present, |e| e.value),
                    lints: l.lints.clone(),
                };
                check_mailbox(
                    &policy,
                    l.ensure.as_ref(),
                    l.prevent_destroy.as_ref(),
                    diagnostics,
                );
                policy
            })
            .collect();
        mailboxes.sort_by(|a, b| a.address.value.cmp(&b.address.value));
        check_alias_owners(&mailboxes, diagnostics);
        PolicySet {
            mailboxes,
            tenant_settings: self.tenant.map(|(_, t)| t),
            sources,
        }
    }
}

/// Rules on the merged mailbox policy that make it unusable (advice is in [`crate::lint`]).
fn check_mailbox(
    policy: &MailboxPolicy,
    ensure: Option<&Located<Ensure>>,
    prevent_destroy: Option<&Located<bool>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // From one document or from two (the mailbox's and its profile's or the defaults').
    if let (Some(readers), Some(sent)) = (
        &policy.sent_items_readers,
        policy.folders.get(&WellKnownFolder::SentItems),
    ) {
        diagnostics.push(sent_items_twice(sent.origin.clone(), &readers.origin));
    }
    if let (Some(ensure), Some(prevent)) = (ensure, prevent_destroy)
        && ensure.value == Ensure::Absent
        && prevent.value
    {
        diagnostics.push(
            Diagnostic::error(
                "policy::prevent-destroy",
                format!(
                    "`{}` has `ensure: absent` and `preventDestroy: true`",
                    policy.address.value
                ),
                Some(ensure.origin.clone()),
            )
            .with_label("would delete a protected mailbox")
            .with_hint(format!(
                "remove `preventDestroy` (at {}) to allow the deletion, or keep the mailbox",
                prevent.origin
            )),
        );
    }
}

/// `folders.sentItems` where `sentItemsReaders` manages the same folder: two authoritative
/// lists of one folder would revoke each other's entries.
fn sent_items_twice(sent: Origin, readers: &Origin) -> Diagnostic {
    Diagnostic::error(
        "policy::sent-items-twice",
        "`folders.sentItems` and `sentItemsReaders` both manage the Sent Items folder of this mailbox".to_owned(),
        Some(sent),
    )
    .with_label("second list of Sent Items")
    .with_hint(format!(
        "keep one of them: move the entries of `sentItemsReaders` (at {readers}) into `folders.sentItems`, or remove `folders.sentItems`"
    ))
}

/// The entries of one `folders.<key>` list, with their delegate flags checked against what
/// Exchange takes (`Add-MailboxFolderPermission -SharingPermissionFlags`: calendar folders
/// only, only with `-AccessRights Editor`, `CanViewPrivateItems` only with `Delegate`). An
/// entry that breaks a rule is an error at the flag.
fn folder_grants(
    source: &Arc<Source>,
    folder: WellKnownFolder,
    entries: &[document::FolderGrantEntry],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<FolderGrant> {
    let mut grants = Vec::with_capacity(entries.len());
    for entry in entries {
        let access = located(source, &entry.access);
        let delegate = entry.delegate.as_ref().filter(|d| *d.value());
        let private = entry.can_view_private_items.as_ref().filter(|p| *p.value());
        let mut flags = Vec::new();
        if delegate.is_some() {
            flags.push(sharedbox_tenant::DELEGATE.to_owned());
        }
        if private.is_some() {
            flags.push(sharedbox_tenant::CAN_VIEW_PRIVATE_ITEMS.to_owned());
        }
        // The first flag that is set, where a broken rule is reported.
        let at = delegate
            .or(private)
            .map(|f| origin(source, f))
            .unwrap_or_else(|| access.origin.clone());
        if let Err(why) =
            sharedbox_tenant::check_folder_entry(folder, access.value.as_str(), &flags)
        {
            let (label, hint) = if !folder.is_calendar() {
                (
                    "delegate flag outside the calendar",
                    "remove `delegate` and `canViewPrivateItems` here; calendar delegates are listed under `folders.calendar`".to_owned(),
                )
            } else if private.is_some() && delegate.is_none() {
                (
                    "private items without delegate",
                    "add `delegate: true` to this entry, or remove `canViewPrivateItems`"
                        .to_owned(),
                )
            } else {
                (
                    "delegate needs Editor",
                    format!(
                        "write `access: Editor` (at {}) for a calendar delegate, or remove the delegate flags",
                        access.origin
                    ),
                )
            };
            diagnostics.push(
                Diagnostic::error(
                    "policy::invalid-delegate-flags",
                    format!(
                        "`{}` in `{}`: {why}",
                        shown(entry.principal.value()),
                        folder.field()
                    ),
                    Some(at),
                )
                .with_label(label)
                .with_hint(hint),
            );
        }
        grants.push(FolderGrant {
            principal: located(source, &entry.principal),
            access,
            flags,
        });
    }
    grants
}

/// `forwarding.to` in `Defaults`: one address for every shared mailbox is never meant
/// (`forwarding: none` is, and stays allowed).
fn refuse_forwarding_target(
    source: &Arc<Source>,
    doc: &RawDocument,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(forwarding) = &doc.forwarding
        && let crate::document::Forwarding::To(f) = forwarding.value()
    {
        diagnostics.push(
            Diagnostic::error(
                "policy::forwarding-in-defaults",
                "`forwarding.to` in `Defaults` would forward the mail of every shared mailbox to one address",
                Some(origin(source, &f.to)),
            )
            .with_label("one target for every mailbox")
            .with_hint("set `forwarding.to` in the mailbox's own document or a profile; `Defaults` can set `forwarding: none`"),
        );
    }
}

/// `autoReply` as Exchange would take it: `scheduled` with a `start` before its `end`, times
/// only with `scheduled`, times that read as RFC 3339 with an offset.
fn check_auto_reply(
    source: &Arc<Source>,
    auto_reply: &document::AutoReply,
    diagnostics: &mut Vec<Diagnostic>,
) {
    use sharedbox_tenant::auto_reply::parse_time;
    let scheduled = auto_reply
        .state
        .as_ref()
        .is_some_and(|s| *s.value() == document::AutoReplyState::Scheduled);
    let mut times = Vec::new();
    for (key, time) in [("start", &auto_reply.start), ("end", &auto_reply.end)] {
        let Some(time) = time else { continue };
        let text = time.value().trim();
        // An offset is required: a time without one means a different instant in every
        // time zone.
        let has_offset = text.ends_with(['Z', 'z'])
            || text
                .rsplit_once('T')
                .is_some_and(|(_, clock)| clock.contains(['+', '-']));
        match parse_time(text).filter(|_| has_offset) {
            Some(at) => times.push((key, at, time)),
            None => diagnostics.push(
                Diagnostic::error(
                    "policy::invalid-auto-reply-time",
                    format!(
                        "`autoReply.{key}`: `{}` is not a time with an offset",
                        sharedbox_tenant::printable(text, 80)
                    ),
                    Some(origin(source, time)),
                )
                .with_label("not RFC 3339 with an offset")
                .with_hint("write RFC 3339 with the offset of the time zone meant, e.g. `2026-12-24T09:00:00+01:00` or `2026-12-24T08:00:00Z`; Exchange stores it in UTC"),
            ),
        }
        if !scheduled {
            diagnostics.push(
                Diagnostic::error(
                    "policy::auto-reply-time-without-schedule",
                    format!(
                        "`autoReply.{key}` takes effect only with `state: scheduled`"
                    ),
                    Some(origin(source, time)),
                )
                .with_label("needs `state: scheduled`")
                .with_hint("set `state: scheduled`, or remove `start` and `end` (`enabled` replies until switched off)"),
            );
        }
    }
    if let Some(state) = auto_reply.state.as_ref().filter(|_| scheduled) {
        let missing: Vec<&str> = [("start", &auto_reply.start), ("end", &auto_reply.end)]
            .into_iter()
            .filter(|(_, t)| t.is_none())
            .map(|(k, _)| k)
            .collect();
        if !missing.is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    "policy::auto-reply-schedule",
                    format!(
                        "`autoReply.state: scheduled` needs {}",
                        missing
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                    Some(origin(source, state)),
                )
                .with_label("no schedule")
                .with_hint("add `start` and `end` (RFC 3339 with an offset, e.g. `2026-12-24T09:00:00+01:00`), or use `state: enabled`"),
            );
        }
    }
    if let [("start", start, _), ("end", end, end_at)] = times.as_slice()
        && start >= end
    {
        diagnostics.push(
            Diagnostic::error(
                "policy::auto-reply-schedule",
                "`autoReply.end` is not after `autoReply.start`".to_owned(),
                Some(origin(source, end_at)),
            )
            .with_label("not after `start`")
            .with_hint("automatic replies are sent from `start` until `end`: put `end` later"),
        );
    }
}

/// `autoReply` in `Defaults`: `state: disabled` and `externalAudience` are meant for every
/// shared mailbox; one message, one schedule or replies switched on for all are not.
fn refuse_auto_reply_messages(
    source: &Arc<Source>,
    doc: &RawDocument,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(auto_reply) = &doc.auto_reply else {
        return;
    };
    let a = auto_reply.value();
    let mut refused: Vec<(&str, Origin)> = [
        ("internal", &a.internal),
        ("external", &a.external),
        ("start", &a.start),
        ("end", &a.end),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.as_ref().map(|v| (key, origin(source, v))))
    .collect();
    if let Some(state) = a
        .state
        .as_ref()
        .filter(|s| *s.value() != document::AutoReplyState::Disabled)
    {
        refused.push(("state", origin(source, state)));
    }
    for (key, at) in refused {
        diagnostics.push(
            Diagnostic::error(
                "policy::auto-reply-in-defaults",
                format!(
                    "`autoReply.{key}` in `Defaults` would give every shared mailbox one automatic reply"
                ),
                Some(at),
            )
            .with_label("the same for every mailbox")
            .with_hint("set it in the mailbox's own document or a profile; `Defaults` can set `autoReply: {state: disabled}` and `externalAudience`"),
        );
    }
}

/// The top-level fields a document sets, with their positions.
fn present_fields(source: &Arc<Source>, doc: &RawDocument) -> Vec<(&'static str, Origin)> {
    let mut out = Vec::new();
    macro_rules! field {
        ($name:literal, $value:expr) => {
            if let Some(v) = &$value {
                out.push(($name, origin(source, v)));
            }
        };
    }
    field!("mailbox", doc.mailbox);
    field!("name", doc.name);
    field!("description", doc.description);
    field!("profile", doc.profile);
    field!("displayName", doc.display_name);
    field!("hiddenFromAddressLists", doc.hidden_from_address_lists);
    field!("signIn", doc.sign_in);
    field!("aliases", doc.aliases);
    field!("sentItems", doc.sent_items);
    field!("sendAs", doc.send_as);
    field!("sendOnBehalf", doc.send_on_behalf);
    field!("fullAccess", doc.full_access);
    field!("sentItemsReaders", doc.sent_items_readers);
    field!("folders", doc.folders);
    field!("clients", doc.clients);
    field!("moderation", doc.moderation);
    field!("forwarding", doc.forwarding);
    field!("autoReply", doc.auto_reply);
    field!("lifecycle", doc.lifecycle);
    field!("lints", doc.lints);
    field!("sendFromAliasEnabled", doc.send_from_alias_enabled);
    field!(
        "smtpClientAuthenticationDisabled",
        doc.smtp_client_authentication_disabled
    );
    field!("servicePrincipals", doc.service_principals);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `present_fields` is kept by hand: a field of `RawDocument` it forgets would escape the
    /// per-kind check (`policy::field-not-allowed`). A document setting every field of the
    /// schema must report each of them, and the document must keep up with the schema.
    #[test]
    fn present_fields_reports_every_field_of_a_document() {
        let text = "apiVersion: sharedbox.io/v1\nkind: SharedMailbox\nmailbox: a@contoso.com\n\
            name: n\ndescription: d\nprofile: p\ndisplayName: D\nhiddenFromAddressLists: true\n\
            signIn: blocked\naliases: [b@contoso.com]\nsentItems: {copyForSendAs: true}\n\
            sendAs: []\nsendOnBehalf: []\nfullAccess: []\nsentItemsReaders: []\nfolders: {}\n\
            clients: {}\nmoderation: {enabled: false}\nforwarding: none\n\
            autoReply: {state: disabled}\nlifecycle: {}\nlints: {}\n\
            sendFromAliasEnabled: true\nsmtpClientAuthenticationDisabled: true\n\
            servicePrincipals: []\n";
        let doc: RawDocument = serde_saphyr::from_str(text).expect("the document parses");
        let source = Source::new("every-field.yaml", text);
        let present: std::collections::BTreeSet<&str> = present_fields(&source, &doc)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let schema = serde_json::to_value(schemars::schema_for!(RawDocument)).unwrap();
        let fields: std::collections::BTreeSet<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .filter(|f| !matches!(*f, "apiVersion" | "kind"))
            .collect();
        assert_eq!(present, fields);
    }

    #[test]
    fn policy_file_names_ignore_the_case_of_the_extension() {
        for name in ["a.yaml", "a.yml", "Info.YAML", "b.Yml", "x.y.yaml"] {
            assert!(is_policy_file_name(name), "{name}");
        }
        for name in [
            ".a.yaml",
            "a.yaml~",
            "a.yaml.bak",
            "README.md",
            "yaml",
            "a.json",
        ] {
            assert!(!is_policy_file_name(name), "{name}");
        }
    }

    #[test]
    fn skipped_look_alikes_are_listed_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("team")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for name in [
            "a.yaml",
            "Info.YAML",
            ".draft.yaml",
            "a.yaml~",
            "README.md",
            "sharedbox.schema.json",
            "team/b.yml",
            "team/b.yml.orig",
            ".git/config.yaml",
        ] {
            std::fs::write(root.join(name), "").unwrap();
        }
        let mut files = Vec::new();
        let mut ignored = Vec::new();
        collect_files(root, &mut files, &mut ignored).unwrap();
        files.sort();
        let relative = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(relative(&files), ["Info.YAML", "a.yaml", "team/b.yml"]);
        assert_eq!(
            relative(&ignored_files(root)),
            [".draft.yaml", "a.yaml~", "team/b.yml.orig"]
        );
        assert!(ignored_files(&root.join("missing")).is_empty());
    }
}
