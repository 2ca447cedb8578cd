//! Remote state (issue 20): `state: {backend: azure-blob}` against a real Azurite, started
//! here on a free port with its data in memory. Two applies race for the lease from two
//! processes; a SIGKILLed apply is rolled back from another working directory after
//! `unlock --force`; a lease broken mid-run stops the run before its next write; Azurite
//! killed mid-run stops it with a clear error. The tenant is the file backend with a write
//! delay (`simulation.writeDelayMs`), so that a run lasts long enough to be interfered with.
//!
//! Azurite comes from npm (`azurite@AZURITE_VERSION`): `SHAREDBOX_AZURITE` names its
//! `azurite-blob` (`.ci/run` installs it), else it is installed once under the target
//! directory (`npm install`, guarded by a lock folder so that parallel tests install it
//! once). When it cannot be installed or started the tests fail, saying why: never a skip.
//!
//! A test binary of its own: it kills processes, like `tests/chaos.rs`.

#[path = "cli/common.rs"]
mod common;

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Project, normalized, run_with_env};
use sharedbox_file::{Simulation, TenantFile};

/// The Azurite release the tests run against.
const AZURITE_VERSION: &str = "3.37.0";
/// Azurite's well-known development account and key (public, documented by Microsoft).
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER: &str = "state";
const TENANT: &str = "contoso.onmicrosoft.com";

/// `azurite-blob`: `SHAREDBOX_AZURITE`, or installed under the target directory.
fn azurite_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SHAREDBOX_AZURITE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "SHAREDBOX_AZURITE is `{}`, which is not a file; unset it to have the tests install azurite",
            path.display()
        );
        return path;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("azurite-{AZURITE_VERSION}"));
    let bin = dir.join("node_modules/.bin/azurite-blob");
    let lock = dir.with_extension("installing");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if bin.is_file() {
            return bin;
        }
        match std::fs::create_dir(&lock) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another test process installs it; a lock older than the deadline is stale.
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(600));
                if stale {
                    let _ = std::fs::remove_dir(&lock);
                }
                assert!(
                    Instant::now() < deadline,
                    "waited 10 minutes for another test to install azurite (lock `{}`)",
                    lock.display()
                );
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => panic!("cannot create `{}`: {e}", lock.display()),
        }
    }
    let output = Command::new("npm")
        .args([
            "install",
            "--silent",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&dir)
        .arg(format!("azurite@{AZURITE_VERSION}"))
        .output();
    let _ = std::fs::remove_dir(&lock);
    match output {
        Ok(out) if out.status.success() && bin.is_file() => bin,
        Ok(out) => panic!(
            "`npm install azurite@{AZURITE_VERSION}` into `{}` failed ({}): {}{}\nthe remote-state tests need Azurite: install Node.js and npm, or set SHAREDBOX_AZURITE to an `azurite-blob`",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "cannot run `npm` to install azurite: {e}\nthe remote-state tests need Azurite: install Node.js and npm, or set SHAREDBOX_AZURITE to an `azurite-blob`"
        ),
    }
}

/// A running Azurite blob service with the container `state`; killed when dropped.
struct Azurite {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Azurite {
    fn start() -> Azurite {
        let bin = azurite_bin();
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let (lines, seen) = std::sync::mpsc::channel();
        // Read for as long as Azurite runs: a closed pipe would end it at its next log line.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut said = Vec::new();
        let port = loop {
            match seen.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(port) = line
                        .split("listens on http://127.0.0.1:")
                        .nth(1)
                        .and_then(|p| p.trim().parse::<u16>().ok())
                    {
                        break port;
                    }
                    said.push(line);
                }
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        let mut stderr = String::new();
                        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                        panic!(
                            "azurite exited ({status}) before listening: {}\n{stderr}",
                            said.join("\n")
                        );
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        panic!("azurite did not listen within 60 s: {}", said.join("\n"));
                    }
                }
            }
        };
        let azurite = Azurite {
            child,
            port,
            _dir: dir,
        };
        let status = azurite.request("PUT", &format!("/{ACCOUNT}/{CONTAINER}?restype=container"));
        assert_eq!(status, 201, "creating the container");
        azurite
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// Sends a bodiless request with the SAS and returns the status code.
    fn request(&self, method: &str, path_and_query: &str) -> u16 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let separator = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        write!(
            stream,
            "{method} {path_and_query}{separator}{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-ms-version: 2021-12-02\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            sas(),
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer from azurite: {answer}"))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        self.kill();
    }
}

