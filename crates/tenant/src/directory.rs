//! The recipient directory and principal normalisation.
//!
//! Policies name principals by SMTP address, UPN or Entra object id. Exchange returns
//! them as Names (often GUIDs), UPNs, display names or SIDs. Both sides resolve here to
//! one canonical [`PrincipalId`] (ExternalDirectoryObjectId, else the Exchange Guid), so
//! that a diff compares identities, never spellings.

use std::collections::HashMap;

use crate::model::Recipient;

/// The canonical identity of a recipient: its Entra object id, else its Exchange Guid, lower-cased.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct PrincipalId(pub String);

impl PrincipalId {
    /// The canonical id of `recipient`.
    pub fn of(recipient: &Recipient) -> PrincipalId {
        let raw = recipient
            .external_directory_object_id
            .as_deref()
            .unwrap_or(&recipient.guid);
        PrincipalId(raw.to_ascii_lowercase())
    }
}

impl std::fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a principal string from the live tenant turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LivePrincipal<'a> {
    /// A built-in entry sharedbox never manages (`NT AUTHORITY\SELF`, `Default`, `Anonymous`, ...).
    BuiltIn,
    /// A recipient of the directory.
    Recipient(&'a Recipient),
    /// Nothing in a complete directory (recipients, users, groups and service principals all
    /// looked up): an orphaned SID or a deleted user. Granting it again is impossible.
    Orphaned,
    /// Nothing in a directory that did not look up every kind of principal (a read of
    /// `Get-User`, `Get-Group` or `Get-ServicePrincipal` was refused): it may well exist.
    Unresolved,
    /// More than one recipient carries this display name; sharedbox cannot tell which.
    Ambiguous(Vec<&'a Recipient>),
}

/// Every recipient of the tenant, indexed by each spelling Exchange or a policy may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directory {
    recipients: Vec<Recipient>,
    /// Unique keys (object id, guid, name, UPN, SMTP addresses, SID), lower-cased.
    by_key: HashMap<String, usize>,
    /// Display names, lower-cased; not unique.
    by_display_name: HashMap<String, Vec<usize>>,
    by_id: HashMap<PrincipalId, usize>,
    /// Whether some kind of principal was not looked up (see [`LivePrincipal::Unresolved`]).
    incomplete: bool,
}

/// The prefix by which a policy names a service principal by its application (client) id:
/// `app:<appId>`.
pub const APP_PREFIX: &str = "app:";

impl Directory {
    /// Builds the directory; a later recipient with the same canonical id replaces an earlier one.
    pub fn new(recipients: impl IntoIterator<Item = Recipient>) -> Directory {
        let mut directory = Directory::default();
        for recipient in recipients {
            directory.insert(recipient);
        }
        directory
    }

    /// Adds or replaces one recipient.
    pub fn insert(&mut self, recipient: Recipient) {
        let id = PrincipalId::of(&recipient);
        let index = match self.by_id.get(&id) {
            Some(&i) => {
                self.recipients[i] = recipient;
                i
            }
            None => {
                self.recipients.push(recipient);
                self.by_id.insert(id, self.recipients.len() - 1);
                self.recipients.len() - 1
            }
        };
        let recipient = &self.recipients[index];
        let mut keys = vec![recipient.guid.clone(), recipient.name.clone()];
        keys.extend(recipient.external_directory_object_id.clone());
        keys.extend(recipient.user_principal_name.clone());
        keys.extend(recipient.sid.clone());
        keys.extend(recipient.app_id.iter().map(|a| format!("{APP_PREFIX}{a}")));
        keys.extend(recipient.smtp_addresses());
        for key in keys {
            self.by_key.insert(key.to_ascii_lowercase(), index);
        }
        let display = recipient.display_name.to_lowercase();
        let same_name = self.by_display_name.entry(display).or_default();
        if !same_name.contains(&index) {
            same_name.push(index);
        }
    }

    /// Adds a principal from `Get-User`, `Get-Group` or `Get-ServicePrincipal` unless the
    /// directory holds it already (a mailbox user from `Get-Recipient` is richer).
    pub fn insert_if_absent(&mut self, recipient: Recipient) {
        if self.by_id.contains_key(&PrincipalId::of(&recipient)) {
            return;
        }
        self.insert(recipient);
    }

    /// Sets the direct members of the recipient with canonical id `id` (see
    /// [`Recipient::members`]); `false` when there is none.
    pub fn set_members(&mut self, id: &PrincipalId, members: impl Into<crate::Members>) -> bool {
        match self.by_id.get(id) {
            Some(&i) => {
                self.recipients[i].members = Some(members.into());
                true
            }
            None => false,
        }
    }

