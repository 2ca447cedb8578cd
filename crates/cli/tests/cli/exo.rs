//! The whole loop against Exchange Online's wire format: `--tenant exo:` with
//! `SHAREDBOX_EXO_ENDPOINT` pointing at the simulator gives the file backend's plan,
//! `apply` converges to the file backend's end state, and survives 429s and 503s.

use crate::common::{self, exo, exo_as};

use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};
use sharedbox_file::TenantFile;

fn sim(project: &common::Project, config: SimConfig) -> SimHandle {
    SimServer::start(project.tenant(), config).unwrap()
}

#[test]
fn the_plan_over_the_wire_is_the_file_backends_plan_and_apply_converges() {
    let project = common::Project::demo();
    let sim = sim(&project, SimConfig::default());
    let over_wire = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(over_wire.code, 2, "{}", over_wire.stderr);
    let from_file = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(from_file.code, 2, "{}", from_file.stderr);
    assert_eq!(over_wire.stdout, from_file.stdout);
    assert!(over_wire.stdout.contains("Gesendete Elemente"));
    assert!(!over_wire.stderr.contains("sim-token-7f3a"));
    assert_eq!(sim.counters().total_writes(), 0, "plan writes nothing");

    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // The same apply on the file backend ends in the same tenant (mailboxes compared in
    // address order: new mailboxes are created concurrently over the wire).
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    let by_address = |mut tenant: sharedbox_file::TenantFile| {
        tenant
            .mailboxes
            .sort_by(|a, b| a.primary_smtp_address.cmp(&b.primary_smtp_address));
        tenant
    };
    assert_eq!(by_address(sim.tenant()), by_address(project.tenant()));
}

#[test]
fn apply_converges_with_a_fifth_of_requests_refused() {
    let project = common::Project::demo();
    let sim = sim(
        &project,
        SimConfig {
            unavailable_rate: 0.2,
            unavailable_retry_after_secs: Some(0),
            concurrency_limit: Some(3),
            retry_after_secs: 0,
            seed: 2026,
            ..SimConfig::default()
        },
    );
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let counters = sim.counters();
    assert!(counters.unavailable > 5, "{counters:?}");
    // Every planned mailbox exists exactly once: no New-Mailbox ran twice.
    let tenant: TenantFile = sim.tenant();
    for address in ["projekte@contoso.com", "onboarding@contoso.com"] {
        let n = tenant
            .mailboxes
            .iter()
            .filter(|m| m.primary_smtp_address == address)
            .count();
        assert_eq!(n, 1, "{address}");
    }
    sim.set_config(SimConfig::default());
    let again = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

#[test]
fn doctor_tells_reader_from_writer() {
    let project = common::Project::demo();
    let sim = sim(
        &project,
        SimConfig {
            roles: vec![sharedbox_exo_sim::Role {
                token_prefix: "reader".into(),
                cmdlets: vec!["Get-*".into()],
            }],
            ..SimConfig::default()
        },
    );
    let writer = exo(&project, &sim, &["doctor"]);
    assert_eq!(writer.code, 0, "{}\n{}", writer.stdout, writer.stderr);
    assert!(writer.stdout.contains("(writer)"), "{}", writer.stdout);
    let reader = common::run_with_env(
        project.path(),
        &["--tenant", "exo:contoso.onmicrosoft.com", "doctor"],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
            ("SHAREDBOX_ACCESS_TOKEN", "reader-token"),
        ],
    );
    assert_eq!(reader.code, 0, "{}\n{}", reader.stdout, reader.stderr);
    assert!(reader.stdout.contains("but not apply"), "{}", reader.stdout);
    assert!(reader.stdout.contains("New-Mailbox"), "{}", reader.stdout);
    // The reader cannot apply: Exchange answers 403, sharedbox names the role.
    let refused = common::run_with_env(
        project.path(),
        &[
            "--tenant",
            "exo:contoso.onmicrosoft.com",
            "apply",
            "--auto-approve",
        ],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
            ("SHAREDBOX_ACCESS_TOKEN", "reader-token"),
        ],
    );
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("403"), "{}", refused.stderr);
    assert_eq!(sim.counters().tenant_changes, 0);
}

