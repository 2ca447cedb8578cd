//! Chaos (issue 9): `apply` of a multi-mailbox plan over the wire against a simulator that
//! answers with random 429s, 503s, dropped connections and latency spikes, and a SIGKILL
//! of the process at a random moment followed by `rollback`. After every run the tenant
//! is exactly the desired state (and the next plan is empty) or exactly the state before;
//! no grant exists that neither has; every journal parses; and every write the simulator
//! carried out is accounted for by a journal intent on that mailbox. The runs must really
//! be hostile: each apply that wrote met faults, and some kills land between the first and
//! the last write.
//!
//! `SHAREDBOX_CHAOS_RUNS` sets the number of runs (default 8 in CI; the long run in
//! `docs/reliability.md` used 300), `SHAREDBOX_CHAOS_SEED` the first seed.

#[path = "cli/common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{Project, normalized};
use sharedbox_exo_sim::synthetic::{DOMAIN, SyntheticOptions, generate};
use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};
use sharedbox_file::TenantFile;

const TENANT: &str = "exo:bench.onmicrosoft.com";
const MAILBOXES: usize = 6;

/// A project of six synthetic mailboxes whose policies change each of them in seven
/// ways: a copy flag, a Send As grant and revocation, a Send on Behalf grant, a
/// FullAccess grant and revocation, and a Sent Items reader's access.
fn chaos_project() -> (Project, TenantFile) {
    let synthetic = generate(&SyntheticOptions {
        mailboxes: MAILBOXES,
        drift: 1.0,
        orphans: 0.0,
        ..SyntheticOptions::default()
    });
    let tenant = synthetic.tenant;
    let address_of = |name: &str| {
        tenant
            .recipients
            .iter()
            .find(|r| r.name == name || r.display_name == name)
            .map(|r| r.primary_smtp_address.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    let project = Project::with_tenant(&serde_saphyr::to_string(&tenant).unwrap());
    for (n, m) in tenant.mailboxes.iter().enumerate() {
        // People only, not `NT AUTHORITY\SELF` and the like.
        let people = |principals: Vec<&'_ str>| -> Vec<String> {
            principals
                .into_iter()
                .filter(|p| p.ends_with(DOMAIN))
                .map(str::to_owned)
                .collect()
        };
        let full = people(
            m.mailbox_permissions
                .iter()
                .map(|p| p.user.as_str())
                .collect(),
        );
        let send_as = people(
            m.recipient_permissions
                .iter()
                .map(|p| p.trustee.as_str())
                .collect(),
        );
        let behalf = address_of(&m.grant_send_on_behalf_to[0]);
        let reader = m
            .sent_items
            .permissions
            .iter()
            .map(|p| address_of(&p.user))
            .find(|a| a.ends_with(DOMAIN))
            .expect("a reader");
        let new = |k: usize| format!("user{:05}@{DOMAIN}", 60 + 6 * n + k);
        project.policy(
            &format!("m{n}.yaml"),
            &format!(
                "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: {}\nsentItems: {{copyForSendAs: true, copyForSendOnBehalf: true}}\nsendAs: [{}, {}]\nsendOnBehalf: [{behalf}, {}]\nfullAccess:\n  - {{principal: {}, autoMapping: true}}\n  - {{principal: {}, autoMapping: true}}\n  - {{principal: {}, autoMapping: false}}\nsentItemsReaders: [{{principal: {reader}, access: Editor}}]\nlints: {{SBX105: off}}\n",
                m.primary_smtp_address,
                send_as[0],
                new(0),
                new(1),
                full[0],
                full[1],
                new(2),
            ),
        );
    }
    (project, tenant)
}

fn exo(project: &Project, sim: &SimHandle, args: &[&str]) -> common::Run {
    let mut all = vec!["--tenant", TENANT];
    all.extend_from_slice(args);
    let env = env(sim);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::run_with_env(project.path(), &all, &env)
}

fn env(sim: &SimHandle) -> Vec<(&'static str, String)> {
    vec![
        ("SHAREDBOX_EXO_ENDPOINT", sim.base_url()),
        ("SHAREDBOX_ACCESS_TOKEN", "chaos-token".to_owned()),
    ]
}

/// Every grant of a tenant: (mailbox, kind, principal).
fn grants(tenant: &TenantFile) -> BTreeSet<(String, &'static str, String)> {
    let mut out = BTreeSet::new();
    for m in &tenant.mailboxes {
        let mailbox = m.primary_smtp_address.to_ascii_lowercase();
        for p in &m.mailbox_permissions {
            out.insert((mailbox.clone(), "FullAccess", p.user.to_ascii_lowercase()));
        }
        for p in &m.recipient_permissions {
            out.insert((mailbox.clone(), "SendAs", p.trustee.to_ascii_lowercase()));
        }
        for p in &m.grant_send_on_behalf_to {
            out.insert((mailbox.clone(), "SendOnBehalf", p.to_ascii_lowercase()));
        }
        for p in &m.sent_items.permissions {
            let access = p.access_rights.join(",");
            out.insert((mailbox.clone(), "SentItems", format!("{}={access}", p.user)));
        }
    }
    out
}

/// A small deterministic generator for the run's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn faulty(seed: u64, rng: &mut Rng) -> SimConfig {
    SimConfig {
        latency_ms: rng.below(4),
        concurrency_limit: Some(2 + rng.below(3) as usize),
        retry_after_secs: 0,
        // Floors, so that every run meets faults (asserted below).
        unavailable_rate: 0.05 + rng.unit() * 0.15,
        unavailable_retry_after_secs: Some(0),
        drop_rate: 0.02 + rng.unit() * 0.06,
        latency_spike_rate: 0.05,
        latency_spike_ms: 150,
        seed,
        ..SimConfig::default()
    }
}

