//! The policies at a git revision, to tell drift from policy changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sharedbox_policy::{PolicySet, Source};

/// Runs git in `dir`; `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned()
    })
}

/// The top folder of the git checkout that holds `dir`, links resolved; `None` outside one.
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    Some(top.canonicalize().unwrap_or(top))
}

/// The revision to compare with: `requested`, else the merge base of `HEAD` with the default
/// branch. The error says why there is none.
pub fn base_revision(dir: &Path, requested: Option<&str>) -> Result<(String, String), String> {
    git(dir, &["rev-parse", "--show-toplevel"])
        .ok_or_else(|| "the policies are not in a git checkout".to_owned())?;
    if let Some(rev) = requested {
        let commit = git(
            dir,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .ok_or_else(|| format!("`{rev}` is not a revision of this repository"))?;
        return Ok((rev.to_owned(), commit));
    }
    let default_branch = git(
        dir,
        &[
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ],
    )
    .into_iter()
    .chain(["origin/main", "origin/master", "main", "master"].map(str::to_owned))
    .find(|b| {
        git(
            dir,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{b}^{{commit}}"),
            ],
        )
        .is_some()
    })
    .ok_or_else(|| {
        "no default branch (`origin/HEAD`, `main` or `master`) to compare with; pass `--base REV`"
            .to_owned()
    })?;
    let commit = git(dir, &["merge-base", "HEAD", &default_branch])
        .ok_or_else(|| format!("`HEAD` and `{default_branch}` have no merge base"))?;
    Ok((format!("merge base with {default_branch}"), commit))
}

/// The revision to judge drift against (`plan`'s `# drift` / `# policy change` labels):
/// `requested`, else the merge base of `HEAD` with the default branch, as
/// [`base_revision`], except on the default branch itself (the merge base is `HEAD`), where
/// comparing with `HEAD` would call every change just merged drift. There it is the commit
/// before the last one that changed the policies on the first-parent history (the parent of a
/// merge commit, a squashed or direct commit): what the default branch held before the latest
/// policy change, so the change a merge brings in is a policy change until the next one. With
/// uncommitted changes in the policy folder it stays `HEAD` (they are the policy change).
pub fn label_revision(dir: &Path, requested: Option<&str>) -> Result<(String, String), String> {
    let (name, commit) = base_revision(dir, requested)?;
    if requested.is_some()
        || git(dir, &["rev-parse", "--verify", "HEAD^{commit}"]).as_deref() != Some(commit.as_str())
    {
        return Ok((name, commit));
    }
    let edited = git(
        dir,
        &["status", "--porcelain", "--untracked-files=all", "--", "."],
    )
    .is_none_or(|status| !status.is_empty());
    if edited {
        return Ok(("HEAD with uncommitted policy edits".to_owned(), commit));
    }
    let last = git(
        dir,
        &[
            "log",
            "-1",
            "--first-parent",
            "--format=%H",
            "HEAD",
            "--",
            ".",
        ],
    )
    .filter(|c| !c.is_empty())
    .ok_or_else(|| "no commit of `HEAD` holds the policies".to_owned())?;
    let short = &last[..last.len().min(12)];
    let before = git(
        dir,
        &["rev-parse", "--verify", "--quiet", &format!("{last}^1^{{commit}}")],
    )
    .ok_or_else(|| {
        if git(dir, &["rev-parse", "--is-shallow-repository"]).as_deref() == Some("true") {
            format!(
                "the checkout is shallow and does not hold the commit before `{short}`, the last one that changed the policies; fetch the history (`fetch-depth: 0` in `actions/checkout`) or pass `--base REV`"
            )
        } else {
            format!(
                "the policies were first committed in `{short}`, the last commit that changed them, so there is no earlier state to compare with"
            )
        }
    })?;
    Ok(("parent of the last policy commit".to_owned(), before))
}

/// The commit whose policies the working tree holds: `HEAD`, when no file of the policy
/// folder that is read as a policy (`*.yaml`, `*.yml`, not hidden) has uncommitted edits,
/// tracked or not. Other files there (a pipeline's reports, the state folder) do not count.
/// The error says why there is none. Journals record it for runs that apply every policy, so
/// that `apply --heal` knows what was applied.
pub fn clean_commit(dir: &Path) -> Result<String, String> {
    git(dir, &["rev-parse", "--show-toplevel"])
        .ok_or_else(|| "the policies are not in a git checkout".to_owned())?;
    let head = git(dir, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .ok_or_else(|| "the checkout has no commit".to_owned())?;
    let prefix = git(dir, &["rev-parse", "--show-prefix"]).unwrap_or_default();
    let status = git(
        dir,
        &[
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            ".",
        ],
    )
    .ok_or_else(|| "`git status` failed in the policy folder".to_owned())?;
    if edited_policy(&status, &prefix) {
        return Err("the policy folder has uncommitted edits".to_owned());
    }
    Ok(head)
}

/// Whether `git status --porcelain -z` output names a policy file under `prefix` (the policy
/// folder, relative to the top of the repository): one read by `load_dir`, or the source of
/// a rename.
fn edited_policy(status: &str, prefix: &str) -> bool {
    let is_policy = |path: &str| {
        let under = path.strip_prefix(prefix).unwrap_or(path);
        let mut parts: Vec<&str> = under.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        sharedbox_policy::load::is_policy_file_name(name)
            && !parts.iter().any(|p| p.starts_with('.'))
    };
    let mut entries = status.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let (code, path) = (
            entry.get(..2).unwrap_or_default(),
            entry.get(3..).unwrap_or_default(),
        );
        // A rename or copy names its source in the next entry, without a status code.
        let source = if code.contains(['R', 'C']) {
            entries.next()
        } else {
            None
        };
        if is_policy(path) || source.is_some_and(is_policy) {
            return true;
        }
    }
    false
}

