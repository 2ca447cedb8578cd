//! The saved plan (`plan --out FILE`): a versioned JSON document that `apply FILE` executes
//! exactly, after checking it is still valid.
//!
//! It records the tool version, the tenant, a digest of the policies, creation and expiry
//! times, every change with before, after and inverse, and a fingerprint of the live state of
//! every object the plan touches. Staleness is judged per object, so unrelated drift elsewhere
//! does not block an apply. Treat saved plans as sensitive: they name every principal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sharedbox_policy::PolicySet;
use sharedbox_tenant::{Snapshot, fingerprint, fingerprint_organization, sha256};

use crate::plan::{Change, MailboxAction, MailboxPlan, Plan, Summary};

/// The format version this build writes and reads. Format 2 writes client settings as
/// `set_mailbox` with a catalogued property (format 1: `set_client`); a plan of format 1 is
/// refused and made again, as plans are short-lived.
pub const FORMAT_VERSION: u32 = 2;

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanDocument {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The sharedbox version that made the plan.
    pub tool_version: String,
    /// A digest of the document's content: the plan's identity.
    pub plan_id: String,
    /// The tenant.
    pub tenant: String,
    /// A digest of every policy file (path and content).
    pub policy_digest: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; `apply` refuses the plan afterwards.
    pub expires_at: String,
    /// `--target`s in effect, if any.
    pub targets: Vec<String>,
    /// The counts.
    pub summary: Summary,
    /// `mailbox:<address>` or `organization` -> fingerprint of the live state at plan time.
    pub fingerprints: BTreeMap<String, String>,
    /// Per-mailbox changes.
    pub mailboxes: Vec<MailboxPlan>,
    /// Organisation changes.
    pub organization: Vec<Change>,
    /// Warnings shown when the plan was made (lint findings are in `lints`).
    pub warnings: Vec<String>,
    /// Lint findings when the plan was made, at their configured levels.
    #[serde(default)]
    pub lints: Vec<Finding>,
    /// Managed mailboxes without changes.
    pub unchanged: Vec<String>,
    /// The commit of the base revision whose policies told the autoMapping of FullAccess
    /// grants Exchange does not report (`PlanOptions::base`); `apply` re-derives the plan
    /// with the policies at the same commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
}

/// A diagnostic as data (a lint finding in plans; any diagnostic in `validate --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The code, e.g. `SBX101` for a lint (`sharedbox explain CODE`).
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// The file, when the diagnostic has a place.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
    /// What to do.
    pub hint: Option<String>,
}

impl Finding {
    /// The record of `diagnostic`.
    pub fn of(diagnostic: &sharedbox_policy::Diagnostic) -> Finding {
        let origin = diagnostic.origin.as_ref();
        Finding {
            code: diagnostic.code.to_owned(),
            severity: diagnostic.severity.as_str().to_owned(),
            message: diagnostic.message.clone(),
            file: origin.map(|o| o.source.path.display().to_string()),
            line: origin.map(|o| o.line),
            column: origin.map(|o| o.column),
            hint: diagnostic.hint.clone(),
        }
    }
}

