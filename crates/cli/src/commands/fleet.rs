//! Several tenants of a fleet at once (`--tenants all|NAME...`), and `sharedbox tenants`.
//!
//! Each tenant runs in a sharedbox process of its own, started with the same command line
//! and [`crate::fleet::MEMBER_VARIABLE`] naming the tenant, at most `fleet.parallel` at once.
//! A process per tenant gives each its own connection, token, throttling budget (the
//! client's limiter), lock and journal, exactly as a run of that tenant alone, and a tenant
//! that fails (cannot connect, invalid policies, a crash) cannot stop or disturb the others.
//! Its output is collected and shown as a section per tenant with a summary table
//! (text and Markdown) or an object per tenant (JSON); the exit code is the worst of the
//! tenants' (3 over 1 over 2 over 0).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use crate::args::{Cli, Command, Format, TenantsArgs, TenantsFormat};
use crate::fleet::{Fleet, MEMBER_VARIABLE};
use crate::output::{ExitStatus, Failure, json_lines, plural, progress, relay, step_summary};

/// What one tenant's process gave.
struct Outcome {
    name: String,
    /// Its exit code; `None` when it could not start or was killed.
    code: Option<u8>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// The tenant's status, as the exit code says.
    fn status(&self) -> ExitStatus {
        match self.code {
            Some(0) => ExitStatus::Success,
            Some(2) => ExitStatus::Changes,
            Some(3) => ExitStatus::RollbackIncomplete,
            _ => ExitStatus::Failure,
        }
    }

    /// The errors the tenant's process reported (`error:` lines and their hints, or the
    /// `error` events of `--json-lines`), or why it did not finish.
    fn errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut lines = self.stderr.lines().peekable();
        while let Some(line) = lines.next() {
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(line) {
                if event["type"] == "error" {
                    let mut text = event["message"].as_str().unwrap_or_default().to_owned();
                    if let Some(hint) = event["hint"].as_str() {
                        text.push_str(&format!(" (hint: {hint})"));
                    }
                    errors.push(text);
                }
            } else if let Some(message) = line.strip_prefix("error: ") {
                let mut text = message.to_owned();
                while lines.peek().is_some_and(|l| l.trim().is_empty()) {
                    lines.next();
                }
                if let Some(hint) = lines.peek().and_then(|l| l.strip_prefix("hint: ")) {
                    text.push_str(&format!(" (hint: {hint})"));
                    lines.next();
                }
                errors.push(text);
            }
        }
        if errors.is_empty() && self.status() == ExitStatus::Failure {
            errors.push(match self.code {
                None => {
                    "the tenant's sharedbox process did not finish (killed, or it could not start)"
                        .to_owned()
                }
                Some(code) => format!("the tenant's sharedbox process exited with {code}"),
            });
        }
        errors
    }
}

/// The command's verb and the per-status words of its summary table.
fn words(command: &Command) -> (&'static str, [&'static str; 4]) {
    // Success, changes, failure, rollback incomplete.
    match command {
        Command::Plan(_) => ("plan", ["no changes", "changes", "failed", "failed"]),
        Command::Drift(_) => ("drift", ["in desired state", "drift", "failed", "failed"]),
        Command::Apply(_) => (
            "apply",
            [
                "applied",
                "applied",
                "failed",
                "failed, rollback incomplete",
            ],
        ),
        Command::Validate(_) => ("validate", ["valid", "valid", "invalid", "invalid"]),
        Command::Export(_) => ("export", ["exported", "exported", "failed", "failed"]),
        _ => ("doctor", ["ok", "ok", "failed", "failed"]),
    }
}

fn word(words: &[&'static str; 4], status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::Success => words[0],
        ExitStatus::Changes => words[1],
        ExitStatus::Failure => words[2],
        ExitStatus::RollbackIncomplete => words[3],
        ExitStatus::HealRefused => "refused",
    }
}

/// How bad a status is, for the worst of a fleet: 3, then 1, then 4 (a heal refused,
/// nothing changed), then 2, then 0.
fn severity(status: ExitStatus) -> u8 {
    match status {
        ExitStatus::Success => 0,
        ExitStatus::Changes => 1,
        ExitStatus::HealRefused => 2,
        ExitStatus::Failure => 3,
        ExitStatus::RollbackIncomplete => 4,
    }
}

