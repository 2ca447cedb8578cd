//! One reconcile of a principal list against its live entries: `sendAs`, `sendOnBehalf`,
//! `fullAccess`, `sentItemsReaders`, `folders.<key>`, `moderation.moderators` and
//! `moderation.bypass`.
//!
//! Both sides come in resolved and keyed by [`Principal::key`] (two spellings of one
//! recipient are one entry). Then, for every list alike:
//! - a wanted principal without a live entry is granted (in the list's add wave);
//! - a wanted principal whose live entry has another attribute (autoMapping, a folder role)
//!   is brought in line: set in place, or revoked and granted again when the attribute can
//!   only be given with the grant;
//! - a live principal that is not wanted is revoked (last wave); an orphan's revocation has
//!   no inverse, because nothing can be granted to a principal that no longer exists.

use std::collections::BTreeMap;

use sharedbox_tenant::{Operation, Principal};

use crate::plan::{Action, Change, ListDiff, PlanValue, Wave};

/// The entries of one side of a list: principal and attribute, by [`Principal::key`].
pub(crate) type Entries<A> = BTreeMap<String, (Principal, A)>;

/// What an entry carries besides its principal.
pub(crate) trait Attribute: Clone {
    /// Whether a live entry with this attribute already is what `wanted` asks for.
    fn satisfies(&self, wanted: &Self) -> bool;

    /// The entry as a plan value.
    fn value(&self, principal: &Principal) -> PlanValue;

    /// The attribute a live entry is granted back with when a change to it is undone (the
    /// inverse of its revocation): itself, unless part of it is not known.
    fn restored(&self) -> Self {
        self.clone()
    }
}

/// A grant of `principal` with its attribute's parts.
fn grant(principal: &Principal, auto_mapping: Option<bool>, access: Option<String>) -> PlanValue {
    PlanValue::Grant {
        principal: principal.clone(),
        auto_mapping,
        access,
        flags: Vec::new(),
    }
}

/// A plain member: nothing besides the principal.
impl Attribute for () {
    fn satisfies(&self, (): &()) -> bool {
        true
    }

    fn value(&self, principal: &Principal) -> PlanValue {
        grant(principal, None, None)
    }
}

/// A FullAccess grant's autoMapping: given when access is granted, and known only when the
/// backend keeps it or sharedbox granted it (Exchange never reports it). `None` on the wanted
/// side is Exchange's default (`true`); on the live side, unknown, and granted back as `false`
/// ([`sharedbox_tenant::undo`] does the same): undoing a change never turns on a mapping
/// nobody asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AutoMapping(pub Option<bool>);

impl AutoMapping {
    /// The value a grant passes to Exchange.
    pub(crate) fn for_grant(self) -> bool {
        self.0.unwrap_or(true)
    }
}

impl Attribute for AutoMapping {
    /// Only two known values can differ: an unknown live value is never re-granted.
    fn satisfies(&self, wanted: &AutoMapping) -> bool {
        match (self.0, wanted.0) {
            (Some(live), Some(wanted)) => live == wanted,
            _ => true,
        }
    }

    fn value(&self, principal: &Principal) -> PlanValue {
        grant(principal, self.0, None)
    }

    fn restored(&self) -> AutoMapping {
        AutoMapping(Some(
            self.0
                .unwrap_or(sharedbox_tenant::UNKNOWN_AUTO_MAPPING_RESTORED),
        ))
    }
}

/// A Sent Items folder entry's role (`Reviewer`, ...), compared without case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderRole(pub String);

impl Attribute for FolderRole {
    fn satisfies(&self, wanted: &FolderRole) -> bool {
        self.0.eq_ignore_ascii_case(&wanted.0)
    }

    fn value(&self, principal: &Principal) -> PlanValue {
        grant(principal, None, Some(self.0.clone()))
    }
}

/// A `folders` entry: its role (compared without case) and delegate flags (as sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderGrantAttribute {
    /// The role.
    pub access: String,
    /// The delegate flags, canonical.
    pub flags: Vec<String>,
}

