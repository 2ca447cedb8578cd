//! What the simulator does besides answering cmdlets: latency, throttling, faults, RBAC
//! and the quirks of the real wire format.
//!
//! [`SimConfig`] is plain data. It is given to [`crate::SimServer::start`], mirrored by the
//! flags of the `sharedbox-sim` binary, and can be changed while the server runs with
//! `POST /sim/config` (a partial JSON object: only the fields present change) or
//! [`crate::SimHandle::set_config`].

use serde::{Deserialize, Serialize};

/// The simulator's behaviour. `SimConfig::default()` is a fast, fault-free server that
/// still shows the wire-format quirks of the real service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SimConfig {
    /// Time every HTTP request to the admin API takes before it is answered, in milliseconds
    /// (held while the request counts against the concurrency limit).
    pub latency_ms: u64,
    /// Server time of each sub-request inside a `$batch`, in milliseconds (sub-requests run
    /// one after the other, so a batch of 10 takes `latency_ms + 10 * batch_subrequest_ms`).
    pub batch_subrequest_ms: u64,
    /// Requests in flight per tenant beyond which the server answers 429; `None` = unlimited.
    pub concurrency_limit: Option<usize>,
    /// The `Retry-After` (seconds) sent with a 429.
    pub retry_after_secs: u64,
    /// Fraction (0..=1) of requests answered 503 Service Unavailable.
    pub unavailable_rate: f64,
    /// `Retry-After` (seconds) sent with a 503; `None` = no header.
    pub unavailable_retry_after_secs: Option<u64>,
    /// Whether sub-requests of a `$batch` also draw 503s (answered inside the batch).
    pub batch_subrequest_faults: bool,
    /// Fraction (0..=1) of requests whose connection is closed without any response.
    pub drop_rate: f64,
    /// Seed of the fault generator: the same seed and the same sequence of requests give
    /// the same faults. Changing it at runtime restarts the sequence.
    pub seed: u64,
    /// The largest page the server returns; smaller `Prefer: odata.maxpagesize=N` wins.
    pub page_size: usize,
    /// Most sub-requests accepted in one `$batch` (the real limit is 10).
    pub max_batch: usize,
    /// Order of the sub-responses of a `$batch`.
    pub batch_order: BatchOrder,
    /// Bearer tokens starting with this prefix are answered 401 as expired; `None` = never.
    pub expired_token_prefix: Option<String>,
    /// Per-token RBAC: a token starting with a role's prefix may run only that role's
    /// cmdlets (longest prefix wins); tokens matching no role may run every cmdlet.
    pub roles: Vec<Role>,
    /// Hashtable parameters (`GrantSendOnBehalfTo: {Add, Remove}`) must carry
    /// `"@odata.type": "#Exchange.GenericHashTable"`, as on the real service.
    pub require_hashtable_type: bool,
    /// How an unknown cmdlet is answered.
    pub unknown_cmdlet: UnknownCmdlet,
    /// Wire-format quirks clients must tolerate: `Deny`/`IsInherited` as bools, `"True"`
    /// strings or `{"IsPresent":..}` objects (deterministic per row), folder `AccessRights`
    /// as a comma string on every other row, synthetic inherited rows in
    /// `Get-MailboxPermission`, and an English-named user folder `Sent Items` in mailboxes
    /// whose language is not English.
    pub quirks: bool,
    /// The tenant id (GUID) the URL may name besides the organisation's domains. When
    /// `None`, any tenant segment is accepted.
    pub tenant_id: Option<String>,
    /// Base URL put into `@odata.nextLink`; default: `http://<Host header>`.
    pub public_base_url: Option<String>,
    /// Refuse mailbox-bound cmdlets (`Set-Mailbox`, `*-MailboxPermission`,
    /// `*-MailboxFolderPermission`, ...) without an `X-AnchorMailbox` header (400
    /// `CmdletProxyNotAvailableException`). Off by default: the real service often does not
    /// require it.
    pub require_anchor_mailbox: bool,
    /// Cmdlets whose next successful answer is lost: the cmdlet runs and changes the
    /// tenant, then the connection closes without a response (each entry once). This is
    /// the case a client must not answer by sending a non-idempotent write again.
    pub lose_response_of: Vec<String>,
    /// Fraction (0..=1) of admitted requests that take [`SimConfig::latency_spike_ms`]
    /// longer (a slow backend, a long GC pause), drawn from the seed.
    pub latency_spike_rate: f64,
    /// Extra time of a latency spike, in milliseconds.
    pub latency_spike_ms: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency_ms: 0,
            batch_subrequest_ms: 0,
            concurrency_limit: None,
            retry_after_secs: 2,
            unavailable_rate: 0.0,
            unavailable_retry_after_secs: None,
            batch_subrequest_faults: true,
            drop_rate: 0.0,
            seed: 0x5eed,
            page_size: 1000,
            max_batch: 10,
            batch_order: BatchOrder::Reversed,
            expired_token_prefix: Some("expired".to_owned()),
            roles: Vec::new(),
            require_hashtable_type: true,
            unknown_cmdlet: UnknownCmdlet::GzipNul,
            quirks: true,
            tenant_id: None,
            public_base_url: None,
            require_anchor_mailbox: false,
            lose_response_of: Vec::new(),
            latency_spike_rate: 0.0,
            latency_spike_ms: 0,
        }
    }
}

