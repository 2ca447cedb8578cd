//! Write cmdlets: end state equal to `TenantFile::apply`, Exchange's warnings and errors.

use serde_json::{Value, json};
use sharedbox_exo_sim::SimConfig;
use sharedbox_file::TenantFile;
use sharedbox_tenant::{
    Operation, OrganizationProperty, Principal, PrincipalId, PrincipalList, Property,
};

use crate::{TENANT, client, fixture, invoke, start};

fn principal(file: &TenantFile, address: &str) -> Principal {
    let recipient = file.directory().resolve_policy(address).cloned().unwrap();
    Principal::Recipient {
        id: PrincipalId::of(&recipient),
        address: recipient.primary_smtp_address.clone(),
        app_id: None,
    }
}

#[tokio::test]
async fn writes_change_the_tenant_as_tenant_file_apply_does() {
    let sim = start(SimConfig::default());
    let hashtable = |add: Value, remove: Value| json!({"@odata.type": "#Exchange.GenericHashTable", "Add": add, "Remove": remove});
    let calls = [
        (
            "Set-Mailbox",
            json!({"Identity": "support@fabrikam.com", "MessageCopyForSentAsEnabled": true, "HiddenFromAddressListsEnabled": true, "Confirm": false}),
        ),
        (
            "Set-Mailbox",
            json!({"Identity": "support@fabrikam.com", "GrantSendonBehalfTo": hashtable(json!("clara@fabrikam.com"), json!(["Ben Krause"]))}),
        ),
        (
            "Set-Mailbox",
            json!({"Identity": "Buchhaltung", "moderatedBy": hashtable(json!(["david@fabrikam.com"]), Value::Null), "ModerationEnabled": true, "SendModerationNotifications": "internal"}),
        ),
        (
            "Add-RecipientPermission",
            json!({"Identity": "support@fabrikam.com", "Trustee": "clara@fabrikam.com", "AccessRights": ["SendAs"], "Confirm": false}),
        ),
        (
            "Remove-RecipientPermission",
            json!({"Identity": "support@fabrikam.com", "Trustee": "ben@fabrikam.com", "AccessRights": "SendAs"}),
        ),
        (
            "Add-MailboxPermission",
            json!({"Identity": "support@fabrikam.com", "user": "0a1b2c3d-0000-4000-8000-000000000004", "accessRights": ["FullAccess"], "automapping": false, "InheritanceType": "all"}),
        ),
        (
            "Remove-MailboxPermission",
            json!({"Identity": "support@fabrikam.com", "User": "S-1-5-21-1111111111-2222222222-3333333333-1107", "AccessRights": ["FullAccess"]}),
        ),
        (
            "Add-MailboxFolderPermission",
            json!({"Identity": "support@fabrikam.com:\\Sent Items", "User": "david@fabrikam.com", "AccessRights": ["Reviewer"]}),
        ),
        (
            "Set-MailboxFolderPermission",
            json!({"Identity": "support@fabrikam.com:LgAAAAsupport", "User": "Clara Diaz", "AccessRights": "editor"}),
        ),
        (
            "Remove-MailboxFolderPermission",
            json!({"Identity": "buchhaltung@fabrikam.com:\\Gesendete Elemente", "User": "NT:S-1-5-21-1111111111-2222222222-3333333333-1190"}),
        ),
        (
            "Set-CASMailbox",
            json!({"Identity": "support@fabrikam.com", "PopEnabled": false, "SmtpClientAuthenticationDisabled": true}),
        ),
        (
            "Set-CASMailbox",
            json!({"Identity": "buchhaltung@fabrikam.com", "SmtpClientAuthenticationDisabled": null, "OWAEnabled": false}),
        ),
        (
            "Set-OrganizationConfig",
            json!({"SendFromAliasEnabled": true}),
        ),
        (
            "New-Mailbox",
            json!({"Shared": true, "Name": "Neu", "DisplayName": "Neu Team", "PrimarySmtpAddress": "neu@fabrikam.com"}),
        ),
    ];
    for (cmdlet, parameters) in &calls {
        let reply = invoke(&sim, cmdlet, parameters.clone()).await;
        assert_eq!(reply.status, 200, "{cmdlet}: {}", reply.json);
        assert!(
            reply.warnings().is_empty(),
            "{cmdlet}: {:?}",
            reply.warnings()
        );
    }

    let mut expected = fixture();
    let support = "support@fabrikam.com".to_owned();
    let buchhaltung = "buchhaltung@fabrikam.com".to_owned();
    let p = |address: &str| principal(&fixture(), address);
    let operations = [
        Operation::set(support.clone(), Property::CopyForSendAs, true),
        Operation::set(support.clone(), Property::HiddenFromAddressLists, true),
        Operation::AddToList {
            mailbox: support.clone(),
            list: PrincipalList::SendOnBehalf,
            principal: p("clara@fabrikam.com"),
        },
        Operation::RemoveFromList {
            mailbox: support.clone(),
            list: PrincipalList::SendOnBehalf,
            principal: p("ben@fabrikam.com"),
        },
        Operation::AddToList {
            mailbox: buchhaltung.clone(),
            list: PrincipalList::Moderators,
            principal: p("david@fabrikam.com"),
        },
        Operation::set(buchhaltung.clone(), Property::ModerationEnabled, true),
        Operation::set(
            buchhaltung.clone(),
            Property::ModerationNotifications,
            "Internal",
        ),
        Operation::GrantSendAs {
            mailbox: support.clone(),
            principal: p("clara@fabrikam.com"),
        },
        Operation::RevokeSendAs {
            mailbox: support.clone(),
            principal: p("ben@fabrikam.com"),
        },
        Operation::GrantFullAccess {
            mailbox: support.clone(),
            principal: p("david@fabrikam.com"),
            auto_mapping: false,
        },
        Operation::RevokeFullAccess {
            mailbox: support.clone(),
            principal: Principal::Orphaned {
                raw: "S-1-5-21-1111111111-2222222222-3333333333-1107".into(),
            },
        },
        Operation::AddSentItemsPermission {
            mailbox: support.clone(),
            principal: p("david@fabrikam.com"),
            access: "Reviewer".into(),
        },
        Operation::SetSentItemsPermission {
            mailbox: support.clone(),
            principal: p("clara@fabrikam.com"),
            access: "Editor".into(),
        },
        Operation::RemoveSentItemsPermission {
            mailbox: buchhaltung.clone(),
            principal: Principal::Orphaned {
                raw: "NT:S-1-5-21-1111111111-2222222222-3333333333-1190".into(),
            },
        },
        Operation::set(support.clone(), Property::Pop, false),
        Operation::set(
            support.clone(),
            Property::SmtpClientAuthenticationDisabled,
            Some(true),
        ),
        Operation::set(buchhaltung.clone(), Property::Owa, false),
        Operation::set(
            buchhaltung.clone(),
            Property::SmtpClientAuthenticationDisabled,
            None,
        ),
        Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, true),
        Operation::CreateMailbox {
            mailbox: "neu@fabrikam.com".into(),
            display_name: "Neu Team".into(),
        },
    ];
    for operation in &operations {
        expected.apply(operation).unwrap();
    }
    assert_eq!(sim.tenant(), expected);

    // The same end state over HTTP, for tests in other languages or processes.
    let dump: Value = serde_json::from_slice(
        &client()
            .get(format!("{}/sim/tenant", sim.base_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(dump, serde_json::to_value(&expected).unwrap());
    assert_eq!(sim.counters().tenant_changes, calls.len() as u64);
    assert_eq!(sim.counters().total_writes(), calls.len() as u64);
}

#[tokio::test]
async fn idempotent_answers_are_warnings_and_folder_conflicts_are_errors() {
    let sim = start(SimConfig::default());
    let before = sim.tenant();
    let warning = |cmdlet: &'static str, parameters: Value, expected: &'static str| {
        let sim = &sim;
        async move {
            let reply = invoke(sim, cmdlet, parameters).await;
            assert_eq!(reply.status, 200, "{cmdlet}: {}", reply.json);
            assert!(reply.json.get("value").is_none(), "{cmdlet}: no value");
            let warnings = reply.warnings();
            assert!(
                warnings.len() == 1 && warnings[0].contains(expected),
                "{cmdlet}: {warnings:?}"
            );
        }
    };
    warning(
        "Add-RecipientPermission",
        json!({"Identity": "support@fabrikam.com", "Trustee": "anna@fabrikam.com", "AccessRights": ["SendAs"]}),
        "The appropriate access control entry is already present on object",
    )
    .await;
    warning(
        "Remove-RecipientPermission",
        json!({"Identity": "support@fabrikam.com", "Trustee": "clara@fabrikam.com", "AccessRights": ["SendAs"]}),
        "because the ACE isn't present",
    )
    .await;
    warning(
        "Remove-MailboxPermission",
        json!({"Identity": "support@fabrikam.com", "User": "clara@fabrikam.com", "AccessRights": ["FullAccess"]}),
        "because the ACE doesn't exist on the object.",
    )
    .await;
    warning(
        "Set-Mailbox",
        json!({"Identity": "support@fabrikam.com", "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "remove": "clara@fabrikam.com"}}),
        "The command completed successfully but no settings of",
    )
    .await;
    warning(
        "Set-CASMailbox",
        json!({"Identity": "support@fabrikam.com", "ImapEnabled": true}),
        "no settings of",
    )
    .await;

    // Add-MailboxPermission of an existing grant: 200 with the existing row, no warning.
    let again = invoke(&sim, "Add-MailboxPermission", json!({"Identity": "support@fabrikam.com", "User": "anna@fabrikam.com", "AccessRights": ["FullAccess"]})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.value().len(), 1);
    assert_eq!(
        again.value()[0]["User"],
        "anna.berg@fabrikam.onmicrosoft.com"
    );

    let exists = invoke(&sim, "Add-MailboxFolderPermission", json!({"Identity": "support@fabrikam.com:\\Sent Items", "User": "clara@fabrikam.com", "AccessRights": ["Reviewer"]})).await;
    assert_eq!(exists.status, 400);
    assert_eq!(
        exists.detail(),
        "|Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException|An existing permission entry was found for user: Clara Diaz."
    );
    let missing = invoke(
        &sim,
        "Remove-MailboxFolderPermission",
        json!({"Identity": "support@fabrikam.com:\\Sent Items", "User": "david@fabrikam.com"}),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(missing.detail().contains("UserNotFoundInPermissionEntryException|There is no existing permission entry found for user: David Eck."));
    let created = invoke(
        &sim,
        "New-Mailbox",
        json!({"Shared": true, "Name": "x", "PrimarySmtpAddress": "anna.berg@fabrikam.com"}),
    )
    .await;
    assert_eq!(created.status, 400);
    assert!(
        created.detail().contains("ProxyAddressExistsException"),
        "{}",
        created.detail()
    );

    assert_eq!(sim.tenant(), before);
    assert_eq!(sim.counters().tenant_changes, 0);
}

#[tokio::test]
async fn a_hashtable_without_its_odata_type_does_not_bind() {
    let sim = start(SimConfig::default());
    let before = sim.tenant();
    let reply = invoke(
        &sim,
        "Set-Mailbox",
        json!({"Identity": "support@fabrikam.com", "GrantSendOnBehalfTo": {"Add": ["clara@fabrikam.com"]}}),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json["error"]["code"], "BadRequest");
    assert_eq!(reply.json["error"]["message"], "Error executing cmdlet");
    assert_eq!(
        reply.json["error"]["details"][0]["target"],
        "GrantSendOnBehalfTo"
    );
    let detail = reply.detail();
    let parts: Vec<&str> = detail.split('|').collect();
    assert_eq!(parts.len(), 3, "{detail}");
    assert_eq!(
        parts[1],
        "System.Management.Automation.ParameterBindingException"
    );
    assert!(
        parts[2].starts_with(
            "Cannot process argument transformation on parameter 'GrantSendOnBehalfTo'."
        ),
        "{detail}"
    );
    assert_eq!(
        reply.header("x-exceptiontype"),
        Some("ParameterBindingException")
    );
    assert_eq!(sim.tenant(), before);

    // Configurable: without the check the same body binds.
    let lax = start(SimConfig {
        require_hashtable_type: false,
        ..SimConfig::default()
    });
    let reply = invoke(&lax, "Set-Mailbox", json!({"Identity": "support@fabrikam.com", "GrantSendOnBehalfTo": {"Add": ["clara@fabrikam.com"]}})).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn exchange_refusals_and_binding_rules_are_reproduced() {
    let sim = start(SimConfig::default());
    let before = sim.tenant();
    let group = invoke(&sim, "Add-MailboxPermission", json!({"Identity": "support@fabrikam.com", "User": "all-staff@fabrikam.com", "AccessRights": ["FullAccess"]})).await;
    assert_eq!(
        group.status, 400,
        "a distribution group cannot hold FullAccess"
    );
    let moderation = invoke(
        &sim,
        "Set-Mailbox",
        json!({"Identity": "support@fabrikam.com", "ModerationEnabled": true}),
    )
    .await;
    assert_eq!(moderation.status, 400);
    assert!(moderation.detail().contains("needs at least one moderator"));
    let text_bool = invoke(
        &sim,
        "Set-Mailbox",
        json!({"Identity": "support@fabrikam.com", "MessageCopyForSentAsEnabled": "true"}),
    )
    .await;
    assert_eq!(text_bool.status, 400, "a string does not bind to a bool");
    let unknown_user = invoke(&sim, "Add-MailboxPermission", json!({"Identity": "support@fabrikam.com", "User": "nobody@fabrikam.com", "AccessRights": ["FullAccess"]})).await;
    assert_eq!(unknown_user.status, 404);
    assert!(
        unknown_user
            .detail()
            .contains("User or group \"nobody@fabrikam.com\" wasn't found")
    );
    // All or nothing: the valid first half of a failing Set-Mailbox is not applied.
    let half = invoke(&sim, "Set-Mailbox", json!({"Identity": "support@fabrikam.com", "DisplayName": "Changed", "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "Add": "ghost@fabrikam.com"}})).await;
    assert_eq!(half.status, 404);
    assert_eq!(sim.tenant(), before);
    // Replace form: the list becomes exactly what was sent.
    let replace = invoke(&sim, "Set-Mailbox", json!({"Identity": "support@fabrikam.com", "GrantSendOnBehalfTo": ["clara@fabrikam.com", "anna@fabrikam.com"]})).await;
    assert_eq!(replace.status, 200);
    let mailbox = invoke(
        &sim,
        "Get-Mailbox",
        json!({"Identity": "support@fabrikam.com"}),
    )
    .await;
    assert_eq!(
        mailbox.value()[0]["GrantSendOnBehalfTo"],
        json!([
            "0a1b2c3d-0000-4000-8000-000000000003",
            "0a1b2c3d-0000-4000-8000-000000000001"
        ])
    );
    let removed = invoke(
        &sim,
        "Remove-Mailbox",
        json!({"Identity": "neu@fabrikam.com"}),
    )
    .await;
    assert_eq!(removed.status, 404);
    let tenant_url = sim.invoke_url(TENANT);
    assert!(tenant_url.ends_with("/InvokeCommand"));
}

/// The organisation's SMTP AUTH is a transport setting: `Get-TransportConfig` reports it,
/// `Set-TransportConfig` writes it, and `Set-OrganizationConfig` does not bind it (nor
/// `Set-TransportConfig` the organisation config's parameters).
#[tokio::test]
async fn smtp_auth_of_the_organisation_is_a_transport_setting() {
    let sim = start(SimConfig::default());
    let read = invoke(&sim, "Get-TransportConfig", Value::Null).await;
    assert_eq!(read.status, 200, "{}", read.json);
    assert_eq!(read.value()[0]["SmtpClientAuthenticationDisabled"], true);
    let org = invoke(&sim, "Get-OrganizationConfig", Value::Null).await;
    assert!(
        org.value()[0]
            .get("SmtpClientAuthenticationDisabled")
            .is_none()
    );

    let before = sim.tenant();
    for (cmdlet, parameters) in [
        (
            "Set-OrganizationConfig",
            json!({"SmtpClientAuthenticationDisabled": false}),
        ),
        ("Set-TransportConfig", json!({"SendFromAliasEnabled": true})),
    ] {
        let reply = invoke(&sim, cmdlet, parameters).await;
        assert_eq!(reply.status, 400, "{cmdlet}: {}", reply.json);
    }
    assert_eq!(sim.tenant(), before, "a refused call changes nothing");

    let reply = invoke(
        &sim,
        "Set-TransportConfig",
        json!({"SmtpClientAuthenticationDisabled": false}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        sim.tenant()
            .organization
            .smtp_client_authentication_disabled,
        Some(false)
    );
    let read = invoke(&sim, "Get-TransportConfig", Value::Null).await;
    assert_eq!(read.value()[0]["SmtpClientAuthenticationDisabled"], false);
}

/// The mailbox root (`mbx:\`): Default and Anonymous with `None` when the tenant file has no
/// root rows; `FolderVisible` added ends as `TenantFile::apply` of the root visibility grant
/// leaves it; another role is kept as given; Exchange's answers for an existing or a missing
/// entry as on Sent Items.
#[tokio::test]
async fn the_root_folder_has_permissions_like_sent_items() {
    let sim = start(SimConfig::default());
    let root = json!("support@fabrikam.com:\\");
    let rows = |reply: &crate::Reply| -> Vec<String> {
        reply
            .value()
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r["User"].as_str().unwrap_or("?"),
                    r["AccessRights"]
                )
            })
            .collect()
    };
    let read = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": root}),
    )
    .await;
    assert_eq!(read.status, 200);
    let users: Vec<&str> = read
        .value()
        .iter()
        .filter_map(|r| r["User"].as_str())
        .collect();
    assert_eq!(users, ["Default", "Anonymous"]);

    let added = invoke(
        &sim,
        "Add-MailboxFolderPermission",
        json!({"Identity": root, "User": "ben@fabrikam.com", "AccessRights": ["FolderVisible"]}),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.detail());
    let mut expected = fixture();
    expected
        .apply(&Operation::GrantRootVisibility {
            mailbox: "support@fabrikam.com".into(),
            principal: principal(&expected, "ben@fabrikam.com"),
        })
        .unwrap();
    assert_eq!(sim.tenant().mailboxes, expected.mailboxes);

    let again = invoke(
        &sim,
        "Add-MailboxFolderPermission",
        json!({"Identity": root, "User": "ben@fabrikam.com", "AccessRights": ["FolderVisible"]}),
    )
    .await;
    assert_eq!(again.status, 400);
    assert!(
        again
            .detail()
            .contains("UserAlreadyExistsInPermissionEntryException")
    );

    let reviewer = invoke(
        &sim,
        "Add-MailboxFolderPermission",
        json!({"Identity": root, "User": "david@fabrikam.com", "AccessRights": ["Reviewer"]}),
    )
    .await;
    assert_eq!(reviewer.status, 200, "{}", reviewer.detail());
    assert!(
        rows(&reviewer)[0].starts_with("David Eck: "),
        "{:?}",
        rows(&reviewer)
    );
    let read = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": root, "User": "david@fabrikam.com"}),
    )
    .await;
    assert!(rows(&read)[0].contains("Reviewer"), "{:?}", rows(&read));

    let removed = invoke(
        &sim,
        "Remove-MailboxFolderPermission",
        json!({"Identity": root, "User": "ben@fabrikam.com"}),
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.detail());
    let missing = invoke(
        &sim,
        "Remove-MailboxFolderPermission",
        json!({"Identity": root, "User": "ben@fabrikam.com"}),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .detail()
            .contains("UserNotFoundInPermissionEntryException")
    );
    let tenant = sim.tenant();
    let support = tenant
        .mailboxes
        .iter()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    let left: Vec<String> = support
        .root_folder
        .iter()
        .flatten()
        .map(|r| format!("{}: {}", r.user, r.access_rights.join(",")))
        .collect();
    assert_eq!(
        left,
        ["Default: None", "Anonymous: None", "David Eck: Reviewer"]
    );
}

/// The Inbox and Calendar keep permissions like Sent Items, found by their localised
/// `FolderType` path or id; `-SharingPermissionFlags` is taken on the calendar only, only with
/// `Editor`, `CanViewPrivateItems` only with `Delegate` (`Add-MailboxFolderPermission` doc),
/// reported back as `Delegate, CanViewPrivateItems`, and kept by a `Set-` that does not name it.
#[tokio::test]
async fn calendar_delegate_flags_are_refused_and_kept_as_exchange_does() {
    let sim = start(SimConfig::default());
    let calendar = json!("support@fabrikam.com:\\Calendar");
    let flags_of = |reply: &crate::Reply| -> Vec<String> {
        reply
            .value()
            .iter()
            .map(|r| format!("{}: {}", r["AccessRights"], r["SharingPermissionFlags"]))
            .collect()
    };
    for (identity, rights, flags) in [
        (calendar.clone(), "Reviewer", json!("Delegate")),
        (calendar.clone(), "Editor", json!("CanViewPrivateItems")),
        (
            json!("support@fabrikam.com:\\Inbox"),
            "Editor",
            json!("Delegate"),
        ),
    ] {
        let refused = invoke(
            &sim,
            "Add-MailboxFolderPermission",
            json!({"Identity": identity, "User": "ben@fabrikam.com", "AccessRights": [rights], "SharingPermissionFlags": flags}),
        )
        .await;
        assert_eq!(refused.status, 400, "{identity} {rights} {flags}");
        assert!(
            refused.detail().contains("SharingPermissionFlags"),
            "{}",
            refused.detail()
        );
    }
    assert_eq!(sim.counters().tenant_changes, 0, "nothing was written");

    let added = invoke(
        &sim,
        "Add-MailboxFolderPermission",
        json!({"Identity": calendar, "User": "ben@fabrikam.com", "AccessRights": ["Editor"], "SharingPermissionFlags": "Delegate,CanViewPrivateItems"}),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.detail());
    let mut expected = fixture();
    expected
        .apply(&Operation::AddFolderPermission {
            mailbox: "support@fabrikam.com".into(),
            folder: sharedbox_tenant::WellKnownFolder::Calendar,
            principal: principal(&expected, "ben@fabrikam.com"),
            access: "Editor".into(),
            flags: vec!["Delegate".into(), "CanViewPrivateItems".into()],
        })
        .unwrap();
    // The simulator keeps the folder as it showed it (its synthetic id), not a new one.
    let tenant = sim.tenant();
    let shown = |t: &TenantFile| {
        t.mailboxes
            .iter()
            .find(|m| m.primary_smtp_address == "support@fabrikam.com")
            .and_then(|m| m.calendar.clone())
            .unwrap()
    };
    let kept = shown(&tenant);
    assert_eq!(kept.name, "Calendar");
    assert!(kept.folder_id.starts_with("LgAAAA"), "{}", kept.folder_id);
    assert_eq!(kept.permissions, shown(&expected).permissions);
    let read = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": calendar, "User": "ben@fabrikam.com"}),
    )
    .await;
    assert_eq!(
        flags_of(&read),
        [r#"["Editor"]: "Delegate, CanViewPrivateItems""#]
    );
    // A `Set-` without the flags keeps them; `None` takes them away.
    let set = invoke(
        &sim,
        "Set-MailboxFolderPermission",
        json!({"Identity": calendar, "User": "ben@fabrikam.com", "AccessRights": ["Editor"]}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.detail());
    assert_eq!(
        flags_of(&set),
        [r#"["Editor"]: "Delegate, CanViewPrivateItems""#]
    );
    let cleared = invoke(
        &sim,
        "Set-MailboxFolderPermission",
        json!({"Identity": calendar, "User": "ben@fabrikam.com", "AccessRights": ["Reviewer"], "SharingPermissionFlags": "None"}),
    )
    .await;
    assert_eq!(cleared.status, 200, "{}", cleared.detail());
    assert_eq!(flags_of(&cleared), [r#"["Reviewer"]: null"#]);
}
