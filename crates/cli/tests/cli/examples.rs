//! Every scenario under `examples/` runs as its README says: the plan is exactly
//! `expected-plan.txt`, `apply` reaches the desired state (the next plan is empty), and
//! `rollback` of that run restores the tenant (the plan is the expected one again).
//!
//! Each example runs in a git repository of its own, as in a user's checkout: `plan` labels
//! every change as drift or policy change against git history, and outside git it says it
//! cannot. The repository is built the same way every time (fixed identity and dates, so the
//! commit ids in the output never change): on `main`, an empty first commit, then one commit
//! that adds the example. So the example's policies arrived in the last commit of the default
//! branch, and the labels compare with its parent, where there were none yet: every change is
//! a policy change. `SHAREDBOX_UPDATE_EXAMPLES=1 cargo test -p sharedbox-cli --test cli examples`
//! rewrites each `expected-plan.txt` with the plan it printed (read the diff before committing).
//! The real repository is not used: there the base depends on the branch
//! (a merge base on a feature branch) and on the commits that touched the example since, which
//! would make the expected output change with every merge.

use std::path::{Path, PathBuf};

use crate::common::run_in;

/// Copies an example folder (without its `.sharedbox` state) into `to`.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != ".sharedbox" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The example folders that are projects of one tenant (they have a `sharedbox.yaml` and
/// no `tenants/` folder: `examples/fleet` is checked by [`the_fleet_example_plans_applies_and_rolls_back_per_tenant`]).
fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("sharedbox.yaml").is_file() && !p.join("tenants").is_dir())
        .collect();
    found.sort();
    found
}

/// Runs git in `dir` with a fixed identity and fixed dates, no user or system configuration
/// (no signing, no hooks, no template) and none of the variables a git hook sets, so that the
/// commit ids are the same everywhere; panics when it fails.
fn git(dir: &Path, args: &[&str]) {
    const DATE: &str = "2026-01-01T00:00:00Z";
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DEFAULT_HASH")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .env("GIT_AUTHOR_NAME", "sharedbox examples")
        .env("GIT_AUTHOR_EMAIL", "examples@example.com")
        .env("GIT_AUTHOR_DATE", DATE)
        .env("GIT_COMMITTER_NAME", "sharedbox examples")
        .env("GIT_COMMITTER_EMAIL", "examples@example.com")
        .env("GIT_COMMITTER_DATE", DATE)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of `example` as a git checkout on `main` whose last commit added the example (its
/// parent is an empty commit, the same one for every example).
fn checkout(example: &Path, dir: &Path) {
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(
        dir,
        &[
            "commit",
            "--quiet",
            "--allow-empty",
            "--message=the repository before the example",
        ],
    );
    copy_dir(example, dir);
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "--message=the example"]);
}

