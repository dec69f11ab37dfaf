//! Atomic changes to an install root.
//!
//! Verified files wait in a staging folder inside the root (so renames never cross file
//! systems). A transaction then moves every file it will replace or delete into a backup folder,
//! renames the staged files into place, and commits by writing the lockfile. Any failure before
//! the lockfile is written puts the backups back, so the root is as it was. A journal written
//! before the first change lets the next run finish the rollback after a crash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use seedstr_proto::path::check_payload_path;
use serde::{Deserialize, Serialize};

use super::lockfile::{Lockfile, LockfileError};
use crate::files::durable::{replace_file, sync_dir};

/// Seedstr's own folder inside an install root.
pub const STATE_DIR: &str = ".seedstr";
const TX_DIR: &str = "tx";
const JOURNAL: &str = "journal.json";
const BACKUP: &str = "backup";

/// What a transaction does to the root.
#[derive(Debug, Default, Clone)]
pub struct Change {
    /// Payload path → a verified staged file inside the root's state folder.
    pub place: Vec<(String, PathBuf)>,
    /// Payload paths to delete (files an older version had and this one has not).
    pub remove: Vec<String>,
}

/// Why applying an install failed.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    /// A path in the release is unsafe.
    #[error(transparent)]
    UnsafePath(#[from] seedstr_proto::path::PathError),
    /// A symbolic link is in the way.
    #[error("{0} is a symbolic link; refusing to install through it")]
    Link(PathBuf),
    /// A file is where a folder is needed.
    #[error("{0} is a file where the release needs a folder")]
    NotAFolder(PathBuf),
    /// A folder is where a file is needed.
    #[error("{0} is a folder where the release needs a file")]
    NotAFile(PathBuf),
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("reading", "renaming", …).
        what: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The lockfile could not be written.
    #[error(transparent)]
    Lockfile(#[from] LockfileError),
    /// An interrupted transaction's journal does not parse.
    #[error("{0} holds an unreadable transaction journal: {1}")]
    Journal(PathBuf, String),
}

fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> TransactionError + 'a {
    move |source| TransactionError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    id: String,
    /// Every path the transaction touches, and whether a file was there before.
    paths: Vec<(String, bool)>,
    /// Folders the transaction created, parents first.
    created_dirs: Vec<String>,
    /// Paths the transaction places (the rest it only removes).
    placed: BTreeSet<String>,
}

fn tx_root(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join(TX_DIR)
}

/// Checks that writing `rel` below `root` stays below it: no component may be a link, the
/// parents must be folders (or absent), the target a file (or absent). Returns the folders to
/// create, parents first.
fn check_target(root: &Path, rel: &str, creates: &mut Vec<String>) -> Result<(), TransactionError> {
    check_payload_path(rel)?;
    let parts: Vec<&str> = rel.split('/').collect();
    let mut at = root.to_path_buf();
    let mut missing = false;
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        if missing {
            if !last {
                creates.push(parts[..=i].join("/"));
            }
            continue;
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(TransactionError::Link(at)),
            Ok(m) if !last && !m.is_dir() => return Err(TransactionError::NotAFolder(at)),
            Ok(m) if last && !m.is_file() => return Err(TransactionError::NotAFile(at)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing = true;
                if !last {
                    creates.push(parts[..=i].join("/"));
                }
            }
            Err(e) => return Err(io("inspecting", &at)(e)),
        }
    }
    Ok(())
}

/// Applies `change` and commits `lock` (which must already describe the result).
pub fn commit(root: &Path, change: &Change, lock: Lockfile) -> Result<(), TransactionError> {
    run(root, change, lock, false)
}

