//! Adoption and drift (issue: export a live tenant to policies, report drift).

use crate::common;

use crate::common::{Project, TENANT};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// The fixture tenant without its two orphaned grants.
fn tenant_without_orphans() -> String {
    TENANT
        .lines()
        .filter(|l| !l.contains("S-1-5-21-"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn export_then_plan_is_empty_for_every_field() {
    let project = Project::with_tenant(&tenant_without_orphans());
    let export = project.run(&["export", "--all-fields"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    for file in ["tenant.yaml", "support.yaml", "buchhaltung.yaml"] {
        assert!(
            export.stdout.contains(&format!("wrote policies/{file}")),
            "{}",
            export.stdout
        );
    }
    let support = std::fs::read_to_string(project.path().join("policies/support.yaml")).unwrap();
    for field in [
        "displayName:",
        "autoReply:",
        "hiddenFromAddressLists:",
        "copyForSendAs:",
        "copyForSendOnBehalf:",
        "sendAs:",
        "sendOnBehalf:",
        "fullAccess:",
        "sentItemsReaders:",
        "clients:",
        "smtpAuth:",
        "moderation:",
        "notifications:",
    ] {
        assert!(support.contains(field), "`{field}` exported:\n{support}");
    }
    assert!(
        support.contains("# autoMapping is not exported"),
        "{support}"
    );
    assert!(
        project
            .path()
            .join("policies/sharedbox.schema.json")
            .exists(),
        "the schema is written beside the policies"
    );
    assert_eq!(project.run(&["validate"]).code, 0);
    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "export -> plan must be empty:\n{}\n{}",
        plan.stdout, plan.stderr
    );
    assert!(plan.stdout.contains("No changes."));
}

#[test]
fn every_field_round_trips_after_changes_too() {
    // Set every field to non-default values through an apply, then export and re-plan.
    let project = Project::with_tenant(&tenant_without_orphans());
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\ndisplayName: \"Support: 1st level #1\"\nhiddenFromAddressLists: true\nsentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}\nsendAs: [helpdesk@fabrikam.com]\nsendOnBehalf: [clara@fabrikam.com]\nfullAccess: [{{principal: helpdesk@fabrikam.com, autoMapping: false}}]\nsentItemsReaders: [{{principal: david@fabrikam.com, access: PublishingEditor}}]\nclients: {{owa: false, ews: false, smtpAuth: enabled}}\nmoderation: {{enabled: true, moderators: [anna@fabrikam.com], bypass: [ben@fabrikam.com], notifications: never}}\n"),
    );
    project.policy(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
    );
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    let out = project.path().join("exported");
    let export = project.run(&["export", "--all-fields", "--out", out.to_str().unwrap()]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let plan = project.run(&[
        "plan",
        "--detailed-exitcode",
        "--policies",
        out.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let text = std::fs::read_to_string(out.join("support.yaml")).unwrap();
    assert!(
        text.contains("displayName: \"Support: 1st level #1\""),
        "{text}"
    );
    assert!(
        std::fs::read_to_string(out.join("tenant.yaml"))
            .unwrap()
            .contains("sendFromAliasEnabled: true")
    );
}

#[test]
fn orphans_are_left_out_with_a_comment_and_revoked_by_the_first_plan() {
    let project = Project::new();
    let export = project.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export
            .stderr
            .contains("2 orphaned grants (deleted principals) left out"),
        "{}",
        export.stderr
    );
    let support = std::fs::read_to_string(project.path().join("policies/support.yaml")).unwrap();
    assert!(
        support
            .contains("# left out: `S-1-5-21-1111111111-2222222222-3333333333-1107` is orphaned"),
        "{support}"
    );
    assert!(
        !support.contains("clients:"),
        "clients are not a default field:\n{support}"
    );
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 0 to change, 2 to revoke."),
        "{}",
        plan.stdout
    );
    let (changes, after) = plan.stdout.split_once("Plan:").unwrap();
    assert_eq!(
        changes.matches("(orphaned)").count(),
        2,
        "only the orphans are revoked:\n{}",
        plan.stdout
    );
    assert!(
        after.contains("2 steps cannot be undone by `sharedbox rollback`:"),
        "the plan says so before apply:\n{}",
        plan.stdout
    );
}

#[test]
fn export_never_overwrites_without_force() {
    let project = Project::with_tenant(&tenant_without_orphans());
    project.policy("support.yaml", "# my own file\n");
    let run = project.run(&["export"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("exists: policies/support.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(
        !project.path().join("policies/buchhaltung.yaml").exists(),
        "no partial export"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("policies/support.yaml")).unwrap(),
        "# my own file\n"
    );
    assert_eq!(project.run(&["export", "--force"]).code, 0);
    assert!(
        std::fs::read_to_string(project.path().join("policies/support.yaml"))
            .unwrap()
            .contains("mailbox: support@fabrikam.com")
    );
}

#[test]
fn export_of_chosen_mailboxes_and_fields() {
    let project = Project::with_tenant(&tenant_without_orphans());
    let run = project.run(&[
        "export",
        "--mailbox",
        "buchhaltung@fabrikam.com",
        "--fields",
        "sendAs,clients",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!project.path().join("policies/support.yaml").exists());
    let text = std::fs::read_to_string(project.path().join("policies/buchhaltung.yaml")).unwrap();
    assert!(
        text.contains("sendAs:\n  - david@fabrikam.com")
            && text.contains("clients:")
            && !text.contains("fullAccess"),
        "{text}"
    );
    let run = project.run(&["export", "--mailbox", "nobody@fabrikam.com", "--force"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`nobody@fabrikam.com` is not a shared mailbox"),
        "{}",
        run.stderr
    );
    let run = project.run(&["export", "--fields", "sendAs,fullAcces", "--force"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("unknown field `fullAcces` in `--fields`"),
        "{}",
        run.stderr
    );
}

#[test]
fn drift_reports_differing_properties_and_unmanaged_mailboxes() {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false}}\n"));
    let run = project.run(&["drift", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "in the desired state: {}", run.stdout);
    assert!(
        run.stdout
            .contains("1 of 1 managed mailbox in the desired state"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Unmanaged shared mailboxes (no policy): support@fabrikam.com"),
        "{}",
        run.stdout
    );

    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com]\n"));
    project.policy("neu.yaml", &format!("{HEADER}mailbox: neu@fabrikam.com\n"));
    let before = project.tenant_text();
    assert_eq!(
        project.run(&["drift"]).code,
        0,
        "drift without --detailed-exitcode exits 0"
    );
    let run = project.run(&["drift", "--format", "json", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["inDesiredState"], false);
    let support = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "support@fabrikam.com")
        .unwrap();
    assert_eq!(support["inDesiredState"], false);
    let props = support["differingProperties"].as_array().unwrap();
    let copy = props
        .iter()
        .find(|p| p["property"] == "sentItems.copyForSendAs")
        .unwrap();
    assert_eq!(
        (copy["desired"].clone(), copy["actual"].clone()),
        (serde_json::json!(true), serde_json::json!(false))
    );
    let send_as = props.iter().find(|p| p["property"] == "sendAs").unwrap();
    assert_eq!(send_as["desired"], serde_json::json!(["anna@fabrikam.com"]));
    assert_eq!(
        send_as["actual"],
        serde_json::json!(["anna@fabrikam.com", "ben@fabrikam.com"])
    );
    let neu = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "neu@fabrikam.com")
        .unwrap();
    assert_eq!(neu["exists"], false);
    assert_eq!(report["unmanaged"], serde_json::json!([]));
    let markdown = project.run(&["drift", "--format", "markdown"]);
    assert!(markdown.stdout.contains("| `support@fabrikam.com` | `sendAs` | anna@fabrikam.com | anna@fabrikam.com, ben@fabrikam.com |"), "{}", markdown.stdout);
    assert_eq!(project.tenant_text(), before, "drift is read-only");
}

#[test]
fn plan_tells_drift_from_policy_changes() {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false}}\n"));
    let outside = project.run(&["plan"]);
    assert!(
        !outside.stdout.contains("# drift"),
        "no changes yet: {}",
        outside.stdout
    );
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    // Someone switches the copy flag off by hand; a pull request adds POP to the policy.
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .message_copy_for_sent_as_enabled = false;
    project.write_tenant(&tenant);
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false, pop: true}}\n"));
    let plan = project.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("~ sentItems.copyForSendAs = false -> true  # drift"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("~ clients.pop             = false -> true  # policy change"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Of these, 1 is drift (the tenant moved away from policies unchanged since `HEAD with uncommitted policy edits, "), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("and 1 is a policy change."),
        "{}",
        plan.stdout
    );
    let explicit = project.run(&["plan", "--base", "HEAD"]);
    assert!(
        explicit.stdout.contains("unchanged since `HEAD, "),
        "{}",
        explicit.stdout
    );
    // A `--base` that names nothing is an error, not a plan without causes.
    let bad = project.run(&["plan", "--base", "no-such-branch"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains(
            "`--base no-such-branch`: `no-such-branch` is not a revision of this repository"
        ),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
}

#[test]
fn plan_outside_git_says_causes_are_unknown() {
    let project = Project::new();
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nclients: {{pop: true}}\n"),
    );
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout.contains(
            "Drift and policy changes are not told apart: the policies are not in a git checkout."
        ),
        "{}",
        plan.stdout
    );
}

/// A shared mailbox of the tenant file with `address` as its primary address.
fn shared_mailbox(n: u32, address: &str) -> String {
    format!(
        "  - guid: 6c000000-0000-4000-8000-0000000009{n:02}\n    name: hostile{n}\n    alias: hostile{n}\n    displayName: Hostile {n}\n    primarySmtpAddress: {}\n    sentItems: {{name: Sent Items, folderId: LgAAAAhostile{n}}}\n",
        serde_json::to_string(address).unwrap()
    )
}

/// Every file and folder under `dir`, relative to it.
fn walk(dir: &std::path::Path) -> std::collections::BTreeSet<std::path::PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if std::fs::symlink_metadata(&path).unwrap().is_dir() {
                stack.push(path.clone());
            }
            out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out
}

#[test]
fn tenant_addresses_never_choose_a_path_outside_out() {
    let base = tempfile::tempdir().unwrap();
    let project_dir = base.path().join("project");
    let absolute = base.path().join("abs-escape");
    let hostile = [
        "../../up-two@fabrikam.com".to_owned(),
        "../up-one@fabrikam.com".to_owned(),
        format!("{}@fabrikam.com", absolute.display()),
        "..\\..\\win@fabrikam.com".to_owned(),
        ".hidden@fabrikam.com".to_owned(),
        "CON@fabrikam.com".to_owned(),
        "tenant@fabrikam.com".to_owned(),
        "Support@contoso.com".to_owned(),
        "x/../../../sub@fabrikam.com".to_owned(),
    ];
    let mut tenant = tenant_without_orphans();
    for (n, address) in hostile.iter().enumerate() {
        tenant.push_str(&shared_mailbox(n as u32, address));
    }
    std::fs::create_dir_all(project_dir.join("policies")).unwrap();
    std::fs::write(project_dir.join("tenant.yaml"), &tenant).unwrap();
    std::fs::write(
        project_dir.join("sharedbox.yaml"),
        "policies: policies/\ntenant:\n  backend: file\n  path: tenant.yaml\nstateDir: .sharedbox/\n",
    )
    .unwrap();
    let out = project_dir.join("a/b/out");
    let before = walk(base.path());
    let run = common::run_in(&project_dir, &["export", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = walk(base.path());
    let new: Vec<_> = after.difference(&before).collect();
    let out_rel = out.strip_prefix(base.path()).unwrap();
    for path in &new {
        assert!(
            path.starts_with(out_rel) || out_rel.starts_with(path),
            "export wrote `{}` outside `--out`",
            path.display()
        );
    }
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "buchhaltung.yaml",
            "hidden.yaml",
            "mailbox-con.yaml",
            "sharedbox.schema.json",
            "support-2.yaml",
            "support.yaml",
            "tenant-2.yaml",
            "tenant.yaml",
            "tmp-abs-escape.yaml",
            "up-one.yaml",
            "up-two.yaml",
            "win.yaml",
            "x-..-..-..-sub.yaml",
        ]
        .map(|s| s.replace("tmp-abs-escape", &absolute_stem(&absolute))),
        "{}",
        run.stdout
    );
    // Every file is a policy for the mailbox it names; of two with one local part, the
    // first address in sorted order has the plain name.
    let support = std::fs::read_to_string(out.join("support.yaml")).unwrap();
    assert!(
        support.contains("mailbox: support@contoso.com"),
        "{support}"
    );
    let support = std::fs::read_to_string(out.join("support-2.yaml")).unwrap();
    assert!(
        support.contains("mailbox: support@fabrikam.com"),
        "{support}"
    );
    let named = std::fs::read_to_string(out.join("tenant-2.yaml")).unwrap();
    assert!(named.contains("mailbox: tenant@fabrikam.com"), "{named}");
    let settings = std::fs::read_to_string(out.join("tenant.yaml")).unwrap();
    assert!(settings.contains("kind: TenantSettings"), "{settings}");
    let up = std::fs::read_to_string(out.join("up-two.yaml")).unwrap();
    assert!(
        up.contains("mailbox: \"../../up-two@fabrikam.com\""),
        "{up}"
    );
    // Exporting again (forced) gives the same names: the suffixes are deterministic.
    let again = common::run_in(
        &project_dir,
        &["export", "--force", "--out", out.to_str().unwrap()],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        walk(base.path()),
        after,
        "a second export writes the same files"
    );
}

/// The stem `export` gives the absolute path used as a local part.
fn absolute_stem(path: &std::path::Path) -> String {
    let mut stem: String = path
        .to_string_lossy()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['.', '-'])
        .chars()
        .take(64)
        .collect();
    while stem.ends_with('.') {
        stem.pop();
    }
    stem
}

#[test]
fn a_failing_export_leaves_nothing_behind() {
    let project = Project::with_tenant(&tenant_without_orphans());
    let out = project.path().join("exported");
    // `support.yaml` cannot be written: a folder holds its name.
    std::fs::create_dir_all(out.join("support.yaml")).unwrap();
    let around = walk(project.path());
    for force in [false, true] {
        let mut args = vec!["export", "--out", out.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let run = project.run(&args);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
        assert_eq!(walk(project.path()), around, "no file was written or left");
    }
    // `--out` names a file: refused, no staging folder left behind.
    std::fs::write(project.path().join("a-file"), "mine\n").unwrap();
    let around = walk(project.path());
    let run = project.run(&["export", "--out", "a-file"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is not a folder"), "{}", run.stderr);
    assert_eq!(walk(project.path()), around);
}

#[test]
fn export_of_one_mailbox_leaves_the_tenant_settings_alone() {
    let project = Project::with_tenant(&tenant_without_orphans());
    let managed = "apiVersion: sharedbox/v1\nkind: TenantSettings\n# managed by hand\nsendFromAliasEnabled: true\n";
    project.policy("tenant.yaml", managed);
    project.policy("support.yaml", "# my own file\n");
    let run = project.run(&["export", "--mailbox", "support@fabrikam.com", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read(project.path().join("policies/tenant.yaml")).unwrap(),
        managed.as_bytes(),
        "`--mailbox` never touches `tenant.yaml`"
    );
    assert!(!run.stdout.contains("tenant.yaml"), "{}", run.stdout);
    assert!(
        std::fs::read_to_string(project.path().join("policies/support.yaml"))
            .unwrap()
            .contains("mailbox: support@fabrikam.com")
    );
    assert!(!project.path().join("policies/buchhaltung.yaml").exists());
    // Without `--force`, the existing `tenant.yaml` is no conflict either.
    let run = project.run(&["export", "--mailbox", "buchhaltung@fabrikam.com"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read(project.path().join("policies/tenant.yaml")).unwrap(),
        managed.as_bytes()
    );
}

/// The numbers of `Plan: A to create, B to change, C to revoke[, D to destroy].` and of the
/// drift line after it (`Of these, X ... drift (...), Y ... and Z new mailboxes.`), the
/// revision in backticks left out.
fn plan_counts(stdout: &str) -> (usize, usize) {
    let numbers = |line: &str| -> usize {
        line.split_whitespace()
            .filter_map(|w| {
                w.trim_matches(|c: char| !c.is_ascii_digit())
                    .parse::<usize>()
                    .ok()
            })
            .sum()
    };
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    let causes = stdout
        .lines()
        .find(|l| l.starts_with("Of these, "))
        .unwrap_or_else(|| panic!("no drift line:\n{stdout}"));
    let without_revision: String = causes.split('`').step_by(2).collect();
    (numbers(summary), numbers(&without_revision))
}

/// The summary line and the drift line count the same things: a mailbox to create once (as
/// new, never as drift), every other change once, on the demo and on an example.
#[test]
fn the_drift_line_counts_what_the_summary_counts() {
    let demo = Project::demo();
    demo.git(&["init", "-q", "-b", "main"]);
    demo.git(&["add", "-A"]);
    demo.git(&["commit", "-q", "-m", "policies"]);
    // An uncommitted edit keeps the base at `HEAD`, where the demo's policies are drift.
    let legal = std::fs::read_to_string(demo.path().join("policies/legal.yaml")).unwrap();
    demo.policy(
        "legal.yaml",
        &legal.replace(
            "hiddenFromAddressLists: true",
            "hiddenFromAddressLists: false",
        ),
    );
    let plan = demo.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let (summary, causes) = plan_counts(&plan.stdout);
    assert_eq!(summary, causes, "{}", plan.stdout);
    assert!(
        plan.stdout.contains("Plan: 2 to create, "),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(" and 2 are new mailboxes."),
        "{}",
        plan.stdout
    );

    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bulk-rollout");
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .args(["-r"])
        .arg(example.join("."))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(dir.path().join(".sharedbox"));
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.email=ci@example.com",
            "-c",
            "user.name=ci",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "example",
        ],
    ] {
        let out = std::process::Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let plan = common::run_in(dir.path(), &["plan", "--base", "HEAD"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let (summary, causes) = plan_counts(&plan.stdout);
    assert!(summary > 0, "{}", plan.stdout);
    assert_eq!(summary, causes, "{}", plan.stdout);
}

/// A mailbox the tenant does not have yet is created with its settings: neither it nor
/// they are drift, even when its policy is as old as the base revision.
#[test]
fn a_new_mailbox_is_not_drift() {
    let project = Project::new();
    project.policy(
        "neu.yaml",
        &format!("{HEADER}mailbox: neu@fabrikam.com\ndisplayName: Neu\nclients: {{pop: true}}\nsendAs: [anna@fabrikam.com]\n"),
    );
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let plan = project.run(&["plan", "--base", "HEAD", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let neu = document["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["address"] == "neu@fabrikam.com")
        .unwrap_or_else(|| panic!("{document}"));
    assert_eq!(neu["action"], "create");
    let changes = neu["changes"].as_array().unwrap();
    assert!(changes.len() > 1, "{neu}");
    for change in changes {
        assert_eq!(change["cause"], "new", "{change}");
    }
    let text = project.run(&["plan", "--base", "HEAD"]);
    assert!(!text.stdout.contains("# drift"), "{}", text.stdout);
    assert!(
        text.stdout.contains(
            "Of these, 0 are drift (the tenant moved away from policies unchanged since `HEAD, "
        ) && text
            .stdout
            .contains(", 0 are policy changes and 1 is a new mailbox."),
        "{}",
        text.stdout
    );
}

/// On the default branch the merge base is `HEAD` itself: the labels compare with the
/// commit before the last policy change (a direct commit or a merge), so what was just
/// committed or merged is a policy change, also after commits that did not touch the policies;
/// hand edits to the tenant stay drift.
#[test]
fn on_the_default_branch_the_last_policy_commit_is_a_policy_change() {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false}}\n"));
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .message_copy_for_sent_as_enabled = false;
    project.write_tenant(&tenant);
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false, pop: true}}\n"));
    project.git(&["commit", "-q", "-am", "POP for buchhaltung"]);
    let check = |when: &str| {
        let plan = project.run(&["plan"]);
        assert_eq!(plan.code, 0, "{when}: {}", plan.stderr);
        assert!(
            plan.stdout
                .contains("~ clients.pop             = false -> true  # policy change"),
            "{when}: {}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("~ sentItems.copyForSendAs = false -> true  # drift"),
            "{when}: {}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("unchanged since `parent of the last policy commit, "),
            "{when}: {}",
            plan.stdout
        );
    };
    check("after a direct commit");
    std::fs::write(project.path().join("README.md"), "notes\n").unwrap();
    project.git(&["add", "README.md"]);
    project.git(&["commit", "-q", "-m", "docs only"]);
    check("after a commit that does not touch the policies");

    // A merge of a pull request: the change it brings is a policy change on main.
    project.git(&["checkout", "-q", "-b", "feature"]);
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nclients: {{imap: false, pop: true}}\nhiddenFromAddressLists: true\n"));
    project.git(&["commit", "-q", "-am", "hide buchhaltung"]);
    project.git(&["checkout", "-q", "main"]);
    project.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("~ hiddenFromAddressLists  = false -> true  # policy change"),
        "{}",
        plan.stdout
    );
    // POP came before the merge's first parent: the tenant still lacks it, so it is drift now.
    assert!(
        plan.stdout
            .contains("~ clients.pop             = false -> true  # drift"),
        "{}",
        plan.stdout
    );
}
