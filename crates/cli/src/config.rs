//! `sharedbox.yaml` and command-line overrides, resolved into a [`RunConfig`] before any I/O
//! against the tenant.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::Deserialize;
use sharedbox_policy::document::{LintLevel, Sp};
use sharedbox_policy::{Diagnostic, LintLevels, Source};

use sharedbox_exo::Cloud;
use sharedbox_exo::auth::AuthConfig;

use crate::output::{Failure, hint_of};

/// The configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigFile {
    /// The policy folder, relative to the configuration file.
    #[serde(default)]
    policies: Option<PathBuf>,
    /// The tenant.
    #[serde(default)]
    tenant: Option<TenantConfig>,
    /// Where journals and locks go.
    #[serde(default)]
    state_dir: Option<PathBuf>,
    /// A remote state store instead of `stateDir` (`state: {backend: azure-blob, ...}`).
    #[serde(default)]
    state: Option<StateConfig>,
    /// Lint levels by code or name: `error`, `warning`, `info` or `off`.
    #[serde(default)]
    lints: BTreeMap<String, Sp<LintLevel>>,
    /// Many tenants in this repository ([`crate::fleet`]).
    #[serde(default)]
    fleet: Option<crate::fleet::FleetConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TenantConfig {
    backend: Backend,
    /// `file`: the tenant snapshot.
    #[serde(default)]
    path: Option<PathBuf>,
    /// `exchange-online`: the tenant's GUID or initial domain.
    #[serde(default, alias = "tenantId")]
    tenant: Option<String>,
    /// `exchange-online`: `global`, `gcc-high`, `dod` or `china`.
    #[serde(default)]
    cloud: Option<String>,
    /// `exchange-online`: a base URL instead of the cloud's.
    #[serde(default)]
    endpoint: Option<String>,
    /// `exchange-online`: how to get tokens.
    #[serde(default)]
    auth: Option<AuthConfig>,
    /// `exchange-online`: admin API requests in flight at most.
    #[serde(default)]
    concurrency: Option<usize>,
}

/// `state:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StateConfig {
    backend: StateBackend,
    /// `azure-blob`: the storage account.
    #[serde(default)]
    account: Option<String>,
    /// `azure-blob`: the container.
    #[serde(default)]
    container: Option<String>,
    /// `azure-blob`: the folder in the container.
    #[serde(default)]
    prefix: Option<String>,
    /// `azure-blob`: the blob service's base URL instead of the account's.
    #[serde(default)]
    endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StateBackend {
    /// `stateDir`, spelled out.
    Local,
    AzureBlob,
}

/// Where journals and locks are kept.
#[derive(Debug, Clone)]
pub enum StateSpec {
    /// `stateDir` (the default, `.sharedbox`).
    Local,
    /// A container in Azure Blob Storage.
    AzureBlob(sharedbox_state_azure::AzureBlobConfig),
}

/// The environment variable of a blob service endpoint chosen outside the repository.
pub const STATE_ENDPOINT_VARIABLE: &str = "SHAREDBOX_STATE_ENDPOINT";

