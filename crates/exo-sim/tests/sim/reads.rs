//! Read cmdlets: shapes, annotations, paging, localisation, identity handling.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_tenant::Mailbox;

use crate::{TENANT, TOKEN, body, client, fixture, invoke, post, start, tolerant_bool};

#[tokio::test]
async fn get_mailbox_has_the_reference_shape_and_annotations() {
    let sim = start(SimConfig::default());
    let reply = invoke(
        &sim,
        "Get-Mailbox",
        json!({"RecipientTypeDetails": "SharedMailbox", "ResultSize": "Unlimited"}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
        )
    );
    assert_eq!(reply.header("odata-version"), Some("4.0"));
    assert_eq!(reply.header("rate-limit-limit"), Some("30000"));
    assert!(reply.header("request-id").is_some());
    assert!(
        reply
            .header("rate-limit-reset")
            .is_some_and(|r| r.ends_with('Z'))
    );
    assert_eq!(
        reply.json["@odata.context"],
        "https://outlook.office.com/adminapi/beta/fabrikam.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)"
    );
    assert_eq!(
        reply.json["adminapi.warnings@odata.type"],
        "#Collection(String)"
    );
    assert_eq!(reply.json["@adminapi.warnings"], json!([]));
    assert!(reply.json.get("@odata.nextLink").is_none());
    let value = reply.value();
    assert_eq!(value.len(), 2, "only the shared mailboxes, not the users");
    let support = &value[0];
    assert_eq!(support["Identity"], "5b000000-0000-4000-8000-000000000001");
    assert_eq!(support["Name"], support["Identity"]);
    assert_eq!(support["PrimarySmtpAddress"], "support@fabrikam.com");
    assert_eq!(support["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(support["Guid@data.type"], "System.Guid");
    assert_eq!(support["Guid@odata.type"], "#Guid");
    assert_eq!(support["Guid"], "6c000000-0000-4000-8000-000000000001");
    assert_eq!(
        support["GrantSendOnBehalfTo@odata.type"],
        "#Collection(String)"
    );
    assert_eq!(
        support["GrantSendOnBehalfTo"],
        json!(["bkrause"]),
        "Names, not addresses"
    );
    assert_eq!(support["ModeratedBy"], json!([]));
    assert_eq!(
        support["EmailAddresses"],
        json!(["SMTP:support@fabrikam.com"])
    );
    assert_eq!(support["MessageCopyForSentAsEnabled"], false);
    assert_eq!(value[1]["Languages"], json!(["de-DE"]));
    assert_eq!(value[1]["MessageCopyForSentAsEnabled"], true);
    // Annotation keys come before their value on the wire.
    let text = String::from_utf8(reply.raw.clone()).unwrap();
    let annotation = text.find("\"Guid@data.type\"").unwrap();
    let guid = text.find("\"Guid\":").unwrap();
    assert!(annotation < guid);

    // Without the filter, user mailboxes come too.
    let all = invoke(&sim, "get-mailbox", json!({"ResultSize": "unlimited"})).await;
    assert_eq!(all.value().len(), 6);
    let one = invoke(&sim, "Get-Mailbox", json!({"Identity": "Buchhaltung"})).await;
    assert_eq!(one.value().len(), 1);
    assert_eq!(
        one.value()[0]["PrimarySmtpAddress"],
        "buchhaltung@fabrikam.com"
    );
}

#[tokio::test]
async fn select_is_case_insensitive_and_keeps_canonical_casing() {
    let sim = start(SimConfig::default());
    let url = format!(
        "{}?$select=identity,%20displayname,guid",
        sim.invoke_url(TENANT)
    );
    let reply = post(
        &client(),
        &url,
        Some(TOKEN),
        &[],
        &body("Get-Mailbox", json!({"Identity": "support@fabrikam.com"})),
    )
    .await
    .unwrap();
    let item = reply.value()[0].as_object().unwrap();
    let keys: BTreeSet<&str> = item.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "Identity",
            "DisplayName",
            "Guid",
            "Guid@data.type",
            "Guid@odata.type"
        ])
    );
}

