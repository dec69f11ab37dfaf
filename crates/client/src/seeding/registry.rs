//! The seed registry: what `seedstr seed` serves, one entry per payload under
//! `$SEEDSTR_HOME/seeds/<infohash>.{torrent,json}`. Entries are files so that publish and
//! install (other processes) can add to a running seeder, which polls the folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::durable::replace_file;
use crate::files::json::read_all;
use crate::install::lockfile::Lockfile;

/// Why a payload is seeded, and where its files are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedEntry {
    /// The payload's info hash.
    pub infohash: String,
    /// `<ns>.<slug>@<version>`, for people reading the list.
    pub release: String,
    /// The folder the torrent's files sit below.
    pub dir: PathBuf,
    /// Why we hold it.
    pub origin: Origin,
    /// Tracker announce URLs.
    #[serde(default)]
    pub trackers: Vec<String>,
}

/// Why a payload is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The author's own payload folder.
    Published,
    /// An install root; valid while its lockfile still holds this payload.
    Installed,
    /// The feed index of an identity this node follows, kept under `$SEEDSTR_HOME/feeds/fetched/`.
    Followed,
    /// A release of an author `seedstr mirror` follows, kept in the mirror's folder.
    Mirrored,
    /// A package archive in the package store (`$SEEDSTR_HOME/packages/`), fetched for an
    /// install or a registry view.
    Package,
}

impl Origin {
    /// The origin's name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Published => "published",
            Origin::Installed => "installed",
            Origin::Followed => "followed",
            Origin::Mirrored => "mirrored",
            Origin::Package => "package",
        }
    }
}

/// Why the seed registry could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SeedsError {
    /// A file operation failed.
    #[error("seed registry {path}: {source}")]
    Io {
        /// The registry file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The payloads this identity seeds, one entry and torrent each under `$SEEDSTR_HOME/seeds/`.
#[derive(Clone)]
pub struct SeedRegistry {
    dir: PathBuf,
}

/// A registry entry with its torrent file.
pub struct Seed {
    /// The registry entry.
    pub entry: SeedEntry,
    /// The `.torrent` file's bytes.
    pub torrent_file: Vec<u8>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SeedsError + '_ {
    move |source| SeedsError::Io {
        path: path.to_owned(),
        source,
    }
}

impl SeedRegistry {
    /// The registry in `home`.
    pub fn new(home: &Path) -> SeedRegistry {
        SeedRegistry {
            dir: home.join("seeds"),
        }
    }

    /// The registry's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Registers a payload. The torrent goes first and the entry last: an entry on disk always
    /// has its torrent.
    pub fn add(&self, entry: &SeedEntry, torrent_file: &[u8]) -> Result<(), SeedsError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let base = self.dir.join(&entry.infohash);
        let torrent = base.with_extension("torrent");
        replace_file(&torrent, torrent_file).map_err(io(&torrent))?;
        let json = serde_json::to_vec_pretty(entry).expect("entries serialize");
        let entry_path = base.with_extension("json");
        replace_file(&entry_path, &json).map_err(io(&entry_path))
    }

    /// Removes an entry.
    pub fn remove(&self, infohash: &str) -> Result<(), SeedsError> {
        let base = self.dir.join(infohash);
        for ext in ["json", "torrent"] {
            match std::fs::remove_file(base.with_extension(ext)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(&base)(e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The entry registered for `infohash`, if one is and it reads.
    pub fn entry(&self, infohash: &str) -> Option<SeedEntry> {
        let bytes = std::fs::read(self.dir.join(infohash).with_extension("json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Every readable entry, and a description of each unreadable one.
    pub fn list(&self) -> (Vec<Seed>, Vec<String>) {
        read_all(&self.dir, |path| {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            let entry: SeedEntry = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let torrent_file = std::fs::read(path.with_extension("torrent"))
                .map_err(|e| format!("its torrent: {e}"))?;
            Ok(Seed {
                entry,
                torrent_file,
            })
        })
    }
}

impl SeedEntry {
    /// Whether the files are still there to serve: an install root's lockfile must still hold
    /// this payload (an upgrade or removal replaces it).
    pub fn still_valid(&self) -> bool {
        match self.origin {
            Origin::Published | Origin::Followed | Origin::Mirrored | Origin::Package => {
                self.dir.is_dir()
            }
            Origin::Installed => Lockfile::load(&self.dir)
                .map(|l| l.installs.iter().any(|i| i.infohash == self.infohash))
                .unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_broken_ones_are_reported() {
        let home = tempfile::tempdir().unwrap();
        let reg = SeedRegistry::new(home.path());
        assert!(reg.list().0.is_empty());
        let entry = SeedEntry {
            infohash: "ab".repeat(20),
            release: "generic.tool@1.0.0".into(),
            dir: home.path().to_path_buf(),
            origin: Origin::Published,
            trackers: vec![],
        };
        reg.add(&entry, b"d4:infod...ee").unwrap();
        std::fs::write(reg.dir().join("broken.json"), b"{").unwrap();
        let (seeds, broken) = reg.list();
        assert_eq!(seeds.len(), 1);
        assert_eq!(seeds[0].entry, entry);
        assert_eq!(seeds[0].torrent_file, b"d4:infod...ee");
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(entry.still_valid());
        reg.remove(&entry.infohash).unwrap();
        assert!(reg.list().0.is_empty());
    }
}
