//! Table tests of the planning rules (`docs/policy-format.md`, "Rules"): one policy for `support@fabrikam.com`
//! against the fixture tenant per row, and the exact changes it must plan, as
//! `field action: before -> after`; then the principal-list reconcile, row by row for every
//! list (add, revoke, orphan, autoMapping, folder role, two spellings, built-ins), and what
//! counts as a revocation.

use std::path::Path;

use sharedbox_file::TenantFile;
use sharedbox_planner::{
    MarkdownOptions, Plan, PlanOptions, Summary, plan, render_markdown, summary_line,
};
use sharedbox_policy::Source;
use sharedbox_tenant::{
    FolderPermission, Mailbox, MailboxPermission, ReadScope, RecipientPermission,
};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

/// The changes the policy body (after `mailbox: support@fabrikam.com`) plans, one line each.
fn changes(body: &str) -> Vec<String> {
    let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n{body}"
    );
    let policies = sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)])
        .unwrap_or_else(|e| panic!("{body}: {e:?}"));
    let snapshot = file.snapshot(&ReadScope::of(vec!["support@fabrikam.com".into()]));
    let plan = plan(&policies, &snapshot, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("{body}: {:?}", e.0));
    let mut lines: Vec<String> = plan
        .mailboxes
        .iter()
        .flat_map(|m| &m.changes)
        .map(|c| {
            format!(
                "{} {:?}: {} -> {}",
                c.field,
                c.action,
                c.shown_before().unwrap_or_else(|| "-".into()),
                c.shown_after().unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    lines.sort();
    lines
}

const ORPHAN: &str = "S-1-5-21-1111111111-2222222222-3333333333-1107 (orphaned)";

#[test]
fn each_rule_plans_exactly_its_changes() {
    // The fixture's support@: FullAccess anna (as her UPN), an orphaned SID, ben inherited,
    // SELF; Send As anna (UPN), ben, SELF; Send on Behalf `bkrause` (ben's Name); Sent Items
    // reader `Clara Diaz` (a display name) as Reviewer, Default and Anonymous; IMAP and POP on;
    // copies off; moderation off (notifications Always); autoMapping of live rows unknown.
    let orphan = format!("fullAccess Remove: {ORPHAN} -> -");
    let table: Vec<(&str, Vec<&str>)> = vec![
        // An absent field is not managed.
        ("", vec![]),
        // A present list is authoritative; built-ins (SELF) and inherited rows stay.
        (
            "sendAs: []\n",
            vec![
                "sendAs Remove: anna@fabrikam.com -> -",
                "sendAs Remove: ben@fabrikam.com -> -",
            ],
        ),
        (
            "fullAccess: []\n",
            vec![&orphan, "fullAccess Remove: anna@fabrikam.com -> -"],
        ),
        // Identities, not spellings: any case, the UPN, the Name, a display name.
        ("sendAs: [ANNA@fabrikam.com, ben@fabrikam.com]\n", vec![]),
        (
            "sendAs: [anna.berg@fabrikam.onmicrosoft.com]\n",
            vec!["sendAs Remove: ben@fabrikam.com -> -"],
        ),
        ("sendOnBehalf: [ben@fabrikam.com]\n", vec![]),
        (
            "sendOnBehalf: []\n",
            vec!["sendOnBehalf Remove: ben@fabrikam.com -> -"],
        ),
        (
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}]\n",
            vec![],
        ),
        // An orphan is revoked when its list is managed.
        (
            "fullAccess: [{principal: anna@fabrikam.com}]\n",
            vec![&orphan],
        ),
        // autoMapping is write-once and not reported: no re-grant without a known live value.
        (
            "fullAccess: [{principal: anna@fabrikam.com, autoMapping: false}]\n",
            vec![&orphan],
        ),
        // Default and Anonymous folder entries are never touched.
        (
            "sentItemsReaders: []\n",
            vec!["sentItemsReaders Remove: clara@fabrikam.com: Reviewer -> -"],
        ),
        (
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Editor}]\n",
            vec![
                "sentItemsReaders Update: clara@fabrikam.com: Reviewer -> clara@fabrikam.com: Editor",
            ],
        ),
        // Scalars change only when they differ.
        ("sentItems: {copyForSendAs: false}\n", vec![]),
        (
            "sentItems: {copyForSendAs: true}\n",
            vec!["sentItems.copyForSendAs Update: false -> true"],
        ),
        (
            "displayName: Support\nhiddenFromAddressLists: false\n",
            vec![],
        ),
        (
            "clients: {imap: true, pop: false}\n",
            vec!["clients.pop Update: true -> false"],
        ),
        ("clients: {owa: true}\n", vec![]),
        ("clients: {smtpAuth: inherit}\n", vec![]),
        (
            "clients: {smtpAuth: disabled}\n",
            vec!["clients.smtpAuth Update: inherit (disabled by the organisation) -> disabled"],
        ),
        (
            "moderation: {enabled: true, moderators: [david@fabrikam.com], notifications: internal}\n",
            vec![
                "moderation.enabled Update: false -> true",
                "moderation.moderators Add: - -> david@fabrikam.com",
                "moderation.notifications Update: always -> internal",
            ],
        ),
        // A deletion is one change (what goes with it is counted apart).
        (
            "lifecycle: {ensure: absent}\n",
            vec!["lifecycle.ensure Delete: present -> absent"],
        ),
        (
            "sendAs: [helpdesk@fabrikam.com]\nfullAccess: [{principal: helpdesk@fabrikam.com}]\n",
            vec![
                "fullAccess Add: - -> helpdesk@fabrikam.com",
                &orphan,
                "fullAccess Remove: anna@fabrikam.com -> -",
                "sendAs Add: - -> helpdesk@fabrikam.com",
                "sendAs Remove: anna@fabrikam.com -> -",
                "sendAs Remove: ben@fabrikam.com -> -",
            ],
        ),
    ];
    for (body, expected) in table {
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(changes(body), expected, "policy:\n{body}");
    }
}

