//! The Exchange Online client against the simulator: reads equal the file backend's,
//! writes end in the same tenant, and the wire quirks, paging, batching, throttling, a
//! 401 mid-run and a lost `New-Mailbox` answer are survived.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sharedbox_exo::auth::{AccessToken, AuthError, StaticToken, TokenSource};
use sharedbox_exo::{ClientOptions, ExoTenant};
use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};
use sharedbox_file::TenantFile;
use sharedbox_tenant::{
    LivePrincipal, Mailbox, Operation, OrganizationProperty, Principal, PrincipalId, PrincipalList,
    Property, ReadScope, Snapshot, Tenant, Value, normalized,
};

const DEMO: &str = include_str!("../../../examples/contoso/tenant.yaml");

fn demo() -> TenantFile {
    TenantFile::parse(DEMO, Path::new("tenant.yaml")).unwrap()
}

fn fast() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(5),
        max_wait: Duration::from_millis(50),
        max_attempts: 8,
        ..ClientOptions::default()
    }
}

fn start(config: SimConfig) -> SimHandle {
    SimServer::start(demo(), config).unwrap()
}

fn client(sim: &SimHandle, tokens: Arc<dyn TokenSource>, options: ClientOptions) -> ExoTenant {
    ExoTenant::new(&sim.base_url(), "contoso.onmicrosoft.com", tokens, options).unwrap()
}

fn token() -> Arc<dyn TokenSource> {
    Arc::new(StaticToken::new("test-token"))
}

/// Every mailbox of `file`, with its root folder and automatic replies.
fn everything(file: &TenantFile) -> ReadScope {
    let mut scope = ReadScope::of(
        file.mailboxes
            .iter()
            .map(|m| m.primary_smtp_address.clone())
            .collect(),
    );
    scope.roots = scope
        .mailboxes
        .iter()
        .map(|mailbox| sharedbox_tenant::RootRead {
            mailbox: mailbox.clone(),
            always: true,
        })
        .collect();
    scope.auto_replies = scope.mailboxes.clone();
    scope
}

/// A mailbox as both backends can know it: no inherited rows (the simulator adds
/// synthetic ones), no folder id (the simulator derives one), no write-once data.
fn comparable(mailbox: &Mailbox) -> Mailbox {
    let mut m = normalized(mailbox);
    m.mailbox_permissions.retain(|p| !p.is_inherited);
    m.sent_items.folder_id.clear();
    for folder in [&mut m.inbox, &mut m.calendar].into_iter().flatten() {
        folder.folder_id.clear();
    }
    m
}

fn assert_same(exo: &Snapshot, file: &Snapshot) {
    assert_eq!(exo.organization.name, file.organization.name);
    assert_eq!(
        exo.organization.send_from_alias_enabled,
        file.organization.send_from_alias_enabled
    );
    assert_eq!(
        exo.organization.smtp_client_authentication_disabled,
        file.organization.smtp_client_authentication_disabled
    );
    assert_eq!(
        exo.organization.accepted_domains, file.organization.accepted_domains,
        "`Get-AcceptedDomain`"
    );
    let mut a = exo.all_shared_mailboxes.clone();
    let mut b = file.all_shared_mailboxes.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(exo.mailboxes.len(), file.mailboxes.len());
    for expected in &file.mailboxes {
        let got = exo
            .mailbox(&expected.primary_smtp_address)
            .unwrap_or_else(|| panic!("{} missing", expected.primary_smtp_address));
        // A root the scope did not ask for is not read (the file backend always has it).
        let mut want = comparable(expected);
        if got.root_folder.is_none() {
            want.root_folder = None;
        }
        // Likewise an Inbox or Calendar no policy manages.
        if got.inbox.is_none() {
            want.inbox = None;
        }
        if got.calendar.is_none() {
            want.calendar = None;
        }
        // Likewise automatic replies.
        if got.auto_reply.is_none() {
            want.auto_reply = None;
        }
        assert_eq!(comparable(got), want);
    }
    for recipient in file.directory.recipients() {
        // By its address, else (a service principal has none) its object id.
        let found = exo
            .directory
            .resolve_policy(&recipient.identity())
            .map(PrincipalId::of);
        assert_eq!(
            found,
            Some(PrincipalId::of(recipient)),
            "{}",
            recipient.identity()
        );
    }
}

#[tokio::test]
async fn a_read_through_the_wire_equals_the_file_backend_quirks_and_all() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let file = demo();
    let scope = everything(&file);
    let snapshot = exo.read(&scope).await.unwrap();
    assert_same(&snapshot, &file.snapshot(&scope));
    let german = snapshot.mailbox("buchhaltung@contoso.com").unwrap();
    assert_eq!(german.sent_items.name, "Gesendete Elemente");
    let counters = sim.counters();
    assert!(counters.batches >= 3, "{counters:?}");
    assert!(
        counters.http_requests * 3 < counters.cmdlets.values().sum::<u64>(),
        "reads are batched: {counters:?}"
    );
    assert_eq!(counters.total_writes(), 0);
    // A small scope reads per mailbox, not the whole tenant's permissions.
    sim.reset_counters();
    let one = ReadScope::of(vec!["support@contoso.com".into()]);
    let snapshot = exo.read(&one).await.unwrap();
    assert_same(&snapshot, &file.snapshot(&one));
    assert_eq!(
        snapshot.mailbox("support@contoso.com").unwrap().root_folder,
        None,
        "no root read asked for, none made"
    );
    assert_eq!(
        sim.counters().cmdlets.get("Get-MailboxFolderPermission"),
        Some(&1),
        "Sent Items only"
    );
}

