//! Drift: is the tenant in the desired state? A read-only report per managed mailbox in the
//! DSC vocabulary (`inDesiredState`, `differingProperties` with desired and actual values),
//! plus the shared mailboxes no policy manages.

use std::fmt::Write;

use serde::Serialize;
use sharedbox_policy::PolicySet;
use sharedbox_tenant::Snapshot;

use crate::plan::{Change, MailboxAction, Plan, PlanValue};

/// The drift report's format version.
pub const DRIFT_FORMAT_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    /// [`DRIFT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The tenant.
    pub tenant: String,
    /// Whether every managed mailbox and the tenant settings are as the policies say.
    pub in_desired_state: bool,
    /// One entry per managed mailbox, by address.
    pub mailboxes: Vec<MailboxDrift>,
    /// The tenant settings, when a `TenantSettings` policy exists.
    pub tenant_settings: Option<SettingsDrift>,
    /// Shared mailboxes in the tenant that no policy manages.
    pub unmanaged: Vec<String>,
}

/// Drift of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailboxDrift {
    /// Primary SMTP address.
    pub mailbox: String,
    /// Whether it exists in the tenant.
    pub exists: bool,
    /// Whether it is as its policy says.
    pub in_desired_state: bool,
    /// What differs.
    pub differing_properties: Vec<DifferingProperty>,
}

/// Drift of the tenant settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDrift {
    /// Whether they are as the policy says.
    pub in_desired_state: bool,
    /// What differs.
    pub differing_properties: Vec<DifferingProperty>,
}

/// One property that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DifferingProperty {
    /// The policy field, e.g. `sendAs` or `clients.imap`.
    pub property: String,
    /// What the policy says.
    pub desired: serde_json::Value,
    /// What the tenant has.
    pub actual: serde_json::Value,
}

/// Builds the report from the plan that would fix the drift.
pub fn drift_report(plan: &Plan, policies: &PolicySet, snapshot: &Snapshot) -> DriftReport {
    let mut mailboxes = Vec::new();
    for policy in &policies.mailboxes {
        let address = &policy.address.value;
        let exists = snapshot.mailbox(address).is_some();
        let Some(changes) = plan.mailboxes.iter().find(|m| &m.address == address) else {
            mailboxes.push(MailboxDrift {
                mailbox: address.clone(),
                exists,
                in_desired_state: true,
                differing_properties: Vec::new(),
            });
            continue;
        };
        let mut properties: Vec<DifferingProperty> = Vec::new();
        match changes.action {
            MailboxAction::Create => properties.push(DifferingProperty {
                property: "mailbox".into(),
                desired: "present".into(),
                actual: "absent".into(),
            }),
            MailboxAction::Delete => properties.push(DifferingProperty {
                property: "mailbox".into(),
                desired: "absent".into(),
                actual: "present".into(),
            }),
            MailboxAction::Update => {}
        }
        for list in &changes.lists {
            properties.push(DifferingProperty {
                property: list.field.clone(),
                desired: list.after.clone().into(),
                actual: list.before.clone().into(),
            });
        }
        for change in &changes.changes {
            let is_list = changes.lists.iter().any(|l| l.field == change.field);
            if is_list
                || change.field == "lifecycle.ensure"
                || properties.iter().any(|p| p.property == change.field)
            {
                continue;
            }
            if changes.action == MailboxAction::Create && change.field == "displayName" {
                continue;
            }
            properties.push(DifferingProperty {
                property: change.field.clone(),
                desired: policy_value(change, change.after.as_ref()),
                actual: policy_value(change, change.before.as_ref()),
            });
        }
        mailboxes.push(MailboxDrift {
            mailbox: address.clone(),
            exists,
            in_desired_state: false,
            differing_properties: properties,
        });
    }
    let tenant_settings = policies.tenant_settings.as_ref().map(|_| {
        let differing_properties: Vec<DifferingProperty> = plan
            .organization
            .iter()
            .map(|c| DifferingProperty {
                property: c.field.clone(),
                desired: policy_value(c, c.after.as_ref()),
                actual: policy_value(c, c.before.as_ref()),
            })
            .collect();
        SettingsDrift {
            in_desired_state: differing_properties.is_empty(),
            differing_properties,
        }
    });
    let mut unmanaged: Vec<String> = snapshot
        .all_shared_mailboxes
        .iter()
        .filter(|a| policies.mailbox(a).is_none())
        .map(|a| a.to_ascii_lowercase())
        .collect();
    unmanaged.sort();
    let in_desired_state = mailboxes.iter().all(|m| m.in_desired_state)
        && tenant_settings.as_ref().is_none_or(|t| t.in_desired_state);
    DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        tenant: snapshot.tenant.clone(),
        in_desired_state,
        mailboxes,
        tenant_settings,
        unmanaged,
    }
}

