//! The [`Tenant`] over a tenant file: [`FileTenant`], its IO and the simulated faults.
//!
//! Every read and write of the file runs on tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]), so an apply on a multi-megabyte tenant file never
//! stalls an async worker; an in-process async lock keeps one writer at a time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Diagnostic;
use sharedbox_tenant::{Operation, ReadScope, Snapshot, Tenant, TenantError, TenantErrorKind};

use crate::format::{FailKind, TenantFile};

/// Why the tenant file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read or written.
    #[error("cannot access tenant file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid tenant snapshot.
    #[error("tenant file `{path}` is invalid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A write refused on purpose (`simulation.failOnWrite`).
    #[error("simulated failure of write {number} (`simulation.failOnWrite` in the tenant file)")]
    Simulated {
        /// The write's 1-based number.
        number: u32,
    },
    /// The blocking task that did the IO did not finish (a panic or a shutdown).
    #[error("the tenant file task did not finish: {0}")]
    Task(String),
}

impl FileError {
    /// The kind of failure, for the applier: IO that may pass (interrupted, timed out) is
    /// transient, a refused access is forbidden, a bad file is invalid.
    pub fn kind(&self) -> TenantErrorKind {
        use std::io::ErrorKind as Io;
        match self {
            FileError::Io { source, .. } => match source.kind() {
                Io::Interrupted | Io::WouldBlock | Io::TimedOut => TenantErrorKind::Transient,
                Io::PermissionDenied | Io::ReadOnlyFilesystem => TenantErrorKind::Forbidden,
                Io::NotFound => TenantErrorKind::NotFound,
                _ => TenantErrorKind::Other,
            },
            FileError::Invalid { .. } => TenantErrorKind::Invalid,
            FileError::Simulated { .. } | FileError::Task(_) => TenantErrorKind::Other,
        }
    }

    /// The error as the [`Tenant`] trait reports it, with this error as its source.
    pub fn into_tenant_error(self) -> TenantError {
        let kind = self.kind();
        TenantError::backend(kind, self)
    }
}

impl Diagnostic for FileError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            FileError::Invalid { .. } => Some(Box::new(
                "the tenant file is the file backend's state; fix it or restore it from git",
            )),
            _ => None,
        }
    }
}

/// A tenant kept in one YAML file.
#[derive(Debug)]
pub struct FileTenant {
    path: Arc<PathBuf>,
    /// The organisation's name when the file was opened (the path when it has none).
    name: String,
    write_lock: tokio::sync::Mutex<()>,
}

impl FileTenant {
    /// Opens the tenant file at `path`, checking that it exists and parses.
    ///
    /// This reads the file on the calling thread; from async code use [`FileTenant::open_async`].
    pub fn open(path: impl Into<PathBuf>) -> Result<FileTenant, TenantError> {
        let path = path.into();
        let contents = load(&path)?;
        let name = if contents.organization.name.is_empty() {
            path.display().to_string()
        } else {
            contents.organization.name
        };
        Ok(FileTenant {
            path: Arc::new(path),
            name,
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// [`FileTenant::open`] on tokio's blocking pool.
    pub async fn open_async(path: impl Into<PathBuf>) -> Result<FileTenant, TenantError> {
        let path = path.into();
        blocking(move || FileTenant::open(path)).await
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and parses the file (blocking: for tests and synchronous callers).
    pub fn load(&self) -> Result<TenantFile, TenantError> {
        load(&self.path)
    }

    /// Replaces the file atomically with `contents` (blocking: for tests and synchronous
    /// callers).
    pub fn save(&self, contents: &TenantFile) -> Result<(), TenantError> {
        save(&self.path, contents)
    }

    /// Runs `work` on the file's path on the blocking pool.
    async fn with_file<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Path) -> Result<T, TenantError> + Send + 'static,
    ) -> Result<T, TenantError> {
        let path = Arc::clone(&self.path);
        blocking(move || work(&path)).await
    }
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TenantError> + Send + 'static,
) -> Result<T, TenantError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => Err(FileError::Task(e.to_string()).into_tenant_error()),
    }
}

fn load(path: &Path) -> Result<TenantFile, TenantError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        FileError::Io {
            path: path.to_owned(),
            source,
        }
        .into_tenant_error()
    })?;
    TenantFile::parse(&text, path)
}

fn save(path: &Path, contents: &TenantFile) -> Result<(), TenantError> {
    let text = serde_saphyr::to_string(contents).map_err(|e| {
        FileError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        }
        .into_tenant_error()
    })?;
    write_atomically(path, text.as_bytes(), Access::Shared).map_err(|source| {
        FileError::Io {
            path: path.to_owned(),
            source,
        }
        .into_tenant_error()
    })
}

/// The same failure for every operation of a round that could not be loaded or saved.
fn every_failed(operations: &[Operation], error: &TenantError) -> Vec<Result<(), TenantError>> {
    operations.iter().map(|_| Err(error.clone())).collect()
}

