//! Typed admin API errors: what a status and an error body mean, whether a retry can help,
//! and how each maps onto [`sharedbox_tenant::TenantError`] and its
//! [`TenantErrorKind`]. Hints are miette's [`Diagnostic::help`].

use std::time::Duration;

use miette::Diagnostic;
use sharedbox_tenant::{TenantError, TenantErrorKind};

use crate::wire::ErrorBody;

/// Why a cmdlet call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExoError {
    /// The object named by `Identity` (or a user) does not exist
    /// (`ManagementObjectNotFoundException`, 404).
    #[error("`{cmdlet}`: {message}")]
    NotFound {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said.
        message: String,
    },
    /// An address or object already exists (`ProxyAddressExistsException`, ...).
    #[error("`{cmdlet}`: {message}")]
    AlreadyExists {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said.
        message: String,
    },
    /// A folder permission entry exists already (`UserAlreadyExistsInPermissionEntryException`).
    #[error("`{cmdlet}`: {message}")]
    EntryExists {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said.
        message: String,
    },
    /// A folder permission entry is not there (`UserNotFoundInPermissionEntryException`).
    #[error("`{cmdlet}`: {message}")]
    EntryMissing {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said.
        message: String,
    },
    /// A parameter was refused (400, `ParameterBindingException`, ...).
    #[error("`{cmdlet}` refused a parameter: {message}")]
    BadParameter {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said.
        message: String,
    },
    /// The identity lacks a role or permission for the cmdlet (403).
    #[error(
        "`{cmdlet}` is not allowed for this identity (HTTP 403){}",
        detail(message)
    )]
    Forbidden {
        /// The cmdlet.
        cmdlet: String,
        /// What Exchange said, if anything.
        message: String,
    },
    /// The token was refused (401) even after a refresh.
    #[error("the admin API refused the access token (HTTP 401){}", detail(message))]
    Unauthorized {
        /// What the server said.
        message: String,
    },
    /// Throttled (429 or the concurrency text) and out of retries.
    #[error("`{cmdlet}` was throttled by Exchange Online {attempts} times in a row")]
    Throttled {
        /// The cmdlet.
        cmdlet: String,
        /// Attempts made.
        attempts: u32,
        /// The last `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A transient failure (5xx, `ServerBusyException`, a dropped connection, a timeout)
    /// that retries did not overcome, or that was not retried because the call is not
    /// idempotent.
    #[error("`{cmdlet}` failed: {message}")]
    Transient {
        /// The cmdlet.
        cmdlet: String,
        /// What happened.
        message: String,
        /// Whether the request may have reached the server (its effect is unknown).
        maybe_applied: bool,
    },
    /// No connection to the endpoint could be made (refused, no route, no TLS handshake
    /// within the connect timeout): nothing was sent.
    #[error("cannot reach the admin API at `{address}`: {message}")]
    Unreachable {
        /// The base address tried (scheme, host, port).
        address: String,
        /// Why, e.g. `connection refused`.
        message: String,
    },
    /// Any other refusal by Exchange.
    #[error("`{cmdlet}` failed (HTTP {status}): {message}")]
    Rejected {
        /// The cmdlet.
        cmdlet: String,
        /// The HTTP status.
        status: u16,
        /// The exception type, if given.
        exception: String,
        /// What Exchange said.
        message: String,
    },
    /// The endpoint or configuration is unusable (bad URL, HTTP to a remote host, ...).
    #[error("{message}")]
    Config {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// No token could be obtained.
    #[error("cannot get an access token: {0}")]
    Auth(String, Option<String>),
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Exception names (or message fragments) of server-side conditions that pass.
const TRANSIENT: &[&str] = &[
    "ServerBusyException",
    "TransientException",
    "BackendCommunicationException",
    "CmdletProxyNotAvailableFailure",
    "CmdletProxyNotAvailableException",
    "DCOverloadedException",
    "SuitabilityDirectoryException",
    "ServerInMMException",
    "ADServerSettingsChangedException",
    "StorageTransientException",
];

/// The text Exchange sends when the per-tenant concurrency budget is used up.
const CONCURRENCY_TEXT: &str = "maximum number of concurrent requests";

/// How an error answer should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Throttled: wait (`Retry-After`) and retry; lower the concurrency.
    Throttled,
    /// Transient server trouble: retry with backoff.
    Transient,
    /// 401: refresh the token once and retry.
    Unauthorized,
    /// Final: retrying cannot help.
    Final,
}

/// Classifies an HTTP error answer.
pub fn classify(status: u16, body: &ErrorBody) -> Class {
    let text = format!("{} {}", body.exception, body.message);
    if status == 429 || text.contains(CONCURRENCY_TEXT) {
        Class::Throttled
    } else if status == 401 {
        Class::Unauthorized
    } else if matches!(status, 500 | 502 | 503 | 504 | 408)
        || TRANSIENT.iter().any(|t| text.contains(t))
    {
        Class::Transient
    } else {
        Class::Final
    }
}

/// The typed error of a final answer.
pub fn final_error(cmdlet: &str, status: u16, body: ErrorBody) -> ExoError {
    let cmdlet = cmdlet.to_owned();
    let exception = body.exception.as_str();
    let message = body.message.clone();
    let has = |s: &str| exception.contains(s);
    if has("UserAlreadyExistsInPermissionEntryException") {
        ExoError::EntryExists { cmdlet, message }
    } else if has("UserNotFoundInPermissionEntryException") {
        ExoError::EntryMissing { cmdlet, message }
    } else if has("ManagementObjectNotFoundException")
        || message.contains("couldn't be found")
        || message.contains("wasn't found")
        || (status == 404 && exception.is_empty())
    {
        ExoError::NotFound { cmdlet, message }
    } else if has("AlreadyExists") || has("ProxyAddressExists") || message.contains("already") {
        ExoError::AlreadyExists { cmdlet, message }
    } else if status == 403
        || has("AccessDenied")
        || message.contains("is not present in the role definition")
    {
        ExoError::Forbidden { cmdlet, message }
    } else if has("ParameterBinding") || has("ArgumentException") || status == 400 {
        ExoError::BadParameter { cmdlet, message }
    } else {
        ExoError::Rejected {
            cmdlet,
            status,
            exception: body.exception,
            message,
        }
    }
}

/// The smallest role that grants a cmdlet, for `doctor` and the hint of a 403. Sources:
/// Microsoft365DSC's per-resource read/update roles, the Learn RBAC articles, and
/// office-docs-powershell issue 9428 for `Get-RecipientPermission` (docs/exchange-online.md).
pub fn roles_for(cmdlet: &str) -> &'static str {
    match cmdlet {
        "Get-OrganizationConfig" | "Get-TransportConfig" | "Get-AcceptedDomain" => {
            "View-Only Configuration"
        }
        "Set-OrganizationConfig" => "Organization Configuration",
        "Set-TransportConfig" => "Organization Transport Settings",
        "New-Mailbox" | "Remove-Mailbox" => "Mail Recipient Creation",
        "Get-RecipientPermission" => {
            "Mail Recipients; no view-only role has it: a read-only identity needs a custom role derived from Mail Recipients with only this cmdlet"
        }
        "Get-ServicePrincipal" | "New-ServicePrincipal" | "Remove-ServicePrincipal" => {
            "Role Management (not verified)"
        }
        c if c.starts_with("Get-") => "View-Only Recipients",
        _ => "Mail Recipients",
    }
}