#[tokio::test]
async fn paging_across_many_pages_gives_the_same_snapshot() {
    let sim = start(SimConfig {
        page_size: 2,
        ..SimConfig::default()
    });
    let exo = client(&sim, token(), fast());
    let file = demo();
    let scope = everything(&file);
    let snapshot = exo.read(&scope).await.unwrap();
    assert_same(&snapshot, &file.snapshot(&scope));
    assert!(sim.counters().paged_responses >= 20, "{:?}", sim.counters());
}

#[tokio::test]
async fn throttling_and_busy_servers_are_waited_out() {
    let sim = start(SimConfig {
        concurrency_limit: Some(2),
        retry_after_secs: 0,
        unavailable_rate: 0.2,
        drop_rate: 0.05,
        latency_ms: 5,
        seed: 7,
        ..SimConfig::default()
    });
    let exo = client(
        &sim,
        token(),
        ClientOptions {
            max_concurrency: 8,
            initial_concurrency: 8,
            max_attempts: 12,
            ..fast()
        },
    );
    let file = demo();
    let scope = everything(&file);
    let snapshot = exo.read(&scope).await.unwrap();
    assert_same(&snapshot, &file.snapshot(&scope));
    let counters = sim.counters();
    assert!(counters.throttled > 0, "{counters:?}");
    assert!(counters.unavailable > 0, "{counters:?}");
    assert!(exo.client().stats().throttled > 0);
}

/// Hands out an expired token until told it was refused.
#[derive(Debug, Default)]
struct ExpiringToken {
    refreshed: AtomicU32,
}

#[async_trait::async_trait]
impl TokenSource for ExpiringToken {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        Ok(match self.refreshed.load(Ordering::SeqCst) {
            0 => AccessToken::new("expired-token", None),
            _ => AccessToken::new("fresh-token", None),
        })
    }
    fn invalidate(&self) {
        self.refreshed.fetch_add(1, Ordering::SeqCst);
    }
    fn method(&self) -> &'static str {
        "test"
    }
}

#[tokio::test]
async fn a_401_mid_run_refreshes_the_token_once() {
    let sim = start(SimConfig::default());
    let tokens = Arc::new(ExpiringToken::default());
    let exo = client(&sim, tokens.clone(), fast());
    let file = demo();
    let snapshot = exo.read(&everything(&file)).await.unwrap();
    assert_eq!(snapshot.mailboxes.len(), file.mailboxes.len());
    assert!(sim.counters().unauthorized >= 1);
    assert!(tokens.refreshed.load(Ordering::SeqCst) >= 1);
    // A token that stays refused is an error with a hint, not an endless loop.
    let refused = client(&sim, Arc::new(StaticToken::new("expired-forever")), fast());
    let error = refused.read(&everything(&file)).await.unwrap_err();
    assert!(error.to_string().contains("401"), "{error}");
    assert!(
        !error.to_string().contains("expired-forever"),
        "no token in errors"
    );
}

fn principal(file: &TenantFile, address: &str) -> Principal {
    let directory = file.directory();
    let recipient = directory.resolve_policy(address).unwrap();
    Principal::Recipient {
        id: PrincipalId::of(recipient),
        address: recipient.primary_smtp_address.clone(),
        app_id: None,
    }
}

/// One of every operation, against mailboxes of the demo tenant and a new one.
fn every_operation(file: &TenantFile) -> Vec<Operation> {
    let emily = principal(file, "emily.clarke@contoso.com");
    let katrin = principal(file, "katrin.schulz@contoso.com");
    let support = "support@contoso.com".to_owned();
    let german = "buchhaltung@contoso.com".to_owned();
    let new = "projekte@contoso.com".to_owned();
    vec![
        Operation::CreateMailbox {
            mailbox: new.clone(),
            display_name: "Projekte".into(),
        },
        Operation::set(new.clone(), Property::CopyForSendAs, true),
        Operation::set(
            support.clone(),
            Property::DisplayName,
            "Support \"Team\" $(x)",
        ),
        Operation::set(support.clone(), Property::HiddenFromAddressLists, true),
        Operation::set(support.clone(), Property::CopyForSendOnBehalf, true),
        Operation::AddToList {
            mailbox: support.clone(),
            list: PrincipalList::SendOnBehalf,
            principal: katrin.clone(),
        },
        Operation::AddToList {
            mailbox: support.clone(),
            list: PrincipalList::Moderators,
            principal: katrin.clone(),
        },
        Operation::set(support.clone(), Property::ModerationEnabled, true),
        Operation::set(
            support.clone(),
            Property::ModerationNotifications,
            "Internal",
        ),
        Operation::GrantSendAs {
            mailbox: support.clone(),
            principal: katrin.clone(),
        },
        Operation::GrantSendAs {
            mailbox: support.clone(),
            principal: katrin.clone(),
        },
        Operation::GrantFullAccess {
            mailbox: new.clone(),
            principal: emily.clone(),
            auto_mapping: false,
        },
        Operation::GrantFullAccess {
            mailbox: support.clone(),
            principal: katrin.clone(),
            auto_mapping: true,
        },
        Operation::RevokeFullAccess {
            mailbox: support.clone(),
            principal: katrin.clone(),
        },
        Operation::RevokeFullAccess {
            mailbox: support.clone(),
            principal: katrin.clone(),
        },
        Operation::AddSentItemsPermission {
            mailbox: german.clone(),
            principal: emily.clone(),
            access: "Reviewer".into(),
        },
        Operation::AddSentItemsPermission {
            mailbox: german.clone(),
            principal: emily.clone(),
            access: "Editor".into(),
        },
        Operation::SetSentItemsPermission {
            mailbox: new.clone(),
            principal: katrin.clone(),
            access: "Reviewer".into(),
        },
        Operation::RemoveSentItemsPermission {
            mailbox: new.clone(),
            principal: katrin.clone(),
        },
        Operation::RemoveSentItemsPermission {
            mailbox: new.clone(),
            principal: katrin.clone(),
        },
        Operation::set(support.clone(), Property::Imap, false),
        Operation::set(
            support.clone(),
            Property::SmtpClientAuthenticationDisabled,
            Some(true),
        ),
        Operation::set(
            support.clone(),
            Property::SmtpClientAuthenticationDisabled,
            None,
        ),
        Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, true),
        Operation::RemoveFromList {
            mailbox: support.clone(),
            list: PrincipalList::SendOnBehalf,
            principal: katrin.clone(),
        },
        Operation::RevokeSendAs {
            mailbox: support.clone(),
            principal: katrin,
        },
    ]
}