/// `state:` resolved: required fields present, the endpoint checked
/// (`SHAREDBOX_STATE_ENDPOINT` wins and may name any host).
pub(crate) fn state_spec(
    state: Option<&StateConfig>,
    state_dir_set: bool,
) -> Result<StateSpec, Failure> {
    let Some(state) = state else {
        return Ok(StateSpec::Local);
    };
    if let StateBackend::Local = state.backend {
        return Ok(StateSpec::Local);
    }
    if state_dir_set {
        return Err(Failure::new("`sharedbox.yaml` sets both `stateDir` and `state: {backend: azure-blob}`")
            .hint("keep one: `state` for runs and locks in Azure Blob Storage, `stateDir` for a local folder"));
    }
    let field = |value: &Option<String>, name: &str, example: &str| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Failure::new(format!("`state.backend: azure-blob` needs `state.{name}`")).hint(
                    format!("e.g. `{name}: {example}` (docs/fleet.md, \"State backend\")"),
                )
            })
    };
    let account = field(&state.account, "account", "contosostate")?;
    let container = field(&state.container, "container", "sharedbox")?;
    let endpoint = match (
        sharedbox_exo::auth::config::process_env(STATE_ENDPOINT_VARIABLE),
        &state.endpoint,
    ) {
        (Some(endpoint), _) => Some(sharedbox_state_azure::check_endpoint(&endpoint, true)),
        (None, Some(endpoint)) => Some(sharedbox_state_azure::check_endpoint(endpoint, false)),
        (None, None) => None,
    }
    .transpose()
    .map_err(|e| Failure::new(format!("`state.endpoint`: {}", e.message)).hint(e.hint))?;
    Ok(StateSpec::AzureBlob(
        sharedbox_state_azure::AzureBlobConfig {
            account,
            container,
            prefix: state.prefix.clone().unwrap_or_default(),
            endpoint,
        },
    ))
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Backend {
    File,
    ExchangeOnline,
}

/// Which tenant to talk to.
#[derive(Debug, Clone)]
pub enum TenantSpec {
    /// The file backend, at this path.
    File(PathBuf),
    /// Exchange Online.
    Exo(Box<ExoSpec>),
}

/// An Exchange Online tenant and how to reach it.
#[derive(Debug, Clone)]
pub struct ExoSpec {
    /// The tenant's GUID or initial domain.
    pub tenant: String,
    /// The cloud.
    pub cloud: Cloud,
    /// A base URL instead of the cloud's (`tenant.endpoint`; `SHAREDBOX_EXO_ENDPOINT` wins).
    pub endpoint: Option<String>,
    /// How to get tokens (`SHAREDBOX_ACCESS_TOKEN` wins).
    pub auth: Option<AuthConfig>,
    /// Requests in flight at most.
    pub concurrency: Option<usize>,
}

/// Everything a command needs, resolved.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The policy folder.
    pub policies: PathBuf,
    /// The tenant, when one is configured.
    pub tenant: Option<TenantSpec>,
    /// Where journals and locks go, for the local state.
    pub state_dir: PathBuf,
    /// Where journals and locks are kept: `stateDir`, or a remote store.
    pub state: StateSpec,
    /// The lint levels set in `sharedbox.yaml` (`lints:`).
    pub lint_levels: LintLevels,
    /// In a fleet, the shared baseline folder the tenant's policies are laid over
    /// ([`sharedbox_policy::load_layered`]); `None` for a project of one tenant.
    pub baseline: Option<PathBuf>,
}

/// Errors of configuration resolution.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file has an error at a position.
    #[error("{0}")]
    Located(Box<Diagnostic>),
    /// Anything else.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// A configuration file, read and parsed.
pub struct Loaded {
    /// Its path.
    pub path: PathBuf,
    file: ConfigFile,
    source: std::sync::Arc<Source>,
}

