//! Every catalogued property can be set from a policy document: written the way a policy
//! writes it (the catalogue's `policy_value`, as `export` writes it), loaded, it is the value
//! the catalogue holds. A property whose YAML field is parsed but never mapped to the
//! catalogue would be silently ignored; this test names it.

use sharedbox_policy::{Source, load_sources};
use sharedbox_tenant::{Definition, Kind, OrganizationProperty, Property, Value};

/// Values of `kind` a policy can write.
fn samples(kind: Kind) -> Vec<Value> {
    match kind {
        Kind::Flag | Kind::ReportedFlag | Kind::Switch { .. } => {
            vec![Value::Flag(true), Value::Flag(false)]
        }
        Kind::Tristate { .. } => vec![Value::Flag(true), Value::Flag(false), Value::Unset],
        Kind::Text => vec![Value::Text("Team Inbox: 1st level".into())],
        Kind::Address => vec![Value::Text("partner@fabrikam.com".into())],
        Kind::Time => vec![Value::Text("2026-12-24T08:00:00Z".into())],
        Kind::Message => vec![
            Value::Text("Closed &amp; away<br>Back on 2 January".into()),
            Value::Text(String::new()),
        ],
        Kind::Choice(words) => words.iter().map(|w| Value::Text((*w).into())).collect(),
    }
}

/// `field: value` (or `key: {field: value}`) as a policy writes it.
fn yaml<T>(definition: &Definition<T>, value: &Value) -> String {
    // JSON scalars are YAML scalars.
    let value = serde_json::to_string(&definition.policy_value(value)).unwrap();
    match definition.field.split_once('.') {
        None => format!("{}: {value}\n", definition.field),
        Some((key, field)) => format!("{key}: {{{field}: {value}}}\n"),
    }
}

#[test]
fn every_catalogued_mailbox_property_is_set_by_its_policy_field() {
    // `forwarding` sets its three properties together, and `autoReply.start`/`end` need
    // `state: scheduled`: tested below and in `auto_reply.rs`.
    for property in Property::ALL.into_iter().filter(|p| {
        !is_forwarding(*p) && !matches!(p, Property::AutoReplyStart | Property::AutoReplyEnd)
    }) {
        let definition = property.definition();
        // `scheduled` needs its times (tested in `auto_reply.rs`).
        let scheduled = Value::Text("Scheduled".into());
        for value in samples(definition.kind)
            .into_iter()
            .filter(|v| property != Property::AutoReplyState || *v != scheduled)
        {
            let text = format!(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n{}",
                yaml(definition, &value)
            );
            let set = load_sources(vec![Source::new("support.yaml", &text)])
                .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
            let policy = &set.mailboxes[0];
            let got = policy.setting(property).unwrap_or_else(|| {
                panic!("`{}` is parsed but not mapped:\n{text}", definition.field)
            });
            assert!(
                definition.same(&got.value, &value),
                "{text}: {:?} read as {:?}",
                value,
                got.value
            );
            assert_eq!(
                policy.settings.len(),
                1,
                "{text}: only `{}`",
                definition.field
            );
        }
    }
}

fn is_forwarding(property: Property) -> bool {
    property.definition().field.starts_with("forwarding.")
}

fn forwarding_settings(yaml: &str) -> Vec<(Property, Value)> {
    let text = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n{yaml}"
    );
    let set = load_sources(vec![Source::new("support.yaml", &text)])
        .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
    set.mailboxes[0]
        .settings
        .iter()
        .map(|(p, v)| (*p, v.value.clone()))
        .collect()
}

#[test]
fn forwarding_sets_its_three_properties_together() {
    // `to` is an SMTP forward until the planner finds it in the directory.
    assert_eq!(
        forwarding_settings("forwarding: {to: partner@fabrikam.com, keepCopy: true}\n"),
        [
            (Property::ForwardingAddress, Value::Unset),
            (
                Property::ForwardingSmtpAddress,
                Value::Text("partner@fabrikam.com".into())
            ),
            (Property::ForwardingKeepCopy, Value::Flag(true)),
        ]
    );
    // Without `keepCopy`, `DeliverToMailboxAndForward` is not managed.
    assert_eq!(
        forwarding_settings("forwarding:\n  to: partner@fabrikam.com\n").len(),
        2
    );
    assert_eq!(
        forwarding_settings("forwarding: none\n"),
        [
            (Property::ForwardingAddress, Value::Unset),
            (Property::ForwardingSmtpAddress, Value::Unset),
            (Property::ForwardingKeepCopy, Value::Flag(false)),
        ]
    );
    assert!(
        Property::ALL
            .into_iter()
            .filter(|p| is_forwarding(*p))
            .count()
            == 3
    );
}

#[test]
fn forwarding_refuses_other_words_and_a_target_in_defaults() {
    for bad in [
        "forwarding: off\n",
        "forwarding: {to: a@b.com, copy: true}\n",
        "forwarding: {to: partner}\n",
        "forwarding: {keepCopy: true}\n",
    ] {
        let text = format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n{bad}"
        );
        assert!(
            load_sources(vec![Source::new("support.yaml", &text)]).is_err(),
            "{bad}"
        );
    }
    let defaults = |forwarding: &str| {
        load_sources(vec![Source::new(
            "defaults.yaml",
            format!("apiVersion: sharedbox/v1\nkind: Defaults\n{forwarding}"),
        )])
    };
    let error = defaults("forwarding: {to: partner@fabrikam.com}\n").unwrap_err();
    assert!(
        format!("{error:?}").contains("forwarding-in-defaults"),
        "{error:?}"
    );
    assert!(defaults("forwarding: none\n").is_ok());
}

#[test]
fn every_catalogued_organisation_property_is_set_by_its_policy_field() {
    for property in OrganizationProperty::ALL {
        let definition = property.definition();
        for value in samples(definition.kind) {
            let text = format!(
                "apiVersion: sharedbox/v1\nkind: TenantSettings\n{}",
                yaml(definition, &value)
            );
            let set = load_sources(vec![Source::new("tenant.yaml", &text)])
                .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
            let settings = set.tenant_settings.expect("a TenantSettings document");
            let got = settings.settings.get(&property).unwrap_or_else(|| {
                panic!("`{}` is parsed but not mapped:\n{text}", definition.field)
            });
            assert!(definition.same(&got.value, &value), "{text}");
        }
    }
}
