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
    for property in Property::ALL {
        let definition = property.definition();
        for value in samples(definition.kind) {
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
