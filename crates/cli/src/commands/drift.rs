//! `sharedbox drift` and `sharedbox export`.

use std::path::PathBuf;

use sharedbox_planner::drift_report;
use sharedbox_planner::export::{
    ExportField, ExportedFile, disambiguate, export_mailbox, export_tenant_settings,
};
use sharedbox_tenant::ReadScope;

use super::{load_policies, make_plan, open_tenant, plural, policy_scope, read};
use crate::args::{DriftArgs, ExportArgs, Format};
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure};

/// `sharedbox drift`.
pub async fn drift(config: &RunConfig, args: &DriftArgs) -> anyhow::Result<ExitStatus> {
    let policies = load_policies(config)?;
    let tenant = open_tenant(config)?;
    let snapshot = read(tenant.as_ref(), &policy_scope(&policies)).await?;
    let plan = make_plan(&policies, &snapshot, &[], None)?;
    let report = drift_report(&plan, &policies, &snapshot);
    let markdown = report.to_markdown();
    crate::output::step_summary(&markdown);
    match args.format {
        Format::Text => out!("{}", report.to_text()),
        Format::Markdown => out!("{markdown}"),
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if args.detailed_exitcode && !report.in_desired_state {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// `sharedbox export`.
pub async fn export(config: &RunConfig, args: &ExportArgs) -> anyhow::Result<ExitStatus> {
    let fields: Vec<ExportField> = if args.all_fields {
        ExportField::ALL.to_vec()
    } else if args.fields.is_empty() {
        ExportField::DEFAULT.to_vec()
    } else {
        args.fields
            .iter()
            .map(|name| {
                ExportField::parse(name).ok_or_else(|| {
                    let known: Vec<String> = ExportField::ALL
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
    let snapshot = read(
        tenant.as_ref(),
        &ReadScope {
            mailboxes: wanted.clone(),
        },
    )
    .await?;
    let mut files: Vec<(String, ExportedFile)> = vec![(
        "tenant settings".to_owned(),
        export_tenant_settings(&snapshot.organization),
    )];
    let mut mailboxes: Vec<_> = snapshot.mailboxes.iter().collect();
    mailboxes.sort_by_key(|m| m.primary_smtp_address.to_ascii_lowercase());
    for mailbox in mailboxes {
        files.push((
            mailbox.primary_smtp_address.to_ascii_lowercase(),
            export_mailbox(mailbox, &snapshot.directory, &fields),
        ));
    }
    disambiguate(&mut files);
    let paths: Vec<PathBuf> = files.iter().map(|(_, f)| out.join(&f.file_name)).collect();
    let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    if !existing.is_empty() && !args.force {
        for path in &existing {
            eprintln!("  exists: {}", path.display());
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
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", out.display())))?;
    let schema = out.join("sharedbox.schema.json");
    if !schema.exists() {
        std::fs::write(&schema, sharedbox_policy::schema_json())?;
    }
    let mut orphans = 0;
    for ((_, file), path) in files.iter().zip(&paths) {
        std::fs::write(path, &file.text)
            .map_err(|e| Failure::new(format!("cannot write `{}`: {e}", path.display())))?;
        outln!("wrote {}", path.display());
        orphans += file.orphans_left_out;
    }
    eprintln!(
        "exported {} shared mailbox{} and the tenant settings of `{}`",
        files.len() - 1,
        if files.len() == 2 { "" } else { "es" },
        snapshot.tenant
    );
    if orphans > 0 {
        eprintln!(
            "note: {orphans} orphaned grant{} (deleted principals) left out; the first `sharedbox plan` shows {} as revocations",
            plural(orphans),
            if orphans == 1 { "it" } else { "them" }
        );
    }
    Ok(ExitStatus::Success)
}
