//! The fleet benchmark: `--fleet-tenants` tenants (200) of `--fleet-mailboxes` shared
//! mailboxes (50), as an MSP has them. Exchange throttles per tenant, so each tenant gets a
//! simulator of its own with its own request latency (50 to 150 ms) and its own concurrency
//! limit (4 to 12 requests in flight, 429 + `Retry-After` beyond). The simulators run in a
//! second process (this program with `--fleet-serve`), so that the peak memory measured is
//! the planning process's own. Each tenant is planned as `sharedbox plan` does it (load the
//! tenant's policy folder, read the tenant through its own client and limiter, diff), first
//! all tenants concurrently in this one process, then the same tenants one after another. It
//! prints both wall times, the speed-up, the requests and 429s, and the peak resident memory
//! of the planning process after the concurrent run (when it is highest) and of the
//! simulators' process.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use sharedbox_exo::auth::StaticToken;
use sharedbox_exo::{ClientOptions, ExoTenant};
use sharedbox_exo_sim::synthetic::{Synthetic, SyntheticOptions, generate};
use sharedbox_exo_sim::{SimConfig, SimServer};
use sharedbox_tenant::Tenant as _;

use crate::{Args, secs};

/// One simulated tenant, as the planning process sees it.
struct FleetTenant {
    name: String,
    policies: PathBuf,
    url: String,
    latency_ms: u64,
    concurrency_limit: usize,
}

/// The latency and concurrency limit of tenant `i`: spread so that tenants differ, the same
/// in every run.
fn limits_of(i: usize) -> (u64, usize) {
    (50 + (i as u64 * 37) % 101, 4 + (i * 5) % 9)
}

/// Tenant `i` of the fleet (the same in both processes: generation is seeded).
fn synthetic(args: &Args, i: usize) -> Synthetic {
    generate(&SyntheticOptions {
        mailboxes: args.fleet_mailboxes,
        drift: args.drift,
        seed: i as u64 + 1,
        ..SyntheticOptions::default()
    })
}

/// `--fleet-serve`: starts a simulator per tenant, prints each one's base URL (one line per
/// tenant, in order), then answers `reset` (counters to zero; answers `ok`) and `counters`
/// (answers `<HTTP requests> <429s> <peak KiB>`) on stdin until it closes.
pub fn serve(args: &Args) {
    let sims: Vec<_> = (0..args.fleet_tenants)
        .map(|i| {
            let (latency_ms, concurrency_limit) = limits_of(i);
            SimServer::start(
                synthetic(args, i).tenant,
                SimConfig {
                    latency_ms,
                    batch_subrequest_ms: args.subrequest_ms,
                    concurrency_limit: Some(concurrency_limit),
                    retry_after_secs: 1,
                    ..SimConfig::default()
                },
            )
            .expect("start a simulator")
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for sim in &sims {
        writeln!(out, "{}", sim.base_url()).expect("stdout");
    }
    out.flush().expect("stdout");
    for line in std::io::stdin().lock().lines() {
        match line.expect("stdin").trim() {
            "reset" => {
                sims.iter().for_each(|s| s.reset_counters());
                writeln!(out, "ok").expect("stdout");
            }
            "counters" => {
                let (requests, throttled) = sims.iter().fold((0, 0), |(r, t), s| {
                    let c = s.counters();
                    (r + c.http_requests, t + c.throttled)
                });
                let peak = crate::peak_kib(std::process::id()).unwrap_or(0);
                writeln!(out, "{requests} {throttled} {peak}").expect("stdout");
            }
            _ => {}
        }
        out.flush().expect("stdout");
    }
}

/// The simulators' process, driven through its stdin and stdout.
struct Simulators {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Simulators {
    fn start(args: &Args) -> (Simulators, Vec<String>) {
        let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .args(["--fleet-serve", "--fleet-tenants"])
            .arg(args.fleet_tenants.to_string())
            .arg("--fleet-mailboxes")
            .arg(args.fleet_mailboxes.to_string())
            .arg("--drift")
            .arg(args.drift.to_string())
            .arg("--subrequest-ms")
            .arg(args.subrequest_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the simulators' process");
        let input = child.stdin.take().expect("stdin");
        let mut output = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let urls = (0..args.fleet_tenants)
            .map(|_| {
                let mut line = String::new();
                output.read_line(&mut line).expect("a simulator's URL");
                line.trim().to_owned()
            })
            .collect();
        (
            Simulators {
                child,
                input,
                output,
            },
            urls,
        )
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.input, "{command}").expect("the simulators' process");
        let mut line = String::new();
        self.output.read_line(&mut line).expect("an answer");
        line.trim().to_owned()
    }

    fn reset(&mut self) {
        self.ask("reset");
    }

    /// HTTP requests, 429s and the process's peak memory (KiB) so far.
    fn counters(&mut self) -> (u64, u64, u64) {
        let answer = self.ask("counters");
        let mut numbers = answer.split(' ').map(|n| n.parse().unwrap_or(0));
        let mut next = || numbers.next().unwrap_or(0);
        (next(), next(), next())
    }
}

impl Drop for Simulators {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plans one tenant as `sharedbox plan` does: its policies, its own client (limited to the
/// tenant's concurrency, as `tenant.concurrency` sets it), a read of the policies' scope, the
/// diff. The number of changes.
async fn plan_tenant(
    name: String,
    policies: PathBuf,
    base_url: String,
    concurrency: usize,
) -> Result<usize, String> {
    let set = tokio::task::spawn_blocking(move || sharedbox_policy::load_dir(&policies))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|d| format!("{name}: policies invalid: {:?}", d.0.first()))?;
    let tenant = ExoTenant::new(
        &base_url,
        &name,
        Arc::new(StaticToken::new("bench-token")),
        ClientOptions {
            max_concurrency: concurrency,
            initial_concurrency: concurrency.min(3),
            ..ClientOptions::default()
        },
    )
    .map_err(|e| format!("{name}: {e}"))?;
    let snapshot = tenant
        .read(&set.read_scope())
        .await
        .map_err(|e| format!("{name}: read: {e}"))?;
    let plan = sharedbox_planner::plan(&set, &snapshot, &Default::default())
        .map_err(|e| format!("{name}: plan: {} error(s)", e.0.len()))?;
    Ok(plan.ordered_changes().len())
}

/// Plans every tenant, at most `parallel` at once; the changes per tenant, in order.
async fn plan_all(tenants: &[FleetTenant], parallel: usize) -> Vec<usize> {
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, tenant) in tenants.iter().enumerate() {
        let (name, policies, url, limit) = (
            tenant.name.clone(),
            tenant.policies.clone(),
            tenant.url.clone(),
            tenant.concurrency_limit,
        );
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            (i, plan_tenant(name, policies, url, limit).await)
        });
    }
    let mut changes = vec![0; tenants.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, planned) = joined.expect("a plan task panicked");
        changes[i] = planned.unwrap_or_else(|e| panic!("{e}"));
    }
    changes
}

