//! `tenant.auth` in `sharedbox.yaml`: which credential gets tokens, and [`token_source`],
//! which builds it.
//!
//! Secrets never live in the file: a client secret, an Azure Pipelines system token or a
//! static token is read from an environment variable the file may name. Everything else
//! falls back to the environment variables the Azure tools set (`AZURE_CLIENT_ID`,
//! `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`, `AZURESUBSCRIPTION_*`).

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzurePipelinesCredential,
    AzurePipelinesCredentialOptions, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use serde::Deserialize;

use super::azure::AzureTokenSource;
use super::certificate::CertificateAssertion;
use super::github::GitHubOidcAssertion;
use super::{AuthError, StaticToken, TokenSource};
use crate::cloud::Cloud;

/// The environment variable a client secret is read from unless `clientSecretEnv` names another.
pub const CLIENT_SECRET_VARIABLE: &str = "SHAREDBOX_CLIENT_SECRET";
/// The environment variable of a static bearer token.
pub const ACCESS_TOKEN_VARIABLE: &str = "SHAREDBOX_ACCESS_TOKEN";

/// How long the connection to the authority (TCP and TLS) may take.
pub const AUTHORITY_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How sharedbox gets tokens (`tenant.auth.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// An app registration's client secret, from an environment variable.
    ClientSecret,
    /// An app registration's certificate: a PEM file with the private key and the certificate.
    Certificate,
    /// A federated token file (Kubernetes workload identity, or any OIDC issuer).
    WorkloadIdentity,
    /// The GitHub Actions OIDC token of the running job (`permissions: id-token: write`).
    GithubOidc,
    /// An Azure DevOps service connection with workload identity federation.
    AzurePipelines,
    /// The managed identity of the Azure host (system-assigned, or user-assigned by client ID).
    ManagedIdentity,
    /// The signed-in Azure CLI (`az login`), for a person at a terminal.
    AzureCli,
    /// A bearer token from an environment variable, never refreshed.
    AccessToken,
}

impl AuthMethod {
    /// The name used in `sharedbox.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "client-secret",
            AuthMethod::Certificate => "certificate",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::GithubOidc => "github-oidc",
            AuthMethod::AzurePipelines => "azure-pipelines",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::AzureCli => "azure-cli",
            AuthMethod::AccessToken => "access-token",
        }
    }
}

/// `tenant.auth`: the method and what it needs. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthConfig {
    /// The credential.
    pub method: AuthMethod,
    /// The app registration's (or user-assigned managed identity's) client ID;
    /// `AZURE_CLIENT_ID` when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The Entra tenant that issues the token; `AZURE_TENANT_ID`, else the Exchange tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// `client-secret`: the environment variable holding the secret
    /// (default `SHAREDBOX_CLIENT_SECRET`, then `AZURE_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// `certificate`: a PEM file with an unencrypted private key and its certificate
    /// (`SHAREDBOX_CERTIFICATE_PATH` when absent).
    #[serde(default)]
    pub certificate_path: Option<PathBuf>,
    /// `workload-identity`: the federated token file (`AZURE_FEDERATED_TOKEN_FILE` when absent).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// `azure-pipelines`: the service connection's ID
    /// (`AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` when absent).
    #[serde(default)]
    pub service_connection_id: Option<String>,
    /// `github-oidc`: the audience of the GitHub token; the federated credential's audience
    /// (default `api://AzureADTokenExchange`, the US Government and China variants in their clouds).
    #[serde(default)]
    pub audience: Option<String>,
    /// `access-token`: the environment variable holding the token (default `SHAREDBOX_ACCESS_TOKEN`).
    #[serde(default)]
    pub token_env: Option<String>,
}

/// Reads environment variables; a parameter so tests need not touch the process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, blank values treated as absent.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Builds the token source `config` describes, for the Exchange tenant `tenant` (GUID or
/// initial domain) in `cloud`. Configuration errors surface here, before any request.
pub fn token_source(
    config: &AuthConfig,
    tenant: &str,
    cloud: Cloud,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    token_source_with(config, tenant, cloud, &process_env)
}

/// [`token_source`] with an explicit environment.
pub fn token_source_with(
    config: &AuthConfig,
    tenant: &str,
    cloud: Cloud,
    env: Env<'_>,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    token_source_at(config, tenant, cloud, env, cloud.authority_host())
}

