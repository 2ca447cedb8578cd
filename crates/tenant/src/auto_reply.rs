//! Automatic replies (`Get-`/`Set-MailboxAutoReplyConfiguration`): the model, how a policy's
//! plain text becomes the HTML Exchange stores, how HTML read back is compared with it, and
//! how the scheduled times are read and compared.
//!
//! # Messages
//!
//! Exchange keeps `InternalMessage` and `ExternalMessage` as HTML: text without tags is
//! wrapped (`I'm away` is stored as `<html><body>I'm away</body></html>`), and what comes
//! back from `Get-MailboxAutoReplyConfiguration` may carry a `<head>`, line breaks and
//! entities of its own. sharedbox therefore never compares the HTML itself:
//!
//! - **policy text -> HTML** ([`message_html`]): `&`, `<`, `>` and `"` are escaped (`&amp;`,
//!   `&lt;`, `&gt;`, `&quot;`), each line break (`\n`, `\r\n`) becomes `<br>`; nothing is
//!   wrapped (Exchange adds `<html><body>`). A policy cannot write HTML: `<b>` in a policy is
//!   the text `<b>`.
//! - **HTML -> text form** ([`message_text`]): the contents of `<head>`, `<style>`,
//!   `<script>` and `<title>` and comments are dropped; runs of white space in the HTML
//!   source (line breaks included) are one space, as a browser shows them; `<br>` and the
//!   end of a block (`</p>`, `</div>`, `</li>`, `</h1>`..`</h6>`, `</tr>`) are line breaks;
//!   every other tag is dropped; entities are decoded (`&amp;`, `&lt;`, `&gt;`, `&quot;`,
//!   `&apos;`, the Latin-1 names such as `&auml;`, a few typographic ones such as `&ndash;`,
//!   `&#NNN;`, `&#xHH;`; `&nbsp;` as a space; an unknown name stays); every line is trimmed,
//!   and blank lines at the start and the end are dropped.
//! - **comparison**: two messages are the same when their text forms are equal
//!   ([`same_message`]). A policy's text goes through both steps, so it compares equal to
//!   what Exchange returns for it, whatever wrapper and entities Exchange adds: apply and a
//!   new plan show no change. Plans show the text form, shortened ([`show_message`]);
//!   `export` writes the text form. Formatting made in Outlook (bold, links) is not kept by
//!   a round trip through a policy: only its text is compared and written.
//!
//! # Times
//!
//! `StartTime` and `EndTime` are `DateTime`s; the admin API reports them as UTC text
//! (`2026-12-24T08:00:00.0000000Z`). A policy writes RFC 3339 with an offset
//! (`2026-12-24T09:00:00+01:00`) or `Z`; it is written to Exchange as UTC
//! (`2026-12-24T08:00:00Z`, [`canonical_time`]) and compared as an instant
//! ([`same_time`]). A time Exchange reports without offset is taken as UTC, and the
//! `/Date(ms)/` form of older PowerShell JSON is read too.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `Get-MailboxAutoReplyConfiguration` of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoReply {
    /// `AutoReplyState`: `Disabled`, `Enabled` or `Scheduled`.
    #[serde(default = "disabled")]
    pub state: String,
    /// `StartTime`, as Exchange reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// `EndTime`, as Exchange reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `InternalMessage`: HTML.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub internal_message: String,
    /// `ExternalMessage`: HTML.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_message: String,
    /// `ExternalAudience`: `None`, `Known` or `All`.
    #[serde(default = "all")]
    pub external_audience: String,
}

fn disabled() -> String {
    "Disabled".to_owned()
}

fn all() -> String {
    "All".to_owned()
}

/// What a new mailbox has: disabled, no messages, replies to all external senders.
impl Default for AutoReply {
    fn default() -> AutoReply {
        AutoReply {
            state: disabled(),
            start_time: None,
            end_time: None,
            internal_message: String::new(),
            external_message: String::new(),
            external_audience: all(),
        }
    }
}

/// A policy's plain text as the HTML written to Exchange: `& < > "` escaped, line breaks
/// as `<br>`.
pub fn message_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// Tags whose contents are not shown.
const HIDDEN: &[&str] = &["head", "style", "script", "title"];
/// Tags that start or end a block: a line break, unless the text is at a line's start.
const BLOCKS: &[&str] = &[
    "p", "/p", "div", "/div", "/li", "/tr", "/h1", "/h2", "/h3", "/h4", "/h5", "/h6",
];