/// The file backend's outcome of `operations`, with the Exchange answers the client
/// turns into success (grant twice, remove what is absent, add an existing folder entry).
fn file_outcome(operations: &[Operation]) -> TenantFile {
    let mut file = demo();
    for operation in operations {
        match file.apply(operation) {
            Ok(()) => {}
            Err(_) => {
                if let Operation::AddSentItemsPermission {
                    mailbox,
                    principal,
                    access,
                } = operation
                {
                    file.apply(&Operation::SetSentItemsPermission {
                        mailbox: mailbox.clone(),
                        principal: principal.clone(),
                        access: access.clone(),
                    })
                    .unwrap();
                } else if let Operation::SetSentItemsPermission {
                    mailbox,
                    principal,
                    access,
                } = operation
                {
                    file.apply(&Operation::AddSentItemsPermission {
                        mailbox: mailbox.clone(),
                        principal: principal.clone(),
                        access: access.clone(),
                    })
                    .unwrap();
                }
            }
        }
    }
    file
}

#[tokio::test]
async fn every_operation_ends_in_the_file_backends_state() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let file = demo();
    let operations = every_operation(&file);
    for operation in &operations {
        exo.execute(operation)
            .await
            .unwrap_or_else(|e| panic!("{operation:?}: {e}"));
    }
    assert_eq!(sim.tenant(), file_outcome(&operations));
    assert_eq!(sim.counters().writes.get("New-Mailbox"), Some(&1));
    // Exchange's refusals arrive typed.
    let missing = exo
        .execute(&Operation::set(
            "nobody@contoso.com",
            Property::CopyForSendAs,
            true,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, sharedbox_tenant::TenantError::MailboxNotFound(_)),
        "{missing:?}"
    );
    let taken = exo
        .execute(&Operation::CreateMailbox {
            mailbox: "support@contoso.com".into(),
            display_name: "Support".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(taken, sharedbox_tenant::TenantError::MailboxExists(_)),
        "{taken:?}"
    );
}

#[tokio::test]
async fn under_twenty_percent_faults_writes_still_converge() {
    let sim = start(SimConfig {
        unavailable_rate: 0.1,
        drop_rate: 0.1,
        concurrency_limit: Some(1),
        retry_after_secs: 0,
        seed: 42,
        ..SimConfig::default()
    });
    let exo = client(
        &sim,
        token(),
        ClientOptions {
            max_attempts: 20,
            ..fast()
        },
    );
    let file = demo();
    let operations = every_operation(&file);
    for operation in &operations {
        exo.execute(operation)
            .await
            .unwrap_or_else(|e| panic!("{operation:?}: {e}"));
    }
    assert_eq!(sim.tenant(), file_outcome(&operations));
    let counters = sim.counters();
    assert!(counters.unavailable + counters.dropped > 0, "{counters:?}");
}

#[tokio::test]
async fn a_lost_new_mailbox_answer_is_read_back_not_sent_again() {
    let sim = start(SimConfig {
        lose_response_of: vec!["New-Mailbox".into()],
        ..SimConfig::default()
    });
    let exo = client(&sim, token(), fast());
    exo.execute(&Operation::CreateMailbox {
        mailbox: "projekte@contoso.com".into(),
        display_name: "Projekte".into(),
    })
    .await
    .unwrap();
    let counters = sim.counters();
    assert_eq!(counters.writes.get("New-Mailbox"), Some(&1), "{counters:?}");
    assert_eq!(counters.dropped, 1);
    assert!(
        counters.cmdlet("Get-Mailbox") >= 1,
        "read back: {counters:?}"
    );
    let created = sim
        .tenant()
        .mailboxes
        .iter()
        .filter(|m| m.primary_smtp_address == "projekte@contoso.com")
        .count();
    assert_eq!(created, 1);
}

