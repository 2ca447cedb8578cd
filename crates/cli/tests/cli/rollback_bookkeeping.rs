//! Rollback bookkeeping across runs (issue 14, items 4 and 5): a run is rolled back once, a
//! rollback does not undo later runs behind their back, a journal of another backend or
//! tenant is refused, and a damaged journal stops a rollback before it writes anything.

use crate::common;

use std::path::PathBuf;

use crate::common::{Project, mailbox, new_run, normalized, send_as};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// A project whose first apply renames the support mailbox and grants Clara SendAs on it.
fn project() -> Project {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\ndisplayName: Support Team\nsendAs: [clara@fabrikam.com]\n"
        ),
    );
    project
}

fn apply(project: &Project) -> String {
    new_run(project, || {
        let run = project.run(&["apply", "--auto-approve"]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    })
}

fn journal(project: &Project, run_id: &str) -> PathBuf {
    project
        .path()
        .join(".sharedbox/runs")
        .join(format!("{run_id}.jsonl"))
}

fn journal_count(project: &Project) -> usize {
    common::run_ids(project).len()
}

fn records(project: &Project, run_id: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal(project, run_id))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_rolled_back_run_is_not_rolled_back_again_after_a_later_run_reapplied_it() {
    let project = project();
    let before = normalized(project.tenant());
    let a = apply(&project);
    let r1 = new_run(&project, || {
        let run = project.run(&["rollback", &a, "--auto-approve"]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    });
    assert_eq!(
        normalized(project.tenant()),
        before,
        "the rollback restored"
    );
    // A later run makes the same changes again.
    let b = apply(&project);
    let after_b = normalized(project.tenant());
    assert_ne!(after_b, before);
    let journals = journal_count(&project);

    let again = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(
        normalized(project.tenant()),
        after_b,
        "the later run's changes are kept"
    );
    assert_eq!(journal_count(&project), journals, "nothing was journaled");
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains(&format!(
            "Nothing to roll back: run `{a}` was already rolled back in run `{r1}`."
        )),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains(&format!("`{b}`")),
        "the later run is named: {}",
        again.stdout
    );
    // `--force` does not make a rolled-back run roll back again.
    let forced = project.run(&["rollback", &a, "--auto-approve", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(normalized(project.tenant()), after_b);
}

#[test]
fn a_run_that_failed_and_rolled_back_automatically_is_not_rolled_back_again() {
    let project = Project::with_tenant(&format!(
        "{}simulation:\n  failOnWrite: 2\n",
        common::TENANT
    ));
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\ndisplayName: Support Team\nsendAs: [clara@fabrikam.com]\n"
        ),
    );
    let a = new_run(&project, || {
        assert_eq!(project.run(&["apply", "--auto-approve"]).code, 1);
    });
    // The simulated failure was the tenant's second write ever: the next apply succeeds.
    let b = apply(&project);
    let after_b = normalized(project.tenant());
    let journals = journal_count(&project);

    let again = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(
        normalized(project.tenant()),
        after_b,
        "the later run's changes are kept"
    );
    assert_eq!(journal_count(&project), journals, "nothing was journaled");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains(&format!(
            "Nothing to roll back: run `{a}` failed and was already rolled back automatically."
        )) && again.stdout.contains(&format!("`{b}`")),
        "{}",
        again.stdout
    );
}

