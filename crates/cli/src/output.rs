//! What the user sees: diagnostics and errors on stderr (with `hint:` lines), colour only
//! on a terminal and never with `NO_COLOR`, and the exit status.
//!
//! In pipelines: with `--json-lines` every diagnostic, progress message, apply step and error
//! is one JSON object per line on stderr; under GitHub Actions (`GITHUB_ACTIONS=true`)
//! located diagnostics also become `::error file=…,line=…,col=…::` annotations, and
//! [`step_summary`] appends Markdown to `$GITHUB_STEP_SUMMARY`.

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Writes data to stdout like `print!`, through [`write_stdout`]: a closed pipe never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}

/// Writes a line of data to stdout like `println!`, through [`write_stdout`].
macro_rules! outln {
    () => { $crate::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {{
        $crate::output::write_stdout(format_args!($($arg)*));
        $crate::output::write_stdout(format_args!("\n"));
    }};
}

/// Set once stdout is gone (the reader closed the pipe, as `sharedbox runs | head -1` does).
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Writes data to stdout. When the reader is gone (a broken pipe) or stdout fails otherwise,
/// the rest of the data is dropped and the command goes on to its end: an apply still
/// finishes and journals, and the exit code is the command's own, never a panic.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!(
                "warning: cannot write to standard output: {e}; the rest of the output is dropped"
            );
        }
    }
}

use sharedbox_policy::Diagnostic;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success, no changes.
    Success,
    /// 1: an error.
    Failure,
    /// 2: changes or drift present (with `--detailed-exitcode`).
    Changes,
    /// 3: apply failed and rollback is incomplete, or a rollback refused a damaged journal: a
    /// human must look.
    RollbackIncomplete,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::RollbackIncomplete => 3,
        })
    }
}

/// An error for the user: what went wrong and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    message: String,
    hint: Option<String>,
}

impl Failure {
    /// A failure with `message`.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint when there is one.
    pub fn maybe_hint(mut self, hint: Option<String>) -> Failure {
        self.hint = hint;
        self
    }

    /// A failure that says what a library error says, with its hint.
    pub fn of(error: &dyn miette::Diagnostic) -> Failure {
        Failure::new(error.to_string()).maybe_hint(hint_of(error))
    }
}

/// The hint of an error: miette's `help`, the one way the library crates (`TenantError`,
/// `ExoError`, `ApplyError`, the policy crate's `FileError`) and [`Failure`] give hints.
pub fn hint_of(error: &dyn miette::Diagnostic) -> Option<String> {
    error.help().map(|h| h.to_string())
}