#[tokio::test]
async fn remote_http_endpoints_are_refused() {
    let error = ExoTenant::new(
        "http://exo.example.com",
        "contoso.onmicrosoft.com",
        token(),
        fast(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
}

#[tokio::test]
async fn a_403_of_nul_bytes_declared_gzip_is_a_forbidden_error_with_a_hint() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let error = exo
        .client()
        .invoke(&sharedbox_exo::Command::read("Get-NoSuchThing"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, sharedbox_exo::ExoError::Forbidden { .. }),
        "{error:?}"
    );
    assert!(
        miette::Diagnostic::help(&error)
            .unwrap()
            .to_string()
            .contains("Exchange.ManageAsApp")
    );
    assert_eq!(sim.counters().cmdlet("Get-NoSuchThing"), 1, "not retried");
}

/// Mailbox and principal strings a malicious pull request might carry. Parameters travel as
/// JSON values and identities are compared literally, so none of them can reach another
/// object: each write is refused or changes nothing.
const HOSTILE: &[&str] = &[
    "support@contoso.com' -or '1' -eq '1",
    "support@contoso.com\"; Remove-Mailbox support@contoso.com; \"",
    "$(Remove-Mailbox -Identity support@contoso.com)",
    "support@contoso.com\n-Identity buchhaltung@contoso.com",
    "support@contoso.com\\",
    "\u{0455}upport@contoso.com", // Cyrillic dze, looks like `s`
    "support@contoso.com:\\Inbox",
    "support@contoso.com:\\Sent Items\\..\\Inbox",
    "buchhaltung@contoso.com:\\",
    "support@contoso.com\u{200b}",
    "`$true",
    "",
];

#[tokio::test]
async fn hostile_identities_never_reach_another_object() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let file = demo();
    let before = sim.tenant();
    let katrin = principal(&file, "katrin.schulz@contoso.com");
    for hostile in HOSTILE {
        let as_principal = Principal::Recipient {
            id: PrincipalId::of(
                file.directory()
                    .resolve_policy("katrin.schulz@contoso.com")
                    .unwrap(),
            ),
            address: (*hostile).to_owned(),
            app_id: None,
        };
        let operations = [
            Operation::GrantSendAs {
                mailbox: (*hostile).to_owned(),
                principal: katrin.clone(),
            },
            Operation::GrantFullAccess {
                mailbox: (*hostile).to_owned(),
                principal: katrin.clone(),
                auto_mapping: false,
            },
            Operation::set((*hostile).to_owned(), Property::CopyForSendAs, true),
            Operation::AddSentItemsPermission {
                mailbox: (*hostile).to_owned(),
                principal: katrin.clone(),
                access: "Editor".to_owned(),
            },
            Operation::GrantSendAs {
                mailbox: "support@contoso.com".to_owned(),
                principal: as_principal.clone(),
            },
            Operation::AddSentItemsPermission {
                mailbox: "support@contoso.com".to_owned(),
                principal: as_principal.clone(),
                access: "Owner".to_owned(),
            },
            Operation::RevokeFullAccess {
                mailbox: "support@contoso.com".to_owned(),
                principal: Principal::Orphaned {
                    raw: (*hostile).to_owned(),
                },
            },
        ];
        for operation in &operations {
            // Refused (not found, invalid) or a no-op; never a change anywhere.
            let _ = exo.execute(operation).await;
            assert_eq!(sim.tenant(), before, "{operation:?} changed the tenant");
        }
    }
    assert_eq!(sim.counters().tenant_changes, 0);
    assert!(sim.changes().is_empty());
}

#[tokio::test]
async fn hostile_text_in_a_value_is_stored_literally() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    for hostile in HOSTILE.iter().filter(|h| !h.is_empty()) {
        exo.execute(&Operation::set(
            "support@contoso.com".to_owned(),
            Property::DisplayName,
            (*hostile).to_owned(),
        ))
        .await
        .unwrap();
        let tenant = sim.tenant();
        let support = tenant
            .mailboxes
            .iter()
            .find(|m| m.primary_smtp_address == "support@contoso.com")
            .unwrap();
        assert_eq!(support.display_name, *hostile);
        let others_unchanged = tenant
            .mailboxes
            .iter()
            .filter(|m| m.primary_smtp_address != "support@contoso.com")
            .all(|m| demo().mailboxes.iter().any(|d| d == m));
        assert!(others_unchanged, "{hostile:?} reached another mailbox");
    }
}

/// What the applier decides on: a refused write is `Forbidden` (permanent) after one
/// request; a tenant that keeps answering 503 is `Transient` (retryable) once the client's
/// own retries are spent.
#[tokio::test]
async fn write_failures_reach_the_tenant_trait_with_their_kind() {
    use sharedbox_tenant::TenantErrorKind;
    let write = Operation::set("support@contoso.com", Property::CopyForSendAs, true);

    let sim = start(SimConfig {
        roles: vec![sharedbox_exo_sim::Role {
            token_prefix: "reader".into(),
            cmdlets: vec!["Get-*".into()],
        }],
        ..SimConfig::default()
    });
    let reader = client(&sim, Arc::new(StaticToken::new("reader-token")), fast());
    let results = reader.execute_all(std::slice::from_ref(&write)).await;
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(error.kind(), TenantErrorKind::Forbidden, "{error}");
    assert!(!error.is_retryable());
    assert!(
        miette::Diagnostic::help(error)
            .unwrap()
            .to_string()
            .contains("Exchange.ManageAsApp"),
        "the admin API error's hint is kept"
    );
    assert!(matches!(
        error
            .backend_error()
            .and_then(|e| e.downcast_ref::<sharedbox_exo::ExoError>()),
        Some(sharedbox_exo::ExoError::Forbidden { .. })
    ));
    assert_eq!(
        sim.counters().cmdlet("Set-Mailbox"),
        1,
        "a 403 is not retried"
    );

    let sim = start(SimConfig {
        unavailable_rate: 1.0,
        ..SimConfig::default()
    });
    let options = ClientOptions {
        max_attempts: 3,
        ..fast()
    };
    let error = client(&sim, token(), options)
        .execute(&write)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TenantErrorKind::Transient, "{error}");
    assert!(error.is_retryable());
    assert_eq!(
        sim.counters().cmdlet("Set-Mailbox"),
        3,
        "503s are retried by the client until its attempts are spent"
    );
}