#[test]
fn a_rollback_refuses_when_a_later_run_changed_the_same_objects_unless_forced() {
    let project = project();
    let a = apply(&project);
    // B renames the mailbox A renamed; C changes another mailbox only.
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\ndisplayName: Help\nsendAs: [clara@fabrikam.com]\n"
        ),
    );
    let b = apply(&project);
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\ndisplayName: Finanzen\n"),
    );
    let c = apply(&project);
    let after_c = normalized(project.tenant());
    let journals = journal_count(&project);

    let refused = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "run `{a}` was followed by run `{b}` that changed objects it changed"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains(&c),
        "a run on another mailbox is not in the way: {}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint:")
            && refused
                .stderr
                .contains(&format!("`sharedbox rollback {a} --force`"))
            && refused
                .stderr
                .contains(&format!("(`sharedbox rollback {b}`)")),
        "{}",
        refused.stderr
    );
    assert_eq!(normalized(project.tenant()), after_c, "nothing was written");
    assert_eq!(journal_count(&project), journals, "nothing was journaled");

    let forced = new_run(&project, || {
        let run = project.run(&["rollback", &a, "--auto-approve", "--force"]);
        assert_eq!(
            run.code, 3,
            "B's name is a conflict:\n{}\n{}",
            run.stdout, run.stderr
        );
        assert!(run.stderr.contains("warning: `--force`"), "{}", run.stderr);
    });
    let tenant = project.tenant();
    assert_eq!(
        mailbox(&tenant, "support@fabrikam.com").display_name,
        "Help",
        "the value the later run set is left alone"
    );
    assert!(
        !send_as(&tenant, "support@fabrikam.com").contains(&"clara@fabrikam.com".to_owned()),
        "A's grant, which no later run touched, is reverted"
    );
    assert_eq!(
        mailbox(&tenant, "buchhaltung@fabrikam.com").display_name,
        "Finanzen",
        "C is untouched"
    );
    assert_eq!(records(&project, &forced)[0]["rollback_of"], a.as_str());
}

/// Rewrites the first line (the start record) of a journal.
fn edit_start(project: &Project, run_id: &str, edit: impl Fn(&mut serde_json::Value)) {
    let path = journal(project, run_id);
    let text = std::fs::read_to_string(&path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut start: serde_json::Value = serde_json::from_str(first).unwrap();
    edit(&mut start);
    std::fs::write(&path, format!("{start}\n{rest}")).unwrap();
}

#[test]
fn a_journal_of_another_backend_or_tenant_or_format_is_refused() {
    let project = project();
    let a = apply(&project);
    assert_eq!(records(&project, &a)[0]["backend"], "file");
    assert_eq!(records(&project, &a)[0]["format_version"], 2);
    let after_a = normalized(project.tenant());
    let journals = journal_count(&project);

    edit_start(&project, &a, |s| s["backend"] = "exchange-online".into());
    let other_backend = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(
        normalized(project.tenant()),
        after_a,
        "a journal of another backend writes nothing"
    );
    assert_eq!(other_backend.code, 1, "{}", other_backend.stdout);
    assert!(
        other_backend.stderr.contains(&format!(
            "run `{a}` changed a tenant of the `exchange-online` backend, but the configured tenant is of the `file` backend"
        )) && other_backend.stderr.contains("hint:"),
        "{}",
        other_backend.stderr
    );

    edit_start(&project, &a, |s| {
        s["backend"] = "file".into();
        s["tenant"] = "contoso.onmicrosoft.com".into();
    });
    let other_tenant = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(other_tenant.code, 1, "{}", other_tenant.stdout);
    assert!(
        other_tenant
            .stderr
            .contains("changed tenant `contoso.onmicrosoft.com`")
            && other_tenant.stderr.contains("hint:"),
        "{}",
        other_tenant.stderr
    );

    edit_start(&project, &a, |s| {
        s["tenant"] = "fabrikam.onmicrosoft.com".into();
        s.as_object_mut().unwrap().remove("format_version");
        s.as_object_mut().unwrap().remove("backend");
    });
    let old_format = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(old_format.code, 3, "{}", old_format.stdout);
    assert!(
        old_format.stderr.contains("has no `format_version`")
            && old_format.stderr.contains("hint:"),
        "{}",
        old_format.stderr
    );

    assert_eq!(normalized(project.tenant()), after_a, "nothing was written");
    assert_eq!(journal_count(&project), journals, "nothing was journaled");
}

#[test]
fn a_damaged_line_in_the_middle_of_a_journal_stops_the_rollback() {
    let project = project();
    let a = apply(&project);
    let after_a = normalized(project.tenant());
    let path = journal(&project, &a);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 4, "{text}");
    lines[1] = "{\"type\":\"intent\",\"step\":1,\"field\":";
    std::fs::write(&path, format!("{}\n", lines.join("\n"))).unwrap();

    let rollback = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(normalized(project.tenant()), after_a, "nothing was written");
    assert_eq!(journal_count(&project), 1, "nothing was journaled");
    assert_eq!(rollback.code, 3, "{}\n{}", rollback.stdout, rollback.stderr);
    assert!(
        rollback
            .stderr
            .contains(&format!("the journal of run `{a}` is damaged: line 2: "))
            && rollback.stderr.contains("hint: nothing was written"),
        "{}",
        rollback.stderr
    );

    let show = project.run(&["runs", "show", &a]);
    assert!(
        show.stdout.contains("DAMAGED") && show.stdout.contains("line 2: not a journal record"),
        "{}",
        show.stdout
    );
}

