//! Failing fast and saying why (issue 18): an endpoint that refuses connections, one that
//! accepts TCP and never answers, and a plain HTTP server spoken to with HTTPS each end the
//! run within seconds with the address tried; endpoints with a query string, a fragment or
//! credentials are refused before anything is sent; a `stateDir` that is missing or unusable
//! is named, not taken for another run's lock.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use sharedbox_exo_sim::{SimConfig, SimServer};

use crate::common::{self, Project, Run};

/// The bound for every failure here: the connect timeout (10 s) and some slack.
const BOUND: Duration = Duration::from_secs(20);

fn plan_at(project: &Project, endpoint: &str) -> (Run, Duration) {
    let started = Instant::now();
    let run = common::run_with_env(
        project.path(),
        &["--tenant", "exo:contoso.onmicrosoft.com", "plan"],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", endpoint),
            ("SHAREDBOX_ACCESS_TOKEN", "fail-fast-token"),
        ],
    );
    (run, started.elapsed())
}

fn assert_fast_failure(what: &str, run: &Run, took: Duration, address: &str) {
    assert_eq!(run.code, 1, "{what}: {}", run.stderr);
    assert!(took < BOUND, "{what} took {took:?}:\n{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot reach the admin API at `{address}`")),
        "{what}:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("fail-fast-token"));
}

#[test]
fn a_closed_port_fails_at_once_with_its_address() {
    let project = Project::demo();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let address = format!("http://127.0.0.1:{port}");
    let (run, took) = plan_at(&project, &address);
    assert_fast_failure("a closed port", &run, took, &address);
    assert!(
        took < Duration::from_secs(5),
        "{took:?}: no retries on a refused connection"
    );
    assert!(
        run.stderr.to_lowercase().contains("refused"),
        "{}",
        run.stderr
    );

    // The trace of the same failure: the connection error with its address and cause, and
    // the exit code.
    let trace = project.path().join("trace.jsonl");
    let traced = common::run_with_env(
        project.path(),
        &["--tenant", "exo:contoso.onmicrosoft.com", "plan"],
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &address),
            ("SHAREDBOX_ACCESS_TOKEN", "fail-fast-token"),
            ("SHAREDBOX_LOG", trace.to_str().unwrap()),
        ],
    );
    assert_eq!(traced.code, 1, "{}", traced.stderr);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let error = lines
        .iter()
        .find(|l| l["event"] == "transport_error")
        .expect("a transport error in the trace");
    assert_eq!(error["address"], address.as_str());
    assert_eq!(error["transport"], "connect");
    assert!(
        error["cause"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("refused"),
        "{error}"
    );
    assert_eq!(lines.last().unwrap()["exit_code"], 1);
}

#[test]
fn a_port_that_never_answers_fails_after_the_connect_timeout() {
    let project = Project::demo();
    // Accepts TCP (the kernel completes the handshake for the backlog) and never speaks:
    // the TLS handshake never ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("https://{}", listener.local_addr().unwrap());
    let (run, took) = plan_at(&project, &address);
    assert_fast_failure("a silent port", &run, took, &address);
    assert!(run.stderr.contains("within 10 s"), "{}", run.stderr);
    drop(listener);
}

#[test]
fn https_to_a_plain_http_server_does_not_hang() {
    let project = Project::demo();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let address = sim
        .base_url()
        .trim_end_matches('/')
        .replacen("http://", "https://", 1);
    let (run, took) = plan_at(&project, &address);
    assert_fast_failure("TLS to plain HTTP", &run, took, &address);
}

#[test]
fn endpoints_with_a_query_a_fragment_or_credentials_are_refused() {
    let project = Project::demo();
    for (endpoint, says) in [
        (
            "https://outlook.office365.com/?tenant=x",
            "has a query string (`?tenant=x`)",
        ),
        ("https://outlook.office365.com#x", "has a fragment"),
        (
            "https://admin:hunter2@outlook.office365.com",
            "has a user name or password in it",
        ),
    ] {
        let (run, took) = plan_at(&project, endpoint);
        assert_eq!(run.code, 1, "{endpoint}: {}", run.stderr);
        assert!(took < BOUND);
        assert!(run.stderr.contains(says), "{endpoint}:\n{}", run.stderr);
        assert!(
            run.stderr
                .contains("use the base URL only, e.g. `https://outlook.office365.com`"),
            "{endpoint}:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
}

#[test]
fn a_missing_or_unusable_state_dir_is_named_in_the_lock_error() {
    let project = Project::demo();
    let config = |state_dir: &str| {
        std::fs::write(
            project.path().join("sharedbox.yaml"),
            format!(
                "policies: policies/\ntenant:\n  backend: file\n  path: tenant.yaml\nstateDir: {state_dir}\n"
            ),
        )
        .unwrap();
    };
    config("unmounted/share/state");
    let missing = project.run(&["apply", "--auto-approve"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("does not exist, nor does its parent")
            && missing.stderr.contains("unmounted/share"),
        "{}",
        missing.stderr
    );
    assert!(!missing.stderr.contains("other run"), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("check `stateDir`"),
        "{}",
        missing.stderr
    );
    assert!(!project.path().join("unmounted").exists());

    std::fs::write(project.path().join("state-file"), "").unwrap();
    config("state-file");
    let file = project.run(&["apply", "--auto-approve"]);
    assert_eq!(file.code, 1, "{}", file.stderr);
    assert!(
        file.stderr.contains("is not a directory"),
        "{}",
        file.stderr
    );
    assert!(!file.stderr.contains("other run"), "{}", file.stderr);

    // `locks` cannot be created in it (a file is in the way): not writable.
    std::fs::create_dir(project.path().join("blocked")).unwrap();
    std::fs::write(project.path().join("blocked/locks"), "").unwrap();
    config("blocked");
    let blocked = project.run(&["apply", "--auto-approve"]);
    assert_eq!(blocked.code, 1, "{}", blocked.stderr);
    assert!(
        blocked.stderr.contains("is not writable"),
        "{}",
        blocked.stderr
    );

    // Nothing was applied by any of them.
    assert_eq!(project.tenant_text(), Project::demo().tenant_text());
}
