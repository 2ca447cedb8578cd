//! `aliases` in policy documents: per mailbox only, valid addresses, never the primary
//! address, never listed twice or by two mailboxes; each error at the alias's position.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};

fn load(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_sources(
        files
            .iter()
            .map(|(name, text)| Source::new(*name, *text))
            .collect(),
    )
}

fn mailbox(address: &str, aliases: &str) -> String {
    format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {address}\naliases: {aliases}\n"
    )
}

/// The diagnostic with `code`, as `file:line:column`.
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
fn aliases_load_trimmed_and_lower_cased_and_absent_is_unmanaged() {
    let set = load(&[
        (
            "a.yaml",
            &mailbox("a@contoso.com", "[' Expose@Contoso.com ', b@contoso.com]"),
        ),
        (
            "c.yaml",
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: c@contoso.com\n",
        ),
    ])
    .unwrap();
    let a = set.mailbox("a@contoso.com").unwrap();
    let aliases: Vec<&str> = a
        .aliases
        .as_ref()
        .unwrap()
        .value
        .iter()
        .map(|l| l.value.as_str())
        .collect();
    assert_eq!(aliases, ["expose@contoso.com", "b@contoso.com"]);
    assert!(set.mailbox("c@contoso.com").unwrap().aliases.is_none());
}

#[test]
fn a_malformed_duplicate_or_primary_alias_is_a_located_error() {
    let errors = load(&[(
        "a.yaml",
        &mailbox(
            "a@contoso.com",
            "\n  - not-an-address\n  - x@contoso.com\n  - X@contoso.com\n  - A@contoso.com\n",
        ),
    )])
    .unwrap_err();
    assert_eq!(at(&errors, "policy::invalid-alias"), ["a.yaml:5:5"]);
    assert_eq!(at(&errors, "policy::duplicate-alias"), ["a.yaml:7:5"]);
    assert_eq!(at(&errors, "policy::alias-is-primary"), ["a.yaml:8:5"]);
    assert!(
        errors.0.iter().any(|d| d
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("`mailbox:` key"))),
        "{errors:?}"
    );
}

#[test]
fn two_mailboxes_listing_one_alias_or_another_mailboxs_address_is_an_error() {
    let errors = load(&[
        ("a.yaml", &mailbox("a@contoso.com", "[shared@contoso.com]")),
        (
            "b.yaml",
            &mailbox("b@contoso.com", "[shared@contoso.com, a@contoso.com]"),
        ),
    ])
    .unwrap_err();
    assert_eq!(
        at(&errors, "policy::alias-taken"),
        ["b.yaml:4:11", "b.yaml:4:31"],
        "{errors:?}"
    );
    assert!(
        errors
            .0
            .iter()
            .any(|d| d.message.contains("already an address of `a@contoso.com`"))
    );
}

#[test]
fn defaults_and_profiles_cannot_set_aliases() {
    let errors = load(&[
        (
            "defaults.yaml",
            "apiVersion: sharedbox/v1\nkind: Defaults\naliases: [x@contoso.com]\n",
        ),
        (
            "profile.yaml",
            "apiVersion: sharedbox/v1\nkind: Profile\nname: team\naliases: [y@contoso.com]\n",
        ),
    ])
    .unwrap_err();
    assert_eq!(
        at(&errors, "policy::field-not-allowed"),
        ["defaults.yaml:3:10", "profile.yaml:4:10"],
        "{errors:?}"
    );
    assert!(
        errors
            .0
            .iter()
            .all(|d| d.message.contains("`aliases` is not allowed")),
        "{errors:?}"
    );
}
