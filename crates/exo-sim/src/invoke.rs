//! One `InvokeCommand` call, direct or inside a `$batch`: the request body, `$select`,
//! paging with `@odata.nextLink`, and running the cmdlet.
//!
//! Paging (reference §4.3): a page holds at most `min(Prefer: odata.maxpagesize, page_size)`
//! objects; when more exist the envelope carries an absolute `@odata.nextLink` to
//! `…/InvokeCommand?$skiptoken=<token>[&$select=…]`, and the client POSTs the same body to
//! it. The token is base64url of `<offset>:<hash of the CmdletInput>`; a follow-up whose
//! body differs from the first request's is refused with 400.

use std::sync::Arc;

use serde_json::Value;

use crate::cmdlets;
use crate::config::SimConfig;
use crate::folders::fnv;
use crate::params::Params;
use crate::state::{Change, PageKey, SimState};
use crate::wire::{Envelope, ExoError};

/// The largest page the real service returns.
pub const MAX_PAGE: usize = 1000;

/// A parsed `CmdletInput`.
#[derive(Debug, Clone)]
pub struct CmdletInput {
    /// The cmdlet as the client spelled it.
    pub name: String,
    /// The raw `Parameters` (absent = `None`).
    pub parameters: Option<Value>,
}

fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

impl CmdletInput {
    /// Parses a request body `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
    pub fn parse(body: &[u8]) -> Result<CmdletInput, ExoError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ExoError::bad_request(format!("The request body is not valid JSON: {e}"))
        })?;
        CmdletInput::from_json(&value)
    }

    /// Reads the envelope from a JSON value.
    pub fn from_json(value: &Value) -> Result<CmdletInput, ExoError> {
        let shape = || {
            ExoError::bad_request(
                "The request body must be {\"CmdletInput\":{\"CmdletName\":\"…\",\"Parameters\":{…}}}",
            )
        };
        let input = value
            .as_object()
            .and_then(|o| field(o, "CmdletInput"))
            .and_then(Value::as_object)
            .ok_or_else(shape)?;
        let name = field(input, "CmdletName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(shape)?;
        Ok(CmdletInput {
            name: name.to_owned(),
            parameters: field(input, "Parameters").cloned(),
        })
    }

    /// A hash identifying the request for the skip token.
    fn fingerprint(&self) -> u64 {
        let canonical =
            serde_json::json!({"c": self.name.to_ascii_lowercase(), "p": self.parameters});
        fnv(&canonical.to_string())
    }
}

/// The query of an `InvokeCommand` URL.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `$select` as sent.
    pub select: Option<String>,
    /// `$skiptoken`.
    pub skip_token: Option<String>,
}

