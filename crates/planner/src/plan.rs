//! The plan: what will change, in which order, and how to undo each step.

use serde::{Deserialize, Serialize};
use sharedbox_policy::Diagnostic;
use sharedbox_tenant::{Operation, OrganizationProperty, Principal, Property, Value};

/// The order in which changes are applied. A later wave starts only when the earlier ones
/// have succeeded; revocations come last so that nobody loses access before the new
/// access is in place.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Wave {
    /// `New-Mailbox`.
    Create,
    /// Single-valued properties, client switches, moderation settings.
    Properties,
    /// New grants and changed folder rights.
    Grants,
    /// Revocations and deletions.
    Revocations,
}

/// What a change does, for counting and rendering (`+`, `~`, `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates a mailbox or adds a grant or member.
    Add,
    /// Changes a value.
    Update,
    /// Revokes a grant or removes a member.
    Remove,
    /// Deletes a mailbox.
    Delete,
}

/// One step of a plan: one operation with the values it changes and its undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    /// The policy field it concerns, e.g. `sentItems.copyForSendAs` or `sendAs`.
    pub field: String,
    /// What it does.
    pub action: Action,
    /// When it runs.
    pub wave: Wave,
    /// The write.
    pub operation: Operation,
    /// The value before (none for an addition).
    pub before: Option<PlanValue>,
    /// The value after (none for a revocation).
    pub after: Option<PlanValue>,
    /// The write that undoes it, when there is one.
    pub inverse: Option<Operation>,
    /// A remark for the reviewer (orphaned principal, autoMapping caveat, ...).
    pub note: Option<String>,
    /// Why the change is needed, when the plan was compared with a base revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

impl Change {
    /// Whether this change takes access away: a grant revoked or a member removed
    /// ([`Action::Remove`]). The one meaning of "revocation": the summary's `N to revoke`,
    /// `--max-removals` ([`Plan::revocations`]) and the pull-request comment's call-out all
    /// count these. The revoke half of an autoMapping re-grant is not one (it is an
    /// [`Action::Update`]): the same principal is granted again in the same wave, so nobody
    /// ends up with less access, and a limit of `--max-removals 0` lets it through.
    pub fn is_revocation(&self) -> bool {
        self.action == Action::Remove
    }
}

/// A value a change moves from or to, as data: text, Markdown, JSON and drift are
/// renderers of it ([`Change::shown_before`], [`PlanValue::show`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PlanValue {
    /// A catalogued property's value, as Exchange takes it (shown by its definition).
    Setting {
        /// The value.
        value: Value,
        /// For an `inherit` (unset) `clients.smtpAuth`: the organisation's
        /// `SmtpClientAuthenticationDisabled` it follows, as the plan leaves it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        organization: Option<Value>,
    },
    /// A grant or a member of a principal list.
    Grant {
        /// Who.
        principal: Principal,
        /// A FullAccess grant's autoMapping, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto_mapping: Option<bool>,
        /// A folder entry's role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access: Option<String>,
        /// A calendar entry's delegate flags (`Delegate`, `CanViewPrivateItems`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
    },
    /// A secondary SMTP address of the mailbox (`aliases`), without prefix.
    Address {
        /// The address.
        address: String,
    },
    /// Whether the mailbox exists (`lifecycle.ensure`).
    Presence {
        /// Present or absent.
        present: bool,
    },
}

impl PlanValue {
    /// The value as people read it, for the policy field `field`: `true`, `"Support"`,
    /// `never`, `anna@contoso.com (autoMapping: false)`, `clara@contoso.com: Reviewer`,
    /// `present`.
    pub fn show(&self, field: &str) -> String {
        match self {
            PlanValue::Setting {
                value,
                organization,
            } => match (Property::at(field), OrganizationProperty::at(field)) {
                (Some(property), _) => {
                    let definition = property.definition();
                    match organization {
                        Some(effective) if *value == Value::Unset => format!(
                            "{} ({} by the organisation)",
                            definition.show(value),
                            definition.show(effective)
                        ),
                        _ => definition.show(value),
                    }
                }
                (None, Some(property)) => property.definition().show(value),
                (None, None) => format!("{value:?}"),
            },
            PlanValue::Grant {
                principal,
                auto_mapping,
                access,
                flags,
            } => {
                let mut shown = principal.label();
                if let Some(a) = auto_mapping {
                    shown.push_str(&format!(" (autoMapping: {a})"));
                }
                if let Some(access) = access {
                    shown.push_str(&format!(": {access}"));
                }
                if !flags.is_empty() {
                    shown.push_str(&format!(" ({})", sharedbox_tenant::shown_flags(flags)));
                }
                shown
            }
            PlanValue::Address { address } => sharedbox_tenant::printable(address, 320),
            PlanValue::Presence { present } => {
                (if *present { "present" } else { "absent" }).to_owned()
            }
        }
    }

