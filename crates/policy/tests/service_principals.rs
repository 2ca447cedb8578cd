//! Service principals in policies: `app:<appId>` only in `fullAccess` and `sendAs`, and the
//! `servicePrincipals:` registrations of a `TenantSettings` document, checked at load time
//! with file:line:column.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};

fn load(files: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_sources(
        files
            .iter()
            .map(|(path, text)| Source::new(*path, *text))
            .collect(),
    )
}

fn errors(result: Result<PolicySet, Diagnostics>) -> Vec<(String, String)> {
    let diagnostics = result.expect_err("errors expected");
    diagnostics
        .errors()
        .map(|d| {
            (
                d.code.to_owned(),
                d.origin
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
        })
        .collect()
}

const APP: &str = "71487acd-ec93-476d-bd0e-6c8b31831053";

#[test]
fn app_principals_are_taken_in_full_access_and_send_as_only() {
    let ok = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\nsendAs: [\"app:{APP}\"]\nfullAccess:\n  - {{principal: \"APP:{APP}\", autoMapping: false}}\n"
    );
    let set = load(&[("support.yaml", &ok)]).unwrap();
    let support = set.mailbox("support@contoso.com").unwrap();
    assert_eq!(
        support.send_as.as_ref().unwrap().value[0].value,
        format!("app:{APP}")
    );

    let wrong = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\nsendOnBehalf: [\"app:{APP}\"]\nmoderation:\n  moderators: [\"app:not-a-guid\"]\n"
    );
    let found = errors(load(&[("support.yaml", &wrong)]));
    assert_eq!(
        found,
        vec![
            (
                "policy::service-principal-field".to_owned(),
                "support.yaml:4:16".to_owned()
            ),
            (
                "policy::invalid-principal".to_owned(),
                "support.yaml:6:16".to_owned()
            ),
        ]
    );
}

#[test]
fn registrations_need_two_different_guids() {
    let ok = format!(
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nservicePrincipals:\n  - {{appId: {APP}, objectId: 6233FBA6-0198-4277-892F-9275BF728BCC, displayName: Ticket system}}\n"
    );
    let set = load(&[("tenant.yaml", &ok)]).unwrap();
    let registrations = &set.tenant_settings.as_ref().unwrap().service_principals;
    assert_eq!(registrations.len(), 1);
    assert_eq!(
        registrations[0].object_id.value,
        "6233fba6-0198-4277-892f-9275bf728bcc"
    );
    assert_eq!(registrations[0].display_name, "Ticket system");

    let wrong = format!(
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nservicePrincipals:\n  - {{appId: {APP}, objectId: {APP}}}\n  - {{appId: x, objectId: {APP}}}\n"
    );
    let found = errors(load(&[("tenant.yaml", &wrong)]));
    assert_eq!(
        found,
        vec![
            (
                "policy::invalid-service-principal".to_owned(),
                "tenant.yaml:4:61".to_owned()
            ),
            (
                "policy::invalid-service-principal".to_owned(),
                "tenant.yaml:5:13".to_owned()
            ),
        ]
    );
    // A mailbox document cannot declare registrations.
    let misplaced = format!(
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: a@contoso.com\nservicePrincipals: [{{appId: {APP}, objectId: 6233fba6-0198-4277-892f-9275bf728bcc}}]\n"
    );
    let found = errors(load(&[("a.yaml", &misplaced)]));
    assert_eq!(found[0].0, "policy::field-not-allowed", "{found:?}");
}
