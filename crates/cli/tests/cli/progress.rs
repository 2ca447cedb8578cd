//! Progress of long work (docs/formats.md, "Progress"): `progress` events with
//! `--json-lines` for reads, applies and verifications, counted up to their total; nothing
//! extra on a stderr that is not a terminal; long lists of mailboxes summarised.

use crate::common;

use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};

fn sim(project: &common::Project) -> SimHandle {
    SimServer::start(project.tenant(), SimConfig::default()).unwrap()
}

fn exo(project: &common::Project, sim: &SimHandle, args: &[&str]) -> common::Run {
    let mut all = vec!["--tenant", "exo:contoso.onmicrosoft.com"];
    all.extend_from_slice(args);
    common::run_with_env(
        project.path(),
        &all,
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
            ("SHAREDBOX_ACCESS_TOKEN", "sim-token-7f3a"),
        ],
    )
}

/// One `progress` event with counts.
#[derive(Debug)]
struct Counted {
    phase: String,
    done: u64,
    total: u64,
    elapsed: f64,
}

/// The `progress` events with counts, in order. Every stderr line must be JSON.
fn counted(stderr: &str) -> Vec<Counted> {
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .filter(|event| event["type"] == "progress" && event.get("phase").is_some())
        .map(|event| Counted {
            phase: event["phase"].as_str().unwrap().to_owned(),
            done: event["done"].as_u64().unwrap(),
            total: event["total"].as_u64().unwrap(),
            elapsed: event["elapsed"].as_f64().unwrap(),
        })
        .collect()
}

/// The runs of events of `phase`: each starts at `done` 0, counts up strictly with one
/// total, and its last event has `done == total`.
fn runs_of<'a>(events: &'a [Counted], phase: &str) -> Vec<Vec<&'a Counted>> {
    let mut runs: Vec<Vec<&Counted>> = Vec::new();
    for event in events.iter().filter(|e| e.phase == phase) {
        if event.done == 0 {
            runs.push(Vec::new());
        }
        runs.last_mut()
            .unwrap_or_else(|| panic!("a `{phase}` run does not start at 0: {events:?}"))
            .push(event);
    }
    for run in &runs {
        for pair in run.windows(2) {
            assert!(pair[0].done < pair[1].done, "not increasing: {run:?}");
            assert!(
                pair[0].elapsed <= pair[1].elapsed,
                "time runs back: {run:?}"
            );
            assert_eq!(pair[0].total, pair[1].total, "the total changed: {run:?}");
        }
        let last = run.last().unwrap();
        assert_eq!(
            last.done, last.total,
            "the last event is not complete: {run:?}"
        );
    }
    runs
}

