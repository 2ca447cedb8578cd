//! `--trace FILE` (or `SHAREDBOX_LOG=FILE`): the admin API traffic of one run as JSON lines,
//! for an admin to read or to send us (docs/exchange-online.md, "First contact with your
//! tenant").
//!
//! The file is written by a [`tracing_subscriber`] layer that keeps only events of the exo
//! client's target ([`sharedbox_exo::trace::TARGET`]) and, of those, only the fields the
//! client declares ([`sharedbox_exo::trace::PLAIN_FIELDS`] and
//! [`sharedbox_exo::trace::TENANT_FIELDS`]); any other field, and every event of another
//! crate (azure_core logs request URLs), is dropped. Tokens, secrets and headers are not
//! among those fields, so they cannot reach the file.
//!
//! With `--trace-redact`, the values of the tenant fields are replaced by pseudonyms that
//! are stable within the run: `user-3@domain-1` for an address, `domain-1` for the tenant in
//! URL paths, `name-7` for any other name, display name or identity; messages from Exchange
//! are left out. Parameter values are kept as they are only for the parameters in
//! [`PLAIN_PARAMETERS`] (rights, types, sizes) and for booleans and numbers.
//!
//! Each line is written to the file as soon as its event happens (no buffer to lose), so a
//! run that fails, panics or is interrupted still leaves its trace up to that point. The
//! file is created with mode 0600: even redacted, it describes the tenant.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use sharedbox_exo::trace::{PLAIN_FIELDS, TARGET, TENANT_FIELDS};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// Parameters whose string values are kept under `--trace-redact`: they hold rights,
/// recipient types and sizes, never a name.
pub const PLAIN_PARAMETERS: &[&str] = &[
    "AccessRights",
    "RecipientTypeDetails",
    "FolderScope",
    "InheritanceType",
    "ResultSize",
    "Confirm",
    "AutoMapping",
    "Shared",
    "SoftDeletedMailbox",
];

/// The open trace file, shared by the layer and [`Trace::finish`].
#[derive(Clone)]
pub struct Trace {
    sink: Arc<Sink>,
}

struct Sink {
    file: Mutex<std::fs::File>,
    pseudonyms: Option<Mutex<Pseudonyms>>,
}

impl Sink {
    /// Writes one line: `time` first, then the fields in the order given.
    fn write(&self, line: Vec<(&str, Value)>) {
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut text = format!("{{\"time\":{}", Value::String(time));
        for (name, value) in line {
            text.push(',');
            text.push_str(&Value::String(name.to_owned()).to_string());
            text.push(':');
            text.push_str(&value.to_string());
        }
        text.push_str("}\n");
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // A full disk must not end the run: the trace is a witness, not a result.
        let _ = file.write_all(text.as_bytes());
    }
}

/// Opens `path` (created or truncated, mode 0600), installs the layer as the global
/// subscriber and writes the first line: version, command line without values of
/// `--trace`, and whether names are pseudonymised.
pub fn start(path: &Path, redact: bool, command: &str) -> anyhow::Result<Trace> {
    const HINT: &str = "`--trace` (or `SHAREDBOX_LOG`) takes the path of a new or existing regular file in a writable directory";
    // A link would truncate (and narrow) the file it points at; a FIFO would block the run.
    crate::output::check_output_target(path, "the trace file", HINT)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Against a link or FIFO put in place after the check: never follow, never wait.
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let cannot = |e: std::io::Error| {
        crate::output::Failure::new(format!(
            "cannot write the trace file `{}`: {e}",
            path.display()
        ))
        .hint(HINT)
    };
    let file = options.open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(crate::output::Failure::new(format!(
            "refusing to write the trace file `{}`: it is not a regular file",
            path.display()
        ))
        .hint(HINT)
        .into());
    }
    file.set_len(0).map_err(cannot)?;
    // A file that existed keeps its old mode through `open`: make it private too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| {
                crate::output::Failure::new(format!(
                    "cannot make the trace file `{}` private: {e}",
                    path.display()
                ))
            })?;
    }
    let trace = Trace {
        sink: Arc::new(Sink {
            file: Mutex::new(file),
            pseudonyms: redact.then(|| Mutex::new(Pseudonyms::default())),
        }),
    };
    trace.sink.write(vec![
        ("event", "start".into()),
        ("version", env!("CARGO_PKG_VERSION").into()),
        ("command", command.into()),
        ("redacted", redact.into()),
    ]);
    let layer = TraceLayer {
        sink: trace.sink.clone(),
    };
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .map_err(|e| anyhow::anyhow!("cannot start the trace: {e}"))?;
    Ok(trace)
}