/// A plan for `support@fabrikam.com` after `tweak` changed its live state.
fn plan_after(tweak: impl Fn(&mut Mailbox), body: &str) -> Plan {
    let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    tweak(
        file.mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .unwrap(),
    );
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n{body}"
    );
    let policies = sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)])
        .unwrap_or_else(|e| panic!("{body}: {e:?}"));
    let snapshot = file.snapshot(&ReadScope::of(vec!["support@fabrikam.com".into()]));
    plan(&policies, &snapshot, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("{body}: {:?}", e.0))
}

/// Each change as `field Action Wave: before -> after, undo|no undo[, note's first words]`,
/// sorted, then each warning's code.
fn described(plan: &Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .mailboxes
        .iter()
        .flat_map(|m| &m.changes)
        .map(|c| {
            let mut line = format!(
                "{} {:?} {:?}: {} -> {}, {}",
                c.field,
                c.action,
                c.wave,
                c.shown_before().unwrap_or_else(|| "-".into()),
                c.shown_after().unwrap_or_else(|| "-".into()),
                if c.inverse.is_some() {
                    "undo"
                } else {
                    "no undo"
                },
            );
            if let Some(note) = &c.note {
                line.push_str(", ");
                line.push_str(note.split(':').next().unwrap_or(note));
            }
            line
        })
        .collect();
    lines.sort();
    lines.extend(plan.warnings.iter().map(|w| format!("warning {}", w.code)));
    lines
}

fn no_tweak(_: &mut Mailbox) {}

const ORPHAN_SID: &str = "S-1-5-21-1111111111-2222222222-3333333333-1107";

