//! A folder of payloads held for seeding (a mirror's folder, the package store): each payload
//! fetched, verified, then renamed into `<dir>/<infohash>/` and registered under one origin. A
//! half-fetched payload stays in the staging folder, never in its place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::files::durable::sync_dir;
use crate::install::{stage_release, InstallError, InstallOptions};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};
use seedstr_proto::release::Release;
use seedstr_swarm::Swarm;

/// A folder of payloads fetched to be seeded (a mirror's store).
pub struct PayloadStore {
    dir: PathBuf,
    registry: SeedRegistry,
    /// What this store registers its payloads as.
    origin: Origin,
}

/// Why a payload could not be stored or removed.
#[derive(Debug, thiserror::Error)]
pub enum PayloadStoreError {
    /// The fetch failed.
    #[error(transparent)]
    Fetch(#[from] InstallError),
    /// The torrent built from mirror bytes is not the release's.
    #[error("the files arrived from web mirrors only, and the torrent built from them is not the one the release names; nothing to seed")]
    NoTorrent,
    /// A file operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "renaming", …).
        what: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The seed registry could not be written.
    #[error(transparent)]
    Registry(#[from] SeedsError),
}

/// What the registry holds.
pub struct Held {
    /// Every registered payload, whatever registered it.
    pub all: BTreeSet<String>,
    /// Those this store registered.
    pub ours: BTreeSet<String>,
}

impl PayloadStore {
    /// The store in `dir`, registering its payloads in `home` with `origin`.
    pub fn new(home: &Path, dir: PathBuf, origin: Origin) -> PayloadStore {
        PayloadStore {
            dir,
            registry: SeedRegistry::new(home),
            origin,
        }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the store holds.
    pub fn held(&self) -> Held {
        let (seeds, _) = self.registry.list();
        Held {
            all: seeds.iter().map(|s| s.entry.infohash.clone()).collect(),
            ours: seeds
                .iter()
                .filter(|s| s.entry.origin == self.origin)
                .map(|s| s.entry.infohash.clone())
                .collect(),
        }
    }

    /// Fetches and verifies `release` (swarm first, then its web mirrors), moves it into place
    /// and registers it for seeding. Returns where it now is.
    pub async fn fetch(
        &self,
        swarm: &Swarm,
        release: &Release,
        opts: &InstallOptions,
    ) -> Result<PathBuf, PayloadStoreError> {
        let staged = stage_release(swarm, &self.dir, release, opts, &[], &|_| {}).await?;
        let torrent_file = staged.torrent_file.ok_or(PayloadStoreError::NoTorrent)?;
        let place = self.dir.join(release.infohash_hex());
        if place.exists() {
            // Left by a run that stopped between the rename and the registration.
            std::fs::remove_dir_all(&place).map_err(io("clearing", &place))?;
        }
        std::fs::rename(&staged.dir, &place).map_err(io("moving the payload to", &place))?;
        sync_dir(&self.dir).map_err(io("syncing", &self.dir))?;
        self.registry.add(
            &SeedEntry {
                infohash: release.infohash_hex(),
                release: release.d(),
                dir: place.clone(),
                origin: self.origin,
                trackers: release.trackers.clone(),
            },
            &torrent_file,
        )?;
        Ok(place)
    }

    /// Takes a payload out of the registry; its files stay until [`PayloadStore::delete`], so a
    /// seeder can let go of them first.
    pub fn unregister(&self, infohash: &str) -> Result<(), PayloadStoreError> {
        Ok(self.registry.remove(infohash)?)
    }

    /// Stops seeding a payload and deletes its files.
    pub fn delete(&self, infohash: &str) -> Result<(), PayloadStoreError> {
        let place = self.dir.join(infohash);
        match std::fs::remove_dir_all(&place) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("deleting", &place)(e)),
            _ => Ok(()),
        }
    }
}

fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> PayloadStoreError + 'a {
    move |source| PayloadStoreError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}