impl Loaded {
    /// The folder the file's paths are relative to.
    pub fn base(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The `fleet:` block, when this file is a fleet's root.
    pub fn fleet(&self) -> Option<&crate::fleet::FleetConfig> {
        self.file.fleet.as_ref()
    }

    /// The file's text with positions, for located errors.
    pub fn source(&self) -> &std::sync::Arc<Source> {
        &self.source
    }

    /// `state:` as written, when set.
    pub(crate) fn state(&self) -> Option<&StateConfig> {
        self.file.state.as_ref()
    }

    /// `stateDir` as written, when set.
    pub fn state_dir(&self) -> Option<&Path> {
        self.file.state_dir.as_deref()
    }

    /// `policies` as written, when set.
    pub fn policies(&self) -> Option<&Path> {
        self.file.policies.as_deref()
    }

    /// The `tenant` block, when set.
    pub(crate) fn tenant(&self) -> Option<&TenantConfig> {
        self.file.tenant.as_ref()
    }

    /// `lints` as written.
    pub fn lints(&self) -> &BTreeMap<String, Sp<LintLevel>> {
        &self.file.lints
    }
}

/// Reads the configuration file: `config`, else `sharedbox.yaml` in the current directory
/// when there is one.
pub fn read(config: Option<&Path>) -> Result<Option<Loaded>, ConfigError> {
    let default = Path::new("sharedbox.yaml");
    let path = match config {
        Some(p) => p.to_path_buf(),
        None if default.exists() => default.to_path_buf(),
        None => return Ok(None),
    };
    read_file(&path, "configuration").map(Some)
}

/// Reads and parses a configuration-shaped file (`sharedbox.yaml`, a fleet tenant's
/// `connection.yaml`); `what` names it in messages.
pub fn read_file(path: &Path, what: &str) -> Result<Loaded, ConfigError> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let text =
        sharedbox_policy::files::read_project_file(path, &repository_of(folder), MAX_CONFIG_BYTES)
            .map_err(|e| {
                let hint = match e {
                    sharedbox_policy::files::FileError::Io { .. }
                    | sharedbox_policy::files::FileError::NotRegular { .. } => Some("pass the configuration file with `--config FILE`, or run sharedbox where `sharedbox.yaml` is".to_owned()),
                    _ => hint_of(&e),
                };
                Failure::new(format!("cannot read {what}: {e}")).maybe_hint(hint)
            })?;
    let source = Source::new(path.to_path_buf(), text);
    let file: ConfigFile = sharedbox_policy::parse_yaml(&source).map_err(ConfigError::Located)?;
    Ok(Loaded {
        path: path.to_path_buf(),
        file,
        source,
    })
}

/// Resolves a configuration file already read (or none) and the overrides.
pub fn resolve_loaded(
    loaded: Option<Loaded>,
    policies: Option<&Path>,
    tenant: Option<&str>,
) -> Result<RunConfig, ConfigError> {
    let path = loaded.as_ref().map(|l| l.path.clone());
    let mut lint_levels = LintLevels::default();
    let (file, base) = match loaded {
        Some(loaded) => {
            if loaded.file.fleet.is_some() {
                return Err(Failure::new(format!(
                    "`{}` describes a fleet of tenants (`fleet:`)",
                    loaded.path.display()
                ))
                .hint("name the tenants to work on: `--tenants all` or `--tenants NAME` (`sharedbox tenants` lists them)")
                .into());
            }
            lint_levels = lint_levels_of(&loaded.file.lints, &loaded.source)?;
            let base = loaded.base();
            (Some(loaded.file), base)
        }
        None => (None, PathBuf::new()),
    };
    let relative = |p: &Path| clean(&base.join(p));
    // Paths that `sharedbox.yaml` (repository content, so pull-request content) names must
    // stay inside the repository; paths given on the command line are the operator's.
    let repository = path.as_ref().map(|_| repository_of(&base));
    let inside = |what: &str, p: PathBuf| match &repository {
        Some(repository) => stays_inside(what, p, repository),
        None => Ok(p),
    };
    let policies = match (policies, file.as_ref().and_then(|f| f.policies.as_deref())) {
        (Some(p), _) => {
            warn_if_outside_repository(p);
            p.to_path_buf()
        }
        (None, Some(p)) => inside("policies", relative(p))?,
        (None, None) if path.is_some() => relative(Path::new("policies")),
        (None, None) => {
            return Err(Failure::new("no `sharedbox.yaml` in the current directory")
                .hint("run sharedbox in the folder that holds `sharedbox.yaml`, or pass `--config FILE` or `--policies DIR`")
                .into());
        }
    };
    let configured = file.as_ref().and_then(|f| f.tenant.as_ref());
    let tenant = tenant_spec(configured, tenant, &base, &inside)?;
    let state_dir = relative(
        file.as_ref()
            .and_then(|f| f.state_dir.as_deref())
            .unwrap_or(Path::new(".sharedbox")),
    );
    let state = state_spec(
        file.as_ref().and_then(|f| f.state.as_ref()),
        file.as_ref().is_some_and(|f| f.state_dir.is_some()),
    )?;
    Ok(RunConfig {
        policies,
        tenant,
        state_dir,
        state,
        lint_levels,
        baseline: None,
    })
}

