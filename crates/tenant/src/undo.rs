//! The write that undoes an operation, derived from the operation and the before-image of
//! what it touches ([`crate::observe()`]).
//!
//! This is the one source of truth for undo: rollback writes what [`undo`] derives from a
//! journal's `operation` and observed `before`, and a plan's or a journal's recorded inverse
//! is only checked against it ([`agrees`]). The one thing a before-image cannot hold is the
//! `autoMapping` of a FullAccess grant: Exchange never reports it, so [`undo`] re-grants with
//! `false` ([`UNKNOWN_AUTO_MAPPING_RESTORED`]), never Exchange's silent default `true`, and a
//! recorded inverse (the value sharedbox itself granted, or the backend reported) supplies it
//! ([`with_recorded`]). It decides whether Outlook opens the mailbox by itself, never who has
//! access.

use crate::catalog::{Definition, Value};
use crate::observe::{FolderEntry, Observation};
use crate::operation::{Operation, Principal};

/// Why an operation has no write that undoes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoUndo {
    /// `Remove-Mailbox` is not undone.
    #[error(
        "a deleted mailbox is not recreated; Exchange keeps it soft-deleted for 30 days (`Undo-SoftDeletedMailbox`)"
    )]
    MailboxDeleted,
    /// `Remove-ServicePrincipal` is not undone: sharedbox removes only registrations its own
    /// run created, as the undo of that creation.
    #[error("a removed service principal registration is not recreated by rollback")]
    ServicePrincipalRemoved,
    /// The principal that lost a grant is orphaned: it cannot be granted anything.
    #[error("the revoked principal was orphaned (it no longer exists) and cannot be granted again")]
    Orphaned,
    /// The value before is not one that can be written back (a client switch Exchange did
    /// not report).
    #[error("the value before the change was not reported by Exchange")]
    NotReported,
    /// The mailbox did not exist when the before-image was taken: there is no value to put
    /// back.
    #[error("the mailbox did not exist before the change: there is no value to put back")]
    MailboxMissing,
    /// The principal's root folder entry held another role than the `FolderVisible`
    /// sharedbox grants: rollback grants back only that.
    #[error(
        "the mailbox root entry held `{role}`, not the `FolderVisible` sharedbox grants: rollback does not put other root rights back"
    )]
    RootRole {
        /// The role before, printable.
        role: String,
    },
    /// The before-image is not a value of what the operation touches (a damaged or forged
    /// journal): nothing can be derived from it.
    #[error("the value before the change (`{before}`) is not a value `{cmdlet}` writes")]
    Invalid {
        /// The before-image, printable.
        before: String,
        /// The operation's cmdlet.
        cmdlet: &'static str,
    },
}