/// Who may read a file that [`write_atomically`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// As the umask allows (the tenant snapshot of the file backend).
    Shared,
    /// The owner only, mode 0600 (plan files: they name every principal).
    Private,
}

/// Writes `bytes` to `path` so that readers see the old or the new contents, never a mix: a
/// new temporary file in the same directory (created, never opened through a link), fsync,
/// rename over `path` (which replaces a link at `path`, never follows it), fsync of the
/// directory.
pub fn write_atomically(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut attempt = 0u32;
    let (temp, mut file) = loop {
        let temp = dir.join(format!(".{file_name}.{}-{attempt}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if access == Access::Private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        // The mode given at creation is narrowed by the umask; set it exactly.
        #[cfg(unix)]
        if access == Access::Private {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = std::fs::File::open(dir) {
            dir.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// One write, after the simulated delay: count it, fail it when told to, apply it, keep
/// the state lagging reads show, save.
fn execute_loaded(
    path: &Path,
    mut contents: TenantFile,
    operation: &Operation,
) -> Result<(), TenantError> {
    if let Some(simulation) = &mut contents.simulation {
        simulation.writes += 1;
        if simulation.fail_on_write == Some(simulation.writes) {
            let number = simulation.writes;
            let kind = simulation.fail_kind.unwrap_or_default();
            save(path, &contents)?;
            return Err(match kind {
                // The message is the one the file backend always gave.
                FailKind::Invalid => TenantError::Rejected {
                    message: FileError::Simulated { number }.to_string(),
                    hint: None,
                },
                other => TenantError::backend(other.kind(), FileError::Simulated { number }),
            });
        }
    }
    let before = contents.clone();
    contents.apply(operation)?;
    if let Some(simulation) = &mut contents.simulation
        && let Some(lag) = simulation.visibility_lag_reads.filter(|l| *l > 0)
    {
        if simulation.lagging_state.is_none() {
            let mut old = before;
            old.simulation = None;
            simulation.lagging_state = Some(Box::new(old));
        }
        simulation.lagging_reads_left = lag;
    }
    save(path, &contents)
}

#[async_trait::async_trait]
impl Tenant for FileTenant {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError> {
        let _guard = self.write_lock.lock().await;
        let scope = scope.clone();
        self.with_file(move |path| {
            let mut contents = load(path)?;
            let Some(simulation) = contents
                .simulation
                .as_mut()
                .filter(|s| s.lagging_reads_left > 0)
            else {
                return Ok(contents.snapshot(&scope));
            };
            simulation.lagging_reads_left -= 1;
            let old = if simulation.lagging_reads_left == 0 {
                simulation.lagging_state.take()
            } else {
                simulation.lagging_state.clone()
            };
            let shown = old.map(|old| old.snapshot(&scope));
            save(path, &contents)?;
            Ok(shown.unwrap_or_else(|| contents.snapshot(&scope)))
        })
        .await
    }

    async fn execute(&self, operation: &Operation) -> Result<(), TenantError> {
        let _guard = self.write_lock.lock().await;
        let contents = self.with_file(load).await?;
        if let Some(ms) = contents.simulation.as_ref().and_then(|s| s.write_delay_ms) {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let operation = operation.clone();
        self.with_file(move |path| execute_loaded(path, contents, &operation))
            .await
    }

    /// One load and one atomic save for the whole round (a 200-mailbox file is parsed and
    /// written once, not once per step). With `simulation` faults configured, every write is
    /// executed on its own, so that `failOnWrite` and lag count single writes.
    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        let guard = self.write_lock.lock().await;
        let owned = operations.to_vec();
        let round = self
            .with_file(move |path| {
                let mut contents = load(path)?;
                if contents.simulation.is_some() {
                    return Ok(None);
                }
                // `apply` changes nothing when it refuses an operation.
                let results: Vec<Result<(), TenantError>> =
                    owned.iter().map(|o| contents.apply(o)).collect();
                if results.iter().any(Result::is_ok) {
                    // On failure nothing of the round reached the file.
                    save(path, &contents)?;
                }
                Ok(Some(results))
            })
            .await;
        match round {
            Ok(Some(results)) => results,
            Ok(None) => {
                drop(guard);
                let mut results = Vec::with_capacity(operations.len());
                for operation in operations {
                    results.push(self.execute(operation).await);
                }
                results
            }
            Err(e) => every_failed(operations, &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_atomic_write_never_writes_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep\n").unwrap();
        let target = dir.path().join("plan.json");
        // A link planted at the first temporary name, and one at the target itself.
        let temp = dir
            .path()
            .join(format!(".plan.json.{}-0.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &temp).unwrap();
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomically(&target, b"new\n", Access::Private).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
        assert!(
            !std::fs::symlink_metadata(&target)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
