//! Policy files from an untrusted pull request: the loader refuses what would exhaust
//! memory or stack with a clear, located error, and never panics on any input.

use proptest::prelude::*;
use sharedbox_policy::{Diagnostics, Source, load_dir, load_sources};

const VALID: &str = "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: team@contoso.com
sentItems:
  copyForSendAs: true
  copyForSendOnBehalf: true
sendAs: [anna@contoso.com]
fullAccess:
  - principal: anna@contoso.com
    autoMapping: false
sentItemsReaders:
  - principal: ben@contoso.com
    access: Reviewer
";

fn load(text: &str) -> Result<(), Diagnostics> {
    load_sources(vec![Source::new("policies/hostile.yaml", text)]).map(|_| ())
}

fn only_error(result: Result<(), Diagnostics>) -> sharedbox_policy::Diagnostic {
    let errors = result.expect_err("the file must be refused").0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn an_alias_bomb_is_refused_before_it_expands() {
    // "Billion laughs": nine levels of ten aliases each would expand to 10^9 strings. The
    // strict schema refuses the first unknown key before any alias is expanded.
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let previous = format!("*a{}", level - 1);
        let list = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{list}]\n"));
    }
    text.push_str("mailbox: *a8\n");
    let started = std::time::Instant::now();
    let error = only_error(load(&text));
    assert!(error.origin.is_some(), "located: {error:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn an_alias_storm_in_valid_places_is_refused_by_the_budget() {
    let aliases = vec!["*a"; 5_000].join(", ");
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: team@contoso.com\nsendAs: [&a anna@contoso.com, {aliases}]\n"
    );
    let error = only_error(load(&text));
    assert_eq!(error.code, "policy::too-complex", "{error:?}");
    assert!(error.message.contains("alias"), "{}", error.message);
    assert_eq!(error.origin.as_ref().map(|o| o.line), Some(4));
    assert!(
        error
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("split the file")
    );
}

#[test]
fn deep_nesting_is_refused_at_its_line_without_exhausting_the_stack() {
    // The schema has no place for nested lists, so the type check refuses it first; the
    // depth budget is the backstop behind it.
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: team@contoso.com\nsendAs: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let error = only_error(load(&text));
    assert_eq!(error.origin.as_ref().map(|o| o.line), Some(4), "{error:?}");
}

#[test]
fn a_list_of_a_million_principals_is_refused() {
    let mut text = String::from(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: team@contoso.com\nsendAs:\n",
    );
    for n in 0..1_000_000 {
        text.push_str(&format!("  - u{n}@contoso.com\n"));
    }
    let error = only_error(load(&text));
    assert_eq!(error.code, "policy::too-complex", "{error:?}");
    assert!(error.message.contains("nodes"), "{}", error.message);
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap(); // 100 MB, sparse
    std::fs::write(dir.path().join("team.yaml"), VALID).unwrap();
    let errors = load_dir(dir.path()).expect_err("refused").0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, "policy::too-large");
    assert!(errors[0].message.contains("huge.yaml"));
    assert!(errors[0].hint.is_some());
}

#[test]
fn ten_thousand_mailboxes_in_one_file_stay_within_the_budget() {
    let text: Vec<String> = (0..10_000)
        .map(|n| VALID.replace("team@contoso.com", &format!("team{n}@contoso.com")))
        .collect();
    let set = load_sources(vec![Source::new("policies/all.yaml", text.join("---\n"))])
        .expect("a large, honest file loads");
    assert_eq!(set.mailboxes.len(), 10_000);
}

#[test]
fn a_file_that_is_not_utf8_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"mailbox: gr\xfc\xdfe@contoso.com\n",
    )
    .unwrap();
    let errors = load_dir(dir.path()).expect_err("refused").0;
    assert!(
        errors[0].message.contains("not UTF-8"),
        "{}",
        errors[0].message
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = load(&text);
    }

    #[test]
    fn a_valid_file_with_bytes_replaced_never_panics(
        edits in proptest::collection::vec((0usize..VALID.len(), any::<char>()), 1..8)
    ) {
        let mut chars: Vec<char> = VALID.chars().collect();
        for (at, c) in edits {
            let at = at % chars.len();
            chars[at] = c;
        }
        let text: String = chars.into_iter().collect();
        if let Err(Diagnostics(errors)) = load(&text) {
            prop_assert!(!errors.is_empty());
            for error in errors {
                prop_assert!(!error.message.is_empty());
            }
        }
    }

    #[test]
    fn yaml_structure_made_of_policy_tokens_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("apiVersion: sharedbox/v1\n"), Just("kind: SharedMailbox\n"),
                Just("kind: Defaults\n"), Just("kind: Profile\n"), Just("---\n"),
                Just("mailbox: a@b.c\n"), Just("sendAs: [x@b.c]\n"), Just("fullAccess:\n"),
                Just("  - principal: x@b.c\n"), Just("    autoMapping: true\n"),
                Just("profile: team-mailbox\n"), Just("lints: {SBX101: off}\n"),
                Just("&a [1]\n"), Just("*a\n"), Just("moderation:\n"), Just("  enabled: true\n"),
                Just("clients: {outlook: false}\n"), Just("ensure: absent\n"), Just("\t"),
                Just("name: x\n"), Just("match: {domain: b.c}\n"), Just("{"), Just("]"),
            ],
            0..24,
        )
    ) {
        let _ = load(&parts.concat());
    }
}