impl ExoError {
    /// What the user can do about it.
    fn hint_text(&self) -> Option<String> {
        match self {
            ExoError::Forbidden { cmdlet, .. } => Some(format!(
                "the app needs the `Exchange.ManageAsApp` API permission and an Exchange role that includes `{cmdlet}` (role: {}); run `sharedbox doctor` to see what the token holds",
                roles_for(cmdlet)
            )),
            ExoError::Unauthorized { .. } => Some(
                "check the token's audience and tenant (`sharedbox doctor`); the beta admin API needs `Exchange.ManageAsApp` (app) or `Exchange.Manage` (delegated), not `Exchange.ManageV2`".to_owned(),
            ),
            ExoError::Throttled { .. } => Some(
                "Exchange Online limits concurrent admin requests per tenant; run again later, or lower `tenant.concurrency`".to_owned(),
            ),
            ExoError::Transient { maybe_applied: true, .. } => Some(
                "the request may or may not have reached Exchange; run `sharedbox plan` to see the tenant's state".to_owned(),
            ),
            ExoError::Transient { .. } => {
                Some("Exchange Online is busy or unreachable; try again later".to_owned())
            }
            ExoError::Unreachable { .. } => Some(format!(
                "check `{}` or `tenant.endpoint`, DNS, the proxy and the firewall; `sharedbox doctor` tries the connection",
                crate::ENDPOINT_VARIABLE
            )),
            ExoError::Config { hint, .. } | ExoError::Auth(_, hint) => hint.clone(),
            _ => None,
        }
    }