/// The azure_identity credential `config` describes, for another Azure resource than
/// Exchange (the `azure-blob` state store): the same identity as the Exchange token, built
/// the same way. `access-token` is a token for Exchange only and has none.
///
/// # Errors
/// `access-token`, or what [`token_source`] would refuse.
pub fn credential(
    config: &AuthConfig,
    tenant: &str,
    cloud: Cloud,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    if config.method == AuthMethod::AccessToken {
        return Err(AuthError::new(
            "`access-token` is a token for Exchange Online only, not for Azure Storage",
            Some(
                "use another `tenant.auth.method`, or a SAS token in `SHAREDBOX_STATE_SAS_TOKEN`"
                    .to_owned(),
            ),
        ));
    }
    let mut settings = Settings::resolve(config, tenant, cloud, &process_env)?;
    settings.authority = cloud.authority_host().to_owned();
    settings.credential()
}

/// [`token_source_with`] with the authority host given (tests point it at loopback).
fn token_source_at(
    config: &AuthConfig,
    tenant: &str,
    cloud: Cloud,
    env: Env<'_>,
    authority: &str,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    let method = config.method;
    if method == AuthMethod::AccessToken {
        let name = config.token_env.as_deref().unwrap_or(ACCESS_TOKEN_VARIABLE);
        let token = env(name).ok_or_else(|| {
            AuthError::new(
                format!("`access-token`: the environment variable `{name}` is not set"),
                Some(format!(
                    "export `{name}` with a bearer token for `{}`",
                    cloud.scope()
                )),
            )
        })?;
        return Ok(Arc::new(StaticToken::new(token.trim())));
    }
    let mut settings = Settings::resolve(config, tenant, cloud, env)?;
    settings.authority = authority.to_owned();
    let issuer = match method {
        AuthMethod::ManagedIdentity => "the managed identity endpoint".to_owned(),
        AuthMethod::AzureCli => "the Azure CLI".to_owned(),
        _ => authority.to_owned(),
    };
    // Built once now so that errors surface before any request, and again after a 401
    // (a fresh credential has an empty cache).
    let factory = move || settings.credential();
    AzureTokenSource::new(method, cloud.scope(), issuer, Box::new(factory))
        .map(|source| Arc::new(source) as Arc<dyn TokenSource>)
}

/// Everything a credential needs, resolved from the file and the environment.
struct Settings {
    method: AuthMethod,
    cloud: Cloud,
    /// The Entra authority host (the cloud's).
    authority: String,
    tenant_id: String,
    client_id: Option<String>,
    token_file: Option<PathBuf>,
    material: Material,
}

/// What a method needs beyond IDs, read once when the configuration is resolved.
enum Material {
    None,
    ClientSecret(Secret),
    Certificate(PathBuf),
    AzurePipelines {
        connection: String,
        token: Secret,
    },
    GithubOidc {
        url: String,
        token: Secret,
        audience: String,
    },
}