/// The mailbox a write's `-Identity` names (`mailbox:FolderId` for folder writes).
fn mailbox_of(identity: &str) -> String {
    identity
        .split_once(':')
        .map_or(identity, |(m, _)| m)
        .to_ascii_lowercase()
}

/// Journal writes (apply intents, rollback undo intents) per mailbox, over every run of the project; every line must parse but
/// the last of a killed run, which may be cut short.
fn journal_intents(project: &Project, killed: bool) -> BTreeMap<String, usize> {
    let mut intents = BTreeMap::new();
    let Ok(runs) = std::fs::read_dir(project.path().join(".sharedbox/runs")) else {
        return intents;
    };
    for run in runs {
        let path = run.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for (i, line) in lines.iter().enumerate() {
            let record: serde_json::Value = match serde_json::from_str(line) {
                Ok(record) => record,
                Err(e) => {
                    assert!(
                        killed && i + 1 == lines.len() && !text.ends_with('\n'),
                        "{}: line {} does not parse ({e}): {line}",
                        path.display(),
                        i + 1
                    );
                    continue;
                }
            };
            // Apply and rollback announce each write before sending it.
            if record["type"] == "intent" || record["type"] == "undo_intent" {
                let mailbox = record["operation"]["mailbox"].as_str().unwrap_or_default();
                *intents.entry(mailbox.to_ascii_lowercase()).or_default() += 1;
            }
        }
    }
    intents
}

