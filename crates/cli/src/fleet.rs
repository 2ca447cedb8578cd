//! Fleets: many tenants in one repository (docs/fleet.md).
//!
//! The layout:
//!
//! ```text
//! sharedbox.yaml            fleet: {tenants: tenants/, baseline: baseline/}; lints, stateDir
//! baseline/                 Defaults and Profile documents every tenant inherits
//! tenants/<name>/
//!   connection.yaml         tenant: {...} (the connection); optional lints, stateDir, policies
//!   policies/               the tenant's SharedMailbox and TenantSettings documents
//! ```
//!
//! A tenant's [`RunConfig`] is what a project of one tenant would resolve: its connection,
//! its policy folder laid over the baseline ([`sharedbox_policy::load_layered`]), the fleet's
//! lint levels with the tenant's `lints:` over them, and its own state folder
//! (`<stateDir>/<name>/` unless `connection.yaml` sets `stateDir`), so each tenant has its
//! own journal and lock. A project without `fleet:` never comes here and is unchanged.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sharedbox_policy::LintLevels;

use crate::config::{
    ConfigError, Loaded, RunConfig, StateSpec, clean, lint_levels_over, repository_of,
};
use crate::output::Failure;

/// The file in each tenant's folder that holds its connection.
pub const CONNECTION_FILE: &str = "connection.yaml";

/// The variable with which a fleet run hands one tenant to the process it starts for it.
pub const MEMBER_VARIABLE: &str = "SHAREDBOX_FLEET_MEMBER";

/// Tenants worked on at once when `fleet.parallel` is not set.
const DEFAULT_PARALLEL: usize = 8;

/// The `fleet:` block of a fleet's root `sharedbox.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetConfig {
    /// The folder of tenant folders [default: `tenants`].
    #[serde(default)]
    tenants: Option<PathBuf>,
    /// The shared baseline folder [default: `baseline`, when it exists].
    #[serde(default)]
    baseline: Option<PathBuf>,
    /// Tenants worked on at once [default: 8].
    #[serde(default)]
    parallel: Option<usize>,
}

/// A fleet, resolved: where its tenants and baseline are, and which tenants there are.
#[derive(Debug)]
pub struct Fleet {
    /// The fleet's root `sharedbox.yaml`.
    pub config_path: PathBuf,
    /// The folder of `sharedbox.yaml`.
    pub root: PathBuf,
    /// The folder of tenant folders.
    pub tenants_dir: PathBuf,
    /// The shared baseline, when there is one.
    pub baseline: Option<PathBuf>,
    /// Tenants worked on at once.
    pub parallel: usize,
    /// The fleet's state folder; each tenant's is a folder in it, by name.
    pub state_dir: PathBuf,
    /// The fleet's remote state (`state:` of the root): each tenant's runs and lock are
    /// kept under `<prefix>/<name>`.
    state: StateSpec,
    /// The lint levels of the root `sharedbox.yaml`.
    lint_levels: LintLevels,
    /// The tenants' names (their folders' names), sorted.
    pub members: Vec<String>,
}

