//! A plan's `inverse` of each change is what rollback will write: the undo derived from the
//! change's write and the before-image the journal records for it
//! (`sharedbox_tenant::undo`). Rollback refuses a step whose journaled inverse says otherwise,
//! so the two must agree for every change the planner makes: over the demo, every example
//! and plans on the test fixture that use every kind of write.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sharedbox_file::TenantFile;
use sharedbox_planner::{Plan, PlanOptions, plan};
use sharedbox_policy::{PolicySet, Source};
use sharedbox_tenant::{
    Mailbox, Observation, Operation, ReadScope, Snapshot, agrees, expected, observe_with_created,
    target, undo, with_recorded,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scope(policies: &PolicySet) -> ReadScope {
    ReadScope::of(
        policies
            .mailboxes
            .iter()
            .map(|m| m.address.value.clone())
            .collect(),
    )
}

fn snapshot_of(tenant: &Path, policies: &PolicySet) -> Snapshot {
    let file = TenantFile::parse(&std::fs::read_to_string(tenant).unwrap(), tenant).unwrap();
    file.snapshot(&scope(policies))
}

/// Checks every change of `plan`, taking before-images as an apply journals them: from the
/// snapshot, from the mailbox as `New-Mailbox` makes it for steps on a new mailbox, and from
/// the earlier step on the same target (a FullAccess revoke and re-grant). Returns how many
/// changes have an undo.
fn check(name: &str, plan: &Plan, snapshot: &Snapshot) -> usize {
    let mut now: HashMap<String, Observation> = HashMap::new();
    let mut made: Vec<Mailbox> = Vec::new();
    let mut with_undo = 0;
    for change in plan.ordered_changes() {
        let operation = &change.operation;
        let before = now
            .get(&target(operation))
            .cloned()
            .unwrap_or_else(|| observe_with_created(snapshot, &made, operation));
        let derived = undo(operation, &before);
        let write = derived.clone().ok().flatten();
        assert!(
            agrees(write.as_ref(), change.inverse.as_ref()),
            "{name}: {} {operation:?} from {before}: the plan's inverse is {:?}, the derived undo {derived:?}",
            change.field,
            change.inverse
        );
        // What rollback writes (the derived undo, with the autoMapping the journal recorded)
        // is exactly the plan's inverse.
        assert_eq!(
            write
                .clone()
                .map(|w| with_recorded(w, change.inverse.as_ref())),
            change.inverse,
            "{name}: {} {operation:?}",
            change.field
        );
        if let Some(write) = &write {
            assert_eq!(target(write), target(operation), "{name}: {operation:?}");
            with_undo += 1;
        }
        now.insert(target(operation), expected(operation));
        if let Operation::CreateMailbox {
            mailbox,
            display_name,
        } = operation
        {
            made.push(Mailbox::new_shared(mailbox, display_name));
        }
    }
    with_undo
}

#[test]
fn the_demo_and_every_example_plan_inverses_that_agree_with_the_derived_undo() {
    let mut planned = 0;
    let mut folders: Vec<(String, PathBuf, PathBuf)> = vec![(
        "demo".to_owned(),
        root().join("policies"),
        root().join("examples/contoso/tenant.yaml"),
    )];
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("policies").is_dir() {
            folders.push((
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir.join("policies"),
                dir.join("tenant.yaml"),
            ));
        }
    }
    assert!(folders.len() >= 7, "{folders:?}");
    for (name, policies, tenant) in folders {
        let policies =
            sharedbox_policy::load_dir(&policies).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let snapshot = snapshot_of(&tenant, &policies);
        let plan = plan(&policies, &snapshot, &PlanOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {:?}", e.0));
        planned += plan.ordered_changes().len();
        check(&name, &plan, &snapshot);
    }
    assert!(planned > 50, "the examples plan changes: {planned}");
}

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// Policies for the test fixture that use every write: a create with grants on the new
/// mailbox, every setting kind, every principal list, grants and revocations (orphans
/// among them), a changed autoMapping (revoke and re-grant), an added, a changed and a
/// removed Sent Items role, and a tenant setting.
const POLICIES: &[(&str, &str)] = &[
    (
        "support.yaml",
        "mailbox: support@fabrikam.com\ndisplayName: Support Team\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true, copyForSendOnBehalf: true}\nsendAs: [clara@fabrikam.com]\nsendOnBehalf: [anna@fabrikam.com]\nfullAccess: [{principal: anna@fabrikam.com, autoMapping: false}, {principal: clara@fabrikam.com}]\nsentItemsReaders: [{principal: anna@fabrikam.com, access: Reviewer}, {principal: clara@fabrikam.com, access: Editor}]\nclients: {owa: false, imap: false, smtpAuth: disabled}\nmoderation: {enabled: true, moderators: [ben@fabrikam.com], bypass: [clara@fabrikam.com], notifications: never}\n",
    ),
    (
        "buchhaltung.yaml",
        "mailbox: buchhaltung@fabrikam.com\nsentItems: {copyForSendAs: false}\nfullAccess: []\nsendAs: []\nsentItemsReaders: []\n",
    ),
    (
        "neu.yaml",
        "mailbox: neu@fabrikam.com\ndisplayName: Neu\nsendAs: [helpdesk@fabrikam.com]\nfullAccess: [{principal: anna@fabrikam.com, autoMapping: false}]\nsentItemsReaders: [{principal: clara@fabrikam.com, access: Editor}]\nclients: {pop: false}\n",
    ),
];

/// A deletion.
const DELETION: &[(&str, &str)] = &[(
    "buchhaltung.yaml",
    "mailbox: buchhaltung@fabrikam.com\nlifecycle: {ensure: absent}\n",
)];

/// The plan of `policies` (file name, mailbox document without its header) and the tenant
/// setting on the fixture, whose `support@` FullAccess of Anna was granted with autoMapping.
fn plan_fixture(policies: &[(&str, &str)]) -> (Plan, Snapshot) {
    let tenant = root().join("crates/cli/tests/fixtures/tenant.yaml");
    let anna = "{user: anna.berg@fabrikam.onmicrosoft.com, accessRights: [FullAccess]}";
    let text = std::fs::read_to_string(&tenant).unwrap();
    assert!(text.contains(anna));
    let text = text.replace(
        anna,
        "{user: anna.berg@fabrikam.onmicrosoft.com, accessRights: [FullAccess], autoMapping: true}",
    );
    let file = TenantFile::parse(&text, &tenant).unwrap();
    let mut sources: Vec<_> = policies
        .iter()
        .map(|(name, body)| Source::new(*name, format!("{HEADER}{body}")))
        .collect();
    sources.push(Source::new(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
    ));
    let policies = sharedbox_policy::load_sources(sources).unwrap_or_else(|e| panic!("{e:?}"));
    let snapshot = file.snapshot(&scope(&policies));
    let plan =
        plan(&policies, &snapshot, &PlanOptions::default()).unwrap_or_else(|e| panic!("{:?}", e.0));
    (plan, snapshot)
}

#[test]
fn plans_on_the_fixture_with_every_kind_of_write_have_inverses_that_agree_with_the_derived_undo() {
    let mut cmdlets = std::collections::BTreeSet::new();
    let mut with_undo = 0;
    let mut regrants = 0;
    for (name, policies) in [("fixture", POLICIES), ("deletion", DELETION)] {
        let (plan, snapshot) = plan_fixture(policies);
        cmdlets.extend(plan.ordered_changes().iter().map(|c| c.operation.cmdlet()));
        regrants += plan
            .ordered_changes()
            .iter()
            .filter(|c| matches!(c.operation, Operation::GrantFullAccess { .. }))
            .filter(|c| {
                c.note
                    .as_deref()
                    .is_some_and(|n| n.contains("granted again"))
            })
            .count();
        with_undo += check(name, &plan, &snapshot);
    }
    for cmdlet in [
        "New-Mailbox",
        "Remove-Mailbox",
        "Set-Mailbox",
        "Set-CASMailbox",
        "Set-OrganizationConfig",
        "Add-RecipientPermission",
        "Remove-RecipientPermission",
        "Add-MailboxPermission",
        "Remove-MailboxPermission",
        "Add-MailboxFolderPermission",
        "Set-MailboxFolderPermission",
        "Remove-MailboxFolderPermission",
    ] {
        assert!(cmdlets.contains(cmdlet), "no {cmdlet} in {cmdlets:?}");
    }
    assert!(with_undo > 20, "{with_undo}");
    assert_eq!(
        regrants, 1,
        "Anna's changed autoMapping: revoked and granted again"
    );
}

/// A FullAccess grant whose autoMapping Exchange did not report (as on Exchange Online):
/// revoked, it is granted back with `false` by the plan's inverse and by the derived undo
/// alike, never with Exchange's silent default `true`.
#[test]
fn a_revoked_grant_of_unknown_auto_mapping_is_granted_back_without_it() {
    let tenant = root().join("crates/cli/tests/fixtures/tenant.yaml");
    let file = TenantFile::parse(&std::fs::read_to_string(&tenant).unwrap(), &tenant).unwrap();
    let policies = sharedbox_policy::load_sources(vec![Source::new(
        "support.yaml",
        format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess: []\n"),
    )])
    .unwrap_or_else(|e| panic!("{e:?}"));
    let snapshot = file.snapshot(&scope(&policies));
    let plan =
        plan(&policies, &snapshot, &PlanOptions::default()).unwrap_or_else(|e| panic!("{:?}", e.0));
    let revoke = plan
        .ordered_changes()
        .into_iter()
        .find(|c| matches!(c.operation, Operation::RevokeFullAccess { .. }))
        .expect("a FullAccess revocation");
    let Some(Operation::GrantFullAccess { auto_mapping, .. }) = &revoke.inverse else {
        panic!("{:?}", revoke.inverse)
    };
    assert!(!auto_mapping);
    let derived = undo(&revoke.operation, &Observation::Member(true))
        .unwrap()
        .unwrap();
    assert_eq!(Some(derived), revoke.inverse);
    check("unknown autoMapping", &plan, &snapshot);
}
