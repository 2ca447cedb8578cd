//! Parser errors in words a new user understands.
//!
//! The YAML parser reports what it expected in its own terms (`expected sequence start`,
//! `illegal placement of ':' indicator`). Here each error becomes a [`Diagnostic`] that
//! names the field, what it takes and what was found, at the error's file:line:column:
//!
//! - a value of the wrong type: ``` `sendAs` must be a list of text, found `x@contoso.com` ```;
//! - an unknown field: the fields of that document kind (or that nested mapping) only, and
//!   the closest one ([`crate::suggest`]);
//! - an unknown value (`access: Reviwer`): the allowed values and the closest one;
//! - a syntax error after an unclosed `[`, `{` or quote: located at the opening character,
//!   which is where the fix goes, with the parser's own position in the hint.
//!
//! The field and what was found are read from the text around the error (the parser does
//! not report them); when the text does not say, the message says less, never something
//! wrong.

use std::sync::Arc;

use serde_saphyr::Error as E;

use crate::diagnostic::Diagnostic;
use crate::document::{self, Kind, Shape, backticked};
use crate::source::{Origin, Source};
use crate::suggest;

/// Which documents a file holds: policies (the schema says what each field takes) or
/// another file (`sharedbox.yaml`), where only the parser's words are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    /// Policy documents.
    Policy,
    /// Any other file.
    Other,
}

/// The longest parser message shown, in characters.
const MAX_MESSAGE_CHARS: usize = 600;

/// `text` cut to `max` characters, with `…` when it was longer.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// A budget breach in words.
fn breach_text(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Nodes { nodes } => format!("more than {nodes} nodes"),
        B::Events { events } => format!("more than {events} parser events"),
        B::Depth { depth } => format!("nesting deeper than {depth} levels"),
        B::Aliases { aliases } => format!("more than {aliases} aliases (`*name`)"),
        B::Anchors { anchors } => format!("more than {anchors} anchors (`&name`)"),
        B::Documents { documents } => format!("more than {documents} documents"),
        other => format!("{other:?}"),
    }
}

/// Turns a parser error into a diagnostic with a readable message and a hint.
pub(crate) fn parse_error(
    source: &Arc<Source>,
    error: &serde_saphyr::Error,
    schema: Schema,
) -> Diagnostic {
    let mut error = error.without_snippet();
    if let E::AliasError { error: inner, .. } = error {
        error = inner.without_snippet();
    }
    // A file that did not parse may not be a policy at all: its excerpt shows the one line.
    let origin = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| Origin::from_location(source, &l).line_only());
    let text = source.text.as_str();
    let at = origin.as_ref().map(|o| o.offset);
    match error {
        E::Budget { breach, .. } => Diagnostic::error(
            "policy::too-complex",
            format!("the file exceeds the YAML budget: {}", breach_text(breach)),
            origin,
        )
        .with_label("limit reached here")
        .with_hint("policy files are limited to 500,000 nodes, nesting depth 32 and 1,000 aliases; split the file or write the list out without anchors"),
        E::InvalidBooleanStrict { .. } => {
            let snippet = origin
                .as_ref()
                .map(|o| o.snippet().to_owned())
                .unwrap_or_default();
            if let Some((value, next)) = snippet.split_once('\n') {
                return runs_on(text, at, value.trim(), next.trim(), origin);
            }
            Diagnostic::error("policy::invalid-boolean", format!("`{}` is not a boolean", shorten(&snippet, 120)), origin)
                .with_label("expected `true` or `false`")
                .with_hint("write `true` or `false`; YAML 1.1 spellings such as `yes`, `no`, `on` and `off` are rejected")
        }
        E::DuplicateMappingKey { key, .. } => {
            let key = key
                .clone()
                .or_else(|| at.map(|a| key_at(text, a)))
                .unwrap_or_default();
            Diagnostic::error(
                "policy::duplicate-key",
                format!("duplicate key `{}`", shorten(&key, 80)),
                origin,
            )
            .with_label("second occurrence")
            .with_hint("a key may appear once per mapping; remove one of them")
        }
        E::SerdeUnknownField {
            field, expected, ..
        } => unknown_field(source, at, field, expected, schema, origin),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let context = at.map(|a| value_context(text, a)).unwrap_or_default();
            let of = context
                .key
                .as_ref()
                .map(|k| format!(" for `{k}`"))
                .unwrap_or_default();
            let guess = suggest::did_you_mean(variant, expected.iter().copied())
                .map(|g| format!("; {g}"))
                .unwrap_or_default();
            Diagnostic::error(
                "policy::invalid-value",
                format!(
                    "unknown value `{}`{of}, expected one of {}{guess}",
                    shorten(variant, 80),
                    backticked(expected)
                ),
                origin,
            )
            .with_label("not allowed here")
            .with_hint("values are case-sensitive; write one of the values listed")
        }
        E::SerdeMissingField { field, .. } => {
            let hint = match *field {
                "apiVersion" | "kind" => "every policy document starts with `apiVersion: sharedbox/v1` and `kind:` (`SharedMailbox`, `TenantSettings`, `Defaults` or `Profile`)".to_owned(),
                field => format!("add `{field}:` to this mapping"),
            };
            Diagnostic::error(
                "policy::missing-field",
                format!("missing field `{field}`"),
                origin,
            )
            .with_label("in this mapping")
            .with_hint(hint)
        }
        E::Unexpected { expected, .. } => {
            let expected = match *expected {
                "sequence start" => Expected::List,
                "mapping start" => Expected::Mapping,
                e if e.ends_with("scalar") => Expected::Value,
                e => Expected::Named(e.to_owned()),
            };
            type_error(text, at, expected, schema, origin)
        }
        E::SerdeInvalidType { expected, .. } | E::SerdeInvalidValue { expected, .. } => {
            type_error(text, at, Expected::Named(expected.clone()), schema, origin)
        }
        E::InvalidScalar { ty, .. } => {
            let what = match *ty {
                t if t.starts_with('u') || t.starts_with('i') => "a whole number".to_owned(),
                t if t.starts_with('f') => "a number".to_owned(),
                t => format!("a value of type `{t}`"),
            };
            type_error(text, at, Expected::Named(what), schema, origin)
        }
        E::NullIntoString { .. } => type_error(text, at, Expected::Value, schema, origin),
        E::MultipleDocuments { .. } => Diagnostic::error(
            "policy::syntax",
            "the file holds more than one YAML document",
            origin,
        )
        .with_label("a second document starts here")
        .with_hint("this file takes one document; remove the `---` line and what follows, or merge the two"),
        other => syntax_error(text, source, other, origin),
    }
}

