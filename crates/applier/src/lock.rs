//! One apply or rollback per tenant at a time.
//!
//! [`TenantLock`] is the seam for other lock stores (an Azure Blob lease, like terraform's
//! azurerm backend: [`crate::state::StateStore`]). A held lock that can be taken away (a
//! lease broken by another machine) gives its journal a [`LockCheck`], asked before each
//! record that announces a write. [`FileLock`] keeps `stateDir/locks/<tenant>.lock`, created exclusively,
//! holding who holds it; a lock left by a dead process on the same host is taken over.
//! Lock files are created with mode 0600, like journals: they name the user, host and run.
//!
//! The state directory itself is created only when its parent exists: a `stateDir` on a
//! share that is not mounted, or with a typo, must not quietly become a new local folder
//! whose lock nobody else sees.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::journal::{Actor, JournalError, now_rfc3339};

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The run holding it.
    pub run_id: String,
    /// `apply`, `heal` (`apply --heal`) or `rollback`.
    pub operation: String,
    /// Who and where.
    pub actor: Actor,
    /// RFC 3339 time it was taken.
    pub since: String,
}

impl LockInfo {
    /// A holder that cannot be named (its record is unreadable or missing).
    pub fn unknown(since: String) -> LockInfo {
        LockInfo {
            run_id: "unknown".into(),
            operation: "unknown".into(),
            actor: Actor {
                user: "unknown".into(),
                host: "unknown".into(),
                pid: 0,
                ci: None,
            },
            since,
        }
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it.
    #[error("tenant `{tenant}` is locked by run `{}` ({} by {}@{} pid {} since {})", .holder.run_id, .holder.operation, .holder.actor.user, .holder.actor.host, .holder.actor.pid, .holder.since)]
    Held {
        /// The tenant.
        tenant: String,
        /// The holder.
        holder: Box<LockInfo>,
    },
    /// The state directory is missing (and cannot be created), not a directory, or not
    /// writable: no lock can be kept there.
    #[error("state directory `{dir}` {problem}")]
    StateDir {
        /// The state directory.
        dir: PathBuf,
        /// What is wrong, e.g. `does not exist, nor does its parent `/mnt/x``.
        problem: String,
    },
    /// A remote lock store failed (unreachable, refused, an unexpected answer).
    #[error("lock `{location}`: {message}")]
    Store {
        /// The lock blob.
        location: String,
        /// What went wrong, lower case.
        message: String,
    },
    /// The lock store failed.
    #[error("lock `{path}`: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A lock store: one holder per tenant.
pub trait TenantLock {
    /// Takes the lock of `tenant`, waiting up to `timeout` for the holder to release it.
    fn acquire(
        &self,
        tenant: &str,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<LockGuard, LockError>;
}

/// Whether a run still holds its lock: asked before each record that announces a write.
#[derive(Clone)]
pub struct LockCheck {
    tenant: String,
    held: Arc<dyn Fn() -> Result<(), String> + Send + Sync>,
}

impl LockCheck {
    /// A check of `tenant`'s lock: `held` answers `Err(reason)` once the lock is gone.
    pub fn new(
        tenant: &str,
        held: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) -> LockCheck {
        LockCheck {
            tenant: tenant.to_owned(),
            held: Arc::new(held),
        }
    }

    /// `Ok` while the lock is held; [`JournalError::LockLost`] once it is not, or when the
    /// store cannot say (a run that cannot show it holds the lock must not write).
    pub fn check(&self) -> Result<(), JournalError> {
        (self.held)().map_err(|reason| JournalError::LockLost {
            tenant: self.tenant.clone(),
            reason,
        })
    }
}

impl std::fmt::Debug for LockCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockCheck")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// A held lock; released when dropped.
pub struct LockGuard {
    release: Option<Box<dyn FnOnce() + Send>>,
    check: Option<LockCheck>,
}

impl LockGuard {
    /// A lock released by `release` when the guard is dropped; `check` tells whether it is
    /// still held, for locks that can be taken away (a lease).
    pub fn new(release: impl FnOnce() + Send + 'static, check: Option<LockCheck>) -> LockGuard {
        LockGuard {
            release: Some(Box::new(release)),
            check,
        }
    }

    /// The check of this lock, for the journal of the run holding it; `None` for a lock
    /// that cannot be taken away from a live run (a lock file).
    pub fn check(&self) -> Option<LockCheck> {
        self.check.clone()
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

/// Locks as files under `stateDir/locks/`.
#[derive(Debug, Clone)]
pub struct FileLock {
    dir: PathBuf,
}

impl FileLock {
    /// Locks under `state_dir/locks`.
    pub fn new(state_dir: &Path) -> FileLock {
        FileLock {
            dir: state_dir.join("locks"),
        }
    }

    /// The state directory (the parent of `locks/`).
    fn state_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(Path::new("."))
    }

    /// Makes sure `stateDir/locks` exists, creating `stateDir` only when its parent exists.
    fn prepare(&self) -> Result<(), LockError> {
        let state = self.state_dir();
        let problem = |problem: String| LockError::StateDir {
            dir: state.to_owned(),
            problem,
        };
        match std::fs::metadata(state) {
            Ok(meta) if !meta.is_dir() => {
                return Err(problem("is not a directory".to_owned()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = state
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(problem(format!(
                        "does not exist, nor does its parent `{}`",
                        parent.display()
                    )));
                }
                std::fs::create_dir(state).or_else(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Ok(())
                    } else {
                        Err(problem(format!(
                            "does not exist and cannot be created: {e}"
                        )))
                    }
                })?;
            }
            Err(e) => return Err(problem(format!("cannot be read: {e}"))),
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| problem(format!("is not writable: {e}")))
    }

    fn path(&self, tenant: &str) -> PathBuf {
        let name: String = tenant
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.lock"))
    }

    /// The current holder of `tenant`'s lock, if any.
    /// Only a regular file of at most 64 KiB is read: a FIFO or a link planted at the lock's
    /// path is a holder that cannot be named (the lock stays held), never a read that blocks.
    pub fn holder(&self, tenant: &str) -> Option<LockInfo> {
        let path = self.path(tenant);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > 64 * 1024 {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }
}

impl FileLock {
    /// Whether anything is at `tenant`'s lock path (a holder, readable or not).
    pub fn is_held(&self, tenant: &str) -> bool {
        std::fs::symlink_metadata(self.path(tenant)).is_ok()
    }

    /// Removes `tenant`'s lock, whoever holds it (`sharedbox unlock --force`).
    ///
    /// # Errors
    /// The lock file exists and cannot be removed.
    pub fn remove(&self, tenant: &str) -> Result<(), LockError> {
        let path = self.path(tenant);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(LockError::Io { path, source }),
        }
    }
}

/// Whether the process that holds a lock is gone (same host, no such pid).
fn is_stale(holder: &LockInfo) -> bool {
    let here = Actor::current();
    if holder.actor.host != here.host {
        return false;
    }
    if cfg!(target_os = "linux") {
        !Path::new(&format!("/proc/{}", holder.actor.pid)).exists()
    } else {
        false
    }
}

impl TenantLock for FileLock {
    fn acquire(
        &self,
        tenant: &str,
        info: &LockInfo,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        let path = self.path(tenant);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        self.prepare()?;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(mut file) => {
                    use std::io::Write;
                    let text = serde_json::to_string_pretty(info).expect("lock info serialises");
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(io)?;
                    // Released only while the file still names this run: after `unlock
                    // --force` it may be another run's lock by now.
                    let lock = self.clone();
                    let tenant = tenant.to_owned();
                    let run_id = info.run_id.clone();
                    return Ok(LockGuard::new(
                        move || {
                            if lock.holder(&tenant).is_some_and(|h| h.run_id == run_id) {
                                let _ = std::fs::remove_file(&path);
                            }
                        },
                        None,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // An unreadable holder is a lock file being written right now: wait.
                    let holder = self.holder(tenant);
                    if holder.as_ref().is_some_and(is_stale) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if std::time::Instant::now() >= deadline {
                        let holder = holder.unwrap_or_else(|| LockInfo::unknown(now_rfc3339()));
                        return Err(LockError::Held {
                            tenant: tenant.to_owned(),
                            holder: Box::new(holder),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    return Err(LockError::StateDir {
                        dir: self.state_dir().to_owned(),
                        problem: format!("is not writable: {e}"),
                    });
                }
                Err(e) => return Err(io(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_lock_path_is_a_held_lock_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::new(dir.path());
        std::fs::create_dir_all(dir.path().join("locks")).unwrap();
        assert!(
            std::process::Command::new("mkfifo")
                .arg(lock.path("contoso"))
                .status()
                .unwrap()
                .success()
        );
        let (done, result) = std::sync::mpsc::channel();
        let state = dir.path().to_owned();
        std::thread::spawn(move || {
            let taken = FileLock::new(&state).acquire(
                "contoso",
                &info("r1", std::process::id()),
                Duration::from_millis(300),
            );
            let _ = done.send(taken.map(|_| ()));
        });
        let taken = result
            .recv_timeout(Duration::from_secs(20))
            .expect("acquire returned instead of blocking on the FIFO");
        assert!(matches!(taken, Err(LockError::Held { .. })), "{taken:?}");
    }

    fn info(run: &str, pid: u32) -> LockInfo {
        LockInfo {
            run_id: run.into(),
            operation: "apply".into(),
            actor: Actor {
                pid,
                ..Actor::current()
            },
            since: now_rfc3339(),
        }
    }

    #[test]
    fn a_missing_or_unusable_state_directory_is_named_not_taken_for_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let info = info("a", std::process::id());
        // Missing, parent present: created, like the default `.sharedbox` on a first run.
        let fresh = dir.path().join("state");
        assert!(
            FileLock::new(&fresh)
                .acquire("contoso", &info, Duration::ZERO)
                .is_ok()
        );
        assert!(fresh.join("locks").is_dir());
        // Missing with its parent: refused, naming both.
        let unmounted = dir.path().join("mnt/share/state");
        let err = FileLock::new(&unmounted)
            .acquire("contoso", &info, Duration::ZERO)
            .unwrap_err();
        assert!(matches!(err, LockError::StateDir { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("does not exist, nor does its parent"),
            "{text}"
        );
        assert!(text.contains("mnt/share"), "{text}");
        assert!(!unmounted.exists());
        // A file where the directory should be.
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = FileLock::new(&file)
            .acquire("contoso", &info, Duration::ZERO)
            .unwrap_err();
        assert!(err.to_string().contains("is not a directory"), "{err}");
        // A `locks` entry that is a file: the directory cannot be used.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("locks"), "").unwrap();
        let err = FileLock::new(&blocked)
            .acquire("contoso", &info, Duration::ZERO)
            .unwrap_err();
        assert!(err.to_string().contains("is not writable"), "{err}");
    }

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::new(dir.path());
        let guard = lock
            .acquire("contoso", &info("a", std::process::id()), Duration::ZERO)
            .unwrap();
        let err = lock
            .acquire(
                "contoso",
                &info("b", std::process::id()),
                Duration::from_millis(300),
            )
            .unwrap_err();
        assert!(err.to_string().contains("locked by run `a`"), "{err}");
        assert!(
            lock.acquire("fabrikam", &info("c", std::process::id()), Duration::ZERO)
                .is_ok(),
            "other tenants are free"
        );
        drop(guard);
        assert!(
            lock.acquire("contoso", &info("b", std::process::id()), Duration::ZERO)
                .is_ok()
        );
    }

    #[cfg(unix)]
    #[test]
    fn lock_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::new(dir.path());
        let _guard = lock
            .acquire("contoso", &info("a", std::process::id()), Duration::ZERO)
            .unwrap();
        let mode = std::fs::metadata(lock.path("contoso"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the lock names who holds it: {mode:o}");
    }

    #[test]
    fn a_released_guard_leaves_the_lock_of_the_run_that_took_over_after_a_forced_unlock() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::new(dir.path());
        let first = lock
            .acquire("contoso", &info("a", std::process::id()), Duration::ZERO)
            .unwrap();
        lock.remove("contoso").unwrap();
        let _second = lock
            .acquire("contoso", &info("b", std::process::id()), Duration::ZERO)
            .unwrap();
        drop(first);
        assert_eq!(lock.holder("contoso").unwrap().run_id, "b");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::new(dir.path());
        // pid 0x7ffffffe is never a live process here.
        std::mem::forget(
            lock.acquire("contoso", &info("dead", 0x7fff_fffe), Duration::ZERO)
                .unwrap(),
        );
        let guard = lock
            .acquire(
                "contoso",
                &info("alive", std::process::id()),
                Duration::ZERO,
            )
            .unwrap();
        assert_eq!(lock.holder("contoso").unwrap().run_id, "alive");
        drop(guard);
    }
}