/// A digest of a policy set: every file's path and text.
pub fn policy_digest(policies: &PolicySet) -> String {
    let mut bytes = Vec::new();
    for source in &policies.sources {
        bytes.extend_from_slice(source.path.to_string_lossy().as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(source.text.as_bytes());
        bytes.push(0);
    }
    sha256(&bytes)
}

impl PlanDocument {
    /// The document of `plan`, made from `snapshot` and `policies`, against the policies at
    /// `base_commit` when the plan was compared with a base revision.
    #[allow(clippy::too_many_arguments)] // every one is a field of the document
    pub fn new(
        plan: &Plan,
        snapshot: &Snapshot,
        policies: &PolicySet,
        tool_version: &str,
        created_at: String,
        expires_at: String,
        targets: Vec<String>,
        base_commit: Option<String>,
    ) -> PlanDocument {
        let mut fingerprints = BTreeMap::new();
        for mailbox in &plan.mailboxes {
            fingerprints.insert(
                format!("mailbox:{}", mailbox.address),
                fingerprint(snapshot.mailbox(&mailbox.address)),
            );
        }
        if !plan.organization.is_empty() {
            fingerprints.insert(
                "organization".to_owned(),
                fingerprint_organization(&snapshot.organization),
            );
        }
        let (lints, warnings) = plan.lints_and_other_warnings();
        let mut document = PlanDocument {
            format_version: FORMAT_VERSION,
            tool_version: tool_version.to_owned(),
            plan_id: String::new(),
            tenant: plan.tenant.clone(),
            policy_digest: policy_digest(policies),
            created_at,
            expires_at,
            targets,
            summary: plan.summary(),
            fingerprints,
            mailboxes: plan.mailboxes.clone(),
            organization: plan.organization.clone(),
            warnings: warnings.iter().map(|w| w.message.clone()).collect(),
            lints: lints.into_iter().map(Finding::of).collect(),
            unchanged: plan.unchanged.clone(),
            base_commit,
        };
        document.plan_id = document.digest();
        document
    }

    /// The digest of the content (everything but `plan_id`).
    pub fn digest(&self) -> String {
        let mut copy = self.clone();
        copy.plan_id = String::new();
        sha256(
            serde_json::to_string(&copy)
                .expect("plan documents serialise")
                .as_bytes(),
        )
    }

    /// The plan to execute.
    pub fn to_plan(&self) -> Plan {
        Plan {
            tenant: self.tenant.clone(),
            mailboxes: self.mailboxes.clone(),
            organization: self.organization.clone(),
            warnings: Vec::new(),
            unchanged: self.unchanged.clone(),
            baseline: crate::plan::Baseline::NotCompared,
        }
    }

    /// The plan to execute after [`PlanDocument::check_against`] accepted it against `fresh`:
    /// what it saved, with the grants a deletion takes with it (counted against
    /// `--max-removals`) taken from the live tenant's plan, never from the file.
    pub fn to_plan_against(&self, fresh: &Plan) -> Plan {
        let mut plan = self.to_plan();
        for mailbox in &mut plan.mailboxes {
            mailbox.lost_grants = fresh
                .mailboxes
                .iter()
                .find(|m| m.address == mailbox.address)
                .map_or(0, |m| m.lost_grants);
        }
        plan
    }

    /// The mailboxes the plan touches.
    pub fn touched_mailboxes(&self) -> Vec<String> {
        self.mailboxes.iter().map(|m| m.address.clone()).collect()
    }

    /// The objects whose live state differs from when the plan was made, with what changed.
    pub fn stale_objects(&self, snapshot: &Snapshot) -> Vec<String> {
        let mut stale = Vec::new();
        for (object, saved) in &self.fingerprints {
            let now = match object.strip_prefix("mailbox:") {
                Some(address) => fingerprint(snapshot.mailbox(address)),
                None => fingerprint_organization(&snapshot.organization),
            };
            if &now != saved {
                let what = match (
                    object.strip_prefix("mailbox:"),
                    saved.as_str(),
                    now.as_str(),
                ) {
                    (Some(a), "absent", _) => {
                        format!("mailbox `{a}` was created since the plan was made")
                    }
                    (Some(a), _, "absent") => {
                        format!("mailbox `{a}` was deleted since the plan was made")
                    }
                    (Some(a), _, _) => format!("mailbox `{a}` changed since the plan was made"),
                    (None, _, _) => {
                        "the tenant settings changed since the plan was made".to_owned()
                    }
                };
                stale.push(what);
            }
        }
        stale
    }

    /// Compares the plan's changes with `fresh`, the plan the policies give for the live
    /// tenant now: every saved change must be one `fresh` holds identically (the same
    /// operation, values shown, undo and note, under the same mailbox and mailbox action;
    /// only the drift/policy label may differ), each at most as often as `fresh` holds it.
    pub fn check_against(&self, fresh: &Plan) -> Derivation<'_> {
        let mut available: BTreeMap<String, usize> = BTreeMap::new();
        for (owner, change) in owned_changes(&fresh.mailboxes, &fresh.organization) {
            *available.entry(change_key(owner, change)).or_default() += 1;
        }
        let fresh_total: usize = available.values().sum();
        let mut unfounded = Vec::new();
        let mut matched = 0;
        for (owner, change) in owned_changes(&self.mailboxes, &self.organization) {
            match available.get_mut(&change_key(owner, change)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    matched += 1;
                }
                _ => unfounded.push(change),
            }
        }
        Derivation {
            unfounded,
            not_in_saved: fresh_total - matched,
        }
    }
}

