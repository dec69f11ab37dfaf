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
use crate::files::crash::CrashPoints;
use crate::files::durable::{remove_unfinished_writes, replace_file, sync_dir};

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
    run(root, change, lock, &mut CrashPoints::from_env())
}

/// The transaction, with a step counter that crash tests use to stop it at each change to the
/// disk in turn.
fn run(
    root: &Path,
    change: &Change,
    mut lock: Lockfile,
    points: &mut CrashPoints,
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
    points.step("creating the transaction folder");
    std::fs::create_dir_all(tx.join(BACKUP)).map_err(io("creating", &tx))?;
    points.step("writing the journal");
    write_journal(&tx, &journal)?;

    let applied = apply(root, &tx, change, &journal, points);
    let committed = applied.and_then(|()| {
        points.step("writing the lockfile");
        lock.transaction = id.clone();
        lock.save(root)?;
        Ok(())
    });
    match committed {
        Ok(()) => {
            // Folders first: while the journal is there, `recover` can finish this too.
            points.step("removing emptied folders");
            remove_emptied_folders(root, &journal);
            points.step("removing the backups");
            let _ = std::fs::remove_dir_all(&tx);
            Ok(())
        }
        Err(e) => {
            rollback(root, &tx, &journal, points)?;
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
    points: &mut CrashPoints,
) -> Result<(), TransactionError> {
    for dir in &journal.created_dirs {
        let d = root.join(dir);
        points.step("creating a folder");
        std::fs::create_dir(&d).map_err(io("creating", &d))?;
    }
    for (rel, existed) in &journal.paths {
        if *existed {
            let from = root.join(rel);
            let to = tx.join(BACKUP).join(rel);
            points.step("backing up a file");
            std::fs::create_dir_all(to.parent().expect("a backup path has a parent"))
                .map_err(io("creating", &to))?;
            std::fs::rename(&from, &to).map_err(io("backing up", &from))?;
        }
    }
    let mut parents = BTreeSet::new();
    for (rel, staged) in &change.place {
        let to = root.join(rel);
        points.step("installing a file");
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
        points.step("syncing a folder");
        sync_dir(&p).map_err(io("syncing", &p))?;
    }
    Ok(())
}

/// Puts the root back as the journal found it. Each step can be repeated, so a crash during a
/// rollback leaves one the next `recover` finishes.
fn rollback(
    root: &Path,
    tx: &Path,
    journal: &Journal,
    points: &mut CrashPoints,
) -> Result<(), TransactionError> {
    for (rel, existed) in &journal.paths {
        let target = root.join(rel);
        let backup = tx.join(BACKUP).join(rel);
        points.step("restoring a file");
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
        points.step("removing a created folder");
        let _ = std::fs::remove_dir(root.join(dir));
    }
    points.step("removing the transaction folder");
    std::fs::remove_dir_all(tx).map_err(io("removing", tx))?;
    points.step("syncing the root");
    sync_dir(root).map_err(io("syncing", root))?;
    Ok(())
}

/// Finishes what an interrupted transaction left: a committed one (the lockfile names it) only
/// loses its backups; any other is rolled back.
pub fn recover(root: &Path) -> Result<(), TransactionError> {
    recover_with(root, &mut CrashPoints::none())
}

fn recover_with(root: &Path, points: &mut CrashPoints) -> Result<(), TransactionError> {
    // Lockfiles a crash left half-written in the state folder.
    let state = root.join(STATE_DIR);
    remove_unfinished_writes(&state).map_err(io("cleaning", &state))?;
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
            points.step("removing emptied folders");
            remove_emptied_folders(root, &journal);
            points.step("removing the backups");
            std::fs::remove_dir_all(&tx).map_err(io("removing", &tx))?;
        } else {
            tracing::warn!(transaction = %journal.id, "rolling back an interrupted install");
            rollback(root, &tx, &journal, points)?;
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

    /// The root as a reader sees it: the snapshot without the lockfile (whose transaction id
    /// differs from run to run), and the version the lockfile names.
    fn state(root: &Path) -> (Vec<(String, Vec<u8>)>, String) {
        let files = snapshot(root)
            .into_iter()
            .filter(|(p, _)| p != super::super::lockfile::LOCKFILE)
            .collect();
        let lock = Lockfile::load(root).unwrap();
        (files, lock.installs[0].version.clone())
    }

    /// Version 1 holds `f` and `old/x`; version 2 replaces `f`, adds `g/h` and drops `old/x`
    /// (so its commit creates a folder, backs up two files, places two and empties a folder).
    fn upgrade(root: &Path, points: &mut CrashPoints) {
        let change = Change {
            place: vec![
                ("f".into(), stage(root, "2", b"two")),
                ("g/h".into(), stage(root, "3", b"new")),
            ],
            remove: vec!["old/x".into()],
        };
        run(root, &change, lock_with("2.0.0", &["f", "g/h"]), points).unwrap();
    }

    fn at_version_1() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let change = Change {
            place: vec![
                ("f".into(), stage(r, "1", b"one")),
                ("old/x".into(), stage(r, "x", b"x")),
            ],
            remove: vec![],
        };
        commit(r, &change, lock_with("1.0.0", &["f", "old/x"])).unwrap();
        root
    }

    /// Asserts the root is exactly version 1 or exactly version 2, with no transaction left.
    fn whole(
        root: &Path,
        v1: &(Vec<(String, Vec<u8>)>, String),
        v2: &(Vec<(String, Vec<u8>)>, String),
    ) -> bool {
        let now = state(root);
        assert!(now == *v1 || now == *v2, "neither version: {now:?}");
        let txs = tx_root(root);
        assert!(
            !txs.exists() || std::fs::read_dir(&txs).unwrap().count() == 0,
            "a transaction is left"
        );
        let state_dir = std::fs::read_dir(root.join(STATE_DIR)).unwrap();
        assert!(
            state_dir
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().starts_with(".tmp")),
            "a half-written lockfile is left"
        );
        now == *v2
    }

    #[test]
    fn a_crash_at_any_step_of_a_commit_or_of_its_recovery_leaves_one_whole_version() {
        let v1 = state(at_version_1().path());
        let (v2, steps) = {
            let root = at_version_1();
            let mut points = CrashPoints::none();
            upgrade(root.path(), &mut points);
            (state(root.path()), points.reached())
        };
        assert!(steps >= 10, "the upgrade counts its steps ({steps})");
        let (mut rolled_back, mut committed, mut crashes_in_recovery) = (0, 0, 0);
        for n in 1..=steps {
            let root = at_version_1();
            let r = root.path();
            let crashed = std::panic::catch_unwind(|| upgrade(r, &mut CrashPoints::panic_at(n)));
            assert!(crashed.is_err(), "step {n} stops the upgrade");
            // The recovery may crash too, at any of its own steps, before one finishes.
            crashes_in_recovery +=
                CrashPoints::stop_at_each_step_until_done(|p| recover_with(r, p).unwrap());
            if whole(r, &v1, &v2) {
                committed += 1;
            } else {
                rolled_back += 1;
            }
        }
        assert!(rolled_back > 0 && committed > 0);
        assert!(crashes_in_recovery > 0);
    }
}
