//! The admin API's JSON, read tolerantly (reference §4, §5, §8.3).
//!
//! Output objects are flat property bags whose keys the client must match
//! case-insensitively, with `@`-annotation keys to drop. Bools arrive as JSON bools,
//! `"True"`/`"False"` or `{"IsPresent": bool}`; collections as `null`, one string, an
//! array, or a comma string. `value` may be missing, `null`, an array or a single object,
//! and some bodies are not JSON at all. This module turns all of it into [`Row`]s and
//! [`Page`]s, and error bodies into [`Fault`]s, without ever failing on an odd shape.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// One output object, keys lower-cased, annotation keys dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(HashMap<String, Value>);

impl Row {
    /// Builds a row from a JSON object; anything else gives an empty row.
    pub fn from_value(value: &Value) -> Row {
        Row::from_owned(value.clone())
    }

    /// [`Row::from_value`] without copying the values (bulk reads hold tens of thousands).
    pub fn from_owned(value: Value) -> Row {
        let Value::Object(map) = value else {
            return Row::default();
        };
        let mut row = HashMap::with_capacity(map.len());
        for (mut key, value) in map {
            if !key.contains('@') {
                key.make_ascii_lowercase();
                row.insert(key, value);
            }
        }
        Row(row)
    }

    /// The raw value of a property.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .get(&key.to_ascii_lowercase())
            .filter(|v| !v.is_null())
    }

    /// A string property; numbers and bools are given as text, empty strings as `None`.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
            Value::Object(o) => o
                .iter()
                .find(|(k, _)| {
                    k.eq_ignore_ascii_case("DisplayName") || k.eq_ignore_ascii_case("Name")
                })
                .and_then(|(_, v)| v.as_str().map(str::to_owned)),
            _ => None,
        }
    }

    /// A string property, or `""`.
    pub fn text_or_empty(&self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    /// A bool in any of its encodings; `None` when absent, null or unreadable.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(flag)
    }

    /// A multi-valued property: `null` -> empty, one string -> one element, an array ->
    /// its strings. With `split_commas`, `"Reviewer, ReadItems"` gives two elements.
    pub fn strings(&self, key: &str, split_commas: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |s: &str| {
            if split_commas {
                out.extend(
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            } else if !s.is_empty() {
                out.push(s.to_owned());
            }
        };
        match self.get(key) {
            Some(Value::String(s)) => push(s),
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(s) => push(s),
                        Value::Object(_) => {
                            if let Some(s) = Row::from_value(item).text("Name") {
                                push(&s)
                            }
                        }
                        other if !other.is_null() => push(&other.to_string()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        out
    }
}

/// A bool as the admin API may encode it.
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::Object(map) => get_ci(map, "IsPresent").and_then(flag),
        _ => None,
    }
}

/// One page of a cmdlet's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The output objects.
    pub rows: Vec<Row>,
    /// `@adminapi.warnings`.
    pub warnings: Vec<String>,
    /// `@odata.nextLink`: where the next page is (POST the same body there).
    pub next_link: Option<String>,
}

/// Reads a success body. Never fails: an empty or non-JSON body is an empty page.
pub fn parse_page(body: &[u8]) -> Page {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Page::default();
    };
    page_of(value)
}

/// Reads a success body already parsed as JSON.
pub fn page_of(value: Value) -> Page {
    match value {
        Value::Array(items) => Page {
            rows: items.into_iter().map(Row::from_owned).collect(),
            ..Page::default()
        },
        Value::Object(mut map) => {
            let warnings = match get_ci(&map, "@adminapi.warnings") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|w| w.as_str().map(str::to_owned))
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            };
            let next_link = get_ci(&map, "@odata.nextLink")
                .or_else(|| get_ci(&map, "odata.nextLink"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            let value_key = map
                .keys()
                .find(|k| k.eq_ignore_ascii_case("value"))
                .cloned();
            let rows = match value_key.and_then(|k| map.remove(&k)) {
                Some(Value::Array(items)) => items.into_iter().map(Row::from_owned).collect(),
                Some(single @ Value::Object(_)) => vec![Row::from_owned(single)],
                Some(_) => Vec::new(),
                // No `value` at all: a bare object is one row, an envelope is none.
                None if map
                    .keys()
                    .all(|k| k.starts_with('@') || k.contains("@odata")) =>
                {
                    Vec::new()
                }
                None => vec![Row::from_owned(Value::Object(map))],
            };
            Page {
                rows,
                warnings,
                next_link,
            }
        }
        _ => Page::default(),
    }
}

/// What an error body says: the exception type and the human text of `details[0]`,
/// else `error.message`, else the body's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `error.code`, e.g. `NotFound`.
    pub code: String,
    /// The exception's full type name from `details[].message` (`StringId|Type|Text`).
    pub exception: String,
    /// The human-readable text.
    pub message: String,
}