/// The text form of an HTML message (see the module documentation): what is compared,
/// shown and exported.
pub fn message_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut hidden: Option<&str> = None;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map_or("", |(_, r)| r);
            continue;
        }
        if rest.starts_with('<') {
            let (tag, after) = rest[1..].split_once('>').unwrap_or((&rest[1..], ""));
            rest = after;
            let name: String = tag
                .trim()
                .trim_end_matches('/')
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if let Some(open) = hidden {
                if name.strip_prefix('/') == Some(open) {
                    hidden = None;
                }
                continue;
            }
            if let Some(h) = HIDDEN.iter().find(|h| **h == name) {
                hidden = Some(h);
            } else if name == "br"
                || (BLOCKS.contains(&name.as_str()) && !out.trim_end_matches(' ').ends_with('\n'))
            {
                // `<br>` always breaks (two make a blank line); a block only ends a line.
                out.push('\n');
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        if hidden.is_none() {
            // White space in the source is one space, as a browser shows it.
            let mut space = false;
            for c in rest[..end].chars() {
                if c.is_whitespace() {
                    space = true;
                } else {
                    if space {
                        out.push(' ');
                    }
                    space = false;
                    out.push(c);
                }
            }
            if space {
                out.push(' ');
            }
        }
        rest = &rest[end..];
    }
    let decoded = decode_entities(&out);
    let lines: Vec<String> = decoded
        .split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

/// `text` with HTML entities decoded; an unknown entity stays as it is written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest[1..]
            .find(';')
            .filter(|end| *end <= 10)
            .and_then(|end| entity(&rest[1..=end]).map(|c| (c, end + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of entity `name` (between `&` and `;`).
fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).map(|c| if c == '\u{a0}' { ' ' } else { c });
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        // A non-breaking space reads as a space.
        "nbsp" => ' ',
        "euro" => '€',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "hellip" => '…',
        "bull" => '•',
        "trade" => '™',
        // Latin-1 (`&auml;`, `&szlig;`, `&eacute;`...): what an HTML editor writes for the
        // letters of German, French and other European texts.
        _ => {
            let at = LATIN_1.iter().position(|n| *n == name)?;
            return char::from_u32(0xA0 + u32::try_from(at).ok()?);
        }
    })
}

