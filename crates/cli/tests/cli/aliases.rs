//! `aliases` end to end, on the file backend and through the simulator over HTTP: plan shows
//! the list before and after, apply writes and verifies it, rollback restores the addresses,
//! drift reports them, and an export of them plans empty. The primary address stays.

use sharedbox_exo_sim::{SimConfig, SimServer};

use crate::common::{self, Project, TENANT, exo};

/// The fixture tenant, with the addresses Exchange gives `support@fabrikam.com`: its primary
/// and an X500 address, which `aliases` never touches.
fn tenant_text() -> String {
    let primary = "    primarySmtpAddress: support@fabrikam.com\n";
    assert!(TENANT.contains(primary));
    TENANT.replacen(
        primary,
        &format!("{primary}    emailAddresses: [\"SMTP:support@fabrikam.com\", \"X500:/o=ExchangeLabs/cn=Recipients/cn=support\"]\n"),
        1,
    )
}

const HEADER: &str =
    "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";

/// The addresses of `support@fabrikam.com`, sorted.
fn addresses(tenant: &sharedbox_file::TenantFile) -> Vec<String> {
    let mut all = common::mailbox(tenant, "support@fabrikam.com")
        .email_addresses
        .clone();
    all.sort();
    all
}

/// Plans, applies, changes and rolls back aliases with `run` (the file backend or the
/// simulator), reading the tenant with `tenant`.
fn plan_apply_rollback(
    project: &Project,
    run: &dyn Fn(&[&str]) -> common::Run,
    tenant: &dyn Fn() -> sharedbox_file::TenantFile,
) {
    project.policy(
        "support.yaml",
        &format!("{HEADER}aliases: [help@fabrikam.com, Sales@fabrikam.com]\n"),
    );
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("~ aliases = ["), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("+ help@fabrikam.com"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ sales@fabrikam.com"),
        "{}",
        plan.stdout
    );
    let applied = run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let first = addresses(&tenant());
    assert_eq!(
        first,
        [
            "SMTP:support@fabrikam.com",
            "X500:/o=ExchangeLabs/cn=Recipients/cn=support",
            "smtp:help@fabrikam.com",
            "smtp:sales@fabrikam.com"
        ]
    );
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "applied = converged: {}", again.stdout);

    // Drift: an address added by hand is reported, then the policy changes.
    project.policy(
        "support.yaml",
        &format!("{HEADER}aliases: [sales@fabrikam.com, new@fabrikam.com]\n"),
    );
    let drift = run(&["drift", "--format", "json", "--detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    let report: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let property = report["mailboxes"][0]["differingProperties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["property"] == "aliases")
        .cloned()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(
        property["desired"],
        serde_json::json!(["new@fabrikam.com", "sales@fabrikam.com"])
    );
    assert_eq!(
        property["actual"],
        serde_json::json!(["help@fabrikam.com", "sales@fabrikam.com"])
    );

    let run_id = common::new_run(project, || {
        let applied = run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    assert_eq!(
        addresses(&tenant()),
        [
            "SMTP:support@fabrikam.com",
            "X500:/o=ExchangeLabs/cn=Recipients/cn=support",
            "smtp:new@fabrikam.com",
            "smtp:sales@fabrikam.com"
        ]
    );
    let shown = run(&["runs", "show", &run_id]);
    assert!(
        shown.stdout.contains("- aliases = help@fabrikam.com"),
        "{}",
        shown.stdout
    );
    let rolled_back = run(&["rollback", &run_id, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        addresses(&tenant()),
        first,
        "rollback restores the addresses"
    );
}

#[test]
fn aliases_plan_apply_drift_and_roll_back_on_the_file_backend() {
    let project = Project::with_tenant(&tenant_text());
    plan_apply_rollback(&project, &|args| project.run(args), &|| project.tenant());
}

#[test]
fn aliases_plan_apply_drift_and_roll_back_through_the_simulator() {
    let project = Project::with_tenant(&tenant_text());
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    plan_apply_rollback(&project, &|args| exo(&project, &sim, args), &|| {
        sim.tenant()
    });
    assert!(
        sim.counters().total_writes() >= 6,
        "the writes went over the wire"
    );
}

#[test]
fn an_alias_another_recipient_holds_fails_the_plan_over_the_wire_before_any_write() {
    let project = Project::with_tenant(&tenant_text());
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}aliases: [help@fabrikam.com, anna.berg@fabrikam.com, info@contoso.com]\n"
        ),
    );
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("plan::alias-held-by-another-recipient")
            && plan
                .stderr
                .contains("`anna.berg@fabrikam.com` in `aliases`")
            && plan.stderr.contains("`anna@fabrikam.com` (UserMailbox)"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("support.yaml:4:"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains("plan::alias-domain-not-accepted")
            && plan.stderr.contains("`info@contoso.com` in `aliases`"),
        "{}",
        plan.stderr
    );
    let apply = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1);
    assert_eq!(sim.counters().total_writes(), 0, "nothing is written");
}

#[test]
fn exported_aliases_plan_empty() {
    let project = Project::with_tenant(&tenant_text());
    project.policy(
        "support.yaml",
        &format!("{HEADER}aliases: [help@fabrikam.com, sales@fabrikam.com]\n"),
    );
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    std::fs::remove_file(project.path().join("policies/support.yaml")).unwrap();
    let export = project.run(&[
        "export",
        "--fields",
        "aliases",
        "--mailbox",
        "support@fabrikam.com",
    ]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(project.path().join("policies/support.yaml")).unwrap();
    assert!(
        text.contains("aliases:\n  - help@fabrikam.com\n  - sales@fabrikam.com\n"),
        "{text}"
    );
    assert!(!text.contains("sendAs"), "only the chosen field: {text}");
    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}
