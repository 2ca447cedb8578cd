//! What the client tells `--trace` (docs/exchange-online.md, "First contact with your
//! tenant"): every admin API request and answer, retries, throttling decisions, `$batch`
//! sub-requests and token acquisition, as [`tracing`] events of target [`TARGET`].
//!
//! This module is the only place in the crate that emits events, and each of its functions
//! takes only values that may be written: cmdlets, parameters, URL paths (never the host's
//! query string), statuses, timings. None takes a token, a header map or a request builder,
//! so a secret cannot reach a subscriber by accident. A subscriber should still write only
//! the fields listed in [`PLAIN_FIELDS`] and [`TENANT_FIELDS`] (the CLI's trace writer does),
//! and pseudonymise the values of [`TENANT_FIELDS`] when asked to (`--trace-redact`).

use std::time::Duration;

use serde_json::{Map, Value};

/// The target of every event of this crate.
pub const TARGET: &str = "sharedbox::exo";

/// Fields whose values never name tenant data: kinds, counts, timings, statuses, cmdlet and
/// exception names, the endpoint's and the authority's base address.
pub const PLAIN_FIELDS: &[&str] = &[
    "event",
    "request_id",
    "attempt",
    "method",
    "cmdlet",
    "select",
    "batch",
    "sub_id",
    "status",
    "elapsed_ms",
    "bytes",
    "rows",
    "warnings",
    "next_page",
    "reason",
    "wait_ms",
    "retry_after_ms",
    "limit",
    "exception",
    "transport",
    "cause",
    "address",
    "auth_method",
    "outcome",
    "expires_in_s",
];

/// Fields whose values may name tenant data (the tenant in URL paths, mailboxes and
/// principals in parameters and anchors, Exchange's error texts): pseudonymised by
/// `--trace-redact`.
pub const TENANT_FIELDS: &[&str] = &["path", "parameters", "anchor", "message"];

/// The path of `url`, without scheme, host, query or fragment.
pub(crate) fn path_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn json(parameters: &Map<String, Value>) -> String {
    serde_json::to_string(parameters).unwrap_or_default()
}

/// An HTTP request is about to be sent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn request(
    request_id: &str,
    attempt: u32,
    method: &'static str,
    url: &str,
    cmdlet: &str,
    parameters: &Map<String, Value>,
    select: &[&str],
    anchor: Option<&str>,
    batch: usize,
) {
    tracing::info!(
        target: TARGET,
        event = "request",
        request_id,
        attempt,
        method,
        path = path_of(url).as_str(),
        cmdlet,
        parameters = json(parameters).as_str(),
        select = select.join(",").as_str(),
        anchor = anchor.unwrap_or_default(),
        batch,
    );
}

/// One sub-request of a `$batch` (sent inside the request of the same `request_id`).
pub(crate) fn sub_request(
    request_id: &str,
    sub_id: usize,
    url: &str,
    cmdlet: &str,
    parameters: &Map<String, Value>,
    anchor: Option<&str>,
) {
    tracing::info!(
        target: TARGET,
        event = "sub_request",
        request_id,
        sub_id,
        method = "POST",
        path = path_of(url).as_str(),
        cmdlet,
        parameters = json(parameters).as_str(),
        anchor = anchor.unwrap_or_default(),
    );
}

/// An HTTP answer arrived (any status).
pub(crate) fn answer(
    request_id: &str,
    attempt: u32,
    cmdlet: &str,
    status: u16,
    elapsed: Duration,
    bytes: usize,
) {
    tracing::info!(
        target: TARGET,
        event = "answer",
        request_id,
        attempt,
        cmdlet,
        status,
        elapsed_ms = millis(elapsed),
        bytes,
    );
}

/// A page of output was read (of a request or of a `$batch` sub-response).
pub(crate) fn page(request_id: &str, cmdlet: &str, rows: usize, warnings: usize, next: bool) {
    tracing::debug!(
        target: TARGET,
        event = "page",
        request_id,
        cmdlet,
        rows,
        warnings,
        next_page = next,
    );
}

/// The answer of one sub-request of a `$batch`.
pub(crate) fn sub_answer(request_id: &str, sub_id: usize, cmdlet: &str, status: u16) {
    tracing::info!(
        target: TARGET,
        event = "sub_answer",
        request_id,
        sub_id,
        cmdlet,
        status,
    );
}

/// An error answer: its status, exception name and text.
pub(crate) fn error_answer(
    request_id: &str,
    cmdlet: &str,
    status: u16,
    exception: &str,
    message: &str,
) {
    tracing::warn!(
        target: TARGET,
        event = "error_answer",
        request_id,
        cmdlet,
        status,
        exception,
        message,
    );
}

/// No answer: the connection failed, timed out or closed; `cause` is the innermost error
/// (`Connection refused`, a TLS alert), which names no tenant data.
pub(crate) fn transport_error(
    request_id: &str,
    attempt: u32,
    cmdlet: &str,
    address: &str,
    elapsed: Duration,
    transport: &str,
    cause: &str,
) {
    tracing::warn!(
        target: TARGET,
        event = "transport_error",
        request_id,
        attempt,
        cmdlet,
        address,
        elapsed_ms = millis(elapsed),
        transport,
        cause,
    );
}

/// A decision to send a request again: why, after how long, and the concurrency limit now.
pub(crate) fn retry(
    request_id: &str,
    cmdlet: &str,
    attempt: u32,
    reason: &str,
    wait: Duration,
    retry_after: Option<Duration>,
    limit: usize,
) {
    tracing::info!(
        target: TARGET,
        event = "retry",
        request_id,
        cmdlet,
        attempt,
        reason,
        wait_ms = millis(wait),
        retry_after_ms = retry_after.map(millis),
        limit,
    );
}

/// The adaptive concurrency limit changed.
pub(crate) fn limit(reason: &str, limit: usize) {
    tracing::info!(target: TARGET, event = "limit", reason, limit);
}

/// A token was obtained or refused, or dropped after a 401 (`outcome` `invalidated`).
pub(crate) fn token(
    auth_method: &str,
    outcome: &str,
    address: &str,
    elapsed: Duration,
    expires_in: Option<i64>,
    message: &str,
) {
    tracing::info!(
        target: TARGET,
        event = "token",
        auth_method,
        outcome,
        address,
        elapsed_ms = millis(elapsed),
        expires_in_s = expires_in,
        message,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_drop_host_query_and_fragment() {
        assert_eq!(
            path_of(
                "https://outlook.office365.com/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?$select=Name#x"
            ),
            "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand"
        );
        assert_eq!(path_of("not a url"), "");
    }

    #[test]
    fn the_two_field_lists_do_not_overlap() {
        for field in TENANT_FIELDS {
            assert!(!PLAIN_FIELDS.contains(field), "{field}");
        }
    }
}