#[test]
fn a_plan_over_the_wire_counts_the_mailboxes_it_reads() {
    let project = common::Project::demo();
    let sim = sim(&project);
    let plan = exo(
        &project,
        &sim,
        &["--json-lines", "plan", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    let events = counted(&plan.stderr);
    let reads = runs_of(&events, "read");
    assert_eq!(reads.len(), 1, "one read: {events:?}");
    let policies = std::fs::read_dir(project.path().join("policies"))
        .unwrap()
        .filter(|e| {
            let text = std::fs::read_to_string(e.as_ref().unwrap().path()).unwrap();
            text.contains("kind: SharedMailbox")
        })
        .count() as u64;
    assert_eq!(
        reads[0].last().unwrap().total,
        policies,
        "one unit per managed mailbox: {events:?}"
    );
    assert!(events.iter().all(|e| e.phase == "read"), "{events:?}");
}

#[test]
fn an_apply_over_the_wire_counts_its_steps_and_its_verification() {
    let project = common::Project::demo();
    let sim = sim(&project);
    let applied = exo(&project, &sim, &["--json-lines", "apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let events = counted(&applied.stderr);
    let steps = applied
        .stderr
        .lines()
        .filter(|l| l.contains(r#""type":"step_succeeded""#))
        .count() as u64;
    assert!(steps > 5, "{}", applied.stderr);
    let apply = runs_of(&events, "apply");
    assert_eq!(apply.len(), 1, "{events:?}");
    assert_eq!(apply[0].last().unwrap().total, steps);
    assert!(!runs_of(&events, "read").is_empty(), "{events:?}");
    assert!(!runs_of(&events, "verify").is_empty(), "{events:?}");
    // The plan's read comes first, the verification after the last step.
    let phases: Vec<&str> = events.iter().map(|e| e.phase.as_str()).collect();
    let first_apply = phases.iter().position(|p| *p == "apply").unwrap();
    let first_verify = phases.iter().position(|p| *p == "verify").unwrap();
    let last_apply = phases.iter().rposition(|p| *p == "apply").unwrap();
    assert_eq!(phases[0], "read", "{phases:?}");
    assert!(
        first_apply < first_verify && last_apply < first_verify,
        "{phases:?}"
    );
}

const SUPPORT: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\ndisplayName: Support Team\nsendAs: [clara@fabrikam.com]\nfullAccess:\n  - principal: clara@fabrikam.com\n    autoMapping: false\n";

#[test]
fn a_failed_apply_counts_its_automatic_rollback() {
    let project = common::Project::with_tenant(&format!(
        "{}simulation:\n  failOnWrite: 3\n",
        common::TENANT
    ));
    project.policy("support.yaml", SUPPORT);
    let applied = project.run(&["--json-lines", "apply", "--auto-approve"]);
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    let events = counted(&applied.stderr);
    // The apply phase ends at the failed third step of seven (its last event says so).
    let apply: Vec<&Counted> = events.iter().filter(|e| e.phase == "apply").collect();
    assert_eq!(apply.first().map(|e| e.done), Some(0), "{events:?}");
    assert_eq!(
        apply.last().map(|e| (e.done, e.total)),
        Some((3, 7)),
        "{events:?}"
    );
    // The rollback decides on the three steps that ran.
    let rollback = runs_of(&events, "rollback");
    assert_eq!(rollback.len(), 1, "{events:?}");
    assert_eq!(rollback[0].last().unwrap().total, 3, "{events:?}");
}

#[test]
fn a_rollback_counts_its_steps() {
    let project = common::Project::new();
    project.policy("support.yaml", SUPPORT);
    let run = common::new_run(&project, || {
        assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    });
    let rolled = project.run(&["--json-lines", "rollback", &run, "--auto-approve"]);
    assert_eq!(rolled.code, 0, "{}", rolled.stderr);
    let events = counted(&rolled.stderr);
    let rollback = runs_of(&events, "rollback");
    assert_eq!(rollback.len(), 1, "{events:?}");
    let undone = rolled
        .stderr
        .lines()
        .filter(|l| l.contains(r#""type":"step_undone""#))
        .count() as u64;
    assert!(undone >= 3, "{}", rolled.stderr);
    assert_eq!(rollback[0].last().unwrap().total, undone);
}

#[test]
fn without_a_terminal_and_without_json_lines_stderr_shows_no_progress() {
    let project = common::Project::demo();
    let sim = sim(&project);
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    // No bar (indicatif redraws with carriage returns and escape sequences), no counts.
    assert!(!applied.stderr.contains('\r'), "{:?}", applied.stderr);
    assert!(!applied.stderr.contains('\u{1b}'), "{:?}", applied.stderr);
    assert!(!applied.stderr.contains(" left)"), "{}", applied.stderr);
    assert!(!applied.stderr.contains("\"phase\""), "{}", applied.stderr);
    // Today's lines, one per step, are still there.
    assert!(applied.stderr.contains("  [1/"), "{}", applied.stderr);
}

#[test]
fn waiting_for_many_new_mailboxes_names_a_few_and_counts_the_rest() {
    let project = common::Project::new();
    let count = 300;
    let policies: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: team{i:04}@fabrikam.com\nsignIn: blocked\n"
            )
        })
        .collect();
    project.policy("teams.yaml", &policies.join("---\n"));
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(
        project
            .tenant()
            .mailboxes
            .iter()
            .filter(|m| m.primary_smtp_address.starts_with("team"))
            .count(),
        count
    );
    let waiting: Vec<&str> = applied
        .stderr
        .lines()
        .filter(|l| l.contains("waiting until"))
        .collect();
    assert_eq!(
        waiting,
        [
            "  waiting until team0000@fabrikam.com, team0001@fabrikam.com, team0002@fabrikam.com, team0003@fabrikam.com, team0004@fabrikam.com and 295 more can be read ..."
        ]
    );

    // The event's message is as short; its `mailboxes` field keeps the whole list for
    // programs.
    let project = common::Project::new();
    project.policy("teams.yaml", &policies.join("---\n"));
    let applied = project.run(&["--json-lines", "apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let waiting: Vec<serde_json::Value> = applied
        .stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "waiting")
        .collect();
    assert_eq!(waiting.len(), 1, "{}", applied.stderr);
    assert!(
        waiting[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("and 295 more can be read"),
        "{}",
        waiting[0]["message"]
    );
    assert_eq!(waiting[0]["mailboxes"].as_array().unwrap().len(), count);
}
