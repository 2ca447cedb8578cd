//! The simulator's shared state: the tenant, the configuration, the counters and the fault
//! generator. Locks are held only for synchronous work, never across a sleep.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use sharedbox_file::TenantFile;

use crate::config::SimConfig;
use crate::counters::Counters;
use crate::faults::{ConcurrencyLimiter, Fault, FaultGenerator};
use crate::wire::Item;

/// Everything the routes share.
#[derive(Debug)]
pub struct SimState {
    tenant: Mutex<TenantFile>,
    config: RwLock<SimConfig>,
    counters: Mutex<Counters>,
    faults: Mutex<FaultGenerator>,
    /// Requests in flight per tenant.
    pub(crate) limiter: ConcurrencyLimiter,
    request_ids: AtomicU64,
    /// Every write that changed the tenant, in order.
    changes: Mutex<Vec<Change>>,
    /// Outputs of paged reads, so that a follow-up page is a slice, not a rerun.
    pages: Mutex<HashMap<PageKey, Arc<Vec<Item>>>>,
}

/// A write that changed the tenant: the cmdlet and the `-Identity` it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The cmdlet as the client spelled it.
    pub cmdlet: String,
    /// `-Identity` (`None` for tenant-wide cmdlets such as `Set-OrganizationConfig`).
    pub identity: Option<String>,
}

/// A paged output: tenant segment, cmdlet fingerprint and `$select`.
pub(crate) type PageKey = (String, u64, Option<String>);

/// Paged outputs kept at once (a client pages through a handful of bulk reads).
const PAGED_OUTPUTS: usize = 32;

impl SimState {
    /// State seeded with `tenant`.
    pub fn new(tenant: TenantFile, config: SimConfig) -> Arc<SimState> {
        Arc::new(SimState {
            tenant: Mutex::new(tenant),
            faults: Mutex::new(FaultGenerator::new(config.seed)),
            config: RwLock::new(config),
            counters: Mutex::new(Counters::default()),
            limiter: ConcurrencyLimiter::default(),
            request_ids: AtomicU64::new(1),
            pages: Mutex::new(HashMap::new()),
            changes: Mutex::new(Vec::new()),
        })
    }

    /// The current configuration.
    pub fn config(&self) -> SimConfig {
        self.config.read().expect("config lock").clone()
    }

    /// Replaces the configuration; a new seed restarts the fault sequence.
    pub fn set_config(&self, config: SimConfig) {
        self.faults.lock().expect("fault lock").reseed(config.seed);
        *self.config.write().expect("config lock") = config;
    }

    /// A copy of the counters.
    pub fn counters(&self) -> Counters {
        self.counters.lock().expect("counter lock").clone()
    }

    /// Sets every counter to zero.
    pub fn reset_counters(&self) {
        *self.counters.lock().expect("counter lock") = Counters::default();
    }

    /// Updates the counters.
    pub(crate) fn count(&self, update: impl FnOnce(&mut Counters)) {
        update(&mut self.counters.lock().expect("counter lock"));
    }

    /// A copy of the tenant as it is now.
    pub fn tenant(&self) -> TenantFile {
        self.tenant.lock().expect("tenant lock").clone()
    }

    /// Replaces the tenant.
    pub fn set_tenant(&self, tenant: TenantFile) {
        *self.tenant.lock().expect("tenant lock") = tenant;
        self.forget_pages();
    }

    /// Every write that changed the tenant since the start, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.changes.lock().expect("change lock").clone()
    }

    /// Records a write that changed the tenant: counted, logged, and kept pages dropped
    /// (later pages must show the change).
    pub(crate) fn tenant_changed(&self, change: Change) {
        self.count(|c| c.tenant_changes += 1);
        self.forget_pages();
        self.changes.lock().expect("change lock").push(change);
    }

    /// Whether an admitted request gets a latency spike.
    pub(crate) fn draw_spike(&self, rate: f64) -> bool {
        self.faults.lock().expect("fault lock").spike(rate)
    }

    /// The output a first page was cut from, for its follow-up pages.
    pub(crate) fn paged_output(&self, key: &PageKey) -> Option<Arc<Vec<Item>>> {
        self.pages.lock().expect("page lock").get(key).cloned()
    }

    /// Keeps an output that is served in several pages.
    pub(crate) fn keep_paged_output(&self, key: PageKey, items: Arc<Vec<Item>>) {
        let mut pages = self.pages.lock().expect("page lock");
        if pages.len() >= PAGED_OUTPUTS {
            pages.clear();
        }
        pages.insert(key, items);
    }

    /// Drops the kept outputs of paged reads.
    fn forget_pages(&self) {
        self.pages.lock().expect("page lock").clear();
    }

    /// The tenant, locked for one cmdlet.
    pub(crate) fn lock_tenant(&self) -> MutexGuard<'_, TenantFile> {
        self.tenant.lock().expect("tenant lock")
    }

    /// Draws the fault of one request.
    pub(crate) fn draw_fault(&self, drop_rate: f64, unavailable_rate: f64) -> Fault {
        self.faults
            .lock()
            .expect("fault lock")
            .draw(drop_rate, unavailable_rate)
    }

    /// Whether the answer to this run of `cmdlet` is to be lost (and forgets the entry).
    pub(crate) fn take_lost_response(&self, cmdlet: &str) -> bool {
        let mut config = self.config.write().expect("config lock");
        match config
            .lose_response_of
            .iter()
            .position(|c| c.eq_ignore_ascii_case(cmdlet))
        {
            Some(index) => {
                config.lose_response_of.remove(index);
                true
            }
            None => false,
        }
    }

    /// A fresh `request-id` (GUID-shaped, sequential).
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("5e0a0000-0000-4000-8000-{n:012x}")
    }
}
