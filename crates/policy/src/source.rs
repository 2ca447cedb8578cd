//! Where a policy value came from: source files, positions, and located values.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::redact::mask_secrets;

/// A policy file's path and text, shared by every value and diagnostic that points into it.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it (relative paths stay relative, for readable messages).
    pub path: PathBuf,
    /// The file's full text.
    pub text: String,
    /// The text with secrets masked (same length), made when an excerpt is first shown.
    shown: OnceLock<String>,
}

impl Source {
    /// A new shared source.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source {
            path: path.into(),
            text: text.into(),
            shown: OnceLock::new(),
        })
    }

    /// The text as excerpts show it: every secret-looking run masked with `*`, same length
    /// and lines as [`Source::text`].
    pub fn shown_text(&self) -> &str {
        self.shown
            .get_or_init(|| mask_secrets(&self.text).into_owned())
    }
}

/// How much of a file an excerpt may show around a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excerpt {
    /// The span's lines and the renderer's context lines (a file that parsed).
    WithContext,
    /// The span's line alone (a file that did not parse: it may not be a policy at all).
    LineOnly,
}

/// The widest part of one line an excerpt shows; longer lines are cut around the span.
pub const EXCERPT_WIDTH: usize = 160;

/// A position in a policy file: 1-based line and column, and the byte span of the value.
#[derive(Clone)]
pub struct Origin {
    /// The file.
    pub source: Arc<Source>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// Byte offset of the value in the file.
    pub offset: usize,
    /// Byte length of the value.
    pub len: usize,
    /// How much text around the span an excerpt may show.
    pub excerpt: Excerpt,
}

impl Origin {
    /// The origin of a serde-saphyr location in `source`.
    ///
    /// A parser (syntax) error carries a line and column but no byte span; its offset is
    /// then found from the line and column, so that the excerpt and the `file:line:column`
    /// of the text report point where the JSON report's `line` and `column` do (not at 1:1).
    pub(crate) fn from_location(source: &Arc<Source>, location: &serde_saphyr::Location) -> Origin {
        let span = location.span();
        let line = u32::try_from(location.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(location.column()).unwrap_or(u32::MAX);
        let offset = span
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
            .filter(|o| *o <= source.text.len())
            .unwrap_or_else(|| offset_of(&source.text, line, column));
        Origin {
            source: Arc::clone(source),
            line,
            column,
            offset,
            len: span
                .byte_len()
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(0),
            excerpt: Excerpt::WithContext,
        }
    }

    /// The origin of byte `offset` of `source` (a character boundary at or before it), with
    /// an empty span.
    pub fn at_offset(source: &Arc<Source>, offset: usize) -> Origin {
        let offset = floor_boundary(&source.text, offset.min(source.text.len()));
        let before = &source.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let column = before[line_start..].chars().count() + 1;
        Origin {
            source: Arc::clone(source),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset,
            len: 0,
            excerpt: Excerpt::WithContext,
        }
    }

    /// The same place, shown without the lines around it.
    pub fn line_only(mut self) -> Origin {
        self.excerpt = Excerpt::LineOnly;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// The part of the span's line an excerpt shows: the whole line, or at most
    /// [`EXCERPT_WIDTH`] bytes around the span's start, on character boundaries.
    pub fn window(&self) -> Window {
        let text = self.source.shown_text();
        let offset = floor_boundary(text, self.offset.min(text.len()));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        if line_end - line_start <= EXCERPT_WIDTH {
            return Window {
                line_start,
                line_end,
                start: line_start,
                end: line_end,
            };
        }
        let start = floor_boundary(
            text,
            offset.saturating_sub(EXCERPT_WIDTH / 4).max(line_start),
        );
        let end = floor_boundary(text, (start + EXCERPT_WIDTH).min(line_end));
        Window {
            line_start,
            line_end,
            start,
            end: end.max(offset),
        }
    }

    /// The text the span covers.
    /// Secrets in it are masked, as in excerpts.
    pub fn snippet(&self) -> &str {
        self.source
            .shown_text()
            .get(self.offset..self.offset + self.len)
            .unwrap_or("")
    }
}

/// Byte offsets of an excerpt within its line (see [`Origin::window`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Where the span's line starts.
    pub line_start: usize,
    /// Where it ends (before the line break).
    pub line_end: usize,
    /// Where the excerpt starts.
    pub start: usize,
    /// Where it ends.
    pub end: usize,
}

/// The byte offset of the 1-based `line` and `column` (in characters) in `text`, clamped to
/// the line's end and the text's end.
pub fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_text = &line_text[..line_text.find('\n').unwrap_or(line_text.len())];
    let skip = usize::try_from(column.max(1) - 1).unwrap_or(usize::MAX);
    start
        + line_text
            .char_indices()
            .nth(skip)
            .map_or(line_text.len(), |(i, _)| i)
}

/// The largest character boundary of `text` at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.source.path.display(),
            self.line,
            self.column
        )
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.source.path == other.source.path
            && self.offset == other.offset
            && self.line == other.line
    }
}

impl Eq for Origin {}

/// A policy value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Located<T> {
    /// Pairs a value with its origin.
    pub fn new(value: T, origin: Origin) -> Located<T> {
        Located { value, origin }
    }

    /// Maps the value, keeping the origin.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            value: f(self.value),
            origin: self.origin,
        }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = "ab\nçd: e\n\nlast";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 1, 2), 1);
        assert_eq!(offset_of(text, 2, 1), 3);
        // Columns count characters: `d` is the second character, after the two bytes of `ç`.
        assert_eq!(offset_of(text, 2, 2), 5);
        // Past the end of a line: the line's end; past the last line: the text's end.
        assert_eq!(offset_of(text, 2, 40), 9);
        assert_eq!(offset_of(text, 3, 1), 10);
        assert_eq!(offset_of(text, 4, 3), 13);
        assert_eq!(offset_of(text, 9, 1), text.len());
        assert_eq!(offset_of("", 1, 1), 0);
        let source = Source::new("a.yaml", text);
        let origin = Origin::at_offset(&source, 5);
        assert_eq!((origin.line, origin.column, origin.offset), (2, 2, 5));
        assert_eq!(
            (offset_of(text, origin.line, origin.column), origin.offset),
            (5, 5)
        );
    }
}
