//! One writer per folder: an advisory lock (`flock`) on the folder itself, held for a whole
//! install, update or rollback. The kernel releases it when its process ends, however it ends,
//! so a crash never leaves a lock behind, and a process that holds it knows that any half-done
//! transaction it finds belongs to a process that is gone. Locking the folder rather than a file
//! in it leaves nothing behind in a folder an install refused to touch.
//!
//! A second process asks the kernel (`/proc/locks`) who holds the lock, so it can say whom it
//! waits for. Like cargo's package-cache lock, it waits rather than failing: two installs
//! started together both complete, one after the other.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// A folder held by this process until dropped.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    folder: PathBuf,
}

/// The process that holds a folder's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// Its command line, when the system tells.
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} ({})", self.pid, self.command)
    }
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
#[error("locking {}: {source}", folder.display())]
pub struct FolderLockError {
    /// The folder.
    pub folder: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl FolderLock {
    /// Takes the lock on `folder` (which must exist), waiting while another process holds it;
    /// `on_wait` hears once whom it waits for.
    pub fn acquire(
        folder: &Path,
        on_wait: impl FnOnce(&Path, Option<Holder>),
    ) -> Result<FolderLock, FolderLockError> {
        let fail = |source| FolderLockError {
            folder: folder.to_owned(),
            source,
        };
        let file = File::open(folder).map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait(folder, holder_of(folder));
                file.lock().map_err(fail)?;
            }
            Err(TryLockError::Error(e)) => return Err(fail(e)),
        }
        Ok(FolderLock {
            _file: file,
            folder: folder.to_owned(),
        })
    }

    /// [`FolderLock::acquire`] off the async runtime, so a wait never stalls other tasks.
    pub async fn acquire_async(
        folder: PathBuf,
        on_wait: impl FnOnce(&Path, Option<Holder>) + Send + 'static,
    ) -> Result<FolderLock, FolderLockError> {
        let named = folder.clone();
        tokio::task::spawn_blocking(move || FolderLock::acquire(&folder, on_wait))
            .await
            .unwrap_or_else(|e| {
                Err(FolderLockError {
                    folder: named,
                    source: std::io::Error::other(e.to_string()),
                })
            })
    }

    /// The folder held.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

/// Logs the wait (the CLI prints warnings on stderr), for callers with no progress display of
/// their own.
pub fn log_wait(folder: &Path, holder: Option<Holder>) {
    let whom = holder.map_or_else(|| "another process".to_owned(), |h| h.to_string());
    tracing::warn!("waiting for {whom} to finish with {}", folder.display());
}

/// The process holding `folder`'s lock, as the kernel reports it (Linux; `None` elsewhere, or
/// when nobody holds it).
pub fn holder_of(folder: &Path) -> Option<Holder> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        let inode = std::fs::metadata(folder).ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        // `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`; waiters' lines carry `->`.
        let pid = locks.lines().find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let on_inode = f.get(5)?.rsplit(':').next()?.parse::<u64>().ok()? == inode;
            (f.get(1) == Some(&"FLOCK") && on_inode)
                .then(|| f.get(4)?.parse::<u32>().ok())
                .flatten()
        })?;
        let command = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|raw| {
                let mut text = String::from_utf8_lossy(&raw).replace('\0', " ");
                let text_len = text.trim_end().len();
                text.truncate(text_len);
                if text.len() > 200 {
                    let cut = (0..=200).rev().find(|i| text.is_char_boundary(*i));
                    text.truncate(cut.unwrap_or(0));
                    text.push('…');
                }
                text
            })
            .unwrap_or_else(|_| "command unknown".into());
        Some(Holder { pid, command })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = folder;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_the_same_process_waits_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_owned();
        assert_eq!(holder_of(&state), None);
        let first = FolderLock::acquire(&state, |_, _| panic!("nobody held it")).unwrap();
        assert_eq!(holder_of(&state).unwrap().pid, std::process::id());
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn({
            let state = state.clone();
            move || FolderLock::acquire(&state, move |_, holder| tx.send(holder).unwrap()).unwrap()
        });
        // The waiter reports whom it waits for before it waits.
        let holder = rx.recv().unwrap().unwrap();
        assert_eq!(holder.pid, std::process::id());
        drop(first);
        let second = waiter.join().unwrap();
        assert_eq!(second.folder(), state);
        // Nothing was written into the folder.
        assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0);
    }
}
