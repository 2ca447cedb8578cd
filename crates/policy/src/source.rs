//! Where a policy value came from: source files, positions, and located values.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A policy file's path and text, shared by every value and diagnostic that points into it.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it (relative paths stay relative, for readable messages).
    pub path: PathBuf,
    /// The file's full text.
    pub text: String,
}

impl Source {
    /// A new shared source.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source {
            path: path.into(),
            text: text.into(),
        })
    }
}

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
}

impl Origin {
    /// The origin of a serde-saphyr location in `source`.
    pub(crate) fn from_location(source: &Arc<Source>, location: &serde_saphyr::Location) -> Origin {
        let span = location.span();
        Origin {
            source: Arc::clone(source),
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            column: u32::try_from(location.column()).unwrap_or(u32::MAX),
            offset: span
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            len: span
                .byte_len()
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(0),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// The text the span covers.
    pub fn snippet(&self) -> &str {
        self.source
            .text
            .get(self.offset..self.offset + self.len)
            .unwrap_or("")
    }
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