    /// Records the `AccountDisabled` of the recipient with canonical id `id`.
    pub fn set_account_disabled(&mut self, id: &PrincipalId, disabled: bool) {
        if let Some(&i) = self.by_id.get(id) {
            self.recipients[i].account_disabled = Some(disabled);
        }
    }

    /// Records that some kind of principal was not looked up: what resolves to nothing is
    /// then [`LivePrincipal::Unresolved`], not [`LivePrincipal::Orphaned`].
    pub fn mark_incomplete(&mut self) {
        self.incomplete = true;
    }

    /// Whether every kind of principal was looked up.
    pub fn is_complete(&self) -> bool {
        !self.incomplete
    }

    /// Gives back the room the directory grew into while it was built (up to half of it
    /// at the size of a large tenant).
    pub fn shrink_to_fit(&mut self) {
        self.recipients.shrink_to_fit();
        self.by_key.shrink_to_fit();
        self.by_display_name.shrink_to_fit();
        self.by_id.shrink_to_fit();
    }

    /// Every recipient.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The recipient with canonical id `id`.
    pub fn get(&self, id: &PrincipalId) -> Option<&Recipient> {
        self.by_id.get(id).map(|&i| &self.recipients[i])
    }

    /// Resolves a principal as a policy names it: an SMTP address (primary or proxy), a UPN,
    /// an Entra object id (also a service principal's), or `app:<appId>` for a service
    /// principal. Display names are deliberately not accepted: they are not unique.
    pub fn resolve_policy(&self, principal: &str) -> Option<&Recipient> {
        let key = principal.trim().to_ascii_lowercase();
        let key = match key.strip_prefix(APP_PREFIX) {
            Some(app) => format!("{APP_PREFIX}{}", app.trim()),
            None => key,
        };
        self.by_key.get(&key).map(|&i| &self.recipients[i])
    }

    /// Resolves a principal as Exchange returns it in a permission row or a multi-valued
    /// property: Name, GUID, UPN, SMTP address, SID (also as `NT:S-1-...`), or display name.
    pub fn resolve_live(&self, principal: &str) -> LivePrincipal<'_> {
        let trimmed = principal.trim();
        if is_built_in(trimmed) {
            return LivePrincipal::BuiltIn;
        }
        let key = trimmed
            .strip_prefix("NT:")
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        if let Some(&i) = self
            .by_key
            .get(&key)
            .or_else(|| self.by_key.get(&format!("{APP_PREFIX}{key}")))
        {
            return LivePrincipal::Recipient(&self.recipients[i]);
        }
        match self.by_display_name.get(&trimmed.to_lowercase()) {
            Some(found) if found.len() == 1 => LivePrincipal::Recipient(&self.recipients[found[0]]),
            Some(found) => {
                LivePrincipal::Ambiguous(found.iter().map(|&i| &self.recipients[i]).collect())
            }
            None if self.incomplete => LivePrincipal::Unresolved,
            None => LivePrincipal::Orphaned,
        }
    }
}

