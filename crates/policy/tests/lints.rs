//! The offline lints: which findings a policy produces, where, and how `sharedbox.yaml`
//! levels change them.

use sharedbox_policy::lint::{Level, LintLevels, find};
use sharedbox_policy::{Diagnostic, LINTS, Severity, Source, lint_policies, load_sources};

fn lint(yaml: &str) -> Vec<Diagnostic> {
    let set = load_sources(vec![Source::new("policies/test.yaml", yaml)])
        .unwrap_or_else(|d| panic!("policies load: {:?}", d.0));
    lint_policies(&set, &LintLevels::default())
}

/// `(code, line)` of every finding.
fn codes(findings: &[Diagnostic]) -> Vec<(&'static str, u32)> {
    findings
        .iter()
        .map(|d| (d.code, d.origin.as_ref().map_or(0, |o| o.line)))
        .collect()
}

const HEADER: &str =
    "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n";

#[test]
fn a_well_configured_team_mailbox_has_no_findings() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}
sendAs: [team@contoso.com]
sendOnBehalf: [lead@contoso.com]
fullAccess: [{{principal: team@contoso.com}}]
sentItemsReaders: [{{principal: lead@contoso.com, access: Reviewer}}]
clients: {{imap: false, pop: false, smtpAuth: disabled, outlook: false}}
"
    ));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn senders_without_the_copy_flag_are_found_at_the_flag_or_the_list() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: false}}
sendAs: [team@contoso.com]
sendOnBehalf: [lead@contoso.com]
"
    ));
    assert_eq!(codes(&findings), [("SBX101", 4), ("SBX101", 6)]);
    assert!(
        findings[0]
            .message
            .contains("`sentItems.copyForSendAs` is off")
    );
    assert!(
        findings[1]
            .message
            .contains("`sentItems.copyForSendOnBehalf` is not managed")
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0].hint.as_deref().unwrap().contains("`Defaults`"));
}

#[test]
fn a_copy_flag_with_no_sender_of_that_kind_has_no_effect() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}
sendAs: []
"
    ));
    // sendOnBehalf is not managed: unknown offline, so only Send As is reported.
    assert_eq!(codes(&findings), [("SBX102", 4)]);
    assert_eq!(findings[0].severity, Severity::Info);
}

#[test]
fn imap_and_pop_do_not_send_so_they_alone_are_no_finding() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true}}
sendAs: []
clients:
  imap: true
  pop: true
  smtpAuth: disabled
"
    ));
    assert_eq!(codes(&findings), [("SBX102", 4)], "{findings:#?}");
}

#[test]
fn smtp_auth_as_the_mailbox_with_imap_and_exchanges_copy_warns_of_two_copies() {
    // `copyForSmtpSubmission` not managed: Exchange's default (on) counts.
    let findings = lint(&format!(
        "{HEADER}clients:
  imap: true
  smtpAuth: enabled
"
    ));
    assert_eq!(codes(&findings), [("SBX103", 5)]);
    assert!(
        findings[0].message.contains("two copies")
            && findings[0].message.contains("Exchange's default is on"),
        "{}",
        findings[0].message
    );
    // Exchange's copy off: the IMAP client's append is the one copy.
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSmtpSubmission: false}}
clients: {{imap: true, smtpAuth: enabled}}
"
    ));
    assert!(findings.is_empty(), "{findings:#?}");
    // Exchange's copy off and IMAP off: no copy anywhere.
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSmtpSubmission: false}}
clients: {{imap: false, smtpAuth: enabled}}
"
    ));
    assert_eq!(codes(&findings), [("SBX103", 4)]);
    assert!(findings[0].message.contains("saved in no Sent Items"));
    // SMTP AUTH off for the mailbox: nothing submits as it.
    let findings = lint(&format!(
        "{HEADER}clients: {{imap: true, smtpAuth: disabled}}\n"
    ));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn former_lint_names_are_still_accepted() {
    assert_eq!(
        find("protocol-bypasses-sent-copy").map(|l| l.code.as_str()),
        Some("SBX103")
    );
    assert_eq!(
        find("send-on-behalf-duplicates").map(|l| l.code.as_str()),
        Some("SBX105")
    );
}

