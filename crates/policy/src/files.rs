//! Which files sharedbox reads from a repository, and how.
//!
//! A pull request can put anything into a repository: a symbolic link to
//! `/proc/self/environ` or to a private key, a FIFO, a folder named `x.yaml`. Every file
//! that repository content chooses (policy files, `sharedbox.yaml`, the file backend's
//! tenant) is read through [`read_project_file`]: it must be a regular file whose real path
//! (links resolved) is inside the project folder, and at most a given size of UTF-8 text.
//! Errors name the path, never the content.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Why a project file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path resolves outside the folder it must stay in.
    #[error("`{path}` resolves to `{real}`, outside `{root}`; refusing to read it")]
    Outside {
        /// The path as given.
        path: PathBuf,
        /// Where it really is.
        real: PathBuf,
        /// The folder it must stay in.
        root: PathBuf,
    },
    /// Not a regular file (a folder, FIFO, socket or device, possibly behind a link).
    #[error("`{path}` is {what}, not a regular file; refusing to read it")]
    NotRegular {
        /// The path as given.
        path: PathBuf,
        /// What it is, e.g. `a named pipe (FIFO)`.
        what: &'static str,
    },
    /// Larger than allowed.
    #[error("`{path}` is larger than {} MiB; refusing to read it", max / (1024 * 1024))]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        max: u64,
    },
    /// Not UTF-8.
    #[error("`{path}` is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
        /// The first invalid byte.
        offset: usize,
    },
    /// The file system said no.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl miette::Diagnostic for FileError {
    /// What the user can do about it.
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.hint_text()))
    }
}

impl FileError {
    fn hint_text(&self) -> &'static str {
        match self {
            FileError::Outside { .. } => {
                "files read from the repository must be inside it; a symbolic link may only point to a file in the same folder tree"
            }
            FileError::NotRegular { .. } => {
                "only regular files are read; remove it or rename it so it does not end in `.yaml`/`.yml`"
            }
            FileError::TooLarge { .. } => {
                "split the file; a file this large is not written by hand"
            }
            FileError::NotUtf8 { .. } => "save the file as UTF-8",
            FileError::Io { .. } => "check that the file exists and is readable",
        }
    }
}

/// A folder files are read from, resolved once (links followed): the policy folder, or the
/// repository that holds `sharedbox.yaml`.
#[derive(Debug, Clone)]
pub struct Root {
    /// As given, for messages.
    given: PathBuf,
    /// Its real path.
    real: PathBuf,
}

impl Root {
    /// Resolves `root`.
    ///
    /// # Errors
    /// [`FileError::Io`] when it does not exist or cannot be resolved.
    pub fn new(root: &Path) -> Result<Root, FileError> {
        let real = std::fs::canonicalize(root).map_err(|source| FileError::Io {
            path: root.to_owned(),
            source,
        })?;
        Ok(Root {
            given: root.to_owned(),
            real,
        })
    }

    /// Reads `path`, which must be a regular file whose real path is inside this folder, of at
    /// most `max_bytes` bytes of UTF-8. Nothing is opened before these checks pass, so a FIFO
    /// cannot block and a link to a secret is never read.
    ///
    /// # Errors
    /// [`FileError`], naming the path but never the content.
    pub fn read(&self, path: &Path, max_bytes: u64) -> Result<String, FileError> {
        let io = |source| FileError::Io {
            path: path.to_owned(),
            source,
        };
        let real = std::fs::canonicalize(path).map_err(io)?;
        if !real.starts_with(&self.real) {
            return Err(FileError::Outside {
                path: path.to_owned(),
                real,
                root: self.given.clone(),
            });
        }
        let metadata = std::fs::metadata(&real).map_err(io)?;
        if !metadata.is_file() {
            return Err(FileError::NotRegular {
                path: path.to_owned(),
                what: describe(&metadata.file_type()),
            });
        }
        if metadata.len() > max_bytes {
            return Err(FileError::TooLarge {
                path: path.to_owned(),
                max: max_bytes,
            });
        }
        let file = std::fs::File::open(&real).map_err(io)?;
        // Sized from the metadata: the texts stay loaded for excerpts, and a buffer grown
        // by doubling would keep up to twice each file's size.
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0) + 1);
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > max_bytes {
            return Err(FileError::TooLarge {
                path: path.to_owned(),
                max: max_bytes,
            });
        }
        String::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
            path: path.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        })
    }
}

/// Reads one file of `root` ([`Root::read`]); for many files of one folder, resolve the
/// [`Root`] once.
///
/// # Errors
/// [`FileError`], naming the path but never the content.
pub fn read_project_file(path: &Path, root: &Path, max_bytes: u64) -> Result<String, FileError> {
    Root::new(root)?.read(path, max_bytes)
}

/// Whether `path` (which must exist) really is inside `root`, links resolved; `None` when
/// either cannot be resolved.
pub fn is_inside(path: &Path, root: &Path) -> Option<bool> {
    let real = std::fs::canonicalize(path).ok()?;
    let real_root = std::fs::canonicalize(root).ok()?;
    Some(real.starts_with(real_root))
}

/// A file type in words.
fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_out_fifos_and_folders_are_refused_before_they_are_opened() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("key.pem");
        std::fs::write(&secret, "-----BEGIN PRIVATE KEY-----\nsecret\n").unwrap();
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::write(dir.join("ok.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink(dir.join("ok.yaml"), dir.join("inside.yaml")).unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("key.yaml")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", dir.join("env.yaml")).unwrap();
        std::fs::create_dir(dir.join("folder.yaml")).unwrap();
        let fifo = dir.join("pipe.yaml");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(
            read_project_file(&dir.join("ok.yaml"), dir, 100).unwrap(),
            "a: 1\n"
        );
        assert_eq!(
            read_project_file(&dir.join("inside.yaml"), dir, 100).unwrap(),
            "a: 1\n"
        );
        for name in ["key.yaml", "env.yaml"] {
            let error = read_project_file(&dir.join(name), dir, 1 << 20).unwrap_err();
            assert!(
                matches!(error, FileError::Outside { .. }),
                "{name}: {error}"
            );
            assert!(!error.to_string().contains("secret"));
        }
        let error = read_project_file(&fifo, dir, 100).unwrap_err();
        assert!(error.to_string().contains("named pipe"), "{error}");
        let error = read_project_file(&dir.join("folder.yaml"), dir, 100).unwrap_err();
        assert!(error.to_string().contains("a folder"), "{error}");
        let error = read_project_file(&dir.join("ok.yaml"), dir, 2).unwrap_err();
        assert!(matches!(error, FileError::TooLarge { .. }));
    }
}