/// Writes each tenant's policies under `dir/tenants/<name>/policies`.
fn write_policies(args: &Args, dir: &Path, urls: Vec<String>) -> Vec<FleetTenant> {
    urls.into_iter()
        .enumerate()
        .map(|(i, url)| {
            let name = format!("tenant{i:03}.onmicrosoft.com");
            let policies = dir.join("tenants").join(&name).join("policies");
            synthetic(args, i)
                .write_policies(&policies)
                .expect("write the tenant's policies");
            let (latency_ms, concurrency_limit) = limits_of(i);
            FleetTenant {
                name,
                policies,
                url,
                latency_ms,
                concurrency_limit,
            }
        })
        .collect()
}

/// The `--fleet` benchmark.
pub async fn run(args: &Args) {
    let dir = crate::ProjectDir::new(args);
    let started = Instant::now();
    let (mut sims, urls) = Simulators::start(args);
    let tenants = write_policies(args, dir.path(), urls);
    let latencies: Vec<u64> = tenants.iter().map(|t| t.latency_ms).collect();
    let limits: Vec<usize> = tenants.iter().map(|t| t.concurrency_limit).collect();
    println!(
        "fleet: {} tenants of {} shared mailboxes, a simulator each in a second process (latency {}-{} ms, {}-{} requests in flight per tenant, 429 + Retry-After: 1 beyond; {} ms per $batch sub-request); set up in {}\n",
        tenants.len(),
        args.fleet_mailboxes,
        latencies.iter().min().unwrap_or(&0),
        latencies.iter().max().unwrap_or(&0),
        limits.iter().min().unwrap_or(&0),
        limits.iter().max().unwrap_or(&0),
        args.subrequest_ms,
        secs(started.elapsed()),
    );

    sims.reset();
    let started = Instant::now();
    let concurrent = plan_all(&tenants, args.fleet_parallel).await;
    let concurrent_wall = started.elapsed();
    let (concurrent_requests, concurrent_429, _) = sims.counters();
    let peak = crate::peak_kib(std::process::id()).unwrap_or(0);

    sims.reset();
    let started = Instant::now();
    let sequential = plan_all(&tenants, 1).await;
    let sequential_wall = started.elapsed();
    let (sequential_requests, sequential_429, sims_peak) = sims.counters();

    assert_eq!(
        concurrent, sequential,
        "the concurrent and the sequential run planned different changes"
    );
    let changes: usize = concurrent.iter().sum();
    println!("| run | wall | HTTP requests | 429s | changes planned |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| {} tenants concurrently (at most {} at once), one process | {} | {concurrent_requests} | {concurrent_429} | {changes} |",
        tenants.len(),
        args.fleet_parallel.min(tenants.len()),
        secs(concurrent_wall)
    );
    println!(
        "| the same tenants one after another, same process | {} | {sequential_requests} | {sequential_429} | {changes} |",
        secs(sequential_wall)
    );
    println!(
        "\nspeed-up of the concurrent fleet plan: {:.1}x; peak resident memory of the planning process: {:.0} MB (the simulators' process: {:.0} MB)",
        sequential_wall.as_secs_f64() / concurrent_wall.as_secs_f64().max(1e-9),
        peak as f64 / 1024.0,
        sims_peak as f64 / 1024.0
    );
}
