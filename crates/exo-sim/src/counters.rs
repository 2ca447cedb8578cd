//! What the simulator received and how it answered, for tests and benchmarks
//! (`GET /sim/counters`, [`crate::SimHandle::counters`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counts since start (or since the last reset). Cmdlet names are canonical
/// (`Get-Mailbox`, whatever the case the client sent); unknown cmdlets count under the
/// name as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// HTTP requests to the admin API (`InvokeCommand`, `$batch`, anything under `/adminapi`).
    pub http_requests: u64,
    /// Cmdlet invocations received per cmdlet: direct ones and `$batch` sub-requests,
    /// every page of a paged read, and requests later refused (429, 503, dropped, 403).
    pub cmdlets: BTreeMap<String, u64>,
    /// The part of [`Counters::cmdlets`] that are write cmdlets.
    pub writes: BTreeMap<String, u64>,
    /// Write cmdlets that ran and changed the tenant.
    pub tenant_changes: u64,
    /// `$batch` requests.
    pub batches: u64,
    /// Sub-requests inside `$batch` requests.
    pub batch_subrequests: u64,
    /// Responses with `@odata.nextLink` (a further page exists).
    pub paged_responses: u64,
    /// 429 answers (concurrency limit).
    pub throttled: u64,
    /// 503 answers (injected), sub-responses included.
    pub unavailable: u64,
    /// Connections closed without a response.
    pub dropped: u64,
    /// 401 answers (no, empty or expired bearer token).
    pub unauthorized: u64,
    /// 403 answers (RBAC or unknown cmdlet), sub-responses included.
    pub forbidden: u64,
    /// Cmdlet errors (4xx/5xx envelopes from running a cmdlet), sub-responses included.
    pub cmdlet_errors: u64,
}

impl Counters {
    /// Invocations of `cmdlet` received.
    pub fn cmdlet(&self, cmdlet: &str) -> u64 {
        self.cmdlets.get(cmdlet).copied().unwrap_or(0)
    }

    /// Write invocations received, all cmdlets together.
    pub fn total_writes(&self) -> u64 {
        self.writes.values().sum()
    }

    pub(crate) fn received(&mut self, cmdlet: &str, is_write: bool) {
        *self.cmdlets.entry(cmdlet.to_owned()).or_default() += 1;
        if is_write {
            *self.writes.entry(cmdlet.to_owned()).or_default() += 1;
        }
    }
}
