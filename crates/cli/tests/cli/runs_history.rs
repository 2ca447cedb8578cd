//! The run history as a person reads it (issue 18, item 4): `runs show` prints each step as
//! the plan printed it (field, principal, before -> after, `smtpAuth` included), also for
//! journals written before the plan's values were journaled; the `runs` table keeps its
//! columns with a long tenant name; the rollback preview marks the steps it cannot undo, and
//! its hints name the run.

use crate::common::{self, Project};

/// `text` with every run of spaces made one, so a plan's aligned `field   = value` and a
/// step's `field = value` compare equal.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The one run a successful `apply --auto-approve` in `project` journals.
fn applied(project: &Project) -> String {
    common::new_run(project, || {
        let apply = project.run(&["apply", "--auto-approve"]);
        assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    })
}

/// The setting lines of a text plan (`~ field = before -> after`, `+ field = value`, `-
/// field = value` inside a mailbox or tenant block), squeezed, without the drift labels.
fn plan_setting_lines(plan: &str) -> Vec<String> {
    plan.lines()
        .filter(|l| l.starts_with("      ") && !l.starts_with("       "))
        .map(str::trim)
        .filter(|l| {
            ["~ ", "+ ", "- "].iter().any(|s| l.starts_with(s))
                && l.contains(" = ")
                && !l.ends_with('[')
        })
        .map(|l| squeezed(l.split("  #").next().unwrap_or(l)))
        .collect()
}

#[test]
fn runs_show_prints_every_step_as_the_plan_printed_it() {
    let project = Project::demo();
    let plan = project.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let expected = plan_setting_lines(&plan.stdout);
    assert!(
        expected
            .iter()
            .any(|l| l == "~ clients.smtpAuth = inherit (disabled by the organisation) -> disabled"),
        "the demo changes an inherited SMTP AUTH: {expected:?}"
    );
    let run = applied(&project);
    let show = project.run(&["runs", "show", &run]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let shown = squeezed(&show.stdout);
    for line in &expected {
        assert!(shown.contains(line), "`{line}` is not in:\n{}", show.stdout);
    }
    // A list member reads as the plan's `+ member`, under its field.
    assert!(
        show.stdout
            .contains("info@contoso.com: + moderation.moderators = anna.hoffmann@contoso.com"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains(&format!("run {run}: apply of ")),
        "{}",
        show.stdout
    );
    // No cmdlet names, observations or debug values.
    for debug in [
        "Set-Mailbox",
        "not granted",
        "-> granted",
        "Apply of",
        "Switch(",
        "Some(",
    ] {
        assert!(
            !show.stdout.contains(debug),
            "`{debug}` in:\n{}",
            show.stdout
        );
    }
}

/// A journal written before the plan's values were journaled (no `shown` in its intents)
/// still reads like the plan: the values are rebuilt from the write and its before-image.
#[test]
fn runs_show_reads_an_older_journal_like_the_plan() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\ndisplayName: Support Team\nsendAs: [clara@fabrikam.com]\nclients: {pop: false}\n",
    );
    let run = applied(&project);
    let path = project
        .path()
        .join(".sharedbox/runs")
        .join(format!("{run}.jsonl"));
    let journal = std::fs::read_to_string(&path).unwrap();
    assert!(journal.contains("\"shown\""), "{journal}");
    let older: String = journal
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("shown");
            format!("{record}\n")
        })
        .collect();
    std::fs::write(&path, older).unwrap();
    let show = project.run(&["runs", "show", &run]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    for line in [
        "support@fabrikam.com: ~ displayName = \"Support\" -> \"Support Team\"",
        "support@fabrikam.com: + sendAs = clara@fabrikam.com",
        "support@fabrikam.com: - sendAs = anna@fabrikam.com",
        "support@fabrikam.com: ~ clients.pop = true -> false",
    ] {
        assert!(
            show.stdout.contains(line),
            "`{line}` is not in:\n{}",
            show.stdout
        );
    }
}

/// A tenant name longer than its column is cut with `…`; the columns after it stay aligned
/// with their headings.
#[test]
fn the_runs_table_keeps_its_columns_with_a_long_tenant_name() {
    let long = format!("{}.onmicrosoft.com", "a-very-long-tenant-name".repeat(4));
    let project = Project::with_tenant(
        &common::TENANT.replace("name: fabrikam.onmicrosoft.com", &format!("name: {long}")),
    );
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nclients: {pop: false}\n",
    );
    let run = applied(&project);
    let runs = project.run(&["runs"]);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    let lines: Vec<&str> = runs.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", runs.stdout);
    let (header, row) = (lines[0], lines[1]);
    assert!(row.starts_with(&run), "{}", runs.stdout);
    assert!(!row.contains(&long) && row.contains('…'), "{}", runs.stdout);
    let column = |line: &str, at: &str| line.find(at).map(|i| line[..i].chars().count());
    assert_eq!(
        column(header, "OUTCOME"),
        column(row, "succeeded"),
        "{}",
        runs.stdout
    );
    assert_eq!(
        column(header, "STEPS"),
        column(row, "1 ok"),
        "{}",
        runs.stdout
    );
}

/// Before it asks, `rollback` shows each step as the plan did and marks the ones it cannot
/// undo (revoked grants of orphaned SIDs), with why; refusing without a terminal, its hint
/// names the run to pass with `--auto-approve`.
#[test]
fn the_rollback_preview_marks_what_cannot_be_undone_and_names_the_run() {
    let project = Project::demo();
    let run = applied(&project);
    let preview = project.run(&["rollback", &run]);
    assert_eq!(preview.code, 1, "{}\n{}", preview.stdout, preview.stderr);
    let marked: Vec<&str> = preview
        .stdout
        .lines()
        .filter(|l| l.ends_with("  # cannot be undone"))
        .collect();
    assert_eq!(marked.len(), 3, "{}", preview.stdout);
    assert!(
        marked.iter().all(|l| l.contains("(orphaned)")),
        "{marked:?}"
    );
    assert!(
        preview
            .stdout
            .contains("3 steps cannot be undone by `sharedbox rollback`:"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains(
            "`legal@contoso.com`: - sendAs = S-1-5-21-3623811015-3361044348-30300820-1013 (orphaned): the revoked principal was orphaned"
        ),
        "{}",
        preview.stdout
    );
    // A setting of a mailbox the run created goes with the mailbox: not marked.
    assert!(
        preview.stdout.lines().any(|l| l.contains(
            "onboarding@contoso.com: ~ sentItems.copyForSendAs = false -> true (applied)"
        )),
        "{}",
        preview.stdout
    );
    assert!(
        preview
            .stderr
            .contains(&format!("`sharedbox rollback {run} --auto-approve`")),
        "{}",
        preview.stderr
    );
}