    /// The value as a policy or a JSON report writes it: a setting by its definition's
    /// `policy_value` (`true`, `never`, `disabled`, `null` when not reported), anything else
    /// as shown.
    pub fn policy_value(&self, field: &str) -> serde_json::Value {
        match self {
            PlanValue::Setting { value, .. } => {
                match (Property::at(field), OrganizationProperty::at(field)) {
                    (Some(property), _) => property.definition().policy_value(value),
                    (None, Some(property)) => property.definition().policy_value(value),
                    (None, None) => serde_json::Value::from(value),
                }
            }
            other => other.show(field).into(),
        }
    }
}

impl Change {
    /// The value before, as people read it.
    pub fn shown_before(&self) -> Option<String> {
        self.before.as_ref().map(|v| v.show(&self.field))
    }

    /// The value after, as people read it.
    pub fn shown_after(&self) -> Option<String> {
        self.after.as_ref().map(|v| v.show(&self.field))
    }
}

/// Why a change is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The tenant moved away from a policy that did not change since the base revision.
    Drift,
    /// The policy changed since the base revision.
    PolicyChange,
    /// A setting or grant of a mailbox that does not exist yet: part of creating it, never
    /// drift (there is nothing in the tenant to have moved away from the policy).
    New,
}

/// How many of a plan's counted units (those of [`Plan::summary`]) are drift, policy changes
/// and new mailboxes: a mailbox to create or delete is one unit, like in the summary line, not
/// one per setting it is created with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CauseCounts {
    /// Changes the base policies would also make.
    pub drift: usize,
    /// Changes that follow from a policy changed since the base revision.
    pub policy_change: usize,
    /// Mailboxes to create.
    pub new: usize,
}

impl CauseCounts {
    /// All counted units; equals the total of [`Plan::summary`] when causes were judged.
    pub fn total(&self) -> usize {
        self.drift + self.policy_change + self.new
    }
}

/// What the causes of a plan's changes were judged against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Baseline {
    /// Not compared (the causes are not shown).
    #[default]
    NotCompared,
    /// Compared with the policies at this revision.
    Revision(String),
    /// A comparison was wanted but could not be made, for this reason.
    Unknown(String),
}

/// A list field's members before and after, for a readable diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListDiff {
    /// The policy field, e.g. `sendAs`.
    pub field: String,
    /// A qualifier shown after the field, e.g. the localised Sent Items folder name.
    pub qualifier: Option<String>,
    /// Members now, sorted, as shown to people.
    pub before: Vec<String>,
    /// Members after the plan, sorted.
    pub after: Vec<String>,
}

/// What happens to a mailbox as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailboxAction {
    /// It is created, then configured.
    Create,
    /// It exists and is changed in place.
    Update,
    /// It is deleted.
    Delete,
}

/// The changes to one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxPlan {
    /// Primary SMTP address.
    pub address: String,
    /// Create, update or delete.
    pub action: MailboxAction,
    /// The steps, in the order they are shown.
    pub changes: Vec<Change>,
    /// The list fields that change, with their members before and after.
    pub lists: Vec<ListDiff>,
    /// For a deletion: the grants on the mailbox that go with it (FullAccess, Send As, Send
    /// on Behalf, Sent Items readers; built-in and inherited entries not counted). They
    /// count against `--max-removals` like revocations.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost_grants: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Counts of a plan, as in `Plan: 1 to create, 4 to change, 2 to revoke.`
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// Mailboxes to create.
    pub create: usize,
    /// Settings changed and grants added on existing mailboxes and the tenant.
    pub change: usize,
    /// Grants revoked and members removed.
    pub revoke: usize,
    /// Mailboxes to delete.
    pub destroy: usize,
}

impl Summary {
    /// Everything the summary line counts.
    pub fn total(&self) -> usize {
        self.create + self.change + self.revoke + self.destroy
    }
}