/// Every catalogued property, written through the wire and read back through the wire, is
/// what was written: the cmdlet, the parameter and the output field all come from the
/// catalogue, for the client and the simulator alike.
#[tokio::test]
async fn every_catalogued_property_round_trips_through_the_wire() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let support = "support@contoso.com";
    let scope = ReadScope {
        auto_replies: vec![support.to_owned()],
        ..ReadScope::of(vec![support.to_owned()])
    };
    let before = exo.read(&scope).await.unwrap();
    let live = before.mailbox(support).unwrap().clone();
    // Moderation needs a moderator first (Exchange's rule).
    let katrin = principal(&demo(), "katrin.schulz@contoso.com");
    exo.execute(&Operation::AddToList {
        mailbox: support.to_owned(),
        list: PrincipalList::Moderators,
        principal: katrin,
    })
    .await
    .unwrap();
    for property in Property::ALL {
        let definition = property.definition();
        let now = (definition.get)(&live);
        let value = match definition.kind {
            sharedbox_tenant::Kind::Text => Value::Text(format!("{} 2", now.text())),
            sharedbox_tenant::Kind::Choice(words) => Value::Text(
                (*words
                    .iter()
                    .find(|w| !definition.same(&now, &Value::Text((**w).to_owned())))
                    .unwrap())
                .to_owned(),
            ),
            sharedbox_tenant::Kind::Address if now == Value::Unset => {
                Value::Text("katrin.schulz@contoso.com".into())
            }
            sharedbox_tenant::Kind::Address => Value::Unset,
            sharedbox_tenant::Kind::Tristate { .. } if now == Value::Unset => Value::Flag(true),
            sharedbox_tenant::Kind::Tristate { .. } => Value::Unset,
            // The simulator stores the message wrapped in HTML, as Exchange does; it reads
            // back as the same text.
            sharedbox_tenant::Kind::Message => Value::Text(
                sharedbox_tenant::auto_reply::message_html("Closed & \"away\"\nback soon"),
            ),
            sharedbox_tenant::Kind::Time if property == Property::AutoReplyStart => {
                Value::Text("2026-12-24T09:00:00+01:00".into())
            }
            sharedbox_tenant::Kind::Time => Value::Text("2027-01-02T08:00:00Z".into()),
            _ => Value::Flag(!now.flag()),
        };
        exo.execute(&Operation::set(support, property, value.clone()))
            .await
            .unwrap_or_else(|e| panic!("{property:?}: {e}"));
        let read = exo.read(&scope).await.unwrap();
        let got = (definition.get)(read.mailbox(support).unwrap());
        assert!(
            definition.same(&got, &value),
            "{property:?}: wrote {value:?}, read {got:?}"
        );
    }
    for property in OrganizationProperty::ALL {
        let definition = property.definition();
        let value = Value::Flag(!(definition.get)(&before.organization).flag());
        exo.execute(&Operation::set_organization(property, value.clone()))
            .await
            .unwrap();
        let read = exo.read(&scope).await.unwrap();
        assert_eq!((definition.get)(&read.organization), value, "{property:?}");
    }
}

/// The organisation's SMTP AUTH travels as `Get-TransportConfig` / `Set-TransportConfig`
/// (a second organisation read cmdlet next to `Get-OrganizationConfig`), and a tenant that
/// enables it is read as enabled.
#[tokio::test]
async fn the_organisations_smtp_auth_is_read_and_written_through_the_transport_config() {
    let mut tenant = demo();
    tenant.organization.smtp_client_authentication_disabled = Some(false);
    let sim = SimServer::start(tenant, SimConfig::default()).unwrap();
    let exo = client(&sim, token(), fast());
    let scope = ReadScope::of(vec![]);
    let read = exo.read(&scope).await.unwrap();
    assert_eq!(
        read.organization.smtp_client_authentication_disabled,
        Some(false)
    );
    assert!(!read.organization.send_from_alias_enabled);
    assert_eq!(read.organization.name, "contoso.onmicrosoft.com");
    exo.execute(&Operation::set_organization(
        OrganizationProperty::SmtpClientAuthenticationDisabled,
        true,
    ))
    .await
    .unwrap();
    assert_eq!(
        sim.tenant()
            .organization
            .smtp_client_authentication_disabled,
        Some(true)
    );
    assert_eq!(
        exo.read(&scope)
            .await
            .unwrap()
            .organization
            .smtp_client_authentication_disabled,
        Some(true)
    );
    assert!(!sim.tenant().organization.send_from_alias_enabled);
}

/// An identity whose role does not include `Get-TransportConfig` still reads the tenant:
/// the organisation's SMTP AUTH is then not reported (nothing is judged by it), while a
/// refused `Get-OrganizationConfig` still fails the read.
#[tokio::test]
async fn a_transport_config_the_role_does_not_cover_reads_as_not_reported() {
    let reads: Vec<String> = [
        "Get-OrganizationConfig",
        "Get-Recipient",
        "Get-Mailbox",
        "Get-CASMailbox",
        "Get-RecipientPermission",
        "Get-MailboxPermission",
        "Get-MailboxFolderStatistics",
        "Get-MailboxFolderPermission",
        "Get-MailboxAutoReplyConfiguration",
    ]
    .map(str::to_owned)
    .to_vec();
    let sim = start(SimConfig {
        roles: vec![
            sharedbox_exo_sim::Role {
                token_prefix: "narrow".into(),
                cmdlets: reads.clone(),
            },
            sharedbox_exo_sim::Role {
                token_prefix: "noorg".into(),
                cmdlets: reads[1..].to_vec(),
            },
        ],
        ..SimConfig::default()
    });
    let narrow = client(&sim, Arc::new(StaticToken::new("narrow-token")), fast());
    let file = demo();
    let read = narrow.read(&everything(&file)).await.unwrap();
    assert_eq!(read.organization.smtp_client_authentication_disabled, None);
    assert_eq!(read.organization.name, "contoso.onmicrosoft.com");
    assert_eq!(read.mailboxes.len(), file.mailboxes.len());
    let noorg = client(&sim, Arc::new(StaticToken::new("noorg-token")), fast());
    assert!(noorg.read(&everything(&file)).await.is_err());
}