/// Whether `commit` is a full commit id (SHA-1 or SHA-256 hex), the only form sharedbox passes
/// to git from outside input (a saved plan's `base_commit`): never an option, a range or a path.
fn is_commit_id(commit: &str) -> bool {
    matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The policy files under `policies` as they were at `commit`, with the same display paths as
/// in the working tree (none when the folder did not exist then). Each file is held to the
/// size limit of a policy file in the working tree.
pub fn policies_at(policies: &Path, commit: &str) -> Result<Vec<Arc<Source>>, String> {
    if !is_commit_id(commit) {
        return Err(format!(
            "`{}` is not a commit id",
            sharedbox_tenant::printable(commit, 80)
        ));
    }
    let dir = if policies.as_os_str().is_empty() {
        Path::new(".")
    } else {
        policies
    };
    let top =
        PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"]).ok_or("not in a git checkout")?);
    let absolute = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve `{}`: {e}", dir.display()))?;
    let top = top.canonicalize().unwrap_or(top);
    let relative = absolute
        .strip_prefix(&top)
        .map_err(|_| "the policy folder is outside the repository".to_owned())?;
    let spec = if relative.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        relative.to_string_lossy().into_owned()
    };
    let listing = git(&top, &["ls-tree", "-r", "--name-only", commit, "--", &spec])
        .ok_or_else(|| format!("cannot list the policies at `{commit}`"))?;
    let mut sources = Vec::new();
    // The same files as `load_dir` reads from the working tree.
    for path in listing.lines().filter(|p| {
        Path::new(p)
            .file_name()
            .is_some_and(|n| sharedbox_policy::load::is_policy_file_name(&n.to_string_lossy()))
    }) {
        let in_repo = Path::new(path);
        let Ok(under) = in_repo.strip_prefix(relative) else {
            continue;
        };
        if under
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            continue;
        }
        let object = format!("{commit}:{path}");
        let size: u64 = git(&top, &["cat-file", "-s", &object])
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("cannot read `{path}` at `{commit}`"))?;
        if size > sharedbox_policy::load::MAX_FILE_BYTES {
            return Err(format!(
                "`{path}` at `{commit}` is {size} bytes, over the {} MiB a policy file may have",
                sharedbox_policy::load::MAX_FILE_BYTES >> 20
            ));
        }
        let text = git(&top, &["show", &object])
            .ok_or_else(|| format!("cannot read `{path}` at `{commit}`"))?;
        sources.push(Source::new(policies.join(under), text));
    }
    Ok(sources)
}

/// The policy set at `commit` (in a fleet, laid over the fleet's `baseline` as it was then),
/// or why it cannot be had.
pub fn policy_set_at(
    policies: &Path,
    baseline: Option<&Path>,
    commit: &str,
) -> Result<PolicySet, String> {
    let sources = policies_at(policies, commit)?;
    let shared = match baseline {
        Some(baseline) => policies_at(baseline, commit)?,
        None => Vec::new(),
    };
    sharedbox_policy::load_layered(shared, sources).map_err(|d| {
        format!(
            "the policies at the base revision do not load ({} error(s))",
            d.errors().count()
        )
    })
}

/// The files that differ between `commit` and the working tree under `dir` (committed,
/// staged or not, and untracked files that are not ignored), relative to `dir`.
pub fn changed_files(dir: &Path, commit: &str) -> Result<Vec<PathBuf>, String> {
    if !is_commit_id(commit) {
        return Err(format!(
            "`{}` is not a commit id",
            sharedbox_tenant::printable(commit, 80)
        ));
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let diffed = git(
        dir,
        &[
            "diff",
            "--name-only",
            "--no-renames",
            "--relative",
            commit,
            "--",
        ],
    )
    .ok_or_else(|| format!("cannot compare the working tree with `{commit}`"))?;
    let untracked = git(
        dir,
        &["ls-files", "--others", "--exclude-standard", "--", "."],
    )
    .ok_or("cannot list the untracked files")?;
    let mut files: Vec<PathBuf> = diffed
        .lines()
        .chain(untracked.lines())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_edits_of_files_read_as_policies_make_the_folder_unclean() {
        // `XY path` entries; a rename's source follows as its own entry.
        assert!(edited_policy(" M policies/a.yaml\0", "policies/"));
        assert!(edited_policy("?? policies/team/new.yml\0", "policies/"));
        assert!(edited_policy(
            "R  policies/b.yaml\0policies/a.yaml\0",
            "policies/"
        ));
        assert!(!edited_policy(
            "?? heal.md\0?? .sharedbox/runs/r.jsonl\0",
            ""
        ));
        assert!(!edited_policy(
            "?? policies/.hidden/x.yaml\0 M policies/README.md\0",
            "policies/"
        ));
        assert!(!edited_policy("", "policies/"));
    }

    #[test]
    fn only_a_full_commit_id_reaches_git() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(is_commit_id(&"0123456789abcdef".repeat(4)));
        for hostile in [
            "--output=/tmp/x",
            "HEAD",
            "main~1",
            "a..b",
            "",
            &"a".repeat(41),
            &format!("{}\n", "a".repeat(39)),
            "аааааааааааааааааааааааааааааааааааааааа",
        ] {
            assert!(!is_commit_id(hostile), "{hostile:?}");
            assert!(policies_at(Path::new("."), hostile).is_err(), "{hostile:?}");
        }
    }
}