#[test]
fn a_sender_who_cannot_read_the_sent_items_is_reported_once() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}
sendAs: [alice@contoso.com, team@contoso.com]
sendOnBehalf: [ALICE@contoso.com]
fullAccess: [{{principal: team@contoso.com}}]
clients: {{outlook: false}}
"
    ));
    assert_eq!(codes(&findings), [("SBX104", 5)]);
    assert!(
        findings[0]
            .message
            .starts_with("`alice@contoso.com` may send as")
    );
}

#[test]
fn a_sender_with_a_sent_items_folder_right_can_read() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true}}
sendAs: [alice@contoso.com]
fullAccess: []
sentItemsReaders: [{{principal: alice@contoso.com, access: Reviewer}}]
clients: {{outlook: false}}
"
    ));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn send_on_behalf_copies_with_classic_outlook_warn_of_duplicates() {
    let policy = |outlook: &str| {
        format!(
            "{HEADER}sentItems: {{copyForSendOnBehalf: true}}
sendOnBehalf: [lead@contoso.com]
{outlook}"
        )
    };
    assert_eq!(codes(&lint(&policy(""))), [("SBX105", 4)]);
    assert_eq!(
        codes(&lint(&policy("clients: {outlook: true}\n"))),
        [("SBX105", 4)]
    );
    assert!(lint(&policy("clients: {outlook: false}\n")).is_empty());
}

#[test]
fn send_as_copies_with_classic_outlook_warn_of_duplicates_too() {
    // Microsoft's table: `DelegateSentItemsStyle=1` with `MessageCopyForSentAsEnabled` gives
    // two copies in the shared mailbox.
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}
sendAs: [team@contoso.com]
sendOnBehalf: [lead@contoso.com]
fullAccess: [{{principal: team@contoso.com}}, {{principal: lead@contoso.com}}]
"
    ));
    assert_eq!(codes(&findings), [("SBX105", 4)]);
    assert!(
        findings[0].message.contains(
            "sent as and on behalf of it server-side (`sentItems.copyForSendAs`, `sentItems.copyForSendOnBehalf`)"
        ),
        "{}",
        findings[0].message
    );
}

#[test]
fn moderation_needs_moderators_and_a_moderator_needs_no_bypass() {
    let findings = lint(&format!(
        "{HEADER}moderation:
  enabled: true
  moderators: []
"
    ));
    assert_eq!(codes(&findings), [("SBX106", 6)]);
    assert_eq!(findings[0].severity, Severity::Error);

    let findings = lint(&format!(
        "{HEADER}moderation:
  enabled: true
  moderators: [lead@contoso.com]
  bypass: [ceo@contoso.com, Lead@Contoso.com]
"
    ));
    assert_eq!(codes(&findings), [("SBX107", 7)]);
}

#[test]
fn levels_from_the_configuration_change_severity_or_drop_findings() {
    let findings = lint(&format!(
        "{HEADER}sentItems: {{copyForSendAs: false}}
sendAs: [team@contoso.com]
moderation: {{enabled: true}}
"
    ));
    assert_eq!(codes(&findings), [("SBX101", 4), ("SBX106", 6)]);
    let mut levels = LintLevels::default();
    levels.set(find("SBX101").unwrap(), Level::Severity(Severity::Error));
    levels.set(find("moderation-without-moderators").unwrap(), Level::Off);
    let findings = levels.apply(findings);
    assert_eq!(codes(&findings), [("SBX101", 4)]);
    assert_eq!(findings[0].severity, Severity::Error);
}

#[test]
fn the_catalog_has_unique_codes_names_and_an_explanation_each() {
    for (i, lint) in LINTS.iter().enumerate() {
        assert!(
            lint.code.as_str().starts_with("SBX") && lint.code.as_str().len() == 6,
            "{}",
            lint.code
        );
        assert_eq!(
            lint.tenant_aware,
            lint.code.as_str().starts_with("SBX2"),
            "{}",
            lint.code
        );
        assert!(lint.explanation.contains("Why:") && lint.explanation.contains("Fix:"));
        for other in &LINTS[i + 1..] {
            assert_ne!(lint.code, other.code);
            assert_ne!(lint.name, other.name);
        }
    }
    // Levels are read where they are written: `lints:` of a document (or `sharedbox.yaml`).
    let with_level = |level: &str| {
        load_sources(vec![Source::new(
            "p/x.yaml",
            format!(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: a@b.example\nlints: {{SBX101: {level}}}\n"
            ),
        )])
    };
    let set = with_level("warning").unwrap();
    assert_eq!(
        set.mailboxes[0].lints[0].1.value,
        Level::Severity(Severity::Warning)
    );
    assert!(
        with_level("loud").unwrap_err().0[0]
            .message
            .contains("`error`, `warning`, `info`, `off`")
    );
}

