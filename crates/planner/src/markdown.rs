//! The plan as a pull-request comment (GitHub-flavoured Markdown): the summary line, the
//! revocations and deletions called out, then one collapsible `<details>` per mailbox with a
//! ```` ```diff ```` block. Mailboxes that lose access or are deleted come first and open.
//!
//! The comment is capped (GitHub refuses comments over 65,536 characters): what does not fit
//! is named, then counted, and the reader is told where the full plan is.

use std::fmt::Write;

use sharedbox_policy::{Diagnostic, Severity};

use crate::plan::{Action, MailboxAction, MailboxPlan, Plan};
use crate::render::{Style, baseline_line, render_mailbox, render_organization, summary_line};

/// The default cap, below GitHub's comment limit with room for a workflow's own lines.
pub const COMMENT_LIMIT: usize = 60_000;

/// How to render.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// The longest comment, in characters.
    pub max_chars: usize,
    /// Where the full plan is, for the note on what was cut (e.g. "the `sharedbox-plan`
    /// artifact of this run").
    pub full_plan: String,
}

impl Default for MarkdownOptions {
    fn default() -> MarkdownOptions {
        MarkdownOptions {
            max_chars: COMMENT_LIMIT,
            full_plan: "run `sharedbox plan` or `sharedbox show PLANFILE` for every mailbox"
                .to_owned(),
        }
    }
}

/// How many revocations and deletions the caution lists by name.
const CALLED_OUT: usize = 30;

/// Renders the plan as a Markdown comment of at most `options.max_chars` characters.
pub fn render_markdown(plan: &Plan, options: &MarkdownOptions) -> String {
    let mut out = format!("### sharedbox plan for `{}`\n\n", plan.tenant);
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "**No changes.** The tenant matches the policies ({} managed mailbox{}).",
            plan.unchanged.len(),
            if plan.unchanged.len() == 1 { "" } else { "es" }
        );
        let (lints, _) = plan.lints_and_other_warnings();
        if !lints.is_empty() {
            out.push('\n');
            out.push_str(&findings_section(&lints));
        }
        return truncate(out, options.max_chars);
    }
    let _ = writeln!(out, "**{}**", summary_line(plan));
    if let Some(line) = baseline_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    caution(&mut out, plan);
    irreversible(&mut out, plan);
    let (lints, others) = plan.lints_and_other_warnings();
    for warning in others {
        let _ = writeln!(out, "\n> [!WARNING]\n> {}", text(&warning.to_string()));
    }
    if !lints.is_empty() {
        out.push('\n');
        out.push_str(&findings_section(&lints));
    }
    out.push('\n');

    let mut sections: Vec<(bool, String, String)> = plan
        .mailboxes
        .iter()
        .map(|m| (is_dangerous(m), m.address.clone(), mailbox_section(m)))
        .collect();
    // Dangerous first, then the plan's (address) order.
    sections.sort_by_key(|(dangerous, _, _)| !dangerous);
    if !plan.organization.is_empty() {
        let mut block = String::new();
        render_organization(&mut block, &plan.organization, Style::default());
        sections.insert(
            0,
            (
                false,
                "tenant settings".to_owned(),
                details(
                    false,
                    &format!(
                        "~ tenant settings: {}",
                        count(plan.organization.len(), "change")
                    ),
                    &block,
                ),
            ),
        );
    }

    // Room for the note on what was cut, however long the names list gets.
    let reserve = 600 + options.full_plan.len();
    let mut cut = Vec::new();
    for (_, name, section) in sections {
        if cut.is_empty() && out.len() + section.len() + reserve <= options.max_chars {
            out.push_str(&section);
        } else {
            cut.push(name);
        }
    }
    if !cut.is_empty() {
        let budget = options
            .max_chars
            .saturating_sub(out.len() + 300 + options.full_plan.len());
        let mut names = String::new();
        let mut named = 0;
        for name in &cut {
            let item = format!("`{name}`, ");
            if names.len() + item.len() > budget {
                break;
            }
            names.push_str(&item);
            named += 1;
        }
        let names = names.trim_end_matches(", ");
        let _ = write!(
            out,
            "\n**{} not shown** (this comment is capped at {} characters)",
            count(cut.len(), "more section"),
            options.max_chars
        );
        if named > 0 {
            let _ = write!(out, ": {names}");
            if named < cut.len() {
                let _ = write!(out, " and {} more", cut.len() - named);
            }
        }
        let _ = writeln!(out, ".\nThe full plan: {}.", options.full_plan);
    }
    truncate(out, options.max_chars)
}

