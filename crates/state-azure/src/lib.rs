//! Runs and tenant locks in Azure Blob Storage (`state: {backend: azure-blob}`), so that
//! `apply`, `runs` and `rollback` work from any machine and a second pipeline on another
//! runner waits for the first, like terraform's azurerm backend.
//!
//! # Layout (under `<container>/<prefix>/`)
//! - `runs/<run-id>.jsonl`: the journal of a run, an **append blob** holding exactly the
//!   bytes a local journal holds (one JSON record a line).
//! - `locks/<tenant>.lock`: an empty block blob whose **lease** is the tenant's lock; the
//!   holder (run, operation, user, host, pid, time) is in its metadata `sharedboxholder`
//!   (base64 of the JSON a lock file holds).
//!
//! # Why append blobs
//! A journal record must be durable before the write it announces is sent, and records
//! are only ever added at the end. `Append Block` does exactly that in one request, and the
//! service acknowledges it only once it is committed (replicated): the remote equivalent of
//! `write` + `fsync`. It is sent with the append position it expects
//! (`x-ms-blob-condition-appendpos`), so a retry of a block whose answer was lost cannot
//! add the records twice: the retry is refused, and the blob's length shows whether the
//! first try landed. Block lists would need two requests per record (stage, then commit a
//! list that grows with the journal) and leave uncommitted blocks after a crash. The limit
//! of an append blob is 50,000 blocks: a run appends two blocks per round of steps, far
//! from it; a round larger than 4 MiB is split at record boundaries.
//!
//! # The lock
//! An infinite lease (no renewal to miss) on the tenant's lock blob; the holder is written
//! into the blob's metadata right after the lease is taken and cleared before it is
//! released. Before each journal record that announces a write, the run renews its lease
//! ([`sharedbox_applier::LockCheck`]): renewing an infinite lease changes nothing, but it
//! fails once the lease was broken (`sharedbox unlock --force`) or taken by another run, and
//! then the run stops before that write and says so in its journal. A store that cannot be
//! reached for the check stops the run too: no write without proof of the lock.
//!
//! # Authentication
//! An azure_identity credential (the Exchange token's workload identity, built by the CLI)
//! with the role *Storage Blob Data Contributor* on the container, or a SAS token
//! (`SHAREDBOX_STATE_SAS_TOKEN`, as terraform's `ARM_SAS_TOKEN`): azure_storage_blob has no
//! shared-key signing, and Azurite in the tests is reached with an account SAS.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::{
    ClientOptions, ExponentialRetryOptions, RequestContent, RetryOptions, StatusCode, Transport,
    Url,
};
use azure_storage_blob::models::{
    AppendBlobClientAppendBlockOptions, AppendBlobClientCreateOptions,
    BlobClientAcquireLeaseOptions, BlobClientAcquireLeaseResultHeaders,
    BlobClientBreakLeaseOptions, BlobClientGetPropertiesResultHeaders,
    BlobClientSetMetadataOptions, BlobContainerClientListBlobsOptions,
    BlockBlobClientUploadOptions, LeaseState,
};
use azure_storage_blob::{BlobClient, BlobClientOptions, BlobContainerClient};
use base64::Engine;
use sharedbox_applier::{
    JournalError, JournalSink, LockCheck, LockError, LockGuard, LockInfo, RunLog, StateStore,
};

/// The metadata key of a lock blob's holder.
const HOLDER_KEY: &str = "sharedboxholder";
/// The largest block `Append Block` takes (4 MiB in every service version).
const MAX_BLOCK: usize = 4 * 1024 * 1024;
/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take: an unreachable store is reported quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the state is: `state:` in `sharedbox.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureBlobConfig {
    /// The storage account.
    pub account: String,
    /// The container (created beforehand; sharedbox does not create it).
    pub container: String,
    /// The folder inside the container, e.g. `sharedbox/contoso` (may be empty).
    pub prefix: String,
    /// The blob service's base URL instead of `https://<account>.blob.core.windows.net`
    /// (sovereign clouds, private endpoints, Azurite: `http://127.0.0.1:10000/devstoreaccount1`).
    pub endpoint: Option<String>,
}

