//! Safe apply (README, "Safe apply"): journal, automatic and manual rollback, saved plans, locks.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{Project, TENANT, mailbox, normalized};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// A multi-mailbox plan without orphans (their revocation cannot be undone): a create,
/// properties, grants and revocations on two existing mailboxes, and a tenant setting.
fn project_with_plan(simulation: &str) -> Project {
    let project = Project::with_tenant(&format!("{TENANT}{simulation}"));
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\ndisplayName: Support Team\nsentItems: {{copyForSendAs: true}}\nsendAs: [clara@fabrikam.com]\nsendOnBehalf: [david@fabrikam.com]\nclients: {{imap: false, smtpAuth: disabled}}\nmoderation: {{enabled: true, moderators: [david@fabrikam.com]}}\nsentItemsReaders: [{{principal: clara@fabrikam.com, access: Editor}}]\n"),
    );
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nfullAccess: [{{principal: anna@fabrikam.com}}]\n"));
    project.policy(
        "neu.yaml",
        &format!("{HEADER}mailbox: neu@fabrikam.com\nsendAs: [helpdesk@fabrikam.com]\n"),
    );
    project.policy(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
    );
    project
}

fn journals(project: &Project) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(project.path().join(".sharedbox/runs"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn records(path: &PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn count(records: &[serde_json::Value], kind: &str) -> usize {
    records.iter().filter(|r| r["type"] == kind).count()
}

#[test]
fn a_failure_at_any_step_leaves_the_tenant_exactly_as_before() {
    let probe = project_with_plan("");
    let plan = probe.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("Plan: 1 to create, 11 to change, 4 to revoke."),
        "{}",
        plan.stdout
    );
    let steps = 17;
    let before = normalized(probe.tenant());
    for fail_at in 1..=steps {
        let project = project_with_plan(&format!("simulation:\n  failOnWrite: {fail_at}\n"));
        let run = project.run(&["apply", "--auto-approve"]);
        assert_eq!(
            run.code, 1,
            "failure at step {fail_at}:\n{}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stdout.contains("Apply failed at step "),
            "step {fail_at}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("The tenant is as it was before the run."),
            "step {fail_at}:\n{}",
            run.stdout
        );
        assert_eq!(
            normalized(project.tenant()),
            before,
            "tenant after a failure at step {fail_at}"
        );
        let journal = journals(&project);
        assert_eq!(journal.len(), 1);
        let records = records(&journal[0]);
        // Steps on different mailboxes are sent together in rounds, so the steps of the
        // failing write's round were attempted too; nothing after that round was.
        let attempted = count(&records, "intent");
        assert!(attempted >= fail_at, "write {fail_at} was attempted");
        assert_eq!(
            count(&records, "outcome"),
            attempted,
            "every attempted step has an outcome"
        );
        assert_eq!(
            count(&records, "undo"),
            attempted,
            "every attempted step has an undo decision"
        );
        let failed = records
            .iter()
            .filter(|r| r["type"] == "outcome" && r["ok"] == false)
            .count();
        assert_eq!(failed, 1, "exactly the simulated write failed");
        let reverted = records
            .iter()
            .filter(|r| r["type"] == "undo" && r["status"] == "reverted")
            .count();
        assert_eq!(reverted, attempted - 1, "every completed step was reverted");
        assert_eq!(records.last().unwrap()["outcome"], "rolled_back");
    }
}

#[test]
fn a_killed_apply_is_rolled_back_from_its_journal() {
    let project = project_with_plan("simulation:\n  writeDelayMs: 150\n");
    let before = normalized(project.tenant());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharedbox"))
        .current_dir(project.path())
        .args(["apply", "--auto-approve"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = journals(&project)
            .first()
            .map(|j| count(&records(j), "outcome"))
            .unwrap_or(0);
        if done >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the apply did not get going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let journal = journals(&project);
    let run_id = journal[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        records(&journal[0]).iter().all(|r| r["type"] != "end"),
        "a killed run has no end record"
    );
    assert_ne!(
        normalized(project.tenant()),
        before,
        "the killed run changed something"
    );
    assert!(
        project
            .path()
            .join(".sharedbox/locks/fabrikam.onmicrosoft.com.lock")
            .exists(),
        "the dead run's lock is left behind"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(
            project
                .path()
                .join(".sharedbox/locks/fabrikam.onmicrosoft.com.lock"),
        )
        .unwrap()
        .permissions()
        .mode();
        assert_eq!(mode & 0o777, 0o600, "the lock file names who holds it");
    }

    let runs = project.run(&["runs"]);
    assert!(
        runs.stdout.contains(&run_id) && runs.stdout.contains("unfinished (crashed?)"),
        "{}",
        runs.stdout
    );

    let rollback = project.run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    assert_eq!(
        normalized(project.tenant()),
        before,
        "rollback restores the before-state"
    );

    // The rollback's journal announces each undo write before sending it, as an apply does.
    let rollback_journal = journals(&project)
        .into_iter()
        .find(|j| records(j)[0]["rollback_of"] == run_id.as_str())
        .expect("the rollback's journal");
    let rolled = records(&rollback_journal);
    let reverted: Vec<&serde_json::Value> = rolled
        .iter()
        .filter(|r| r["type"] == "undo" && r["status"] == "reverted")
        .collect();
    assert!(!reverted.is_empty());
    for undo in reverted {
        let at = rolled.iter().position(|r| r == undo).unwrap();
        assert!(
            rolled[..at]
                .iter()
                .any(|r| r["type"] == "undo_intent" && r["step"] == undo["step"]),
            "undo of step {} has no intent before it",
            undo["step"]
        );
    }

    let again = project.run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let rollback_id = rollback_journal
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        again.stdout.contains(&format!(
            "Nothing to roll back: run `{run_id}` was already rolled back in run `{rollback_id}`."
        )),
        "{}",
        again.stdout
    );
    assert_eq!(
        journals(&project).len(),
        2,
        "a second rollback of a rolled-back run journals nothing"
    );
    assert_eq!(normalized(project.tenant()), before);
    let runs = project.run(&["runs"]);
    assert!(runs.stdout.contains("rolled back by"), "{}", runs.stdout);
}

#[test]
fn a_saved_plan_applies_once_and_only_while_nothing_changed() {
    let project = project_with_plan("");
    let plan = project.run(&["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("saved the plan to `plan.json`"),
        "{}",
        plan.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(project.path().join("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "plan files hold principals: owner only"
        );
    }
    let show = project.run(&["show", "plan.json"]);
    assert_eq!(show.code, 0);
    assert!(
        show.stdout.contains("for `fabrikam.onmicrosoft.com`")
            && show
                .stdout
                .contains("Plan: 1 to create, 11 to change, 4 to revoke."),
        "{}",
        show.stdout
    );

    // Someone changes a touched mailbox by hand: the plan is stale, nothing is written.
    let original = project.tenant_text();
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .hidden_from_address_lists_enabled = true;
    project.write_tenant(&tenant);
    let edited = project.tenant_text();
    let run = project.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("mailbox `buchhaltung@fabrikam.com` changed since the plan was made"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is stale: 1 object changed"),
        "{}",
        run.stderr
    );
    assert_eq!(project.tenant_text(), edited, "a stale plan writes nothing");
    assert!(journals(&project).is_empty(), "no run was started");

    // A change elsewhere does not block it; an untouched tenant applies it, once.
    std::fs::write(project.path().join("tenant.yaml"), &original).unwrap();
    let run = project.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        project.run(&["plan", "--detailed-exitcode"]).code == 0,
        "the saved plan converged the tenant"
    );
    let run = project.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("was already applied in run"),
        "{}",
        run.stderr
    );

    // A tampered plan is refused.
    let text = std::fs::read_to_string(project.path().join("plan.json")).unwrap();
    std::fs::write(
        project.path().join("tampered.json"),
        text.replace("Support Team", "Evil Team"),
    )
    .unwrap();
    let run = project.run(&["apply", "tampered.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("was modified after it was saved"),
        "{}",
        run.stderr
    );

    // A plan for another tenant is refused.
    let other = project_with_plan("");
    assert_eq!(other.run(&["plan", "--out", "plan.json"]).code, 0);
    let mut tenant = other.tenant();
    tenant.organization.name = "contoso.onmicrosoft.com".into();
    other.write_tenant(&tenant);
    let run = other.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is for tenant `fabrikam.onmicrosoft.com`, but the configured tenant is `contoso.onmicrosoft.com`"), "{}", run.stderr);
}

#[test]
fn concurrent_applies_take_turns() {
    let project = project_with_plan("simulation:\n  writeDelayMs: 100\n");
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharedbox"))
        .current_dir(project.path())
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = project
        .path()
        .join(".sharedbox/locks/fabrikam.onmicrosoft.com.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.exists() {
        assert!(
            Instant::now() < deadline,
            "the first apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = project.run(&["apply", "--auto-approve"]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("tenant `fabrikam.onmicrosoft.com` is locked by run"),
        "{}",
        second.stderr
    );
    let waiting = project.run(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    assert_eq!(
        waiting.code, 0,
        "the waiting apply runs after the first: {}",
        waiting.stderr
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(
        project.run(&["plan", "--detailed-exitcode"]).code,
        0,
        "the tenant ends consistent"
    );
    assert!(!lock.exists(), "locks are released");
}

#[test]
fn rollback_leaves_values_changed_by_someone_else_alone() {
    let project = project_with_plan("");
    let before = normalized(project.tenant());
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    let run_id = journals(&project)[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // After the run, someone renames the mailbox the run renamed.
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "support")
        .unwrap()
        .display_name = "Helpdesk".into();
    project.write_tenant(&tenant);

    let rollback = project.run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(
        rollback.code, 3,
        "a conflict leaves the rollback incomplete:\n{}\n{}",
        rollback.stdout, rollback.stderr
    );
    assert!(rollback.stdout.contains("displayName: CONFLICT, left alone (changed by someone else since: now \"Helpdesk\", the run set \"Support Team\")"), "{}", rollback.stdout);
    let after = project.tenant();
    assert_eq!(
        mailbox(&after, "support@fabrikam.com").display_name,
        "Helpdesk",
        "the conflicting value is left alone"
    );
    let mut expected = before.clone();
    expected
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "support")
        .unwrap()
        .display_name = "Helpdesk".into();
    assert_eq!(normalized(after), expected, "everything else is restored");

    let again = project.run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(again.code, 3, "the conflict is still reported");
    assert!(
        again.stdout.contains("0 reverted"),
        "the second rollback changes nothing: {}",
        again.stdout
    );
    let show = project.run(&["runs", "show", &run_id]);
    assert!(
        show.stdout
            .contains("step 1: neu@fabrikam.com: + displayName = ")
            && show.stdout.contains("ended"),
        "{}",
        show.stdout
    );
}

#[test]
fn orphan_revocations_are_reported_as_irreversible() {
    let project = Project::with_tenant(&format!("{TENANT}simulation:\n  failOnWrite: 3\n"));
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess: [{{principal: anna@fabrikam.com}}]\nsendAs: [anna@fabrikam.com]\nsentItemsReaders: []\n"));
    let run = project.run(&["apply", "--auto-approve", "--max-removals", "5"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("1 that cannot be undone"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the revoked principal was orphaned"),
        "{}",
        run.stdout
    );
}

#[test]
fn verification_waits_for_replication_and_says_what_is_not_visible_yet() {
    // Each read after a write shows the old state 3 times: verification polls past it, every
    // 10 ms here (the timing itself is tested on paused time in the applier's unit tests).
    let project = Project::with_tenant(&format!("{TENANT}simulation:\n  visibilityLagReads: 3\n"));
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}\n"));
    let started = Instant::now();
    let run = project.run(&[
        "apply",
        "--auto-approve",
        "--verify-timeout",
        "30s",
        "--verify-interval",
        "10ms",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "`--verify-interval` sets the pause between reads: {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("verified: the tenant shows all 2 changes"),
        "{}",
        run.stderr
    );

    // With a lag longer than the verification may wait: applied, not yet visible; not a failure.
    let project = Project::with_tenant(&format!(
        "{TENANT}simulation:\n  visibilityLagReads: 1000\n"
    ));
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\n"),
    );
    let run = project.run(&["apply", "--auto-approve", "--verify-timeout", "0s"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("applied, not yet visible: 1 of 1 change do not show yet"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Set-Mailbox support@fabrikam.com sentItems.copyForSendAs"),
        "{}",
        run.stderr
    );
    assert!(
        project.tenant().mailboxes[0].message_copy_for_sent_as_enabled,
        "the write itself happened"
    );
}
