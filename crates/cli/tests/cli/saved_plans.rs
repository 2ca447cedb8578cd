//! What a saved plan guarantees (issue 14): every operation `apply PLANFILE` runs must follow
//! from the policies of the checkout that applies it and the live tenant; its life is bounded
//! by its creation time; `plan --out` never writes through a symbolic link.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::Project;
use sharedbox_planner::PlanDocument;

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// A project whose plan grants SendAs on `support` to clara and revokes ben's.
fn project() -> Project {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com, clara@fabrikam.com]\n"),
    );
    project
}

fn saved_plan(project: &Project) -> serde_json::Value {
    let run = project.run(&["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&std::fs::read_to_string(project.path().join("plan.json")).unwrap())
        .unwrap()
}

/// Writes `document` as `name` with its plan id recomputed the way sharedbox computes it.
fn write_with_recomputed_id(project: &Project, name: &str, document: serde_json::Value) {
    let mut document: PlanDocument = serde_json::from_value(document).unwrap();
    document.plan_id = document.digest();
    std::fs::write(
        project.path().join(name),
        serde_json::to_string_pretty(&document).unwrap(),
    )
    .unwrap();
}

/// Every operation of a saved plan, mutably.
fn operations(document: &mut serde_json::Value) -> Vec<&mut serde_json::Value> {
    document["mailboxes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|m| m["changes"].as_array_mut().unwrap().iter_mut())
        .map(|c| &mut c["operation"])
        .collect()
}

fn journals(project: &Project) -> usize {
    std::fs::read_dir(project.path().join(".sharedbox/runs")).map_or(0, |d| d.count())
}

/// Applies `name` and checks it was refused with nothing written.
fn refused(project: &Project, name: &str) -> String {
    let before = project.tenant_text();
    let runs = journals(project);
    let run = project.run(&["apply", name]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        project.tenant_text(),
        before,
        "a refused plan writes nothing"
    );
    assert_eq!(journals(project), runs, "no run was started");
    run.stderr
}

#[test]
fn a_forged_plan_with_a_recomputed_id_is_refused() {
    let project = project();
    let original = saved_plan(&project);
    let text = original.to_string();
    assert!(
        text.contains("grant_send_as") && text.contains("revoke_send_as"),
        "{text}"
    );

    // Another mailbox and another principal: grant ben SendAs on buchhaltung instead.
    let mut forged = original.clone();
    let ben = operations(&mut forged)
        .into_iter()
        .find(|op| op["op"] == "revoke_send_as")
        .map(|op| op["principal"].clone());
    let ben = ben.unwrap_or_else(|| panic!("a revocation of ben: {text}"));
    assert_eq!(ben["address"], "ben@fabrikam.com");
    for op in operations(&mut forged) {
        if op["op"] == "grant_send_as" {
            op["mailbox"] = "buchhaltung@fabrikam.com".into();
            op["principal"] = ben.clone();
        }
    }
    write_with_recomputed_id(&project, "forged.json", forged);
    // `show` still reads it: the id matches its content.
    assert_eq!(project.run(&["show", "forged.json"]).code, 0);
    let stderr = refused(&project, "forged.json");
    assert!(
        stderr.contains("1 operation in it does not follow from the policies"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`Add-RecipientPermission` on `buchhaltung@fabrikam.com` (sendAs)")
            && stderr.contains("ben@fabrikam.com"),
        "the forged operation is named: {stderr}"
    );

    // Only the principal changed, the values shown left as they were.
    let mut forged = original.clone();
    for op in operations(&mut forged) {
        if op["op"] == "grant_send_as" {
            op["principal"] = ben.clone();
        }
    }
    write_with_recomputed_id(&project, "principal.json", forged);
    refused(&project, "principal.json");

    // A doubled grant is refused too: each operation follows from the policies once.
    let mut forged = original.clone();
    let mailboxes = forged["mailboxes"].as_array_mut().unwrap();
    let changes = mailboxes[0]["changes"].as_array_mut().unwrap();
    let first = changes[0].clone();
    changes.push(first);
    write_with_recomputed_id(&project, "doubled.json", forged);
    refused(&project, "doubled.json");

    // A forged undo (what rollback would run) is refused.
    let mut forged = original.clone();
    for change in forged["mailboxes"][0]["changes"].as_array_mut().unwrap() {
        if !change["inverse"].is_null() {
            change["inverse"]["mailbox"] = "buchhaltung@fabrikam.com".into();
        }
    }
    write_with_recomputed_id(&project, "inverse.json", forged);
    refused(&project, "inverse.json");

    // The genuine plan still applies, exactly.
    let run = project.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        common::send_as(&project.tenant(), "support@fabrikam.com"),
        ["anna@fabrikam.com", "clara@fabrikam.com"]
    );
    assert_eq!(
        common::send_as(&project.tenant(), "buchhaltung@fabrikam.com"),
        ["david@fabrikam.com"]
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_policies_of_the_checkout_no_longer_call_for_it() {
    let project = project();
    saved_plan(&project);
    // The checkout that applies has other policies than the one that planned.
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com, ben@fabrikam.com]\n"
        ),
    );
    let stderr = refused(&project, "plan.json");
    assert!(
        stderr.contains("2 operations in it do not follow from the policies"),
        "{stderr}"
    );
}

#[test]
fn drift_since_the_plan_is_noted_and_not_applied() {
    let project = project();
    // buchhaltung is managed and already as wanted: the plan does not touch it.
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\n"),
    );
    saved_plan(&project);
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .message_copy_for_sent_as_enabled = false;
    project.write_tenant(&tenant);
    let run = project.run(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the policies now call for 1 more change than the saved plan"),
        "{}",
        run.stderr
    );
    let after = project.tenant();
    assert!(
        !common::mailbox(&after, "buchhaltung@fabrikam.com").message_copy_for_sent_as_enabled,
        "the saved plan is applied exactly; the drift since is left for the next plan"
    );
    assert_eq!(
        common::send_as(&after, "support@fabrikam.com"),
        ["anna@fabrikam.com", "clara@fabrikam.com"]
    );
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn a_plan_cannot_extend_its_own_life() {
    let project = project();
    let original = saved_plan(&project);
    let now = time::OffsetDateTime::now_utc();

    let mut old = original.clone();
    old["created_at"] = rfc3339(now - time::Duration::days(2)).into();
    old["expires_at"] = "2099-01-01T00:00:00Z".into();
    write_with_recomputed_id(&project, "old.json", old);
    let stderr = refused(&project, "old.json");
    assert!(
        stderr.contains("expired at") && stderr.contains("24 hours after it was made"),
        "{stderr}"
    );

    let mut future = original.clone();
    future["created_at"] = rfc3339(now + time::Duration::hours(1)).into();
    future["expires_at"] = rfc3339(now + time::Duration::hours(2)).into();
    write_with_recomputed_id(&project, "future.json", future);
    let stderr = refused(&project, "future.json");
    assert!(stderr.contains("in the future"), "{stderr}");

    let mut garbled = original.clone();
    garbled["created_at"] = "yesterday".into();
    write_with_recomputed_id(&project, "garbled.json", garbled);
    let stderr = refused(&project, "garbled.json");
    assert!(
        stderr.contains("has an invalid creation time `yesterday`"),
        "{stderr}"
    );

    // A little clock skew is tolerated.
    let mut skewed = original;
    skewed["created_at"] = rfc3339(now + time::Duration::minutes(1)).into();
    write_with_recomputed_id(&project, "skewed.json", skewed);
    let run = project.run(&["apply", "skewed.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn plan_out_never_follows_a_symbolic_link() {
    let project = project();
    let victim = project.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = project.path().join("link.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let dangling = project.path().join("dangling.json");
    let nowhere = project.path().join("created-through-link.json");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    for out in ["link.json", "dangling.json"] {
        let run = project.run(&["plan", "--out", out]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "refusing to write plan file `{out}`: it is a symbolic link"
            )),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!nowhere.exists(), "nothing was created through the link");

    std::fs::create_dir(project.path().join("folder")).unwrap();
    let run = project.run(&["plan", "--out", "folder"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("it is not a regular file"),
        "{}",
        run.stderr
    );

    // A regular file is replaced, owner-only, and no temporary file is left.
    std::fs::write(project.path().join("plan.json"), "old").unwrap();
    let before: Vec<PathBuf> = listing(project.path());
    assert_eq!(project.run(&["plan", "--out", "plan.json"]).code, 0);
    assert_eq!(listing(project.path()), before);
    assert!(
        std::fs::read_to_string(project.path().join("plan.json"))
            .unwrap()
            .contains("\"plan_id\"")
    );
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with(".sharedbox"))
        .collect();
    out.sort();
    out
}

#[test]
fn a_saved_deletion_counts_the_live_grants_against_max_removals_not_the_files() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nlifecycle: {{ensure: absent}}\n"),
    );
    let mut document = saved_plan(&project);
    assert_eq!(document["mailboxes"][0]["lost_grants"], 6, "{document}");
    // The file claims the deletion takes nothing with it.
    document["mailboxes"][0]["lost_grants"] = 0.into();
    write_with_recomputed_id(&project, "forged.json", document);
    let before = project.tenant_text();
    let run = project.run(&[
        "apply",
        "forged.json",
        "--allow-destroy",
        "--max-removals",
        "5",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("takes away 6 grants"), "{}", run.stderr);
    assert_eq!(project.tenant_text(), before, "nothing was written");
}

/// A plan file that is a FIFO, a folder or too large is refused before it is read: `show` and
/// `apply` neither hang nor fill the memory.
#[cfg(unix)]
#[test]
fn a_plan_path_that_is_no_regular_file_is_refused_without_reading_it() {
    let project = project();
    let fifo = project.path().join("plan.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::create_dir(project.path().join("plan.dir")).unwrap();
    let huge = project.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(600 * 1024 * 1024)
        .unwrap();
    for (file, why) in [
        ("plan.fifo", "not a regular file"),
        ("plan.dir", "not a regular file"),
        ("huge.json", "larger than 512 MiB"),
    ] {
        for command in ["show", "apply"] {
            let run = project.run(&[command, file]);
            assert_eq!(run.code, 1, "{command} {file}: {run:?}");
            assert!(
                run.stderr
                    .contains(&format!("cannot read plan file `{file}`: {why}")),
                "{command} {file}: {}",
                run.stderr
            );
        }
    }
}

/// A saved plan's `base_commit` is outside input that reaches git: in a git checkout, a value
/// that is an option, a revision expression or a lookalike is refused as a commit id (never
/// passed to git), and the plan, which holds no autoMapping change, still applies.
#[test]
fn a_hostile_base_commit_never_reaches_git() {
    let project = project();
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let original = saved_plan(&project);
    let tenant = project.tenant_text();
    let canary = project.path().join("canary");
    for hostile in [
        format!("--output={}", canary.display()),
        "HEAD~1".to_owned(),
        "аaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
    ] {
        let mut forged = original.clone();
        forged["base_commit"] = hostile.clone().into();
        write_with_recomputed_id(&project, "forged.json", forged);
        let run = project.run(&["apply", "forged.json", "--auto-approve"]);
        assert!(
            run.stderr.contains("is not a commit id"),
            "{hostile}: {}",
            run.stderr
        );
        assert!(!canary.exists(), "{hostile}: git wrote a file");
        assert_eq!(run.code, 0, "{hostile}: {}", run.stderr);
        assert_ne!(project.tenant_text(), tenant, "{hostile}: the plan applied");
        // The tenant as the plan found it, for the next value.
        std::fs::write(project.path().join("tenant.yaml"), &tenant).unwrap();
    }
}
