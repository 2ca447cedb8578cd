//! The wire format of the admin API: the success envelope with its annotations, output
//! objects with per-property annotation keys, the error envelope, and the response headers
//! (reference §4.1, §4.2, §5.1, §9).
//!
//! Output objects keep their keys in insertion order ([`Item`]), so annotation keys come
//! before their value as on the real service, without switching `serde_json` to ordered
//! maps for the whole workspace.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// `Content-Type` of every successful admin API response.
pub const ODATA_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// `Content-Type` of error responses.
pub const ERROR_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The domain controller named in "couldn't be found on" messages.
pub const DOMAIN_CONTROLLER: &str = "SIMPR01A001DC01.SIMPR01A001.PROD.OUTLOOK.COM";

/// The host the real service puts into `@odata.context`, whatever host was called.
pub const CONTEXT_HOST: &str = "https://outlook.office.com";

/// One output object: a flat property bag whose keys keep their order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item(Vec<(String, Value)>);

impl Item {
    /// An empty object.
    pub fn new() -> Item {
        Item::default()
    }

    /// Sets `key` (replacing an earlier value of the same key).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    /// Adds a plain property.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Item {
        self.set(key, value);
        self
    }

    /// Adds a GUID property with its `@data.type` and `@odata.type` annotations.
    pub fn guid(mut self, key: &str, value: &str) -> Item {
        self.set(&format!("{key}@data.type"), "System.Guid");
        self.set(&format!("{key}@odata.type"), "#Guid");
        self.set(key, value);
        self
    }

    /// Adds a date property with its `@data.type` annotation.
    pub fn date(mut self, key: &str, value: &str) -> Item {
        self.set(&format!("{key}@data.type"), "System.DateTime");
        self.set(key, value);
        self
    }

    /// Adds an `Int32` property with its annotations.
    pub fn int32(mut self, key: &str, value: i64) -> Item {
        self.set(&format!("{key}@data.type"), "System.Int32");
        self.set(&format!("{key}@odata.type"), "#Int32");
        self.set(key, value);
        self
    }

    /// Adds a string collection with its `@odata.type: #Collection(String)` annotation.
    pub fn strings<S: AsRef<str>>(mut self, key: &str, values: &[S]) -> Item {
        self.set(&format!("{key}@odata.type"), "#Collection(String)");
        self.set(
            key,
            Value::Array(
                values
                    .iter()
                    .map(|v| Value::String(v.as_ref().to_owned()))
                    .collect(),
            ),
        );
        self
    }

    /// The value of `key` (exact spelling).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string value of `key`.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// Only the properties named in `select` (case-insensitive), with their annotations.
    pub fn select(&self, select: &[String]) -> Item {
        Item(
            self.0
                .iter()
                .filter(|(key, _)| {
                    let base = key.split('@').next().unwrap_or(key);
                    select.iter().any(|s| s.eq_ignore_ascii_case(base))
                })
                .cloned()
                .collect(),
        )
    }

    /// The object as a JSON value (key order is lost; for tests and the tenant dump).
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect())
    }
}

impl Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The success envelope of `InvokeCommand` (reference §4.1).
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    /// `https://outlook.office.com/adminapi/beta/<tenant>/$metadata#Collection(Exchange.GenericHashTable)`.
    #[serde(rename = "@odata.context")]
    pub context: String,
    /// Always `#Collection(String)`.
    #[serde(rename = "adminapi.warnings@odata.type")]
    pub warnings_type: &'static str,
    /// Warnings of the cmdlet, without a `WARNING: ` prefix.
    #[serde(rename = "@adminapi.warnings")]
    pub warnings: Vec<String>,
    /// The output objects; absent for cmdlets that emit nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<Item>>,
    /// The next page, when there is one.
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl Envelope {
    /// An envelope for `tenant` (as the URL named it).
    pub fn new(tenant: &str, value: Option<Vec<Item>>, warnings: Vec<String>) -> Envelope {
        Envelope {
            context: format!(
                "{CONTEXT_HOST}/adminapi/beta/{tenant}/$metadata#Collection(Exchange.GenericHashTable)"
            ),
            warnings_type: "#Collection(String)",
            warnings,
            value,
            next_link: None,
        }
    }
}

