//! Checking files against what a signed manifest or the lockfile says they are.

use std::path::Path;

use seedstr_swarm::{sha256_file, FileDigest};

use super::lockfile::{Lockfile, LockfileError};

/// What is wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum FileProblem {
    /// The file is gone.
    #[error("missing")]
    Missing,
    /// The file has the wrong size.
    #[error("{found} bytes where {expected} were expected")]
    Size {
        /// Bytes expected.
        expected: u64,
        /// Bytes found.
        found: u64,
    },
    /// The file has the wrong content.
    #[error("SHA-256 {found} where {expected} was expected")]
    Hash {
        /// SHA-256 expected (hex).
        expected: String,
        /// SHA-256 found (hex).
        found: String,
    },
    /// The file could not be read.
    #[error("unreadable: {message}")]
    Unreadable {
        /// Why it could not be read.
        message: String,
    },
}

/// Checks the file at `on_disk` has `size` bytes hashing to `sha256`.
pub fn check_file(on_disk: &Path, sha256: &[u8; 32], size: u64) -> Result<(), FileProblem> {
    // The size is free to check and catches truncation before a full read.
    check_size(on_disk, size)?;
    let digest = sha256_file(on_disk).map_err(|e| FileProblem::Unreadable {
        message: e.to_string(),
    })?;
    compare(&digest, sha256, size)
}

/// Like [`check_file`], with the hash already taken (while the file streamed in): only the size
/// on disk is read again.
pub fn check_digest(
    on_disk: &Path,
    digest: &FileDigest,
    sha256: &[u8; 32],
    size: u64,
) -> Result<(), FileProblem> {
    check_size(on_disk, size)?;
    compare(digest, sha256, size)
}

fn check_size(on_disk: &Path, size: u64) -> Result<(), FileProblem> {
    let meta = match std::fs::symlink_metadata(on_disk) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileProblem::Missing),
        Err(e) => {
            return Err(FileProblem::Unreadable {
                message: e.to_string(),
            })
        }
    };
    if !meta.is_file() {
        return Err(FileProblem::Unreadable {
            message: "not a regular file".into(),
        });
    }
    if meta.len() != size {
        return Err(FileProblem::Size {
            expected: size,
            found: meta.len(),
        });
    }
    Ok(())
}

fn compare((found, len): &FileDigest, sha256: &[u8; 32], size: u64) -> Result<(), FileProblem> {
    if *len != size {
        return Err(FileProblem::Size {
            expected: size,
            found: *len,
        });
    }
    if found != sha256 {
        return Err(FileProblem::Hash {
            expected: hex::encode(sha256),
            found: hex::encode(found),
        });
    }
    Ok(())
}

/// One installed file that no longer matches the lockfile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    /// `<ns>.<slug>@<version>` of the install that owns the file.
    pub release: String,
    /// The file's path in the install root.
    pub path: String,
    /// What is wrong with the file.
    #[serde(flatten)]
    pub problem: FileProblem,
}

/// The result of re-checking an install root.
#[derive(Debug, Default, serde::Serialize)]
pub struct RootReport {
    /// Installed releases checked.
    pub installs: usize,
    /// Files checked.
    pub files_checked: usize,
    /// Bytes hashed.
    pub bytes_checked: u64,
    /// Files that differ from the lockfile.
    pub drift: Vec<Drift>,
}

/// Why an install root could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyRootError {
    /// The lockfile does not read.
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    /// An interrupted transaction could not be rolled back.
    #[error(transparent)]
    Transaction(#[from] super::transaction::TransactionError),
    /// The folder could not be locked.
    #[error(transparent)]
    FolderLock(#[from] crate::files::lock::FolderLockError),
}

/// Re-checks every file the lockfile of `root` lists, holding the folder (so no install
/// changes it meanwhile) after rolling back any transaction a killed install left.
pub fn verify_root(root: &Path) -> Result<RootReport, VerifyRootError> {
    let _held = crate::files::lock::FolderLock::acquire(root, crate::files::lock::log_wait)?;
    super::transaction::recover(root)?;
    let lock = Lockfile::load(root)?;
    let mut report = RootReport {
        installs: lock.installs.len(),
        ..Default::default()
    };
    for install in &lock.installs {
        for f in &install.files {
            report.files_checked += 1;
            let mut want = [0u8; 32];
            let outcome = match hex::decode_to_slice(&f.sha256, &mut want) {
                Ok(()) => check_file(&root.join(&f.path), &want, f.size),
                Err(_) => Err(FileProblem::Unreadable {
                    message: format!("the lockfile's hash {:?} is not hex", f.sha256),
                }),
            };
            match outcome {
                Ok(()) => report.bytes_checked += f.size,
                Err(problem) => report.drift.push(Drift {
                    release: format!("{}@{}", install.coordinate, install.version),
                    path: f.path.clone(),
                    problem,
                }),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> [u8; 32] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        sha256_file(&p).unwrap().0
    }

    #[test]
    fn each_kind_of_wrong_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        assert_eq!(check_file(&p, &[0; 32], 3), Err(FileProblem::Missing));
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(check_file(&p, &sha(b"abc"), 3), Ok(()));
        assert_eq!(
            check_file(&p, &sha(b"abc"), 4),
            Err(FileProblem::Size {
                expected: 4,
                found: 3
            })
        );
        let wrong = check_file(&p, &sha(b"abd"), 3).unwrap_err();
        assert!(matches!(wrong, FileProblem::Hash { .. }));
        assert!(wrong.to_string().contains(&hex::encode(sha(b"abc"))));
        std::fs::create_dir(dir.path().join("d")).unwrap();
        assert!(matches!(
            check_file(&dir.path().join("d"), &[0; 32], 0),
            Err(FileProblem::Unreadable { .. })
        ));
    }
}