impl Settings {
    fn resolve(
        config: &AuthConfig,
        tenant: &str,
        cloud: Cloud,
        env: Env<'_>,
    ) -> Result<Settings, AuthError> {
        let method = config.method;
        let name = method.name();
        let pipelines = method == AuthMethod::AzurePipelines;
        let client_id = config.client_id.clone().or_else(|| {
            env(if pipelines {
                "AZURESUBSCRIPTION_CLIENT_ID"
            } else {
                "AZURE_CLIENT_ID"
            })
        });
        let tenant_id = config
            .tenant_id
            .clone()
            .or_else(|| {
                env(if pipelines {
                    "AZURESUBSCRIPTION_TENANT_ID"
                } else {
                    "AZURE_TENANT_ID"
                })
            })
            .unwrap_or_else(|| tenant.to_owned());
        let needs_client_id = matches!(
            method,
            AuthMethod::ClientSecret
                | AuthMethod::Certificate
                | AuthMethod::GithubOidc
                | AuthMethod::AzurePipelines
        );
        if needs_client_id && client_id.is_none() {
            return Err(AuthError::new(
                format!("`{name}` needs the app registration's client ID"),
                Some(format!(
                    "set `tenant.auth.clientId` or `{}`",
                    if pipelines {
                        "AZURESUBSCRIPTION_CLIENT_ID"
                    } else {
                        "AZURE_CLIENT_ID"
                    }
                )),
            ));
        }
        let material = match method {
            AuthMethod::ClientSecret => {
                let variable = config
                    .client_secret_env
                    .as_deref()
                    .unwrap_or(CLIENT_SECRET_VARIABLE);
                let value = env(variable).or_else(|| {
                    config
                        .client_secret_env
                        .is_none()
                        .then(|| env("AZURE_CLIENT_SECRET"))
                        .flatten()
                });
                let value = value.ok_or_else(|| {
                    AuthError::new(
                        format!("`client-secret`: the environment variable `{variable}` is not set"),
                        Some(format!(
                            "export the app registration's client secret as `{variable}`; secrets are never read from `sharedbox.yaml`"
                        )),
                    )
                })?;
                Material::ClientSecret(Secret::new(value.trim().to_owned()))
            }
            AuthMethod::Certificate => {
                let path = config
                    .certificate_path
                    .clone()
                    .or_else(|| env("SHAREDBOX_CERTIFICATE_PATH").map(PathBuf::from))
                    .ok_or_else(|| {
                        AuthError::new(
                            "`certificate` needs the path of a PEM file with the private key and the certificate",
                            Some("set `tenant.auth.certificatePath` or `SHAREDBOX_CERTIFICATE_PATH`".to_owned()),
                        )
                    })?;
                Material::Certificate(path)
            }
            AuthMethod::AzurePipelines => {
                let connection = config
                    .service_connection_id
                    .clone()
                    .or_else(|| env("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"))
                    .ok_or_else(|| AuthError::new(
                        "`azure-pipelines` needs the service connection's ID",
                        Some("set `tenant.auth.serviceConnectionId`, or run inside an `AzureCLI@2` task that sets `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID`".to_owned()),
                    ))?;
                let token = env("SYSTEM_ACCESSTOKEN").ok_or_else(|| {
                    AuthError::new(
                        "`azure-pipelines`: `SYSTEM_ACCESSTOKEN` is not set",
                        Some("map it in the step: `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }`".to_owned()),
                    )
                })?;
                Material::AzurePipelines {
                    connection,
                    token: Secret::new(token),
                }
            }
            AuthMethod::GithubOidc => {
                let (url, token) = env("ACTIONS_ID_TOKEN_REQUEST_URL")
                    .zip(env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
                    .ok_or_else(|| {
                        AuthError::new(
                            "`github-oidc`: this is not a GitHub Actions job that may request an OIDC token",
                            Some("give the job `permissions: id-token: write`, and add a federated credential for this repository to the app registration".to_owned()),
                        )
                    })?;
                Material::GithubOidc {
                    url,
                    token: Secret::new(token),
                    audience: config
                        .audience
                        .clone()
                        .unwrap_or_else(|| GitHubOidcAssertion::default_audience(cloud).to_owned()),
                }
            }
            AuthMethod::WorkloadIdentity
            | AuthMethod::ManagedIdentity
            | AuthMethod::AzureCli
            | AuthMethod::AccessToken => Material::None,
        };
        Ok(Settings {
            method,
            cloud,
            authority: cloud.authority_host().to_owned(),
            tenant_id,
            client_id,
            token_file: config.token_file.clone(),
            material,
        })
    }

    /// The azure_core options that send token requests to this cloud's authority, with a
    /// short connect timeout and retry budget: a job that cannot reach Entra ID says so
    /// within about 10 seconds (azure_core's defaults, a 20 s connect timeout and four
    /// tries, took 80 s), while a throttled or briefly failing authority still gets one
    /// more try. [`super::azure::TOKEN_TIMEOUT`] bounds the whole request.
    fn client_options(&self) -> ClientOptions {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = self.authority.clone();
        let mut options = ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(500),
                max_retries: 1,
                max_total_elapsed: azure_core::time::Duration::seconds(8),
                max_delay: azure_core::time::Duration::seconds(4),
            }),
            ..Default::default()
        };
        // azure_core's own client is kept if this one cannot be built (it has timeouts too,
        // only longer ones).
        if let Ok(http) = reqwest::Client::builder()
            .connect_timeout(AUTHORITY_CONNECT_TIMEOUT)
            .timeout(super::azure::TOKEN_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            options.transport = Some(Transport::new(Arc::new(http)));
        }
        options
    }

    fn assertion_options(&self) -> ClientAssertionCredentialOptions {
        ClientAssertionCredentialOptions {
            client_options: self.client_options(),
        }
    }

    /// A new credential (with an empty token cache).
    fn credential(&self) -> Result<Arc<dyn TokenCredential>, AuthError> {
        let client_id = self.client_id.clone().unwrap_or_default();
        let tenant_id = self.tenant_id.clone();
        let built: azure_core::Result<Arc<dyn TokenCredential>> =
            match (&self.material, self.method) {
                (Material::ClientSecret(secret), _) => ClientSecretCredential::new(
                    &tenant_id,
                    client_id,
                    secret.clone(),
                    Some(ClientSecretCredentialOptions {
                        client_options: self.client_options(),
                    }),
                )
                .map(|c| c as Arc<dyn TokenCredential>),
                (Material::Certificate(path), _) => {
                    let audience = format!(
                        "{}/{tenant_id}/oauth2/v2.0/token",
                        self.cloud.authority_host()
                    );
                    let assertion = CertificateAssertion::load(path, &client_id, &audience)?;
                    ClientAssertionCredential::new(
                        tenant_id,
                        client_id,
                        assertion,
                        Some(self.assertion_options()),
                    )
                    .map(|c| c as Arc<dyn TokenCredential>)
                }
                (
                    Material::GithubOidc {
                        url,
                        token,
                        audience,
                    },
                    _,
                ) => ClientAssertionCredential::new(
                    tenant_id,
                    client_id,
                    GitHubOidcAssertion::new(url.clone(), token.clone(), audience.clone()),
                    Some(self.assertion_options()),
                )
                .map(|c| c as Arc<dyn TokenCredential>),
                (Material::AzurePipelines { connection, token }, _) => {
                    let options = AzurePipelinesCredentialOptions {
                        credential_options: self.assertion_options(),
                    };
                    AzurePipelinesCredential::new(
                        tenant_id,
                        client_id,
                        connection,
                        token.clone(),
                        Some(options),
                    )
                    .map(|c| c as Arc<dyn TokenCredential>)
                }
                (Material::None, AuthMethod::WorkloadIdentity) => {
                    let options = WorkloadIdentityCredentialOptions {
                        credential_options: self.assertion_options(),
                        client_id: self.client_id.clone(),
                        tenant_id: Some(tenant_id),
                        token_file_path: self.token_file.clone(),
                    };
                    WorkloadIdentityCredential::new(Some(options))
                        .map(|c| c as Arc<dyn TokenCredential>)
                }
                (Material::None, AuthMethod::ManagedIdentity) => {
                    let options = ManagedIdentityCredentialOptions {
                        user_assigned_id: self.client_id.clone().map(UserAssignedId::ClientId),
                        client_options: self.client_options(),
                    };
                    ManagedIdentityCredential::new(Some(options))
                        .map(|c| c as Arc<dyn TokenCredential>)
                }
                // `azure-cli`; `access-token` never builds a credential.
                (Material::None, _) => {
                    let options = AzureCliCredentialOptions {
                        tenant_id: Some(tenant_id),
                        ..Default::default()
                    };
                    AzureCliCredential::new(Some(options)).map(|c| c as Arc<dyn TokenCredential>)
                }
            };
        built.map_err(|e| {
            AuthError::new(
                format!(
                    "cannot set up `{}`: {}",
                    self.method.name(),
                    first_line(&e.to_string())
                ),
                Some(method_hint(self.method).to_owned()),
            )
        })
    }
}

