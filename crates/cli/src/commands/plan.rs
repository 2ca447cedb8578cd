//! `validate`, `plan` and `show`.

use std::path::Path;

pub use sharedbox_planner::acceptance::short;
use sharedbox_planner::{MarkdownOptions, Plan, PlanDocument, render_markdown};

use super::{
    load_policies, make_plan, note_ignored_files, open_tenant, plural, policy_scope, print_plan,
    read,
};
use crate::args::{Format, PlanArgs, ValidateArgs};
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure, diagnostic_json, print_diagnostics, step_summary};

/// `sharedbox validate`: parse strictly, check the rules, run the offline lints.
pub fn validate(config: &RunConfig, args: &ValidateArgs) -> anyhow::Result<ExitStatus> {
    note_ignored_files(&config.policies);
    let (set, diagnostics) = match config.load_policy_set() {
        Ok(set) => {
            let findings = sharedbox_policy::lint_policies(&set, &config.lint_levels);
            (Some(set), findings)
        }
        Err(diagnostics) => (None, diagnostics.0),
    };
    print_diagnostics(&diagnostics);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let valid = errors == 0;
    let (mailboxes, files) = set
        .as_ref()
        .map_or((0, 0), |s| (s.mailboxes.len(), s.sources.len()));
    let findings = if diagnostics.is_empty() {
        String::new()
    } else {
        format!(
            "; {} finding{} ({})",
            diagnostics.len(),
            plural(diagnostics.len()),
            severity_counts(&diagnostics)
        )
    };
    let summary = format!(
        "{mailboxes} shared mailbox{}, {} in {files} file{}{findings}",
        if mailboxes == 1 { "" } else { "es" },
        if set.as_ref().is_some_and(|s| s.tenant_settings.is_some()) {
            "tenant settings"
        } else {
            "no tenant settings"
        },
        plural(files),
    );
    match args.format {
        Format::Text if valid => outln!("The policies are valid: {summary}."),
        Format::Text => {}
        Format::Json => print_validate_document(mailboxes, files, &diagnostics)?,
        Format::Markdown => {
            if valid {
                outln!("### sharedbox validate\n\nThe policies are valid: {summary}.");
            } else {
                outln!(
                    "### sharedbox validate\n\n**{errors} error{}** in the policies ({}):",
                    plural(errors),
                    severity_counts(&diagnostics)
                );
            }
            if !diagnostics.is_empty() {
                outln!(
                    "\n{}",
                    sharedbox_planner::markdown::findings_list(&diagnostics)
                );
            }
        }
    }
    if !valid && args.format == Format::Text {
        return Err(Failure::new(format!(
            "{errors} error{} in the policies under `{}`",
            plural(errors),
            config.policies.display()
        ))
        .hint("fix the errors above; lint levels can be changed under `lints:` in `sharedbox.yaml`")
        .into());
    }
    Ok(if valid {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Prints the document of `validate --format json`: valid when no diagnostic is an error.
/// Also the answer when `sharedbox.yaml` itself has an error (no mailboxes, no files).
pub fn print_validate_document(
    mailboxes: usize,
    files: usize,
    diagnostics: &[sharedbox_policy::Diagnostic],
) -> anyhow::Result<()> {
    let document = serde_json::json!({
        "format_version": 1,
        "valid": !diagnostics.iter().any(|d| d.is_error()),
        "mailboxes": mailboxes,
        "files": files,
        "diagnostics": diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
    });
    outln!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

/// `2 warnings, 1 info`: how many diagnostics of each severity.
fn severity_counts(diagnostics: &[sharedbox_policy::Diagnostic]) -> String {
    use sharedbox_policy::Severity;
    [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ]
    .iter()
    .filter_map(|(severity, word)| {
        let n = diagnostics
            .iter()
            .filter(|d| d.severity == *severity)
            .count();
        (n > 0).then(|| {
            format!(
                "{n} {word}{}",
                if n == 1 || *word == "info" { "" } else { "s" }
            )
        })
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// `sharedbox plan`.
pub async fn plan(config: &RunConfig, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    // Checked again when writing; refusing now saves reading the tenant for nothing.
    if let Some(out) = &args.out {
        crate::output::check_output_target(out, "plan file", PLAN_TARGET_HINT)?;
    }
    let policies = load_policies(config)?;
    // A `--base` that names no revision is an error before the tenant is read, never a
    // silent "causes unknown".
    let requested_base = match &args.base {
        Some(rev) => Some(
            crate::git::base_revision(policy_dir(config), Some(rev)).map_err(|reason| {
                Failure::new(format!("`--base {rev}`: {reason}"))
                    .hint("pass a branch, tag or commit of the policies' repository, or leave `--base` out to compare with the merge base of the default branch")
            })?,
        ),
        None => None,
    };
    // Two bases: the autoMapping one (what was applied: the default branch's policies) and the
    // one changes are labelled against, which on the default branch is before its last policy
    // commit (`git::label_revision`).
    let base = base_policies(config, requested_base.clone());
    let label_base = label_policies(config, requested_base, &base);
    let tenant = open_tenant(config)?;
    let scope = sharedbox_tenant::ReadScope {
        sizes: args.with_sizes,
        ..policy_scope(&policies)
    };
    let snapshot = read(tenant.as_ref(), &scope).await?;
    // A plan writes nothing: what the backend kept for writes (folder ids) can go.
    drop(tenant);
    let mut plan = make_plan(
        &policies,
        &snapshot,
        &args.targets,
        Some(&config.lint_levels),
        base.as_ref().ok().map(|b| b.set.clone()),
    )?;
    if !plan.is_empty() {
        label_causes(&mut plan, &snapshot, args, &label_base);
    }
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    // The saved-plan document (fingerprints of every touched object) only when it is used.
    let document = (args.out.is_some() || args.format == Format::Json).then(|| {
        // The base told the autoMapping of grants Exchange does not report: `apply` re-derives
        // the plan with the same policies.
        PlanDocument::new(
            &plan,
            &snapshot,
            &policies,
            env!("CARGO_PKG_VERSION"),
            rfc3339(now),
            rfc3339(now + sharedbox_planner::PLAN_LIFETIME),
            args.targets.clone(),
            base.as_ref().ok().map(|base| base.commit.clone()),
        )
    });
    // Rendering needs the plan only: the tenant's state and the policies can go first.
    drop(snapshot);
    drop(policies);
    let markdown = markdown(&plan, args.out.as_deref());
    match (args.format, &document) {
        (Format::Json, Some(document)) => {
            outln!("{}", serde_json::to_string_pretty(document)?)
        }
        (Format::Markdown, _) => out!("{markdown}"),
        _ => print_plan(&plan),
    }
    step_summary(&markdown);
    if let (Some(out), Some(document)) = (&args.out, &document) {
        write_private(out, &serde_json::to_string_pretty(&document)?)?;
        crate::output::note(&format!(
            "saved the plan to `{}` (plan {}); `sharedbox apply {}` applies exactly this plan until {}",
            out.display(),
            short(&document.plan_id),
            out.display(),
            document.expires_at
        ));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// The pull-request comment; names the saved plan as the full plan when there is one.
fn markdown(plan: &Plan, saved: Option<&Path>) -> String {
    let mut options = MarkdownOptions::default();
    if let Some(path) = saved {
        options.full_plan = format!(
            "`sharedbox show {}` (the saved plan, also the pipeline's plan artifact)",
            path.display()
        );
    }
    render_markdown(plan, &options)
}

/// The policy folder, as a folder git can run in.
pub(crate) fn policy_dir(config: &RunConfig) -> &Path {
    if config.policies.as_os_str().is_empty() {
        Path::new(".")
    } else {
        config.policies.as_path()
    }
}

/// The policies at the base revision, with its name and commit.
#[derive(Clone)]
pub(crate) struct BasePolicies {
    /// `merge base with main, 0123456789ab`.
    pub label: String,
    /// The full commit.
    pub commit: String,
    pub set: std::sync::Arc<sharedbox_policy::PolicySet>,
}

/// The policies at the base revision (`requested_base`, already resolved, else the merge base
/// with the default branch), or why there are none.
pub(crate) fn base_policies(
    config: &RunConfig,
    requested_base: Option<(String, String)>,
) -> Result<BasePolicies, String> {
    let (name, commit) = match requested_base {
        Some(base) => base,
        None => crate::git::base_revision(policy_dir(config), None)?,
    };
    let set = crate::git::policy_set_at(&config.policies, config.baseline.as_deref(), &commit)?;
    Ok(BasePolicies {
        label: format!("{name}, {}", &commit[..commit.len().min(12)]),
        commit,
        set: std::sync::Arc::new(set),
    })
}

/// The policies drift is judged against: at `requested_base` when given, else at
/// [`crate::git::label_revision`].
/// `auto_mapping_base` is reused when it is the same commit.
fn label_policies(
    config: &RunConfig,
    requested_base: Option<(String, String)>,
    auto_mapping_base: &Result<BasePolicies, String>,
) -> Result<BasePolicies, String> {
    let (name, commit) = match requested_base {
        Some(base) => base,
        None => crate::git::label_revision(policy_dir(config), None)?,
    };
    match auto_mapping_base {
        Ok(same) if same.commit == commit => Ok(BasePolicies {
            label: format!("{name}, {}", &commit[..commit.len().min(12)]),
            ..same.clone()
        }),
        _ => base_policies(config, Some((name, commit))),
    }
}

/// The policies at `commit` (a saved plan's `base_commit`).
pub(crate) fn policies_at_commit(
    config: &RunConfig,
    commit: &str,
) -> Result<std::sync::Arc<sharedbox_policy::PolicySet>, String> {
    crate::git::policy_set_at(&config.policies, config.baseline.as_deref(), commit)
        .map(std::sync::Arc::new)
}

/// Labels each change as drift or policy change against the policies at the base revision.
fn label_causes(
    plan: &mut sharedbox_planner::Plan,
    snapshot: &sharedbox_tenant::Snapshot,
    args: &PlanArgs,
    base: &Result<BasePolicies, String>,
) {
    let base = base.clone().and_then(|base| {
        let base_plan = sharedbox_planner::plan(
            &base.set,
            snapshot,
            &sharedbox_planner::PlanOptions {
                targets: args.targets.clone(),
                base: Some(base.set.clone()),
            },
        )
        .map_err(|_| {
            "the policies at the base revision name principals the tenant does not know".to_owned()
        })?;
        Ok((base.label, base_plan))
    });
    match base {
        Ok((revision, base_plan)) => plan.label_causes(&base_plan, &revision),
        Err(reason) => plan.baseline = sharedbox_planner::Baseline::Unknown(reason),
    }
}

/// `sharedbox show PLANFILE`.
pub fn show(plan_file: &Path, format: Format) -> anyhow::Result<ExitStatus> {
    let document = read_plan_file(plan_file)?;
    match format {
        Format::Json => {
            outln!("{}", serde_json::to_string_pretty(&document)?);
            return Ok(ExitStatus::Success);
        }
        Format::Markdown => {
            out!("{}", markdown(&document.to_plan(), Some(plan_file)));
            return Ok(ExitStatus::Success);
        }
        Format::Text => {}
    }
    outln!(
        "Saved plan {} for `{}`, made {} by sharedbox {}, valid until {}.",
        short(&document.plan_id),
        document.tenant,
        document.created_at,
        document.tool_version,
        document.expires_at
    );
    if !document.targets.is_empty() {
        outln!("Targeted at: {}.", document.targets.join(", "));
    }
    for warning in &document.warnings {
        outln!("warning: {warning}");
    }
    outln!();
    print_plan(&document.to_plan());
    Ok(ExitStatus::Success)
}

/// The largest plan file read (a plan of 50,000 changes is about 60 MiB).
const MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// Reads and checks the format of a saved plan.
pub fn read_plan_file(path: &Path) -> anyhow::Result<PlanDocument> {
    let hint = "pass the file that `sharedbox plan --out FILE` wrote";
    let cannot = |why: String| {
        Failure::new(format!("cannot read plan file `{}`: {why}", path.display())).hint(hint)
    };
    // Checked before it is opened: a FIFO would block, a huge file would fill the memory.
    let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("not a regular file".to_owned()).into());
    }
    if meta.len() > MAX_PLAN_BYTES {
        return Err(cannot(format!(
            "larger than {} MiB",
            MAX_PLAN_BYTES / (1024 * 1024)
        ))
        .into());
    }
    let bytes = std::fs::read(path).map_err(|e| cannot(e.to_string()))?;
    sharedbox_planner::parse_plan_document(&bytes).map_err(|refusal| {
        Failure::new(format!("`{}` {refusal}", path.display()))
            .hint(refusal.hint())
            .into()
    })
}

const PLAN_TARGET_HINT: &str = "`--out` takes the path of a new or existing regular file; remove the link or pick another path";

/// Writes a file readable by its owner only (plans and journals name every principal).
///
/// It never follows a symbolic link and never writes into anything but a regular file: a
/// target that is a link or not a regular file is refused; otherwise the text goes into a
/// new file beside it (created exclusively, mode 0600) that is then renamed over the target.
/// A rename replaces whatever is at the path itself, so a link planted in between is
/// replaced, not followed.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::output::check_output_target(path, "plan file", PLAN_TARGET_HINT)?;
    let bytes = format!("{text}\n");
    sharedbox_file::write_atomically(path, bytes.as_bytes(), sharedbox_file::Access::Private)
        .map_err(|e| {
            Failure::new(format!("cannot write plan file `{}`: {e}", path.display()))
                .hint("check that its folder exists and can be written")
                .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(bytes: &[u8]) -> anyhow::Result<PlanDocument> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, bytes).unwrap();
        read_plan_file(&path)
    }

    #[test]
    fn a_plan_id_that_is_not_hex_is_shortened_without_splitting_a_character() {
        assert_eq!(short("sha256:ääääääääääääääää"), "ääääääääääää");
        assert_eq!(short("sha256:0123"), "0123");
    }

    #[test]
    fn a_rewritten_plan_file_is_narrowed_to_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            write_private(&path, "{}").unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_are_refused_or_read_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..300)
        ) {
            let _ = read(&bytes);
        }

        #[test]
        fn a_plan_shaped_document_with_hostile_fields_is_refused_without_panicking(
            plan_id in "\\PC{0,20}",
            fields in proptest::collection::btree_map(
                prop_oneof![
                    Just("changes"), Just("policies_digest"), Just("tenant"), Just("run"),
                    Just("summary"), Just("lints"), Just("created_at"), Just("snapshot_digest"),
                ],
                prop_oneof![
                    Just(serde_json::json!(null)), Just(serde_json::json!([])),
                    Just(serde_json::json!({})), Just(serde_json::json!("x")),
                    Just(serde_json::json!([{"op": "grant"}])), Just(serde_json::json!(-1)),
                ],
                0..6,
            )
        ) {
            let mut document = serde_json::json!({
                "format_version": sharedbox_planner::FORMAT_VERSION,
                "plan_id": plan_id,
            });
            for (key, value) in fields {
                document[key] = value;
            }
            let result = read(serde_json::to_string(&document).unwrap().as_bytes());
            prop_assert!(result.is_err());
        }
    }
}