impl Attribute for FolderGrantAttribute {
    fn satisfies(&self, wanted: &FolderGrantAttribute) -> bool {
        self.access.eq_ignore_ascii_case(&wanted.access)
            && sharedbox_tenant::canonical_flags(&self.flags)
                == sharedbox_tenant::canonical_flags(&wanted.flags)
    }

    fn value(&self, principal: &Principal) -> PlanValue {
        PlanValue::Grant {
            principal: principal.clone(),
            auto_mapping: None,
            access: Some(self.access.clone()),
            flags: sharedbox_tenant::canonical_flags(&self.flags),
        }
    }
}

/// How a listed principal whose live attribute differs is brought in line.
pub(crate) enum Update<'a, A> {
    /// Entries have no attribute that can differ.
    Never,
    /// The attribute can only be given with the grant: revoke and grant again, both shown
    /// as changes (`Action::Update`) with this note. The principal keeps its access, so
    /// neither counts as a revocation.
    Regrant(&'static str),
    /// One write sets it in place.
    Set(&'a dyn Fn(&Principal, &A) -> Operation),
}

/// How one list is written and shown.
pub(crate) struct List<'a, A> {
    /// The policy field, e.g. `sendAs`.
    pub field: &'static str,
    /// Shown after the field in the list diff (the localised folder name).
    pub qualifier: Option<String>,
    /// When grants and in-place updates run.
    pub add_wave: Wave,
    /// The write that grants `principal` with an attribute.
    pub grant: &'a dyn Fn(&Principal, &A) -> Operation,
    /// The write that revokes `principal`.
    pub revoke: &'a dyn Fn(&Principal) -> Operation,
    /// How a differing attribute is changed.
    pub update: Update<'a, A>,
}

/// The outcome of one reconcile: the changes, in order, and the list's members before and
/// after when they differ.
#[derive(Debug, Default)]
pub(crate) struct Reconciled {
    pub changes: Vec<Change>,
    pub list: Option<ListDiff>,
}