#[test]
fn a_journal_cut_off_by_a_crash_still_rolls_back() {
    let project = project();
    let before = normalized(project.tenant());
    let a = apply(&project);
    let path = journal(&project, &a);
    let text = std::fs::read_to_string(&path).unwrap();
    // A crash while the outcomes were written: the end record and half a line are lost.
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(lines.pop().unwrap()).unwrap()["type"],
        "end"
    );
    let last = lines.pop().unwrap();
    let cut = format!("{}\n{}", lines.join("\n"), &last[..last.len() / 2]);
    std::fs::write(&path, cut).unwrap();

    let rollback = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    assert!(
        rollback.stderr.contains(&format!(
            "the last line of the journal (line {}) was cut off by a crash",
            lines.len() + 1
        )),
        "{}",
        rollback.stderr
    );
    assert_eq!(
        normalized(project.tenant()),
        before,
        "the rollback restored"
    );
}

#[test]
fn empty_and_foreign_files_in_the_runs_folder_are_listed_as_damaged() {
    let project = project();
    let a = apply(&project);
    let runs_dir = project.path().join(".sharedbox/runs");
    std::fs::write(runs_dir.join("empty.jsonl"), "").unwrap();
    std::fs::write(runs_dir.join("foreign.jsonl"), "{\"hello\":\"world\"}\n").unwrap();

    let runs = project.run(&["runs"]);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    let line = |id: &str| {
        runs.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("`{id}` is listed:\n{}", runs.stdout))
            .to_owned()
    };
    assert!(
        line("empty").contains("DAMAGED") && line("empty").contains("the file is empty"),
        "{}",
        runs.stdout
    );
    assert!(
        line("foreign").contains("DAMAGED") && line("foreign").contains("line 1: "),
        "{}",
        runs.stdout
    );
    assert!(line(&a).contains("succeeded"), "{}", runs.stdout);
    assert!(
        runs.stderr.contains("2 damaged journals"),
        "{}",
        runs.stderr
    );

    let show = project.run(&["runs", "show", "foreign"]);
    assert_eq!(show.code, 1);
    assert!(
        show.stderr
            .contains("`foreign.jsonl` is not a readable journal: line 1: not a journal record")
            && show.stderr.contains("hint:"),
        "{}",
        show.stderr
    );
    let show = project.run(&["runs", "show", "empty"]);
    assert_eq!(show.code, 1);
    assert!(show.stderr.contains("the file is empty"), "{}", show.stderr);
    // A rollback of either is refused before anything is written.
    let rollback = project.run(&["rollback", "foreign", "--auto-approve"]);
    assert_eq!(rollback.code, 3, "{}", rollback.stderr);
}

#[test]
fn runs_shows_what_a_rollback_run_undid() {
    let project = project();
    let a = apply(&project);
    let steps = records(&project, &a)
        .iter()
        .filter(|r| r["type"] == "intent")
        .count();
    assert!(steps >= 2);
    let r = new_run(&project, || {
        assert_eq!(project.run(&["rollback", &a, "--auto-approve"]).code, 0);
    });
    let runs = project.run(&["runs"]);
    let row = runs
        .stdout
        .lines()
        .find(|l| l.starts_with(&r))
        .unwrap_or_else(|| panic!("{}", runs.stdout));
    assert!(
        row.contains(&format!(
            "{steps} undone, 0 unchanged, 0 left alone, 0 failed"
        )),
        "{row}"
    );
    assert!(row.contains(&format!("restored of {a}")), "{row}");
}