impl miette::Diagnostic for Failure {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.hint
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

/// Whether to colour what goes to stdout.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Whether to colour what goes to stderr.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Installs the diagnostic renderer.
pub fn install_diagnostic_renderer() {
    let color = stderr_color();
    let _ = miette::set_hook(Box::new(move |_| {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        Box::new(
            miette::GraphicalReportHandler::new_themed(theme)
                .with_context_lines(1)
                .with_width(100),
        )
    }));
}

static JSON_LINES: OnceLock<bool> = OnceLock::new();

/// Chooses plain or JSON-lines stderr for the rest of the run.
pub fn init(json_lines: bool) {
    let _ = JSON_LINES.set(json_lines);
}

/// Whether stderr carries JSON lines.
pub fn json_lines() -> bool {
    JSON_LINES.get().copied().unwrap_or(false)
}

fn github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Writes one event to stderr as a JSON line: `type`, `level`, `message`, `timestamp`,
/// and the fields of `extra` (an object).
pub fn emit(kind: &str, level: &str, message: &str, extra: serde_json::Value) {
    let mut event = serde_json::json!({
        "type": kind,
        "level": level,
        "message": message,
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    });
    if let (Some(event), serde_json::Value::Object(extra)) = (event.as_object_mut(), extra) {
        event.extend(extra);
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{event}");
}

/// A diagnostic as JSON: severity, code, message, file, line, column, hint.
pub fn diagnostic_json(diagnostic: &Diagnostic) -> serde_json::Value {
    serde_json::to_value(sharedbox_planner::Finding::of(diagnostic)).unwrap_or_default()
}

/// Prints diagnostics to stderr, each like a compiler error (or as JSON lines), and as
/// GitHub annotations under GitHub Actions.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    // Warnings and notes seen per code (code, severity, count), in order of appearance.
    let mut seen: Vec<(&str, &'static str, usize)> = Vec::new();
    for diagnostic in diagnostics {
        if json_lines() {
            emit(
                "diagnostic",
                diagnostic.severity.as_str(),
                &diagnostic.message,
                diagnostic_json(diagnostic),
            );
            continue;
        }
        // Errors are all shown; warnings and notes of one code are shown up to a limit,
        // then counted, so that a lint firing on 10,000 mailboxes does not bury the rest.
        if !diagnostic.is_error() {
            let at = match seen.iter().position(|(code, ..)| *code == diagnostic.code) {
                Some(at) => at,
                None => {
                    seen.push((diagnostic.code, diagnostic.severity.as_str(), 0));
                    seen.len() - 1
                }
            };
            seen[at].2 += 1;
            if seen[at].2 > SHOWN_PER_CODE {
                continue;
            }
        }
        // Rendered whole, then written at once: stderr is unbuffered.
        let mut text = if diagnostic.severity == sharedbox_policy::Severity::Info {
            // Notes stay on one line, so that they do not bury the warnings.
            let place = diagnostic
                .origin
                .as_ref()
                .map(|o| format!(" {o}"))
                .unwrap_or_default();
            format!("info[{}]{place}: {}\n", diagnostic.code, diagnostic.message)
        } else {
            format!("{:?}\n", miette::Report::new(diagnostic.clone()))
        };
        if github_actions() {
            text.push_str(&annotation(diagnostic));
            text.push('\n');
        }
        eprint!("{text}");
    }
    for (code, severity, count) in seen {
        let Some(count) = count.checked_sub(SHOWN_PER_CODE).filter(|n| *n > 0) else {
            continue;
        };
        let name = sharedbox_policy::lint::find(code)
            .map(|lint| format!(" ({})", lint.name))
            .unwrap_or_default();
        eprintln!(
            "{severity}[{code}]: {count} more finding{} of this kind{name} not shown\n  hint: `--json-lines` or `sharedbox validate --format json` lists them all; `sharedbox explain {code}` says why it matters",
            plural(count)
        );
    }
}

/// `s` unless `n` is one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Warnings and notes of one code shown in full before the rest are only counted.
const SHOWN_PER_CODE: usize = 5;

/// A GitHub workflow command that annotates the file, line and column of a diagnostic.
pub fn annotation(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        sharedbox_policy::Severity::Error => "error",
        sharedbox_policy::Severity::Warning => "warning",
        sharedbox_policy::Severity::Info => "notice",
    };
    let mut properties = vec![format!("title={}", escape_property(diagnostic.code))];
    if let Some(origin) = &diagnostic.origin {
        properties.insert(
            0,
            format!(
                "file={},line={},col={}",
                escape_property(&origin.source.path.display().to_string()),
                origin.line,
                origin.column
            ),
        );
    }
    let mut message = diagnostic.message.clone();
    if let Some(hint) = &diagnostic.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Prints an error (and its hint) to stderr.
pub fn print_error(error: &anyhow::Error) {
    let hint = error.downcast_ref::<Failure>().and_then(|f| hint_of(f));
    let hint = hint.as_deref();
    if json_lines() {
        emit(
            "error",
            "error",
            &format!("{error:#}"),
            serde_json::json!({ "hint": hint }),
        );
    } else {
        eprintln!("error: {error:#}");
        if let Some(hint) = hint {
            eprintln!("\nhint: {hint}");
        }
    }
    if github_actions() {
        let mut message = format!("{error:#}");
        if let Some(hint) = hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        eprintln!("::error title=sharedbox::{}", escape_data(&message));
    }
}

/// A message to stderr, shown only on a terminal (progress and chatter); always an event
/// with `--json-lines`.
pub fn progress(message: &str) {
    if json_lines() {
        emit("progress", "info", message, serde_json::json!({}));
    } else if std::io::stderr().is_terminal() {
        eprintln!("{message}");
    }
}

/// A message to stderr that is always shown (an event with `--json-lines`).
pub fn note(message: &str) {
    if json_lines() {
        emit("message", "info", message, serde_json::json!({}));
    } else {
        eprintln!("{message}");
    }
}

/// Appends Markdown to the GitHub Actions job summary when `GITHUB_STEP_SUMMARY` is set.
pub fn step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{markdown}"));
    if let Err(e) = written {
        note(&format!(
            "warning: cannot append to the job summary `{}`: {e}",
            std::path::Path::new(&path).display()
        ));
    }
}
