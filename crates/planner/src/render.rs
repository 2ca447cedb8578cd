//! Human rendering of a plan, in the terraform style: one block per mailbox, `+`/`~`/`-`,
//! list fields as readable diffs (unchanged members shown as context), and a summary line.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, Baseline, Cause, Change, MailboxAction, MailboxPlan, Plan, PlanValue};

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours (only on a terminal, never with `NO_COLOR`).
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn add(self, t: &str) -> String {
        self.paint("32", t)
    }
    fn update(self, t: &str) -> String {
        self.paint("33", t)
    }
    fn remove(self, t: &str) -> String {
        self.paint("31", t)
    }
    fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
}

/// The summary line: `Plan: 1 to create, 4 to change, 2 to revoke.` (with `, N to destroy` when any).
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let mut line = format!(
        "Plan: {} to create, {} to change, {} to revoke",
        s.create, s.change, s.revoke
    );
    if s.destroy > 0 {
        let _ = write!(line, ", {} to destroy", s.destroy);
    }
    line.push('.');
    line
}

/// Renders the whole plan as text.
pub fn render_text(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "{}\n\nThe tenant `{}` matches the policies ({} managed mailbox{}). sharedbox will change nothing.",
            style.bold("No changes."),
            plan.tenant,
            plan.unchanged.len(),
            if plan.unchanged.len() == 1 { "" } else { "es" }
        );
        return out;
    }
    let _ = writeln!(
        out,
        "sharedbox will perform the following actions on `{}`:",
        plan.tenant
    );
    let _ = writeln!(
        out,
        "(symbols: {} create/add, {} change, {} revoke/delete)",
        style.add("+"),
        style.update("~"),
        style.remove("-")
    );
    for mailbox in &plan.mailboxes {
        out.push('\n');
        render_mailbox(&mut out, mailbox, style);
    }
    if !plan.organization.is_empty() {
        out.push('\n');
        render_organization(&mut out, &plan.organization, style);
    }
    let _ = writeln!(out, "\n{}", style.bold(&summary_line(plan)));
    if let Some(line) = baseline_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    let irreversible = plan.irreversible();
    if !irreversible.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.remove(&format!(
                "{} cannot be undone by `sharedbox rollback`:",
                match irreversible.len() {
                    1 => "1 step".to_owned(),
                    n => format!("{n} steps"),
                }
            ))
        );
        for line in irreversible {
            let _ = writeln!(out, "  - {line}");
        }
    }
    out
}

/// Whether drift and policy changes were told apart, as a sentence (`None` when not compared).
pub fn baseline_line(plan: &Plan) -> Option<String> {
    match &plan.baseline {
        Baseline::NotCompared => None,
        Baseline::Revision(revision) => {
            let counts = plan.cause_counts();
            let (drift, policy, new) = (counts.drift, counts.policy_change, counts.new);
            let policy = format!(
                "{policy} {} policy change{}",
                if policy == 1 { "is a" } else { "are" },
                if policy == 1 { "" } else { "s" }
            );
            let tail = match new {
                0 => format!(" and {policy}"),
                1 => format!(", {policy} and 1 is a new mailbox"),
                n => format!(", {policy} and {n} are new mailboxes"),
            };
            Some(format!(
                "Of these, {drift} {} drift (the tenant moved away from policies unchanged since `{revision}`){tail}.",
                if drift == 1 { "is" } else { "are" },
            ))
        }
        Baseline::Unknown(reason) => Some(format!(
            "Drift and policy changes are not told apart: {reason}."
        )),
    }
}

/// The tenant settings block.
pub(crate) fn render_organization(out: &mut String, changes: &[Change], style: Style) {
    let _ = writeln!(out, "  # tenant settings will be updated");
    let _ = writeln!(out, "  {} tenant settings {{", style.update("~"));
    let width = changes.iter().map(|c| c.field.len()).max().unwrap_or(0);
    for change in changes {
        render_scalar(out, change, width, style);
    }
    let _ = writeln!(out, "    }}");
}

