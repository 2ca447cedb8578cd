//! A simulator of the Exchange Online admin API (`adminapi/beta/{tenant}/InvokeCommand` and
//! `$batch`) over an in-memory tenant, for tests and benchmarks of the `exo` backend.
//!
//! The tenant is seeded from the same YAML as the file backend
//! ([`TenantFile::parse`]), and every write cmdlet is mapped to a
//! [`sharedbox_tenant::Operation`] and applied with [`TenantFile::apply`], so the simulator
//! and the file backend end in the same state for the same writes. The wire format follows
//! `docs/admin-api.md`, quirks included: annotation keys, Names in
//! `GrantSendOnBehalfTo`, localised folders, warnings instead of errors for idempotent
//! writes, `@odata.nextLink` paging by re-POSTing the same body, `$batch` answered out of
//! order, 403 bodies of NUL bytes for unknown cmdlets. `Set-Mailbox -EmailAddresses` takes
//! the hashtable form with secondary `smtp:` addresses and refuses, like Exchange, an address
//! another recipient holds (`ProxyAddressExistsException`) or outside the accepted domains.
//!
//! Faults are configurable ([`SimConfig`]): latency, per-sub-request batch time, a
//! per-tenant concurrency limit (429 + `Retry-After`), seeded 503s and dropped
//! connections, expired tokens and RBAC by token prefix. [`Counters`] record what was sent.
//!
//! ```no_run
//! # fn main() -> Result<(), sharedbox_exo_sim::SimError> {
//! use sharedbox_exo_sim::{SimConfig, SimServer};
//! # let tenant = sharedbox_file::TenantFile::default();
//! let sim = SimServer::start(tenant, SimConfig::default())?;
//! // point the client at sim.base_url() (e.g. SHAREDBOX_EXO_ENDPOINT), then:
//! assert_eq!(sim.counters().total_writes(), 0);
//! # Ok(()) }
//! ```

pub mod cmdlets;
pub mod config;
pub mod counters;
pub mod faults;
pub mod folders;
pub mod invoke;
pub mod lookup;
pub mod params;
pub mod server;
pub mod state;
pub mod synthetic;
pub mod wire;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub use config::{BatchOrder, Role, SimConfig, UnknownCmdlet, built_in_role};
pub use counters::Counters;
pub use sharedbox_file::TenantFile;
pub use state::{Change, SimState};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding the loopback socket failed.
    #[error("cannot bind {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The address is not a loopback address; the simulator never listens elsewhere.
    #[error("refusing to listen on {0}: the simulator binds loopback addresses only")]
    NotLoopback(SocketAddr),
    /// The server thread or its runtime could not be started.
    #[error("cannot start the simulator: {0}")]
    Start(std::io::Error),
}

/// Starts simulators.
#[derive(Debug)]
pub struct SimServer;

impl SimServer {
    /// Starts a simulator on `127.0.0.1` with an ephemeral port, on its own thread and
    /// runtime (so it works from synchronous and asynchronous tests alike). It stops when
    /// the handle is dropped.
    pub fn start(tenant: TenantFile, config: SimConfig) -> Result<SimHandle, SimError> {
        SimServer::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), tenant, config)
    }

    /// Starts a simulator on a given loopback address (port 0 = ephemeral).
    pub fn start_on(
        address: SocketAddr,
        tenant: TenantFile,
        config: SimConfig,
    ) -> Result<SimHandle, SimError> {
        let listener = bind(address)?;
        let local = listener.local_addr().map_err(SimError::Start)?;
        let state = SimState::new(tenant, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SimError::Start)?;
        let served = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sharedbox-sim-{}", local.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    server::serve(listener, served, async {
                        let _ = stopped.await;
                    })
                    .await
                })
            })
            .map_err(SimError::Start)?;
        Ok(SimHandle {
            address: local,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Binds a non-blocking loopback listener.
pub fn bind(address: SocketAddr) -> Result<std::net::TcpListener, SimError> {
    if !address.ip().is_loopback() {
        return Err(SimError::NotLoopback(address));
    }
    let listener = std::net::TcpListener::bind(address).map_err(|source| SimError::Bind {
        address: address.to_string(),
        source,
    })?;
    listener.set_nonblocking(true).map_err(SimError::Start)?;
    Ok(listener)
}

/// A running simulator; dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct SimHandle {
    address: SocketAddr,
    state: Arc<SimState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`: the base URL the client appends `/adminapi/beta/...` to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The `InvokeCommand` URL for `tenant`.
    pub fn invoke_url(&self, tenant: &str) -> String {
        format!("{}/adminapi/beta/{tenant}/InvokeCommand", self.base_url())
    }

    /// The `$batch` URL for `tenant`.
    pub fn batch_url(&self, tenant: &str) -> String {
        format!("{}/adminapi/beta/{tenant}/$batch", self.base_url())
    }

    /// The socket address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every write that changed the tenant so far, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.state.changes()
    }

    /// What was received so far.
    pub fn counters(&self) -> Counters {
        self.state.counters()
    }

    /// Sets every counter to zero.
    pub fn reset_counters(&self) {
        self.state.reset_counters();
    }

    /// The tenant as it is now (compare with a [`TenantFile`] after `apply`).
    pub fn tenant(&self) -> TenantFile {
        self.state.tenant()
    }

    /// Replaces the tenant.
    pub fn set_tenant(&self, tenant: TenantFile) {
        self.state.set_tenant(tenant);
    }

    /// The current configuration.
    pub fn config(&self) -> SimConfig {
        self.state.config()
    }

    /// Changes the configuration while the server runs.
    pub fn set_config(&self, config: SimConfig) {
        self.state.set_config(config);
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
