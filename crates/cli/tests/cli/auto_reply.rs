//! `autoReply` end to end, on the file backend and through the simulator over HTTP: the plan
//! shows it readably, apply writes it in one `Set-MailboxAutoReplyConfiguration` and
//! verifies it, a new plan is empty although Exchange returns the messages as HTML, rollback
//! restores the before-image (messages included), export writes it and a plan of the export
//! is empty, and a mailbox whose policy does not manage it costs no request.

use std::path::Path;

use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_file::TenantFile;
use sharedbox_tenant::AutoReply;

use crate::common::{self, Project, Run, exo};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// `support@` replies over the holidays; `buchhaltung@` manages something else only.
fn policies(project: &Project) {
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com
autoReply:
  state: scheduled
  start: 2026-12-24T09:00:00+01:00
  end: 2027-01-02T08:00:00+01:00
  internal: |
    Closed over the holidays.
    Urgent: call the hotline & write to <it@fabrikam.com>, \"it's urgent\".
  external: We are closed until 2 January.
  externalAudience: known
"
        ),
    );
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nhiddenFromAddressLists: true\n"),
    );
}

/// The project's tenant with last year's schedule on `support@` (Exchange reports a start
/// and an end even when the state is `Disabled`) and a reply set in Outlook, as HTML.
fn project() -> Project {
    let project = Project::new();
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap()
        .auto_reply = Some(AutoReply {
        state: "Disabled".into(),
        start_time: Some("2025-12-24T08:00:00Z".into()),
        end_time: Some("2026-01-02T08:00:00Z".into()),
        internal_message: "<html><body><p>Old <b>reply</b></p></body></html>".into(),
        external_message: String::new(),
        external_audience: "All".into(),
    });
    project.write_tenant(&tenant);
    policies(&project);
    project
}

fn auto_reply(tenant: &TenantFile, address: &str) -> AutoReply {
    common::mailbox(tenant, address)
        .auto_reply
        .clone()
        .unwrap_or_default()
}

fn assert_applied(tenant: &TenantFile) {
    let a = auto_reply(tenant, "support@fabrikam.com");
    assert_eq!(a.state, "Scheduled");
    assert_eq!(a.start_time.as_deref(), Some("2026-12-24T08:00:00Z"));
    assert_eq!(a.end_time.as_deref(), Some("2027-01-02T07:00:00Z"));
    assert_eq!(a.external_audience, "Known");
    assert_eq!(
        sharedbox_tenant::auto_reply::message_text(&a.internal_message),
        "Closed over the holidays.\nUrgent: call the hotline & write to <it@fabrikam.com>, \"it's urgent\"."
    );
    assert_eq!(
        sharedbox_tenant::auto_reply::message_text(&a.external_message),
        "We are closed until 2 January."
    );
}

