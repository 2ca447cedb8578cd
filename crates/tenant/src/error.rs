//! Why a tenant read or write failed: [`TenantError`], its [`TenantErrorKind`] (what the
//! applier decides on: retry or stop) and its hint (miette's [`Diagnostic::help`], the one
//! hint mechanism of the workspace's library errors).

use std::sync::Arc;

use miette::Diagnostic;

/// What kind of failure a [`TenantError`] is, whatever the backend.
///
/// Only [`TenantErrorKind::Throttled`] and [`TenantErrorKind::Transient`] are worth a retry;
/// every other kind fails the same way again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantErrorKind {
    /// The object (a mailbox, a principal, a permission entry) does not exist.
    NotFound,
    /// The object or address exists already.
    AlreadyExists,
    /// The identity may not do this (a missing role or permission, a refused token).
    Forbidden,
    /// The tenant asks the caller to slow down (HTTP 429, the concurrency budget).
    Throttled,
    /// A passing server-side or network condition (5xx, a dropped connection, a timeout).
    Transient,
    /// The request is not valid for the tenant (a refused parameter or value).
    Invalid,
    /// The tenant changed under the request (HTTP 409/412, a concurrent change).
    Conflict,
    /// Anything else; not retried.
    Other,
}

impl TenantErrorKind {
    /// Whether the same request may succeed when sent again later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            TenantErrorKind::Throttled | TenantErrorKind::Transient
        )
    }

    /// The kind in a few words, for messages and journals (`throttled`, `not found`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TenantErrorKind::NotFound => "not found",
            TenantErrorKind::AlreadyExists => "already exists",
            TenantErrorKind::Forbidden => "forbidden",
            TenantErrorKind::Throttled => "throttled",
            TenantErrorKind::Transient => "transient",
            TenantErrorKind::Invalid => "invalid",
            TenantErrorKind::Conflict => "conflict",
            TenantErrorKind::Other => "other",
        }
    }
}

impl std::fmt::Display for TenantErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a tenant read or write failed.
///
/// The first three variants are the trait's own vocabulary (backends map their answers onto
/// them where they can tell); [`TenantError::Backend`] keeps a backend's error whole as its
/// `source`, with the kind the backend gave it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TenantError {
    /// The mailbox does not exist.
    #[error("mailbox `{0}` does not exist")]
    MailboxNotFound(String),
    /// `New-Mailbox` for an address that is already taken.
    #[error("a recipient with address `{0}` already exists")]
    MailboxExists(String),
    /// A principal that the tenant does not know.
    #[error("`{0}` is not a recipient of the tenant")]
    PrincipalNotFound(String),
    /// The tenant refused the change as invalid (a rule Exchange enforces).
    #[error("{message}")]
    Rejected {
        /// What the tenant said.
        message: String,
        /// What the user can do about it.
        hint: Option<String>,
    },
    /// A backend's own error (the admin API's, the tenant file's), kept as the source.
    #[error("{source}")]
    Backend {
        /// What kind of failure it is.
        kind: TenantErrorKind,
        /// What the user can do about it (the backend error's hint, taken when wrapped).
        hint: Option<String>,
        /// The backend's error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
}

impl TenantError {
    /// Wraps a backend's error, keeping it as the source and its hint (miette's `help`).
    pub fn backend<E>(kind: TenantErrorKind, error: E) -> TenantError
    where
        E: Diagnostic + Send + Sync + 'static,
    {
        TenantError::Backend {
            kind,
            hint: error.help().map(|h| h.to_string()),
            source: Arc::new(error),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TenantErrorKind {
        match self {
            TenantError::MailboxNotFound(_) | TenantError::PrincipalNotFound(_) => {
                TenantErrorKind::NotFound
            }
            TenantError::MailboxExists(_) => TenantErrorKind::AlreadyExists,
            TenantError::Rejected { .. } => TenantErrorKind::Invalid,
            TenantError::Backend { kind, .. } => *kind,
        }
    }

    /// Whether the same request may succeed when sent again later (throttled, transient).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// The backend's error, when this wraps one; downcast it to look closer.
    pub fn backend_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            TenantError::Backend { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }

    fn hint_text(&self) -> Option<String> {
        match self {
            TenantError::MailboxNotFound(_) => Some(
                "the mailbox may have been deleted since the plan was made; run `sharedbox plan` again"
                    .to_owned(),
            ),
            TenantError::MailboxExists(_) => Some(
                "another recipient (a user, group or soft-deleted mailbox) holds this address".to_owned(),
            ),
            TenantError::PrincipalNotFound(_) => {
                Some("check the spelling, or whether the user or group was deleted".to_owned())
            }
            TenantError::Rejected { hint, .. } | TenantError::Backend { hint, .. } => hint.clone(),
        }
    }
}

impl Diagnostic for TenantError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.hint_text()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("busy")]
    struct Busy;

    impl Diagnostic for Busy {
        fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
            Some(Box::new("try later"))
        }
    }

    #[test]
    fn kinds_say_what_is_retryable_and_backend_errors_keep_source_and_hint() {
        let e = TenantError::backend(TenantErrorKind::Transient, Busy);
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "busy");
        assert_eq!(e.help().unwrap().to_string(), "try later");
        let source = std::error::Error::source(&e).expect("the source is kept");
        assert_eq!(source.to_string(), "busy");
        assert!(e.backend_error().unwrap().downcast_ref::<Busy>().is_some());
        assert!(TenantError::backend(TenantErrorKind::Throttled, Busy).is_retryable());
        for permanent in [
            TenantError::MailboxNotFound("a@b".into()),
            TenantError::MailboxExists("a@b".into()),
            TenantError::PrincipalNotFound("a@b".into()),
            TenantError::Rejected {
                message: "no".into(),
                hint: None,
            },
            TenantError::backend(TenantErrorKind::Forbidden, Busy),
            TenantError::backend(TenantErrorKind::Conflict, Busy),
        ] {
            assert!(!permanent.is_retryable(), "{permanent:?}");
        }
        assert_eq!(
            TenantError::MailboxExists("a@b".into()).kind(),
            TenantErrorKind::AlreadyExists
        );
    }
}