/// An RBAC role: the cmdlets a bearer token with this prefix may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// Tokens starting with this string get this role.
    pub token_prefix: String,
    /// Allowed cmdlets, case-insensitive; a trailing `*` matches any rest (`Get-*`, `*`).
    pub cmdlets: Vec<String>,
}

impl Role {
    /// Whether this role may run `cmdlet`.
    pub fn allows(&self, cmdlet: &str) -> bool {
        self.cmdlets.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            let cmdlet = cmdlet.to_ascii_lowercase();
            match pattern.strip_suffix('*') {
                Some(prefix) => cmdlet.starts_with(prefix),
                None => cmdlet == pattern,
            }
        })
    }

    /// Parses `PREFIX=Cmdlet,Cmdlet,...` (the binary's `--role` flag); an entry that names a
    /// built-in role ([`built_in_role`], e.g. `View-Only Recipients`) stands for its cmdlets.
    pub fn parse(text: &str) -> Result<Role, String> {
        let (prefix, cmdlets) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not PREFIX=Cmdlet,Cmdlet"))?;
        if prefix.is_empty() {
            return Err(format!("`{text}`: the token prefix is empty"));
        }
        Ok(Role {
            token_prefix: prefix.to_owned(),
            cmdlets: cmdlets
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .flat_map(|entry| match built_in_role(entry) {
                    Some(held) => held.iter().map(|c| (*c).to_owned()).collect(),
                    None => vec![entry.to_owned()],
                })
                .collect(),
        })
    }
}

/// The cmdlets sharedbox uses that each built-in Exchange Online management role holds
/// (evidence in `README.md`, "Roles"). A role name outside this table is `None`.
pub fn built_in_role(name: &str) -> Option<&'static [&'static str]> {
    const VIEW_ONLY_RECIPIENTS: &[&str] = &[
        "Get-Recipient",
        "Get-Mailbox",
        "Get-CASMailbox",
        "Get-MailboxPermission",
        "Get-MailboxFolderStatistics",
        "Get-MailboxStatistics",
        "Get-MailboxFolderPermission",
        "Get-MailboxAutoReplyConfiguration",
        "Get-User",
        "Get-Group",
        "Get-UnifiedGroupLinks",
    ];
    const VIEW_ONLY_CONFIGURATION: &[&str] = &[
        "Get-OrganizationConfig",
        "Get-TransportConfig",
        "Get-AcceptedDomain",
    ];
    const MAIL_RECIPIENTS: &[&str] = &[
        "Get-Recipient",
        "Get-Mailbox",
        "Get-CASMailbox",
        "Get-MailboxPermission",
        "Get-RecipientPermission",
        "Get-MailboxFolderStatistics",
        "Get-MailboxStatistics",
        "Get-MailboxFolderPermission",
        "Get-User",
        "Get-Group",
        "Get-UnifiedGroupLinks",
        "Set-Mailbox",
        "Set-CASMailbox",
        "Add-MailboxPermission",
        "Remove-MailboxPermission",
        "Add-RecipientPermission",
        "Remove-RecipientPermission",
        "Add-MailboxFolderPermission",
        "Set-MailboxFolderPermission",
        "Remove-MailboxFolderPermission",
        "Get-MailboxAutoReplyConfiguration",
        "Set-MailboxAutoReplyConfiguration",
    ];
    Some(match name {
        "View-Only Recipients" => VIEW_ONLY_RECIPIENTS,
        "View-Only Configuration" => VIEW_ONLY_CONFIGURATION,
        "Mail Recipients" => MAIL_RECIPIENTS,
        "Mail Recipient Creation" => &["New-Mailbox", "Remove-Mailbox"],
        "Organization Configuration" => &["Get-OrganizationConfig", "Set-OrganizationConfig"],
        "Organization Transport Settings" => &["Get-TransportConfig", "Set-TransportConfig"],
        "Role Management" => &[
            "Get-ServicePrincipal",
            "New-ServicePrincipal",
            "Remove-ServicePrincipal",
        ],
        _ => return None,
    })
}