/// Refuses what cannot be done for several tenants at once; returns the output format and
/// whether the user asked for `--detailed-exitcode`.
fn check(cli: &Cli) -> anyhow::Result<(Format, bool)> {
    let one = "run one tenant per command, `--tenants NAME`, for this (a CI matrix from `sharedbox tenants` does that per job)";
    if cli.trace.is_some() {
        return Err(Failure::new("`--trace` writes one tenant's requests")
            .hint(one)
            .into());
    }
    Ok(match &cli.command {
        Command::Plan(args) => {
            if args.out.is_some() {
                return Err(Failure::new("`plan --out FILE` saves one tenant's plan")
                    .hint(one)
                    .into());
            }
            (args.format, args.detailed_exitcode)
        }
        Command::Drift(args) => (args.format, args.detailed_exitcode),
        Command::Apply(args) => {
            if args.plan_file.is_some() {
                return Err(Failure::new("a saved plan is one tenant's plan")
                    .hint(one)
                    .into());
            }
            // Several prompts at once cannot be answered; each tenant's plan is printed in
            // its section, and `--max-removals` holds per tenant.
            if !args.auto_approve {
                return Err(Failure::new(
                    "refusing to apply to several tenants without `--auto-approve`",
                )
                .hint("review each tenant's plan first (`sharedbox plan --tenants …`), then apply with `--auto-approve`; `--max-removals` holds for each tenant, or apply one tenant with `--tenants NAME` to confirm it interactively")
                .into());
            }
            (args.format, false)
        }
        Command::Validate(args) => (args.format, false),
        Command::Export(args) => {
            if args.out.is_some() {
                return Err(Failure::new(
                    "`export --out DIR` would write every tenant's files into one folder",
                )
                .hint("leave `--out` out to write each tenant's policies into its own folder, or export one tenant with `--tenants NAME --out DIR`")
                .into());
            }
            (Format::Text, false)
        }
        Command::Doctor => (Format::Text, false),
        Command::Access(_) => {
            return Err(Failure::new("`access` reports one tenant's mailboxes")
                .hint("pass one tenant: `--tenants NAME` (a CI matrix from `sharedbox tenants` runs one report per tenant)")
                .into());
        }
        Command::Rollback(_) | Command::Runs { .. } | Command::Unlock { .. } => {
            return Err(
                Failure::new("`rollback`, `runs` and `unlock` work on one tenant's state")
                    .hint("pass one tenant: `--tenants NAME`")
                    .into(),
            );
        }
        Command::Schema { .. }
        | Command::Show { .. }
        | Command::Explain { .. }
        | Command::Profiles { .. }
        | Command::Tenants(_) => unreachable!("these need no tenant"),
    })
}

/// Runs the command for each of `names`, concurrently, and reports per tenant.
pub async fn fan_out(fleet: &Fleet, names: &[String], cli: &Cli) -> anyhow::Result<ExitStatus> {
    let (format, detailed) = check(cli)?;
    let (verb, words) = words(&cli.command);
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(format!("cannot find the sharedbox program: {e}")))?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // Changes and drift are told by the exit code: asked for in each tenant's process,
    // reported as the user asked.
    if matches!(cli.command, Command::Plan(_) | Command::Drift(_)) && !detailed {
        args.push("--detailed-exitcode".into());
    }
    let args = Arc::new(args);
    let permits = Arc::new(tokio::sync::Semaphore::new(fleet.parallel));
    progress(&format!(
        "{verb}: {} tenants, at most {} at once...",
        names.len(),
        fleet.parallel
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let (exe, args, permits, name) = (exe.clone(), args.clone(), permits.clone(), name.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            run_member(&exe, &args, name).await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.map_err(|e| Failure::new(format!("a tenant's task failed: {e}")))?;
        progress(&format!(
            "tenant `{}`: {}",
            outcome.name,
            word(&words, outcome.status())
        ));
        outcomes.push(outcome);
    }
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    // Each tenant's diagnostics and errors, on stderr, one tenant after the other.
    for outcome in &outcomes {
        if outcome.stderr.is_empty() {
            continue;
        }
        if json_lines() {
            for line in outcome.stderr.lines() {
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(mut event)) => {
                        event.insert("tenant".into(), outcome.name.clone().into());
                        relay(&format!("{}\n", serde_json::Value::Object(event)));
                    }
                    _ => relay(&format!("{line}\n")),
                }
            }
        } else {
            relay(&format!(
                "── tenant `{}` ──\n{}",
                outcome.name, outcome.stderr
            ));
            if !outcome.stderr.ends_with('\n') {
                relay("\n");
            }
        }
    }
    let markdown = markdown(verb, &words, &outcomes, format == Format::Markdown);
    match format {
        Format::Text => out!("{}", text(verb, &words, &outcomes)),
        Format::Markdown => out!("{markdown}"),
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&json(verb, &words, &outcomes))?
        ),
    }
    step_summary(&markdown);
    let worst = outcomes
        .iter()
        .map(Outcome::status)
        .map(|s| match s {
            ExitStatus::Changes if !detailed => ExitStatus::Success,
            other => other,
        })
        .max_by_key(|s| severity(*s))
        .unwrap_or(ExitStatus::Success);
    Ok(worst)
}