fn check(example: &Path) {
    let name = example.file_name().unwrap().to_string_lossy().into_owned();
    let expected = std::fs::read_to_string(example.join("expected-plan.txt"))
        .unwrap_or_else(|e| panic!("{name}: expected-plan.txt: {e}"));
    let readme = std::fs::read_to_string(example.join("README.md"))
        .unwrap_or_else(|e| panic!("{name}: README.md: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    checkout(example, project);

    let validate = run_in(project, &["validate"]);
    assert_eq!(validate.code, 0, "{name}: validate: {}", validate.stderr);

    let plan = run_in(project, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{name}: plan: {}", plan.stderr);
    if std::env::var_os("SHAREDBOX_UPDATE_EXAMPLES").is_some() {
        std::fs::write(example.join("expected-plan.txt"), &plan.stdout).unwrap();
        return;
    }
    let summary = expected
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("{name}: the expected plan has no summary line"));
    assert!(
        readme.contains(summary),
        "{name}: the README does not state the expected summary `{summary}`"
    );

    assert_eq!(
        plan.stdout, expected,
        "{name}: the plan differs from expected-plan.txt"
    );

    let apply = run_in(project, &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{name}: apply: {}", apply.stderr);
    let again = run_in(project, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        again.code, 0,
        "{name}: the plan after apply is not empty: {}",
        again.stdout
    );

    let journals: Vec<PathBuf> = std::fs::read_dir(project.join(".sharedbox/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(journals.len(), 1, "{name}: one run journaled");
    let run_id = journals[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let rollback = run_in(project, &["rollback", &run_id, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{name}: rollback: {}", rollback.stderr);
    let restored = run_in(project, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        without_unknown_auto_mapping(&restored.stdout),
        expected,
        "{name}: after rollback the plan is not the original one"
    );
}

/// A revoked FullAccess grant whose AutoMapping was unknown (Exchange never reports it)
/// comes back without the mapping (`false`, never Exchange's silent default), which the
/// file backend then records: the plan after a rollback without that difference.
fn without_unknown_auto_mapping(plan: &str) -> String {
    plan.lines()
        .map(|line| {
            if line.trim_start().starts_with("- ") {
                line.replace(" (autoMapping: false)", "")
            } else {
                line.to_owned()
            }
        })
        .map(|line| line + "\n")
        .collect()
}

/// The journals in `state_dir/runs`, by run id.
fn run_ids(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("runs")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_fleet_example_plans_applies_and_rolls_back_per_tenant() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    let expected = std::fs::read_to_string(example.join("expected-plan.txt")).unwrap_or_default();
    let readme = std::fs::read_to_string(example.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    checkout(&example, project);

    let validate = run_in(project, &["validate", "--tenants", "all"]);
    assert_eq!(validate.code, 0, "validate: {}", validate.stderr);

    let plan = run_in(
        project,
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 2, "plan: {}", plan.stderr);
    if std::env::var_os("SHAREDBOX_UPDATE_EXAMPLES").is_some() {
        std::fs::write(example.join("expected-plan.txt"), &plan.stdout).unwrap();
        return;
    }
    let summary = expected
        .lines()
        .find(|l| l.starts_with("Fleet plan, "))
        .expect("the expected plan has a fleet summary line");
    assert!(
        readme.contains(summary),
        "the README does not state the expected summary `{summary}`"
    );
    assert_eq!(
        plan.stdout, expected,
        "the plan differs from expected-plan.txt"
    );

    let apply = run_in(project, &["apply", "--tenants", "all", "--auto-approve"]);
    assert_eq!(apply.code, 0, "apply: {}{}", apply.stdout, apply.stderr);
    let again = run_in(
        project,
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(
        again.code, 0,
        "the plan after apply is not empty: {}",
        again.stdout
    );

    // Each tenant journals in its own state folder; the tenant without changes ran nothing.
    let state = project.join(".sharedbox");
    for (tenant, runs) in [("contoso", 1), ("fabrikam", 1), ("northwind", 0)] {
        let ids = run_ids(&state.join(tenant));
        assert_eq!(ids.len(), runs, "{tenant}: runs journaled: {ids:?}");
        for id in ids {
            let rollback = run_in(
                project,
                &["rollback", &id, "--tenants", tenant, "--auto-approve"],
            );
            assert_eq!(rollback.code, 0, "{tenant}: rollback: {}", rollback.stderr);
        }
    }
    let restored = run_in(
        project,
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(restored.code, 2);
    assert_eq!(
        without_unknown_auto_mapping(&restored.stdout),
        expected,
        "after the rollbacks the plan is not the original one"
    );
}

#[test]
fn every_example_plans_as_documented_applies_and_rolls_back() {
    let examples = examples();
    let names: Vec<String> = examples
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "actaport-delegation",
        "bulk-rollout",
        "calendar-delegates",
        "contact-center",
        "crm-alias-sending",
        "info-forwarding",
        "moderation",
        "sent-items-copies",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing example `{expected}`"
        );
    }
    for example in &examples {
        check(example);
    }
}
