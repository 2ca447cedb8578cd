//! `folders` end to end, on the file backend and over the wire against the simulator: a
//! calendar delegate (Ben: `Reviewer` -> `Editor` with `Delegate, CanViewPrivateItems`) and an
//! inbox reader (David) in a German mailbox are planned, applied, verified, re-planned empty,
//! exported (and the export re-plans empty) and rolled back to the exact state before; the
//! Inbox and Calendar are read only where a policy manages them; a delegate flag without
//! `Editor` is a located policy error, and the file backend (Exchange's reference) refuses
//! flags outside the calendar.

use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_file::TenantFile;
use sharedbox_tenant::{FolderPermission, WellKnownFolder};

use crate::common::{self, Project, exo};

const HEADER: &str =
    "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";
const SUPPORT: &str = "support@fabrikam.com";
const POLICY: &str = "folders:\n  calendar:\n    - {principal: ben@fabrikam.com, access: Editor, delegate: true, canViewPrivateItems: true}\n  inbox:\n    - {principal: david@fabrikam.com, access: Reviewer}\n";

/// The fixture with `support@` in German: its Inbox (`Posteingang`, built-in rows only) and
/// Calendar (`Kalender`, Ben as `Reviewer`).
fn tenant() -> String {
    let tenant = common::TENANT.replace(
        "        - {user: Clara Diaz, accessRights: [Reviewer]}\n    rootFolder:\n",
        concat!(
            "        - {user: Clara Diaz, accessRights: [Reviewer]}\n",
            "    inbox:\n",
            "      name: Posteingang\n",
            "      folderId: LgAAAAinbox\n",
            "      permissions:\n",
            "        - {user: Default, accessRights: [None]}\n",
            "        - {user: Anonymous, accessRights: [None]}\n",
            "    calendar:\n",
            "      name: Kalender\n",
            "      folderId: LgAAAAcalendar\n",
            "      permissions:\n",
            "        - {user: Default, accessRights: [AvailabilityOnly]}\n",
            "        - {user: Anonymous, accessRights: [None]}\n",
            "        - {user: Ben Krause, accessRights: [Reviewer]}\n",
            "    rootFolder:\n",
        ),
    );
    assert_ne!(
        tenant,
        common::TENANT,
        "the fixture has support's Sent Items"
    );
    tenant
}

fn project(policy: &str) -> Project {
    let project = Project::with_tenant(&tenant());
    project.policy("support.yaml", &format!("{HEADER}{policy}"));
    project
}

/// The entries of `support@`'s folder `folder` as sorted `address: Role [Flags]`.
fn entries(tenant: &TenantFile, folder: WellKnownFolder) -> Vec<String> {
    let m = common::mailbox(tenant, SUPPORT);
    let rows: Vec<FolderPermission> = m
        .folder(folder)
        .map(|f| f.permissions.clone())
        .unwrap_or_default();
    let mut out = common::folder_entries(tenant, &rows);
    // `folder_entries` sorts by address: the flags follow in the same order.
    let directory = tenant.directory();
    let mut flagged: Vec<(String, Vec<String>)> = rows
        .iter()
        .filter_map(|r| match directory.resolve_live(&r.user) {
            sharedbox_tenant::LivePrincipal::Recipient(p) => Some((
                p.primary_smtp_address.clone(),
                r.sharing_permission_flags.clone(),
            )),
            _ => None,
        })
        .collect();
    flagged.sort();
    for (line, (_, flags)) in out.iter_mut().zip(flagged) {
        if !flags.is_empty() {
            line.push_str(&format!(" [{}]", flags.join(",")));
        }
    }
    out
}

fn root_entries(tenant: &TenantFile) -> Vec<String> {
    let m = common::mailbox(tenant, SUPPORT);
    common::folder_entries(tenant, m.root_folder.as_deref().unwrap_or_default())
}

