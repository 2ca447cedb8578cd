//! One [`TokenSource`] over any azure_identity credential.
//!
//! azure_identity caches tokens and refreshes them five minutes before they expire. After a
//! 401 the cached token is known bad, but the credential would hand it out again; so
//! [`TokenSource::invalidate`] replaces the credential with a fresh one (an empty cache).
//!
//! A token request gives up after [`TOKEN_TIMEOUT`] whatever the credential's own retries
//! do, and its error names the authority it tried; the trace ([`crate::trace`]) learns of
//! every new token (method and lifetime, never the value) and every failure.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;

use super::config::{first_line, method_hint};
use super::{AccessToken, AuthError, AuthMethod, TokenSource};

/// The longest a token request may take, its retries included.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(20);

/// Builds a credential; called once up front and again after every invalidation.
pub type CredentialFactory =
    Box<dyn Fn() -> Result<Arc<dyn TokenCredential>, AuthError> + Send + Sync>;

/// Tokens for one scope from an azure_identity credential.
pub struct AzureTokenSource {
    method: AuthMethod,
    scope: &'static str,
    /// The Entra authority (or other issuer) tokens come from, for messages.
    authority: String,
    factory: CredentialFactory,
    current: Mutex<Arc<dyn TokenCredential>>,
    /// The expiry of the last token handed out: a different one is a new token.
    last_expiry: Mutex<Option<time::OffsetDateTime>>,
}

impl AzureTokenSource {
    /// A source for `scope`; builds the first credential now so that configuration errors
    /// surface before any request.
    /// `authority` is where the credential asks (named in errors).
    pub fn new(
        method: AuthMethod,
        scope: &'static str,
        authority: impl Into<String>,
        factory: CredentialFactory,
    ) -> Result<AzureTokenSource, AuthError> {
        let first = factory()?;
        Ok(AzureTokenSource {
            method,
            scope,
            authority: authority.into(),
            factory,
            current: Mutex::new(first),
            last_expiry: Mutex::new(None),
        })
    }

    fn credential(&self) -> Arc<dyn TokenCredential> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl fmt::Debug for AzureTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureTokenSource")
            .field("method", &self.method)
            .field("scope", &self.scope)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenSource for AzureTokenSource {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let credential = self.credential();
        let started = Instant::now();
        let fail = |reason: String| {
            let message = format!(
                "`{}` could not get a token for `{}` from `{}`: {reason}",
                self.method.name(),
                self.scope,
                self.authority,
            );
            crate::trace::token(
                self.method.name(),
                "failed",
                &self.authority,
                started.elapsed(),
                None,
                &message,
            );
            AuthError::new(
                message,
                Some(
                    method_hint(self.method).to_owned()
                        + "; `sharedbox doctor` shows what the token holds",
                ),
            )
        };
        let token =
            match tokio::time::timeout(TOKEN_TIMEOUT, credential.get_token(&[self.scope], None))
                .await
            {
                Ok(Ok(token)) => token,
                Ok(Err(e)) => return Err(fail(first_line(&e.to_string()).to_owned())),
                Err(_) => {
                    return Err(fail(format!(
                        "no answer within {} s",
                        TOKEN_TIMEOUT.as_secs()
                    )));
                }
            };
        let mut last = self.last_expiry.lock().unwrap_or_else(|p| p.into_inner());
        if *last != Some(token.expires_on) {
            *last = Some(token.expires_on);
            crate::trace::token(
                self.method.name(),
                "acquired",
                &self.authority,
                started.elapsed(),
                Some((token.expires_on - time::OffsetDateTime::now_utc()).whole_seconds()),
                "",
            );
        }
        Ok(AccessToken::new(
            token.token.secret().to_owned(),
            Some(token.expires_on),
        ))
    }

    fn invalidate(&self) {
        // A credential that cannot be rebuilt keeps the old one; the next request then
        // fails with the server's 401 and its hint.
        if let Ok(fresh) = (self.factory)() {
            *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
    }

    fn method(&self) -> &'static str {
        self.method.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::credentials::{AccessToken as AzureToken, TokenRequestOptions};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct Counting(usize);

    #[async_trait::async_trait]
    impl TokenCredential for Counting {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AzureToken> {
            Ok(AzureToken::new(
                format!("token-{}", self.0),
                time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            ))
        }
    }

    #[tokio::test]
    async fn invalidation_builds_a_fresh_credential() {
        let built = Arc::new(AtomicUsize::new(0));
        let counter = built.clone();
        let source = AzureTokenSource::new(
            AuthMethod::ClientSecret,
            "https://outlook.office365.com/.default",
            "https://login.microsoftonline.com",
            Box::new(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                Ok(Arc::new(Counting(n)) as Arc<dyn TokenCredential>)
            }),
        )
        .unwrap();
        assert_eq!(source.token().await.unwrap().secret(), "token-0");
        assert_eq!(source.token().await.unwrap().secret(), "token-0");
        source.invalidate();
        assert_eq!(source.token().await.unwrap().secret(), "token-1");
        assert!(!format!("{source:?}").contains("token-"));
    }
}