/// Edits the `displayName` intent of `run_id`'s journal; returns its line number.
fn forge_intent(project: &Project, run_id: &str, edit: impl Fn(&mut serde_json::Value)) -> usize {
    let path = journal(project, run_id);
    let mut lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = lines
        .iter()
        .position(|r| r["type"] == "intent" && r["field"] == "displayName")
        .unwrap();
    edit(&mut lines[at]);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    at + 1
}

#[test]
fn a_journal_whose_undo_writes_another_object_is_refused() {
    let project = project();
    let a = apply(&project);
    let after_a = normalized(project.tenant());
    let original = std::fs::read_to_string(journal(&project, &a)).unwrap();
    // A forged intent: undoing the rename of support would rename buchhaltung instead.
    let line = forge_intent(&project, &a, |intent| {
        intent["inverse"]["mailbox"] = "buchhaltung@fabrikam.com".into();
    });
    let rollback = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(
        normalized(project.tenant()),
        after_a,
        "nothing was written, buchhaltung keeps its name"
    );
    assert_eq!(rollback.code, 3, "{}\n{}", rollback.stdout, rollback.stderr);
    assert!(
        rollback
            .stderr
            .contains(&format!("line {line}: the `inverse` of step")),
        "{}",
        rollback.stderr
    );

    // A forged after-image: the rollback compares the live value with it.
    std::fs::write(journal(&project, &a), &original).unwrap();
    let line = forge_intent(&project, &a, |intent| {
        intent["expected"] = serde_json::json!({"kind": "text", "value": "Somebody Else"});
    });
    let rollback = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(normalized(project.tenant()), after_a, "nothing was written");
    assert_eq!(rollback.code, 3, "{}\n{}", rollback.stdout, rollback.stderr);
    assert!(
        rollback
            .stderr
            .contains(&format!("line {line}: the `expected` value of step")),
        "{}",
        rollback.stderr
    );
}

/// Rewrites client settings in `value` the way journal format 1 wrote them (`set_client`).
fn as_format_1(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let property = map
                .get("setting")
                .and_then(|s| s.get("property"))
                .and_then(|p| p.as_str())
                .map(str::to_owned);
            if map.get("op").and_then(|o| o.as_str()) == Some("set_mailbox")
                && let Some(property) = property
                && (property == "owa" || property == "smtp_client_authentication_disabled")
            {
                let value = map["setting"]["value"].clone();
                map.insert("op".into(), "set_client".into());
                map.insert(
                    "setting".into(),
                    if property == "owa" {
                        serde_json::json!({"switch": {"switch": "owa", "enabled": value}})
                    } else {
                        serde_json::json!({"smtp_client_authentication_disabled": value})
                    },
                );
            }
            map.values_mut().for_each(as_format_1);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(as_format_1),
        _ => {}
    }
}

#[test]
fn a_journal_of_format_1_with_client_settings_is_rolled_back() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nclients: {{owa: false, smtpAuth: disabled}}\n"
        ),
    );
    let before = normalized(project.tenant());
    let a = apply(&project);
    assert_ne!(normalized(project.tenant()), before);
    let path = journal(&project, &a);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"property\":\"owa\""), "{text}");
    let mut old = String::new();
    for line in text.lines() {
        let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
        if record.get("format_version").is_some() {
            record["format_version"] = 1.into();
        }
        as_format_1(&mut record);
        old.push_str(&format!("{record}\n"));
    }
    assert!(old.contains("\"set_client\""), "{old}");
    std::fs::write(&path, old).unwrap();
    let rollback = project.run(&["rollback", &a, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    assert_eq!(
        normalized(project.tenant()),
        before,
        "both settings restored"
    );
}