/// Runs one tenant's process and collects what it wrote.
async fn run_member(exe: &Path, args: &[std::ffi::OsString], name: String) -> Outcome {
    let mut command = std::process::Command::new(exe);
    command
        .args(args)
        .env(MEMBER_VARIABLE, &name)
        // The fleet writes one job summary, with every tenant; colour is for terminals.
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Waiting for a process blocks: off the async workers.
    let output = tokio::task::spawn_blocking(move || command.output()).await;
    match output {
        Ok(Ok(output)) => Outcome {
            name,
            code: output.status.code().and_then(|c| u8::try_from(c).ok()),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        },
        Ok(Err(e)) => Outcome {
            name,
            code: None,
            stdout: String::new(),
            stderr: format!("error: cannot start sharedbox for this tenant: {e}\n"),
        },
        Err(e) => Outcome {
            name,
            code: None,
            stdout: String::new(),
            stderr: format!("error: the tenant's task failed: {e}\n"),
        },
    }
}

/// A one-line summary of a tenant's outcome: its errors, or from its text output the
/// plan's `Plan: …` line, else the first line.
fn detail(outcome: &Outcome, text: bool) -> String {
    let errors = outcome.errors();
    if !errors.is_empty() {
        return errors.join("; ");
    }
    if text {
        let mut lines = outcome.stdout.lines().map(str::trim);
        return lines
            .clone()
            .find(|l| l.starts_with("Plan: "))
            .or_else(|| lines.find(|l| !l.is_empty()))
            .unwrap_or_default()
            .to_owned();
    }
    String::new()
}

