//! Access tokens for the Exchange Online admin API.
//!
//! The client asks a [`TokenSource`] for a token before every request and calls
//! [`TokenSource::invalidate`] after a 401. Tokens are opaque secrets: they never appear in
//! `Debug` output, logs or errors.
//!
//! - [`config`]: `tenant.auth` in `sharedbox.yaml` and [`token_source`], which turns it into
//!   a [`TokenSource`];
//! - [`azure`]: the azure_identity credentials behind one [`TokenSource`];
//! - [`certificate`] and [`github`]: client assertions azure_identity does not sign or fetch
//!   itself here (a PEM certificate without OpenSSL, a GitHub Actions OIDC token);
//! - [`claims`]: what `sharedbox doctor` shows of a token.

pub mod azure;
pub mod certificate;
pub mod claims;
pub mod config;
pub mod github;

use std::fmt;

pub use claims::{TokenClaims, claims};
pub use config::{AuthConfig, AuthMethod, token_source};

/// A bearer token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    secret: String,
    /// When the token expires, if known.
    pub expires_at: Option<time::OffsetDateTime>,
}

impl AccessToken {
    /// A token with its secret value.
    pub fn new(secret: impl Into<String>, expires_at: Option<time::OffsetDateTime>) -> AccessToken {
        AccessToken {
            secret: secret.into(),
            expires_at,
        }
    }

    /// The secret, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    /// What went wrong, without any secret.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl AuthError {
    /// An error with a message and a hint.
    pub fn new(message: impl Into<String>, hint: impl Into<Option<String>>) -> AuthError {
        AuthError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl miette::Diagnostic for AuthError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// Where tokens come from.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token valid for at least the next minute (cached where possible).
    async fn token(&self) -> Result<AccessToken, AuthError>;

    /// Forgets any cached token, after the server refused it (401).
    fn invalidate(&self) {}

    /// The method's name for messages, e.g. `client-secret`.
    fn method(&self) -> &'static str;
}

/// A fixed token (`SHAREDBOX_ACCESS_TOKEN`), never refreshed.
pub struct StaticToken(AccessToken, std::sync::atomic::AtomicBool);

impl StaticToken {
    /// Wraps a token value.
    pub fn new(secret: impl Into<String>) -> StaticToken {
        StaticToken(
            AccessToken::new(secret, None),
            std::sync::atomic::AtomicBool::new(false),
        )
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        if !self.1.swap(true, std::sync::atomic::Ordering::Relaxed) {
            crate::trace::token(
                "access-token",
                "given",
                "",
                std::time::Duration::ZERO,
                None,
                "",
            );
        }
        Ok(self.0.clone())
    }

    fn method(&self) -> &'static str {
        "access-token"
    }
}