/// A cmdlet error: HTTP status plus the `error` envelope of reference §5.1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {exception}: {message}")]
pub struct ExoError {
    /// HTTP status.
    pub status: u16,
    /// `error.code`: `NotFound`, `BadRequest`, `Forbidden`, `InternalServerError`, ...
    pub code: &'static str,
    /// The StringId before the first `|` of `details[].message` (often empty).
    pub string_id: &'static str,
    /// The full .NET type name of the exception.
    pub exception: String,
    /// The human message.
    pub message: String,
    /// `details[].target`.
    pub target: String,
}

impl ExoError {
    fn new(status: u16, code: &'static str, exception: &str, message: String) -> ExoError {
        ExoError {
            status,
            code,
            string_id: "",
            exception: exception.to_owned(),
            message,
            target: String::new(),
        }
    }

    /// The `Identity` names no object (404, `ManagementObjectNotFoundException`).
    pub fn object_not_found(identity: &str) -> ExoError {
        ExoError {
            string_id: "Ex6F9304",
            target: identity.to_owned(),
            ..ExoError::new(
                404,
                "NotFound",
                "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                format!(
                    "The operation couldn't be performed because object '{identity}' couldn't be found on '{DOMAIN_CONTROLLER}'."
                ),
            )
        }
    }

    /// A `-User`/`-Trustee` that names nobody (404).
    pub fn user_not_found(user: &str) -> ExoError {
        ExoError {
            string_id: "Ex94914C",
            target: user.to_owned(),
            ..ExoError::new(
                404,
                "NotFound",
                "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                format!(
                    "User or group \"{user}\" wasn't found. Please make sure you've typed it correctly."
                ),
            )
        }
    }

    /// A recipient in a multi-valued property that names nobody (404).
    pub fn recipient_not_found(value: &str) -> ExoError {
        ExoError {
            string_id: "Ex94914C",
            target: value.to_owned(),
            ..ExoError::new(
                404,
                "NotFound",
                "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                format!(
                    "Couldn't find object \"{value}\". Please make sure that it was spelled correctly or specify a different object."
                ),
            )
        }
    }

    /// An identity that matches several objects (400).
    pub fn ambiguous(identity: &str) -> ExoError {
        ExoError {
            target: identity.to_owned(),
            ..ExoError::new(
                400,
                "BadRequest",
                "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException",
                format!(
                    "The operation couldn't be performed because '{identity}' matches multiple entries."
                ),
            )
        }
    }

    /// A parameter that does not exist (400).
    pub fn unknown_parameter(name: &str) -> ExoError {
        ExoError {
            target: name.to_owned(),
            ..ExoError::new(
                400,
                "BadRequest",
                "System.Management.Automation.ParameterBindingException",
                format!("A parameter cannot be found that matches parameter name '{name}'."),
            )
        }
    }

    /// A parameter whose value cannot be bound (400).
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> ExoError {
        ExoError {
            target: name.to_owned(),
            ..ExoError::new(
                400,
                "BadRequest",
                "System.Management.Automation.ParameterBindingException",
                message.into(),
            )
        }
    }

    /// A mandatory parameter is missing (400).
    pub fn missing_parameter(cmdlet: &str, name: &str) -> ExoError {
        ExoError::bad_parameter(
            name,
            format!(
                "Cannot process command because of one or more missing mandatory parameters: {name}. ({cmdlet})"
            ),
        )
    }

    /// `New-Mailbox` for an address another recipient holds (400).
    pub fn already_exists(address: &str) -> ExoError {
        ExoError {
            target: address.to_owned(),
            ..ExoError::new(
                400,
                "BadRequest",
                "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
                format!(
                    "The proxy address \"SMTP:{address}\" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address."
                ),
            )
        }
    }

    /// A failure of the server itself (500).
    pub fn internal(message: impl Into<String>) -> ExoError {
        ExoError::new(
            500,
            "InternalServerError",
            "System.InvalidOperationException",
            message.into(),
        )
    }

    /// A request the cmdlet refuses as invalid (400), with the given exception type.
    pub fn invalid(exception: &str, message: impl Into<String>) -> ExoError {
        ExoError::new(400, "BadRequest", exception, message.into())
    }

    /// Something the simulator does not model (400), so a client bug is not mistaken for
    /// a simulator gap.
    pub fn unsupported(message: impl Into<String>) -> ExoError {
        ExoError::invalid(
            "Microsoft.Exchange.Configuration.Tasks.TaskArgumentException",
            format!("sharedbox-sim: {}", message.into()),
        )
    }

    /// A cmdlet outside the caller's RBAC roles (403).
    pub fn not_in_role(cmdlet: &str) -> ExoError {
        ExoError {
            target: cmdlet.to_owned(),
            ..ExoError::new(
                403,
                "Forbidden",
                "Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException",
                format!(
                    "The operation couldn't be performed because '{cmdlet}' is not present in the role definition of the current user."
                ),
            )
        }
    }

    /// A cmdlet that does not exist (403, JSON variant).
    pub fn unknown_cmdlet(cmdlet: &str) -> ExoError {
        ExoError {
            target: cmdlet.to_owned(),
            ..ExoError::new(
                403,
                "Forbidden",
                "System.Management.Automation.CommandNotFoundException",
                format!(
                    "The term '{cmdlet}' is not recognized as a name of a cmdlet, function, script file, or executable program."
                ),
            )
        }
    }

    /// An injected 503.
    pub fn unavailable() -> ExoError {
        ExoError {
            code: "ServiceUnavailable",
            ..ExoError::new(
                503,
                "ServiceUnavailable",
                "Microsoft.Exchange.Data.Storage.ServerBusyException",
                "The server is busy. Please try again later.".to_owned(),
            )
        }
    }

    /// A malformed request body or URL (400).
    pub fn bad_request(message: impl Into<String>) -> ExoError {
        ExoError::new(
            400,
            "BadRequest",
            "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            message.into(),
        )
    }

    /// The `details[].message` string: `StringId|ExceptionType|Text`.
    pub fn detail_message(&self) -> String {
        format!("{}|{}|{}", self.string_id, self.exception, self.message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let category = if self.status >= 500 {
            "Server"
        } else {
            "Client"
        };
        serde_json::json!({"error": {
            "code": self.code,
            "message": "Error executing cmdlet",
            "details": [{"code": category, "target": self.target, "message": self.detail_message()}],
            "innererror": {
                "message": "Error executing cmdlet",
                "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                "stacktrace": "   at Microsoft.Exchange.AdminApi.CommandInvocation.CommandInvocation.InvokeCommand(CommandInvocationContext context)",
                "internalexception": {"message": self.message, "type": self.exception, "stacktrace": ""}
            }
        }})
    }

    /// The short exception name for the `x-ExceptionType` header.
    pub fn short_exception(&self) -> &str {
        self.exception.rsplit('.').next().unwrap_or(&self.exception)
    }

    /// The HTTP response (standard headers are added by the server).
    pub fn into_http(self) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(ERROR_CONTENT_TYPE),
        );
        if let Ok(v) = HeaderValue::from_str(self.short_exception()) {
            headers.insert(HeaderName::from_static("x-exceptiontype"), v);
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, headers, self.body().to_string()).into_response()
    }
}