/// How many lint findings the comment lists; `sharedbox validate` shows them all.
const FINDINGS_LISTED: usize = 40;

/// Lint findings as a Markdown list: severity, code, `file:line:column`, message, hint.
pub fn findings_list(findings: &[Diagnostic]) -> String {
    findings.iter().map(finding_item).collect()
}

fn finding_item(d: &Diagnostic) -> String {
    let severity = d.severity.as_str();
    let place = d
        .origin
        .as_ref()
        .map(|o| format!(" `{}:{}:{}`", o.source.path.display(), o.line, o.column))
        .unwrap_or_default();
    let mut item = format!(
        "- **{severity}** `{}`{place}: {}\n",
        d.code,
        text(&d.message)
    );
    if let Some(hint) = &d.hint {
        let _ = writeln!(item, "  <br>hint: {}", text(hint));
    }
    item
}

/// The lint findings of a plan as a collapsible section, open when one is a warning or
/// worse, listing at most [`FINDINGS_LISTED`].
fn findings_section(findings: &[&Diagnostic]) -> String {
    let warnings = findings
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .count();
    let open = warnings > 0;
    let mut body: String = findings
        .iter()
        .take(FINDINGS_LISTED)
        .map(|d| finding_item(d))
        .collect();
    if findings.len() > FINDINGS_LISTED {
        let _ = writeln!(
            body,
            "- and {} more: `sharedbox validate` lists every offline finding",
            findings.len() - FINDINGS_LISTED
        );
    }
    format!(
        "<details{}><summary>{}{} ({} or worse); <code>sharedbox explain CODE</code> says why each matters</summary>\n\n{body}\n</details>\n",
        if open { " open" } else { "" },
        if open { "⚠️ " } else { "" },
        count(findings.len(), "lint finding"),
        count(warnings, "warning"),
    )
}

/// Whether people lose access or a mailbox goes away.
fn is_dangerous(mailbox: &MailboxPlan) -> bool {
    mailbox.action == MailboxAction::Delete
        || mailbox
            .changes
            .iter()
            .any(|c| c.is_revocation() || c.action == Action::Delete)
}

