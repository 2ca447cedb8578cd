//! `sharedbox.yaml` and command-line overrides, resolved into a [`RunConfig`] before any I/O
//! against the tenant.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sharedbox_policy::{Diagnostic, Source};

use crate::output::Failure;

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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TenantConfig {
    backend: Backend,
    #[serde(default)]
    path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Backend {
    File,
}

/// Which tenant to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSpec {
    /// The file backend, at this path.
    File(PathBuf),
}

/// Everything a command needs, resolved.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The policy folder.
    pub policies: PathBuf,
    /// The tenant, when one is configured.
    pub tenant: Option<TenantSpec>,
    /// Where journals and locks go.
    pub state_dir: PathBuf,
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

/// Resolves the configuration file and overrides.
pub fn resolve(
    config: Option<&Path>,
    policies: Option<&Path>,
    tenant: Option<&str>,
) -> Result<RunConfig, ConfigError> {
    let default = Path::new("sharedbox.yaml");
    let path = match config {
        Some(p) => Some(p.to_path_buf()),
        None if default.exists() => Some(default.to_path_buf()),
        None => None,
    };
    let (file, base) = match &path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::new(format!("cannot read configuration `{}`: {e}", path.display()))
                    .hint("pass an existing file with `--config`, or run sharedbox where `sharedbox.yaml` is")
            })?;
            let source = Source::new(path.clone(), text);
            let file: ConfigFile =
                sharedbox_policy::parse_yaml(&source).map_err(ConfigError::Located)?;
            (
                Some(file),
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
            )
        }
        None => (None, PathBuf::new()),
    };
    let relative = |p: &Path| clean(&base.join(p));
    let policies = match (policies, file.as_ref().and_then(|f| f.policies.as_deref())) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => relative(p),
        (None, None) if path.is_some() => relative(Path::new("policies")),
        (None, None) => {
            return Err(Failure::new("no `sharedbox.yaml` in the current directory")
                .hint("run sharedbox in the folder that holds `sharedbox.yaml`, or pass `--config FILE` or `--policies DIR`")
                .into());
        }
    };
    let tenant = match tenant {
        Some(spec) => Some(parse_tenant(spec)?),
        None => match file.as_ref().and_then(|f| f.tenant.as_ref()) {
            Some(TenantConfig {
                backend: Backend::File,
                path: Some(p),
            }) => Some(TenantSpec::File(relative(p))),
            Some(TenantConfig {
                backend: Backend::File,
                path: None,
            }) => {
                return Err(Failure::new("`tenant.backend: file` needs `tenant.path`")
                    .hint("set `tenant.path` to the tenant snapshot, e.g. `examples/contoso/tenant.yaml`")
                    .into());
            }
            None => None,
        },
    };
    let state_dir = relative(
        file.as_ref()
            .and_then(|f| f.state_dir.as_deref())
            .unwrap_or(Path::new(".sharedbox")),
    );
    Ok(RunConfig {
        policies,
        tenant,
        state_dir,
    })
}

fn parse_tenant(spec: &str) -> Result<TenantSpec, Failure> {
    match spec.split_once(':') {
        Some(("file", path)) if !path.is_empty() => Ok(TenantSpec::File(PathBuf::from(path))),
        _ => Err(Failure::new(format!("unknown tenant `{spec}`"))
            .hint("this version of sharedbox supports `--tenant file:PATH`")),
    }
}

/// `./a/b` -> `a/b`, for readable paths in messages.
fn clean(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

impl RunConfig {
    /// The configured tenant, or an error that says how to configure one.
    pub fn tenant(&self) -> Result<&TenantSpec, Failure> {
        self.tenant.as_ref().ok_or_else(|| {
            Failure::new("no tenant configured")
                .hint("set `tenant` in `sharedbox.yaml`, or pass `--tenant file:PATH`")
        })
    }
}