/// Whether `name` can name a tenant: a folder name that is also a CI matrix value, a file
/// name and a word in a command line (ASCII letters, digits, `-`, `_`, `.`; not hidden).
fn is_member_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Fleet {
    /// Resolves the fleet of a root `sharedbox.yaml` (`loaded`, which has `fleet:`). The
    /// command-line overrides of a single project (`--policies`, `--tenant`) are refused:
    /// each tenant's come from its folder.
    pub fn open(
        loaded: &Loaded,
        policies_flag: Option<&Path>,
        tenant_flag: Option<&str>,
    ) -> Result<Fleet, ConfigError> {
        let config = loaded.fleet().expect("a fleet's configuration");
        let shown = loaded.path.display();
        if policies_flag.is_some() || tenant_flag.is_some() {
            return Err(Failure::new(format!(
                "`--policies` and `--tenant` do not apply to a fleet (`{shown}` has `fleet:`)"
            ))
            .hint("each tenant's policies and connection are in its folder; pick tenants with `--tenants NAME`")
            .into());
        }
        for (field, set) in [
            ("tenant", loaded.tenant().is_some()),
            ("policies", loaded.policies().is_some()),
        ] {
            if set {
                return Err(Failure::new(format!(
                    "`{shown}` has `fleet:` and `{field}:`; a fleet's root names no tenant of its own"
                ))
                .hint(format!(
                    "move `{field}:` into the tenant's folder: `tenants/<name>/{CONNECTION_FILE}` (docs/fleet.md)"
                ))
                .into());
            }
        }
        let base = loaded.base();
        let repository = repository_of(&base);
        let inside = |what: &str, p: &Path| {
            crate::config::stays_inside(what, clean(&base.join(p)), &repository)
        };
        let tenants_dir = inside(
            "fleet.tenants",
            config.tenants.as_deref().unwrap_or(Path::new("tenants")),
        )?;
        let baseline = match &config.baseline {
            Some(path) => Some(inside("fleet.baseline", path)?),
            None => Some(clean(&base.join("baseline"))).filter(|p| p.is_dir()),
        };
        let parallel = match config.parallel {
            Some(0) => {
                return Err(Failure::new("`fleet.parallel` is 0")
                    .hint("set the number of tenants to work on at once, e.g. `parallel: 8`, or leave it out")
                    .into());
            }
            Some(n) => n,
            None => DEFAULT_PARALLEL,
        };
        let state_dir = clean(&base.join(loaded.state_dir().unwrap_or(Path::new(".sharedbox"))));
        let state = crate::config::state_spec(loaded.state(), loaded.state_dir().is_some())?;
        let lint_levels = lint_levels_over(LintLevels::default(), loaded.lints(), loaded.source())?;
        let members = members_of(&tenants_dir)?;
        Ok(Fleet {
            config_path: loaded.path.clone(),
            root: base,
            tenants_dir,
            baseline,
            parallel,
            state_dir,
            state,
            lint_levels,
            members,
        })
    }

    /// The tenants `wanted` names (`all`, or names), sorted, each once. A name that is not
    /// a tenant is an error that names the closest tenant.
    pub fn select(&self, wanted: &[String]) -> Result<Vec<String>, Failure> {
        if wanted.is_empty() {
            return Err(Failure::new(format!(
                "`{}` describes a fleet of {} tenants; name the ones to work on",
                self.config_path.display(),
                self.members.len()
            ))
            .hint("pass `--tenants all`, or `--tenants NAME` (`sharedbox tenants` lists them)"));
        }
        if wanted.iter().any(|w| w.trim() == "all") {
            return Ok(self.members.clone());
        }
        let mut selected = Vec::new();
        for name in wanted.iter().map(|w| w.trim()) {
            if !self.members.iter().any(|m| m == name) {
                let suggestion = sharedbox_policy::suggest::closest(
                    name,
                    self.members.iter().map(String::as_str),
                )
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
                return Err(Failure::new(format!(
                    "there is no tenant `{}` in the fleet",
                    sharedbox_tenant::printable(name, 80)
                ))
                .hint(format!(
                    "{suggestion}the tenants are the folders in `{}`: {}",
                    self.tenants_dir.display(),
                    self.members
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            selected.push(name.to_owned());
        }
        selected.sort();
        selected.dedup();
        Ok(selected)
    }

    /// The folder of tenant `name`.
    pub fn folder_of(&self, name: &str) -> PathBuf {
        self.tenants_dir.join(name)
    }

    /// What a command needs for tenant `name`: as a project of one tenant would resolve
    /// it, with the fleet's baseline, lint levels and state folder.
    pub fn tenant_config(&self, name: &str) -> Result<RunConfig, ConfigError> {
        let folder = self.folder_of(name);
        let path = folder.join(CONNECTION_FILE);
        if !path.is_file() {
            return Err(Failure::new(format!(
                "the tenant folder `{}` has no `{CONNECTION_FILE}`",
                folder.display()
            ))
            .hint(format!(
                "each folder in `{}` is a tenant: add `{CONNECTION_FILE}` with its `tenant:` block (docs/fleet.md), or move the folder out",
                self.tenants_dir.display()
            ))
            .into());
        }
        let loaded = crate::config::read_file(&path, "the tenant's connection")?;
        if loaded.fleet().is_some() {
            return Err(Failure::new(format!(
                "`{}` has `fleet:`; a fleet is described once, in `{}`",
                path.display(),
                self.config_path.display()
            ))
            .hint("remove `fleet:` from the tenant's connection")
            .into());
        }
        let repository = repository_of(&folder);
        let inside = |what: &str, p: PathBuf| crate::config::stays_inside(what, p, &repository);
        let policies = inside(
            "policies",
            clean(&folder.join(loaded.policies().unwrap_or(Path::new("policies")))),
        )?;
        let Some(tenant) = crate::config::tenant_spec(loaded.tenant(), None, &folder, &inside)?
        else {
            return Err(Failure::new(format!("`{}` has no `tenant:`", path.display()))
                .hint("set the tenant's connection there, e.g. `tenant: {backend: exchange-online, tenant: contoso.onmicrosoft.com, auth: ...}`")
                .into());
        };
        let state_dir = match loaded.state_dir() {
            Some(dir) => clean(&folder.join(dir)),
            None => {
                if matches!(self.state, StateSpec::Local) {
                    self.create_state_dir();
                }
                self.state_dir.join(name)
            }
        };
        // The tenant's own `state:` or `stateDir`, else the fleet's state, one folder per tenant.
        let state = match (loaded.state(), loaded.state_dir(), &self.state) {
            (None, None, StateSpec::AzureBlob(fleet)) => {
                let mut tenant = fleet.clone();
                tenant.prefix = match fleet.prefix.trim_end_matches('/') {
                    "" => name.to_owned(),
                    prefix => format!("{prefix}/{name}"),
                };
                StateSpec::AzureBlob(tenant)
            }
            (state, dir, _) => crate::config::state_spec(state, dir.is_some())?,
        };
        let lint_levels =
            lint_levels_over(self.lint_levels.clone(), loaded.lints(), loaded.source())?;
        Ok(RunConfig {
            policies,
            tenant: Some(tenant),
            state_dir,
            state,
            lint_levels,
            baseline: self.baseline.clone(),
        })
    }

    /// Creates the fleet's state folder when it is missing and its parent exists, as a
    /// project's own state folder is created: each tenant's is created in it when used.
    /// Best effort: a folder that cannot be created is reported by whatever needs it.
    fn create_state_dir(&self) {
        let parent = self.state_dir.parent().unwrap_or(Path::new(""));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if self.state_dir.exists() || !parent.is_dir() {
            return;
        }
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let _ = builder.create(&self.state_dir);
    }

    /// The tenants a change touches: every tenant when the fleet's root `sharedbox.yaml` or
    /// anything in the baseline changed, else the tenants with a changed file in their
    /// folder. `changed` are paths relative to the fleet's root folder.
    pub fn touched_by(&self, changed: &[PathBuf]) -> Vec<String> {
        let relative = |p: &Path| {
            let p = clean(p);
            p.strip_prefix(clean(&self.root))
                .map(Path::to_path_buf)
                .unwrap_or(p)
        };
        let config = relative(&self.config_path);
        let baseline = self.baseline.as_deref().map(relative);
        let tenants = relative(&self.tenants_dir);
        if changed
            .iter()
            .any(|c| *c == config || baseline.as_ref().is_some_and(|b| c.starts_with(b)))
        {
            return self.members.clone();
        }
        self.members
            .iter()
            .filter(|m| {
                let folder = tenants.join(m);
                changed.iter().any(|c| c.starts_with(&folder))
            })
            .cloned()
            .collect()
    }
}

/// The tenants of a fleet: the folders in `tenants_dir` (hidden ones skipped), sorted.
fn members_of(tenants_dir: &Path) -> Result<Vec<String>, Failure> {
    let entries = std::fs::read_dir(tenants_dir).map_err(|e| {
        Failure::new(format!(
            "cannot read the fleet's tenant folder `{}`: {e}",
            tenants_dir.display()
        ))
        .hint("create it with one folder per tenant, or set `fleet.tenants` in `sharedbox.yaml`")
    })?;
    let mut members = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", tenants_dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry
            .file_type()
            .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", entry.path().display())))?;
        // A link would let repository content name a folder elsewhere (another repository's
        // tenant, with its connection): tenant folders are real folders of the fleet.
        if kind.is_symlink() && !name.starts_with('.') {
            return Err(Failure::new(format!(
                "the tenant folder `{}` is a symbolic link",
                entry.path().display()
            ))
            .hint("make each tenant a real folder inside the fleet's tenant folder"));
        }
        if name.starts_with('.') || !kind.is_dir() {
            continue;
        }
        if !is_member_name(&name) {
            return Err(Failure::new(format!(
                "the tenant folder `{}` has a name sharedbox cannot use as a tenant name",
                entry.path().display()
            ))
            .hint("name tenant folders with ASCII letters, digits, `-`, `_` and `.` (they become CI matrix values and file names)"));
        }
        members.push(name);
    }
    if members.is_empty() {
        return Err(Failure::new(format!(
            "the fleet's tenant folder `{}` holds no tenant",
            tenants_dir.display()
        ))
        .hint(format!(
            "add a folder per tenant with its `{CONNECTION_FILE}` and `policies/` (docs/fleet.md)"
        )));
    }
    members.sort();
    Ok(members)
}