/// What the parser expected.
enum Expected {
    /// A sequence.
    List,
    /// A mapping.
    Mapping,
    /// A scalar (text, a flag, a name).
    Value,
    /// Something the parser named.
    Named(String),
}

/// A value of the wrong type: the field, what it takes (from the schema when known) and
/// what was found.
fn type_error(
    text: &str,
    at: Option<usize>,
    expected: Expected,
    schema: Schema,
    origin: Option<Origin>,
) -> Diagnostic {
    let context = at.map(|a| value_context(text, a)).unwrap_or_default();
    let shape = match (schema, &context.key) {
        (Schema::Policy, Some(key)) => {
            document::field_shape(key).and_then(|shape| match (context.item, shape) {
                (false, shape) => Some(shape.clone()),
                (true, Shape::List(item)) => Some(item.as_ref().clone()),
                (true, _) => None,
            })
        }
        _ => None,
    };
    // The schema's shape, when it agrees with what the parser expected (the text may
    // have misled the search for the key).
    let shape = shape.filter(|s| match (&expected, s) {
        (Expected::List, Shape::List(_)) | (Expected::Mapping, Shape::Mapping(_)) => true,
        (Expected::List | Expected::Mapping, _) => false,
        (_, Shape::List(_) | Shape::Mapping(_)) => false,
        _ => true,
    });
    let wanted = match (&shape, &expected) {
        (Some(shape), _) => shape.describe(),
        (None, Expected::List) => "a list".to_owned(),
        (None, Expected::Mapping) => "a mapping".to_owned(),
        (None, Expected::Value) => "a single value".to_owned(),
        (None, Expected::Named(what)) => what.clone(),
    };
    let found = at.map_or_else(|| "something else".to_owned(), |a| found_at(text, a));
    let subject = match (&context.key, context.item) {
        (Some(key), false) => format!("`{key}` must be {wanted}"),
        (Some(key), true) => format!("each entry of `{key}` must be {wanted}"),
        (None, _) => format!("expected {wanted}"),
    };
    let key = context.key.as_deref().unwrap_or("field");
    let hint = match (&shape, &expected) {
        (Some(Shape::Flag), _) => "write `true` or `false`".to_owned(),
        (Some(Shape::OneOf(values)), _) => format!("write one of {}", backticked(values)),
        (Some(Shape::List(_)), _) | (None, Expected::List) if !context.item => {
            let example = match item_shape(shape.as_ref()) {
                Some(Shape::Mapping(fields)) if !fields.is_empty() => format!(
                    "one entry per line below `{key}:`, each starting with `- ` and taking {}",
                    backticked(fields)
                ),
                _ => format!(
                    "`{key}: [first, second]`, or one `- item` per line below `{key}:`; `[]` for none"
                ),
            };
            format!("write a list: {example}")
        }
        (Some(Shape::Mapping(fields)), _) if !fields.is_empty() && context.item => format!(
            "write each entry as fields on lines below `{key}:`, the first starting with `- `, e.g. `- {}: …`; an entry takes {}",
            fields
                .iter()
                .find(|f| *f == "principal")
                .unwrap_or(&fields[0]),
            backticked(fields)
        ),
        (Some(Shape::Mapping(fields)), _) if !fields.is_empty() => format!(
            "write the fields on lines indented below `{key}:`; it takes {}",
            backticked(fields)
        ),
        (_, Expected::Mapping) => {
            format!("write `name: value` lines indented below `{key}:`")
        }
        (Some(Shape::Text), _) => format!(
            "write one value on the line of `{key}:`; quote it (`\"…\"`) if it contains `: ` or starts with `[`, `{{`, `-` or `#`"
        ),
        _ => format!("write one value on the line of `{key}:`"),
    };
    Diagnostic::error(
        "policy::invalid-type",
        format!("{subject}, found {found}"),
        origin,
    )
    .with_label(format!("expected {wanted}"))
    .with_hint(hint)
}

