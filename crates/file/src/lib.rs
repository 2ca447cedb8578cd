//! The file backend: a tenant snapshot in one YAML file that reads and writes like Exchange.
//!
//! It is the embedded default (the demo runs on it) and the reference behaviour for tests.
//! Every write re-reads the file, applies one [`Operation`] the way Exchange would, and
//! replaces the file atomically (temporary file, fsync, rename, fsync of the directory), so a
//! crash never leaves a half-written tenant and a change made by someone else between two
//! steps is seen. The file IO runs on tokio's blocking pool, never on an async worker.
//!
//! Principals are stored the way Exchange returns them: UPNs (or group Names) in permission
//! rows, Names in `GrantSendOnBehalfTo`/`ModeratedBy`, display names in folder permissions.
//!
//! This crate owns three things, split out of the vocabulary crate `sharedbox-tenant`:
//! - [`format`](mod@format): the file's format ([`TenantFile`]) with the simulation knobs
//!   ([`Simulation`]), and how one [`Operation`] changes it the way Exchange would
//!   ([`TenantFile::apply`]);
//! - [`backend`]: the [`sharedbox_tenant::Tenant`] over the file ([`FileTenant`]): IO,
//!   atomic saves, the simulated faults;
//! - [`FileError`]: why the file could not be read or written, mapped onto
//!   [`sharedbox_tenant::TenantErrorKind`].
//!
//! The format stays with the backend rather than in `sharedbox-tenant`: it carries the
//! simulation knobs (`failOnWrite`, lag), which only this backend reads, and `apply` is
//! the reference behaviour that the simulator (`sharedbox-exo-sim`) reuses as its tenant
//! model, so the simulator depends on this crate and the vocabulary crate keeps only the
//! types every backend shares.
//!
//! [`Operation`]: sharedbox_tenant::Operation

pub mod backend;
pub mod format;

pub use backend::{Access, FileError, FileTenant, write_atomically};
pub use format::{FailKind, Simulation, TenantFile};

#[cfg(test)]
mod tests {
    use super::*;
    use sharedbox_tenant::{
        Operation, OrganizationProperty, Principal, PrincipalId, PrincipalList, Property, Tenant,
        TenantError,
    };
    use std::path::Path;

    const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

    fn fixture() -> TenantFile {
        TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap()
    }

    fn principal(file: &TenantFile, address: &str) -> Principal {
        let recipient = file.directory().resolve_policy(address).cloned().unwrap();
        Principal::Recipient {
            id: PrincipalId::of(&recipient),
            address: address.to_owned(),
            app_id: None,
        }
    }

    #[test]
    fn creating_an_existing_mailbox_fails_and_a_new_one_gets_exchange_defaults() {
        let mut file = fixture();
        let err = file
            .apply(&Operation::CreateMailbox {
                mailbox: "support@fabrikam.com".into(),
                display_name: "x".into(),
            })
            .unwrap_err();
        assert!(matches!(err, TenantError::MailboxExists(_)));
        let err = file
            .apply(&Operation::CreateMailbox {
                mailbox: "anna.berg@fabrikam.com".into(),
                display_name: "x".into(),
            })
            .unwrap_err();
        assert!(
            matches!(err, TenantError::MailboxExists(_)),
            "a user's proxy address is taken too"
        );
        file.apply(&Operation::CreateMailbox {
            mailbox: "neu@fabrikam.com".into(),
            display_name: "Neu".into(),
        })
        .unwrap();
        let created = file.mailboxes.last().unwrap();
        assert_eq!(created.primary_smtp_address, "neu@fabrikam.com");
        assert_eq!(
            created.name,
            created.external_directory_object_id.clone().unwrap(),
            "new objects are named by their object id"
        );
        assert_eq!(created.mailbox_permissions[0].user, "NT AUTHORITY\\SELF");
        assert_eq!(created.sent_items.name, "Sent Items");
        assert!(!created.message_copy_for_sent_as_enabled);
        assert_eq!(created.cas_mailbox.imap_enabled, Some(true));
    }

    #[test]
    fn grants_are_idempotent_and_stored_in_exchange_form() {
        let mut file = fixture();
        let clara = principal(&file, "clara@fabrikam.com");
        let grant = Operation::GrantSendAs {
            mailbox: "support@fabrikam.com".into(),
            principal: clara.clone(),
        };
        file.apply(&grant).unwrap();
        file.apply(&grant).unwrap();
        let rows: Vec<_> = file.mailboxes[0]
            .recipient_permissions
            .iter()
            .filter(|r| r.trustee == "clara@fabrikam.com")
            .collect();
        assert_eq!(rows.len(), 1, "granting twice leaves one row");
        let revoke = Operation::RevokeSendAs {
            mailbox: "support@fabrikam.com".into(),
            principal: clara.clone(),
        };
        file.apply(&revoke).unwrap();
        file.apply(&revoke).unwrap();
        assert!(
            !file.mailboxes[0]
                .recipient_permissions
                .iter()
                .any(|r| r.trustee == "clara@fabrikam.com")
        );

        let add = Operation::AddToList {
            mailbox: "support@fabrikam.com".into(),
            list: PrincipalList::SendOnBehalf,
            principal: clara,
        };
        file.apply(&add).unwrap();
        file.apply(&add).unwrap();
        assert_eq!(
            file.mailboxes[0].grant_send_on_behalf_to,
            ["bkrause", "0a1b2c3d-0000-4000-8000-000000000003"],
            "Names, once"
        );
    }

