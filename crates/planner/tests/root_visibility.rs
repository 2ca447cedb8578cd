//! Root visibility follows the Sent Items reader (`docs/policy-format.md`,
//! `sentItemsReaders`): a reader without a root entry is granted `FolderVisible` on the
//! mailbox root; a revoked reader's root entry is taken back only when it is exactly
//! `FolderVisible` and the base revision listed the reader; nothing is planned on a root that
//! was not read.
//!
//! The fixture's `support@fabrikam.com` has `Clara Diaz` as Sent Items `Reviewer` with
//! `FolderVisible` on the root; ben has neither.

use std::path::Path;
use std::sync::Arc;

use sharedbox_file::TenantFile;
use sharedbox_planner::{Action, Change, Plan, PlanOptions, Wave, plan};
use sharedbox_policy::{PolicySet, Source};
use sharedbox_tenant::{FolderPermission, Mailbox, Operation, ReadScope};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");
const SUPPORT: &str = "support@fabrikam.com";

fn policies(body: &str) -> PolicySet {
    let text = format!("apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {SUPPORT}\n{body}");
    sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)])
        .unwrap_or_else(|e| panic!("{body}: {e:?}"))
}

/// The plan of `body` for support@ after `tweak` changed its live state, compared with the
/// base revision `base` (a policy body) when given.
fn plan_of(tweak: impl Fn(&mut Mailbox), body: &str, base: Option<&str>) -> Plan {
    let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let mut snapshot = file.snapshot(&ReadScope::of(vec![SUPPORT.into()]));
    tweak(
        snapshot
            .mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == SUPPORT)
            .unwrap(),
    );
    let options = PlanOptions {
        base: base.map(|b| Arc::new(policies(b))),
        ..PlanOptions::default()
    };
    plan(&policies(body), &snapshot, &options).unwrap_or_else(|e| panic!("{body}: {:?}", e.0))
}

fn changes(plan: &Plan) -> Vec<&Change> {
    plan.mailboxes.iter().flat_map(|m| &m.changes).collect()
}

/// The root visibility changes, as `grant|revoke principal`.
fn root_writes(plan: &Plan) -> Vec<String> {
    changes(plan)
        .into_iter()
        .filter_map(|c| match &c.operation {
            Operation::GrantRootVisibility { principal, .. } => {
                Some(format!("grant {}", principal.label()))
            }
            Operation::RevokeRootVisibility { principal, .. } => {
                Some(format!("revoke {}", principal.label()))
            }
            _ => None,
        })
        .collect()
}