/// Plan, apply, re-plan, export and roll back through `run`, reading the tenant with `tenant`.
fn delegate_and_roll_back(
    project: &Project,
    run: &dyn Fn(&[&str]) -> common::Run,
    tenant: &dyn Fn() -> TenantFile,
) {
    let before = tenant();
    assert_eq!(
        entries(&before, WellKnownFolder::Calendar),
        ["ben@fabrikam.com: Reviewer"]
    );
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    for line in [
        "~ folders.calendar (folder \"Kalender\") = [",
        "- ben@fabrikam.com: Reviewer",
        "+ ben@fabrikam.com: Editor (delegate, private items)",
        "~ folders.inbox (folder \"Posteingang\") = [",
        "+ david@fabrikam.com: Reviewer",
        "+ folders.calendar (mailbox root) = ben@fabrikam.com: FolderVisible",
        "Plan: 0 to create, 4 to change, 0 to revoke.",
    ] {
        assert!(plan.stdout.contains(line), "`{line}` in:\n{}", plan.stdout);
    }
    let json = run(&["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let operations: Vec<&serde_json::Value> = document["mailboxes"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["operation"])
        .collect();
    assert!(
        operations.iter().any(|o| o["op"] == "set_folder_permission"
            && o["folder"] == "calendar"
            && o["flags"] == serde_json::json!(["Delegate", "CanViewPrivateItems"])),
        "{operations:?}"
    );

    let id = common::new_run(project, || {
        let applied = run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
        assert!(
            applied
                .stderr
                .contains("verified: the tenant shows all 4 changes"),
            "{}",
            applied.stderr
        );
    });
    let applied = tenant();
    assert_eq!(
        entries(&applied, WellKnownFolder::Calendar),
        ["ben@fabrikam.com: Editor [Delegate,CanViewPrivateItems]"]
    );
    assert_eq!(
        entries(&applied, WellKnownFolder::Inbox),
        ["david@fabrikam.com: Reviewer"]
    );
    assert_eq!(
        root_entries(&applied),
        [
            "ben@fabrikam.com: FolderVisible",
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: FolderVisible"
        ]
    );
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let drift = run(&["drift"]);
    assert_eq!(drift.code, 0, "in the desired state: {}", drift.stdout);

    // The export writes the delegate with its flags, and plans nothing.
    let out = project.path().join("exported");
    let export = run(&[
        "export",
        "--mailbox",
        SUPPORT,
        "--fields",
        "folders",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    let text = std::fs::read_to_string(out.join("support.yaml")).unwrap();
    for line in [
        "  # the folder is \"Kalender\" in this mailbox\n  calendar:\n    - principal: ben@fabrikam.com\n      access: Editor\n      delegate: true\n      canViewPrivateItems: true\n",
        "  inbox:\n    - principal: david@fabrikam.com\n      access: Reviewer\n",
    ] {
        assert!(text.contains(line), "`{line}` in:\n{text}");
    }
    let replan = run(&[
        "plan",
        "--detailed-exitcode",
        "--policies",
        out.to_str().unwrap(),
    ]);
    assert_eq!(replan.code, 0, "{}\n{}", replan.stdout, replan.stderr);

    let rolled_back = run(&["rollback", &id, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    let restored = tenant();
    assert_eq!(
        entries(&restored, WellKnownFolder::Calendar),
        ["ben@fabrikam.com: Reviewer"],
        "the role before, without flags"
    );
    assert_eq!(
        entries(&restored, WellKnownFolder::Inbox),
        Vec::<String>::new()
    );
    assert_eq!(
        root_entries(&restored),
        ["clara@fabrikam.com: FolderVisible"]
    );
}

#[test]
fn on_the_file_backend_a_calendar_delegate_and_an_inbox_reader_apply_export_and_roll_back() {
    let project = project(POLICY);
    let original = common::normalized(project.tenant());
    delegate_and_roll_back(&project, &|args| project.run(args), &|| project.tenant());
    let restored = common::normalized(project.tenant());
    assert_eq!(restored.mailboxes, original.mailboxes, "rollback restores");
}

#[test]
fn over_the_wire_a_calendar_delegate_and_an_inbox_reader_apply_export_and_roll_back() {
    let project = project(POLICY);
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    delegate_and_roll_back(&project, &|args| exo(&project, &sim, args), &|| {
        sim.tenant()
    });
    let counters = sim.counters();
    assert!(
        counters
            .writes
            .get("Set-MailboxFolderPermission")
            .is_some_and(|n| *n >= 2),
        "Ben's role and flags, and back: {counters:?}"
    );
}

#[test]
fn the_inbox_and_calendar_are_read_only_where_a_policy_manages_them() {
    let reads = |policy: &str| {
        let project = project(policy);
        let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
        let plan = exo(&project, &sim, &["plan"]);
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
        let counters = sim.counters();
        (
            counters.cmdlet("Get-MailboxFolderStatistics"),
            counters.cmdlet("Get-MailboxFolderPermission"),
        )
    };
    // Sent Items (always) and the root its readers need; no Inbox, no Calendar.
    assert_eq!(
        reads("sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}]\n"),
        (1, 2)
    );
    assert_eq!(reads("displayName: Support\n"), (1, 1), "no root either");
    // The Calendar only: one more statistics read and one more permission read.
    assert_eq!(
        reads("folders:\n  calendar: [{principal: ben@fabrikam.com, access: Reviewer}]\n"),
        (2, 3)
    );
    assert_eq!(reads(POLICY), (3, 4));
}

#[test]
fn a_delegate_flag_without_editor_is_a_located_policy_error_and_the_file_backend_refuses_flags_outside_the_calendar()
 {
    // A plan cannot ask for it (the policy is refused first); a write that did (a forged
    // journal, a hand-made plan) is refused by the file backend like Exchange refuses it.
    let project = project(
        "folders:\n  calendar: [{principal: ben@fabrikam.com, access: Reviewer, delegate: true}]\n",
    );
    let validate = project.run(&["validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("delegate needs Editor"),
        "{}",
        validate.stderr
    );
    assert!(
        validate.stderr.contains("support.yaml:5:72"),
        "located at the flag: {}",
        validate.stderr
    );
    let mut file = project.tenant();
    let refused = file.apply(&sharedbox_tenant::Operation::AddFolderPermission {
        mailbox: SUPPORT.into(),
        folder: WellKnownFolder::Inbox,
        principal: sharedbox_tenant::Principal::Recipient {
            id: sharedbox_tenant::PrincipalId::of(
                file.directory()
                    .resolve_policy("david@fabrikam.com")
                    .unwrap(),
            ),
            address: "david@fabrikam.com".into(),
            app_id: None,
        },
        access: "Editor".into(),
        flags: vec!["Delegate".into()],
    });
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("calendar only")),
        "{refused:?}"
    );
}
