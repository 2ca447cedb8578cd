//! `apply --heal`: the scheduled self-heal applies drift only, judged against the policy
//! commit the last successful apply recorded in its journal; a merged policy change that is
//! not applied yet refuses the run (exit 4) and the tenant is left alone.

use crate::common::{Project, mailbox, new_run, run_ids, run_with_env, send_as};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";
const LOCK: &str = ".sharedbox/locks/fabrikam.onmicrosoft.com.lock";

/// `buchhaltung` renamed (the first apply has a change to make), with the copy flag on, IMAP
/// off and Send As for David, as a policy.
fn buchhaltung(extra: &str) -> String {
    format!(
        "{HEADER}mailbox: buchhaltung@fabrikam.com\ndisplayName: Buchhaltung Team\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false}}\nsendAs: [david@fabrikam.com]\n{extra}"
    )
}

/// A git repository on `main` whose policies were applied by `apply` (the merge pipeline):
/// the journal records the commit.
fn applied_project() -> Project {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &buchhaltung(""));
    std::fs::write(project.path().join(".gitignore"), ".sharedbox/\n").unwrap();
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    project
}

/// The `HEAD` commit.
fn head(project: &Project) -> String {
    let out = std::process::Command::new("git")
        .current_dir(project.path())
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The start record of the journal of `run_id`.
fn start(project: &Project, run_id: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(
        project
            .path()
            .join(format!(".sharedbox/runs/{run_id}.jsonl")),
    )
    .unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// Someone switches the copy flag of `buchhaltung` off by hand.
fn drift_copy_flag(project: &Project) {
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .message_copy_for_sent_as_enabled = false;
    project.write_tenant(&tenant);
}

/// A policy change merged into `main` (its apply job has not run).
fn merge_pop(project: &Project) {
    project.git(&["checkout", "-q", "-b", "pop"]);
    project.policy(
        "buchhaltung.yaml",
        &buchhaltung("").replace("imap: false", "imap: false, pop: true"),
    );
    project.git(&["commit", "-q", "-am", "POP for buchhaltung"]);
    project.git(&["checkout", "-q", "main"]);
    project.git(&["merge", "-q", "--no-ff", "-m", "merge pop", "pop"]);
}

fn copy_flag(project: &Project) -> bool {
    mailbox(&project.tenant(), "buchhaltung@fabrikam.com").message_copy_for_sent_as_enabled
}

#[test]
fn the_apply_journal_records_the_policy_commit_it_applied() {
    let project = applied_project();
    let ids: Vec<String> = run_ids(&project).into_iter().collect();
    assert_eq!(ids.len(), 1);
    let record = start(&project, &ids[0]);
    assert_eq!(record["policy_commit"], head(&project), "{record}");
    assert!(record.get("heal").is_none(), "{record}");
    // A targeted apply applies only a part: it records no commit.
    drift_copy_flag(&project);
    let run_id = new_run(&project, || {
        let run = project.run(&[
            "apply",
            "--auto-approve",
            "--target",
            "buchhaltung@fabrikam.com",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    });
    assert!(start(&project, &run_id).get("policy_commit").is_none());
    // The reviewed plan of the apply pipeline, when it holds every change: recorded.
    drift_copy_flag(&project);
    let plan = project.run(&["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let run_id = new_run(&project, || {
        let run = project.run(&["apply", "plan.json", "--auto-approve"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    });
    assert_eq!(start(&project, &run_id)["policy_commit"], head(&project));
}

#[test]
fn pure_drift_is_healed_and_journaled() {
    let project = applied_project();
    let applied = head(&project);
    // A commit that does not touch the policies: still the applied policies.
    std::fs::write(project.path().join("README.md"), "notes\n").unwrap();
    project.git(&["add", "README.md"]);
    project.git(&["commit", "-q", "-m", "docs"]);
    drift_copy_flag(&project);
    assert!(!copy_flag(&project));
    let summary = project.path().join("summary.md");
    let mut heal = None;
    let run_id = new_run(&project, || {
        heal = Some(run_with_env(
            project.path(),
            &["apply", "--heal", "--auto-approve"],
            &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
        ));
    });
    let heal = heal.unwrap();
    assert_eq!(heal.code, 0, "{}", heal.stderr);
    assert!(copy_flag(&project), "the drift is healed");
    assert!(
        heal.stdout
            .contains("~ sentItems.copyForSendAs = false -> true  # drift"),
        "{}",
        heal.stdout
    );
    assert!(
        heal.stdout.contains(&format!(
            "Healed 1 drifted change on `fabrikam.onmicrosoft.com` (run `{run_id}`): the tenant is back at the policies of commit `{}`.",
            &head(&project)[..12]
        )),
        "{}",
        heal.stdout
    );
    let record = start(&project, &run_id);
    assert_eq!(record["heal"], true);
    assert_eq!(record["policy_commit"], head(&project));
    assert_eq!(record["steps"], 1);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains(&format!(
            "### sharedbox heal on `fabrikam.onmicrosoft.com` (run `{run_id}`)"
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("**Healed 1 drifted change** back to the policies of commit `{}` (drift from the policies of commit `{}`, applied in run `", &head(&project)[..12], &applied[..12])),
        "{summary}"
    );
    assert!(
        summary.contains(
            "| `buchhaltung@fabrikam.com` | `sentItems.copyForSendAs` | `false` | `true` | drift |"
        ),
        "{summary}"
    );
    let runs = project.run(&["runs"]);
    let line = runs
        .stdout
        .lines()
        .find(|l| l.starts_with(&run_id))
        .unwrap();
    assert!(line.contains(" heal ") && line.contains("1 ok"), "{line}");
    // The next heal finds nothing.
    let again = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains(
            "Nothing to heal: the tenant `fabrikam.onmicrosoft.com` matches the policies of commit"
        ),
        "{}",
        again.stdout
    );
}

#[test]
fn nothing_to_heal_exits_0_and_journals_nothing() {
    let project = applied_project();
    let before = run_ids(&project);
    let heal = project.run(&["apply", "--heal", "--auto-approve", "--format", "json"]);
    assert_eq!(heal.code, 0, "{}", heal.stderr);
    let result: serde_json::Value = serde_json::from_str(&heal.stdout).unwrap();
    assert_eq!(result["outcome"], "nothing_to_do");
    assert_eq!(result["run_id"], serde_json::Value::Null);
    assert_eq!(result["heal"]["commit"], head(&project));
    assert_eq!(result["heal"]["changes"], serde_json::json!([]));
    assert_eq!(run_ids(&project), before, "no journal for nothing");
    let markdown = project.run(&["apply", "--heal", "--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(
        markdown.stdout.contains(&format!(
            "**Nothing to heal.** The tenant matches the policies of commit `{}`.",
            &head(&project)[..12]
        )),
        "{}",
        markdown.stdout
    );
}

#[test]
fn a_merged_policy_change_not_applied_yet_is_refused() {
    let project = applied_project();
    merge_pop(&project);
    let before = project.tenant_text();
    let runs = run_ids(&project);
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 4, "{heal:?}");
    assert!(
        heal.stderr.contains("error: refusing to heal: 1 of the plan's 1 changes is not drift: the policies call for a change the last apply (run `"),
        "{}",
        heal.stderr
    );
    assert!(
        heal.stderr.contains(
            "  - buchhaltung@fabrikam.com clients.pop true (policy change not applied yet)"
        ),
        "{}",
        heal.stderr
    );
    assert!(
        heal.stderr.contains(
            "hint: nothing was changed; a merged policy change is applied by the merge pipeline"
        ),
        "{}",
        heal.stderr
    );
    assert_eq!(project.tenant_text(), before, "the tenant is untouched");
    assert_eq!(run_ids(&project), runs, "nothing is journaled");
    assert!(!project.path().join(LOCK).exists(), "the lock is released");
    // The merge pipeline applies it; then the heal has nothing left.
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 0, "{}", heal.stderr);
    assert!(heal.stdout.contains("Nothing to heal"), "{}", heal.stdout);
}

/// Git alone would call an older unapplied merge drift: on `main` `plan` labels against the
/// commit before the last policy change. The heal judges against the journal instead.
#[test]
fn an_older_unapplied_merge_is_not_drift_to_the_heal() {
    let project = applied_project();
    merge_pop(&project);
    // A later policy commit that changes nothing in the tenant.
    project.policy("zz-notes.yaml", "# notes only\n");
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "notes"]);
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("~ clients.pop = false -> true  # drift"),
        "git's label calls the unapplied merge drift: {}",
        plan.stdout
    );
    let before = project.tenant_text();
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 4, "{heal:?}");
    assert!(
        heal.stdout
            .contains("~ clients.pop = false -> true  # policy change"),
        "{}",
        heal.stdout
    );
    assert_eq!(project.tenant_text(), before);
}