/// The write that puts what `operation` touches back to `before`, its observed value before
/// the operation ran.
///
/// - `Ok(Some(write))`: the undo, on the same property or grant as `operation` (the same
///   [`crate::target`]).
/// - `Ok(None)`: `before` is already what `operation` writes; there is nothing to undo.
/// - `Err(reason)`: the change cannot be undone, or `before` is not a value of what the
///   operation touches.
///
/// Per operation: a catalogued setting is set to the before value (when
/// [`Definition::inverse`] says it can be written back); a grant or list entry that was not
/// there is revoked, one that was is granted again (not to an orphaned principal; a FullAccess
/// grant with `autoMapping: false`, see the module documentation); a folder role (Sent Items,
/// or any `folders` entry with its delegate flags) is set or added back to the role and flags
/// before, or removed when there was none; a created mailbox is
/// removed (the caller checks that it holds no grants first, [`crate::holds_no_grants`]); a
/// removed mailbox is not recreated.
///
/// # Errors
/// [`NoUndo`].
pub fn undo(operation: &Operation, before: &Observation) -> Result<Option<Operation>, NoUndo> {
    let invalid = || NoUndo::Invalid {
        before: crate::printable(&before.to_string(), 80),
        cmdlet: operation.cmdlet(),
    };
    if *before == Observation::MailboxMissing && operation.mailbox().is_some() {
        return match operation {
            // A create or remove observes `Exists`; `MailboxMissing` is not its value.
            Operation::CreateMailbox { .. } | Operation::RemoveMailbox { .. } => Err(invalid()),
            _ => Err(NoUndo::MailboxMissing),
        };
    }
    match operation {
        Operation::CreateMailbox { mailbox, .. } => match before {
            // Soft-deleted, never purged: mail may have reached the new mailbox since the run
            // (its item count is not read), and Exchange keeps a soft-deleted mailbox
            // recoverable for 30 days. Its addresses stay taken meanwhile; the next plan says
            // so at the policy's `mailbox:` line, with how to restore or purge it.
            Observation::Exists(false) => Ok(Some(Operation::RemoveMailbox {
                mailbox: mailbox.clone(),
            })),
            Observation::Exists(true) => Ok(None),
            _ => Err(invalid()),
        },
        Operation::RemoveMailbox { .. } => match before {
            Observation::Exists(true) => Err(NoUndo::MailboxDeleted),
            Observation::Exists(false) => Ok(None),
            _ => Err(invalid()),
        },
        Operation::CreateServicePrincipal {
            app_id, object_id, ..
        } => match before {
            Observation::Exists(false) => Ok(Some(Operation::RemoveServicePrincipal {
                app_id: app_id.clone(),
                object_id: object_id.clone(),
            })),
            Observation::Exists(true) => Ok(None),
            _ => Err(invalid()),
        },
        Operation::RemoveServicePrincipal { .. } => match before {
            Observation::Exists(true) => Err(NoUndo::ServicePrincipalRemoved),
            Observation::Exists(false) => Ok(None),
            _ => Err(invalid()),
        },
        Operation::SetMailbox { mailbox, setting } => {
            let value =
                set_back(setting.definition(), &setting.value, before).ok_or_else(invalid)??;
            Ok(value.map(|value| Operation::set(mailbox.clone(), setting.property, value)))
        }
        Operation::SetOrganization { setting } => {
            let value = set_back(setting.property.definition(), &setting.value, before)
                .ok_or_else(invalid)??;
            Ok(value.map(|value| Operation::set_organization(setting.property, value)))
        }
        Operation::AddToList {
            mailbox,
            list,
            principal,
        } => match before {
            Observation::Member(true) => Ok(None),
            Observation::Member(false) => Ok(Some(Operation::RemoveFromList {
                mailbox: mailbox.clone(),
                list: *list,
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RemoveFromList {
            mailbox,
            list,
            principal,
        } => match before {
            Observation::Member(false) => Ok(None),
            Observation::Member(true) => regrant(principal).map(|principal| {
                Some(Operation::AddToList {
                    mailbox: mailbox.clone(),
                    list: *list,
                    principal,
                })
            }),
            _ => Err(invalid()),
        },
        Operation::AddAlias { mailbox, address } => match before {
            Observation::Member(true) => Ok(None),
            Observation::Member(false) => Ok(Some(Operation::RemoveAlias {
                mailbox: mailbox.clone(),
                address: address.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RemoveAlias { mailbox, address } => match before {
            Observation::Member(false) => Ok(None),
            Observation::Member(true) => Ok(Some(Operation::AddAlias {
                mailbox: mailbox.clone(),
                address: address.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::GrantSendAs { mailbox, principal } => match before {
            Observation::Member(true) => Ok(None),
            Observation::Member(false) => Ok(Some(Operation::RevokeSendAs {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RevokeSendAs { mailbox, principal } => match before {
            Observation::Member(false) => Ok(None),
            Observation::Member(true) => regrant(principal).map(|principal| {
                Some(Operation::GrantSendAs {
                    mailbox: mailbox.clone(),
                    principal,
                })
            }),
            _ => Err(invalid()),
        },
        Operation::GrantFullAccess {
            mailbox, principal, ..
        } => match before {
            Observation::Member(true) => Ok(None),
            Observation::Member(false) => Ok(Some(Operation::RevokeFullAccess {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RevokeFullAccess { mailbox, principal } => match before {
            Observation::Member(false) => Ok(None),
            Observation::Member(true) => regrant(principal).map(|principal| {
                Some(Operation::GrantFullAccess {
                    mailbox: mailbox.clone(),
                    principal,
                    auto_mapping: UNKNOWN_AUTO_MAPPING_RESTORED,
                })
            }),
            _ => Err(invalid()),
        },
        Operation::AddSentItemsPermission {
            mailbox,
            principal,
            access,
        }
        | Operation::SetSentItemsPermission {
            mailbox,
            principal,
            access,
        } => match before {
            Observation::FolderAccess(Some(role)) if role.eq_ignore_ascii_case(access) => Ok(None),
            // The row is there after the write: its role is set back (also after an add over
            // a role the principal held already, a plan from a stale snapshot).
            Observation::FolderAccess(Some(role)) => Ok(Some(Operation::SetSentItemsPermission {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
                access: role.clone(),
            })),
            Observation::FolderAccess(None) => Ok(Some(Operation::RemoveSentItemsPermission {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RemoveSentItemsPermission { mailbox, principal } => match before {
            Observation::FolderAccess(None) => Ok(None),
            Observation::FolderAccess(Some(role)) => regrant(principal).map(|principal| {
                Some(Operation::AddSentItemsPermission {
                    mailbox: mailbox.clone(),
                    principal,
                    access: role.clone(),
                })
            }),
            _ => Err(invalid()),
        },
        Operation::AddFolderPermission {
            mailbox,
            folder,
            principal,
            access,
            flags,
        }
        | Operation::SetFolderPermission {
            mailbox,
            folder,
            principal,
            access,
            flags,
        } => match before {
            Observation::FolderEntry(Some(entry))
                if entry.same(&FolderEntry {
                    access: access.clone(),
                    flags: flags.clone(),
                }) =>
            {
                Ok(None)
            }
            // The entry is there after the write: its role and flags are set back.
            Observation::FolderEntry(Some(entry)) => Ok(Some(Operation::SetFolderPermission {
                mailbox: mailbox.clone(),
                folder: *folder,
                principal: principal.clone(),
                access: entry.access.clone(),
                flags: crate::canonical_flags(&entry.flags),
            })),
            Observation::FolderEntry(None) => Ok(Some(Operation::RemoveFolderPermission {
                mailbox: mailbox.clone(),
                folder: *folder,
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RemoveFolderPermission {
            mailbox,
            folder,
            principal,
        } => match before {
            Observation::FolderEntry(None) => Ok(None),
            Observation::FolderEntry(Some(entry)) => regrant(principal).map(|principal| {
                Some(Operation::AddFolderPermission {
                    mailbox: mailbox.clone(),
                    folder: *folder,
                    principal,
                    access: entry.access.clone(),
                    flags: crate::canonical_flags(&entry.flags),
                })
            }),
            _ => Err(invalid()),
        },
        // The grant leaves an existing root entry as it is: only a grant where there was no
        // entry is undone.
        Operation::GrantRootVisibility { mailbox, principal } => match before {
            Observation::FolderAccess(Some(_)) => Ok(None),
            Observation::FolderAccess(None) => Ok(Some(Operation::RevokeRootVisibility {
                mailbox: mailbox.clone(),
                principal: principal.clone(),
            })),
            _ => Err(invalid()),
        },
        Operation::RevokeRootVisibility { mailbox, principal } => match before {
            Observation::FolderAccess(None) => Ok(None),
            Observation::FolderAccess(Some(role))
                if role.eq_ignore_ascii_case(crate::model::FOLDER_VISIBLE) =>
            {
                regrant(principal).map(|principal| {
                    Some(Operation::GrantRootVisibility {
                        mailbox: mailbox.clone(),
                        principal,
                    })
                })
            }
            Observation::FolderAccess(Some(role)) => Err(NoUndo::RootRole {
                role: crate::printable(role, 80),
            }),
            _ => Err(invalid()),
        },
    }
}

/// The `autoMapping` of a FullAccess grant that [`undo`] puts back when no record says what
/// it was (and the planner's inverse of a revoked grant whose value is not known): `false`.
/// Exchange's default for `Add-MailboxPermission` is `true`, but a rollback that silently maps
/// a mailbox into someone's Outlook is a change nobody reviewed; without the mapping the
/// person keeps the access and can add the mailbox by hand.
pub const UNKNOWN_AUTO_MAPPING_RESTORED: bool = false;

/// The principal to grant again: not an orphaned one.
fn regrant(principal: &Principal) -> Result<Principal, NoUndo> {
    match principal {
        Principal::Recipient { .. } | Principal::Unresolved { .. } => Ok(principal.clone()),
        Principal::Orphaned { .. } => Err(NoUndo::Orphaned),
    }
}

/// The value that sets a catalogued property back to `before`: `None` when `before` is not
/// a value of the property at all, `Some(Ok(None))` when it is the value written already.
fn set_back<T>(
    definition: &Definition<T>,
    written: &Value,
    before: &Observation,
) -> Option<Result<Option<Value>, NoUndo>> {
    let before = match before {
        Observation::Switch(b) => Value::from(*b),
        Observation::Text(t) => Value::Text(t.clone()),
        _ => return None,
    };
    if definition.same(&before, written) {
        return Some(Ok(None));
    }
    let Some(value) = definition.inverse(&before) else {
        return Some(Err(NoUndo::NotReported));
    };
    // A value the property cannot take (text for a switch, a word that is not a choice) is
    // not a before-image of it.
    definition.check(&value).ok()?;
    Some(Ok(Some(value)))
}

/// Whether a recorded inverse (a plan's, a journal's) says the same as the derived undo:
/// the same write, or both none. The `autoMapping` of a FullAccess re-grant is not compared:
/// no before-image holds it (see the module documentation).
pub fn agrees(derived: Option<&Operation>, recorded: Option<&Operation>) -> bool {
    match (derived, recorded) {
        (
            Some(Operation::GrantFullAccess {
                mailbox: m1,
                principal: p1,
                ..
            }),
            Some(Operation::GrantFullAccess {
                mailbox: m2,
                principal: p2,
                ..
            }),
        ) => m1 == m2 && p1 == p2,
        (a, b) => a == b,
    }
}

/// The derived undo `write` with what only a record can know: the `autoMapping` of a
/// FullAccess re-grant, from `recorded` when it is the same re-grant ([`agrees`]). Anything
/// else is `write` as it is.
pub fn with_recorded(write: Operation, recorded: Option<&Operation>) -> Operation {
    match (write, recorded) {
        (
            Operation::GrantFullAccess {
                mailbox, principal, ..
            },
            Some(Operation::GrantFullAccess {
                mailbox: m2,
                principal: p2,
                auto_mapping,
            }),
        ) if mailbox == *m2 && principal == *p2 => Operation::GrantFullAccess {
            mailbox,
            principal,
            auto_mapping: *auto_mapping,
        },
        (write, _) => write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{OrganizationProperty, Property};
    use crate::directory::PrincipalId;
    use crate::observe::{expected, target};
    use crate::operation::PrincipalList;

    const MAILBOX: &str = "support@contoso.com";

    fn anna() -> Principal {
        Principal::Recipient {
            id: PrincipalId("1111".into()),
            address: "anna@contoso.com".into(),
            app_id: None,
        }
    }

    fn orphan() -> Principal {
        Principal::Orphaned {
            raw: "S-1-5-21-1-2-3-1107".into(),
        }
    }

    /// `undo` of `operation` from `before`, checked to touch what `operation` touches and to
    /// write `before` back.
    fn undone(operation: &Operation, before: Observation) -> Result<Option<Operation>, NoUndo> {
        let result = undo(operation, &before);
        if let Ok(Some(write)) = &result {
            assert_eq!(target(write), target(operation), "{operation:?}");
            assert!(
                expected(write).matches(&before),
                "{write:?} writes {before}"
            );
        }
        result
    }

    #[test]
    fn a_setting_is_set_back_to_its_value_before() {
        let copy = |v: bool| Operation::set(MAILBOX, Property::CopyForSendAs, v);
        assert_eq!(
            undone(&copy(true), Observation::Switch(Some(false))),
            Ok(Some(copy(false)))
        );
        assert_eq!(
            undone(&copy(true), Observation::Switch(Some(true))),
            Ok(None),
            "already so: nothing to undo"
        );
        let name = |v: &str| Operation::set(MAILBOX, Property::DisplayName, v);
        assert_eq!(
            undone(&name("Support"), Observation::Text("support".into())),
            Ok(Some(name("support"))),
            "free text compares exactly"
        );
        let notify = |v: &str| Operation::set(MAILBOX, Property::ModerationNotifications, v);
        assert_eq!(
            undone(&notify("Never"), Observation::Text("never".into())),
            Ok(None),
            "choices compare without case"
        );
        assert_eq!(
            undone(&notify("Never"), Observation::Text("Internal".into())),
            Ok(Some(notify("Internal")))
        );
        let smtp =
            |v: Value| Operation::set(MAILBOX, Property::SmtpClientAuthenticationDisabled, v);
        assert_eq!(
            undone(&smtp(Value::Flag(true)), Observation::Switch(None)),
            Ok(Some(smtp(Value::Unset))),
            "inherit is a value SMTP AUTH takes"
        );
        let org =
            |v: bool| Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, v);
        assert_eq!(
            undone(&org(true), Observation::Switch(Some(false))),
            Ok(Some(org(false)))
        );
    }

    #[test]
    fn an_unreported_switch_and_a_missing_mailbox_have_no_value_to_put_back() {
        let owa = Operation::set(MAILBOX, Property::Owa, false);
        assert_eq!(
            undone(&owa, Observation::Switch(None)),
            Err(NoUndo::NotReported)
        );
        assert_eq!(
            undone(&owa, Observation::MailboxMissing),
            Err(NoUndo::MailboxMissing)
        );
    }

    #[test]
    fn a_before_image_of_the_wrong_kind_is_refused() {
        let copy = Operation::set(MAILBOX, Property::CopyForSendAs, true);
        let notify = Operation::set(MAILBOX, Property::ModerationNotifications, "Never");
        let grant = Operation::GrantSendAs {
            mailbox: MAILBOX.into(),
            principal: anna(),
        };
        let create = Operation::CreateMailbox {
            mailbox: MAILBOX.into(),
            display_name: "Support".into(),
        };
        let org = Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, true);
        for (operation, before) in [
            (&copy, Observation::Member(false)),
            (&copy, Observation::Text("yes".into())),
            (&copy, Observation::Switch(None)),
            (&notify, Observation::Text("sometimes".into())),
            (&grant, Observation::Switch(Some(true))),
            (&grant, Observation::FolderAccess(None)),
            (&create, Observation::Member(false)),
            (&create, Observation::MailboxMissing),
            (&org, Observation::MailboxMissing),
        ] {
            let result = undone(operation, before.clone());
            assert!(
                matches!(result, Err(NoUndo::Invalid { .. })),
                "{operation:?} from {before}: {result:?}"
            );
        }
        assert_eq!(
            undo(&copy, &Observation::Member(false))
                .unwrap_err()
                .to_string(),
            "the value before the change (`not granted`) is not a value `Set-Mailbox` writes"
        );
    }

    #[test]
    fn a_grant_is_revoked_only_when_it_was_not_there_and_a_revocation_granted_again() {
        let cases: Vec<(Operation, Operation)> = vec![
            (
                Operation::AddToList {
                    mailbox: MAILBOX.into(),
                    list: PrincipalList::SendOnBehalf,
                    principal: anna(),
                },
                Operation::RemoveFromList {
                    mailbox: MAILBOX.into(),
                    list: PrincipalList::SendOnBehalf,
                    principal: anna(),
                },
            ),
            (
                Operation::GrantSendAs {
                    mailbox: MAILBOX.into(),
                    principal: anna(),
                },
                Operation::RevokeSendAs {
                    mailbox: MAILBOX.into(),
                    principal: anna(),
                },
            ),
            (
                Operation::GrantFullAccess {
                    mailbox: MAILBOX.into(),
                    principal: anna(),
                    auto_mapping: UNKNOWN_AUTO_MAPPING_RESTORED,
                },
                Operation::RevokeFullAccess {
                    mailbox: MAILBOX.into(),
                    principal: anna(),
                },
            ),
        ];
        for (grant, revoke) in cases {
            assert_eq!(
                undone(&grant, Observation::Member(false)),
                Ok(Some(revoke.clone()))
            );
            assert_eq!(
                undone(&grant, Observation::Member(true)),
                Ok(None),
                "held before: the grant changed nothing, and nothing is revoked"
            );
            assert_eq!(
                undone(&revoke, Observation::Member(true)),
                Ok(Some(grant.clone()))
            );
            assert_eq!(undone(&revoke, Observation::Member(false)), Ok(None));
        }
    }

    #[test]
    fn an_orphaned_principal_is_not_granted_again_but_its_grant_is_revoked() {
        let revoke = Operation::RevokeFullAccess {
            mailbox: MAILBOX.into(),
            principal: orphan(),
        };
        assert_eq!(
            undone(&revoke, Observation::Member(true)),
            Err(NoUndo::Orphaned)
        );
        let remove = Operation::RemoveSentItemsPermission {
            mailbox: MAILBOX.into(),
            principal: orphan(),
        };
        assert_eq!(
            undone(&remove, Observation::FolderAccess(Some("Reviewer".into()))),
            Err(NoUndo::Orphaned)
        );
        for list in [PrincipalList::Moderators, PrincipalList::ModerationBypass] {
            let remove = Operation::RemoveFromList {
                mailbox: MAILBOX.into(),
                list,
                principal: orphan(),
            };
            assert_eq!(
                undone(&remove, Observation::Member(true)),
                Err(NoUndo::Orphaned)
            );
        }
        let send_as = Operation::RevokeSendAs {
            mailbox: MAILBOX.into(),
            principal: orphan(),
        };
        assert_eq!(
            undone(&send_as, Observation::Member(true)),
            Err(NoUndo::Orphaned)
        );
    }

    #[test]
    fn a_full_access_regrant_takes_auto_mapping_only_from_the_same_recorded_regrant() {
        let grant = |principal: Principal, auto_mapping| Operation::GrantFullAccess {
            mailbox: MAILBOX.into(),
            principal,
            auto_mapping,
        };
        let revoke = Operation::RevokeFullAccess {
            mailbox: MAILBOX.into(),
            principal: anna(),
        };
        let derived = undo(&revoke, &Observation::Member(true)).unwrap().unwrap();
        assert_eq!(
            derived,
            grant(anna(), false),
            "never Exchange's silent default `true`"
        );
        let recorded = grant(anna(), true);
        assert!(agrees(Some(&derived), Some(&recorded)));
        assert_eq!(
            with_recorded(derived.clone(), Some(&recorded)),
            grant(anna(), true),
            "the value sharedbox granted, from the journal"
        );
        let ben = Principal::Recipient {
            id: PrincipalId("2222".into()),
            address: "ben@contoso.com".into(),
            app_id: None,
        };
        let other = grant(ben, true);
        assert!(!agrees(Some(&derived), Some(&other)));
        assert_eq!(
            with_recorded(derived.clone(), Some(&other)),
            derived,
            "another grant supplies nothing"
        );
        assert_eq!(with_recorded(derived.clone(), None), derived);
        assert!(!agrees(Some(&derived), None));
        assert!(!agrees(None, Some(&derived)));
        assert!(agrees(None, None));
        let copy = |v: bool| Operation::set(MAILBOX, Property::CopyForSendAs, v);
        assert!(agrees(Some(&copy(false)), Some(&copy(false))));
        assert!(!agrees(Some(&copy(false)), Some(&copy(true))));
    }

    #[test]
    fn a_sent_items_role_is_put_back_or_removed() {
        let add = |access: &str| Operation::AddSentItemsPermission {
            mailbox: MAILBOX.into(),
            principal: anna(),
            access: access.into(),
        };
        let set = |access: &str| Operation::SetSentItemsPermission {
            mailbox: MAILBOX.into(),
            principal: anna(),
            access: access.into(),
        };
        let remove = Operation::RemoveSentItemsPermission {
            mailbox: MAILBOX.into(),
            principal: anna(),
        };
        let role = |r: &str| Observation::FolderAccess(Some(r.into()));
        let none = Observation::FolderAccess(None);
        assert_eq!(
            undone(&add("Reviewer"), none.clone()),
            Ok(Some(remove.clone()))
        );
        assert_eq!(undone(&add("Reviewer"), role("reviewer")), Ok(None));
        assert_eq!(
            undone(&add("Reviewer"), role("Editor")),
            Ok(Some(set("Editor"))),
            "an add over a role held already sets that role back"
        );
        assert_eq!(
            undone(&set("Reviewer"), role("Editor")),
            Ok(Some(set("Editor")))
        );
        assert_eq!(
            undone(&set("Reviewer"), none.clone()),
            Ok(Some(remove.clone()))
        );
        assert_eq!(undone(&remove, role("Reviewer")), Ok(Some(add("Reviewer"))));
        assert_eq!(undone(&remove, none), Ok(None));
    }

    #[test]
    fn root_visibility_is_taken_back_or_granted_again_and_other_root_rights_are_not_rewritten() {
        let grant = Operation::GrantRootVisibility {
            mailbox: MAILBOX.into(),
            principal: anna(),
        };
        let revoke = Operation::RevokeRootVisibility {
            mailbox: MAILBOX.into(),
            principal: anna(),
        };
        let role = |r: &str| Observation::FolderAccess(Some(r.into()));
        let none = Observation::FolderAccess(None);
        assert_eq!(undone(&grant, none.clone()), Ok(Some(revoke.clone())));
        assert_eq!(
            undone(&grant, role("Reviewer")),
            Ok(None),
            "a grant leaves an existing root entry as it is: nothing to undo"
        );
        assert_eq!(undone(&revoke, role("foldervisible")), Ok(Some(grant)));
        assert_eq!(undone(&revoke, none), Ok(None));
        assert!(matches!(
            undone(&revoke, role("Reviewer")),
            Err(NoUndo::RootRole { .. })
        ));
        assert!(matches!(
            undone(&revoke, Observation::RootNotRead),
            Err(NoUndo::Invalid { .. })
        ));
        let orphan = Operation::RevokeRootVisibility {
            mailbox: MAILBOX.into(),
            principal: Principal::Orphaned { raw: "S-1".into() },
        };
        assert_eq!(
            undone(&orphan, role("FolderVisible")),
            Err(NoUndo::Orphaned)
        );
    }

    #[test]
    fn a_created_mailbox_is_removed_and_a_removed_one_not_recreated() {
        let create = Operation::CreateMailbox {
            mailbox: MAILBOX.into(),
            display_name: "Support".into(),
        };
        let remove = Operation::RemoveMailbox {
            mailbox: MAILBOX.into(),
        };
        assert_eq!(
            undone(&create, Observation::Exists(false)),
            Ok(Some(remove.clone())),
            "soft-deleted, never purged: mail may have arrived"
        );
        // A journal of a development version whose inverse purged reads as the plain
        // removal (the `permanently` key is ignored): it agrees, and nothing purges.
        let purge: Operation = serde_json::from_str(&format!(
            r#"{{"op":"remove_mailbox","mailbox":"{MAILBOX}","permanently":true}}"#
        ))
        .unwrap();
        assert_eq!(purge, remove);
        assert!(agrees(Some(&remove), Some(&purge)));
        assert_eq!(
            undone(&create, Observation::Exists(true)),
            Ok(None),
            "a create of an existing mailbox fails and changes nothing"
        );
        assert_eq!(
            undone(&remove, Observation::Exists(true)),
            Err(NoUndo::MailboxDeleted)
        );
        assert_eq!(undone(&remove, Observation::Exists(false)), Ok(None));
    }

    #[test]
    fn a_registration_is_removed_only_when_the_run_made_it_and_a_removal_is_final() {
        let create = Operation::CreateServicePrincipal {
            app_id: "a".into(),
            object_id: "o".into(),
            display_name: "App".into(),
        };
        assert_eq!(
            undone(&create, Observation::Exists(false)),
            Ok(Some(Operation::RemoveServicePrincipal {
                app_id: "a".into(),
                object_id: "o".into(),
            }))
        );
        assert_eq!(undone(&create, Observation::Exists(true)), Ok(None));
        let remove = Operation::RemoveServicePrincipal {
            app_id: "a".into(),
            object_id: "o".into(),
        };
        assert_eq!(
            undo(&remove, &Observation::Exists(true)),
            Err(NoUndo::ServicePrincipalRemoved)
        );
        assert_eq!(target(&create), target(&remove));
    }

    #[test]
    fn a_revoke_of_a_principal_not_looked_up_is_undone_with_the_same_string() {
        let unresolved = Principal::Unresolved {
            raw: "S-1-5-21-1-2-3-4711".into(),
        };
        let revoke = Operation::RevokeFullAccess {
            mailbox: MAILBOX.into(),
            principal: unresolved.clone(),
        };
        assert!(matches!(
            undo(&revoke, &Observation::Member(true)),
            Ok(Some(Operation::GrantFullAccess { principal, .. })) if principal == unresolved
        ));
        let orphaned = Operation::RevokeFullAccess {
            mailbox: MAILBOX.into(),
            principal: orphan(),
        };
        assert_eq!(
            undo(&orphaned, &Observation::Member(true)),
            Err(NoUndo::Orphaned)
        );
    }
}