/// The accepted domains come from `Get-AcceptedDomain` (lint SBX202 needs them); a role
/// that may not run it still reads the tenant, with no domains (and the lint skipped).
#[tokio::test]
async fn accepted_domains_are_read_and_a_role_without_them_still_reads() {
    let sim = start(SimConfig {
        roles: vec![sharedbox_exo_sim::Role {
            token_prefix: "narrow".into(),
            cmdlets: vec![
                "Get-Mailbox*".into(),
                "Get-Recipient*".into(),
                "Get-CASMailbox".into(),
                "Get-OrganizationConfig".into(),
            ],
        }],
        ..SimConfig::default()
    });
    let scope = ReadScope::of(vec!["support@contoso.com".into()]);
    let full = client(&sim, token(), fast()).read(&scope).await.unwrap();
    assert_eq!(
        full.organization.accepted_domains,
        vec![
            "contoso.com".to_owned(),
            "contoso.onmicrosoft.com".to_owned()
        ]
    );
    assert_eq!(sim.counters().cmdlet("Get-AcceptedDomain"), 1);
    let narrow = client(&sim, Arc::new(StaticToken::new("narrow-token")), fast())
        .read(&scope)
        .await
        .unwrap();
    assert!(narrow.organization.accepted_domains.is_empty());
    assert!(narrow.mailbox("support@contoso.com").is_some());
}

/// `Get-Mailbox -SoftDeletedMailbox` is read only when a mailbox in scope does not exist,
/// as one more request after round 1; and a soft-deleted mailbox whose address only looks
/// like a declared one (Cyrillic 'е' for 'e', control characters) does not block it.
#[tokio::test]
async fn soft_deleted_mailboxes_are_read_only_when_needed_and_lookalikes_do_not_match() {
    let mut file = demo();
    file.soft_deleted_mailboxes = vec![
        sharedbox_tenant::SoftDeletedMailbox {
            primary_smtp_address: "n\u{435}w@contoso.com".into(),
            email_addresses: vec![
                "SMTP:n\u{435}w@contoso.com".into(),
                "smtp:new\u{1b}[2J@contoso.com".into(),
                "x".repeat(100_000),
            ],
        },
        sharedbox_tenant::SoftDeletedMailbox {
            primary_smtp_address: "old@contoso.com".into(),
            email_addresses: vec!["SMTP:old@contoso.com".into(), "smtp:old@contoso.com".into()],
        },
    ];
    let sim = SimServer::start(file.clone(), SimConfig::default()).unwrap();
    let tenant = client(&sim, token(), fast());

    let existing = everything(&file);
    let read = tenant.read(&existing).await.unwrap();
    assert!(
        read.soft_deleted.is_empty(),
        "not read when nothing is created"
    );
    let only_round1 = sim.counters();
    sim.reset_counters();

    let mut with_new = existing.clone();
    with_new.mailboxes.push("new@contoso.com".into());
    with_new.mailboxes.push("old@contoso.com".into());
    let read = tenant.read(&with_new).await.unwrap();
    let with_soft_deleted = sim.counters();
    assert_eq!(
        with_soft_deleted.cmdlet("Get-Mailbox"),
        only_round1.cmdlet("Get-Mailbox") + 1,
        "{only_round1:?} {with_soft_deleted:?}"
    );
    // One command alone is sent as one request (not a `$batch`).
    assert_eq!(
        with_soft_deleted.http_requests,
        only_round1.http_requests + 1
    );
    assert_eq!(with_soft_deleted.batches, only_round1.batches);
    assert_eq!(read.soft_deleted.len(), 2);
    assert!(read.soft_deleted_holding("new@contoso.com").is_none());
    assert!(read.soft_deleted_holding("old@contoso.com").is_some());
}

/// The mailbox root (`mbx:\`) is read only where the scope asks: unconditionally (a reader
/// is declared) in round 3, or, when Sent Items holds a reader to revoke, in a round 4;
/// a mailbox whose Sent Items holds none gets no root read.
#[tokio::test]
async fn the_root_is_read_only_where_a_sent_items_reader_needs_it() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let file = demo();
    // support@ has a Sent Items reader (Auditors), info@ none, sales@ none but asked always.
    let mut scope = ReadScope::of(vec![
        "support@contoso.com".into(),
        "info@contoso.com".into(),
        "sales@contoso.com".into(),
        "empfang@contoso.com".into(),
    ]);
    let root = |mailbox: &str, always| sharedbox_tenant::RootRead {
        mailbox: mailbox.into(),
        always,
    };
    scope.roots = vec![
        root("support@contoso.com", false),
        root("info@contoso.com", false),
        root("sales@contoso.com", true),
    ];
    let snapshot = exo.read(&scope).await.unwrap();
    let read = |address: &str| snapshot.mailbox(address).unwrap().root_folder.clone();
    let expected = file.snapshot(&scope);
    let default_root = |address: &str| expected.mailbox(address).unwrap().root_folder.clone();
    assert_eq!(
        read("support@contoso.com"),
        default_root("support@contoso.com")
    );
    assert_eq!(read("sales@contoso.com"), default_root("sales@contoso.com"));
    assert!(read("support@contoso.com").is_some());
    assert_eq!(read("info@contoso.com"), None, "no reader: not read");
    assert_eq!(read("empfang@contoso.com"), None, "not asked for");
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxFolderPermission"),
        4 + 2,
        "four Sent Items folders, two roots"
    );
}

