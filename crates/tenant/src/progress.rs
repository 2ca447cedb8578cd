//! Progress of long work (reads, applies, verifications, rollbacks), reported without
//! knowing how it is shown.
//!
//! Library crates report through [`Progress`]; only the CLI implements it (a bar on a
//! terminal, `progress` events with `--json-lines`, nothing otherwise), so no library crate
//! depends on a terminal library. [`summarised`] keeps messages about long lists short.

/// What a [`Progress`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Reading the tenant (counted in mailboxes read in full).
    Read,
    /// Sending the steps of a plan (counted in steps).
    Apply,
    /// Re-reading what a run changed until it shows (counted in mailboxes read).
    Verify,
    /// Undoing the steps of a run (counted in steps decided).
    Rollback,
}

impl Phase {
    /// The phase's name in output: `read`, `apply`, `verify`, `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Apply => "apply",
            Phase::Verify => "verify",
            Phase::Rollback => "rollback",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Receives the progress of one piece of work at a time: [`Progress::start`], any number of
/// [`Progress::advance`], then [`Progress::finish`]. Shared by concurrent parts of the work,
/// hence `&self`.
pub trait Progress: Send + Sync {
    /// Work of `total` units starts. `phase` is the work's own idea of what it does; a caller
    /// that knows better (a read made to verify) may show it under another name.
    fn start(&self, phase: Phase, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The work ended (done or not).
    fn finish(&self);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: Phase, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Items shown in full by [`summarised`] before the rest are only counted.
pub const SHOWN_ITEMS: usize = 5;

/// `items` joined with `, `, the first [`SHOWN_ITEMS`] only, then `and N more`: a message
/// about 5,000 new mailboxes stays one short line.
pub fn summarised<S: AsRef<str>>(items: &[S]) -> String {
    let shown: Vec<&str> = items.iter().take(SHOWN_ITEMS).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if items.len() > SHOWN_ITEMS {
        text.push_str(&format!(" and {} more", items.len() - SHOWN_ITEMS));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_are_shown_whole() {
        assert_eq!(summarised::<&str>(&[]), "");
        assert_eq!(summarised(&["a@x"]), "a@x");
        assert_eq!(
            summarised(&["a", "b", "c", "d", "e"]),
            "a, b, c, d, e",
            "exactly the limit is not summarised"
        );
    }

    #[test]
    fn long_lists_show_the_first_few_and_count_the_rest() {
        let items: Vec<String> = (0..5000).map(|i| format!("new{i}@contoso.com")).collect();
        let text = summarised(&items);
        assert_eq!(
            text,
            "new0@contoso.com, new1@contoso.com, new2@contoso.com, new3@contoso.com, new4@contoso.com and 4995 more"
        );
    }
}
