//! Profiles: built-in and `kind: Profile` documents, and the precedence
//! mailbox > profile > `Defaults`.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};
use sharedbox_tenant::{Property, Value};

fn load(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_sources(
        files
            .iter()
            .map(|(path, text)| Source::new(*path, *text))
            .collect(),
    )
}

fn client(set: &PolicySet, mailbox: &str, which: Property) -> Option<bool> {
    set.mailbox(mailbox)
        .unwrap()
        .setting(which)
        .and_then(|v| v.value.option())
}

fn flag(m: &sharedbox_policy::MailboxPolicy, property: Property) -> bool {
    m.setting(property).unwrap().value.flag()
}

const DEFAULTS: &str = "apiVersion: sharedbox/v1
kind: Defaults
hiddenFromAddressLists: true
sentItems: {copyForSendAs: false, copyForSendOnBehalf: false}
clients: {imap: true, ews: false}
";

#[test]
fn mailbox_wins_over_profile_which_wins_over_defaults() {
    let set = load(&[
        ("p/defaults.yaml", DEFAULTS),
        (
            "p/support.yaml",
            "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@contoso.com
profile: team-mailbox
sentItems: {copyForSendOnBehalf: false}
clients: {pop: true}
",
        ),
    ])
    .unwrap();
    let m = set.mailbox("support@contoso.com").unwrap();
    assert_eq!(m.profile.as_ref().unwrap().value, "team-mailbox");
    // The mailbox's own values.
    assert!(!flag(m, Property::CopyForSendOnBehalf));
    assert_eq!(
        client(&set, "support@contoso.com", Property::Pop),
        Some(true)
    );
    // The profile's, over the defaults'.
    assert!(flag(m, Property::CopyForSendAs));
    assert_eq!(
        client(&set, "support@contoso.com", Property::Imap),
        Some(false)
    );
    assert_eq!(
        m.setting(Property::SmtpClientAuthenticationDisabled)
            .unwrap()
            .value,
        Value::Flag(true)
    );
    // The defaults', where neither sets a value.
    assert_eq!(
        client(&set, "support@contoso.com", Property::Ews),
        Some(false)
    );
    assert!(flag(m, Property::HiddenFromAddressLists));
    // A built-in profile's values point at the `profile:` line.
    let imap = m.setting(Property::Imap).unwrap();
    assert_eq!(imap.origin.path().to_str(), Some("p/support.yaml"));
    assert_eq!(imap.origin.line, 4);
}

#[test]
fn a_profile_document_replaces_the_built_in_one_and_is_located_in_its_file() {
    let set = load(&[
        (
            "p/profiles/team.yaml",
            "apiVersion: sharedbox/v1
kind: Profile
name: team-mailbox
description: our own standard
clients: {imap: true}
",
        ),
        (
            "p/support.yaml",
            "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@contoso.com
profile: team-mailbox
",
        ),
    ])
    .unwrap();
    let m = set.mailbox("support@contoso.com").unwrap();
    assert_eq!(
        client(&set, "support@contoso.com", Property::Imap),
        Some(true)
    );
    assert!(
        m.setting(Property::CopyForSendAs).is_none(),
        "the built-in profile is replaced, not merged"
    );
    let imap = m.setting(Property::Imap).unwrap();
    assert_eq!(imap.origin.to_string(), "p/profiles/team.yaml:5:17");
}

#[test]
fn every_built_in_profile_loads_and_sets_what_its_description_says() {
    for (name, imap, smtp) in [
        ("team-mailbox", false, Some(Value::Flag(true))),
        // SMTP AUTH counts for the account that logs in (the service account, SBX205), so
        // the contact-center profile leaves the mailbox's own setting alone.
        ("contact-center", true, None),
        ("crm-graph", false, Some(Value::Flag(true))),
    ] {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: x@contoso.com\nprofile: {name}\n"
        );
        let set = load(&[("p/x.yaml", &text)]).unwrap();
        assert_eq!(
            client(&set, "x@contoso.com", Property::Imap),
            Some(imap),
            "{name}"
        );
        let m = set.mailbox("x@contoso.com").unwrap();
        assert_eq!(
            m.setting(Property::SmtpClientAuthenticationDisabled)
                .map(|v| v.value.clone()),
            smtp,
            "{name}"
        );
        assert_eq!(
            client(&set, "x@contoso.com", Property::Owa),
            Some(true),
            "{name}"
        );
    }
}

#[test]
fn profile_mistakes_are_located_errors_with_hints() {
    let errors = load(&[
        (
            "p/a.yaml",
            "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: a@contoso.com
profile: team-mailboxes
---
apiVersion: sharedbox/v1
kind: Profile
name: Shared Team
---
apiVersion: sharedbox/v1
kind: Profile
description: no name
---
apiVersion: sharedbox/v1
kind: Profile
name: x
lifecycle: {ensure: absent}
mailbox: b@contoso.com
---
apiVersion: sharedbox/v1
kind: Profile
name: x
",
        ),
        (
            "p/defaults.yaml",
            "apiVersion: sharedbox/v1\nkind: Defaults\nprofile: crm-graph\n",
        ),
    ])
    .unwrap_err();
    let found: Vec<(&str, String)> = errors
        .0
        .iter()
        .map(|d| (d.code, d.origin.as_ref().unwrap().to_string()))
        .collect();
    for expected in [
        ("policy::unknown-profile", "p/a.yaml:4:10"),
        ("policy::invalid-profile-name", "p/a.yaml:8:7"),
        ("policy::missing-field", "p/a.yaml:11:7"),
        ("policy::field-not-allowed", "p/a.yaml:18:10"),
        ("policy::field-not-allowed", "p/a.yaml:17:21"),
        ("policy::duplicate-profile", "p/a.yaml:22:7"),
        ("policy::field-not-allowed", "p/defaults.yaml:3:10"),
    ] {
        assert!(
            found
                .iter()
                .any(|(c, at)| *c == expected.0 && at == expected.1),
            "{expected:?} not in {found:#?}"
        );
    }
    let unknown = errors
        .0
        .iter()
        .find(|d| d.code == "policy::unknown-profile")
        .unwrap();
    assert!(
        unknown
            .hint
            .as_deref()
            .unwrap()
            .contains("`contact-center`, `crm-graph`, `team-mailbox`")
    );
}
