//! The text a person reads, under `insta` snapshots: `apply` (plan, steps, summary), a failed
//! `apply` and its automatic rollback, a manual `rollback`, `runs` and `runs show`, and the
//! rendering of policy errors by `validate`. Volatile parts (run ids, times, process ids) are
//! replaced by filters with placeholders of the same width (the `runs` table keeps its
//! columns); each run keeps a name of its own so that the snapshots show which run refers to
//! which. The tenant end state and the exit codes are asserted besides.

use crate::common::{self, Project, Run, normalized, send_as};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// Runs `sharedbox` as user `tester` on host `testhost`, outside any CI system, so that the
/// actor the journal records is the same everywhere.
fn run(project: &Project, args: &[&str]) -> Run {
    common::run_with_env(
        project.path(),
        args,
        &[
            ("USER", "tester"),
            ("HOSTNAME", "testhost"),
            // Empty counts as unset.
            ("CI", ""),
            ("GITHUB_ACTIONS", ""),
            ("TF_BUILD", ""),
            ("GITLAB_CI", ""),
        ],
    )
}

/// Exit code, standard output and standard error of a run, as one text.
fn transcript(run: &Run) -> String {
    format!(
        "exit code: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Snapshot settings: the runs in `named` by their name (padded with `~` to the width of a
/// run id), any other run id as `YYYYMMDDTHHMMSSZ-xxxxxx`, times as `YYYY-MM-DDTHH:MM:SSZ`
/// (with `.nnnnnnnnn` where they have fractions), process ids as `[PID]`.
fn settings(named: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (id, name) in named {
        // A run id is digits, capitals and `-`: no regex metacharacter.
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        settings.add_filter(id, format!("{name:~<width$}", width = id.len()));
    }
    settings.add_filter(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b", "YYYYMMDDTHHMMSSZ-xxxxxx");
    settings.add_filter(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z",
        "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ",
    );
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDTHH:MM:SSZ");
    settings.add_filter(r"pid \d+", "pid [PID]");
    settings
}

/// The support mailbox renamed, Clara given SendAs and Anna's and Ben's taken away.
fn support_project() -> Project {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\ndisplayName: Support Team\nsendAs: [clara@fabrikam.com]\n"
        ),
    );
    project
}

#[test]
fn an_apply_its_rollback_and_the_runs_as_a_person_reads_them() {
    let project = support_project();
    let before = normalized(project.tenant());

    let mut applied = None;
    let apply_id = common::new_run(&project, || {
        applied = Some(run(&project, &["apply", "--auto-approve"]));
    });
    let applied = applied.unwrap();
    assert_eq!(applied.code, 0, "{}", transcript(&applied));
    let tenant = project.tenant();
    assert_eq!(
        send_as(&tenant, "support@fabrikam.com"),
        ["clara@fabrikam.com"]
    );
    assert_eq!(
        common::mailbox(&tenant, "support@fabrikam.com").display_name,
        "Support Team"
    );

    // `runs` lists runs by their start time (to the nanosecond), not by id: the rollback,
    // started within the same second, still comes second.
    let mut rolled_back = None;
    let rollback_id = common::new_run(&project, || {
        rolled_back = Some(run(&project, &["rollback", &apply_id, "--auto-approve"]));
    });
    let rolled_back = rolled_back.unwrap();
    assert_eq!(rolled_back.code, 0, "{}", transcript(&rolled_back));
    assert_eq!(normalized(project.tenant()), before, "restored");

    let runs = run(&project, &["runs"]);
    assert_eq!(runs.code, 0, "{}", transcript(&runs));
    let show = run(&project, &["runs", "show", &rollback_id]);
    assert_eq!(show.code, 0, "{}", transcript(&show));

    settings(&[(&apply_id, "APPLY-RUN"), (&rollback_id, "ROLLBACK-RUN")]).bind(|| {
        insta::assert_snapshot!("apply", transcript(&applied));
        insta::assert_snapshot!("rollback", transcript(&rolled_back));
        insta::assert_snapshot!("runs_after_apply_and_rollback", runs.stdout);
        insta::assert_snapshot!("runs_show_rollback", show.stdout);
    });
}

#[test]
fn a_failed_apply_says_where_it_stopped_and_what_it_rolled_back() {
    // As in `plan_apply`: Exchange refuses SendAs for a distribution group at step 2; the copy
    // flag of step 1 is undone and the revocation of Ben's SendAs never runs.
    let project = Project::new();
    let before = project.tenant();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com, all-staff@fabrikam.com]\nlints: {{SBX204: off}}\n"
        ),
    );
    let mut failed = None;
    let id = common::new_run(&project, || {
        failed = Some(run(&project, &["apply", "--auto-approve"]));
    });
    let failed = failed.unwrap();
    assert_eq!(failed.code, 1, "{}", transcript(&failed));
    assert_eq!(project.tenant(), before, "the tenant is exactly as before");

    settings(&[(&id, "APPLY-RUN")]).bind(|| {
        insta::assert_snapshot!("apply_failed_and_rolled_back", transcript(&failed));
    });
}

#[test]
fn validate_renders_each_error_at_its_source() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy(
        "a.yaml",
        &format!("{HEADER}mailbox: a@fabrikam.com\nsendas: [anna@fabrikam.com]\n"),
    );
    project.policy(
        "b.yaml",
        &format!("{HEADER}mailbox: b@fabrikam.com\nhiddenFromAddressLists: yes\n"),
    );
    let validated = run(&project, &["validate"]);
    assert_eq!(validated.code, 1);
    assert_eq!(project.tenant_text(), before);
    insta::assert_snapshot!("validate_errors", transcript(&validated));
}
