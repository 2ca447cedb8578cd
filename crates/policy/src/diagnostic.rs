//! Diagnostics that point into policy files and render like compiler errors.

use std::fmt;

use crate::source::Origin;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational.
    Info,
    /// Worth a look; does not fail anything.
    Warning,
    /// The policy set cannot be used.
    Error,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem in the policies, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// A stable machine-readable code, e.g. `policy::unknown-field`.
    pub code: &'static str,
    /// What is wrong, lower-case, literals in backticks.
    pub message: String,
    /// Where (absent for problems that belong to no file, like an empty policy folder).
    pub origin: Option<Origin>,
    /// The text of the label under the span.
    pub label: Option<String>,
    /// What the user can do.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `origin`. Secrets in the message are redacted and control characters
    /// escaped ([`crate::redact`]).
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        origin: Option<Origin>,
    ) -> Diagnostic {
        let message = message.into();
        Diagnostic {
            severity: Severity::Error,
            code,
            message: crate::redact::printable(&crate::redact::redact_secrets(&message))
                .into_owned(),
            origin,
            label: None,
            hint: None,
        }
    }

    /// A warning at `origin`.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        origin: Option<Origin>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, origin)
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a label under the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Info => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.origin.as_ref().map(|o| o as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let origin = self.origin.as_ref()?;
        let label = self.label.clone().unwrap_or_else(|| "here".to_owned());
        let window = origin.window();
        let len = origin
            .len
            .max(1)
            .min(window.end.saturating_sub(origin.offset).max(1));
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(label),
            origin.offset,
            len,
        ))))
    }
}

impl miette::SourceCode for Origin {
    /// Excerpts come from the masked text ([`crate::Source::shown_text`]); a file that did
    /// not parse, or a line longer than [`crate::source::EXCERPT_WIDTH`], shows only a
    /// window of the span's own line.
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let text = self.source.shown_text();
        let name = self.source.path.display().to_string();
        let window = self.window();
        let whole_line = window.start == window.line_start && window.end == window.line_end;
        if self.excerpt == crate::source::Excerpt::WithContext && whole_line {
            let contents = text.read_span(span, context_lines_before, context_lines_after)?;
            return Ok(Box::new(miette::MietteSpanContents::new_named(
                name,
                contents.data(),
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            )));
        }
        // Like miette's own reader: the line and column of the requested span's start (the
        // report's `file:line:column` header), the data from the window.
        let at = span.offset().clamp(window.line_start, window.line_end);
        let line = text[..window.line_start].matches('\n').count();
        let column = text
            .get(window.line_start..at)
            .map_or(0, |t| t.chars().count());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            name,
            &text.as_bytes()[window.start..window.end],
            (window.start, window.end - window.start).into(),
            line,
            column,
            1,
        )))
    }
}

/// Every diagnostic of a failed load, errors first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s) in the policies", self.errors().count())]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The errors among the diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
}
