//! `seedstr.lock`: what is installed in an install root, file by file, and from which signed
//! release. Written whole to a temporary file, synced, then renamed: a reader sees the old or the
//! new lockfile, never a torn one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::durable::replace_file_written_in;

/// The lockfile's name in an install root.
pub const LOCKFILE: &str = "seedstr.lock";
const FORMAT_VERSION: u32 = 1;

/// One installed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedFile {
    /// Path relative to the install root.
    pub path: String,
    /// SHA-256 of the content (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// One installed release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// Author's public key, hex.
    pub author: String,
    /// `<ns>.<slug>`.
    pub coordinate: String,
    /// The release's version.
    pub version: String,
    /// The release event's id, hex.
    pub event_id: String,
    /// The payload's info hash.
    pub infohash: String,
    /// When it was installed (Unix seconds).
    pub installed_at: u64,
    /// The files written.
    pub files: Vec<LockedFile>,
}

impl Installed {
    /// The entry for `release`, signed by `author` as event `event_id`, installed now.
    pub fn of(
        author: &nostr::prelude::PublicKey,
        release: &seedstr_proto::release::Release,
        event_id: &nostr::prelude::EventId,
    ) -> Installed {
        Installed {
            author: author.to_hex(),
            coordinate: release.coordinate.to_string(),
            version: release.version.to_string(),
            event_id: event_id.to_hex(),
            infohash: release.infohash_hex(),
            installed_at: seedstr_proto::clock::unix_now(),
            files: release
                .files
                .iter()
                .map(|f| LockedFile {
                    path: f.path.clone(),
                    sha256: hex::encode(f.sha256),
                    size: f.size,
                })
                .collect(),
        }
    }
}

/// What Seedstr installed in a root: the releases and the files each wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    /// The lockfile format's version.
    pub lockfile_version: u32,
    /// The transaction that wrote this lockfile; recovery uses it to tell a committed
    /// transaction from an interrupted one.
    #[serde(default)]
    pub transaction: String,
    /// One entry per installed release.
    pub installs: Vec<Installed>,
    /// State an application keeps with the installs (a game folder's load order, say), so it
    /// commits in the same atomic write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<serde_json::Value>,
}

impl Default for Lockfile {
    fn default() -> Self {
        Lockfile {
            lockfile_version: FORMAT_VERSION,
            transaction: String::new(),
            installs: Vec::new(),
            app: None,
        }
    }
}

/// Why the lockfile could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    /// The file could not be read.
    #[error("reading {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file does not parse.
    #[error("{0} is not a valid lockfile: {1}")]
    Parse(PathBuf, serde_json::Error),
    /// The file has a format version this build does not read.
    #[error("{0} has format version {1}; this seedstr reads version {FORMAT_VERSION}")]
    Version(PathBuf, u32),
    /// The file could not be written.
    #[error("writing {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

impl Lockfile {
    /// The lockfile's path in `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(LOCKFILE)
    }

    /// The lockfile of `root`, or an empty one when there is none yet.
    pub fn load(root: &Path) -> Result<Lockfile, LockfileError> {
        let path = Self::path(root);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lockfile::default()),
            Err(e) => return Err(LockfileError::Read(path, e)),
        };
        let lock: Lockfile =
            serde_json::from_slice(&bytes).map_err(|e| LockfileError::Parse(path.clone(), e))?;
        if lock.lockfile_version != FORMAT_VERSION {
            return Err(LockfileError::Version(path, lock.lockfile_version));
        }
        Ok(lock)
    }

    /// Replaces the lockfile atomically and durably.
    pub fn save(&self, root: &Path) -> Result<(), LockfileError> {
        let path = Self::path(root);
        let mut json = serde_json::to_vec_pretty(self).expect("a lockfile serializes");
        json.push(b'\n');
        // Written inside the state folder, so a crash mid-write leaves nothing in the root.
        let scratch = root.join(super::transaction::STATE_DIR);
        std::fs::create_dir_all(&scratch)
            .and_then(|()| replace_file_written_in(&path, &json, &scratch))
            .map_err(|e| LockfileError::Write(path.clone(), e))
    }

    /// Which other install owns `path`, if any.
    pub fn owner_of(&self, path: &str) -> Option<&Installed> {
        self.installs
            .iter()
            .find(|i| i.files.iter().any(|f| f.path == path))
    }

    /// Puts `install` in place of the same author's install of the same project.
    pub fn upsert(&mut self, install: Installed) {
        self.installs
            .retain(|i| !(i.author == install.author && i.coordinate == install.coordinate));
        self.installs.push(install);
        self.installs
            .sort_by(|a, b| (&a.coordinate, &a.author).cmp(&(&b.coordinate, &b.author)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Installed {
        Installed {
            author: "ab".repeat(32),
            coordinate: "generic.tool".into(),
            version: "1.0.0".into(),
            event_id: "cd".repeat(32),
            infohash: "ef".repeat(20),
            installed_at: 1,
            files: vec![LockedFile {
                path: "bin/tool".into(),
                sha256: "00".repeat(32),
                size: 3,
            }],
        }
    }

    #[test]
    fn a_missing_lockfile_is_empty_and_a_saved_one_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Lockfile::load(dir.path()).unwrap(), Lockfile::default());
        let mut lock = Lockfile::default();
        lock.upsert(sample());
        lock.save(dir.path()).unwrap();
        assert_eq!(Lockfile::load(dir.path()).unwrap(), lock);
        assert_eq!(
            lock.owner_of("bin/tool").unwrap().coordinate,
            "generic.tool"
        );
    }

    #[test]
    fn upsert_replaces_the_same_project() {
        let mut lock = Lockfile::default();
        lock.upsert(sample());
        let mut newer = sample();
        newer.version = "1.1.0".into();
        lock.upsert(newer);
        assert_eq!(lock.installs.len(), 1);
        assert_eq!(lock.installs[0].version, "1.1.0");
    }

    #[test]
    fn a_corrupt_lockfile_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCKFILE), b"{not json").unwrap();
        let e = Lockfile::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(LOCKFILE), "{e}");
    }
}