/// The note of the Sent Items revoke of `who`.
fn revoke_note(plan: &Plan, who: &str) -> String {
    changes(plan)
        .into_iter()
        .find_map(|c| match &c.operation {
            Operation::RemoveSentItemsPermission { principal, .. } if principal.label() == who => {
                Some(c.note.clone().unwrap_or_default())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Sent Items revoke of {who}"))
}

fn no_tweak(_: &mut Mailbox) {}

fn root_row(user: &str, right: &str) -> FolderPermission {
    FolderPermission {
        user: user.into(),
        access_rights: vec![right.into()],
        sharing_permission_flags: Vec::new(),
    }
}

const CLARA_AND_BEN: &str = "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}, {principal: ben@fabrikam.com, access: Reviewer}]\n";
const CLARA: &str = "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}]\n";
const NOBODY: &str = "sentItemsReaders: []\n";

#[test]
fn a_reader_without_a_root_entry_is_granted_folder_visible_with_its_sent_items_grant() {
    let plan = plan_of(no_tweak, CLARA_AND_BEN, None);
    assert_eq!(
        root_writes(&plan),
        ["grant ben@fabrikam.com"],
        "clara holds FolderVisible already"
    );
    let grant = changes(&plan)
        .into_iter()
        .find(|c| matches!(c.operation, Operation::GrantRootVisibility { .. }))
        .unwrap();
    let sent_items = changes(&plan)
        .into_iter()
        .find(|c| matches!(c.operation, Operation::AddSentItemsPermission { .. }))
        .unwrap();
    assert_eq!(grant.field, "sentItemsReaders");
    assert_eq!((grant.action, grant.wave), (Action::Add, sent_items.wave));
    assert_eq!(grant.wave, Wave::Grants);
    assert_eq!(
        grant.inverse,
        Some(Operation::RevokeRootVisibility {
            mailbox: SUPPORT.into(),
            principal: match &grant.operation {
                Operation::GrantRootVisibility { principal, .. } => principal.clone(),
                _ => unreachable!(),
            },
        })
    );
    assert_eq!(
        grant.note.as_deref(),
        Some("`FolderVisible` on the mailbox root, so `ben@fabrikam.com` can open `Sent Items`")
    );
    assert_eq!(
        grant.shown_after().as_deref(),
        Some("ben@fabrikam.com: FolderVisible")
    );
}

#[test]
fn a_root_entry_removed_by_hand_is_granted_again_while_the_reader_is_declared() {
    let plan = plan_of(
        |m| {
            m.root_folder
                .as_mut()
                .unwrap()
                .retain(|r| r.user != "Clara Diaz")
        },
        CLARA,
        Some(CLARA),
    );
    assert_eq!(root_writes(&plan), ["grant clara@fabrikam.com"]);
}

#[test]
fn any_root_entry_of_a_reader_is_left_alone() {
    for right in ["FolderVisible", "Reviewer", "Owner"] {
        let plan = plan_of(
            |m| {
                m.root_folder
                    .as_mut()
                    .unwrap()
                    .push(root_row("Ben Krause", right))
            },
            CLARA_AND_BEN,
            None,
        );
        assert_eq!(
            root_writes(&plan),
            Vec::<String>::new(),
            "ben holds {right}"
        );
    }
}

#[test]
fn a_revoked_reader_loses_exactly_folder_visible_only_when_the_base_listed_it() {
    let plan = plan_of(no_tweak, NOBODY, Some(CLARA));
    assert_eq!(root_writes(&plan), ["revoke clara@fabrikam.com"]);
    let revoke = changes(&plan)
        .into_iter()
        .find(|c| matches!(c.operation, Operation::RevokeRootVisibility { .. }))
        .unwrap();
    assert_eq!(
        (revoke.action, revoke.wave, revoke.field.as_str()),
        (Action::Remove, Wave::Revocations, "sentItemsReaders")
    );
    assert!(matches!(
        revoke.inverse,
        Some(Operation::GrantRootVisibility { .. })
    ));
    assert!(
        !revoke_note(&plan, "clara@fabrikam.com").contains("kept"),
        "nothing kept"
    );
}

#[test]
fn a_root_entry_the_policy_did_not_add_stays_and_the_note_says_why() {
    /// What the case is, the tweak, the base revision, and the reason the note gives.
    type Case<'a> = (&'a str, Box<dyn Fn(&mut Mailbox)>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no base revision",
            Box::new(no_tweak),
            None,
            "there is no base revision to tell whether the policy added it",
        ),
        (
            "the base did not list clara",
            Box::new(no_tweak),
            Some("sentItemsReaders: [{principal: ben@fabrikam.com, access: Reviewer}]\n"),
            "the policy at the base revision did not list `clara@fabrikam.com` as a reader",
        ),
        (
            "the base did not manage the list",
            Box::new(no_tweak),
            Some("sendAs: []\n"),
            "did not list `clara@fabrikam.com`",
        ),
        (
            "more than FolderVisible",
            Box::new(|m: &mut Mailbox| {
                for row in m.root_folder.as_mut().unwrap() {
                    if row.user == "Clara Diaz" {
                        row.access_rights = vec!["Reviewer".into()];
                    }
                }
            }),
            Some(CLARA),
            "the `Reviewer` entry on the mailbox root stays, because it is not the `FolderVisible` sharedbox grants",
        ),
    ];
    for (case, tweak, base, why) in cases {
        let plan = plan_of(tweak, NOBODY, base);
        assert_eq!(root_writes(&plan), Vec::<String>::new(), "{case}");
        let note = revoke_note(&plan, "clara@fabrikam.com");
        assert!(note.starts_with("root visibility kept: "), "{case}: {note}");
        assert!(note.contains(why), "{case}: {note}");
    }
}

#[test]
fn an_orphaned_reader_loses_its_folder_visible_with_its_sent_items_entry_for_good() {
    const SID: &str = "NT:S-1-5-21-1111111111-2222222222-3333333333-1190";
    let plan = plan_of(
        |m| {
            m.sent_items.permissions.push(root_row(SID, "Reviewer"));
            m.root_folder
                .as_mut()
                .unwrap()
                .push(root_row(SID, "FolderVisible"));
        },
        CLARA,
        None,
    );
    assert_eq!(root_writes(&plan), [format!("revoke {SID} (orphaned)")]);
    let revoke = changes(&plan)
        .into_iter()
        .find(|c| matches!(c.operation, Operation::RevokeRootVisibility { .. }))
        .unwrap();
    assert_eq!(revoke.inverse, None, "nothing can be granted to an orphan");
    assert!(revoke.is_revocation());
}

#[test]
fn nothing_is_planned_on_a_root_that_was_not_read() {
    let unread = |m: &mut Mailbox| m.root_folder = None;
    assert_eq!(
        root_writes(&plan_of(unread, CLARA_AND_BEN, None)),
        Vec::<String>::new()
    );
    let plan = plan_of(unread, NOBODY, Some(CLARA));
    assert_eq!(root_writes(&plan), Vec::<String>::new());
    assert!(
        revoke_note(&plan, "clara@fabrikam.com").contains("the mailbox root was not read"),
        "the reviewer is told"
    );
}

#[test]
fn a_new_mailbox_with_readers_gets_their_root_visibility() {
    let text = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: new@fabrikam.com\nsentItemsReaders: [{principal: ben@fabrikam.com, access: Reviewer}]\n";
    let policies = sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)]).unwrap();
    let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let snapshot = file.snapshot(&ReadScope::of(vec!["new@fabrikam.com".into()]));
    let plan = plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
    assert_eq!(root_writes(&plan), ["grant ben@fabrikam.com"]);
}
