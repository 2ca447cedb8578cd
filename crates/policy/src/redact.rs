//! Keeping secrets out of diagnostics: anything in a file or message that looks like a token,
//! a key or a password is masked before it is shown.
//!
//! Policy files come from pull requests, and a diagnostic's excerpt ends up in CI logs,
//! annotations and PR comments. The loader already refuses files outside the policy folder;
//! this is the second line: whatever text reaches a message or an excerpt passes through
//! [`mask_secrets`] (same length, so that spans stay valid) or [`redact_secrets`].
//!
//! What counts as a secret (deliberately broad; a masked non-secret costs little):
//! - a JSON Web Token (`eyJ…​.…​`, the shape of every Entra access token);
//! - the body of a PEM block (`-----BEGIN … -----` up to `-----END`);
//! - the value after a name that says secret, token, password, key or credential
//!   (`AZURE_CLIENT_SECRET=…`, `password: …`);
//! - a run of 32 or more hex digits, or of 32 or more base64/URL-safe characters that mixes
//!   upper case, lower case and digits (keys, client secrets, SAS signatures). GUIDs are not
//!   secrets (Entra object ids are written in policies) and are kept.

use std::borrow::Cow;
use std::ops::Range;

/// The shortest run of key-like characters that is masked.
const MIN_KEY_RUN: usize = 32;

/// Words that mark the value after them as a secret (compared lower-case).
const SECRET_NAMES: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "pass",
    "pwd",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
    "credential",
    "signature",
];

/// `text` with every secret-looking byte replaced by `*`; the result has the same length
/// and the same line breaks, so byte offsets and line numbers into it stay valid.
pub fn mask_secrets(text: &str) -> Cow<'_, str> {
    let spans = secret_spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        for b in &mut bytes[span] {
            // Line breaks stay; every other byte of a secret (secrets are ASCII, see
            // `secret_spans`) becomes a star.
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII, so this stays UTF-8.
    Cow::Owned(String::from_utf8(bytes).unwrap_or_default())
}

/// `text` with every secret replaced by `[redacted]`, for messages.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    let spans = secret_spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str("[redacted]");
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// `text` with control characters (other than line breaks and tabs) written out as escapes
/// (`\u{1b}`), so that tenant data quoted in a message cannot drive the terminal or the CI
/// log.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Whether `text` contains anything that looks like a secret.
pub fn has_secrets(text: &str) -> bool {
    !secret_spans(text).is_empty()
}

/// The byte ranges of secret-looking text, sorted and disjoint. Every range starts and ends
/// on a character boundary and covers ASCII only (or a whole PEM line).
fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    pem_bodies(text, &mut spans);
    named_values(text, &mut spans);
    key_runs(text, &mut spans);
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Characters of tokens, keys and base64 (standard and URL-safe), and of Azure client
/// secrets (`~`).
fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-' | b'.' | b'~')
}

/// The lines inside `-----BEGIN …-----` … `-----END …-----`, the markers kept.
fn pem_bodies(text: &str, spans: &mut Vec<Range<usize>>) {
    let mut inside = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with("-----BEGIN") {
            inside = true;
        } else if trimmed.starts_with("-----END") {
            inside = false;
        } else if inside && !trimmed.is_empty() {
            let start = offset + (line.len() - line.trim_start().len());
            spans.push(start..start + trimmed.len());
        }
        offset += line.len();
    }
}

/// `NAME=value`, `NAME: value`, `"name": "value"` where the name says secret.
fn named_values(text: &str, spans: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-'))
        {
            i += 1;
        }
        let name = text[name_start..i].to_ascii_lowercase();
        if !SECRET_NAMES.iter().any(|s| name.contains(s)) {
            continue;
        }
        // Optional closing quote, spaces, then `=` or `:`, spaces, optional opening quote.
        let mut j = i;
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            j += 1;
        }
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b'=' | b':') {
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'"' | b'\'') {
            j += 1;
        }
        let value_start = j;
        while j < bytes.len()
            && bytes[j].is_ascii_graphic()
            && !matches!(bytes[j], b'"' | b'\'' | b',' | b'}' | b']')
        {
            j += 1;
        }
        // A value of a few characters is a setting (`token: file`), not a secret.
        if j - value_start >= 8 {
            spans.push(value_start..j);
        }
        i = j.max(i);
    }
}

/// Long runs of key characters: JWTs, base64 keys, hex secrets.
fn key_runs(text: &str, spans: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_key_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_key_char(bytes[i]) {
            i += 1;
        }
        let run = &text[start..i];
        if looks_like_key(run) {
            spans.push(start..i);
        }
    }
}

/// Whether a run of key characters is a token or key rather than a word, path or GUID.
fn looks_like_key(run: &str) -> bool {
    if run.starts_with("eyJ") && run.contains('.') && run.len() >= 20 {
        return true; // a JWT: base64url of `{"`, dot-separated
    }
    // Split at separators that also appear in ordinary names; GUIDs and paths fall apart
    // into short pieces, keys do not.
    run.split(['.', '/'])
        .any(|piece| piece.len() >= MIN_KEY_RUN && !is_guid_like(piece) && is_random(piece))
}

/// `8-4-4-4-12` hex digits.
fn is_guid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Hex of key length, or base64 that mixes cases and digits.
fn is_random(piece: &str) -> bool {
    let hex = piece.bytes().all(|b| b.is_ascii_hexdigit());
    let upper = piece.bytes().any(|b| b.is_ascii_uppercase());
    let lower = piece.bytes().any(|b| b.is_ascii_lowercase());
    let digit = piece.bytes().filter(u8::is_ascii_digit).count();
    hex || (upper && lower && digit >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

    #[test]
    fn tokens_keys_and_named_secrets_are_masked_in_place() {
        let text = format!(
            "HOME=/root\0SHAREDBOX_ACCESS_TOKEN={JWT}\0AZURE_CLIENT_SECRET=Xy8Q~abcdEFGH.ijkl_mnop\0PATH=/usr/bin\n\
             key: 4f9a1c2e7b3d4f5a6b7c8d9e0f1a2b3c4d5e6f70\n\
             -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nabc\n-----END PRIVATE KEY-----\n"
        );
        let masked = mask_secrets(&text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.lines().count(), text.lines().count());
        for secret in [
            JWT,
            "Xy8Q~abcdEFGH.ijkl_mnop",
            "4f9a1c2e7b3d4f5a6b7c8d9e0f1a2b3c4d5e6f70",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        ] {
            assert!(!masked.contains(secret), "{secret} survived: {masked}");
        }
        assert!(masked.contains("HOME=/root"));
        assert!(masked.contains("-----BEGIN PRIVATE KEY-----"));
        let redacted = redact_secrets(&text);
        assert!(!redacted.contains(JWT));
        assert!(redacted.contains("[redacted]"));
    }

    #[test]
    fn control_characters_are_written_out() {
        assert_eq!(
            printable("a\u{1b}[31mb\u{7}\nc\td"),
            "a\\u{1b}[31mb\\u{7}\nc\td"
        );
        assert_eq!(printable("plain"), "plain");
    }

    #[test]
    fn policy_text_is_left_alone() {
        let text = "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n\
                    sendAs: [00000000-1111-2222-3333-444444444444, team@contoso.com]\n\
                    # examples/bulk-rollout/policies/mailbox-001.yaml\n\
                    sentItemsReaders: [{principal: auditors@contoso.com, access: Reviewer}]\n\
                    clients: {smtpAuth: disabled}\n";
        assert_eq!(mask_secrets(text), text);
        assert!(!has_secrets(text));
    }
}