/// One mailbox's block.
pub(crate) fn render_mailbox(out: &mut String, mailbox: &MailboxPlan, style: Style) {
    let (verb, symbol) = match mailbox.action {
        MailboxAction::Create => ("will be created", style.add("+")),
        MailboxAction::Update => ("will be updated in place", style.update("~")),
        MailboxAction::Delete => ("will be DELETED", style.remove("-")),
    };
    let lost = match mailbox.lost_grants {
        0 => String::new(),
        1 => ", and 1 grant on it with it".to_owned(),
        n => format!(", and {n} grants on it with it"),
    };
    let _ = writeln!(out, "  # {} {verb}{lost}", style.bold(&mailbox.address));
    let _ = writeln!(out, "  {symbol} shared mailbox \"{}\" {{", mailbox.address);
    // A root visibility write is shown on its own line even next to its list: it is a write
    // to another folder than the list's.
    let scalars: Vec<&Change> = mailbox
        .changes
        .iter()
        .filter(|c| c.operation.touches_root() || !mailbox.lists.iter().any(|l| l.field == c.field))
        .collect();
    let width = scalars
        .iter()
        .map(|c| shown_field(c).chars().count())
        .max()
        .unwrap_or(0);
    for change in &scalars {
        render_scalar(out, change, width, style);
    }
    for list in &mailbox.lists {
        let title = match &list.qualifier {
            Some(q) => format!("{} (folder \"{q}\")", list.field),
            None => list.field.to_owned(),
        };
        let _ = writeln!(out, "      {} {title} = [", style.update("~"));
        let before = list
            .before
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let after = list
            .after
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let diff = TextDiff::from_lines(&before, &after);
        for change in diff.iter_all_changes() {
            let line = change.value().trim_end();
            match change.tag() {
                ChangeTag::Equal => {
                    let _ = writeln!(out, "            {line}");
                }
                ChangeTag::Insert => {
                    let cause = item_cause(mailbox, &list.field, |c| {
                        c.shown_after().as_deref() == Some(line)
                    });
                    let _ = writeln!(out, "          {} {line}{cause}", style.add("+"));
                }
                ChangeTag::Delete => {
                    let cause = item_cause(mailbox, &list.field, |c| {
                        c.shown_before().as_deref() == Some(line)
                    });
                    let _ = writeln!(out, "          {} {line}{cause}", style.remove("-"));
                }
            }
        }
        let _ = writeln!(out, "        ]");
    }
    let mut notes: Vec<&str> = mailbox
        .changes
        .iter()
        .filter_map(|c| c.note.as_deref())
        .collect();
    notes.dedup();
    for note in notes {
        let _ = writeln!(out, "      # note: {note}");
    }
    let _ = writeln!(out, "    }}");
}

/// The cause suffix of the list item change that `is_item` picks.
fn item_cause(
    mailbox: &MailboxPlan,
    field: &str,
    is_item: impl Fn(&Change) -> bool,
) -> &'static str {
    let cause = mailbox
        .changes
        .iter()
        .find(|c| c.field == field && is_item(c))
        .and_then(|c| c.cause);
    cause_suffix(cause)
}

/// The field as a line shows it: a root visibility write as `sentItemsReaders (mailbox
/// root)`, so that it does not read as the whole list.
pub fn field_label<'a>(
    field: &'a str,
    operation: &sharedbox_tenant::Operation,
) -> std::borrow::Cow<'a, str> {
    if operation.touches_root() {
        format!("{field} (mailbox root)").into()
    } else {
        field.into()
    }
}

/// [`field_label`] of a planned change.
pub(crate) fn shown_field(change: &Change) -> std::borrow::Cow<'_, str> {
    field_label(&change.field, &change.operation)
}

fn render_scalar(out: &mut String, change: &Change, width: usize, style: Style) {
    let field = format!("{:width$}", shown_field(change));
    let cause = cause_suffix(change.cause);
    let (symbol, value) = scalar_parts(
        change.action,
        change.shown_before(),
        change.shown_after(),
        style,
    );
    let _ = writeln!(out, "      {symbol} {field}{value}{cause}");
}

/// The symbol and ` = before -> after` part of a change's line.
fn scalar_parts(
    action: Action,
    before: Option<String>,
    after: Option<String>,
    style: Style,
) -> (String, String) {
    match (action, before, after) {
        (Action::Add, _, Some(after)) => (style.add("+"), format!(" = {after}")),
        (Action::Delete, Some(before), Some(after)) => {
            (style.remove("-"), format!(" = {before} -> {after}"))
        }
        (_, Some(before), Some(after)) => (style.update("~"), format!(" = {before} -> {after}")),
        (_, Some(before), None) => (style.remove("-"), format!(" = {before}")),
        (_, None, _) => (style.update("~"), String::new()),
    }
}

/// One change on one line, as the plan shows a setting: `~ moderation.notifications = always
/// -> internal`, `+ moderation.moderators = paul@contoso.com`, `- sendAs = S-1-5-21-… (orphaned)`.
/// `runs show` and the rollback preview print journaled steps with it, so a run reads like the
/// plan that made it.
pub fn change_line(
    field: &str,
    action: Action,
    before: Option<&PlanValue>,
    after: Option<&PlanValue>,
) -> String {
    let (symbol, value) = scalar_parts(
        action,
        before.map(|v| v.show(field)),
        after.map(|v| v.show(field)),
        Style::default(),
    );
    format!("{symbol} {field}{value}")
}

/// `  # drift` or `  # policy change` after a change, when causes were judged.
fn cause_suffix(cause: Option<Cause>) -> &'static str {
    match cause {
        Some(Cause::Drift) => "  # drift",
        Some(Cause::PolicyChange) => "  # policy change",
        // The mailbox's header already says it will be created.
        Some(Cause::New) | None => "",
    }
}
