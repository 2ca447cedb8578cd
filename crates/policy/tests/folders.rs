//! `folders` in policy documents: the entries of each managed well-known folder, the
//! calendar's delegate flags checked as Exchange checks them, one list per folder across
//! `Defaults`, profiles and the mailbox, and `folders.sentItems` never beside
//! `sentItemsReaders`; each error at its file:line:column with a hint.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};
use sharedbox_tenant::WellKnownFolder;

fn load(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_sources(
        files
            .iter()
            .map(|(name, text)| Source::new(*name, *text))
            .collect(),
    )
}

fn mailbox(body: &str) -> String {
    format!("apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: a@contoso.com\n{body}")
}

/// The diagnostics with `code`, as `file:line:column`, each with a hint.
fn at(errors: &Diagnostics, code: &str) -> Vec<String> {
    errors
        .0
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            assert!(d.hint.is_some(), "{code} has a hint");
            let o = d.origin.as_ref().expect("located");
            format!("{}:{}:{}", o.source.path.display(), o.line, o.column)
        })
        .collect()
}

#[test]
fn folders_load_per_folder_with_canonical_flags_and_a_folder_not_listed_is_unmanaged() {
    let set = load(&[(
        "a.yaml",
        &mailbox(
            "folders:\n  calendar:\n    - {principal: bob@contoso.com, access: Editor, delegate: true, canViewPrivateItems: true}\n    - {principal: eve@contoso.com, access: Reviewer, delegate: false}\n  inbox: []\n",
        ),
    )])
    .unwrap();
    let policy = set.mailbox("a@contoso.com").unwrap();
    let managed: Vec<WellKnownFolder> = policy.folders.keys().copied().collect();
    assert_eq!(
        managed,
        [WellKnownFolder::Inbox, WellKnownFolder::Calendar],
        "Sent Items is not managed"
    );
    let calendar = &policy.folders[&WellKnownFolder::Calendar].value;
    assert_eq!(calendar[0].flags, ["Delegate", "CanViewPrivateItems"]);
    assert_eq!(calendar[0].access.value.as_str(), "Editor");
    assert!(calendar[1].flags.is_empty(), "`delegate: false` is no flag");
    assert!(policy.folders[&WellKnownFolder::Inbox].value.is_empty());
    // Only where a policy manages them are the Inbox and Calendar read.
    let scope = set.read_scope();
    assert_eq!(scope.folders.len(), 2);
    assert!(scope.roots.iter().any(|r| r.always));
}

#[test]
fn delegate_flags_break_exchanges_rules_as_located_errors() {
    let errors = load(&[(
        "a.yaml",
        &mailbox(concat!(
            "folders:\n",
            "  calendar:\n",
            "    - {principal: bob@contoso.com, access: Reviewer, delegate: true}\n",
            "    - {principal: eve@contoso.com, access: Editor, canViewPrivateItems: true}\n",
            "  inbox:\n",
            "    - principal: carl@contoso.com\n",
            "      access: Editor\n",
            "      delegate: true\n",
        )),
    )])
    .unwrap_err();
    // At the flag: a flag on the inbox (read first), Reviewer with delegate, private items
    // without delegate.
    assert_eq!(
        at(&errors, "policy::invalid-delegate-flags"),
        ["a.yaml:11:17", "a.yaml:6:64", "a.yaml:7:73"]
    );
    let messages: Vec<String> = errors
        .0
        .iter()
        .map(|d| format!("{} | {}", d.message, d.hint.clone().unwrap_or_default()))
        .collect();
    assert!(messages[0].contains("calendar only"), "{}", messages[0]);
    assert!(
        messages[1].contains("need the role `Editor`"),
        "{}",
        messages[1]
    );
    assert!(
        messages[1].contains("write `access: Editor` (at a.yaml:6:"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("only together with `Delegate`"),
        "{}",
        messages[2]
    );
    // A delegate flag under a folder key that does not exist is a schema error, located too.
    let errors = load(&[("a.yaml", &mailbox("folders:\n  contacts: []\n"))]).unwrap_err();
    assert_eq!(errors.0[0].origin.as_ref().unwrap().line, 5);
}

#[test]
fn sent_items_readers_and_folders_sent_items_cannot_both_manage_one_mailbox() {
    let errors = load(&[(
        "a.yaml",
        &mailbox(
            "sentItemsReaders: [{principal: bob@contoso.com, access: Reviewer}]\nfolders:\n  sentItems: [{principal: eve@contoso.com, access: Reviewer}]\n",
        ),
    )])
    .unwrap_err();
    assert_eq!(at(&errors, "policy::sent-items-twice"), ["a.yaml:6:14"]);
    assert!(
        errors.0[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("a.yaml:4:19")),
        "the hint names where sentItemsReaders is: {:?}",
        errors.0[0].hint
    );
    // From two documents: `Defaults` manages the readers, the mailbox `folders.sentItems`.
    let errors = load(&[
        (
            "defaults.yaml",
            "apiVersion: sharedbox/v1\nkind: Defaults\nsentItemsReaders: []\n",
        ),
        ("a.yaml", &mailbox("folders:\n  sentItems: []\n")),
    ])
    .unwrap_err();
    assert_eq!(at(&errors, "policy::sent-items-twice"), ["a.yaml:5:14"]);
    // Each alone loads.
    for body in [
        "sentItemsReaders: [{principal: bob@contoso.com, access: Reviewer}]\n",
        "folders:\n  sentItems: [{principal: bob@contoso.com, access: Reviewer}]\n",
    ] {
        assert!(load(&[("a.yaml", &mailbox(body))]).is_ok(), "{body}");
    }
}

#[test]
fn a_folder_the_mailbox_lists_replaces_the_defaults_list_of_that_folder_only() {
    let set = load(&[
        (
            "defaults.yaml",
            "apiVersion: sharedbox/v1\nkind: Defaults\nfolders:\n  inbox: [{principal: audit@contoso.com, access: Reviewer}]\n  calendar: [{principal: desk@contoso.com, access: Reviewer}]\n",
        ),
        (
            "a.yaml",
            &mailbox("folders:\n  calendar: [{principal: bob@contoso.com, access: Editor, delegate: true}]\n"),
        ),
    ])
    .unwrap();
    let policy = set.mailbox("a@contoso.com").unwrap();
    let names = |folder| -> Vec<String> {
        policy.folders[&folder]
            .value
            .iter()
            .map(|g| g.principal.value.clone())
            .collect()
    };
    assert_eq!(names(WellKnownFolder::Inbox), ["audit@contoso.com"]);
    assert_eq!(names(WellKnownFolder::Calendar), ["bob@contoso.com"]);
    // A principal listed twice in one folder is an error at the second entry.
    let errors = load(&[(
        "a.yaml",
        &mailbox("folders:\n  inbox:\n    - {principal: bob@contoso.com, access: Reviewer}\n    - {principal: BOB@contoso.com, access: Editor}\n"),
    )])
    .unwrap_err();
    assert_eq!(at(&errors, "policy::duplicate-principal"), ["a.yaml:7:19"]);
}
