//! `aliases`: the secondary SMTP addresses of a mailbox, planned against the test fixture and
//! applied to and rolled back on the file backend. The primary address, X500, SIP and the
//! other proxies are never touched; the addresses Exchange would refuse are plan errors at the
//! alias's line.

use std::path::Path;

use sharedbox_file::TenantFile;
use sharedbox_planner::{Action, Plan, PlanOptions, Wave, plan};
use sharedbox_policy::{PolicySet, Source};
use sharedbox_tenant::{Operation, ReadScope, Snapshot, SoftDeletedMailbox};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

/// The live addresses of `support@fabrikam.com` in these tests.
const LIVE: [&str; 6] = [
    "SMTP:support@fabrikam.com",
    "smtp:Help@fabrikam.com",
    "smtp:old@fabrikam.com",
    "X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=support",
    "SIP:support@fabrikam.com",
    "SPO:SPO_0a1b@SPO_tenant",
];

fn tenant() -> TenantFile {
    let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    let support = file
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    support.email_addresses = LIVE.map(str::to_owned).to_vec();
    file
}

fn policies(aliases: &str) -> PolicySet {
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n{aliases}"
    );
    sharedbox_policy::load_sources(vec![Source::new("support.yaml", text)]).unwrap()
}

fn snapshot(file: &TenantFile) -> Snapshot {
    file.snapshot(&ReadScope::of(vec!["support@fabrikam.com".into()]))
}

fn addresses(file: &TenantFile) -> Vec<String> {
    let mut all = file
        .mailboxes
        .iter()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap()
        .email_addresses
        .clone();
    all.sort();
    all
}

fn alias_changes(plan: &Plan) -> Vec<(Action, Wave, String)> {
    plan.mailboxes
        .iter()
        .flat_map(|m| &m.changes)
        .filter(|c| c.field == "aliases")
        .map(|c| {
            let address = match &c.operation {
                Operation::AddAlias { address, .. } | Operation::RemoveAlias { address, .. } => {
                    address.clone()
                }
                other => panic!("an alias change writes an alias, not {other:?}"),
            };
            (c.action, c.wave, address)
        })
        .collect()
}

#[test]
fn missing_aliases_are_added_unlisted_ones_removed_and_the_primary_and_other_proxies_stay() {
    let mut file = tenant();
    let before = addresses(&file);
    let policies = policies("aliases: [help@fabrikam.com, new@fabrikam.com]\n");
    let planned = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap();
    assert_eq!(
        alias_changes(&planned),
        vec![
            (Action::Add, Wave::Properties, "new@fabrikam.com".to_owned()),
            (
                Action::Remove,
                Wave::Revocations,
                "old@fabrikam.com".to_owned()
            ),
        ],
        "`Help@` is listed as `help@` (no case change is written), the primary is not an alias"
    );
    let list = &planned.mailboxes[0].lists[0];
    assert_eq!(list.field, "aliases");
    assert_eq!(list.before, ["Help@fabrikam.com", "old@fabrikam.com"]);
    assert_eq!(list.after, ["Help@fabrikam.com", "new@fabrikam.com"]);
    assert_eq!(
        planned.summary().revoke,
        1,
        "a removed address counts as a removal"
    );

    // Apply, then the tenant holds exactly the listed aliases besides what is never touched.
    for change in planned.ordered_changes() {
        file.apply(&change.operation).unwrap();
    }
    assert_eq!(
        addresses(&file),
        [
            "SIP:support@fabrikam.com",
            "SMTP:support@fabrikam.com",
            "SPO:SPO_0a1b@SPO_tenant",
            "X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=support",
            "smtp:Help@fabrikam.com",
            "smtp:new@fabrikam.com",
        ]
    );
    let again = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap();
    assert!(again.is_empty(), "applied means converged: {again:?}");

    // Rollback: the inverses in reverse order put every address back.
    for change in planned.ordered_changes().iter().rev() {
        file.apply(change.inverse.as_ref().unwrap()).unwrap();
    }
    assert_eq!(addresses(&file), before);
}

#[test]
fn an_empty_list_removes_every_secondary_smtp_address_and_an_absent_one_nothing() {
    let file = tenant();
    let planned = plan(
        &policies("aliases: []\n"),
        &snapshot(&file),
        &PlanOptions::default(),
    )
    .unwrap();
    let removed: Vec<String> = alias_changes(&planned)
        .into_iter()
        .map(|(action, _, address)| {
            assert_eq!(action, Action::Remove);
            address
        })
        .collect();
    assert_eq!(removed, ["Help@fabrikam.com", "old@fabrikam.com"]);

    let unmanaged = plan(
        &policies("displayName: Support Team\n"),
        &snapshot(&file),
        &PlanOptions::default(),
    )
    .unwrap();
    assert!(alias_changes(&unmanaged).is_empty(), "absent = unmanaged");
}