/// An alias travels as `-EmailAddresses @{Add|Remove="smtp:..."}` and reads back from
/// `Get-Mailbox`'s `EmailAddresses`; the simulator refuses, like Exchange, an address another
/// recipient holds (`ProxyAddressExistsException`) and one outside the accepted domains, and a
/// removal never touches the primary address.
#[tokio::test]
async fn aliases_round_trip_through_the_wire_and_taken_or_foreign_addresses_are_refused() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let support = "support@contoso.com";
    let scope = ReadScope::of(vec![support.to_owned()]);
    let aliases = |snapshot: &Snapshot| -> Vec<String> {
        let mut all: Vec<String> = snapshot
            .mailbox(support)
            .unwrap()
            .aliases()
            .map(str::to_owned)
            .collect();
        all.sort();
        all
    };
    let before = exo.read(&scope).await.unwrap();
    assert_eq!(
        aliases(&before),
        ["helpdesk@contoso.com", "support@contoso.onmicrosoft.com"]
    );
    let add = |address: &str| Operation::AddAlias {
        mailbox: support.to_owned(),
        address: address.to_owned(),
    };
    exo.execute(&add("kundendienst@contoso.com")).await.unwrap();
    exo.execute(&Operation::RemoveAlias {
        mailbox: support.to_owned(),
        address: "helpdesk@contoso.com".to_owned(),
    })
    .await
    .unwrap();
    let after = exo.read(&scope).await.unwrap();
    assert_eq!(
        aliases(&after),
        [
            "kundendienst@contoso.com",
            "support@contoso.onmicrosoft.com"
        ]
    );
    assert!(
        after
            .mailbox(support)
            .unwrap()
            .email_addresses
            .contains(&"SMTP:support@contoso.com".to_owned()),
        "the primary stays"
    );

    let taken = exo
        .execute(&add("katrin.schulz@contoso.com"))
        .await
        .unwrap_err();
    assert!(
        taken.to_string().contains("is already being used"),
        "{taken}"
    );
    let foreign = exo.execute(&add("info@fabrikam.com")).await.unwrap_err();
    assert!(
        foreign.to_string().contains("isn't in an accepted domain"),
        "{foreign}"
    );
    assert_eq!(
        aliases(&exo.read(&scope).await.unwrap()),
        aliases(&after),
        "a refused write changes nothing"
    );
}

/// `ForwardingAddress` takes only a recipient of the organisation, as in Exchange: the
/// simulator refuses an outside address and changes nothing; `ForwardingSmtpAddress` takes
/// it, and both read back as the addresses the tenant model holds: `ForwardingSmtpAddress`
/// without Exchange's `smtp:` prefix, `ForwardingAddress` from the recipient's Name (a GUID
/// for Katrin), which `Get-Mailbox` reports, resolved through the directory.
#[tokio::test]
async fn forwarding_address_refuses_a_non_recipient_over_the_wire() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let support = "support@contoso.com";
    let scope = ReadScope::of(vec![support.to_owned()]);
    let before = sim.tenant();
    let refused = exo
        .execute(&Operation::set(
            support,
            Property::ForwardingAddress,
            Value::Text("partner@fabrikam-partner.example".into()),
        ))
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("not a mail-enabled recipient"),
        "{refused}"
    );
    assert_eq!(sim.tenant(), before, "a refused write changes nothing");
    for (property, value) in [
        (
            Property::ForwardingSmtpAddress,
            "partner@fabrikam-partner.example",
        ),
        (Property::ForwardingAddress, "KATRIN.SCHULZ@contoso.com"),
    ] {
        exo.execute(&Operation::set(
            support,
            property,
            Value::Text(value.into()),
        ))
        .await
        .unwrap();
    }
    let read = exo.read(&scope).await.unwrap();
    let mailbox = read.mailbox(support).unwrap();
    assert_eq!(
        mailbox.forwarding_smtp_address.as_deref(),
        Some("partner@fabrikam-partner.example"),
        "read without Exchange's `smtp:` prefix"
    );
    assert_eq!(
        mailbox.forwarding_address.as_deref(),
        Some("katrin.schulz@contoso.com")
    );
}