/// `3 tenants: 1 with changes, 1 failed, 1 with no changes`.
fn tally(words: &[&'static str; 4], outcomes: &[Outcome]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for outcome in outcomes {
        let w = word(words, outcome.status());
        match counts.iter_mut().find(|(k, _)| *k == w) {
            Some((_, n)) => *n += 1,
            None => counts.push((w, 1)),
        }
    }
    format!(
        "{} tenant{}: {}",
        outcomes.len(),
        plural(outcomes.len()),
        counts
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The text report: a section per tenant (its output, or its errors), then the summary.
fn text(verb: &str, words: &[&'static str; 4], outcomes: &[Outcome]) -> String {
    let mut text = String::new();
    for outcome in outcomes {
        text.push_str(&format!(
            "=== tenant `{}`: {} ===\n\n",
            outcome.name,
            word(words, outcome.status())
        ));
        if !outcome.stdout.trim().is_empty() {
            text.push_str(outcome.stdout.trim_end());
            text.push_str("\n\n");
        }
        for error in outcome.errors() {
            text.push_str(&format!("error: {error}\n\n"));
        }
    }
    let width = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(0)
        .max(6);
    text.push_str(&format!("Fleet {verb}, {}.\n\n", tally(words, outcomes)));
    text.push_str(&format!(
        "{:<width$}  {:<16}  EXIT  DETAIL\n",
        "TENANT", "RESULT"
    ));
    for outcome in outcomes {
        text.push_str(&format!(
            "{:<width$}  {:<16}  {:<4}  {}\n",
            outcome.name,
            word(words, outcome.status()),
            outcome.code.map_or("-".to_owned(), |c| c.to_string()),
            detail(outcome, true)
        ));
    }
    text
}

/// Escapes `|` and line breaks for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The Markdown report (a pull-request comment, the job summary): the summary table, then a
/// section per tenant with its Markdown output when `sections`; capped as one comment.
fn markdown(verb: &str, words: &[&'static str; 4], outcomes: &[Outcome], sections: bool) -> String {
    let mut text = format!(
        "### sharedbox {verb}: {}\n\n| tenant | result | exit code | detail |\n|---|---|---:|---|\n",
        tally(words, outcomes)
    );
    for outcome in outcomes {
        text.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            outcome.name,
            word(words, outcome.status()),
            outcome.code.map_or("-".to_owned(), |c| c.to_string()),
            cell(&detail(outcome, false))
        ));
    }
    if !sections {
        return text;
    }
    // Every tenant gets an equal share of what one comment may hold.
    let budget = sharedbox_planner::markdown::COMMENT_LIMIT.saturating_sub(text.len())
        / outcomes.len().max(1);
    for outcome in outcomes {
        let mut section = format!(
            "\n#### tenant `{}`: {}\n\n",
            outcome.name,
            word(words, outcome.status())
        );
        let errors = outcome.errors();
        if !errors.is_empty() {
            section.push_str("```text\n");
            for error in &errors {
                section.push_str(&format!("error: {}\n", error.replace("```", "'''")));
            }
            section.push_str("```\n");
        }
        section.push_str(outcome.stdout.trim_end());
        section.push('\n');
        if section.len() > budget {
            let note = format!(
                "\n… cut to fit one comment; run `sharedbox {verb} --tenants {}` for all of it\n",
                outcome.name
            );
            let mut end = budget.saturating_sub(note.len());
            while !section.is_char_boundary(end) {
                end -= 1;
            }
            let end = section[..end].rfind('\n').unwrap_or(end);
            section.truncate(end);
            section.push_str(&note);
        }
        text.push_str(&section);
    }
    text
}

/// The JSON report: per tenant its result, exit code, errors and its own JSON document.
fn json(verb: &str, words: &[&'static str; 4], outcomes: &[Outcome]) -> serde_json::Value {
    let tenants: serde_json::Map<String, serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let document = serde_json::from_str::<serde_json::Value>(&o.stdout)
                .unwrap_or(serde_json::Value::Null);
            (
                o.name.clone(),
                serde_json::json!({
                    "result": word(words, o.status()),
                    "exit_code": o.code,
                    "errors": o.errors(),
                    "document": document,
                }),
            )
        })
        .collect();
    serde_json::json!({
        "format_version": 1,
        "command": verb,
        "tenants": tenants,
    })
}

/// `sharedbox tenants`: the fleet's tenants, or those the changes since a base touch.
pub fn tenants(fleet: &Fleet, args: &TenantsArgs) -> anyhow::Result<ExitStatus> {
    let names = if args.changed {
        let dir = if fleet.root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            fleet.root.as_path()
        };
        let (label, commit) = crate::git::base_revision(dir, args.base.as_deref()).map_err(|reason| {
            Failure::new(format!("cannot tell which tenants changed: {reason}"))
                .hint("run in a git checkout with the default branch fetched (`fetch-depth: 0`), or pass `--base REV`; without `--changed` every tenant is listed")
        })?;
        let changed = crate::git::changed_files(dir, &commit).map_err(|reason| {
            Failure::new(format!("cannot tell which tenants changed: {reason}"))
        })?;
        let touched = fleet.touched_by(&changed);
        crate::output::remark(&format!(
            "{} of {} tenant{} touched by the changes since {label} ({})",
            touched.len(),
            fleet.members.len(),
            plural(fleet.members.len()),
            &commit[..commit.len().min(12)]
        ));
        touched
    } else {
        fleet.members.clone()
    };
    match args.format {
        TenantsFormat::Text => {
            for name in &names {
                outln!("{name}");
            }
        }
        TenantsFormat::Json => {
            let tenants: Vec<serde_json::Value> = names
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "name": n,
                        "folder": fleet.folder_of(n).display().to_string(),
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "tenants": tenants }))?
            );
        }
        TenantsFormat::GithubMatrix => {
            let include: Vec<serde_json::Value> = names
                .iter()
                .map(|n| serde_json::json!({ "tenant": n }))
                .collect();
            // One line: it goes into `$GITHUB_OUTPUT`.
            outln!("{}", serde_json::json!({ "include": include }));
        }
        TenantsFormat::AzureMatrix => {
            let matrix: serde_json::Map<String, serde_json::Value> = names
                .iter()
                // Azure names a matrix job by its key: letters, digits and `_` only.
                .map(|n| {
                    let key: String = n
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect();
                    (key, serde_json::json!({ "tenant": n }))
                })
                .collect();
            outln!("{}", serde_json::Value::Object(matrix));
        }
    }
    Ok(ExitStatus::Success)
}
