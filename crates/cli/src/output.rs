//! What the user sees: diagnostics and errors on stderr (with `hint:` lines), colour only
//! on a terminal and never with `NO_COLOR`, and the exit status.
//!
//! Every line on stderr is written here, and nowhere else: [`note`], [`warning`],
//! [`remark`], [`hint`], [`detail`], [`message`], [`blank_line`], [`progress`], [`prompt`],
//! [`relay`],
//! [`print_diagnostics`], [`print_error`] and [`emit`] (the progress bar of
//! [`crate::progress`] is drawn by `indicatif`, and cleared before each of these lines). Data goes to stdout through the
//! `out!`/`outln!` macros.
//!
//! In pipelines: with `--json-lines` every diagnostic, progress message, warning, apply step
//! and error is one JSON object per line on stderr, with `type`, `level`, `message` and
//! `timestamp` (blank lines are dropped); under GitHub Actions (`GITHUB_ACTIONS=true`)
//! located diagnostics also become `::error file=…,line=…,col=…::` annotations, and
//! [`step_summary`] appends Markdown to `$GITHUB_STEP_SUMMARY`.

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use sharedbox_policy::Diagnostic;

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
            warning(&format!(
                "cannot write to standard output: {e}; the rest of the output is dropped"
            ));
        }
    }
}

/// Writes `value` as pretty JSON and a line break to stdout, streamed through a buffer: a large
/// document (an access report of a whole tenant) is never held a second time as one string.
/// A reader that is gone is handled as [`write_stdout`] does; only a value that cannot be
/// serialised is an error.
pub fn write_stdout_json<T: serde::Serialize>(value: &T) -> Result<(), serde_json::Error> {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match serde_json::to_writer_pretty(&mut out, value) {
        Err(e) if !e.is_io() => return Err(e),
        Err(e) => Err(std::io::Error::from(e)),
        Ok(()) => out.write_all(b"\n").and_then(|()| out.flush()),
    };
    if let Err(e) = written {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            warning(&format!(
                "cannot write to standard output: {e}; the rest of the output is dropped"
            ));
        }
    }
    Ok(())
}

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
    /// 4: `apply --heal` refused: the plan holds changes that are not drift (a policy change
    /// not applied yet, a mailbox to create), or the journals do not tell what was applied.
    /// Nothing was changed.
    HealRefused,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::RollbackIncomplete => 3,
            ExitStatus::HealRefused => 4,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
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

/// Chooses plain or JSON-lines stderr for the rest of the run. With JSON lines, a panic is
/// reported as a `panic` event too.
pub fn init(json_lines: bool) {
    let _ = JSON_LINES.set(json_lines);
    if json_lines {
        std::panic::set_hook(Box::new(|info| {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            emit(
                "panic",
                "error",
                &format!("sharedbox panicked: {payload}"),
                serde_json::json!({
                    "location": info.location().map(ToString::to_string),
                    "hint": "this is a bug in sharedbox; please report it",
                }),
            );
        }));
    }
}

/// Reports a command line clap could not parse (exit 1), or prints the help or version it
/// asked for (data, on stdout; exit 0). Under `--json-lines` a usage error is an `error`
/// event like any other.
pub fn usage_error(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        error.exit(); // `--help`, `--version`: on stdout, exit 0
    }
    // Exit 1 like every other error, never clap's 2: with `--detailed-exitcode`, 2 means
    // "changes present", and a pipeline must not read a mistyped flag as a plan.
    let json = std::env::args_os().skip(1).any(|a| a == "--json-lines");
    if !json {
        let _ = error.print();
        return ExitStatus::Failure.into();
    }
    let rendered = error.render().to_string();
    let mut lines = rendered.trim().lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    let _ = JSON_LINES.set(true);
    emit(
        "error",
        "error",
        first.strip_prefix("error: ").unwrap_or(first),
        serde_json::json!({ "hint": rest.join("\n") }),
    );
    ExitStatus::Failure.into()
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
    write_stderr(&format!("{event}\n"));
}

