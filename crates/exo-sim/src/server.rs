//! Routes and the accept loop.
//!
//! Admin API (reference §1, §7, §9):
//! - `POST /adminapi/beta/{tenant}/InvokeCommand[?$select=…&$skiptoken=…]`
//! - `POST /adminapi/beta/{tenant}/$batch`
//! - `GET  /adminapi/v1.0/{tenant}/EXOModuleFile` (the cmdlets the token may run)
//! - `POST /adminapi/v1.0/{tenant}/InvokeCommand` → 405
//!
//! Test hooks (no authentication; the server binds loopback only):
//! `GET /sim/counters`, `POST /sim/counters/reset`, `GET /sim/tenant[?format=yaml]`,
//! `PUT /sim/tenant` (YAML or JSON), `GET /sim/config`, `POST /sim/config` (partial JSON).
//!
//! Every admin API request is, in this order: authenticated (401), checked against the
//! tenant, parsed (400), counted, given its fault (dropped connection or 503, from the
//! seeded generator), admitted by the per-tenant concurrency limit (429 + `Retry-After`),
//! delayed by the configured latency, checked against RBAC (403) and run.
//!
//! Dropped connections: the accept loop below serves each connection itself (hyper
//! `http1`) and races it against a per-connection signal; a request chosen to be dropped
//! fires the signal, the connection future is dropped and the socket closes without a
//! single byte of response. When the router is served some other way (no signal), the
//! request instead never completes, so the client runs into its own timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::cmdlets;
use crate::config::{BatchOrder, SimConfig, UnknownCmdlet};
use crate::faults::Fault;
use crate::invoke::{self, Answer, Call, CmdletInput, Query};
use crate::state::SimState;
use crate::wire::{self, Envelope, ExoError};

/// The per-connection signal that closes the connection without a response.
#[derive(Clone, Debug)]
struct DropConnection(Arc<Notify>);

/// The router of the simulator.
pub fn router(state: Arc<SimState>) -> Router {
    let admin = Router::new().route(
        "/{version}/{tenant}/{endpoint}",
        post(admin_post).get(admin_get),
    );
    Router::new()
        .nest("/adminapi", admin.clone())
        .nest("/AdminApi", admin)
        .route("/sim/counters", get(get_counters))
        .route("/sim/counters/reset", post(reset_counters))
        .route("/sim/tenant", get(get_tenant).put(put_tenant))
        .route("/sim/config", get(get_config).post(post_config))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes; open connections are closed then.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<SimState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = router(state);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve_connection(stream, router.clone()));
                    }
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
                while connections.try_join_next().is_some() {}
            }
        }
    }
    connections.shutdown().await;
    Ok(())
}

async fn serve_connection(stream: tokio::net::TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let signal = Arc::new(Notify::new());
    let control = DropConnection(signal.clone());
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(control.clone());
            router.clone().oneshot(request.map(Body::new))
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = signal.notified() => {}
    }
}

/// The bearer token of a request, or the 401 to answer.
fn authenticate(
    state: &SimState,
    config: &SimConfig,
    headers: &HeaderMap,
) -> Result<String, Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("Bearer")
                .then(|| token.trim().to_owned())
        })
        .filter(|t| !t.is_empty());
    let expired = token.as_deref().is_some_and(|t| {
        config
            .expired_token_prefix
            .as_deref()
            .is_some_and(|p| !p.is_empty() && t.starts_with(p))
    });
    match token {
        Some(token) if !expired => Ok(token),
        _ => {
            state.count(|c| c.unauthorized += 1);
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"invalid_token\"",
                ),
            );
            let reason = if expired {
                "2000003;reason=\"The token has expired.\";error_category=\"invalid_token\""
            } else {
                "2000001;reason=\"The token is missing or malformed.\";error_category=\"invalid_token\""
            };
            headers.insert(
                HeaderName::from_static("x-ms-diagnostics"),
                HeaderValue::from_static(reason),
            );
            Err(Box::new(response))
        }
    }
}