/// The tenant: `--tenant` (`flag`) when given, else the `tenant` block `configured` of a file
/// in `base`; `inside` checks a path the file names.
pub(crate) fn tenant_spec(
    configured: Option<&TenantConfig>,
    flag: Option<&str>,
    base: &Path,
    inside: &dyn Fn(&str, PathBuf) -> Result<PathBuf, Failure>,
) -> Result<Option<TenantSpec>, Failure> {
    let relative = |p: &Path| clean(&base.join(p));
    Ok(match flag {
        Some(spec) => Some(parse_tenant(spec, configured, base)?),
        None => match configured {
            Some(TenantConfig {
                backend: Backend::File,
                path: Some(p),
                ..
            }) => Some(TenantSpec::File(inside("tenant.path", relative(p))?)),
            Some(TenantConfig {
                backend: Backend::File,
                path: None,
                ..
            }) => {
                return Err(Failure::new("`tenant.backend: file` needs `tenant.path`")
                    .hint("set `tenant.path` to the tenant snapshot, e.g. `examples/contoso/tenant.yaml`"));
            }
            Some(
                config @ TenantConfig {
                    backend: Backend::ExchangeOnline,
                    ..
                },
            ) => {
                let Some(name) = config.tenant.clone() else {
                    return Err(Failure::new("`tenant.backend: exchange-online` needs `tenant.tenant`")
                        .hint("set `tenant.tenant` to the tenant's initial domain (e.g. `contoso.onmicrosoft.com`) or its GUID"));
                };
                Some(TenantSpec::Exo(Box::new(exo_spec(
                    name,
                    Some(config),
                    base,
                )?)))
            }
            None => None,
        },
    })
}

/// The largest `sharedbox.yaml` read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The repository that holds `folder`: its git checkout's top folder, or the folder itself
/// outside git.
pub(crate) fn repository_of(folder: &Path) -> PathBuf {
    crate::git::toplevel(folder).unwrap_or_else(|| {
        if folder.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            folder.to_path_buf()
        }
    })
}

/// `path`, a path from `sharedbox.yaml`'s `what`, if it does not lead out of `repository`
/// (links resolved); a path that does not exist yet is checked when it is read.
pub(crate) fn stays_inside(
    what: &str,
    path: PathBuf,
    repository: &Path,
) -> Result<PathBuf, Failure> {
    match sharedbox_policy::files::is_inside(&path, repository) {
        Some(false) => Err(Failure::new(format!(
            "`{what}` in `sharedbox.yaml` is `{}`, outside the repository `{}`; refusing to read it",
            path.display(),
            repository.display()
        ))
        .hint(format!(
            "keep it inside the repository; a pull request must not point sharedbox at other files on the runner (pass `{}` on the command line to use such a path deliberately)",
            if what == "policies" { "--policies DIR" } else { "--tenant file:PATH" }
        ))),
        Some(true) | None => Ok(path),
    }
}

/// Says so when `--policies DIR` is outside the repository of the current folder.
fn warn_if_outside_repository(policies: &Path) {
    let Some(repository) = crate::git::toplevel(Path::new(".")) else {
        return;
    };
    if sharedbox_policy::files::is_inside(policies, &repository) == Some(false) {
        crate::output::note(&format!(
            "warning: the policy folder `{}` is outside the repository `{}`; its files are not what a pull request reviews",
            policies.display(),
            repository.display()
        ));
    }
}

