//! Principals outside `Get-Recipient` through the wire: service principals
//! (`Get-ServicePrincipal`), users and security groups without mail (`Get-User`,
//! `Get-Group`), and the difference between an orphaned SID and one that was not looked up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sharedbox_exo::auth::{StaticToken, TokenSource};
use sharedbox_exo::{ClientOptions, ExoTenant};
use sharedbox_exo_sim::{Role, SimConfig, SimHandle, SimServer};
use sharedbox_file::TenantFile;
use sharedbox_tenant::{
    LivePrincipal, MailboxPermission, Operation, PrincipalList, ReadScope, Recipient, Tenant,
    TenantErrorKind,
};

const DEMO: &str = include_str!("../../../examples/contoso/tenant.yaml");

const APP_ID: &str = "71487acd-ec93-476d-bd0e-6c8b31831053";
const APP_OBJECT_ID: &str = "6233fba6-0198-4277-892f-9275bf728bcc";
const USER_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-4711";
const ORPHAN_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-9999";

fn service_principal() -> Recipient {
    Recipient {
        external_directory_object_id: Some(APP_OBJECT_ID.into()),
        guid: "0f4c7a51-1a2b-4c3d-8e9f-001122334455".into(),
        name: APP_OBJECT_ID.into(),
        display_name: "Ticket system (IMAP)".into(),
        recipient_type_details: "ServicePrincipal".into(),
        app_id: Some(APP_ID.into()),
        ..Recipient::default()
    }
}

fn user_without_mail() -> Recipient {
    Recipient {
        external_directory_object_id: Some("5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9".into()),
        guid: "5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9".into(),
        name: "5b2a4c1e-9d8f-4e7a-b6c5-d4e3f2a1b0c9".into(),
        display_name: "Scanner Account".into(),
        user_principal_name: Some("scanner@contoso.onmicrosoft.com".into()),
        sid: Some(USER_SID.into()),
        recipient_type_details: "User".into(),
        ..Recipient::default()
    }
}

fn group_without_mail() -> Recipient {
    Recipient {
        external_directory_object_id: Some("8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968".into()),
        guid: "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968".into(),
        name: "Support Staff".into(),
        display_name: "Support Staff".into(),
        recipient_type_details: "UniversalSecurityGroup".into(),
        ..Recipient::default()
    }
}

/// The demo tenant with a service principal, a user and a group without mail, and
/// FullAccess rows naming them (the service principal by object id, the user by SID) plus
/// one orphaned SID.
fn tenant() -> TenantFile {
    let mut file = TenantFile::parse(DEMO, Path::new("tenant.yaml")).unwrap();
    file.recipients.extend([
        service_principal(),
        user_without_mail(),
        group_without_mail(),
    ]);
    let support = file
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@contoso.com")
        .unwrap();
    for user in [APP_OBJECT_ID, USER_SID, "Support Staff", ORPHAN_SID] {
        support.mailbox_permissions.push(MailboxPermission {
            user: user.into(),
            access_rights: vec!["FullAccess".into()],
            ..MailboxPermission::default()
        });
    }
    file
}

fn start(config: SimConfig) -> SimHandle {
    SimServer::start(tenant(), config).unwrap()
}

fn client(sim: &SimHandle, token: &str) -> ExoTenant {
    let options = ClientOptions {
        backoff: Duration::from_millis(5),
        max_wait: Duration::from_millis(50),
        max_attempts: 8,
        ..ClientOptions::default()
    };
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(token));
    ExoTenant::new(&sim.base_url(), "contoso.onmicrosoft.com", tokens, options).unwrap()
}

fn support() -> ReadScope {
    ReadScope::of(vec!["support@contoso.com".into()])
}

#[tokio::test]
async fn service_principals_and_objects_without_mail_resolve_and_only_a_true_orphan_is_orphaned() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, "test-token");
    let snapshot = exo.read(&support()).await.unwrap();
    let directory = &snapshot.directory;
    assert!(directory.is_complete());
    let counters = sim.counters();
    for cmdlet in ["Get-ServicePrincipal", "Get-User", "Get-Group"] {
        assert_eq!(
            counters.cmdlets.get(cmdlet),
            Some(&1),
            "{cmdlet}: {counters:?}"
        );
    }

    // A policy names the service principal by app id or object id.
    let sp = directory.resolve_policy(&format!("app:{APP_ID}")).unwrap();
    assert!(sp.is_service_principal());
    assert_eq!(sp.display_name, "Ticket system (IMAP)");
    assert_eq!(
        directory.resolve_policy(APP_OBJECT_ID).map(|r| &r.guid),
        Some(&sp.guid)
    );
    assert_eq!(sp.identity(), APP_OBJECT_ID);
    // Get-Recipient does not list objects without mail; Get-User and Get-Group do.
    let scanner = directory
        .resolve_policy("scanner@contoso.onmicrosoft.com")
        .unwrap();
    assert!(!scanner.is_mail_enabled());
    assert!(
        directory
            .resolve_policy("8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968")
            .unwrap()
            .is_non_mail_security_group()
    );

    // Every row of the mailbox resolves: the service principal by object id, the user by
    // SID, the group by name; only the SID nobody has is orphaned.
    let mailbox = snapshot.mailbox("support@contoso.com").unwrap();
    let resolved = |user: &str| {
        let row = mailbox
            .mailbox_permissions
            .iter()
            .find(|p| p.user == user)
            .unwrap_or_else(|| panic!("{user} not read back"));
        directory.resolve_live(&row.user)
    };
    assert!(
        matches!(resolved(APP_OBJECT_ID), LivePrincipal::Recipient(r) if r.app_id.as_deref() == Some(APP_ID))
    );
    assert!(
        matches!(resolved(USER_SID), LivePrincipal::Recipient(r) if r.display_name == "Scanner Account")
    );
    assert!(matches!(resolved("Support Staff"), LivePrincipal::Recipient(r) if r.is_group()));
    assert_eq!(resolved(ORPHAN_SID), LivePrincipal::Orphaned);
    // Exchange's own spellings of a service principal resolve too.
    for spelling in [
        APP_ID,
        "Ticket system (IMAP)",
        "0f4c7a51-1a2b-4c3d-8e9f-001122334455",
    ] {
        assert!(
            matches!(directory.resolve_live(spelling), LivePrincipal::Recipient(r) if r.is_service_principal()),
            "{spelling}"
        );
    }
}

