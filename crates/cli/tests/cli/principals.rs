//! Principals of every kind through the wire (`--tenant exo:` against the simulator): a
//! service principal named `app:<appId>` is granted FullAccess and Send As; the kinds a
//! field takes are checked before any write (a group as moderator is a plan error at its
//! file:line:column, a security group without mail and `autoMapping` on a group are lints);
//! a revoke of a user without mail (its row a SID that `Get-User` resolves) can be undone,
//! only a truly orphaned SID cannot, and the plan says so before apply.

use crate::common::{self, exo};

use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";
const APP_ID: &str = "71487acd-ec93-476d-bd0e-6c8b31831053";
const APP_OBJECT_ID: &str = "6233fba6-0198-4277-892f-9275bf728bcc";
const SCANNER_SID: &str = "S-1-5-21-1111111111-2222222222-3333333333-4711";
const ORPHAN_SID: &str = "S-1-5-21-1111111111-2222222222-3333333333-1107";

/// The fixture tenant with a service principal, a user and a security group without mail;
/// the user holds FullAccess on support@ (its row shows its SID), next to the fixture's
/// orphaned SID.
fn tenant() -> String {
    let extra = format!(
        "recipients:
  - externalDirectoryObjectId: {APP_OBJECT_ID}
    guid: 0f4c7a51-1a2b-4c3d-8e9f-001122334455
    name: {APP_OBJECT_ID}
    displayName: Ticket system (IMAP)
    primarySmtpAddress: ''
    recipientTypeDetails: ServicePrincipal
    appId: {APP_ID}
  - externalDirectoryObjectId: 5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9
    guid: 5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9
    name: 5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9
    displayName: Scanner Account
    primarySmtpAddress: ''
    userPrincipalName: scanner@fabrikam.onmicrosoft.com
    sid: {SCANNER_SID}
    recipientTypeDetails: User
  - externalDirectoryObjectId: 8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968
    guid: 8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968
    name: Support Staff
    displayName: Support Staff
    primarySmtpAddress: ''
    recipientTypeDetails: UniversalSecurityGroup
"
    );
    let with_recipients = common::TENANT.replacen("recipients:\n", &extra, 1);
    with_recipients.replacen(
        "      - {user: \"S-1-5-21-1111111111-2222222222-3333333333-1107\", accessRights: [FullAccess]}\n",
        &format!(
            "      - {{user: \"{ORPHAN_SID}\", accessRights: [FullAccess]}}\n      - {{user: \"{SCANNER_SID}\", accessRights: [FullAccess]}}\n"
        ),
        1,
    )
}

fn sim(project: &common::Project) -> SimHandle {
    SimServer::start(project.tenant(), SimConfig::default()).unwrap()
}

#[test]
fn a_group_as_moderator_is_a_plan_error_at_its_position_before_any_write() {
    let project = common::Project::with_tenant(&tenant());
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nmoderation:\n  enabled: true\n  moderators:\n    - david@fabrikam.com\n    - helpdesk@fabrikam.com\n"
        ),
    );
    let sim = sim(&project);
    let run = exo(&project, &sim, &["plan"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("moderator-kind"), "{}", run.stderr);
    assert!(
        run.stderr.contains("support.yaml:8:7"),
        "file:line:column of the entry: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("only mailboxes, mail users and mail contacts"),
        "{}",
        run.stderr
    );
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_ne!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(sim.counters().total_writes(), 0, "nothing was written");
}

