//! Parameter binding as the admin API does it: names are case-insensitive, values are JSON
//! values (strings, bools, arrays, `null`, `#Exchange.GenericHashTable` objects), and
//! nothing is ever parsed as PowerShell: a value with quotes, `$()`, backslashes or
//! newlines is just a string that matches nothing or exactly one object.

use serde_json::{Map, Value};

use crate::wire::ExoError;

/// PowerShell common parameters and others every cmdlet accepts and the simulator ignores.
const COMMON: &[&str] = &[
    "Confirm",
    "Force",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "Verbose",
    "Debug",
    "ErrorVariable",
    "WarningVariable",
    "OutVariable",
    "DomainController",
];

/// The OData type a hashtable parameter must carry.
pub const HASHTABLE_TYPE: &str = "#Exchange.GenericHashTable";

/// The parameters of one invocation.
#[derive(Debug, Clone, Default)]
pub struct Params {
    entries: Vec<(String, Value)>,
}

/// A multi-valued property as a parameter sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiValue {
    /// The plain form (`"GrantSendOnBehalfTo": ["a", "b"]`): replaces the whole list.
    Replace(Vec<String>),
    /// The hashtable form (`{"@odata.type": "#Exchange.GenericHashTable", "Add": .., "Remove": ..}`).
    Modify {
        /// Values to add.
        add: Vec<String>,
        /// Values to remove.
        remove: Vec<String>,
    },
}

impl Params {
    /// The parameters of `CmdletInput.Parameters` (absent or `null` = none).
    pub fn from_json(value: Option<&Value>) -> Result<Params, ExoError> {
        match value {
            None | Some(Value::Null) => Ok(Params::default()),
            Some(Value::Object(map)) => Ok(Params {
                entries: map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            }),
            Some(other) => Err(ExoError::bad_request(format!(
                "CmdletInput.Parameters must be an object, not {other}"
            ))),
        }
    }

    /// Refuses any parameter not in `allowed` (or a common parameter), like the binder.
    /// Annotation keys (`X@odata.type`) are not parameters.
    pub fn check_allowed(&self, allowed: &[&str]) -> Result<(), ExoError> {
        for (name, _) in &self.entries {
            if name.contains('@') {
                continue;
            }
            let known = allowed
                .iter()
                .chain(COMMON)
                .any(|a| a.eq_ignore_ascii_case(name));
            if !known {
                return Err(ExoError::unknown_parameter(name));
            }
        }
        Ok(())
    }

    /// The raw value of `name`, whatever its case.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether `name` was given (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A string parameter (`null` = not given; numbers are taken as their text).
    pub fn string(&self, name: &str) -> Result<Option<String>, ExoError> {
        match self.raw(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(cannot_convert(name, other, "System.String")),
        }
    }

    /// A mandatory string parameter.
    pub fn required_string(&self, cmdlet: &str, name: &str) -> Result<String, ExoError> {
        match self.string(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(ExoError::bad_parameter(
                name,
                format!(
                    "Cannot bind argument to parameter '{name}' because it is an empty string."
                ),
            )),
            None => Err(ExoError::missing_parameter(cmdlet, name)),
        }
    }

    /// A bool or switch parameter: JSON `true`/`false`, or the numbers 0 and 1. Strings are
    /// refused as PowerShell refuses them for `[bool]` parameters.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ExoError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Null) => Err(ExoError::bad_parameter(
                name,
                format!("Cannot bind argument to parameter '{name}' because it is null."),
            )),
            Some(value) => to_bool(name, value).map(Some),
        }
    }

    /// A nullable bool (`SmtpClientAuthenticationDisabled`): `Some(None)` for `null`.
    pub fn nullable_bool(&self, name: &str) -> Result<Option<Option<bool>>, ExoError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => to_bool(name, value).map(|b| Some(Some(b))),
        }
    }

    /// A string-array parameter: a string or an array of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ExoError> {
        match self.raw(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => string_list(name, value).map(Some),
        }
    }

    /// A multi-valued property: the plain (replace) form or the hashtable form.
    /// Without its `@odata.type` tag a hashtable does not bind (when `require_type`).
    pub fn multi_value(
        &self,
        name: &str,
        require_type: bool,
    ) -> Result<Option<MultiValue>, ExoError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(MultiValue::Replace(Vec::new()))),
            Some(Value::Object(map)) => hashtable(name, map, require_type).map(Some),
            Some(value) => string_list(name, value).map(|v| Some(MultiValue::Replace(v))),
        }
    }
}

