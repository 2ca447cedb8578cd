//! The HTTP client of the admin API: `InvokeCommand` with paging, `$batch` of at most ten,
//! retries, `Retry-After`, adaptive concurrency and token refresh (reference §2-§7).
//!
//! Retry rules:
//! - 429 and the "maximum number of concurrent requests" text: the request was refused at
//!   the gate, so any command is retried after `Retry-After` (seconds or an HTTP date),
//!   else exponential backoff with jitter; the concurrency limit is lowered.
//! - 5xx, transient exception names, dropped connections and timeouts: only commands
//!   marked [`Retry::Safe`] (reads and idempotent writes) are retried. Others fail with
//!   [`ExoError::Transient`] and `maybe_applied`, so that the caller re-reads first.
//! - 401: the token is dropped and fetched again, once per call.
//!
//! Every logical call keeps one `client-request-id` across its retries.
//!
//! Failing fast: a connection (TCP and TLS) must be up within [`CONNECT_TIMEOUT`]. Until
//! the endpoint has answered once, a failed connection is final (a wrong or unreachable
//! endpoint does not get better with retries); after that it is a transient failure like
//! any other. Every request, answer and retry decision is reported to [`crate::trace`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value, json};

use crate::auth::TokenSource;
use crate::error::{Class, ExoError, final_error};
use crate::limiter::Limiter;
use crate::trace;
use crate::wire::{self, Page, Row};

/// How long the TCP connection and the TLS handshake may take together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The org "discovery" arbitration mailbox every client routes tenant-level cmdlets to.
const SYSTEM_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// The most sub-requests one `$batch` may carry.
pub const MAX_BATCH: usize = 10;

/// How the client behaves; the defaults suit Exchange Online (docs/exchange-online.md,
/// "Concurrency, batches and timeouts", gives the evidence for each).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests in flight at most (the adaptive limit never exceeds it).
    pub max_concurrency: usize,
    /// Requests in flight at the start.
    pub initial_concurrency: usize,
    /// `Prefer: odata.maxpagesize` (1..=1000).
    pub page_size: u32,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first backoff; it doubles per attempt (with jitter).
    pub backoff: Duration,
    /// The longest wait for one `Retry-After` or backoff.
    pub max_wait: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            // CIPP's mailbox fan-out limit; the module also sends `$batch`es of ten.
            max_concurrency: 10,
            // A small start (guidance: 3-5 in flight per tenant); the limiter grows it
            // while Exchange does not push back.
            initial_concurrency: 3,
            page_size: 1000,
            max_attempts: 6,
            backoff: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            // The module's HTTP timeout: Exchange ends a REST cmdlet after 15 minutes, and a
            // client that gives up earlier turns a slow write into an unknown outcome.
            request_timeout: Duration::from_secs(960),
        }
    }
}

/// Whether a command may be sent again after an answer that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads and idempotent writes.
    Safe,
    /// `New-Mailbox` and other writes that must not run twice: re-read instead.
    Never,
}

/// One cmdlet call.
#[derive(Debug, Clone)]
pub struct Command {
    /// The cmdlet, e.g. `Get-Mailbox`.
    pub cmdlet: &'static str,
    /// Its parameters, as JSON values (never spliced into strings).
    pub parameters: Map<String, Value>,
    /// `$select`: the output properties wanted.
    pub select: &'static [&'static str],
    /// The mailbox the cmdlet acts on, for `X-AnchorMailbox` routing.
    pub anchor: Option<String>,
    /// Whether it may be retried blindly.
    pub retry: Retry,
}

impl Command {
    /// A read (retried freely).
    pub fn read(cmdlet: &'static str) -> Command {
        Command {
            cmdlet,
            parameters: Map::new(),
            select: &[],
            anchor: None,
            retry: Retry::Safe,
        }
    }

    /// A write; `Confirm: false` is always sent.
    pub fn write(cmdlet: &'static str, retry: Retry) -> Command {
        let mut command = Command::read(cmdlet);
        command.retry = retry;
        command
            .parameters
            .insert("Confirm".to_owned(), Value::Bool(false));
        command
    }

    /// Adds a parameter.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Command {
        self.parameters.insert(name.to_owned(), value.into());
        self
    }

    /// Sets `$select`.
    pub fn select(mut self, properties: &'static [&'static str]) -> Command {
        self.select = properties;
        self
    }

    /// Routes the call to a mailbox (`X-AnchorMailbox: SMTP:<address>`).
    pub fn anchored(mut self, mailbox: &str) -> Command {
        self.anchor = Some(mailbox.to_owned());
        self
    }

    fn body(&self) -> Value {
        json!({"CmdletInput": {"CmdletName": self.cmdlet, "Parameters": self.parameters}})
    }
}

