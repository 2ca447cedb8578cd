//! Writes: each [`Operation`] as the one cmdlet call Exchange needs (reference §3.3), and
//! what Exchange's answers mean for it.
//!
//! - Parameters are always JSON values: an address or a principal is never spliced into
//!   a string the server parses, except the folder identity `<mailbox>:<FolderId>`, whose
//!   mailbox part is the primary SMTP address Exchange itself returned.
//! - "Already present" / "not present" answers come as warnings and are success.
//! - `Add-MailboxFolderPermission` on an existing entry becomes a `Set-`, a `Set-` on a
//!   missing one an `Add-`, and a `Remove-` of a missing entry is success.
//! - The root visibility writes address the mailbox root as `<mailbox>:\` (the identity
//!   admin scripts use for "Top of Information Store"); an `Add-` over an existing entry
//!   leaves it as it is and is success, like a `Remove-` of a missing one.
//! - `New-Mailbox` and `Remove-Mailbox` are never retried blindly: when their answer is
//!   lost, the mailbox is read again to learn whether the call took effect.

use serde_json::{Value, json};
use sharedbox_tenant::{Operation, Principal, PrincipalList};

use crate::client::{Command, Retry};

/// The cmdlet call for `operation`; `folder` is the identity (`<mailbox>:<FolderId>`) of the
/// folder a folder permission operation writes (Sent Items, or the `folders` write's folder).
pub fn command(operation: &Operation, folder: Option<&str>) -> Command {
    use Operation::*;
    match operation {
        CreateMailbox {
            mailbox,
            display_name,
        } => {
            let alias: String = mailbox
                .split('@')
                .next()
                .unwrap_or(mailbox)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            Command::write("New-Mailbox", Retry::Never)
                .param("Shared", true)
                .param("Name", display_name.as_str())
                .param("DisplayName", display_name.as_str())
                .param("Alias", alias)
                .param("PrimarySmtpAddress", mailbox.as_str())
        }
        RemoveMailbox { mailbox, .. } => Command::write("Remove-Mailbox", Retry::Never)
            .param("Identity", mailbox.as_str())
            .anchored(mailbox),
        SetMailbox { mailbox, setting } => {
            let definition = setting.definition();
            Command::write(definition.cmdlet, Retry::Safe)
                .param("Identity", mailbox.as_str())
                .param(definition.parameter, &setting.value)
                .anchored(mailbox)
        }
        AddToList {
            mailbox,
            list,
            principal,
        } => set_mailbox(mailbox).param(list_parameter(*list), hashtable("Add", principal)),
        RemoveFromList {
            mailbox,
            list,
            principal,
        } => set_mailbox(mailbox).param(list_parameter(*list), hashtable("Remove", principal)),
        AddAlias { mailbox, address } => {
            set_mailbox(mailbox).param("EmailAddresses", proxy_hashtable("Add", address))
        }
        RemoveAlias { mailbox, address } => {
            set_mailbox(mailbox).param("EmailAddresses", proxy_hashtable("Remove", address))
        }
        GrantSendAs { mailbox, principal } => {
            recipient_permission("Add-RecipientPermission", mailbox, principal)
        }
        RevokeSendAs { mailbox, principal } => {
            recipient_permission("Remove-RecipientPermission", mailbox, principal)
        }
        GrantFullAccess {
            mailbox,
            principal,
            auto_mapping,
        } => mailbox_permission("Add-MailboxPermission", mailbox, principal)
            .param("AutoMapping", *auto_mapping)
            .param("InheritanceType", "All"),
        RevokeFullAccess { mailbox, principal } => {
            mailbox_permission("Remove-MailboxPermission", mailbox, principal)
                .param("InheritanceType", "All")
        }
        AddSentItemsPermission {
            mailbox,
            principal,
            access,
        } => folder_permission("Add-MailboxFolderPermission", mailbox, folder, principal)
            .param("AccessRights", json!([access])),
        SetSentItemsPermission {
            mailbox,
            principal,
            access,
        } => folder_permission("Set-MailboxFolderPermission", mailbox, folder, principal)
            .param("AccessRights", json!([access])),
        RemoveSentItemsPermission { mailbox, principal } => {
            folder_permission("Remove-MailboxFolderPermission", mailbox, folder, principal)
        }
        AddFolderPermission {
            mailbox,
            folder: which,
            principal,
            access,
            flags,
        } => {
            let identity = folder_or_default(mailbox, folder, *which);
            let command = folder_permission(
                "Add-MailboxFolderPermission",
                mailbox,
                Some(&identity),
                principal,
            )
            .param("AccessRights", json!([access]));
            // Named only when set: the parameter applies to calendars only.
            if flags.is_empty() {
                command
            } else {
                command.param("SharingPermissionFlags", sharing_flags(flags))
            }
        }
        SetFolderPermission {
            mailbox,
            folder: which,
            principal,
            access,
            flags,
        } => {
            let identity = folder_or_default(mailbox, folder, *which);
            let command = folder_permission(
                "Set-MailboxFolderPermission",
                mailbox,
                Some(&identity),
                principal,
            )
            .param("AccessRights", json!([access]));
            // Exchange keeps the flags a `Set-` does not name: on a calendar they are always
            // named (`None` takes them away).
            if which.is_calendar() {
                command.param("SharingPermissionFlags", sharing_flags(flags))
            } else {
                command
            }
        }
        RemoveFolderPermission {
            mailbox,
            folder: which,
            principal,
        } => {
            let identity = folder_or_default(mailbox, folder, *which);
            folder_permission(
                "Remove-MailboxFolderPermission",
                mailbox,
                Some(&identity),
                principal,
            )
        }
        GrantRootVisibility { mailbox, principal } => folder_permission(
            "Add-MailboxFolderPermission",
            mailbox,
            Some(&root_identity(mailbox)),
            principal,
        )
        .param("AccessRights", json!([sharedbox_tenant::FOLDER_VISIBLE])),
        RevokeRootVisibility { mailbox, principal } => folder_permission(
            "Remove-MailboxFolderPermission",
            mailbox,
            Some(&root_identity(mailbox)),
            principal,
        ),
        SetOrganization { setting } => {
            let definition = setting.property.definition();
            Command::write(definition.cmdlet, Retry::Safe)
                .param(definition.parameter, &setting.value)
        }
        CreateServicePrincipal {
            app_id,
            object_id,
            display_name,
        } => Command::write("New-ServicePrincipal", Retry::Never)
            .param("AppId", app_id.as_str())
            .param("ObjectId", object_id.as_str())
            .param("DisplayName", display_name.as_str()),
        RemoveServicePrincipal { object_id, .. } => {
            Command::write("Remove-ServicePrincipal", Retry::Safe)
                .param("Identity", object_id.as_str())
        }
    }
}