impl Query {
    /// Parses a raw query string (percent-encoded).
    pub fn parse(raw: Option<&str>) -> Query {
        let mut query = Query::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if key.eq_ignore_ascii_case("$select") {
                query.select = Some(value.into_owned());
            } else if key.eq_ignore_ascii_case("$skiptoken") {
                query.skip_token = Some(value.into_owned());
            }
        }
        query
    }

    /// The selected property names (case as sent, spaces trimmed).
    fn selected(&self) -> Option<Vec<String>> {
        self.select.as_ref().map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

/// `odata.maxpagesize` of a `Prefer` header (`odata.maxpagesize = 1000;odata.continue-on-error`).
pub fn max_page_size(prefer: Option<&str>) -> Option<usize> {
    prefer?.split([';', ',']).find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("odata.maxpagesize")
            .then(|| value.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

/// Everything one invocation needs besides the tenant.
#[derive(Debug, Clone)]
pub struct Call {
    /// The tenant segment of the URL.
    pub tenant: String,
    /// The bearer token (for RBAC).
    pub token: String,
    /// The body.
    pub input: CmdletInput,
    /// The URL query.
    pub query: Query,
    /// The client's `Prefer: odata.maxpagesize`.
    pub prefer_page: Option<usize>,
    /// `scheme://host` for `@odata.nextLink`.
    pub base_url: String,
    /// Whether the request carried an `X-AnchorMailbox` header.
    pub anchored: bool,
}

/// How an invocation was answered.
#[derive(Debug)]
pub enum Answer {
    /// 200 with the envelope.
    Ok(Envelope),
    /// An error envelope.
    Err(ExoError),
    /// An unknown cmdlet (403; the body depends on [`SimConfig::unknown_cmdlet`]).
    UnknownCmdlet(ExoError),
}

/// The canonical cmdlet name (for counters) and whether it writes.
pub fn classify(name: &str) -> (String, bool) {
    match cmdlets::lookup(name) {
        Some((canonical, write)) => (canonical.to_owned(), write),
        None => (name.to_owned(), false),
    }
}

/// Runs one invocation: RBAC, parameters, the cmdlet, `$select`, paging.
pub fn run(state: &SimState, config: &SimConfig, call: &Call) -> Answer {
    let Some((cmdlet, _)) = cmdlets::lookup(&call.input.name) else {
        return Answer::UnknownCmdlet(ExoError::unknown_cmdlet(&call.input.name));
    };
    if !config.may_run(&call.token, cmdlet) {
        return Answer::Err(ExoError::not_in_role(cmdlet));
    }
    if config.require_anchor_mailbox && !call.anchored && cmdlets::MAILBOX_BOUND.contains(&cmdlet) {
        return Answer::Err(ExoError::invalid(
            "Microsoft.Exchange.Configuration.Tasks.CmdletProxyNotAvailableException",
            "Cmdlet needs proxy. Current Server FQDN : SIMPR01MB0001.SIMPR01.PROD.OUTLOOK.COM, Required Server FQDN : unknown (the request has no X-AnchorMailbox header).",
        ));
    }
    match execute(state, config, call, cmdlet) {
        Ok(envelope) => Answer::Ok(envelope),
        Err(error) => Answer::Err(error),
    }
}

fn execute(
    state: &SimState,
    config: &SimConfig,
    call: &Call,
    cmdlet: &str,
) -> Result<Envelope, ExoError> {
    let fingerprint = call.input.fingerprint();
    let offset = match &call.query.skip_token {
        Some(token) => decode_token(token, fingerprint)?,
        None => 0,
    };
    let key: PageKey = (call.tenant.clone(), fingerprint, call.query.select.clone());
    let kept = match offset {
        0 => None,
        _ => state.paged_output(&key),
    };
    let (items, warnings) = match kept {
        Some(items) => (items, Vec::new()),
        None => {
            let params = Params::from_json(call.input.parameters.as_ref())?;
            let output = {
                let mut tenant = state.lock_tenant();
                cmdlets::run(&mut tenant, config, cmdlet, &params)?
            };
            if output.changed {
                state.tenant_changed(Change {
                    cmdlet: cmdlet.to_owned(),
                    identity: params.string("Identity").ok().flatten(),
                });
            }
            let Some(items) = output.value else {
                return Ok(Envelope::new(&call.tenant, None, output.warnings));
            };
            let items = match call.query.selected() {
                Some(select) => items.iter().map(|i| i.select(&select)).collect(),
                None => items,
            };
            (Arc::new(items), output.warnings)
        }
    };
    let mut envelope = Envelope::new(&call.tenant, None, warnings);
    let page = call
        .prefer_page
        .unwrap_or(MAX_PAGE)
        .clamp(1, MAX_PAGE)
        .min(config.page_size.max(1));
    let start = offset.min(items.len());
    let end = (start + page).min(items.len());
    if end < items.len() {
        envelope.next_link = Some(next_link(call, end, fingerprint));
        state.count(|c| c.paged_responses += 1);
        if offset == 0 {
            state.keep_paged_output(key, Arc::clone(&items));
        }
    }
    envelope.value = Some(items[start..end].to_vec());
    Ok(envelope)
}

fn next_link(call: &Call, offset: usize, fingerprint: u64) -> String {
    let token = base64url(format!("{offset}:{fingerprint:016x}").as_bytes());
    let mut link = format!(
        "{}/adminapi/beta/{}/InvokeCommand?$skiptoken={token}",
        call.base_url.trim_end_matches('/'),
        call.tenant
    );
    if let Some(select) = &call.query.select {
        link.push_str("&$select=");
        link.extend(form_urlencoded::byte_serialize(select.as_bytes()));
    }
    link
}

fn decode_token(token: &str, fingerprint: u64) -> Result<usize, ExoError> {
    let invalid = || ExoError::bad_request(format!("The skip token '{token}' is not valid."));
    let text = String::from_utf8(unbase64url(token).ok_or_else(invalid)?).map_err(|_| invalid())?;
    let (offset, hash) = text.split_once(':').ok_or_else(invalid)?;
    if hash != format!("{fingerprint:016x}") {
        return Err(ExoError::bad_request(
            "The skip token belongs to a different request: POST the same body to @odata.nextLink.",
        ));
    }
    offset.parse().map_err(|_| invalid())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for text in ["", "a", "ab", "abc", "1000:00ff00ff00ff00ff"] {
            assert_eq!(
                unbase64url(&base64url(text.as_bytes())).unwrap(),
                text.as_bytes()
            );
        }
        assert!(unbase64url("not base64!").is_none());
    }

    #[test]
    fn prefer_is_parsed_tolerantly() {
        assert_eq!(
            max_page_size(Some("odata.maxpagesize = 1000;odata.continue-on-error")),
            Some(1000)
        );
        assert_eq!(max_page_size(Some("odata.maxpagesize=2")), Some(2));
        assert_eq!(max_page_size(Some("odata.continue-on-error")), None);
        assert_eq!(max_page_size(None), None);
    }

    #[test]
    fn bodies_are_read_case_insensitively() {
        let input = CmdletInput::parse(br#"{"cmdletInput":{"cmdletName":"get-mailbox"}}"#).unwrap();
        assert_eq!(input.name, "get-mailbox");
        assert!(input.parameters.is_none());
        assert_eq!(CmdletInput::parse(b"{}").unwrap_err().status, 400);
        assert_eq!(CmdletInput::parse(b"").unwrap_err().status, 400);
    }

    #[test]
    fn select_tolerates_spaces() {
        let q = Query::parse(Some("$select=Identity,%20DisplayName&%24skiptoken=abc"));
        assert_eq!(q.selected().unwrap(), ["Identity", "DisplayName"]);
        assert_eq!(q.skip_token.as_deref(), Some("abc"));
    }
}
