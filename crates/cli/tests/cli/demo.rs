//! The README's main job: `sharedbox plan` in the repository root, against the embedded demo
//! tenant, shows creates, updates and revocations; applying it converges.

use crate::common;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sharedbox(dir: &Path, args: &[&str]) -> common::Run {
    common::run_in(dir, args)
}

#[test]
fn the_demo_plan_shows_creates_updates_and_revocations() {
    let before = std::fs::read_to_string(root().join("examples/contoso/tenant.yaml")).unwrap();
    let run = sharedbox(&root(), &["plan"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("will be created"), "{}", run.stdout);
    assert!(
        run.stdout.contains("will be updated in place"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(orphaned)"),
        "the demo revokes an orphaned grant:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Gesendete Elemente"),
        "a German mailbox is planned:\n{}",
        run.stdout
    );
    let summary = run
        .stdout
        .lines()
        .find(|line| line.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stdout));
    let counts: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(
        summary.starts_with("Plan: ") && counts.len() == 3 && counts.iter().all(|&n| n > 0),
        "{summary}"
    );
    assert_eq!(sharedbox(&root(), &["plan", "--detailed-exitcode"]).code, 2);
    assert_eq!(sharedbox(&root(), &["validate"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(root().join("examples/contoso/tenant.yaml")).unwrap(),
        before,
        "plan writes nothing"
    );
}

#[test]
fn applying_the_demo_converges() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    };
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::create_dir_all(dir.path().join("examples/contoso")).unwrap();
    copy(&root().join("policies"), &dir.path().join("policies"));
    std::fs::copy(
        root().join("examples/contoso/tenant.yaml"),
        dir.path().join("examples/contoso/tenant.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("sharedbox.yaml"),
        dir.path().join("sharedbox.yaml"),
    )
    .unwrap();
    let apply = sharedbox(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("verified: the tenant shows all"),
        "{}",
        apply.stderr
    );
    let again = sharedbox(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

/// What users read stands alone: no README, doc, example or pipeline template points at files
/// or notes outside the repository (`../shared/…`, "review finding 4"), and every relative
/// Markdown link in them resolves.
#[test]
fn the_docs_stand_alone_and_their_links_resolve() {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("md" | "yml" | "yaml" | "example")
            ) {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut all = vec![root.join("README.md"), root.join("sharedbox.yaml")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.is_file() {
            all.push(readme);
        }
    }
    assert!(
        all.contains(&root.join("crates/exo-sim/README.md")),
        "the simulator's README is checked"
    );
    for dir in ["docs", "examples", "ci", "policies"] {
        files(&root.join(dir), &mut all);
    }
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap();
        // Engineering notes and their vocabulary: the notes folder, its files, the numbered
        // findings and sections of the reference notes, and the customer scenarios ("seeds").
        for outside in [
            "shared/",
            "design.md",
            "/work/",
            "review finding",
            "reference §",
            "the seeds",
            "seeds'",
            "seed system",
        ] {
            assert!(
                !text.to_lowercase().contains(outside),
                "{} points outside the repository (`{outside}`)",
                path.display()
            );
        }
        if path.extension().is_some_and(|e| e == "md") {
            for link in text.split("](").skip(1) {
                let target = link.split(')').next().unwrap_or_default();
                let file = target.split('#').next().unwrap_or_default();
                if file.is_empty() || file.contains("://") {
                    continue;
                }
                let resolved = path.parent().unwrap().join(file);
                assert!(
                    resolved.exists(),
                    "{}: the link `{target}` leads nowhere",
                    path.display()
                );
            }
        }
    }
}