/// Whether a live principal is a built-in entry that sharedbox never manages.
pub fn is_built_in(principal: &str) -> bool {
    let upper = principal.trim().to_ascii_uppercase();
    upper.starts_with("NT AUTHORITY\\")
        || upper.starts_with("NT AUTHORITY/")
        || upper == "DEFAULT"
        || upper == "ANONYMOUS"
        || upper.starts_with("S-1-5-18")
        || upper.starts_with("S-1-5-10")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Recipient {
        Recipient {
            external_directory_object_id: Some("7C1D5E0A-3B0F-4B7E-9D1E-2A6F4F1C9B11".into()),
            guid: "e3f1c3a2-0a9b-4d4e-8f0a-1b2c3d4e5f60".into(),
            name: "7c1d5e0a-3b0f-4b7e-9d1e-2a6f4f1c9b11".into(),
            display_name: "Alice Wagner".into(),
            primary_smtp_address: "alice@contoso.com".into(),
            user_principal_name: Some("alice@contoso.onmicrosoft.com".into()),
            email_addresses: vec![
                "SMTP:alice@contoso.com".into(),
                "smtp:a.wagner@contoso.com".into(),
            ],
            sid: Some("S-1-5-21-1-2-3-1001".into()),
            recipient_type_details: "UserMailbox".into(),
            smtp_client_authentication_disabled: None,
            app_id: None,
            members: None,
            account_disabled: None,
        }
    }

    #[test]
    fn every_spelling_resolves_to_one_identity() {
        let directory = Directory::new([alice()]);
        let id = PrincipalId::of(&alice());
        assert_eq!(id.0, "7c1d5e0a-3b0f-4b7e-9d1e-2a6f4f1c9b11");
        for spelling in [
            "alice@contoso.com",
            "ALICE@contoso.com",
            "a.wagner@contoso.com",
            "alice@contoso.onmicrosoft.com",
            "7c1d5e0a-3b0f-4b7e-9d1e-2a6f4f1c9b11",
        ] {
            assert_eq!(
                directory.resolve_policy(spelling).map(PrincipalId::of),
                Some(id.clone()),
                "{spelling}"
            );
        }
        for spelling in [
            "Alice Wagner",
            "e3f1c3a2-0a9b-4d4e-8f0a-1b2c3d4e5f60",
            "S-1-5-21-1-2-3-1001",
            "NT:S-1-5-21-1-2-3-1001",
            "alice@contoso.onmicrosoft.com",
        ] {
            assert_eq!(
                directory.resolve_live(spelling),
                LivePrincipal::Recipient(&alice()),
                "{spelling}"
            );
        }
        assert_eq!(
            directory.resolve_policy("Alice Wagner"),
            None,
            "display names are not policy principals"
        );
    }

    #[test]
    fn built_ins_orphans_and_ambiguous_display_names() {
        let mut twin = alice();
        twin.external_directory_object_id = Some("11111111-1111-1111-1111-111111111111".into());
        twin.guid = "22222222-2222-2222-2222-222222222222".into();
        twin.name = "twin".into();
        twin.primary_smtp_address = "alice2@contoso.com".into();
        twin.user_principal_name = None;
        twin.email_addresses.clear();
        twin.sid = None;
        let directory = Directory::new([alice(), twin]);
        assert_eq!(
            directory.resolve_live("NT AUTHORITY\\SELF"),
            LivePrincipal::BuiltIn
        );
        assert_eq!(directory.resolve_live("Default"), LivePrincipal::BuiltIn);
        assert_eq!(directory.resolve_live("Anonymous"), LivePrincipal::BuiltIn);
        assert_eq!(
            directory.resolve_live("S-1-5-21-9-9-9-500"),
            LivePrincipal::Orphaned
        );
        assert!(
            matches!(directory.resolve_live("Alice Wagner"), LivePrincipal::Ambiguous(r) if r.len() == 2)
        );
    }

    #[test]
    fn service_principals_by_app_id_and_unknown_sids_of_an_incomplete_directory() {
        let sp = Recipient {
            external_directory_object_id: Some("6233FBA6-0198-4277-892F-9275BF728BCC".into()),
            guid: "0f4c7a51-1a2b-4c3d-8e9f-001122334455".into(),
            name: "6233fba6-0198-4277-892f-9275bf728bcc".into(),
            display_name: "IMAP app".into(),
            recipient_type_details: "ServicePrincipal".into(),
            app_id: Some("71487acd-ec93-476d-bd0e-6c8b31831053".into()),
            ..Recipient::default()
        };
        let mut directory = Directory::new([alice(), sp.clone()]);
        for spelling in [
            "app:71487acd-ec93-476d-bd0e-6c8b31831053",
            "APP: 71487ACD-EC93-476D-BD0E-6C8B31831053",
            "6233fba6-0198-4277-892f-9275bf728bcc",
        ] {
            assert_eq!(directory.resolve_policy(spelling), Some(&sp), "{spelling}");
        }
        assert_eq!(
            directory.resolve_live("71487acd-ec93-476d-bd0e-6c8b31831053"),
            LivePrincipal::Recipient(&sp)
        );
        assert_eq!(sp.identity(), "6233fba6-0198-4277-892f-9275bf728bcc");
        assert!(sp.is_service_principal() && !sp.is_mail_enabled());
        assert_eq!(
            directory.resolve_live("S-1-5-21-9-9-9-500"),
            LivePrincipal::Orphaned
        );
        directory.mark_incomplete();
        assert_eq!(
            directory.resolve_live("S-1-5-21-9-9-9-500"),
            LivePrincipal::Unresolved
        );
        assert_eq!(
            directory.resolve_live("NT AUTHORITY\\SELF"),
            LivePrincipal::BuiltIn
        );
    }
}
