//! Machine and pipeline formats: `--format json|markdown` of validate, plan, show, apply and
//! drift on the demo tenant (snapshots), the size cap of the PR comment, GitHub annotations
//! and job summaries, and `--json-lines`.

use crate::common;

use std::path::Path;

use sharedbox_exo_sim::synthetic::{SyntheticOptions, generate};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn the_demo_plan_as_a_pull_request_comment() {
    let project = common::Project::demo();
    let run = project.run(&["plan", "--format", "markdown", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    insta::assert_snapshot!("demo_plan_markdown", run.stdout);
}

#[test]
fn plan_json_is_the_saved_plan_and_show_renders_it_in_every_format() {
    let project = common::Project::demo();
    let run = project.run(&["plan", "--format", "json", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed = json(&run.stdout);
    let saved = json(&std::fs::read_to_string(project.path().join("plan.json")).unwrap());
    assert_eq!(printed, saved, "stdout is the saved plan document");
    assert_eq!(printed["format_version"], 2);
    assert_eq!(printed["tenant"], "contoso.onmicrosoft.com");
    assert_eq!(printed["summary"]["create"], 2);
    assert_eq!(printed["summary"]["revoke"], 9);

    let shown = project.run(&["show", "plan.json", "--format", "json"]);
    assert_eq!(json(&shown.stdout), saved);
    let markdown = project.run(&["show", "plan.json", "--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(
        markdown
            .stdout
            .starts_with("### sharedbox plan for `contoso.onmicrosoft.com`")
    );
    assert!(markdown.stdout.contains("> [!CAUTION]"));
    let sections = saved["mailboxes"].as_array().unwrap().len() + 1; // and tenant settings
    assert_eq!(markdown.stdout.matches("<details").count(), sections);
}

#[test]
fn validate_json_lists_located_diagnostics_and_github_gets_annotations() {
    let project = common::Project::new();
    project.policy(
        "sales.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: sales@contoso.com\nsendAs: [alice@contoso.com]\ncolour: blue\n",
    );
    let run = common::run_with_env(
        project.path(),
        &["validate", "--format", "json"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let document = json(&run.stdout);
    assert_eq!(document["valid"], false);
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["line"], 5);
    assert_eq!(diagnostic["column"], 1);
    assert!(diagnostic["file"].as_str().unwrap().ends_with("sales.yaml"));
    let annotation = run
        .stderr
        .lines()
        .find(|l| l.starts_with("::error file="))
        .unwrap_or_else(|| panic!("no annotation in:\n{}", run.stderr));
    assert!(
        annotation.contains("sales.yaml,line=5,col=1,title="),
        "{annotation}"
    );
    assert!(annotation.contains("`colour`"), "{annotation}");

    let valid = common::Project::new();
    valid.policy(
        "sales.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: sales@contoso.com\n",
    );
    let ok = valid.run(&["validate", "--format", "json"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(json(&ok.stdout)["valid"], true);
    assert_eq!(json(&ok.stdout)["mailboxes"], 1);
}

#[test]
fn apply_json_is_a_result_document_and_json_lines_narrate_every_step() {
    let project = common::Project::demo();
    let summary = project.path().join("summary.md");
    let run = common::run_with_env(
        project.path(),
        &[
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--json-lines",
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = json(&run.stdout);
    assert_eq!(result["format_version"], 1);
    assert_eq!(result["outcome"], "succeeded");
    // 69: `contactcenter@` no longer switches its own SMTP AUTH on (the contact-center
    // profile leaves it to the service account that logs in); 73: four Sent Items readers
    // get `FolderVisible` on their mailbox's root.
    assert_eq!(result["applied"], 73);
    assert!(result["failed_step"].is_null());
    let events: Vec<serde_json::Value> = run.stderr.lines().map(json).collect();
    for event in &events {
        for key in ["type", "level", "message", "timestamp"] {
            assert!(event.get(key).is_some(), "{key} missing in {event}");
        }
    }
    let started = events
        .iter()
        .filter(|e| e["type"] == "step_started")
        .count();
    let succeeded = events
        .iter()
        .filter(|e| e["type"] == "step_succeeded")
        .count();
    assert_eq!((started, succeeded), (73, 73));
    // A step is started before its round is sent: the first round's steps are all started
    // before the first outcome, and every outcome follows its own start.
    let first_outcome = events
        .iter()
        .position(|e| e["type"] == "step_succeeded")
        .unwrap();
    assert!(
        events[..first_outcome]
            .iter()
            .filter(|e| e["type"] == "step_started")
            .count()
            > 1,
        "{events:#?}"
    );
    for (at, event) in events.iter().enumerate() {
        if event["type"] == "step_succeeded" {
            assert!(
                events[..at]
                    .iter()
                    .any(|e| e["type"] == "step_started" && e["step"] == event["step"]),
                "step {} ended before it started",
                event["step"]
            );
        }
    }
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("**Applied 73 changes.**"), "{summary}");

    let again = project.run(&["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(json(&again.stdout)["outcome"], "nothing_to_do");
}

#[test]
fn plan_and_drift_write_the_github_job_summary() {
    let project = common::Project::demo();
    let summary = project.path().join("summary.md");
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    let plan = common::run_with_env(project.path(), &["plan"], &env);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let drift = common::run_with_env(project.path(), &["drift", "--format", "json"], &env);
    assert_eq!(drift.code, 0, "{}", drift.stderr);
    assert_eq!(json(&drift.stdout)["inDesiredState"], false);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("### sharedbox plan for `contoso.onmicrosoft.com`"),
        "{text}"
    );
    assert!(text.contains("### sharedbox drift: `contoso.onmicrosoft.com` is **drifted**"));
}

#[test]
fn the_comment_of_a_5000_mailbox_plan_stays_under_the_cap_and_says_what_was_cut() {
    let synthetic = generate(&SyntheticOptions {
        mailboxes: 5000,
        drift: 0.6,
        orphans: 0.2,
        german: 0.2,
        seed: 7,
        ..SyntheticOptions::default()
    });
    let tenant = serde_saphyr::to_string(&synthetic.tenant).unwrap();
    let project = common::Project::with_tenant(&tenant);
    for (name, text) in &synthetic.policies {
        project.policy(name, text);
    }
    let run = project.run(&["plan", "--format", "markdown", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let comment = run.stdout;
    assert!(
        comment.chars().count() < 60_000,
        "{} characters",
        comment.chars().count()
    );
    assert!(comment.contains("not shown** (this comment is capped at 60000 characters)"));
    assert!(comment.contains("The full plan: `sharedbox show plan.json`"));
    assert!(comment.contains("> [!CAUTION]"));
    // Mailboxes that lose access come first: the first section shown is one of them.
    let first = comment.find("<details").unwrap();
    assert!(
        comment[first..].starts_with("<details open>"),
        "{}",
        &comment[first..first + 200]
    );
}

#[test]
fn the_committed_document_schemas_are_current_and_describe_the_documents() {
    let project = common::Project::new();
    for (document, file) in [
        ("plan", "plan.schema.json"),
        ("drift", "drift.schema.json"),
        ("apply", "apply.schema.json"),
        ("access", "access.schema.json"),
    ] {
        let run = project.run(&["schema", document]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let committed = std::fs::read_to_string(root().join("docs/schemas").join(file)).unwrap();
        assert_eq!(
            run.stdout, committed,
            "docs/schemas/{file} is stale; regenerate it with `sharedbox schema {document} > docs/schemas/{file}`"
        );
        let schema = json(&committed);
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }
    // Every top-level field of a real plan and apply document is described, and every
    // required one present.
    let demo = common::Project::demo();
    let plan = json(&demo.run(&["plan", "--format", "json"]).stdout);
    let apply = json(
        &demo
            .run(&["apply", "--auto-approve", "--format", "json"])
            .stdout,
    );
    for (document, file) in [(plan, "plan.schema.json"), (apply, "apply.schema.json")] {
        let schema =
            json(&std::fs::read_to_string(root().join("docs/schemas").join(file)).unwrap());
        let described: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        for key in document.as_object().unwrap().keys() {
            assert!(described.contains(&key), "`{key}` is not in {file}");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(
                document.get(required.as_str().unwrap()).is_some(),
                "{required} missing from a document of {file}"
            );
        }
    }
}

/// A reader that is gone before anything is written (`sharedbox runs | head -0`): every
/// command ends as it would have, with its own exit code, and never panics.
#[test]
fn a_closed_stdout_pipe_ends_no_command_with_a_panic() {
    let project = common::Project::demo();
    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    std::fs::write(
        project.path().join("policies/extra.yaml"),
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: pipes@contoso.com\n",
    )
    .unwrap();
    let commands: [(&[&str], i32); 8] = [
        (&["runs"], 0),
        (&["explain"], 0),
        (&["profiles", "team-mailbox"], 0),
        (&["schema", "policy"], 0),
        (&["validate", "--format", "json"], 0),
        (&["plan", "--detailed-exitcode"], 2),
        (&["plan", "--format", "markdown", "--detailed-exitcode"], 2),
        (&["apply", "--auto-approve"], 0),
    ];
    for (args, code) in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharedbox"))
            .current_dir(project.path())
            .env("NO_COLOR", "1")
            .env("GIT_CEILING_DIRECTORIES", project.path().parent().unwrap())
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The apply behind the closed pipe did its work.
    let tenant = project.tenant();
    assert!(
        tenant
            .mailboxes
            .iter()
            .any(|m| m.primary_smtp_address == "pipes@contoso.com")
    );
}

/// Every line a command writes to stderr under `--json-lines`, parsed; fails on a line that
/// is not a JSON object with a string `type` and `level`.
fn events(label: &str, run: &common::Run) -> Vec<serde_json::Value> {
    run.stderr
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "{label}: a stderr line is not JSON ({e}): {line:?}\n{}",
                    run.stderr
                )
            });
            assert!(event.is_object(), "{label}: not an object: {line}");
            for key in ["type", "level", "message"] {
                assert!(event[key].is_string(), "{label}: no `{key}` in {line}");
            }
            event
        })
        .collect()
}

/// `--json-lines` makes stderr one JSON object per line in every command: diagnostics,
/// warnings and their list items, hints, confirmations refused, apply steps, undo decisions,
/// verification and errors.
#[test]
fn json_lines_make_every_stderr_line_an_event() {
    const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let mut check = |label: &str, run: &common::Run, code: i32| {
        assert_eq!(run.code, code, "{label}: {}\n{}", run.stdout, run.stderr);
        let events = events(label, run);
        assert!(!events.is_empty(), "{label}: no events");
        seen.extend(events.clone());
        events
    };

    // validate with an error
    let invalid = common::Project::new();
    invalid.policy(
        "sales.yaml",
        &format!("{HEADER}mailbox: sales@contoso.com\ncolour: blue\n"),
    );
    check("validate", &invalid.run(&["validate", "--json-lines"]), 1);

    // plan with targeting and lint warnings; SendAs for a distribution group fails at step 2
    let project = common::Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com, all-staff@fabrikam.com]\nlints: {{SBX204: off}}\n"));
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nhiddenFromAddressLists: true\n"),
    );
    let plan = check(
        "plan",
        &project.run(&["plan", "--json-lines", "--target", "support@fabrikam.com"]),
        0,
    );
    assert!(
        plan.iter()
            .any(|e| e["type"] == "warning" && e["message"].as_str().unwrap().contains("targeting")),
        "{plan:?}"
    );

    // refused applies: no terminal to confirm on, and a guard
    let before = project.tenant();
    check(
        "apply without a terminal",
        &project.run(&["apply", "--json-lines"]),
        1,
    );
    let guard = check(
        "apply over --max-removals",
        &project.run(&[
            "apply",
            "--json-lines",
            "--auto-approve",
            "--max-removals",
            "0",
        ]),
        1,
    );
    assert!(
        guard
            .iter()
            .any(|e| e["type"] == "error" && e["level"] == "error")
    );
    assert_eq!(project.tenant(), before, "refused applies write nothing");

    // an apply that fails and rolls back
    let failed = check(
        "failing apply",
        &project.run(&["apply", "--json-lines", "--auto-approve"]),
        1,
    );
    for kind in ["step_failed", "rollback_started", "step_undone", "hint"] {
        assert!(
            failed.iter().any(|e| e["type"] == kind),
            "no {kind}: {failed:?}"
        );
    }
    assert_eq!(project.tenant(), before, "rolled back");

    // an apply that succeeds, then its rollback, with a damaged journal beside it
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com]\n"),
    );
    let run_id = common::new_run(&project, || {
        check(
            "apply",
            &project.run(&["apply", "--json-lines", "--auto-approve"]),
            0,
        );
    });
    std::fs::write(
        project.path().join(".sharedbox/runs/bogus.jsonl"),
        "not a journal\n",
    )
    .unwrap();
    let rollback = check(
        "rollback",
        &project.run(&["rollback", &run_id, "--json-lines", "--auto-approve"]),
        0,
    );
    assert!(
        rollback.iter().any(|e| e["type"] == "warning"),
        "{rollback:?}"
    );
    assert!(
        rollback.iter().any(|e| e["type"] == "step_undone"),
        "{rollback:?}"
    );
    check("runs", &project.run(&["runs", "--json-lines"]), 0);
    check(
        "drift",
        &project.run(&["drift", "--json-lines", "--format", "json"]),
        0,
    );
    let export = check(
        "export",
        &project.run(&["export", "--json-lines", "--out", "exported"]),
        0,
    );
    assert!(
        export.iter().any(|e| e["type"] == "note"),
        "orphans: {export:?}"
    );
    check(
        "export into a full folder",
        &project.run(&["export", "--json-lines", "--out", "exported"]),
        1,
    );

    // verification that gives up before Exchange shows the change
    let lagging = common::Project::with_tenant(&format!(
        "{}simulation:\n  visibilityLagReads: 1000\n",
        common::TENANT
    ));
    lagging.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\n"),
    );
    check(
        "apply not yet visible",
        &lagging.run(&[
            "apply",
            "--json-lines",
            "--auto-approve",
            "--verify-timeout",
            "0s",
        ]),
        0,
    );

    // a command line that does not parse: exit 1, never 2 ("changes present")
    let usage = check(
        "usage error",
        &project.run(&[
            "plan",
            "--json-lines",
            "--detailed-exitcode",
            "--no-such-flag",
        ]),
        1,
    );
    let plain = project.run(&["plan", "--detailed-exitcode", "--no-such-flag"]);
    assert_eq!(plain.code, 1, "{plain:?}");
    assert!(plain.stderr.contains("--no-such-flag"), "{plain:?}");
    assert!(
        usage[0]["message"]
            .as_str()
            .unwrap()
            .contains("--no-such-flag"),
        "{usage:?}"
    );

    for kind in [
        "diagnostic",
        "error",
        "warning",
        "hint",
        "detail",
        "note",
        "message",
        "step_started",
        "step_succeeded",
        "step_failed",
        "step_undone",
        "verified",
        "not_visible",
    ] {
        assert!(
            seen.iter().any(|e| e["type"] == kind),
            "no `{kind}` event among {seen:#?}"
        );
    }
}
