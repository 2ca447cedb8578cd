//! Table tests of the planning rules (`docs/policy-format.md`, "Rules"): one policy for `support@fabrikam.com`
//! against the fixture tenant per row, and the exact changes it must plan, as
//! `field action: before -> after`.

use std::path::Path;

use sharedbox_file::TenantFile;
use sharedbox_planner::{PlanOptions, plan};
use sharedbox_policy::Source;
use sharedbox_tenant::ReadScope;

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

/// The changes the policy body (after `mailbox: support@fabrikam.com`) plans, one line each.
fn changes(body: &str) -> Vec<String> {
    let file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n{body}"
    );
    let policies = sharedbox_policy::load_sources(vec![Source::new("p.yaml", text)])
        .unwrap_or_else(|e| panic!("{body}: {e:?}"));
    let snapshot = file.snapshot(&ReadScope {
        mailboxes: vec!["support@fabrikam.com".into()],
    });
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
                c.before.as_deref().unwrap_or("-"),
                c.after.as_deref().unwrap_or("-")
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
            vec!["clients.smtpAuth Update: inherit -> disabled"],
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