impl Role {
    /// A role holding the cmdlets of the named built-in roles ([`built_in_role`]) plus
    /// `extra` cmdlets (a custom role). Unknown role names are an error.
    pub fn of_roles(token_prefix: &str, roles: &[&str], extra: &[&str]) -> Result<Role, String> {
        let mut cmdlets: Vec<String> = extra.iter().map(|c| (*c).to_owned()).collect();
        for name in roles {
            let held = built_in_role(name)
                .ok_or_else(|| format!("`{name}` is not a built-in role the simulator knows"))?;
            cmdlets.extend(held.iter().map(|c| (*c).to_owned()));
        }
        Ok(Role {
            token_prefix: token_prefix.to_owned(),
            cmdlets,
        })
    }
}

impl SimConfig {
    /// The role of `token`, if one applies (the longest matching prefix).
    pub fn role_of(&self, token: &str) -> Option<&Role> {
        self.roles
            .iter()
            .filter(|r| token.starts_with(&r.token_prefix))
            .max_by_key(|r| r.token_prefix.len())
    }

    /// Whether `token` may run `cmdlet`.
    pub fn may_run(&self, token: &str, cmdlet: &str) -> bool {
        self.role_of(token).is_none_or(|role| role.allows(cmdlet))
    }
}

/// Order of the sub-responses of a `$batch` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum BatchOrder {
    /// Reversed: the last request's response first (clients must correlate by `id`).
    Reversed,
    /// The order of the requests.
    AsSent,
}

/// How an unknown cmdlet is answered (always with 403, as measured on the real service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum UnknownCmdlet {
    /// A body of NUL bytes declared `Content-Encoding: gzip`, as the real service sends.
    GzipNul,
    /// The JSON error envelope with a `CommandNotFoundException` detail.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_match_by_longest_prefix_and_glob() {
        let config = SimConfig {
            roles: vec![
                Role::parse("reader=Get-*").unwrap(),
                Role::parse("reader-mbx=Get-Mailbox, Set-Mailbox").unwrap(),
            ],
            ..SimConfig::default()
        };
        assert!(config.may_run("reader-1", "get-recipient"));
        assert!(!config.may_run("reader-1", "Set-Mailbox"));
        assert!(config.may_run("reader-mbx-1", "Set-Mailbox"));
        assert!(!config.may_run("reader-mbx-1", "Get-Recipient"));
        let named = Role::parse("r=View-Only Configuration, Get-RecipientPermission").unwrap();
        assert!(named.allows("Get-TransportConfig"));
        assert!(named.allows("get-recipientpermission"));
        assert!(!named.allows("Set-TransportConfig"));
        assert!(config.may_run("admin", "Remove-Mailbox"));
        assert!(Role::parse("=x").is_err());
    }

    #[test]
    fn partial_json_keeps_defaults() {
        let config: SimConfig = serde_json::from_str(r#"{"latencyMs": 5}"#).unwrap();
        assert_eq!(config.latency_ms, 5);
        assert_eq!(config.max_batch, 10);
    }
}