/// What to check when a method fails.
pub(super) fn method_hint(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::ClientSecret => {
            "check `tenant.auth.clientId`, `tenant.auth.tenantId` and that the secret has not expired (docs/exchange-online.md)"
        }
        AuthMethod::Certificate => {
            "check that the certificate is uploaded to the app registration and the PEM file holds an unencrypted key (docs/exchange-online.md)"
        }
        AuthMethod::WorkloadIdentity => {
            "check `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID` and the app registration's federated credential"
        }
        AuthMethod::GithubOidc => {
            "check the federated credential's subject (`repo:OWNER/REPO:...`) and audience on the app registration"
        }
        AuthMethod::AzurePipelines => {
            "check the service connection (workload identity federation) and `SYSTEM_ACCESSTOKEN`"
        }
        AuthMethod::ManagedIdentity => {
            "run on an Azure host with a managed identity; for a user-assigned one set `tenant.auth.clientId`"
        }
        AuthMethod::AzureCli => "run `az login --tenant TENANT` first",
        AuthMethod::AccessToken => "export a fresh token",
    }
}

/// The first line of an azure_core error (the rest is a troubleshooting link).
pub(super) fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(yaml: &str) -> AuthConfig {
        serde_json::from_value(serde_json::from_str(yaml).unwrap()).unwrap()
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    /// An authority that refuses connections, and one that accepts TCP and never speaks
    /// (the TLS handshake never ends): each token request gives up within seconds, not the
    /// 80 s of azure_core's defaults, and names the authority it tried.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_unreachable_authority_fails_within_seconds_and_is_named() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let cases = [
            (
                format!("https://{closed}"),
                std::time::Duration::from_secs(8),
            ),
            (
                format!("https://{}", silent.local_addr().unwrap()),
                std::time::Duration::from_secs(15),
            ),
        ];
        let config = config(
            r#"{"method": "client-secret", "clientId": "00000000-0000-4000-8000-0000000000aa"}"#,
        );
        let env = env_of(&[(CLIENT_SECRET_VARIABLE, "FAKE-SECRET-91c2")]);
        for (authority, bound) in cases {
            let source = token_source_at(
                &config,
                "contoso.onmicrosoft.com",
                Cloud::Global,
                &env,
                &authority,
            )
            .unwrap();
            let started = std::time::Instant::now();
            let error = source.token().await.unwrap_err();
            let took = started.elapsed();
            assert!(took < bound, "{authority}: {took:?}: {}", error.message);
            assert!(
                error.message.contains(&format!("from `{authority}`")),
                "{}",
                error.message
            );
            assert!(!error.message.contains("FAKE-SECRET"), "{}", error.message);
        }
        drop(silent);
    }

    #[test]
    fn a_client_secret_comes_from_the_environment_and_never_from_errors() {
        let c = config(r#"{"method": "client-secret", "clientId": "app"}"#);
        let err = token_source_with(&c, "contoso.onmicrosoft.com", Cloud::Global, &env_of(&[]))
            .unwrap_err();
        assert!(
            err.message.contains("`SHAREDBOX_CLIENT_SECRET`"),
            "{}",
            err.message
        );
        let env = env_of(&[("SHAREDBOX_CLIENT_SECRET", "s3cr3t-value")]);
        let source = token_source_with(&c, "contoso.onmicrosoft.com", Cloud::Global, &env).unwrap();
        assert_eq!(source.method(), "client-secret");
        assert!(!format!("{source:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn a_named_secret_variable_does_not_fall_back_to_azure_client_secret() {
        let c = config(
            r#"{"method": "client-secret", "clientId": "app", "clientSecretEnv": "MY_SECRET"}"#,
        );
        let env = env_of(&[("AZURE_CLIENT_SECRET", "x")]);
        let err = token_source_with(&c, "t", Cloud::Global, &env).unwrap_err();
        assert!(err.message.contains("`MY_SECRET`"), "{}", err.message);
    }

    #[test]
    fn methods_that_need_an_app_say_so() {
        for method in [
            "client-secret",
            "certificate",
            "github-oidc",
            "azure-pipelines",
        ] {
            let c = config(&format!(r#"{{"method": "{method}"}}"#));
            let err = token_source_with(&c, "t", Cloud::Global, &env_of(&[])).unwrap_err();
            assert!(
                err.message.contains("client ID"),
                "{method}: {}",
                err.message
            );
            assert!(err.hint.unwrap().contains("clientId"));
        }
    }

    #[test]
    fn github_oidc_outside_actions_asks_for_id_token_write() {
        let c = config(r#"{"method": "github-oidc", "clientId": "app"}"#);
        let err = token_source_with(&c, "t", Cloud::Global, &env_of(&[])).unwrap_err();
        assert!(err.hint.unwrap().contains("id-token: write"));
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let c = config(
            r#"{"method": "certificate", "clientId": "app", "certificatePath": "/nonexistent/app.pem"}"#,
        );
        let err = token_source_with(&c, "t", Cloud::Global, &env_of(&[])).unwrap_err();
        assert!(
            err.message.contains("/nonexistent/app.pem"),
            "{}",
            err.message
        );
    }

    #[test]
    fn access_token_reads_the_named_variable() {
        let c = config(r#"{"method": "access-token", "tokenEnv": "EXO_TOKEN"}"#);
        assert!(token_source_with(&c, "t", Cloud::Global, &env_of(&[])).is_err());
        let source =
            token_source_with(&c, "t", Cloud::Global, &env_of(&[("EXO_TOKEN", "abc")])).unwrap();
        assert_eq!(source.method(), "access-token");
    }

    #[test]
    fn unknown_fields_and_methods_are_refused() {
        let value = serde_json::json!({"method": "client-secret", "clientSecret": "inline"});
        assert!(serde_json::from_value::<AuthConfig>(value).is_err());
        let value = serde_json::json!({"method": "password"});
        assert!(serde_json::from_value::<AuthConfig>(value).is_err());
    }
}