/// Whether the URL's tenant segment names this tenant.
fn tenant_known(state: &SimState, config: &SimConfig, tenant: &str) -> bool {
    let Some(id) = &config.tenant_id else {
        return true;
    };
    let locked = state.lock_tenant();
    let organization = &locked.organization;
    tenant.eq_ignore_ascii_case(id)
        || tenant.eq_ignore_ascii_case(&organization.name)
        || organization
            .accepted_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(tenant))
}

/// The headers of every admin API response (reference §4.1, §6).
fn add_standard_headers(response: &mut Response, state: &SimState, tenant: &str) {
    let mut remaining = 30_000;
    state.count(|c| remaining -= c.http_requests % 30_000);
    let in_flight = state.limiter.current(tenant);
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("request-id", state.next_request_id());
    put("odata-version", "4.0".to_owned());
    put(
        "preference-applied",
        "odata.include-annotations=\"*\"".to_owned(),
    );
    put(
        "x-calculatedbetarget",
        "SIMPR01MB0001.SIMPR01.PROD.OUTLOOK.COM".to_owned(),
    );
    put("rate-limit-limit", "30000".to_owned());
    put("rate-limit-remaining", remaining.to_string());
    put("rate-limit-reset", wire::iso_timestamp(60));
    put(
        "x-concurrencycount",
        in_flight.saturating_sub(1).to_string(),
    );
    put(
        "x-combinedapponlyconcurrencycount",
        in_flight.saturating_sub(1).to_string(),
    );
}

fn too_many_requests(config: &SimConfig) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, config.retry_after_secs.to_string()),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
        ],
        "You have reached the maximum number of concurrent requests per tenant. Please wait and try again",
    )
        .into_response()
}