/// Everything `apply` would do, ordered and explained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The tenant the plan was made against.
    pub tenant: String,
    /// Per-mailbox changes, ordered by address; mailboxes without changes are left out.
    pub mailboxes: Vec<MailboxPlan>,
    /// Organisation-wide changes.
    pub organization: Vec<Change>,
    /// Things a reviewer should know that do not stop the plan.
    pub warnings: Vec<Diagnostic>,
    /// Mailboxes that are managed and already in the desired state.
    pub unchanged: Vec<String>,
    /// What the changes' causes were judged against.
    pub baseline: Baseline,
}

impl Plan {
    /// The warnings split into lint findings (codes of the lint catalog) and the rest.
    pub fn lints_and_other_warnings(&self) -> (Vec<&Diagnostic>, Vec<&Diagnostic>) {
        self.warnings
            .iter()
            .partition(|w| sharedbox_policy::lint::find(w.code).is_some())
    }

    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.mailboxes.is_empty() && self.organization.is_empty()
    }

    /// The counts shown in the summary line.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for mailbox in &self.mailboxes {
            match mailbox.action {
                MailboxAction::Create => summary.create += 1,
                MailboxAction::Delete => summary.destroy += 1,
                MailboxAction::Update => {
                    for change in &mailbox.changes {
                        if change.is_revocation() {
                            summary.revoke += 1;
                        } else if change.action == Action::Delete {
                            summary.destroy += 1;
                        } else {
                            summary.change += 1;
                        }
                    }
                }
            }
        }
        summary.change += self.organization.len();
        summary
    }

    /// Every change in execution order: by wave, then mailbox, then the order within the mailbox.
    pub fn ordered_changes(&self) -> Vec<&Change> {
        let mut all: Vec<&Change> = self
            .organization
            .iter()
            .chain(self.mailboxes.iter().flat_map(|m| m.changes.iter()))
            .collect();
        all.sort_by_key(|c| c.wave);
        all
    }

    /// Labels every change as drift or policy change by comparing with `base`, the plan the
    /// policies at `revision` give for the same tenant state: a change that plan has too is
    /// drift (the tenant moved away from an unchanged policy); any other is a policy change.
    /// The changes of a mailbox to create are [`Cause::New`]: it does not exist, so nothing
    /// in the tenant drifted.
    pub fn label_causes(&mut self, base: &Plan, revision: &str) {
        let base_ops: Vec<&Operation> = base
            .ordered_changes()
            .into_iter()
            .map(|c| &c.operation)
            .collect();
        let judge = |change: &mut Change| {
            change.cause = Some(if base_ops.contains(&&change.operation) {
                Cause::Drift
            } else {
                Cause::PolicyChange
            });
        };
        for mailbox in &mut self.mailboxes {
            if mailbox.action == MailboxAction::Create {
                for change in &mut mailbox.changes {
                    change.cause = Some(Cause::New);
                }
            } else {
                mailbox.changes.iter_mut().for_each(judge);
            }
        }
        self.organization.iter_mut().for_each(judge);
        self.baseline = Baseline::Revision(revision.to_owned());
    }

    /// How many of the units the summary line counts are drift, policy changes and new
    /// mailboxes. A mailbox to create counts once (new), a mailbox to delete once (by the
    /// cause of its deletion), any other change once: the three add up to the summary's
    /// total ([`Summary::total`]) once the causes are judged.
    pub fn cause_counts(&self) -> CauseCounts {
        let mut counts = CauseCounts::default();
        let mut count = |cause: Option<Cause>| match cause {
            Some(Cause::Drift) => counts.drift += 1,
            Some(Cause::PolicyChange) => counts.policy_change += 1,
            Some(Cause::New) => counts.new += 1,
            None => {}
        };
        for mailbox in &self.mailboxes {
            match mailbox.action {
                MailboxAction::Create => count(mailbox.changes.first().and_then(|c| c.cause)),
                MailboxAction::Delete => count(
                    mailbox
                        .changes
                        .iter()
                        .find(|c| c.action == Action::Delete)
                        .or(mailbox.changes.first())
                        .and_then(|c| c.cause),
                ),
                MailboxAction::Update => mailbox.changes.iter().for_each(|c| count(c.cause)),
            }
        }
        self.organization.iter().for_each(|c| count(c.cause));
        counts
    }

    /// The steps `sharedbox rollback` cannot undo, one line each (mailbox, field, what is
    /// lost and why): a change without an inverse (a revoke of a truly orphaned SID, a
    /// setting whose value before Exchange did not report) and a deleted mailbox. Shown by
    /// the text plan and the Markdown comment before apply asks for confirmation.
    pub fn irreversible(&self) -> Vec<String> {
        let mut out = Vec::new();
        for mailbox in &self.mailboxes {
            if mailbox.action == MailboxAction::Delete {
                out.push(format!(
                    "`{}`: the mailbox is deleted (Exchange keeps it soft-deleted for 30 days)",
                    mailbox.address
                ));
                continue;
            }
            for change in &mailbox.changes {
                if change.inverse.is_some() || change.action == Action::Add {
                    continue;
                }
                let what = change
                    .shown_before()
                    .map(|b| format!(" {b}"))
                    .unwrap_or_default();
                let orphan = matches!(&change.before, Some(PlanValue::Grant { principal, .. }) if principal.is_orphaned());
                let why = if orphan {
                    "nothing in the directory has this SID, so it cannot be granted again"
                } else {
                    "Exchange did not report the value before, so there is none to put back"
                };
                out.push(format!(
                    "`{}`: {}{what}: {why}",
                    mailbox.address, change.field
                ));
            }
        }
        out
    }

    /// How many grants the plan takes away (what `--max-removals` limits): the revocations of
    /// the summary line (`Z to revoke`, [`Change::is_revocation`]), and the grants on
    /// mailboxes it deletes. An autoMapping re-grant (revoked and granted again in one wave)
    /// is a change, not a revocation, in both.
    pub fn revocations(&self) -> usize {
        self.summary().revoke + self.mailboxes.iter().map(|m| m.lost_grants).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharedbox_tenant::{PrincipalId, Value};

    fn set(mailbox: &str, property: Property, field: &str) -> Change {
        Change {
            field: field.into(),
            action: Action::Update,
            wave: Wave::Properties,
            operation: Operation::set(mailbox, property, Value::Flag(true)),
            before: None,
            after: None,
            inverse: None,
            note: None,
            cause: None,
        }
    }

    fn revoke(mailbox: &str, who: &str) -> Change {
        let principal = Principal::Recipient {
            id: PrincipalId(format!("id-{who}")),
            address: who.into(),
            app_id: None,
        };
        Change {
            field: "sendAs".into(),
            action: Action::Remove,
            wave: Wave::Revocations,
            operation: Operation::RevokeSendAs {
                mailbox: mailbox.into(),
                principal,
            },
            before: None,
            after: None,
            inverse: None,
            note: None,
            cause: None,
        }
    }

    fn mailbox(address: &str, action: MailboxAction, changes: Vec<Change>) -> MailboxPlan {
        MailboxPlan {
            address: address.into(),
            action,
            changes,
            lists: Vec::new(),
            lost_grants: 0,
        }
    }

    /// A mailbox to create counts once and as new however many settings it is created with;
    /// the drift line's three counts add up to the summary's total.
    #[test]
    fn cause_counts_add_up_to_the_summary() {
        let created = mailbox(
            "neu@x.com",
            MailboxAction::Create,
            vec![
                set(
                    "neu@x.com",
                    Property::HiddenFromAddressLists,
                    "hiddenFromAddressLists",
                ),
                set(
                    "neu@x.com",
                    Property::CopyForSendAs,
                    "sentItems.copyForSendAs",
                ),
                set(
                    "neu@x.com",
                    Property::CopyForSendOnBehalf,
                    "sentItems.copyForSendOnBehalf",
                ),
            ],
        );
        let drifted = set(
            "a@x.com",
            Property::CopyForSendAs,
            "sentItems.copyForSendAs",
        );
        let updated = mailbox(
            "a@x.com",
            MailboxAction::Update,
            vec![
                drifted.clone(),
                set(
                    "a@x.com",
                    Property::HiddenFromAddressLists,
                    "hiddenFromAddressLists",
                ),
                revoke("a@x.com", "ben@x.com"),
            ],
        );
        let mut plan = Plan {
            tenant: "t".into(),
            mailboxes: vec![created.clone(), updated],
            ..Plan::default()
        };
        // The base plan would make the drifted change, and create the mailbox too.
        let base = Plan {
            mailboxes: vec![
                created,
                mailbox("a@x.com", MailboxAction::Update, vec![drifted]),
            ],
            ..Plan::default()
        };
        plan.label_causes(&base, "main");
        let counts = plan.cause_counts();
        assert_eq!(
            counts,
            CauseCounts {
                drift: 1,
                policy_change: 2,
                new: 1
            }
        );
        assert_eq!(counts.total(), plan.summary().total());
        assert!(
            plan.mailboxes[0]
                .changes
                .iter()
                .all(|c| c.cause == Some(Cause::New)),
            "a mailbox that does not exist has not drifted"
        );
    }
}
