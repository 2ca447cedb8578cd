//! Black-box tests of the simulator over HTTP (reqwest, plain HTTP on loopback).

mod faults;
mod reads;
mod writes;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sharedbox_exo_sim::{SimConfig, SimHandle, SimServer, TenantFile};

/// The tenant segment of the URLs.
pub const TENANT: &str = "fabrikam.onmicrosoft.com";
/// A bearer token with every right.
pub const TOKEN: &str = "test-token";

/// The test tenant.
pub fn fixture() -> TenantFile {
    TenantFile::parse(
        include_str!("../fixtures/tenant.yaml"),
        std::path::Path::new("tenant.yaml"),
    )
    .unwrap()
}

/// A simulator over the test tenant.
pub fn start(config: SimConfig) -> SimHandle {
    SimServer::start(fixture(), config).unwrap()
}

/// An HTTP client (plain HTTP, loopback).
pub fn client() -> reqwest::Client {
    // No transparent decompression: the tests look at raw bodies (a 403 of NUL bytes
    // declared gzip included).
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .no_gzip()
        .build()
        .unwrap()
}

/// A response: status, headers, raw body and the body as JSON (`Null` when not JSON).
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body as received.
    pub raw: Vec<u8>,
    /// The body as JSON.
    pub json: Value,
}

impl Reply {
    /// The `value` array.
    pub fn value(&self) -> &Vec<Value> {
        self.json["value"].as_array().expect("a value array")
    }

    /// `@adminapi.warnings`.
    pub fn warnings(&self) -> Vec<String> {
        self.json["@adminapi.warnings"]
            .as_array()
            .map(|w| w.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }

    /// `details[0].message` of an error.
    pub fn detail(&self) -> String {
        self.json["error"]["details"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// POSTs `body` to `url` with an optional bearer token and extra headers.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
    body: &Value,
) -> Result<Reply, reqwest::Error> {
    let mut request = client
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let raw = response.bytes().await?.to_vec();
    let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        headers,
        raw,
        json,
    })
}

/// An `InvokeCommand` body.
pub fn body(cmdlet: &str, parameters: Value) -> Value {
    json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}})
}

/// Invokes one cmdlet with the default token.
pub async fn invoke(sim: &SimHandle, cmdlet: &str, parameters: Value) -> Reply {
    post(
        &client(),
        &sim.invoke_url(TENANT),
        Some(TOKEN),
        &[],
        &body(cmdlet, parameters),
    )
    .await
    .unwrap()
}

/// Reads a bool the way a tolerant client must: `true`, `"True"`, `{"IsPresent": true}`.
pub fn tolerant_bool(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Object(o) => o.get("IsPresent").and_then(Value::as_bool).unwrap_or(false),
        _ => panic!("not a bool: {value}"),
    }
}
