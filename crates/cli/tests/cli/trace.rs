//! `--trace FILE` (issue 18): every admin API request and answer of a run against the
//! simulator is in the file, as JSON lines; the token never is; `--trace-redact` leaves no
//! address, display name or tenant domain in it and gives each mailbox one pseudonym; the
//! file is private and written when the run fails too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use sharedbox_exo_sim::{SimConfig, SimServer};

use crate::common::{self, Project, Run};

const TOKEN: &str = "eyJ0eXAi.TRACE-ME-NOT-5d1c0a";

fn run(project: &Project, base_url: &str, token: &str, args: &[&str]) -> Run {
    let mut all = vec!["--tenant", "exo:contoso.onmicrosoft.com"];
    all.extend_from_slice(args);
    common::run_with_env(
        project.path(),
        &all,
        &[
            ("SHAREDBOX_EXO_ENDPOINT", base_url),
            ("SHAREDBOX_ACCESS_TOKEN", token),
        ],
    )
}

/// The trace's lines, each parsed; panics on a line that is not JSON.
fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

#[cfg(unix)]
fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{} has mode {mode:o}", path.display());
}

#[test]
fn the_trace_has_every_request_and_answer_and_never_the_token() {
    let project = Project::demo();
    let sim = SimServer::start(
        project.tenant(),
        SimConfig {
            expired_token_prefix: Some("eyJ0eXAi.EXPIRED".to_owned()),
            ..SimConfig::default()
        },
    )
    .unwrap();
    let file = project.path().join("trace.jsonl");
    // A file that exists with a wider mode is truncated and made private.
    std::fs::write(&file, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let plan = run(
        &project,
        &sim.base_url(),
        TOKEN,
        &["plan", "--trace", file.to_str().unwrap()],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    #[cfg(unix)]
    assert_private(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in [TOKEN, "TRACE-ME-NOT", "Bearer", "Authorization"] {
        assert!(!text.contains(secret), "the trace holds `{secret}`");
    }
    let events = events(&file);
    assert_eq!(events[0]["event"], "start");
    assert_eq!(events[0]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(events[0]["redacted"], false);
    let last = events.last().unwrap();
    assert_eq!(
        (&last["event"], &last["exit_code"]),
        (&"end".into(), &0.into())
    );

    let requests = of(&events, "request");
    let answers = of(&events, "answer");
    assert!(!requests.is_empty());
    // One answer per request, matched by request id and attempt, all 200 with a timing.
    assert_eq!(requests.len(), answers.len());
    for request in &requests {
        assert_eq!(request["method"], "POST");
        let path = request["path"].as_str().unwrap();
        assert!(
            path.starts_with("/adminapi/beta/contoso.onmicrosoft.com/"),
            "{path}"
        );
        assert!(!path.contains('?'), "no query string: {path}");
        let answer = answers
            .iter()
            .find(|a| {
                a["request_id"] == request["request_id"] && a["attempt"] == request["attempt"]
            })
            .unwrap_or_else(|| panic!("no answer to {request}"));
        assert_eq!(answer["status"], 200, "{answer}");
        assert!(answer["elapsed_ms"].is_u64(), "{answer}");
    }
    // `$batch` requests and their sub-requests, with cmdlets and parameters.
    let batches: Vec<_> = requests
        .iter()
        .filter(|r| r["cmdlet"] == "$batch")
        .collect();
    assert!(!batches.is_empty());
    let subs = of(&events, "sub_request");
    assert!(subs.len() > batches.len());
    assert!(subs.iter().any(|s| {
        s["cmdlet"] == "Get-MailboxPermission"
            && s["parameters"]
                .as_str()
                .is_some_and(|p| p.contains("\"Identity\":\"") && p.contains("@contoso.com"))
    }));
    assert_eq!(of(&events, "sub_answer").len(), subs.len());
    let token = of(&events, "token");
    assert_eq!(token.len(), 1, "{token:?}");
    assert_eq!(token[0]["auth_method"], "access-token");

    // A run that fails: the token is refused, refreshed once, refused again; the trace
    // shows both 401s and the retry decision, and ends with exit code 1.
    let failed_file = project.path().join("failed.jsonl");
    let failed = run(
        &project,
        &sim.base_url(),
        "eyJ0eXAi.EXPIRED-TRACE-ME-NOT",
        &["plan", "--trace", failed_file.to_str().unwrap()],
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    let text = std::fs::read_to_string(&failed_file).unwrap();
    assert!(!text.contains("TRACE-ME-NOT"));
    let events = self::events(&failed_file);
    assert!(of(&events, "answer").iter().any(|a| a["status"] == 401));
    assert!(
        of(&events, "retry")
            .iter()
            .any(|r| r["reason"] == "unauthorized")
    );
    assert!(
        of(&events, "token")
            .iter()
            .any(|t| t["outcome"] == "invalidated")
    );
    assert_eq!(events.last().unwrap()["exit_code"], 1);
}

#[test]
fn throttling_decisions_are_traced() {
    let project = Project::demo();
    let sim = SimServer::start(
        project.tenant(),
        SimConfig {
            unavailable_rate: 0.3,
            unavailable_retry_after_secs: Some(0),
            concurrency_limit: Some(2),
            retry_after_secs: 0,
            seed: 18,
            ..SimConfig::default()
        },
    )
    .unwrap();
    let file = project.path().join("trace.jsonl");
    let plan = run(
        &project,
        &sim.base_url(),
        TOKEN,
        &["plan", "--trace", file.to_str().unwrap()],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let events = events(&file);
    let refused: Vec<_> = of(&events, "answer")
        .into_iter()
        .filter(|a| a["status"] == 429 || a["status"] == 503)
        .collect();
    assert!(!refused.is_empty(), "the simulator refused nothing");
    let retries = of(&events, "retry");
    assert!(retries.len() >= refused.len(), "{retries:?}");
    for retry in &retries {
        assert!(
            retry["wait_ms"].is_u64() && retry["limit"].is_u64(),
            "{retry}"
        );
    }
    // `Retry-After: 0` was read from the answers.
    assert!(
        retries.iter().any(|r| r["retry_after_ms"] == 0),
        "{retries:?}"
    );
    assert!(
        of(&events, "error_answer")
            .iter()
            .all(|e| e["status"] == 429 || e["status"] == 503)
    );
}

/// Every address (a word with `@`) and display name of the tenant file.
fn tenant_names(tenant_yaml: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in tenant_yaml.lines() {
        let line = line.split(" #").next().unwrap_or_default();
        for word in line.split(|c: char| !(c.is_alphanumeric() || "._-@".contains(c))) {
            if word.contains('@') && !word.starts_with('@') {
                names.insert(word.to_lowercase());
            }
        }
        if let Some(name) = line
            .trim()
            .trim_start_matches("- ")
            .strip_prefix("displayName:")
        {
            let name = name.trim().trim_matches(['"', '\'']);
            // Long enough not to be a word of the trace's own (`Info` is a display name).
            if name.len() >= 6 {
                names.insert(name.to_lowercase());
            }
        }
    }
    names
}

#[test]
fn a_redacted_trace_names_no_one_and_each_mailbox_once() {
    let project = Project::demo();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let plain_file = project.path().join("plain.jsonl");
    let plain = run(
        &project,
        &sim.base_url(),
        TOKEN,
        &["plan", "--trace", plain_file.to_str().unwrap()],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let file = project.path().join("redacted.jsonl");
    let redacted = run(
        &project,
        &sim.base_url(),
        TOKEN,
        &["plan", "--trace", file.to_str().unwrap(), "--trace-redact"],
    );
    assert_eq!(redacted.code, 0, "{}", redacted.stderr);
    #[cfg(unix)]
    assert_private(&file);

    let names = tenant_names(&project.tenant_text());
    assert!(names.len() > 20, "{names:?}");
    assert!(names.contains("katrin.schulz@contoso.com"));
    let plain_text = std::fs::read_to_string(&plain_file).unwrap().to_lowercase();
    assert!(
        names.iter().filter(|n| plain_text.contains(*n)).count() > 5,
        "the plain trace names the mailboxes it reads"
    );
    let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
    for name in &names {
        assert!(!text.contains(name), "the redacted trace holds `{name}`");
    }
    assert!(
        !text.contains("contoso"),
        "the redacted trace names the tenant"
    );
    assert!(!text.contains(&TOKEN.to_lowercase()));

    let events = events(&file);
    assert_eq!(events[0]["redacted"], true);
    // Same mailbox, same pseudonym, however often it is read: the `Identity` parameters of
    // the redacted run name as many distinct mailboxes, each as often, as without redaction.
    let identities = |events: &[Value]| -> BTreeMap<String, usize> {
        let mut identities = BTreeMap::new();
        for e in events
            .iter()
            .filter(|e| e["event"] == "sub_request" || e["event"] == "request")
        {
            let parameters: Value =
                serde_json::from_str(e["parameters"].as_str().unwrap_or("{}")).unwrap();
            if let Some(identity) = parameters["Identity"].as_str() {
                *identities.entry(identity.to_lowercase()).or_insert(0) += 1;
            }
        }
        identities
    };
    let pseudonyms = identities(&events);
    let originals = identities(&self::events(&plain_file));
    assert!(originals.len() > 3, "{originals:?}");
    assert!(originals.values().any(|&n| n > 1), "{originals:?}");
    assert_eq!(pseudonyms.len(), originals.len(), "{pseudonyms:?}");
    let mut counts: Vec<_> = pseudonyms.values().collect();
    let mut expected: Vec<_> = originals.values().collect();
    counts.sort();
    expected.sort();
    assert_eq!(counts, expected);
    for pseudonym in pseudonyms.keys() {
        assert!(
            pseudonym.starts_with("user-") && pseudonym.contains("@domain-"),
            "{pseudonym}"
        );
    }
    for request in of(&events, "request") {
        let path = request["path"].as_str().unwrap();
        assert!(path.starts_with("/adminapi/beta/domain-"), "{path}");
    }

    // An apply: each read and write of a mailbox is routed to it (`X-AnchorMailbox`) and
    // names it in `Identity`, under the same pseudonym.
    let apply_file = project.path().join("apply.jsonl");
    let applied = run(
        &project,
        &sim.base_url(),
        TOKEN,
        &[
            "apply",
            "--auto-approve",
            "--trace",
            apply_file.to_str().unwrap(),
            "--trace-redact",
        ],
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let text = std::fs::read_to_string(&apply_file).unwrap().to_lowercase();
    for name in &names {
        assert!(
            !text.contains(name),
            "the redacted apply trace holds `{name}`"
        );
    }
    let mut anchored = 0;
    for e in self::events(&apply_file) {
        let Some(anchor) = e["anchor"].as_str() else {
            continue;
        };
        let parameters: Value = serde_json::from_str(e["parameters"].as_str().unwrap()).unwrap();
        if let Some(identity) = parameters["Identity"].as_str() {
            // `<mailbox>:<FolderId>` for folder permissions.
            let mailbox = identity.split(':').next().unwrap_or_default();
            assert_eq!(mailbox, anchor, "{e}");
            anchored += 1;
        }
    }
    assert!(anchored > 20, "{anchored} anchored requests");
}

/// A trace path that is a symbolic link, a FIFO or a folder is refused before anything is
/// read: the link's target is neither truncated nor narrowed, the run does not hang on the
/// FIFO, and `SHAREDBOX_LOG` (the environment, which CI may set) is held to the same rule.
#[cfg(unix)]
#[test]
fn a_trace_path_that_is_a_link_a_fifo_or_a_folder_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::demo();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    let victim = project.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = project.path().join("trace-link.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let fifo = project.path().join("trace.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let folder = project.path().join("trace-folder");
    std::fs::create_dir(&folder).unwrap();
    for (path, why) in [
        (&link, "it is a symbolic link"),
        (&fifo, "it is not a regular file"),
        (&folder, "it is not a regular file"),
    ] {
        let started = std::time::Instant::now();
        let by_flag = run(
            &project,
            &sim.base_url(),
            TOKEN,
            &["plan", "--trace", path.to_str().unwrap()],
        );
        assert_eq!(by_flag.code, 1, "{}", by_flag.stderr);
        assert!(by_flag.stderr.contains(why), "{}", by_flag.stderr);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let by_env = common::run_with_env(
            project.path(),
            &["--tenant", "exo:contoso.onmicrosoft.com", "plan"],
            &[
                ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
                ("SHAREDBOX_ACCESS_TOKEN", TOKEN),
                ("SHAREDBOX_LOG", path.to_str().unwrap()),
            ],
        );
        assert_eq!(by_env.code, 1, "{}", by_env.stderr);
        assert!(by_env.stderr.contains(why), "{}", by_env.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644, "the link's target keeps its mode");
    assert_eq!(sim.counters().total_writes(), 0);
}