#[test]
fn a_service_principal_is_granted_and_only_the_orphaned_sid_cannot_be_undone() {
    let project = common::Project::with_tenant(&tenant());
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com, \"app:{APP_ID}\"]\nfullAccess:\n  - principal: anna@fabrikam.com\n  - {{principal: \"APP:{APP_ID}\", autoMapping: false}}\n  - {{principal: 8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968, autoMapping: true}}\n  - {{principal: helpdesk@fabrikam.com, autoMapping: true}}\n"
        ),
    );
    let sim = sim(&project);
    let plan = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    // The lints backed by the Add-MailboxPermission doc.
    assert!(plan.stderr.contains("SBX203"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains("Support Staff") || plan.stderr.contains("8e7d6c5b"),
        "{}",
        plan.stderr
    );
    assert_eq!(
        plan.stderr
            .matches("`autoMapping: true` on the FullAccess grant")
            .count(),
        2,
        "{}",
        plan.stderr
    );
    // Both the orphan and the user without mail are revoked; only the orphan is final.
    // A service principal is shown the way a policy names it, not by its object id.
    assert!(
        plan.stdout.contains(&format!("+ app:{APP_ID}")),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains(APP_OBJECT_ID), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("scanner@fabrikam.onmicrosoft.com"),
        "{}",
        plan.stdout
    );
    let tail = plan
        .stdout
        .split("cannot be undone by `sharedbox rollback`:")
        .nth(1)
        .unwrap_or_else(|| panic!("no irreversible call-out: {}", plan.stdout));
    assert!(tail.contains(ORPHAN_SID), "{tail}");
    assert!(!tail.contains("scanner"), "{tail}");
    assert!(
        plan.stdout.contains("1 step cannot be undone"),
        "{}",
        plan.stdout
    );

    let markdown = exo(&project, &sim, &["plan", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("1 step cannot be undone"),
        "{}\n{}",
        markdown.stdout,
        markdown.stderr
    );

    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let tenant = sim.tenant();
    let support = common::mailbox(&tenant, "support@fabrikam.com");
    assert!(
        support
            .mailbox_permissions
            .iter()
            .any(|p| p.user == APP_OBJECT_ID && p.access_rights.iter().any(|r| r == "FullAccess")),
        "{:?}",
        support.mailbox_permissions
    );
    assert!(
        support
            .recipient_permissions
            .iter()
            .any(|p| p.trustee == APP_OBJECT_ID),
        "{:?}",
        support.recipient_permissions
    );
    assert!(
        !support
            .mailbox_permissions
            .iter()
            .any(|p| p.user == SCANNER_SID || p.user == ORPHAN_SID),
        "{:?}",
        support.mailbox_permissions
    );
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

const NEW_APP_ID: &str = "ca73fffa-cedb-4b84-860f-d7fb8aa8a6c1";
const NEW_OBJECT_ID: &str = "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5";

#[test]
fn a_missing_registration_is_created_first_and_rolled_back_only_when_the_run_made_it() {
    let project = common::Project::with_tenant(&tenant());
    project.policy(
        "tenant.yaml",
        &format!(
            "apiVersion: sharedbox/v1\nkind: TenantSettings\nservicePrincipals:\n  - {{appId: {NEW_APP_ID}, objectId: {NEW_OBJECT_ID}, displayName: Mail archiver}}\n  - {{appId: {APP_ID}, objectId: {APP_OBJECT_ID}}}\n"
        ),
    );
    project.policy(
        "sales.yaml",
        &format!(
            "{HEADER}mailbox: sales@fabrikam.com\nfullAccess:\n  - {{principal: \"app:{NEW_APP_ID}\", autoMapping: false}}\n"
        ),
    );
    let sim = sim(&project);
    let before = common::normalized(sim.tenant());
    let plan = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("servicePrincipals.app:{NEW_APP_ID}")),
        "{}",
        plan.stdout
    );
    // The registration that exists already is not created again.
    assert!(
        !plan
            .stdout
            .contains(&format!("servicePrincipals.app:{APP_ID}")),
        "{}",
        plan.stdout
    );

    // Drift reports the missing registration the policies need, as the plan does.
    let drift = exo(
        &project,
        &sim,
        &["drift", "--format", "json", "--detailed-exitcode"],
    );
    assert_eq!(drift.code, 2, "{}\n{}", drift.stdout, drift.stderr);
    let report: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let differing = &report["tenantSettings"]["differingProperties"];
    assert_eq!(
        differing,
        &serde_json::json!([{
            "property": format!("servicePrincipals.app:{NEW_APP_ID}"),
            "desired": "present",
            "actual": "absent"
        }]),
        "{}",
        drift.stdout
    );

    let mut applied = None;
    let run_id = common::new_run(&project, || {
        applied = Some(exo(&project, &sim, &["apply", "--auto-approve"]));
    });
    let applied = applied.unwrap();
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(sim.counters().writes.get("New-ServicePrincipal"), Some(&1));
    let tenant = sim.tenant();
    assert!(
        tenant
            .recipients
            .iter()
            .any(|r| r.app_id.as_deref() == Some(NEW_APP_ID) && r.display_name == "Mail archiver")
    );
    let sales = common::mailbox(&tenant, "sales@fabrikam.com");
    assert!(
        sales
            .mailbox_permissions
            .iter()
            .any(|p| p.user == NEW_OBJECT_ID),
        "{:?}",
        sales.mailbox_permissions
    );
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    let rollback = exo(&project, &sim, &["rollback", &run_id, "--auto-approve"]);
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    assert_eq!(
        sim.counters().writes.get("Remove-ServicePrincipal"),
        Some(&1)
    );
    assert_eq!(
        common::normalized(sim.tenant()),
        before,
        "the grant and the registration the run made are gone; the one it found stays"
    );
}

#[test]
fn without_the_directory_reads_plans_work_and_doctor_says_what_is_lost() {
    let project = common::Project::with_tenant(&tenant());
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess: [{{principal: anna@fabrikam.com}}]\n"),
    );
    let reads: Vec<String> = sharedbox_exo::doctor::READER_CMDLETS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let sim = SimServer::start(
        project.tenant(),
        SimConfig {
            roles: vec![sharedbox_exo_sim::Role {
                token_prefix: "sim-token".into(),
                cmdlets: reads,
            }],
            ..SimConfig::default()
        },
    )
    .unwrap();
    let plan = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    // The user without mail and the orphan cannot be told apart now: both are "not looked
    // up", and their revocation is undone by granting the same string again.
    assert_eq!(
        plan.stdout.matches("(not looked up)").count(),
        2,
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("cannot be undone"), "{}", plan.stdout);
    let doctor = exo(&project, &sim, &["doctor"]);
    assert!(
        doctor
            .stdout
            .contains("optional:  `Get-ServicePrincipal`, `Get-User`, `Get-Group` not allowed"),
        "{}",
        doctor.stdout
    );
}