/// The shape of a list's items.
fn item_shape(shape: Option<&Shape>) -> Option<&Shape> {
    match shape {
        Some(Shape::List(item)) => Some(item),
        _ => None,
    }
}

/// A plain value that runs on into a deeper-indented next line (`enabled: true` followed by
/// `    moderators: …`): YAML reads both lines as one value.
fn runs_on(
    text: &str,
    at: Option<usize>,
    value: &str,
    next: &str,
    origin: Option<Origin>,
) -> Diagnostic {
    let key = at.and_then(|a| value_context(text, a).key);
    let next_key = next.split(':').next().unwrap_or(next).trim();
    let subject = key.as_ref().map_or_else(
        || "this value".to_owned(),
        |k| format!("the value of `{k}`"),
    );
    Diagnostic::error(
        "policy::indentation",
        format!(
            "{subject} runs on into the next line: `{}` is indented deeper, so YAML reads `{} {}` as one value",
            shorten(next_key, 60),
            shorten(value, 60),
            shorten(next_key, 60)
        ),
        origin,
    )
    .with_label("this value continues on the next line")
    .with_hint(format!(
        "start `{}` in the same column as {}: the fields of one mapping line up",
        shorten(next_key, 60),
        key.map_or_else(|| "the field above".to_owned(), |k| format!("`{k}`"))
    ))
}