/// The call-out of revocations and deletions, by name up to [`CALLED_OUT`].
fn caution(out: &mut String, plan: &Plan) {
    let mut lines = Vec::new();
    for mailbox in &plan.mailboxes {
        if mailbox.action == MailboxAction::Delete {
            lines.push(format!(
                "- **deletes** the mailbox `{}`{}",
                mailbox.address,
                match mailbox.lost_grants {
                    0 => String::new(),
                    n => format!(" and the {} on it", count(n, "grant")),
                }
            ));
            continue;
        }
        for change in &mailbox.changes {
            match change.action {
                Action::Remove => lines.push(format!(
                    "- `{}`: revokes `{}` {}",
                    mailbox.address,
                    crate::render::shown_field(change),
                    change
                        .shown_before()
                        .as_deref()
                        .map(code)
                        .unwrap_or_default()
                )),
                Action::Delete => lines.push(format!(
                    "- `{}`: **deletes** `{}`",
                    mailbox.address, change.field
                )),
                Action::Add | Action::Update => {}
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n> [!CAUTION]\n> This plan takes access away or deletes ({}):",
        count(lines.len(), "item")
    );
    for line in lines.iter().take(CALLED_OUT) {
        let _ = writeln!(out, "> {}", line.trim_end());
    }
    if lines.len() > CALLED_OUT {
        let _ = writeln!(out, "> - and {} more", lines.len() - CALLED_OUT);
    }
}

/// The steps rollback cannot undo, by name up to [`CALLED_OUT`].
fn irreversible(out: &mut String, plan: &Plan) {
    let lines = plan.irreversible();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n> [!WARNING]\n> {} cannot be undone by `sharedbox rollback`:",
        count(lines.len(), "step")
    );
    for line in lines.iter().take(CALLED_OUT) {
        let _ = writeln!(out, "> - {}", text(&one_line(line)));
    }
    if lines.len() > CALLED_OUT {
        let _ = writeln!(out, "> - and {} more", lines.len() - CALLED_OUT);
    }
}

/// One mailbox as a `<details>` section.
fn mailbox_section(mailbox: &MailboxPlan) -> String {
    let mut block = String::new();
    render_mailbox(&mut block, mailbox, Style::default());
    let (symbol, verb) = match mailbox.action {
        MailboxAction::Create => ("+", "created"),
        MailboxAction::Update => ("~", "updated"),
        MailboxAction::Delete => ("-", "DELETED"),
    };
    let revokes = mailbox.changes.iter().filter(|c| c.is_revocation()).count();
    let mut title = format!(
        "{symbol} {}: {verb}, {}",
        mailbox.address,
        count(mailbox.changes.len(), "change")
    );
    if revokes > 0 {
        let _ = write!(title, ", {}", count(revokes, "revocation"));
    }
    details(is_dangerous(mailbox), &title, &block)
}

/// A collapsible section with a diff block; open when it needs attention.
fn details(open: bool, title: &str, text_block: &str) -> String {
    let diff: String = text_block.lines().map(|l| diff_line(l) + "\n").collect();
    // Longer than any run of backticks inside, so tenant data cannot close the block.
    let fence = "`".repeat(longest_backtick_run(&diff).max(2) + 1);
    let title = html(title);
    let title = if open {
        format!("<b>{title}</b>")
    } else {
        title
    };
    format!(
        "<details{}><summary>{title}</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n",
        if open { " open" } else { "" }
    )
}

/// A text-rendering line for a `diff` block: the `+`/`-`/`~` symbol moved to the first
/// column (`~` as `!`, which GitHub highlights as a change).
fn diff_line(line: &str) -> String {
    let rest = line.trim_start();
    let indent = &line[..line.len() - rest.len()];
    match rest.split_once(' ') {
        Some((symbol @ ("+" | "-" | "~"), tail)) => {
            let symbol = if symbol == "~" { "!" } else { symbol };
            format!("{symbol}{indent}{tail}")
        }
        _ => format!(" {line}"),
    }
}

fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// `text` (tenant data, such as a display name) as one inline code span that no backtick
/// inside it can end early (CommonMark: a longer backtick string, padded when needed).
fn code(text: &str) -> String {
    let text = one_line(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A message (which may quote tenant data) as Markdown text on one line: HTML escaped, and
/// links, images and @-mentions defused with a zero-width space, so that a display name
/// cannot put a link into the pull request or notify a team. The `@` of an address (after
/// a letter or digit) is no mention and stays, so addresses can be copied.
fn text(message: &str) -> String {
    let escaped = html(&one_line(message)).replace("](", "]\u{200b}(");
    let mut out = String::with_capacity(escaped.len());
    let mut previous = ' ';
    for c in escaped.chars() {
        out.push(c);
        if c == '@' && !(previous.is_alphanumeric() || "._-+".contains(previous)) {
            out.push('\u{200b}');
        }
        previous = c;
    }
    out
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The last resort of the cap: cut at a line boundary and say so.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let note = "\n\n… (cut at the comment limit)\n";
    let mut end = max.saturating_sub(note.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    text.truncate(end);
    text.push_str(note);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_move_to_the_first_column() {
        assert_eq!(
            diff_line("      + alice@contoso.com"),
            "+      alice@contoso.com"
        );
        assert_eq!(
            diff_line("      ~ hidden = false -> true"),
            "!      hidden = false -> true"
        );
        assert_eq!(
            diff_line("            bob@contoso.com"),
            "             bob@contoso.com"
        );
        assert_eq!(
            diff_line("  # sales@contoso.com will be created"),
            "   # sales@contoso.com will be created"
        );
    }

    #[test]
    fn the_last_resort_cut_stays_under_the_limit_on_a_line_boundary() {
        let text = "line\n".repeat(1000);
        let cut = truncate(text, 100);
        assert!(cut.len() <= 100, "{}", cut.len());
        assert!(cut.ends_with("(cut at the comment limit)\n"));
    }

    #[test]
    fn tenant_data_cannot_leave_its_code_span_or_block_or_link_and_mention() {
        let hostile = "x` [click](https://evil.example) @contoso/admins `";
        let span = code(hostile);
        assert_eq!(
            span,
            "`` x` [click](https://evil.example) @contoso/admins ` ``"
        );
        assert_eq!(code("plain"), "`plain`");
        let message = text(&format!("`{hostile}` <img src=x> ![i](y)"));
        assert!(
            !message.contains("](") && !message.contains("<img"),
            "{message}"
        );
        assert!(!message.contains(" @contoso"), "{message}");
        assert_eq!(text("`support@contoso.com`"), "`support@contoso.com`");
        let block = details(false, "t", "      - x ````` y");
        assert!(block.contains("\n``````diff\n"), "{block}");
    }
}