    /// What kind of failure it is for the `Tenant` trait: throttling and transient trouble
    /// are retryable, everything else is permanent.
    pub fn kind(&self) -> TenantErrorKind {
        match self {
            ExoError::NotFound { .. } | ExoError::EntryMissing { .. } => TenantErrorKind::NotFound,
            ExoError::AlreadyExists { .. } | ExoError::EntryExists { .. } => {
                TenantErrorKind::AlreadyExists
            }
            ExoError::Forbidden { .. } | ExoError::Unauthorized { .. } | ExoError::Auth(..) => {
                TenantErrorKind::Forbidden
            }
            ExoError::Throttled { .. } => TenantErrorKind::Throttled,
            ExoError::Transient { .. } | ExoError::Unreachable { .. } => TenantErrorKind::Transient,
            ExoError::BadParameter { .. } | ExoError::Config { .. } => TenantErrorKind::Invalid,
            ExoError::Rejected { status, .. } => match status {
                404 => TenantErrorKind::NotFound,
                401 | 403 => TenantErrorKind::Forbidden,
                409 | 412 => TenantErrorKind::Conflict,
                429 => TenantErrorKind::Throttled,
                408 | 500..=599 => TenantErrorKind::Transient,
                400..=499 => TenantErrorKind::Invalid,
                _ => TenantErrorKind::Other,
            },
        }
    }

    /// The error as the `Tenant` trait reports it: its [`ExoError::kind`], this error as the
    /// source, its hint.
    pub fn into_tenant_error(self) -> TenantError {
        TenantError::backend(self.kind(), self)
    }
}