impl Trace {
    /// Writes the last line (the exit code) and syncs the file.
    pub fn finish(&self, exit_code: u8) {
        self.sink.write(vec![
            ("event", "end".into()),
            ("exit_code", exit_code.into()),
        ]);
        let file = self.sink.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = file.sync_all();
    }
}

/// The command line for the first line of the trace: the subcommand and its flags, with
/// the value of every option left out except the format and the targets (pseudonymised
/// under `--trace-redact` like any name).
pub fn command_line(args: &[String]) -> String {
    args.iter()
        .skip(1)
        .map(|a| {
            if a.starts_with('-') || !a.contains(['/', '\\', '@', ':', '.']) {
                a.as_str()
            } else {
                "<value>"
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

struct TraceLayer {
    sink: Arc<Sink>,
}

fn is_ours(metadata: &Metadata<'_>) -> bool {
    metadata.target() == TARGET
}

impl<S: Subscriber> Layer<S> for TraceLayer {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        is_ours(metadata)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !is_ours(event.metadata()) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = vec![(
            "level",
            Value::from(event.metadata().level().as_str().to_ascii_lowercase()),
        )];
        let mut pseudonyms = self
            .sink
            .pseudonyms
            .as_ref()
            .map(|p| p.lock().unwrap_or_else(|e| e.into_inner()));
        for (name, value) in fields.0 {
            if PLAIN_FIELDS.contains(&name) {
                line.push((name, value));
            } else if TENANT_FIELDS.contains(&name) {
                let value = match pseudonyms.as_deref_mut() {
                    None => value,
                    Some(p) => p.field(name, value),
                };
                line.push((name, value));
            }
        }
        drop(pseudonyms);
        self.sink.write(line);
    }
}

/// The fields of one event, in order, as JSON values.
#[derive(Default)]
struct Fields(Vec<(&'static str, Value)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if value.is_empty() {
            return;
        }
        self.0.push((field.name(), Value::String(value.to_owned())));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), value.into()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name(), Value::String(format!("{value:?}"))));
    }
}

/// Stable pseudonyms for one run: the same name (compared without case) gets the same
/// pseudonym every time it appears.
#[derive(Default)]
pub struct Pseudonyms {
    domains: HashMap<String, String>,
    users: HashMap<String, String>,
    names: HashMap<String, String>,
}

impl Pseudonyms {
    /// The pseudonym of a domain (or tenant id): `domain-N`.
    pub fn domain(&mut self, domain: &str) -> String {
        let n = self.domains.len() + 1;
        self.domains
            .entry(domain.to_lowercase())
            .or_insert_with(|| format!("domain-{n}"))
            .clone()
    }

    /// The pseudonym of an address: `user-N@domain-M`; the arbitration mailbox every
    /// client routes tenant-level cmdlets to keeps its well-known local part.
    pub fn address(&mut self, address: &str) -> String {
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
        let domain = self.domain(domain);
        if local.starts_with("SystemMailbox{") {
            return format!("{local}@{domain}");
        }
        let n = self.users.len() + 1;
        let user = self
            .users
            .entry(local.to_lowercase() + "@" + &domain)
            .or_insert_with(|| format!("user-{n}"))
            .clone();
        format!("{user}@{domain}")
    }

    /// The pseudonym of a name without `@` (display name, alias, GUID): `name-N`.
    pub fn name(&mut self, name: &str) -> String {
        let n = self.names.len() + 1;
        self.names
            .entry(name.to_lowercase())
            .or_insert_with(|| format!("name-{n}"))
            .clone()
    }

