//! `sharedbox-sim`: the Exchange Online admin API simulator as a program.
//!
//! ```text
//! sharedbox-sim --tenant examples/contoso/tenant.yaml --listen 127.0.0.1:8787 --page-size 2
//! SHAREDBOX_EXO_ENDPOINT=http://127.0.0.1:8787 SHAREDBOX_ACCESS_TOKEN=x sharedbox plan --tenant exo:contoso.onmicrosoft.com
//! ```
//!
//! It prints `listening on <base URL>` on stdout once it accepts connections, and stops on
//! Ctrl-C. Every [`SimConfig`] field is a flag; `--config FILE` reads a JSON `SimConfig`
//! first, and flags given on the command line override it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use sharedbox_exo_sim::{BatchOrder, Role, SimConfig, TenantFile, UnknownCmdlet, bind, server};

/// Simulates the Exchange Online admin API over a tenant YAML file (loopback only).
#[derive(Debug, Parser)]
#[command(name = "sharedbox-sim", version)]
struct Args {
    /// The tenant file to seed the simulator with (the file backend's format).
    #[arg(long)]
    tenant: PathBuf,
    /// Loopback address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// A JSON `SimConfig` to start from (flags override its fields).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Latency of every request, in milliseconds.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Server time of each `$batch` sub-request, in milliseconds.
    #[arg(long)]
    batch_subrequest_ms: Option<u64>,
    /// Requests in flight per tenant beyond which 429 is answered.
    #[arg(long)]
    concurrency_limit: Option<usize>,
    /// `Retry-After` seconds of a 429.
    #[arg(long)]
    retry_after_secs: Option<u64>,
    /// Fraction (0..1) of requests answered 503.
    #[arg(long)]
    unavailable_rate: Option<f64>,
    /// `Retry-After` seconds of a 503 (none by default).
    #[arg(long)]
    unavailable_retry_after_secs: Option<u64>,
    /// Do not inject 503s into `$batch` sub-requests.
    #[arg(long)]
    no_batch_subrequest_faults: bool,
    /// Fraction (0..1) of connections closed without a response.
    #[arg(long)]
    drop_rate: Option<f64>,
    /// Seed of the fault generator.
    #[arg(long)]
    seed: Option<u64>,
    /// Largest page returned (smaller `Prefer: odata.maxpagesize` wins).
    #[arg(long)]
    page_size: Option<usize>,
    /// Most sub-requests in one `$batch`.
    #[arg(long)]
    max_batch: Option<usize>,
    /// Order of `$batch` sub-responses.
    #[arg(long, value_enum)]
    batch_order: Option<BatchOrder>,
    /// Tokens starting with this are answered 401 as expired.
    #[arg(long)]
    expired_token_prefix: Option<String>,
    /// Never treat a token as expired.
    #[arg(long)]
    no_expired_tokens: bool,
    /// RBAC role `TOKEN_PREFIX=Cmdlet,Get-*,View-Only Recipients,...` (repeatable; built-in
    /// role names stand for their cmdlets).
    #[arg(long = "role", value_parser = Role::parse)]
    roles: Vec<Role>,
    /// Accept hashtable parameters without `"@odata.type": "#Exchange.GenericHashTable"`.
    #[arg(long)]
    no_hashtable_type_check: bool,
    /// How unknown cmdlets are answered.
    #[arg(long, value_enum)]
    unknown_cmdlet: Option<UnknownCmdlet>,
    /// Turn off the wire-format quirks (mixed bool encodings, comma strings, synthetic rows).
    #[arg(long)]
    no_quirks: bool,
    /// Tenant id (GUID) the URL may name; when set, other tenants are refused.
    #[arg(long)]
    tenant_id: Option<String>,
    /// Base URL put into `@odata.nextLink` (default: from the Host header).
    #[arg(long)]
    public_base_url: Option<String>,
    /// Refuse mailbox-bound cmdlets sent without an `X-AnchorMailbox` header.
    #[arg(long)]
    require_anchor_mailbox: bool,
}

impl Args {
    fn sim_config(&self) -> Result<SimConfig, String> {
        let mut c = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not a SimConfig: {e}", path.display()))?
            }
            None => SimConfig::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => {$( if let Some(v) = self.$field.clone() { c.$field = v; } )*};
        }
        set!(
            latency_ms,
            batch_subrequest_ms,
            retry_after_secs,
            seed,
            page_size,
            max_batch
        );
        set!(unavailable_rate, drop_rate, batch_order, unknown_cmdlet);
        if self.concurrency_limit.is_some() {
            c.concurrency_limit = self.concurrency_limit;
        }
        if self.unavailable_retry_after_secs.is_some() {
            c.unavailable_retry_after_secs = self.unavailable_retry_after_secs;
        }
        if self.expired_token_prefix.is_some() {
            c.expired_token_prefix = self.expired_token_prefix.clone();
        }
        if self.no_expired_tokens {
            c.expired_token_prefix = None;
        }
        if self.no_batch_subrequest_faults {
            c.batch_subrequest_faults = false;
        }
        if !self.roles.is_empty() {
            c.roles = self.roles.clone();
        }
        if self.no_hashtable_type_check {
            c.require_hashtable_type = false;
        }
        if self.no_quirks {
            c.quirks = false;
        }
        if self.tenant_id.is_some() {
            c.tenant_id = self.tenant_id.clone();
        }
        if self.require_anchor_mailbox {
            c.require_anchor_mailbox = true;
        }
        if self.public_base_url.is_some() {
            c.public_base_url = self.public_base_url.clone();
        }
        for (name, rate) in [
            ("--unavailable-rate", c.unavailable_rate),
            ("--drop-rate", c.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(c)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = args.sim_config()?;
    let text = std::fs::read_to_string(&args.tenant)
        .map_err(|e| format!("cannot read {}: {e}", args.tenant.display()))?;
    let tenant = TenantFile::parse(&text, &args.tenant).map_err(|e| e.to_string())?;
    let listener = bind(args.listen).map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let state = sharedbox_exo_sim::SimState::new(tenant, config);
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();
    server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}