/// `lints: {SBX105: off, sender-cannot-read-sent-items: error}`, checked as in a policy
/// document.
fn lint_levels_of(
    lints: &BTreeMap<String, Sp<LintLevel>>,
    source: &std::sync::Arc<Source>,
) -> Result<LintLevels, ConfigError> {
    lint_levels_over(LintLevels::default(), lints, source)
}

/// `levels` with the `lints:` of a file laid over them, checked as in a policy document.
pub(crate) fn lint_levels_over(
    levels: LintLevels,
    lints: &BTreeMap<String, Sp<LintLevel>>,
    source: &std::sync::Arc<Source>,
) -> Result<LintLevels, ConfigError> {
    let mut problems = Vec::new();
    let overrides = sharedbox_policy::lint::levels_of(lints, source, &mut problems);
    match problems.into_iter().next() {
        Some(problem) => Err(ConfigError::Located(Box::new(problem))),
        None => Ok(levels.with_overrides(&overrides)),
    }
}

/// `--tenant file:PATH` or `--tenant exo:TENANT`; an `exo:` tenant keeps the cloud, endpoint
/// and auth of an `exchange-online` tenant in `sharedbox.yaml`.
fn parse_tenant(
    spec: &str,
    configured: Option<&TenantConfig>,
    base: &Path,
) -> Result<TenantSpec, Failure> {
    match spec.split_once(':') {
        Some(("file", path)) if !path.is_empty() => Ok(TenantSpec::File(PathBuf::from(path))),
        Some(("exo", tenant)) if !tenant.trim().is_empty() => {
            let configured = configured.filter(|c| matches!(c.backend, Backend::ExchangeOnline));
            let spec = exo_spec(tenant.trim().to_owned(), configured, base)?;
            Ok(TenantSpec::Exo(Box::new(spec)))
        }
        _ => Err(Failure::new(format!("unknown tenant `{spec}`"))
            .hint("use `--tenant file:PATH` or `--tenant exo:contoso.onmicrosoft.com`")),
    }
}

/// An Exchange Online tenant; files named in `tenant.auth` are relative to `base`, the
/// folder of `sharedbox.yaml`.
fn exo_spec(
    tenant: String,
    config: Option<&TenantConfig>,
    base: &Path,
) -> Result<ExoSpec, Failure> {
    let cloud = match config.and_then(|c| c.cloud.as_deref()) {
        Some(name) => name.parse::<Cloud>().map_err(|e| {
            Failure::new(format!("`tenant.cloud`: {e}"))
                .hint("leave `tenant.cloud` out for the commercial cloud (`global`)")
        })?,
        None => Cloud::Global,
    };
    Ok(ExoSpec {
        tenant,
        cloud,
        endpoint: config.and_then(|c| c.endpoint.clone()),
        auth: config.and_then(|c| c.auth.clone()).map(|mut auth| {
            auth.certificate_path = auth.certificate_path.map(|p| clean(&base.join(p)));
            auth.token_file = auth.token_file.map(|p| clean(&base.join(p)));
            auth
        }),
        concurrency: config.and_then(|c| c.concurrency),
    })
}

/// `./a/b` -> `a/b`, for readable paths in messages.
pub(crate) fn clean(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

impl RunConfig {
    /// Loads the policies: the policy folder, laid over the fleet's baseline in a fleet.
    pub fn load_policy_set(
        &self,
    ) -> Result<sharedbox_policy::PolicySet, sharedbox_policy::Diagnostics> {
        match &self.baseline {
            Some(baseline) => sharedbox_policy::load_dir_with_baseline(baseline, &self.policies),
            None => sharedbox_policy::load_dir(&self.policies),
        }
    }

    /// The configured tenant, or an error that says how to configure one.
    pub fn tenant(&self) -> Result<&TenantSpec, Failure> {
        self.tenant.as_ref().ok_or_else(|| {
            Failure::new("no tenant configured")
                .hint("set `tenant` in `sharedbox.yaml`, or pass `--tenant file:PATH` or `--tenant exo:TENANT`")
        })
    }
}
