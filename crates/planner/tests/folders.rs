//! `folders`: the entries of the Inbox and Calendar (and Sent Items) planned like
//! `sentItemsReaders`, with the calendar's delegate flags, and root visibility for every
//! managed folder (`docs/policy-format.md`, `folders`).
//!
//! The fixture's `support@fabrikam.com` has `Clara Diaz` as Sent Items `Reviewer` with
//! `FolderVisible` on the root; its Inbox and Calendar hold only the built-in rows.

use std::path::Path;
use std::sync::Arc;

use sharedbox_file::TenantFile;
use sharedbox_planner::{Action, Change, Plan, PlanOptions, Wave, plan};
use sharedbox_policy::{PolicySet, Source};
use sharedbox_tenant::{
    FolderPermission, Mailbox, Observation, Operation, ReadScope, WellKnownFolder, observe, undo,
};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");
const SUPPORT: &str = "support@fabrikam.com";

fn policies(body: &str) -> PolicySet {
    let text = format!("apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {SUPPORT}\n{body}");
    sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)])
        .unwrap_or_else(|e| panic!("{body}: {e:?}"))
}

fn snapshot(tweak: impl Fn(&mut Mailbox)) -> sharedbox_tenant::Snapshot {
    let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let mut snapshot = file.snapshot(&ReadScope::of(vec![SUPPORT.into()]));
    tweak(
        snapshot
            .mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == SUPPORT)
            .unwrap(),
    );
    snapshot
}

fn plan_of(tweak: impl Fn(&mut Mailbox), body: &str, base: Option<&str>) -> Plan {
    let options = PlanOptions {
        base: base.map(|b| Arc::new(policies(b))),
        ..PlanOptions::default()
    };
    plan(&policies(body), &snapshot(tweak), &options)
        .unwrap_or_else(|e| panic!("{body}: {:?}", e.0))
}

fn changes(plan: &Plan) -> Vec<&Change> {
    plan.mailboxes.iter().flat_map(|m| &m.changes).collect()
}

/// Each change as `field: before -> after`, as the plan shows it.
fn shown(plan: &Plan) -> Vec<String> {
    changes(plan)
        .into_iter()
        .map(|c| {
            format!(
                "{}: {} -> {}",
                c.field,
                c.shown_before().unwrap_or_default(),
                c.shown_after().unwrap_or_default()
            )
        })
        .collect()
}

fn entry(user: &str, access: &str, flags: &[&str]) -> FolderPermission {
    FolderPermission {
        user: user.into(),
        access_rights: vec![access.into()],
        sharing_permission_flags: flags.iter().map(|f| (*f).to_owned()).collect(),
    }
}

fn no_tweak(_: &mut Mailbox) {}