/// Writes `text` to stderr at once (stderr is unbuffered), above the progress bar if one is
/// drawn; a failing stderr is ignored.
fn write_stderr(text: &str) {
    crate::progress::suspend(|| {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    });
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
        write_stderr(&text);
    }
    for (code, severity, count) in seen {
        let Some(count) = count.checked_sub(SHOWN_PER_CODE).filter(|n| *n > 0) else {
            continue;
        };
        let name = sharedbox_policy::lint::find(code)
            .map(|lint| format!(" ({})", lint.name))
            .unwrap_or_default();
        write_stderr(&format!(
            "{severity}[{code}]: {count} more finding{} of this kind{name} not shown\n  hint: `--json-lines` or `sharedbox validate --format json` lists them all; `sharedbox explain {code}` says why it matters\n",
            plural(count)
        ));
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
        return;
    }
    let mut text = format!("error: {error:#}\n");
    if let Some(hint) = hint {
        text.push_str(&format!("\nhint: {hint}\n"));
    }
    // Like diagnostics, an error is annotated for GitHub only on plain stderr: with
    // `--json-lines` every line stays a JSON object.
    if github_actions() {
        let mut message = format!("{error:#}");
        if let Some(hint) = hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        text.push_str(&format!(
            "::error title=sharedbox::{}\n",
            escape_data(&message)
        ));
    }
    write_stderr(&text);
}

/// A message to stderr, shown only on a terminal (progress and chatter); always an event
/// with `--json-lines`.
pub fn progress(message: &str) {
    if json_lines() {
        emit("progress", "info", message, serde_json::json!({}));
    } else if std::io::stderr().is_terminal() {
        write_stderr(&format!("{message}\n"));
    }
}

/// A line to stderr, always shown: `text` as it is on plain stderr; with `--json-lines` an
/// event of `kind` and `level` whose message is `text` without surrounding blank lines and
/// indentation, and the fields of `extra` (an object).
pub fn message(kind: &str, level: &str, text: &str, extra: serde_json::Value) {
    if json_lines() {
        emit(kind, level, text.trim(), extra);
    } else {
        write_stderr(&format!("{text}\n"));
    }
}

/// A message to stderr that is always shown (a `message` event with `--json-lines`).
pub fn note(text: &str) {
    message("message", "info", text, serde_json::json!({}));
}

/// `warning: {text}` on stderr (a `warning` event with `--json-lines`).
pub fn warning(text: &str) {
    if json_lines() {
        emit("warning", "warning", text, serde_json::json!({}));
    } else {
        write_stderr(&format!("warning: {text}\n"));
    }
}

/// `note: {text}` on stderr: something worth knowing that is no problem (a `note` event with
/// `--json-lines`).
pub fn remark(text: &str) {
    if json_lines() {
        emit("note", "info", text, serde_json::json!({}));
    } else {
        write_stderr(&format!("note: {text}\n"));
    }
}

/// `hint: {text}` on stderr: what to do next (a `hint` event with `--json-lines`).
pub fn hint(text: &str) {
    if json_lines() {
        emit("hint", "info", text, serde_json::json!({}));
    } else {
        write_stderr(&format!("hint: {text}\n"));
    }
}

/// One item of a list that explains the message before it, e.g. `  - {object}`: `text` as it
/// is on plain stderr (with its indentation), a `detail` event of `level` with
/// `--json-lines`.
pub fn detail(level: &str, text: &str) {
    message("detail", level, text, serde_json::json!({}));
}

/// Writes what another sharedbox process wrote to its stderr (a fleet's tenant), as it is.
pub fn relay(text: &str) {
    write_stderr(text);
}

/// An empty line on plain stderr, to set a block apart; nothing with `--json-lines`.
pub fn blank_line() {
    if !json_lines() {
        write_stderr("\n");
    }
}

/// Asks `question` on stderr and reads one line of standard input (the caller has made sure
/// it is a terminal). With `--json-lines` the question is a `prompt` event.
pub fn prompt(question: &str) -> std::io::Result<String> {
    use std::io::BufRead as _;
    if json_lines() {
        emit(
            "prompt",
            "info",
            question,
            serde_json::json!({ "accepts": "yes" }),
        );
    } else {
        write_stderr(&format!(
            "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
        ));
    }
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
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

/// Refuses an output path (a plan file, a trace) that is a symbolic link or exists and is
/// not a regular file: writing would follow the link to another file, block on a FIFO, or
/// land in a device. `what` names the file in the message (`plan file`).
pub fn check_output_target(path: &std::path::Path, what: &str, hint: &str) -> anyhow::Result<()> {
    let refuse = |why: String| -> anyhow::Result<()> {
        Err(Failure::new(format!(
            "refusing to write {what} `{}`: {why}",
            path.display()
        ))
        .hint(hint)
        .into())
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => refuse("it is a symbolic link".to_owned()),
        Ok(meta) if !meta.is_file() => refuse("it is not a regular file".to_owned()),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(
            Failure::new(format!("cannot write {what} `{}`: {e}", path.display()))
                .hint(hint)
                .into(),
        ),
    }
}