#[tokio::test]
async fn a_role_without_the_principal_reads_leaves_unknown_sids_unresolved_not_orphaned() {
    let role = Role::parse(
        "limited=Get-Mailbox, Get-CASMailbox, Get-Recipient, Get-RecipientPermission, \
         Get-MailboxPermission, Get-MailboxFolderStatistics, Get-MailboxFolderPermission, \
         Get-OrganizationConfig",
    )
    .unwrap();
    let sim = start(SimConfig {
        roles: vec![role],
        ..SimConfig::default()
    });
    let exo = client(&sim, "limited-token");
    let snapshot = exo.read(&support()).await.unwrap();
    assert!(!snapshot.directory.is_complete());
    assert_eq!(
        snapshot.directory.resolve_live(ORPHAN_SID),
        LivePrincipal::Unresolved
    );
    assert_eq!(
        snapshot.directory.resolve_live(APP_OBJECT_ID),
        LivePrincipal::Unresolved
    );
}

#[tokio::test]
async fn a_service_principal_is_granted_full_access_and_send_as_but_cannot_moderate() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, "test-token");
    let sp = service_principal().principal();
    for operation in [
        Operation::GrantFullAccess {
            mailbox: "sales@contoso.com".into(),
            principal: sp.clone(),
            auto_mapping: false,
        },
        Operation::GrantSendAs {
            mailbox: "sales@contoso.com".into(),
            principal: sp.clone(),
        },
    ] {
        exo.execute(&operation)
            .await
            .unwrap_or_else(|e| panic!("{operation:?}: {e}"));
    }
    let scope = ReadScope::of(vec!["sales@contoso.com".into()]);
    let snapshot = exo.read(&scope).await.unwrap();
    let sales = snapshot.mailbox("sales@contoso.com").unwrap();
    let is_sp = |raw: &str| matches!(snapshot.directory.resolve_live(raw), LivePrincipal::Recipient(r) if r.app_id.as_deref() == Some(APP_ID));
    assert!(sales.mailbox_permissions.iter().any(|p| is_sp(&p.user)));
    assert!(
        sales
            .recipient_permissions
            .iter()
            .any(|p| is_sp(&p.trustee))
    );

    // ModeratedBy takes mailboxes, mail users and mail contacts only (Set-Mailbox doc).
    for who in [sp, user_without_mail().principal()] {
        let refused = exo
            .execute(&Operation::AddToList {
                mailbox: "sales@contoso.com".into(),
                list: PrincipalList::Moderators,
                principal: who.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            refused.kind(),
            TenantErrorKind::Invalid,
            "{who:?}: {refused:?}"
        );
        assert!(
            format!("{refused:?}").contains("ModeratedBy"),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn the_bulk_read_of_a_large_scope_resolves_the_same_principals() {
    let sim = start(SimConfig::default());
    let exo = client(&sim, "test-token");
    let mut scope = support();
    scope
        .mailboxes
        .extend((0..45).map(|i| format!("absent-{i}@contoso.com")));
    let snapshot = exo.read(&scope).await.unwrap();
    assert_eq!(
        sim.counters().cmdlets.get("Get-CASMailbox"),
        Some(&1),
        "read in bulk"
    );
    assert!(snapshot.directory.is_complete());
    assert!(matches!(
        snapshot.directory.resolve_live(USER_SID),
        LivePrincipal::Recipient(r) if r.display_name == "Scanner Account"
    ));
    assert!(
        snapshot
            .directory
            .resolve_policy(&format!("app:{APP_ID}"))
            .is_some()
    );
    assert_eq!(
        snapshot.directory.resolve_live(ORPHAN_SID),
        LivePrincipal::Orphaned
    );
    let support = snapshot.mailbox("support@contoso.com").unwrap();
    assert!(
        support
            .mailbox_permissions
            .iter()
            .any(|p| p.user == APP_OBJECT_ID)
    );
}