/// The HTML names of U+00A0 to U+00FF, in order.
const LATIN_1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Whether two messages (HTML, or a policy's HTML) have the same text form.
pub fn same_message(a: &str, b: &str) -> bool {
    a == b || message_text(a) == message_text(b)
}

/// Characters of a message a plan shows.
pub const SHOWN_CHARS: usize = 60;

/// A message as a plan shows it: its text form quoted, the first line only and at most
/// [`SHOWN_CHARS`] characters, with a note of what was left out (`"Closed until 2
/// January…" (3 lines, 212 characters)`); `(empty)` for no message. The JSON plan holds the
/// whole value.
pub fn show_message(html: &str) -> String {
    let text = message_text(html);
    if text.is_empty() {
        return "(empty)".to_owned();
    }
    let lines = text.lines().count();
    let first_line = text.lines().next().unwrap_or_default();
    let chars = text.chars().count();
    let first: String = first_line.chars().take(SHOWN_CHARS).collect();
    // Debug quoting escapes control characters: tenant text never reaches a terminal raw.
    let quoted = format!("{first:?}");
    if lines == 1 && first_line.chars().count() <= SHOWN_CHARS {
        return quoted;
    }
    let quoted = format!("{}…\"", &quoted[..quoted.len() - 1]);
    if lines > 1 {
        format!("{quoted} ({lines} lines, {chars} characters)")
    } else {
        format!("{quoted} ({chars} characters)")
    }
}

/// A time as Exchange reports it or a policy writes it: RFC 3339 (an offset, or `Z`), the
/// same without offset (taken as UTC), or `/Date(ms)/`.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Some(ms) = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
    {
        let ms: i128 = ms.split(['+', '-']).find(|p| !p.is_empty())?.parse().ok()?;
        let ms = if text.starts_with("/Date(-") { -ms } else { ms };
        return OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok();
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .ok()
}

/// A time as written to Exchange and shown: UTC, to the second (`2026-12-24T08:00:00Z`);
/// `None` when `text` is not a time [`parse_time`] reads.
pub fn canonical_time(text: &str) -> Option<String> {
    let utc = parse_time(text)?
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()?;
    utc.format(&Rfc3339).ok()
}

/// Whether two times are the same instant (to the second); text that is not a time
/// compares exactly.
pub fn same_time(a: &str, b: &str) -> bool {
    match (canonical_time(a), canonical_time(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_text_becomes_escaped_html_with_line_breaks() {
        assert_eq!(
            message_html("Closed 24 & 25 Dec.\nWrite to <info@contoso.com> \"urgent\""),
            "Closed 24 &amp; 25 Dec.<br>Write to &lt;info@contoso.com&gt; &quot;urgent&quot;"
        );
        assert_eq!(message_html("a\r\nb"), "a<br>b");
        assert_eq!(message_html(""), "");
    }

    #[test]
    fn html_as_exchange_returns_it_has_the_policy_text_as_its_text_form() {
        let text = "Closed 24 & 25 Dec.\nWrite to <info@contoso.com> \"urgent\" - it's fine";
        let exchange = format!(
            "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n<style>p {{ margin: 0 }}</style>\r\n</head>\r\n<body>\r\n{}\r\n</body>\r\n</html>\r\n",
            message_html(text)
                .replace("&quot;", "\"")
                .replace('\'', "&#39;")
        );
        assert_eq!(message_text(&exchange), text);
        assert!(same_message(&exchange, &message_html(text)));
        assert!(!same_message(&exchange, &message_html("Closed.")));
        // Paragraphs, entities by number, a non-breaking space, a comment.
        assert_eq!(
            message_text("<p>One&nbsp;two</p><p>&#x48;i &#233;t&eacute;</p><!-- x -->"),
            "One two\nHi été"
        );
        // White space in the source is a space; a line break needs `<br>`.
        assert_eq!(message_text("  a \r\n  b<BR/>c  "), "a b\nc");
        assert_eq!(message_text("<html><body></body></html>"), "");
        // Named entities of European letters and typography; an unknown one stays.
        assert_eq!(
            message_text("Gr&uuml;&szlig;e &ndash; bis M&auml;rz &Auml;&yuml;&copy; &bogus;"),
            "Grüße – bis März Äÿ© &bogus;"
        );
        assert!(same_message(
            "<html><body>Bis M&auml;rz geschlossen.</body></html>",
            &message_html("Bis März geschlossen.")
        ));
        // A blank line written in the policy survives; paragraphs make no blank lines.
        assert_eq!(message_text(&message_html("a\n\nb")), "a\n\nb");
        assert_eq!(message_text("<div><p>a</p></div><div>b</div>"), "a\nb");
        // Unfinished markup does not panic.
        for odd in [
            "<",
            "&",
            "&#;",
            "&#xZZ;",
            "<head>",
            "<!--",
            "a<b",
            "&#1114112;",
        ] {
            let _ = message_text(odd);
        }
    }

    #[test]
    fn messages_are_shown_shortened_with_a_note() {
        assert_eq!(show_message(""), "(empty)");
        assert_eq!(show_message("<html><body>Hi</body></html>"), "\"Hi\"");
        let long = message_html(&format!("{}\nsecond\nthird", "x".repeat(100)));
        let shown = show_message(&long);
        assert!(
            shown.starts_with(&format!("\"{}…\"", "x".repeat(60))),
            "{shown}"
        );
        assert!(shown.ends_with("(3 lines, 113 characters)"), "{shown}");
        assert_eq!(
            show_message(&message_html("Hello\nWorld")),
            "\"Hello…\" (2 lines, 11 characters)"
        );
        assert_eq!(show_message("a\u{1b}[2Jb"), "\"a\\u{1b}[2Jb\"");
    }

    #[test]
    fn times_are_compared_as_instants_and_written_in_utc() {
        assert_eq!(
            canonical_time("2026-12-24T09:00:00+01:00").as_deref(),
            Some("2026-12-24T08:00:00Z")
        );
        assert!(same_time(
            "2026-12-24T08:00:00.0000000Z",
            "2026-12-24T09:00:00+01:00"
        ));
        assert!(same_time("2026-12-24T08:00:00", "2026-12-24T08:00:00Z"));
        assert!(same_time("/Date(1798099200000)/", "2026-12-24T08:00:00Z"));
        assert!(!same_time("2026-12-24T08:00:00Z", "2026-12-24T08:00:01Z"));
        assert_eq!(parse_time("24.12.2026"), None);
        assert!(!same_time("24.12.2026", "2026-12-24T00:00:00Z"));
    }
}