/// Where a streamed command's rows go: its index among the commands and the receiver.
type Sink<'a> = (usize, &'a (dyn Fn(usize, Vec<Row>) + Sync));

/// What a cmdlet produced, all pages together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The output objects.
    pub rows: Vec<Row>,
    /// The warnings.
    pub warnings: Vec<String>,
}

/// Statistics of a client's traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests sent (each `$batch` counts once).
    pub requests: u64,
    /// Retries after throttling.
    pub throttled: u64,
    /// Retries after transient failures.
    pub retried: u64,
}

/// The admin API client of one tenant.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    tenant: String,
    tokens: Arc<dyn TokenSource>,
    limiter: Limiter,
    options: ClientOptions,
    requests: AtomicU64,
    throttled: AtomicU64,
    retried: AtomicU64,
    seed: AtomicU64,
    /// Whether the endpoint has answered at least once.
    reached: AtomicBool,
    /// Why the endpoint could not be reached before it ever answered: requests waiting for
    /// a slot then fail at once instead of each waiting for its own connect timeout.
    unreachable: std::sync::Mutex<Option<String>>,
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Checks an endpoint: HTTPS, or HTTP to a loopback address only; a base URL without
/// user name, password, query string or fragment (the client appends paths to it).
pub fn check_endpoint(endpoint: &str) -> Result<String, ExoError> {
    let url = reqwest::Url::parse(endpoint).map_err(|e| ExoError::Config {
        message: format!("the admin API endpoint `{endpoint}` is not a URL: {e}"),
        hint: Some("use a base URL such as `https://outlook.office365.com`".to_owned()),
    })?;
    let base_only = || {
        Some(format!(
            "use the base URL only, e.g. `{}://{}`; sharedbox appends `/adminapi/...` to it",
            url.scheme(),
            url.host_str().unwrap_or("outlook.office365.com")
        ))
    };
    if !url.username().is_empty() || url.password().is_some() {
        // The text after `@` only: a password in the URL is not repeated.
        return Err(ExoError::Config {
            message: format!(
                "the admin API endpoint for `{}` has a user name or password in it; credentials come from `tenant.auth` only",
                url.host_str().unwrap_or_default()
            ),
            hint: base_only(),
        });
    }
    if let Some(query) = url.query() {
        return Err(ExoError::Config {
            message: format!(
                "the admin API endpoint `{endpoint}` has a query string (`?{query}`), which would end up in the middle of every request URL"
            ),
            hint: base_only(),
        });
    }
    if url.fragment().is_some() || endpoint.contains('#') {
        return Err(ExoError::Config {
            message: format!("the admin API endpoint `{endpoint}` has a fragment (`#...`)"),
            hint: base_only(),
        });
    }
    let loopback = crate::cloud::is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        scheme => {
            return Err(ExoError::Config {
                message: format!(
                    "refusing to send tokens to `{endpoint}`: `{scheme}` is allowed for loopback addresses only"
                ),
                hint: Some("use an `https://` endpoint".to_owned()),
            });
        }
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

impl Client {
    /// A client of `tenant` (GUID or initial domain) at `base` (e.g.
    /// `https://outlook.office365.com`).
    pub fn new(
        base: &str,
        tenant: &str,
        tokens: Arc<dyn TokenSource>,
        options: ClientOptions,
    ) -> Result<Client, ExoError> {
        let base = check_endpoint(base)?;
        if tenant.trim().is_empty() || tenant.contains(['/', '?', '#', ' ']) {
            return Err(ExoError::Config {
                message: format!("`{tenant}` is not a tenant id or domain"),
                hint: Some(
                    "use the tenant's GUID or its initial domain, e.g. `contoso.onmicrosoft.com`"
                        .to_owned(),
                ),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("sharedbox/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| ExoError::Config {
                message: format!("cannot set up HTTPS: {e}"),
                hint: None,
            })?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed)
            | 1;
        Ok(Client {
            http,
            base,
            tenant: tenant.trim().to_owned(),
            tokens,
            limiter: Limiter::new(options.initial_concurrency, options.max_concurrency),
            options,
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            seed: AtomicU64::new(seed),
            reached: AtomicBool::new(false),
            unreachable: std::sync::Mutex::new(None),
        })
    }

    /// The most requests this client keeps in flight.
    pub fn max_concurrency(&self) -> usize {
        self.options.max_concurrency
    }

    /// The tenant as it appears in URLs.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token source.
    pub fn tokens(&self) -> &Arc<dyn TokenSource> {
        &self.tokens
    }

    /// Traffic so far.
    pub fn stats(&self) -> Stats {
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }

    fn invoke_url(&self, select: &[&str]) -> String {
        let mut url = format!("{}/adminapi/beta/{}/InvokeCommand", self.base, self.tenant);
        if !select.is_empty() {
            url.push_str("?$select=");
            url.push_str(&select.join(","));
        }
        url
    }

    fn random(&self) -> u64 {
        let mut x = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    fn request_id(&self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    fn anchor(&self, command: &Command) -> String {
        match &command.anchor {
            Some(mailbox) => format!("SMTP:{mailbox}"),
            None => format!("APP:{SYSTEM_MAILBOX}@{}", self.tenant),
        }
    }

    fn headers(&self, command: &Command, request_id: &str) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("Content-Type", "application/json; charset=utf-8".to_owned()),
            ("Accept", "application/json".to_owned()),
            (
                "Prefer",
                format!(
                    "odata.maxpagesize={}",
                    self.options.page_size.clamp(1, 1000)
                ),
            ),
            ("X-AnchorMailbox", self.anchor(command)),
            ("X-CmdletName", command.cmdlet.to_owned()),
            ("X-ResponseFormat", "json".to_owned()),
            ("X-ClientApplication", "sharedbox".to_owned()),
            ("client-request-id", request_id.to_owned()),
        ];
        if command.anchor.is_some() {
            headers.push(("parameter-based-routing", "true".to_owned()));
        }
        headers
    }

    /// How long to wait before attempt `attempt` (1-based retry count).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .options
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(10));
        let jitter = 0.5 + (self.random() % 1000) as f64 / 2000.0;
        exp.mul_f64(jitter).min(self.options.max_wait)
    }

    fn retry_after(&self, headers: &HeaderMap) -> Option<Duration> {
        let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
        parse_retry_after(value, time::OffsetDateTime::now_utc())
            .map(|d| d.min(self.options.max_wait))
    }

    /// POSTs `body` to `url` with retries; returns the first answer that is a success or
    /// a final error. `Err` only for transport failures and exhausted retries. `batch` is
    /// the number of sub-requests of a `$batch` (0 otherwise), for the trace.
    async fn post(
        &self,
        url: &str,
        body: &Value,
        command: &Command,
        request_id: &str,
        batch: usize,
    ) -> Result<Answer, ExoError> {
        let mut attempt = 0;
        let mut refreshed = false;
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        loop {
            attempt += 1;
            let token = self
                .tokens
                .token()
                .await
                .map_err(|e| ExoError::Auth(e.message, e.hint))?;
            let permit = self.limiter.acquire().await;
            if let Some(message) = self.unreachable() {
                return Err(ExoError::Unreachable {
                    address: self.base.clone(),
                    message,
                });
            }
            let mut request = self
                .http
                .post(url)
                .timeout(self.options.request_timeout)
                .bearer_auth(token.secret())
                .body(bytes.clone());
            drop(token);
            for (name, value) in self.headers(command, request_id) {
                request = request.header(name, value);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            trace::request(
                request_id,
                attempt,
                "POST",
                url,
                command.cmdlet,
                &command.parameters,
                command.select,
                command.anchor.as_deref(),
                batch,
            );
            let started = Instant::now();
            let sent = request.send().await;
            let answer = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(body) => Ok(Answer {
                            status,
                            headers,
                            body: body.to_vec(),
                        }),
                        // An error answer whose body cannot be read (the 403 of NUL bytes
                        // declared gzip): the status says enough.
                        Err(_) if status >= 400 => Ok(Answer {
                            status,
                            headers,
                            body: Vec::new(),
                        }),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            drop(permit);
            let answer = match answer {
                Ok(answer) => answer,
                Err(error) => {
                    let failure = self.transport_failure(&error);
                    trace::transport_error(
                        request_id,
                        attempt,
                        command.cmdlet,
                        &self.base,
                        started.elapsed(),
                        failure.kind,
                        &failure.message,
                    );
                    // Before the endpoint has ever answered, a failed connection means a
                    // wrong or unreachable endpoint: say so now instead of after retries.
                    if error.is_connect() && !self.reached.load(Ordering::Relaxed) {
                        *self.unreachable.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(failure.message.clone());
                        return Err(ExoError::Unreachable {
                            address: self.base.clone(),
                            message: failure.message,
                        });
                    }
                    if command.retry == Retry::Safe && attempt < self.options.max_attempts {
                        self.retried.fetch_add(1, Ordering::Relaxed);
                        let wait = self.backoff(attempt);
                        trace::retry(
                            request_id,
                            command.cmdlet,
                            attempt,
                            failure.kind,
                            wait,
                            None,
                            self.limiter.limit(),
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ExoError::Transient {
                        cmdlet: command.cmdlet.to_owned(),
                        message: failure.message,
                        maybe_applied: command.retry == Retry::Never,
                    });
                }
            };
            self.reached.store(true, Ordering::Relaxed);
            trace::answer(
                request_id,
                attempt,
                command.cmdlet,
                answer.status,
                started.elapsed(),
                answer.body.len(),
            );
            if (200..300).contains(&answer.status) {
                self.succeeded();
                return Ok(answer);
            }
            let error = wire::parse_error(&answer.body);
            trace::error_answer(
                request_id,
                command.cmdlet,
                answer.status,
                &error.exception,
                &error.message,
            );
            match crate::error::classify(answer.status, &error) {
                Class::Throttled if attempt < self.options.max_attempts => {
                    self.throttled();
                    let retry_after = self.retry_after(&answer.headers);
                    let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                    trace::retry(
                        request_id,
                        command.cmdlet,
                        attempt,
                        "throttled",
                        wait,
                        retry_after,
                        self.limiter.limit(),
                    );
                    tokio::time::sleep(wait).await;
                }
                Class::Throttled => {
                    return Err(ExoError::Throttled {
                        cmdlet: command.cmdlet.to_owned(),
                        attempts: attempt,
                        retry_after: self.retry_after(&answer.headers),
                    });
                }
                Class::Unauthorized if !refreshed => {
                    refreshed = true;
                    attempt -= 1;
                    self.invalidate_token();
                    trace::retry(
                        request_id,
                        command.cmdlet,
                        attempt,
                        "unauthorized",
                        Duration::ZERO,
                        None,
                        self.limiter.limit(),
                    );
                }
                Class::Unauthorized => {
                    return Err(ExoError::Unauthorized {
                        message: error.message,
                    });
                }
                Class::Transient
                    if command.retry == Retry::Safe && attempt < self.options.max_attempts =>
                {
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    let retry_after = self.retry_after(&answer.headers);
                    let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                    trace::retry(
                        request_id,
                        command.cmdlet,
                        attempt,
                        "transient",
                        wait,
                        retry_after,
                        self.limiter.limit(),
                    );
                    tokio::time::sleep(wait).await;
                }
                Class::Transient => {
                    return Err(ExoError::Transient {
                        cmdlet: command.cmdlet.to_owned(),
                        message: format!("HTTP {}: {}", answer.status, error.message),
                        maybe_applied: command.retry == Retry::Never,
                    });
                }
                Class::Final => return Ok(answer),
            }
        }
    }

    /// Why the endpoint is unreachable, when it has never answered and a connection failed.
    fn unreachable(&self) -> Option<String> {
        if self.reached.load(Ordering::Relaxed) {
            return None;
        }
        self.unreachable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A success: the limiter may grow (traced when the limit changes).
    fn succeeded(&self) {
        let before = self.limiter.limit();
        self.limiter.succeeded();
        let after = self.limiter.limit();
        if after != before {
            trace::limit("succeeded", after);
        }
    }

    /// A throttling answer: counted, and the limiter cut (traced when the limit changes).
    fn throttled(&self) {
        let before = self.limiter.limit();
        self.limiter.throttled();
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let after = self.limiter.limit();
        if after != before {
            trace::limit("throttled", after);
        }
    }

    /// Drops the token after a 401, telling the trace.
    fn invalidate_token(&self) {
        self.tokens.invalidate();
        trace::token(
            self.tokens.method(),
            "invalidated",
            "",
            Duration::ZERO,
            None,
            "the admin API answered 401",
        );
    }

    /// What a transport error means, naming the endpoint (never the full URL: no path, no
    /// query) and the innermost cause (`Connection refused`, a TLS alert, ...).
    fn transport_failure(&self, error: &reqwest::Error) -> Failure {
        let cause = root_cause(error);
        let address = &self.base;
        if error.is_connect() && (error.is_timeout() || cause.contains("timed out")) {
            Failure {
                kind: "connect-timeout",
                message: format!(
                    "no connection (TCP and TLS) within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            }
        } else if error.is_connect() {
            Failure {
                kind: "connect",
                message: cause,
            }
        } else if error.is_timeout() {
            Failure {
                kind: "timeout",
                message: format!(
                    "`{address}` sent no complete answer within {} s",
                    self.options.request_timeout.as_secs()
                ),
            }
        } else {
            Failure {
                kind: "closed",
                message: format!(
                    "the connection to `{address}` closed before an answer came: {cause}"
                ),
            }
        }
    }

    /// Runs one cmdlet through `InvokeCommand`, following `@odata.nextLink` to the end.
    pub async fn invoke(&self, command: &Command) -> Result<Output, ExoError> {
        self.invoke_into(command, None).await
    }

    /// [`Client::invoke`], each page's rows handed to `sink` when there is one.
    async fn invoke_into(
        &self,
        command: &Command,
        sink: Option<Sink<'_>>,
    ) -> Result<Output, ExoError> {
        let url = self.invoke_url(command.select);
        self.invoke_at(command, &url, sink).await
    }

    async fn invoke_at(
        &self,
        command: &Command,
        first: &str,
        sink: Option<Sink<'_>>,
    ) -> Result<Output, ExoError> {
        let request_id = self.request_id();
        let body = command.body();
        let mut output = Output::default();
        let mut url = first.to_owned();
        loop {
            let answer = self.post(&url, &body, command, &request_id, 0).await?;
            if !(200..300).contains(&answer.status) {
                return Err(final_error(
                    command.cmdlet,
                    answer.status,
                    wire::parse_error(&answer.body),
                ));
            }
            let page = wire::parse_page(&answer.body);
            drop(answer);
            trace::page(
                &request_id,
                command.cmdlet,
                page.rows.len(),
                page.warnings.len(),
                page.next_link.is_some(),
            );
            match self.absorb(&mut output, page, sink)? {
                Some(next) => url = next,
                None => return Ok(output),
            }
        }
    }

    /// Adds a page to `output` (its rows to the sink when there is one); returns where the
    /// next page is.
    fn absorb(
        &self,
        output: &mut Output,
        page: Page,
        sink: Option<Sink<'_>>,
    ) -> Result<Option<String>, ExoError> {
        match sink {
            Some((i, sink)) => sink(i, page.rows),
            None => output.rows.extend(page.rows),
        }
        output.warnings.extend(page.warnings);
        match page.next_link {
            Some(next) => Ok(Some(self.check_next_link(&next)?)),
            None => Ok(None),
        }
    }

    /// A nextLink must stay on the endpoint the client was given (tokens go there).
    fn check_next_link(&self, next: &str) -> Result<String, ExoError> {
        let same_origin = |a: &str, b: &str| {
            let (Ok(a), Ok(b)) = (reqwest::Url::parse(a), reqwest::Url::parse(b)) else {
                return false;
            };
            a.scheme() == b.scheme()
                && a.host_str().map(str::to_ascii_lowercase)
                    == b.host_str().map(str::to_ascii_lowercase)
                && a.port_or_known_default() == b.port_or_known_default()
        };
        if same_origin(next, &self.base) {
            Ok(next.to_owned())
        } else {
            Err(ExoError::Config {
                message: format!(
                    "the admin API sent a next-page link to another host (`{}`); not following it with the access token",
                    reqwest::Url::parse(next)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
                hint: Some("set `SHAREDBOX_EXO_ENDPOINT` or `tenant.endpoint` to the host the tenant is served from".to_owned()),
            })
        }
    }

    /// The cmdlets this identity may run (`GET .../adminapi/v1.0/{tenant}/EXOModuleFile`
    /// with `CommandName: *`), as the ExchangeOnlineManagement module discovers them.
    pub async fn exported_cmdlets(&self) -> Result<Vec<String>, ExoError> {
        let url = format!(
            "{}/adminapi/v1.0/{}/EXOModuleFile?Version=3.9.2",
            self.base, self.tenant
        );
        let mut refreshed = false;
        let request_id = self.request_id();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self
                .tokens
                .token()
                .await
                .map_err(|e| ExoError::Auth(e.message, e.hint))?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            trace::request(
                &request_id,
                attempt,
                "GET",
                &url,
                "EXOModuleFile",
                &Map::new(),
                &[],
                None,
                0,
            );
            let started = Instant::now();
            let response = self
                .http
                .get(&url)
                .timeout(self.options.request_timeout)
                .bearer_auth(token.secret())
                .header("CommandName", "*")
                .header("X-ClientApplication", "sharedbox")
                .send()
                .await
                .map_err(|e| {
                    let failure = self.transport_failure(&e);
                    trace::transport_error(
                        &request_id,
                        attempt,
                        "EXOModuleFile",
                        &self.base,
                        started.elapsed(),
                        failure.kind,
                        &failure.message,
                    );
                    if e.is_connect() {
                        ExoError::Unreachable {
                            address: self.base.clone(),
                            message: failure.message,
                        }
                    } else {
                        ExoError::Transient {
                            cmdlet: "EXOModuleFile".to_owned(),
                            message: failure.message,
                            maybe_applied: false,
                        }
                    }
                })?;
            drop(token);
            self.reached.store(true, Ordering::Relaxed);
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            trace::answer(
                &request_id,
                attempt,
                "EXOModuleFile",
                status,
                started.elapsed(),
                body.len(),
            );
            if status == 401 && !refreshed {
                refreshed = true;
                self.invalidate_token();
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(match status {
                    401 => ExoError::Unauthorized {
                        message: wire::parse_error(&body).message,
                    },
                    _ => final_error("EXOModuleFile", status, wire::parse_error(&body)),
                });
            }
            let page = wire::parse_page(&body);
            return Ok(page
                .rows
                .iter()
                .flat_map(|row| row.strings("exportedCmdlets", true))
                .collect());
        }
    }

    /// Runs many cmdlets in `$batch` requests of at most ten, the batches concurrently.
    /// Results come back in the order of `commands`. Sub-requests that were throttled or
    /// failed transiently are retried on their own (reads and idempotent writes only);
    /// commands that must never be retried are sent on their own, not in a batch.
    pub async fn batch(&self, commands: &[Command]) -> Vec<Result<Output, ExoError>> {
        self.batch_into(commands, None).await
    }

    /// [`Client::batch`] for bulk reads: each page's rows go to `sink` with the index of its
    /// command as soon as the page is read (in page order per command), so that a caller
    /// can turn them into its own values and drop them; the outputs have warnings only.
    /// A command's rows are final only when its result is `Ok`.
    pub async fn batch_streamed(
        &self,
        commands: &[Command],
        sink: &(dyn Fn(usize, Vec<Row>) + Sync),
    ) -> Vec<Result<Output, ExoError>> {
        self.batch_into(commands, Some(sink)).await
    }

    async fn batch_into(
        &self,
        commands: &[Command],
        sink: Option<&(dyn Fn(usize, Vec<Row>) + Sync)>,
    ) -> Vec<Result<Output, ExoError>> {
        let mut results: Vec<Option<Result<Output, ExoError>>> = vec![None; commands.len()];
        let (safe, unsafe_): (Vec<usize>, Vec<usize>) =
            (0..commands.len()).partition(|&i| commands[i].retry == Retry::Safe);
        let single = join_all(unsafe_.iter().map(|&i| async move {
            vec![(
                i,
                self.invoke_into(&commands[i], sink.map(|s| (i, s))).await,
            )]
        }));
        let batched = join_all(
            safe.chunks(MAX_BATCH)
                .map(|chunk| self.run_batch(commands, chunk, sink)),
        );
        let (single, batched) = futures::join!(single, batched);
        for (i, result) in single.into_iter().chain(batched).flatten() {
            results[i] = Some(result);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ExoError::Transient {
                        cmdlet: "$batch".to_owned(),
                        message: "no answer".to_owned(),
                        maybe_applied: false,
                    })
                })
            })
            .collect()
    }

    /// One `$batch` of up to ten retry-safe commands.
    async fn run_batch(
        &self,
        commands: &[Command],
        chunk: &[usize],
        sink: Option<&(dyn Fn(usize, Vec<Row>) + Sync)>,
    ) -> Vec<(usize, Result<Output, ExoError>)> {
        if chunk.len() == 1 {
            let i = chunk[0];
            return vec![(
                i,
                self.invoke_into(&commands[i], sink.map(|s| (i, s))).await,
            )];
        }
        let token = match self.tokens.token().await {
            Ok(token) => token,
            Err(e) => {
                return chunk
                    .iter()
                    .map(|&i| (i, Err(ExoError::Auth(e.message.clone(), e.hint.clone()))))
                    .collect();
            }
        };
        let request_id = self.request_id();
        let requests: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let command = &commands[i];
                let url = self.invoke_url(command.select);
                trace::sub_request(
                    &request_id,
                    n,
                    &url,
                    command.cmdlet,
                    &command.parameters,
                    command.anchor.as_deref(),
                );
                let mut headers = Map::new();
                for (name, value) in self.headers(command, &request_id) {
                    headers.insert(name.to_owned(), Value::String(value));
                }
                headers.insert(
                    "Authorization".to_owned(),
                    Value::String(format!("Bearer {}", token.secret())),
                );
                json!({
                    "id": n.to_string(),
                    "method": "POST",
                    "url": url,
                    "headers": headers,
                    "body": command.body(),
                })
            })
            .collect();
        let url = format!("{}/adminapi/beta/{}/$batch", self.base, self.tenant);
        let outer = Command::read("$batch");
        let answer = self
            .post(
                &url,
                &json!({ "requests": requests }),
                &outer,
                &request_id,
                chunk.len(),
            )
            .await;
        drop(token);
        let responses = match answer {
            Ok(answer) if (200..300).contains(&answer.status) => {
                match serde_json::from_slice::<Value>(&answer.body) {
                    Ok(body) => sub_responses(body),
                    Err(_) => Vec::new(),
                }
            }
            // The batch as a whole failed: send each command on its own.
            _ => Vec::new(),
        };
        // Each sub-response to the command of its id; further pages, retries and commands
        // without an answer are then followed for all commands of the batch at once.
        let mut answered: Vec<Option<SubResponse>> = chunk.iter().map(|_| None).collect();
        for response in responses {
            if let Some((n, &i)) = response
                .id
                .parse::<usize>()
                .ok()
                .and_then(|n| chunk.get(n).map(|i| (n, i)))
            {
                trace::sub_answer(&request_id, n, commands[i].cmdlet, response.status);
            }
            if let Some(slot) = response
                .id
                .parse::<usize>()
                .ok()
                .and_then(|n| answered.get_mut(n))
            {
                slot.get_or_insert(response);
            }
        }
        let followed = chunk.iter().zip(answered).map(|(&i, response)| async move {
            (
                i,
                self.finish_sub_response(&commands[i], response, sink.map(|s| (i, s)))
                    .await,
            )
        });
        join_all(followed).await
    }

    /// The output of one command of a `$batch` from its sub-response: the first page
    /// plus the pages after it, or a retry on its own when it was throttled, failed
    /// transiently or got no answer.
    async fn finish_sub_response(
        &self,
        command: &Command,
        response: Option<SubResponse>,
        sink: Option<Sink<'_>>,
    ) -> Result<Output, ExoError> {
        let Some(response) = response else {
            return self.invoke_into(command, sink).await;
        };
        if (200..300).contains(&response.status) {
            let mut output = Output::default();
            let page = wire::page_of(response.body);
            trace::page(
                "",
                command.cmdlet,
                page.rows.len(),
                page.warnings.len(),
                page.next_link.is_some(),
            );
            return match self.absorb(&mut output, page, sink)? {
                Some(next) => {
                    let rest = self.invoke_at(command, &next, sink).await?;
                    output.rows.extend(rest.rows);
                    output.warnings.extend(rest.warnings);
                    Ok(output)
                }
                None => Ok(output),
            };
        }
        let body = serde_json::to_vec(&response.body).unwrap_or_default();
        let error = wire::parse_error(&body);
        trace::error_answer(
            "",
            command.cmdlet,
            response.status,
            &error.exception,
            &error.message,
        );
        match crate::error::classify(response.status, &error) {
            Class::Final => Err(final_error(command.cmdlet, response.status, error)),
            Class::Throttled => {
                self.throttled();
                trace::retry(
                    "",
                    command.cmdlet,
                    1,
                    "throttled-in-batch",
                    Duration::ZERO,
                    None,
                    self.limiter.limit(),
                );
                self.invoke_into(command, sink).await
            }
            _ => {
                self.retried.fetch_add(1, Ordering::Relaxed);
                trace::retry(
                    "",
                    command.cmdlet,
                    1,
                    "transient-in-batch",
                    Duration::ZERO,
                    None,
                    self.limiter.limit(),
                );
                self.invoke_into(command, sink).await
            }
        }
    }
}