#[test]
fn a_mailbox_or_its_profile_sets_levels_that_win_over_the_configuration() {
    let yaml = "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: cc@contoso.com
profile: smtp-as-mailbox
clients: {smtpAuth: enabled}
---
apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@contoso.com
clients: {imap: true, smtpAuth: enabled}
lints: {SBX103: off, protocol-bypasses-sent-copy: error}
---
apiVersion: sharedbox/v1
kind: Profile
name: smtp-as-mailbox
clients: {imap: true}
lints: {SBX103: info}
";
    // The same lint twice in one `lints:` map: the YAML keys differ, the codes do not.
    let errors = load_sources(vec![Source::new("p/x.yaml", yaml)]).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].code, "policy::duplicate-lint");

    let yaml = yaml.replace(", protocol-bypasses-sent-copy: error", "");
    let set = load_sources(vec![Source::new("p/x.yaml", yaml.as_str())]).unwrap();
    let mut config = LintLevels::default();
    config.set(find("SBX103").unwrap(), Level::Severity(Severity::Error));
    let findings = lint_policies(&set, &config);
    // cc@: IMAP from the profile, reported at the profile's level (info); support@: its own
    // `lints:` switches SBX103 off.
    assert_eq!(codes(&findings), [("SBX103", 16)]);
    assert!(findings.iter().all(|d| d.severity == Severity::Info));
    assert!(
        findings
            .iter()
            .all(|d| d.message.contains("`cc@contoso.com`"))
    );
}

#[test]
fn an_unknown_lint_in_a_policy_is_a_located_error() {
    let errors = load_sources(vec![Source::new(
        "p/x.yaml",
        "apiVersion: sharedbox/v1\nkind: Defaults\nlints: {SBX999: off}\n",
    )])
    .unwrap_err();
    assert_eq!(errors.0[0].code, "policy::unknown-lint");
    assert_eq!(
        errors.0[0].origin.as_ref().unwrap().to_string(),
        "p/x.yaml:3:17"
    );
}

#[test]
fn new_outlook_with_owa_off_is_found_at_the_owa_switch() {
    let findings = lint(&format!(
        "{HEADER}clients:\n  owa: false\n  newOutlook: true\n"
    ));
    assert_eq!(codes(&findings), [("SBX108", 5)]);
    assert!(findings[0].message.contains("also blocks new Outlook"));
    assert!(
        findings[0].hint.as_deref().unwrap().contains("line 6")
            || findings[0].hint.as_deref().unwrap().contains(":6:")
    );
    // Both on, or new Outlook off: nothing to say.
    assert!(
        lint(&format!(
            "{HEADER}clients: {{owa: true, newOutlook: true}}\n"
        ))
        .is_empty()
    );
    assert!(
        lint(&format!(
            "{HEADER}clients: {{owa: false, newOutlook: false}}\n"
        ))
        .is_empty()
    );
}

#[test]
fn a_hidden_mailbox_with_senders_is_found_at_hidden_from_address_lists() {
    let findings = lint(&format!(
        "{HEADER}hiddenFromAddressLists: true\nsentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}\nsendAs: [team@contoso.com]\nsendOnBehalf: [lead@contoso.com]\n"
    ));
    let findings: Vec<_> = findings
        .into_iter()
        .filter(|d| d.code == "SBX109")
        .collect();
    assert_eq!(codes(&findings), [("SBX109", 4)]);
    assert!(
        findings[0].message.contains("2 principals"),
        "{}",
        findings[0].message
    );
    // Hidden without senders, or visible with senders: nothing.
    assert!(
        lint(&format!(
            "{HEADER}hiddenFromAddressLists: true\nsendAs: []\n"
        ))
        .is_empty()
    );
    assert!(
        lint(&format!(
            "{HEADER}hiddenFromAddressLists: false\nsentItems: {{copyForSendAs: true}}\nsendAs: [team@contoso.com]\n"
        ))
        .iter()
        .all(|d| d.code != "SBX109")
    );
}