#[test]
fn every_principal_list_is_reconciled_alike() {
    let orphan_fa = format!("fullAccess Remove Revocations: {ORPHAN} -> -, no undo, orphaned");
    type Tweak = fn(&mut Mailbox);
    let table: Vec<(&str, Tweak, &str, Vec<&str>)> = vec![
        // Add: a listed principal without a live entry is granted, with its revocation as undo.
        (
            "add",
            no_tweak,
            "sendAs: [anna@fabrikam.com, ben@fabrikam.com, clara@fabrikam.com]\n",
            vec!["sendAs Add Grants: - -> clara@fabrikam.com, undo"],
        ),
        (
            "add",
            no_tweak,
            "sendOnBehalf: [ben@fabrikam.com, david@fabrikam.com]\n",
            vec!["sendOnBehalf Add Grants: - -> david@fabrikam.com, undo"],
        ),
        (
            "add before moderation is switched on",
            no_tweak,
            "moderation: {moderators: [david@fabrikam.com], bypass: [anna@fabrikam.com]}\n",
            vec![
                "moderation.bypass Add Properties: - -> anna@fabrikam.com, undo",
                "moderation.moderators Add Properties: - -> david@fabrikam.com, undo",
            ],
        ),
        (
            "add with autoMapping",
            no_tweak,
            "fullAccess: [{principal: anna@fabrikam.com}, {principal: helpdesk@fabrikam.com, autoMapping: false}]\n",
            vec![
                "fullAccess Add Grants: - -> helpdesk@fabrikam.com (autoMapping: false), undo",
                &orphan_fa,
            ],
        ),
        (
            "add with a role",
            no_tweak,
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}, {principal: ben@fabrikam.com, access: Editor}]\n",
            vec![
                "sentItemsReaders Add Grants: - -> ben@fabrikam.com: Editor, undo",
                "sentItemsReaders Add Grants: - -> ben@fabrikam.com: FolderVisible, undo, `FolderVisible` on the mailbox root, so `ben@fabrikam.com` can open `Sent Items`",
            ],
        ),
        // Revoke: a live entry that is not listed is revoked last, with its grant as undo.
        (
            "revoke",
            no_tweak,
            "sendOnBehalf: []\n",
            vec!["sendOnBehalf Remove Revocations: ben@fabrikam.com -> -, undo"],
        ),
        (
            "revoke",
            |m| {
                m.moderated_by = vec!["0a1b2c3d-0000-4000-8000-000000000004".into()];
                m.bypass_moderation_from_senders_or_members = vec!["bkrause".into()];
            },
            "moderation: {moderators: [], bypass: []}\n",
            vec![
                "moderation.bypass Remove Revocations: ben@fabrikam.com -> -, undo",
                "moderation.moderators Remove Revocations: david@fabrikam.com -> -, undo",
            ],
        ),
        (
            "revoke with a role",
            no_tweak,
            "sentItemsReaders: []\n",
            // No base revision: the root entry cannot be told to be sharedbox's, so it stays.
            vec![
                "sentItemsReaders Remove Revocations: clara@fabrikam.com: Reviewer -> -, undo, root visibility kept",
            ],
        ),
        // An orphan is revoked without an undo: nothing can be granted to it again.
        (
            "orphan",
            no_tweak,
            "fullAccess: [{principal: anna@fabrikam.com}]\n",
            vec![&orphan_fa],
        ),
        (
            "orphan",
            |m| {
                m.recipient_permissions.push(RecipientPermission {
                    trustee: ORPHAN_SID.into(),
                    access_rights: vec!["SendAs".into()],
                    is_inherited: false,
                    access_control_type: "Allow".into(),
                });
                m.grant_send_on_behalf_to.push("deleted-user".into());
                m.sent_items.permissions.push(FolderPermission {
                    user: format!("NT:{ORPHAN_SID}"),
                    access_rights: vec!["Editor".into()],
                    sharing_permission_flags: Vec::new(),
                });
            },
            "sendAs: [anna@fabrikam.com, ben@fabrikam.com]\nsendOnBehalf: [ben@fabrikam.com]\nsentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}]\n",
            vec![
                "sendAs Remove Revocations: S-1-5-21-1111111111-2222222222-3333333333-1107 (orphaned) -> -, no undo, orphaned",
                "sendOnBehalf Remove Revocations: deleted-user (orphaned) -> -, no undo, orphaned",
                "sentItemsReaders Remove Revocations: NT:S-1-5-21-1111111111-2222222222-3333333333-1107 (orphaned): Editor -> -, no undo, orphaned",
            ],
        ),
        // A known autoMapping that differs: revoked and granted again, both changes.
        (
            "autoMapping change",
            |m| m.mailbox_permissions[1].auto_mapping = Some(true),
            "fullAccess: [{principal: anna@fabrikam.com, autoMapping: false}]\n",
            vec![
                "fullAccess Update Grants: anna@fabrikam.com (autoMapping: true) -> -, undo, autoMapping can only be set when access is granted",
                "fullAccess Update Grants: - -> anna@fabrikam.com (autoMapping: false), undo, autoMapping can only be set when access is granted",
                &orphan_fa,
            ],
        ),
        (
            "autoMapping unchanged or not asked for",
            |m| m.mailbox_permissions[1].auto_mapping = Some(true),
            "fullAccess: [{principal: anna@fabrikam.com, autoMapping: true}]\n",
            vec![&orphan_fa],
        ),
        // A differing role is set in place; one differing only in case is no change.
        (
            "access role change",
            no_tweak,
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Editor}]\n",
            vec![
                "sentItemsReaders Update Grants: clara@fabrikam.com: Reviewer -> clara@fabrikam.com: Editor, undo",
            ],
        ),
        (
            "access role in another case",
            |m| m.sent_items.permissions[2].access_rights = vec!["reviewer".into()],
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Reviewer}]\n",
            vec![],
        ),
        // Two spellings of one recipient are one entry: in a policy (warned, the later wins)...
        (
            "duplicate in the policy",
            no_tweak,
            "sendAs: [anna@fabrikam.com, ben@fabrikam.com, anna.berg@fabrikam.onmicrosoft.com]\n",
            vec!["warning plan::same-recipient-twice"],
        ),
        (
            "duplicate in the policy, the later wins",
            no_tweak,
            "sentItemsReaders: [{principal: clara@fabrikam.com, access: Editor}, {principal: 0a1b2c3d-0000-4000-8000-000000000003, access: Reviewer}]\n",
            vec!["warning plan::same-recipient-twice"],
        ),
        // ... and live (one revocation for both rows).
        (
            "duplicate live",
            |m| {
                m.recipient_permissions.push(RecipientPermission {
                    trustee: "anna@fabrikam.com".into(),
                    access_rights: vec!["SendAs".into()],
                    is_inherited: false,
                    access_control_type: "Allow".into(),
                });
                m.grant_send_on_behalf_to.push("ben@fabrikam.com".into());
            },
            "sendAs: [ben@fabrikam.com]\nsendOnBehalf: []\n",
            vec![
                "sendAs Remove Revocations: anna@fabrikam.com -> -, undo",
                "sendOnBehalf Remove Revocations: ben@fabrikam.com -> -, undo",
            ],
        ),
        // Built-in, inherited and deny entries are never touched.
        (
            "built-ins ignored",
            |m| {
                m.mailbox_permissions.push(MailboxPermission {
                    user: "NT AUTHORITY\\SYSTEM".into(),
                    access_rights: vec!["FullAccess".into()],
                    ..MailboxPermission::default()
                });
                m.mailbox_permissions.push(MailboxPermission {
                    user: "clara@fabrikam.com".into(),
                    access_rights: vec!["FullAccess".into()],
                    deny: true,
                    ..MailboxPermission::default()
                });
                m.recipient_permissions.push(RecipientPermission {
                    trustee: "david@fabrikam.com".into(),
                    access_rights: vec!["SendAs".into()],
                    is_inherited: false,
                    access_control_type: "Deny".into(),
                });
                m.sent_items.permissions[0].access_rights = vec!["Reviewer".into()];
            },
            "sendAs: []\nfullAccess: []\nsentItemsReaders: []\n",
            vec![
                &orphan_fa,
                "fullAccess Remove Revocations: anna@fabrikam.com -> -, undo",
                "sendAs Remove Revocations: anna@fabrikam.com -> -, undo",
                "sendAs Remove Revocations: ben@fabrikam.com -> -, undo",
                "sentItemsReaders Remove Revocations: clara@fabrikam.com: Reviewer -> -, undo, root visibility kept",
            ],
        ),
    ];
    for (rule, tweak, body, expected) in table {
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        let warnings = expected
            .iter()
            .position(|l| l.starts_with("warning "))
            .unwrap_or(expected.len());
        expected[..warnings].sort();
        assert_eq!(
            described(&plan_after(tweak, body)),
            expected,
            "{rule}, policy:\n{body}"
        );
    }
}

