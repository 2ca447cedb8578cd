//! `sharedbox-bench`: `sharedbox plan` and `apply` at tenant scale, through the real
//! binary and HTTP client, against the admin API simulator with per-request latency, a
//! per-tenant concurrency limit (429 + `Retry-After` beyond it) and per-sub-request server
//! time inside `$batch`. It prints, per tenant size: HTTP requests per mailbox, wall time,
//! the lower bound of that simulator configuration and the ratio, 429s received, the time
//! of the pure planning step, policy loading time and peak memory; and, for comparison, a
//! baseline that reads the way the PowerShell tools do (one cmdlet per mailbox per kind,
//! one after the other).
//!
//! With `--fleet`, it benchmarks a fleet instead ([`fleet`]): many small tenants, each
//! behind a simulator of its own with its own latency and concurrency limit, planned
//! concurrently in this process and then one after another.
//!
//! With `--access`, it measures `sharedbox access` instead: on a tenant with groups
//! (`--groups`, up to `--group-size` members, one granted FullAccess on every mailbox), the
//! effective-access report of every shared mailbox against `plan` of the same tenant.
//!
//! Run `cargo build --release` first: the benchmark runs `target/release/sharedbox`.

mod fleet;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use sharedbox_exo::auth::StaticToken;
use sharedbox_exo::{Client, ClientOptions, Command};
use sharedbox_exo_sim::synthetic::{SyntheticOptions, generate};
use sharedbox_exo_sim::{Counters, SimConfig, SimServer};
use sharedbox_tenant::ReadScope;

/// Benchmark sharedbox against the simulator.
#[derive(Debug, Parser)]
struct Args {
    /// Tenant sizes (shared mailboxes), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    mailboxes: Vec<usize>,
    /// Latency of every HTTP request, in milliseconds.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// Requests in flight per tenant before the simulator answers 429.
    #[arg(long, default_value_t = 10)]
    concurrency_limit: usize,
    /// Server time of each sub-request inside a `$batch`, in milliseconds.
    #[arg(long, default_value_t = 5)]
    subrequest_ms: u64,
    /// Fraction of mailboxes whose tenant state differs from the policy (plan).
    #[arg(long, default_value_t = 0.1)]
    drift: f64,
    /// Mailboxes the sequential baseline really reads (the rest is extrapolated linearly);
    /// 0 skips the baseline.
    #[arg(long, default_value_t = 100)]
    baseline_sample: usize,
    /// Skip the apply benchmark.
    #[arg(long)]
    no_apply: bool,
    /// Benchmark a fleet instead: `--fleet-tenants` tenants of `--fleet-mailboxes` shared
    /// mailboxes each, planned concurrently in one process and then one after another.
    #[arg(long)]
    fleet: bool,
    /// Tenants of the fleet benchmark.
    #[arg(long, default_value_t = 200)]
    fleet_tenants: usize,
    /// Shared mailboxes per tenant of the fleet benchmark.
    #[arg(long, default_value_t = 50)]
    fleet_mailboxes: usize,
    /// Tenants planned at once in the concurrent run of the fleet benchmark.
    #[arg(long, default_value_t = 200)]
    fleet_parallel: usize,
    /// Internal: serve the fleet's simulators in this process for a `--fleet` run.
    #[arg(long, hide = true)]
    fleet_serve: bool,
    /// Measure `sharedbox access` (with group expansion) against `plan` on the same tenant,
    /// instead of plan, apply and the baseline.
    #[arg(long)]
    access: bool,
    /// Groups of the `--access` tenant.
    #[arg(long, default_value_t = 2000)]
    groups: usize,
    /// The most members a group of the `--access` tenant has.
    #[arg(long, default_value_t = 500)]
    group_size: usize,
    /// Keep the generated projects (policies, `sharedbox.yaml`, the CLI's stderr in
    /// `sharedbox.stderr`) and print where they are.
    #[arg(long)]
    keep: bool,
}

/// What one timed run of the CLI saw.
struct CliRun {
    wall: Duration,
    code: i32,
    peak_kib: u64,
    counters: Counters,
}

fn sharedbox_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.with_file_name(format!("sharedbox{}", std::env::consts::EXE_SUFFIX))
}