    #[test]
    fn exchange_refusals_are_reproduced() {
        let mut file = fixture();
        let all_staff = principal(&file, "all-staff@fabrikam.com");
        let err = file
            .apply(&Operation::GrantFullAccess {
                mailbox: "support@fabrikam.com".into(),
                principal: all_staff,
                auto_mapping: true,
            })
            .unwrap_err();
        assert!(
            matches!(err, TenantError::Rejected { .. }),
            "a distribution group cannot hold Full Access"
        );
        let err = file
            .apply(&Operation::set(
                "support@fabrikam.com",
                Property::ModerationEnabled,
                true,
            ))
            .unwrap_err();
        assert!(
            err.to_string().contains("needs at least one moderator"),
            "{err}"
        );
        let err = file
            .apply(&Operation::set(
                "nobody@fabrikam.com",
                Property::CopyForSendAs,
                true,
            ))
            .unwrap_err();
        assert!(matches!(err, TenantError::MailboxNotFound(_)));
        let ghost = Principal::Recipient {
            id: PrincipalId("00000000-0000-0000-0000-000000000000".into()),
            address: "ghost@fabrikam.com".into(),
            app_id: None,
        };
        let err = file
            .apply(&Operation::GrantSendAs {
                mailbox: "support@fabrikam.com".into(),
                principal: ghost,
            })
            .unwrap_err();
        assert!(matches!(err, TenantError::PrincipalNotFound(_)));
        let clara = principal(&file, "clara@fabrikam.com");
        let err = file
            .apply(&Operation::AddSentItemsPermission {
                mailbox: "support@fabrikam.com".into(),
                principal: clara,
                access: "Editor".into(),
            })
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("an existing permission entry was found"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn writes_are_atomic_and_see_changes_made_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.yaml");
        std::fs::write(&path, FIXTURE).unwrap();
        let tenant = FileTenant::open(&path).unwrap();
        tenant
            .execute(&Operation::set(
                "support@fabrikam.com",
                Property::CopyForSendAs,
                true,
            ))
            .await
            .unwrap();
        // Someone edits the file between two steps; the next write keeps their change.
        let mut edited = tenant.load().unwrap();
        edited.mailboxes[1].hidden_from_address_lists_enabled = true;
        tenant.save(&edited).unwrap();
        tenant
            .execute(&Operation::set_organization(
                OrganizationProperty::SendFromAliasEnabled,
                true,
            ))
            .await
            .unwrap();
        let file = tenant.load().unwrap();
        assert!(file.mailboxes[0].message_copy_for_sent_as_enabled);
        assert!(file.mailboxes[1].hidden_from_address_lists_enabled);
        assert!(file.organization.send_from_alias_enabled);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files are left behind");
        // A failed write leaves the file as it was.
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(
            tenant
                .execute(&Operation::RemoveMailbox {
                    mailbox: "nobody@fabrikam.com".into()
                })
                .await
                .is_err()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn an_invalid_tenant_file_names_the_problem() {
        let err = TenantFile::parse(
            "organization:\n  name: x\nmailboxes:\n  - guid: 1\n    nmae: y\n",
            Path::new("t.yaml"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("t.yaml") && text.contains("nmae"), "{text}");
    }

    #[tokio::test]
    async fn file_errors_map_onto_kinds_and_keep_their_source() {
        use miette::Diagnostic;
        use sharedbox_tenant::TenantErrorKind;

        let dir = tempfile::tempdir().unwrap();
        let missing = FileTenant::open(dir.path().join("nope.yaml")).unwrap_err();
        assert_eq!(missing.kind(), TenantErrorKind::NotFound);
        assert!(!missing.is_retryable());
        assert!(matches!(
            missing
                .backend_error()
                .and_then(|e| e.downcast_ref::<FileError>()),
            Some(FileError::Io { .. })
        ));
        assert!(
            missing
                .to_string()
                .starts_with("cannot access tenant file `"),
            "{missing}"
        );

        let invalid = TenantFile::parse("organization: [", Path::new("t.yaml")).unwrap_err();
        assert_eq!(invalid.kind(), TenantErrorKind::Invalid);
        assert!(
            invalid
                .help()
                .unwrap()
                .to_string()
                .contains("restore it from git")
        );

        // A simulated transient failure is retryable; the default one is a permanent refusal
        // with the message the backend always gave.
        let path = dir.path().join("tenant.yaml");
        let mut file = fixture();
        file.simulation = Some(Simulation {
            fail_on_write: Some(1),
            fail_kind: Some(FailKind::Transient),
            ..Simulation::default()
        });
        std::fs::write(&path, FIXTURE).unwrap();
        let tenant = FileTenant::open_async(&path).await.unwrap();
        tenant.save(&file).unwrap();
        let write = Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, true);
        let error = tenant.execute(&write).await.unwrap_err();
        assert_eq!(error.kind(), TenantErrorKind::Transient);
        assert!(error.is_retryable());
        file.simulation = Some(Simulation {
            fail_on_write: Some(1),
            ..Simulation::default()
        });
        tenant.save(&file).unwrap();
        let error = tenant.execute(&write).await.unwrap_err();
        assert!(!error.is_retryable());
        assert!(matches!(error, TenantError::Rejected { .. }));
        assert_eq!(
            error.to_string(),
            "simulated failure of write 1 (`simulation.failOnWrite` in the tenant file)"
        );
    }
}
