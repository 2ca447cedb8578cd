//! `forwarding` end to end, on the file backend and through the simulator over HTTP: the
//! plan shows it, apply writes and verifies it, rollback restores it, export writes it and a
//! plan of the export is empty.

use std::path::Path;

use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_file::TenantFile;

use crate::common::{self, Project, Run, exo};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// `support@` forwards outside and keeps a copy; `buchhaltung@` forwards to Anna (by a proxy
/// address) without a copy.
fn policies(project: &Project) {
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nforwarding:\n  to: partner@fabrikam-partner.example\n  keepCopy: true\n"),
    );
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nforwarding: {{to: anna.berg@fabrikam.com, keepCopy: false}}\n"),
    );
}

/// `(ForwardingAddress, ForwardingSmtpAddress, DeliverToMailboxAndForward)` of `address`.
fn forwarding(tenant: &TenantFile, address: &str) -> (Option<String>, Option<String>, bool) {
    let m = common::mailbox(tenant, address);
    (
        m.forwarding_address.clone(),
        m.forwarding_smtp_address.clone(),
        m.deliver_to_mailbox_and_forward,
    )
}

fn assert_forwarding_applied(tenant: &TenantFile) {
    assert_eq!(
        forwarding(tenant, "support@fabrikam.com"),
        (
            None,
            Some("partner@fabrikam-partner.example".to_owned()),
            true
        )
    );
    assert_eq!(
        forwarding(tenant, "buchhaltung@fabrikam.com"),
        (Some("anna@fabrikam.com".to_owned()), None, false)
    );
}

fn assert_plan_shows_forwarding(plan: &Run) {
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    for line in [
        "~ forwarding.to",
        "(none) -> partner@fabrikam-partner.example",
        "~ forwarding.keepCopy",
        "~ forwarding.toRecipient",
        "(none) -> anna@fabrikam.com",
    ] {
        assert!(plan.stdout.contains(line), "`{line}`:\n{}", plan.stdout);
    }
    // Anna is inside: only support@'s forward is outside the accepted domains.
    assert_eq!(
        plan.stdout.matches("explain SBX209").count()
            + plan.stderr.matches("explain SBX209").count(),
        1,
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
}

#[test]
fn forwarding_is_planned_applied_rolled_back_and_exported_on_the_file_backend() {
    let project = Project::new();
    let original = project.tenant();
    policies(&project);
    assert_plan_shows_forwarding(&project.run(&["plan", "--detailed-exitcode"]));

    let run = common::new_run(&project, || {
        let applied = project.run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    assert_forwarding_applied(&project.tenant());
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
        "the rollback restores the tenant"
    );
    // Back where it started, the forwarding the policies ask for is drift.
    let drift = project.run(&["drift"]);
    assert!(
        drift
            .stdout
            .contains("forwarding.to: desired partner@fabrikam-partner.example, actual (unset)"),
        "{}\n{}",
        drift.stdout,
        drift.stderr
    );
    assert!(
        drift
            .stdout
            .contains("forwarding.toRecipient: desired anna@fabrikam.com, actual (unset)"),
        "{}",
        drift.stdout
    );
}

/// Exports `forwarding` of every mailbox with `run`, checks what was written and that a
/// plan of the export finds nothing.
fn exported_plan_is_empty(project: &Project, run: impl Fn(&[&str]) -> Run) {
    let out = project.path().join("exported");
    let out = out.to_str().unwrap();
    let export = run(&["export", "--fields", "forwarding", "--out", out]);
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    let support = std::fs::read_to_string(Path::new(out).join("support.yaml")).unwrap();
    assert!(
        support.contains("forwarding:\n  to: partner@fabrikam-partner.example\n  keepCopy: true\n"),
        "{support}"
    );
    let buchhaltung = std::fs::read_to_string(Path::new(out).join("buchhaltung.yaml")).unwrap();
    assert!(
        buchhaltung.contains("forwarding:\n  to: anna@fabrikam.com\n  keepCopy: false\n"),
        "{buchhaltung}"
    );
    let plan = run(&["plan", "--detailed-exitcode", "--policies", out]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[test]
fn forwarding_is_planned_applied_rolled_back_and_exported_through_the_simulator() {
    let project = Project::new();
    policies(&project);
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let original = sim.tenant();
    assert_plan_shows_forwarding(&exo(&project, &sim, &["plan", "--detailed-exitcode"]));

    let run = common::new_run(&project, || {
        let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    assert_forwarding_applied(&sim.tenant());
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    exported_plan_is_empty(&project, |args| exo(&project, &sim, args));

    let rolled_back = exo(&project, &sim, &["rollback", &run, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        common::normalized(sim.tenant()),
        common::normalized(original),
        "the rollback restores the tenant"
    );
}