/// Automatic replies: read only for the mailboxes the scope names (one
/// `Get-MailboxAutoReplyConfiguration` each, none for the others); a mailbox's changed
/// parameters go out as one `Set-MailboxAutoReplyConfiguration`, and the HTML the simulator
/// stores (wrapped, re-encoded, as Exchange does) reads back as the policy's text.
#[tokio::test]
async fn auto_replies_are_read_where_asked_and_written_in_one_call_per_mailbox() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, token(), fast());
    let file = demo();
    let all: Vec<String> = file
        .mailboxes
        .iter()
        .map(|m| m.primary_smtp_address.clone())
        .collect();
    assert!(all.len() > 1);
    let support = "support@contoso.com";
    exo.read(&ReadScope::of(all.clone())).await.unwrap();
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxAutoReplyConfiguration"),
        0,
        "not asked for: not read"
    );
    let scope = ReadScope {
        auto_replies: vec![support.to_owned()],
        ..ReadScope::of(all)
    };
    let read = exo.read(&scope).await.unwrap();
    assert_eq!(
        sim.counters().cmdlet("Get-MailboxAutoReplyConfiguration"),
        1
    );
    assert!(read.mailbox(support).unwrap().auto_reply.is_some());
    assert!(
        read.mailboxes
            .iter()
            .filter(|m| m.primary_smtp_address != support)
            .all(|m| m.auto_reply.is_none()),
        "the others are not read"
    );

    let text = "Closed 24 Dec - 1 Jan.\nWrite to <it@contoso.com> & \"say it's urgent\".";
    let html = sharedbox_tenant::auto_reply::message_html(text);
    let writes = [
        Operation::set(support, Property::AutoReplyState, "Scheduled"),
        Operation::set(
            support,
            Property::AutoReplyStart,
            "2026-12-24T09:00:00+01:00",
        ),
        Operation::set(support, Property::AutoReplyEnd, "2027-01-02T08:00:00Z"),
        Operation::set(support, Property::AutoReplyInternal, html.as_str()),
    ];
    let results = exo.execute_all(&writes).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        sim.counters()
            .writes
            .get("Set-MailboxAutoReplyConfiguration"),
        Some(&1),
        "{:?}",
        sim.counters()
    );
    let stored = sim.tenant();
    let stored = stored
        .mailboxes
        .iter()
        .find(|m| m.primary_smtp_address == support)
        .unwrap()
        .auto_reply
        .clone()
        .unwrap();
    assert_ne!(stored.internal_message, html, "stored as Exchange wraps it");
    let read = exo.read(&scope).await.unwrap();
    let live = read.mailbox(support).unwrap();
    for write in &writes {
        let Operation::SetMailbox { setting, .. } = write else {
            unreachable!()
        };
        let definition = setting.definition();
        assert!(
            definition.same(&(definition.get)(live), &setting.value),
            "{:?}: {:?}",
            setting.property,
            (definition.get)(live)
        );
    }
    assert_eq!(
        sharedbox_tenant::auto_reply::message_text(
            &live.auto_reply.as_ref().unwrap().internal_message
        ),
        text
    );

    // A schedule that ends before it starts is refused as a whole, and changes nothing.
    let results = exo
        .execute_all(&[
            Operation::set(support, Property::AutoReplyStart, "2027-02-01T00:00:00Z"),
            Operation::set(support, Property::AutoReplyEnd, "2027-01-01T00:00:00Z"),
        ])
        .await;
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert_eq!(
        sim.tenant()
            .mailboxes
            .iter()
            .find(|m| m.primary_smtp_address == support)
            .unwrap()
            .auto_reply
            .as_ref()
            .unwrap()
            .start_time
            .as_deref(),
        Some("2026-12-24T08:00:00Z")
    );
}

/// Group membership over the wire (`Get-Group` with `Members`, `Get-UnifiedGroupLinks` per
/// Microsoft 365 group, `Get-User -Filter` for disabled accounts) resolves to the members the
/// file backend holds, every shared mailbox is read with `all_shared`, and the access report
/// built from either is the same. A role without `Get-UnifiedGroupLinks` leaves the Microsoft
/// 365 group's members unknown instead of failing the read.
#[tokio::test]
async fn group_membership_over_the_wire_equals_the_file_backend_and_the_report_too() {
    let sim = start(SimConfig {
        roles: vec![sharedbox_exo_sim::Role {
            token_prefix: "nolinks".into(),
            cmdlets: [
                "Get-Mailbox*",
                "Get-Recipient*",
                "Get-CASMailbox",
                "Get-OrganizationConfig",
                "Get-TransportConfig",
                "Get-AcceptedDomain",
                "Get-User",
                "Get-Group",
                "Get-ServicePrincipal",
            ]
            .map(str::to_owned)
            .to_vec(),
        }],
        ..SimConfig::default()
    });
    let exo = client(&sim, token(), fast());
    let file = demo();
    let scope = ReadScope {
        all_shared: true,
        groups: true,
        ..ReadScope::default()
    };
    let snapshot = exo.read(&scope).await.unwrap();
    let want = file.snapshot(&scope);
    assert!(snapshot.groups_read);
    assert_eq!(
        snapshot.mailboxes.len(),
        file.mailboxes.len(),
        "every shared mailbox"
    );
    let members = |s: &Snapshot, group: &str| -> Vec<String> {
        let g = s.directory.resolve_policy(group).unwrap();
        let mut ids: Vec<String> = g
            .members
            .clone()
            .unwrap_or_else(|| panic!("{group}: members not read"))
            .iter()
            .map(|m| match s.directory.resolve_live(m) {
                LivePrincipal::Recipient(r) => PrincipalId::of(r).0,
                _ => format!("unresolved:{m}"),
            })
            .collect();
        ids.sort();
        ids
    };
    for group in [
        "support-team@contoso.com",
        "support-tier2@contoso.com",
        "auditors@contoso.com",
        "all-staff@contoso.com",
        "marketing-projects@contoso.com",
    ] {
        assert_eq!(members(&snapshot, group), members(&want, group), "{group}");
    }
    assert_eq!(members(&snapshot, "auditors@contoso.com").len(), 4);
    let dynamic = snapshot
        .directory
        .resolve_policy("all-employees@contoso.com");
    assert_eq!(
        dynamic.unwrap().members,
        None,
        "a dynamic group's members are not read"
    );
    let vogel = snapshot.directory.resolve_policy("max.vogel@contoso.com");
    assert!(
        vogel.unwrap().is_disabled(),
        "`Get-User -Filter` found the disabled account"
    );
    assert_eq!(sim.counters().cmdlet("Get-UnifiedGroupLinks"), 1);
    let options = sharedbox_access::Options::default();
    assert_eq!(
        sharedbox_access::build(&snapshot, &options).unwrap(),
        sharedbox_access::build(&want, &options).unwrap()
    );

    let narrow = client(&sim, Arc::new(StaticToken::new("nolinks-token")), fast())
        .read(&scope)
        .await
        .unwrap();
    let m365 = narrow
        .directory
        .resolve_policy("marketing-projects@contoso.com")
        .unwrap();
    assert_eq!(m365.members, None, "unknown, never empty");
    assert_eq!(members(&narrow, "support-team@contoso.com").len(), 3);
}
