//! Hostile input in the fields the service-principal change added: every one is a located
//! error (file:line:column with a hint), never a panic, never a silent acceptance.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};

fn load(text: &str) -> Result<PolicySet, Diagnostics> {
    load_sources(vec![Source::new("p.yaml", text)])
}

/// (code, file:line:column, has a hint) of every error.
fn errors(text: &str) -> Vec<(String, String, bool)> {
    let diagnostics = load(text).expect_err("errors expected");
    diagnostics
        .errors()
        .map(|d| {
            (
                d.code.to_owned(),
                d.origin
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                d.hint.is_some(),
            )
        })
        .collect()
}

/// `text` as a YAML double-quoted scalar, control characters as `\xNN`.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const APP: &str = "71487acd-ec93-476d-bd0e-6c8b31831053";
const OBJ: &str = "6233fba6-0198-4277-892f-9275bf728bcc";

fn mailbox(send_as: &str) -> String {
    format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\nsendAs: [{send_as}]\n"
    )
}

#[test]
fn app_principals_that_are_not_guids_are_located_errors() {
    // Empty, whitespace, Cyrillic `а` for `a`, fullwidth digits, braces, a control character.
    let lookalike_cyrillic = APP.replace('a', "\u{430}");
    let fullwidth = APP.replace('7', "\u{ff17}");
    for id in [
        String::new(),
        "   ".to_owned(),
        lookalike_cyrillic,
        fullwidth,
        format!("{{{APP}}}"),
        format!("{APP}\u{7}"),
        format!("{APP}-{APP}"),
    ] {
        let found = errors(&mailbox(&yaml_quoted(&format!("app:{id}"))));
        assert_eq!(
            found,
            vec![(
                "policy::invalid-principal".to_owned(),
                "p.yaml:4:10".to_owned(),
                true
            )],
            "app:{id:?}"
        );
    }
}

#[test]
fn a_huge_app_principal_is_an_error_that_does_not_echo_it() {
    let huge = format!("\"app:{}\"", "7".repeat(10 * 1024 * 1024));
    let diagnostics = load(&mailbox(&huge)).expect_err("errors expected");
    let error = diagnostics.errors().next().expect("one error");
    assert_eq!(error.code, "policy::invalid-principal");
    assert_eq!(error.origin.as_ref().unwrap().to_string(), "p.yaml:4:10");
    assert!(
        error.message.len() < 1024,
        "message of {} bytes",
        error.message.len()
    );
}

fn registrations(entries: &str) -> String {
    format!("apiVersion: sharedbox/v1\nkind: TenantSettings\nservicePrincipals:\n{entries}")
}

#[test]
fn registration_ids_that_are_lookalikes_are_located_errors() {
    let cyrillic = APP.replace('a', "\u{430}");
    let fullwidth = OBJ.replace('0', "\u{ff10}");
    let found = errors(&registrations(&format!(
        "  - {{appId: \"{cyrillic}\", objectId: {OBJ}}}\n  - {{appId: {APP}, objectId: \"{fullwidth}\"}}\n"
    )));
    assert_eq!(
        found,
        vec![
            (
                "policy::invalid-service-principal".to_owned(),
                "p.yaml:4:13".to_owned(),
                true
            ),
            (
                "policy::invalid-service-principal".to_owned(),
                "p.yaml:5:61".to_owned(),
                true
            ),
        ]
    );
}

#[test]
fn one_registration_under_two_spellings_is_a_located_error() {
    let upper = APP.to_uppercase();
    let found = errors(&registrations(&format!(
        "  - {{appId: {APP}, objectId: {OBJ}}}\n  - {{appId: \" {upper} \", objectId: {OBJ}}}\n"
    )));
    assert_eq!(
        found,
        vec![(
            "policy::duplicate-service-principal".to_owned(),
            "p.yaml:5:13".to_owned(),
            true
        )]
    );
    // Two apps claiming one enterprise application (object id) are one registration too.
    let other = "0c5a6e3b-4d2f-4b1a-9e8d-7f6a5b4c3d2e";
    let found = errors(&registrations(&format!(
        "  - {{appId: {APP}, objectId: {OBJ}}}\n  - {{appId: {other}, objectId: \"{}\"}}\n",
        OBJ.to_uppercase()
    )));
    assert_eq!(
        found,
        vec![(
            "policy::duplicate-service-principal".to_owned(),
            "p.yaml:5:61".to_owned(),
            true
        )]
    );
}