/// A JSON response with the OData content type.
pub fn odata_json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).expect("responses serialise");
    (
        status,
        [(axum::http::header::CONTENT_TYPE, ODATA_CONTENT_TYPE)],
        bytes,
    )
        .into_response()
}

/// An ISO 8601 UTC timestamp (`2024-05-22T16:52:26.365Z`) `offset_secs` from now.
pub fn iso_timestamp(offset_secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let total_ms = now.as_millis() as u64 + offset_secs * 1000;
    let (secs, ms) = (total_ms / 1000, total_ms % 1000);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_precede_their_value() {
        let item = Item::new()
            .with("Name", "x")
            .guid("Guid", "g")
            .strings("EmailAddresses", &["SMTP:a@b"]);
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(
            text,
            r##"{"Name":"x","Guid@data.type":"System.Guid","Guid@odata.type":"#Guid","Guid":"g","EmailAddresses@odata.type":"#Collection(String)","EmailAddresses":["SMTP:a@b"]}"##
        );
        let selected = item.select(&["guid".to_owned()]);
        assert_eq!(selected.0.len(), 3);
    }

    #[test]
    fn error_details_have_three_parts() {
        let err = ExoError::object_not_found("x@y");
        let body = err.body();
        let message = body["error"]["details"][0]["message"].as_str().unwrap();
        assert_eq!(message.split('|').count(), 3);
        assert!(message.starts_with(
            "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|"
        ));
        assert_eq!(body["error"]["code"], "NotFound");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_865), (2024, 5, 22));
    }
}