    /// A free text's addresses replaced (`SMTP:a@b`, `a@b:FolderId`); a text without any
    /// address is a name as a whole.
    pub fn text(&mut self, text: &str) -> String {
        if !text.contains('@') {
            return if text.is_empty() {
                String::new()
            } else {
                self.name(text)
            };
        }
        let is_word = |c: char| c.is_alphanumeric() || "._%+-'{}@".contains(c);
        let mut out = String::new();
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once('\0')) {
            if is_word(c) {
                word.push(c);
                continue;
            }
            if word.contains('@') {
                out.push_str(&self.address(&word));
            } else {
                out.push_str(&word);
            }
            word.clear();
            if c != '\0' {
                out.push(c);
            }
        }
        out
    }

    /// The value of a tenant field, pseudonymised.
    fn field(&mut self, name: &str, value: Value) -> Value {
        let Value::String(text) = value else {
            return value;
        };
        Value::String(match name {
            "path" => text
                .split('/')
                .enumerate()
                // `/adminapi/{version}/{tenant}/...`
                .map(|(i, segment)| {
                    if i == 3 {
                        self.domain(segment)
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/"),
            "parameters" => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(parameters)) => {
                    let redacted: Map<String, Value> = parameters
                        .into_iter()
                        .map(|(key, value)| {
                            let value = if PLAIN_PARAMETERS.contains(&key.as_str()) {
                                value
                            } else {
                                self.value(value)
                            };
                            (key, value)
                        })
                        .collect();
                    serde_json::to_string(&redacted).unwrap_or_default()
                }
                _ => "<redacted>".to_owned(),
            },
            "anchor" => self.text(&text),
            // Exchange's texts quote names this layer may not have seen: left out.
            _ => "<redacted>".to_owned(),
        })
    }

    /// Every string in a JSON value pseudonymised (keys of hashtables kept: `Add`, `Remove`).
    fn value(&mut self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, self.value(v))).collect())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_and_ignore_case() {
        let mut p = Pseudonyms::default();
        let a = p.address("Sales@Contoso.com");
        assert_eq!(a, "user-1@domain-1");
        assert_eq!(p.address("sales@contoso.com"), a);
        assert_eq!(p.address("support@contoso.com"), "user-2@domain-1");
        assert_eq!(p.text("SMTP:sales@contoso.com"), format!("SMTP:{a}"));
        assert_eq!(
            p.text("sales@contoso.com:\\Sent Items"),
            format!("{a}:\\Sent Items")
        );
        assert_eq!(p.name("Sales Team"), "name-1");
        assert_eq!(p.text("sales team"), "name-1");
        assert_eq!(p.domain("CONTOSO.COM"), "domain-1");
        assert_eq!(
            p.text("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.com"),
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@domain-1"
        );
    }

    #[test]
    fn parameters_keep_rights_and_flags_only() {
        let mut p = Pseudonyms::default();
        let parameters = serde_json::json!({
            "Identity": "sales@contoso.com",
            "User": "Alex Wilber",
            "AccessRights": ["FullAccess"],
            "AutoMapping": false,
            "GrantSendOnBehalfTo": {"Add": ["alex@contoso.com"]},
        })
        .to_string();
        let Value::String(out) = p.field("parameters", Value::String(parameters)) else {
            panic!("a string")
        };
        for name in ["sales@", "contoso", "Alex", "alex@"] {
            assert!(!out.contains(name), "{name} in {out}");
        }
        assert!(out.contains("\"AccessRights\":[\"FullAccess\"]"), "{out}");
        assert!(out.contains("\"AutoMapping\":false"), "{out}");
        assert!(out.contains("\"Add\":[\"user-"), "{out}");
        let Value::String(path) = p.field(
            "path",
            Value::String("/adminapi/beta/contoso.com/InvokeCommand".to_owned()),
        ) else {
            panic!("a string")
        };
        assert_eq!(path, "/adminapi/beta/domain-1/InvokeCommand");
        assert_eq!(
            p.field(
                "message",
                Value::String("'alex@contoso.com' not found".into())
            ),
            Value::String("<redacted>".into())
        );
    }
}
