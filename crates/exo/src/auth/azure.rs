//! One [`TokenSource`] over any azure_identity credential.
//!
//! azure_identity caches tokens and refreshes them five minutes before they expire. After a
//! 401 the cached token is known bad, but the credential would hand it out again; so
//! [`TokenSource::invalidate`] replaces the credential with a fresh one (an empty cache).

use std::fmt;
use std::sync::{Arc, Mutex};

use azure_core::credentials::TokenCredential;

use super::config::{first_line, method_hint};
use super::{AccessToken, AuthError, AuthMethod, TokenSource};

/// Builds a credential; called once up front and again after every invalidation.
pub type CredentialFactory =
    Box<dyn Fn() -> Result<Arc<dyn TokenCredential>, AuthError> + Send + Sync>;

/// Tokens for one scope from an azure_identity credential.
pub struct AzureTokenSource {
    method: AuthMethod,
    scope: &'static str,
    factory: CredentialFactory,
    current: Mutex<Arc<dyn TokenCredential>>,
}

impl AzureTokenSource {
    /// A source for `scope`; builds the first credential now so that configuration errors
    /// surface before any request.
    pub fn new(
        method: AuthMethod,
        scope: &'static str,
        factory: CredentialFactory,
    ) -> Result<AzureTokenSource, AuthError> {
        let first = factory()?;
        Ok(AzureTokenSource {
            method,
            scope,
            factory,
            current: Mutex::new(first),
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
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenSource for AzureTokenSource {
    async fn token(&self) -> Result<AccessToken, AuthError> {
        let credential = self.credential();
        let token = credential
            .get_token(&[self.scope], None)
            .await
            .map_err(|e| {
                AuthError::new(
                    format!(
                        "`{}` could not get a token for `{}`: {}",
                        self.method.name(),
                        self.scope,
                        first_line(&e.to_string())
                    ),
                    Some(
                        method_hint(self.method).to_owned()
                            + "; `sharedbox doctor` shows what the token holds",
                    ),
                )
            })?;
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