fn set_mailbox(mailbox: &str) -> Command {
    Command::write("Set-Mailbox", Retry::Safe)
        .param("Identity", mailbox)
        .anchored(mailbox)
}

/// The `Set-Mailbox` parameter of a principal list.
pub fn list_parameter(list: PrincipalList) -> &'static str {
    match list {
        PrincipalList::SendOnBehalf => "GrantSendOnBehalfTo",
        PrincipalList::Moderators => "ModeratedBy",
        PrincipalList::ModerationBypass => "BypassModerationFromSendersOrMembers",
    }
}

/// `@{Add=...}` / `@{Remove=...}` as the admin API binds it: tagged as
/// `#Exchange.GenericHashTable`, or the parameter binder refuses it.
fn hashtable(verb: &str, principal: &Principal) -> Value {
    json!({"@odata.type": "#Exchange.GenericHashTable", verb: [principal.identity()]})
}

/// `-EmailAddresses @{Add="smtp:<address>"}` / `@{Remove=...}`: the lower-case `smtp:`
/// prefix makes (and names) a secondary address, so the primary (`SMTP:`) and the other
/// proxies are left as they are.
fn proxy_hashtable(verb: &str, address: &str) -> Value {
    json!({"@odata.type": "#Exchange.GenericHashTable", verb: [format!("smtp:{address}")]})
}

fn recipient_permission(cmdlet: &'static str, mailbox: &str, principal: &Principal) -> Command {
    Command::write(cmdlet, Retry::Safe)
        .param("Identity", mailbox)
        .param("Trustee", principal.identity())
        .param("AccessRights", json!(["SendAs"]))
        .anchored(mailbox)
}