/// Ben on the calendar with `rights` and `flags`, and `FolderVisible` on the root.
fn ben_on_calendar(access: &'static str, flags: &'static [&'static str]) -> impl Fn(&mut Mailbox) {
    move |m: &mut Mailbox| {
        m.folder_mut(WellKnownFolder::Calendar)
            .permissions
            .push(entry("Ben Krause", access, flags));
        m.root_folder
            .as_mut()
            .unwrap()
            .push(entry("Ben Krause", "FolderVisible", &[]));
    }
}

const BEN_DELEGATE: &str = "folders:\n  calendar:\n    - {principal: ben@fabrikam.com, access: Editor, delegate: true, canViewPrivateItems: true}\n";

#[test]
fn a_calendar_delegate_is_granted_with_its_flags_and_root_visibility() {
    let plan = plan_of(no_tweak, BEN_DELEGATE, None);
    assert_eq!(
        shown(&plan),
        [
            "folders.calendar:  -> ben@fabrikam.com: Editor (delegate, private items)",
            "folders.calendar:  -> ben@fabrikam.com: FolderVisible",
        ]
    );
    let grant = changes(&plan)[0];
    let Operation::AddFolderPermission {
        folder,
        access,
        flags,
        principal,
        ..
    } = &grant.operation
    else {
        panic!("{:?}", grant.operation)
    };
    assert_eq!(*folder, WellKnownFolder::Calendar);
    assert_eq!(access, "Editor");
    assert_eq!(flags, &["Delegate", "CanViewPrivateItems"]);
    assert_eq!(
        grant.inverse,
        Some(Operation::RemoveFolderPermission {
            mailbox: SUPPORT.into(),
            folder: WellKnownFolder::Calendar,
            principal: principal.clone(),
        })
    );
    assert_eq!((grant.action, grant.wave), (Action::Add, Wave::Grants));
    let list = &plan.mailboxes[0].lists[0];
    assert_eq!(
        (list.field.as_str(), list.qualifier.as_deref()),
        ("folders.calendar", Some("Calendar"))
    );
}

#[test]
fn a_change_of_role_or_flags_is_one_set_in_place_whose_inverse_restores_both() {
    // Reviewer -> Editor with flags.
    let plan = plan_of(ben_on_calendar("Reviewer", &[]), BEN_DELEGATE, None);
    assert_eq!(
        shown(&plan),
        [
            "folders.calendar: ben@fabrikam.com: Reviewer -> ben@fabrikam.com: Editor (delegate, private items)"
        ]
    );
    let change = changes(&plan)[0];
    assert_eq!(change.action, Action::Update);
    assert!(
        matches!(&change.operation, Operation::SetFolderPermission { flags, .. } if flags.len() == 2)
    );
    assert!(
        matches!(&change.inverse, Some(Operation::SetFolderPermission { access, flags, .. }) if access == "Reviewer" && flags.is_empty())
    );
    // Only the flags differ: private items taken away, the role stays.
    let plan = plan_of(
        ben_on_calendar("Editor", &["Delegate", "CanViewPrivateItems"]),
        "folders:\n  calendar:\n    - {principal: ben@fabrikam.com, access: Editor, delegate: true}\n",
        None,
    );
    assert_eq!(
        shown(&plan),
        [
            "folders.calendar: ben@fabrikam.com: Editor (delegate, private items) -> ben@fabrikam.com: Editor (delegate)"
        ]
    );
    assert!(
        matches!(&changes(&plan)[0].inverse, Some(Operation::SetFolderPermission { flags, .. }) if flags == &["Delegate", "CanViewPrivateItems"])
    );
    // Flags as Exchange prints them (`Delegate, CanViewPrivateItems`, any case) are the same.
    let plan = plan_of(
        ben_on_calendar("editor", &["canviewprivateitems, DELEGATE"]),
        BEN_DELEGATE,
        None,
    );
    assert!(plan.is_empty(), "{:?}", shown(&plan));
}

#[test]
fn an_entry_not_listed_is_revoked_and_its_root_entry_follows_only_when_the_base_listed_it() {
    let both = |m: &mut Mailbox| {
        ben_on_calendar("Editor", &["Delegate"])(m);
        m.folder_mut(WellKnownFolder::Inbox)
            .permissions
            .push(entry("David Eck", "Reviewer", &[]));
        m.root_folder
            .as_mut()
            .unwrap()
            .push(entry("David Eck", "FolderVisible", &[]));
    };
    let base = "folders:\n  inbox: [{principal: david@fabrikam.com, access: Reviewer}]\n  calendar: [{principal: ben@fabrikam.com, access: Editor, delegate: true}]\n";
    // Ben leaves the calendar but stays on the inbox: his root entry stays.
    let plan = plan_of(
        both,
        "folders:\n  inbox: [{principal: david@fabrikam.com, access: Reviewer}, {principal: ben@fabrikam.com, access: Reviewer}]\n  calendar: []\n",
        Some(base),
    );
    assert_eq!(
        shown(&plan),
        [
            "folders.inbox:  -> ben@fabrikam.com: Reviewer",
            "folders.calendar: ben@fabrikam.com: Editor (delegate) -> ",
        ]
    );
    // David leaves the inbox and reads nothing else: the root entry the base gave him goes.
    let plan = plan_of(
        both,
        "folders:\n  inbox: []\n  calendar: [{principal: ben@fabrikam.com, access: Editor, delegate: true}]\n",
        Some(base),
    );
    assert_eq!(
        shown(&plan),
        [
            "folders.inbox: david@fabrikam.com: Reviewer -> ",
            "folders.inbox: david@fabrikam.com: FolderVisible -> ",
        ]
    );
    let root = changes(&plan)[1];
    assert!(matches!(
        root.operation,
        Operation::RevokeRootVisibility { .. }
    ));
    assert!(root.is_revocation());
    assert_eq!(plan.revocations(), 2);
    // Without the base listing him, the entry stays and the note says why.
    let plan = plan_of(
        both,
        "folders:\n  inbox: []\n",
        Some(
            "folders:\n  calendar: [{principal: ben@fabrikam.com, access: Editor, delegate: true}]\n",
        ),
    );
    assert_eq!(
        shown(&plan),
        ["folders.inbox: david@fabrikam.com: Reviewer -> "]
    );
    assert!(
        changes(&plan)[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("root visibility kept")),
        "{:?}",
        changes(&plan)[0].note
    );
}

#[test]
fn a_reader_of_two_folders_is_granted_the_root_once_and_sent_items_readers_plan_as_before() {
    let plan = plan_of(
        no_tweak,
        "folders:\n  inbox: [{principal: ben@fabrikam.com, access: Reviewer}]\n  calendar: [{principal: ben@fabrikam.com, access: Reviewer}]\n",
        None,
    );
    let roots: Vec<&str> = changes(&plan)
        .into_iter()
        .filter(|c| matches!(c.operation, Operation::GrantRootVisibility { .. }))
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(roots, ["folders.inbox"], "once, under the first list");
    // `sentItemsReaders` still writes Sent Items with its own operations and field.
    let plan = plan_of(
        no_tweak,
        "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}, {principal: ben@fabrikam.com, access: Reviewer}]\n",
        None,
    );
    assert!(changes(&plan).iter().all(|c| c.field == "sentItemsReaders"));
    assert!(
        changes(&plan)
            .iter()
            .any(|c| matches!(c.operation, Operation::AddSentItemsPermission { .. }))
    );
    // `folders.sentItems` manages the same folder with the `folders` writes.
    let plan = plan_of(
        no_tweak,
        "folders:\n  sentItems: [{principal: clara@fabrikam.com, access: Reviewer}, {principal: ben@fabrikam.com, access: Reviewer}]\n",
        None,
    );
    assert_eq!(
        shown(&plan),
        [
            "folders.sentItems:  -> ben@fabrikam.com: Reviewer",
            "folders.sentItems:  -> ben@fabrikam.com: FolderVisible",
        ]
    );
}

#[test]
fn a_folder_not_read_plans_nothing_on_the_root_and_undo_restores_role_and_flags() {
    // The root was not read: the revoke says its entries are left as they are.
    let plan = plan_of(
        |m: &mut Mailbox| {
            ben_on_calendar("Editor", &["Delegate"])(m);
            m.root_folder = None;
        },
        "folders:\n  calendar: []\n",
        None,
    );
    assert_eq!(changes(&plan).len(), 1);
    assert!(
        changes(&plan)[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("root was not read"))
    );
    // Undo derived from the before-image of a revoke gives the role and the flags back.
    let snapshot = snapshot(ben_on_calendar(
        "Editor",
        &["Delegate", "CanViewPrivateItems"],
    ));
    let revoke = &changes(&plan)[0].operation;
    let before = observe(&snapshot, revoke);
    assert!(matches!(&before, Observation::FolderEntry(Some(e)) if e.flags.len() == 2));
    let Ok(Some(Operation::AddFolderPermission { access, flags, .. })) = undo(revoke, &before)
    else {
        panic!("no undo")
    };
    assert_eq!((access.as_str(), flags.len()), ("Editor", 2));
}