fn run(
    root: &Path,
    change: &Change,
    mut lock: Lockfile,
    crash_before_commit: bool,
) -> Result<(), TransactionError> {
    recover(root)?;
    let mut created = Vec::new();
    let mut paths = Vec::new();
    let mut seen = BTreeSet::new();
    let touched = change
        .place
        .iter()
        .map(|(p, _)| p)
        .chain(change.remove.iter());
    for rel in touched {
        if !seen.insert(rel.clone()) {
            continue;
        }
        check_target(root, rel, &mut created)?;
        let existed = std::fs::symlink_metadata(root.join(rel)).is_ok();
        paths.push((rel.clone(), existed));
    }
    // A folder may be needed by several files; keep the first mention, parents first.
    let mut dirs_seen = BTreeSet::new();
    created.retain(|d| dirs_seen.insert(d.clone()));
    created.sort_by_key(|d| d.matches('/').count());

    let id = hex::encode(rand::random::<[u8; 16]>());
    let tx = tx_root(root).join(&id);
    let journal = Journal {
        id: id.clone(),
        paths,
        created_dirs: created,
        placed: change.place.iter().map(|(p, _)| p.clone()).collect(),
    };
    std::fs::create_dir_all(tx.join(BACKUP)).map_err(io("creating", &tx))?;
    write_journal(&tx, &journal)?;

    let applied = apply(root, &tx, change, &journal);
    let committed = applied.and_then(|()| {
        if crash_before_commit {
            // Tests stop here to play a crash; the journal stays for `recover`.
            return Ok(false);
        }
        lock.transaction = id.clone();
        lock.save(root)?;
        Ok(true)
    });
    match committed {
        Ok(true) => {
            let _ = std::fs::remove_dir_all(&tx);
            remove_emptied_folders(root, &journal);
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(e) => {
            rollback(root, &tx, &journal)?;
            Err(e)
        }
    }
}

/// Removes the folders the change left empty (a mod uninstalled takes its `Textures/` with it),
/// deepest first, never the root itself. After the commit, so a crash here only leaves empty
/// folders behind.
fn remove_emptied_folders(root: &Path, journal: &Journal) {
    let mut folders = BTreeSet::new();
    for (rel, _) in journal
        .paths
        .iter()
        .filter(|(p, _)| !journal.placed.contains(p))
    {
        let mut at = Path::new(rel.as_str()).parent();
        while let Some(dir) = at.filter(|d| !d.as_os_str().is_empty()) {
            folders.insert(dir.to_path_buf());
            at = dir.parent();
        }
    }
    let mut deepest_first: Vec<_> = folders.into_iter().collect();
    deepest_first.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in deepest_first {
        // Fails, as it should, for a folder that still holds anything.
        let _ = std::fs::remove_dir(root.join(dir));
    }
}

fn write_journal(tx: &Path, journal: &Journal) -> Result<(), TransactionError> {
    let path = tx.join(JOURNAL);
    let json = serde_json::to_vec(journal).expect("a journal serializes");
    replace_file(&path, &json).map_err(io("writing", &path))
}

fn apply(
    root: &Path,
    tx: &Path,
    change: &Change,
    journal: &Journal,
) -> Result<(), TransactionError> {
    for dir in &journal.created_dirs {
        let d = root.join(dir);
        std::fs::create_dir(&d).map_err(io("creating", &d))?;
    }
    for (rel, existed) in &journal.paths {
        if *existed {
            let from = root.join(rel);
            let to = tx.join(BACKUP).join(rel);
            std::fs::create_dir_all(to.parent().expect("a backup path has a parent"))
                .map_err(io("creating", &to))?;
            std::fs::rename(&from, &to).map_err(io("backing up", &from))?;
        }
    }
    let mut parents = BTreeSet::new();
    for (rel, staged) in &change.place {
        let to = root.join(rel);
        std::fs::rename(staged, &to).map_err(io("installing", &to))?;
        parents.insert(to.parent().expect("inside the root").to_path_buf());
    }
    for (rel, _) in journal
        .paths
        .iter()
        .filter(|(p, _)| !journal.placed.contains(p))
    {
        parents.insert(
            root.join(rel)
                .parent()
                .expect("inside the root")
                .to_path_buf(),
        );
    }
    for p in parents {
        sync_dir(&p).map_err(io("syncing", &p))?;
    }
    Ok(())
}

/// Puts the root back as the journal found it.
fn rollback(root: &Path, tx: &Path, journal: &Journal) -> Result<(), TransactionError> {
    for (rel, existed) in &journal.paths {
        let target = root.join(rel);
        let backup = tx.join(BACKUP).join(rel);
        if backup.exists() {
            std::fs::rename(&backup, &target).map_err(io("restoring", &target))?;
        } else if !existed && journal.placed.contains(rel) {
            match std::fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("removing", &target)(e)),
            }
        }
        // Otherwise the file was never moved: it is still the original.
    }
    for dir in journal.created_dirs.iter().rev() {
        // Only empty folders go; anything else put there since is kept.
        let _ = std::fs::remove_dir(root.join(dir));
    }
    std::fs::remove_dir_all(tx).map_err(io("removing", tx))?;
    sync_dir(root).map_err(io("syncing", root))?;
    Ok(())
}