#[tokio::test]
async fn paging_returns_every_mailbox_exactly_once() {
    let mut tenant = fixture();
    for i in 0..57 {
        let address = format!("box{i:02}@fabrikam.com");
        let mut mailbox = Mailbox::new_shared(&address, &format!("Box {i}"));
        mailbox.guid = format!("7d000000-0000-4000-8000-{i:012}");
        mailbox.name = mailbox.guid.clone();
        tenant.mailboxes.push(mailbox);
    }
    let expected: BTreeSet<String> = tenant
        .mailboxes
        .iter()
        .map(|m| m.primary_smtp_address.clone())
        .collect();
    let sim = SimServer::start(
        tenant,
        SimConfig {
            page_size: 7,
            ..SimConfig::default()
        },
    )
    .unwrap();
    let request = body(
        "Get-Mailbox",
        json!({"RecipientTypeDetails": "SharedMailbox", "ResultSize": "Unlimited"}),
    );
    let client = client();

    // The server's page size, then a smaller one asked for with Prefer.
    for (prefer, page) in [
        (None, 7),
        (Some("odata.maxpagesize = 5;odata.continue-on-error"), 5),
    ] {
        let extra: Vec<(&str, &str)> = prefer.map(|p| vec![("Prefer", p)]).unwrap_or_default();
        let mut url = format!("{}?$select=PrimarySmtpAddress", sim.invoke_url(TENANT));
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let reply = post(&client, &url, Some(TOKEN), &extra, &request)
                .await
                .unwrap();
            assert_eq!(reply.status, 200, "{}", reply.json);
            pages += 1;
            let value = reply.value();
            assert!(value.len() <= page);
            seen.extend(
                value
                    .iter()
                    .map(|v| v["PrimarySmtpAddress"].as_str().unwrap().to_owned()),
            );
            match reply.json["@odata.nextLink"].as_str() {
                Some(next) => {
                    assert!(
                        next.starts_with(&format!(
                            "{}/adminapi/beta/{TENANT}/InvokeCommand?$skiptoken=",
                            sim.base_url()
                        )),
                        "{next}"
                    );
                    assert!(next.contains("$select=PrimarySmtpAddress"), "{next}");
                    url = next.to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), expected.len(), "no duplicates");
        assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);
        assert_eq!(pages, expected.len().div_ceil(page));
    }
    assert_eq!(
        sim.counters().paged_responses as usize,
        59usize.div_ceil(7) - 1 + 59usize.div_ceil(5) - 1
    );

    // The follow-up must carry the same body.
    let first = post(&client, &sim.invoke_url(TENANT), Some(TOKEN), &[], &request)
        .await
        .unwrap();
    let next = first.json["@odata.nextLink"].as_str().unwrap();
    let other = post(
        &client,
        next,
        Some(TOKEN),
        &[],
        &body("Get-Recipient", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(other.status, 400);
}

#[tokio::test]
async fn sent_items_are_localised_and_addressable_by_path_or_id() {
    let sim = start(SimConfig::default());
    let stats = invoke(
        &sim,
        "Get-MailboxFolderStatistics",
        json!({"Identity": "buchhaltung@fabrikam.com", "FolderScope": "SentItems"}),
    )
    .await;
    let folders = stats.value();
    assert_eq!(folders.len(), 2, "the folder and its subfolder");
    let sent: Vec<&Value> = folders
        .iter()
        .filter(|f| f["FolderType"] == "SentItems")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["Name"], "Gesendete Elemente");
    assert_eq!(sent[0]["FolderPath"], "/Gesendete Elemente");
    assert_eq!(sent[0]["FolderId"], "LgAAAAbuchhaltung");
    assert_eq!(sent[0]["ItemsInFolder@data.type"], "System.Int32");
    assert!(
        folders
            .iter()
            .any(|f| f["FolderPath"] == "/Gesendete Elemente/Archiv 2023")
    );

    let by_id = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": "buchhaltung@fabrikam.com:LgAAAAbuchhaltung"}),
    )
    .await;
    let by_path = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": "buchhaltung@fabrikam.com:\\Gesendete Elemente"}),
    )
    .await;
    let users = |r: &crate::Reply| {
        r.value()
            .iter()
            .map(|v| v["User"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        users(&by_id),
        [
            "Default",
            "Anonymous",
            "NT:S-1-5-21-1111111111-2222222222-3333333333-1190"
        ]
    );
    assert_eq!(users(&by_id), users(&by_path));
    assert_eq!(by_path.value()[0]["FolderName"], "Gesendete Elemente");
    assert_eq!(
        by_path.value()[0]["Identity"],
        "buchhaltung@fabrikam.com:\\Gesendete Elemente"
    );
    // AccessRights is an array or a comma string; both read as the same roles.
    for row in by_id.value() {
        let rights: Vec<String> = match &row["AccessRights"] {
            Value::Array(a) => a.iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
            Value::String(s) => s.split(',').map(|r| r.trim().to_owned()).collect(),
            other => panic!("{other}"),
        };
        assert!(!rights.is_empty());
    }
    // The English path names a user folder of the migrated German mailbox, not Sent Items.
    let english = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": "buchhaltung@fabrikam.com:\\Sent Items"}),
    )
    .await;
    assert_eq!(users(&english), ["Default", "Anonymous"]);
    let missing = invoke(
        &sim,
        "Get-MailboxFolderPermission",
        json!({"Identity": "support@fabrikam.com:\\Gesendete Elemente"}),
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn permission_rows_carry_built_ins_orphans_and_tolerable_encodings() {
    let sim = start(SimConfig::default());
    let orphan = "S-1-5-21-1111111111-2222222222-3333333333-1107";
    // Like Exchange Online, the entry of an account that no longer resolves is left out
    // unless it is asked for.
    let default = invoke(
        &sim,
        "Get-MailboxPermission",
        json!({"Identity": "support@fabrikam.com"}),
    )
    .await;
    assert!(
        default.value().iter().all(|r| r["User"] != orphan),
        "{:?}",
        default.value()
    );
    let reply = invoke(
        &sim,
        "Get-MailboxPermission",
        json!({"Identity": "support@fabrikam.com", "IncludeUnresolvedPermissions": true}),
    )
    .await;
    assert_eq!(reply.value().len(), default.value().len() + 1);
    let rows = reply.value();
    let row = |user: &str| {
        rows.iter()
            .find(|r| r["User"] == user)
            .unwrap_or_else(|| panic!("{user}"))
    };
    assert_eq!(
        row("NT AUTHORITY\\SELF")["AccessRights"],
        json!(["FullAccess", "ReadPermission"])
    );
    assert_eq!(
        row("NT AUTHORITY\\SELF")["AccessRights@odata.type"],
        "#Collection(String)"
    );
    assert!(row(orphan)["User"].is_string());
    assert!(tolerant_bool(&row("ben@fabrikam.com")["IsInherited"]));
    assert!(!tolerant_bool(
        &row("anna.berg@fabrikam.onmicrosoft.com")["IsInherited"]
    ));
    assert!(
        tolerant_bool(&row("SIMPR01A001\\Administrator")["Deny"]),
        "synthetic inherited deny row"
    );
    let encodings: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| [&r["Deny"], &r["IsInherited"]])
        .map(|v| match v {
            Value::Bool(_) => "bool",
            Value::String(_) => "string",
            _ => "object",
        })
        .collect();
    assert_eq!(encodings.len(), 3, "bools arrive in every encoding");

    let strict = start(SimConfig {
        quirks: false,
        ..SimConfig::default()
    });
    let plain = invoke(
        &strict,
        "Get-MailboxPermission",
        json!({"Identity": "support@fabrikam.com", "IncludeUnresolvedPermissions": true}),
    )
    .await;
    assert_eq!(plain.value().len(), 4);
    assert!(plain.value().iter().all(|r| r["Deny"].is_boolean()));
}

#[tokio::test]
async fn bulk_reads_cover_the_directory_and_every_mailbox() {
    let sim = start(SimConfig::default());
    let recipients = invoke(&sim, "Get-Recipient", json!({"ResultSize": "Unlimited"})).await;
    assert_eq!(
        recipients.value().len(),
        8,
        "6 recipients and 2 shared mailboxes"
    );
    let anna = recipients
        .value()
        .iter()
        .find(|r| r["PrimarySmtpAddress"] == "anna@fabrikam.com")
        .unwrap();
    assert_eq!(anna["WindowsLiveID"], "anna.berg@fabrikam.onmicrosoft.com");
    assert_eq!(
        anna["ExternalDirectoryObjectId"],
        "0a1b2c3d-0000-4000-8000-000000000001"
    );
    assert!(anna.get("UserPrincipalName").is_none());
    let group = recipients
        .value()
        .iter()
        .find(|r| r["Name"] == "all-staff")
        .unwrap();
    assert_eq!(
        group["RecipientTypeDetails"],
        "MailUniversalDistributionGroup"
    );

    let send_as = invoke(
        &sim,
        "Get-RecipientPermission",
        json!({"ResultSize": "Unlimited"}),
    )
    .await;
    let identities: BTreeSet<&str> = send_as
        .value()
        .iter()
        .map(|r| r["Identity"].as_str().unwrap())
        .collect();
    assert_eq!(
        identities,
        BTreeSet::from(["5b000000-0000-4000-8000-000000000001", "buchhaltung"])
    );
    assert_eq!(send_as.value().len(), 5);
    let one = invoke(
        &sim,
        "Get-RecipientPermission",
        json!({"Identity": "buchhaltung@fabrikam.com"}),
    )
    .await;
    assert_eq!(one.value().len(), 2);

    let cas = invoke(
        &sim,
        "Get-CASMailbox",
        json!({"Identity": "support@fabrikam.com"}),
    )
    .await;
    let cas = &cas.value()[0];
    assert_eq!(cas["ImapEnabled"], true);
    assert_eq!(cas["SmtpClientAuthenticationDisabled"], Value::Null);
    let org = invoke(&sim, "Get-OrganizationConfig", Value::Null).await;
    assert_eq!(org.value()[0]["SendFromAliasEnabled"], false);
}

#[tokio::test]
async fn a_hostile_identity_matches_nothing() {
    let sim = start(SimConfig::default());
    let before = sim.tenant();
    for hostile in [
        "support@fabrikam.com' -or 1 -eq 1",
        "support@fabrikam.com\"; Remove-Mailbox *",
        "$(Get-Mailbox)",
        "support@fabrikam.com\n",
        "*",
    ] {
        let reply = invoke(&sim, "Get-Mailbox", json!({"Identity": hostile})).await;
        assert_eq!(reply.status, 404, "{hostile:?}");
        assert_eq!(reply.json["error"]["code"], "NotFound");
        assert!(
            reply.detail().starts_with("Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object"),
            "{}",
            reply.detail()
        );
        let write = invoke(
            &sim,
            "Set-Mailbox",
            json!({"Identity": hostile, "HiddenFromAddressListsEnabled": true}),
        )
        .await;
        assert_eq!(write.status, 404);
        let grant = invoke(&sim, "Add-RecipientPermission", json!({"Identity": "support@fabrikam.com", "Trustee": hostile, "AccessRights": ["SendAs"]})).await;
        assert_eq!(grant.status, 404);
    }
    assert_eq!(sim.tenant(), before);
    assert_eq!(sim.counters().tenant_changes, 0);
}

#[tokio::test]
async fn unknown_cmdlets_and_parameters_are_refused_as_exchange_does() {
    let sim = start(SimConfig::default());
    let unknown = invoke(&sim, "Get-EXOMailbox", json!({})).await;
    assert_eq!(unknown.status, 403);
    assert_eq!(unknown.header("content-encoding"), Some("gzip"));
    assert!(!unknown.raw.is_empty() && unknown.raw.iter().all(|b| *b == 0));

    let json_sim = start(SimConfig {
        unknown_cmdlet: sharedbox_exo_sim::UnknownCmdlet::Json,
        ..SimConfig::default()
    });
    let unknown = invoke(&json_sim, "Get-Foo", json!({})).await;
    assert_eq!(unknown.status, 403);
    assert!(unknown.detail().contains("CommandNotFoundException"));

    let bad = invoke(&sim, "Get-Mailbox", json!({"Foo": 1})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["error"]["code"], "BadRequest");
    assert_eq!(
        bad.detail(),
        "|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'Foo'."
    );
    let v1 = post(
        &client(),
        &format!("{}/adminapi/v1.0/{TENANT}/InvokeCommand", sim.base_url()),
        Some(TOKEN),
        &[],
        &body("Get-Mailbox", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(v1.status, 405);
}