impl<A: Attribute> List<'_, A> {
    /// An entry as the list diff shows it.
    fn label(&self, principal: &Principal, attribute: &A) -> String {
        attribute.value(principal).show(self.field)
    }

    /// Plans the changes that make `live` what `wanted` says: grants and updates by key, then
    /// revocations by key.
    pub(crate) fn reconcile(&self, live: &Entries<A>, wanted: &Entries<A>) -> Reconciled {
        let mut changes = Vec::new();
        let mut after = Vec::new();
        for (key, (principal, want)) in wanted {
            match live.get(key) {
                None => {
                    after.push(self.label(principal, want));
                    changes.push(self.change(
                        Action::Add,
                        self.add_wave,
                        (self.grant)(principal, want),
                        None,
                        Some(want.value(principal)),
                        Some((self.revoke)(principal)),
                        None,
                    ));
                }
                Some((_, current)) if current.satisfies(want) => {
                    after.push(self.label(principal, current));
                }
                Some((_, current)) => {
                    after.push(self.label(principal, want));
                    self.update(&mut changes, principal, current, want);
                }
            }
        }
        for (key, (principal, current)) in live {
            if !wanted.contains_key(key) {
                changes.push(self.change(
                    Action::Remove,
                    Wave::Revocations,
                    (self.revoke)(principal),
                    Some(current.value(principal)),
                    None,
                    (!principal.is_orphaned()).then(|| (self.grant)(principal, &current.restored())),
                    principal.is_orphaned().then(|| {
                        "orphaned: the SID resolves to nothing in the directory, so it cannot be granted again".to_owned()
                    }),
                ));
            }
        }
        let mut before: Vec<String> = live.values().map(|(p, a)| self.label(p, a)).collect();
        before.sort();
        after.sort();
        let list = (before != after).then(|| ListDiff {
            field: self.field.into(),
            qualifier: self.qualifier.clone(),
            before,
            after,
        });
        Reconciled { changes, list }
    }

    fn update(&self, changes: &mut Vec<Change>, principal: &Principal, current: &A, want: &A) {
        match &self.update {
            Update::Never => {}
            Update::Regrant(note) => {
                let note = Some((*note).to_owned());
                changes.push(self.change(
                    Action::Update,
                    self.add_wave,
                    (self.revoke)(principal),
                    Some(current.value(principal)),
                    None,
                    Some((self.grant)(principal, &current.restored())),
                    note.clone(),
                ));
                changes.push(self.change(
                    Action::Update,
                    self.add_wave,
                    (self.grant)(principal, want),
                    None,
                    Some(want.value(principal)),
                    Some((self.revoke)(principal)),
                    note,
                ));
            }
            Update::Set(set) => changes.push(self.change(
                Action::Update,
                self.add_wave,
                set(principal, want),
                Some(current.value(principal)),
                Some(want.value(principal)),
                Some(set(principal, current)),
                None,
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        action: Action,
        wave: Wave,
        operation: Operation,
        before: Option<PlanValue>,
        after: Option<PlanValue>,
        inverse: Option<Operation>,
        note: Option<String>,
    ) -> Change {
        Change {
            field: self.field.into(),
            action,
            wave,
            operation,
            before,
            after,
            inverse,
            note,
            cause: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use sharedbox_tenant::PrincipalId;

    use super::*;

    fn anna() -> Principal {
        Principal::Recipient {
            id: PrincipalId("a".into()),
            address: "anna@contoso.com".into(),
            app_id: None,
        }
    }

    fn orphan() -> Principal {
        Principal::Orphaned {
            raw: "S-1-5-21-1".into(),
        }
    }

    fn entries<A>(list: Vec<(Principal, A)>) -> Entries<A> {
        list.into_iter().map(|(p, a)| (p.key(), (p, a))).collect()
    }

    fn send_as<'a>(
        grant: &'a dyn Fn(&Principal, &()) -> Operation,
        revoke: &'a dyn Fn(&Principal) -> Operation,
    ) -> List<'a, ()> {
        List {
            field: "sendAs",
            qualifier: None,
            add_wave: Wave::Grants,
            grant,
            revoke,
            update: Update::Never,
        }
    }

    #[test]
    fn an_orphan_is_revoked_without_an_inverse_and_a_recipient_with_one() {
        let grant = |p: &Principal, (): &()| Operation::GrantSendAs {
            mailbox: "m".into(),
            principal: p.clone(),
        };
        let revoke = |p: &Principal| Operation::RevokeSendAs {
            mailbox: "m".into(),
            principal: p.clone(),
        };
        let list = send_as(&grant, &revoke);
        let out = list.reconcile(
            &entries(vec![(anna(), ()), (orphan(), ())]),
            &Entries::new(),
        );
        let by_label = |label: &str| {
            out.changes
                .iter()
                .find(|c| c.shown_before().as_deref() == Some(label))
                .unwrap()
        };
        assert_eq!(
            by_label("anna@contoso.com").inverse,
            Some(grant(&anna(), &()))
        );
        assert_eq!(by_label("S-1-5-21-1 (orphaned)").inverse, None);
        assert!(
            by_label("S-1-5-21-1 (orphaned)")
                .note
                .as_deref()
                .unwrap()
                .starts_with("orphaned")
        );
        assert!(
            out.changes
                .iter()
                .all(|c| c.is_revocation() && c.wave == Wave::Revocations)
        );
        assert_eq!(out.list.unwrap().after, Vec::<String>::new());
    }

    #[test]
    fn an_unchanged_entry_is_listed_as_it_is_live() {
        let grant = |p: &Principal, role: &FolderRole| Operation::AddSentItemsPermission {
            mailbox: "m".into(),
            principal: p.clone(),
            access: role.0.clone(),
        };
        let revoke = |p: &Principal| Operation::RemoveSentItemsPermission {
            mailbox: "m".into(),
            principal: p.clone(),
        };
        let list = List {
            field: "sentItemsReaders",
            qualifier: Some("Sent Items".into()),
            add_wave: Wave::Grants,
            grant: &grant,
            revoke: &revoke,
            update: Update::Never,
        };
        let out = list.reconcile(
            &entries(vec![(anna(), FolderRole("reviewer".into()))]),
            &entries(vec![(anna(), FolderRole("Reviewer".into()))]),
        );
        assert!(out.changes.is_empty());
        assert!(
            out.list.is_none(),
            "a role differing only in case is no change"
        );
    }
}
