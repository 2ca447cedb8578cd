//! `state:` in `sharedbox.yaml` (docs/fleet.md, "State backend"): checked before anything
//! else runs, with errors that say what to write; `unlock` on the local `stateDir`.

use crate::common::{Project, run_with_env};

fn with_state(state: &str) -> Project {
    let project = Project::new();
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        format!("policies: policies/\ntenant:\n  backend: file\n  path: tenant.yaml\n{state}"),
    )
    .unwrap();
    project
}

#[test]
fn an_incomplete_or_contradictory_state_section_is_refused_with_what_to_write() {
    let missing = with_state("state:\n  backend: azure-blob\n  account: contosostate\n");
    let run = missing.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("`state.backend: azure-blob` needs `state.container`"),
        "{}",
        run.stderr
    );
    let both = with_state(
        "stateDir: .sharedbox/\nstate: {backend: azure-blob, account: a, container: c}\n",
    );
    let run = both.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("sets both `stateDir` and `state"),
        "{}",
        run.stderr
    );
    let unknown = with_state("state: {backend: azure-blob, account: a, container: c, key: x}\n");
    let run = unknown.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("key"), "{}", run.stderr);
}

#[test]
fn a_state_endpoint_in_the_file_must_be_a_storage_host_or_this_machine() {
    let elsewhere = with_state(
        "state: {backend: azure-blob, account: a, container: c, endpoint: 'https://collector.example.com'}\n",
    );
    let run = elsewhere.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "`collector.example.com` in `sharedbox.yaml` is not an Azure Blob Storage host"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("SHAREDBOX_STATE_ENDPOINT"),
        "{}",
        run.stderr
    );
    let query = with_state(
        "state: {backend: azure-blob, account: a, container: c, endpoint: 'https://a.blob.core.windows.net/?sig=secret'}\n",
    );
    let run = query.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("query string"), "{}", run.stderr);
    let plain = with_state(
        "state: {backend: azure-blob, account: a, container: c, endpoint: 'http://a.blob.core.windows.net'}\n",
    );
    let run = plain.run(&["runs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("HTTPS is required"), "{}", run.stderr);
}

#[test]
fn the_azure_blob_store_needs_a_credential() {
    let project =
        with_state("state: {backend: azure-blob, account: contosostate, container: sharedbox}\n");
    let run = run_with_env(
        project.path(),
        &["runs"],
        &[("SHAREDBOX_STATE_SAS_TOKEN", "")],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the `azure-blob` state store has no credential"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Storage Blob Data Contributor"),
        "{}",
        run.stderr
    );
}

#[test]
fn unlock_shows_and_with_force_removes_a_local_lock() {
    let project = Project::new();
    let locks = project.path().join(".sharedbox/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let holder = r#"{"run_id":"20260101T000000Z-dead00","operation":"apply","actor":{"user":"ci","host":"other-runner","pid":4242,"ci":null},"since":"2026-01-01T00:00:00Z"}"#;
    let tenant = project.tenant().organization.name;
    std::fs::write(locks.join(format!("{tenant}.lock")), holder).unwrap();
    let shown = project.run(&["unlock", &tenant]);
    assert_eq!(shown.code, 1, "{shown:?}");
    assert!(
        shown.stdout.contains(
            "is locked by run `20260101T000000Z-dead00` (apply by ci@other-runner pid 4242"
        ),
        "{}",
        shown.stdout
    );
    assert!(
        locks.join(format!("{tenant}.lock")).exists(),
        "not removed without --force"
    );
    let forced = project.run(&["unlock", &tenant, "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(!locks.join(format!("{tenant}.lock")).exists());
    let free = project.run(&["unlock", &tenant]);
    assert_eq!(free.code, 0, "{free:?}");
    assert!(free.stdout.contains("is not locked"), "{}", free.stdout);
}
