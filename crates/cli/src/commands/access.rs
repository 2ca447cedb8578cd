//! `sharedbox access`: the effective-access report (who can open, send as, send on behalf of
//! and read the Sent Items of which shared mailbox, through groups too), rendered as text,
//! JSON, Markdown or CSV. The report itself is built by `sharedbox-access`; this module
//! chooses what to read and renders.

use sharedbox_access::{AccessEntry, AccessReport, MailboxAccess, Options};
use sharedbox_tenant::{ReadScope, printable};

use super::{open_tenant, read};
use crate::args::{AccessArgs, AccessFormat};
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure};

/// The longest a name is shown in text and Markdown before it is cut.
const SHOWN: usize = 120;

/// `sharedbox access`.
pub async fn access(config: &RunConfig, args: &AccessArgs) -> anyhow::Result<ExitStatus> {
    let tenant = open_tenant(config)?;
    // A reverse lookup covers every shared mailbox; a `--mailbox` list only those.
    let scope = ReadScope {
        all_shared: args.mailboxes.is_empty(),
        groups: true,
        ..ReadScope::of(args.mailboxes.clone())
    };
    let snapshot = read(tenant.as_ref(), &scope).await?;
    drop(tenant);
    let options = Options {
        mailboxes: args.mailboxes.clone(),
        principals: args.principals.clone(),
        large_group: args.large_group,
    };
    let report = sharedbox_access::build(&snapshot, &options).map_err(|e| Failure::of(&e))?;
    drop(snapshot);
    match args.format {
        AccessFormat::Text => out!("{}", text(&report)),
        AccessFormat::Markdown => out!("{}", markdown(&report)),
        AccessFormat::Csv => out!("{}", csv(&report)),
        AccessFormat::Json => crate::output::write_stdout_json(&report)?,
    }
    Ok(ExitStatus::Success)
}

fn shown(text: &str) -> String {
    printable(text, SHOWN)
}

fn flags(entry_flags: &[sharedbox_access::Flag]) -> String {
    entry_flags
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn principal(entry: &AccessEntry) -> String {
    let mut name = shown(&entry.principal.name);
    if let Some(kind) = entry.principal.group_kind {
        name.push_str(&format!(" ({}", kind.describe()));
        if let Some(n) = entry.principal.members {
            name.push_str(&format!(", {n} member{}", if n == 1 { "" } else { "s" }));
        }
        name.push(')');
    }
    name
}

fn path(entry: &AccessEntry) -> String {
    shown(&entry.path())
}

fn summary_line(report: &AccessReport) -> String {
    let s = &report.summary;
    let mut line = format!(
        "{} mailbox{}, {} entr{}, {} principal{}",
        s.mailboxes,
        if s.mailboxes == 1 { "" } else { "es" },
        s.entries,
        if s.entries == 1 { "y" } else { "ies" },
        s.principals,
        if s.principals == 1 { "" } else { "s" },
    );
    if !report.groups_expanded {
        line.push_str("; group members were not read, groups are not expanded");
    }
    if !s.flags.is_empty() {
        let counted: Vec<String> = s.flags.iter().map(|(f, n)| format!("{f} {n}")).collect();
        line.push_str(&format!("; flagged: {}", counted.join(", ")));
    }
    line
}

fn heading(m: &MailboxAccess) -> String {
    let mut line = shown(&m.mailbox);
    if !m.display_name.is_empty() {
        line.push_str(&format!(" ({})", shown(&m.display_name)));
    }
    if m.sign_in_allowed {
        line.push_str("  [signInAllowed: the mailbox's own account can sign in]");
    }
    line
}

/// The text report: per mailbox, one line per entry in aligned columns.
fn text(report: &AccessReport) -> String {
    let mut out = format!(
        "Effective access in `{}`: {}\n",
        shown(&report.tenant),
        summary_line(report)
    );
    for m in &report.mailboxes {
        out.push('\n');
        out.push_str(&heading(m));
        out.push('\n');
        if m.entries.is_empty() {
            out.push_str("  (no grants)\n");
            continue;
        }
        let rows: Vec<[String; 4]> = m
            .entries
            .iter()
            .map(|e| [e.right.describe(), principal(e), path(e), flags(&e.flags)])
            .collect();
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for [right, who, via, flagged] in rows {
            let line = format!("  {right:<w0$}  {who:<w1$}  {via:<w2$}  {flagged}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// A Markdown table cell: pipes escaped, line breaks and control characters made visible.
fn cell(text: &str) -> String {
    shown(text).replace('|', "\\|")
}

/// The Markdown report: a table per mailbox.
fn markdown(report: &AccessReport) -> String {
    let mut out = format!(
        "## Effective access: `{}`\n\n{}\n",
        cell(&report.tenant),
        summary_line(report)
    );
    for m in &report.mailboxes {
        out.push_str(&format!("\n### {}\n\n", cell(&heading(m))));
        if m.entries.is_empty() {
            out.push_str("No grants.\n");
            continue;
        }
        out.push_str("| right | principal | path | flags |\n|---|---|---|---|\n");
        for e in &m.entries {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&e.right.describe()),
                cell(&principal(e)),
                cell(&e.path()),
                flags(&e.flags)
            ));
        }
    }
    out
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'` so that a spreadsheet
/// does not take a hostile name for a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The CSV report: one row per (mailbox, principal, right, path).
fn csv(report: &AccessReport) -> String {
    let mut out = String::from(
        "mailbox,signInAllowed,principal,displayName,principalKind,groupKind,right,folder,folderType,accessRights,path,flags\r\n",
    );
    for m in &report.mailboxes {
        for e in &m.entries {
            let (folder, folder_type, rights) = match &e.right {
                sharedbox_access::Right::Folder {
                    folder,
                    folder_type,
                    access_rights,
                } => (folder.clone(), folder_type.clone(), access_rights.join(";")),
                _ => Default::default(),
            };
            let kind = serde_json::to_value(e.principal.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let group_kind = e
                .principal
                .group_kind
                .and_then(|k| serde_json::to_value(k).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let flags: Vec<&str> = e.flags.iter().map(|f| f.as_str()).collect();
            let row = [
                m.mailbox.clone(),
                m.sign_in_allowed.to_string(),
                e.principal.name.clone(),
                e.principal.display_name.clone().unwrap_or_default(),
                kind,
                group_kind,
                e.right.name().to_owned(),
                folder,
                folder_type,
                rights,
                e.path(),
                flags.join(";"),
            ];
            let row: Vec<String> = row.iter().map(|f| field(f)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain@contoso.com"), "plain@contoso.com");
        assert_eq!(field("Wagner, Alice"), "\"Wagner, Alice\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
    }
}