#[test]
fn the_documented_read_only_role_set_plans_and_cannot_apply() {
    use sharedbox_exo_sim::Role;
    let project = common::Project::demo();
    let view_only = ["View-Only Recipients", "View-Only Configuration"];
    let sim = sim(
        &project,
        SimConfig {
            roles: vec![
                // docs/exchange-online.md: the view-only roles plus a custom role that
                // holds only `Get-RecipientPermission`.
                Role::of_roles("reader", &view_only, &["Get-RecipientPermission"]).unwrap(),
                // The view-only roles alone, which Global Reader-style groups hold.
                Role::of_roles("viewonly", &view_only, &[]).unwrap(),
            ],
            ..SimConfig::default()
        },
    );
    let reader = exo_as(
        &project,
        &sim,
        "reader-token",
        &["plan", "--detailed-exitcode"],
    );
    assert_eq!(reader.code, 2, "{}\n{}", reader.stdout, reader.stderr);
    let from_file = project.run(&["plan", "--detailed-exitcode"]);
    let summary = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("Plan:"))
            .map(str::to_owned)
    };
    assert_eq!(summary(&reader.stdout), summary(&from_file.stdout));
    // Without `Get-ServicePrincipal` (Role Management, too much for a reader) a SID nothing
    // resolves is "not looked up", not orphaned: it might be a service principal.
    assert!(
        reader.stdout.contains("(not looked up)"),
        "{}",
        reader.stdout
    );
    assert!(!reader.stdout.contains("(orphaned)"), "{}", reader.stdout);
    let doctor = exo_as(&project, &sim, "reader-token", &["doctor"]);
    assert!(doctor.stdout.contains("but not apply"), "{}", doctor.stdout);
    let apply = exo_as(&project, &sim, "reader-token", &["apply", "--auto-approve"]);
    assert_ne!(apply.code, 0);
    assert!(
        apply
            .stderr
            .contains("is not allowed for this identity (HTTP 403)"),
        "{}",
        apply.stderr
    );
    assert_eq!(sim.counters().tenant_changes, 0);

    // Without the custom role the Send As read is refused, and the hint says what to add.
    let viewonly = exo_as(&project, &sim, "viewonly-token", &["plan"]);
    assert_ne!(viewonly.code, 0);
    assert!(
        viewonly.stderr.contains("Get-RecipientPermission"),
        "{}",
        viewonly.stderr
    );
    assert!(
        viewonly.stderr.contains("custom role"),
        "{}",
        viewonly.stderr
    );
    let doctor = exo_as(&project, &sim, "viewonly-token", &["doctor"]);
    assert!(
        doctor
            .stdout
            .contains("Get-RecipientPermission (role: Mail Recipients"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn exo_needs_credentials_and_https() {
    let project = common::Project::demo();
    let none = project.run(&["--tenant", "exo:contoso.onmicrosoft.com", "plan"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no credentials"), "{}", none.stderr);
    let plain = common::run_with_env(
        project.path(),
        &["--tenant", "exo:contoso.onmicrosoft.com", "plan"],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", "http://exo.example.com"),
            ("SHAREDBOX_ACCESS_TOKEN", "secret-token-1234"),
        ],
    );
    assert_eq!(plain.code, 1);
    assert!(plain.stderr.contains("loopback"), "{}", plain.stderr);
    assert!(!plain.stderr.contains("secret-token-1234"));
}

/// `sharedbox.yaml` for Exchange Online with `auth` given as YAML flow text.
fn exo_config(project: &common::Project, auth: &str) {
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        format!(
            "policies: policies\ntenant:\n  backend: exchange-online\n  tenant: contoso.onmicrosoft.com\n  auth: {auth}\n"
        ),
    )
    .unwrap();
}

#[test]
fn tenant_auth_in_the_config_file_is_used_and_checked() {
    let project = common::Project::demo();
    let from_file = project.run(&["plan"]);
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    let sim = sim(&project, SimConfig::default());

    exo_config(&project, "{method: access-token, tokenEnv: EXO_TOKEN}");
    let planned = common::run_with_env(
        project.path(),
        &["plan"],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
            ("EXO_TOKEN", "token-from-exo-token"),
        ],
    );
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert_eq!(planned.stdout, from_file.stdout);

    exo_config(
        &project,
        "{method: client-secret, clientId: 11111111-2222-3333-4444-555555555555}",
    );
    let no_secret = common::run_with_env(
        project.path(),
        &["plan"],
        &[("SHAREDBOX_EXO_ENDPOINT", &sim.base_url())],
    );
    assert_eq!(no_secret.code, 1, "{}", no_secret.stderr);
    assert!(
        no_secret.stderr.contains("`SHAREDBOX_CLIENT_SECRET`"),
        "{}",
        no_secret.stderr
    );
    assert!(no_secret.stderr.contains("hint:") || no_secret.stderr.contains("help:"));

    exo_config(
        &project,
        "{method: client-secret, clientSecret: inline-secret-99}",
    );
    let inline = project.run(&["plan"]);
    assert_eq!(inline.code, 1, "{}", inline.stderr);
    assert!(
        inline.stderr.contains("sharedbox.yaml:"),
        "{}",
        inline.stderr
    );
    assert!(inline.stderr.contains("clientSecret"), "{}", inline.stderr);
    assert_eq!(sim.counters().total_writes(), 0);
}

/// The contact-center example over the wire: the organisation's SMTP AUTH
/// (`Get-TransportConfig`) shows what `inherit` means, SBX205 names the service account that
/// logs in with SMTP AUTH off, and a `TenantSettings` document manages the organisation's
/// switch through `Set-TransportConfig`.
#[test]
fn smtp_auth_is_judged_for_the_account_that_authenticates_over_the_wire() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contact-center");
    let project =
        common::Project::with_tenant(&std::fs::read_to_string(root.join("tenant.yaml")).unwrap());
    for name in ["defaults.yaml", "service.yaml"] {
        project.policy(
            name,
            &std::fs::read_to_string(root.join("policies").join(name)).unwrap(),
        );
    }
    let sim = sim(&project, SimConfig::default());
    let wire = |args: &[&str]| {
        let mut all = vec!["--tenant", "exo:contoso-service.onmicrosoft.com"];
        all.extend_from_slice(args);
        common::run_with_env(
            project.path(),
            &all,
            &[
                ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
                ("SHAREDBOX_ACCESS_TOKEN", "sim-token-7f3a"),
            ],
        )
    };
    let plan = wire(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stdout.contains(
            "clients.smtpAuth              = inherit (disabled by the organisation) -> disabled"
        ),
        "{}",
        plan.stdout
    );
    assert!(plan.stderr.contains("SBX205"), "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("`svc-ccaas@contoso-service.com` reads"),
        "{}",
        plan.stderr
    );

    // The service account's own setting is read (`Get-CASMailbox -Identity` of the user
    // mailbox): enabled for it alone, it is no longer reported.
    let mut tenant = sim.tenant();
    let account = tenant
        .recipients
        .iter_mut()
        .find(|r| r.primary_smtp_address == "svc-ccaas@contoso-service.com")
        .unwrap();
    account.smtp_client_authentication_disabled = Some(false);
    sim.set_tenant(tenant.clone());
    let plan = wire(&["plan", "--detailed-exitcode"]);
    assert!(!plan.stderr.contains("SBX205"), "{}", plan.stderr);
    tenant
        .recipients
        .iter_mut()
        .find(|r| r.primary_smtp_address == "svc-ccaas@contoso-service.com")
        .unwrap()
        .smtp_client_authentication_disabled = None;
    sim.set_tenant(tenant);

    // The organisation enables SMTP AUTH: planned through `Set-TransportConfig`, and the
    // service account, which inherits it, is no longer reported.
    project.policy(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsmtpClientAuthenticationDisabled: false\n",
    );
    let plan = wire(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("~ smtpClientAuthenticationDisabled = true -> false"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stderr.contains("SBX205"), "{}", plan.stderr);
    let applied = wire(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(
        sim.tenant()
            .organization
            .smtp_client_authentication_disabled,
        Some(false)
    );
    let again = wire(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

/// `sentItems.copyForSmtpSubmission` reaches Exchange (`Set-Mailbox
/// -MessageCopyForSMTPClientSubmissionEnabled`), and SBX103 tells SMTP AUTH as the mailbox
/// with Exchange's copy and an IMAP client apart from the same with Exchange's copy off.
#[test]
fn the_smtp_submission_copy_is_planned_applied_and_linted_over_the_wire() {
    let project = common::Project::demo();
    let sim = sim(&project, SimConfig::default());
    let scanner = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n";
    project.policy(
        "support.yaml",
        &format!("{scanner}clients: {{imap: true, smtpAuth: enabled}}\n"),
    );
    let plan = exo(&project, &sim, &["plan", "--target", "support@contoso.com"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stderr.contains("SBX103"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains("smtp-submission-sent-copy"),
        "{}",
        plan.stderr
    );

    project.policy(
        "support.yaml",
        &format!(
            "{scanner}sentItems: {{copyForSmtpSubmission: false}}\nclients: {{imap: true, smtpAuth: enabled}}\n"
        ),
    );
    let plan = exo(&project, &sim, &["plan", "--target", "support@contoso.com"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(!plan.stderr.contains("SBX103"), "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("sentItems.copyForSmtpSubmission = true -> false"),
        "{}",
        plan.stdout
    );
    let applied = exo(
        &project,
        &sim,
        &["apply", "--auto-approve", "--target", "support@contoso.com"],
    );
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let tenant = sim.tenant();
    let support = common::mailbox(&tenant, "support@contoso.com");
    assert!(!support.message_copy_for_smtp_client_submission_enabled);
    assert_eq!(
        support.cas_mailbox.smtp_client_authentication_disabled,
        Some(false)
    );
}

/// The autoMapping of Anna's FullAccess on `support@` as the simulator holds it.
fn annas_auto_mapping(sim: &SimHandle) -> Option<Option<bool>> {
    let tenant = sim.tenant();
    let support = common::mailbox(&tenant, "support@fabrikam.com");
    support
        .mailbox_permissions
        .iter()
        .find(|p| p.user.starts_with("anna"))
        .map(|p| p.auto_mapping)
}

/// Exchange never reports autoMapping: a policy that changes it on an existing grant is
/// planned against the policy at the git base (what sharedbox granted), as a revoke and
/// re-grant; the saved plan applies (re-derived with the same base) and its rollback grants
/// back with the value sharedbox had granted, not Exchange's silent default.
#[test]
fn a_changed_auto_mapping_is_planned_against_the_base_and_rolled_back_to_the_granted_value() {
    const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";
    let project = common::Project::new();
    // Without the fixture's orphaned grant on `support@` (revoked by any plan).
    let mut tenant = project.tenant();
    for mailbox in &mut tenant.mailboxes {
        mailbox
            .mailbox_permissions
            .retain(|p| !p.user.starts_with("S-1-5-21"));
    }
    project.write_tenant(&tenant);
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess: [{{principal: anna@fabrikam.com}}]\n"),
    );
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "policies"]);
    let sim = sim(&project, SimConfig::default());
    assert_eq!(annas_auto_mapping(&sim), Some(None));
    // Unchanged policy: nothing Exchange reports differs, nothing is planned.
    let same = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(same.code, 0, "{}\n{}", same.stdout, same.stderr);

    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess: [{{principal: anna@fabrikam.com, autoMapping: false}}]\n"),
    );
    let plan = exo(
        &project,
        &sim,
        &["plan", "--detailed-exitcode", "--out", "plan.json"],
    );
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("autoMapping can only be set when access is granted"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("# policy change"), "{}", plan.stdout);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.path().join("plan.json")).unwrap())
            .unwrap();
    assert!(saved["base_commit"].is_string(), "{saved}");

    let run = common::new_run(&project, || {
        let applied = exo(&project, &sim, &["apply", "plan.json"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    assert_eq!(annas_auto_mapping(&sim), Some(Some(false)));
    let rolled_back = exo(&project, &sim, &["rollback", &run, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        annas_auto_mapping(&sim),
        Some(Some(true)),
        "granted back as sharedbox had granted it (the base policy, no autoMapping: `true`)"
    );
}

/// Lint SBX202 works on Exchange Online: the accepted domains come from `Get-AcceptedDomain`.
#[test]
fn a_mailbox_outside_the_accepted_domains_is_an_error_over_the_wire() {
    let project = common::Project::new();
    project.policy(
        "neu.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: neu@fabrikam.co\ndisplayName: Neu\n",
    );
    let sim = sim(&project, SimConfig::default());
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("SBX202"), "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("`neu@fabrikam.co` is not in an accepted domain"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("(fabrikam.com,"), "{}", plan.stderr);
    assert_eq!(sim.counters().total_writes(), 0);
}

/// The client and visibility lints of the review run in a plan against Exchange Online: OWA
/// off with new Outlook on (SBX108), a hidden mailbox with senders (SBX109).
#[test]
fn owa_off_with_new_outlook_and_a_hidden_mailbox_with_senders_are_reported_over_the_wire() {
    let project = common::Project::new();
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nhiddenFromAddressLists: true\nsentItems: {copyForSendOnBehalf: true}\nsendOnBehalf: [clara@fabrikam.com]\nclients: {owa: false, newOutlook: true, outlook: false}\n",
    );
    let sim = sim(&project, SimConfig::default());
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    for code in ["SBX108", "SBX109"] {
        assert!(plan.stderr.contains(code), "{code}: {}", plan.stderr);
    }
    assert!(
        plan.stderr.contains("`clients.owa` is off, which also"),
        "{}",
        plan.stderr
    );
    assert_eq!(sim.counters().total_writes(), 0);
}

/// A soft-deleted mailbox keeps its addresses for 30 days. The rollback of a run that created
/// a mailbox soft-deletes it, never purges it (mail may have arrived since: it stays
/// recoverable), so the next plan stops at the policy's `mailbox:` line with how to restore or
/// purge it, before anything is written; so does a mailbox someone else removed.
#[test]
fn a_rolled_back_create_is_soft_deleted_and_its_address_stops_the_next_plan() {
    let project = common::Project::new();
    project.policy(
        "neu.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: neu@fabrikam.com\ndisplayName: Neu\n",
    );
    let sim = sim(&project, SimConfig::default());
    let run = common::new_run(&project, || {
        let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    let rolled_back = exo(&project, &sim, &["rollback", &run, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    let tenant = sim.tenant();
    assert!(
        !tenant
            .mailboxes
            .iter()
            .any(|m| m.primary_smtp_address == "neu@fabrikam.com")
    );
    assert!(
        tenant
            .soft_deleted_mailboxes
            .iter()
            .any(|m| m.primary_smtp_address == "neu@fabrikam.com"),
        "soft-deleted, recoverable: {:?}",
        tenant.soft_deleted_mailboxes
    );
    assert_eq!(
        sim.counters().cmdlet("Remove-Mailbox"),
        1,
        "one soft delete, no -PermanentlyDelete"
    );
    sim.reset_counters();
    let again = exo(&project, &sim, &["plan"]);
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again
            .stderr
            .contains("plan::address-held-by-soft-deleted-mailbox"),
        "{}",
        again.stderr
    );
    assert_eq!(sim.counters().total_writes(), 0);
    // Purged by hand once it is known to hold no mail (`Remove-Mailbox -PermanentlyDelete`),
    // the next apply creates it again.
    let mut tenant = sim.tenant();
    let index = tenant
        .soft_deleted_mailboxes
        .iter()
        .position(|m| m.primary_smtp_address == "neu@fabrikam.com")
        .unwrap();
    tenant.soft_deleted_mailboxes.remove(index);
    sim.set_tenant(tenant);
    let again = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(
        again.code, 0,
        "created again: {}\n{}",
        again.stdout, again.stderr
    );

    // A mailbox removed by someone else: the plan stops at the policy.
    let mut tenant = sim.tenant();
    let index = tenant
        .mailboxes
        .iter()
        .position(|m| m.primary_smtp_address == "neu@fabrikam.com")
        .unwrap();
    let removed = tenant.mailboxes.remove(index);
    tenant
        .soft_deleted_mailboxes
        .push(sharedbox_tenant::SoftDeletedMailbox::of(&removed));
    sim.set_tenant(tenant);
    sim.reset_counters();
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("plan::address-held-by-soft-deleted-mailbox"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("policies/neu.yaml:3:10"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("restore it ("), "{}", plan.stderr);
    assert_eq!(sim.counters().total_writes(), 0);
}

/// Hybrid: a mailbox synchronised from on-premises AD (`IsDirSynced`) cannot have what AD
/// masters changed in Exchange Online. The plan says so at the policy's field, instead of the
/// apply failing half-way; cloud settings (client access, sent copies) still plan and apply.
#[test]
fn properties_mastered_on_premises_are_a_plan_error_for_a_dir_synced_mailbox() {
    let project = common::Project::new();
    let mut tenant = project.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap()
        .is_dir_synced = true;
    project.write_tenant(&tenant);
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\ndisplayName: Support Neu\nsentItems: {copyForSendAs: true}\nclients: {imap: false}\n",
    );
    let sim = sim(&project, SimConfig::default());
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("plan::mastered-on-premises"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("policies/support.yaml:4:14"),
        "{}",
        plan.stderr
    );
    assert_eq!(sim.counters().total_writes(), 0);

    // Without the display name, the cloud settings apply.
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nsentItems: {copyForSendAs: true}\nclients: {imap: false}\n",
    );
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let support = sim.tenant();
    let support = common::mailbox(&support, "support@fabrikam.com");
    assert!(support.message_copy_for_sent_as_enabled);
    assert!(support.is_dir_synced, "read back as synchronised");

    // Its Exchange attributes moved to the cloud (`IsExchangeCloudManaged`): hiding it from
    // the address lists plans and applies; the display name still comes from AD.
    let mut tenant = sim.tenant();
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap()
        .is_exchange_cloud_managed = true;
    sim.set_tenant(tenant);
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\ndisplayName: Support Neu\nhiddenFromAddressLists: true\n",
    );
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("`displayName`"), "{}", plan.stderr);
    assert!(
        !plan.stderr.contains("`hiddenFromAddressLists`"),
        "{}",
        plan.stderr
    );
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nhiddenFromAddressLists: true\n",
    );
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let tenant = sim.tenant();
    assert!(common::mailbox(&tenant, "support@fabrikam.com").hidden_from_address_lists_enabled);
}

/// Hybrid: a sender whose mailbox is on premises (a `MailUser` in Exchange Online) gets no
/// server-side sent copy: lint SBX207 in a plan against the simulator.
#[test]
fn a_sender_on_premises_with_the_sent_copy_on_is_reported_over_the_wire() {
    let project = common::Project::new();
    let mut tenant = project.tenant();
    let mut onprem = tenant.recipients[0].clone();
    onprem.external_directory_object_id = Some("0a1b2c3d-0000-4000-8000-0000000000ff".into());
    onprem.guid = "9f000000-0000-4000-8000-0000000000ff".into();
    onprem.name = "onprem".into();
    onprem.display_name = "On Prem".into();
    onprem.primary_smtp_address = "onprem@fabrikam.com".into();
    onprem.user_principal_name = Some("onprem@fabrikam.com".into());
    onprem.email_addresses = vec!["SMTP:onprem@fabrikam.com".into()];
    onprem.sid = None;
    onprem.recipient_type_details = "MailUser".into();
    tenant.recipients.push(onprem);
    project.write_tenant(&tenant);
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\nsentItems: {copyForSendAs: true}\nsendAs: [onprem@fabrikam.com]\n",
    );
    let sim = sim(&project, SimConfig::default());
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("SBX207"), "{}", plan.stderr);
    assert!(
        plan.stderr.contains("has its mailbox on premises"),
        "{}",
        plan.stderr
    );
}

/// The licence guard over the wire: hold and archive come with every plan (`Get-Mailbox`),
/// the size only with `--with-sizes` (`Get-MailboxStatistics`); SBX210 reports them while no
/// licence is assigned, and nothing is ever written for it.
#[test]
fn a_shared_mailbox_that_needs_a_licence_is_reported_over_the_wire() {
    let project = common::Project::new();
    let mut tenant = project.tenant();
    let support = tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    support.total_item_size_bytes = Some(53 << 30);
    support.sku_assigned = Some(false);
    project.write_tenant(&tenant);
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n",
    );
    let sim = sim(&project, SimConfig::default());
    let plan = exo(&project, &sim, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        !plan.stderr.contains("SBX210"),
        "the size is not read: {}",
        plan.stderr
    );
    assert_eq!(sim.counters().cmdlet("Get-MailboxStatistics"), 0);

    let sized = exo(&project, &sim, &["plan", "--with-sizes"]);
    assert_eq!(sized.code, 0, "{}", sized.stderr);
    assert!(sized.stderr.contains("SBX210"), "{}", sized.stderr);
    assert!(sized.stderr.contains("53.0 GB of mail"), "{}", sized.stderr);
    assert!(
        sized.stderr.contains("SKUAssigned: False"),
        "{}",
        sized.stderr
    );

    // Hold and archive are read with every plan.
    let mut tenant = sim.tenant();
    let support = tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    support.litigation_hold_enabled = true;
    support.archive_enabled = true;
    sim.set_tenant(tenant.clone());
    let held = exo(&project, &sim, &["plan"]);
    assert!(
        held.stderr.contains("has litigation hold and an archive,"),
        "{}",
        held.stderr
    );
    // A licence assigned: nothing to report.
    tenant
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap()
        .sku_assigned = Some(true);
    sim.set_tenant(tenant);
    let licensed = exo(&project, &sim, &["plan", "--with-sizes"]);
    assert!(!licensed.stderr.contains("SBX210"), "{}", licensed.stderr);
    assert_eq!(sim.counters().total_writes(), 0);
}