/// How requests are authorised.
#[derive(Clone)]
pub enum Auth {
    /// An Entra ID credential (bearer tokens for `https://storage.azure.com`).
    Credential(Arc<dyn TokenCredential>),
    /// A SAS token (the query string, with or without its leading `?`).
    Sas(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Credential(_) => "Credential",
            Auth::Sas(_) => "Sas(..)",
        })
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// What is wrong, lower case.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

fn config_error(message: impl Into<String>, hint: impl Into<String>) -> ConfigError {
    ConfigError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// The storage suffixes of Microsoft's clouds: an endpoint in `sharedbox.yaml` must be one
/// of their hosts (or loopback), so that a pull request cannot send the runner's storage
/// token elsewhere; any other host must come from `SHAREDBOX_STATE_ENDPOINT`.
pub const STORAGE_SUFFIXES: [&str; 3] = [
    ".blob.core.windows.net",
    ".blob.core.usgovcloudapi.net",
    ".blob.core.chinacloudapi.cn",
];

/// Checks a blob service endpoint: HTTPS (HTTP to loopback only), a base URL without user
/// name, password, query string or fragment; from `sharedbox.yaml` (`trusted` false) also a
/// host of a Microsoft cloud's blob service or loopback. Returns it without a trailing `/`.
///
/// # Errors
/// The endpoint breaks one of these rules.
pub fn check_endpoint(endpoint: &str, trusted: bool) -> Result<String, ConfigError> {
    let hint = "use the blob service's base URL, e.g. `https://ACCOUNT.blob.core.windows.net` (Azurite: `http://127.0.0.1:10000/devstoreaccount1`)";
    let url = Url::parse(endpoint).map_err(|e| {
        config_error(
            format!("the state endpoint `{endpoint}` is not a URL: {e}"),
            hint,
        )
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_error(
            format!(
                "the state endpoint for `{}` has a user name or password in it",
                url.host_str().unwrap_or_default()
            ),
            "credentials come from `tenant.auth` or `SHAREDBOX_STATE_SAS_TOKEN` only",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || endpoint.contains('#') {
        return Err(config_error(
            format!("the state endpoint `{endpoint}` has a query string or fragment"),
            "put a SAS token in `SHAREDBOX_STATE_SAS_TOKEN`, never in `sharedbox.yaml`",
        ));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        scheme => {
            return Err(config_error(
                format!(
                    "the state endpoint `{endpoint}` uses `{scheme}`; HTTPS is required (HTTP only to this machine)"
                ),
                hint,
            ));
        }
    }
    if !trusted && !loopback && !STORAGE_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Err(config_error(
            format!(
                "the state endpoint host `{host}` in `sharedbox.yaml` is not an Azure Blob Storage host"
            ),
            "a configuration file may name `*.blob.core.windows.net` (and the US Government and China equivalents) or this machine; set any other host in `SHAREDBOX_STATE_ENDPOINT` outside the repository",
        ));
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

/// Runs and locks in one container of Azure Blob Storage.
#[derive(Clone)]
pub struct AzureBlobState {
    /// `<endpoint>/<container>`, without a query: what messages show.
    container_url: Url,
    /// The prefix's path segments.
    prefix: Vec<String>,
    auth: Auth,
    options: BlobClientOptions,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for AzureBlobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBlobState")
            .field("container_url", &self.container_url.as_str())
            .field("prefix", &self.prefix)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl AzureBlobState {
    /// The state in `config`'s container, reached with `auth`. Needs a multi-threaded tokio
    /// runtime (the journal and the lock check block on requests from synchronous code).
    ///
    /// # Errors
    /// The account, container or endpoint cannot form a URL, a credential is used over
    /// HTTP, or there is no runtime.
    pub fn new(config: &AzureBlobConfig, auth: Auth) -> Result<AzureBlobState, ConfigError> {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
            .ok_or_else(|| {
                config_error(
                    "the `azure-blob` state store needs a multi-threaded tokio runtime",
                    "this is a bug in the caller",
                )
            })?;
        let valid_name = |s: &str, lengths: std::ops::RangeInclusive<usize>, hyphens: bool| {
            lengths.contains(&s.len())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (hyphens && c == '-'))
        };
        if !valid_name(&config.account, 3..=24, false) {
            return Err(config_error(
                format!(
                    "`state.account` `{}` is not a storage account name",
                    config.account
                ),
                "a storage account name has 3 to 24 lower-case letters and digits",
            ));
        }
        if !valid_name(&config.container, 3..=63, true) {
            return Err(config_error(
                format!(
                    "`state.container` `{}` is not a container name",
                    config.container
                ),
                "a container name has 3 to 63 lower-case letters, digits and hyphens",
            ));
        }
        let prefix: Vec<String> = config
            .prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if prefix.iter().any(|s| s == "." || s == "..") {
            return Err(config_error(
                format!("`state.prefix` `{}` has `.` or `..` in it", config.prefix),
                "use a plain folder path such as `sharedbox/contoso`",
            ));
        }
        let endpoint = match &config.endpoint {
            Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
            None => format!("https://{}.blob.core.windows.net", config.account),
        };
        let mut container_url = Url::parse(&endpoint).map_err(|e| {
            config_error(
                format!("the state endpoint `{endpoint}` is not a URL: {e}"),
                "check `state.endpoint`",
            )
        })?;
        container_url
            .path_segments_mut()
            .map_err(|()| {
                config_error(
                    format!("the state endpoint `{endpoint}` is not a base URL"),
                    "check `state.endpoint`",
                )
            })?
            .pop_if_empty()
            .push(&config.container);
        if matches!(auth, Auth::Credential(_)) && container_url.scheme() != "https" {
            return Err(config_error(
                format!(
                    "the state endpoint `{endpoint}` is HTTP: an Entra ID token is only sent over HTTPS"
                ),
                "use HTTPS, or a SAS token (`SHAREDBOX_STATE_SAS_TOKEN`) for a local emulator",
            ));
        }
        let options = BlobClientOptions {
            client_options: client_options(),
            ..Default::default()
        };
        Ok(AzureBlobState {
            container_url,
            prefix,
            auth,
            options,
            runtime,
        })
    }

    /// `<container URL>/<prefix>`: where the state is, for messages.
    pub fn location(&self) -> String {
        let mut url = self.container_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(&self.prefix);
        }
        url.to_string()
    }

    /// The URL of the blob `parts` (joined with `/`) under the prefix, without a SAS.
    fn blob_url(&self, parts: &[&str]) -> Url {
        let mut url = self.container_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(&self.prefix).extend(parts);
        }
        url
    }

    /// A client of the blob `parts` under the prefix.
    fn blob(&self, parts: &[&str]) -> Result<(Arc<BlobClient>, String), String> {
        let url = self.blob_url(parts);
        let shown = url.to_string();
        let (url, credential) = self.authorised(url);
        BlobClient::new(url, credential, Some(self.options.clone()))
            .map(|client| (Arc::new(client), shown))
            .map_err(|e| redact_sas(&first_line(&e.to_string())))
    }

    fn authorised(&self, mut url: Url) -> (Url, Option<Arc<dyn TokenCredential>>) {
        match &self.auth {
            Auth::Credential(credential) => (url, Some(credential.clone())),
            Auth::Sas(sas) => {
                url.set_query(Some(sas.trim_start_matches('?')));
                (url, None)
            }
        }
    }

    fn container(&self) -> Result<BlobContainerClient, String> {
        let (url, credential) = self.authorised(self.container_url.clone());
        let options = azure_storage_blob::BlobContainerClientOptions {
            client_options: client_options(),
            ..Default::default()
        };
        BlobContainerClient::new(url, credential, Some(options))
            .map_err(|e| redact_sas(&first_line(&e.to_string())))
    }

    /// Runs `future` to completion from synchronous code.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(future))
            }
            // Not on a runtime thread (a guard dropped elsewhere): the store's own runtime.
            _ => self.runtime.block_on(future),
        }
    }

    /// The holder named by a lock blob's metadata, if it can be read.
    fn holder_of(metadata: &HashMap<String, String>) -> Option<LockInfo> {
        let text = metadata.get(HOLDER_KEY)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The lock blob's lease state and holder; `None` when the blob does not exist.
    async fn lock_state(
        &self,
        blob: &BlobClient,
    ) -> azure_core::Result<Option<(bool, Option<LockInfo>)>> {
        match blob.get_properties(None).await {
            Ok(response) => {
                let leased = matches!(response.lease_state()?, Some(LeaseState::Leased));
                let holder = Self::holder_of(&response.metadata()?);
                Ok(Some((leased, holder)))
            }
            Err(e) if status(&e) == Some(StatusCode::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn try_acquire(
        &self,
        blob: &BlobClient,
        info: &LockInfo,
    ) -> azure_core::Result<Result<String, Option<LockInfo>>> {
        let lease = match blob.acquire_lease(-1, None).await {
            Ok(response) => response.lease_id()?.unwrap_or_default(),
            Err(e) if status(&e) == Some(StatusCode::NotFound) => {
                // The first lock of this tenant: create the blob (if nobody else just did).
                let create = BlockBlobClientUploadOptions {
                    if_none_match: Some(azure_core::http::Etag::from("*")),
                    ..Default::default()
                };
                match blob
                    .block_blob_client()
                    .upload(RequestContent::from(Vec::new()), Some(create))
                    .await
                {
                    Ok(_) => {}
                    Err(e) if status(&e) == Some(StatusCode::Conflict) => {}
                    Err(e) => return Err(e),
                }
                blob.acquire_lease(-1, Some(BlobClientAcquireLeaseOptions::default()))
                    .await
                    .map(|r| r.lease_id().ok().flatten().unwrap_or_default())
                    .or_else(|e| {
                        if status(&e) == Some(StatusCode::Conflict) {
                            Ok(String::new())
                        } else {
                            Err(e)
                        }
                    })?
            }
            Err(e) if status(&e) == Some(StatusCode::Conflict) => String::new(),
            Err(e) => return Err(e),
        };
        if lease.is_empty() {
            // Held: name the holder. Right after another run took the lease its metadata
            // may still be empty for a moment: look again before calling it unknown.
            for _ in 0..10 {
                match self.lock_state(blob).await? {
                    Some((true, Some(holder))) => return Ok(Err(Some(holder))),
                    Some((true, None)) => tokio::time::sleep(Duration::from_millis(200)).await,
                    // Released meanwhile: the caller tries again.
                    _ => return Ok(Err(None)),
                }
            }
            return Ok(Err(None));
        }
        let text = serde_json::to_vec(info).expect("lock info serialises");
        let metadata = HashMap::from([(
            HOLDER_KEY.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(text),
        )]);
        let options = BlobClientSetMetadataOptions {
            lease_id: Some(lease.clone()),
            ..Default::default()
        };
        if let Err(e) = blob.set_metadata(&metadata, Some(options)).await {
            let _ = blob.release_lease(lease, None).await;
            return Err(e);
        }
        Ok(Ok(lease))
    }

    fn lock_error(&self, shown: &str, e: &azure_core::Error) -> LockError {
        LockError::Store {
            location: shown.to_owned(),
            message: describe(e),
        }
    }
}

/// Client options: our own HTTP client (connect and request timeouts: an unreachable store
/// is an error in seconds, not a hang) and a bounded retry.
fn client_options() -> ClientOptions {
    let mut options = ClientOptions {
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(200),
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(15),
            max_delay: azure_core::time::Duration::seconds(2),
        }),
        ..Default::default()
    };
    if let Ok(http) = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        options.transport = Some(Transport::new(Arc::new(http)));
    }
    options
}

/// The HTTP status of a service's answer.
fn status(e: &azure_core::Error) -> Option<StatusCode> {
    match e.kind() {
        azure_core::error::ErrorKind::HttpResponse { status, .. } => Some(*status),
        _ => None,
    }
}

/// The service's error code (`LeaseIsBrokenAndCannotBeRenewed`, ...).
fn error_code(e: &azure_core::Error) -> Option<String> {
    match e.kind() {
        azure_core::error::ErrorKind::HttpResponse { error_code, .. } => error_code.clone(),
        _ => None,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// `text` with the signature of any SAS in it replaced: an error that quotes a request URL
/// must not carry the token.
fn redact_sas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sig=") {
        out.push_str(&rest[..at + 4]);
        out.push_str("REDACTED");
        let tail = &rest[at + 4..];
        let end = tail
            .find(|c: char| c == '&' || c == ')' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// An error as one lower-case line: the status and code of an answer, or why there was none.
fn describe(e: &azure_core::Error) -> String {
    redact_sas(&describe_unredacted(e))
}

fn describe_unredacted(e: &azure_core::Error) -> String {
    match e.kind() {
        azure_core::error::ErrorKind::HttpResponse {
            status, error_code, ..
        } => {
            let code = error_code.as_deref().unwrap_or("no error code");
            let hint = match u16::from(*status) {
                401 | 403 => {
                    " (the identity needs the role `Storage Blob Data Contributor` on the container, or the SAS token is wrong or expired)"
                }
                404 if code == "ContainerNotFound" => " (create the container first)",
                _ => "",
            };
            format!("HTTP {} `{code}`{hint}", u16::from(*status))
        }
        azure_core::error::ErrorKind::Io | azure_core::error::ErrorKind::Connection => {
            let mut text = first_line(&e.to_string());
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                text = first_line(&inner.to_string());
                source = inner.source();
            }
            format!("cannot reach the store: {text}")
        }
        _ => first_line(&e.to_string()),
    }
}

impl StateStore for AzureBlobState {
    fn runs_location(&self) -> String {
        self.blob_url(&["runs"]).to_string()
    }

    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError> {
        let name = format!("{run_id}.jsonl");
        let (blob, shown) = self
            .blob(&["runs", &name])
            .map_err(|message| JournalError::Store {
                location: self.runs_location(),
                message,
            })?;
        let create = AppendBlobClientCreateOptions {
            if_none_match: Some(azure_core::http::Etag::from("*")),
            ..Default::default()
        };
        self.wait(blob.append_blob_client().create(Some(create)))
            .map_err(|e| JournalError::Store {
                location: shown.clone(),
                message: if status(&e) == Some(StatusCode::Conflict) {
                    "a journal of this run already exists".to_owned()
                } else {
                    describe(&e)
                },
            })?;
        Ok(Box::new(AppendJournal {
            store: self.clone(),
            blob,
            shown,
            length: 0,
        }))
    }

    fn find(&self, run_id: &str) -> Result<RunLog, JournalError> {
        if !RunLog::is_run_id(run_id) {
            return Err(JournalError::NotFound(run_id.to_owned()));
        }
        let name = format!("{run_id}.jsonl");
        let (blob, shown) = self
            .blob(&["runs", &name])
            .map_err(|message| JournalError::Store {
                location: self.runs_location(),
                message,
            })?;
        match self.wait(download(&blob)) {
            Ok(bytes) => Ok(RunLog::parse(run_id.to_owned(), &bytes)),
            Err(e) if status(&e) == Some(StatusCode::NotFound) => {
                Err(JournalError::NotFound(run_id.to_owned()))
            }
            Err(e) => Err(JournalError::Store {
                location: shown,
                message: describe(&e),
            }),
        }
    }

    fn all(&self) -> Result<Vec<RunLog>, JournalError> {
        let location = self.runs_location();
        let store_error = |message: String| JournalError::Store {
            location: location.clone(),
            message,
        };
        let container = self.container().map_err(store_error)?;
        let mut folder = self.prefix.join("/");
        if !folder.is_empty() {
            folder.push('/');
        }
        folder.push_str("runs/");
        let names = self
            .wait(async {
                use futures::TryStreamExt;
                let options = BlobContainerClientListBlobsOptions {
                    prefix: Some(folder.clone()),
                    ..Default::default()
                };
                let mut pager = container.list_blobs(Some(options))?;
                let mut names = Vec::new();
                while let Some(item) = pager.try_next().await? {
                    if let Some(name) = item.name
                        && let Some(run) = name
                            .strip_prefix(&folder)
                            .and_then(|n| n.strip_suffix(".jsonl"))
                        && RunLog::is_run_id(run)
                    {
                        names.push(run.to_owned());
                    }
                }
                Ok::<_, azure_core::Error>(names)
            })
            .map_err(|e| store_error(describe(&e)))?;
        // Read eight at a time: a fleet's state holds hundreds of runs.
        let reads = self.wait(async {
            use futures::StreamExt;
            futures::stream::iter(names)
                .map(|run| async move {
                    let name = format!("{run}.jsonl");
                    let (blob, shown) =
                        self.blob(&["runs", &name])
                            .map_err(|message| JournalError::Store {
                                location: self.runs_location(),
                                message,
                            })?;
                    match download(&blob).await {
                        Ok(bytes) => Ok(Some(RunLog::parse(run, &bytes))),
                        // Deleted between the listing and the read.
                        Err(e) if status(&e) == Some(StatusCode::NotFound) => Ok(None),
                        Err(e) => Err(JournalError::Store {
                            location: shown,
                            message: describe(&e),
                        }),
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
        });
        let mut logs = Vec::with_capacity(reads.len());
        for read in reads {
            if let Some(log) = read? {
                logs.push(log);
            }
        }
        RunLog::sort_by_start(&mut logs);
        Ok(logs)
    }

    fn acquire(
        &self,
        tenant: &str,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        let name = format!("{}.lock", lock_name(tenant));
        let (blob, shown) = self
            .blob(&["locks", &name])
            .map_err(|message| LockError::Store {
                location: self.location(),
                message,
            })?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.wait(self.try_acquire(&blob, info)) {
                Ok(Ok(lease)) => {
                    let release_store = self.clone();
                    let release_blob = blob.clone();
                    let release_lease = lease.clone();
                    let check_store = self.clone();
                    let check_blob = blob.clone();
                    let check = LockCheck::new(tenant, move || {
                        check_store
                            .wait(check_blob.renew_lease(lease.clone(), None))
                            .map(|_| ())
                            .map_err(|e| match error_code(&e).as_deref() {
                                Some(code) if code.starts_with("Lease") => format!(
                                    "its lease on the lock blob was broken or taken (`{code}`)"
                                ),
                                _ => format!("cannot confirm its lease: {}", describe(&e)),
                            })
                    });
                    return Ok(LockGuard::new(
                        move || {
                            release_store.wait(async {
                                // Clear the holder first: a reader never sees a stale one.
                                let options = BlobClientSetMetadataOptions {
                                    lease_id: Some(release_lease.clone()),
                                    ..Default::default()
                                };
                                let _ = release_blob
                                    .set_metadata(&HashMap::new(), Some(options))
                                    .await;
                                let _ = release_blob.release_lease(release_lease, None).await;
                            });
                        },
                        Some(check),
                    ));
                }
                Ok(Err(holder)) => {
                    if Instant::now() >= deadline {
                        return Err(LockError::Held {
                            tenant: tenant.to_owned(),
                            holder: Box::new(holder.unwrap_or_else(|| {
                                LockInfo::unknown(sharedbox_applier::now_rfc3339())
                            })),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => return Err(self.lock_error(&shown, &e)),
            }
        }
    }

    fn holder(&self, tenant: &str) -> Result<Option<LockInfo>, LockError> {
        let name = format!("{}.lock", lock_name(tenant));
        let (blob, shown) = self
            .blob(&["locks", &name])
            .map_err(|message| LockError::Store {
                location: self.location(),
                message,
            })?;
        match self.wait(self.lock_state(&blob)) {
            Ok(Some((true, holder))) => {
                Ok(Some(holder.unwrap_or_else(|| {
                    LockInfo::unknown(sharedbox_applier::now_rfc3339())
                })))
            }
            Ok(_) => Ok(None),
            Err(e) => Err(self.lock_error(&shown, &e)),
        }
    }

    fn break_lock(&self, tenant: &str) -> Result<Option<LockInfo>, LockError> {
        let holder = self.holder(tenant)?;
        if holder.is_none() {
            return Ok(None);
        }
        let name = format!("{}.lock", lock_name(tenant));
        let (blob, shown) = self
            .blob(&["locks", &name])
            .map_err(|message| LockError::Store {
                location: self.location(),
                message,
            })?;
        self.wait(async {
            let options = BlobClientBreakLeaseOptions {
                break_period: Some(0),
                ..Default::default()
            };
            blob.break_lease(Some(options)).await?;
            // A broken lease lets anyone write: clear the holder it named.
            blob.set_metadata(&HashMap::new(), None).await?;
            Ok::<_, azure_core::Error>(())
        })
        .map_err(|e| self.lock_error(&shown, &e))?;
        Ok(holder)
    }
}

/// A tenant's lock blob name: the lock file's name rules (letters, digits, `.` and `-`).
fn lock_name(tenant: &str) -> String {
    tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn download(blob: &BlobClient) -> azure_core::Result<Vec<u8>> {
    let result = blob.download(None).await?;
    Ok(result.body.collect().await?.to_vec())
}

/// A journal in an append blob.
struct AppendJournal {
    store: AzureBlobState,
    blob: Arc<BlobClient>,
    shown: String,
    /// The blob's length: where the next block must land.
    length: u64,
}

impl std::fmt::Debug for AppendJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppendJournal")
            .field("blob", &self.shown)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl AppendJournal {
    /// Appends one block at the expected position. A refused position after a retry is the
    /// block that landed on an earlier try when the blob has exactly grown by it.
    async fn append_block(&self, block: &[u8]) -> azure_core::Result<()> {
        let client = self.blob.append_blob_client();
        let options = AppendBlobClientAppendBlockOptions {
            append_position: Some(self.length as i64),
            ..Default::default()
        };
        match client
            .append_block(
                RequestContent::from(block.to_vec()),
                block.len() as u64,
                Some(options),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(StatusCode::PreconditionFailed) => {
                let properties = self.blob.get_properties(None).await?;
                if properties.content_length()? == Some(self.length + block.len() as u64) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl JournalSink for AppendJournal {
    fn append(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        for block in blocks(bytes, MAX_BLOCK) {
            self.store
                .wait(self.append_block(block))
                .map_err(|e| JournalError::Store {
                    location: self.shown.clone(),
                    message: describe(&e),
                })?;
            self.length += block.len() as u64;
        }
        Ok(())
    }

    fn location(&self) -> String {
        self.shown.clone()
    }
}

/// `bytes` in blocks of at most `max` bytes, cut after a newline where one is in reach (a
/// block then holds whole records; a crash between two blocks cuts the journal at a record
/// boundary).
fn blocks(bytes: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() > max {
        let cut = rest[..max]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(max, |i| i + 1);
        let (block, tail) = rest.split_at(cut);
        out.push(block);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_cut_after_a_record_and_never_larger_than_the_limit() {
        let text = b"aaaa\nbbbb\ncc\n";
        assert_eq!(blocks(text, 6), vec![&b"aaaa\n"[..], b"bbbb\n", b"cc\n"]);
        assert_eq!(blocks(text, 100), vec![&text[..]]);
        // A record longer than a block is cut where it must be.
        assert_eq!(blocks(b"abcdefgh\n", 4), vec![&b"abcd"[..], b"efgh", b"\n"]);
        assert!(blocks(b"", 4).is_empty());
    }

    #[test]
    fn endpoints_from_the_configuration_file_are_storage_hosts_or_loopback() {
        assert_eq!(
            check_endpoint("https://acct.blob.core.windows.net/", false).unwrap(),
            "https://acct.blob.core.windows.net"
        );
        assert!(check_endpoint("https://acct.blob.core.usgovcloudapi.net", false).is_ok());
        assert!(check_endpoint("http://127.0.0.1:10000/devstoreaccount1", false).is_ok());
        let refused =
            |endpoint: &str, trusted: bool| check_endpoint(endpoint, trusted).unwrap_err().message;
        assert!(
            refused("https://evil.example.com", false).contains("not an Azure Blob Storage host")
        );
        assert!(check_endpoint("https://evil.example.com", true).is_ok());
        assert!(refused("http://acct.blob.core.windows.net", true).contains("HTTPS is required"));
        assert!(
            refused("https://acct.blob.core.windows.net/?sv=1&sig=x", true)
                .contains("query string")
        );
        let userinfo = refused("https://user:secret@acct.blob.core.windows.net", true);
        assert!(userinfo.contains("user name or password"), "{userinfo}");
        assert!(!userinfo.contains("secret"), "{userinfo}");
        assert!(refused("not a url", true).contains("not a URL"));
    }

    #[test]
    fn a_sas_signature_never_appears_in_a_message() {
        assert_eq!(
            redact_sas("error sending request for url (http://h/c/b?sv=1&sig=abc%2B%3D&se=2)"),
            "error sending request for url (http://h/c/b?sv=1&sig=REDACTED&se=2)"
        );
        assert_eq!(redact_sas("sig=x"), "sig=REDACTED");
        assert_eq!(redact_sas("no token"), "no token");
    }

    fn config(account: &str, container: &str, prefix: &str) -> AzureBlobConfig {
        AzureBlobConfig {
            account: account.to_owned(),
            container: container.to_owned(),
            prefix: prefix.to_owned(),
            endpoint: None,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn blobs_are_named_under_the_container_and_prefix() {
        let sas = || Auth::Sas("?sv=1&sig=x".to_owned());
        let store = AzureBlobState::new(
            &config("contosostate", "sharedbox", "/tenants//contoso/"),
            sas(),
        )
        .unwrap();
        assert_eq!(
            store.location(),
            "https://contosostate.blob.core.windows.net/sharedbox/tenants/contoso"
        );
        assert_eq!(
            store.runs_location(),
            "https://contosostate.blob.core.windows.net/sharedbox/tenants/contoso/runs"
        );
        let (_, shown) = store.blob(&["locks", "a b.lock"]).unwrap();
        assert_eq!(
            shown,
            "https://contosostate.blob.core.windows.net/sharedbox/tenants/contoso/locks/a%20b.lock",
            "shown without the SAS"
        );
        let azurite = AzureBlobConfig {
            endpoint: Some("http://127.0.0.1:10000/devstoreaccount1".to_owned()),
            ..config("devstoreaccount1", "state", "")
        };
        assert_eq!(
            AzureBlobState::new(&azurite, sas())
                .unwrap()
                .runs_location(),
            "http://127.0.0.1:10000/devstoreaccount1/state/runs"
        );
        let refused =
            |config: &AzureBlobConfig| AzureBlobState::new(config, sas()).unwrap_err().message;
        assert!(refused(&config("Contoso_State", "c", "")).contains("not a storage account name"));
        assert!(refused(&config("ab", "state", "")).contains("not a storage account name"));
        assert!(refused(&config("acct", "My Container", "")).contains("not a container name"));
        assert!(refused(&config("acct", "state", "x/../y")).contains("`..`"));
    }

    #[test]
    fn without_a_multi_threaded_runtime_the_store_is_refused_not_a_panic() {
        let err =
            AzureBlobState::new(&config("a", "c", ""), Auth::Sas("sig=x".to_owned())).unwrap_err();
        assert!(
            err.message.contains("multi-threaded tokio runtime"),
            "{err}"
        );
    }

    #[test]
    fn lock_blob_names_keep_only_safe_characters() {
        assert_eq!(
            lock_name("contoso.onmicrosoft.com"),
            "contoso.onmicrosoft.com"
        );
        assert_eq!(lock_name("../x/y"), ".._x_y");
    }
}