fn mailbox_permission(cmdlet: &'static str, mailbox: &str, principal: &Principal) -> Command {
    Command::write(cmdlet, Retry::Safe)
        .param("Identity", mailbox)
        .param("User", principal.identity())
        .param("AccessRights", json!(["FullAccess"]))
        .anchored(mailbox)
}

/// `-SharingPermissionFlags` as the admin API binds a flags enum: the names joined with
/// `,` (`Delegate,CanViewPrivateItems`), `None` for no flag.
pub fn sharing_flags(flags: &[String]) -> Value {
    let flags = sharedbox_tenant::canonical_flags(flags);
    if flags.is_empty() {
        json!("None")
    } else {
        json!(flags.join(","))
    }
}

/// The folder identity read for `which` (`<mailbox>:<FolderId>`), else its English path.
fn folder_or_default(
    mailbox: &str,
    folder: Option<&str>,
    which: sharedbox_tenant::WellKnownFolder,
) -> String {
    folder.map_or_else(
        || format!("{mailbox}:\\{}", which.english_name()),
        str::to_owned,
    )
}

/// The identity of the mailbox root ("Top of Information Store"): `<mailbox>:\`.
pub fn root_identity(mailbox: &str) -> String {
    format!("{mailbox}:\\")
}

fn folder_permission(
    cmdlet: &'static str,
    mailbox: &str,
    folder: Option<&str>,
    principal: &Principal,
) -> Command {
    let identity = folder
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{mailbox}:\\Sent Items"));
    Command::write(cmdlet, Retry::Safe)
        .param("Identity", identity)
        .param("User", principal.identity())
        .anchored(mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharedbox_tenant::{PrincipalId, Property};

    fn alice() -> Principal {
        Principal::Recipient {
            id: PrincipalId("id".into()),
            address: "alice@contoso.com".into(),
            app_id: None,
        }
    }

    fn body(command: &Command) -> Value {
        Value::Object(command.parameters.clone())
    }

    #[test]
    fn calendar_writes_name_the_delegate_flags_and_a_set_always_names_them() {
        let calendar = sharedbox_tenant::WellKnownFolder::Calendar;
        let add = command(
            &Operation::AddFolderPermission {
                mailbox: "support@contoso.com".into(),
                folder: calendar,
                principal: alice(),
                access: "Editor".into(),
                flags: vec!["CanViewPrivateItems".into(), "delegate".into()],
            },
            Some("support@contoso.com:LgAAAAcal"),
        );
        assert_eq!(add.cmdlet, "Add-MailboxFolderPermission");
        assert_eq!(
            body(&add),
            json!({"Identity": "support@contoso.com:LgAAAAcal", "User": "alice@contoso.com",
                   "AccessRights": ["Editor"], "SharingPermissionFlags": "Delegate,CanViewPrivateItems",
                   "Confirm": false})
        );
        let set = |folder, flags: Vec<String>| {
            body(&command(
                &Operation::SetFolderPermission {
                    mailbox: "support@contoso.com".into(),
                    folder,
                    principal: alice(),
                    access: "Reviewer".into(),
                    flags,
                },
                Some("support@contoso.com:LgAAAAx"),
            ))
        };
        assert_eq!(
            set(calendar, Vec::new())["SharingPermissionFlags"],
            "None",
            "Exchange keeps flags a Set- does not name"
        );
        assert!(
            set(sharedbox_tenant::WellKnownFolder::Inbox, Vec::new())
                .get("SharingPermissionFlags")
                .is_none(),
            "calendars only"
        );
        let remove = command(
            &Operation::RemoveFolderPermission {
                mailbox: "support@contoso.com".into(),
                folder: sharedbox_tenant::WellKnownFolder::Inbox,
                principal: alice(),
            },
            None,
        );
        assert_eq!(
            body(&remove)["Identity"],
            "support@contoso.com:\\Inbox",
            "the English path when no id was read"
        );
    }

    #[test]
    fn root_visibility_writes_address_the_mailbox_root() {
        let grant = command(
            &Operation::GrantRootVisibility {
                mailbox: "support@contoso.com".into(),
                principal: alice(),
            },
            Some("ignored:LgAAAA"),
        );
        assert_eq!(grant.cmdlet, "Add-MailboxFolderPermission");
        assert_eq!(
            body(&grant),
            json!({"Confirm": false, "Identity": "support@contoso.com:\\", "User": "alice@contoso.com",
                   "AccessRights": ["FolderVisible"]})
        );
        assert_eq!(
            serde_json::to_string(&body(&grant)["Identity"]).unwrap(),
            r#""support@contoso.com:\\""#,
            "the backslash is JSON-escaped on the wire"
        );
        let revoke = command(
            &Operation::RevokeRootVisibility {
                mailbox: "support@contoso.com".into(),
                principal: alice(),
            },
            None,
        );
        assert_eq!(revoke.cmdlet, "Remove-MailboxFolderPermission");
        assert_eq!(
            body(&revoke),
            json!({"Confirm": false, "Identity": "support@contoso.com:\\", "User": "alice@contoso.com"})
        );
    }

    #[test]
    fn an_alias_is_written_as_an_smtp_proxy_hashtable_one_address_at_a_time() {
        let add = command(
            &Operation::AddAlias {
                mailbox: "support@contoso.com".into(),
                address: "expose@contoso.com".into(),
            },
            None,
        );
        assert_eq!(add.cmdlet, "Set-Mailbox");
        assert_eq!(
            body(&add),
            json!({"Confirm": false, "Identity": "support@contoso.com",
                   "EmailAddresses": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["smtp:expose@contoso.com"]}})
        );
        let remove = command(
            &Operation::RemoveAlias {
                mailbox: "support@contoso.com".into(),
                address: "old@contoso.com".into(),
            },
            None,
        );
        assert_eq!(
            body(&remove)["EmailAddresses"],
            json!({"@odata.type": "#Exchange.GenericHashTable", "Remove": ["smtp:old@contoso.com"]}),
            "lower-case `smtp:` names the secondary address, never the primary"
        );
    }

    #[test]
    fn every_write_sends_confirm_false_and_json_values() {
        let op = Operation::AddToList {
            mailbox: "support@contoso.com".into(),
            list: PrincipalList::SendOnBehalf,
            principal: alice(),
        };
        let c = command(&op, None);
        assert_eq!(c.cmdlet, "Set-Mailbox");
        assert_eq!(
            body(&c),
            json!({"Confirm": false, "Identity": "support@contoso.com",
                   "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["alice@contoso.com"]}})
        );
        let c = command(
            &Operation::set(
                "support@contoso.com",
                Property::SmtpClientAuthenticationDisabled,
                None,
            ),
            None,
        );
        assert_eq!(body(&c)["SmtpClientAuthenticationDisabled"], Value::Null);
        let c = command(
            &Operation::set("support@contoso.com", Property::NewOutlook, false),
            None,
        );
        assert_eq!(body(&c)["OneWinNativeOutlookEnabled"], false);
        let c = command(
            &Operation::GrantFullAccess {
                mailbox: "support@contoso.com".into(),
                principal: alice(),
                auto_mapping: false,
            },
            None,
        );
        assert_eq!(
            body(&c),
            json!({"Confirm": false, "Identity": "support@contoso.com", "User": "alice@contoso.com",
                   "AccessRights": ["FullAccess"], "AutoMapping": false, "InheritanceType": "All"})
        );
        let c = command(
            &Operation::RemoveSentItemsPermission {
                mailbox: "support@contoso.com".into(),
                principal: Principal::Orphaned {
                    raw: "NT:S-1-5-21-1".into(),
                },
            },
            Some("support@contoso.com:AAMkAD=="),
        );
        assert_eq!(body(&c)["Identity"], "support@contoso.com:AAMkAD==");
        assert_eq!(body(&c)["User"], "NT:S-1-5-21-1");
        let create = command(
            &Operation::CreateMailbox {
                mailbox: "o'brien$(x)@contoso.com".into(),
                display_name: "O'Brien \"$(x)\"".into(),
            },
            None,
        );
        assert_eq!(create.retry, Retry::Never);
        assert_eq!(body(&create)["Alias"], "obrienx");
        assert_eq!(
            body(&create)["PrimarySmtpAddress"],
            "o'brien$(x)@contoso.com"
        );
    }
}
