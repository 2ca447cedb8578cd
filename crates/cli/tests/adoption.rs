//! Adoption and drift (issue: export a live tenant to policies, report drift).

mod common;

use std::process::Command;

use common::{Project, TENANT};

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
    assert_eq!(
        plan.stdout.matches("(orphaned)").count(),
        2,
        "only the orphans are revoked:\n{}",
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

fn git(project: &Project, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(project.path())
        .args([
            "-c",
            "user.email=ci@example.com",
            "-c",
            "user.name=ci",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
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
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "policies"]);
    // Someone switches the copy flag off by hand; a pull request adds POP to the policy.
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.alias == "buchhaltung")
        .unwrap()
        .message_copy_for_sent_as_enabled = false;
    std::fs::write(
        project.path().join("tenant.yaml"),
        serde_saphyr::to_string(&tenant).unwrap(),
    )
    .unwrap();
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
    assert!(plan.stdout.contains("Of these, 1 is drift (the tenant moved away from policies unchanged since `merge base with main"), "{}", plan.stdout);
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