/// HMAC-SHA256 (RFC 2104) over sha2, for the SAS signature.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = sha2::Sha256::new();
    inner.update(pad(0x36));
    inner.update(message);
    let mut outer = sha2::Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// An account SAS of the development account for blobs (service version 2019-12-12).
fn sas() -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    // What docs/fleet.md says a SAS needs: read, write, list, add, create.
    let (permissions, expiry, version) = ("rwlac", "2099-01-01T00:00:00Z", "2019-12-12");
    let to_sign =
        format!("{ACCOUNT}\n{permissions}\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n");
    let signature = b64.encode(hmac_sha256(
        &b64.decode(ACCOUNT_KEY).unwrap(),
        to_sign.as_bytes(),
    ));
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "sv={version}&ss=b&srt=sco&sp={permissions}&se={}&spr={}&sig={}",
        encode(expiry),
        encode("https,http"),
        encode(&signature)
    )
}

#[test]
fn hmac_matches_rfc_4231() {
    // RFC 4231, test case 2.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// The demo project (73 changes) with its state in Azurite under `prefix`, and a write delay.
fn project(azurite: &Azurite, prefix: &str, write_delay_ms: u64) -> Project {
    let project = Project::demo();
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        config(azurite, prefix, "tenant.yaml"),
    )
    .unwrap();
    let mut tenant = project.tenant();
    tenant.simulation = Some(Simulation {
        write_delay_ms: Some(write_delay_ms),
        ..Simulation::default()
    });
    project.write_tenant(&tenant);
    project
}

fn config(azurite: &Azurite, prefix: &str, tenant: &str) -> String {
    format!(
        "policies: policies/\ntenant:\n  backend: file\n  path: {tenant}\nstate:\n  backend: azure-blob\n  account: {ACCOUNT}\n  container: {CONTAINER}\n  prefix: {prefix}\n  endpoint: {}\n",
        azurite.endpoint()
    )
}