/// Reads an error body of any shape (the §5.1 envelope, plain text, empty, NUL bytes).
pub fn parse_error(body: &[u8]) -> ErrorBody {
    let text = String::from_utf8_lossy(body);
    let printable = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(printable) else {
        return ErrorBody {
            message: excerpt(printable),
            ..ErrorBody::default()
        };
    };
    let error = get_ci(&root, "error")
        .and_then(Value::as_object)
        .unwrap_or(&root);
    let code = get_ci(error, "code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let detail = get_ci(error, "details")
        .and_then(|d| match d {
            Value::Array(items) => items.first().cloned(),
            other => Some(other.clone()),
        })
        .and_then(|d| {
            d.as_object()
                .and_then(|d| get_ci(d, "message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let inner = get_ci(error, "innererror")
        .and_then(Value::as_object)
        .and_then(|i| get_ci(i, "internalexception"))
        .and_then(Value::as_object)
        .and_then(|i| get_ci(i, "message"))
        .and_then(Value::as_str);
    let top = get_ci(error, "message").and_then(Value::as_str);
    let (exception, message) = match detail {
        Some(detail) => split_detail(&detail),
        None => (String::new(), inner.or(top).unwrap_or_default().to_owned()),
    };
    ErrorBody {
        code,
        exception,
        message: excerpt(&message),
    }
}

/// Splits `StringId|ExceptionType|Text` (the text may itself hold `|`).
fn split_detail(detail: &str) -> (String, String) {
    let mut parts = detail.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(exception), Some(text)) => (exception.trim().to_owned(), text.to_owned()),
        _ => (String::new(), detail.to_owned()),
    }
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// At most 500 characters of a body, for messages.
fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_match_keys_case_insensitively_and_drop_annotations() {
        let row = Row::from_value(&json!({
            "Guid@data.type": "System.Guid", "Guid@odata.type": "#Guid", "Guid": "g-1",
            "displayname": "Support", "IsInherited": "True", "Deny": {"IsPresent": false},
            "AccessRights": "Reviewer, ReadItems", "GrantSendOnBehalfTo": null, "One": "x"
        }));
        assert_eq!(row.0.len(), 7);
        assert_eq!(row.text("GUID").as_deref(), Some("g-1"));
        assert_eq!(row.text("DisplayName").as_deref(), Some("Support"));
        assert_eq!(row.flag("isinherited"), Some(true));
        assert_eq!(row.flag("Deny"), Some(false));
        assert_eq!(row.strings("AccessRights", true), ["Reviewer", "ReadItems"]);
        assert!(row.strings("GrantSendOnBehalfTo", false).is_empty());
        assert_eq!(row.strings("one", false), ["x"]);
        assert_eq!(row.flag("missing"), None);
    }

    #[test]
    fn pages_of_every_shape() {
        let page = parse_page(
            br##"{"@odata.context":"x","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":["w"],"value":[{"A":1}],"@odata.nextLink":"http://n"}"##,
        );
        assert_eq!(page.rows.len(), 1);
        assert_eq!(page.warnings, ["w"]);
        assert_eq!(page.next_link.as_deref(), Some("http://n"));
        assert!(
            parse_page(br#"{"@odata.context":"x","value":null}"#)
                .rows
                .is_empty()
        );
        assert!(parse_page(br#"{"@odata.context":"x"}"#).rows.is_empty());
        assert!(parse_page(b"").rows.is_empty());
        assert!(parse_page(b"<html>oops</html>").rows.is_empty());
        assert_eq!(parse_page(br#"[{"A":1},{"A":2}]"#).rows.len(), 2);
        assert_eq!(parse_page(br#"{"Name":"org"}"#).rows.len(), 1);
        assert_eq!(parse_page(br#"{"value":{"Name":"org"}}"#).rows.len(), 1);
    }

    #[test]
    fn error_envelopes_plain_text_and_nul_bodies() {
        let e = parse_error(
            br#"{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x|y' couldn't be found."}]}}"#,
        );
        assert_eq!(e.code, "NotFound");
        assert_eq!(
            e.exception,
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
        );
        assert!(e.message.contains("object 'x|y' couldn't be found"));
        let plain =
            parse_error(b"You have reached the maximum number of concurrent requests per tenant.");
        assert!(plain.message.starts_with("You have reached"));
        assert_eq!(parse_error(&[0u8; 16]).message, "");
        let inner = parse_error(
            br#"{"error":{"code":"InternalServerError","message":"x","innererror":{"InternalException":{"message":"deep"}}}}"#,
        );
        assert_eq!(inner.message, "deep");
    }

    /// JSON values of any shape, as a hostile or broken endpoint might send them.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("value"),
                Just("Value"),
                Just("@odata.nextLink"),
                Just("error"),
                Just("details"),
                Just("message"),
                Just("responses"),
                Just("IsPresent")
            ]
            .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let key = prop_oneof![
                Just("value".to_owned()),
                Just("@odata.nextLink".to_owned()),
                Just("@adminapi.warnings".to_owned()),
                Just("error".to_owned()),
                Just("code".to_owned()),
                Just("message".to_owned()),
                Just("details".to_owned()),
                Just("innererror".to_owned()),
                Just("Name".to_owned()),
                "\\PC{0,6}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(key, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        #[test]
        fn any_bytes_parse_as_a_page_or_an_error_without_panicking(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
        ) {
            let _ = parse_page(&body);
            let _ = parse_error(&body);
        }

        #[test]
        fn any_json_parses_as_a_page_or_an_error_without_panicking(value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            let page = parse_page(&body);
            for row in &page.rows {
                let _ = (row.text("Name"), row.flag("IsPresent"), row.strings("value", true));
            }
            let _ = parse_error(&body);
        }
    }
}
