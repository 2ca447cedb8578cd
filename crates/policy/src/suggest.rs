//! "Did you mean …?": the closest of a few known names to a misspelt one.

/// The number of single-character insertions, deletions and substitutions that turn `a`
/// into `b` (Levenshtein distance), counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `word`, when it is close enough to be what was meant: equal but
/// for case, at most a third of the word's characters (at least one, at most three) away,
/// or the singular or plural of it (`policy`, `policies`: the two share all but the last
/// character of the shorter, of at least four); case ignored. Ties go to the first candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (lower.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let other = candidate.to_lowercase();
        let mut distance = edit_distance(&lower, &other);
        if distance > limit && same_stem(&lower, &other) {
            distance = limit;
        }
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Whether the shorter of `a` and `b` has at least four characters, the longer at most three
/// more, and the longer starts with all of the shorter's but the last (`policy`/`policies`, `moderator`/`moderators`).
fn same_stem(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let count = short.chars().count();
    if count < 4 || long.chars().count() > count + 3 {
        return false;
    }
    let stem: String = short.chars().take(count - 1).collect();
    long.starts_with(&stem)
}

/// `` did you mean `x`? `` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("sendAs", "sendAs"), 0);
        assert_eq!(edit_distance("fullAcces", "fullAccess"), 1);
        // Characters, not bytes.
        assert_eq!(edit_distance("ö", "o"), 1);
        assert_eq!(edit_distance("größe", "grösse"), 2);
    }

    #[test]
    fn the_closest_field_is_suggested() {
        let mailbox = [
            "mailbox",
            "profile",
            "displayName",
            "sentItems",
            "sendAs",
            "sendOnBehalf",
            "fullAccess",
        ];
        assert_eq!(closest("sendAS", mailbox), Some("sendAs"));
        assert_eq!(closest("fullAcces", mailbox), Some("fullAccess"));
        assert_eq!(closest("displayname", mailbox), Some("displayName"));
        assert_eq!(closest("sentItem", mailbox), Some("sentItems"));
        assert_eq!(
            closest("policy", ["policies", "tenant", "stateDir", "lints"]),
            Some("policies")
        );
        assert_eq!(
            closest("moderator", ["moderators", "bypass"]),
            Some("moderators")
        );
        assert_eq!(
            closest("automapping", ["principal", "autoMapping"]),
            Some("autoMapping")
        );
        assert_eq!(
            closest("Reviwer", ["Owner", "Editor", "Reviewer", "Author"]),
            Some("Reviewer")
        );
        assert_eq!(
            closest("Disabled", ["enabled", "disabled", "inherit"]),
            Some("disabled")
        );
        assert_eq!(
            did_you_mean("sendAS", mailbox).as_deref(),
            Some("did you mean `sendAs`?")
        );
    }

    #[test]
    fn nothing_far_off_is_suggested() {
        let fields = ["sendFromAliasEnabled", "smtpClientAuthenticationDisabled"];
        assert_eq!(closest("owner", fields), None);
        assert_eq!(closest("x", ["ab", "cd"]), None);
        // Short words allow one edit, never more.
        assert_eq!(closest("abc", ["xyc"]), None);
        assert_eq!(closest("abc", ["abd"]), Some("abd"));
        assert_eq!(
            did_you_mean("tennant", ["policies", "stateDir", "lints"]),
            None
        );
        // A shared start alone is not enough: only a singular or plural.
        assert_eq!(closest("send", ["sendOnBehalf"]), None);
        assert_eq!(closest("pol", ["policies"]), None);
        // The word itself is not a suggestion.
        assert_eq!(closest("sendAs", ["sendAs"]), None);
    }

    #[test]
    fn the_nearest_wins_and_ties_go_to_the_first() {
        assert_eq!(closest("imapp", ["imap", "pop", "owa"]), Some("imap"));
        assert_eq!(closest("ab", ["ac", "ad"]), Some("ac"));
        assert_eq!(
            closest("copyForSendAS", ["copyForSendAs", "copyForSendOnBehalf"]),
            Some("copyForSendAs")
        );
    }
}