#[test]
fn aliases_exchange_would_refuse_are_errors_at_their_line() {
    let mut file = tenant();
    file.soft_deleted_mailboxes.push(SoftDeletedMailbox {
        primary_smtp_address: "gone@fabrikam.com".into(),
        email_addresses: vec![
            "SMTP:gone@fabrikam.com".into(),
            "smtp:was-gone@fabrikam.com".into(),
        ],
    });
    let policies = policies(
        "aliases:\n  - help@fabrikam.com\n  - info@contoso.com\n  - anna.berg@fabrikam.com\n  - was-gone@fabrikam.com\n  - buchhaltung@fabrikam.com\n",
    );
    let err = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap_err();
    let found = |code: &str, line: u32, text: &str| {
        assert!(
            err.0.iter().any(|d| d.code == code
                && d.origin.as_ref().is_some_and(|o| o.line == line)
                && d.message.contains(text)
                && d.hint.is_some()),
            "{code} at line {line} with {text:?}: {:#?}",
            err.0
        );
    };
    found(
        "plan::alias-domain-not-accepted",
        6,
        "`info@contoso.com` in `aliases` of `support@fabrikam.com` is not in an accepted domain",
    );
    found(
        "plan::alias-held-by-another-recipient",
        7,
        "the recipient `anna@fabrikam.com` (UserMailbox)",
    );
    found(
        "plan::alias-held-by-another-recipient",
        8,
        "the soft-deleted mailbox `gone@fabrikam.com`",
    );
    found(
        "plan::alias-held-by-another-recipient",
        9,
        "`buchhaltung@fabrikam.com`",
    );
    assert_eq!(
        err.0.len(),
        4,
        "the alias the mailbox holds is fine: {err:#?}"
    );
}

#[test]
fn without_accepted_domains_the_domain_check_is_skipped_with_a_warning() {
    let mut file = tenant();
    file.organization.accepted_domains.clear();
    let planned = plan(
        &policies("aliases: [help@fabrikam.com, info@contoso.com]\n"),
        &snapshot(&file),
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(
        alias_changes(&planned),
        [
            (Action::Add, Wave::Properties, "info@contoso.com".to_owned()),
            (
                Action::Remove,
                Wave::Revocations,
                "old@fabrikam.com".to_owned()
            ),
        ]
    );
    assert!(
        planned
            .warnings
            .iter()
            .any(|w| w.code == "plan::alias-domains-not-read"
                && w.message.contains("could not be read")),
        "{:?}",
        planned.warnings
    );
}

#[test]
fn a_synchronised_mailbox_refuses_aliases_unless_its_exchange_attributes_are_cloud_managed() {
    let mut file = tenant();
    let policies = policies("aliases: [help@fabrikam.com]\n");
    let support = |file: &mut TenantFile| {
        file.mailboxes
            .iter_mut()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .unwrap()
            .is_dir_synced = true;
    };
    support(&mut file);
    let err = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap_err();
    assert!(
        err.0.iter().any(|d| d.code == "plan::mastered-on-premises"
            && d.message.contains("`EmailAddresses`")
            && d.origin.as_ref().is_some_and(|o| o.line == 4)),
        "{err:#?}"
    );
    for m in &mut file.mailboxes {
        m.is_exchange_cloud_managed = true;
    }
    let planned = plan(&policies, &snapshot(&file), &PlanOptions::default()).unwrap();
    assert_eq!(alias_changes(&planned).len(), 1);
    // The file backend refuses the write like Exchange Online for a synchronised mailbox.
    for m in &mut file.mailboxes {
        m.is_exchange_cloud_managed = false;
    }
    assert!(
        file.apply(&Operation::RemoveAlias {
            mailbox: "support@fabrikam.com".into(),
            address: "old@fabrikam.com".into(),
        })
        .is_err()
    );
}

#[test]
fn the_file_backend_refuses_an_alias_another_recipient_holds_or_outside_the_domains() {
    let mut file = tenant();
    let add = |address: &str| Operation::AddAlias {
        mailbox: "support@fabrikam.com".into(),
        address: address.into(),
    };
    let before = addresses(&file);
    let taken = file.apply(&add("anna.berg@fabrikam.com")).unwrap_err();
    assert!(taken.to_string().contains("already being used"), "{taken}");
    let foreign = file.apply(&add("info@contoso.com")).unwrap_err();
    assert!(
        foreign.to_string().contains("isn't an accepted domain"),
        "{foreign}"
    );
    assert_eq!(addresses(&file), before, "a refused write changes nothing");
    file.apply(&add("new@fabrikam.com")).unwrap();
    assert!(addresses(&file).contains(&"smtp:new@fabrikam.com".to_owned()));
}

/// A lookalike of an accepted domain is never taken for the real one: a non-ASCII lookalike
/// (Cyrillic `а`, `о`) or a trailing dot is refused when the policies load, a longer domain
/// when the plan checks the accepted domains; nothing is planned either way.
#[test]
fn a_lookalike_domain_is_not_an_accepted_domain() {
    let file = tenant();
    for (lookalike, code) in [
        ("help@f\u{430}brikam.com", "policy::invalid-alias"),
        ("help@fabrikam.c\u{43e}m", "policy::invalid-alias"),
        ("help@fabrikam.com.", "policy::invalid-alias"),
        (
            "help@fabrikam.com.evil.example",
            "plan::alias-domain-not-accepted",
        ),
    ] {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\naliases:\n  - \"{lookalike}\"\n"
        );
        let codes: Vec<String> =
            match sharedbox_policy::load_sources(vec![Source::new("support.yaml", text)]) {
                Err(err) => err.0.into_iter().map(|d| d.code.to_string()).collect(),
                Ok(policies) => match plan(&policies, &snapshot(&file), &PlanOptions::default()) {
                    Err(err) => err.0.into_iter().map(|d| d.code.to_string()).collect(),
                    Ok(plan) => panic!("{lookalike} was planned: {:?}", alias_changes(&plan)),
                },
            };
        assert_eq!(codes, [code], "{lookalike}");
    }
}
