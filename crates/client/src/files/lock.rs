//! One writer per folder: an advisory lock (`flock` on Unix) on a file in the folder's state
//! directory, held for a whole install, update or rollback. The operating system releases it
//! when its process ends, however it ends, so a lock is never left behind by a crash, and a
//! process that holds it knows that any half-done transaction it finds belongs to a process
//! that is gone.
//!
//! The file also names its holder (process id and command line), so a second process can say
//! whom it waits for. Like cargo's package-cache lock, the second process waits rather than
//! failing: two installs started together both complete, one after the other.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// The lock file's name inside a state directory.
pub const LOCK_FILE: &str = "lock";

/// A folder held by this process until dropped.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    path: PathBuf,
}

/// The process that holds (or last held) a folder's lock, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// Its command line.
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} ({})", self.pid, self.command)
    }
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
#[error("locking {}: {source}", path.display())]
pub struct FolderLockError {
    /// The lock file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl FolderLock {
    /// Takes the lock on `state_dir` (created if missing), waiting while another process holds
    /// it; `on_wait` hears once whom it waits for.
    pub fn acquire(
        state_dir: &Path,
        on_wait: impl FnOnce(&Path, Option<Holder>),
    ) -> Result<FolderLock, FolderLockError> {
        let path = state_dir.join(LOCK_FILE);
        let fail = |source| FolderLockError {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(fail)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait(state_dir, read_holder(&mut file));
                file.lock().map_err(fail)?;
            }
            Err(TryLockError::Error(e)) => return Err(fail(e)),
        }
        write_holder(&mut file).map_err(fail)?;
        Ok(FolderLock { _file: file, path })
    }

    /// [`FolderLock::acquire`] off the async runtime, so a wait never stalls other tasks.
    pub async fn acquire_async(
        state_dir: PathBuf,
        on_wait: impl FnOnce(&Path, Option<Holder>) + Send + 'static,
    ) -> Result<FolderLock, FolderLockError> {
        let path = state_dir.join(LOCK_FILE);
        tokio::task::spawn_blocking(move || FolderLock::acquire(&state_dir, on_wait))
            .await
            .unwrap_or_else(|e| {
                Err(FolderLockError {
                    path,
                    source: std::io::Error::other(e.to_string()),
                })
            })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Logs the wait (the CLI prints warnings on stderr), for callers with no progress display of
/// their own.
pub fn log_wait(state_dir: &Path, holder: Option<Holder>) {
    let whom = holder.map_or_else(|| "another process".to_owned(), |h| h.to_string());
    tracing::warn!(
        "waiting for {whom} to finish with {}",
        state_dir.parent().unwrap_or(state_dir).display()
    );
}

/// Who the lock file names, if it names anyone readable.
pub fn holder_of(state_dir: &Path) -> Option<Holder> {
    let mut file = File::open(state_dir.join(LOCK_FILE)).ok()?;
    read_holder(&mut file)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    // A holder record is a short line; a larger file is not one of ours.
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let mut command: String = std::env::args().collect::<Vec<_>>().join(" ");
    if command.len() > 200 {
        let cut = (0..=200).rev().find(|i| command.is_char_boundary(*i));
        command.truncate(cut.unwrap_or(0));
        command.push('…');
    }
    let holder = Holder {
        pid: std::process::id(),
        command,
    };
    let line = serde_json::to_string(&holder).map_err(std::io::Error::other)?;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(line.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_the_same_process_waits_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".seedstr");
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
        assert_eq!(second.path(), state.join(LOCK_FILE));
    }
}
