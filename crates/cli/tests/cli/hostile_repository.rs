//! A hostile pull request: whatever a branch puts into the repository (links to secrets,
//! FIFOs, files that are not YAML, paths out of the repository in `sharedbox.yaml`), no
//! command prints a secret, reads outside the repository or hangs, and every refusal names
//! the file.

use crate::common;

use std::path::Path;

use crate::common::{Project, Run};

/// A secret in the environment of every run below; it must never be printed.
const SECRET: &str = "Zq8Q~hostileRepoClientSecret0123456789";
/// A JWT-shaped access token in the environment.
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS0xMjM0NTY";

/// Runs `sharedbox` in `dir` with secrets in the environment, as a CI job would, under
/// GitHub Actions (annotations on); the common runner's time limit catches a hang on a FIFO.
fn run(dir: &Path, args: &[&str]) -> Run {
    common::run_with_env(
        dir,
        args,
        &[
            ("AZURE_CLIENT_SECRET", SECRET),
            ("SHAREDBOX_TEST_TOKEN", TOKEN),
            ("GITHUB_ACTIONS", "true"),
        ],
    )
}

/// `validate` (every format) and `plan` (every format) refuse, name `file`, say `why`, and
/// print none of `secrets`.
fn assert_refused(project: &Project, file: &str, why: &str, secrets: &[&str]) {
    let commands: [&[&str]; 5] = [
        &["validate"],
        &["validate", "--format", "json"],
        &["plan"],
        &["plan", "--format", "markdown"],
        &["plan", "--format", "json"],
    ];
    for args in commands {
        let run = run(project.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(file) || run.stdout.contains(file),
            "{args:?} names `{file}`: {run:?}"
        );
        assert!(
            run.stderr.contains(why) || run.stdout.contains(why),
            "{args:?} says `{why}`: {run:?}"
        );
        for secret in secrets.iter().chain([&SECRET, &TOKEN]) {
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{args:?} printed `{secret}`: {run:?}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_policy_link_to_the_process_environment_is_refused_without_printing_it() {
    let project = Project::new();
    std::os::unix::fs::symlink(
        "/proc/self/environ",
        project.path().join("policies/env.yaml"),
    )
    .unwrap();
    assert_refused(&project, "env.yaml", "outside", &[]);
}

#[cfg(unix)]
#[test]
fn a_policy_link_to_a_private_key_outside_the_folder_is_refused_without_printing_it() {
    let project = Project::new();
    let key = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    std::fs::write(
        project.path().join("app.pem"),
        format!("-----BEGIN PRIVATE KEY-----\n{key}\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    // Inside the project, but outside the policy folder.
    std::os::unix::fs::symlink(
        project.path().join("app.pem"),
        project.path().join("policies/key.yaml"),
    )
    .unwrap();
    assert_refused(&project, "key.yaml", "outside", &[key, "BEGIN PRIVATE"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_folder_named_like_a_policy_is_refused_without_hanging() {
    let project = Project::new();
    let fifo = project.path().join("policies/pipe.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    assert_refused(&project, "pipe.yaml", "named pipe", &[]);
    std::fs::remove_file(&fifo).unwrap();
    std::fs::create_dir(project.path().join("policies/folder.yaml")).unwrap();
    std::fs::write(project.path().join("policies/folder.yaml/x.txt"), "x").unwrap();
    // A folder is walked, not read; a link to a folder is refused, not followed.
    assert_eq!(run(project.path(), &["validate"]).code, 0);
    std::os::unix::fs::symlink("/etc", project.path().join("policies/etc")).unwrap();
    assert_refused(&project, "etc", "outside", &[]);
}

#[test]
fn a_file_that_does_not_parse_shows_only_its_offending_line_with_secrets_masked() {
    let project = Project::new();
    project.policy(
        "notes.yaml",
        &format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: a@fabrikam.com\n\
             before: NEIGHBOUR_BEFORE_LINE\n{TOKEN}: x\nafter: NEIGHBOUR_AFTER_LINE\n"
        ),
    );
    assert_refused(
        &project,
        "notes.yaml:4",
        "unknown field",
        &["NEIGHBOUR_AFTER_LINE", "eyJ0eXAiOiJKV1Qi"],
    );
    // The offending line is shown, masked: its key is a token.
    let run = run(project.path(), &["validate"]);
    assert!(
        run.stderr.contains("before: NEIGHBOUR_BEFORE_LINE"),
        "{}",
        run.stderr
    );
    let project = Project::new();
    project.policy(
        "env.yaml",
        &format!("HOME=/root\0AZURE_CLIENT_SECRET={SECRET}\0TOKEN={TOKEN}\0PATH=/usr/bin\n"),
    );
    assert_refused(&project, "env.yaml", "error", &[]);
}

#[cfg(unix)]
#[test]
fn a_configuration_file_that_links_out_of_the_repository_is_refused() {
    let project = Project::new();
    std::fs::remove_file(project.path().join("sharedbox.yaml")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", project.path().join("sharedbox.yaml"))
        .unwrap();
    let run = run(project.path(), &["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("sharedbox.yaml") && run.stderr.contains("outside"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains(SECRET) && !run.stderr.contains(TOKEN),
        "{run:?}"
    );
}

#[test]
fn paths_in_the_configuration_may_not_leave_the_repository() {
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("tenant.yaml"), common::TENANT).unwrap();
    std::fs::create_dir(elsewhere.path().join("policies")).unwrap();
    let outside = elsewhere.path().display().to_string();
    for (config, field) in [
        (
            format!("policies: {outside}/policies\ntenant: {{backend: file, path: tenant.yaml}}\n"),
            "`policies`",
        ),
        (
            format!("tenant: {{backend: file, path: {outside}/tenant.yaml}}\n"),
            "`tenant.path`",
        ),
        (
            "policies: ../../../../../../../../etc\ntenant: {backend: file, path: tenant.yaml}\n"
                .to_owned(),
            "`policies`",
        ),
    ] {
        let project = Project::new();
        std::fs::write(project.path().join("sharedbox.yaml"), config).unwrap();
        let run = run(project.path(), &["plan"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(field) && run.stderr.contains("outside the repository"),
            "{field}: {run:?}"
        );
    }
    // On the command line the operator chooses: allowed, but said.
    let project = Project::new();
    assert!(
        std::process::Command::new("git")
            .args(["init", "--quiet"])
            .current_dir(project.path())
            .status()
            .unwrap()
            .success()
    );
    let policies = format!("{outside}/policies");
    let run = run(project.path(), &["--policies", &policies, "validate"]);
    assert!(run.stderr.contains("outside the repository"), "{run:?}");
}

#[test]
fn a_configuration_cannot_send_the_token_to_another_host() {
    let project = Project::new();
    for endpoint in [
        "https://evil.example.com",
        "https://outlook.office365.com.evil.example",
    ] {
        std::fs::write(
            project.path().join("sharedbox.yaml"),
            format!(
                "policies: policies\ntenant:\n  backend: exchange-online\n  tenant: contoso.onmicrosoft.com\n  endpoint: {endpoint}\n  auth: {{method: access-token}}\n"
            ),
        )
        .unwrap();
        for args in [&["plan"][..], &["doctor"], &["drift"]] {
            let output =
                common::run_with_env(project.path(), args, &[("SHAREDBOX_ACCESS_TOKEN", TOKEN)]);
            let stderr = &output.stderr;
            assert_eq!(output.code, 1, "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("refusing `tenant.endpoint: {endpoint}`"))
                    && stderr.contains("SHAREDBOX_EXO_ENDPOINT"),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains(TOKEN), "{stderr}");
        }
    }
}

#[test]
fn a_lookalike_mailbox_address_is_refused_not_created() {
    // `support@fabrikam.com` exists; these only look like it (Cyrillic `р`, a zero-width
    // space, a fullwidth `＠`). Created as new mailboxes, they would pass review unseen.
    for lookalike in [
        "suррort@fabrikam.com",
        "support\u{200b}@fabrikam.com",
        "support＠fabrikam.com",
    ] {
        let project = Project::new();
        let before = project.tenant_text();
        project.policy(
            "x.yaml",
            &format!("apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: \"{lookalike}\"\n"),
        );
        for args in [&["validate"][..], &["apply", "--auto-approve"]] {
            let run = run(project.path(), args);
            assert_eq!(run.code, 1, "{lookalike} {args:?}: {run:?}");
            assert!(
                run.stderr.contains("x.yaml:3:"),
                "{lookalike}: {}",
                run.stderr
            );
        }
        assert_eq!(project.tenant_text(), before, "nothing was created");
    }
}
