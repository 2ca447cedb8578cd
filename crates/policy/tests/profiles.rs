//! Profiles: built-in and `kind: Profile` documents, and the precedence
//! mailbox > profile > `Defaults`.

use sharedbox_policy::{Client, Diagnostics, PolicySet, SmtpAuth, Source, load_sources};

fn load(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_sources(
        files
            .iter()
            .map(|(path, text)| Source::new(*path, *text))
            .collect(),
    )
}

fn client(set: &PolicySet, mailbox: &str, which: Client) -> Option<bool> {
    set.mailbox(mailbox)
        .unwrap()
        .clients
        .iter()
        .find(|(c, _)| *c == which)
        .map(|(_, v)| v.value)
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
    assert!(!m.copy_for_send_on_behalf.as_ref().unwrap().value);
    assert_eq!(client(&set, "support@contoso.com", Client::Pop), Some(true));
    // The profile's, over the defaults'.
    assert!(m.copy_for_send_as.as_ref().unwrap().value);
    assert_eq!(
        client(&set, "support@contoso.com", Client::Imap),
        Some(false)
    );
    assert_eq!(m.smtp_auth.as_ref().unwrap().value, SmtpAuth::Disabled);
    // The defaults', where neither sets a value.
    assert_eq!(
        client(&set, "support@contoso.com", Client::Ews),
        Some(false)
    );
    assert!(m.hidden_from_address_lists.as_ref().unwrap().value);
    // A built-in profile's values point at the `profile:` line.
    let imap = m.clients.iter().find(|(c, _)| *c == Client::Imap).unwrap();
    assert_eq!(imap.1.origin.path().to_str(), Some("p/support.yaml"));
    assert_eq!(imap.1.origin.line, 4);
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
        client(&set, "support@contoso.com", Client::Imap),
        Some(true)
    );
    assert!(
        m.copy_for_send_as.is_none(),
        "the built-in profile is replaced, not merged"
    );
    let imap = m.clients.iter().find(|(c, _)| *c == Client::Imap).unwrap();
    assert_eq!(imap.1.origin.to_string(), "p/profiles/team.yaml:5:17");
}

#[test]
fn every_built_in_profile_loads_and_sets_what_its_description_says() {
    for (name, imap, smtp) in [
        ("team-mailbox", false, SmtpAuth::Disabled),
        ("contact-center", true, SmtpAuth::Enabled),
        ("crm-graph", false, SmtpAuth::Disabled),
    ] {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: x@contoso.com\nprofile: {name}\n"
        );
        let set = load(&[("p/x.yaml", &text)]).unwrap();
        assert_eq!(
            client(&set, "x@contoso.com", Client::Imap),
            Some(imap),
            "{name}"
        );
        let m = set.mailbox("x@contoso.com").unwrap();
        assert_eq!(m.smtp_auth.as_ref().unwrap().value, smtp, "{name}");
        assert_eq!(
            client(&set, "x@contoso.com", Client::Owa),
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
