//! The fleet benchmark: `--fleet-tenants` tenants (200) of `--fleet-mailboxes` shared
//! mailboxes (50), as an MSP has them. Exchange throttles per tenant, so each tenant gets a
//! simulator of its own (one server per tenant, in this process, each on its own thread),
//! with its own request latency (50 to 150 ms) and its own concurrency limit (4 to 12
//! requests in flight, 429 + `Retry-After` beyond). Each tenant is planned as `sharedbox
//! plan` does it (load the tenant's policy folder, read the tenant through its own client
//! and limiter, diff), first all tenants concurrently in this one process, then the same
//! tenants one after another. It prints both wall times, the speed-up, the requests and
//! 429s, and the peak resident memory of this process (the simulators included) after the
//! concurrent run, when it is highest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sharedbox_exo::auth::StaticToken;
use sharedbox_exo::{ClientOptions, ExoTenant};
use sharedbox_exo_sim::synthetic::{SyntheticOptions, generate};
use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer};
use sharedbox_tenant::Tenant as _;

use crate::{Args, secs};

/// One simulated tenant: its name, policy folder, simulator and limits.
struct FleetTenant {
    name: String,
    policies: PathBuf,
    sim: SimHandle,
    latency_ms: u64,
    concurrency_limit: usize,
}

/// What planning one tenant gave.
struct Planned {
    changes: usize,
}

/// The latency and concurrency limit of tenant `i`: spread so that tenants differ, the same
/// in every run.
fn limits_of(i: usize) -> (u64, usize) {
    (50 + (i as u64 * 37) % 101, 4 + (i * 5) % 9)
}

/// Generates the tenants: policies under `dir/tenants/<name>/policies`, a simulator each.
fn set_up(args: &Args, dir: &Path) -> Vec<FleetTenant> {
    (0..args.fleet_tenants)
        .map(|i| {
            let name = format!("tenant{i:03}.onmicrosoft.com");
            let synthetic = generate(&SyntheticOptions {
                mailboxes: args.fleet_mailboxes,
                drift: args.drift,
                seed: i as u64 + 1,
                ..SyntheticOptions::default()
            });
            let policies = dir.join("tenants").join(&name).join("policies");
            synthetic
                .write_policies(&policies)
                .expect("write the tenant's policies");
            let (latency_ms, concurrency_limit) = limits_of(i);
            let sim = SimServer::start(
                synthetic.tenant,
                SimConfig {
                    latency_ms,
                    batch_subrequest_ms: args.subrequest_ms,
                    concurrency_limit: Some(concurrency_limit),
                    retry_after_secs: 1,
                    ..SimConfig::default()
                },
            )
            .expect("start a simulator");
            FleetTenant {
                name,
                policies,
                sim,
                latency_ms,
                concurrency_limit,
            }
        })
        .collect()
}

/// Plans one tenant as `sharedbox plan` does: its policies, its own client (limited to the
/// tenant's concurrency, as `tenant.concurrency` sets it), a read of the policies' scope, the
/// diff.
async fn plan_tenant(
    name: String,
    policies: PathBuf,
    base_url: String,
    concurrency: usize,
) -> Result<Planned, String> {
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
    Ok(Planned {
        changes: plan.ordered_changes().len(),
    })
}

/// Plans every tenant, at most `parallel` at once; the changes per tenant, in order.
async fn plan_all(tenants: &[FleetTenant], parallel: usize) -> Vec<usize> {
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, tenant) in tenants.iter().enumerate() {
        let (name, policies, url, limit) = (
            tenant.name.clone(),
            tenant.policies.clone(),
            tenant.sim.base_url(),
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
        changes[i] = planned.unwrap_or_else(|e| panic!("{e}")).changes;
    }
    changes
}

/// The `--fleet` benchmark.
pub async fn run(args: &Args) {
    let dir = crate::ProjectDir::new(args);
    let started = Instant::now();
    let tenants = set_up(args, dir.path());
    let latencies: Vec<u64> = tenants.iter().map(|t| t.latency_ms).collect();
    let limits: Vec<usize> = tenants.iter().map(|t| t.concurrency_limit).collect();
    println!(
        "fleet: {} tenants of {} shared mailboxes, one simulator each (latency {}-{} ms, {}-{} requests in flight per tenant, 429 + Retry-After: 1 beyond; {} ms per $batch sub-request); set up in {}\n",
        tenants.len(),
        args.fleet_mailboxes,
        latencies.iter().min().unwrap_or(&0),
        latencies.iter().max().unwrap_or(&0),
        limits.iter().min().unwrap_or(&0),
        limits.iter().max().unwrap_or(&0),
        args.subrequest_ms,
        secs(started.elapsed()),
    );
    let reset = |tenants: &[FleetTenant]| tenants.iter().for_each(|t| t.sim.reset_counters());
    let totals = |tenants: &[FleetTenant]| {
        tenants.iter().fold((0, 0), |(requests, throttled), t| {
            let c = t.sim.counters();
            (requests + c.http_requests, throttled + c.throttled)
        })
    };

    reset(&tenants);
    let started = Instant::now();
    let concurrent = plan_all(&tenants, args.fleet_parallel).await;
    let concurrent_wall = started.elapsed();
    let (concurrent_requests, concurrent_429) = totals(&tenants);
    let peak = crate::peak_kib(std::process::id()).unwrap_or(0);

    reset(&tenants);
    let started = Instant::now();
    let sequential = plan_all(&tenants, 1).await;
    let sequential_wall = started.elapsed();
    let (sequential_requests, sequential_429) = totals(&tenants);

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
        "\nspeed-up of the concurrent fleet plan: {:.1}x; peak resident memory of this process after the concurrent run (simulators included): {:.0} MB",
        sequential_wall.as_secs_f64() / concurrent_wall.as_secs_f64().max(1e-9),
        peak as f64 / 1024.0
    );
    let slowest = tenants
        .iter()
        .map(|t| Duration::from_millis(t.latency_ms))
        .max()
        .unwrap_or_default();
    println!(
        "(the slowest tenant answers each request in {}; per tenant the concurrent run can be no faster than that tenant alone)",
        secs(slowest)
    );
}
