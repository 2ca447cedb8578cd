//! A fleet's shared baseline under one tenant's policies ([`load_layered`]): the tenant
//! inherits the baseline's `Defaults` field by field and its profiles, overrides either, and
//! a document that belongs to one tenant is refused in the baseline, located.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_layered};
use sharedbox_tenant::Property;

fn sources(files: &[(&str, &str)]) -> Vec<std::sync::Arc<Source>> {
    files
        .iter()
        .map(|(path, text)| Source::new(*path, *text))
        .collect()
}

fn load(baseline: &[(&str, &str)], own: &[(&str, &str)]) -> Result<PolicySet, Diagnostics> {
    load_layered(sources(baseline), sources(own))
}

fn flag(set: &PolicySet, mailbox: &str, property: Property) -> Option<bool> {
    set.mailbox(mailbox)?
        .setting(property)
        .map(|v| v.value.flag())
}

const BASELINE_DEFAULTS: &str = "apiVersion: sharedbox/v1
kind: Defaults
hiddenFromAddressLists: true
sentItems: {copyForSendAs: true, copyForSendOnBehalf: true}
";

const BASELINE_PROFILE: &str = "apiVersion: sharedbox/v1
kind: Profile
name: front-desk
clients: {imap: false}
";

const SUPPORT: &str = "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@contoso.com
";

#[test]
fn a_tenant_inherits_the_baseline_defaults_and_profiles() {
    let set = load(
        &[
            ("baseline/defaults.yaml", BASELINE_DEFAULTS),
            ("baseline/profiles.yaml", BASELINE_PROFILE),
        ],
        &[(
            "tenants/contoso/policies/desk.yaml",
            "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: desk@contoso.com
profile: front-desk
",
        )],
    )
    .unwrap();
    assert_eq!(
        flag(&set, "desk@contoso.com", Property::HiddenFromAddressLists),
        Some(true)
    );
    assert_eq!(
        flag(&set, "desk@contoso.com", Property::CopyForSendAs),
        Some(true)
    );
    let imap = set
        .mailbox("desk@contoso.com")
        .unwrap()
        .setting(Property::Imap)
        .and_then(|v| v.value.option());
    assert_eq!(imap, Some(false), "the baseline profile applies");
    // The baseline's files are part of the set (digests, excerpts).
    assert_eq!(set.sources.len(), 3);
}

#[test]
fn the_tenant_defaults_override_the_baseline_field_by_field_and_its_profile_replaces() {
    let set = load(
        &[
            ("baseline/defaults.yaml", BASELINE_DEFAULTS),
            ("baseline/profiles.yaml", BASELINE_PROFILE),
        ],
        &[
            (
                "tenants/contoso/policies/defaults.yaml",
                "apiVersion: sharedbox/v1
kind: Defaults
hiddenFromAddressLists: false
",
            ),
            (
                "tenants/contoso/policies/profiles.yaml",
                "apiVersion: sharedbox/v1
kind: Profile
name: front-desk
clients: {pop: false}
",
            ),
            ("tenants/contoso/policies/support.yaml", SUPPORT),
            (
                "tenants/contoso/policies/desk.yaml",
                "apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: desk@contoso.com
profile: front-desk
",
            ),
        ],
    )
    .unwrap();
    // Overridden by the tenant.
    assert_eq!(
        flag(
            &set,
            "support@contoso.com",
            Property::HiddenFromAddressLists
        ),
        Some(false)
    );
    // Not set by the tenant: inherited.
    assert_eq!(
        flag(&set, "support@contoso.com", Property::CopyForSendOnBehalf),
        Some(true)
    );
    // The tenant's profile replaced the baseline's: its `imap` is gone, its `pop` is there.
    let desk = set.mailbox("desk@contoso.com").unwrap();
    assert_eq!(
        desk.setting(Property::Imap).and_then(|v| v.value.option()),
        None
    );
    assert_eq!(
        desk.setting(Property::Pop).and_then(|v| v.value.option()),
        Some(false)
    );
}

#[test]
fn a_mailbox_in_the_baseline_is_refused_at_its_line() {
    let error = load(
        &[
            ("baseline/defaults.yaml", BASELINE_DEFAULTS),
            ("baseline/support.yaml", SUPPORT),
        ],
        &[],
    )
    .unwrap_err();
    let refused = error
        .0
        .iter()
        .find(|d| d.code == "policy::not-in-baseline")
        .expect("refused");
    let origin = refused.origin.as_ref().expect("located");
    assert_eq!(origin.to_string(), "baseline/support.yaml:2:7");
}

#[test]
fn two_defaults_in_one_tier_are_still_an_error() {
    let error = load(
        &[
            ("baseline/a.yaml", BASELINE_DEFAULTS),
            ("baseline/b.yaml", BASELINE_DEFAULTS),
        ],
        &[("tenants/contoso/policies/support.yaml", SUPPORT)],
    )
    .unwrap_err();
    assert!(
        error
            .0
            .iter()
            .any(|d| d.code == "policy::duplicate-defaults"),
        "{:?}",
        error.0
    );
}