impl Diagnostic for ExoError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.hint_text()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(exception: &str, message: &str) -> ErrorBody {
        ErrorBody {
            code: String::new(),
            exception: exception.into(),
            message: message.into(),
        }
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(429, &ErrorBody::default()), Class::Throttled);
        assert_eq!(
            classify(
                503,
                &body(
                    "",
                    "You have reached the maximum number of concurrent requests per tenant."
                )
            ),
            Class::Throttled
        );
        assert_eq!(
            classify(
                400,
                &body(
                    "Microsoft.Exchange.Data.Storage.ServerBusyException",
                    "busy"
                )
            ),
            Class::Transient
        );
        assert_eq!(classify(503, &ErrorBody::default()), Class::Transient);
        assert_eq!(classify(401, &ErrorBody::default()), Class::Unauthorized);
        assert_eq!(classify(404, &ErrorBody::default()), Class::Final);
        assert!(matches!(
            final_error(
                "Get-Mailbox",
                404,
                body(
                    "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                    "x"
                )
            ),
            ExoError::NotFound { .. }
        ));
        assert!(matches!(
            final_error(
                "New-Mailbox",
                400,
                body(
                    "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
                    "x"
                )
            ),
            ExoError::AlreadyExists { .. }
        ));
        assert!(matches!(
            final_error(
                "Add-MailboxFolderPermission",
                400,
                body(
                    "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException",
                    "x"
                )
            ),
            ExoError::EntryExists { .. }
        ));
        let forbidden = final_error("Set-Mailbox", 403, ErrorBody::default());
        assert!(
            forbidden
                .help()
                .unwrap()
                .to_string()
                .contains("Mail Recipients")
        );
        assert!(matches!(
            final_error(
                "Set-Mailbox",
                400,
                body(
                    "System.Management.Automation.ParameterBindingException",
                    "x"
                )
            ),
            ExoError::BadParameter { .. }
        ));
    }

    #[test]
    fn errors_map_onto_tenant_error_kinds() {
        // 429 and out of retries: throttled, retryable, with its hint and source kept.
        let throttled = ExoError::Throttled {
            cmdlet: "Set-Mailbox".into(),
            attempts: 5,
            retry_after: Some(Duration::from_secs(3)),
        }
        .into_tenant_error();
        assert_eq!(throttled.kind(), TenantErrorKind::Throttled);
        assert!(throttled.is_retryable());
        assert!(
            throttled
                .help()
                .unwrap()
                .to_string()
                .contains("tenant.concurrency")
        );
        assert!(matches!(
            throttled
                .backend_error()
                .unwrap()
                .downcast_ref::<ExoError>(),
            Some(ExoError::Throttled { attempts: 5, .. })
        ));
        assert_eq!(
            throttled.to_string(),
            "`Set-Mailbox` was throttled by Exchange Online 5 times in a row",
            "the message is the admin API error's own"
        );

        // 503 that retries did not overcome: transient, retryable.
        let busy = ExoError::Transient {
            cmdlet: "Set-Mailbox".into(),
            message: "HTTP 503".into(),
            maybe_applied: false,
        }
        .into_tenant_error();
        assert_eq!(busy.kind(), TenantErrorKind::Transient);
        assert!(busy.is_retryable());

        // 403: forbidden, permanent, the role hint kept.
        let forbidden =
            final_error("Add-MailboxPermission", 403, ErrorBody::default()).into_tenant_error();
        assert_eq!(forbidden.kind(), TenantErrorKind::Forbidden);
        assert!(!forbidden.is_retryable());
        assert!(
            forbidden
                .help()
                .unwrap()
                .to_string()
                .contains("Exchange.ManageAsApp")
        );

        // 404 and a missing object: not found, permanent.
        let missing = final_error("Get-Mailbox", 404, ErrorBody::default()).into_tenant_error();
        assert_eq!(missing.kind(), TenantErrorKind::NotFound);
        assert!(!missing.is_retryable());

        // A cmdlet's "already exists" error.
        for exists in [
            final_error(
                "New-Mailbox",
                400,
                body(
                    "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
                    "The proxy address \"SMTP:x@contoso.com\" is already being used",
                ),
            ),
            final_error(
                "Add-MailboxFolderPermission",
                400,
                body(
                    "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException",
                    "An existing permission entry was found for user: Anna.",
                ),
            ),
        ] {
            let error = exists.into_tenant_error();
            assert_eq!(error.kind(), TenantErrorKind::AlreadyExists, "{error}");
            assert!(!error.is_retryable());
        }

        // A refused parameter: invalid; an unclassified 409: conflict; 401: forbidden.
        let bad = final_error(
            "Set-Mailbox",
            400,
            body(
                "System.Management.Automation.ParameterBindingException",
                "x",
            ),
        );
        assert_eq!(bad.kind(), TenantErrorKind::Invalid);
        let conflict = final_error("Set-Mailbox", 409, body("SomeConflict", "changed"));
        assert_eq!(conflict.kind(), TenantErrorKind::Conflict);
        let unauthorized = ExoError::Unauthorized {
            message: String::new(),
        };
        assert_eq!(unauthorized.kind(), TenantErrorKind::Forbidden);
    }
}