fn env() -> [(&'static str, String); 1] {
    [("SHAREDBOX_STATE_SAS_TOKEN", sas())]
}

fn run(dir: &Path, args: &[&str]) -> common::Run {
    let env = env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_with_env(dir, args, &env)
}

/// `sharedbox ARGS` in `dir`, in the background.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sharedbox"))
        .current_dir(dir)
        .args(args)
        .envs(env())
        .env("NO_COLOR", "1")
        .env_remove("SHAREDBOX_CONFIG")
        .env_remove("SHAREDBOX_STATE_ENDPOINT")
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a background run, with its exit code, stdout and stderr.
fn finish(mut child: Child) -> common::Run {
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a background sharedbox run did not end within 300 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    common::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Writes the file backend received so far (the tenant file is rewritten on each write: a
/// read that meets a half-written file tries again).
fn writes(path: &Path) -> u32 {
    for _ in 0..50 {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(tenant) = TenantFile::parse(&text, path)
        {
            return tenant.simulation.map_or(0, |s| s.writes);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot read `{}`", path.display());
}

/// Waits until the tenant has received `count` writes.
fn wait_for_writes(path: &Path, count: u32, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while writes(path) < count {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the apply ended before its {count}th write"
        );
        assert!(Instant::now() < deadline, "no {count}th write within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The run id in `apply`'s "(run `ID`, journal ...)" line.
fn run_id_of(stderr_or_stdout: &str) -> String {
    stderr_or_stdout
        .split("(run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no run id in: {stderr_or_stdout}"))
        .to_owned()
}

/// The steps with an intent in `runs show`'s output.
fn intents(show: &str) -> usize {
    show.lines()
        .filter_map(|l| l.strip_prefix("  step "))
        .filter_map(|l| l.split_once(": ").map(|(_, rest)| rest))
        .filter(|rest| !(*rest == "ok" || rest.starts_with("ok (") || rest.starts_with("FAILED")))
        .count()
}

#[test]
fn two_applies_from_two_processes_race_for_the_lease_and_one_waits_out() {
    let azurite = Azurite::start();
    let project = project(&azurite, "race", 100);
    let first = spawn(project.path(), &["apply", "--auto-approve"]);
    let second = spawn(project.path(), &["apply", "--auto-approve"]);
    let (a, b) = (finish(first), finish(second));
    let (winner, loser) = if a.code == 0 { (a, b) } else { (b, a) };
    assert_eq!(winner.code, 0, "one apply wins: {winner:?}");
    assert_eq!(
        loser.code, 1,
        "the other exits with the lock's error: {loser:?}"
    );
    let winner_run = run_id_of(&format!("{}{}", winner.stdout, winner.stderr));
    assert!(
        loser.stderr.contains(&format!(
            "tenant `{TENANT}` is locked by run `{winner_run}`"
        )),
        "the loser names the holder: {}",
        loser.stderr
    );
    assert!(loser.stderr.contains("apply by "), "{}", loser.stderr);
    // Exactly one run wrote: the tenant is in the desired state, and one run is journaled.
    assert_eq!(project.run(&["plan", "--detailed-exitcode"]).code, 0);
    let runs = run(project.path(), &["runs"]);
    assert_eq!(runs.code, 0, "{runs:?}");
    assert_eq!(
        runs.stdout.lines().count(),
        2,
        "a header and one run: {}",
        runs.stdout
    );
    assert!(runs.stdout.contains(&winner_run));
    // The lease was released: the lock is free.
    let unlock = run(project.path(), &["unlock", TENANT]);
    assert_eq!(unlock.code, 0, "{unlock:?}");
    assert!(unlock.stdout.contains("is not locked"), "{}", unlock.stdout);
}

#[test]
fn a_sigkilled_apply_is_unlocked_and_rolled_back_from_another_working_directory() {
    let azurite = Azurite::start();
    let project = project(&azurite, "killed", 150);
    let before = normalized(project.tenant());
    let tenant_file = project.path().join("tenant.yaml");
    let mut apply = spawn(project.path(), &["apply", "--auto-approve"]);
    wait_for_writes(&tenant_file, 3, &mut apply);
    apply.kill().unwrap(); // SIGKILL
    let _ = apply.wait();
    assert!(writes(&tenant_file) < 60, "killed early in the run");

    // Another checkout, another folder: only the remote state is shared.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        elsewhere.path().join("sharedbox.yaml"),
        config(&azurite, "killed", "tenant.yaml"),
    )
    .unwrap();
    std::fs::create_dir(elsewhere.path().join("policies")).unwrap();
    let tenant_arg = format!("file:{}", tenant_file.display());
    let runs = run(elsewhere.path(), &["--tenant", &tenant_arg, "runs"]);
    assert_eq!(runs.code, 0, "{runs:?}");
    let row = runs
        .stdout
        .lines()
        .find(|l| l.contains(" apply "))
        .unwrap_or_else(|| panic!("the killed run is listed: {}", runs.stdout));
    let run_id = row.split_whitespace().next().unwrap().to_owned();
    assert!(
        row.contains("unfinished") || !row.contains("succeeded"),
        "{row}"
    );

    // The dead runner's lease is still there: rollback waits for nobody, it refuses.
    let refused = run(
        elsewhere.path(),
        &[
            "--tenant",
            &tenant_arg,
            "rollback",
            &run_id,
            "--auto-approve",
        ],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains(&format!("is locked by run `{run_id}`")),
        "{}",
        refused.stderr
    );
    // `unlock` without `--force` names the holder and refuses; with it, breaks the lease.
    let shown = run(elsewhere.path(), &["unlock", TENANT]);
    assert_eq!(shown.code, 1, "{shown:?}");
    assert!(
        shown
            .stdout
            .contains(&format!("is locked by run `{run_id}` (apply by ")),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stderr.contains("without `--force`"),
        "{}",
        shown.stderr
    );
    let forced = run(elsewhere.path(), &["unlock", TENANT, "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        forced.stdout.contains(&format!("Unlocked `{TENANT}`")),
        "{}",
        forced.stdout
    );
    assert_eq!(
        run(elsewhere.path(), &["unlock", TENANT]).code,
        0,
        "the lock is free now"
    );

    let rollback = run(
        elsewhere.path(),
        &[
            "--tenant",
            &tenant_arg,
            "rollback",
            &run_id,
            "--auto-approve",
        ],
    );
    assert_eq!(rollback.code, 0, "{rollback:?}");
    assert_eq!(
        normalized(project.tenant()),
        before,
        "the rollback restored the tenant as it was before the killed apply"
    );
}

#[test]
fn a_lease_broken_mid_run_stops_the_run_before_its_next_write() {
    let azurite = Azurite::start();
    let project = project(&azurite, "broken", 150);
    let tenant_file = project.path().join("tenant.yaml");
    let mut apply = spawn(project.path(), &["apply", "--auto-approve"]);
    wait_for_writes(&tenant_file, 3, &mut apply);
    let forced = run(project.path(), &["unlock", TENANT, "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    let at_break = writes(&tenant_file);
    let apply = finish(apply);
    assert_ne!(apply.code, 0, "the run stops: {apply:?}");
    assert!(
        apply
            .stderr
            .contains(&format!("the run lost the lock of tenant `{TENANT}`")),
        "{}",
        apply.stderr
    );
    let written = writes(&tenant_file);
    assert!(written < 60, "the run did not go on: {written} writes");
    let run_id = run_id_of(&format!("{}{}", apply.stdout, apply.stderr));
    let show = run(project.path(), &["runs", "show", &run_id]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(
        show.stdout.contains("stopped ") && show.stdout.contains("the completed steps were kept"),
        "the journal says why the run stopped: {}",
        show.stdout
    );
    // Every write the tenant received has its intent, and no write came after the intent
    // that was refused: the writes that had started when the lease broke are the last.
    assert_eq!(
        intents(&show.stdout),
        written as usize,
        "one intent per write: {}",
        show.stdout
    );
    assert!(written >= at_break);
}

#[test]
fn azurite_killed_mid_run_stops_the_run_with_a_clear_error() {
    let mut azurite = Azurite::start();
    let project = project(&azurite, "gone", 150);
    let tenant_file = project.path().join("tenant.yaml");
    let mailboxes = project.tenant().mailboxes.len() as u32;
    let mut apply = spawn(project.path(), &["apply", "--auto-approve"]);
    wait_for_writes(&tenant_file, 2, &mut apply);
    azurite.kill();
    let at_kill = writes(&tenant_file);
    let started = Instant::now();
    let apply = finish(apply);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "an unreachable store is reported promptly"
    );
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stderr.contains("cannot reach the store"),
        "the error says the store is unreachable: {}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains(&azurite.endpoint()),
        "and names it: {}",
        apply.stderr
    );
    // Only the round already journaled (at most one step per mailbox) can still be written;
    // no round starts without its journal record.
    let written = writes(&tenant_file);
    assert!(
        written <= at_kill + mailboxes,
        "{written} writes after {at_kill} at the kill"
    );
    assert!(written < 73, "the run did not go on");
}

#[test]
fn a_missing_container_or_wrong_sas_is_a_clear_error_and_nothing_is_applied() {
    let azurite = Azurite::start();
    let project = project(&azurite, "errors", 0);
    let before = project.tenant_text();
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        config(&azurite, "errors", "tenant.yaml").replace("container: state", "container: missing"),
    )
    .unwrap();
    let missing = run(project.path(), &["apply", "--auto-approve"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(
        missing.stderr.contains("ContainerNotFound"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("create the container first"),
        "{}",
        missing.stderr
    );
    assert_eq!(project.tenant_text(), before, "nothing applied");
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        config(&azurite, "errors", "tenant.yaml"),
    )
    .unwrap();
    let forged = run_with_env(
        project.path(),
        &["apply", "--auto-approve"],
        &[(
            "SHAREDBOX_STATE_SAS_TOKEN",
            &sas().replace("sig=", "sig=AA"),
        )],
    );
    assert_eq!(forged.code, 1, "{forged:?}");
    assert!(forged.stderr.contains("HTTP 403"), "{}", forged.stderr);
    assert_eq!(project.tenant_text(), before, "nothing applied");
}