/// Finishes what an interrupted transaction left: a committed one (the lockfile names it) only
/// loses its backups; any other is rolled back.
pub fn recover(root: &Path) -> Result<(), TransactionError> {
    let txs = tx_root(root);
    let entries = match std::fs::read_dir(&txs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("reading", &txs)(e)),
    };
    let lock = Lockfile::load(root)?;
    for entry in entries {
        let tx = entry.map_err(io("reading", &txs))?.path();
        let journal_path = tx.join(JOURNAL);
        let journal: Journal = match std::fs::read(&journal_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| TransactionError::Journal(journal_path.clone(), e.to_string()))?,
            // Crashed before the journal was durable: nothing was touched yet.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::remove_dir_all(&tx).map_err(io("removing", &tx))?;
                continue;
            }
            Err(e) => return Err(io("reading", &journal_path)(e)),
        };
        if lock.transaction == journal.id {
            std::fs::remove_dir_all(&tx).map_err(io("removing", &tx))?;
        } else {
            tracing::warn!(transaction = %journal.id, "rolling back an interrupted install");
            rollback(root, &tx, &journal)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::lockfile::{Installed, LockedFile};

    fn stage(root: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let dir = root.join(STATE_DIR).join("staging");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn lock_with(version: &str, files: &[&str]) -> Lockfile {
        let mut lock = Lockfile::default();
        lock.upsert(Installed {
            author: "aa".into(),
            coordinate: "generic.x".into(),
            version: version.into(),
            event_id: "bb".into(),
            infohash: "cc".into(),
            installed_at: 0,
            files: files
                .iter()
                .map(|p| LockedFile {
                    path: (*p).into(),
                    sha256: String::new(),
                    size: 0,
                })
                .collect(),
        });
        lock
    }

    /// Every file and folder below root (outside the state folder), with file bytes.
    fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.file_name().unwrap() == STATE_DIR {
                    continue;
                }
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    out.push((rel + "/", Vec::new()));
                    walk(root, &p, out);
                } else {
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out.sort();
        out
    }

    #[test]
    fn removing_files_removes_the_folders_left_empty_and_keeps_the_others() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("Data/Textures/trees")).unwrap();
        std::fs::write(r.join("Data/Textures/mine.dds"), b"not ours").unwrap();
        let change = Change {
            place: vec![
                ("Data/Textures/trees/oak.dds".into(), stage(r, "1", b"oak")),
                ("Data/Meshes/deep/oak.nif".into(), stage(r, "2", b"mesh")),
            ],
            remove: vec![],
        };
        let files = ["Data/Textures/trees/oak.dds", "Data/Meshes/deep/oak.nif"];
        commit(r, &change, lock_with("1.0.0", &files)).unwrap();
        let change = Change {
            place: vec![],
            remove: files.iter().map(|f| f.to_string()).collect(),
        };
        commit(r, &change, lock_with("1.0.0", &[])).unwrap();
        assert!(!r.join("Data/Textures/trees").exists());
        assert!(!r.join("Data/Meshes").exists());
        assert!(
            r.join("Data/Textures/mine.dds").is_file(),
            "a file of someone else's stays"
        );
        assert!(r.is_dir());
    }

    #[test]
    fn an_install_then_an_upgrade_place_and_remove_files() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let change = Change {
            place: vec![
                ("bin/tool".into(), stage(r, "1", b"v1")),
                ("share/old.txt".into(), stage(r, "2", b"old")),
            ],
            remove: vec![],
        };
        commit(
            r,
            &change,
            lock_with("1.0.0", &["bin/tool", "share/old.txt"]),
        )
        .unwrap();
        assert_eq!(std::fs::read(r.join("bin/tool")).unwrap(), b"v1");

        let change = Change {
            place: vec![("bin/tool".into(), stage(r, "3", b"v2"))],
            remove: vec!["share/old.txt".into()],
        };
        commit(r, &change, lock_with("1.1.0", &["bin/tool"])).unwrap();
        assert_eq!(std::fs::read(r.join("bin/tool")).unwrap(), b"v2");
        assert!(!r.join("share/old.txt").exists());
        assert!(
            !r.join("share").exists(),
            "a folder the upgrade emptied is gone"
        );
        assert!(r.join("bin").is_dir());
        assert_eq!(Lockfile::load(r).unwrap().installs[0].version, "1.1.0");
        assert_eq!(
            std::fs::read_dir(tx_root(r)).unwrap().count(),
            0,
            "backups are gone"
        );
    }

    #[test]
    fn a_failure_midway_leaves_the_root_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("a")).unwrap();
        std::fs::write(r.join("a/keep.txt"), b"mine").unwrap();
        commit(
            r,
            &Change {
                place: vec![("a/keep.txt".into(), stage(r, "k", b"old release"))],
                remove: vec![],
            },
            lock_with("1.0.0", &["a/keep.txt"]),
        )
        .unwrap();
        let before = snapshot(r);
        let lock_before = std::fs::read(Lockfile::path(r)).unwrap();

        // The second staged file is missing, so its rename fails after the first succeeded.
        let change = Change {
            place: vec![
                ("a/keep.txt".into(), stage(r, "n", b"new release")),
                (
                    "b/new/deep.txt".into(),
                    r.join(STATE_DIR).join("staging/absent"),
                ),
            ],
            remove: vec![],
        };
        let e = commit(
            r,
            &change,
            lock_with("2.0.0", &["a/keep.txt", "b/new/deep.txt"]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("deep.txt"), "{e}");
        assert_eq!(snapshot(r), before);
        assert_eq!(std::fs::read(Lockfile::path(r)).unwrap(), lock_before);
    }

    #[test]
    fn links_in_the_way_are_refused_before_anything_changes() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = root.path();
        std::os::unix::fs::symlink(outside.path(), r.join("Data")).unwrap();
        let change = Change {
            place: vec![("Data/evil.esp".into(), stage(r, "e", b"x"))],
            remove: vec![],
        };
        let e = commit(r, &change, lock_with("1.0.0", &["Data/evil.esp"])).unwrap_err();
        assert!(matches!(e, TransactionError::Link(_)), "{e}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(!Lockfile::path(r).exists());
    }

    #[test]
    fn an_interrupted_transaction_is_rolled_back_on_the_next_run() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        commit(
            r,
            &Change {
                place: vec![("f".into(), stage(r, "1", b"one"))],
                remove: vec![],
            },
            lock_with("1.0.0", &["f"]),
        )
        .unwrap();
        let before = snapshot(r);
        let change = Change {
            place: vec![
                ("f".into(), stage(r, "2", b"two")),
                ("g/h".into(), stage(r, "3", b"new")),
            ],
            remove: vec![],
        };
        run(r, &change, lock_with("2.0.0", &["f", "g/h"]), true).unwrap();
        assert_eq!(
            std::fs::read(r.join("f")).unwrap(),
            b"two",
            "the crash came after the renames"
        );
        recover(r).unwrap();
        assert_eq!(snapshot(r), before);
        assert_eq!(Lockfile::load(r).unwrap().installs[0].version, "1.0.0");
    }
}
