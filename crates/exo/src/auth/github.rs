//! GitHub Actions OIDC: the job's ID token as the client assertion of an app registration
//! with a federated credential for the repository (no secret stored anywhere).
//!
//! The runner exposes `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` to
//! jobs with `permissions: id-token: write`; a GET with the audience appended returns
//! `{"value": "<jwt>"}`. A fresh token is fetched for every assertion (they live minutes).

use std::fmt;

use azure_core::credentials::Secret;
use azure_core::error::ErrorKind;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use serde::Deserialize;

use crate::cloud::Cloud;

/// Fetches the running job's OIDC token.
pub struct GitHubOidcAssertion {
    url: String,
    token: Secret,
    audience: String,
    http: reqwest::Client,
}

impl fmt::Debug for GitHubOidcAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubOidcAssertion")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IdToken {
    value: String,
}

impl GitHubOidcAssertion {
    /// The audience Entra expects of federated tokens in `cloud`.
    pub fn default_audience(cloud: Cloud) -> &'static str {
        match cloud {
            Cloud::Global => "api://AzureADTokenExchange",
            Cloud::GccHigh | Cloud::Dod => "api://AzureADTokenExchangeUSGov",
            Cloud::China => "api://AzureADTokenExchangeChina",
        }
    }

    /// An assertion from the runner's request URL and token, for `audience`.
    pub fn new(url: String, token: Secret, audience: String) -> GitHubOidcAssertion {
        GitHubOidcAssertion {
            url,
            token,
            audience,
            http: reqwest::Client::new(),
        }
    }

    /// The request URL with the audience appended.
    fn request_url(&self) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("`ACTIONS_ID_TOKEN_REQUEST_URL` is not a URL: {e}"))?;
        url.query_pairs_mut()
            .append_pair("audience", &self.audience);
        Ok(url)
    }

    async fn fetch(&self) -> Result<String, String> {
        let response = self
            .http
            .get(self.request_url()?)
            .bearer_auth(self.token.secret())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot reach the GitHub OIDC endpoint: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "the GitHub OIDC endpoint answered {status}; does the job have `permissions: id-token: write`?"
            ));
        }
        let body: IdToken = response
            .json()
            .await
            .map_err(|e| format!("the GitHub OIDC endpoint sent no token: {e}"))?;
        Ok(body.value)
    }
}

#[async_trait::async_trait]
impl ClientAssertion for GitHubOidcAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.fetch()
            .await
            .map_err(|message| azure_core::Error::with_message(ErrorKind::Credential, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_is_appended_to_the_runner_url() {
        let a = GitHubOidcAssertion::new(
            "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0".into(),
            Secret::new("t"),
            GitHubOidcAssertion::default_audience(Cloud::GccHigh).into(),
        );
        let url = a.request_url().unwrap();
        assert_eq!(
            url.as_str(),
            "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchangeUSGov"
        );
        assert!(!format!("{a:?}").contains("\"t\""));
    }
}