#[test]
fn an_automapping_regrant_is_a_change_never_a_revocation() {
    // anna's FullAccess is re-granted (autoMapping true -> false); the orphan's FullAccess and
    // ben's Send As are revoked.
    let plan = plan_after(
        |m| m.mailbox_permissions[1].auto_mapping = Some(true),
        "sendAs: [anna@fabrikam.com]\nfullAccess: [{principal: anna@fabrikam.com, autoMapping: false}]\n",
    );
    let changes = &plan.mailboxes[0].changes;
    let regrant: Vec<&str> = changes
        .iter()
        .filter(|c| c.field == "fullAccess" && !c.is_revocation())
        .map(|c| c.operation.cmdlet())
        .collect();
    assert_eq!(
        regrant,
        ["Remove-MailboxPermission", "Add-MailboxPermission"]
    );
    assert_eq!(
        plan.summary(),
        Summary {
            create: 0,
            change: 2,
            revoke: 2,
            destroy: 0
        }
    );
    assert_eq!(
        plan.revocations(),
        2,
        "what --max-removals counts is the summary's `to revoke`"
    );
    assert_eq!(changes.iter().filter(|c| c.is_revocation()).count(), 2);
    assert_eq!(
        summary_line(&plan),
        "Plan: 0 to create, 2 to change, 2 to revoke."
    );
    let markdown = render_markdown(&plan, &MarkdownOptions::default());
    assert!(markdown.contains("4 changes, 2 revocations"), "{markdown}");
    assert!(
        markdown.contains("This plan takes access away or deletes (2 items)"),
        "{markdown}"
    );
}
