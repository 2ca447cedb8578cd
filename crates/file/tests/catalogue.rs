//! Every catalogue entry, executed on the file backend and observed again, reads back as
//! the value it wrote; its inverse restores the value before. This is the contract the
//! applier's verification and rollback rely on, checked per property rather than per case.

use std::path::Path;

use proptest::prelude::*;
use sharedbox_file::TenantFile;
use sharedbox_tenant::{
    Kind, Observation, Operation, OrganizationProperty, Property, ReadScope, Value, expected,
    observe,
};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

/// A value of `kind` chosen by `pick`: any value the property can be written with.
fn value_of(kind: Kind, pick: u8) -> Value {
    match kind {
        Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } => {
            Value::Flag(pick.is_multiple_of(2))
        }
        Kind::Tristate { .. } => {
            [Value::Flag(true), Value::Flag(false), Value::Unset][usize::from(pick % 3)].clone()
        }
        Kind::Text => Value::Text(format!("Team Inbox {pick}")),
        // A recipient of the fixture (`ForwardingAddress` takes only those), in any case, or
        // `$null`.
        Kind::Address => [
            Value::Unset,
            Value::Text("anna@fabrikam.com".into()),
            Value::Text("Clara@Fabrikam.com".into()),
        ][usize::from(pick % 3)]
        .clone(),
        Kind::Time => Value::Text(
            ["2026-12-24T08:00:00Z", "2027-01-02T17:30:00Z"][usize::from(pick % 2)].to_owned(),
        ),
        Kind::Message => {
            Value::Text(["", "Closed &amp; away<br>Back soon"][usize::from(pick % 2)].to_owned())
        }
        Kind::Choice(words) => {
            // Any spelling: Exchange takes choices without case.
            let word = words[usize::from(pick) % words.len()];
            Value::Text(if pick.is_multiple_of(2) {
                word.to_owned()
            } else {
                word.to_ascii_lowercase()
            })
        }
    }
}

fn tenant() -> TenantFile {
    let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    // Moderation can only be switched on with a moderator (Exchange's rule, also modelled).
    for mailbox in &mut file.mailboxes {
        if mailbox.moderated_by.is_empty() {
            mailbox.moderated_by.push("anna@fabrikam.com".into());
        }
    }
    file
}

fn snapshot(file: &TenantFile) -> sharedbox_tenant::Snapshot {
    file.snapshot(&ReadScope::of(
        file.mailboxes
            .iter()
            .map(|m| m.primary_smtp_address.clone())
            .collect(),
    ))
}

proptest! {
    #[test]
    fn executing_a_setting_and_observing_it_gives_the_expected_value(
        property in 0..Property::ALL.len(),
        mailbox in 0usize..8,
        pick in any::<u8>(),
    ) {
        let property = Property::ALL[property];
        let definition = property.definition();
        let mut file = tenant();
        let address = file.mailboxes[mailbox % file.mailboxes.len()].primary_smtp_address.clone();
        let value = value_of(definition.kind, pick);
        let operation = Operation::set(&address, property, value);
        let before = observe(&snapshot(&file), &operation);
        // As a read sees it (a mailbox the file gives no automatic replies has the defaults).
        let live_before = (definition.get)(snapshot(&file).mailbox(&address).unwrap());

        file.apply(&operation).unwrap();
        let after = observe(&snapshot(&file), &operation);
        prop_assert!(after.matches(&expected(&operation)), "{property:?}: {after:?} after {operation:?}");

        // The inverse the planner would record puts the value back.
        if let Some(inverse) = definition.inverse(&live_before) {
            let undo = Operation::set(&address, property, inverse);
            file.apply(&undo).unwrap();
            prop_assert!(observe(&snapshot(&file), &undo).matches(&before), "{property:?} restored");
        } else {
            prop_assert_eq!(before, Observation::Switch(None), "only an unreported switch has no inverse");
        }
    }
}

#[test]
fn every_organisation_setting_reads_back_what_it_wrote() {
    for property in OrganizationProperty::ALL {
        for value in [Value::Flag(true), Value::Flag(false)] {
            let mut file = tenant();
            let operation = Operation::set_organization(property, value);
            file.apply(&operation).unwrap();
            assert!(observe(&snapshot(&file), &operation).matches(&expected(&operation)));
        }
    }
}

#[test]
fn a_value_of_the_wrong_kind_is_refused_and_changes_nothing() {
    for property in Property::ALL {
        let definition = property.definition();
        let wrong = match definition.kind {
            Kind::Text | Kind::Choice(_) | Kind::Address | Kind::Time | Kind::Message => {
                Value::Flag(true)
            }
            Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } | Kind::Tristate { .. } => {
                Value::Text("yes".into())
            }
        };
        let mut file = tenant();
        let address = file.mailboxes[0].primary_smtp_address.clone();
        let untouched = file.clone();
        let error = file
            .apply(&Operation::set(&address, property, wrong))
            .unwrap_err();
        assert!(
            error.to_string().contains(definition.parameter),
            "{property:?}: {error}"
        );
        assert_eq!(file, untouched, "{property:?}");
    }
}

#[test]
fn forwarding_address_takes_only_a_recipient_and_stores_its_primary_address() {
    let mut file = tenant();
    let address = file.mailboxes[0].primary_smtp_address.clone();
    let untouched = file.clone();
    let error = file
        .apply(&Operation::set(
            &address,
            Property::ForwardingAddress,
            Value::Text("partner@external.example".into()),
        ))
        .unwrap_err();
    assert!(
        error.to_string().contains("not a mail-enabled recipient"),
        "{error}"
    );
    assert_eq!(file, untouched);
    // Any address is fine as `ForwardingSmtpAddress`, with or without Exchange's prefix.
    file.apply(&Operation::set(
        &address,
        Property::ForwardingSmtpAddress,
        Value::Text("smtp:partner@external.example".into()),
    ))
    .unwrap();
    file.apply(&Operation::set(
        &address,
        Property::ForwardingAddress,
        Value::Text("ANNA@fabrikam.com".into()),
    ))
    .unwrap();
    let mailbox = &file.mailboxes[0];
    assert_eq!(
        mailbox.forwarding_address.as_deref(),
        Some("anna@fabrikam.com")
    );
    assert_eq!(
        mailbox.forwarding_smtp_address.as_deref(),
        Some("partner@external.example")
    );
    // `$null` clears it.
    file.apply(&Operation::set(
        &address,
        Property::ForwardingAddress,
        Value::Unset,
    ))
    .unwrap();
    assert_eq!(file.mailboxes[0].forwarding_address, None);
}