fn to_bool(name: &str, value: &Value) -> Result<bool, ExoError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        other => Err(ExoError::bad_parameter(
            name,
            format!(
                "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                type_name(other)
            ),
        )),
    }
}

fn string_list(name: &str, value: &Value) -> Result<Vec<String>, ExoError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(cannot_convert(name, other, "System.String")),
            })
            .collect(),
        other => Err(cannot_convert(name, other, "System.String[]")),
    }
}

fn hashtable(
    name: &str,
    map: &Map<String, Value>,
    require_type: bool,
) -> Result<MultiValue, ExoError> {
    let typed = map
        .get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| t == HASHTABLE_TYPE);
    if require_type && !typed {
        return Err(ExoError::bad_parameter(
            name,
            format!(
                "Cannot process argument transformation on parameter '{name}'. Cannot convert the \"{}\" value of type \"Newtonsoft.Json.Linq.JObject\" to type \"System.Collections.Hashtable\".",
                Value::Object(map.clone())
            ),
        ));
    }
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for (key, value) in map {
        if key.starts_with('@') {
            continue;
        }
        let target = if key.eq_ignore_ascii_case("Add") {
            &mut add
        } else if key.eq_ignore_ascii_case("Remove") {
            &mut remove
        } else {
            return Err(ExoError::bad_parameter(
                name,
                format!(
                    "Cannot process argument transformation on parameter '{name}'. The hashtable key '{key}' is not valid; the valid keys are 'Add' and 'Remove'."
                ),
            ));
        };
        if !value.is_null() {
            target.extend(string_list(name, value)?);
        }
    }
    Ok(MultiValue::Modify { add, remove })
}

fn cannot_convert(name: &str, value: &Value, to: &str) -> ExoError {
    ExoError::bad_parameter(
        name,
        format!(
            "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{}\" to type \"{to}\".",
            type_name(value)
        ),
    )
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "System.Boolean",
        Value::Number(_) => "System.Int64",
        Value::String(_) => "System.String",
        Value::Array(_) => "System.Object[]",
        Value::Object(_) => "Newtonsoft.Json.Linq.JObject",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        Params::from_json(Some(&v)).unwrap()
    }

    #[test]
    fn names_are_case_insensitive_and_annotations_are_not_parameters() {
        let p =
            params(json!({"accessRights": ["FullAccess"], "user": "a", "User@odata.type": "x"}));
        p.check_allowed(&["AccessRights", "User"]).unwrap();
        assert_eq!(
            p.strings("AccessRights").unwrap(),
            Some(vec!["FullAccess".into()])
        );
        assert_eq!(p.string("USER").unwrap().as_deref(), Some("a"));
        let err = params(json!({"Foo": 1}))
            .check_allowed(&["User"])
            .unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("'Foo'"));
    }

    #[test]
    fn hashtables_need_their_type() {
        let typed = params(
            json!({"G": {"@odata.type": "#Exchange.GenericHashTable", "add": "a", "Remove": ["b", "c"]}}),
        );
        assert_eq!(
            typed.multi_value("g", true).unwrap(),
            Some(MultiValue::Modify {
                add: vec!["a".into()],
                remove: vec!["b".into(), "c".into()]
            })
        );
        let untyped = params(json!({"G": {"Add": "a"}}));
        let err = untyped.multi_value("G", true).unwrap_err();
        assert_eq!((err.status, err.code), (400, "BadRequest"));
        assert!(untyped.multi_value("G", false).unwrap().is_some());
        assert_eq!(
            params(json!({"G": ["a"]})).multi_value("G", true).unwrap(),
            Some(MultiValue::Replace(vec!["a".into()]))
        );
    }

    #[test]
    fn bools_are_not_strings() {
        let p = params(json!({"A": true, "B": "false", "C": 0, "D": null}));
        assert_eq!(p.bool("a").unwrap(), Some(true));
        assert!(p.bool("b").is_err());
        assert_eq!(p.bool("c").unwrap(), Some(false));
        assert_eq!(p.nullable_bool("d").unwrap(), Some(None));
    }
}