/// What [`PlanDocument::check_against`] found.
#[derive(Debug)]
pub struct Derivation<'a> {
    /// Saved changes the fresh plan does not hold: they do not follow from the policies.
    pub unfounded: Vec<&'a Change>,
    /// How many changes the fresh plan holds that the saved plan does not (drift since).
    pub not_in_saved: usize,
}

/// Every change of a plan with the mailbox (address and action) it belongs to; `None` for
/// tenant settings.
fn owned_changes<'a>(
    mailboxes: &'a [MailboxPlan],
    organization: &'a [Change],
) -> impl Iterator<Item = (Option<(&'a str, MailboxAction)>, &'a Change)> {
    mailboxes
        .iter()
        .flat_map(|m| {
            m.changes
                .iter()
                .map(move |c| (Some((m.address.as_str(), m.action)), c))
        })
        .chain(organization.iter().map(|c| (None, c)))
}

/// A change with its mailbox as one comparable string; the drift/policy label is left out.
fn change_key(owner: Option<(&str, MailboxAction)>, change: &Change) -> String {
    let mut change = change.clone();
    change.cause = None;
    serde_json::to_string(&(owner, &change)).expect("changes serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Cause, PlanValue, Wave};
    use sharedbox_tenant::{Operation, Principal, PrincipalId};

    fn shown(who: &str) -> PlanValue {
        PlanValue::Grant {
            principal: recipient(who),
            auto_mapping: None,
            access: None,
            flags: Vec::new(),
        }
    }

    fn recipient(who: &str) -> Principal {
        Principal::Recipient {
            id: PrincipalId(format!("id-{who}")),
            address: who.into(),
            app_id: None,
        }
    }

    fn grant(mailbox: &str, who: &str) -> Change {
        Change {
            field: "sendAs".into(),
            action: Action::Add,
            wave: Wave::Grants,
            operation: Operation::GrantSendAs {
                mailbox: mailbox.into(),
                principal: recipient(who),
            },
            before: None,
            after: Some(shown(who)),
            inverse: None,
            note: None,
            cause: None,
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            tenant: "t".into(),
            mailboxes: vec![MailboxPlan {
                lost_grants: 0,
                address: "support@x.com".into(),
                action: MailboxAction::Update,
                changes,
                lists: Vec::new(),
            }],
            ..Plan::default()
        }
    }

    fn document(plan: &Plan) -> PlanDocument {
        PlanDocument::new(
            plan,
            &Snapshot::default(),
            &PolicySet::default(),
            "0",
            "2026-01-01T00:00:00Z".into(),
            "2026-01-02T00:00:00Z".into(),
            Vec::new(),
            None,
        )
    }

    #[test]
    fn every_saved_change_must_be_in_the_fresh_plan_once() {
        let fresh = plan(vec![
            grant("support@x.com", "a"),
            grant("support@x.com", "b"),
        ]);
        let mut labelled = grant("support@x.com", "a");
        labelled.cause = Some(Cause::Drift);
        let saved = document(&plan(vec![labelled]));
        let found = saved.check_against(&fresh);
        assert!(found.unfounded.is_empty(), "the label is not compared");
        assert_eq!(found.not_in_saved, 1);

        let doubled = document(&plan(vec![
            grant("support@x.com", "a"),
            grant("support@x.com", "a"),
        ]));
        assert_eq!(doubled.check_against(&fresh).unfounded.len(), 1);

        let mut shown_alike = grant("support@x.com", "c");
        shown_alike.after = Some(shown("a"));
        let forged = document(&plan(vec![shown_alike, grant("other@x.com", "b")]));
        assert_eq!(forged.check_against(&fresh).unfounded.len(), 2);
    }
}