#[test]
fn apply_under_faults_and_kills_ends_in_the_desired_or_the_before_state() {
    let runs: u64 = std::env::var("SHAREDBOX_CHAOS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let first_seed: u64 = std::env::var("SHAREDBOX_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);

    // The desired state and the time of a fault-free apply.
    let (project, tenant) = chaos_project();
    let before = normalized(tenant.clone());
    let sim = SimServer::start(tenant.clone(), SimConfig::default()).unwrap();
    let plan = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("to revoke"), "{}", plan.stdout);
    let started = Instant::now();
    let clean = exo(&project, &sim, &["apply", "--auto-approve"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    let clean_time = started.elapsed();
    let desired = normalized(sim.tenant());
    assert_ne!(desired, before);
    let allowed: BTreeSet<_> = grants(&before).union(&grants(&desired)).cloned().collect();
    drop(sim);

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total_faults = 0;
    for seed in first_seed..first_seed + runs {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let (project, tenant) = chaos_project();
        let config = faulty(seed, &mut rng);
        let sim = SimServer::start(tenant, config.clone()).unwrap();
        // Every second run is killed: at a random moment, or once the simulator has
        // carried out a random number of the apply's writes (which makes sure that some
        // kills land between the first and the last write).
        let kill = match (seed - first_seed) % 4 {
            0 => Kill::AfterWrites(1 + rng.below(30)),
            2 => Kill::AfterTime(Duration::from_millis(
                rng.below(clean_time.as_millis() as u64 * 3 + 50),
            )),
            _ => Kill::Never,
        };

        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharedbox"))
            .current_dir(project.path())
            .args(["--tenant", TENANT, "apply", "--auto-approve"])
            .envs(env(&sim))
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let killed = match kill {
            Kill::AfterTime(after) => {
                std::thread::sleep(after);
                let still_running = child.try_wait().unwrap().is_none();
                child.kill().ok(); // SIGKILL
                child.wait().unwrap();
                still_running
            }
            Kill::AfterWrites(writes) => {
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    if child.try_wait().unwrap().is_some() {
                        break false; // finished first
                    }
                    if sim.counters().tenant_changes >= writes || Instant::now() > deadline {
                        child.kill().ok(); // SIGKILL
                        child.wait().unwrap();
                        break true;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Kill::Never => {
                let status = child.wait().unwrap();
                *outcomes
                    .entry(if status.success() {
                        "applied"
                    } else {
                        "failed, rolled back by apply"
                    })
                    .or_default() += 1;
                false
            }
        };

        let mut state = normalized(sim.tenant());
        // What the apply met and did, before any rollback: a run is only counted as
        // faulted or killed mid-apply when it really was.
        let counters = sim.counters();
        let faults = counters.throttled + counters.unavailable + counters.dropped;
        assert!(
            faults > 0 || counters.tenant_changes == 0,
            "seed {seed}: the apply wrote without meeting a single fault ({config:?}): {counters:?}"
        );
        if faults > 0 {
            *outcomes.entry("met faults").or_default() += 1;
            total_faults += faults;
        }
        if killed {
            let when = if counters.tenant_changes == 0 {
                "killed before its first write"
            } else if state == desired {
                "killed after its last write"
            } else {
                "killed mid-apply"
            };
            *outcomes.entry(when).or_default() += 1;
        }
        // Not the desired state: roll the last run back (faults stay on; rollback is
        // idempotent, so it is simply run again until it finishes).
        if state != desired && state != before {
            // The killed (or failed) apply is the project's only run so far.
            let run_id = common::run_ids(&project)
                .pop_first()
                .unwrap_or_else(|| panic!("seed {seed}: the tenant changed without a journal"));
            let mut attempts = 0;
            loop {
                attempts += 1;
                let rollback = exo(&project, &sim, &["rollback", &run_id, "--auto-approve"]);
                if rollback.code == 0 {
                    break;
                }
                assert!(
                    attempts < 6,
                    "seed {seed}: rollback keeps failing:\n{}\n{}",
                    rollback.stdout,
                    rollback.stderr
                );
            }
            *outcomes.entry("rolled back afterwards").or_default() += 1;
            state = normalized(sim.tenant());
        }

        let stray: Vec<_> = grants(&state).difference(&allowed).cloned().collect();
        assert!(
            stray.is_empty(),
            "seed {seed}: grants in neither state: {stray:?}"
        );
        assert!(
            state == desired || state == before,
            "seed {seed} ({config:?}, kill {kill:?}): the tenant is neither the desired nor the before-state"
        );
        if state == desired {
            sim.set_config(SimConfig::default());
            let next = exo(&project, &sim, &["plan", "--detailed-exitcode"]);
            assert_eq!(
                next.code, 0,
                "seed {seed}: the next plan is not empty:\n{}",
                next.stdout
            );
        }

        // Every write the simulator carried out is in a journal, on that mailbox, and no
        // mailbox was changed more often than the journals meant to.
        let intents = journal_intents(&project, killed);
        let mut changes: BTreeMap<String, usize> = BTreeMap::new();
        for change in sim.changes() {
            let Some(identity) = change.identity else {
                continue;
            };
            *changes.entry(mailbox_of(&identity)).or_default() += 1;
        }
        for (mailbox, count) in &changes {
            let meant = intents.get(mailbox).copied().unwrap_or(0);
            assert!(
                *count <= meant,
                "seed {seed}: {mailbox} was changed {count} times, the journals hold {meant} writes for it: {:?}",
                sim.changes()
            );
        }
    }
    eprintln!("chaos: {runs} runs from seed {first_seed}: {outcomes:?}, {total_faults} faults");
    // The invariants above are only worth something if the runs were hostile.
    assert!(
        outcomes.get("met faults").copied().unwrap_or(0) * 2 >= runs as usize,
        "fewer than half of the runs met faults: {outcomes:?}"
    );
    if runs >= 4 {
        assert!(
            outcomes.get("killed mid-apply").copied().unwrap_or(0) >= 1,
            "no run was killed between its first and its last write: {outcomes:?}"
        );
    }
}

/// When a chaos run's apply is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// SIGKILL after this long.
    AfterTime(Duration),
    /// SIGKILL once the simulator has carried out this many writes.
    AfterWrites(u64),
    /// Not at all.
    Never,
}
