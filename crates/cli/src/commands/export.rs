//! `sharedbox export`: the live shared mailboxes as policy files, written so that a failure
//! leaves no half export and tenant data never chooses a path outside `--out`.

use std::path::{Component, Path, PathBuf};

use sharedbox_planner::export::{
    ExportField, ExportedFile, export_mailbox, export_tenant_settings, file_names,
};
use sharedbox_tenant::{FolderRead, ReadScope, WellKnownFolder};

use super::{open_tenant, plural, read};
use crate::args::ExportArgs;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure, detail, note, remark};

/// `sharedbox export`.
pub async fn export(config: &RunConfig, args: &ExportArgs) -> anyhow::Result<ExitStatus> {
    let fields: Vec<ExportField> = if args.all_fields {
        ExportField::all()
    } else if args.fields.is_empty() {
        ExportField::defaults()
    } else {
        args.fields
            .iter()
            .map(|name| {
                ExportField::parse(name).ok_or_else(|| {
                    let known: Vec<String> = ExportField::all()
                        .iter()
                        .map(|f| format!("`{}`", f.name()))
                        .collect();
                    Failure::new(format!("unknown field `{name}` in `--fields`"))
                        .hint(format!("the fields are {}", known.join(", ")))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let out = args.out.clone().unwrap_or_else(|| config.policies.clone());
    let tenant = open_tenant(config)?;
    let everything = read(tenant.as_ref(), &ReadScope::default()).await?;
    let wanted: Vec<String> = if args.mailboxes.is_empty() {
        everything.all_shared_mailboxes.clone()
    } else {
        for m in &args.mailboxes {
            if !everything
                .all_shared_mailboxes
                .iter()
                .any(|a| a.eq_ignore_ascii_case(m))
            {
                return Err(Failure::new(format!(
                    "`{m}` is not a shared mailbox of `{}`",
                    everything.tenant
                ))
                .hint("`--mailbox` takes a primary SMTP address")
                .into());
            }
        }
        args.mailboxes.clone()
    };
    // The Inbox and Calendar are read only when `folders` is exported.
    let folders = if fields.iter().any(|f| f.name() == "folders") {
        wanted
            .iter()
            .flat_map(|m| {
                [WellKnownFolder::Inbox, WellKnownFolder::Calendar].map(|folder| FolderRead {
                    mailbox: m.clone(),
                    folder,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    // Automatic replies cost a request per mailbox: read only when they are exported.
    let auto_replies = if fields.iter().any(|f| f.name() == "autoReply") {
        wanted.clone()
    } else {
        Vec::new()
    };
    let scope = ReadScope {
        folders,
        auto_replies,
        ..ReadScope::of(wanted.clone())
    };
    let snapshot = read(tenant.as_ref(), &scope).await?;
    // `--mailbox` exports only the mailboxes named: the tenant settings file is left alone.
    let with_tenant_settings = args.mailboxes.is_empty();
    let mut files: Vec<ExportedFile> = Vec::new();
    if with_tenant_settings {
        files.push(export_tenant_settings(&snapshot.organization));
    }
    // Names are given over every shared mailbox of the tenant, so a mailbox keeps its file
    // name whether it is exported alone or with the others.
    let mut addresses = everything.all_shared_mailboxes.clone();
    addresses.extend(
        snapshot
            .mailboxes
            .iter()
            .map(|m| m.primary_smtp_address.clone()),
    );
    let names = file_names(&addresses);
    let mut mailboxes: Vec<_> = snapshot.mailboxes.iter().collect();
    mailboxes.sort_by_key(|m| m.primary_smtp_address.to_ascii_lowercase());
    for mailbox in &mailboxes {
        let mut file = export_mailbox(mailbox, &snapshot.directory, &fields);
        if let Some(name) = names.get(&mailbox.primary_smtp_address.to_ascii_lowercase()) {
            file.file_name = name.clone();
        }
        files.push(file);
    }
    let mut texts: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.file_name.as_str(), f.text.as_str()))
        .collect();
    // The schema is written beside the policies once and never overwritten.
    let schema = sharedbox_policy::schema_json();
    if std::fs::symlink_metadata(out.join("sharedbox.schema.json")).is_err() {
        texts.push(("sharedbox.schema.json", &schema));
    }
    write_export(&out, &texts, args.force)?;
    let mut orphans = 0;
    for file in &files {
        outln!("wrote {}", out.join(&file.file_name).display());
        orphans += file.orphans_left_out;
    }
    let exported = mailboxes.len();
    note(&format!(
        "exported {exported} shared mailbox{}{} of `{}`",
        if exported == 1 { "" } else { "es" },
        if with_tenant_settings {
            " and the tenant settings"
        } else {
            ""
        },
        snapshot.tenant
    ));
    if orphans > 0 {
        remark(&format!(
            "{orphans} orphaned grant{} (deleted principals) left out; the first `sharedbox plan` shows {} as revocations",
            plural(orphans),
            if orphans == 1 { "it" } else { "them" }
        ));
    }
    Ok(ExitStatus::Success)
}

/// Writes `files` (name, text) into `out` so that a failure leaves no half export: every file
/// is first written into a new folder beside `out` (same parent, so the same file system).
/// When `out` does not exist, that folder is renamed to `out` in one step. When it exists,
/// every conflict is checked before anything is written (an existing file is refused without
/// `force`; a folder or anything that is not a regular file is always refused), then each
/// file is renamed into place (a rename replaces a symbolic link, it never follows it).
fn write_export(out: &Path, files: &[(&str, &str)], force: bool) -> anyhow::Result<()> {
    for (name, _) in files {
        let mut components = Path::new(name).components();
        if !matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(Failure::new(format!(
                "refusing to export to `{name}`: not a plain file name inside `{}`",
                out.display()
            ))
            .hint("this is a bug in sharedbox; please report it")
            .into());
        }
    }
    let exists = match std::fs::metadata(out) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => {
            return Err(Failure::new(format!(
                "`{}` is not a folder; nothing was written",
                out.display()
            ))
            .hint("pass a folder with `--out DIR`")
            .into());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(
                Failure::new(format!("cannot read `{}`: {e}", out.display()))
                    .hint("pass a folder you can write with `--out DIR`")
                    .into(),
            );
        }
    };
    if exists {
        let mut existing = Vec::new();
        for (name, _) in files {
            let path = out.join(name);
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if !meta.is_file() && !meta.file_type().is_symlink() {
                    return Err(Failure::new(format!(
                        "`{}` exists and is not a file; nothing was written",
                        path.display()
                    ))
                    .hint("move it away, or export into an empty folder with `--out DIR`")
                    .into());
                }
                existing.push(path);
            }
        }
        if !existing.is_empty() && !force {
            for path in &existing {
                detail("error", &format!("  exists: {}", path.display()));
            }
            return Err(Failure::new(format!(
                "{} file{} already exist{} in `{}`; nothing was written",
                existing.len(),
                plural(existing.len()),
                if existing.len() == 1 { "s" } else { "" },
                out.display()
            ))
            .hint("export into an empty folder with `--out DIR`, or pass `--force` to overwrite")
            .into());
        }
    }
    let mut staging = Staging::create(out)?;
    for (name, text) in files {
        staging.write(name, text)?;
    }
    if !exists {
        std::fs::rename(&staging.dir, out).map_err(|e| {
            Failure::new(format!(
                "cannot move the export into `{}`: {e}",
                out.display()
            ))
            .hint("nothing was written; check that the folder can be written and is not in use")
        })?;
        staging.committed = true;
        return Ok(());
    }
    for (done, (name, _)) in files.iter().enumerate() {
        let target = out.join(name);
        std::fs::rename(staging.dir.join(name), &target).map_err(|e| {
            Failure::new(format!(
                "cannot move `{name}` into `{}`: {e}; {done} of {} file{} had been written",
                out.display(),
                files.len(),
                plural(files.len())
            ))
            .hint("check the folder, then run `sharedbox export --force` again")
        })?;
    }
    staging.committed = true;
    Ok(())
}

/// A new, empty folder beside the export's destination; removed with what is left in it
/// when dropped. Parent folders it had to create are removed again (while empty) unless the
/// export was committed.
struct Staging {
    dir: PathBuf,
    /// The parent folders created for it, innermost first.
    created: Vec<PathBuf>,
    committed: bool,
}

impl Staging {
    fn create(out: &Path) -> anyhow::Result<Staging> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let created: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(&parent).map_err(|e| {
            Failure::new(format!("cannot create `{}`: {e}", parent.display()))
                .hint("nothing was written; pass a folder you can write with `--out DIR`")
        })?;
        let mut staging = Staging {
            dir: PathBuf::new(),
            created,
            committed: false,
        };
        let stem = out
            .file_name()
            .map_or("export".into(), |n| n.to_string_lossy().into_owned());
        let mut last = None;
        for attempt in 0..100u32 {
            let dir = parent.join(format!(
                ".{stem}.sharedbox-export-{}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    staging.dir = dir;
                    return Ok(staging);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    last = Some(e);
                    break;
                }
            }
        }
        Err(Failure::new(format!(
            "cannot create a temporary folder in `{}`: {}",
            parent.display(),
            last.map_or_else(String::new, |e| e.to_string())
        ))
        .hint("nothing was written; the export is written beside `--out` first, so its parent must be writable")
        .into())
    }

    fn write(&self, name: &str, text: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let path = self.dir.join(name);
        let result = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.sync_all()
            });
        result.map_err(|e| {
            Failure::new(format!("cannot write `{}`: {e}", path.display()))
                .hint("nothing was written to the export folder")
                .into()
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Gone already when it was renamed into place.
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        if !self.committed {
            for dir in &self.created {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path.clone());
                    out.push((path, Vec::new()));
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    out.push((path, bytes));
                }
            }
        }
        out.sort();
        out
    }

    /// `write_export` of files named `names`, each holding `new <name>`.
    fn write(out: &Path, names: &[&str], force: bool) -> anyhow::Result<()> {
        let owned = files(names);
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        write_export(out, &refs, force)
    }

    fn files(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), format!("new {n}\n")))
            .collect()
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_no_half_export() {
        // A name the file system refuses (a NUL byte) fails the second write.
        let base = tempfile::tempdir().unwrap();
        let before = listing(base.path());
        for out in [base.path().join("out"), base.path().join("new/parents/out")] {
            assert!(write(&out, &["a.yaml", "b\0.yaml"], false).is_err());
            assert_eq!(listing(base.path()), before, "no folder, no staging left");
        }
        let out = base.path().join("out");

        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("a.yaml"), "mine\n").unwrap();
        let before = listing(base.path());
        assert!(write(&out, &["a.yaml", "b\0.yaml"], true).is_err());
        assert_eq!(
            listing(base.path()),
            before,
            "`--force` too: nothing replaced"
        );

        write(&out, &["a.yaml", "c.yaml"], true).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("a.yaml")).unwrap(),
            "new a.yaml\n"
        );
        assert_eq!(
            std::fs::read_dir(base.path()).unwrap().count(),
            1,
            "the staging folder is gone"
        );
    }

    #[test]
    fn names_that_are_not_one_plain_component_are_refused() {
        let base = tempfile::tempdir().unwrap();
        let out = base.path().join("out");
        for name in ["../x.yaml", "/tmp/x.yaml", "a/b.yaml", "..", "."] {
            assert!(write(&out, &[name], true).is_err(), "{name}");
        }
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    }
}