/// `VmHWM` (peak resident set) of a running process, in KiB.
pub(crate) fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run_cli(
    dir: &Path,
    base_url: &str,
    args: &[&str],
    sim: &sharedbox_exo_sim::SimHandle,
) -> CliRun {
    sim.reset_counters();
    let start = Instant::now();
    let mut child = std::process::Command::new(sharedbox_binary())
        .current_dir(dir)
        .args(["--tenant", "exo:bench.onmicrosoft.com"])
        .args(args)
        .env("SHAREDBOX_EXO_ENDPOINT", base_url)
        .env("SHAREDBOX_ACCESS_TOKEN", "bench-token")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run `cargo build --release` first",
                sharedbox_binary().display()
            )
        });
    let pid = child.id();
    let mut peak = 0;
    let stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
        }
        text
    });
    let status = loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for sharedbox: {e}"),
        }
    };
    let wall = start.elapsed();
    let stderr = drain.join().unwrap_or_default();
    let _ = std::fs::write(dir.join("sharedbox.stderr"), &stderr);
    let code = status.code().unwrap_or(-1);
    if code != 0 && code != 2 {
        eprintln!("sharedbox {} exited {code}:\n{stderr}", args.join(" "));
    }
    CliRun {
        wall,
        code,
        peak_kib: peak,
        counters: sim.counters(),
    }
}

/// The least time the requests sent could take on this simulator: their server time
/// spread over the concurrency limit.
/// One table row of a CLI run: wall time against the server-side bound, requests, 429s, memory.
fn print_run(n: usize, step: &str, run: &CliRun, args: &Args) {
    let b = bound(&run.counters, args);
    println!(
        "| {n} | {step} | {} | {} | {:.2} | {} | {:.3} | {} | {:.0} MB |",
        secs(run.wall),
        secs(b),
        run.wall.as_secs_f64() / b.as_secs_f64().max(1e-9),
        run.counters.http_requests,
        run.counters.http_requests as f64 / n as f64,
        run.counters.throttled,
        run.peak_kib as f64 / 1024.0
    );
}

fn bound(counters: &Counters, args: &Args) -> Duration {
    let work_ms =
        counters.http_requests * args.latency_ms + counters.batch_subrequests * args.subrequest_ms;
    Duration::from_millis(work_ms / args.concurrency_limit as u64)
}

fn sim_config(args: &Args) -> SimConfig {
    SimConfig {
        latency_ms: args.latency_ms,
        batch_subrequest_ms: args.subrequest_ms,
        concurrency_limit: Some(args.concurrency_limit),
        retry_after_secs: 1,
        ..SimConfig::default()
    }
}

fn project(dir: &Path, synthetic: &sharedbox_exo_sim::synthetic::Synthetic) {
    synthetic
        .write_policies(&dir.join("policies"))
        .expect("write policies");
    std::fs::write(
        dir.join("sharedbox.yaml"),
        "policies: policies/\nstateDir: .sharedbox/\n",
    )
    .expect("write sharedbox.yaml");
}

/// A temporary project directory, removed when dropped unless `--keep` was given.
struct ProjectDir {
    path: PathBuf,
    _guard: Option<tempfile::TempDir>,
}