#[test]
fn a_registration_display_name_with_control_characters_or_no_end_is_a_located_error() {
    for name in [
        "\"Ticket\\u001b[31m system\"".to_owned(),
        format!("\"{}\"", "n".repeat(1_000_000)),
        "\"\"".to_owned(),
    ] {
        let found = errors(&registrations(&format!(
            "  - {{appId: {APP}, objectId: {OBJ}, displayName: {name}}}\n"
        )));
        assert_eq!(
            found,
            vec![(
                "policy::invalid-service-principal".to_owned(),
                "p.yaml:4:112".to_owned(),
                true
            )],
            "{}",
            &name[..name.len().min(40)]
        );
    }
}

#[test]
fn anchors_and_aliases_in_registrations_and_principals_do_not_panic() {
    // One entry reused by alias is the same registration twice.
    let text = registrations(&format!(
        "  - &sp {{appId: {APP}, objectId: {OBJ}}}\n  - *sp\n"
    ));
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "policy::duplicate-service-principal");
    // An aliased principal list is accepted as written.
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\nsendAs: &who [\"app:{APP}\"]\nfullAccess:\n  - principal: \"app:{APP}\"\n"
    );
    let _ = load(&text);
}

#[test]
fn tenant_settings_flags_reject_huge_and_non_boolean_values() {
    for value in ["yes", "1", &"t".repeat(100_000)] {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: TenantSettings\nsmtpClientAuthenticationDisabled: {value}\n"
        );
        let diagnostics = load(&text).expect_err("errors expected");
        let error = diagnostics.errors().next().expect("one error");
        assert!(
            error
                .origin
                .as_ref()
                .unwrap()
                .to_string()
                .starts_with("p.yaml:3:"),
            "{value:.20}: {:?}",
            error.origin
        );
        assert!(error.message.len() < 4096, "{} bytes", error.message.len());
    }
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\nsentItems:\n  copyForSmtpSubmission: {}\n",
        "x".repeat(100_000)
    );
    let diagnostics = load(&text).expect_err("errors expected");
    let error = diagnostics.errors().next().expect("one error");
    assert_eq!(error.origin.as_ref().unwrap().to_string(), "p.yaml:5:26");
    assert!(error.message.len() < 4096, "{} bytes", error.message.len());
}

#[test]
fn an_address_with_a_huge_domain_is_a_located_error_that_does_not_echo_it() {
    // A 10 MB domain passed the address check and reached the planner, whose "not a recipient
    // of the tenant" error and every lint message quoted it whole.
    for domain in [
        format!("{}.com", "b".repeat(10 * 1024 * 1024)),
        format!("{}.com", "b".repeat(64)),
        format!("{}.com", vec!["b".repeat(60); 5].join(".")),
    ] {
        let diagnostics =
            load(&mailbox(&format!("\"anna@{domain}\""))).expect_err("errors expected");
        let error = diagnostics.errors().next().expect("one error");
        assert_eq!(error.code, "policy::invalid-principal");
        assert_eq!(error.origin.as_ref().unwrap().to_string(), "p.yaml:4:10");
        assert!(error.hint.is_some());
        assert!(error.message.len() < 1024, "{} bytes", error.message.len());
    }
    // The longest legal domain is still an address.
    let longest = format!(
        "{}.{}.com",
        vec!["b".repeat(63); 3].join("."),
        "b".repeat(57)
    );
    assert_eq!(longest.len(), 253);
    load(&mailbox(&format!("\"anna@{longest}\""))).expect("a 253-character domain loads");
}

#[test]
fn a_control_character_in_a_quoted_value_is_escaped_once_in_the_message() {
    let diagnostics = load(&registrations(&format!(
        "  - {{appId: {APP}, objectId: {OBJ}, displayName: \"a\\u001bb\"}}\n"
    )))
    .expect_err("errors expected");
    let error = diagnostics.errors().next().expect("one error");
    assert!(
        !error.message.chars().any(char::is_control),
        "{:?}",
        error.message
    );
    assert!(error.message.contains(r"a\u{1b}b"), "{:?}", error.message);
}