/// One sub-response of a `$batch`.
struct SubResponse {
    id: String,
    status: u16,
    body: Value,
}

fn sub_responses(body: Value) -> Vec<SubResponse> {
    let Value::Object(outer) = body else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = outer
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("responses"))
        .map(|(_, v)| v)
    else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Object(row) = item else {
                return None;
            };
            let (mut id, mut status, mut body) = (None, None, Value::Null);
            for (key, value) in row {
                if key.eq_ignore_ascii_case("id") {
                    id = Some(match value {
                        Value::String(s) => s,
                        other => other.to_string(),
                    });
                } else if key.eq_ignore_ascii_case("status") {
                    status = match value {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.parse().ok(),
                        _ => None,
                    };
                } else if key.eq_ignore_ascii_case("body") {
                    body = match value {
                        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                        other => other,
                    };
                }
            }
            Some(SubResponse {
                id: id?,
                status: u16::try_from(status?).ok()?,
                body,
            })
        })
        .collect()
}

/// `Retry-After` as seconds (integer or fraction) or an HTTP date.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let wait = at - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// A transport failure: its kind for the trace and its text for the user.
struct Failure {
    kind: &'static str,
    message: String,
}

/// The innermost cause of an error (`Connection refused (os error 111)`, a TLS alert),
/// which says more than the outer `error sending request for url (...)`.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = time::macros::datetime!(2026-11-22 10:00:00 UTC);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_endpoint("https://outlook.office365.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8787/").is_ok());
        assert!(check_endpoint("http://localhost:1").is_ok());
        assert!(check_endpoint("http://[::1]:1").is_ok());
        let refused = check_endpoint("http://exo.example.com").unwrap_err();
        assert!(refused.to_string().contains("loopback"), "{refused}");
        assert!(check_endpoint("not a url").is_err());
    }

    #[test]
    fn an_endpoint_is_a_base_url_without_query_fragment_or_credentials() {
        assert!(check_endpoint("https://outlook.office365.com/").is_ok());
        assert!(check_endpoint("https://exo.example.com/base/path").is_ok());
        let query = check_endpoint("https://outlook.office365.com/?tenant=x").unwrap_err();
        assert!(
            query.to_string().contains("query string (`?tenant=x`)"),
            "{query}"
        );
        let fragment = check_endpoint("https://outlook.office365.com/#top").unwrap_err();
        assert!(fragment.to_string().contains("fragment"), "{fragment}");
        let empty_fragment = check_endpoint("https://outlook.office365.com#").unwrap_err();
        assert!(empty_fragment.to_string().contains("fragment"));
        let credentials =
            check_endpoint("https://admin:hunter2@outlook.office365.com").unwrap_err();
        let text = credentials.to_string();
        assert!(text.contains("user name or password"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let ExoError::Config { hint, .. } = credentials else {
            panic!("a configuration error")
        };
        assert_eq!(
            hint.as_deref(),
            Some(
                "use the base URL only, e.g. `https://outlook.office365.com`; sharedbox appends `/adminapi/...` to it"
            )
        );
    }

    mod batch_answers {
        use super::super::sub_responses;
        use proptest::prelude::*;
        use serde_json::{Value, json};

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "\\PC{0,10}".prop_map(Value::String),
                Just(json!("{\"value\":[{\"Name\":\"x\"}]}")),
                Just(json!({"value": [{"Name": "x"}], "@odata.nextLink": "http://evil.example/"})),
                Just(json!([])),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Whatever a `$batch` answer holds, reading it never panics and keeps only
            /// sub-responses with an id and an HTTP status.
            #[test]
            fn any_batch_answer_is_read_without_panicking(
                items in proptest::collection::vec(
                    (scalar(), scalar(), scalar(), any::<bool>()), 0..12
                ),
                wrapped in any::<bool>(),
            ) {
                let responses: Vec<Value> = items
                    .iter()
                    .map(|(id, status, body, upper)| {
                        if *upper {
                            json!({"ID": id, "Status": status, "Body": body})
                        } else {
                            json!({"id": id, "status": status, "body": body})
                        }
                    })
                    .collect();
                let answer = if wrapped { json!({"responses": responses}) } else { Value::Array(responses) };
                let is_status = |v: &Value| match v {
                    Value::Number(n) => n.as_u64().is_some_and(|n| n <= u64::from(u16::MAX)),
                    Value::String(s) => s.parse::<u64>().is_ok_and(|n| n <= u64::from(u16::MAX)),
                    _ => false,
                };
                let expected = if wrapped {
                    items.iter().filter(|(_, status, ..)| is_status(status)).count()
                } else {
                    0
                };
                prop_assert_eq!(sub_responses(answer).len(), expected);
            }
        }
    }
}