fn assert_plan_shows_auto_reply(plan: &Run) {
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    for (field, change) in [
        ("autoReply.state", "disabled -> scheduled"),
        (
            "autoReply.start",
            "2025-12-24T08:00:00Z -> 2026-12-24T08:00:00Z",
        ),
        (
            "autoReply.end",
            "2026-01-02T08:00:00Z -> 2027-01-02T07:00:00Z",
        ),
        (
            "autoReply.internal",
            "\"Old reply\" -> \"Closed over the holidays.…\" (2 lines, 95 characters)",
        ),
        (
            "autoReply.external",
            "(empty) -> \"We are closed until 2 January.\"",
        ),
        ("autoReply.externalAudience", "all -> known"),
    ] {
        // `~ field<padding> = change`: the fields of a mailbox are aligned.
        assert!(
            plan.stdout.lines().any(|l| {
                l.trim_start().starts_with(&format!("~ {field} "))
                    && l.ends_with(&format!("= {change}"))
            }),
            "`{field} = {change}`:\n{}",
            plan.stdout
        );
    }
    // Never the HTML, never the whole message.
    assert!(!plan.stdout.contains("&lt;"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("hotline"), "{}", plan.stdout);
}

/// Exports `autoReply` of every mailbox with `run`, checks what was written and that a plan
/// of the export finds nothing.
fn exported_plan_is_empty(project: &Project, run: impl Fn(&[&str]) -> Run) {
    let out = project.path().join("exported");
    let out = out.to_str().unwrap();
    let export = run(&["export", "--fields", "autoReply", "--out", out]);
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    let support = std::fs::read_to_string(Path::new(out).join("support.yaml")).unwrap();
    assert!(
        support.contains(
            "autoReply:\n  state: scheduled\n  start: \"2026-12-24T08:00:00Z\"\n  end: \"2027-01-02T07:00:00Z\"\n  internal: |\n    Closed over the holidays.\n    Urgent: call the hotline & write to <it@fabrikam.com>, \"it's urgent\".\n  external: \"We are closed until 2 January.\"\n  externalAudience: known\n"
        ),
        "{support}"
    );
    let buchhaltung = std::fs::read_to_string(Path::new(out).join("buchhaltung.yaml")).unwrap();
    assert!(
        buchhaltung.contains(
            "autoReply:\n  state: disabled\n  internal: \"\"\n  external: \"\"\n  externalAudience: all\n"
        ),
        "{buchhaltung}"
    );
    let plan = run(&["plan", "--detailed-exitcode", "--policies", out]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[test]
fn auto_reply_is_planned_applied_rolled_back_and_exported_on_the_file_backend() {
    let project = project();
    let original = project.tenant();
    assert_plan_shows_auto_reply(&project.run(&["plan", "--detailed-exitcode"]));

    let run = common::new_run(&project, || {
        let applied = project.run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    assert_applied(&project.tenant());
    let again = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    exported_plan_is_empty(&project, |args| project.run(args));

    let rolled_back = project.run(&["rollback", &run, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        common::normalized(project.tenant()),
        common::normalized(original),
        "the rollback restores the tenant, the old reply included"
    );
    let drift = project.run(&["drift"]);
    assert!(
        drift
            .stdout
            .contains("autoReply.state: desired scheduled, actual disabled"),
        "{}\n{}",
        drift.stdout,
        drift.stderr
    );
}

#[test]
fn auto_reply_is_planned_applied_rolled_back_and_exported_through_the_simulator() {
    let project = project();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let original = sim.tenant();
    assert_plan_shows_auto_reply(&exo(&project, &sim, &["plan", "--detailed-exitcode"]));
    // Only the mailbox whose policy manages `autoReply` is asked for it.
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxAutoReplyConfiguration"),
        1,
        "{:?}",
        sim.counters()
    );

    sim.reset_counters();
    let run = common::new_run(&project, || {
        let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    // Six changed parameters, one call.
    assert_eq!(
        sim.counters()
            .writes
            .get("Set-MailboxAutoReplyConfiguration"),
        Some(&1),
        "{:?}",
        sim.counters()
    );
    // The simulator stored the messages wrapped in HTML, as Exchange does.
    let stored = auto_reply(&sim.tenant(), "support@fabrikam.com");
    assert!(
        stored.internal_message.starts_with("<html>"),
        "{}",
        stored.internal_message
    );
    assert_applied(&sim.tenant());
    // ... and a new plan compares their text: nothing to do.
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    exported_plan_is_empty(&project, |args| exo(&project, &sim, args));

    sim.reset_counters();
    let rolled_back = exo(&project, &sim, &["rollback", &run, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        sim.counters()
            .writes
            .get("Set-MailboxAutoReplyConfiguration"),
        Some(&1),
        "undone in one call: {:?}",
        sim.counters()
    );
    assert_eq!(
        common::normalized(sim.tenant()),
        common::normalized(original),
        "the rollback restores the tenant, the old reply included"
    );
}

#[test]
fn a_mailbox_whose_policy_does_not_manage_auto_replies_costs_no_request() {
    let project = project();
    // No policy manages `autoReply` now.
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nhiddenFromAddressLists: true\n"),
    );
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxAutoReplyConfiguration"),
        0,
        "{:?}",
        sim.counters()
    );
    // An export without the field reads none either; with it, one per mailbox.
    let out = project.path().join("exported");
    let export = exo(
        &project,
        &sim,
        &[
            "export",
            "--fields",
            "sendAs",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxAutoReplyConfiguration"),
        0
    );
}