impl ProjectDir {
    fn new(args: &Args) -> ProjectDir {
        let dir = tempfile::tempdir().expect("temp dir");
        if args.keep {
            let path = dir.keep();
            eprintln!(
                "project kept in {} (`tenant.yaml` there seeds `sharedbox-sim --tenant`)",
                path.display()
            );
            ProjectDir { path, _guard: None }
        } else {
            ProjectDir {
                path: dir.path().to_owned(),
                _guard: Some(dir),
            }
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if args.fleet_serve {
        fleet::serve(&args);
        return;
    }
    if args.fleet {
        runtime.block_on(fleet::run(&args));
        return;
    }
    println!(
        "simulator: {} ms per request, {} requests in flight per tenant (429 + Retry-After: 1 beyond), {} ms per $batch sub-request\n",
        args.latency_ms, args.concurrency_limit, args.subrequest_ms
    );
    println!(
        "| mailboxes | step | wall | lower bound | ratio | HTTP requests | per mailbox | 429s | peak memory |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    if args.access {
        access(&args);
        return;
    }
    let mut plan_walls = Vec::new();
    for &n in &args.mailboxes {
        let dir = ProjectDir::new(&args);
        let synthetic = generate(&SyntheticOptions {
            mailboxes: n,
            drift: args.drift,
            ..SyntheticOptions::default()
        });
        project(dir.path(), &synthetic);
        if args.keep {
            let text = serde_saphyr::to_string(&synthetic.tenant).expect("tenant as YAML");
            std::fs::write(dir.path().join("tenant.yaml"), text).expect("write tenant.yaml");
        }

        // Pure steps, in process: loading the policies, planning against a snapshot.
        let started = Instant::now();
        let policies = sharedbox_policy::load_dir(&dir.path().join("policies"))
            .unwrap_or_else(|d| panic!("policies invalid: {:?}", d.0.first()));
        let load = started.elapsed();
        let scope = ReadScope::of(
            policies
                .mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
        );
        let snapshot = synthetic.tenant.snapshot(&scope);
        let started = Instant::now();
        let plan =
            sharedbox_planner::plan(&policies, &snapshot, &Default::default()).expect("plan");
        let planning = started.elapsed();
        drop(policies);

        let sim = SimServer::start(synthetic.tenant.clone(), sim_config(&args)).expect("sim");
        let run = run_cli(
            dir.path(),
            &sim.base_url(),
            &["plan", "--detailed-exitcode"],
            &sim,
        );
        assert_eq!(run.code, 2, "plan of {n} mailboxes must show changes");
        print_run(n, "plan", &run, &args);
        println!(
            "| {n} | load {n} policy files (in process) | {} | | | | | | |",
            secs(load)
        );
        println!(
            "| {n} | pure planning step, {} changes (in process) | {:.0} ms | | | | | | |",
            plan.ordered_changes().len(),
            planning.as_secs_f64() * 1000.0
        );
        plan_walls.push((n, run.wall));
        drop(sim);

        if !args.no_apply {
            let dir = ProjectDir::new(&args);
            let synthetic = generate(&SyntheticOptions {
                mailboxes: n,
                drift: 1.0,
                orphans: 0.0,
                ..SyntheticOptions::default()
            });
            project(dir.path(), &synthetic);
            let sim = SimServer::start(synthetic.tenant.clone(), sim_config(&args)).expect("sim");
            let run = run_cli(
                dir.path(),
                &sim.base_url(),
                &["apply", "--auto-approve"],
                &sim,
            );
            assert_eq!(run.code, 0, "apply of {n} mailboxes must succeed");
            print_run(
                n,
                "apply 1 change on each (plan + writes + verification)",
                &run,
                &args,
            );
            println!(
                "| {n} | of these requests, {} were `$batch` ({} sub-requests); writes: {} `Set-Mailbox` | | | | | | | |",
                run.counters.batches,
                run.counters.batch_subrequests,
                run.counters.writes.get("Set-Mailbox").copied().unwrap_or(0)
            );
        }
    }
    if let [(small, small_wall), .., (large, large_wall)] = plan_walls.as_slice() {
        println!(
            "\nplan growth: {large} mailboxes took {:.2}x the time of {small} ({:.1}x the mailboxes)",
            large_wall.as_secs_f64() / small_wall.as_secs_f64(),
            *large as f64 / *small as f64
        );
    }
    if args.baseline_sample > 0 {
        let n = args.mailboxes.iter().copied().min().unwrap_or(1000);
        let total = runtime.block_on(baseline(&args, n));
        if let Some((_, wall)) = plan_walls.iter().find(|(m, _)| *m == n) {
            println!(
                "speed-up of `sharedbox plan` over the baseline at {n} mailboxes: {:.0}x",
                total.as_secs_f64() / wall.as_secs_f64()
            );
        }
    }
}

/// `--access`: per tenant size, `plan` and `access --format json` on the same tenant with
/// groups; the ratio of their wall times and access's requests per mailbox.
fn access(args: &Args) {
    for &n in &args.mailboxes {
        let dir = ProjectDir::new(args);
        let synthetic = generate(&SyntheticOptions {
            mailboxes: n,
            drift: args.drift,
            groups: args.groups,
            group_size: args.group_size,
            ..SyntheticOptions::default()
        });
        project(dir.path(), &synthetic);
        if args.keep {
            let text = serde_saphyr::to_string(&synthetic.tenant).expect("tenant as YAML");
            std::fs::write(dir.path().join("tenant.yaml"), text).expect("write tenant.yaml");
        }
        let memberships: usize = synthetic
            .tenant
            .recipients
            .iter()
            .filter_map(|r| r.members.as_ref().map(|m| m.len()))
            .sum();
        let sim = SimServer::start(synthetic.tenant.clone(), sim_config(args)).expect("sim");
        let plan = run_cli(
            dir.path(),
            &sim.base_url(),
            &["plan", "--detailed-exitcode"],
            &sim,
        );
        assert_eq!(plan.code, 2, "plan of {n} mailboxes must show changes");
        print_run(n, "plan", &plan, args);
        let report = run_cli(
            dir.path(),
            &sim.base_url(),
            &["access", "--format", "json"],
            &sim,
        );
        assert_eq!(report.code, 0, "access of {n} mailboxes must succeed");
        print_run(
            n,
            &format!(
                "access, {} groups ({memberships} memberships), every shared mailbox",
                args.groups
            ),
            &report,
            args,
        );
        println!(
            "| {n} | access / plan wall time: {:.2}x; access reads: {} | | | | | | | |",
            report.wall.as_secs_f64() / plan.wall.as_secs_f64().max(1e-9),
            report
                .counters
                .cmdlets
                .iter()
                .map(|(cmdlet, count)| format!("{cmdlet} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Reads `sample` mailboxes the way the PowerShell tools do: the directory once, then six
/// cmdlets per mailbox, one request at a time; extrapolated to `n` mailboxes.
async fn baseline(args: &Args, n: usize) -> Duration {
    let synthetic = generate(&SyntheticOptions {
        mailboxes: n,
        drift: args.drift,
        ..SyntheticOptions::default()
    });
    let sample = args.baseline_sample.min(n);
    let addresses: Vec<String> = synthetic.tenant.mailboxes[..sample]
        .iter()
        .map(|m| m.primary_smtp_address.clone())
        .collect();
    let sim = SimServer::start(synthetic.tenant, sim_config(args)).expect("sim");
    let client = Client::new(
        &sim.base_url(),
        "bench.onmicrosoft.com",
        Arc::new(StaticToken::new("bench-token")),
        ClientOptions {
            max_concurrency: 1,
            initial_concurrency: 1,
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let started = Instant::now();
    client
        .invoke(&Command::read("Get-Recipient").param("ResultSize", "Unlimited"))
        .await
        .expect("Get-Recipient");
    let directory = started.elapsed();
    let started = Instant::now();
    for address in &addresses {
        for cmdlet in [
            "Get-Mailbox",
            "Get-MailboxPermission",
            "Get-RecipientPermission",
            "Get-CASMailbox",
        ] {
            client
                .invoke(&Command::read(cmdlet).param("Identity", address.as_str()))
                .await
                .expect(cmdlet);
        }
        client
            .invoke(
                &Command::read("Get-MailboxFolderStatistics")
                    .param("Identity", address.as_str())
                    .param("FolderScope", "SentItems"),
            )
            .await
            .expect("folders");
        client
            .invoke(
                &Command::read("Get-MailboxFolderPermission")
                    .param("Identity", format!("{address}:\\Sent Items")),
            )
            .await
            .ok();
    }
    let per_mailbox = started.elapsed() / sample as u32;
    let total = directory + per_mailbox * n as u32;
    println!(
        "\nbaseline (PowerShell-style: 6 cmdlets per mailbox, sequential), {n} mailboxes: {} ({} measured on {sample} mailboxes, {:.0} ms per mailbox, extrapolated), {} HTTP requests per mailbox",
        secs(total),
        secs(directory + per_mailbox * sample as u32),
        per_mailbox.as_secs_f64() * 1000.0,
        sim.counters().http_requests as f64 / sample as f64
    );
    total
}
