//! A folder of payloads held for seeding (a mirror's folder, the package store): each payload
//! fetched, verified, then renamed into `<dir>/<infohash>/` and registered under one origin. A
//! half-fetched payload stays in the staging folder, never in its place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::files::blocking::off_runtime;
use crate::files::durable::sync_dir;
use crate::install::{stage_release, InstallError, InstallOptions};
use crate::seeding::registry::{Origin, SeedEntry, SeedRegistry, SeedsError};
use seedstr_proto::release::Release;
use seedstr_swarm::Swarm;

/// A folder of payloads fetched to be seeded (a mirror's store).
#[derive(Clone)]
pub struct PayloadStore {
    dir: PathBuf,
    registry: SeedRegistry,
    /// What this store registers its payloads as.
    origin: Origin,
    /// The most bytes the store holds; older payloads make room for newer ones.
    max_bytes: Option<u64>,
}

/// One payload the store holds, for choosing what to evict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPayload {
    /// Its info hash (hex).
    pub infohash: String,
    /// Its bytes on disk.
    pub bytes: u64,
    /// When it was last fetched or served (unix seconds).
    pub last_used: u64,
}

/// What to evict so that `need` more bytes fit under `max_bytes`: the least recently used
/// payloads first, no more than needed. `None` when even an empty store could not take it.
pub fn evictions(held: &[HeldPayload], need: u64, max_bytes: u64) -> Option<Vec<String>> {
    if need > max_bytes {
        return None;
    }
    let mut used: u64 = held.iter().map(|h| h.bytes).sum();
    let mut by_age: Vec<&HeldPayload> = held.iter().collect();
    by_age.sort_by(|a, b| (a.last_used, &a.infohash).cmp(&(b.last_used, &b.infohash)));
    let mut out = Vec::new();
    for h in by_age {
        if used.saturating_add(need) <= max_bytes {
            break;
        }
        used -= h.bytes;
        out.push(h.infohash.clone());
    }
    Some(out)
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
    /// The release is larger than the whole store.
    #[error(
        "{release} is {bytes} bytes, more than this store holds ({max_bytes} bytes); not fetched"
    )]
    TooLarge {
        /// The release's `d` tag.
        release: String,
        /// Its size.
        bytes: u64,
        /// The store's cap.
        max_bytes: u64,
    },
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
            max_bytes: None,
        }
    }

    /// The same store, holding at most `max_bytes`: fetching past it evicts the payloads used
    /// least recently, and a release larger than the whole store is refused before fetching.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> PayloadStore {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// Marks a payload as just used (served), so eviction takes others first.
    pub fn touch(&self, infohash: &str) {
        let place = self.dir.join(infohash);
        if let Ok(dir) = std::fs::File::open(&place) {
            let _ = dir.set_modified(std::time::SystemTime::now());
        }
    }

    /// The payloads this store holds in its folder, with their sizes and last use.
    pub fn payloads(&self) -> Vec<HeldPayload> {
        let (seeds, _) = self.registry.list();
        seeds
            .iter()
            .filter(|s| s.entry.origin == self.origin && s.entry.dir.starts_with(&self.dir))
            .map(|s| {
                let dir = &s.entry.dir;
                let bytes = walkdir::WalkDir::new(dir)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum();
                let last_used = std::fs::metadata(dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                HeldPayload {
                    infohash: s.entry.infohash.clone(),
                    bytes,
                    last_used,
                }
            })
            .collect()
    }

    /// Makes room for `release` under the store's cap: refuses a release larger than the
    /// whole store, evicts the least recently used payloads otherwise.
    fn make_room(&self, release: &Release) -> Result<(), PayloadStoreError> {
        let Some(max) = self.max_bytes else {
            return Ok(());
        };
        let ih = release.infohash_hex();
        let held: Vec<HeldPayload> = self
            .payloads()
            .into_iter()
            .filter(|h| h.infohash != ih)
            .collect();
        let evict = evictions(&held, release.total_size(), max).ok_or_else(|| {
            PayloadStoreError::TooLarge {
                release: release.d(),
                bytes: release.total_size(),
                max_bytes: max,
            }
        })?;
        for infohash in evict {
            tracing::info!(
                "the store at {} is full: evicting {infohash}",
                self.dir.display()
            );
            self.unregister(&infohash)?;
            self.delete(&infohash)?;
        }
        Ok(())
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
        {
            let (store, release) = (self.clone(), release.clone());
            off_runtime(move || store.make_room(&release)).await?;
        }
        let staged = stage_release(swarm, &self.dir, release, opts, &[], &|_| {}).await?;
        let torrent_file = staged.torrent_file.ok_or(PayloadStoreError::NoTorrent)?;
        let (store, release, staged_dir) = (self.clone(), release.clone(), staged.dir);
        off_runtime(move || store.take_in(&release, &staged_dir, &torrent_file)).await
    }

    /// Moves a verified, staged payload into place and registers it.
    fn take_in(
        &self,
        release: &Release,
        staged: &Path,
        torrent_file: &[u8],
    ) -> Result<PathBuf, PayloadStoreError> {
        let place = self.dir.join(release.infohash_hex());
        if place.exists() {
            // Left by a run that stopped between the rename and the registration.
            std::fs::remove_dir_all(&place).map_err(io("clearing", &place))?;
        }
        std::fs::rename(staged, &place).map_err(io("moving the payload to", &place))?;
        sync_dir(&self.dir).map_err(io("syncing", &self.dir))?;
        self.registry.add(
            &SeedEntry {
                infohash: release.infohash_hex(),
                release: release.d(),
                dir: place.clone(),
                origin: self.origin,
                trackers: release.trackers.clone(),
            },
            torrent_file,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn held(infohash: &str, bytes: u64, last_used: u64) -> HeldPayload {
        HeldPayload {
            infohash: infohash.into(),
            bytes,
            last_used,
        }
    }

    #[test]
    fn the_least_recently_used_go_first_and_no_more_than_needed() {
        let h = [held("a", 40, 30), held("b", 40, 10), held("c", 40, 20)];
        assert_eq!(evictions(&h, 10, 130), Some(vec![]));
        assert_eq!(evictions(&h, 30, 130), Some(vec!["b".to_owned()]));
        assert_eq!(
            evictions(&h, 60, 130),
            Some(vec!["b".to_owned(), "c".to_owned()])
        );
        assert_eq!(evictions(&h, 131, 130), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// What is left always fits with the new payload, only the oldest go, and the choice
        /// does not depend on the order payloads are listed in.
        #[test]
        fn evictions_fit_take_the_oldest_and_ignore_order(
            sizes in proptest::collection::vec((0u64..1000, 0u64..50), 0..20),
            need in 0u64..3000,
            max in 0u64..5000,
        ) {
            let h: Vec<HeldPayload> = sizes
                .iter()
                .enumerate()
                .map(|(i, (b, t))| held(&format!("{i:02}"), *b, *t))
                .collect();
            let mut reversed = h.clone();
            reversed.reverse();
            let out = evictions(&h, need, max);
            prop_assert_eq!(&out, &evictions(&reversed, need, max));
            match out {
                None => prop_assert!(need > max),
                Some(gone) => {
                    let left: u64 = h.iter().filter(|x| !gone.contains(&x.infohash)).map(|x| x.bytes).sum();
                    let total: u64 = h.iter().map(|x| x.bytes).sum();
                    prop_assert!(left + need <= max || gone.len() == h.len());
                    prop_assert!(total + need <= max || !gone.is_empty() || h.iter().all(|x| x.bytes == 0));
                    let newest_gone = h.iter().filter(|x| gone.contains(&x.infohash)).map(|x| x.last_used).max();
                    let oldest_kept = h.iter().filter(|x| !gone.contains(&x.infohash)).map(|x| x.last_used).min();
                    if let (Some(g), Some(k)) = (newest_gone, oldest_kept) {
                        prop_assert!(g <= k);
                    }
                }
            }
        }
    }
}
