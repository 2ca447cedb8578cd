//! Root visibility follows the Sent Items reader, end to end on the file backend and over
//! the wire against the simulator: a new reader gets Sent Items `Reviewer` and
//! `FolderVisible` on the mailbox root; rollback takes both away; a root entry the policy did
//! not add (David's `Reviewer`) is never touched; with the policies in git, removing a reader
//! the base revision listed takes its `FolderVisible` back.

use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_file::TenantFile;

use crate::common::{self, Project, exo};

const HEADER: &str =
    "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";
const SUPPORT: &str = "support@fabrikam.com";

/// The fixture with David holding `Reviewer` on the root of `support@` (given by hand).
fn project() -> Project {
    let tenant = common::TENANT.replace(
        "      - {user: Clara Diaz, accessRights: [FolderVisible]}\n",
        "      - {user: Clara Diaz, accessRights: [FolderVisible]}\n      - {user: David Eck, accessRights: [Reviewer]}\n",
    );
    assert_ne!(tenant, common::TENANT, "the fixture has Clara's root entry");
    let project = Project::with_tenant(&tenant);
    project.policy(
        "support.yaml",
        &format!("{HEADER}sentItemsReaders:\n  - {{principal: clara@fabrikam.com, access: Reviewer}}\n  - {{principal: ben@fabrikam.com, access: Reviewer}}\n  - {{principal: david@fabrikam.com, access: Reviewer}}\n"),
    );
    project
}

/// The root folder entries of `support@` besides `Default` and `Anonymous`, as
/// `address: rights`.
fn root_entries(tenant: &TenantFile) -> Vec<String> {
    let m = common::mailbox(tenant, SUPPORT);
    common::folder_entries(tenant, m.root_folder.as_deref().unwrap_or_default())
}

/// Plan, apply and roll back through `run`, reading the tenant with `tenant`.
fn grant_and_roll_back(
    project: &Project,
    run: &dyn Fn(&[&str]) -> common::Run,
    tenant: &dyn Fn() -> TenantFile,
) {
    let before = tenant();
    assert_eq!(
        root_entries(&before),
        [
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: Reviewer"
        ]
    );
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "# note: `FolderVisible` on the mailbox root, so `ben@fabrikam.com` can open `Sent Items`"
        ),
        "{}",
        plan.stdout
    );
    assert_eq!(
        plan.stdout
            .matches("`FolderVisible` on the mailbox root")
            .count(),
        1,
        "only ben lacks a root entry:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 3 to change, 0 to revoke."),
        "{}",
        plan.stdout
    );

    let id = common::new_run(project, || {
        let applied = run(&["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
        assert!(
            applied
                .stderr
                .contains("verified: the tenant shows all 3 changes"),
            "{}",
            applied.stderr
        );
    });
    let applied = tenant();
    assert_eq!(
        common::readers(&applied, SUPPORT),
        [
            "ben@fabrikam.com: Reviewer",
            "clara@fabrikam.com: Reviewer",
            "david@fabrikam.com: Reviewer"
        ]
    );
    assert_eq!(
        root_entries(&applied),
        [
            "ben@fabrikam.com: FolderVisible",
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: Reviewer"
        ],
        "David's own root entry is left as it is"
    );
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    let rolled_back = run(&["rollback", &id, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    let restored = tenant();
    assert_eq!(
        common::readers(&restored, SUPPORT),
        ["clara@fabrikam.com: Reviewer"]
    );
    assert_eq!(
        root_entries(&restored),
        [
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: Reviewer"
        ],
        "ben's root entry is gone, David's untouched"
    );
}

#[test]
fn on_the_file_backend_a_new_reader_gets_root_visibility_and_rollback_takes_it_back() {
    let project = self::project();
    let mut original = common::normalized(project.tenant());
    grant_and_roll_back(&project, &|args| project.run(args), &|| project.tenant());
    let mut restored = common::normalized(project.tenant());
    // The file backend writes the root rows of every mailbox it touched.
    for tenant in [&mut restored, &mut original] {
        for m in &mut tenant.mailboxes {
            m.root_folder
                .get_or_insert_with(sharedbox_tenant::FolderPermission::built_in_rows);
        }
    }
    assert_eq!(restored.mailboxes, original.mailboxes, "rollback restores");
}

#[test]
fn over_the_wire_a_new_reader_gets_root_visibility_and_rollback_takes_it_back() {
    let project = project();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    grant_and_roll_back(&project, &|args| exo(&project, &sim, args), &|| {
        sim.tenant()
    });
    let counters = sim.counters();
    assert!(
        counters
            .writes
            .get("Add-MailboxFolderPermission")
            .is_some_and(|n| *n >= 2),
        "Sent Items and root: {counters:?}"
    );
}

#[test]
fn removing_a_reader_the_base_listed_takes_its_folder_visible_back_over_the_wire() {
    let project = project();
    project.git(&["init", "-q", "-b", "main"]);
    project.git(&["add", "-A"]);
    project.git(&["commit", "-q", "-m", "readers"]);
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(root_entries(&sim.tenant()).contains(&"ben@fabrikam.com: FolderVisible".to_owned()));

    // Ben and David are no longer readers: ben's FolderVisible was added by the policy
    // (the base lists him) and goes; David's Reviewer on the root was not, and stays.
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}sentItemsReaders:\n  - {{principal: clara@fabrikam.com, access: Reviewer}}\n"
        ),
    );
    let plan = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("root visibility kept: the `Reviewer` entry on the mailbox root stays, because it is not the `FolderVisible` sharedbox grants"),
        "{}",
        plan.stdout
    );
    let id = common::new_run(&project, || {
        let applied = exo(&project, &sim, &["apply", "--auto-approve"]);
        assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    });
    let tenant = sim.tenant();
    assert_eq!(
        common::readers(&tenant, SUPPORT),
        ["clara@fabrikam.com: Reviewer"]
    );
    assert_eq!(
        root_entries(&tenant),
        [
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: Reviewer"
        ]
    );
    // Rollback grants ben's FolderVisible again with his Sent Items role.
    let rolled_back = exo(&project, &sim, &["rollback", &id, "--auto-approve"]);
    assert_eq!(
        rolled_back.code, 0,
        "{}\n{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert_eq!(
        root_entries(&sim.tenant()),
        [
            "ben@fabrikam.com: FolderVisible",
            "clara@fabrikam.com: FolderVisible",
            "david@fabrikam.com: Reviewer"
        ]
    );
}