#[test]
fn drift_mixed_with_a_policy_change_is_refused_whole() {
    let project = applied_project();
    merge_pop(&project);
    drift_copy_flag(&project);
    let before = project.tenant_text();
    let heal = project.run(&["apply", "--heal", "--auto-approve", "--format", "json"]);
    assert_eq!(heal.code, 4, "{heal:?}");
    assert_eq!(
        project.tenant_text(),
        before,
        "not even the drift is healed"
    );
    let result: serde_json::Value = serde_json::from_str(&heal.stdout).unwrap();
    assert_eq!(result["outcome"], "refused");
    assert_eq!(result["run_id"], serde_json::Value::Null);
    let changes = result["heal"]["changes"].as_array().unwrap();
    let causes: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["cause"].as_str().unwrap()))
        .collect();
    assert_eq!(
        causes,
        [
            ("sentItems.copyForSendAs", "drift"),
            ("clients.pop", "policy_change")
        ]
    );
    assert!(
        result["heal"]["refusal"]
            .as_str()
            .unwrap()
            .contains("1 of the plan's 2 changes is not drift"),
        "{result}"
    );
    let applied = result["heal"]["applied_commit"].as_str().unwrap();
    assert_ne!(applied, head(&project));
    let markdown = project.run(&["apply", "--heal", "--auto-approve", "--format", "markdown"]);
    assert_eq!(markdown.code, 4);
    assert!(
        markdown
            .stdout
            .contains("**Heal refused; nothing was changed.** refusing to heal: 1 of the plan's 2 changes is not drift"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown.stdout.contains(
            "| `buchhaltung@fabrikam.com` | `clients.pop` | `false` | `true` | **policy change not applied yet** |"
        ),
        "{}",
        markdown.stdout
    );
}