/// A rendered plan value as JSON: booleans as booleans, quoted text unquoted.
/// A change's value as a policy writes it (`null` when there is none).
/// Something the change creates (a registration) was `"absent"` before.
fn policy_value(change: &Change, value: Option<&PlanValue>) -> serde_json::Value {
    match value {
        Some(v) => v.policy_value(&change.field),
        None if matches!(change.after, Some(PlanValue::Presence { .. })) => "absent".into(),
        None => serde_json::Value::Null,
    }
}

fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        serde_json::Value::Array(items) => items.iter().map(value).collect::<Vec<_>>().join(", "),
        serde_json::Value::Null => "(unset)".to_owned(),
        other => other.to_string(),
    }
}

impl DriftReport {
    /// Managed mailboxes that are not in the desired state.
    pub fn drifted(&self) -> usize {
        self.mailboxes
            .iter()
            .filter(|m| !m.in_desired_state)
            .count()
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Drift report for `{}`: {} of {} managed mailbox{} in the desired state{}.",
            self.tenant,
            self.mailboxes.len() - self.drifted(),
            self.mailboxes.len(),
            if self.mailboxes.len() == 1 { "" } else { "es" },
            match &self.tenant_settings {
                Some(t) if !t.in_desired_state => "; tenant settings drifted",
                Some(_) => "; tenant settings in the desired state",
                None => "",
            }
        );
        for m in self.mailboxes.iter().filter(|m| !m.in_desired_state) {
            let _ = writeln!(
                out,
                "\n  {}{}",
                m.mailbox,
                if m.exists { "" } else { " (does not exist)" }
            );
            for p in &m.differing_properties {
                let _ = writeln!(
                    out,
                    "    {}: desired {}, actual {}",
                    p.property,
                    value(&p.desired),
                    value(&p.actual)
                );
            }
        }
        if let Some(t) = self
            .tenant_settings
            .as_ref()
            .filter(|t| !t.in_desired_state)
        {
            let _ = writeln!(out, "\n  tenant settings");
            for p in &t.differing_properties {
                let _ = writeln!(
                    out,
                    "    {}: desired {}, actual {}",
                    p.property,
                    value(&p.desired),
                    value(&p.actual)
                );
            }
        }
        if !self.unmanaged.is_empty() {
            let _ = writeln!(
                out,
                "\nUnmanaged shared mailboxes (no policy): {}",
                self.unmanaged.join(", ")
            );
        }
        out
    }

    /// The report as Markdown (for an issue or a job summary).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let status = if self.in_desired_state {
            "in the desired state"
        } else {
            "**drifted**"
        };
        let _ = writeln!(out, "### sharedbox drift: `{}` is {status}\n", self.tenant);
        let _ = writeln!(
            out,
            "{} of {} managed mailboxes in the desired state; {} unmanaged.\n",
            self.mailboxes.len() - self.drifted(),
            self.mailboxes.len(),
            self.unmanaged.len()
        );
        let drifted: Vec<&MailboxDrift> = self
            .mailboxes
            .iter()
            .filter(|m| !m.in_desired_state)
            .collect();
        let settings = self
            .tenant_settings
            .as_ref()
            .filter(|t| !t.in_desired_state);
        if !drifted.is_empty() || settings.is_some() {
            let _ = writeln!(
                out,
                "| mailbox | property | desired | actual |\n|---|---|---|---|"
            );
            for m in drifted {
                for p in &m.differing_properties {
                    let _ = writeln!(
                        out,
                        "| `{}` | `{}` | {} | {} |",
                        m.mailbox,
                        p.property,
                        md(&value(&p.desired)),
                        md(&value(&p.actual))
                    );
                }
            }
            for p in settings.iter().flat_map(|t| &t.differing_properties) {
                let _ = writeln!(
                    out,
                    "| tenant settings | `{}` | {} | {} |",
                    p.property,
                    md(&value(&p.desired)),
                    md(&value(&p.actual))
                );
            }
        }
        if !self.unmanaged.is_empty() {
            let _ = writeln!(
                out,
                "\nUnmanaged shared mailboxes: {}",
                self.unmanaged
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out
    }
}

/// Escapes a table cell.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