fn unavailable(config: &SimConfig) -> Response {
    let mut response = ExoError::unavailable().into_http();
    if let Some(secs) = config.unavailable_retry_after_secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn unknown_cmdlet(config: &SimConfig, error: ExoError) -> Response {
    match config.unknown_cmdlet {
        UnknownCmdlet::Json => error.into_http(),
        UnknownCmdlet::GzipNul => (
            StatusCode::FORBIDDEN,
            [
                (header::CONTENT_ENCODING, "gzip"),
                (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            ],
            vec![0u8; 20],
        )
            .into_response(),
    }
}

fn base_url(config: &SimConfig, headers: &HeaderMap) -> String {
    if let Some(base) = &config.public_base_url {
        return base.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Waits forever after asking the accept loop to close the connection.
async fn drop_connection(control: Option<DropConnection>) -> Response {
    if let Some(DropConnection(signal)) = control {
        signal.notify_one();
    }
    std::future::pending::<Response>().await
}

/// Faults, concurrency and latency of one request: `Err` is the answer instead of running it.
async fn admit(
    state: &SimState,
    config: &SimConfig,
    tenant: &str,
    control: Option<DropConnection>,
) -> Result<crate::faults::Slot, Response> {
    match state.draw_fault(config.drop_rate, config.unavailable_rate) {
        Fault::Drop => {
            state.count(|c| c.dropped += 1);
            return Err(drop_connection(control).await);
        }
        Fault::Unavailable => {
            state.count(|c| c.unavailable += 1);
            return Err(unavailable(config));
        }
        Fault::None => {}
    }
    let Some(slot) = state.limiter.acquire(tenant, config.concurrency_limit) else {
        state.count(|c| c.throttled += 1);
        return Err(too_many_requests(config));
    };
    let spike = config.latency_spike_rate > 0.0 && state.draw_spike(config.latency_spike_rate);
    let latency = config.latency_ms + if spike { config.latency_spike_ms } else { 0 };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    Ok(slot)
}

async fn admin_post(
    State(state): State<Arc<SimState>>,
    Path((version, tenant, endpoint)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let control = request.extensions().get::<DropConnection>().cloned();
    let body = match axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024).await {
        Ok(body) => body,
        Err(_) => return ExoError::bad_request("The request body could not be read.").into_http(),
    };
    state.count(|c| c.http_requests += 1);
    let mut response = if endpoint.eq_ignore_ascii_case("InvokeCommand") {
        invoke_command(
            &state,
            &version,
            &tenant,
            query.as_deref(),
            &headers,
            body,
            control,
        )
        .await
    } else if endpoint.eq_ignore_ascii_case("$batch") {
        batch(&state, &version, &tenant, &headers, body, control).await
    } else {
        ExoError {
            status: 404,
            code: "NotFound",
            ..ExoError::bad_request(format!("Resource '{endpoint}' not found."))
        }
        .into_http()
    };
    add_standard_headers(&mut response, &state, &tenant);
    response
}

/// What both endpoints check first: only `beta` takes cmdlets (405 otherwise), a valid
/// token (401), a known tenant (400).
fn check_request(
    state: &SimState,
    config: &SimConfig,
    version: &str,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<String, Box<Response>> {
    if !version.eq_ignore_ascii_case("beta") {
        return Err(Box::new(StatusCode::METHOD_NOT_ALLOWED.into_response()));
    }
    let token = authenticate(state, config, headers)?;
    if !tenant_known(state, config, tenant) {
        return Err(Box::new(
            ExoError::bad_request(format!("The tenant '{tenant}' is not known.")).into_http(),
        ));
    }
    Ok(token)
}

async fn invoke_command(
    state: &SimState,
    version: &str,
    tenant: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
    control: Option<DropConnection>,
) -> Response {
    let config = state.config();
    let token = match check_request(state, &config, version, tenant, headers) {
        Ok(token) => token,
        Err(response) => return *response,
    };
    let input = match CmdletInput::parse(&body) {
        Ok(input) => input,
        Err(error) => return error.into_http(),
    };
    let (name, write) = invoke::classify(&input.name);
    state.count(|c| c.received(&name, write));
    let _slot = match admit(state, &config, tenant, control.clone()).await {
        Ok(slot) => slot,
        Err(response) => return response,
    };
    let call = Call {
        tenant: tenant.to_owned(),
        token,
        input,
        query: Query::parse(query),
        prefer_page: invoke::max_page_size(header_str(headers, "prefer")),
        base_url: base_url(&config, headers),
        anchored: headers.contains_key("x-anchormailbox"),
    };
    match invoke::run(state, &config, &call) {
        Answer::Ok(_) if state.take_lost_response(&name) => {
            state.count(|c| c.dropped += 1);
            drop_connection(control).await
        }
        Answer::Ok(envelope) => wire::odata_json(StatusCode::OK, &envelope),
        Answer::Err(error) => {
            count_error(state, &error);
            error.into_http()
        }
        Answer::UnknownCmdlet(error) => {
            state.count(|c| c.forbidden += 1);
            unknown_cmdlet(&config, error)
        }
    }
}

fn count_error(state: &SimState, error: &ExoError) {
    state.count(|c| {
        if error.status == 403 {
            c.forbidden += 1;
        } else {
            c.cmdlet_errors += 1;
        }
    });
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// One sub-response of a `$batch`.
#[derive(Debug, Serialize)]
struct SubResponse {
    id: String,
    status: u16,
    headers: serde_json::Map<String, Value>,
    body: SubBody,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum SubBody {
    Envelope(Envelope),
    Json(Value),
}

/// A sub-request as sent.
struct SubRequest {
    id: String,
    method: String,
    url: String,
    headers: serde_json::Map<String, Value>,
    body: Option<Value>,
}

fn parse_batch(body: &[u8], max: usize) -> Result<Vec<SubRequest>, ExoError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ExoError::bad_request(format!("The batch body is not valid JSON: {e}")))?;
    let requests = value
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| ExoError::bad_request("The batch body must be {\"requests\":[…]}."))?;
    if requests.is_empty() {
        return Err(ExoError::bad_request(
            "The batch request contains no requests.",
        ));
    }
    if requests.len() > max {
        return Err(ExoError::bad_request(format!(
            "The batch request contains {} requests; the maximum is {max}.",
            requests.len()
        )));
    }
    let mut parsed: Vec<SubRequest> = Vec::new();
    for request in requests {
        let id = match request.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(ExoError::bad_request("Every batch request needs an 'id'.")),
        };
        if parsed.iter().any(|p| p.id == id) {
            return Err(ExoError::bad_request(format!(
                "The batch request id '{id}' is used more than once."
            )));
        }
        let text = |key: &str| {
            request
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        parsed.push(SubRequest {
            id,
            method: text("method"),
            url: text("url"),
            headers: request
                .get("headers")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            body: request.get("body").cloned(),
        });
    }
    Ok(parsed)
}

/// The path and query of a sub-request URL, absolute or relative.
fn split_url(url: &str) -> (&str, Option<&str>) {
    let path_and_query = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url,
    };
    match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    }
}

fn sub_header(headers: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

async fn batch(
    state: &SimState,
    version: &str,
    tenant: &str,
    headers: &HeaderMap,
    body: Bytes,
    control: Option<DropConnection>,
) -> Response {
    let config = state.config();
    let token = match check_request(state, &config, version, tenant, headers) {
        Ok(token) => token,
        Err(response) => return *response,
    };
    state.count(|c| c.batches += 1);
    let requests = match parse_batch(&body, config.max_batch) {
        Ok(requests) => requests,
        Err(error) => return error.into_http(),
    };
    let _slot = match admit(state, &config, tenant, control).await {
        Ok(slot) => slot,
        Err(response) => return response,
    };
    let outer_prefer = header_str(headers, "prefer").map(str::to_owned);
    let mut responses = Vec::new();
    for request in requests {
        state.count(|c| c.batch_subrequests += 1);
        if config.batch_subrequest_ms > 0 {
            tokio::time::sleep(Duration::from_millis(config.batch_subrequest_ms)).await;
        }
        let prefer = sub_header(&request.headers, "prefer").or_else(|| outer_prefer.clone());
        let (status, body) = sub_request(
            state,
            &config,
            tenant,
            &token,
            headers,
            &request,
            prefer.as_deref(),
        );
        let mut sub_headers = serde_json::Map::new();
        sub_headers.insert(
            "Content-Type".to_owned(),
            Value::String(wire::ODATA_CONTENT_TYPE.to_owned()),
        );
        responses.push(SubResponse {
            id: request.id,
            status,
            headers: sub_headers,
            body,
        });
    }
    if config.batch_order == BatchOrder::Reversed {
        responses.reverse();
    }
    wire::odata_json(StatusCode::OK, &serde_json::json!({"responses": responses}))
}

fn error_body(state: &SimState, error: ExoError) -> (u16, SubBody) {
    count_error(state, &error);
    (error.status, SubBody::Json(error.body()))
}

fn sub_request(
    state: &SimState,
    config: &SimConfig,
    tenant: &str,
    token: &str,
    headers: &HeaderMap,
    request: &SubRequest,
    prefer: Option<&str>,
) -> (u16, SubBody) {
    if !request.method.eq_ignore_ascii_case("POST") {
        return error_body(
            state,
            ExoError {
                status: 405,
                code: "MethodNotAllowed",
                ..ExoError::bad_request(format!("The method '{}' is not allowed.", request.method))
            },
        );
    }
    let (path, query) = split_url(&request.url);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let shape_ok = matches!(segments.as_slice(),
        [api, version, _, endpoint] if api.eq_ignore_ascii_case("adminapi")
            && version.eq_ignore_ascii_case("beta")
            && endpoint.eq_ignore_ascii_case("InvokeCommand"));
    if !shape_ok {
        return error_body(
            state,
            ExoError {
                status: 404,
                code: "NotFound",
                ..ExoError::bad_request(format!(
                    "The batch request url '{}' is not …/adminapi/beta/{{tenant}}/InvokeCommand.",
                    request.url
                ))
            },
        );
    }
    let input = match request
        .body
        .as_ref()
        .ok_or_else(|| ExoError::bad_request("The batch request has no body."))
        .and_then(CmdletInput::from_json)
    {
        Ok(input) => input,
        Err(error) => return error_body(state, error),
    };
    let (name, write) = invoke::classify(&input.name);
    state.count(|c| c.received(&name, write));
    if config.batch_subrequest_faults
        && state.draw_fault(0.0, config.unavailable_rate) == Fault::Unavailable
    {
        state.count(|c| c.unavailable += 1);
        return (503, SubBody::Json(ExoError::unavailable().body()));
    }
    let call = Call {
        tenant: tenant.to_owned(),
        token: token.to_owned(),
        input,
        query: Query::parse(query),
        prefer_page: invoke::max_page_size(prefer),
        base_url: base_url(config, headers),
        anchored: headers.contains_key("x-anchormailbox")
            || sub_header(&request.headers, "X-AnchorMailbox").is_some(),
    };
    match invoke::run(state, config, &call) {
        Answer::Ok(envelope) => (200, SubBody::Envelope(envelope)),
        Answer::Err(error) | Answer::UnknownCmdlet(error) => error_body(state, error),
    }
}

async fn admin_get(
    State(state): State<Arc<SimState>>,
    Path((_version, tenant, endpoint)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    state.count(|c| c.http_requests += 1);
    let config = state.config();
    let mut response = if endpoint.eq_ignore_ascii_case("EXOModuleFile") {
        match authenticate(&state, &config, &headers) {
            Ok(token) => {
                let allowed: Vec<&str> = cmdlets::CMDLETS
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| config.may_run(&token, name))
                    .collect();
                wire::odata_json(
                    StatusCode::OK,
                    &serde_json::json!({"value": [{"exportedCmdlets": allowed.join(",")}]}),
                )
            }
            Err(response) => *response,
        }
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    add_standard_headers(&mut response, &state, &tenant);
    response
}

async fn get_counters(State(state): State<Arc<SimState>>) -> Response {
    json_response(StatusCode::OK, &state.counters())
}

async fn reset_counters(State(state): State<Arc<SimState>>) -> Response {
    state.reset_counters();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_tenant(State(state): State<Arc<SimState>>, RawQuery(query): RawQuery) -> Response {
    let tenant = state.tenant();
    let yaml = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("yaml"));
    if yaml {
        match serde_saphyr::to_string(&tenant) {
            Ok(text) => ([(header::CONTENT_TYPE, "application/yaml")], text).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    } else {
        json_response(StatusCode::OK, &tenant)
    }
}

async fn put_tenant(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match sharedbox_file::TenantFile::parse(&text, std::path::Path::new("PUT /sim/tenant")) {
        Ok(tenant) => {
            state.set_tenant(tenant);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn get_config(State(state): State<Arc<SimState>>) -> Response {
    json_response(StatusCode::OK, &state.config())
}

async fn post_config(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(patch)) => Value::Object(patch),
        Ok(_) => {
            return (StatusCode::BAD_REQUEST, "the body must be a JSON object").into_response();
        }
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut current = serde_json::to_value(state.config()).expect("config serialises");
    if let (Value::Object(current), Value::Object(patch)) = (&mut current, patch) {
        current.extend(patch);
    }
    match serde_json::from_value::<SimConfig>(current) {
        Ok(config) => {
            state.set_config(config.clone());
            json_response(StatusCode::OK, &config)
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).expect("serialisable");
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}