#[test]
fn removals_over_the_limit_are_refused() {
    let project = applied_project();
    // Two grants added by hand: healing revokes both.
    let mut tenant = project.tenant();
    let mailbox = tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap();
    for trustee in ["anna.berg@fabrikam.onmicrosoft.com", "ben@fabrikam.com"] {
        let mut row = mailbox.recipient_permissions[0].clone();
        row.trustee = trustee.to_owned();
        mailbox.recipient_permissions.push(row);
    }
    project.write_tenant(&tenant);
    let before = project.tenant_text();
    let heal = project.run(&["apply", "--heal", "--auto-approve", "--max-removals", "1"]);
    assert_eq!(heal.code, 1, "{heal:?}");
    assert!(
        heal.stderr.contains(
            "refusing to heal: the plan takes away 2 grants (revocations and grants on deleted mailboxes), more than the limit of 1"
        ),
        "{}",
        heal.stderr
    );
    assert_eq!(project.tenant_text(), before);
    let heal = project.run(&[
        "apply",
        "--heal",
        "--auto-approve",
        "--max-removals",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(heal.code, 0, "{}", heal.stderr);
    let result: serde_json::Value = serde_json::from_str(&heal.stdout).unwrap();
    assert_eq!(result["outcome"], "succeeded");
    assert_eq!(result["applied"], 2);
    assert_eq!(result["heal"]["refusal"], serde_json::Value::Null);
    let changes = result["heal"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{result}");
    assert!(
        changes.iter().all(|c| c["cause"] == "drift"
            && c["cmdlet"] == "Remove-RecipientPermission"
            && c["field"] == "sendAs"),
        "{result}"
    );
    assert_eq!(
        send_as(&project.tenant(), "buchhaltung@fabrikam.com"),
        ["david@fabrikam.com"]
    );
}

#[test]
fn a_held_lock_stops_the_heal() {
    let project = applied_project();
    drift_copy_flag(&project);
    // Another run of this host holds the lock (this test process: alive).
    let holder = sharedbox_applier::LockInfo {
        run_id: "20261130T000000Z-other".to_owned(),
        operation: "apply".to_owned(),
        actor: sharedbox_applier::Actor::current(),
        since: sharedbox_applier::now_rfc3339(),
    };
    std::fs::create_dir_all(project.path().join(".sharedbox/locks")).unwrap();
    std::fs::write(
        project.path().join(LOCK),
        serde_json::to_string(&holder).unwrap(),
    )
    .unwrap();
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 1, "{heal:?}");
    assert!(
        heal.stderr.contains(
            "tenant `fabrikam.onmicrosoft.com` is locked by run `20261130T000000Z-other`"
        ),
        "{}",
        heal.stderr
    );
    assert!(!copy_flag(&project), "nothing healed");
    std::fs::remove_file(project.path().join(LOCK)).unwrap();
    assert_eq!(project.run(&["apply", "--heal", "--auto-approve"]).code, 0);
    assert!(copy_flag(&project));
}

#[test]
fn without_a_recorded_apply_or_after_a_rollback_nothing_is_drift() {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &buchhaltung(""));
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let before = project.tenant_text();
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 4, "{heal:?}");
    assert!(
        heal.stderr.contains(
            "no successful apply of `fabrikam.onmicrosoft.com` records the policy commit it applied"
        ),
        "{}",
        heal.stderr
    );
    assert_eq!(project.tenant_text(), before);

    // Applied, then rolled back: the tenant is no longer at that commit.
    let run_id = new_run(&project, || {
        assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    });
    let rollback = project.run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{}", rollback.stderr);
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 4, "{heal:?}");
    assert!(
        heal.stderr.contains("no successful apply"),
        "{}",
        heal.stderr
    );
}

#[test]
fn uncommitted_policy_edits_are_never_healed_to() {
    let project = applied_project();
    project.policy(
        "buchhaltung.yaml",
        &buchhaltung("hiddenFromAddressLists: true\n"),
    );
    let heal = project.run(&["apply", "--heal", "--auto-approve"]);
    assert_eq!(heal.code, 1, "{heal:?}");
    assert!(
        heal.stderr
            .contains("cannot heal: the policy folder has uncommitted edits"),
        "{}",
        heal.stderr
    );
    // `--heal` is a plan-and-apply of the whole checkout: no saved plan, no targets.
    let targeted = project.run(&["apply", "--heal", "--target", "buchhaltung@fabrikam.com"]);
    assert_eq!(targeted.code, 1);
    assert!(
        targeted.stderr.contains("cannot be used with"),
        "{}",
        targeted.stderr
    );
}
