//! What the user sees: diagnostics and errors on stderr (with `hint:` lines), colour only
//! on a terminal and never with `NO_COLOR`, and the exit status.

use std::io::IsTerminal;
use std::process::ExitCode;

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
    /// 3: apply failed and rollback is incomplete: a human must look.
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

/// Prints diagnostics to stderr, each like a compiler error.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        eprintln!("{:?}", miette::Report::new(diagnostic.clone()));
    }
}

/// Prints an error (and its hint) to stderr.
pub fn print_error(error: &anyhow::Error) {
    let failure = error.downcast_ref::<Failure>();
    eprintln!("error: {error:#}");
    if let Some(hint) = failure.and_then(|f| f.hint.as_deref()) {
        eprintln!("\nhint: {hint}");
    }
}

/// A message to stderr, shown only on a terminal (progress and chatter).
pub fn progress(message: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{message}");
    }
}