/// An unknown field: the fields of that document kind or nested mapping, and the closest.
fn unknown_field(
    source: &Arc<Source>,
    at: Option<usize>,
    field: &str,
    expected: &[&'static str],
    schema: Schema,
    origin: Option<Origin>,
) -> Diagnostic {
    let text = source.text.as_str();
    let top_level =
        schema == Schema::Policy && expected.contains(&"apiVersion") && expected.contains(&"kind");
    let kind = if top_level {
        origin.as_ref().and_then(|o| kind_at(text, o.line))
    } else {
        None
    };
    let (allowed, whose): (Vec<&str>, String) = match kind {
        Some(kind) => (
            ["apiVersion", "kind"]
                .into_iter()
                .chain(document::allowed_fields(kind).iter().copied())
                .collect(),
            format!("a `{}` document", kind.as_str()),
        ),
        None if top_level => (expected.to_vec(), "a policy document".to_owned()),
        None => {
            let context = at
                .map(|a| {
                    let line_start = text[..a].rfind('\n').map_or(0, |i| i + 1);
                    value_context(text, line_start + indentation(&text[line_start..a]))
                })
                .unwrap_or_default();
            let outermost = origin.as_ref().is_some_and(|o| o.column == 1);
            let whose = match (context.key, context.item) {
                (Some(key), false) => format!("`{key}`"),
                (Some(key), true) => format!("an entry of `{key}`"),
                (None, _) if outermost => source.path.file_name().map_or_else(
                    || "this file".to_owned(),
                    |n| format!("`{}`", n.to_string_lossy()),
                ),
                (None, _) => "this mapping".to_owned(),
            };
            (expected.to_vec(), whose)
        }
    };
    let guess = suggest::closest(field, allowed.iter().copied());
    let mut hint = format!("{whose} takes {}", backticked(&allowed));
    if guess.is_none()
        && let Some(kind) = kind
        && let Some(other) = suggest::closest(field, expected.iter().copied())
    {
        let kinds: Vec<&str> = [
            Kind::SharedMailbox,
            Kind::TenantSettings,
            Kind::Defaults,
            Kind::Profile,
        ]
        .into_iter()
        .filter(|k| *k != kind && document::allowed_fields(*k).contains(&other))
        .map(Kind::as_str)
        .collect();
        if !kinds.is_empty() {
            hint.push_str(&format!(
                "; `{other}` belongs in {} documents",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
    }
    let message = match guess {
        Some(g) => format!(
            "unknown field `{}` in {whose}; did you mean `{g}`?",
            shorten(field, 80)
        ),
        None => format!("unknown field `{}` in {whose}", shorten(field, 80)),
    };
    Diagnostic::error("policy::unknown-field", message, origin)
        .with_label(guess.map_or_else(
            || "unknown field".to_owned(),
            |g| format!("did you mean `{g}`?"),
        ))
        .with_hint(hint)
}

/// A syntax error: the parser's words, located at an unclosed bracket or quote when one
/// explains it, with a hint for the common mistakes (tabs, indentation).
fn syntax_error(
    text: &str,
    source: &Arc<Source>,
    error: &serde_saphyr::Error,
    origin: Option<Origin>,
) -> Diagnostic {
    let raw = error.to_string();
    let message = match raw.rfind(" at line ") {
        Some(i) => raw[..i].to_owned(),
        None => raw,
    };
    // The parser quotes values; a value may be a whole foreign file on one line.
    let message = shorten(&message, MAX_MESSAGE_CHARS);
    let at = origin.as_ref().map_or(text.len(), |o| o.offset);
    let parser_at = origin
        .as_ref()
        .map(|o| format!("line {}, column {}", o.line, o.column))
        .unwrap_or_else(|| "the end of the file".to_owned());
    if let Some((open, offset)) = unclosed(text, at) {
        let opened = Origin::at_offset(source, offset).line_only();
        let (what, close) = match open {
            '[' => ("list", "]"),
            '{' => ("mapping", "}"),
            '\'' => ("quoted value", "'"),
            _ => ("quoted value", "\""),
        };
        return Diagnostic::error(
            "policy::syntax",
            format!("the {what} opened with `{open}` here is never closed"),
            Some(opened),
        )
        .with_label(format!("opened here; close it with `{close}`"))
        .with_hint(format!(
            "add the closing `{close}`; the parser stopped at {parser_at} ({message})"
        ));
    }
    let lower = message.to_lowercase();
    let hint = if lower.contains("tab") {
        "indent with spaces: YAML does not allow tabs in indentation"
    } else if lower.contains("indent") || lower.contains("mapping values are not allowed") {
        "check the indentation: the fields of one mapping start in the same column, and a field's own fields are indented further than it"
    } else if matches!(error, E::Eof { .. }) {
        "the file ends in the middle of a value; check that every list, mapping and quote is closed"
    } else {
        "the file must be valid YAML: check the indentation, quotes and brackets at this position"
    };
    Diagnostic::error("policy::syntax", message, origin).with_hint(hint)
}

/// Where a value sits: the key it belongs to, and whether it is an entry of that key's list.
#[derive(Debug, Default, PartialEq, Eq)]
struct Context {
    key: Option<String>,
    item: bool,
}

/// The number of leading spaces of `line`.
fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `line` without a trailing `# comment` (a `#` after a space, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' && previous.is_whitespace() => return &line[..i],
            None if (c == '"' || c == '\'')
                && (previous.is_whitespace() || ":[{,".contains(previous)) =>
            {
                quote = Some(c);
            }
            None => {}
        }
        previous = c;
    }
    line
}

/// A key as written, without `- `, quotes and flow punctuation.
fn clean_key(key: &str) -> Option<String> {
    let key = key.trim();
    let key = key
        .rsplit(['{', '[', ','])
        .next()
        .unwrap_or(key)
        .trim()
        .trim_start_matches("- ")
        .trim_start_matches('-')
        .trim();
    let key = key.trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(": ")).then(|| shorten(key, 80))
}

/// The key at the start of the line that holds `at`.
fn key_at(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let line = line.lines().next().unwrap_or_default();
    clean_key(line.split(':').next().unwrap_or(line)).unwrap_or_default()
}

/// The key that the value at byte `at` belongs to, read from the text: `key: value` on the
/// same line, or the nearest less-indented `key:` line above.
fn value_context(text: &str, at: usize) -> Context {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = strip_comment(&text[line_start..at]);
    // `key: value`, `- key: value`, `key: [a, b]` on the value's own line.
    if let Some(colon) = before
        .rfind(": ")
        .or_else(|| before.trim_end().strip_suffix(':').map(str::len))
    {
        let after = &before[colon + 1..];
        return Context {
            key: clean_key(&before[..colon]),
            item: after.contains('['),
        };
    }
    let marker = before.trim_start();
    let mut item = marker.starts_with('-') || marker.starts_with('[');
    let mut column = indentation(before);
    for line in text[..line_start].lines().rev() {
        let content = strip_comment(line).trim_end();
        if content.trim().is_empty() {
            continue;
        }
        let indent = indentation(content);
        let dash = content.trim_start().starts_with('-');
        // `key:` above a list whose `- ` entries start in its own column.
        let parent = indent < column || (item && indent == column && !dash);
        if !parent {
            continue;
        }
        if dash && !item && content.trim_start() != "-" {
            // The value is a field of a mapping inside a list entry (`- principal: x`):
            // the list's key is further up.
            item = true;
            column = indent;
            continue;
        }
        let key = content.trim_start().strip_suffix(':').and_then(clean_key);
        return Context { key, item };
    }
    Context { key: None, item }
}

/// What the value at byte `at` is, in words: `a list`, `a mapping`, ``` `x` ```, ….
fn found_at(text: &str, at: usize) -> String {
    let line = text[at.min(text.len())..]
        .lines()
        .next()
        .unwrap_or_default();
    let value = strip_comment(line).trim();
    if value.is_empty() || value == "~" || value == "null" {
        return "nothing (`null`)".to_owned();
    }
    if value == "-" || value.starts_with("- ") || value.starts_with('[') {
        return "a list".to_owned();
    }
    if value.starts_with('{') {
        return "a mapping".to_owned();
    }
    let quoted = value.starts_with('"') || value.starts_with('\'');
    if !quoted && (value.contains(": ") || value.ends_with(':')) {
        return "a mapping".to_owned();
    }
    // An entry of a flow list or mapping ends at its `,`, `]` or `}`.
    let in_flow = text[..at.min(text.len())]
        .trim_end()
        .ends_with(['[', '{', ',']);
    let value = if in_flow && !quoted {
        value.split([',', ']', '}']).next().unwrap_or(value).trim()
    } else {
        value
    };
    let shown = shorten(value, 60);
    if quoted {
        format!("the text {shown}")
    } else if value.parse::<f64>().is_ok() {
        format!("the number `{shown}`")
    } else {
        format!("`{shown}`")
    }
}

/// The `kind` of the document that holds 1-based `line`, read from its `kind:` line.
fn kind_at(text: &str, line: u32) -> Option<Kind> {
    let line = usize::try_from(line).ok()?.max(1);
    let lines: Vec<&str> = text.lines().collect();
    let is_separator = |l: &str| l == "---" || l.starts_with("--- ") || l == "...";
    let start = lines[..line.min(lines.len())]
        .iter()
        .rposition(|l| is_separator(l))
        .map_or(0, |i| i + 1);
    let end = lines[start..]
        .iter()
        .position(|l| is_separator(l))
        .map_or(lines.len(), |i| start + i);
    lines[start..end].iter().find_map(|l| {
        let value = strip_comment(l.strip_prefix("kind:")?).trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        [
            Kind::SharedMailbox,
            Kind::TenantSettings,
            Kind::Defaults,
            Kind::Profile,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    })
}

/// The innermost `[`, `{` or quote opened before byte `upto` and not closed by then, and
/// where it was opened. Comments are skipped; a bracket or quote inside a plain value
/// (`a[b`, `it's`) opens nothing.
fn unclosed(text: &str, upto: usize) -> Option<(char, usize)> {
    let mut upto = upto.min(text.len());
    while !text.is_char_boundary(upto) {
        upto -= 1;
    }
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut quote: Option<(char, usize)> = None;
    let mut comment = false;
    let mut previous = '\n';
    // The last character that is not a space, `\n` at the start of a line.
    let mut significant = '\n';
    let mut chars = text[..upto].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            comment = false;
        } else if comment {
        } else if let Some((q, _)) = quote {
            if q == '"' && c == '\\' {
                chars.next();
            } else if c == q {
                if q == '\'' && chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
        } else {
            let starts_value = "\n:-[{,".contains(significant)
                && (previous.is_whitespace() || "[{,".contains(previous));
            match c {
                '#' if previous.is_whitespace() => comment = true,
                '"' | '\'' if starts_value => quote = Some((c, i)),
                '[' | '{' if starts_value => stack.push((c, i)),
                ']' | '}' => {
                    let open = if c == ']' { '[' } else { '{' };
                    if stack.last().is_some_and(|(o, _)| *o == open) {
                        stack.pop();
                    }
                }
                _ => {}
            }
        }
        if c == '\n' || !c.is_whitespace() {
            significant = c;
        }
        previous = c;
    }
    quote.or_else(|| stack.last().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_of_a_value_is_found_on_its_line_or_above() {
        let text = "a: 1\nsendAs:\n  principal: x\nfullAccess: [x@c.com]\nlist:\n  - y\n";
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(
            value_context(text, at("principal")),
            Context {
                key: Some("sendAs".into()),
                item: false
            }
        );
        assert_eq!(
            value_context(text, at("x@c")),
            Context {
                key: Some("fullAccess".into()),
                item: true
            }
        );
        assert_eq!(
            value_context(text, at("y\n")),
            Context {
                key: Some("list".into()),
                item: true
            }
        );
        assert_eq!(
            value_context(text, at("1")),
            Context {
                key: Some("a".into()),
                item: false
            }
        );
        let nested = "fullAccess:\n  - principal: x\n    autoMapping: [a]\n";
        assert_eq!(
            value_context(nested, nested.find("autoMapping").unwrap()),
            Context {
                key: Some("fullAccess".into()),
                item: true
            }
        );
    }

    #[test]
    fn what_was_found_is_named() {
        assert_eq!(found_at("- a\n", 0), "a list");
        assert_eq!(found_at("[a]", 0), "a list");
        assert_eq!(found_at("{a: b}", 0), "a mapping");
        assert_eq!(found_at("a: b # c", 0), "a mapping");
        assert_eq!(found_at("\"x: y\"", 0), "the text \"x: y\"");
        assert_eq!(found_at("42", 0), "the number `42`");
        assert_eq!(found_at("none # off", 0), "`none`");
        assert_eq!(found_at("", 0), "nothing (`null`)");
        assert_eq!(found_at("a: [x@c.com, y]", 4), "`x@c.com`");
        assert_eq!(found_at("a: x, y]", 3), "`x, y]`");
    }

    #[test]
    fn the_kind_of_the_document_at_a_line() {
        let text = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nx: 1\n---\nkind: \"TenantSettings\" # org\ny: 2\n";
        assert_eq!(kind_at(text, 3), Some(Kind::SharedMailbox));
        assert_eq!(kind_at(text, 6), Some(Kind::TenantSettings));
        assert_eq!(kind_at("kind: Nonsense\n", 1), None);
    }

    #[test]
    fn unclosed_brackets_and_quotes() {
        let text = "a: [b, c\nd: e\n";
        assert_eq!(unclosed(text, text.len()), Some(('[', 3)));
        assert_eq!(unclosed("a: [b, {c: d}]\ne: f", 18), None);
        assert_eq!(unclosed("a: \"b\nc: d", 10), Some(('"', 3)));
        assert_eq!(unclosed("a: 'it''s'\nb: c", 14), None);
        // Inside plain values and comments nothing opens.
        assert_eq!(unclosed("a: it's [b\n# [c\n", 16), None);
    }
}
